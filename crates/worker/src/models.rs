//! Loading a model the person chose: the built-in one, or an ONNX pair from
//! addresses, downloaded with progress and kept in the browser's Cache API so
//! the next visit needs no download. Downloads follow the shared rules of
//! [`twinseg::transfer`]: retries on rate limits, server errors and
//! broken connections, a stall timeout, a size limit, and a stop on request.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Reflect, Uint8Array};
use twinseg::model::{ModelSource, SamModel};
use twinseg::protocol::{FromWorker, ModelChoice, ModelPart, MODEL_CACHE};
use twinseg::reason::remote::parse_retry_after;
use twinseg::transfer::{
    self, TransferError, TransferStep, DEFAULT_STALL, MAX_BROWSER_MODEL_BYTES,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Cache, ReadableStreamDefaultReader, RequestInit, Response, WorkerGlobalScope,
};

use crate::envelope::Port;
use crate::session::{now_ms, Session};

/// The wait before the first retry of a download; it doubles after each one.
const BACKOFF: Duration = Duration::from_secs(1);

/// Loads `model` and, unless a newer request came in meanwhile, puts it in
/// use. A download gives up when the server sends nothing for `stall_s`
/// seconds (0: the default).
pub async fn load(
    session: Rc<RefCell<Session>>,
    port: Port,
    request_id: u32,
    model: ModelChoice,
    stall_s: u32,
) {
    session.borrow_mut().begin_model_request(request_id);
    let control = Control::begin(request_id);
    let stall = if stall_s == 0 {
        DEFAULT_STALL
    } else {
        Duration::from_secs(u64::from(stall_s))
    };
    let started = now_ms();
    let loaded = match &model {
        ModelChoice::Builtin => SamModel::builtin()
            .map(|sam| (sam, false))
            .map_err(|error| format!("The built-in model could not be loaded: {error}.")),
        ModelChoice::Url { encoder, decoder } => {
            let fetcher = Fetcher {
                port: &port,
                request_id,
                stall,
                control: &control,
            };
            load_pair(&fetcher, encoder, decoder).await
        }
    };
    Control::end(request_id);
    if !session.borrow().is_latest_model_request(request_id) {
        return;
    }
    match loaded {
        Ok((sam, from_cache)) => {
            let report = FromWorker::ModelLoaded {
                request_id,
                model,
                from_cache,
                load_ms: now_ms() - started,
            };
            port.post(&report, None);
            session.borrow_mut().use_model(&port, sam);
        }
        Err(message) => port.post(
            &FromWorker::ModelFailed {
                request_id,
                message,
            },
            None,
        ),
    }
}

/// Stops the download of load request `request_id`, if it is still running.
pub fn stop(request_id: u32) {
    CURRENT.with_borrow(|current| {
        if let Some((id, control)) = current {
            if *id == request_id {
                control.stop();
            }
        }
    });
}

thread_local! {
    /// The model load under way, if any.
    static CURRENT: RefCell<Option<(u32, Rc<Control>)>> = const { RefCell::new(None) };
}

/// The stop switch of one load request: stopping aborts the request in flight.
#[derive(Default)]
struct Control {
    stopped: Cell<bool>,
    request: RefCell<Option<AbortController>>,
}

impl Control {
    /// Makes the switch of a new request; a newer request stops the older one.
    fn begin(request_id: u32) -> Rc<Self> {
        let control = Rc::new(Self::default());
        let older =
            CURRENT.with_borrow_mut(|current| current.replace((request_id, control.clone())));
        if let Some((_, older)) = older {
            older.stop();
        }
        control
    }

    fn end(request_id: u32) {
        CURRENT.with_borrow_mut(|current| {
            if current.as_ref().is_some_and(|(id, _)| *id == request_id) {
                *current = None;
            }
        });
    }

    fn stop(&self) {
        self.stopped.set(true);
        if let Some(request) = self.request.borrow().as_ref() {
            request.abort();
        }
    }

    fn is_stopped(&self) -> bool {
        self.stopped.get()
    }
}

/// What every download of one load request shares.
struct Fetcher<'a> {
    port: &'a Port,
    request_id: u32,
    stall: Duration,
    control: &'a Control,
}

async fn load_pair(
    fetcher: &Fetcher<'_>,
    encoder: &str,
    decoder: &str,
) -> Result<(SamModel, bool), String> {
    let cache = open_cache().await;
    let (encoder_bytes, encoder_cached) =
        fetch_cached(fetcher, cache.as_ref(), ModelPart::Encoder, encoder).await?;
    let (decoder_bytes, decoder_cached) =
        fetch_cached(fetcher, cache.as_ref(), ModelPart::Decoder, decoder).await?;
    let sam = SamModel::load(
        ModelSource::Bytes(encoder_bytes),
        ModelSource::Bytes(decoder_bytes),
    )
    .map_err(|error| format!("That model cannot be used: {error}."))?;
    Ok((sam, encoder_cached && decoder_cached))
}

