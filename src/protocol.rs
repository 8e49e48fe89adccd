//! Typed messages between the web page and its Web Worker.
//!
//! The page never runs the model: it sends requests to the worker and draws
//! what comes back. Each message crosses the thread boundary as an envelope,
//! a plain JS object with the serde JSON of the message under
//! [`ENVELOPE_MESSAGE`] and, for image data, one binary payload under
//! [`ENVELOPE_PAYLOAD`]. The payload is a transferred `ArrayBuffer`, so image
//! bytes and pixels are moved between threads, never copied or turned into
//! text. Which messages carry a payload is written on each variant.

use serde::{Deserialize, Serialize};

use crate::mask::PixelBox;
use crate::proposals::ProposalSettings;
use crate::reason::Answer;

/// Key of the envelope field that holds a message's JSON text.
pub const ENVELOPE_MESSAGE: &str = "message";

/// Key of the envelope field that holds a message's binary payload, if any.
pub const ENVELOPE_PAYLOAD: &str = "payload";

/// Requests from the page to the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Decode an image, send its pixels back, then compute its embedding.
    /// Payload: the encoded file bytes (PNG, JPEG, ...), as the person gave them.
    SetImage {
        /// Chosen by the page; every answer about this image repeats it, so
        /// the page can ignore answers about an image it has replaced.
        image_id: u32,
        /// The file name, for messages only.
        name: String,
    },
    /// Switch to another model. The current image, if any, is encoded again
    /// with it. No payload.
    LoadModel {
        /// Counts up with each request; reports about older requests are stale.
        request_id: u32,
        /// Which model to load.
        model: ModelChoice,
        /// A download gives up when the server sends nothing for this many
        /// seconds (0 or absent: one minute).
        #[serde(default)]
        stall_s: u32,
    },
    /// Stops the download of load request `request_id`; the worker answers
    /// [`FromWorker::ModelFailed`] saying so, and the previous model stays.
    /// No payload.
    StopModelLoad {
        /// The request to stop.
        request_id: u32,
    },
    /// Hands the worker a flag it reads between decoder batches, so a
    /// running "find all objects" can be stopped without ending the worker.
    /// Payload: a `SharedArrayBuffer` of at least 4 bytes; a non-zero first
    /// 32-bit integer means "stop". Only sent where the page is
    /// cross-origin isolated (elsewhere shared memory does not exist).
    ShareCancelFlag,
    /// Finds every object of the image: proposals are streamed back in
    /// batches ([`FromWorker::ProposalBatch`]), then the object tree and its
    /// Digital Twin are built ([`FromWorker::Objects`]). No payload.
    FindObjects {
        /// The image to work on; requests about a replaced image are ignored.
        image_id: u32,
        /// Counts up with each run; reports repeat it.
        run_id: u32,
        /// Grid and filter thresholds.
        settings: ProposalSettings,
    },
    /// Answers a question with the embedded reasoner, finding the objects
    /// first (with `settings`) if that has not been done. No payload.
    Ask {
        /// The image asked about.
        image_id: u32,
        /// Counts up with each question; the answer repeats it.
        ask_id: u32,
        /// The question, in words.
        query: String,
        /// Thresholds for finding the objects, when they are still missing.
        settings: ProposalSettings,
    },
    /// Sends back the compact Digital Twin (for a remote reasoner the page
    /// talks to), finding the objects first if needed. No payload.
    PrepareTwin {
        /// The image asked about.
        image_id: u32,
        /// The question this twin is for.
        ask_id: u32,
        /// Thresholds for finding the objects, when they are still missing.
        settings: ProposalSettings,
    },
    /// Turns an answer the page got elsewhere (a remote reasoner) into the
    /// answer mask. No payload.
    ApplyAnswer {
        /// The image asked about.
        image_id: u32,
        /// The question answered.
        ask_id: u32,
        /// The parsed answer.
        answer: Answer,
    },
    /// Segments from the person's own prompt, using the cached embedding.
    /// No payload.
    Segment {
        /// The image.
        image_id: u32,
        /// Counts up with each prompt; the mask repeats it.
        prompt_id: u32,
        /// Positive and negative points in image pixels.
        points: Vec<PromptPoint>,
        /// A box `[x0, y0, x1, y1]` in image pixels.
        bbox: Option<[f32; 4]>,
    },
    /// Asks for a document about the found objects. No payload.
    Export {
        /// The image.
        image_id: u32,
        /// Which document.
        kind: ExportKind,
    },
}

