//! `castellan audit`.

use castellan_store::{AuditFilter, Error, Store};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use crate::args::Audit;
use crate::output::{self, input_error};
use crate::Outcome;

/// Parses `--since`: RFC 3339, a date, or an age such as `30m`, `12h`, `7d`.
fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return Ok(t.and_utc());
        }
    }
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<i64>() {
        Ok(n) if seconds > 0 && n >= 0 => Ok(now - chrono::Duration::seconds(n.saturating_mul(seconds))),
        _ => Err(input_error(format!(
            "--since {text:?}: use a time (2026-11-25T10:00:00Z), a date (2026-11-25) or an age (30m, 12h, 7d)"
        ))),
    }
}

pub(crate) async fn run(store: &Store, args: Audit) -> Result<Outcome, Error> {
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, Utc::now()))
        .transpose()?;
    let entries = store
        .audit_log(&AuditFilter {
            since,
            user: args.user,
            limit: args.limit,
            ..AuditFilter::default()
        })
        .await?;
    if args.json {
        output::json(&json!(entries));
    } else {
        for e in &entries {
            let detail = match (&e.before, &e.after) {
                (Some(b), Some(a)) => format!(" {b} -> {a}"),
                (Some(b), None) => format!(" was {b}"),
                (None, Some(a)) => format!(" {a}"),
                (None, None) => String::new(),
            };
            println!(
                "{} {} {} {} {:?}{detail}",
                e.at.format("%Y-%m-%d %H:%M:%S"),
                e.actor,
                e.action,
                e.object_type,
                e.object
            );
        }
    }
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_forms() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("2h", now).unwrap().to_rfc3339(),
            "2026-11-25T10:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-11-24", now).unwrap().to_rfc3339(),
            "2026-11-24T00:00:00+00:00"
        );
        assert!(parse_since("soon", now).is_err());
        assert!(parse_since("", now).is_err());
    }
}
