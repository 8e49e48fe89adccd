//! The proposal-grid flags shared by every command that finds objects.

use clap::Args;
use twinseg::proposals::ProposalSettings;

/// How densely an image is prompted when its objects are found.
#[derive(Args, Debug, Clone, Copy)]
pub struct GridArgs {
    /// Prompt points along each side of the proposal grid.
    #[arg(long, default_value_t = ProposalSettings::default().points_per_side)]
    pub points_per_side: u32,
    /// Run the grid coarse to fine and skip the points a kept mask already
    /// covers: far fewer decoder runs for the same objects.
    #[arg(long)]
    pub skip_covered: bool,
}

impl GridArgs {
    /// The proposal settings: SAM's defaults with this grid.
    pub fn settings(&self) -> ProposalSettings {
        ProposalSettings {
            points_per_side: self.points_per_side,
            skip_covered: self.skip_covered,
            ..ProposalSettings::default()
        }
    }
}
