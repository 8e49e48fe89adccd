//! Box arithmetic for the filters: boxes of low-resolution logits, box IoU,
//! the crop-edge test and the running box NMS over the kept proposals.

use crate::mask::PixelBox;

/// A box `[x0, y0, x1, y1]` in original pixels, far edges exclusive.
pub(crate) type FloatBox = [f32; 4];

/// The box of the logits above `threshold` in a row-major `side × side`
/// grid, in grid cells; `None` when no cell is above.
pub(crate) fn logits_box(logits: &[f32], side: usize, threshold: f32) -> Option<FloatBox> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (y, row) in logits.chunks_exact(side.max(1)).enumerate() {
        let first = row.iter().position(|&v| v > threshold);
        let last = row.iter().rposition(|&v| v > threshold);
        if let (Some(first), Some(last)) = (first, last) {
            x0 = x0.min(first);
            x1 = x1.max(last + 1);
            y0 = y0.min(y);
            y1 = y + 1;
        }
    }
    (x0 != usize::MAX).then_some([x0 as f32, y0 as f32, x1 as f32, y1 as f32])
}

/// The share of its own box that the logits above `threshold` fill (0 when
/// none is above): a solid shape fills most of its box, a sliver of edge
/// pixels or an outline spanning the same box very little.
pub(crate) fn box_fill(logits: &[f32], side: usize, threshold: f32) -> f32 {
    let Some([x0, y0, x1, y1]) = logits_box(logits, side, threshold) else {
        return 0.0;
    };
    let above = logits.iter().filter(|&&v| v > threshold).count();
    above as f32 / ((x1 - x0) * (y1 - y0))
}

/// Intersection over union of two boxes (0 when both are empty).
pub(crate) fn box_iou(a: FloatBox, b: FloatBox) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: FloatBox| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Whether `b` comes within `tolerance` of an edge of `crop` that is not also
/// an edge of the `width × height` image: such masks are likely cut off by
/// the crop.
pub(crate) fn near_crop_edge(
    b: FloatBox,
    crop: PixelBox,
    width: u32,
    height: u32,
    tolerance: f32,
) -> bool {
    let crop_edges = [
        crop.x0 as f32,
        crop.y0 as f32,
        crop.x1 as f32,
        crop.y1 as f32,
    ];
    let image_edges = [0.0, 0.0, width as f32, height as f32];
    (0..4).any(|i| {
        let near_crop = (b[i] - crop_edges[i]).abs() <= tolerance;
        let near_image = (b[i] - image_edges[i]).abs() <= tolerance;
        near_crop && !near_image
    })
}

/// How candidates compete in NMS: predicted IoU first, as in SAM, with ties
/// broken by how solidly a mask fills its box: its stability score times
/// [`box_fill`]. Of two equally confident masks spanning one box, a solid
/// shape wins over a crisp sliver or outline of its edge (which fills little
/// of the box) and a crisp mask over a soft one of the same extent. A model
/// whose scores tie, as the built-in test model's do, otherwise keeps
/// whichever came first; ranking stability alone before fill let a perfectly
/// stable edge sliver beat the 0.99-stable shape it outlines.
pub(crate) type Rank = (f32, f32);

/// The tie-break of [`Rank`]: how solidly a mask fills its box.
pub(crate) fn solidity(stability_score: f32, fill: f32) -> f32 {
    stability_score * fill
}

/// Greedy box NMS that runs as candidates arrive: a candidate enters unless a
/// kept box overlapping it above the threshold ranks at least as high, and
/// when it enters it evicts the lower-ranked boxes it overlaps.
#[derive(Debug, Default)]
pub(crate) struct RunningNms {
    threshold: f32,
    kept: Vec<(usize, FloatBox, Rank)>,
}

impl RunningNms {
    pub(crate) fn new(threshold: f32) -> Self {
        Self {
            threshold,
            kept: Vec::new(),
        }
    }

    /// `None` when the candidate loses; otherwise the ids it would evict.
    pub(crate) fn check(&self, b: FloatBox, score: Rank) -> Option<Vec<usize>> {
        let mut evicted = Vec::new();
        for &(id, kept_box, kept_score) in &self.kept {
            if box_iou(b, kept_box) > self.threshold {
                if kept_score >= score {
                    return None;
                }
                evicted.push(id);
            }
        }
        Some(evicted)
    }

