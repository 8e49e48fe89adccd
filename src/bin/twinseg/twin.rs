//! `twinseg twin IMAGE --out TWIN.json [--compact]`: the Digital Twin of an
//! image. Runs decode → embed → proposals → hierarchy → twin and writes the
//! full JSON, or with `--compact` the text that is sent to language models.

use std::path::PathBuf;

use clap::Args;
use image::RgbImage;
use twinseg::hierarchy::{self, HierarchySettings, Segment};
use twinseg::model::SamModel;
use twinseg::proposals::{self, Control};
use twinseg::twin::{self, DigitalTwin, TwinInput};

use crate::grid_args::GridArgs;
use crate::model_args::ModelArgs;

/// Arguments of `twinseg twin`.
#[derive(Args, Debug)]
pub struct TwinArgs {
    /// The image to describe.
    image: PathBuf,
    /// Where to write the twin.
    #[arg(long)]
    out: PathBuf,
    /// Write the compact form sent to language models instead of the full JSON.
    #[arg(long)]
    compact: bool,
    #[command(flatten)]
    grid: GridArgs,
    #[command(flatten)]
    model: ModelArgs,
}

/// Runs the subcommand; the error is one sentence for stderr.
pub fn run(args: TwinArgs) -> Result<(), String> {
    if args.grid.points_per_side == 0 {
        return Err("--points-per-side has to be at least 1, got 0".to_string());
    }
    let image = read_image(&args.image)?;
    let model = args.model.load()?;
    let twin = twin_of(&model, &image, args.grid)?;
    let text = if args.compact {
        twin.compact()
    } else {
        twin.to_json()
    };
    std::fs::write(&args.out, &text)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    eprintln!(
        "{} objects ({} top-level), {} relations, {} bytes (~{} tokens) written to {}",
        twin.objects.len(),
        twin.objects.iter().filter(|o| o.parent.is_none()).count(),
        twin.relations.len(),
        text.len(),
        twin::estimate_tokens(&text),
        args.out.display()
    );
    Ok(())
}

/// Reads and decodes an image file.
pub fn read_image(path: &std::path::Path) -> Result<RgbImage, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read image {}: {e}", path.display()))?;
    twinseg::image_io::decode(&bytes)
        .map_err(|e| format!("cannot decode image {}: {e}", path.display()))
}

/// The segments of an image: the proposal grid, then the object / part tree.
pub fn segments_of(
    model: &SamModel,
    image: &RgbImage,
    grid: GridArgs,
) -> Result<Vec<Segment>, String> {
    let settings = grid.settings();
    let set = proposals::run_image(model, image, &settings, |_| Control::Continue)
        .map_err(|e| e.to_string())?;
    Ok(hierarchy::build(
        set.proposals,
        &HierarchySettings::default(),
    ))
}

/// The Digital Twin of an image through the whole perception pipeline.
pub fn twin_of(model: &SamModel, image: &RgbImage, grid: GridArgs) -> Result<DigitalTwin, String> {
    let segments = segments_of(model, image, grid)?;
    Ok(twin::build(image, &TwinInput::from_segments(&segments)))
}
