//! Django's `contrib.auth.tokens`: [`PasswordResetTokenGenerator`], the one-use links of the
//! password-reset flow, compatible with Django's own (a link made by either validates in the
//! other when both share the secret key), and the helpers around it — the `uidb64` of the link
//! ([`uidb64`], [`pk_from_uidb64`]) and who may receive one ([`reset_recipients`], Django's
//! `PasswordResetForm.get_users`).
//!
//! A token is `<timestamp>-<hash>`: the timestamp is the base 36 number of seconds since
//! 2001-01-01, the hash is every other hex digit of an HMAC-SHA256 of the user's primary key,
//! password hash, last login (seconds precision), the timestamp and e-mail. It is valid until
//! [`PASSWORD_RESET_TIMEOUT`] (three days) has passed and as long as none of those fields changed:
//! setting a password — even the same one, salts differ — or logging in invalidates it.
//!
//! The clock comes in as an argument (`now`). Django counts seconds in the server's local time
//! (`TIME_ZONE`); Castellan counts in UTC, which is Django's count under `TIME_ZONE = "UTC"` (the
//! `startproject` default). Under another time zone a token made by one side expires earlier or
//! later on the other by the zone's offset.
//!
//! ```
//! use castellan_core::signing::SecretKeys;
//! use castellan_core::tokens::{PasswordResetTokenGenerator, TokenUser};
//! use chrono::{TimeZone, Utc};
//!
//! let tokens = PasswordResetTokenGenerator::new(SecretKeys::new("django-insecure-…"));
//! let alice = TokenUser::new("7", "pbkdf2_sha256$1200000$salt$hash", None, "alice@example.com");
//! let now = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
//! let token = tokens.make_token(&alice, now);
//! assert!(tokens.check_token(&alice, &token, now));
//!
//! // Three days and one second later it has expired.
//! let later = now + chrono::Duration::seconds(259_201);
//! assert!(!tokens.check_token(&alice, &token, later));
//! // A new password hash invalidates it at once.
//! let changed = TokenUser { password: "pbkdf2_sha256$1200000$salt$other", ..alice };
//! assert!(!tokens.check_token(&changed, &token, now));
//! ```

use std::time::Duration;

use caseless::Caseless;
use chrono::{DateTime, NaiveDate, Utc};
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};
use crate::signing::{
    base36_to_int, constant_time_eq, hex, int_to_base36, salted_hmac, urlsafe_base64_decode,
    urlsafe_base64_encode, SecretKeys,
};
use crate::User;

/// The `key_salt` of Django's `PasswordResetTokenGenerator`.
pub const KEY_SALT: &str = "django.contrib.auth.tokens.PasswordResetTokenGenerator";

/// Django's default `PASSWORD_RESET_TIMEOUT`: three days.
pub const PASSWORD_RESET_TIMEOUT: Duration = Duration::from_secs(259_200);

/// The fields of a user a token is made from. `pk` is the primary key as Django writes it
/// (`str(user.pk)`: `"42"`, or a UUID's text), `email` the value of the user's e-mail field (`""`
/// when blank).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenUser<'a> {
    /// `str(user.pk)`.
    pub pk: &'a str,
    /// The stored password hash.
    pub password: &'a str,
    /// `last_login` (only whole seconds count).
    pub last_login: Option<DateTime<Utc>>,
    /// The e-mail address (`""` when blank).
    pub email: &'a str,
}

impl<'a> TokenUser<'a> {
    /// The token fields of a user.
    pub fn new(
        pk: &'a str,
        password: &'a str,
        last_login: Option<DateTime<Utc>>,
        email: &'a str,
    ) -> Self {
        Self {
            pk,
            password,
            last_login,
            email,
        }
    }

    /// The token fields of an `auth_user` row whose primary key reads `pk` (`user.id.to_string()`).
    pub fn of_user(user: &'a User, pk: &'a str) -> Self {
        Self::new(pk, &user.password, user.last_login, &user.email)
    }

    /// Django's `_make_hash_value(user, timestamp)`.
    fn hash_value(&self, timestamp: u64) -> String {
        let login = self
            .last_login
            .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        format!(
            "{}{}{login}{timestamp}{}",
            self.pk, self.password, self.email
        )
    }
}

/// Django's `PasswordResetTokenGenerator` (algorithm `sha256`) over [`SecretKeys`]: tokens are
/// made with the current key and accepted when made with any key (`SECRET_KEY_FALLBACKS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordResetTokenGenerator {
    keys: SecretKeys,
    timeout: Duration,
}

impl PasswordResetTokenGenerator {
    /// A generator over `keys`, valid for [`PASSWORD_RESET_TIMEOUT`].
    pub fn new(keys: SecretKeys) -> Self {
        Self {
            keys,
            timeout: PASSWORD_RESET_TIMEOUT,
        }
    }

