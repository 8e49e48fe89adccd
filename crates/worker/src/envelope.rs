//! Moving protocol messages across the thread boundary: JSON text plus an
//! optional transferred `ArrayBuffer` (see `twinseg::protocol`).

use js_sys::{Array, ArrayBuffer, Object, Reflect};
use twinseg::protocol::{FromWorker, ToWorker, ENVELOPE_MESSAGE, ENVELOPE_PAYLOAD};
use wasm_bindgen::JsValue;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// The worker's side of the channel to the page.
#[derive(Clone)]
pub struct Port {
    scope: DedicatedWorkerGlobalScope,
}

impl Port {
    /// A port that posts through the worker's global scope.
    pub fn new(scope: DedicatedWorkerGlobalScope) -> Self {
        Self { scope }
    }

    /// Sends a report to the page, moving `payload` (not copying it).
    pub fn post(&self, report: &FromWorker, payload: Option<ArrayBuffer>) {
        if let Err(error) = self.try_post(report, payload) {
            web_sys::console::error_2(&"twinseg worker: cannot post a report:".into(), &error);
        }
    }

    fn try_post(&self, report: &FromWorker, payload: Option<ArrayBuffer>) -> Result<(), JsValue> {
        let json = report
            .to_json()
            .map_err(|error| JsValue::from_str(&error.to_string()))?;
        let envelope = Object::new();
        Reflect::set(&envelope, &ENVELOPE_MESSAGE.into(), &json.into())?;
        let transfer = Array::new();
        if let Some(buffer) = payload {
            Reflect::set(&envelope, &ENVELOPE_PAYLOAD.into(), &buffer)?;
            transfer.push(&buffer);
        }
        self.scope.post_message_with_transfer(&envelope, &transfer)
    }
}

/// Reads a request and its payload out of a message event from the page.
/// The payload is an `ArrayBuffer`, or the `SharedArrayBuffer` of
/// [`ToWorker::ShareCancelFlag`].
pub fn receive(event: &MessageEvent) -> Result<(ToWorker, Option<JsValue>), String> {
    let envelope = event.data();
    let json = Reflect::get(&envelope, &ENVELOPE_MESSAGE.into())
        .ok()
        .and_then(|value| value.as_string())
        .ok_or_else(|| "twinseg worker: a message without JSON text".to_string())?;
    let request = ToWorker::from_json(&json).map_err(|error| error.to_string())?;
    let payload = Reflect::get(&envelope, &ENVELOPE_PAYLOAD.into())
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null());
    Ok((request, payload))
}