    /// Enters a candidate that passed [`RunningNms::check`], evicting `evicted`.
    pub(crate) fn insert(&mut self, id: usize, b: FloatBox, score: Rank, evicted: &[usize]) {
        self.kept.retain(|(k, _, _)| !evicted.contains(k));
        self.kept.push((id, b, score));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logits_box_is_tight_over_cells_above_threshold() {
        let mut logits = vec![-1.0f32; 16];
        logits[4 + 1] = 2.0;
        logits[8 + 2] = 0.5;
        assert_eq!(logits_box(&logits, 4, 0.0), Some([1.0, 1.0, 3.0, 3.0]));
        assert_eq!(logits_box(&logits, 4, 5.0), None);
    }

    #[test]
    fn a_solid_mask_fills_its_box_and_an_outline_of_the_same_box_does_not() {
        let side = 4;
        let solid = [1.0f32; 16];
        let mut outline = [1.0f32; 16];
        for (i, v) in outline.iter_mut().enumerate() {
            let (x, y) = (i % side, i / side);
            if (1..3).contains(&x) && (1..3).contains(&y) {
                *v = -1.0;
            }
        }
        assert_eq!(box_fill(&solid, side, 0.0), 1.0);
        assert_eq!(box_fill(&outline, side, 0.0), 0.75);
        assert_eq!(box_fill(&[-1.0; 16], side, 0.0), 0.0);
    }

    #[test]
    fn box_iou_of_half_overlap() {
        assert!((box_iou([0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0]) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(box_iou([0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0]), 0.0);
    }

    #[test]
    fn crop_edges_count_only_inside_the_image() {
        let crop = PixelBox {
            x0: 0,
            y0: 0,
            x1: 60,
            y1: 100,
        };
        assert!(near_crop_edge(
            [10.0, 10.0, 55.0, 50.0],
            crop,
            100,
            100,
            20.0
        ));
        assert!(!near_crop_edge(
            [2.0, 10.0, 30.0, 99.0],
            crop,
            100,
            100,
            20.0
        ));
    }

    #[test]
    fn running_nms_keeps_the_best_of_overlapping_boxes() {
        let mut nms = RunningNms::new(0.7);
        let a = [0.0, 0.0, 10.0, 10.0];
        let b = [0.0, 0.0, 10.0, 9.0];
        assert_eq!(nms.check(a, (0.9, 0.9)), Some(vec![]));
        nms.insert(1, a, (0.9, 0.9), &[]);
        assert_eq!(nms.check(b, (0.8, 1.0)), None);
        assert_eq!(nms.check(b, (0.95, 0.5)), Some(vec![1]));
        nms.insert(2, b, (0.95, 0.5), &[1]);
        assert_eq!(nms.check(a, (0.9, 1.0)), None);
        assert_eq!(nms.check(a, (0.95, 0.4)), None);
        assert_eq!(nms.check(a, (0.95, 0.6)), Some(vec![2]));
        assert_eq!(
            nms.check([20.0, 20.0, 30.0, 30.0], (0.1, 0.1)),
            Some(vec![])
        );
    }

    #[test]
    fn on_equal_scores_a_solid_mask_evicts_an_outline_of_the_same_box() {
        let mut nms = RunningNms::new(0.7);
        let b = [0.0, 0.0, 10.0, 10.0];
        let outline = (0.95, solidity(1.0, 0.1));
        let solid = (0.95, solidity(1.0, 0.9));
        nms.insert(1, b, outline, &[]);
        assert_eq!(nms.check(b, solid), Some(vec![1]));
        nms.insert(2, b, solid, &[1]);
        assert_eq!(nms.check(b, outline), None);
    }

    #[test]
    fn a_slightly_less_stable_solid_shape_beats_a_perfectly_stable_sliver() {
        let mut nms = RunningNms::new(0.7);
        let b = [0.0, 0.0, 10.0, 10.0];
        let sliver = (0.95, solidity(1.0, 0.15));
        let shape = (0.95, solidity(0.991, 0.5));
        nms.insert(1, b, sliver, &[]);
        assert_eq!(nms.check(b, shape), Some(vec![1]));
    }

    #[test]
    fn of_two_masks_filling_a_box_alike_the_crisper_wins() {
        let mut nms = RunningNms::new(0.7);
        let b = [0.0, 0.0, 10.0, 10.0];
        nms.insert(1, b, (0.95, solidity(0.96, 0.8)), &[]);
        assert_eq!(nms.check(b, (0.95, solidity(0.99, 0.8))), Some(vec![1]));
    }
}
