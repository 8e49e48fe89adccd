//! The native transport: `ureq` with a timeout per request, retries with
//! backoff on 429 and 5xx, a JSON-mode fallback, and cancellation that
//! returns at once while the abandoned request runs out on its own thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{
    answer, next_step, parse_retry_after, prompt, CancelToken, NextStep, RemoteConfig, RemoteError,
    MAX_REPLY_BYTES,
};
use crate::reason::{Answer, ReasonError, Reasoner};
use crate::twin::DigitalTwin;

/// How often a waiting request checks for cancellation.
const CANCEL_POLL: Duration = Duration::from_millis(20);

/// A reasoner backed by an OpenAI-compatible chat/completions endpoint.
#[derive(Debug)]
pub struct RemoteReasoner {
    config: RemoteConfig,
    agent: ureq::Agent,
    cancel: CancelToken,
    json_mode: AtomicBool,
}

/// One HTTP exchange's outcome.
struct Reply {
    status: u16,
    retry_after: Option<Duration>,
    body: String,
}

impl RemoteReasoner {
    /// A reasoner for `config`.
    pub fn new(config: RemoteConfig) -> Self {
        let agent_config = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .build();
        Self {
            json_mode: AtomicBool::new(config.json_mode),
            agent: ureq::Agent::new_with_config(agent_config),
            cancel: CancelToken::new(),
            config,
        }
    }

    /// A token that cancels this reasoner's requests from another thread.
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    /// Asks the model which objects of `twin` the question means.
    pub fn ask(&self, twin: &DigitalTwin, query: &str) -> Result<Answer, RemoteError> {
        let messages = prompt::messages(&twin.compact(), query);
        let content = self.complete(&messages)?;
        let known: Vec<u32> = twin.objects.iter().map(|o| o.id).collect();
        Ok(answer::parse_answer(&content, &known)?)
    }

    /// Sends the messages and returns the model's text, retrying as configured.
    pub fn complete(&self, messages: &[prompt::ChatMessage]) -> Result<String, RemoteError> {
        let url = prompt::chat_url(&self.config.endpoint);
        let policy = self.config.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let json_mode = self.json_mode.load(Ordering::SeqCst);
            let body = prompt::request_body(&self.config.model, messages, json_mode);
            let reply = self.post(&url, body)?;
            let step = next_step(
                reply.status,
                &reply.body,
                reply.retry_after,
                attempt,
                json_mode,
                &policy,
            );
            match step {
                NextStep::Read => return Ok(answer::message_content(&reply.body)?),
                NextStep::DropJsonMode => {
                    self.json_mode.store(false, Ordering::SeqCst);
                    attempt -= 1;
                }
                NextStep::Retry(wait) => self.sleep(wait)?,
                NextStep::Fail(error) => return Err(error),
            }
        }
    }

    fn post(&self, url: &str, body: serde_json::Value) -> Result<Reply, RemoteError> {
        if self.cancel.is_cancelled() {
            return Err(RemoteError::Cancelled);
        }
        let mut request = self
            .agent
            .post(url)
            .header("Content-Type", "application/json");
        if let Some(key) = &self.config.api_key {
            request = request.header("Authorization", key.bearer());
        }
        let text = body.to_string();
        let timeout = self.config.timeout;
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(exchange(request, text, timeout));
        });
        loop {
            match receiver.recv_timeout(CANCEL_POLL) {
                Ok(result) => return result,
                Err(mpsc::RecvTimeoutError::Timeout) if self.cancel.is_cancelled() => {
                    return Err(RemoteError::Cancelled)
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(RemoteError::Transport("the request thread stopped".into()))
                }
            }
        }
    }

    fn sleep(&self, duration: Duration) -> Result<(), RemoteError> {
        let end = Instant::now() + duration;
        while Instant::now() < end {
            if self.cancel.is_cancelled() {
                return Err(RemoteError::Cancelled);
            }
            std::thread::sleep(CANCEL_POLL.min(end.saturating_duration_since(Instant::now())));
        }
        Ok(())
    }
}

fn exchange(
    request: ureq::RequestBuilder<ureq::typestate::WithBody>,
    body: String,
    timeout: Duration,
) -> Result<Reply, RemoteError> {
    let mut response = request
        .send(body)
        .map_err(|e| transport_error(e, timeout))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_REPLY_BYTES as u64)
        .read_to_string()
        .map_err(|e| transport_error(e, timeout))?;
    Ok(Reply {
        status,
        retry_after,
        body,
    })
}

fn transport_error(error: ureq::Error, timeout: Duration) -> RemoteError {
    match error {
        ureq::Error::Timeout(_) => RemoteError::Timeout {
            seconds: timeout.as_secs_f64(),
        },
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => RemoteError::Timeout {
            seconds: timeout.as_secs_f64(),
        },
        ureq::Error::BodyExceedsLimit(_) => RemoteError::TooLarge {
            limit_mib: MAX_REPLY_BYTES >> 20,
        },
        other => RemoteError::Transport(other.to_string()),
    }
}

impl Reasoner for RemoteReasoner {
    fn reason(&self, twin: &DigitalTwin, query: &str) -> Result<Answer, ReasonError> {
        Ok(self.ask(twin, query)?)
    }
}