/// One point of a person's prompt, in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PromptPoint {
    /// Horizontal position.
    pub x: f32,
    /// Vertical position.
    pub y: f32,
    /// `true`: the object is here; `false`: it is not.
    pub positive: bool,
}

/// The documents the worker can write about the found objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    /// Every object as COCO-style JSON (compressed RLE masks).
    Coco,
    /// The Digital Twin as JSON.
    Twin,
}

/// What the page is told about one proposal or object. Its mask travels in
/// the payload as the 0/1 bytes of its box only (see [`patch_len`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskInfo {
    /// The proposal's candidate number while streaming; the Digital Twin id
    /// in [`FromWorker::Objects`].
    pub id: u32,
    /// The object this is a part of (twin id), for objects only.
    pub parent: Option<u32>,
    /// "object", "part" or "subpart" for objects; empty while streaming.
    pub level: String,
    /// Tight box of the mask in image pixels.
    pub bbox: PixelBox,
    /// Pixel count.
    pub area: u64,
    /// The decoder's estimate of the mask's IoU.
    pub predicted_iou: f32,
    /// SAM's stability score.
    pub stability_score: f32,
}

/// The payload length of a box-sized mask patch: one byte per pixel of `bbox`.
pub fn patch_len(bbox: &PixelBox) -> usize {
    bbox.width() as usize * bbox.height() as usize
}

/// The work the page can ask for besides encoding an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Finding all objects.
    FindObjects,
    /// Answering a question.
    Ask,
    /// Segmenting a prompt.
    Segment,
    /// Writing a download.
    Export,
}

/// Which SAM model the worker runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelChoice {
    /// The project's own small test model, built into the worker.
    Builtin,
    /// An encoder/decoder pair of ONNX files at these addresses (any export
    /// that keeps the SAM contract). Downloads are kept in the browser's
    /// Cache API under [`MODEL_CACHE`] and reused on the next visit.
    Url {
        /// Address of the encoder ONNX file.
        encoder: String,
        /// Address of the decoder ONNX file.
        decoder: String,
    },
}

/// Name of the browser cache (Cache API) that keeps downloaded models.
pub const MODEL_CACHE: &str = "twinseg-models-v1";

/// Which of the model's two files a download report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelPart {
    /// The image encoder.
    Encoder,
    /// The mask decoder.
    Decoder,
}

/// The thread count of a worker that does not say.
fn one_thread() -> u32 {
    1
}

