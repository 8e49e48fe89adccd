//! Running the prompt grid through the decoder and keeping the good masks.
//!
//! Per batch: the decoder's low-resolution logits are filtered by predicted
//! IoU and stability score, boxed at low resolution, checked against the crop
//! edges and the running box NMS; only the survivors are upsampled to the
//! original frame and cleaned. Cancellation is checked after every batch.

use image::RgbImage;
use thiserror::Error;

use super::filter::{box_fill, logits_box, near_crop_edge, solidity, FloatBox, Rank, RunningNms};
use super::{crop_boxes, point_grid, remove_small_regions};
use super::{Control, Proposal, ProposalBatch, ProposalSet, ProposalSettings};
use crate::decoder::{LowResMask, Prediction, Prompt};
use crate::encoder::Embedding;
use crate::mask::{Mask, PixelBox};
use crate::model::SamModel;
use crate::prepare::{LOW_RES, SIDE};

/// Why a proposal run failed.
#[derive(Debug, Error)]
pub enum ProposalError {
    /// A setting is out of range.
    #[error("invalid proposal setting: {0}")]
    Settings(String),
    /// Crop layers need the image itself to embed each crop.
    #[error("crop layers need the image: use proposals::run_image, or set crop_n_layers to 0")]
    CropsNeedImage,
    /// The model failed on the image or a crop.
    #[error("the model failed: {0}")]
    Model(String),
}

/// Runs the prompt grid over one embedded image (no crop layers), calling
/// `on_batch` after every decoder batch; returning [`Control::Cancel`] stops
/// the run before the next batch and returns what was kept so far.
pub fn run(
    model: &SamModel,
    embedding: &Embedding,
    settings: &ProposalSettings,
    on_batch: impl FnMut(ProposalBatch) -> Control,
) -> Result<ProposalSet, ProposalError> {
    check(settings)?;
    if settings.crop_n_layers > 0 {
        return Err(ProposalError::CropsNeedImage);
    }
    let (width, height) = original_size(embedding);
    let whole = PixelBox {
        x0: 0,
        y0: 0,
        x1: width,
        y1: height,
    };
    let mut state = Runner::new(
        model,
        settings,
        width,
        height,
        settings.points_per_side.pow(2) as usize,
        on_batch,
    );
    state.crop(embedding, whole, settings.points_per_side)?;
    Ok(state.finish())
}

/// Like [`run`], but embeds the image itself, and with `crop_n_layers > 0`
/// also each crop, so crop layers work.
pub fn run_image(
    model: &SamModel,
    image: &RgbImage,
    settings: &ProposalSettings,
    on_batch: impl FnMut(ProposalBatch) -> Control,
) -> Result<ProposalSet, ProposalError> {
    check(settings)?;
    let (width, height) = image.dimensions();
    let crops = crop_boxes(
        width,
        height,
        settings.crop_n_layers,
        settings.crop_overlap_ratio,
    );
    let per_side = |layer: u32| {
        (settings.points_per_side
            / settings
                .crop_n_points_downscale_factor
                .max(1)
                .saturating_pow(layer))
        .max(1)
    };
    let total = crops
        .iter()
        .map(|&(_, layer)| per_side(layer).pow(2) as usize)
        .sum();
    let mut state = Runner::new(model, settings, width, height, total, on_batch);
    for (crop, layer) in crops {
        let embedding = if crop.area() == u64::from(width) * u64::from(height) {
            model.embed(image)
        } else {
            let pixels =
                image::imageops::crop_imm(image, crop.x0, crop.y0, crop.width(), crop.height())
                    .to_image();
            model.embed(&pixels)
        }
        .map_err(|e| ProposalError::Model(e.to_string()))?;
        if !state.crop(&embedding, crop, per_side(layer))? {
            break;
        }
    }
    Ok(state.finish())
}

