//! The twinseg Web Worker: decodes images and runs the SAM encoder with
//! tract, so the page's thread never does heavy work.
//!
//! trunk builds this binary with a loader shim (`worker_loader.js`); the page
//! starts it with `new Worker("./worker_loader.js")`. Where the page is
//! cross-origin isolated it starts the threaded build of the same code
//! instead (`worker-threads-loader.js`, see [`threads`]). `main` only wires
//! the message handler; the work is in [`session`] and [`models`].

mod envelope;
mod models;
mod objects;
mod session;
mod threads;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::ArrayBuffer;
use twinseg::protocol::{FromWorker, ToWorker};
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// Counts the live heap, for the memory figures the worker reports.
#[global_allocator]
static HEAP: twinseg::heap::CountingAllocator = twinseg::heap::CountingAllocator::new();

fn main() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let session = Rc::new(RefCell::new(session::Session::default()));
    let port = envelope::Port::new(scope.clone());
    let handler = {
        let port = port.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| match envelope::receive(
            &event,
        ) {
            Ok((request, payload)) => handle(&session, &port, request, payload),
            Err(message) => web_sys::console::error_1(&message.into()),
        })
    };
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    wasm_bindgen_futures::spawn_local(start_threads_then_report_ready(port));
}

/// Starts the model threads the page asked for, then tells the page the
/// worker takes requests (and on how many threads). Threads that cannot
/// start leave the worker on its own thread, which still works.
async fn start_threads_then_report_ready(port: envelope::Port) {
    let wanted = threads::requested();
    let threads = if wanted > 1 {
        match threads::start(wanted).await {
            Ok(()) => wanted,
            Err(message) => {
                web_sys::console::warn_1(
                    &format!("twinseg worker: running on one thread: {message}").into(),
                );
                1
            }
        }
    } else {
        1
    };
    let threads = u32::try_from(threads).unwrap_or(1);
    port.post(&FromWorker::Ready { threads }, None);
}

fn handle(
    session: &Rc<RefCell<session::Session>>,
    port: &envelope::Port,
    request: ToWorker,
    payload: Option<JsValue>,
) {
    let buffer = || {
        payload
            .clone()
            .and_then(|value| value.dyn_into::<ArrayBuffer>().ok())
    };
    match request {
        ToWorker::SetImage { image_id, name } => {
            session
                .borrow_mut()
                .set_image(port, image_id, &name, buffer());
        }
        ToWorker::LoadModel {
            request_id,
            model,
            stall_s,
        } => {
            let load = models::load(session.clone(), port.clone(), request_id, model, stall_s);
            wasm_bindgen_futures::spawn_local(load);
        }
        ToWorker::StopModelLoad { request_id } => models::stop(request_id),
        ToWorker::ShareCancelFlag => {
            if let Some(shared) = payload.as_ref() {
                session
                    .borrow_mut()
                    .share_cancel_flag(objects::CancelFlag::new(shared));
            }
        }
        ToWorker::FindObjects {
            image_id,
            run_id,
            settings,
        } => session
            .borrow_mut()
            .find_objects(port, image_id, run_id, &settings),
        ToWorker::Ask {
            image_id,
            ask_id,
            query,
            settings,
        } => session
            .borrow_mut()
            .ask(port, image_id, ask_id, &query, &settings),
        ToWorker::PrepareTwin {
            image_id,
            ask_id,
            settings,
        } => session
            .borrow_mut()
            .prepare_twin(port, image_id, ask_id, &settings),
        ToWorker::ApplyAnswer {
            image_id,
            ask_id,
            answer,
        } => session
            .borrow_mut()
            .apply_answer(port, image_id, ask_id, answer),
        ToWorker::Segment {
            image_id,
            prompt_id,
            points,
            bbox,
        } => session
            .borrow_mut()
            .segment(port, image_id, prompt_id, &points, bbox),
        ToWorker::Export { image_id, kind } => {
            session.borrow_mut().export(port, image_id, kind);
        }
    }
}
