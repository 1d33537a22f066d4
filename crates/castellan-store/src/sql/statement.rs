//! Statements written once with PostgreSQL's numbered placeholders (`$1`, `$2`, …), with the
//! positional text SQLite and MariaDB take (`?`) derived **at compile time** by a lexer that knows
//! string literals, quoted identifiers and comments. Placeholders are never rewritten at run time; a statement
//! whose placeholders are out of order, repeated, or mixed with a bare `?` does not compile.
//!
//! SQLite gets `?`, not `$n`, although it accepts both: SQLite looks a named parameter up by a
//! linear scan, when preparing and again for each bind, so a multi-row insert of thousands of
//! `$n` parameters costs quadratic time (a 50,000-permission sync took five times as long).

use super::Dialect;

/// One SQL statement in each database's own syntax, and how many arguments it binds.
///
/// Write portable statements with [`sql!`](crate::sql!); statements whose text differs between
/// databases beyond placeholders with [`Sql::per_dialect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sql {
    sqlite: &'static str,
    postgres: &'static str,
    mysql: &'static str,
    binds: usize,
}

impl Sql {
    /// Used by [`sql!`](crate::sql!): `native` in `$n` form, `positional` its compile-time
    /// translation to `?`.
    #[doc(hidden)]
    pub const fn from_translation(native: &'static str, positional: &'static [u8]) -> Self {
        let positional = match core::str::from_utf8(positional) {
            Ok(text) => text,
            Err(_) => panic!("the positional translation of a statement is not UTF-8"),
        };
        Self {
            sqlite: positional,
            postgres: native,
            mysql: positional,
            binds: dollar_placeholders(native),
        }
    }

    /// A statement written separately for each database: `postgres` with `$1…$n`, `sqlite` and
    /// `mysql` with `?` (SQLite also takes `$n`, which costs it a lookup per parameter). All three
    /// must bind the same number of arguments (checked when the constant is evaluated, so a
    /// mismatch does not compile).
    pub const fn per_dialect(
        sqlite: &'static str,
        postgres: &'static str,
        mysql: &'static str,
    ) -> Self {
        let binds = dollar_placeholders(postgres);
        if any_placeholders(sqlite) != binds || question_placeholders(mysql) != binds {
            panic!("the three texts of a statement bind different numbers of arguments");
        }
        Self {
            sqlite,
            postgres,
            mysql,
            binds,
        }
    }

    /// The text for `dialect`.
    pub const fn text(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
            Dialect::MySql => self.mysql,
        }
    }

    /// How many arguments the statement binds.
    pub const fn binds(&self) -> usize {
        self.binds
    }
}

/// A portable statement: PostgreSQL's text as written (`$1`, `$2`, … in order, each once), SQLite's
/// and MariaDB's translated to `?` at compile time. Evaluates to a [`Sql`](crate::sql::Sql)
/// constant.
///
/// ```
/// use castellan_store::sql::{Dialect, Sql};
/// const BY_NAME: Sql = castellan_store::sql!("SELECT id FROM auth_group WHERE name = $1");
/// assert_eq!(BY_NAME.text(Dialect::MySql).trim_end(), "SELECT id FROM auth_group WHERE name = ?");
/// assert_eq!(BY_NAME.binds(), 1);
/// ```
#[macro_export]
macro_rules! sql {
    ($text:expr) => {{
        const NATIVE: &str = $text;
        const MYSQL: &[u8; NATIVE.len()] =
            &$crate::sql::to_question_marks::<{ NATIVE.len() }>(NATIVE);
        const SQL: $crate::sql::Sql = $crate::sql::Sql::from_translation(NATIVE, MYSQL);
        SQL
    }};
}

