//! Short fuzzing runs of every parser of outside data, on stable with
//! proptest: arbitrary bytes and mutations of valid inputs must give a value
//! or a typed error, never a panic. The long campaign runs the same targets
//! with `cargo fuzz` (see `fuzz/` and the README); every crash it finds
//! becomes a case in `regressions` below.
//!
//! `PROPTEST_CASES` raises the number of inputs per target.

mod reason_support;

use std::io::Cursor;
use std::path::Path;

use proptest::prelude::*;
use twinseg::dataset::Annotation;
use twinseg::export::CompressedRle;
use twinseg::image_io::{self, MAX_PIXELS, MAX_SIDE};
use twinseg::model::{ModelSource, SamModel};
use twinseg::protocol::{FromWorker, ToWorker};
use twinseg::reason::remote::answer::parse_answer;
use twinseg::scenes;
use twinseg::twin::DigitalTwin;

/// A valid small image in `format`, the seed the mutations start from.
fn encoded_image(format: image::ImageFormat) -> Vec<u8> {
    let image =
        image::RgbImage::from_fn(23, 17, |x, y| image::Rgb([x as u8 * 9, y as u8 * 13, 77]));
    let mut bytes = Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, format)
        .expect("encoding a small image");
    bytes.into_inner()
}

/// Overwrites, truncates or extends `seed` as the strategy's numbers say.
fn mutate(seed: &[u8], edits: &[(usize, u8)], cut: usize, tail: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for &(at, value) in edits {
        if !bytes.is_empty() {
            let at = at % bytes.len();
            bytes[at] = value;
        }
    }
    bytes.truncate(bytes.len().saturating_sub(cut % (bytes.len() + 1)));
    bytes.extend_from_slice(tail);
    bytes
}

fn mutation() -> impl Strategy<Value = (Vec<(usize, u8)>, usize, Vec<u8>)> {
    (
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        prop_oneof![Just(0usize), any::<usize>()],
        prop::collection::vec(any::<u8>(), 0..16),
    )
}

/// A Digital Twin of a generated scene, built from its ground-truth masks.
fn scene_twin_json() -> String {
    let scene = scenes::generate(scenes::scene_seed(11, 0));
    reason_support::ground_truth_twin(&scene).0.to_json()
}

