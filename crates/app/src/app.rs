//! The page's state and the root component: which image is being worked on,
//! what the worker last reported about it, and the error to show, if any.

use std::rc::Rc;

use js_sys::{ArrayBuffer, Uint8ClampedArray};
use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use twinseg::protocol::{rgba_len, FromWorker, ModelChoice, ModelPart, Stage, Timings, ToWorker};
use twinseg::transfer::DEFAULT_STALL;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, KeyboardEvent};

use crate::ask::AskPanel;
use crate::canvas::ImageCanvas;
use crate::downloads::Downloads;
use crate::find::FindPanel;
use crate::flow::Flow;
use crate::model::ModelPicker;
use crate::params::StartParams;
use crate::picker::ImagePicker;
use crate::status::{ErrorAlert, StatusPanel};
use crate::worker::{describe, has_relaxed_simd, Report, WorkerBuild, WorkerClient};

/// Files above this size are refused before they are read.
const MAX_FILE_BYTES: f64 = 256.0 * 1024.0 * 1024.0;

/// Crashes in a row (without an image finishing in between) after which the
/// worker is no longer restarted, so a file that always crashes it cannot
/// make the page restart it forever.
const MAX_RESTARTS: u32 = 2;

/// Whether the worker can take requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerState {
    /// Loading its wasm.
    Starting,
    /// Said it is ready.
    Ready,
    /// Could not start, or crashed.
    Broken,
}

/// What the page knows about the image being worked on.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageStatus {
    /// The id sent with the image; reports about other ids are stale.
    pub id: u32,
    /// The file name.
    pub name: String,
    /// Width and height, once decoded.
    pub size: Option<(u32, u32)>,
    /// The stage the worker reported last.
    pub stage: Option<Stage>,
    /// The stage that failed, if one did.
    pub failed: Option<Stage>,
    /// Whether the person stopped the work.
    pub cancelled: bool,
    /// How long each stage took, once encoded.
    pub timings: Option<Timings>,
    /// The page's and the worker's wasm memory, once encoded.
    pub memory: Option<MemoryUse>,
}

/// Wasm linear memory in use, which only grows: shown so a person (and the
/// long-session test) can see that opening image after image does not leak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUse {
    /// The worker's memory (model, embedding, pixels, objects).
    pub worker_bytes: u64,
    /// Of the worker's memory, the bytes in use (the rest is free space
    /// wasm memory keeps, since it never shrinks).
    pub worker_heap_bytes: u64,
    /// The page's memory (shown masks and objects).
    pub page_bytes: u64,
}

/// The size of the page module's linear memory.
fn page_memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) as u64 * 65_536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

impl ImageStatus {
    /// Whether the worker is still busy with this image.
    pub fn is_working(&self) -> bool {
        self.failed.is_none() && !self.cancelled && self.stage != Some(Stage::Done)
    }
}

/// The model the worker runs, and any switch to another under way.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelStatus {
    /// The model that encodes images now.
    pub in_use: ModelChoice,
    /// A model being loaded to replace it.
    pub requested: Option<ModelChoice>,
    /// How the last load went.
    pub state: ModelState,
}

impl Default for ModelStatus {
    fn default() -> Self {
        Self {
            in_use: ModelChoice::Builtin,
            requested: None,
            state: ModelState::Ready {
                from_cache: false,
                load_ms: None,
            },
        }
    }
}

/// Where a model load stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ModelState {
    /// Downloading or preparing; `part` is the file bytes are arriving for.
    Loading {
        /// The file being downloaded, once bytes arrive.
        part: Option<ModelPart>,
        /// Bytes of that file so far.
        loaded: u64,
        /// Its size, when known.
        total: Option<u64>,
    },
    /// In use.
    Ready {
        /// Whether it came from the browser's cache.
        from_cache: bool,
        /// How long loading took, when the person asked for it.
        load_ms: Option<f64>,
    },
    /// The last load failed; the previous model stays in use.
    Failed,
}

/// Decoded pixels, ready to draw.
#[derive(Clone)]
pub struct Picture {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGBA bytes, row by row.
    pub rgba: Uint8ClampedArray,
}

