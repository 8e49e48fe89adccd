//! What the worker does with each image: decode it, send its pixels back,
//! load the model once, and compute the image's embedding, reporting each
//! stage as it starts. The decoded image is kept so that a newly loaded model
//! can encode it again.

use image::RgbImage;
use js_sys::{ArrayBuffer, Uint8Array};
use twinseg::decoder::{PointPrompt, Prompt};
use twinseg::encoder::Embedding;
use twinseg::model::SamModel;
use twinseg::proposals::ProposalSettings;
use twinseg::protocol::{ExportKind, FromWorker, PromptPoint, PromptTimes, Stage, Task, Timings};
use twinseg::reason::Answer;
use wasm_bindgen::JsCast;
use web_sys::WorkerGlobalScope;

use crate::envelope::Port;
use crate::objects::{self, CancelFlag, Found, RunInput};
use crate::threads;

/// The worker's state across requests.
#[derive(Default)]
pub struct Session {
    model: Option<SamModel>,
    image: Option<(u32, RgbImage)>,
    embedding: Option<Embedding>,
    latest_model_request: u32,
    name: String,
    found: Option<Found>,
    cancel: Option<CancelFlag>,
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

    /// Keeps the page's stop flag for proposal runs.
    pub fn share_cancel_flag(&mut self, flag: CancelFlag) {
        self.cancel = Some(flag);
    }

    /// Finds every object of the image, streaming the proposals.
    pub fn find_objects(
        &mut self,
        port: &Port,
        image_id: u32,
        run_id: u32,
        settings: &ProposalSettings,
    ) {
        let result = self.run_find(port, image_id, run_id, settings);
        self.report(port, image_id, Task::FindObjects, result);
    }

    /// Answers a question with the embedded reasoner.
    pub fn ask(
        &mut self,
        port: &Port,
        image_id: u32,
        ask_id: u32,
        query: &str,
        settings: &ProposalSettings,
    ) {
        let result = self
            .ensure_found(port, image_id, settings)
            .and_then(|found| {
                let started = now_ms();
                let answer = found.ask(query);
                let reason_ms = now_ms() - started;
                let mask = found.compose(&answer)?;
                Ok((answer, mask, reason_ms))
            });
        let result = result.map(|(answer, mask, reason_ms)| {
            answered(port, image_id, ask_id, answer, &mask, reason_ms);
        });
        self.report(port, image_id, Task::Ask, result);
    }

    /// Sends the compact twin for a remote reasoner.
    pub fn prepare_twin(
        &mut self,
        port: &Port,
        image_id: u32,
        ask_id: u32,
        settings: &ProposalSettings,
    ) {
        let result = self.ensure_found(port, image_id, settings).map(|found| {
            let report = FromWorker::TwinReady {
                image_id,
                ask_id,
                compact: found.compact(),
                ids: found.ids(),
            };
            port.post(&report, None);
        });
        self.report(port, image_id, Task::Ask, result);
    }

    /// Turns a remote reasoner's answer into the answer mask.
    pub fn apply_answer(&mut self, port: &Port, image_id: u32, ask_id: u32, answer: Answer) {
        let result = self
            .current_found(image_id)
            .and_then(|found| found.compose(&answer))
            .map(|mask| answered(port, image_id, ask_id, answer, &mask, 0.0));
        self.report(port, image_id, Task::Ask, result);
    }

    /// Segments the person's prompt from the cached embedding.
    pub fn segment(
        &mut self,
        port: &Port,
        image_id: u32,
        prompt_id: u32,
        points: &[PromptPoint],
        bbox: Option<[f32; 4]>,
    ) {
        let result = self
            .predict(points, bbox, image_id)
            .map(|(mask, score, times)| {
                let report = FromWorker::PromptMask {
                    image_id,
                    prompt_id,
                    score,
                    area: mask.area(),
                    times,
                };
                port.post(&report, Some(objects::to_buffer(mask.bits())));
            });
        self.report(port, image_id, Task::Segment, result);
    }

    /// Writes a download about the found objects.
    pub fn export(&mut self, port: &Port, image_id: u32, kind: ExportKind) {
        let name = self.name.clone();
        let result = self
            .current_found(image_id)
            .and_then(|found| found.export(kind, &name))
            .map(|text| {
                port.post(
                    &FromWorker::Exported {
                        image_id,
                        kind,
                        text,
                    },
                    None,
                );
            });
        self.report(port, image_id, Task::Export, result);
    }

