//! The state of the work on a decoded image: the found objects (streamed in,
//! then replaced by the Digital Twin's objects), the question and its
//! answer, the person's own prompt, and the worker reports that change them.

use js_sys::{ArrayBuffer, Int32Array, SharedArrayBuffer, Uint8Array};
use leptos::prelude::*;
use twinseg::proposals::ProposalSettings;
use twinseg::protocol::{
    patch_len, ExportKind, FindTimes, FromWorker, MaskInfo, PromptPoint, PromptTimes, Task,
    ToWorker,
};
use twinseg::reason::Answer;

use crate::app::AppState;
use crate::downloads;
use crate::reasoner::{self, ReasonerChoice};

/// One found proposal or object with its mask patch (0/1 bytes of its box).
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// What the worker said about it.
    pub info: MaskInfo,
    /// Its mask inside `info.bbox`, row by row.
    pub patch: Vec<u8>,
}

impl Shown {
    /// Whether image pixel `(x, y)` is in the mask.
    pub fn contains(&self, x: u32, y: u32) -> bool {
        let b = &self.info.bbox;
        x >= b.x0
            && x < b.x1
            && y >= b.y0
            && y < b.y1
            && self.patch[((y - b.y0) * b.width() + (x - b.x0)) as usize] != 0
    }
}

/// Where "find all objects" stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunState {
    /// Not run on this image.
    Idle,
    /// Running: prompts done of total.
    Running {
        /// Prompts run so far.
        done: usize,
        /// Prompts in the run.
        total: usize,
    },
    /// Finished or stopped.
    Finished {
        /// Whether the person stopped it.
        cancelled: bool,
        /// Prompts run.
        done: usize,
        /// Prompts the run would have made.
        total: usize,
        /// How long its stages took (zero when it failed).
        times: FindTimes,
    },
}

/// A mask shown over the image: an answer or a prompt's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownMask {
    /// 0/1 per image pixel.
    pub bits: Vec<u8>,
    /// Pixels set.
    pub area: u64,
}

/// What the worker said of the mask of the person's last prompt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PromptResult {
    /// The decoder's estimate of the mask's IoU.
    pub score: f32,
    /// How long the worker took to make it.
    pub times: PromptTimes,
}

/// The answer to the last question.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerView {
    /// The question.
    pub query: String,
    /// Ids, steps and the reason for none.
    pub answer: Answer,
    /// Which reasoner answered.
    pub by: &'static str,
    /// The embedded reasoner's time, in milliseconds (0 for a remote answer).
    pub reason_ms: f64,
}

/// Signals of the flow, shared by its components.
#[derive(Clone, Copy)]
pub struct Flow {
    /// Proposals while streaming, then the twin's objects.
    pub objects: RwSignal<Vec<Shown>, LocalStorage>,
    /// The run's progress.
    pub run: RwSignal<RunState>,
    /// The object under the pointer.
    pub hover: RwSignal<Option<u32>>,
    /// Grid and filter thresholds.
    pub settings: RwSignal<ProposalSettings>,
    /// The mask over the image (last answer or prompt).
    pub mask: RwSignal<Option<ShownMask>, LocalStorage>,
    /// The last answer.
    pub answer: RwSignal<Option<AnswerView>>,
    /// Whether a question is being answered.
    pub asking: RwSignal<bool>,
    /// The person's prompt points.
    pub points: RwSignal<Vec<PromptPoint>>,
    /// The person's prompt box.
    pub bbox: RwSignal<Option<[f32; 4]>>,
    /// The score and timings of the last prompt mask.
    pub prompt_result: RwSignal<Option<PromptResult>>,
    /// Embedded or remote reasoner, with the remote's address, model and key.
    pub reasoner: RwSignal<ReasonerChoice>,
    /// The exact request body for the remote reasoner (last prepared).
    pub payload: RwSignal<Option<String>>,
    /// Whether the person is only previewing the payload.
    preview_only: StoredValue<bool>,
    question: StoredValue<String>,
    twin_ids: StoredValue<Vec<u32>>,
    last_run: StoredValue<u32>,
    last_ask: StoredValue<u32>,
    last_prompt: StoredValue<u32>,
    cancel_flag: StoredValue<Option<Int32Array>, LocalStorage>,
    /// Stops the remote question in flight, if there is one.
    ask_cancel: StoredValue<Option<reasoner::Cancel>, LocalStorage>,
}

