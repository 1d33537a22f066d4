//! `LIKE` patterns with `!` as the escape character (`… LIKE ? ESCAPE '!'`), so that `%`, `_`
//! and `!` in what a user typed match themselves.

/// `text` with `%`, `_` and `!` escaped by `!`.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

/// Matches text containing `text`.
pub(crate) fn contains(text: &str) -> String {
    format!("%{}%", escape(text))
}

/// Matches text starting with `text`.
pub(crate) fn starts_with(text: &str) -> String {
    format!("{}%", escape(text))
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_are_literal() {
        assert_eq!(super::contains("a%b_c!"), "%a!%b!_c!!%");
        assert_eq!(super::starts_with("group_"), "group!_%");
    }
}
