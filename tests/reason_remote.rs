//! The remote reasoner against a scripted OpenAI-compatible server on
//! 127.0.0.1 that records every request: good answers, answers wrapped in
//! prose or code fences, bad answers, server errors, rate limits, a slow
//! answer past the timeout, a refused key, a missing route, a huge reply,
//! nothing listening, an unknown host and a connection closed without a reply.

#![cfg(feature = "remote-native")]
mod reason_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reason_support::ground_truth_twin;
use twinseg::reason::remote::{
    AnswerError, ApiKey, RemoteConfig, RemoteError, RemoteReasoner, RetryPolicy,
};
use twinseg::scenes::{generate, scene_seed};
use twinseg::twin::DigitalTwin;

/// One scripted reply: status, body, and a delay before answering.
struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

/// One recorded request: request line, headers (lower-cased names) and body.
#[derive(Clone, Debug)]
struct Recorded {
    headers: Vec<(String, String)>,
    body: String,
}

fn chat(content: &str) -> Reply {
    let body =
        serde_json::json!({"choices": [{"message": {"role": "assistant", "content": content}}]});
    Reply {
        status: 200,
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

fn status(code: u16) -> Reply {
    Reply {
        status: code,
        body: r#"{"error": {"message": "scripted"}}"#.into(),
        delay: Duration::ZERO,
    }
}

/// Starts a server that answers each connection with the next scripted reply.
fn serve(script: Vec<Reply>) -> (String, Arc<Mutex<Vec<Recorded>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let log = recorded.clone();
    std::thread::spawn(move || {
        for (reply, stream) in script.into_iter().zip(listener.incoming()) {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut headers = Vec::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some((name, value)) = line.trim_end().split_once(':') {
                    headers.push((name.trim().to_lowercase(), value.trim().to_string()));
                }
                line.clear();
            }
            let length = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            log.lock().expect("log").push(Recorded {
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            std::thread::sleep(reply.delay);
            let response = format!(
                "HTTP/1.1 {} Scripted\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                reply.status,
                reply.body.len(),
                reply.body
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (address, recorded)
}

fn twin() -> DigitalTwin {
    ground_truth_twin(&generate(scene_seed(3, 1))).0
}

fn reasoner(endpoint: &str) -> RemoteReasoner {
    let mut config = RemoteConfig::new(endpoint, "test-model");
    config.api_key = Some(ApiKey::new("sk-test-secret"));
    config.timeout = Duration::from_millis(700);
    config.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    };
    RemoteReasoner::new(config)
}

fn ask(script: Vec<Reply>) -> (Result<twinseg::reason::Answer, RemoteError>, Vec<Recorded>) {
    let (address, recorded) = serve(script);
    let twin = twin();
    let result = reasoner(&address).ask(&twin, "the red circle");
    let log = recorded.lock().expect("log").clone();
    (result, log)
}

#[test]
fn well_formed_answer_and_request_contents() {
    let twin = twin();
    let (result, log) = ask(vec![chat(r#"{"steps": ["Colour red: 1."], "ids": [1]}"#)]);
    let answer = result.expect("answer");
    assert_eq!(answer.ids, vec![1]);
    assert_eq!(answer.steps, vec!["Colour red: 1.".to_string()]);
    assert_eq!(log.len(), 1);
    let request = &log[0];
    let body: serde_json::Value = serde_json::from_str(&request.body).expect("JSON body");
    let user = body["messages"][1]["content"]
        .as_str()
        .expect("user message");
    assert!(
        user.contains(twin.compact().trim_end()),
        "the compact DT was sent"
    );
    assert!(user.contains("the red circle"), "the query was sent");
    assert_eq!(body["response_format"]["type"], "json_object");
    assert!(
        !request.body.contains("base64") && !request.body.contains("image_url"),
        "no image data"
    );
    assert!(
        request.body.len() < 20_000,
        "only the DT and the query are sent"
    );
    let auth = request
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .map(|(_, v)| v.as_str());
    assert_eq!(auth, Some("Bearer sk-test-secret"));
}

#[test]
fn prose_and_code_fences_around_the_json() {
    let (result, _) = ask(vec![chat(
        "Sure. Here you go:\n```json\n{\"steps\": [\"a\"], \"ids\": [2]}\n```\nAnything else?",
    )]);
    assert_eq!(result.expect("answer").ids, vec![2]);
}

#[test]
fn unknown_ids_are_rejected() {
    let (result, _) = ask(vec![chat(r#"{"steps": [], "ids": [1, 99]}"#)]);
    match result {
        Err(RemoteError::Answer(AnswerError::UnknownIds { unknown, .. })) => {
            assert_eq!(unknown, vec![99])
        }
        other => panic!("expected unknown ids, got {other:?}"),
    }
}

#[test]
fn empty_ids_are_a_none_answer_with_reason() {
    let (result, _) = ask(vec![chat(r#"{"steps": ["Nothing is red."], "ids": []}"#)]);
    let answer = result.expect("answer");
    assert!(answer.ids.is_empty());
    assert_eq!(answer.none_reason.as_deref(), Some("Nothing is red."));
}

#[test]
fn invalid_json_is_a_clear_error() {
    let (result, _) = ask(vec![chat("the red one, obviously {ids: [1]")]);
    let error = result.expect_err("invalid JSON");
    assert!(
        matches!(error, RemoteError::Answer(AnswerError::NoJson { .. })),
        "{error:?}"
    );
    assert!(error.to_string().contains("no JSON object"));
}

#[test]
fn server_error_then_success_is_retried() {
    let (result, log) = ask(vec![status(500), chat(r#"{"ids": [1]}"#)]);
    assert_eq!(result.expect("answer").ids, vec![1]);
    assert_eq!(log.len(), 2);
}

#[test]
fn rate_limit_then_success_is_retried() {
    let (result, log) = ask(vec![status(429), chat(r#"{"ids": [1]}"#)]);
    assert_eq!(result.expect("answer").ids, vec![1]);
    assert_eq!(log.len(), 2);
}

#[test]
fn persistent_server_errors_give_up() {
    let (result, log) = ask(vec![status(503), status(503), status(503)]);
    assert!(
        matches!(
            result,
            Err(RemoteError::GaveUp {
                attempts: 3,
                status: 503,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(log.len(), 3);
}

#[test]
fn slow_answer_times_out() {
    let mut slow = chat(r#"{"ids": [1]}"#);
    slow.delay = Duration::from_secs(3);
    let (result, _) = ask(vec![slow]);
    let error = result.expect_err("timeout");
    assert!(matches!(error, RemoteError::Timeout { .. }), "{error:?}");
}

#[test]
fn refused_key_is_unauthorised_and_never_shown() {
    let (result, log) = ask(vec![status(401)]);
    let error = result.expect_err("401");
    assert!(
        matches!(error, RemoteError::Unauthorized { status: 401 }),
        "{error:?}"
    );
    assert!(!error.to_string().contains("sk-test-secret"));
    assert!(!format!("{error:?}").contains("sk-test-secret"));
    assert_eq!(log.len(), 1, "401 is not retried");
}

#[test]
fn json_mode_is_dropped_when_the_server_rejects_it() {
    let (result, log) = ask(vec![status(400), chat(r#"{"ids": [1]}"#)]);
    assert_eq!(result.expect("answer").ids, vec![1]);
    assert!(log[0].body.contains("response_format"));
    assert!(!log[1].body.contains("response_format"));
}

#[test]
fn cancellation_stops_a_waiting_request() {
    let mut slow = chat(r#"{"ids": [1]}"#);
    slow.delay = Duration::from_millis(600);
    let (address, _) = serve(vec![slow]);
    let remote = reasoner(&address);
    let token = remote.cancel_token();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        token.cancel();
    });
    let result = remote.ask(&twin(), "the red circle");
    canceller.join().expect("canceller");
    assert!(matches!(result, Err(RemoteError::Cancelled)), "{result:?}");
}

#[test]
fn missing_endpoint_path_is_a_status_error_naming_it() {
    let mut missing = status(404);
    missing.body = "no such route: /v1/chat/completions".into();
    let (result, log) = ask(vec![missing]);
    let error = result.expect_err("404");
    assert!(
        matches!(error, RemoteError::Status { status: 404, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("HTTP 404: no such route"),
        "{error}"
    );
    assert_eq!(log.len(), 1, "404 is not retried");
}

#[test]
fn a_huge_reply_is_refused_not_read_into_memory() {
    let huge = chat(&"x".repeat(twinseg::reason::remote::MAX_REPLY_BYTES + 1024));
    let (result, _) = ask(vec![huge]);
    let error = result.expect_err("too large");
    assert!(matches!(error, RemoteError::TooLarge { .. }), "{error:?}");
    assert!(error.to_string().contains("larger than 4 MiB"), "{error}");
}

/// The endpoint could not be reached, and the message says so first.
fn assert_unreachable(error: &RemoteError) {
    assert!(matches!(error, RemoteError::Transport(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("could not reach the endpoint"),
        "{error}"
    );
}

#[test]
fn nothing_listening_is_a_transport_error() {
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let error = reasoner(&address)
        .ask(&twin(), "the red circle")
        .expect_err("refused");
    assert_unreachable(&error);
}

#[test]
fn an_unknown_host_is_a_transport_error() {
    let error = reasoner("http://twinseg-no-such-host.invalid")
        .ask(&twin(), "the red circle")
        .expect_err("no such host");
    assert!(
        matches!(
            error,
            RemoteError::Transport(_) | RemoteError::Timeout { .. }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("could not reach the endpoint")
            || error.to_string().contains("did not answer"),
        "{error}"
    );
}

#[test]
fn a_connection_closed_without_a_reply_is_a_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        if let Some(Ok(mut stream)) = listener.incoming().next() {
            let mut start = [0; 64];
            let _ = stream.read(&mut start);
        }
    });
    let error = reasoner(&address)
        .ask(&twin(), "the red circle")
        .expect_err("hung up");
    assert_unreachable(&error);
}
