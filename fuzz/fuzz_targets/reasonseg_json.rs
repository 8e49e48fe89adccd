//! A ReasonSeg annotation file from a dataset on disk.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use twinseg::dataset::Annotation;

fuzz_target!(|text: &str| {
    if let Ok(annotation) = Annotation::parse(Path::new("fuzz.json"), text) {
        let _ = annotation.rasterise(64, 48);
    }
});