fn check_decoded(result: Result<image::RgbImage, image_io::ImageError>) {
    if let Ok(image) = result {
        let (w, h) = image.dimensions();
        assert!(w >= 1 && h >= 1 && w <= MAX_SIDE && h <= MAX_SIDE);
        assert!(u64::from(w) * u64::from(h) <= MAX_PIXELS);
    } else if let Err(error) = result {
        assert!(!error.to_string().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn image_decoding_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_decoded(image_io::decode(&bytes));
    }

    #[test]
    fn image_decoding_survives_damaged_files(
        format in prop::sample::select(vec![
            image::ImageFormat::Png,
            image::ImageFormat::Jpeg,
            image::ImageFormat::Gif,
            image::ImageFormat::Bmp,
            image::ImageFormat::Tiff,
            image::ImageFormat::WebP,
        ]),
        (edits, cut, tail) in mutation(),
    ) {
        let bytes = mutate(&encoded_image(format), &edits, cut, &tail);
        check_decoded(image_io::decode(&bytes));
    }

    #[test]
    fn twin_json_reading_survives_damage((edits, cut, tail) in mutation()) {
        let json = scene_twin_json();
        let bytes = mutate(json.as_bytes(), &edits, cut, &tail);
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(twin) = DigitalTwin::from_json(&text) {
            prop_assert!(twin.validate().is_ok());
        }
    }

    #[test]
    fn twin_json_reading_survives_arbitrary_text(text in ".{0,200}") {
        let starts_like_json = text.trim_start().starts_with('{');
        prop_assert!(DigitalTwin::from_json(&text).is_err() || starts_like_json);
    }

    #[test]
    fn llm_answers_never_panic(text in ".{0,300}", ids in prop::collection::vec(0u32..50, 0..10)) {
        if let Ok(answer) = parse_answer(&text, &ids) {
            prop_assert!(answer.ids.iter().all(|id| ids.contains(id)));
        }
    }

    #[test]
    fn llm_answers_with_json_inside_prose(
        prose in "[a-zA-Z ,.]{0,40}",
        ids in prop::collection::vec(0u32..20, 0..5),
        known in prop::collection::vec(0u32..20, 0..10),
    ) {
        let body = format!(
            "{prose} {{\"steps\": [\"look\"], \"ids\": {ids:?}}} {prose}"
        );
        if let Ok(answer) = parse_answer(&body, &known) {
            prop_assert!(answer.ids.iter().all(|id| known.contains(id)));
        }
    }

    #[test]
    fn compressed_rle_never_panics(
        counts in "[0-9a-zA-Z\\[\\]\\\\^_`]{0,64}",
        height in 0u32..300,
        width in 0u32..300,
    ) {
        let rle = CompressedRle { size: [height, width], counts };
        if let Ok(mask) = rle.to_mask() {
            prop_assert_eq!((mask.width(), mask.height()), (width, height));
        }
    }

    #[test]
    fn compressed_rle_with_any_text_never_panics(counts in ".{0,64}", size in any::<[u32; 2]>()) {
        let _ = CompressedRle { size, counts }.decompress();
    }

    #[test]
    fn reasonseg_annotations_never_panic(text in ".{0,200}") {
        let _ = Annotation::parse(Path::new("sample.json"), &text);
    }

    #[test]
    fn reasonseg_annotations_survive_damage((edits, cut, tail) in mutation()) {
        let valid = r#"{"text": ["the red one"], "is_sentence": false, "shapes": [
            {"label": "target", "shape_type": "polygon", "points": [[1,1],[30,2],[20,25]]},
            {"label": "ignore", "shape_type": "polygon", "points": [[5,5],[9,5],[9,9]]}]}"#;
        let bytes = mutate(valid.as_bytes(), &edits, cut, &tail);
        if let Ok(annotation) = Annotation::parse(Path::new("sample.json"), &String::from_utf8_lossy(&bytes)) {
            let _ = annotation.shapes.len();
        }
    }

    #[test]
    fn worker_messages_never_panic(text in ".{0,200}") {
        let _ = ToWorker::from_json(&text);
        let _ = FromWorker::from_json(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn model_loading_survives_damaged_onnx(
        (edits, cut, tail) in mutation(),
        damage_encoder in any::<bool>(),
    ) {
        let (encoder, decoder) = SamModel::builtin_bytes();
        let (encoder, decoder) = if damage_encoder {
            (mutate(encoder, &edits, cut, &tail), decoder.to_vec())
        } else {
            (encoder.to_vec(), mutate(decoder, &edits, cut, &tail))
        };
        if let Err(error) = SamModel::load(ModelSource::Bytes(encoder), ModelSource::Bytes(decoder)) {
            prop_assert!(!error.to_string().is_empty());
        }
    }
}

mod regressions {
    #[test]
    fn an_rle_claiming_a_huge_mask_is_refused_before_allocating() {
        let rle = twinseg::export::Rle {
            size: [65_535, 65_535],
            counts: vec![u32::MAX],
        };
        let error = rle
            .to_mask()
            .expect_err("a 4-gigapixel mask must be refused");
        assert!(error.to_string().contains("65535x65535"), "{error}");
    }

    /// Found by reading `DigitalTwin::validate` during the `cargo fuzz`
    /// campaign of issue 10 and reproduced with the `twin_json` target (whose
    /// read-back assertion panicked): 1e39 is beyond f32, reads as infinity
    /// and was written back as `null`, so the twin read but did not read back.
    #[test]
    fn a_twin_with_a_measure_beyond_f32_is_refused_when_read() {
        let json = br#"{"version":"1","image":{"width":8,"height":8},"objects":[{"id":1,"parent":null,"level":"object","segment":0,"bbox":[0,0,10,10],"centroid":[5,5],"area_pct":1.0,"position":"top-left","colours":[],"lab":[0,0,0],"shape":{"word":null,"circularity":1e39,"solidity":1.0,"aspect":1.0,"orientation":0,"corners":4},"predicted_iou":0.9,"stability_score":0.9}],"relations":[]}"#;
        let text = std::str::from_utf8(json).expect("the case is UTF-8");
        let error = twinseg::twin::DigitalTwin::from_json(text)
            .expect_err("an infinite circularity must be refused");
        assert!(
            matches!(error, twinseg::twin::TwinError::Invalid(_)),
            "{error:?}"
        );
        assert!(error.to_string().contains("shape.circularity"), "{error}");

        let finite = text.replace("1e39", "0.5");
        let twin = twinseg::twin::DigitalTwin::from_json(&finite).expect("the finite twin reads");
        twinseg::twin::DigitalTwin::from_json(&twin.to_json()).expect("and reads back");
    }

    /// A slow input of the `image_decode` fuzz target (issue 10 campaign): a
    /// 695-byte JPEG that declares 3072x8201 pixels, under the pixel limit,
    /// on which the decoder spent about 4 s of CPU inventing pixels.
    #[test]
    fn a_tiny_jpeg_claiming_25_megapixels_is_refused_before_decoding() {
        let bytes = include_bytes!("data/jpeg-claiming-25-megapixels.jpg");
        let error = twinseg::image_io::decode(bytes).expect_err("must be refused");
        assert!(
            matches!(error, twinseg::image_io::ImageError::Truncated { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("declares 3072x8201 pixels; it is truncated"),
            "{error}"
        );
    }

    /// A crash of the `model_load` fuzz target (issue 10 campaign): an
    /// encoder whose declared output no node produces (the fuzzer shuffled
    /// the bytes of its name) made tract panic on an index instead of
    /// returning an error.
    #[test]
    fn an_onnx_graph_whose_output_nothing_produces_is_refused_with_its_name() {
        let bytes = include_bytes!("data/encoder-output-produced-by-no-node.onnx");
        let error = twinseg::encoder::Encoder::from_bytes(bytes).expect_err("must be refused");
        assert!(
            matches!(error, twinseg::model::ModelError::NotOnnx { .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("no node produces its output `imae_bmgeeddings`"),
            "{error}"
        );
    }

    /// Found by `model_loading_survives_damaged_onnx` (2026-12-07): one
    /// damaged byte and two bytes more at the end of the built-in decoder
    /// made tract panic while it read the graph (an unwrap in tract-hir),
    /// instead of returning an error.
    #[test]
    fn a_decoder_damaged_where_tract_panics_is_refused_with_an_error() {
        let (_, decoder) = twinseg::model::SamModel::builtin_bytes();
        let damaged = super::mutate(decoder, &[(10_882_229_106_964_494_991, 3)], 0, &[120, 0]);
        let error = twinseg::decoder::Decoder::from_bytes(&damaged).expect_err("must be refused");
        assert!(
            matches!(error, twinseg::model::ModelError::Damaged { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("decoder"), "{error}");
    }
}
