//! The remote reasoner: any OpenAI-compatible `/v1/chat/completions`
//! endpoint (OpenAI, vLLM, llama.cpp server, Ollama). Only the compact
//! Digital Twin and the question are sent, never image data.
//!
//! [`prompt`] builds the messages and request body and [`answer`] reads the
//! reply; both are pure and target-independent, so a wasm caller can send
//! the same body with its own fetch. The native transport is `ureq`
//! (`RemoteReasoner`, feature `remote-native`): it retries 429 and 5xx with
//! backoff, times out, and can be cancelled.

pub mod answer;
#[cfg(all(feature = "remote-native", not(target_arch = "wasm32")))]
mod native;
pub mod prompt;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use answer::AnswerError;
#[cfg(all(feature = "remote-native", not(target_arch = "wasm32")))]
pub use native::RemoteReasoner;

/// An API key. Its `Debug` form never shows the key, so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// Reads a key from an environment variable; the error names the variable only.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_env(var: &str) -> Result<Self, RemoteError> {
        match std::env::var(var) {
            Ok(key) if !key.trim().is_empty() => Ok(Self(key.trim().to_string())),
            _ => Err(RemoteError::MissingKey {
                var: var.to_string(),
            }),
        }
    }

    /// The `Authorization` header value.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<hidden>)")
    }
}

/// Where and how to ask a remote model.
#[derive(Clone, Debug)]
pub struct RemoteConfig {
    /// Base URL (`http://localhost:11434/v1`) or full chat/completions URL.
    pub endpoint: String,
    /// Model name sent in the request.
    pub model: String,
    /// Sent as a bearer token when present.
    pub api_key: Option<ApiKey>,
    /// Longest wait for one request.
    pub timeout: Duration,
    /// Retries on 429 and 5xx.
    pub retry: RetryPolicy,
    /// Ask for `response_format: json_object` (dropped automatically when the server rejects it).
    pub json_mode: bool,
}

impl RemoteConfig {
    /// A configuration with a 60 s timeout, the default retry policy and JSON mode on.
    pub fn new(endpoint: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            model: model.into(),
            api_key: None,
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            json_mode: true,
        }
    }
}

/// How often and how patiently to retry 429 and 5xx answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    /// Wait before the first retry; doubles after each one.
    pub initial_backoff: Duration,
    /// Longest wait between attempts (also caps a server's Retry-After).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempt counts from 1), honouring
    /// a server's Retry-After seconds within `max_backoff`.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let doubling = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        retry_after.unwrap_or(doubling).min(self.max_backoff)
    }
}

