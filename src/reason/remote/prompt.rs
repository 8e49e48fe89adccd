//! The prompt sent to a remote language model (documented in
//! `docs/prompt.md`) and the chat/completions request body. Pure functions:
//! the same on every target.

use serde::{Deserialize, Serialize};

/// The system message: what the Digital Twin is, the chain of filtering
/// steps to follow, and the strict JSON answer format.
pub const SYSTEM_PROMPT: &str = "\
You answer questions about a picture by selecting objects from its Digital Twin (DT).
The DT lists every segmented object of the picture, one per line:
id, parent (the object it lies inside, - for none), level (object, part, subpart),
bbox x0,y0,x1,y1 and centroid x,y in a 0-1000 frame (x grows to the right, y grows downwards),
a coarse position in a 3x3 grid, area in percent of the picture (a parent's area includes its parts),
colour names (most frequent first), and a shape word (or - when irregular). A 'touching:' line lists touching pairs.
You never see the picture; reason only over the DT.

Work like this, one short sentence per step, naming the ids that remain after each step:
1. Category: keep the objects whose kind or label fits the question.
2. Attributes: narrow by colour, shape, size and position.
3. Relations: narrow by relations to other objects (left of, above, inside, touching, between, larger than).
4. Pick: apply superlatives, ordinals and negations; keep every object the question asks for.
If no object fits, give an empty id list and say why in the last step.

Reply with one JSON object and nothing else:
{\"steps\": [\"Category ...: 1, 3.\", \"Colour red: 3.\"], \"ids\": [3]}
\"ids\" holds integer ids from the DT only.";

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// "system", "user" or "assistant".
    pub role: String,
    /// The message text.
    pub content: String,
}

impl ChatMessage {
    /// A message with the given role and text.
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Self {
            role: role.to_string(),
            content: content.into(),
        }
    }
}

/// The user message: the compact DT and the question. Nothing else about
/// the picture is ever sent.
pub fn user_message(compact_twin: &str, query: &str) -> String {
    format!(
        "Digital Twin:\n{}\n\nQuestion: {}\n\nAnswer with the JSON object only.",
        compact_twin.trim_end(),
        query.trim()
    )
}

/// The system and user messages for one question.
pub fn messages(compact_twin: &str, query: &str) -> Vec<ChatMessage> {
    vec![
        ChatMessage::new("system", SYSTEM_PROMPT),
        ChatMessage::new("user", user_message(compact_twin, query)),
    ]
}

/// The JSON body of a chat/completions request. `json_mode` adds
/// `response_format: {"type": "json_object"}` for servers that offer it.
pub fn request_body(model: &str, messages: &[ChatMessage], json_mode: bool) -> serde_json::Value {
    let mut body = serde_json::json!({
        "model": model,
        "messages": messages,
        "temperature": 0,
    });
    if json_mode {
        body["response_format"] = serde_json::json!({"type": "json_object"});
    }
    body
}

/// The chat/completions URL for an endpoint given as a base URL
/// (`http://host:8080`, `.../v1`) or as the full path.
pub fn chat_url(endpoint: &str) -> String {
    let trimmed = endpoint.trim().trim_end_matches('/');
    if trimmed.ends_with("/chat/completions") {
        return trimmed.to_string();
    }
    if trimmed.ends_with("/v1") {
        return format!("{trimmed}/chat/completions");
    }
    let after_scheme = trimmed.split_once("://").map_or(trimmed, |(_, rest)| rest);
    if after_scheme.contains('/') {
        format!("{trimmed}/chat/completions")
    } else {
        format!("{trimmed}/v1/chat/completions")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_message_carries_twin_and_question() {
        let text = user_message("id parent\n1 - object\n", "  the red one ");
        assert!(text.contains("1 - object"));
        assert!(text.contains("Question: the red one\n"));
    }

    #[test]
    fn body_has_model_messages_and_optional_json_mode() {
        let msgs = messages("twin", "q");
        let with = request_body("m", &msgs, true);
        assert_eq!(with["model"], "m");
        assert_eq!(with["messages"][0]["role"], "system");
        assert_eq!(with["messages"][1]["role"], "user");
        assert_eq!(with["response_format"]["type"], "json_object");
        let without = request_body("m", &msgs, false);
        assert!(without.get("response_format").is_none());
    }

    #[test]
    fn chat_url_accepts_base_or_full_paths() {
        assert_eq!(chat_url("http://h:1"), "http://h:1/v1/chat/completions");
        assert_eq!(chat_url("http://h:1/v1/"), "http://h:1/v1/chat/completions");
        assert_eq!(
            chat_url("https://api.x.com/v1/chat/completions"),
            "https://api.x.com/v1/chat/completions"
        );
        assert_eq!(
            chat_url("http://h/openai"),
            "http://h/openai/chat/completions"
        );
    }
}
