//! What the worker does with each image: decode it, send its pixels back,
//! load the model once, and compute the image's embedding, reporting each
//! stage as it starts. The decoded image is kept so that a newly loaded model
//! can encode it again.

use image::RgbImage;
use js_sys::{ArrayBuffer, Uint8Array};
use twinseg::encoder::Embedding;
use twinseg::model::SamModel;
use twinseg::protocol::{FromWorker, Stage, Timings};
use wasm_bindgen::JsCast;
use web_sys::WorkerGlobalScope;

use crate::envelope::Port;

/// The worker's state across requests.
#[derive(Default)]
pub struct Session {
    model: Option<SamModel>,
    image: Option<(u32, RgbImage)>,
    embedding: Option<Embedding>,
    latest_model_request: u32,
}

/// A failed stage, with a sentence for the person.
struct Failure {
    stage: Stage,
    message: String,
}

impl Session {
    /// Decodes and encodes a new image, posting its reports (or its failure).
    pub fn set_image(
        &mut self,
        port: &Port,
        image_id: u32,
        name: &str,
        payload: Option<ArrayBuffer>,
    ) {
        let mut timings = Timings::default();
        let result = self
            .decode(port, image_id, name, payload, &mut timings)
            .and_then(|()| self.encode(port, image_id, timings));
        if let Err(failure) = result {
            port.post(&failure.report(image_id), None);
        }
    }

    /// Marks `request_id` as the newest model request; older ones finishing
    /// later are ignored.
    pub fn begin_model_request(&mut self, request_id: u32) {
        self.latest_model_request = request_id;
    }

    /// Whether `request_id` is still the newest model request.
    pub fn is_latest_model_request(&self, request_id: u32) -> bool {
        self.latest_model_request == request_id
    }

    /// Puts a newly loaded model in use and encodes the current image with it.
    pub fn use_model(&mut self, port: &Port, model: SamModel) {
        self.model = Some(model);
        self.embedding = None;
        if let Some(image_id) = self.image.as_ref().map(|(id, _)| *id) {
            if let Err(failure) = self.encode(port, image_id, Timings::default()) {
                port.post(&failure.report(image_id), None);
            }
        }
    }

    fn decode(
        &mut self,
        port: &Port,
        image_id: u32,
        name: &str,
        payload: Option<ArrayBuffer>,
        timings: &mut Timings,
    ) -> Result<(), Failure> {
        self.image = None;
        self.embedding = None;
        progress(port, image_id, Stage::Decoding);
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
        self.image = Some((image_id, image));
        Ok(())
    }

    fn encode(&mut self, port: &Port, image_id: u32, mut timings: Timings) -> Result<(), Failure> {
        if self.model.is_none() {
            progress(port, image_id, Stage::LoadingModel);
            let started = now_ms();
            let model = SamModel::builtin().map_err(|error| {
                Failure::new(
                    Stage::LoadingModel,
                    format!("The built-in model could not be loaded: {error}."),
                )
            })?;
            self.model = Some(model);
            timings.load_model_ms = now_ms() - started;
        }
        let (Some(model), Some((_, image))) = (self.model.as_ref(), self.image.as_ref()) else {
            return Err(Failure::new(
                Stage::Encoding,
                "There is no image to encode.",
            ));
        };
        progress(port, image_id, Stage::Encoding);
        let started = now_ms();
        let embedding = model.embed(image).map_err(|error| {
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

    fn report(self, image_id: u32) -> FromWorker {
        FromWorker::Failed {
            image_id,
            stage: self.stage,
            message: self.message,
        }
    }
}

fn progress(port: &Port, image_id: u32, stage: Stage) {
    port.post(&FromWorker::Progress { image_id, stage }, None);
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
pub fn now_ms() -> f64 {
    js_sys::global()
        .dyn_into::<WorkerGlobalScope>()
        .ok()
        .and_then(|scope| scope.performance())
        .map_or_else(js_sys::Date::now, |performance| performance.now())
}
