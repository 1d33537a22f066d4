//! Users, groups, permissions and the anonymous user, as Django's `auth` models define them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::UserId;

/// A row of `auth_user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Primary key (an integer or a UUID, as the user model declares it).
    pub id: UserId,
    /// The encoded password hash (`algorithm$…`), `!…` when unusable, `""` if never set.
    #[serde(skip_serializing)]
    pub password: String,
    /// The last successful login, if any.
    pub last_login: Option<DateTime<Utc>>,
    /// Has every permission while active.
    pub is_superuser: bool,
    /// The `USERNAME_FIELD`'s value (`username` for `auth.User`; an e-mail address for a model
    /// whose username field is `email`). Unique.
    pub username: String,
    /// First name (may be blank).
    pub first_name: String,
    /// Last name (may be blank).
    pub last_name: String,
    /// E-mail (may be blank).
    pub email: String,
    /// May log into the admin. Grants no permission.
    pub is_staff: bool,
    /// Inactive users have no permission and cannot log in.
    pub is_active: bool,
    /// When the account was created (`None` for a user model without `date_joined`).
    pub date_joined: Option<DateTime<Utc>>,
}

impl User {
    /// `has_usable_password()`: false only for `!`-prefixed (unusable) passwords.
    pub fn has_usable_password(&self) -> bool {
        !self.password.starts_with('!')
    }
}

/// A row of `auth_group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Primary key.
    pub id: i64,
    /// Unique name.
    pub name: String,
}

/// A row of `auth_permission` with its content type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    /// Primary key.
    pub id: i64,
    /// Human-readable name, e.g. `Can add book`.
    pub name: String,
    /// The content type's app label.
    pub app_label: String,
    /// The content type's model.
    pub model: String,
    /// The codename, e.g. `add_book`.
    pub codename: String,
}

impl Permission {
    /// `app_label.codename` (Django 6.1's `user_perm_str`).
    pub fn user_perm_str(&self) -> String {
        format!("{}.{}", self.app_label, self.codename)
    }
}

/// The identity a permission question is about: a user row, or the anonymous user.
///
/// Like Django's `AnonymousUser`, the anonymous identity has no id, an empty username and every flag
/// false; it can still be granted permissions by a custom backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A logged-in (or looked-up) user.
    User(UserFlags),
    /// `AnonymousUser`.
    Anonymous,
}

/// The fields of a user that the permission rules read (always read fresh, never cached).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFlags {
    /// Primary key.
    pub id: UserId,
    /// Username.
    pub username: String,
    /// `is_active`.
    pub is_active: bool,
    /// `is_superuser`.
    pub is_superuser: bool,
    /// `is_staff`.
    pub is_staff: bool,
}

impl From<&User> for UserFlags {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            is_active: u.is_active,
            is_superuser: u.is_superuser,
            is_staff: u.is_staff,
        }
    }
}

impl Identity {
    /// The user's id, `None` for the anonymous user.
    pub fn id(&self) -> Option<UserId> {
        match self {
            Self::User(u) => Some(u.id),
            Self::Anonymous => None,
        }
    }

    /// The username, `""` for the anonymous user.
    pub fn username(&self) -> &str {
        match self {
            Self::User(u) => &u.username,
            Self::Anonymous => "",
        }
    }

    /// `is_active` (false for the anonymous user).
    pub fn is_active(&self) -> bool {
        matches!(self, Self::User(u) if u.is_active)
    }

    /// `is_superuser` (false for the anonymous user).
    pub fn is_superuser(&self) -> bool {
        matches!(self, Self::User(u) if u.is_superuser)
    }

    /// `is_staff` (false for the anonymous user).
    pub fn is_staff(&self) -> bool {
        matches!(self, Self::User(u) if u.is_staff)
    }

    /// `is_anonymous`.
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Self::Anonymous)
    }

    /// `is_authenticated`.
    pub fn is_authenticated(&self) -> bool {
        !self.is_anonymous()
    }

    /// An active superuser: Django's shortcut that answers every `has_perm` with true.
    pub fn is_active_superuser(&self) -> bool {
        self.is_active() && self.is_superuser()
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User(u) => f.write_str(&u.username),
            Self::Anonymous => f.write_str("AnonymousUser"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_user_properties() {
        // Spec T50.
        let a = Identity::Anonymous;
        assert_eq!(a.id(), None);
        assert_eq!(a.username(), "");
        assert!(a.is_anonymous());
        assert!(!a.is_authenticated());
        assert!(!a.is_staff() && !a.is_active() && !a.is_superuser());
        assert_eq!(a.to_string(), "AnonymousUser");
        assert_eq!(a, Identity::Anonymous);
    }
}