/// The model cache, or none where the browser offers no Cache API (then
/// every visit downloads again).
async fn open_cache() -> Option<Cache> {
    let scope = js_sys::global().dyn_into::<WorkerGlobalScope>().ok()?;
    let storage = scope.caches().ok()?;
    JsFuture::from(storage.open(MODEL_CACHE))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

async fn fetch_cached(
    fetcher: &Fetcher<'_>,
    cache: Option<&Cache>,
    part: ModelPart,
    url: &str,
) -> Result<(Vec<u8>, bool), String> {
    if let Some(cached) = cached_response(cache, url).await {
        if let Ok(bytes) = read_body(fetcher, part, cached, None).await {
            return Ok((bytes, true));
        }
    }
    let what = match part {
        ModelPart::Encoder => "encoder",
        ModelPart::Decoder => "decoder",
    };
    let bytes = download(fetcher, part, url).await.map_err(|error| {
        format!("The {what} model could not be downloaded from {url}: {error}.")
    })?;
    if let Some(cache) = cache {
        store(cache, url, &bytes).await;
    }
    Ok((bytes, false))
}

async fn cached_response(cache: Option<&Cache>, url: &str) -> Option<Response> {
    let found = JsFuture::from(cache?.match_with_str(url)).await.ok()?;
    found.dyn_into::<Response>().ok()
}

async fn store(cache: &Cache, url: &str, bytes: &[u8]) {
    let body = Uint8Array::from(bytes);
    if let Ok(response) = Response::new_with_opt_buffer_source(Some(&body)) {
        if let Err(error) = JsFuture::from(cache.put_with_str(url, &response)).await {
            web_sys::console::warn_2(
                &"twinseg worker: the model could not be cached:".into(),
                &error,
            );
        }
    }
}

/// Downloads `url`, trying again where the failure may pass.
async fn download(
    fetcher: &Fetcher<'_>,
    part: ModelPart,
    url: &str,
) -> Result<Vec<u8>, TransferError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match download_once(fetcher, part, url, attempt).await {
            Ok(bytes) => return Ok(bytes),
            Err(TransferStep::Retry(wait)) => pause(wait, fetcher.control).await?,
            Err(TransferStep::Fail(error)) => return Err(error),
            Err(TransferStep::Read) => {
                return Err(TransferError::Other("the download went wrong".into()))
            }
        }
    }
}

/// One attempt: the request and the whole body, the stall timer watching both.
async fn download_once(
    fetcher: &Fetcher<'_>,
    part: ModelPart,
    url: &str,
    attempt: u32,
) -> Result<Vec<u8>, TransferStep> {
    let fail = TransferStep::Fail;
    if fetcher.control.is_stopped() {
        return Err(fail(TransferError::Stopped));
    }
    let scope = worker_scope().map_err(fail)?;
    let controller =
        AbortController::new().map_err(|e| fail(TransferError::Other(describe(&e))))?;
    let init = RequestInit::new();
    init.set_signal(Some(&controller.signal()));
    *fetcher.control.request.borrow_mut() = Some(controller.clone());
    let watch = StallWatch::start(&controller, fetcher.stall);
    let outcome = match JsFuture::from(scope.fetch_with_str_and_init(url, &init)).await {
        Err(_) => Err(broken(fetcher, &watch, attempt, None)),
        Ok(response) => match response.dyn_into::<Response>() {
            Err(_) => Err(fail(TransferError::Other(
                "the answer is not an HTTP response".into(),
            ))),
            Ok(response) => read_answer(fetcher, part, response, &watch, attempt).await,
        },
    };
    watch.clear();
    *fetcher.control.request.borrow_mut() = None;
    outcome
}

/// Reads a successful answer's body, or says what follows any other status.
async fn read_answer(
    fetcher: &Fetcher<'_>,
    part: ModelPart,
    response: Response,
    watch: &StallWatch,
    attempt: u32,
) -> Result<Vec<u8>, TransferStep> {
    watch.rearm();
    let retry_after = response
        .headers()
        .get("retry-after")
        .ok()
        .flatten()
        .as_deref()
        .and_then(parse_retry_after);
    match transfer::after_status(response.status(), attempt, retry_after, BACKOFF) {
        TransferStep::Read => {}
        step => return Err(step),
    }
    read_body(fetcher, part, response, Some(watch))
        .await
        .map_err(|failure| match failure {
            BodyFailure::Refused(error) => TransferStep::Fail(error),
            BodyFailure::Broken { received } => broken(fetcher, watch, attempt, Some(received)),
        })
}