/// The page's reactive state, shared by its components.
#[derive(Clone, Copy)]
pub struct AppState {
    /// Whether the worker can take requests.
    pub worker: RwSignal<WorkerState>,
    /// The current image's progress.
    pub image: RwSignal<Option<ImageStatus>>,
    /// The current image's pixels.
    pub picture: RwSignal<Option<Picture>, LocalStorage>,
    /// A sentence for the person when something failed.
    pub error: RwSignal<Option<String>>,
    client: StoredValue<Option<Rc<WorkerClient>>, LocalStorage>,
    /// A request made before the worker was ready; sent when it is.
    pending: StoredValue<Vec<(ToWorker, Option<ArrayBuffer>)>, LocalStorage>,
    /// The model in use and any load under way.
    pub model: RwSignal<ModelStatus>,
    /// Seconds a model server may stay silent before its download gives up.
    pub model_stall_s: RwSignal<u32>,
    last_model_request: StoredValue<u32>,
    last_id: StoredValue<u32>,
    /// Found objects, the question and its answer, the prompt.
    pub flow: Flow,
    /// The current image's file, kept to hand it to a restarted worker.
    file: StoredValue<Option<File>, LocalStorage>,
    /// Worker crashes since an image last finished.
    restarts: StoredValue<u32>,
    /// The build of the worker to start (threaded on isolated pages).
    build: StoredValue<WorkerBuild>,
    /// Whether the relaxed-SIMD build may run (see [`WorkerBuild::choose`]).
    relaxed: bool,
    /// How many threads the running worker's models use.
    pub threads: RwSignal<u32>,
}

impl AppState {
    fn new(build: WorkerBuild, relaxed: bool) -> Self {
        Self {
            worker: RwSignal::new(WorkerState::Starting),
            image: RwSignal::new(None),
            picture: RwSignal::new_local(None),
            error: RwSignal::new(None),
            client: StoredValue::new_local(None),
            pending: StoredValue::new_local(Vec::new()),
            model: RwSignal::new(ModelStatus::default()),
            model_stall_s: RwSignal::new(DEFAULT_STALL.as_secs() as u32),
            last_model_request: StoredValue::new(0),
            last_id: StoredValue::new(0),
            flow: Flow::new(),
            file: StoredValue::new_local(None),
            restarts: StoredValue::new(0),
            build: StoredValue::new(build),
            relaxed,
            threads: RwSignal::new(1),
        }
    }

    fn start_worker(self) {
        let on_report = move |report| self.receive(report);
        let on_failure = move |message| spawn_local(async move { self.worker_failed(message) });
        match WorkerClient::spawn(self.build.get_value(), on_report, on_failure) {
            Ok(client) => self.client.set_value(Some(Rc::new(client))),
            Err(message) => {
                self.worker.set(WorkerState::Broken);
                self.error.set(Some(message));
            }
        }
    }

    /// A worker that had started and then died is replaced by a fresh one,
    /// which gets the model and the current image again; the picture, and
    /// everything else the person did in the page, stays.
    fn worker_failed(self, message: String) {
        if self.worker.get_untracked() == WorkerState::Starting {
            if let Some(fallback) = self.build.get_value().fallback(self.relaxed) {
                self.fall_back(fallback, &message);
                return;
            }
        }
        let restarts = self.restarts.get_value();
        if self.worker.get_untracked() != WorkerState::Ready || restarts >= MAX_RESTARTS {
            self.client.set_value(None);
            self.worker.set(WorkerState::Broken);
            self.error
                .set(Some(format!("{message} Reload the page to try again.")));
            return;
        }
        self.restarts.set_value(restarts + 1);
        self.replace_worker();
        let id = self.last_id.get_value();
        let has_image = self.image.with_untracked(|image| {
            image
                .as_ref()
                .is_some_and(|image| image.id == id && !image.cancelled)
        });
        if let Some(file) = self.file.get_value().filter(|_| has_image) {
            self.update_current(id, |image| {
                image.stage = None;
                image.failed = None;
                image.cancelled = false;
            });
            self.send_file(id, file);
        }
        self.error.set(Some(format!(
            "{message} The worker was restarted; your image and question are kept."
        )));
    }

    /// A threaded or relaxed-SIMD worker that could not start is replaced by
    /// the next build down (see [`WorkerBuild::fallback`]), ending with the
    /// plain single build, which needs nothing of the page or the browser;
    /// requests made meanwhile go to it.
    fn fall_back(self, fallback: WorkerBuild, message: &str) {
        let failed = self.build.get_value();
        web_sys::console::warn_1(
            &format!(
                "twinseg: the {failed} worker did not start ({message}); using the {fallback} one."
            )
            .into(),
        );
        self.build.set_value(fallback);
        self.client.set_value(None);
        self.start_worker();
    }

    /// Starts work on a file the person gave: read it, hand it to the worker.
    pub fn open(self, file: File) {
        let id = self.last_id.get_value().wrapping_add(1);
        self.last_id.set_value(id);
        let name = file.name();
        self.error.set(None);
        self.picture.set(None);
        self.flow.reset();
        self.file.set_value(Some(file.clone()));
        self.image.set(Some(ImageStatus {
            id,
            name: name.clone(),
            size: None,
            stage: None,
            failed: None,
            cancelled: false,
            timings: None,
            memory: None,
        }));
        if file.size() > MAX_FILE_BYTES {
            let megabytes = (file.size() / 1_048_576.0).round();
            self.fail(
                id,
                Stage::Decoding,
                format!(
                    "\u{201c}{name}\u{201d} is {megabytes} MB; images up to 256 MB can be opened."
                ),
            );
            return;
        }
        self.send_file(id, file);
    }