    /// Django's `PASSWORD_RESET_TIMEOUT`: how long a token is valid.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a token is valid.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `make_token(user)` at `now`, with the current key.
    pub fn make_token(&self, user: &TokenUser<'_>, now: DateTime<Utc>) -> String {
        make_token_with_timestamp(user, num_seconds(now), self.keys.current())
    }

    /// `check_token(user, token)` at `now`: whether `token` was made for `user` as it is now (with
    /// the current or a fallback key) and has not expired. See [`Self::verify`] for why not.
    pub fn check_token(&self, user: &TokenUser<'_>, token: &str, now: DateTime<Utc>) -> bool {
        self.verify(user, token, now).is_ok()
    }

    /// [`Self::check_token`], with the reason a token is refused ([`Error::InvalidToken`]):
    /// empty, malformed, made for another user or state of the user (or with an unknown key), or
    /// expired. A token from the future (a clock set back) is accepted, as in Django.
    pub fn verify(&self, user: &TokenUser<'_>, token: &str, now: DateTime<Utc>) -> Result<()> {
        let invalid = |reason| Err(Error::InvalidToken { reason });
        if token.is_empty() {
            return invalid("the token is empty");
        }
        let mut parts = token.split('-');
        let (Some(ts_b36), Some(_), None) = (parts.next(), parts.next(), parts.next()) else {
            return invalid("the token is not of the form <timestamp>-<hash>");
        };
        let Some(ts) = base36_to_int(ts_b36) else {
            return invalid("the token's timestamp is not a base 36 number");
        };
        let matches = self
            .keys
            .all()
            .any(|key| constant_time_eq(&make_token_with_timestamp(user, ts, key), token));
        if !matches {
            return invalid(
                "the token was not made for this user as it is now (the password, last login or \
                 e-mail changed, or it was made with another secret key)",
            );
        }
        let age = i128::from(num_seconds(now)) - i128::from(ts);
        if age > i128::from(self.timeout.as_secs()) {
            return invalid("the token has expired");
        }
        Ok(())
    }
}

/// Django's `_make_token_with_timestamp`.
fn make_token_with_timestamp(user: &TokenUser<'_>, timestamp: u64, key: &[u8]) -> String {
    let mac = hex(&salted_hmac(
        KEY_SALT,
        user.hash_value(timestamp).as_bytes(),
        key,
    ));
    // Every other hex digit, to shorten the URL.
    let short: String = mac.chars().step_by(2).collect();
    format!("{}-{short}", int_to_base36(timestamp))
}

/// Whole seconds from 2001-01-01 00:00:00 to `now` (UTC; `0` before then): a token's timestamp.
pub fn num_seconds(now: DateTime<Utc>) -> u64 {
    let epoch = NaiveDate::from_ymd_opt(2001, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc());
    epoch
        .map(|epoch| (now - epoch).num_seconds())
        .and_then(|s| u64::try_from(s).ok())
        .unwrap_or(0)
}

/// The `uidb64` of a reset link: `urlsafe_base64_encode(str(pk))`, without padding.
pub fn uidb64(pk: &str) -> String {
    urlsafe_base64_encode(pk.as_bytes())
}

/// The primary key (as text) a link's `uidb64` names, or `None` when it is not base 64 of UTF-8.
pub fn pk_from_uidb64(uidb64: &str) -> Option<String> {
    String::from_utf8(urlsafe_base64_decode(uidb64)?).ok()
}

/// Django's `_unicode_ci_compare`: equal after NFKC normalisation and full case folding.
pub fn unicode_ci_eq(a: &str, b: &str) -> bool {
    fn key(s: &str) -> String {
        s.nfkc().default_case_fold().collect()
    }
    key(a) == key(b)
}

