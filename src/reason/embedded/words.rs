//! Turning a sentence into lemmas: normalising, splitting, undoing plurals,
//! comparatives, superlatives and verb endings, and spelling variants.

use super::lexicon;

/// How strongly a gradable word is used: "big", "bigger", "biggest".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Degree {
    /// The plain form ("big").
    Positive,
    /// The comparative form ("bigger").
    Comparative,
    /// The superlative form ("biggest", "left-most").
    Superlative,
}

/// One word of the query reduced to its dictionary form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lemma {
    /// The dictionary form ("circle" for "circles", "big" for "biggest").
    pub base: String,
    /// The degree the word was used in.
    pub degree: Degree,
    /// Whether the word was a plural noun.
    pub plural: bool,
}

/// Lower-cases and splits a query into words, expanding contractions and
/// splitting hyphenated compounds ("top-left" → "top left", "left-most" →
/// "leftmost", "3rd" stays one word).
pub fn split(text: &str) -> Vec<String> {
    let lowered = text
        .to_lowercase()
        .replace(['\u{2019}', '\u{2018}', '`'], "'");
    let mut words = Vec::new();
    for raw in lowered.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-')) {
        for piece in expand_contraction(raw) {
            push_hyphenated(&piece, &mut words);
        }
    }
    words
}

fn expand_contraction(raw: &str) -> Vec<String> {
    let word = raw.trim_matches(|c| c == '\'' || c == '-');
    if word.is_empty() {
        return Vec::new();
    }
    let expanded: &[&str] = match word {
        "can't" | "cannot" => &["can", "not"],
        "won't" => &["will", "not"],
        "what's" => &["what", "is"],
        "where's" => &["where", "is"],
        "which's" => &["which", "is"],
        "that's" => &["that", "is"],
        "it's" => &["it", "is"],
        "there's" => &["there", "is"],
        "who's" => &["who", "is"],
        "i'm" => &["i", "am"],
        _ => &[],
    };
    if !expanded.is_empty() {
        return expanded.iter().map(|s| s.to_string()).collect();
    }
    if let Some(stem) = word.strip_suffix("n't") {
        return vec![stem.to_string(), "not".to_string()];
    }
    if let Some(stem) = word.strip_suffix("'s").or_else(|| word.strip_suffix("'re")) {
        return vec![stem.to_string()];
    }
    vec![word.replace('\'', "")]
}

fn push_hyphenated(piece: &str, words: &mut Vec<String>) {
    let parts: Vec<&str> = piece.split('-').filter(|p| !p.is_empty()).collect();
    let mut i = 0;
    while i < parts.len() {
        if i + 1 < parts.len() && parts[i + 1] == "most" {
            words.push(format!("{}most", parts[i]));
            i += 2;
        } else {
            words.push(parts[i].to_string());
            i += 1;
        }
    }
}

/// Reduces one word to its lemma, preferring forms the lexicon knows.
pub fn lemmatise(word: &str) -> Lemma {
    let word = respell(word);
    if let Some((base, degree)) = irregular(&word) {
        return lemma(base, degree, false);
    }
    if lexicon::is_known(&word) {
        return lemma(&word, Degree::Positive, false);
    }
    if let Some(base) = word.strip_suffix("most").filter(|b| lexicon::is_known(b)) {
        return lemma(base, Degree::Superlative, false);
    }
    for (base, degree) in graded_bases(&word) {
        if lexicon::is_gradable(&base) {
            return lemma(&base, degree, false);
        }
    }
    for base in plural_bases(&word) {
        if lexicon::is_known(&base) {
            return lemma(&base, Degree::Positive, true);
        }
    }
    for base in verb_bases(&word) {
        if lexicon::is_known(&base) {
            return lemma(&base, Degree::Positive, false);
        }
    }
    lemma(&word, Degree::Positive, false)
}

