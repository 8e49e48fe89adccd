//! What a language model server sends back: the chat/completions body, and
//! the answer text inside it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinseg::reason::remote::answer::{message_content, parse_answer};

fuzz_target!(|text: &str| {
    let known: Vec<u32> = (0..40).collect();
    let content = message_content(text).unwrap_or_else(|_| text.to_string());
    if let Ok(answer) = parse_answer(&content, &known) {
        assert!(answer.ids.iter().all(|id| known.contains(id)));
    }
});