    /// Reads the file and hands its bytes to the worker as image `id`.
    fn send_file(self, id: u32, file: File) {
        let name = file.name();
        spawn_local(async move {
            match JsFuture::from(file.array_buffer()).await {
                Ok(buffer) if self.is_current(id) => {
                    let request = ToWorker::SetImage { image_id: id, name };
                    if let Err(message) = self.send(request, Some(buffer.unchecked_into())) {
                        self.fail(id, Stage::Decoding, message);
                    }
                }
                Ok(_) => {}
                Err(error) => self.fail(
                    id,
                    Stage::Decoding,
                    format!(
                        "\u{201c}{name}\u{201d} could not be read: {}",
                        describe(&error)
                    ),
                ),
            }
        });
    }

    /// Stops the work on the current image. tract cannot be interrupted, so
    /// the worker is ended and a fresh one started (it loads the model again).
    pub fn cancel(self) {
        if !self.is_working() {
            return;
        }
        let id = self.last_id.get_value();
        self.update_current(id, |image| image.cancelled = true);
        self.flow.reset();
        self.last_id.set_value(id.wrapping_add(1));
        self.replace_worker();
    }

    /// Ends the worker (if any) and starts a fresh one with the model in use;
    /// requests waiting for the old one are dropped.
    fn replace_worker(self) {
        self.pending.set_value(Vec::new());
        self.client.set_value(None);
        self.worker.set(WorkerState::Starting);
        self.start_worker();
        let in_use = self.model.with_untracked(|status| status.in_use.clone());
        if in_use != ModelChoice::Builtin {
            self.load_model(in_use);
        }
    }

    /// Escape stops the work if there is any, else dismisses the error.
    fn escape(self) {
        if self.flow.stop_asking() {
            return;
        }
        if self.flow.is_running() {
            self.cancel_run();
        } else if self.is_working() {
            self.cancel();
        } else if self.is_loading_model() {
            self.stop_model_load();
        } else {
            self.error.set(None);
        }
    }

    /// Sends a request now, or keeps it until the worker is ready (a worker
    /// drops messages that arrive before its wasm has loaded).
    pub(crate) fn send(
        self,
        request: ToWorker,
        payload: Option<ArrayBuffer>,
    ) -> Result<(), String> {
        if self.worker.get_untracked() == WorkerState::Starting {
            self.pending
                .update_value(|pending| pending.push((request, payload)));
            return Ok(());
        }
        self.client.with_value(|client| match client {
            Some(client) => client.send(&request, payload),
            None => Err("The worker is not running; reload the page.".into()),
        })
    }

    /// Sends a request with shared memory (not transferred) to a ready worker.
    pub(crate) fn send_shared(self, request: ToWorker, shared: &JsValue) -> Result<(), String> {
        self.client.with_value(|client| match client {
            Some(client) => client.send_shared(&request, shared),
            None => Err("The worker is not running; reload the page.".into()),
        })
    }

    fn worker_ready(self, threads: u32) {
        self.threads.set(threads);
        self.worker.set(WorkerState::Ready);
        self.share_cancel_flag();
        let pending = self
            .pending
            .try_update_value(std::mem::take)
            .unwrap_or_default();
        for (request, payload) in pending {
            if let Err(message) = self.send(request, payload) {
                self.error.set(Some(message));
            }
        }
    }

    /// Asks the worker to switch to `model`; the current image is encoded
    /// again with it once it is loaded.
    pub fn load_model(self, model: ModelChoice) {
        let request_id = self.last_model_request.get_value().wrapping_add(1);
        self.last_model_request.set_value(request_id);
        self.error.set(None);
        self.model.update(|status| {
            status.requested = Some(model.clone());
            status.state = ModelState::Loading {
                part: None,
                loaded: 0,
                total: None,
            };
        });
        let stall_s = self.model_stall_s.get_untracked();
        let request = ToWorker::LoadModel {
            request_id,
            model,
            stall_s,
        };
        if let Err(message) = self.send(request, None) {
            self.model_failed(message);
        }
    }

    /// Stops the model download under way; the model in use stays.
    pub fn stop_model_load(self) {
        let request_id = self.last_model_request.get_value();
        if let Err(message) = self.send(ToWorker::StopModelLoad { request_id }, None) {
            self.error.set(Some(message));
        }
    }

    fn is_loading_model(self) -> bool {
        self.model
            .with_untracked(|status| matches!(status.state, ModelState::Loading { .. }))
    }

    fn model_failed(self, message: String) {
        self.model.update(|status| {
            status.requested = None;
            status.state = ModelState::Failed;
        });
        self.error.set(Some(message));
    }

