//! The shared MobileSAM reference models (real architecture, random weights)
//! load through the SAM contract checks and run natively: f32 and int8
//! encoders, and every decoder flavour (4-mask f32, batched f32, the upstream
//! `quantize_dynamic` int8 whose run-time-scale `DequantizeLinear` is
//! rewritten at load, int8 of MatMul/Conv only, and the 1-mask int8).
//!
//! The models live in `../shared/models/` next to the project; a user's clone
//! has no such folder, and then the test prints why and passes without
//! checking anything. The weights are random, so masks are meaningless:
//! the test checks shapes, finite values and that prompts reach the model.

use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};
use twinseg::decoder::{Decoder, Prediction, Prompt};
use twinseg::encoder::{Embedding, Encoder, EMBED_CHANNELS, EMBED_SIDE};

const LOW_RES_CELLS: usize = 256 * 256;

fn models_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/models");
    dir.join("mobilesam_encoder_f32.onnx")
        .is_file()
        .then_some(dir)
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
}

/// A small image with two flat shapes on a background.
fn image() -> RgbImage {
    RgbImage::from_fn(96, 64, |x, y| {
        if (10..40).contains(&x) && (12..44).contains(&y) {
            Rgb([200, 40, 40])
        } else if (55..85).contains(&x) && (20..50).contains(&y) {
            Rgb([30, 60, 210])
        } else {
            Rgb([235, 235, 225])
        }
    })
}

fn embed(dir: &Path, name: &str, image: &RgbImage) -> Embedding {
    let encoder = Encoder::from_bytes(&read(dir, name))
        .unwrap_or_else(|e| panic!("{name} fails the contract or tract: {e}"));
    let embedding = encoder
        .embed(image)
        .unwrap_or_else(|e| panic!("{name} does not run: {e}"));
    let values = embedding.values().expect("embedding values");
    assert_eq!(values.len(), EMBED_CHANNELS * EMBED_SIDE * EMBED_SIDE);
    assert!(values.iter().all(|v| v.is_finite()), "{name}: non-finite");
    assert!(
        values.iter().any(|&v| v != values[0]),
        "{name}: constant embedding"
    );
    embedding
}

fn check_prediction(name: &str, what: &str, p: &Prediction, masks: usize) {
    assert_eq!(p.masks.len(), masks, "{name} {what}: mask count");
    assert_eq!(p.iou.len(), masks, "{name} {what}: score count");
    assert!(p.iou.iter().all(|v| v.is_finite()), "{name} {what}: iou");
    for mask in &p.masks {
        assert_eq!(mask.logits().len(), LOW_RES_CELLS, "{name} {what}");
        assert!(
            mask.logits().iter().all(|v| v.is_finite()),
            "{name} {what}: non-finite logits"
        );
    }
}

/// Loads one decoder, predicts a point, a box and a two-prompt batch.
fn run_decoder(dir: &Path, name: &str, embedding: &Embedding, masks: usize, batched: bool) {
    let decoder = Decoder::from_bytes(&read(dir, name))
        .unwrap_or_else(|e| panic!("{name} fails the contract or tract: {e}"));
    assert_eq!(decoder.masks_per_prompt(), masks, "{name}");
    assert_eq!(decoder.is_batched(), batched, "{name}");
    let point = decoder
        .predict(embedding, &Prompt::point(25.0, 28.0))
        .unwrap_or_else(|e| panic!("{name} point: {e}"));
    check_prediction(name, "point", &point, masks);
    let boxed = decoder
        .predict(embedding, &Prompt::boxed([50.0, 15.0, 90.0, 55.0]))
        .unwrap_or_else(|e| panic!("{name} box: {e}"));
    check_prediction(name, "box", &boxed, masks);
    assert_ne!(
        point.masks[0].logits(),
        boxed.masks[0].logits(),
        "{name}: a point and a box gave the same logits"
    );
    let batch = decoder
        .predict_batch(
            embedding,
            &[Prompt::point(25.0, 28.0), Prompt::point(70.0, 35.0)],
        )
        .unwrap_or_else(|e| panic!("{name} batch: {e}"));
    assert_eq!(batch.len(), 2, "{name}");
    let diff = batch[0].masks[0]
        .logits()
        .iter()
        .zip(point.masks[0].logits())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        diff < 1e-3,
        "{name}: batched and single runs differ by {diff}"
    );
    println!("{name}: ok ({masks} masks, batched {batched})");
}

/// Pearson correlation of two equally long series.
fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64;
    let mean = |v: &[f32]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let (ma, mb) = (mean(a), mean(b));
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (f64::from(x) - ma, f64::from(y) - mb);
        ab += dx * dy;
        aa += dx * dx;
        bb += dy * dy;
    }
    ab / (aa * bb).sqrt()
}

#[test]
fn every_reference_model_loads_and_runs() {
    let Some(dir) = models_dir() else {
        println!("skipped: ../shared/models (the MobileSAM reference models) is not here");
        return;
    };
    let image = image();
    let f32_embedding = embed(&dir, "mobilesam_encoder_f32.onnx", &image);
    run_decoder(&dir, "mobilesam_decoder_f32.onnx", &f32_embedding, 4, false);
    run_decoder(
        &dir,
        "mobilesam_decoder_batched_f32.onnx",
        &f32_embedding,
        4,
        true,
    );
    let int8_embedding = embed(&dir, "mobilesam_encoder_int8.onnx", &image);
    let corr = correlation(
        &f32_embedding.values().expect("values"),
        &int8_embedding.values().expect("values"),
    );
    println!("int8 vs f32 encoder: correlation {corr:.5}");
    assert!(
        corr > 0.99,
        "the int8 encoder strays from the f32 one: {corr}"
    );
    for name in [
        "mobilesam_decoder_int8.onnx",
        "mobilesam_decoder_int8_mmconv.onnx",
    ] {
        run_decoder(&dir, name, &int8_embedding, 4, false);
    }
    run_decoder(
        &dir,
        "mobilesam_decoder_single_int8.onnx",
        &int8_embedding,
        1,
        false,
    );
}