fn irregular(word: &str) -> Option<(&'static str, Degree)> {
    Some(match word {
        "further" | "farther" => ("far", Degree::Comparative),
        "furthest" | "farthest" => ("far", Degree::Superlative),
        "lesser" => ("small", Degree::Comparative),
        _ => return None,
    })
}

fn lemma(base: &str, degree: Degree, plural: bool) -> Lemma {
    Lemma {
        base: respell(base),
        degree,
        plural,
    }
}

fn respell(word: &str) -> String {
    let american = [
        ("color", "colour"),
        ("gray", "grey"),
        ("centre", "center"),
        ("favor", "favour"),
    ];
    let mut out = word.to_string();
    for (from, to) in american {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out
}

fn graded_bases(word: &str) -> Vec<(String, Degree)> {
    let mut out = Vec::new();
    for (suffix, degree) in [("est", Degree::Superlative), ("er", Degree::Comparative)] {
        let Some(stem) = word.strip_suffix(suffix) else {
            continue;
        };
        if let Some(y_stem) = stem.strip_suffix('i') {
            out.push((format!("{y_stem}y"), degree));
        }
        out.push((stem.to_string(), degree));
        out.push((format!("{stem}e"), degree));
        let bytes = stem.as_bytes();
        if bytes.len() >= 2 && bytes[bytes.len() - 1] == bytes[bytes.len() - 2] {
            out.push((stem[..stem.len() - 1].to_string(), degree));
        }
    }
    out
}

fn plural_bases(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(stem) = word.strip_suffix("ies") {
        out.push(format!("{stem}y"));
    }
    if let Some(stem) = word.strip_suffix("ices") {
        out.push(format!("{stem}ex"));
    }
    if let Some(stem) = word.strip_suffix("ves") {
        out.push(format!("{stem}f"));
    }
    if let Some(stem) = word.strip_suffix("es") {
        out.push(stem.to_string());
    }
    if let Some(stem) = word.strip_suffix('s') {
        out.push(stem.to_string());
    }
    out
}

fn verb_bases(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    for suffix in ["ing", "ed", "es", "s", "d"] {
        let Some(stem) = word.strip_suffix(suffix) else {
            continue;
        };
        out.push(stem.to_string());
        out.push(format!("{stem}e"));
        let bytes = stem.as_bytes();
        if bytes.len() >= 2 && bytes[bytes.len() - 1] == bytes[bytes.len() - 2] {
            out.push(stem[..stem.len() - 1].to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_contractions_and_hyphens() {
        assert_eq!(split("What's left-most?"), ["what", "is", "leftmost"]);
        assert_eq!(
            split("the top-left one isn't red"),
            ["the", "top", "left", "one", "is", "not", "red"]
        );
        assert_eq!(
            split("Square’s colour, please!"),
            ["square", "colour", "please"]
        );
    }

    #[test]
    fn undoes_plurals() {
        let circles = lemmatise("circles");
        assert_eq!((circles.base.as_str(), circles.plural), ("circle", true));
        assert_eq!(lemmatise("boxes").base, "box");
        assert_eq!(lemmatise("vertices").base, "vertex");
        assert_eq!(lemmatise("cherries").base, "cherry");
    }

    #[test]
    fn undoes_grading() {
        let biggest = lemmatise("biggest");
        assert_eq!(
            (biggest.base.as_str(), biggest.degree),
            ("big", Degree::Superlative)
        );
        let larger = lemmatise("larger");
        assert_eq!(
            (larger.base.as_str(), larger.degree),
            ("large", Degree::Comparative)
        );
        assert_eq!(lemmatise("tiniest").base, "tiny");
        assert_eq!(lemmatise("leftmost").degree, Degree::Superlative);
        assert_eq!(lemmatise("corner").degree, Degree::Positive);
    }

    #[test]
    fn undoes_verb_endings_and_spelling() {
        assert_eq!(lemmatise("touching").base, "touch");
        assert_eq!(lemmatise("contains").base, "contain");
        assert_eq!(lemmatise("rolling").base, "roll");
        assert_eq!(lemmatise("gray").base, "grey");
    }
}
