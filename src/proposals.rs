//! "Everything mode": mask proposals from a grid of point prompts, filtered
//! as in SAM's automatic mask generator (predicted IoU, stability score, box
//! NMS, small regions and holes, crop borders), streamed in batches.
//!
//! The data types here are plain serde data and compile everywhere (the page
//! reads settings and batches); running the model ([`run`], [`run_image`])
//! needs the `inference` feature.

use serde::{Deserialize, Serialize};

use crate::mask::{Mask, PixelBox};

mod clean;
#[cfg(feature = "inference")]
mod filter;
#[cfg(feature = "inference")]
mod generate;
mod grid;

pub use clean::remove_small_regions;
#[cfg(feature = "inference")]
pub use generate::{run, run_image, ProposalError};
pub use grid::{crop_boxes, point_grid};

/// How proposals are generated and filtered. The defaults are those of SAM's
/// automatic mask generator unless noted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProposalSettings {
    /// Points along each side of the prompt grid (default 32, i.e. 1024 prompts).
    pub points_per_side: u32,
    /// Prompts per decoder call; `None` (default) uses the model's largest batch.
    pub points_per_batch: Option<usize>,
    /// Keep masks whose predicted IoU is at least this (default 0.88).
    pub pred_iou_thresh: f32,
    /// Keep masks whose stability score is at least this (default 0.95).
    pub stability_score_thresh: f32,
    /// Logit offset of the stability score (default 1.0).
    pub stability_score_offset: f32,
    /// Logit above which a pixel is in the mask (default 0.0).
    pub mask_threshold: f32,
    /// Box IoU above which the lower-scored of two masks is dropped (default 0.7).
    pub box_nms_thresh: f32,
    /// Disconnected regions and holes smaller than this many pixels are
    /// removed / filled; 0 turns cleaning off (default 25; SAM's default is 0).
    pub min_mask_region_area: u64,
    /// Use the three multimask outputs (sub-part, part, whole) when the model
    /// has them (default true); otherwise the single best mask per prompt.
    pub multimask: bool,
    /// Extra layers of overlapping crops, layer `i` cutting the image into
    /// `2^i × 2^i` crops (default 0: the whole image only).
    pub crop_n_layers: u32,
    /// Overlap of neighbouring crops as a share of the shorter image side at
    /// layer 1 (default 512/1500).
    pub crop_overlap_ratio: f32,
    /// Grid points per side shrink by this factor per crop layer (default 1).
    pub crop_n_points_downscale_factor: u32,
    /// Masks whose box lies within this many pixels of a crop edge that is
    /// not an image edge are dropped (default 20).
    pub crop_edge_tolerance: f32,
    /// Fewer prompts for the same objects (default false, as SAM): the grid
    /// runs coarse to fine, and a point that already lies inside the local
    /// (smallest) mask of an earlier prompt is not prompted. On generated
    /// scenes it finds every object with about a thirtieth of the prompts;
    /// on images whose objects a coarse prompt's mask overshoots, objects
    /// inside that mask can be lost.
    pub skip_covered: bool,
}

impl Default for ProposalSettings {
    fn default() -> Self {
        Self {
            points_per_side: 32,
            points_per_batch: None,
            pred_iou_thresh: 0.88,
            stability_score_thresh: 0.95,
            stability_score_offset: 1.0,
            mask_threshold: 0.0,
            box_nms_thresh: 0.7,
            min_mask_region_area: 25,
            multimask: true,
            crop_n_layers: 0,
            crop_overlap_ratio: 512.0 / 1500.0,
            crop_n_points_downscale_factor: 1,
            crop_edge_tolerance: 20.0,
            skip_covered: false,
        }
    }
}

/// One kept mask with its scores and the prompt that produced it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Candidate number, unique within a run; [`ProposalBatch::removed`] refers to it.
    pub index: usize,
    /// The mask in the original image frame.
    pub mask: Mask,
    /// Tight box of the mask.
    pub bbox: PixelBox,
    /// Pixel count of the mask.
    pub area: u64,
    /// The decoder's own estimate of the mask's IoU.
    pub predicted_iou: f32,
    /// SAM's stability score of the mask's logits.
    pub stability_score: f32,
    /// The prompt point, in original pixel coordinates.
    pub point: [f32; 2],
    /// Which multimask output it came from (0 = single-mask output, 1..=3 = sub-part, part, whole).
    pub granularity: u8,
    /// The crop whose prompt grid produced it (the whole image without crop layers).
    pub crop_box: PixelBox,
}

/// What a batch callback wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    /// Run the next batch.
    Continue,
    /// Stop now; the result keeps what was found so far.
    Cancel,
}

/// Progress after one decoder batch: what changed in the kept set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProposalBatch {
    /// Proposals kept from this batch.
    pub new: Vec<Proposal>,
    /// Indices of earlier proposals that a better overlapping one replaced.
    pub removed: Vec<usize>,
    /// Grid points dealt with so far (prompted or skipped as covered).
    pub done: usize,
    /// Grid points in the whole run.
    pub total: usize,
}

/// The result of a run: the kept proposals, best predicted IoU first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProposalSet {
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Kept proposals.
    pub proposals: Vec<Proposal>,
    /// Grid points dealt with, prompted or skipped as covered (fewer than
    /// `total` when cancelled).
    pub done: usize,
    /// Prompts actually sent to the decoder.
    #[serde(default)]
    pub prompted: usize,
    /// Prompts the run would have made.
    pub total: usize,
    /// Whether the callback cancelled the run.
    pub cancelled: bool,
}