    fn report(&self, port: &Port, image_id: u32, task: Task, result: Result<(), String>) {
        if let Err(message) = result {
            port.post(
                &FromWorker::TaskFailed {
                    image_id,
                    task,
                    message,
                },
                None,
            );
        }
    }

    fn run_find(
        &mut self,
        port: &Port,
        image_id: u32,
        run_id: u32,
        settings: &ProposalSettings,
    ) -> Result<(), String> {
        self.check_current(image_id)?;
        let (Some(model), Some(embedding), Some((_, image))) = (
            self.model.as_ref(),
            self.embedding.as_ref(),
            self.image.as_ref(),
        ) else {
            return Err("The image is not encoded yet; wait until it is, then try again.".into());
        };
        let input = RunInput {
            model,
            embedding,
            image,
            cancel: self.cancel.as_ref(),
        };
        let found = objects::find(input, port, image_id, run_id, settings)?;
        self.found = Some(found);
        Ok(())
    }

    fn ensure_found(
        &mut self,
        port: &Port,
        image_id: u32,
        settings: &ProposalSettings,
    ) -> Result<&Found, String> {
        if self.found.is_none() {
            self.run_find(port, image_id, 0, settings)?;
        }
        self.current_found(image_id)
    }

    fn current_found(&self, image_id: u32) -> Result<&Found, String> {
        self.check_current(image_id)?;
        self.found
            .as_ref()
            .ok_or_else(|| "No objects have been found in this image yet.".to_string())
    }

    fn check_current(&self, image_id: u32) -> Result<(), String> {
        match &self.image {
            Some((id, _)) if *id == image_id => Ok(()),
            _ => Err("That image is no longer open.".into()),
        }
    }

    fn predict(
        &self,
        points: &[PromptPoint],
        bbox: Option<[f32; 4]>,
        image_id: u32,
    ) -> Result<(twinseg::mask::Mask, f32, PromptTimes), String> {
        self.check_current(image_id)?;
        let (Some(model), Some(embedding)) = (self.model.as_ref(), self.embedding.as_ref()) else {
            return Err("The image is not encoded yet; wait until it is, then try again.".into());
        };
        let prompt = Prompt {
            points: points
                .iter()
                .map(|p| PointPrompt {
                    x: p.x,
                    y: p.y,
                    positive: p.positive,
                })
                .collect(),
            bbox,
            mask_input: None,
        };
        let started = now_ms();
        let prediction = model
            .predict(embedding, &prompt)
            .map_err(|error| format!("The prompt could not be segmented: {error}."))?;
        let decoder_ms = now_ms() - started;
        let best = prediction
            .best_index()
            .ok_or_else(|| "The model returned no mask for the prompt.".to_string())?;
        let started = now_ms();
        let mask = prediction.masks[best].to_mask(embedding.frame(), 0.0);
        let times = PromptTimes {
            decoder_ms,
            mask_ms: now_ms() - started,
        };
        Ok((mask, prediction.iou[best], times))
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
        self.found = None;
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
        self.found = None;
        self.name = name.to_string();
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
        let prepared = twinseg::prepare::prepare(image);
        timings.prepare_ms = now_ms() - started;
        let started = now_ms();
        let embedding =
            threads::for_encoder(|| model.embed_prepared(prepared)).map_err(|error| {
                Failure::new(
                    Stage::Encoding,
                    format!("The image could not be encoded: {error}."),
                )
            })?;
        timings.encode_ms = now_ms() - started;
        self.embedding = Some(embedding);
        let report = FromWorker::Encoded {
            image_id,
            timings,
            worker_memory_bytes: wasm_memory_bytes(),
            worker_heap_bytes: crate::HEAP.in_use() as u64,
        };
        port.post(&report, None);
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

fn answered(
    port: &Port,
    image_id: u32,
    ask_id: u32,
    answer: Answer,
    mask: &twinseg::mask::Mask,
    reason_ms: f64,
) {
    let report = FromWorker::Answered {
        image_id,
        ask_id,
        answer,
        area: mask.area(),
        reason_ms,
    };
    port.post(&report, Some(objects::to_buffer(mask.bits())));
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

/// The size of this module's linear memory.
fn wasm_memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) as u64 * 65_536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}
