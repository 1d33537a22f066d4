//! Django's messages framework on the session: a view queues a notice ("The book was deleted."),
//! the next page rendered for the same session shows it once.
//!
//! Messages are kept under the session key `_messages` in the format of Django's
//! `SessionStorage` (`MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"`):
//! a JSON text of `["__json_message", safe, level, text, extra_tags]` entries. A Django project
//! sharing the sessions with that storage shows Castellan's messages and Castellan shows its.
//! (Django's default storage keeps them in a cookie first; that one is not read here.)
//!
//! ```no_run
//! use castellan_axum::{messages, AuthSession};
//!
//! async fn delete_book(auth: AuthSession) -> axum::response::Redirect {
//!     // … delete it …
//!     messages::success(&auth, "The book “Dune” was deleted.");
//!     axum::response::Redirect::to("/books/")
//! }
//! ```
//!
//! [`render_page`](crate::render_page) takes the pending messages into the template's `messages`.

use castellan_templates::{Level, Message};
use serde_json::Value;

use crate::session::AuthSession;

/// The session key (Django's `SessionStorage.session_key`).
pub const SESSION_KEY: &str = "_messages";

/// The marker of an encoded message (Django's `MessageEncoder.message_key`).
const MESSAGE_KEY: &str = "__json_message";

/// Queues `message` for the next page this session renders.
pub fn add_message(auth: &AuthSession, message: Message) {
    let mut queued = peek(auth);
    queued.push(message);
    auth.insert(SESSION_KEY, Value::String(encode(&queued)));
}

/// Queues a message of `level` with no extra tags.
pub fn add(auth: &AuthSession, level: Level, text: impl Into<String>) {
    add_message(auth, Message::new(level, text));
}

/// Queues a `DEBUG` message.
pub fn debug(auth: &AuthSession, text: impl Into<String>) {
    add(auth, Level::DEBUG, text);
}

/// Queues an `INFO` message.
pub fn info(auth: &AuthSession, text: impl Into<String>) {
    add(auth, Level::INFO, text);
}

/// Queues a `SUCCESS` message.
pub fn success(auth: &AuthSession, text: impl Into<String>) {
    add(auth, Level::SUCCESS, text);
}

/// Queues a `WARNING` message.
pub fn warning(auth: &AuthSession, text: impl Into<String>) {
    add(auth, Level::WARNING, text);
}

/// Queues an `ERROR` message.
pub fn error(auth: &AuthSession, text: impl Into<String>) {
    add(auth, Level::ERROR, text);
}

/// The pending messages, left in place.
pub fn peek(auth: &AuthSession) -> Vec<Message> {
    auth.get(SESSION_KEY)
        .map(|v| decode(&v))
        .unwrap_or_default()
}

/// Takes the pending messages: they are shown once.
pub fn take(auth: &AuthSession) -> Vec<Message> {
    // `remove` marks the session modified only when there was something to take.
    auth.remove(SESSION_KEY)
        .map(|v| decode(&v))
        .unwrap_or_default()
}

/// Django's `MessageEncoder` output for `messages`.
pub fn encode(messages: &[Message]) -> String {
    let list: Vec<Value> = messages
        .iter()
        .map(|m| {
            serde_json::json!([
                MESSAGE_KEY,
                u8::from(m.safe),
                m.level.0,
                m.text,
                m.extra_tags
            ])
        })
        .collect();
    Value::Array(list).to_string()
}

/// Decodes the session value: Django's JSON text (or, leniently, the list itself). Entries that
/// are not messages are skipped; anything unreadable is no messages.
pub fn decode(value: &Value) -> Vec<Message> {
    let parsed;
    let list = match value {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(v) => {
                parsed = v;
                &parsed
            }
            Err(_) => return Vec::new(),
        },
        other => other,
    };
    let Value::Array(items) = list else {
        return Vec::new();
    };
    items.iter().filter_map(decode_one).collect()
}

fn decode_one(item: &Value) -> Option<Message> {
    let parts = item.as_array()?;
    if parts.first()?.as_str()? != MESSAGE_KEY {
        return None;
    }
    let safe = parts.get(1)?.as_i64()? != 0;
    let level = Level(parts.get(2)?.as_i64()?);
    let text = parts.get(3)?.as_str()?.to_owned();
    let extra_tags = parts
        .get(4)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Some(Message {
        level,
        text,
        extra_tags,
        safe,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_django_session_storage_writes() {
        // `SessionStorage.serialize_messages([Message(25, "Saved “x”.", extra_tags=""),
        //  Message(40, mark_safe("<b>no</b>"), extra_tags="big")])`
        let django = r#"[["__json_message", 0, 25, "Saved \u201cx\u201d.", ""], ["__json_message", 1, 40, "<b>no</b>", "big"]]"#;
        let got = decode(&Value::String(django.into()));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], Message::new(Level::SUCCESS, "Saved “x”."));
        assert_eq!(got[1].level, Level::ERROR);
        assert!(got[1].safe);
        assert_eq!(got[1].tags(), "big error");
    }

    #[test]
    fn encoding_round_trips_and_matches_django_shape() {
        let mut m = Message::new(Level::WARNING, "Careful");
        m.extra_tags = "x".into();
        let text = encode(&[m.clone()]);
        assert_eq!(text, r#"[["__json_message",0,30,"Careful","x"]]"#);
        assert_eq!(decode(&Value::String(text)), vec![m]);
    }

    #[test]
    fn a_message_without_extra_tags_and_junk_are_tolerated() {
        let text = r#"[["__json_message",0,20,"hi"],["other"],5,"x"]"#;
        assert_eq!(
            decode(&Value::String(text.into())),
            vec![Message::new(Level::INFO, "hi")]
        );
        assert!(decode(&Value::String("not json".into())).is_empty());
        assert!(decode(&Value::Bool(true)).is_empty());
    }
}