impl Flow {
    /// Empty state, with the reasoner settings read back from the browser.
    pub fn new() -> Self {
        Self {
            objects: RwSignal::new_local(Vec::new()),
            run: RwSignal::new(RunState::Idle),
            hover: RwSignal::new(None),
            settings: RwSignal::new(default_settings()),
            mask: RwSignal::new_local(None),
            answer: RwSignal::new(None),
            asking: RwSignal::new(false),
            points: RwSignal::new(Vec::new()),
            bbox: RwSignal::new(None),
            prompt_result: RwSignal::new(None),
            reasoner: RwSignal::new(reasoner::load_saved()),
            payload: RwSignal::new(None),
            preview_only: StoredValue::new(false),
            question: StoredValue::new(String::new()),
            twin_ids: StoredValue::new(Vec::new()),
            last_run: StoredValue::new(0),
            last_ask: StoredValue::new(0),
            last_prompt: StoredValue::new(0),
            cancel_flag: StoredValue::new_local(None),
            ask_cancel: StoredValue::new_local(None),
        }
    }

    /// Forgets everything about the previous image.
    pub fn reset(self) {
        self.stop_asking();
        self.objects.set(Vec::new());
        self.run.set(RunState::Idle);
        self.hover.set(None);
        self.mask.set(None);
        self.answer.set(None);
        self.asking.set(false);
        self.points.set(Vec::new());
        self.bbox.set(None);
        self.prompt_result.set(None);
        self.payload.set(None);
        self.twin_ids.set_value(Vec::new());
    }

    /// Stops waiting for the remote reasoner; `false` when nothing was waiting.
    pub fn stop_asking(self) -> bool {
        let Some(cancel) = self.ask_cancel.try_update_value(Option::take).flatten() else {
            return false;
        };
        cancel.cancel();
        true
    }

    /// Whether a run is under way.
    pub fn is_running(self) -> bool {
        matches!(self.run.get_untracked(), RunState::Running { .. })
    }

    /// Whether the run can be stopped without ending the worker.
    pub fn can_cancel(self) -> bool {
        self.cancel_flag.with_value(Option::is_some)
    }
}

/// The page's defaults: SAM's 32x32 grid, walked coarse to fine and skipping
/// points that a found object already covers, so "find all" prompts a few
/// dozen points instead of 1024 and still reaches the small objects.
fn default_settings() -> ProposalSettings {
    ProposalSettings {
        points_per_side: 32,
        skip_covered: true,
        ..ProposalSettings::default()
    }
}

impl AppState {
    /// Makes the shared stop flag and hands it to a freshly started worker
    /// (only where the page is cross-origin isolated).
    pub(crate) fn share_cancel_flag(self) {
        let isolated = web_sys::window().is_some_and(|window| {
            js_sys::Reflect::get(&window, &"crossOriginIsolated".into())
                .is_ok_and(|value| value.is_truthy())
        });
        if !isolated {
            self.flow.cancel_flag.set_value(None);
            return;
        }
        let shared = SharedArrayBuffer::new(4);
        let flag = Int32Array::new(&shared);
        self.flow.cancel_flag.set_value(Some(flag));
        if let Err(message) = self.send_shared(ToWorker::ShareCancelFlag, &shared.into()) {
            self.error.set(Some(message));
        }
    }

    fn current_image(self) -> Option<u32> {
        self.image.with_untracked(|image| {
            image
                .as_ref()
                .filter(|image| image.failed.is_none() && !image.cancelled)
                .map(|image| image.id)
        })
    }

