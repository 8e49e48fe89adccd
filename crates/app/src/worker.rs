//! The page's side of the channel to the worker: starting it, sending typed
//! requests with a transferred payload, and turning its envelopes back into
//! typed reports (see `twinseg::protocol`).

use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array, WebAssembly};
use twinseg::protocol::{FromWorker, ToWorker, ENVELOPE_MESSAGE, ENVELOPE_PAYLOAD};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// Where trunk puts the worker's loader shim (named after the worker binary).
const WORKER_URL: &str = "./worker_loader.js";

/// The loader of the build with relaxed SIMD (scripts/build-relaxed.sh builds it).
const RELAXED_WORKER_URL: &str = "./worker-relaxed-loader.js";

/// The threaded build's loader (scripts/build-threads.sh builds it).
const THREADED_WORKER_URL: &str = "./worker-threads-loader.js";

/// The smallest module that uses relaxed SIMD: one function returning
/// `f32x4.relaxed_madd` of its three arguments. A browser that validates it
/// can run the worker's relaxed build.
const RELAXED_SIMD_PROBE: [u8; 37] = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // (v128 v128 v128) -> v128
    0x03, 0x02, 0x01, 0x00, // one function of that type
    0x0a, 0x0d, 0x01, 0x0b, 0x00, // its body, no locals:
    0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // local.get 0 1 2
    0xfd, 0x85, 0x02, // f32x4.relaxed_madd
    0x0b, // end
];

/// Which build of the worker runs the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerBuild {
    /// Everything on the worker's own thread, with plain wasm SIMD; works in
    /// every browser with wasm SIMD.
    Single,
    /// Everything on the worker's own thread, built with relaxed SIMD, whose
    /// fused multiply-add runs the page's matrix kernel faster (README,
    /// *Relaxed SIMD*); needs a browser that has relaxed SIMD (Chromium does,
    /// Firefox ESR 140 does not).
    Relaxed,
    /// The worker plus this many model threads sharing its memory; needs a
    /// cross-origin isolated page.
    Threaded(usize),
}

impl WorkerBuild {
    /// The threaded build where the page is cross-origin isolated and more
    /// than one thread is wanted (`wanted`, else one per core), since only
    /// there can threads share memory and help; elsewhere the relaxed build
    /// where the browser has relaxed SIMD, else the plain single build.
    /// `relaxed` says whether the relaxed build may be used: the browser has
    /// relaxed SIMD ([`has_relaxed_simd`]) and the page did not ask for plain
    /// SIMD.
    pub fn choose(wanted: Option<usize>, relaxed: bool) -> Self {
        let Some(window) = web_sys::window() else {
            return Self::Single;
        };
        let isolated = Reflect::get(&window, &"crossOriginIsolated".into())
            .is_ok_and(|value| value.is_truthy());
        let cores = window.navigator().hardware_concurrency() as usize;
        Self::for_page(isolated, cores, wanted, relaxed)
    }

    /// [`WorkerBuild::choose`] for a page with `cores` cores.
    pub fn for_page(isolated: bool, cores: usize, wanted: Option<usize>, relaxed: bool) -> Self {
        match wanted.unwrap_or(cores) {
            threads if isolated && threads > 1 => Self::Threaded(threads),
            _ if relaxed => Self::Relaxed,
            _ => Self::Single,
        }
    }

    /// The build to start when this one could not: one thread instead of
    /// several (relaxed if `relaxed` allows it, as in [`WorkerBuild::choose`]),
    /// plain SIMD instead of relaxed; none after the plain single build,
    /// which needs nothing.
    pub fn fallback(self, relaxed: bool) -> Option<Self> {
        match self {
            Self::Threaded(_) => Some(Self::for_page(false, 1, Some(1), relaxed)),
            Self::Relaxed => Some(Self::Single),
            Self::Single => None,
        }
    }

    fn url(self) -> String {
        match self {
            Self::Single => WORKER_URL.into(),
            Self::Relaxed => RELAXED_WORKER_URL.into(),
            Self::Threaded(threads) => format!("{THREADED_WORKER_URL}?threads={threads}"),
        }
    }
}

impl std::fmt::Display for WorkerBuild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Single => f.write_str("single-threaded"),
            Self::Relaxed => f.write_str("relaxed-SIMD"),
            Self::Threaded(threads) => write!(f, "{threads}-thread"),
        }
    }
}

/// Whether this browser validates wasm that uses relaxed SIMD.
pub fn has_relaxed_simd() -> bool {
    let probe = Uint8Array::from(&RELAXED_SIMD_PROBE[..]);
    WebAssembly::validate(&probe).unwrap_or(false)
}

/// One report from the worker with its payload, if it has one.
pub struct Report {
    /// The typed message.
    pub message: FromWorker,
    /// The transferred bytes that came with it.
    pub payload: Option<ArrayBuffer>,
}

