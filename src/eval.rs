//! Scoring of predicted masks against ReasonSeg ground truth, as in LISA:
//! gIoU is the mean per-image IoU (an image whose prediction and target are
//! both empty scores 1), cIoU the summed intersection over the summed union.
//! Pixels marked "ignore" count for neither.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::mask::Mask;

/// Why a prediction could not be scored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The prediction does not cover the ground truth's pixel grid.
    #[error("the predicted mask is {predicted_width}x{predicted_height} but the ground truth is {width}x{height}")]
    SizeMismatch {
        /// Prediction width.
        predicted_width: u32,
        /// Prediction height.
        predicted_height: u32,
        /// Ground-truth width.
        width: u32,
        /// Ground-truth height.
        height: u32,
    },
}

/// Intersection and union of one prediction, ignore pixels left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageScore {
    /// Pixels in both prediction and target.
    pub intersection: u64,
    /// Pixels in either.
    pub union: u64,
}

impl ImageScore {
    /// Scores `predicted` against `target`, skipping pixels set in `ignore`.
    /// All three masks must have the same size (the ignore mask may also be
    /// empty-sized 0x0 to mean "nothing ignored").
    pub fn new(predicted: &Mask, target: &Mask, ignore: &Mask) -> Result<Self, EvalError> {
        let mismatch = |m: &Mask| EvalError::SizeMismatch {
            predicted_width: m.width(),
            predicted_height: m.height(),
            width: target.width(),
            height: target.height(),
        };
        if !predicted.same_size(target) {
            return Err(mismatch(predicted));
        }
        let ignore_bits = if ignore.same_size(target) {
            ignore.bits()
        } else if ignore.width() == 0 || ignore.height() == 0 {
            &[]
        } else {
            return Err(mismatch(ignore));
        };
        let (mut intersection, mut union) = (0, 0);
        for (i, (&p, &t)) in predicted.bits().iter().zip(target.bits()).enumerate() {
            if ignore_bits.get(i).copied().unwrap_or(0) != 0 {
                continue;
            }
            intersection += u64::from(p & t);
            union += u64::from(p | t);
        }
        Ok(Self {
            intersection,
            union,
        })
    }

    /// IoU of this image; an empty union (nothing predicted, nothing to find) is a perfect 1.
    pub fn iou(&self) -> f64 {
        if self.union == 0 {
            1.0
        } else {
            self.intersection as f64 / self.union as f64
        }
    }
}

/// gIoU, cIoU and count over a set of images.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreSummary {
    /// Mean per-image IoU.
    pub giou: f64,
    /// Summed intersection over summed union.
    pub ciou: f64,
    /// Number of images scored.
    pub n: usize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Tally {
    n: usize,
    iou_sum: f64,
    intersection: u64,
    union: u64,
}

impl Tally {
    fn add(&mut self, score: ImageScore) {
        self.n += 1;
        self.iou_sum += score.iou();
        self.intersection += score.intersection;
        self.union += score.union;
    }

    /// With no images both scores are 0; with images but an empty total union
    /// (every image empty and predicted empty) cIoU is 1, like gIoU.
    fn summary(&self) -> ScoreSummary {
        if self.n == 0 {
            return ScoreSummary::default();
        }
        let ciou = if self.union == 0 {
            1.0
        } else {
            self.intersection as f64 / self.union as f64
        };
        ScoreSummary {
            giou: self.iou_sum / self.n as f64,
            ciou,
            n: self.n,
        }
    }
}

/// Accumulates image scores overall and per query type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scores {
    overall: Tally,
    per_type: BTreeMap<String, Tally>,
}

impl Scores {
    /// No images yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one image's score, under `query_type` when known.
    pub fn add(&mut self, query_type: Option<&str>, score: ImageScore) {
        self.overall.add(score);
        if let Some(kind) = query_type {
            self.per_type
                .entry(kind.to_string())
                .or_default()
                .add(score);
        }
    }

    /// Scores `predicted` against a ground truth and adds it; returns the image's score.
    pub fn add_prediction(
        &mut self,
        query_type: Option<&str>,
        predicted: &Mask,
        target: &Mask,
        ignore: &Mask,
    ) -> Result<ImageScore, EvalError> {
        let score = ImageScore::new(predicted, target, ignore)?;
        self.add(query_type, score);
        Ok(score)
    }

    /// Mean per-image IoU (0 with no images).
    pub fn giou(&self) -> f64 {
        self.overall.summary().giou
    }