    fn raise_flag(self, value: i32) {
        self.flow.cancel_flag.with_value(|flag| {
            if let Some(flag) = flag {
                let _ = js_sys::Atomics::store(flag, 0, value);
            }
        });
    }

    /// Starts "find all objects" with the current settings.
    pub fn find_objects(self) {
        let Some(image_id) = self.current_image() else {
            self.error
                .set(Some("Open an image first, then find its objects.".into()));
            return;
        };
        let run_id = self.flow.last_run.get_value().wrapping_add(1);
        self.flow.last_run.set_value(run_id);
        self.raise_flag(0);
        self.begin_run();
        let settings = self.flow.settings.get_untracked();
        self.request(
            Task::FindObjects,
            ToWorker::FindObjects {
                image_id,
                run_id,
                settings,
            },
        );
    }

    fn begin_run(self) {
        self.flow.objects.set(Vec::new());
        self.flow.hover.set(None);
        self.flow.twin_ids.set_value(Vec::new());
        self.flow.run.set(RunState::Running { done: 0, total: 0 });
    }

    /// Stops a running "find all objects"; what was found stays.
    pub fn cancel_run(self) {
        if !self.flow.is_running() {
            return;
        }
        if self.flow.can_cancel() {
            self.raise_flag(1);
        } else {
            self.error.set(Some(
                "This page is not cross-origin isolated, so the search cannot be stopped early; it keeps running."
                    .into(),
            ));
        }
    }

    /// Asks the question with the chosen reasoner.
    pub fn ask(self, query: String) {
        let query = query.trim().to_string();
        if query.is_empty() {
            self.error.set(Some("Type a question first.".into()));
            return;
        }
        let Some(image_id) = self.current_image() else {
            self.error
                .set(Some("Open an image first, then ask about it.".into()));
            return;
        };
        let ask_id = self.flow.last_ask.get_value().wrapping_add(1);
        self.flow.last_ask.set_value(ask_id);
        self.flow.question.set_value(query.clone());
        self.flow.asking.set(true);
        self.error.set(None);
        if self.flow.objects.with_untracked(Vec::is_empty) && !self.flow.is_running() {
            self.find_objects();
        }
        let settings = self.flow.settings.get_untracked();
        let request = if self.flow.reasoner.with_untracked(ReasonerChoice::is_remote) {
            self.flow.preview_only.set_value(false);
            ToWorker::PrepareTwin {
                image_id,
                ask_id,
                settings,
            }
        } else {
            ToWorker::Ask {
                image_id,
                ask_id,
                query,
                settings,
            }
        };
        self.request(Task::Ask, request);
    }

    /// Shows the exact payload the remote reasoner would get, without sending it.
    pub fn preview_payload(self, query: String) {
        let Some(image_id) = self.current_image() else {
            self.error.set(Some(
                "Open an image first: the payload describes its objects.".into(),
            ));
            return;
        };
        let ask_id = self.flow.last_ask.get_value().wrapping_add(1);
        self.flow.last_ask.set_value(ask_id);
        self.flow.question.set_value(query.trim().to_string());
        self.flow.preview_only.set_value(true);
        if self.flow.objects.with_untracked(Vec::is_empty) && !self.flow.is_running() {
            self.find_objects();
        }
        let settings = self.flow.settings.get_untracked();
        self.request(
            Task::Ask,
            ToWorker::PrepareTwin {
                image_id,
                ask_id,
                settings,
            },
        );
    }

    /// Segments the current prompt points and box.
    pub fn segment_prompt(self) {
        let Some(image_id) = self.current_image() else {
            return;
        };
        let points = self.flow.points.get_untracked();
        let bbox = self.flow.bbox.get_untracked();
        if points.is_empty() && bbox.is_none() {
            self.flow.mask.set(None);
            self.flow.prompt_result.set(None);
            return;
        }
        let prompt_id = self.flow.last_prompt.get_value().wrapping_add(1);
        self.flow.last_prompt.set_value(prompt_id);
        self.request(
            Task::Segment,
            ToWorker::Segment {
                image_id,
                prompt_id,
                points,
                bbox,
            },
        );
    }

