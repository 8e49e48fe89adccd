//! ONNX bytes a person picks or downloads, as the decoder of a model pair
//! (the first byte chooses which of the pair the input replaces).
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinseg::model::{ModelSource, SamModel};

fuzz_target!(|data: &[u8]| {
    let Some((&which, onnx)) = data.split_first() else {
        return;
    };
    let (encoder, decoder) = SamModel::builtin_bytes();
    let (encoder, decoder) = if which % 2 == 0 {
        (onnx.to_vec(), decoder.to_vec())
    } else {
        (encoder.to_vec(), onnx.to_vec())
    };
    let _ = SamModel::load(ModelSource::Bytes(encoder), ModelSource::Bytes(decoder));
});