fn check(settings: &ProposalSettings) -> Result<(), ProposalError> {
    let unit = |name: &str, v: f32| {
        if (0.0..=1.0).contains(&v) {
            Ok(())
        } else {
            Err(ProposalError::Settings(format!(
                "{name} has to be between 0 and 1, got {v}"
            )))
        }
    };
    if !(1..=256).contains(&settings.points_per_side) {
        return Err(ProposalError::Settings(format!(
            "points_per_side has to be between 1 and 256, got {}",
            settings.points_per_side
        )));
    }
    if settings.points_per_batch == Some(0) {
        return Err(ProposalError::Settings(
            "points_per_batch has to be at least 1".into(),
        ));
    }
    if settings.crop_n_layers > 4 {
        return Err(ProposalError::Settings(format!(
            "crop_n_layers has to be at most 4, got {}",
            settings.crop_n_layers
        )));
    }
    unit("pred_iou_thresh", settings.pred_iou_thresh)?;
    unit("stability_score_thresh", settings.stability_score_thresh)?;
    unit("box_nms_thresh", settings.box_nms_thresh)?;
    unit("crop_overlap_ratio", settings.crop_overlap_ratio)
}

fn original_size(embedding: &Embedding) -> (u32, u32) {
    let frame = embedding.frame();
    (frame.orig_w, frame.orig_h)
}

/// The grid's points reordered coarse to fine: first every point on a
/// sparse sub-grid, then the points that halve its spacing, and so on, so
/// that large regions are found (and their points skipped) early.
fn coarse_to_fine(points: Vec<[f32; 2]>, per_side: u32) -> Vec<[f32; 2]> {
    let level = |i: u32| if i == 0 { u32::MAX } else { i.trailing_zeros() };
    let mut order: Vec<(u32, usize)> = (0..points.len())
        .map(|k| {
            let (i, j) = (k as u32 % per_side, k as u32 / per_side);
            (level(i).min(level(j)), k)
        })
        .collect();
    order.sort_by_key(|&(lvl, k)| (std::cmp::Reverse(lvl), k));
    order.into_iter().map(|(_, k)| points[k]).collect()
}

/// The index of the low-resolution mask cell under a point of the model's
/// 1024 frame.
fn low_res_cell((x, y): (f32, f32)) -> usize {
    let cell = |v: f32| ((v * LOW_RES as f32 / SIDE as f32).max(0.0) as u32).min(LOW_RES - 1);
    (cell(y) * LOW_RES + cell(x)) as usize
}

/// The smallest of a prediction's masks that holds the point `at` (in the
/// 1024 model frame, judged as the upsampled mask would: a point beside an
/// object, in a cell the object partly fills, is not on it): the local
/// region a prompt there lies in. `None` when no mask holds it.
fn local_mask(prediction: &Prediction, at: (f32, f32), threshold: f32) -> Option<&LowResMask> {
    let cells = |m: &LowResMask| m.logits().iter().filter(|&&l| l > threshold).count();
    prediction
        .masks
        .iter()
        .filter(|m| m.logit_at(at) > threshold)
        .min_by_key(|m| cells(m))
}

/// A mask that passed the cheap filters, before upsampling.
struct Candidate<'a> {
    low_res: &'a LowResMask,
    nms_box: FloatBox,
    predicted_iou: f32,
    stability_score: f32,
    fill: f32,
    point: [f32; 2],
    granularity: u8,
}

impl Candidate<'_> {
    fn rank(&self) -> Rank {
        (
            self.predicted_iou,
            solidity(self.stability_score, self.fill),
        )
    }
}

/// The state of one run across crops and batches.
struct Runner<'m, F> {
    model: &'m SamModel,
    settings: &'m ProposalSettings,
    width: u32,
    height: u32,
    nms: RunningNms,
    kept: Vec<Proposal>,
    next_index: usize,
    done: usize,
    prompted: usize,
    total: usize,
    cancelled: bool,
    /// Low-resolution cells of the current crop that the local mask of an
    /// earlier prompt already covers (for `skip_covered`).
    covered: Vec<bool>,
    on_batch: F,
}

impl<'m, F: FnMut(ProposalBatch) -> Control> Runner<'m, F> {
    fn new(
        model: &'m SamModel,
        settings: &'m ProposalSettings,
        width: u32,
        height: u32,
        total: usize,
        on_batch: F,
    ) -> Self {
        Self {
            model,
            settings,
            width,
            height,
            nms: RunningNms::new(settings.box_nms_thresh),
            kept: Vec::new(),
            next_index: 0,
            done: 0,
            prompted: 0,
            total,
            cancelled: false,
            covered: Vec::new(),
            on_batch,
        }
    }

