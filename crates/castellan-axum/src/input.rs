//! The request input the layer checks before anything else runs: the query string and an
//! urlencoded body against the configured limits (field count, size, NUL bytes, UTF-8).

use axum::body::Body;
use http::{header, HeaderMap};

use crate::config::AuthConfig;
use crate::form::{self, FormError, FormLimits};

/// Whether the request has an urlencoded body.
fn is_urlencoded(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Checks the query string and an urlencoded body against the configured limits. The body is
/// read (at most the limit) and handed back with its parsed fields; other bodies pass untouched.
pub(crate) async fn check_input(
    config: &AuthConfig,
    parts: &http::request::Parts,
    body: Body,
) -> std::result::Result<(Body, Option<Vec<(String, String)>>), FormError> {
    let limits = config.form_limits;
    if let Some(query) = parts.uri.query() {
        let query_limits = FormLimits {
            max_body_bytes: None,
            ..limits
        };
        form::parse_urlencoded(query.as_bytes(), &query_limits)?;
    }
    if !is_urlencoded(&parts.headers) {
        return Ok((body, None));
    }
    let too_large = |limit| FormError::TooLarge { limit };
    if let Some(limit) = limits.max_body_bytes {
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
            return Err(too_large(limit));
        }
    }
    let bytes = read_at_most(body, limits.max_body_bytes).await?;
    let fields = form::parse_urlencoded(&bytes, &limits)?;
    Ok((Body::from(bytes), Some(fields)))
}

/// Reads the body, refusing it as soon as it exceeds `limit` (so at most `limit` bytes plus one
/// frame are ever held).
async fn read_at_most(
    body: Body,
    limit: Option<usize>,
) -> std::result::Result<axum::body::Bytes, FormError> {
    use http_body_util::BodyExt;
    let limit_or_max = limit.unwrap_or(usize::MAX);
    let mut body = body;
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(FormError::Unreadable);
        };
        if let Ok(data) = frame.into_data() {
            if buf.len().saturating_add(data.len()) > limit_or_max {
                return Err(FormError::TooLarge {
                    limit: limit_or_max,
                });
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.into())
}
