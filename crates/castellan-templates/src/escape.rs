//! HTML escaping as Django's `escape` does it (`&`, `<`, `>`, `"`, `'`), the one escaper of every
//! page Castellan renders: [`Templates`](crate::Templates) auto-escapes with it, so attribute
//! values such as `next="/books/"` come out as Django writes them (minijinja's own escaper also
//! turns `/` into `&#x2f;`).

use minijinja::{AutoEscape, Error, Output, State, Value};

/// Django's `escape`: `&`, `<`, `>`, `"` and `'` as entities, everything else as is.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

/// minijinja's formatter with Django's escaping: under HTML auto-escaping a value that is not
/// marked safe is written with [`escape_html`]; anything else is minijinja's default.
pub fn django_formatter(
    out: &mut Output<'_>,
    state: &mut State<'_, '_>,
    value: &Value,
) -> Result<(), Error> {
    let plain = value.is_safe() || value.is_none() || value.is_undefined();
    if matches!(state.auto_escape(), AutoEscape::Html) && !plain {
        let text = value.to_string();
        return out.write_str(&escape_html(&text)).map_err(|e| {
            Error::new(
                minijinja::ErrorKind::WriteFailure,
                "writing the page failed",
            )
            .with_source(e)
        });
    }
    minijinja::escape_formatter(out, state, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_django_characters_only() {
        assert_eq!(
            escape_html(r#"<a href="/x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;/x&quot;&gt;Tom &amp; Jerry&#x27;s&lt;/a&gt;"
        );
        assert_eq!(escape_html("plain ü"), "plain ü");
    }

    #[test]
    fn the_formatter_escapes_unsafe_values_and_keeps_safe_ones() {
        let mut env = minijinja::Environment::new();
        env.set_formatter(django_formatter);
        env.add_template("t.html", "{{ a }}|{{ b }}|{{ c }}|{{ missing }}|{{ n }}")
            .unwrap();
        let out = env
            .get_template("t.html")
            .and_then(|t| {
                t.render(minijinja::context! {
                    a => "/x?a=1&b='2'",
                    b => Value::from_safe_string("<b>ok</b>".into()),
                    c => 5,
                    n => (),
                })
            })
            .unwrap();
        let none = minijinja::Environment::new()
            .render_str("{{ n }}", minijinja::context! { n => () })
            .unwrap();
        assert_eq!(
            out,
            format!("/x?a=1&amp;b=&#x27;2&#x27;|<b>ok</b>|5||{none}")
        );
    }
}
