//! The user model's names put in place of `auth.User`'s in the store's statements.
//!
//! The store's statements are written against Django's default user model: tables `auth_user`,
//! `auth_user_groups` and `auth_user_user_permissions`, the many-to-many column `user_id`, and the
//! user columns `username`, `is_active`, `is_staff`, `first_name`, `last_name`, `email` and
//! `date_joined`. For `auth.User` they run as written. For a custom user model, the store
//! rewrites each statement once (the result is kept per statement) with a lexer that knows
//! literals, quoted names and comments:
//! * the three table names and `user_id` become the model's (`accounts_member`, …, `member_id`);
//! * `username` becomes the `USERNAME_FIELD` column (`email`);
//! * a column the model does not have becomes Django's meaning of its absence in a query
//!   (`is_active` → `TRUE`, `is_staff` → `FALSE`, names and e-mail → `''`, `date_joined` →
//!   `NULL`), and makes an `INSERT` or `UPDATE` fail with [`Error::UserModel`] before it runs;
//! * a name right after `AS` is an alias and stays as written, so rows keep their column names.
//!
//! Only the store's own statements are rewritten: [`Store::db`](crate::Store::db) hands
//! applications the database without renames.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::error::{Error, Result};

/// The user columns a model may leave out, and the value a query reads in their place.
pub(crate) const OPTIONAL_COLUMNS: [(&str, &str); 6] = [
    ("is_active", "TRUE"),
    ("is_staff", "FALSE"),
    ("first_name", "''"),
    ("last_name", "''"),
    ("email", "''"),
    ("date_joined", "NULL"),
];

/// How one name is rewritten.
#[derive(Debug, Clone)]
enum Rename {
    /// Another identifier.
    To(String),
    /// A column the model does not have: the literal a query reads instead.
    Absent(&'static str),
}

/// The renames for one user model, and each static statement's rewritten text.
#[derive(Debug)]
pub(crate) struct Renames {
    /// The model's label, for messages.
    model: String,
    names: HashMap<&'static str, Rename>,
    rewritten: RwLock<HashMap<(usize, usize), Arc<str>>>,
}

impl Renames {
    /// Renames from Django's names to the model's: `tables` and `columns` map a default name to
    /// the model's (pairs whose two names are equal may be left out), `absent` lists the optional
    /// columns the model does not have.
    pub(crate) fn new(
        model: &str,
        renamed: impl IntoIterator<Item = (&'static str, String)>,
        absent: &[&str],
    ) -> Self {
        let mut names = HashMap::new();
        for (from, to) in renamed {
            if from != to {
                names.insert(from, Rename::To(to));
            }
        }
        for (column, literal) in OPTIONAL_COLUMNS {
            if absent.contains(&column) {
                names.insert(column, Rename::Absent(literal));
            }
        }
        Self {
            model: model.to_owned(),
            names,
            rewritten: RwLock::default(),
        }
    }

    /// Whether nothing is renamed (the statements run as written).
    pub(crate) fn is_identity(&self) -> bool {
        self.names.is_empty()
    }

    /// The rewritten text of a statement whose text lives for the whole program, computed once.
    pub(crate) fn static_text(&self, text: &'static str) -> Result<Arc<str>> {
        let key = (text.as_ptr() as usize, text.len());
        if let Some(done) = self
            .rewritten
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return Ok(done.clone());
        }
        let done: Arc<str> = self.rewrite(text)?.into();
        self.rewritten
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, done.clone());
        Ok(done)
    }

