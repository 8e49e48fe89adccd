//! The page's side of the channel to the worker: starting it, sending typed
//! requests with a transferred payload, and turning its envelopes back into
//! typed reports (see `twinseg::protocol`).

use js_sys::{Array, ArrayBuffer, Object, Reflect};
use twinseg::protocol::{FromWorker, ToWorker, ENVELOPE_MESSAGE, ENVELOPE_PAYLOAD};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// Where trunk puts the worker's loader shim (named after the worker binary).
const WORKER_URL: &str = "./worker_loader.js";

/// The threaded build's loader (scripts/build-threads.sh builds it).
const THREADED_WORKER_URL: &str = "./worker-threads-loader.js";

/// Which build of the worker runs the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerBuild {
    /// Everything on the worker's own thread; works on every page.
    Single,
    /// The worker plus this many model threads sharing its memory; needs a
    /// cross-origin isolated page.
    Threaded(usize),
}

impl WorkerBuild {
    /// The threaded build where the page is cross-origin isolated and more
    /// than one thread is wanted (`wanted`, else one per core), since only
    /// there can threads share memory and help; the single build elsewhere.
    pub fn choose(wanted: Option<usize>) -> Self {
        let Some(window) = web_sys::window() else {
            return Self::Single;
        };
        let isolated = Reflect::get(&window, &"crossOriginIsolated".into())
            .is_ok_and(|value| value.is_truthy());
        let cores = window.navigator().hardware_concurrency() as usize;
        Self::for_page(isolated, cores, wanted)
    }

    /// [`WorkerBuild::choose`] for a page with `cores` cores.
    pub fn for_page(isolated: bool, cores: usize, wanted: Option<usize>) -> Self {
        match wanted.unwrap_or(cores) {
            threads if isolated && threads > 1 => Self::Threaded(threads),
            _ => Self::Single,
        }
    }

    fn url(self) -> String {
        match self {
            Self::Single => WORKER_URL.into(),
            Self::Threaded(threads) => format!("{THREADED_WORKER_URL}?threads={threads}"),
        }
    }
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
        assert_eq!(
            WorkerBuild::for_page(true, 4, None),
            WorkerBuild::Threaded(4)
        );
        assert_eq!(
            WorkerBuild::for_page(true, 4, Some(2)),
            WorkerBuild::Threaded(2)
        );
        assert_eq!(WorkerBuild::for_page(true, 4, Some(1)), WorkerBuild::Single);
        assert_eq!(WorkerBuild::for_page(true, 1, None), WorkerBuild::Single);
        assert_eq!(WorkerBuild::for_page(false, 4, None), WorkerBuild::Single);
        assert_eq!(
            WorkerBuild::for_page(false, 4, Some(3)),
            WorkerBuild::Single
        );
    }

    #[test]
    fn the_threaded_build_gets_its_thread_count_in_its_address() {
        assert_eq!(WorkerBuild::Single.url(), "./worker_loader.js");
        assert_eq!(
            WorkerBuild::Threaded(3).url(),
            "./worker-threads-loader.js?threads=3"
        );
    }
}