    /// Summed intersection over summed union (0 with no images).
    pub fn ciou(&self) -> f64 {
        self.overall.summary().ciou
    }

    /// Images scored.
    pub fn n(&self) -> usize {
        self.overall.n
    }

    /// The overall scores.
    pub fn summary(&self) -> ScoreSummary {
        self.overall.summary()
    }

    /// Scores per query type, sorted by type name.
    pub fn per_type(&self) -> Vec<(String, ScoreSummary)> {
        self.per_type
            .iter()
            .map(|(k, t)| (k.clone(), t.summary()))
            .collect()
    }

    /// `gIoU=0.xxx cIoU=0.xxx n=N`, the last line of `twinseg eval`.
    pub fn summary_line(&self) -> String {
        format_line(&self.summary())
    }

    /// One line per query type (`colour  gIoU=… cIoU=… n=…`), then the summary line.
    pub fn report(&self) -> String {
        let width = self.per_type.keys().map(String::len).max().unwrap_or(0);
        let mut out = String::new();
        for (kind, summary) in self.per_type() {
            out.push_str(&format!("{kind:<width$}  {}\n", format_line(&summary)));
        }
        out.push_str(&self.summary_line());
        out
    }
}

fn format_line(s: &ScoreSummary) -> String {
    format!("gIoU={:.3} cIoU={:.3} n={}", s.giou, s.ciou, s.n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_mask(width: u32, on: std::ops::Range<u32>) -> Mask {
        Mask::from_fn(width, 1, |x, _| on.contains(&x))
    }

    #[test]
    fn ignore_pixels_count_for_neither_intersection_nor_union() {
        let predicted = row_mask(10, 0..6);
        let target = row_mask(10, 2..8);
        assert_eq!(
            ImageScore::new(&predicted, &target, &Mask::empty(10, 1)),
            Ok(ImageScore {
                intersection: 4,
                union: 8
            })
        );
        let ignore = row_mask(10, 0..3);
        let s = ImageScore::new(&predicted, &target, &ignore).expect("same sizes");
        assert_eq!(
            s,
            ImageScore {
                intersection: 3,
                union: 5
            }
        );
        assert!((s.iou() - 0.6).abs() < 1e-12);
        assert_eq!(
            ImageScore::new(&predicted, &target, &Mask::empty(0, 0)).map(|s| s.union),
            Ok(8)
        );
    }

    #[test]
    fn giou_averages_images_and_ciou_pools_pixels() {
        let mut scores = Scores::new();
        scores.add(
            Some("colour"),
            ImageScore {
                intersection: 1,
                union: 4,
            },
        );
        scores.add(
            Some("colour"),
            ImageScore {
                intersection: 9,
                union: 10,
            },
        );
        scores.add(
            Some("negation"),
            ImageScore {
                intersection: 0,
                union: 0,
            },
        );
        assert_eq!(scores.n(), 3);
        assert!((scores.giou() - (0.25 + 0.9 + 1.0) / 3.0).abs() < 1e-12);
        assert!((scores.ciou() - 10.0 / 14.0).abs() < 1e-12);
        assert_eq!(scores.summary_line(), "gIoU=0.717 cIoU=0.714 n=3");
        let per_type = scores.per_type();
        assert_eq!(per_type[0].0, "colour");
        assert!((per_type[0].1.giou - 0.575).abs() < 1e-12);
        assert_eq!(per_type[1].1.n, 1);
        assert!(scores.report().ends_with("gIoU=0.717 cIoU=0.714 n=3"));
        assert!(scores
            .report()
            .contains("negation  gIoU=1.000 cIoU=1.000 n=1"));
    }

    #[test]
    fn empty_sets_and_size_mismatches_are_handled() {
        assert_eq!(Scores::new().summary_line(), "gIoU=0.000 cIoU=0.000 n=0");
        let err = ImageScore::new(&Mask::empty(3, 2), &Mask::empty(2, 3), &Mask::empty(2, 3));
        assert!(matches!(
            err,
            Err(EvalError::SizeMismatch {
                predicted_width: 3,
                ..
            })
        ));
        let mut scores = Scores::new();
        let bad_ignore = scores.add_prediction(
            None,
            &Mask::empty(2, 2),
            &Mask::empty(2, 2),
            &Mask::empty(3, 3),
        );
        assert!(bad_ignore.is_err());
        assert_eq!(scores.n(), 0);
    }
}