    /// Removes the prompt points and box, and the mask they gave.
    pub fn clear_prompts(self) {
        self.flow.points.set(Vec::new());
        self.flow.bbox.set(None);
        self.flow.prompt_result.set(None);
        self.flow.mask.set(None);
    }

    /// Asks the worker for a JSON download.
    pub fn export(self, kind: ExportKind) {
        if let Some(image_id) = self.current_image() {
            self.request(Task::Export, ToWorker::Export { image_id, kind });
        }
    }

    fn request(self, task: Task, request: ToWorker) {
        if let Err(message) = self.send(request, None) {
            self.task_failed(task, message);
        }
    }

    fn task_failed(self, task: Task, message: String) {
        match task {
            Task::FindObjects => self.flow.run.update(|run| {
                if let RunState::Running { done, total } = *run {
                    *run = RunState::Finished {
                        cancelled: true,
                        done,
                        total,
                        times: FindTimes::default(),
                    };
                }
            }),
            Task::Ask => self.flow.asking.set(false),
            Task::Segment | Task::Export => {}
        }
        self.error.set(Some(message));
    }

    /// Handles a report about the flow; `false` when it is not one.
    pub(crate) fn receive_flow(self, message: &FromWorker, payload: Option<ArrayBuffer>) -> bool {
        let current = self.current_image();
        let is_current = |id: &u32| Some(*id) == current;
        match message {
            FromWorker::ProposalBatch {
                image_id,
                run_id,
                new,
                removed,
                done,
                total,
            } if is_current(image_id) && self.is_latest_run(*run_id) => {
                if *run_id == 0 && !self.flow.is_running() {
                    self.begin_run();
                }
                let added = with_patches(new, payload);
                self.flow.objects.update(|objects| {
                    objects.retain(|shown| !removed.contains(&shown.info.id));
                    objects.extend(added);
                });
                self.flow.run.set(RunState::Running {
                    done: *done,
                    total: *total,
                });
            }
            FromWorker::Objects {
                image_id,
                run_id,
                objects,
                cancelled,
                done,
                total,
                times,
            } if is_current(image_id) && self.is_latest_run(*run_id) => {
                self.flow
                    .twin_ids
                    .set_value(objects.iter().map(|o| o.id).collect());
                self.flow.objects.set(with_patches(objects, payload));
                self.flow.run.set(RunState::Finished {
                    cancelled: *cancelled,
                    done: *done,
                    total: *total,
                    times: *times,
                });
            }
            FromWorker::TwinReady {
                image_id,
                ask_id,
                compact,
                ids,
            } if is_current(image_id) && *ask_id == self.flow.last_ask.get_value() => {
                self.twin_ready(*ask_id, compact, ids.clone());
            }
            FromWorker::Answered {
                image_id,
                ask_id,
                answer,
                area,
                reason_ms,
            } if is_current(image_id) && *ask_id == self.flow.last_ask.get_value() => {
                self.show_answer(answer.clone(), *area, *reason_ms, payload);
            }
            FromWorker::PromptMask {
                image_id,
                prompt_id,
                score,
                area,
                times,
            } if is_current(image_id) && *prompt_id == self.flow.last_prompt.get_value() => {
                if let Some(bits) = self.full_mask(payload) {
                    self.flow.mask.set(Some(ShownMask { bits, area: *area }));
                    self.flow.prompt_result.set(Some(PromptResult {
                        score: *score,
                        times: *times,
                    }));
                }
            }
            FromWorker::Exported { kind, text, .. } => {
                let name = match kind {
                    ExportKind::Coco => "proposals.coco.json",
                    ExportKind::Twin => "digital-twin.json",
                };
                if let Err(message) = downloads::save_text(name, text) {
                    self.error.set(Some(message));
                }
            }
            FromWorker::TaskFailed {
                image_id,
                task,
                message,
            } if is_current(image_id) => self.task_failed(*task, message.clone()),
            FromWorker::ProposalBatch { .. }
            | FromWorker::Objects { .. }
            | FromWorker::TwinReady { .. }
            | FromWorker::Answered { .. }
            | FromWorker::PromptMask { .. }
            | FromWorker::TaskFailed { .. } => {}
            _ => return false,
        }
        true
    }