/// Django's `PasswordResetForm.get_users(email)`, given the users whose e-mail the database
/// matched case-insensitively: the active ones with a usable password whose e-mail equals `email`
/// under [`unicode_ci_eq`].
pub fn reset_recipients(email: &str, users: impl IntoIterator<Item = User>) -> Vec<User> {
    users
        .into_iter()
        .filter(|u| u.is_active && u.has_usable_password() && unicode_ci_eq(email, &u.email))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn known_answer_from_django() {
        // Django 6.1, SECRET_KEY='secret', TIME_ZONE='UTC': a user with pk 1, password
        // 'pbkdf2_sha256$1$s$h', last_login 2024-05-06 07:08:09.123456 UTC, email 'a@b.c',
        // make_token at 2025-01-02 03:04:05.
        let login = at(2024, 5, 6, 7, 8, 9) + chrono::Duration::microseconds(123_456);
        let user = TokenUser::new("1", "pbkdf2_sha256$1$s$h", Some(login), "a@b.c");
        assert_eq!(
            user.hash_value(757_479_845),
            "1pbkdf2_sha256$1$s$h2024-05-06 07:08:09757479845a@b.c"
        );
        assert_eq!(num_seconds(at(2025, 1, 2, 3, 4, 5)), 757_479_845);
        let tokens = PasswordResetTokenGenerator::new(SecretKeys::new("secret"));
        let token = tokens.make_token(&user, at(2025, 1, 2, 3, 4, 5));
        assert_eq!(token, "cizf6t-2d9c3c8b5b2a2b17120ff04abdb10e6e");
        assert!(tokens.check_token(&user, &token, at(2025, 1, 2, 3, 4, 5)));
    }

    #[test]
    fn expiry_invalidation_and_fallbacks() {
        let now = at(2025, 3, 1, 0, 0, 0);
        let user = TokenUser::new("42", "hash", None, "");
        let old = PasswordResetTokenGenerator::new(SecretKeys::new("old"));
        let token = old.make_token(&user, now);
        let rotated =
            PasswordResetTokenGenerator::new(SecretKeys::new("new").with_fallbacks(["old"]));
        assert!(rotated.check_token(&user, &token, now));
        assert!(!PasswordResetTokenGenerator::new(SecretKeys::new("new"))
            .check_token(&user, &token, now));
        // New tokens use the current key only.
        let fresh = rotated.make_token(&user, now);
        assert!(!old.check_token(&user, &fresh, now));

        let limit = now + chrono::Duration::seconds(259_200);
        assert!(rotated.check_token(&user, &token, limit));
        let err = rotated
            .verify(&user, &token, limit + chrono::Duration::seconds(1))
            .unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
        let short = rotated.clone().with_timeout(Duration::from_secs(60));
        assert!(!short.check_token(&user, &token, now + chrono::Duration::seconds(61)));
        // From the future: accepted.
        assert!(rotated.check_token(&user, &token, now - chrono::Duration::days(30)));

        for changed in [
            TokenUser { pk: "43", ..user },
            TokenUser {
                password: "hash2",
                ..user
            },
            TokenUser {
                last_login: Some(now),
                ..user
            },
            TokenUser {
                email: "x@y.z",
                ..user
            },
        ] {
            assert!(!rotated.check_token(&changed, &token, now), "{changed:?}");
        }
        // A login within the same second as the token's last_login changes nothing.
        let logged = TokenUser {
            last_login: Some(now),
            ..user
        };
        let t = rotated.make_token(&logged, now);
        let same_second = TokenUser {
            last_login: Some(now + chrono::Duration::milliseconds(999)),
            ..user
        };
        assert!(rotated.check_token(&same_second, &t, now));
    }

    #[test]
    fn malformed_tokens_are_refused_with_a_reason() {
        let now = at(2025, 3, 1, 0, 0, 0);
        let user = TokenUser::new("1", "h", None, "");
        let g = PasswordResetTokenGenerator::new(SecretKeys::new("k"));
        let good = g.make_token(&user, now);
        let reason = |t: &str| g.verify(&user, t, now).unwrap_err().to_string();
        assert!(reason("").contains("empty"));
        assert!(reason("abc").contains("form"));
        assert!(reason(&format!("{good}-x")).contains("form"));
        assert!(reason("!!-abc").contains("base 36"));
        assert!(reason("zzzzzzzzzzzzzz-abc").contains("base 36"));
        assert!(reason(&good.to_uppercase()).contains("not made"));
        let (ts, hash) = good.split_once('-').unwrap();
        assert!(reason(&format!("{ts}-{}", &hash[1..])).contains("not made"));
    }

    #[test]
    fn uidb64_round_trips() {
        assert_eq!(uidb64("1"), "MQ");
        assert_eq!(uidb64("42"), "NDI");
        let uuid = "0b4f8f8e-6a55-4d5c-9a1e-6f1f2f3f4f5f";
        assert_eq!(pk_from_uidb64(&uidb64(uuid)).as_deref(), Some(uuid));
        assert_eq!(pk_from_uidb64("MQ==").as_deref(), Some("1"));
        assert_eq!(pk_from_uidb64("%%"), None);
        assert_eq!(pk_from_uidb64(&urlsafe_base64_encode(&[0xff, 0xfe])), None);
    }

    #[test]
    fn recipients_follow_get_users() {
        let user = |name: &str, email: &str, active: bool, password: &str| User {
            id: crate::UserId::Int(1),
            password: password.into(),
            last_login: None,
            is_superuser: false,
            username: name.into(),
            first_name: String::new(),
            last_name: String::new(),
            email: email.into(),
            is_staff: false,
            is_active: active,
            date_joined: Some(Utc::now()),
        };
        let found = reset_recipients(
            "STRASSE@example.com",
            [
                user("a", "straße@example.com", true, "h"),
                user("b", "strasse@EXAMPLE.com", true, "h"),
                user("c", "strasse@example.com", false, "h"),
                user("d", "strasse@example.com", true, "!unusable"),
                user("e", "other@example.com", true, "h"),
                user("f", "ＳＴＲＡＳＳＥ@example.com", true, ""),
            ],
        );
        let names: Vec<_> = found.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["a", "b", "f"]);
        assert!(unicode_ci_eq("ﬁle", "FILE"));
        assert!(!unicode_ci_eq("cafe", "café"));
    }
}
