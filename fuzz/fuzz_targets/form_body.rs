//! Form bodies (`castellan_axum::form::parse_urlencoded`): any body under any limits is parsed or
//! refused without panicking, exactly as an independent model of the rules says (size, field count,
//! then per piece: `+` is a space, `%XX` a byte, invalid UTF-8 or NUL refused); accepted bodies
//! decode as the `form_urlencoded` crate decodes them.
#![no_main]

use castellan_axum::form::{parse_urlencoded, FormError, FormLimits};
use libfuzzer_sys::fuzz_target;

/// One name or value decoded the way the WHATWG urlencoded parser does, as bytes.
fn model_decode(raw: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() => match (hex(raw[i + 1]), hex(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn model(body: &[u8], limits: &FormLimits) -> Result<Vec<(String, String)>, FormError> {
    if let Some(limit) = limits.max_body_bytes {
        if body.len() > limit {
            return Err(FormError::TooLarge { limit });
        }
    }
    let pieces: Vec<&[u8]> = body
        .split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .collect();
    if let Some(limit) = limits.max_fields {
        if pieces.len() > limit {
            return Err(FormError::TooManyFields { limit });
        }
    }
    let text = |raw: &[u8]| -> Result<String, FormError> {
        let s = String::from_utf8(model_decode(raw)).map_err(|_| FormError::InvalidUtf8)?;
        if s.contains('\0') {
            return Err(FormError::NulCharacter);
        }
        Ok(s)
    };
    pieces
        .iter()
        .map(|piece| {
            let (name, value) = match piece.iter().position(|&b| b == b'=') {
                Some(i) => (&piece[..i], &piece[i + 1..]),
                None => (*piece, &[][..]),
            };
            Ok((text(name)?, text(value)?))
        })
        .collect()
}

// Input: one byte for the field limit (255: none), one for the size limit (×16 bytes; 255: none),
// then the body.
fuzz_target!(|data: &[u8]| {
    let (limits, body) = match data {
        [f, s, body @ ..] => (
            FormLimits {
                max_fields: (*f != 255).then_some(usize::from(*f)),
                max_body_bytes: (*s != 255).then_some(usize::from(*s) * 16),
            },
            body,
        ),
        _ => (FormLimits::default(), data),
    };
    let parsed = parse_urlencoded(body, &limits);
    assert_eq!(
        parsed,
        model(body, &limits),
        "body {:?}",
        String::from_utf8_lossy(body)
    );
    if let Ok(fields) = &parsed {
        let theirs: Vec<(String, String)> = form_urlencoded::parse(body)
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(fields, &theirs);
        if let Some(limit) = limits.max_fields {
            assert!(fields.len() <= limit);
        }
    } else if let Err(e) = &parsed {
        assert!(!e.to_string().is_empty());
        let _ = e.status_code();
    }
});