    fn is_latest_run(self, run_id: u32) -> bool {
        run_id == 0 || run_id == self.flow.last_run.get_value()
    }

    fn full_mask(self, payload: Option<ArrayBuffer>) -> Option<Vec<u8>> {
        let (width, height) = self
            .picture
            .with_untracked(|p| p.as_ref().map(|p| (p.width, p.height)))?;
        let bytes = Uint8Array::new(&payload?.into()).to_vec();
        (bytes.len() == width as usize * height as usize).then_some(bytes)
    }

    fn show_answer(self, answer: Answer, area: u64, reason_ms: f64, payload: Option<ArrayBuffer>) {
        self.flow.asking.set(false);
        let by = if self.flow.reasoner.with_untracked(ReasonerChoice::is_remote) {
            "remote"
        } else {
            "embedded"
        };
        let Some(bits) = self.full_mask(payload) else {
            self.error.set(Some(
                "The worker sent an answer mask of the wrong size.".into(),
            ));
            return;
        };
        self.flow.points.set(Vec::new());
        self.flow.bbox.set(None);
        self.flow.prompt_result.set(None);
        self.flow.mask.set(Some(ShownMask { bits, area }));
        self.flow.answer.set(Some(AnswerView {
            query: self.flow.question.get_value(),
            answer,
            by,
            reason_ms,
        }));
    }

    fn twin_ready(self, ask_id: u32, compact: &str, ids: Vec<u32>) {
        let query = self.flow.question.get_value();
        let choice = self.flow.reasoner.get_untracked();
        let body = reasoner::request_body(&choice, compact, &query);
        self.flow.payload.set(Some(body.clone()));
        if self.flow.preview_only.get_value() {
            return;
        }
        let image_id = self.current_image();
        let cancel = reasoner::Cancel::default();
        self.flow.ask_cancel.set_value(Some(cancel.clone()));
        leptos::task::spawn_local(async move {
            let result = reasoner::send(&choice, body, &ids, &cancel).await;
            if self.flow.last_ask.get_value() != ask_id || self.current_image() != image_id {
                return;
            }
            self.flow.ask_cancel.set_value(None);
            if cancel.is_cancelled() {
                self.flow.asking.set(false);
                self.error.set(Some(
                    "Stopped waiting for the remote reasoner; your question and the objects are kept."
                        .into(),
                ));
                return;
            }
            match (result, image_id) {
                (Ok(answer), Some(image_id)) => self.request(
                    Task::Ask,
                    ToWorker::ApplyAnswer {
                        image_id,
                        ask_id,
                        answer,
                    },
                ),
                (Ok(_), None) => self.flow.asking.set(false),
                (Err(message), _) => self.task_failed(Task::Ask, message),
            }
        });
    }
}

/// Pairs each info with its patch cut from the payload; infos whose patch
/// is missing are dropped.
fn with_patches(infos: &[MaskInfo], payload: Option<ArrayBuffer>) -> Vec<Shown> {
    let bytes = payload
        .map(|buffer| Uint8Array::new(&buffer).to_vec())
        .unwrap_or_default();
    let mut offset = 0;
    infos
        .iter()
        .filter_map(|info| {
            let len = patch_len(&info.bbox);
            let patch = bytes.get(offset..offset + len)?.to_vec();
            offset += len;
            Some(Shown {
                info: info.clone(),
                patch,
            })
        })
        .collect()
}