/// Names a request that failed or broke off: a stop, a silent server, or a
/// network failure (retried while attempts are left).
fn broken(
    fetcher: &Fetcher<'_>,
    watch: &StallWatch,
    attempt: u32,
    received: Option<u64>,
) -> TransferStep {
    if fetcher.control.is_stopped() {
        return TransferStep::Fail(TransferError::Stopped);
    }
    if watch.fired() {
        return TransferStep::Fail(TransferError::Silent {
            seconds: fetcher.stall.as_secs_f64(),
        });
    }
    let error = match received {
        None => TransferError::Unreachable { attempts: attempt },
        Some(received_bytes) => TransferError::BrokeOff {
            received_bytes,
            attempts: attempt,
        },
    };
    transfer::after_broken(attempt, BACKOFF, error)
}

/// Why a body could not be read whole.
enum BodyFailure {
    /// Over the size limit: never retried.
    Refused(TransferError),
    /// The stream failed after `received` bytes.
    Broken { received: u64 },
}

/// Reads a response body chunk by chunk, reporting progress as bytes arrive
/// and, for a download, keeping the stall timer from firing while they do.
async fn read_body(
    fetcher: &Fetcher<'_>,
    part: ModelPart,
    response: Response,
    watch: Option<&StallWatch>,
) -> Result<Vec<u8>, BodyFailure> {
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|length| length.trim().parse::<u64>().ok());
    transfer::over_limit(total, 0, MAX_BROWSER_MODEL_BYTES).map_err(BodyFailure::Refused)?;
    let body = response.body().ok_or(BodyFailure::Broken { received: 0 })?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total.and_then(|t| usize::try_from(t).ok()).unwrap_or(0));
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|_| BodyFailure::Broken {
                received: bytes.len() as u64,
            })?;
        if let Some(watch) = watch {
            watch.rearm();
        }
        let done = Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        if let Ok(value) = Reflect::get(&chunk, &"value".into()) {
            bytes.extend(Uint8Array::new(&value).to_vec());
        }
        let loaded = bytes.len() as u64;
        if let Err(error) = transfer::over_limit(None, loaded, MAX_BROWSER_MODEL_BYTES) {
            let _ = reader.cancel();
            return Err(BodyFailure::Refused(error));
        }
        fetcher.port.post(
            &FromWorker::ModelProgress {
                request_id: fetcher.request_id,
                part,
                loaded,
                total,
            },
            None,
        );
    }
    Ok(bytes)
}

/// Aborts a request when the server has sent nothing for the stall time;
/// every arrival starts the wait again.
struct StallWatch {
    state: Rc<StallState>,
}

struct StallState {
    controller: AbortController,
    after: Duration,
    fired: Cell<bool>,
    handle: Cell<Option<i32>>,
}

impl StallWatch {
    fn start(controller: &AbortController, after: Duration) -> Self {
        let watch = Self {
            state: Rc::new(StallState {
                controller: controller.clone(),
                after,
                fired: Cell::new(false),
                handle: Cell::new(None),
            }),
        };
        watch.rearm();
        watch
    }

    fn rearm(&self) {
        self.clear();
        let Ok(scope) = worker_scope() else { return };
        let state = self.state.clone();
        let on_silence = Closure::once_into_js(move || {
            state.fired.set(true);
            state.controller.abort();
        });
        let handle = scope
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                on_silence.unchecked_ref(),
                i32::try_from(self.state.after.as_millis()).unwrap_or(i32::MAX),
            )
            .ok();
        self.state.handle.set(handle);
    }

    fn clear(&self) {
        if let (Some(handle), Ok(scope)) = (self.state.handle.take(), worker_scope()) {
            scope.clear_timeout_with_handle(handle);
        }
    }

    fn fired(&self) -> bool {
        self.state.fired.get()
    }
}

/// Waits `wait` before a retry, in short steps so a stop ends it at once.
async fn pause(wait: Duration, control: &Control) -> Result<(), TransferError> {
    const STEP: Duration = Duration::from_millis(100);
    let mut left = wait;
    loop {
        if control.is_stopped() {
            return Err(TransferError::Stopped);
        }
        if left.is_zero() {
            return Ok(());
        }
        let step = left.min(STEP);
        sleep(step).await;
        left -= step;
    }
}

async fn sleep(duration: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Ok(scope) = worker_scope() {
            let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                i32::try_from(duration.as_millis()).unwrap_or(i32::MAX),
            );
        }
    });
    let _ = JsFuture::from(promise).await;
}

fn worker_scope() -> Result<WorkerGlobalScope, TransferError> {
    js_sys::global()
        .dyn_into::<WorkerGlobalScope>()
        .map_err(|_| TransferError::Other("this is not a worker".into()))
}

/// A JS exception as text for a message.
pub(crate) fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}
