//! ONNX bytes a person picks or downloads, loaded as an encoder or a decoder
//! (the first byte chooses which). Each part is parsed, checked and optimised
//! on its own, as `SamModel::load` does, so no input pays for loading the
//! untouched half of the pair.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinseg::decoder::Decoder;
use twinseg::encoder::Encoder;

fuzz_target!(|data: &[u8]| {
    let Some((&which, onnx)) = data.split_first() else {
        return;
    };
    if which % 2 == 0 {
        let _ = Encoder::from_bytes(onnx);
    } else {
        let _ = Decoder::from_bytes(onnx);
    }
});
