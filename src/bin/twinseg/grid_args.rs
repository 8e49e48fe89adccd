//! The proposal-grid flags shared by every command that finds objects: the
//! grid and the two quality bars a model's scores must pass.

use clap::Args;
use twinseg::proposals::ProposalSettings;

/// How densely an image is prompted when its objects are found, and which
/// masks are kept.
#[derive(Args, Debug, Clone, Copy)]
pub struct GridArgs {
    /// Prompt points along each side of the proposal grid.
    #[arg(long, default_value_t = ProposalSettings::default().points_per_side)]
    pub points_per_side: u32,
    /// Run the grid coarse to fine and skip the points a kept mask already
    /// covers: far fewer decoder runs for the same objects.
    #[arg(long)]
    pub skip_covered: bool,
    /// Keep masks whose predicted IoU is at least this.
    #[arg(long = "pred-iou", default_value_t = ProposalSettings::default().pred_iou_thresh)]
    pub pred_iou: f32,
    /// Keep masks whose stability score is at least this.
    #[arg(long = "stability", default_value_t = ProposalSettings::default().stability_score_thresh)]
    pub stability: f32,
}

impl GridArgs {
    /// The proposal settings: SAM's defaults with this grid and these bars.
    pub fn settings(&self) -> ProposalSettings {
        ProposalSettings {
            points_per_side: self.points_per_side,
            skip_covered: self.skip_covered,
            pred_iou_thresh: self.pred_iou,
            stability_score_thresh: self.stability,
            ..ProposalSettings::default()
        }
    }
}
