//! `messages`: the one-time notices of Django's messages framework ("The book was deleted."), as
//! templates see them. Where they are kept between requests is the web layer's business
//! (castellan-axum keeps them in the session, in Django's format).

use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, Value};

/// Django's message levels (`django.contrib.messages.constants`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(pub i64);

impl Level {
    /// `DEBUG` (10).
    pub const DEBUG: Level = Level(10);
    /// `INFO` (20).
    pub const INFO: Level = Level(20);
    /// `SUCCESS` (25).
    pub const SUCCESS: Level = Level(25);
    /// `WARNING` (30).
    pub const WARNING: Level = Level(30);
    /// `ERROR` (40).
    pub const ERROR: Level = Level(40);

    /// Django's tag for the level (`"success"`…); empty for a level of the application's own.
    pub fn tag(self) -> &'static str {
        match self.0 {
            10 => "debug",
            20 => "info",
            25 => "success",
            30 => "warning",
            40 => "error",
            _ => "",
        }
    }
}

/// One message. In a template: `{{ message }}` is the text, `message.tags` the CSS classes
/// (extra tags, then the level's tag, as Django joins them), `message.level` the number,
/// `message.level_tag` the level's tag and `message.extra_tags` the extra tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The level.
    pub level: Level,
    /// The text.
    pub text: String,
    /// Extra CSS tags (Django's `extra_tags`), often empty.
    pub extra_tags: String,
    /// The text is HTML the application wrote (Django's `mark_safe`): rendered unescaped.
    pub safe: bool,
}

impl Message {
    /// A message of `level` with no extra tags.
    pub fn new(level: Level, text: impl Into<String>) -> Self {
        Self {
            level,
            text: text.into(),
            extra_tags: String::new(),
            safe: false,
        }
    }

    /// Django's `tags`: the extra tags and the level's tag, space-separated, empty ones left out.
    pub fn tags(&self) -> String {
        [self.extra_tags.as_str(), self.level.tag()]
            .iter()
            .filter(|t| !t.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The message as a template value.
    pub fn to_value(&self) -> Value {
        Value::from_object(self.clone())
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Object for Message {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "message" => self.text_value(),
            "level" => Value::from(self.level.0),
            "level_tag" => Value::from(self.level.tag()),
            "tags" => Value::from(self.tags()),
            "extra_tags" => Value::from(self.extra_tags.clone()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["message", "level", "level_tag", "tags", "extra_tags"])
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_ref(), f)
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }
}

impl Message {
    fn text_value(&self) -> Value {
        if self.safe {
            Value::from_safe_string(self.text.clone())
        } else {
            Value::from(self.text.clone())
        }
    }
}

/// The `messages` variable: a list of [`Message`] values, in the order they were added.
pub fn messages_value(messages: &[Message]) -> Value {
    Value::from(messages.iter().map(Message::to_value).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::{context, Environment};

    fn render(src: &str, messages: &[Message]) -> String {
        let mut env = Environment::new();
        env.add_template("t.html", src)
            .unwrap_or_else(|e| panic!("{e}"));
        env.get_template("t.html")
            .and_then(|t| t.render(context! { messages => messages_value(messages) }))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_message_renders_its_text_escaped_and_its_tags_as_django_joins_them() {
        let mut m = Message::new(Level::SUCCESS, "Saved <b>");
        m.extra_tags = "big".into();
        let out = render(
            "{% for m in messages %}<li class=\"{{ m.tags }}\">{{ m }}|{{ m.level }}|{{ m.level_tag }}</li>{% endfor %}",
            &[m],
        );
        assert_eq!(
            out,
            "<li class=\"big success\">Saved &lt;b&gt;|25|success</li>"
        );
    }

    #[test]
    fn a_safe_message_is_not_escaped_through_message() {
        let mut m = Message::new(Level::INFO, "<b>ok</b>");
        m.safe = true;
        assert_eq!(
            render("{% for m in messages %}{{ m.message }}{% endfor %}", &[m]),
            "<b>ok</b>"
        );
    }

    #[test]
    fn an_unknown_level_has_no_tag() {
        let m = Message::new(Level(35), "x");
        assert_eq!(m.tags(), "");
        assert_eq!(Level::ERROR.tag(), "error");
    }
}
