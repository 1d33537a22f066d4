//! Field validation with Django's limits and messages (`auth.validators`, `AbstractUser`, `Group`).
//!
//! Everything here runs before a write, so bad input is refused with a message and changes nothing.

use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};

/// `auth_user.username` is `varchar(150)`.
pub const MAX_USERNAME: usize = 150;
/// `auth_group.name` is `varchar(150)`.
pub const MAX_GROUP_NAME: usize = 150;
/// `auth_user.email` is `varchar(254)`.
pub const MAX_EMAIL: usize = 254;
/// `auth_user.first_name` / `last_name` are `varchar(150)`.
pub const MAX_PERSON_NAME: usize = 150;
/// `auth_permission.name` is `varchar(255)`.
pub const MAX_PERMISSION_NAME: usize = 255;
/// `auth_permission.codename` is `varchar(100)`.
pub const MAX_CODENAME: usize = 100;
/// `django_content_type.app_label` and `.model` are `varchar(100)`.
pub const MAX_APP_LABEL: usize = 100;
/// Django's username validator message (`UnicodeUsernameValidator`).
pub const USERNAME_RULE: &str =
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";

/// NFKC-normalises a username, as `AbstractBaseUser.normalize_username` does.
pub fn normalize_username(username: &str) -> String {
    username.nfkc().collect()
}

/// Validates a username with Django's rules: not blank, at most 150 characters, only letters, digits
/// and `@ . + - _` (the `^[\w.@+-]+\Z` regex, `\w` being Unicode word characters).
///
/// Pass the normalised form ([`normalize_username`]).
pub fn validate_username(username: &str) -> Result<()> {
    if username.is_empty() {
        return Err(Error::Blank { field: "Username" });
    }
    let len = username.chars().count();
    if len > MAX_USERNAME {
        return Err(too_long("username", MAX_USERNAME, len));
    }
    if !username.chars().all(is_username_char) {
        return Err(Error::InvalidName {
            what: "username",
            value: username.to_owned(),
            reason: USERNAME_RULE.to_owned(),
        });
    }
    Ok(())
}

/// Python's Unicode `\w` minus nothing Django adds: a letter (general category L*) or a number (N*),
/// or one of `_ . @ + -`. (Rust's `char::is_alphanumeric` also accepts combining vowel signs, which
/// Django rejects.)
fn is_username_char(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number
    ) || matches!(c, '_' | '.' | '@' | '+' | '-')
}

/// Validates a group name: not blank, at most 150 characters, no control characters.
pub fn validate_group_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::Blank {
            field: "Group name",
        });
    }
    let len = name.chars().count();
    if len > MAX_GROUP_NAME {
        return Err(too_long("group name", MAX_GROUP_NAME, len));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(Error::InvalidName {
            what: "group name",
            value: name.to_owned(),
            reason: format!("it contains the control character {c:?}"),
        });
    }
    Ok(())
}

/// Validates a permission's human-readable name (`auth_permission.name`): not blank, at most 255.
pub fn validate_permission_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::Blank {
            field: "Permission name",
        });
    }
    let len = name.chars().count();
    if len > MAX_PERMISSION_NAME {
        return Err(too_long("permission name", MAX_PERMISSION_NAME, len));
    }
    Ok(())
}

/// Validates a first or last name: at most 150 characters (blank is allowed).
pub fn validate_person_name(field: &'static str, value: &str) -> Result<()> {
    let len = value.chars().count();
    if len > MAX_PERSON_NAME {
        return Err(too_long(field, MAX_PERSON_NAME, len));
    }
    Ok(())
}

/// Normalises an e-mail address as `BaseUserManager.normalize_email`: strip, then lower-case the
/// domain part only.
pub fn normalize_email(email: &str) -> String {
    let email = email.trim();
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => email.to_owned(),
    }
}

/// Validates an e-mail address. Blank is allowed (Django's `email` is `blank=True`); otherwise at most
/// 254 characters, one local part and a domain with at least one dot (or `localhost`), no spaces.
///
/// This is a simpler rule than Django's `EmailValidator` (which also checks IDNA and IP literals); it
/// refuses what is clearly wrong.
pub fn validate_email(email: &str) -> Result<()> {
    if email.is_empty() {
        return Ok(());
    }
    let len = email.chars().count();
    if len > MAX_EMAIL {
        return Err(too_long("email", MAX_EMAIL, len));
    }
    let invalid = || Error::InvalidName {
        what: "email",
        value: email.to_owned(),
        reason: "Enter a valid email address.".to_owned(),
    };
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    let domain_ok = domain == "localhost"
        || (domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains(".."));
    if local.is_empty() || !domain_ok || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid());
    }
    Ok(())
}

fn too_long(field: &'static str, max: usize, actual: usize) -> Error {
    Error::TooLong { field, max, actual }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_djangos_validator() {
        for ok in ["alice", "a.b@c+d-e_f", "Zoë", "用户", "joe123"] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "has space",
            "🤠",
            "tab\t",
            "semi;colon",
            "new\n",
            "กิน",
            "का",
        ] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
        assert!(validate_username(&"a".repeat(150)).is_ok());
        assert!(matches!(
            validate_username(&"a".repeat(151)),
            Err(Error::TooLong {
                max: 150,
                actual: 151,
                ..
            })
        ));
    }

    #[test]
    fn usernames_are_nfkc_normalised() {
        // U+2126 OHM SIGN becomes U+03A9 GREEK CAPITAL LETTER OMEGA (spec T41).
        assert_eq!(normalize_username("\u{2126}"), "\u{03a9}");
    }

    #[test]
    fn email_domain_is_lower_cased_only() {
        assert_eq!(normalize_email("normal@DOMAIN.COM"), "normal@domain.com");
        assert_eq!(
            normalize_email(r"Abc\@DEF@EXAMPLE.com"),
            r"Abc\@DEF@example.com"
        );
        assert_eq!(
            normalize_email(r"email\ with_whitespace@D.COM"),
            r"email\ with_whitespace@d.com"
        );
        assert_eq!(normalize_email("  foo@BAR.com "), "foo@bar.com");
    }

    #[test]
    fn emails() {
        assert!(validate_email("").is_ok());
        assert!(validate_email("joe@example.org").is_ok());
        assert!(validate_email("joe").is_err());
        assert!(validate_email("joe@nodot").is_err());
        assert!(validate_email("jo e@example.org").is_err());
    }

    #[test]
    fn group_names() {
        assert!(validate_group_name("Library Admins").is_ok());
        assert!(validate_group_name("  ").is_err());
        assert!(validate_group_name(&"g".repeat(151)).is_err());
    }
}
