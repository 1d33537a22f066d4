//! One-time messages ("Book deleted"), kept in the Django session until the next page shows them
//! (Django's `messages` framework with the session storage).

use castellan_axum::AuthSession;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The session key holding the pending messages.
const KEY: &str = "_bookshelf_messages";

/// A message and its level (`success`, `error`, `info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `success`, `error` or `info` (also the CSS class).
    pub level: String,
    /// The text.
    pub text: String,
}

/// Queues a message for the next page this session renders.
pub fn push(auth: &AuthSession, level: &str, text: impl Into<String>) {
    let mut list: Vec<Message> = auth
        .get(KEY)
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    list.push(Message {
        level: level.to_owned(),
        text: text.into(),
    });
    if let Ok(value) = serde_json::to_value(&list) {
        auth.insert(KEY, value);
    }
}

/// Queues a success message.
pub fn success(auth: &AuthSession, text: impl Into<String>) {
    push(auth, "success", text);
}

/// Queues an error message.
pub fn error(auth: &AuthSession, text: impl Into<String>) {
    push(auth, "error", text);
}

/// Takes the pending messages (they are shown once).
pub fn take(auth: &AuthSession) -> Vec<Message> {
    match auth.remove(KEY) {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        _ => Vec::new(),
    }
}
