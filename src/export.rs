//! Masks out of the library: COCO run-length encoding (both forms),
//! COCO-style proposal JSON and simplified polygons.

pub mod coco;
pub mod polygon;
pub mod rle;

pub use coco::{
    to_coco, CocoAnnotation, CocoImage, CocoProposals, Segmentation, SegmentationFormat,
};
pub use rle::{CompressedRle, Rle, RleError};