/// Reports from the worker to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker has started and takes requests. No payload.
    Ready {
        /// How many threads run the models: 1, or the pool the threaded
        /// build started (only where the page is cross-origin isolated).
        #[serde(default = "one_thread")]
        threads: u32,
    },
    /// Work on an image entered a new stage. No payload.
    Progress {
        /// The image the work is for.
        image_id: u32,
        /// The stage now running.
        stage: Stage,
    },
    /// The image is decoded.
    /// Payload: its pixels as RGBA, row by row, `width * height * 4` bytes
    /// (see [`rgba_len`]).
    Decoded {
        /// The image the pixels are of.
        image_id: u32,
        /// Width in pixels, after EXIF orientation.
        width: u32,
        /// Height in pixels, after EXIF orientation.
        height: u32,
    },
    /// The image's embedding is computed and kept in the worker for prompts.
    /// No payload.
    Encoded {
        /// The image that was encoded.
        image_id: u32,
        /// How long each stage took.
        timings: Timings,
        /// The worker's wasm memory afterwards, in bytes (it never shrinks,
        /// so over many images it shows whether anything leaks).
        #[serde(default)]
        worker_memory_bytes: u64,
        /// Of that memory, the bytes in use (allocated and not freed): it
        /// falls when things are freed, so it tells a leak from
        /// fragmentation.
        #[serde(default)]
        worker_heap_bytes: u64,
    },
    /// Bytes of a model file arrived. No payload.
    ModelProgress {
        /// The load request this is for.
        request_id: u32,
        /// Which file.
        part: ModelPart,
        /// Bytes received so far.
        loaded: u64,
        /// The file's size, when the server said it.
        total: Option<u64>,
    },
    /// A model is loaded and in use. No payload.
    ModelLoaded {
        /// The load request this answers.
        request_id: u32,
        /// The model now in use.
        model: ModelChoice,
        /// Whether both files came from the browser's cache (no download).
        from_cache: bool,
        /// Time from the request to a model ready to run, in milliseconds.
        load_ms: f64,
    },
    /// A model could not be loaded; the previous one stays in use. No payload.
    ModelFailed {
        /// The load request this answers.
        request_id: u32,
        /// One readable sentence that says what went wrong.
        message: String,
    },
    /// Proposals kept after one decoder batch.
    /// Payload: the mask patches of `new`, one after another (see [`MaskInfo`]).
    ProposalBatch {
        /// The image.
        image_id: u32,
        /// The run.
        run_id: u32,
        /// Proposals kept from this batch.
        new: Vec<MaskInfo>,
        /// Ids of earlier proposals that better ones replaced.
        removed: Vec<u32>,
        /// Prompts run so far.
        done: usize,
        /// Prompts in the whole run.
        total: usize,
    },
    /// The run ended (finished or stopped): the objects of the Digital Twin,
    /// which replace the streamed proposals.
    /// Payload: the mask patches of `objects`, one after another.
    Objects {
        /// The image.
        image_id: u32,
        /// The run.
        run_id: u32,
        /// Every object, parents first, ids as in the Digital Twin.
        objects: Vec<MaskInfo>,
        /// Whether the person stopped the run early.
        cancelled: bool,
        /// Prompts run.
        done: usize,
        /// Prompts the whole run would have made.
        total: usize,
        /// How long the run's stages took.
        #[serde(default)]
        times: FindTimes,
    },
    /// The compact Digital Twin, exactly as a remote reasoner gets it. No payload.
    TwinReady {
        /// The image.
        image_id: u32,
        /// The question it is for.
        ask_id: u32,
        /// The compact text.
        compact: String,
        /// The ids of its objects, to check a remote answer against.
        ids: Vec<u32>,
    },
    /// A question is answered.
    /// Payload: the answer mask, `width * height` bytes of 0/1.
    Answered {
        /// The image.
        image_id: u32,
        /// The question.
        ask_id: u32,
        /// The selected ids, the reasoning steps, and why none, if none.
        answer: Answer,
        /// Pixels in the answer mask.
        area: u64,
        /// Time the embedded reasoner took, in milliseconds (0 for an
        /// answer from a remote reasoner, which the page timed itself).
        #[serde(default)]
        reason_ms: f64,
    },
    /// The mask for a person's prompt.
    /// Payload: the mask, `width * height` bytes of 0/1.
    PromptMask {
        /// The image.
        image_id: u32,
        /// The prompt.
        prompt_id: u32,
        /// The decoder's estimate of the mask's IoU.
        score: f32,
        /// Pixels in the mask.
        area: u64,
        /// How long the worker took to make the mask.
        #[serde(default)]
        times: PromptTimes,
    },
    /// A requested document. No payload.
    Exported {
        /// The image.
        image_id: u32,
        /// Which document.
        kind: ExportKind,
        /// Its JSON text.
        text: String,
    },
    /// A task failed; the image and earlier results stay. No payload.
    TaskFailed {
        /// The image.
        image_id: u32,
        /// The task.
        task: Task,
        /// One readable sentence that says what went wrong.
        message: String,
    },
    /// Work on an image failed; the message is meant for the person. No payload.
    Failed {
        /// The image the work was for.
        image_id: u32,
        /// The stage that failed.
        stage: Stage,
        /// One readable sentence that says what went wrong.
        message: String,
    },
}

