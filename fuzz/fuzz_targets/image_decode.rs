//! Image bytes from a person or a download: decoding and SAM preparation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = twinseg::image_io::decode(data) {
        let prepared = twinseg::prepare::prepare(&image);
        assert_eq!(prepared.shape(), [1, 3, 1024, 1024]);
    }
});
