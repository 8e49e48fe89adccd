//! What the worker does with each request: decode the image, send its pixels
//! back, load the model once, and compute the image's embedding, reporting
//! each stage as it starts.

use js_sys::{ArrayBuffer, Uint8Array};
use twinseg::encoder::Embedding;
use twinseg::model::SamModel;
use twinseg::protocol::{FromWorker, Stage, Timings, ToWorker};
use wasm_bindgen::JsCast;
use web_sys::WorkerGlobalScope;

use crate::envelope::Port;

/// The worker's state across requests: the model (loaded on first use) and
/// the current image's embedding (kept for the prompts that follow).
#[derive(Default)]
pub struct Session {
    model: Option<SamModel>,
    embedding: Option<Embedding>,
}

/// A failed stage, with a sentence for the person.
struct Failure {
    stage: Stage,
    message: String,
}

impl Session {
    /// Carries out one request, posting its reports (or its failure) to the page.
    pub fn handle(&mut self, port: &Port, request: ToWorker, payload: Option<ArrayBuffer>) {
        match request {
            ToWorker::SetImage { image_id, name } => {
                if let Err(failure) = self.set_image(port, image_id, &name, payload) {
                    let report = FromWorker::Failed {
                        image_id,
                        stage: failure.stage,
                        message: failure.message,
                    };
                    port.post(&report, None);
                }
            }
        }
    }

    fn set_image(
        &mut self,
        port: &Port,
        image_id: u32,
        name: &str,
        payload: Option<ArrayBuffer>,
    ) -> Result<(), Failure> {
        let progress = |stage| port.post(&FromWorker::Progress { image_id, stage }, None);
        let mut timings = Timings::default();
        self.embedding = None;

        progress(Stage::Decoding);
        let started = now_ms();
        let bytes = payload
            .map(|buffer| Uint8Array::new(&buffer).to_vec())
            .ok_or_else(|| Failure::new(Stage::Decoding, "The file arrived without its bytes."))?;
        let image = twinseg::image_io::decode(&bytes).map_err(|error| {
            Failure::new(
                Stage::Decoding,
                format!("\u{201c}{name}\u{201d} could not be read as an image: {error}."),
            )
        })?;
        timings.decode_ms = now_ms() - started;
        let (width, height) = image.dimensions();
        let decoded = FromWorker::Decoded {
            image_id,
            width,
            height,
        };
        port.post(&decoded, Some(rgba_buffer(image.as_raw())));

        if self.model.is_none() {
            progress(Stage::LoadingModel);
            let started = now_ms();
            let model = SamModel::builtin().map_err(|error| {
                Failure::new(
                    Stage::LoadingModel,
                    format!("The model could not be loaded: {error}."),
                )
            })?;
            self.model = Some(model);
            timings.load_model_ms = now_ms() - started;
        }
        let Some(model) = self.model.as_ref() else {
            return Err(Failure::new(Stage::LoadingModel, "The model is missing."));
        };

        progress(Stage::Encoding);
        let started = now_ms();
        let embedding = model.embed(&image).map_err(|error| {
            Failure::new(
                Stage::Encoding,
                format!("The image could not be encoded: {error}."),
            )
        })?;
        timings.encode_ms = now_ms() - started;
        self.embedding = Some(embedding);
        port.post(&FromWorker::Encoded { image_id, timings }, None);
        Ok(())
    }
}

impl Failure {
    fn new(stage: Stage, message: impl Into<String>) -> Self {
        Self {
            stage,
            message: message.into(),
        }
    }
}

/// The RGB pixels as a new RGBA buffer in JS memory, ready to transfer.
fn rgba_buffer(rgb: &[u8]) -> ArrayBuffer {
    let rgba: Vec<u8> = rgb
        .chunks_exact(3)
        .flat_map(|pixel| [pixel[0], pixel[1], pixel[2], u8::MAX])
        .collect();
    Uint8Array::from(rgba.as_slice()).buffer()
}

/// Milliseconds from a monotonic clock.
fn now_ms() -> f64 {
    js_sys::global()
        .dyn_into::<WorkerGlobalScope>()
        .ok()
        .and_then(|scope| scope.performance())
        .map_or_else(js_sys::Date::now, |performance| performance.now())
}