    fn receive_model_report(self, report: FromWorker) {
        let latest = self.last_model_request.get_value();
        match report {
            FromWorker::ModelProgress {
                request_id,
                part,
                loaded,
                total,
            } if request_id == latest => self.model.update(|status| {
                status.state = ModelState::Loading {
                    part: Some(part),
                    loaded,
                    total,
                }
            }),
            FromWorker::ModelLoaded {
                request_id,
                model,
                from_cache,
                load_ms,
            } if request_id == latest => {
                self.flow.reset();
                self.model.set(ModelStatus {
                    in_use: model,
                    requested: None,
                    state: ModelState::Ready {
                        from_cache,
                        load_ms: Some(load_ms),
                    },
                })
            }
            FromWorker::ModelFailed {
                request_id,
                message,
            } if request_id == latest => self.model_failed(message),
            _ => {}
        }
    }

    fn is_working(self) -> bool {
        self.image
            .with_untracked(|image| image.as_ref().is_some_and(ImageStatus::is_working))
    }

    fn is_current(self, id: u32) -> bool {
        self.last_id.get_value() == id
    }

    fn update_current(self, id: u32, change: impl FnOnce(&mut ImageStatus)) {
        self.image.update(|image| {
            if let Some(image) = image.as_mut().filter(|image| image.id == id) {
                change(image);
            }
        });
    }

    fn fail(self, id: u32, stage: Stage, message: String) {
        if self.is_current(id) {
            self.update_current(id, |image| image.failed = Some(stage));
            self.error.set(Some(message));
        }
    }

    fn receive(self, report: Report) {
        if self.receive_flow(&report.message, report.payload.clone()) {
            return;
        }
        match report.message {
            FromWorker::Ready { threads } => self.worker_ready(threads),
            FromWorker::Progress { image_id, stage } => {
                self.update_current(image_id, |image| image.stage = Some(stage));
            }
            FromWorker::Decoded {
                image_id,
                width,
                height,
            } if self.is_current(image_id) => {
                self.show_pixels(image_id, width, height, report.payload)
            }
            FromWorker::Encoded {
                image_id,
                timings,
                worker_memory_bytes,
                worker_heap_bytes,
            } => {
                self.restarts.set_value(0);
                self.update_current(image_id, |image| {
                    image.stage = Some(Stage::Done);
                    image.timings = Some(timings);
                    image.memory = Some(MemoryUse {
                        worker_bytes: worker_memory_bytes,
                        worker_heap_bytes,
                        page_bytes: page_memory_bytes(),
                    });
                })
            }
            FromWorker::Failed {
                image_id,
                stage,
                message,
            } => self.fail(image_id, stage, message),
            FromWorker::Decoded { .. } => {}
            model_report => self.receive_model_report(model_report),
        }
    }

    fn show_pixels(self, id: u32, width: u32, height: u32, payload: Option<ArrayBuffer>) {
        let expected = rgba_len(width, height).ok();
        let pixels = payload.filter(|buffer| Some(buffer.byte_length() as usize) == expected);
        let Some(buffer) = pixels else {
            self.fail(
                id,
                Stage::Decoding,
                "The worker sent pixels that do not match the image size.".into(),
            );
            return;
        };
        self.update_current(id, |image| image.size = Some((width, height)));
        self.picture.set(Some(Picture {
            width,
            height,
            rgba: Uint8ClampedArray::new(&buffer),
        }));
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let params = StartParams::from_location();
    let relaxed = !params.plain_simd && has_relaxed_simd();
    let state = AppState::new(WorkerBuild::choose(params.threads, relaxed), relaxed);
    state.start_worker();
    params.apply(state);
    provide_context(params.clone());
    let on_file = Callback::new(move |file: File| state.open(file));
    let on_cancel = Callback::new(move |()| state.cancel());
    let on_model = Callback::new(move |model: ModelChoice| state.load_model(model));
    let on_stop_model = Callback::new(move |()| state.stop_model_load());
    let escape = window_event_listener(ev::keydown, move |event: KeyboardEvent| {
        if event.key() == "Escape" {
            state.escape();
        }
    });
    on_cleanup(move || escape.remove());
    view! {
        <main class="app" class:embed=params.embed>
            <header class="app-header">
                <h1>"twinseg"</h1>
                <p class="tagline">
                    "Segment what is in a picture, privately: the model runs in this page and your image never leaves your machine."
                </p>
            </header>
            <ImagePicker on_file=on_file />
            <StatusPanel worker=state.worker threads=state.threads image=state.image on_cancel=on_cancel />
            <ErrorAlert error=state.error />
            <ModelPicker model=state.model stall_s=state.model_stall_s on_load=on_model on_stop=on_stop_model />
            <FindPanel state=state />
            <AskPanel state=state />
            <ImageCanvas state=state />
            <Downloads state=state />
        </main>
    }
}
