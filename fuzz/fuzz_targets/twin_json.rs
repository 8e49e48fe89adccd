//! A Digital Twin read back from JSON (a download, a tool's output).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(twin) = twinseg::twin::DigitalTwin::from_json(text) {
        let _ = twin.compact();
        let _ = twinseg::twin::DigitalTwin::from_json(&twin.to_json())
            .expect("a twin that was read must read back after writing");
    }
});