/// The stages of turning an image into an embedding, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading the file's bytes into pixels.
    Decoding,
    /// Loading the SAM model (only the first time; it is cached after).
    LoadingModel,
    /// Running the SAM image encoder.
    Encoding,
    /// The embedding is ready.
    Done,
}

impl Stage {
    /// Every stage, in the order they run.
    pub const ALL: [Stage; 4] = [
        Stage::Decoding,
        Stage::LoadingModel,
        Stage::Encoding,
        Stage::Done,
    ];

    /// How many stages come before this one: a step count for progress bars.
    pub fn step(self) -> usize {
        self as usize
    }

    /// A short lower-case identifier, stable for styling and tests.
    pub fn id(self) -> &'static str {
        match self {
            Stage::Decoding => "decoding",
            Stage::LoadingModel => "loading_model",
            Stage::Encoding => "encoding",
            Stage::Done => "done",
        }
    }

    /// What the stage is doing, in words for the person.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Decoding => "Decoding the image",
            Stage::LoadingModel => "Loading the model",
            Stage::Encoding => "Encoding the image",
            Stage::Done => "Ready for prompts",
        }
    }
}

/// Wall-clock time of each stage of one image, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Decoding the file into pixels.
    pub decode_ms: f64,
    /// Loading the model; 0 when it was already loaded.
    pub load_model_ms: f64,
    /// Preparing the encoder's input (resize, normalise, pad).
    #[serde(default)]
    pub prepare_ms: f64,
    /// Running the image encoder.
    pub encode_ms: f64,
}

/// How long the stages of "find all objects" took, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct FindTimes {
    /// The prompt grid through the decoder, with filtering.
    pub proposals_ms: f64,
    /// The object tree and the Digital Twin built from the kept masks.
    pub twin_ms: f64,
}

/// How long the worker took for one prompt mask, in milliseconds: the figures
/// to set against an ONNX runtime's decoder run, which also returns masks at
/// the image's size.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PromptTimes {
    /// The decoder run on the cached embedding (low-resolution masks and scores).
    pub decoder_ms: f64,
    /// The chosen mask upsampled to the image's size.
    pub mask_ms: f64,
}

impl Timings {
    /// The time of all stages together.
    pub fn total_ms(&self) -> f64 {
        self.decode_ms + self.load_model_ms + self.prepare_ms + self.encode_ms
    }
}

/// Why a message could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The JSON text is not a message of the expected kind.
    #[error("unreadable {kind} message: {source}")]
    Malformed {
        /// Which direction the message was going ("page" or "worker").
        kind: &'static str,
        /// What serde found wrong.
        source: serde_json::Error,
    },
    /// An image is too large for its RGBA pixels to be addressed.
    #[error("image of {width}x{height} pixels is too large")]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
}

impl ToWorker {
    /// The message as JSON text, for the envelope.
    pub fn to_json(&self) -> Result<String, ProtocolError> {
        serde_json::to_string(self).map_err(|source| ProtocolError::Malformed {
            kind: "page",
            source,
        })
    }

    /// Reads a message from the page out of its JSON text.
    pub fn from_json(json: &str) -> Result<Self, ProtocolError> {
        serde_json::from_str(json).map_err(|source| ProtocolError::Malformed {
            kind: "page",
            source,
        })
    }
}

impl FromWorker {
    /// The message as JSON text, for the envelope.
    pub fn to_json(&self) -> Result<String, ProtocolError> {
        serde_json::to_string(self).map_err(|source| ProtocolError::Malformed {
            kind: "worker",
            source,
        })
    }

    /// Reads a message from the worker out of its JSON text.
    pub fn from_json(json: &str) -> Result<Self, ProtocolError> {
        serde_json::from_str(json).map_err(|source| ProtocolError::Malformed {
            kind: "worker",
            source,
        })
    }
}

