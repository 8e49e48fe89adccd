//! The reasoner settings (embedded, or an OpenAI-compatible endpoint) and
//! the page's own HTTP call to a remote reasoner. Only the compact Digital
//! Twin and the question are sent: the body is built by
//! `twinseg::reason::remote::prompt` and shown to the person as is.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use twinseg::reason::remote::{
    answer, next_step, parse_retry_after, prompt, NextStep, RemoteError, RetryPolicy,
    MAX_REPLY_BYTES,
};
use twinseg::reason::Answer;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit, Response, Window};

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
    /// Seconds each attempt may take before it is given up (0: the default).
    pub timeout_s: u32,
}

/// How long an attempt may take when the person has not said.
pub const DEFAULT_TIMEOUT_S: u32 = 60;

impl ReasonerChoice {
    /// Whether questions go to the remote endpoint.
    pub fn is_remote(&self) -> bool {
        self.remote
    }

    /// How long each attempt may take.
    pub fn timeout(&self) -> Duration {
        let seconds = if self.timeout_s == 0 {
            DEFAULT_TIMEOUT_S
        } else {
            self.timeout_s
        };
        Duration::from_secs(u64::from(seconds))
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
        timeout_s: saved["timeout_s"]
            .as_u64()
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(DEFAULT_TIMEOUT_S),
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
            "timeout_s": choice.timeout_s,
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

/// Stops a remote question in flight: the person's Esc or Stop. Shared
/// between the page and the request it stops.
#[derive(Clone, Default)]
pub struct Cancel(Rc<RefCell<CancelState>>);

#[derive(Default)]
struct CancelState {
    cancelled: bool,
    request: Option<AbortController>,
}

impl Cancel {
    /// Stops the request now; it ends with [`RemoteError::Cancelled`].
    pub fn cancel(&self) {
        let mut state = self.0.borrow_mut();
        state.cancelled = true;
        if let Some(request) = state.request.take() {
            request.abort();
        }
    }

    /// Whether the person stopped the request.
    pub fn is_cancelled(&self) -> bool {
        self.0.borrow().cancelled
    }

    fn watch(&self, request: Option<AbortController>) {
        self.0.borrow_mut().request = request;
    }
}

/// Posts `body` to the endpoint and reads the answer, checking its ids
/// against the twin's `ids`: retries rate limits and server errors with
/// backoff, gives each attempt `choice.timeout_s`, stops on `cancel`, and
/// refuses replies over [`MAX_REPLY_BYTES`]. Every failure is a readable
/// sentence naming the endpoint.
pub async fn send(
    choice: &ReasonerChoice,
    body: String,
    ids: &[u32],
    cancel: &Cancel,
) -> Result<Answer, String> {
    if choice.url.trim().is_empty() {
        return Err("Give the remote reasoner's address in the reasoner settings.".into());
    }
    let url = prompt::chat_url(&choice.url);
    let fail = |error: RemoteError| format!("The remote reasoner at {url} failed: {error}.");
    let policy = RetryPolicy::default();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let reply = post(choice, &url, &body, cancel).await.map_err(fail)?;
        match next_step(
            reply.status,
            &reply.text,
            reply.retry_after,
            attempt,
            false,
            &policy,
        ) {
            NextStep::Read => {
                let content = answer::message_content(&reply.text)
                    .map_err(|e| fail(RemoteError::Answer(e)))?;
                return answer::parse_answer(&content, ids)
                    .map_err(|e| fail(RemoteError::Answer(e)));
            }
            NextStep::Retry(wait) => pause(wait, cancel).await.map_err(fail)?,
            NextStep::DropJsonMode => {}
            NextStep::Fail(error) => return Err(fail(error)),
        }
    }
}

/// One HTTP exchange's outcome.
struct Reply {
    status: u16,
    retry_after: Option<Duration>,
    text: String,
}

/// One attempt: the POST and its whole reply, within the timeout.
async fn post(
    choice: &ReasonerChoice,
    url: &str,
    body: &str,
    cancel: &Cancel,
) -> Result<Reply, RemoteError> {
    if cancel.is_cancelled() {
        return Err(RemoteError::Cancelled);
    }
    let transport = |e: JsValue| RemoteError::Transport(describe(&e));
    let window = web_sys::window().ok_or_else(|| RemoteError::Transport("no window".into()))?;
    let headers = Headers::new().map_err(transport)?;
    headers
        .set("content-type", "application/json")
        .map_err(transport)?;
    if !choice.key.trim().is_empty() {
        headers
            .set("authorization", &format!("Bearer {}", choice.key.trim()))
            .map_err(transport)?;
    }
    let controller = AbortController::new().map_err(transport)?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(body));
    init.set_signal(Some(&controller.signal()));
    cancel.watch(Some(controller.clone()));
    let timeout = Timeout::start(&window, &controller, choice.timeout());
    let reply = exchange(&window, url, &init).await;
    timeout.clear(&window);
    cancel.watch(None);
    reply.map_err(|error| {
        if cancel.is_cancelled() {
            RemoteError::Cancelled
        } else if timeout.fired() {
            RemoteError::Timeout {
                seconds: choice.timeout().as_secs_f64(),
            }
        } else {
            error
        }
    })
}

