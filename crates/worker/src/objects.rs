//! "Find all objects" and everything built on the found objects: the
//! streamed proposal run, the object tree and its Digital Twin, answers
//! composed into masks, and the downloads.

use image::RgbImage;
use js_sys::{ArrayBuffer, Int32Array, Uint8Array};
use twinseg::compose::compose;
use twinseg::encoder::Embedding;
use twinseg::export::{to_coco, SegmentationFormat};
use twinseg::hierarchy::{self, HierarchySettings, Segment};
use twinseg::mask::Mask;
use twinseg::model::SamModel;
use twinseg::proposals::{self, Control, Proposal, ProposalSettings};
use twinseg::protocol::{ExportKind, FindTimes, FromWorker, MaskInfo};
use twinseg::reason::{Answer, EmbeddedReasoner};
use twinseg::twin::{self, DigitalTwin, Level, TwinInput};

use crate::envelope::Port;
use crate::session::now_ms;

/// The objects found in one image: the tree's segments and the Digital Twin
/// built from them (each twin object's `segment` indexes `segments`).
pub struct Found {
    segments: Vec<Segment>,
    masks: Vec<Mask>,
    twin: DigitalTwin,
}

/// A flag in shared memory that the page raises to stop a run.
pub struct CancelFlag(Int32Array);

impl CancelFlag {
    /// Wraps the page's shared buffer.
    pub fn new(buffer: &wasm_bindgen::JsValue) -> Self {
        Self(Int32Array::new(buffer))
    }

    fn raised(&self) -> bool {
        js_sys::Atomics::load(&self.0, 0).is_ok_and(|value| value != 0)
    }
}

/// What a run needs from the session.
pub struct RunInput<'a> {
    /// The model.
    pub model: &'a SamModel,
    /// The image's embedding.
    pub embedding: &'a Embedding,
    /// The image's pixels (for the twin's colours).
    pub image: &'a RgbImage,
    /// The page's stop flag, if it shared one.
    pub cancel: Option<&'a CancelFlag>,
}

/// Runs the prompt grid, posting each batch, then builds the tree and the
/// twin and posts the objects.
pub fn find(
    input: RunInput<'_>,
    port: &Port,
    image_id: u32,
    run_id: u32,
    settings: &ProposalSettings,
) -> Result<Found, String> {
    let on_batch = |batch: proposals::ProposalBatch| {
        let (new, payload) = proposal_patches(&batch.new);
        let report = FromWorker::ProposalBatch {
            image_id,
            run_id,
            new,
            removed: batch.removed.iter().map(|&i| i as u32).collect(),
            done: batch.done,
            total: batch.total,
        };
        port.post(&report, Some(payload));
        if input.cancel.is_some_and(CancelFlag::raised) {
            Control::Cancel
        } else {
            Control::Continue
        }
    };
    let started = now_ms();
    let set = crate::threads::for_prompts(|| {
        proposals::run(input.model, input.embedding, settings, on_batch)
    })
    .map_err(|error| format!("The objects could not be found: {error}."))?;
    let proposals_ms = now_ms() - started;
    let started = now_ms();
    let found = Found::build(input.image, set.proposals);
    let times = FindTimes {
        proposals_ms,
        twin_ms: now_ms() - started,
    };
    let (objects, payload) = found.object_patches();
    let report = FromWorker::Objects {
        image_id,
        run_id,
        objects,
        cancelled: set.cancelled,
        done: set.done,
        total: set.total,
        times,
    };
    port.post(&report, Some(payload));
    Ok(found)
}

impl Found {
    fn build(image: &RgbImage, proposals: Vec<Proposal>) -> Self {
        let segments = hierarchy::build(proposals, &HierarchySettings::default());
        let twin = twin::build(image, &TwinInput::from_segments(&segments));
        let masks = segments.iter().map(|s| s.mask.clone()).collect();
        Self {
            segments,
            masks,
            twin,
        }
    }

    /// The twin's objects with their mask patches.
    fn object_patches(&self) -> (Vec<MaskInfo>, ArrayBuffer) {
        let mut bytes = Vec::new();
        let infos = self
            .twin
            .objects
            .iter()
            .filter_map(|object| {
                let segment = self.segments.get(object.segment as usize)?;
                push_patch(&mut bytes, &segment.mask, segment.bbox);
                Some(MaskInfo {
                    id: object.id,
                    parent: object.parent,
                    level: level_word(object.level).into(),
                    bbox: segment.bbox,
                    area: segment.area,
                    predicted_iou: segment.predicted_iou,
                    stability_score: segment.stability_score,
                })
            })
            .collect();
        (infos, to_buffer(&bytes))
    }

    /// The compact twin text, as a remote reasoner gets it.
    pub fn compact(&self) -> String {
        self.twin.compact()
    }

    /// The ids of the twin's objects.
    pub fn ids(&self) -> Vec<u32> {
        self.twin.objects.iter().map(|object| object.id).collect()
    }

    /// Answers `query` with the embedded reasoner.
    pub fn ask(&self, query: &str) -> Answer {
        EmbeddedReasoner.answer(&self.twin, query)
    }

    /// The union of the masks of the answer's objects.
    pub fn compose(&self, answer: &Answer) -> Result<Mask, String> {
        compose(&self.twin, &self.masks, &answer.ids)
            .map_err(|error| format!("The answer could not be turned into a mask: {error}."))
    }

    /// The JSON text of a download.
    pub fn export(&self, kind: ExportKind, file_name: &str) -> Result<String, String> {
        match kind {
            ExportKind::Twin => Ok(self.twin.to_json()),
            ExportKind::Coco => {
                let image = self.twin.image;
                let coco = to_coco(
                    &self.segments,
                    image.width,
                    image.height,
                    Some(file_name.to_string()),
                    SegmentationFormat::CompressedRle,
                );
                serde_json::to_string(&coco)
                    .map_err(|error| format!("The COCO file could not be written: {error}."))
            }
        }
    }
}

fn proposal_patches(proposals: &[Proposal]) -> (Vec<MaskInfo>, ArrayBuffer) {
    let mut bytes = Vec::new();
    let infos = proposals
        .iter()
        .map(|proposal| {
            push_patch(&mut bytes, &proposal.mask, proposal.bbox);
            MaskInfo {
                id: proposal.index as u32,
                parent: None,
                level: String::new(),
                bbox: proposal.bbox,
                area: proposal.area,
                predicted_iou: proposal.predicted_iou,
                stability_score: proposal.stability_score,
            }
        })
        .collect();
    (infos, to_buffer(&bytes))
}

/// Appends the mask's bytes inside `bbox`, row by row.
fn push_patch(bytes: &mut Vec<u8>, mask: &Mask, bbox: twinseg::mask::PixelBox) {
    let width = mask.width() as usize;
    let bits = mask.bits();
    for y in bbox.y0..bbox.y1 {
        let row = y as usize * width;
        if let Some(slice) = bits.get(row + bbox.x0 as usize..row + bbox.x1 as usize) {
            bytes.extend_from_slice(slice);
        }
    }
}

fn level_word(level: Level) -> &'static str {
    match level {
        Level::Object => "object",
        Level::Part => "part",
        Level::Subpart => "subpart",
    }
}

/// Bytes copied into a new JS buffer, ready to transfer.
pub fn to_buffer(bytes: &[u8]) -> ArrayBuffer {
    Uint8Array::from(bytes).buffer()
}