/// Whether an HTTP status is worth retrying (rate limits and server errors).
pub fn is_retryable(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// The largest reply read from an endpoint: a chat answer naming a few ids is
/// a few kilobytes, so anything near this is a misbehaving server.
pub const MAX_REPLY_BYTES: usize = 4 * 1024 * 1024;

/// A server's `Retry-After` header in seconds (the HTTP-date form is ignored).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// What a transport does after one HTTP reply; every transport (native,
/// the page's fetch) follows the same rules, so they fail the same way.
#[derive(Debug, Clone, PartialEq)]
pub enum NextStep {
    /// A 2xx reply: its body is the chat completion to read.
    Read,
    /// The server rejected JSON mode (400 with it on): send again without it.
    DropJsonMode,
    /// Rate limited or a server error with attempts left: wait, then retry.
    Retry(Duration),
    /// No answer will come: the reason.
    Fail(RemoteError),
}

/// Decides what follows a reply with `status` and `body` on attempt
/// `attempt` (counting from 1).
pub fn next_step(
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
    attempt: u32,
    json_mode: bool,
    policy: &RetryPolicy,
) -> NextStep {
    match status {
        200..=299 => NextStep::Read,
        400 if json_mode => NextStep::DropJsonMode,
        401 | 403 => NextStep::Fail(RemoteError::Unauthorized { status }),
        status if is_retryable(status) && attempt < policy.max_attempts.max(1) => {
            NextStep::Retry(policy.backoff(attempt, retry_after))
        }
        status if is_retryable(status) => NextStep::Fail(RemoteError::GaveUp {
            attempts: attempt,
            status,
            message: body_excerpt(body),
        }),
        status => NextStep::Fail(RemoteError::Status {
            status,
            message: body_excerpt(body),
        }),
    }
}

/// Cancels a running request from another thread (or task).
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the request to stop; it ends with [`RemoteError::Cancelled`].
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why the remote reasoner gave no answer. Messages never contain the API key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RemoteError {
    /// The environment variable meant to hold the key is unset or empty.
    #[error("the API key variable {var} is not set")]
    MissingKey {
        /// The variable's name.
        var: String,
    },
    /// The endpoint refused the credentials (401 / 403).
    #[error("the endpoint refused the request as unauthorised (HTTP {status}); check the API key")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
    },
    /// The endpoint answered with an error status that retrying does not fix.
    #[error("the endpoint answered HTTP {status}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the server's message.
        message: String,
    },
    /// Still 429 / 5xx after every attempt.
    #[error(
        "the endpoint kept failing after {attempts} attempts (last: HTTP {status}: {message})"
    )]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last status.
        status: u16,
        /// The start of the last error body.
        message: String,
    },
    /// No answer within the timeout.
    #[error("the endpoint did not answer within {seconds:.1} s")]
    Timeout {
        /// The timeout.
        seconds: f64,
    },
    /// The endpoint could not be reached.
    #[error("could not reach the endpoint: {0}")]
    Transport(String),
    /// The reply was larger than [`MAX_REPLY_BYTES`].
    #[error("the endpoint's reply is larger than {limit_mib} MiB; it is not a chat answer")]
    TooLarge {
        /// The limit in MiB.
        limit_mib: usize,
    },
    /// The request was cancelled.
    #[error("the request was cancelled")]
    Cancelled,
    /// The reply could not be read as an answer.
    #[error(transparent)]
    Answer(#[from] AnswerError),
}

/// The start of a server's error body, for error messages (used by every transport).
pub fn body_excerpt(body: &str) -> String {
    let text: String = body.trim().chars().take(160).collect();
    if text.is_empty() {
        "(empty body)".into()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reply_status_has_one_next_step() {
        let policy = RetryPolicy::default();
        let step = |status, attempt, json_mode| {
            next_step(status, "oops", None, attempt, json_mode, &policy)
        };
        assert_eq!(step(200, 1, true), NextStep::Read);
        assert_eq!(step(400, 1, true), NextStep::DropJsonMode);
        assert!(matches!(
            step(400, 1, false),
            NextStep::Fail(RemoteError::Status { status: 400, ref message }) if message == "oops"
        ));
        assert_eq!(
            step(401, 1, true),
            NextStep::Fail(RemoteError::Unauthorized { status: 401 })
        );
        assert_eq!(step(429, 1, true), NextStep::Retry(policy.backoff(1, None)));
        assert_eq!(
            step(503, policy.max_attempts, true),
            NextStep::Fail(RemoteError::GaveUp {
                attempts: policy.max_attempts,
                status: 503,
                message: "oops".into(),
            })
        );
        assert!(matches!(
            step(404, 1, false),
            NextStep::Fail(RemoteError::Status { status: 404, .. })
        ));
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
        };
        assert_eq!(policy.backoff(1, None), Duration::from_millis(100));
        assert_eq!(policy.backoff(2, None), Duration::from_millis(200));
        assert_eq!(policy.backoff(3, None), Duration::from_millis(300));
        assert_eq!(
            policy.backoff(1, Some(Duration::from_secs(9))),
            Duration::from_millis(300)
        );
    }

    #[test]
    fn retries_only_rate_limits_and_server_errors() {
        assert!(is_retryable(429));
        assert!(is_retryable(503));
        assert!(!is_retryable(400));
        assert!(!is_retryable(401));
    }

    #[test]
    fn key_debug_hides_the_key() {
        let key = ApiKey::new("sk-secret");
        assert!(!format!("{key:?}").contains("secret"));
        assert_eq!(key.bearer(), "Bearer sk-secret");
    }
}
