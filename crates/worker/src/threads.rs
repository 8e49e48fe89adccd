//! Model threads for the worker's threaded build: Web Workers that load the
//! same module into the same shared wasm memory and serve the model as one
//! rayon pool.
//!
//! The encoder runs on them ([`for_encoder`]) with its matrix products and
//! convolutions split across them; *find all objects* runs its decoder
//! prompts side by side on them, each run on one thread ([`for_prompts`]),
//! as the native CLI does (`twinseg::model::prompts_on_thread_pool`): a
//! single decoder run gains nothing from being split, its products are too
//! small to repay the hand-offs between workers, so a click's prompt stays
//! on the worker's own thread. Side by side, the two threads allocate in an
//! order that varies from run to run, so the worker's wasm memory settles a
//! few growth steps higher in some runs than in others (130–145 MiB over 50
//! images of `tests/browser/session.test.mjs`, against 131–155 MiB with
//! prompts on one thread), while its live heap is the same in every run.
//!
//! The page starts the threaded build (`worker-threads-loader.js?threads=N`)
//! only where it is cross-origin isolated, which shared memory needs; every
//! other page gets the single-threaded build, where [`requested`] is 1.

use std::cell::RefCell;
use std::io;
use std::sync::Arc;

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{UrlSearchParams, WorkerGlobalScope, WorkerOptions, WorkerType};

use crate::models::describe;

/// The script each pool thread runs (next to the worker's own files).
const THREAD_URL: &str = "./worker-thread.js";

/// The most threads the page may ask for; more only costs memory.
const MAX_THREADS: usize = 16;

thread_local! {
    /// The pool [`start`] made; only the worker's own thread uses it.
    static POOL: RefCell<Option<Arc<rayon::ThreadPool>>> = const { RefCell::new(None) };
}

/// Runs `work` (an image's encoding) on the model threads if they started,
/// else on this thread.
pub fn for_encoder<R>(work: impl FnOnce() -> R) -> R {
    match POOL.with_borrow(Clone::clone) {
        Some(pool) => twinseg::model::on_thread_pool(&pool, work),
        None => work(),
    }
}

/// Runs `work` (a search for every object) with its decoder prompts side by
/// side on the model threads if they started, else on this thread.
pub fn for_prompts<R>(work: impl FnOnce() -> R) -> R {
    match POOL.with_borrow(Clone::clone) {
        Some(pool) => twinseg::model::prompts_on_thread_pool(&pool, work),
        None => work(),
    }
}

/// How many model threads the page asked for: the `threads` parameter of
/// this worker's address, 1 when it has none (the single-threaded build).
pub fn requested() -> usize {
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    UrlSearchParams::new_with_str(&scope.location().search())
        .ok()
        .and_then(|params| params.get("threads"))
        .and_then(|value| value.parse::<usize>().ok())
        .map_or(1, |threads| threads.clamp(1, MAX_THREADS))
}

/// Starts `threads` pool threads, waits until each has loaded the module,
/// and keeps them for [`for_encoder`] and [`for_prompts`]. An error says why
/// the worker stays on its own thread.
pub async fn start(threads: usize) -> Result<(), String> {
    if !cfg!(target_feature = "atomics") {
        return Err("this build of the worker has no shared memory".into());
    }
    let mut ready = Vec::with_capacity(threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .spawn_handler(|thread| {
            ready.push(spawn_thread(thread)?);
            Ok(())
        })
        .build()
        .map_err(|error| format!("could not start {threads} model threads: {error}"))?;
    for started in ready {
        JsFuture::from(started)
            .await
            .map_err(|error| format!("a model thread did not start: {}", describe(&error)))?;
    }
    POOL.set(Some(Arc::new(pool)));
    Ok(())
}

/// Starts one Web Worker for `thread`; the promise settles when it has
/// loaded the module (or failed to).
fn spawn_thread(thread: rayon::ThreadBuilder) -> io::Result<Promise> {
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Classic);
    options.set_name("twinseg model thread");
    let worker = web_sys::Worker::new_with_options(THREAD_URL, &options)
        .map_err(|error| io::Error::other(describe(&error)))?;
    let ready = Promise::new(&mut |resolve, reject| {
        worker.set_onmessage(Some(&resolve));
        worker.set_onerror(Some(&reject));
    });
    let task = Box::into_raw(Box::new(thread));
    let message = Array::of3(
        &wasm_bindgen::module(),
        &wasm_bindgen::memory(),
        &JsValue::from(task as usize),
    );
    if let Err(error) = worker.post_message(&message) {
        // SAFETY: the message was not sent, so no thread owns `task`; it is
        // the box leaked just above, taken back once.
        drop(unsafe { Box::from_raw(task) });
        return Err(io::Error::other(describe(&error)));
    }
    Ok(ready)
}

/// Runs one pool thread until the pool ends; `worker-thread.js` calls it
/// with the task `spawn_thread` posted to it.
#[wasm_bindgen]
pub fn run_model_thread(task: usize) {
    // SAFETY: `task` is the `Box<ThreadBuilder>` that `spawn_thread` leaked
    // and posted to exactly one thread, which calls this once.
    let thread = unsafe { Box::from_raw(task as *mut rayon::ThreadBuilder) };
    thread.run();
}