/// The byte length of an RGBA image of `width` by `height` pixels, as carried
/// by [`FromWorker::Decoded`]'s payload.
pub fn rgba_len(width: u32, height: u32) -> Result<usize, ProtocolError> {
    u64::from(width)
        .checked_mul(u64::from(height))
        .and_then(|pixels| pixels.checked_mul(4))
        .and_then(|bytes| usize::try_from(bytes).ok())
        .ok_or(ProtocolError::TooLarge { width, height })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_through_json() {
        let request = ToWorker::SetImage {
            image_id: 7,
            name: "cat \"photo\".png".into(),
        };
        let json = request.to_json().unwrap();
        assert_eq!(ToWorker::from_json(&json).unwrap(), request);
        for model in [
            ModelChoice::Builtin,
            ModelChoice::Url {
                encoder: "https://example.org/enc.onnx".into(),
                decoder: "models/dec.onnx".into(),
            },
        ] {
            let request = ToWorker::LoadModel {
                request_id: 2,
                model,
                stall_s: 5,
            };
            let json = request.to_json().unwrap();
            assert_eq!(ToWorker::from_json(&json).unwrap(), request);
        }
        let stop = ToWorker::StopModelLoad { request_id: 2 };
        assert_eq!(ToWorker::from_json(&stop.to_json().unwrap()).unwrap(), stop);
        let without_stall = r#"{"type":"load_model","request_id":3,"model":{"kind":"builtin"}}"#;
        assert_eq!(
            ToWorker::from_json(without_stall).unwrap(),
            ToWorker::LoadModel {
                request_id: 3,
                model: ModelChoice::Builtin,
                stall_s: 0
            }
        );
    }

    #[test]
    fn reports_round_trip_through_json() {
        let reports = [
            FromWorker::Ready { threads: 2 },
            FromWorker::Progress {
                image_id: 1,
                stage: Stage::LoadingModel,
            },
            FromWorker::Decoded {
                image_id: 1,
                width: 640,
                height: 480,
            },
            FromWorker::Encoded {
                image_id: 1,
                timings: Timings {
                    decode_ms: 1.5,
                    load_model_ms: 0.0,
                    prepare_ms: 20.5,
                    encode_ms: 812.25,
                },
                worker_memory_bytes: 96 << 20,
                worker_heap_bytes: 61 << 20,
            },
            FromWorker::Failed {
                image_id: 2,
                stage: Stage::Decoding,
                message: "not an image".into(),
            },
        ];
        let model_reports = [
            FromWorker::ModelProgress {
                request_id: 4,
                part: ModelPart::Decoder,
                loaded: 1 << 20,
                total: None,
            },
            FromWorker::ModelLoaded {
                request_id: 4,
                model: ModelChoice::Url {
                    encoder: "http://127.0.0.1:1/e.onnx".into(),
                    decoder: "http://127.0.0.1:1/d.onnx".into(),
                },
                from_cache: true,
                load_ms: 12.0,
            },
            FromWorker::ModelFailed {
                request_id: 5,
                message: "no".into(),
            },
        ];
        for report in reports.into_iter().chain(model_reports) {
            let json = report.to_json().unwrap();
            assert_eq!(FromWorker::from_json(&json).unwrap(), report);
        }
    }

    #[test]
    fn flow_messages_round_trip_through_json() {
        let bbox = PixelBox {
            x0: 1,
            y0: 2,
            x1: 4,
            y1: 7,
        };
        let requests = [
            ToWorker::ShareCancelFlag,
            ToWorker::FindObjects {
                image_id: 1,
                run_id: 2,
                settings: ProposalSettings {
                    points_per_side: 8,
                    ..ProposalSettings::default()
                },
            },
            ToWorker::Ask {
                image_id: 1,
                ask_id: 3,
                query: "the red one".into(),
                settings: ProposalSettings::default(),
            },
            ToWorker::ApplyAnswer {
                image_id: 1,
                ask_id: 3,
                answer: Answer {
                    ids: vec![2],
                    steps: vec!["Colour red: 2.".into()],
                    none_reason: None,
                },
            },
            ToWorker::Segment {
                image_id: 1,
                prompt_id: 4,
                points: vec![PromptPoint {
                    x: 3.5,
                    y: 4.0,
                    positive: false,
                }],
                bbox: Some([0.0, 0.0, 5.0, 5.0]),
            },
            ToWorker::Export {
                image_id: 1,
                kind: ExportKind::Coco,
            },
        ];
        for request in requests {
            let json = request.to_json().unwrap();
            assert_eq!(ToWorker::from_json(&json).unwrap(), request);
        }
        let info = MaskInfo {
            id: 5,
            parent: Some(1),
            level: "part".into(),
            bbox,
            area: 9,
            predicted_iou: 0.9,
            stability_score: 0.95,
        };
        let reports = [
            FromWorker::ProposalBatch {
                image_id: 1,
                run_id: 2,
                new: vec![info.clone()],
                removed: vec![3],
                done: 16,
                total: 64,
            },
            FromWorker::Objects {
                image_id: 1,
                run_id: 2,
                objects: vec![info],
                cancelled: true,
                done: 16,
                total: 64,
                times: FindTimes {
                    proposals_ms: 120.5,
                    twin_ms: 3.25,
                },
            },
            FromWorker::PromptMask {
                image_id: 1,
                prompt_id: 4,
                score: 0.875,
                area: 120,
                times: PromptTimes {
                    decoder_ms: 96.5,
                    mask_ms: 2.25,
                },
            },
            FromWorker::TaskFailed {
                image_id: 1,
                task: Task::Ask,
                message: "no".into(),
            },
        ];
        for report in reports {
            let json = report.to_json().unwrap();
            assert_eq!(FromWorker::from_json(&json).unwrap(), report);
        }
        let untimed = r#"{"type":"prompt_mask","image_id":1,"prompt_id":4,"score":0.5,"area":3}"#;
        assert!(matches!(
            FromWorker::from_json(untimed).unwrap(),
            FromWorker::PromptMask { times, .. } if times == PromptTimes::default()
        ));
    }

    #[test]
    fn a_patch_is_one_byte_per_box_pixel() {
        let bbox = PixelBox {
            x0: 2,
            y0: 3,
            x1: 5,
            y1: 7,
        };
        assert_eq!(patch_len(&bbox), 12);
    }

    #[test]
    fn wire_form_is_tagged_snake_case() {
        let json = FromWorker::Progress {
            image_id: 3,
            stage: Stage::LoadingModel,
        }
        .to_json()
        .unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["type"], "progress");
        assert_eq!(value["stage"], "loading_model");
        assert_eq!(value["stage"], Stage::LoadingModel.id());
    }

    #[test]
    fn unknown_or_broken_messages_are_errors_that_say_which_side() {
        let err = ToWorker::from_json(r#"{"type":"launch_rockets"}"#).unwrap_err();
        assert!(
            err.to_string().starts_with("unreadable page message"),
            "{err}"
        );
        let err = FromWorker::from_json("{not json").unwrap_err();
        assert!(
            err.to_string().starts_with("unreadable worker message"),
            "{err}"
        );
        let err = ToWorker::from_json(r#"{"type":"set_image","image_id":-1,"name":""}"#);
        assert!(err.is_err());
    }

    #[test]
    fn stages_are_listed_in_running_order() {
        for (index, stage) in Stage::ALL.iter().enumerate() {
            assert_eq!(stage.step(), index);
            assert!(!stage.label().is_empty());
        }
        let ids: std::collections::HashSet<_> = Stage::ALL.iter().map(|s| s.id()).collect();
        assert_eq!(ids.len(), Stage::ALL.len());
    }

    #[test]
    fn timings_add_up() {
        let timings = Timings {
            decode_ms: 2.0,
            load_model_ms: 30.0,
            prepare_ms: 10.0,
            encode_ms: 400.5,
        };
        assert_eq!(timings.total_ms(), 442.5);
    }

    #[test]
    fn rgba_length_is_four_bytes_a_pixel() {
        assert_eq!(rgba_len(3, 2).unwrap(), 24);
        assert_eq!(rgba_len(0, 100).unwrap(), 0);
        assert!(rgba_len(u32::MAX, u32::MAX).is_err());
    }
}