    /// Runs the grid of one crop; `false` once the callback cancelled.
    fn crop(
        &mut self,
        embedding: &Embedding,
        crop: PixelBox,
        per_side: u32,
    ) -> Result<bool, ProposalError> {
        let mut points = point_grid(per_side, crop);
        if self.settings.skip_covered {
            points = coarse_to_fine(points, per_side);
        }
        let batch = self
            .settings
            .points_per_batch
            .unwrap_or_else(|| self.model.prompts_per_batch())
            .max(1);
        self.covered = vec![false; (LOW_RES * LOW_RES) as usize];
        let frame = *embedding.frame();
        let mut pending = points.into_iter();
        loop {
            let (chunk, skipped) = self.next_chunk(&mut pending, batch, |[x, y]| {
                frame.to_model(x - crop.x0 as f32, y - crop.y0 as f32)
            });
            if chunk.is_empty() {
                self.done += skipped;
                return Ok(true);
            }
            let prompts: Vec<Prompt> = chunk
                .iter()
                .map(|&[x, y]| Prompt::point(x - crop.x0 as f32, y - crop.y0 as f32))
                .collect();
            let predictions = self
                .model
                .predict_batch(embedding, &prompts)
                .map_err(|e| ProposalError::Model(e.to_string()))?;
            let (new, removed) = self.absorb(embedding, crop, &chunk, &predictions);
            self.done += chunk.len() + skipped;
            self.prompted += chunk.len();
            let control = (self.on_batch)(ProposalBatch {
                new,
                removed,
                done: self.done,
                total: self.total,
            });
            if control == Control::Cancel {
                self.cancelled = true;
                return Ok(false);
            }
        }
    }

    /// Up to `batch` points to prompt next, and how many were passed over
    /// because an earlier prompt's local mask already covers them.
    fn next_chunk(
        &self,
        pending: &mut impl Iterator<Item = [f32; 2]>,
        batch: usize,
        to_model: impl Fn([f32; 2]) -> (f32, f32),
    ) -> (Vec<[f32; 2]>, usize) {
        let mut chunk = Vec::with_capacity(batch);
        let mut skipped = 0;
        while chunk.len() < batch {
            let Some(point) = pending.next() else {
                break;
            };
            if self.settings.skip_covered && self.is_covered(to_model(point)) {
                skipped += 1;
            } else {
                chunk.push(point);
            }
        }
        (chunk, skipped)
    }

    /// Whether an earlier prompt's local mask covers the point (given in the
    /// model's 1024 frame).
    fn is_covered(&self, point: (f32, f32)) -> bool {
        self.covered[low_res_cell(point)]
    }

    /// Marks the region a prompt explored as covered: the smallest of its
    /// masks that holds the prompt's own point (`model_point`, in the 1024
    /// frame), the local region the point lies in. A coarser granularity could
    /// swallow a nested shape whose own points still need a prompt, and a mask
    /// that misses the point (a neighbouring object reached from a prompt on
    /// the background) says nothing about the region the point lies in.
    fn cover_explored(&mut self, prediction: &Prediction, model_point: (f32, f32)) {
        let local = local_mask(prediction, model_point, self.settings.mask_threshold);
        if let Some(mask) = local {
            self.cover(mask);
        }
    }

    /// Marks the cells of a mask as covered.
    fn cover(&mut self, mask: &LowResMask) {
        let threshold = self.settings.mask_threshold;
        for (cell, &logit) in self.covered.iter_mut().zip(mask.logits()) {
            *cell |= logit > threshold;
        }
    }

