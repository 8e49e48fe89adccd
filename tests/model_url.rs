//! Loading a model pair by URL (native `download` feature): a small HTTP
//! server on 127.0.0.1 inside the test serves the built-in test model, a 404,
//! and a web page instead of a model; a closed port refuses the connection.
//! Each failure is a typed error that names the model half, the address and
//! the problem.
#![cfg(feature = "download")]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use twinseg::decoder::Prompt;
use twinseg::model::{ModelError, ModelSource, Role, SamModel};

/// Serves `/encoder.onnx`, `/decoder.onnx` and `/page.html`; anything else is 404.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || answer(stream));
        }
    });
    address
}

fn answer(mut stream: TcpStream) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (encoder, decoder) = SamModel::builtin_bytes();
    let (status, body): (&str, &[u8]) = match path {
        "/encoder.onnx" => ("200 OK", encoder),
        "/decoder.onnx" => ("200 OK", decoder),
        "/page.html" => ("200 OK", b"<!doctype html><title>Not a model</title>"),
        _ => ("404 Not Found", b"not found"),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// An address on which nothing listens.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let address = format!(
        "http://{}/encoder.onnx",
        listener.local_addr().expect("address")
    );
    drop(listener);
    address
}

fn load(encoder: &str, decoder: &str) -> Result<SamModel, ModelError> {
    SamModel::load(ModelSource::parse(encoder), ModelSource::parse(decoder))
}

#[test]
fn a_model_pair_served_over_http_loads_and_segments() {
    let base = serve();
    let model = load(
        &format!("{base}/encoder.onnx"),
        &format!("{base}/decoder.onnx"),
    )
    .expect("the served model loads");
    let image = image::RgbImage::from_fn(64, 48, |x, y| {
        if (16..40).contains(&x) && (10..34).contains(&y) {
            image::Rgb([220, 30, 30])
        } else {
            image::Rgb([240, 240, 240])
        }
    });
    let embedding = model.embed(&image).expect("embedding");
    let prediction = model
        .predict(&embedding, &Prompt::point(28.0, 22.0))
        .expect("prediction");
    let mask = prediction
        .best()
        .expect("a mask")
        .to_mask(embedding.frame(), 0.0);
    assert!(
        mask.get(20, 15) && !mask.get(5, 5),
        "the red square, not the background"
    );
}

#[test]
fn a_missing_file_is_a_download_error_with_the_status() {
    let base = serve();
    let url = format!("{base}/nothing-here.onnx");
    match load(&url, &format!("{base}/decoder.onnx")) {
        Err(
            err @ ModelError::Download {
                role: Role::Encoder,
                ..
            },
        ) => {
            let text = err.to_string();
            assert!(text.contains(&url) && text.contains("404"), "{text}");
        }
        other => panic!(
            "expected a download error, got {:?}",
            other.map(|_| "a model")
        ),
    }
}

#[test]
fn a_refused_connection_is_a_download_error_saying_so() {
    let url = closed_port();
    match load(&url, &url) {
        Err(
            err @ ModelError::Download {
                role: Role::Encoder,
                ..
            },
        ) => {
            let text = err.to_string();
            assert!(
                text.contains(&url) && text.to_lowercase().contains("refused"),
                "{text}"
            );
        }
        other => panic!(
            "expected a download error, got {:?}",
            other.map(|_| "a model")
        ),
    }
}

#[test]
fn a_web_page_instead_of_a_model_is_not_onnx() {
    let base = serve();
    match load(
        &format!("{base}/encoder.onnx"),
        &format!("{base}/page.html"),
    ) {
        Err(
            err @ ModelError::NotOnnx {
                role: Role::Decoder,
                ..
            },
        ) => {
            let text = err.to_string();
            assert!(
                text.contains("decoder") && text.contains("not a valid ONNX"),
                "{text}"
            );
        }
        other => panic!(
            "expected a not-ONNX error, got {:?}",
            other.map(|_| "a model")
        ),
    }
}
