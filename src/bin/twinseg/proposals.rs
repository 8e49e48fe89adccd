//! `twinseg proposals IMAGE --out PROPOSALS.json`: everything mode from the
//! shell. Runs the prompt grid with a progress bar on stderr, builds the
//! hierarchy and writes COCO-style JSON.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use twinseg::export::{to_coco, SegmentationFormat};
use twinseg::hierarchy::{self, HierarchySettings};
use twinseg::proposals::{self, Control, ProposalSettings};

use crate::model_args::ModelArgs;

/// Arguments of `twinseg proposals`.
#[derive(Args, Debug)]
pub struct ProposalsArgs {
    /// The image to find all objects in.
    image: PathBuf,
    /// Where to write the COCO-style JSON.
    #[arg(long)]
    out: PathBuf,
    /// Prompt points along each side of the grid.
    #[arg(long, default_value_t = ProposalSettings::default().points_per_side)]
    points_per_side: u32,
    /// Prompts per decoder call (default: the model's largest batch).
    #[arg(long)]
    points_per_batch: Option<usize>,
    /// Run the grid coarse to fine and skip the points a kept mask already
    /// covers: far fewer decoder runs for the same objects.
    #[arg(long)]
    skip_covered: bool,
    /// Keep masks whose predicted IoU is at least this.
    #[arg(long = "pred-iou", default_value_t = ProposalSettings::default().pred_iou_thresh)]
    pred_iou: f32,
    /// Keep masks whose stability score is at least this.
    #[arg(long = "stability", default_value_t = ProposalSettings::default().stability_score_thresh)]
    stability: f32,
    /// Logit offset of the stability score.
    #[arg(long, default_value_t = ProposalSettings::default().stability_score_offset)]
    stability_offset: f32,
    /// Box IoU above which the lower-scored of two masks is dropped.
    #[arg(long = "nms", default_value_t = ProposalSettings::default().box_nms_thresh)]
    nms: f32,
    /// Regions and holes smaller than this many pixels are removed / filled (0: off).
    #[arg(long = "min-area", default_value_t = ProposalSettings::default().min_mask_region_area)]
    min_area: u64,
    /// Extra layers of overlapping crops (0: the whole image only).
    #[arg(long, default_value_t = ProposalSettings::default().crop_n_layers)]
    crop_layers: u32,
    /// Use only the single best mask per prompt, not the three granularities.
    #[arg(long)]
    single_mask: bool,
    /// Share of a mask inside another's outline that makes it that one's part.
    #[arg(long, default_value_t = HierarchySettings::default().containment)]
    containment: f64,
    /// Mask IoU at which two masks count as the same object.
    #[arg(long, default_value_t = HierarchySettings::default().duplicate_iou)]
    duplicate_iou: f64,
    /// Form of the `segmentation` field.
    #[arg(long, value_enum, default_value_t = Format::CompressedRle)]
    format: Format,
    #[command(flatten)]
    model: ModelArgs,
}

/// The `segmentation` forms offered on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// COCO compressed RLE (a string).
    CompressedRle,
    /// COCO uncompressed RLE (a list of run lengths).
    Rle,
    /// Simplified outer contours.
    Polygons,
}

impl ProposalsArgs {
    fn settings(&self) -> ProposalSettings {
        ProposalSettings {
            points_per_side: self.points_per_side,
            points_per_batch: self.points_per_batch,
            pred_iou_thresh: self.pred_iou,
            stability_score_thresh: self.stability,
            stability_score_offset: self.stability_offset,
            box_nms_thresh: self.nms,
            min_mask_region_area: self.min_area,
            crop_n_layers: self.crop_layers,
            multimask: !self.single_mask,
            skip_covered: self.skip_covered,
            ..ProposalSettings::default()
        }
    }

    fn format(&self) -> SegmentationFormat {
        match self.format {
            Format::CompressedRle => SegmentationFormat::CompressedRle,
            Format::Rle => SegmentationFormat::Rle,
            Format::Polygons => SegmentationFormat::Polygons,
        }
    }
}

/// Runs the subcommand; the error is one sentence for stderr.
pub fn run(args: ProposalsArgs) -> Result<(), String> {
    check_unit("--containment", args.containment)?;
    check_unit("--duplicate-iou", args.duplicate_iou)?;
    let bytes = std::fs::read(&args.image)
        .map_err(|e| format!("cannot read image {}: {e}", args.image.display()))?;
    let image = twinseg::image_io::decode(&bytes)
        .map_err(|e| format!("cannot decode image {}: {e}", args.image.display()))?;
    let model = args.model.load()?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} proposals [{bar:40}] {pos}/{len} prompts, {msg} kept ({elapsed})",
        )
        .map_err(|e| e.to_string())?
        .progress_chars("=> "),
    );
    let mut kept = 0usize;
    let set = proposals::run_image(&model, &image, &args.settings(), |batch| {
        kept = (kept + batch.new.len()).saturating_sub(batch.removed.len());
        bar.set_length(batch.total as u64);
        bar.set_position(batch.done as u64);
        bar.set_message(kept.to_string());
        Control::Continue
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let segments = hierarchy::build(
        set.proposals,
        &HierarchySettings {
            containment: args.containment,
            duplicate_iou: args.duplicate_iou,
        },
    );
    let file_name = args
        .image
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let doc = to_coco(&segments, set.width, set.height, file_name, args.format());
    let json = serde_json::to_string(&doc).map_err(|e| e.to_string())?;
    std::fs::write(&args.out, json)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    eprintln!(
        "{} segments ({} whole objects) from {} prompts ({} grid points) written to {}",
        segments.len(),
        segments.iter().filter(|s| s.parent.is_none()).count(),
        set.prompted,
        set.done,
        args.out.display()
    );
    Ok(())
}

fn check_unit(flag: &str, value: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(format!("{flag} has to be between 0 and 1, got {value}"))
    }
}
