//! Which Django model holds the users (`settings.AUTH_USER_MODEL`), and the table names Django
//! derives from it.
//!
//! Django's default is `auth.User` in table `auth_user`. A project with its own model, say
//! `accounts.Member`, keeps its users in `accounts_member`, their groups in
//! `accounts_member_groups` and their direct permissions in `accounts_member_user_permissions`,
//! whose user column is `member_id`. [`UserModel`] derives those names exactly as Django does,
//! including its shortening of names longer than a database allows.
//!
//! ```
//! use castellan_core::UserModel;
//!
//! let member = UserModel::parse("accounts.Member")?.with_username_field("email")?;
//! assert_eq!(member.table(), "accounts_member");
//! assert_eq!(member.groups_table(None), "accounts_member_groups");
//! assert_eq!(member.permissions_table(None), "accounts_member_user_permissions");
//! assert_eq!(member.user_column(), "member_id");
//! assert_eq!(member.username_field(), "email");
//! assert!(UserModel::django().is_django_default());
//! # Ok::<(), castellan_core::Error>(())
//! ```

use ::md5::{Digest as _, Md5};

use crate::error::{Error, Result};

/// The user model: its label (`app_label.ModelName`), its `USERNAME_FIELD`, and its table when the
/// model sets `Meta.db_table`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserModel {
    app_label: String,
    model: String,
    username_field: String,
    db_table: Option<String>,
}

impl Default for UserModel {
    fn default() -> Self {
        Self::django()
    }
}

impl std::fmt::Display for UserModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.app_label, self.model)
    }
}

impl UserModel {
    /// Django's own `auth.User` (`username`, table `auth_user`).
    pub fn django() -> Self {
        Self {
            app_label: "auth".into(),
            model: "User".into(),
            username_field: "username".into(),
            db_table: None,
        }
    }

    /// A model named as `AUTH_USER_MODEL` names it: `APP_LABEL.ModelName`. Its username field is
    /// `username` until [`with_username_field`](Self::with_username_field) says otherwise.
    pub fn parse(label: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidName {
            what: "user model",
            value: label.to_owned(),
            reason: reason.to_owned(),
        };
        let (app_label, model) = label
            .split_once('.')
            .ok_or_else(|| bad("write it as AUTH_USER_MODEL does: APP_LABEL.ModelName, for example accounts.Member"))?;
        if !is_identifier(app_label) || !is_identifier(model) {
            return Err(bad(
                "the app label and the model name must each be a Python identifier (letters, digits, underscores)",
            ));
        }
        Ok(Self {
            app_label: app_label.to_owned(),
            model: model.to_owned(),
            username_field: "username".into(),
            db_table: None,
        })
    }

    /// The model's `USERNAME_FIELD` (a column name such as `email`).
    pub fn with_username_field(mut self, field: &str) -> Result<Self> {
        if !is_identifier(field) {
            return Err(Error::InvalidName {
                what: "username field",
                value: field.to_owned(),
                reason: "a field name is a Python identifier (letters, digits, underscores)".into(),
            });
        }
        self.username_field = field.to_owned();
        Ok(self)
    }

    /// The model's `Meta.db_table`, when it sets one (the many-to-many tables follow it, as in
    /// Django).
    pub fn with_db_table(mut self, table: &str) -> Result<Self> {
        if !is_identifier(table) {
            return Err(Error::InvalidName {
                what: "user table",
                value: table.to_owned(),
                reason: "Castellan takes table names made of letters, digits and underscores"
                    .into(),
            });
        }
        self.db_table = Some(table.to_owned());
        Ok(self)
    }

    /// Whether this is `auth.User` with its `username` field and table.
    pub fn is_django_default(&self) -> bool {
        *self == Self::django()
    }

    /// The app label (`accounts`).
    pub fn app_label(&self) -> &str {
        &self.app_label
    }

    /// The model's class name as given (`Member`).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The model name as Django stores it in content types (`member`).
    pub fn model_name(&self) -> String {
        self.model.to_lowercase()
    }

    /// The `USERNAME_FIELD`.
    pub fn username_field(&self) -> &str {
        &self.username_field
    }

    /// The user table: `Meta.db_table`, else `<app_label>_<model name>` (Django lower-cases the
    /// label and the name).
    pub fn table(&self) -> String {
        match &self.db_table {
            Some(t) => t.clone(),
            None => format!("{}_{}", self.app_label, self.model_name()).to_lowercase(),
        }
    }

    /// The table of `groups` memberships. `max_name_length` is the database's limit on names
    /// (63 on PostgreSQL, 64 on MariaDB, none on SQLite): a longer name is shortened as Django
    /// shortens it.
    pub fn groups_table(&self, max_name_length: Option<usize>) -> String {
        truncate_name(&format!("{}_groups", self.table()), max_name_length)
    }

    /// The table of direct permissions (`user_permissions`), shortened like
    /// [`groups_table`](Self::groups_table).
    pub fn permissions_table(&self, max_name_length: Option<usize>) -> String {
        truncate_name(
            &format!("{}_user_permissions", self.table()),
            max_name_length,
        )
    }

    /// The user's column in both many-to-many tables: `<model name>_id`.
    pub fn user_column(&self) -> String {
        format!("{}_id", self.model_name())
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Django's `truncate_name`: a name longer than `max` keeps its first `max - 4` characters and
/// ends with the first four hex digits of its MD5.
fn truncate_name(name: &str, max: Option<usize>) -> String {
    match max {
        Some(max) if name.len() > max => {
            let digest = Md5::digest(name.as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            format!("{}{}", &name[..max.saturating_sub(4)], &hex[..4])
        }
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_default_names() {
        let u = UserModel::django();
        assert_eq!(u.table(), "auth_user");
        assert_eq!(u.groups_table(Some(63)), "auth_user_groups");
        assert_eq!(u.permissions_table(None), "auth_user_user_permissions");
        assert_eq!(u.user_column(), "user_id");
        assert_eq!(u.to_string(), "auth.User");
    }

    #[test]
    fn custom_table_moves_the_many_to_many_tables() {
        let u = UserModel::parse("accounts.Member")
            .and_then(|u| u.with_db_table("people"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(u.table(), "people");
        assert_eq!(u.groups_table(None), "people_groups");
        assert_eq!(u.user_column(), "member_id");
        assert!(!u.is_django_default());
    }

    #[test]
    fn bad_labels_are_refused() {
        for label in [
            "Member",
            "accounts.",
            ".Member",
            "acc-ounts.Member",
            "a.b.c",
            "a.1b",
        ] {
            assert!(UserModel::parse(label).is_err(), "{label}");
        }
        assert!(UserModel::django().with_username_field("e mail").is_err());
        assert!(UserModel::django().with_db_table("x;drop").is_err());
    }

    #[test]
    fn long_names_are_shortened_as_django_does() {
        // Django: truncate_name("a" * 60 + "_user_permissions", 63) keeps 59 characters and adds
        // the first four hex digits of the name's MD5.
        let u =
            UserModel::parse(&format!("{}.M", "a".repeat(58))).unwrap_or_else(|e| panic!("{e}"));
        let name = u.permissions_table(Some(63));
        assert_eq!(name.len(), 63);
        assert!(name.starts_with(&u.table()[..10]));
        assert_eq!(u.permissions_table(None).len(), 58 + 2 + 17);
    }
}