/// A running worker and the callbacks that listen to it.
pub struct WorkerClient {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl WorkerClient {
    /// Starts the worker. `on_report` gets each report; `on_failure` gets a
    /// sentence when the worker cannot start, crashes, or sends nonsense.
    pub fn spawn(
        build: WorkerBuild,
        on_report: impl Fn(Report) + 'static,
        on_failure: impl Fn(String) + Clone + 'static,
    ) -> Result<Self, String> {
        let worker = Worker::new(&build.url())
            .map_err(|error| format!("The worker could not be started: {}", describe(&error)))?;
        let on_message = {
            let on_failure = on_failure.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                match read_report(&event.data()) {
                    Ok(report) => on_report(report),
                    Err(message) => on_failure(message),
                }
            })
        };
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            event.prevent_default();
            on_failure(format!(
                "The worker stopped with an error: {}",
                event.message()
            ));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Self {
            worker,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    /// Sends a request, moving `payload` to the worker (the page's copy
    /// becomes empty).
    pub fn send(&self, request: &ToWorker, payload: Option<ArrayBuffer>) -> Result<(), String> {
        let json = request.to_json().map_err(|error| error.to_string())?;
        let envelope = Object::new();
        let transfer = Array::new();
        Reflect::set(&envelope, &ENVELOPE_MESSAGE.into(), &json.into())
            .map_err(|e| describe(&e))?;
        if let Some(buffer) = payload {
            Reflect::set(&envelope, &ENVELOPE_PAYLOAD.into(), &buffer).map_err(|e| describe(&e))?;
            transfer.push(&buffer);
        }
        self.worker
            .post_message_with_transfer(&envelope, &transfer)
            .map_err(|error| format!("The worker did not take the request: {}", describe(&error)))
    }
}

impl WorkerClient {
    /// Sends a request whose payload is shared memory: posted, not
    /// transferred, so both sides see the same bytes.
    pub fn send_shared(&self, request: &ToWorker, shared: &JsValue) -> Result<(), String> {
        let json = request.to_json().map_err(|error| error.to_string())?;
        let envelope = Object::new();
        Reflect::set(&envelope, &ENVELOPE_MESSAGE.into(), &json.into())
            .map_err(|e| describe(&e))?;
        Reflect::set(&envelope, &ENVELOPE_PAYLOAD.into(), shared).map_err(|e| describe(&e))?;
        self.worker
            .post_message(&envelope)
            .map_err(|error| format!("The worker did not take the request: {}", describe(&error)))
    }
}

impl Drop for WorkerClient {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

fn read_report(envelope: &JsValue) -> Result<Report, String> {
    let json = Reflect::get(envelope, &ENVELOPE_MESSAGE.into())
        .ok()
        .and_then(|value| value.as_string())
        .ok_or_else(|| "The worker sent a message without text.".to_string())?;
    let message = FromWorker::from_json(&json).map_err(|error| error.to_string())?;
    let payload = Reflect::get(envelope, &ENVELOPE_PAYLOAD.into())
        .ok()
        .and_then(|value| value.dyn_into::<ArrayBuffer>().ok());
    Ok(Report { message, payload })
}

/// A JS exception as text for a message.
pub fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

#[cfg(test)]
mod tests {
    use super::WorkerBuild;

    #[test]
    fn threads_only_on_isolated_pages_with_more_than_one_wanted() {
        for relaxed in [false, true] {
            let one = if relaxed {
                WorkerBuild::Relaxed
            } else {
                WorkerBuild::Single
            };
            let choose =
                |isolated, cores, wanted| WorkerBuild::for_page(isolated, cores, wanted, relaxed);
            assert_eq!(choose(true, 4, None), WorkerBuild::Threaded(4));
            assert_eq!(choose(true, 4, Some(2)), WorkerBuild::Threaded(2));
            assert_eq!(choose(true, 4, Some(1)), one);
            assert_eq!(choose(true, 1, None), one);
            assert_eq!(choose(false, 4, None), one);
            assert_eq!(choose(false, 4, Some(3)), one);
        }
    }

    #[test]
    fn a_build_that_cannot_start_falls_back_towards_the_plain_single_build() {
        assert_eq!(
            WorkerBuild::Threaded(2).fallback(true),
            Some(WorkerBuild::Relaxed)
        );
        assert_eq!(
            WorkerBuild::Threaded(2).fallback(false),
            Some(WorkerBuild::Single)
        );
        assert_eq!(
            WorkerBuild::Relaxed.fallback(true),
            Some(WorkerBuild::Single)
        );
        assert_eq!(WorkerBuild::Single.fallback(true), None);
    }

    #[test]
    fn each_build_has_its_loader_and_the_threaded_one_its_thread_count() {
        assert_eq!(WorkerBuild::Single.url(), "./worker_loader.js");
        assert_eq!(WorkerBuild::Relaxed.url(), "./worker-relaxed-loader.js");
        assert_eq!(
            WorkerBuild::Threaded(3).url(),
            "./worker-threads-loader.js?threads=3"
        );
    }
}
