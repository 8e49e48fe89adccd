//! twinseg: reasoning segmentation with SAM perception and a Digital Twin of the scene.
//!
//! The modules follow the data flow of `DESIGN.md`, one stage each, with plain
//! serde data between them:
//!
//! image bytes → [`image_io`] → [`prepare`] → `encoder` → `decoder` → `proposals`
//! → [`hierarchy`] → [`twin`] → [`reason`] → [`compose`] → masks / PNG / COCO ([`export`]).
//!
//! The stages that run the SAM model through tract sit behind the `inference`
//! feature so that the web page's own wasm stays free of tract.

pub mod compose;
pub mod dataset;
pub mod eval;
pub mod export;
pub mod heap;
pub mod hierarchy;
pub mod image_io;
pub mod mask;
pub mod palette;
pub mod prepare;
pub mod proposals;
pub mod protocol;
pub mod reason;
pub mod scenes;
pub mod transfer;
pub mod twin;

#[cfg(feature = "inference")]
pub mod decoder;
#[cfg(feature = "inference")]
pub mod encoder;
#[cfg(feature = "inference")]
pub mod model;
