//! [`UserId`]: a user's primary key, an integer or a UUID as the user model declares it.
//!
//! Django's `auth.User` and most custom models have an integer key (`AutoField`,
//! `BigAutoField`); a model may declare `id = models.UUIDField(primary_key=True, default=uuid.uuid4)`.
//! The text form is Django's `str(pk)` — what it writes into the session's `_auth_user_id` and
//! encodes in password-reset links: the decimal integer, or the hyphenated lowercase UUID.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kind of primary key a user model has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UserPk {
    /// `AutoField` / `BigAutoField` / `IntegerField`: the database numbers new rows.
    #[default]
    Integer,
    /// `UUIDField`: the application makes the key (Django's `default=uuid.uuid4`).
    Uuid,
}

/// A user's primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserId {
    /// An integer key.
    Int(i64),
    /// A UUID key, as its 128 bits.
    Uuid(u128),
}

impl UserId {
    /// Parses Django's `str(pk)` for a model whose key is `kind`, as Django's `to_python` does for
    /// a session's `_auth_user_id`: an integer in decimal; a UUID as 32 hexadecimal digits with
    /// or without hyphens, braces or a `urn:uuid:` prefix (Python's `uuid.UUID(str)`). Surrounding
    /// spaces are refused: Django never writes them.
    pub fn parse(kind: UserPk, text: &str) -> Option<Self> {
        match kind {
            UserPk::Integer => text.parse().ok().map(Self::Int),
            UserPk::Uuid => parse_uuid(text).map(Self::Uuid),
        }
    }

    /// A new random (version 4) UUID key, as Django's `uuid.uuid4()`.
    ///
    /// # Errors
    ///
    /// When the operating system's random source fails.
    pub fn new_uuid() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Ok(Self::Uuid(u128::from_be_bytes(bytes)))
    }

    /// The kind of key this is.
    pub fn kind(self) -> UserPk {
        match self {
            Self::Int(_) => UserPk::Integer,
            Self::Uuid(_) => UserPk::Uuid,
        }
    }

    /// The integer, for an integer key.
    pub fn as_int(self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(i),
            Self::Uuid(_) => None,
        }
    }

    /// A UUID key as 32 lowercase hexadecimal digits (how Django stores it in a `char(32)`
    /// column on SQLite and MySQL); an integer in decimal.
    pub fn hex(self) -> String {
        match self {
            Self::Int(i) => i.to_string(),
            Self::Uuid(u) => format!("{u:032x}"),
        }
    }
}

impl From<i64> for UserId {
    fn from(id: i64) -> Self {
        Self::Int(id)
    }
}

impl PartialEq<i64> for UserId {
    fn eq(&self, other: &i64) -> bool {
        *self == Self::Int(*other)
    }
}

impl fmt::Display for UserId {
    /// Django's `str(pk)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Uuid(u) => {
                let h = format!("{u:032x}");
                write!(
                    f,
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            }
        }
    }
}

impl Serialize for UserId {
    /// An integer key as a JSON number, a UUID as its hyphenated string (Django's serializers).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Int(i) => s.serialize_i64(*i),
            Self::Uuid(_) => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for UserId {
    /// A number is an integer key, a string a UUID.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(i) => Ok(Self::Int(i)),
            Raw::Text(t) => parse_uuid(&t)
                .map(Self::Uuid)
                .ok_or_else(|| serde::de::Error::custom(format!("{t:?} is not a UUID"))),
        }
    }
}

/// Python's `uuid.UUID(hex)`: drops `urn:uuid:`, braces and hyphens, then wants exactly 32
/// hexadecimal digits.
fn parse_uuid(text: &str) -> Option<u128> {
    let t = text.strip_prefix("urn:uuid:").unwrap_or(text);
    let t = t.trim_matches(|c| c == '{' || c == '}');
    let hex: String = t.chars().filter(|&c| c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(&hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "12345678-1234-5678-1234-567812345678";

    #[test]
    fn text_forms_are_djangos() {
        let id = UserId::parse(UserPk::Uuid, TEXT).unwrap();
        assert_eq!(id.to_string(), TEXT);
        assert_eq!(id.hex(), "12345678123456781234567812345678");
        for other in [
            "12345678123456781234567812345678",
            "{12345678-1234-5678-1234-567812345678}",
            "urn:uuid:12345678-1234-5678-1234-567812345678",
            "12345678-1234-5678-1234-567812345678"
                .to_uppercase()
                .as_str(),
        ] {
            assert_eq!(UserId::parse(UserPk::Uuid, other), Some(id), "{other}");
        }
        assert_eq!(UserId::parse(UserPk::Integer, "42"), Some(UserId::Int(42)));
        assert_eq!(UserId::Int(42).to_string(), "42");
    }

    #[test]
    fn bad_text_is_refused() {
        for bad in ["", "42", "1234567812345678123456781234567g", "x"] {
            assert_eq!(UserId::parse(UserPk::Uuid, bad), None, "{bad}");
        }
        for bad in ["", "1.5", "abc", "12345678-1234-5678-1234-567812345678"] {
            assert_eq!(UserId::parse(UserPk::Integer, bad), None, "{bad}");
        }
    }

    #[test]
    fn new_uuids_are_version_4() {
        let UserId::Uuid(u) = UserId::new_uuid().unwrap() else {
            panic!("not a UUID")
        };
        let text = UserId::Uuid(u).to_string();
        assert_eq!(&text[14..15], "4");
        assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"), "{text}");
        assert_ne!(UserId::new_uuid().unwrap(), UserId::Uuid(u));
    }

    #[test]
    fn json_is_a_number_or_a_string() {
        let uuid = UserId::parse(UserPk::Uuid, TEXT).unwrap();
        assert_eq!(serde_json::to_string(&UserId::Int(7)).unwrap(), "7");
        assert_eq!(serde_json::to_string(&uuid).unwrap(), format!("\"{TEXT}\""));
        assert_eq!(serde_json::from_str::<UserId>("7").unwrap(), UserId::Int(7));
        assert_eq!(
            serde_json::from_str::<UserId>(&format!("\"{TEXT}\"")).unwrap(),
            uuid
        );
    }
}
