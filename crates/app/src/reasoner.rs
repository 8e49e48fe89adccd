//! The reasoner settings (embedded, or an OpenAI-compatible endpoint) and
//! the page's own HTTP call to a remote reasoner. Only the compact Digital
//! Twin and the question are sent: the body is built by
//! `twinseg::reason::remote::prompt` and shown to the person as is.

use twinseg::reason::remote::{answer, body_excerpt, prompt};
use twinseg::reason::Answer;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::worker::describe;

/// Where the settings are kept when the person asks to remember them.
const STORAGE_KEY: &str = "twinseg-reasoner-v1";

/// Which reasoner answers questions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReasonerChoice {
    /// Ask the remote endpoint instead of the embedded reasoner.
    pub remote: bool,
    /// The endpoint's base address or full chat/completions address.
    pub url: String,
    /// The model name sent in the request.
    pub model: String,
    /// The API key; kept in memory unless `remember` is set.
    pub key: String,
    /// Keep the settings, key included, in this browser's localStorage.
    pub remember: bool,
}

impl ReasonerChoice {
    /// Whether questions go to the remote endpoint.
    pub fn is_remote(&self) -> bool {
        self.remote
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The settings remembered in this browser, or the embedded default.
pub fn load_saved() -> ReasonerChoice {
    let saved = storage()
        .and_then(|storage| storage.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    let Some(saved) = saved else {
        return ReasonerChoice::default();
    };
    let text = |key: &str| saved[key].as_str().unwrap_or_default().to_string();
    ReasonerChoice {
        remote: saved["remote"].as_bool().unwrap_or(false),
        url: text("url"),
        model: text("model"),
        key: text("key"),
        remember: true,
    }
}

/// Remembers the settings when asked to, and forgets them otherwise.
pub fn save(choice: &ReasonerChoice) {
    let Some(storage) = storage() else {
        return;
    };
    if choice.remember {
        let value = serde_json::json!({
            "remote": choice.remote,
            "url": choice.url,
            "model": choice.model,
            "key": choice.key,
        });
        let _ = storage.set_item(STORAGE_KEY, &value.to_string());
    } else {
        let _ = storage.remove_item(STORAGE_KEY);
    }
}

/// The exact JSON body sent to the endpoint.
pub fn request_body(choice: &ReasonerChoice, compact: &str, query: &str) -> String {
    let messages = prompt::messages(compact, query);
    let model = if choice.model.trim().is_empty() {
        "default"
    } else {
        choice.model.trim()
    };
    serde_json::to_string_pretty(&prompt::request_body(model, &messages, false)).unwrap_or_default()
}

/// Posts `body` to the endpoint and reads the answer, checking its ids
/// against the twin's `ids`. Every failure is a readable sentence.
pub async fn send(choice: &ReasonerChoice, body: String, ids: &[u32]) -> Result<Answer, String> {
    if choice.url.trim().is_empty() {
        return Err("Give the remote reasoner's address in the reasoner settings.".into());
    }
    let url = prompt::chat_url(&choice.url);
    let fail = |detail: String| format!("The remote reasoner at {url} failed: {detail}");
    let window = web_sys::window().ok_or_else(|| fail("no window".into()))?;
    let headers = Headers::new().map_err(|e| fail(describe(&e)))?;
    headers
        .set("content-type", "application/json")
        .map_err(|e| fail(describe(&e)))?;
    if !choice.key.trim().is_empty() {
        headers
            .set("authorization", &format!("Bearer {}", choice.key.trim()))
            .map_err(|e| fail(describe(&e)))?;
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&body.into());
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(|e| fail(format!("it could not be reached ({})", describe(&e))))?
        .dyn_into()
        .map_err(|_| fail("the answer is not an HTTP response".into()))?;
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if !response.ok() {
        return Err(fail(format!(
            "it answered {} {}: {}",
            response.status(),
            response.status_text(),
            body_excerpt(&text)
        )));
    }
    let content = answer::message_content(&text).map_err(|e| fail(e.to_string()))?;
    answer::parse_answer(&content, ids).map_err(|e| fail(e.to_string()))
}
