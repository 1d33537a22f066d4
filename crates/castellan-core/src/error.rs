//! The core's error type.

use crate::hashers::HashError;

/// Everything that can go wrong in the core. Each message says what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A permission string is not of the form `app_label.codename`.
    #[error("malformed permission name {name:?}: {reason}")]
    MalformedPermission {
        /// The string as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A well-formed permission name that no permission row carries.
    #[error("unknown permission {name:?}{}", suggestion_text(.suggestion.as_deref()))]
    UnknownPermission {
        /// The name as given.
        name: String,
        /// The closest existing permission name, if one is close.
        suggestion: Option<String>,
    },
    /// A name (username, group, codename, app label, e-mail…) that breaks Django's rules.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidName {
        /// Which kind of name.
        what: &'static str,
        /// The value as given.
        value: String,
        /// Django's rule it breaks.
        reason: String,
    },
    /// A value longer than its Django column.
    #[error(
        "{field} is too long: ensure this value has at most {max} characters (it has {actual})"
    )]
    TooLong {
        /// The field.
        field: &'static str,
        /// Django's limit.
        max: usize,
        /// The given length, in characters.
        actual: usize,
    },
    /// A required value was blank.
    #[error("{field} cannot be blank.")]
    Blank {
        /// The field, capitalised as in Django's message.
        field: &'static str,
    },
    /// `has_perms` was given something that is not a list of permissions.
    #[error("perm_list must be an iterable of permissions.")]
    InvalidPermList,
    /// The backend chain is empty (Django's `ImproperlyConfigured`).
    #[error("No authentication backends have been defined. Add at least one backend (for example ModelBackend) to the chain.")]
    NoBackends,
    /// A model or permission declaration breaks one of Django's system checks (auth.E005–E012).
    #[error("{id}: {message}")]
    Check {
        /// Django's check id, e.g. `auth.E005`.
        id: &'static str,
        /// The message.
        message: String,
    },
    /// A password hasher failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Signed data ([`signing`](crate::signing)) did not verify or decode.
    #[error("bad signature: {reason}")]
    BadSignature {
        /// What was wrong with it.
        reason: String,
    },
    /// A password-reset token ([`tokens`](crate::tokens)) was refused.
    #[error("invalid password reset token: {reason}")]
    InvalidToken {
        /// Why: empty, malformed, made for another user or state of the user, or expired.
        reason: &'static str,
    },
    /// An object-level check named a permission of another app than the object's (guardian's
    /// `WrongAppError`).
    #[error("the permission {perm:?} has app label {perm_app:?} while the object {object} has app label {object_app:?}: name a permission of the object's app, or its bare codename")]
    WrongApp {
        /// The permission as given.
        perm: String,
        /// Its app label.
        perm_app: String,
        /// The object (`app_label.model:pk`).
        object: String,
        /// The object's app label.
        object_app: String,
    },
    /// The permissions of an object query belong to more than one content type, or to another
    /// than the model asked for (guardian's `MixedContentTypeError`).
    #[error("{0}")]
    MixedContentType(String),
}

fn suggestion_text(suggestion: Option<&str>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean {s:?}?"),
        None => String::new(),
    }
}

/// `Result` with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