/// What [`Db`](super::Db) and [`Tx`](super::Tx) execute: a text per database and its argument count.
pub trait Statement {
    /// The text for `dialect`, or `None` when the statement was not written for it.
    fn text(&self, dialect: Dialect) -> Option<&str>;
    /// How many arguments the statement binds.
    fn binds(&self) -> usize;
    /// Whether the database should keep the statement prepared for the next run (the default).
    fn persistent(&self) -> bool {
        true
    }
    /// The text for `dialect` when it lives for the whole program (a constant), so that work
    /// derived from it can be kept; `None` (the default) for text built at run time.
    fn static_text(&self, dialect: Dialect) -> Option<&'static str> {
        let _ = dialect;
        None
    }
}

impl Statement for Sql {
    fn text(&self, dialect: Dialect) -> Option<&str> {
        Some(Sql::text(self, dialect))
    }

    fn static_text(&self, dialect: Dialect) -> Option<&'static str> {
        Some(Sql::text(self, dialect))
    }

    fn binds(&self) -> usize {
        self.binds
    }
}

/// Where the lexer is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lex {
    Code,
    /// Inside `'…'` (a doubled `''` stays inside).
    Literal,
    /// Inside `"…"` or `` `…` ``, closed by the given byte.
    Quoted(u8),
    /// After `--`, to the end of the line.
    LineComment,
    /// Inside `/* … */`.
    BlockComment,
}

/// Steps the lexer over the byte at `i`, returning the new state and how many bytes it consumed
/// (2 for the two-byte tokens `''`, `--`, `/*`, `*/`).
const fn step(text: &[u8], i: usize, state: Lex) -> (Lex, usize) {
    let b = text[i];
    let next = if i + 1 < text.len() { text[i + 1] } else { 0 };
    match state {
        Lex::Code => match b {
            b'\'' => (Lex::Literal, 1),
            b'"' | b'`' => (Lex::Quoted(b), 1),
            b'-' if next == b'-' => (Lex::LineComment, 2),
            b'/' if next == b'*' => (Lex::BlockComment, 2),
            _ => (Lex::Code, 1),
        },
        Lex::Literal => match b {
            b'\'' if next == b'\'' => (Lex::Literal, 2),
            b'\'' => (Lex::Code, 1),
            _ => (Lex::Literal, 1),
        },
        Lex::Quoted(close) => {
            if b == close {
                (Lex::Code, 1)
            } else {
                (state, 1)
            }
        }
        Lex::LineComment => {
            if b == b'\n' {
                (Lex::Code, 1)
            } else {
                (state, 1)
            }
        }
        Lex::BlockComment => {
            if b == b'*' && next == b'/' {
                (Lex::Code, 2)
            } else {
                (state, 1)
            }
        }
    }
}

/// Reads the decimal number starting at `i`: (value, digits).
const fn number_at(text: &[u8], mut i: usize) -> (usize, usize) {
    let start = i;
    let mut n = 0usize;
    while i < text.len() && text[i].is_ascii_digit() {
        n = n * 10 + (text[i] - b'0') as usize;
        i += 1;
    }
    (n, i - start)
}

/// The number of `$n` placeholders in `text`, which must run `$1`, `$2`, … in order, each once,
/// with no bare `?` outside literals, quoted names and comments. Panics (a compile error in a
/// constant) otherwise.
pub const fn dollar_placeholders(text: &str) -> usize {
    let text = text.as_bytes();
    let mut state = Lex::Code;
    let mut i = 0;
    let mut seen = 0;
    while i < text.len() {
        if matches!(state, Lex::Code) {
            if text[i] == b'?' {
                panic!("a bare `?` in a `$n` statement: write placeholders as $1, $2, …");
            }
            if text[i] == b'$' {
                let (n, digits) = number_at(text, i + 1);
                if digits > 0 {
                    if n != seen + 1 {
                        panic!("placeholders must run $1, $2, … in order, each once (bind a value twice instead of repeating it)");
                    }
                    seen = n;
                    i += 1 + digits;
                    continue;
                }
            }
        }
        let (next, used) = step(text, i, state);
        state = next;
        i += used;
    }
    seen
}

