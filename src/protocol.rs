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
    },
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

/// Reports from the worker to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker has started and takes requests. No payload.
    Ready,
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
    /// Running the image encoder.
    pub encode_ms: f64,
}

impl Timings {
    /// The time of all stages together.
    pub fn total_ms(&self) -> f64 {
        self.decode_ms + self.load_model_ms + self.encode_ms
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
            };
            let json = request.to_json().unwrap();
            assert_eq!(ToWorker::from_json(&json).unwrap(), request);
        }
    }

    #[test]
    fn reports_round_trip_through_json() {
        let reports = [
            FromWorker::Ready,
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
                    encode_ms: 812.25,
                },
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
            encode_ms: 400.5,
        };
        assert_eq!(timings.total_ms(), 432.5);
    }

    #[test]
    fn rgba_length_is_four_bytes_a_pixel() {
        assert_eq!(rgba_len(3, 2).unwrap(), 24);
        assert_eq!(rgba_len(0, 100).unwrap(), 0);
        assert!(rgba_len(u32::MAX, u32::MAX).is_err());
    }
}
