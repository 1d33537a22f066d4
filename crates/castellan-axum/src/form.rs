//! Input limits for `application/x-www-form-urlencoded` data, applied by the
//! [`AuthLayer`](crate::AuthLayer) to every request's query string and urlencoded body before any
//! handler runs (Django's `DATA_UPLOAD_MAX_NUMBER_FIELDS` and `DATA_UPLOAD_MAX_MEMORY_SIZE`, plus
//! the NUL and UTF-8 checks its form fields make).
//!
//! [`parse_urlencoded`] is the one parser; it is public so that it can be fuzzed and reused.

use std::fmt;

/// Limits for [`parse_urlencoded`] and for the layer's checks
/// ([`AuthConfig::with_form_limits`](crate::AuthConfig::with_form_limits)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormLimits {
    /// The most fields a query string or a form body may have (Django's
    /// `DATA_UPLOAD_MAX_NUMBER_FIELDS`, default 1,000). `None`: no limit.
    pub max_fields: Option<usize>,
    /// The largest urlencoded body, in bytes (Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`, default
    /// 2.5 MiB = 2,621,440). At most this many bytes are read; a larger body is answered 413.
    /// `None`: no limit (not recommended: the body is held in memory).
    pub max_body_bytes: Option<usize>,
}

impl Default for FormLimits {
    fn default() -> Self {
        Self {
            max_fields: Some(1000),
            max_body_bytes: Some(2_621_440),
        }
    }
}

/// Why urlencoded data was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormError {
    /// More fields than [`FormLimits::max_fields`] (400).
    TooManyFields {
        /// The limit.
        limit: usize,
    },
    /// A body larger than [`FormLimits::max_body_bytes`] (413).
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A field name or value contains U+0000 after decoding (400).
    NulCharacter,
    /// A field name or value is not UTF-8 after percent-decoding (400).
    InvalidUtf8,
    /// The body could not be read (the client went away or sent a broken stream; 400).
    Unreadable,
}

impl FormError {
    /// The HTTP status this error is answered with: 413 for [`FormError::TooLarge`], else 400.
    pub fn status_code(&self) -> http::StatusCode {
        match self {
            Self::TooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
            _ => http::StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyFields { limit } => write!(
                f,
                "the request has more than {limit} fields; send fewer (the limit is set with \
                 AuthConfig::with_form_limits)"
            ),
            Self::TooLarge { limit } => write!(
                f,
                "the form body is larger than {limit} bytes; send less (the limit is set with \
                 AuthConfig::with_form_limits)"
            ),
            Self::NulCharacter => f.write_str("Null characters are not allowed."),
            Self::Unreadable => f.write_str("the request body could not be read; send it again"),
            Self::InvalidUtf8 => f.write_str(
                "the form data is not valid UTF-8 after percent-decoding; encode it as UTF-8",
            ),
        }
    }
}

impl std::error::Error for FormError {}

/// Parses urlencoded data (a query string without its `?`, or an
/// `application/x-www-form-urlencoded` body) into its decoded `(name, value)` pairs, in order.
///
/// `+` is a space and `%XX` a byte, as in the WHATWG urlencoded parser (malformed escapes are kept
/// literally); empty pieces between `&` are skipped and a piece without `=` is a name with an empty
/// value. The data is refused when:
///
/// * it is longer than `limits.max_body_bytes` ([`FormError::TooLarge`]);
/// * it has more than `limits.max_fields` fields ([`FormError::TooManyFields`]; counted before
///   decoding, as Django does);
/// * a decoded name or value is not UTF-8 ([`FormError::InvalidUtf8`]: never replaced by U+FFFD);
/// * a decoded name or value contains NUL ([`FormError::NulCharacter`]).
///
/// It never panics, and its work is linear in the input.
pub fn parse_urlencoded(
    body: &[u8],
    limits: &FormLimits,
) -> Result<Vec<(String, String)>, FormError> {
    if let Some(limit) = limits.max_body_bytes {
        if body.len() > limit {
            return Err(FormError::TooLarge { limit });
        }
    }
    if let Some(limit) = limits.max_fields {
        let fields = body
            .split(|&b| b == b'&')
            .filter(|piece| !piece.is_empty())
            .count();
        if fields > limit {
            return Err(FormError::TooManyFields { limit });
        }
    }
    let mut fields = Vec::new();
    for piece in body.split(|&b| b == b'&').filter(|piece| !piece.is_empty()) {
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &[][..]),
        };
        fields.push((decode(name)?, decode(value)?));
    }
    Ok(fields)
}

/// Percent-decodes one name or value (`+` is a space), refusing invalid UTF-8 and NUL.
fn decode(raw: &[u8]) -> Result<String, FormError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    let text = String::from_utf8(bytes).map_err(|_| FormError::InvalidUtf8)?;
    if text.contains('\0') {
        return Err(FormError::NulCharacter);
    }
    Ok(text)
}

/// The last value of `name` (Django's `QueryDict.get`).
pub(crate) fn last_value<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(s: &[u8]) -> Result<Vec<(String, String)>, FormError> {
        parse_urlencoded(s, &FormLimits::default())
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn decodes_like_the_whatwg_parser() {
        assert_eq!(
            parse(b"a=1&b=x+y&c=%41%e2%82%ac&&d&=e&f=%zz&g=%4").unwrap(),
            pairs(&[
                ("a", "1"),
                ("b", "x y"),
                ("c", "A€"),
                ("d", ""),
                ("", "e"),
                ("f", "%zz"),
                ("g", "%4")
            ])
        );
        assert_eq!(parse(b"a=b=c").unwrap(), pairs(&[("a", "b=c")]));
        assert_eq!(parse(b"").unwrap(), pairs(&[]));
        assert_eq!(parse(b"a=%+1").unwrap(), pairs(&[("a", "% 1")]));
    }

    #[test]
    fn agrees_with_form_urlencoded_on_valid_input() {
        let input = b"name=J%C3%BCrgen+M&x=%2B%26%3D&empty=&&k";
        let ours = parse(input).unwrap();
        let theirs: Vec<(String, String)> = form_urlencoded::parse(input)
            .map(|(a, b)| (a.into_owned(), b.into_owned()))
            .collect();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn refuses_nul_invalid_utf8_and_too_much() {
        assert_eq!(parse(b"a=%00"), Err(FormError::NulCharacter));
        assert_eq!(parse(b"a%00=1"), Err(FormError::NulCharacter));
        assert_eq!(parse(b"a=\0"), Err(FormError::NulCharacter));
        assert_eq!(parse(b"a=%ff"), Err(FormError::InvalidUtf8));
        assert_eq!(parse(b"a=\xff"), Err(FormError::InvalidUtf8));
        assert_eq!(parse(b"%c3%28=1"), Err(FormError::InvalidUtf8));
        let limits = FormLimits {
            max_fields: Some(2),
            max_body_bytes: Some(10),
        };
        assert!(parse_urlencoded(b"a=1&b=2", &limits).is_ok());
        assert_eq!(
            parse_urlencoded(b"a=1&b=2&c", &limits),
            Err(FormError::TooManyFields { limit: 2 })
        );
        assert_eq!(
            parse_urlencoded(b"a=123456789", &limits),
            Err(FormError::TooLarge { limit: 10 })
        );
        let none = FormLimits {
            max_fields: None,
            max_body_bytes: None,
        };
        assert_eq!(
            parse_urlencoded(&b"a&".repeat(5000), &none).unwrap().len(),
            5000
        );
    }
}
