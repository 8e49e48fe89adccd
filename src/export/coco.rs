//! COCO-style JSON for segments, with the fields of SAM's automatic mask
//! generator output plus the hierarchy (`level`, `parent`).

use serde::{Deserialize, Serialize};

use super::polygon;
use super::rle::{CompressedRle, Rle, RleError};
use crate::hierarchy::Segment;
use crate::mask::{Mask, PixelBox};

/// Which form the `segmentation` field takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SegmentationFormat {
    /// COCO's compressed RLE string (the default; what pycocotools writes).
    #[default]
    CompressedRle,
    /// Uncompressed RLE, a list of run lengths.
    Rle,
    /// Outer contours, simplified, in COCO's flat `[x1, y1, ...]` form.
    Polygons,
}

/// A segment's mask in one of COCO's forms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Segmentation {
    /// Compressed RLE: `{"size": [h, w], "counts": "..."}`.
    CompressedRle(CompressedRle),
    /// Uncompressed RLE: `{"size": [h, w], "counts": [...]}`.
    Rle(Rle),
    /// Polygons: `[[x1, y1, x2, y2, ...], ...]`.
    Polygons(Vec<Vec<f64>>),
}

impl Segmentation {
    /// Encodes a mask in the chosen form.
    pub fn encode(mask: &Mask, format: SegmentationFormat) -> Self {
        match format {
            SegmentationFormat::CompressedRle => Self::CompressedRle(Rle::encode(mask).compress()),
            SegmentationFormat::Rle => Self::Rle(Rle::encode(mask)),
            SegmentationFormat::Polygons => Self::Polygons(polygon::to_coco(&polygon::polygons(
                mask,
                polygon::DEFAULT_TOLERANCE,
            ))),
        }
    }

    /// Decodes an RLE form back to the mask; polygons are rasterised at
    /// pixel centres into a `width × height` mask.
    pub fn to_mask(&self, width: u32, height: u32) -> Result<Mask, RleError> {
        match self {
            Self::CompressedRle(rle) => rle.to_mask(),
            Self::Rle(rle) => rle.to_mask(),
            Self::Polygons(flat) => {
                let rings: Vec<polygon::Ring> = flat
                    .iter()
                    .map(|xs| xs.chunks_exact(2).map(|p| [p[0], p[1]]).collect())
                    .collect();
                Ok(polygon::rasterize(&rings, width, height))
            }
        }
    }
}

/// The image the annotations belong to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CocoImage {
    /// Always 1: one image per file.
    pub id: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The image's file name, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file_name: Option<String>,
}

/// One segment as a COCO-style annotation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CocoAnnotation {
    /// The segment's id.
    pub id: u32,
    /// Always 1, the id of [`CocoImage`].
    pub image_id: u32,
    /// The mask.
    pub segmentation: Segmentation,
    /// `[x, y, width, height]` in pixels, COCO's box form.
    pub bbox: [u32; 4],
    /// Pixel count of the mask.
    pub area: u64,
    /// The decoder's estimate of the mask's IoU.
    pub predicted_iou: f32,
    /// SAM's stability score.
    pub stability_score: f32,
    /// The prompt point(s), `[[x, y]]` in pixels.
    pub point_coords: Vec<[f32; 2]>,
    /// Depth in the hierarchy: 0 whole, 1 part, 2 sub-part.
    pub level: u32,
    /// Id of the segment this one is a part of.
    pub parent: Option<u32>,
    /// `[x, y, width, height]` of the crop whose prompts produced the mask.
    pub crop_box: [u32; 4],
}

/// A whole proposals file: the image and its annotations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CocoProposals {
    /// The image.
    pub image: CocoImage,
    /// One annotation per segment, in id order.
    pub annotations: Vec<CocoAnnotation>,
}

/// COCO's `[x, y, width, height]` for a pixel box.
pub fn coco_box(b: PixelBox) -> [u32; 4] {
    [b.x0, b.y0, b.width(), b.height()]
}

/// Turns segments of one `width × height` image into a COCO-style document.
pub fn to_coco(
    segments: &[Segment],
    width: u32,
    height: u32,
    file_name: Option<String>,
    format: SegmentationFormat,
) -> CocoProposals {
    CocoProposals {
        image: CocoImage {
            id: 1,
            width,
            height,
            file_name,
        },
        annotations: segments
            .iter()
            .map(|s| CocoAnnotation {
                id: s.id,
                image_id: 1,
                segmentation: Segmentation::encode(&s.mask, format),
                bbox: coco_box(s.bbox),
                area: s.area,
                predicted_iou: s.predicted_iou,
                stability_score: s.stability_score,
                point_coords: vec![s.point],
                level: s.level,
                parent: s.parent,
                crop_box: coco_box(s.crop_box),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment() -> Segment {
        let mask = Mask::from_fn(12, 9, |x, y| (2..7).contains(&x) && (3..8).contains(&y));
        Segment {
            id: 4,
            parent: Some(1),
            level: 1,
            bbox: mask.bbox().expect("not empty"),
            area: mask.area(),
            mask,
            predicted_iou: 0.93,
            stability_score: 0.97,
            point: [4.5, 5.0],
            crop_box: PixelBox {
                x0: 0,
                y0: 0,
                x1: 12,
                y1: 9,
            },
        }
    }

    #[test]
    fn annotation_carries_sam_fields_and_hierarchy() {
        let doc = to_coco(
            &[segment()],
            12,
            9,
            Some("a.png".into()),
            SegmentationFormat::CompressedRle,
        );
        let json = serde_json::to_value(&doc).unwrap();
        let ann = &json["annotations"][0];
        assert_eq!(ann["bbox"], serde_json::json!([2, 3, 5, 5]));
        assert_eq!(ann["area"], 25);
        assert_eq!(ann["parent"], 1);
        assert_eq!(ann["level"], 1);
        assert_eq!(ann["crop_box"], serde_json::json!([0, 0, 12, 9]));
        assert_eq!(ann["segmentation"]["size"], serde_json::json!([9, 12]));
        assert!(ann["segmentation"]["counts"].is_string());
        assert_eq!(json["image"]["file_name"], "a.png");
    }

    #[test]
    fn every_format_reads_back_to_the_mask() {
        let s = segment();
        for format in [
            SegmentationFormat::CompressedRle,
            SegmentationFormat::Rle,
            SegmentationFormat::Polygons,
        ] {
            let doc = to_coco(std::slice::from_ref(&s), 12, 9, None, format);
            let text = serde_json::to_string(&doc).unwrap();
            let back: CocoProposals = serde_json::from_str(&text).unwrap();
            let mask = back.annotations[0].segmentation.to_mask(12, 9).unwrap();
            assert_eq!(mask, s.mask, "{format:?}");
        }
    }
}