    /// Filters one batch's predictions into the kept set; returns what was
    /// added and the indices it evicted.
    fn absorb(
        &mut self,
        embedding: &Embedding,
        crop: PixelBox,
        points: &[[f32; 2]],
        predictions: &[Prediction],
    ) -> (Vec<Proposal>, Vec<usize>) {
        let mut candidates: Vec<Candidate> = Vec::new();
        let frame = *embedding.frame();
        for (&point, prediction) in points.iter().zip(predictions) {
            let found = self.candidates(embedding, crop, point, prediction);
            if self.settings.skip_covered {
                let [x, y] = point;
                let model_point = frame.to_model(x - crop.x0 as f32, y - crop.y0 as f32);
                self.cover_explored(prediction, model_point);
            }
            candidates.extend(found);
        }
        candidates.sort_by(|a, b| {
            let (a, b) = (a.rank(), b.rank());
            b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1))
        });
        let batch_start = self.next_index;
        let mut new = Vec::new();
        let mut removed = Vec::new();
        for c in candidates {
            let rank = c.rank();
            let Some(evicted) = self.nms.check(c.nms_box, rank) else {
                continue;
            };
            let Some(proposal) = self.upsample(embedding, crop, &c) else {
                continue;
            };
            self.nms.insert(proposal.index, c.nms_box, rank, &evicted);
            self.kept.retain(|p| !evicted.contains(&p.index));
            new.retain(|p: &Proposal| !evicted.contains(&p.index));
            removed.extend(evicted.iter().filter(|&&i| i < batch_start));
            new.push(proposal.clone());
            self.kept.push(proposal);
        }
        (new, removed)
    }

    /// Masks of one prompt that pass the predicted-IoU, stability and crop-edge filters.
    fn candidates<'p>(
        &self,
        embedding: &Embedding,
        crop: PixelBox,
        point: [f32; 2],
        prediction: &'p Prediction,
    ) -> Vec<Candidate<'p>> {
        let s = self.settings;
        let count = prediction.masks.len().min(prediction.iou.len());
        let outputs: Vec<usize> = match (s.multimask, count) {
            (true, 4..) => (1..4).collect(),
            (_, 0) => Vec::new(),
            _ => vec![0],
        };
        outputs
            .into_iter()
            .filter_map(|k| {
                let low_res = &prediction.masks[k];
                let predicted_iou = prediction.iou[k];
                if predicted_iou < s.pred_iou_thresh {
                    return None;
                }
                let stability_score =
                    low_res.stability_score(s.mask_threshold, s.stability_score_offset);
                if stability_score < s.stability_score_thresh {
                    return None;
                }
                let nms_box = self.box_in_image(embedding, crop, low_res)?;
                if near_crop_edge(
                    nms_box,
                    crop,
                    self.width,
                    self.height,
                    s.crop_edge_tolerance,
                ) {
                    return None;
                }
                Some(Candidate {
                    low_res,
                    nms_box,
                    predicted_iou,
                    stability_score,
                    fill: box_fill(low_res.logits(), LOW_RES as usize, s.mask_threshold),
                    point,
                    granularity: k as u8,
                })
            })
            .collect()
    }

    /// The box of a low-resolution mask in original image pixels.
    fn box_in_image(
        &self,
        embedding: &Embedding,
        crop: PixelBox,
        low_res: &LowResMask,
    ) -> Option<FloatBox> {
        let side = LOW_RES as usize;
        let cells = logits_box(low_res.logits(), side, self.settings.mask_threshold)?;
        let frame = embedding.frame();
        let cell = (SIDE / LOW_RES) as f32;
        let (x0, y0) = frame.to_original(cells[0] * cell, cells[1] * cell);
        let (x1, y1) = frame.to_original(cells[2] * cell, cells[3] * cell);
        let (x1, y1) = (x1.min(frame.orig_w as f32), y1.min(frame.orig_h as f32));
        let (dx, dy) = (crop.x0 as f32, crop.y0 as f32);
        Some([x0 + dx, y0 + dy, x1 + dx, y1 + dy])
    }

    /// The full-resolution, cleaned mask of a candidate, placed in the image.
    fn upsample(
        &mut self,
        embedding: &Embedding,
        crop: PixelBox,
        c: &Candidate,
    ) -> Option<Proposal> {
        let in_crop = c
            .low_res
            .to_mask(embedding.frame(), self.settings.mask_threshold);
        let placed = if crop.x0 == 0
            && crop.y0 == 0
            && in_crop.width() == self.width
            && in_crop.height() == self.height
        {
            in_crop
        } else {
            Mask::from_fn(self.width, self.height, |x, y| {
                x >= crop.x0 && y >= crop.y0 && in_crop.get(x - crop.x0, y - crop.y0)
            })
        };
        let mask = remove_small_regions(&placed, self.settings.min_mask_region_area);
        let bbox = mask.bbox()?;
        let index = self.next_index;
        self.next_index += 1;
        Some(Proposal {
            index,
            area: mask.area(),
            mask,
            bbox,
            predicted_iou: c.predicted_iou,
            stability_score: c.stability_score,
            point: c.point,
            granularity: c.granularity,
            crop_box: crop,
        })
    }

    fn finish(mut self) -> ProposalSet {
        self.kept.sort_by(|a, b| {
            b.predicted_iou
                .total_cmp(&a.predicted_iou)
                .then(a.index.cmp(&b.index))
        });
        ProposalSet {
            width: self.width,
            height: self.height,
            proposals: self.kept,
            done: self.done,
            prompted: self.prompted,
            total: self.total,
            cancelled: self.cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_to_fine_starts_with_the_sparse_sub_grid_and_keeps_every_point() {
        let n = 4;
        let points: Vec<[f32; 2]> = (0..n * n)
            .map(|k| [(k % n) as f32, (k / n) as f32])
            .collect();
        let ordered = coarse_to_fine(points.clone(), n);
        assert_eq!(
            ordered[..4],
            [[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]]
        );
        let mut sorted = ordered.clone();
        sorted.sort_by(|a, b| (a[1], a[0]).partial_cmp(&(b[1], b[0])).unwrap());
        assert_eq!(sorted, points);
    }

    fn square(x0: usize, y0: usize, side: usize) -> LowResMask {
        let n = LOW_RES as usize;
        let logits = (0..n * n)
            .map(|i| {
                let (x, y) = (i % n, i / n);
                let inside = (x0..x0 + side).contains(&x) && (y0..y0 + side).contains(&y);
                if inside {
                    10.0
                } else {
                    -10.0
                }
            })
            .collect();
        LowResMask::from_logits(logits).expect("a full low-res grid")
    }

    #[test]
    fn the_local_mask_is_the_smallest_that_holds_the_point() {
        let prediction = Prediction {
            masks: vec![square(10, 10, 40), square(60, 60, 5), square(10, 10, 20)],
            iou: vec![0.2; 3],
        };
        let inside_both = (15.0 * 4.0, 15.0 * 4.0);
        let local = local_mask(&prediction, inside_both, 0.0).expect("a mask holds the point");
        assert_eq!(local.logits(), square(10, 10, 20).logits());
        let only_in_large = (40.0 * 4.0, 40.0 * 4.0);
        let local = local_mask(&prediction, only_in_large, 0.0).expect("a mask holds the point");
        assert_eq!(local.logits(), square(10, 10, 40).logits());
    }

    #[test]
    fn a_mask_beside_the_point_is_not_its_local_region() {
        let prediction = Prediction {
            masks: vec![square(60, 60, 5)],
            iou: vec![0.2],
        };
        assert!(local_mask(&prediction, (4.0, 4.0), 0.0).is_none());
    }

    #[test]
    fn a_point_in_a_cell_an_object_partly_fills_but_off_the_object_is_not_on_it() {
        // The object fills cells 10..30 and most of column 9 (logit 2): the
        // upsampled mask starts a quarter of a cell into column 9.
        let n = LOW_RES as usize;
        let logits = (0..n * n)
            .map(|i| {
                let (x, y) = (i % n, i / n);
                match (x, (10..30).contains(&y)) {
                    (10..30, true) => 10.0,
                    (9, true) => 2.0,
                    _ => -10.0,
                }
            })
            .collect();
        let object = LowResMask::from_logits(logits).expect("a full low-res grid");
        let prediction = Prediction {
            masks: vec![object],
            iou: vec![0.2],
        };
        let (outside, inside) = ((37.0, 60.0), (39.0, 60.0));
        assert_eq!(low_res_cell(outside), low_res_cell(inside));
        assert!(local_mask(&prediction, outside, 0.0).is_none());
        assert!(local_mask(&prediction, inside, 0.0).is_some());
    }
}