    /// Rewrites one statement.
    pub(crate) fn rewrite(&self, text: &str) -> Result<String> {
        let bytes = text.as_bytes();
        let writes = starts_with_keyword(text, "INSERT") || starts_with_keyword(text, "UPDATE");
        let mut out = String::with_capacity(text.len() + 16);
        // Where the identifier last written to `out` starts, when a `.` followed it (a qualifier).
        let mut qualifier_at: Option<usize> = None;
        let mut after_as = false;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'\'' => {
                    let end = literal_end(bytes, i);
                    out.push_str(&text[i..end]);
                    i = end;
                    after_as = false;
                }
                b'"' | b'`' => {
                    let end = bytes[i + 1..]
                        .iter()
                        .position(|&c| c == b)
                        .map_or(bytes.len(), |p| i + 1 + p + 1);
                    let inner = &text[i + 1..end.saturating_sub(1).max(i + 1)];
                    match self.names.get(inner) {
                        Some(Rename::To(to)) if end <= bytes.len() && bytes[end - 1] == b => {
                            out.push(b as char);
                            out.push_str(to);
                            out.push(b as char);
                        }
                        _ => out.push_str(&text[i..end]),
                    }
                    i = end;
                    after_as = false;
                }
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    let end = bytes[i..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(bytes.len(), |p| i + p);
                    out.push_str(&text[i..end]);
                    i = end;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    let end = text[i + 2..]
                        .find("*/")
                        .map_or(bytes.len(), |p| i + 2 + p + 2);
                    out.push_str(&text[i..end]);
                    i = end;
                }
                _ if is_word_start(b) && (i == 0 || !is_word_byte(bytes[i - 1])) => {
                    let end = bytes[i..]
                        .iter()
                        .position(|&c| !is_word_byte(c))
                        .map_or(bytes.len(), |p| i + p);
                    let word = &text[i..end];
                    let qualified = i > 0 && bytes[i - 1] == b'.';
                    let start = out.len();
                    match (after_as, self.names.get(word)) {
                        (false, Some(Rename::To(to))) => out.push_str(to),
                        (false, Some(Rename::Absent(literal))) => {
                            if writes {
                                return Err(Error::UserModel(format!(
                                    "the user model {} has no {word} column, so Castellan cannot change it",
                                    self.model
                                )));
                            }
                            if qualified {
                                if let Some(at) = qualifier_at {
                                    out.truncate(at);
                                }
                            }
                            out.push_str(literal);
                        }
                        _ => out.push_str(word),
                    }
                    qualifier_at = (bytes.get(end) == Some(&b'.')).then_some(start);
                    after_as = word.eq_ignore_ascii_case("AS");
                    i = end;
                }
                _ => {
                    // Copy a run of other characters (UTF-8 safe: only ASCII bytes above end it).
                    let end = bytes[i + 1..]
                        .iter()
                        .position(|&c| {
                            matches!(c, b'\'' | b'"' | b'`' | b'-' | b'/') || is_word_start(c)
                        })
                        .map_or(bytes.len(), |p| i + 1 + p);
                    let run = &text[i..end];
                    if !run.trim().is_empty() && run != "." {
                        after_as = false;
                    }
                    out.push_str(run);
                    i = end;
                }
            }
        }
        Ok(out)
    }
}

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The end (exclusive) of the `'…'` literal starting at `start` (a doubled `''` stays inside).
fn literal_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn starts_with_keyword(text: &str, keyword: &str) -> bool {
    let t = text.trim_start();
    t.len() >= keyword.len() && t[..keyword.len()].eq_ignore_ascii_case(keyword)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(absent: &[&str]) -> Renames {
        Renames::new(
            "accounts.Member",
            [
                ("auth_user", "accounts_member".to_owned()),
                ("auth_user_groups", "accounts_member_groups".to_owned()),
                (
                    "auth_user_user_permissions",
                    "accounts_member_user_permissions".to_owned(),
                ),
                ("user_id", "member_id".to_owned()),
                ("username", "email".to_owned()),
            ],
            absent,
        )
    }

    fn rw(r: &Renames, sql: &str) -> String {
        r.rewrite(sql).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn tables_columns_and_aliases() {
        let r = member(&[]);
        assert_eq!(
            rw(
                &r,
                "SELECT u.id AS id, u.username AS username FROM auth_user u WHERE u.username = $1"
            ),
            "SELECT u.id AS id, u.email AS username FROM accounts_member u WHERE u.email = $1"
        );
        assert_eq!(
            rw(
                &r,
                "DELETE FROM auth_user_groups WHERE user_id = ? AND group_id = ?"
            ),
            "DELETE FROM accounts_member_groups WHERE member_id = ? AND group_id = ?"
        );
        assert_eq!(
            rw(&r, "SELECT ug.user_id FROM auth_user_user_permissions up"),
            "SELECT ug.member_id FROM accounts_member_user_permissions up"
        );
    }

    #[test]
    fn literals_comments_and_longer_words_stay() {
        let r = member(&[]);
        let sql = "SELECT 'auth_user' AS x, auth_users, xauth_user, $1 -- auth_user\n/* user_id */ FROM t";
        assert_eq!(rw(&r, sql), sql);
    }

    #[test]
    fn quoted_table_names_are_renamed() {
        let r = member(&[]);
        assert_eq!(
            rw(&r, "CREATE TRIGGER castellan_bump_auth_user_groups_insert AFTER INSERT ON \"auth_user_groups\" BEGIN END"),
            "CREATE TRIGGER castellan_bump_auth_user_groups_insert AFTER INSERT ON \"accounts_member_groups\" BEGIN END"
        );
        assert_eq!(rw(&r, "ON `auth_user`"), "ON `accounts_member`");
    }

    #[test]
    fn absent_columns_read_as_django_means_them() {
        let r = member(&["is_staff", "date_joined", "first_name"]);
        assert_eq!(
            rw(&r, "SELECT u.is_staff AS is_staff, u.date_joined AS date_joined, u.first_name AS first_name FROM auth_user u WHERE is_staff"),
            "SELECT FALSE AS is_staff, NULL AS date_joined, '' AS first_name FROM accounts_member u WHERE FALSE"
        );
    }

    #[test]
    fn writing_an_absent_column_is_refused() {
        let r = member(&["is_staff"]);
        let err = r.rewrite("UPDATE auth_user SET is_staff = $1 WHERE id = $2");
        assert!(
            matches!(err, Err(Error::UserModel(m)) if m.contains("accounts.Member has no is_staff"))
        );
        assert!(r
            .rewrite("UPDATE auth_user SET password = $1 WHERE id = $2")
            .is_ok());
    }

    #[test]
    fn identity_renames_nothing() {
        let r = Renames::new("auth.User", [("auth_user", "auth_user".to_owned())], &[]);
        assert!(r.is_identity());
    }

    #[test]
    fn static_text_is_kept() {
        let r = member(&[]);
        const SQL: &str = "SELECT id FROM auth_user";
        let a = r.static_text(SQL).unwrap_or_else(|e| panic!("{e}"));
        let b = r.static_text(SQL).unwrap_or_else(|e| panic!("{e}"));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, "SELECT id FROM accounts_member");
    }
}
