//! Fetching a model file over HTTP (native builds with the `download`
//! feature), by the rules of [`crate::transfer`]: timeouts on connecting and
//! on a server that stops sending, retries with backoff on rate limits and
//! server errors, a size cap. The whole transfer has no time limit: a large
//! model on a slow line is not an error.

use std::time::Duration;

use crate::reason::remote::parse_retry_after;
use crate::transfer::{self, TransferError, TransferStep, DEFAULT_STALL, MAX_MODEL_BYTES};

/// How patient a download is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Patience {
    /// Longest wait for the connection and for the answer's first byte.
    pub stall: Duration,
    /// Wait before the first retry; doubles after each one.
    pub backoff: Duration,
}

impl Default for Patience {
    fn default() -> Self {
        Self {
            stall: DEFAULT_STALL,
            backoff: Duration::from_secs(1),
        }
    }
}

/// The file at `url`, or why it could not be had.
pub(crate) fn fetch(url: &str, patience: Patience) -> Result<Vec<u8>, TransferError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(patience.stall))
        .timeout_recv_response(Some(patience.stall))
        .http_status_as_error(false)
        .build()
        .into();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let step = match fetch_once(&agent, url, attempt, patience) {
            Ok(bytes) => return Ok(bytes),
            Err(step) => step,
        };
        match step {
            TransferStep::Retry(wait) => std::thread::sleep(wait),
            TransferStep::Fail(error) => return Err(error),
            TransferStep::Read => {
                return Err(TransferError::Other("the download went wrong".into()))
            }
        }
    }
}

/// One attempt: the request and the whole body, or what follows its failure.
fn fetch_once(
    agent: &ureq::Agent,
    url: &str,
    attempt: u32,
    patience: Patience,
) -> Result<Vec<u8>, TransferStep> {
    let broken = |error: &ureq::Error| match transport_error(error, patience.stall, attempt) {
        dropped @ TransferError::Dropped { .. } => {
            transfer::after_broken(attempt, patience.backoff, dropped)
        }
        other => TransferStep::Fail(other),
    };
    let mut response = agent.get(url).call().map_err(|error| broken(&error))?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let retry_after = header("retry-after").as_deref().and_then(parse_retry_after);
    let declared = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    let status = response.status().as_u16();
    match transfer::after_status(status, attempt, retry_after, patience.backoff) {
        TransferStep::Read => {}
        step => return Err(step),
    }
    transfer::over_limit(declared, 0, MAX_MODEL_BYTES).map_err(TransferStep::Fail)?;
    response
        .body_mut()
        .with_config()
        .limit(MAX_MODEL_BYTES)
        .read_to_vec()
        .map_err(|error| broken(&error))
}

fn transport_error(error: &ureq::Error, stall: Duration, attempt: u32) -> TransferError {
    use std::io::ErrorKind;
    match error {
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::UnexpectedEof
                    | ErrorKind::BrokenPipe
            ) =>
        {
            TransferError::Dropped { attempts: attempt }
        }
        ureq::Error::Timeout(_) => TransferError::Silent {
            seconds: stall.as_secs_f64(),
        },
        ureq::Error::BodyExceedsLimit(_) => TransferError::TooLarge {
            limit_bytes: MAX_MODEL_BYTES,
        },
        ureq::Error::HostNotFound => TransferError::NoSuchHost,
        ureq::Error::Io(io) if io.to_string().contains("lookup address") => {
            TransferError::NoSuchHost
        }
        other => TransferError::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::transfer::ATTEMPTS;

    const QUICK: Patience = Patience {
        stall: Duration::from_millis(500),
        backoff: Duration::from_millis(10),
    };

    /// A server answering each connection with the next status (and a short
    /// body), or holding the connection open without a word for `None`.
    fn serve(script: Vec<Option<u16>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let address = format!(
            "http://{}/model.onnx",
            listener.local_addr().expect("address")
        );
        std::thread::spawn(move || {
            for (step, stream) in script.into_iter().zip(listener.incoming()) {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                match step {
                    Some(status) => {
                        let body = b"model bytes";
                        let head = format!(
                            "HTTP/1.1 {status} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = stream.write_all(head.as_bytes());
                        let _ = stream.write_all(body);
                    }
                    None => std::thread::sleep(Duration::from_secs(3)),
                }
            }
        });
        address
    }

    #[test]
    fn server_errors_are_retried_then_the_file_arrives() {
        let url = serve(vec![Some(503), Some(429), Some(200)]);
        assert_eq!(fetch(&url, QUICK).expect("the file"), b"model bytes");
    }

    #[test]
    fn a_server_that_keeps_failing_is_given_up_on() {
        let url = serve(vec![Some(500), Some(500), Some(500)]);
        let message = fetch(&url, QUICK).expect_err("gives up").to_string();
        assert_eq!(
            message,
            "the server kept failing after 3 attempts (last: HTTP 500)"
        );
    }

    #[test]
    fn refusals_and_missing_files_say_what_to_check() {
        let refused = fetch(&serve(vec![Some(401)]), QUICK)
            .expect_err("401")
            .to_string();
        assert!(refused.contains("refused access (HTTP 401)"), "{refused}");
        let missing = fetch(&serve(vec![Some(404)]), QUICK)
            .expect_err("404")
            .to_string();
        assert!(
            missing.contains("nothing is there (HTTP 404); check the address"),
            "{missing}"
        );
    }

    #[test]
    fn a_silent_server_times_out() {
        let message = fetch(&serve(vec![None]), QUICK)
            .expect_err("times out")
            .to_string();
        assert!(message.contains("sent nothing for 0.5 s"), "{message}");
    }

    #[test]
    fn an_unknown_host_says_so() {
        let message = fetch("http://twinseg-no-such-host.invalid/model.onnx", QUICK)
            .expect_err("no host")
            .to_string();
        assert!(
            message.contains("no such host") || message.contains("sent nothing"),
            "{message}"
        );
        assert!(!message.contains("io:"), "{message}");
    }

    #[test]
    fn a_server_that_hangs_up_is_tried_again_then_named() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let url = format!(
            "http://{}/model.onnx",
            listener.local_addr().expect("address")
        );
        let (seen, count) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(ATTEMPTS as usize) {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ =
                    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhalf a mod");
                let _ = seen.send(());
            }
        });
        let message = fetch(&url, QUICK).expect_err("hung up").to_string();
        assert_eq!(
            message,
            "the server closed the connection without a complete answer on each of 3 attempts"
        );
        assert_eq!(
            count.try_iter().count(),
            ATTEMPTS as usize,
            "tried each time"
        );
    }

    #[test]
    fn a_file_declared_over_the_limit_is_refused_before_it_is_read() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let url = format!(
            "http://{}/model.onnx",
            listener.local_addr().expect("address")
        );
        std::thread::spawn(move || {
            if let Some(Ok(mut stream)) = listener.incoming().next() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                    3 * MAX_MODEL_BYTES / 2
                );
                let _ = stream.write_all(head.as_bytes());
                std::thread::sleep(Duration::from_secs(2));
            }
        });
        let message = fetch(&url, QUICK).expect_err("too large").to_string();
        assert_eq!(
            message,
            "the file is larger than 2 GiB, too large for a model"
        );
    }
}
