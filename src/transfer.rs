//! What a model download does after each answer of the server: read the
//! file, wait and try again, or give up with a sentence that names the
//! cause. The native download and the page's worker follow these same rules,
//! so a person gets the same message from both.

use std::time::Duration;

use thiserror::Error;

/// Attempts in total when the server fails in a way that may pass (429,
/// 5xx, a broken connection).
pub const ATTEMPTS: u32 = 3;

/// The largest model file a native download accepts.
pub const MAX_MODEL_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// The largest model file the page accepts: a 32-bit wasm worker cannot hold
/// much more next to the running model.
pub const MAX_BROWSER_MODEL_BYTES: u64 = 1024 * 1024 * 1024;

/// How long a server may stay silent (before answering, or between two
/// pieces of the file) before the download gives up. The whole transfer has
/// no limit: a large model on a slow line is not an error.
pub const DEFAULT_STALL: Duration = Duration::from_secs(60);

/// The longest `Retry-After` wait honoured; a longer one waits this long.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// Why a model file could not be had.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TransferError {
    /// Rate limits or server errors on every attempt.
    #[error("the server kept failing after {attempts} attempts (last: HTTP {status})")]
    KeptFailing {
        /// Attempts made.
        attempts: u32,
        /// The last status.
        status: u16,
    },
    /// 401 or 403.
    #[error("the server refused access (HTTP {status}); the address may need a login or a token")]
    Refused {
        /// The status.
        status: u16,
    },
    /// 404 or 410.
    #[error("nothing is there (HTTP {status}); check the address")]
    Missing {
        /// The status.
        status: u16,
    },
    /// Any other status that is not a success.
    #[error("the server answered HTTP {status}")]
    Status {
        /// The status.
        status: u16,
    },
    /// The server sent nothing for the stall time.
    #[error("the server sent nothing for {seconds} s; it may be down or overloaded")]
    Silent {
        /// The stall time, in seconds.
        seconds: f64,
    },
    /// The file is larger than the limit (declared or received).
    #[error("the file is larger than {}, too large for a model", size_text(*limit_bytes))]
    TooLarge {
        /// The limit, in bytes.
        limit_bytes: u64,
    },
    /// The host name does not resolve.
    #[error("no such host (the name does not resolve)")]
    NoSuchHost,
    /// No connection on any attempt. A browser does not say why: a wrong
    /// address, an unknown host, a server that is down or one that does not
    /// let this page read it (CORS) all look the same.
    #[error(
        "the server could not be reached after {attempts} attempts (is the address right, is the server up, and does it allow this page to read the file (CORS)?)"
    )]
    Unreachable {
        /// Attempts made.
        attempts: u32,
    },
    /// The connection broke off during the transfer on every attempt.
    #[error("the connection broke off after {} on each of {attempts} attempts", size_text(*received_bytes))]
    BrokeOff {
        /// Bytes received on the last attempt.
        received_bytes: u64,
        /// Attempts made.
        attempts: u32,
    },
    /// The server closed the connection without a complete answer on every
    /// attempt (a reset, or a hang-up before the answer or mid-file).
    #[error(
        "the server closed the connection without a complete answer on each of {attempts} attempts"
    )]
    Dropped {
        /// Attempts made.
        attempts: u32,
    },
    /// The person stopped the download.
    #[error("the download was stopped")]
    Stopped,
    /// Anything else, as the transport described it.
    #[error("{0}")]
    Other(String),
}

/// What a download does next.
#[derive(Debug, Clone, PartialEq)]
pub enum TransferStep {
    /// A success: read the body.
    Read,
    /// Wait this long, then try again.
    Retry(Duration),
    /// Give up.
    Fail(TransferError),
}

/// Decides what follows an answer with `status` on attempt `attempt`
/// (counting from 1). `retry_after` is the server's own wait, if it gave one;
/// otherwise the wait starts at `backoff` and doubles with each attempt.
pub fn after_status(
    status: u16,
    attempt: u32,
    retry_after: Option<Duration>,
    backoff: Duration,
) -> TransferStep {
    match status {
        200..=299 => TransferStep::Read,
        429 | 500..=599 if attempt < ATTEMPTS => {
            TransferStep::Retry(wait_before_retry(attempt, retry_after, backoff))
        }
        429 | 500..=599 => TransferStep::Fail(TransferError::KeptFailing {
            attempts: attempt,
            status,
        }),
        401 | 403 => TransferStep::Fail(TransferError::Refused { status }),
        404 | 410 => TransferStep::Fail(TransferError::Missing { status }),
        _ => TransferStep::Fail(TransferError::Status { status }),
    }
}

/// Decides what follows a connection that failed or broke off on attempt
/// `attempt`: such failures often pass, so they are tried again while
/// attempts are left; `error` is the reason given at the end. A stop by the
/// person, a silent server or a file over the limit are never retried.
pub fn after_broken(attempt: u32, backoff: Duration, error: TransferError) -> TransferStep {
    let passing = matches!(
        error,
        TransferError::Unreachable { .. }
            | TransferError::BrokeOff { .. }
            | TransferError::Dropped { .. }
    );
    if passing && attempt < ATTEMPTS {
        TransferStep::Retry(wait_before_retry(attempt, None, backoff))
    } else {
        TransferStep::Fail(error)
    }
}

