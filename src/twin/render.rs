//! Text renderings of a twin: the compact table sent to language models, and
//! a rough token estimate used to measure what a rendering costs.
//!
//! The compact form (mapping in `docs/digital-twin.md`):
//!
//! ```text
//! twin v1 image 640x480; coords 0-1000 (x right, y down); area % of image
//! id parent level bbox(x0,y0,x1,y1) centroid position area colours shape
//! 1 - object 120,80,400,390 260,235 top-left 8.41 red circle
//! 2 1 part 200,150,320,260 260,205 top-left 1.20 yellow/white star
//! touching: 1-3 4-5
//! ```

use std::fmt::Write;

use super::{DigitalTwin, Level, RelationKind, TwinObject};

/// Relation kinds included in [`compact`]; the others follow from the bbox and
/// parent columns (measured trade-off in `docs/digital-twin.md`).
pub const COMPACT_RELATIONS: &[RelationKind] = &[RelationKind::Touching];

/// The compact form with the relation kinds of [`COMPACT_RELATIONS`].
pub fn compact(twin: &DigitalTwin) -> String {
    compact_with(twin, COMPACT_RELATIONS)
}

/// The compact form listing the relations of the given kinds (one line per kind).
pub fn compact_with(twin: &DigitalTwin, kinds: &[RelationKind]) -> String {
    let labelled = twin.objects.iter().any(|o| o.label.is_some());
    let mut out = format!(
        "twin v{} image {}x{}; coords 0-1000 (x right, y down); area % of image\n",
        twin.version, twin.image.width, twin.image.height
    );
    out.push_str("id parent level bbox(x0,y0,x1,y1) centroid position area colours shape");
    if labelled {
        out.push_str(" label");
    }
    out.push('\n');
    for o in &twin.objects {
        row(&mut out, o, labelled);
    }
    for &kind in kinds {
        let pairs: Vec<String> = twin
            .relations
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| format!("{}-{}", r.a, r.b))
            .collect();
        if !pairs.is_empty() {
            let _ = writeln!(out, "{}: {}", relation_word(kind), pairs.join(" "));
        }
    }
    out
}

fn row(out: &mut String, o: &TwinObject, labelled: bool) {
    let parent = o.parent.map_or_else(|| "-".to_string(), |p| p.to_string());
    let colours: Vec<&str> = o.colours.iter().map(|c| c.name.as_str()).collect();
    let colours = if colours.is_empty() {
        "-".to_string()
    } else {
        colours.join("/")
    };
    let shape = o.shape.word.map_or("-", |w| w.word());
    let [x0, y0, x1, y1] = o.bbox;
    let [cx, cy] = o.centroid;
    let _ = write!(
        out,
        "{} {parent} {} {x0},{y0},{x1},{y1} {cx},{cy} {} {:.2} {colours} {shape}",
        o.id,
        level_word(o.level),
        o.position.word(),
        o.area_pct,
    );
    if labelled {
        let label = o.label.as_deref().unwrap_or("");
        let _ = write!(out, " {}", serde_json::Value::from(label));
    }
    out.push('\n');
}

/// The word for a level in the compact form.
pub fn level_word(level: Level) -> &'static str {
    match level {
        Level::Object => "object",
        Level::Part => "part",
        Level::Subpart => "subpart",
    }
}

/// The word for a relation kind in the compact form and the JSON.
pub fn relation_word(kind: RelationKind) -> &'static str {
    match kind {
        RelationKind::Touching => "touching",
        RelationKind::LeftOf => "left-of",
        RelationKind::Above => "above",
    }
}

/// A rough count of the tokens a BPE tokenizer of today's chat models
/// (cl100k / o200k style) makes of `text`.
///
/// Letter runs cost one token per six letters (common words are one token,
/// long identifiers split); digit runs one per three digits (those tokenizers
/// split numbers into groups of up to three); punctuation runs one per two
/// characters (`":`, `},` and the like are merged); a single space before a
/// word is free; other whitespace runs one token each; any other character
/// one token. On twins it lands within about a quarter of the real count,
/// which is enough to compare renderings.
pub fn estimate_tokens(text: &str) -> usize {
    let mut tokens = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let class = CharClass::of(c);
        let mut len: usize = 1;
        while chars.peek().is_some_and(|&n| CharClass::of(n) == class) {
            chars.next();
            len += 1;
        }
        tokens += match class {
            CharClass::Letter => len.div_ceil(6),
            CharClass::Digit => len.div_ceil(3),
            CharClass::Punct => len.div_ceil(2),
            CharClass::Space if len == 1 => 0,
            CharClass::Space => 1,
            CharClass::Other => len,
        };
    }
    tokens
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Letter,
    Digit,
    Punct,
    Space,
    Other,
}

impl CharClass {
    fn of(c: char) -> Self {
        if c.is_ascii_alphabetic() {
            CharClass::Letter
        } else if c.is_ascii_digit() {
            CharClass::Digit
        } else if c.is_ascii_whitespace() {
            CharClass::Space
        } else if c.is_ascii_punctuation() {
            CharClass::Punct
        } else {
            CharClass::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_estimate_counts_words_numbers_and_punctuation() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("red circle"), 2);
        assert_eq!(estimate_tokens("1000"), 2);
        assert_eq!(estimate_tokens("{\"id\":"), 3);
        assert_eq!(estimate_tokens("predicted"), 2);
        assert!(estimate_tokens("x\n    y") == 3);
    }
}