/// The number of placeholders in a SQLite text, which may use `?` or `$n` (not both).
const fn any_placeholders(text: &str) -> usize {
    let questions = question_placeholders(text);
    if questions > 0 {
        questions
    } else {
        dollar_placeholders(text)
    }
}

/// The number of `?` placeholders outside literals, quoted names and comments.
pub const fn question_placeholders(text: &str) -> usize {
    let text = text.as_bytes();
    let mut state = Lex::Code;
    let mut i = 0;
    let mut seen = 0;
    while i < text.len() {
        if matches!(state, Lex::Code) && text[i] == b'?' {
            seen += 1;
        }
        let (next, used) = step(text, i, state);
        state = next;
        i += used;
    }
    seen
}

/// MariaDB's text of a `$n` statement: each placeholder becomes `?` padded with spaces to the same
/// length, everything inside literals, quoted names and comments stays as written.
#[doc(hidden)]
pub const fn to_question_marks<const N: usize>(native: &str) -> [u8; N] {
    // Validates order and bare `?` first (panics on a bad statement).
    dollar_placeholders(native);
    let text = native.as_bytes();
    let mut out = [0u8; N];
    let mut state = Lex::Code;
    let mut i = 0;
    while i < N {
        if matches!(state, Lex::Code) && text[i] == b'$' {
            let (_, digits) = number_at(text, i + 1);
            if digits > 0 {
                out[i] = b'?';
                let mut k = 1;
                while k <= digits {
                    out[i + k] = b' ';
                    k += 1;
                }
                i += 1 + digits;
                continue;
            }
        }
        let (next, used) = step(text, i, state);
        out[i] = text[i];
        if used == 2 {
            out[i + 1] = text[i + 1];
        }
        state = next;
        i += used;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORTABLE: Sql = crate::sql!(
        "SELECT id FROM t WHERE a = $1 AND b = '$2 ?' AND \"c?\" = $2 -- $9 ?\n AND d = $3 /* ? */"
    );

    #[test]
    fn placeholders_become_question_marks_only_in_code() {
        assert_eq!(PORTABLE.binds(), 3);
        assert_eq!(
            PORTABLE.text(Dialect::MySql),
            "SELECT id FROM t WHERE a = ?  AND b = '$2 ?' AND \"c?\" = ?  -- $9 ?\n AND d = ?  /* ? */"
        );
        assert_eq!(
            PORTABLE.text(Dialect::Sqlite),
            PORTABLE.text(Dialect::MySql)
        );
        assert!(PORTABLE.text(Dialect::Postgres).contains("a = $1 AND"));
    }

    #[test]
    fn doubled_quotes_stay_inside_a_literal() {
        assert_eq!(dollar_placeholders("SELECT 'it''s $1' , $1"), 1);
        assert_eq!(question_placeholders("SELECT 'it''s ?', ? FROM `a?`"), 1);
        assert_eq!(dollar_placeholders("SELECT 10 * 2"), 0);
    }

    #[test]
    fn per_dialect_texts_agree_on_their_binds() {
        const S: Sql = Sql::per_dialect("x = ?", "x = $1::int", "x = BINARY ?");
        assert_eq!(S.binds(), 1);
        assert_eq!(S.text(Dialect::MySql), "x = BINARY ?");
    }

    #[test]
    #[should_panic(expected = "in order")]
    fn repeated_placeholders_are_refused() {
        dollar_placeholders("a = $1 OR b = $1");
    }

    #[test]
    #[should_panic(expected = "in order")]
    fn skipped_placeholders_are_refused() {
        dollar_placeholders("a = $2");
    }

    #[test]
    #[should_panic(expected = "bare")]
    fn bare_question_marks_are_refused() {
        dollar_placeholders("a = ? AND b = $1");
    }

    #[test]
    #[should_panic(expected = "different numbers")]
    fn disagreeing_texts_are_refused() {
        Sql::per_dialect("x = $1", "x = $1", "x = ? AND y = ?");
    }
}