/// Whether a file of `declared` bytes (as the server announced it) or of
/// `received` bytes so far is over `limit`.
pub fn over_limit(declared: Option<u64>, received: u64, limit: u64) -> Result<(), TransferError> {
    if declared.is_some_and(|size| size > limit) || received > limit {
        Err(TransferError::TooLarge { limit_bytes: limit })
    } else {
        Ok(())
    }
}

fn wait_before_retry(attempt: u32, retry_after: Option<Duration>, backoff: Duration) -> Duration {
    retry_after
        .unwrap_or_else(|| backoff.saturating_mul(1 << (attempt.saturating_sub(1)).min(16)))
        .min(MAX_RETRY_WAIT)
}

/// A byte count as a person reads it: "1 GiB", "3.5 MiB", "120 KiB", "17 bytes".
pub fn size_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = KIB * 1024;
    const GIB: u64 = MIB * 1024;
    let scaled = |unit: u64| {
        let value = bytes as f64 / unit as f64;
        if value.fract() == 0.0 {
            format!("{value:.0}")
        } else {
            format!("{value:.1}")
        }
    };
    match bytes {
        b if b >= GIB => format!("{} GiB", scaled(GIB)),
        b if b >= MIB => format!("{} MiB", scaled(MIB)),
        b if b >= KIB => format!("{} KiB", scaled(KIB)),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Duration = Duration::from_secs(1);

    #[test]
    fn passing_failures_are_retried_with_a_doubling_wait_then_given_up() {
        assert_eq!(
            after_status(503, 1, None, BACKOFF),
            TransferStep::Retry(Duration::from_secs(1))
        );
        assert_eq!(
            after_status(429, 2, None, BACKOFF),
            TransferStep::Retry(Duration::from_secs(2))
        );
        assert_eq!(
            after_status(500, 3, None, BACKOFF),
            TransferStep::Fail(TransferError::KeptFailing {
                attempts: 3,
                status: 500
            })
        );
    }

    #[test]
    fn the_servers_own_wait_is_honoured_up_to_a_limit() {
        assert_eq!(
            after_status(429, 1, Some(Duration::ZERO), BACKOFF),
            TransferStep::Retry(Duration::ZERO)
        );
        assert_eq!(
            after_status(429, 1, Some(Duration::from_secs(3600)), BACKOFF),
            TransferStep::Retry(MAX_RETRY_WAIT)
        );
    }

    #[test]
    fn refusals_and_missing_files_are_final_and_say_what_to_check() {
        let message = |status| match after_status(status, 1, None, BACKOFF) {
            TransferStep::Fail(error) => error.to_string(),
            other => panic!("{status} should fail at once, not {other:?}"),
        };
        assert!(message(401).contains("refused access (HTTP 401)"));
        assert!(message(403).contains("refused access (HTTP 403)"));
        assert_eq!(
            message(404),
            "nothing is there (HTTP 404); check the address"
        );
        assert_eq!(message(418), "the server answered HTTP 418");
        assert_eq!(after_status(204, 1, None, BACKOFF), TransferStep::Read);
    }

    #[test]
    fn broken_connections_are_retried_but_silence_stops_and_oversize_are_not() {
        let broke = TransferError::BrokeOff {
            received_bytes: 10,
            attempts: 1,
        };
        assert_eq!(
            after_broken(1, BACKOFF, broke.clone()),
            TransferStep::Retry(BACKOFF)
        );
        assert_eq!(
            after_broken(ATTEMPTS, BACKOFF, broke.clone()),
            TransferStep::Fail(broke)
        );
        let dropped = TransferError::Dropped { attempts: 2 };
        assert_eq!(
            after_broken(2, BACKOFF, dropped),
            TransferStep::Retry(BACKOFF * 2)
        );
        for error in [
            TransferError::Stopped,
            TransferError::Silent { seconds: 1.0 },
            TransferError::TooLarge { limit_bytes: 1 },
        ] {
            assert_eq!(
                after_broken(1, BACKOFF, error.clone()),
                TransferStep::Fail(error)
            );
        }
    }

    #[test]
    fn the_size_limit_counts_the_declared_size_and_what_arrived() {
        assert!(over_limit(Some(10), 0, 10).is_ok());
        assert!(over_limit(None, 10, 10).is_ok());
        assert_eq!(
            over_limit(Some(11), 0, 10),
            Err(TransferError::TooLarge { limit_bytes: 10 })
        );
        assert!(over_limit(None, 11, 10).is_err());
        assert_eq!(
            TransferError::TooLarge {
                limit_bytes: MAX_BROWSER_MODEL_BYTES
            }
            .to_string(),
            "the file is larger than 1 GiB, too large for a model"
        );
    }

    #[test]
    fn sizes_read_in_the_largest_whole_unit() {
        assert_eq!(size_text(17), "17 bytes");
        assert_eq!(size_text(2048), "2 KiB");
        assert_eq!(size_text(3 * 1024 * 1024 + 512 * 1024), "3.5 MiB");
        assert_eq!(size_text(MAX_MODEL_BYTES), "2 GiB");
    }
}
