//! Reading a remote model's reply: the chat/completions envelope, then the
//! `{"steps": [...], "ids": [...]}` answer inside the message text, which may
//! come wrapped in prose, code fences or a thinking block. Pure functions
//! that never panic on what a server sends.

use serde_json::Value;

use crate::reason::Answer;

/// Why a reply could not be read as an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The HTTP body is not a chat/completions reply.
    #[error("the server's reply is not a chat completion: {0}")]
    Envelope(String),
    /// No JSON object with an "ids" field was found in the model's text.
    #[error("the model's answer holds no JSON object with \"ids\" (it began: {excerpt:?})")]
    NoJson {
        /// The start of the model's text.
        excerpt: String,
    },
    /// "ids" is not a list of integer ids.
    #[error("the model's \"ids\" is not a list of object ids: {0}")]
    BadIds(String),
    /// The model named ids the Digital Twin does not have.
    #[error("the model named object id(s) {unknown:?}, which the Digital Twin does not have (it has {known} objects)")]
    UnknownIds {
        /// The ids not in the twin.
        unknown: Vec<u64>,
        /// How many objects the twin has.
        known: usize,
    },
}

/// The message text of a chat/completions reply body.
pub fn message_content(body: &str) -> Result<String, AnswerError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|_| AnswerError::Envelope(format!("not JSON (it began: {:?})", excerpt(body))))?;
    let message = &value["choices"][0]["message"];
    if let Some(text) = message["content"].as_str() {
        return Ok(text.to_string());
    }
    if let Some(refusal) = message["refusal"].as_str() {
        return Err(AnswerError::Envelope(format!(
            "the model refused: {}",
            excerpt(refusal)
        )));
    }
    if let Some(error) = value["error"]["message"].as_str() {
        return Err(AnswerError::Envelope(format!(
            "the server reported: {}",
            excerpt(error)
        )));
    }
    Err(AnswerError::Envelope(
        "no choices[0].message.content".into(),
    ))
}

/// Parses the model's text into an [`Answer`], checking every id against `known_ids`.
/// An empty id list is a valid "none of them" answer.
pub fn parse_answer(text: &str, known_ids: &[u32]) -> Result<Answer, AnswerError> {
    let object = find_answer_object(text).ok_or_else(|| AnswerError::NoJson {
        excerpt: excerpt(text),
    })?;
    let ids = read_ids(&object["ids"])?;
    let unknown: Vec<u64> = ids
        .iter()
        .copied()
        .filter(|id| !known_ids.iter().any(|k| u64::from(*k) == *id))
        .collect();
    if !unknown.is_empty() {
        return Err(AnswerError::UnknownIds {
            unknown,
            known: known_ids.len(),
        });
    }
    let mut chosen: Vec<u32> = Vec::new();
    for id in ids {
        let id = u32::try_from(id).map_err(|_| AnswerError::BadIds(id.to_string()))?;
        if !chosen.contains(&id) {
            chosen.push(id);
        }
    }
    let steps = read_steps(&object["steps"]);
    let none_reason = chosen.is_empty().then(|| {
        object["reason"]
            .as_str()
            .map(str::to_string)
            .or_else(|| steps.last().cloned())
            .unwrap_or_else(|| "the model selected no object".to_string())
    });
    Ok(Answer {
        ids: chosen,
        steps,
        none_reason,
    })
}

/// The last JSON object in `text` that has an "ids" field, skipping any
/// thinking block, code fences and the prose around them.
fn find_answer_object(text: &str) -> Option<Value> {
    let visible = strip_thinking(text);
    let mut found = None;
    for (start, _) in visible.match_indices('{') {
        let mut stream = serde_json::Deserializer::from_str(&visible[start..]).into_iter::<Value>();
        if let Some(Ok(value)) = stream.next() {
            if value.get("ids").is_some() {
                found = Some(value);
            }
        }
    }
    found
}

fn strip_thinking(text: &str) -> &str {
    match text.rfind("</think>") {
        Some(end) => &text[end + "</think>".len()..],
        None => text,
    }
}

fn read_ids(value: &Value) -> Result<Vec<u64>, AnswerError> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        single @ (Value::Number(_) | Value::String(_)) => vec![single],
        other => return Err(AnswerError::BadIds(excerpt(&other.to_string()))),
    };
    items.into_iter().map(read_id).collect()
}

fn read_id(value: &Value) -> Result<u64, AnswerError> {
    let bad = || AnswerError::BadIds(excerpt(&value.to_string()));
    match value {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            })
            .ok_or_else(bad),
        Value::String(s) => {
            let digits = s
                .trim()
                .trim_start_matches(|c: char| c == '#' || c.is_ascii_alphabetic());
            digits.parse::<u64>().map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

fn read_steps(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map_or_else(|| item.to_string(), str::to_string)
            })
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn excerpt(text: &str) -> String {
    const LIMIT: usize = 80;
    let trimmed = text.trim();
    match trimmed.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[u32] = &[1, 2, 3, 4];

    #[test]
    fn reads_a_plain_answer() {
        let answer = parse_answer(
            r#"{"steps": ["Colour red: 2, 3.", "Largest: 3."], "ids": [3]}"#,
            KNOWN,
        )
        .unwrap();
        assert_eq!(answer.ids, vec![3]);
        assert_eq!(answer.steps.len(), 2);
        assert_eq!(answer.none_reason, None);
    }

    #[test]
    fn survives_prose_fences_and_thinking() {
        let text = "<think>maybe {\"ids\": [1]}</think>Sure! Here it is:\n```json\n{\"steps\": [\"x\"], \"ids\": [\"2\", 4]}\n```\nHope that helps {not json";
        assert_eq!(parse_answer(text, KNOWN).unwrap().ids, vec![2, 4]);
    }

    #[test]
    fn empty_ids_mean_none_with_a_reason() {
        let answer =
            parse_answer(r#"{"steps": ["No object is green."], "ids": []}"#, KNOWN).unwrap();
        assert!(answer.ids.is_empty());
        assert_eq!(answer.none_reason.as_deref(), Some("No object is green."));
    }

    #[test]
    fn rejects_unknown_ids() {
        let err = parse_answer(r#"{"ids": [2, 9]}"#, KNOWN).unwrap_err();
        assert_eq!(
            err,
            AnswerError::UnknownIds {
                unknown: vec![9],
                known: 4
            }
        );
        assert!(err.to_string().contains("[9]"));
    }

    #[test]
    fn rejects_text_without_json_and_bad_ids() {
        assert!(matches!(
            parse_answer("I think it is the red one.", KNOWN),
            Err(AnswerError::NoJson { .. })
        ));
        assert!(matches!(
            parse_answer(r#"{"ids": [1.5]}"#, KNOWN),
            Err(AnswerError::BadIds(_))
        ));
        assert!(matches!(
            parse_answer(r#"{"ids": {"a": 1}}"#, KNOWN),
            Err(AnswerError::BadIds(_))
        ));
        assert!(matches!(
            parse_answer(r#"{"steps": [], "ids": [1"#, KNOWN),
            Err(AnswerError::NoJson { .. })
        ));
    }

    #[test]
    fn reads_the_envelope() {
        let body =
            r#"{"choices": [{"message": {"role": "assistant", "content": "{\"ids\": [1]}"}}]}"#;
        assert_eq!(message_content(body).unwrap(), r#"{"ids": [1]}"#);
        assert!(matches!(
            message_content("<html>"),
            Err(AnswerError::Envelope(_))
        ));
        assert!(matches!(
            message_content(r#"{"choices": []}"#),
            Err(AnswerError::Envelope(_))
        ));
    }
}
