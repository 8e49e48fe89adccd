//! Loading a model the person chose: the built-in one, or an ONNX pair from
//! addresses, downloaded with progress and kept in the browser's Cache API so
//! the next visit needs no download.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Reflect, Uint8Array};
use twinseg::model::{ModelSource, SamModel};
use twinseg::protocol::{FromWorker, ModelChoice, ModelPart, MODEL_CACHE};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, ReadableStreamDefaultReader, Response, WorkerGlobalScope};

use crate::envelope::Port;
use crate::session::{now_ms, Session};

/// Loads `model` and, unless a newer request came in meanwhile, puts it in use.
pub async fn load(session: Rc<RefCell<Session>>, port: Port, request_id: u32, model: ModelChoice) {
    session.borrow_mut().begin_model_request(request_id);
    let started = now_ms();
    let loaded = match &model {
        ModelChoice::Builtin => SamModel::builtin()
            .map(|sam| (sam, false))
            .map_err(|error| format!("The built-in model could not be loaded: {error}.")),
        ModelChoice::Url { encoder, decoder } => {
            load_pair(&port, request_id, encoder, decoder).await
        }
    };
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

async fn load_pair(
    port: &Port,
    request_id: u32,
    encoder: &str,
    decoder: &str,
) -> Result<(SamModel, bool), String> {
    let cache = open_cache().await;
    let (encoder_bytes, encoder_cached) = fetch_cached(
        port,
        request_id,
        cache.as_ref(),
        ModelPart::Encoder,
        encoder,
    )
    .await?;
    let (decoder_bytes, decoder_cached) = fetch_cached(
        port,
        request_id,
        cache.as_ref(),
        ModelPart::Decoder,
        decoder,
    )
    .await?;
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
    port: &Port,
    request_id: u32,
    cache: Option<&Cache>,
    part: ModelPart,
    url: &str,
) -> Result<(Vec<u8>, bool), String> {
    if let Some(cached) = cached_response(cache, url).await {
        if let Ok(bytes) = read_body(port, request_id, part, cached).await {
            return Ok((bytes, true));
        }
    }
    let bytes = download(port, request_id, part, url).await?;
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

async fn download(
    port: &Port,
    request_id: u32,
    part: ModelPart,
    url: &str,
) -> Result<Vec<u8>, String> {
    let what = match part {
        ModelPart::Encoder => "encoder",
        ModelPart::Decoder => "decoder",
    };
    let fail =
        |detail: String| format!("The {what} model could not be downloaded from {url}: {detail}.");
    let scope = js_sys::global()
        .dyn_into::<WorkerGlobalScope>()
        .map_err(|_| fail("this is not a worker".into()))?;
    let response: Response = JsFuture::from(scope.fetch_with_str(url))
        .await
        .map_err(|error| fail(describe(&error)))?
        .dyn_into()
        .map_err(|_| fail("the answer is not an HTTP response".into()))?;
    if !response.ok() {
        return Err(fail(format!(
            "the server answered {} {}",
            response.status(),
            response.status_text()
        )));
    }
    read_body(port, request_id, part, response)
        .await
        .map_err(fail)
}

/// Reads a response body chunk by chunk, reporting progress as bytes arrive.
async fn read_body(
    port: &Port,
    request_id: u32,
    part: ModelPart,
    response: Response,
) -> Result<Vec<u8>, String> {
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|length| length.parse::<u64>().ok());
    let body = response
        .body()
        .ok_or_else(|| "the response has no body".to_string())?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total.and_then(|t| usize::try_from(t).ok()).unwrap_or(0));
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|error| describe(&error))?;
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
        port.post(
            &FromWorker::ModelProgress {
                request_id,
                part,
                loaded,
                total,
            },
            None,
        );
    }
    Ok(bytes)
}

fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}