async fn exchange(window: &Window, url: &str, init: &RequestInit) -> Result<Reply, RemoteError> {
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, init))
        .await
        .map_err(|e| {
            RemoteError::Transport(format!(
                "{} (is the address right, is the server up, and does it allow requests from this page (CORS)?)",
                describe(&e)
            ))
        })?
        .dyn_into()
        .map_err(|_| RemoteError::Transport("the answer is not an HTTP response".into()))?;
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let too_large = RemoteError::TooLarge {
        limit_mib: MAX_REPLY_BYTES >> 20,
    };
    let declared = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_REPLY_BYTES as u64) {
        return Err(too_large);
    }
    let promise = response
        .text()
        .map_err(|e| RemoteError::Transport(describe(&e)))?;
    let text = JsFuture::from(promise)
        .await
        .map_err(|e| RemoteError::Transport(format!("the reply broke off ({})", describe(&e))))?
        .as_string()
        .unwrap_or_default();
    if text.len() > MAX_REPLY_BYTES {
        return Err(too_large);
    }
    Ok(Reply {
        status: response.status(),
        retry_after: header("retry-after").as_deref().and_then(parse_retry_after),
        text,
    })
}

/// Aborts a request when its time is up, and remembers that it did.
struct Timeout {
    handle: Option<i32>,
    fired: Rc<Cell<bool>>,
}

impl Timeout {
    fn start(window: &Window, controller: &AbortController, after: Duration) -> Self {
        let fired = Rc::new(Cell::new(false));
        let (flag, controller) = (fired.clone(), controller.clone());
        let on_time_up = Closure::once_into_js(move || {
            flag.set(true);
            controller.abort();
        });
        let handle = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                on_time_up.unchecked_ref(),
                i32::try_from(after.as_millis()).unwrap_or(i32::MAX),
            )
            .ok();
        Self { handle, fired }
    }

    fn clear(&self, window: &Window) {
        if let Some(handle) = self.handle {
            window.clear_timeout_with_handle(handle);
        }
    }

    fn fired(&self) -> bool {
        self.fired.get()
    }
}

/// Waits `wait` before a retry, in short steps so a cancel ends it at once.
async fn pause(wait: Duration, cancel: &Cancel) -> Result<(), RemoteError> {
    const STEP: Duration = Duration::from_millis(100);
    let mut left = wait;
    while !left.is_zero() {
        if cancel.is_cancelled() {
            return Err(RemoteError::Cancelled);
        }
        let step = left.min(STEP);
        sleep(step).await;
        left -= step;
    }
    if cancel.is_cancelled() {
        return Err(RemoteError::Cancelled);
    }
    Ok(())
}

async fn sleep(duration: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                i32::try_from(duration.as_millis()).unwrap_or(i32::MAX),
            );
        }
    });
    let _ = JsFuture::from(promise).await;
}
