//! Timestamps as Django writes them on SQLite (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC).

use chrono::{DateTime, NaiveDateTime, Utc};

/// Formats a timestamp as Django stores it on SQLite.
pub fn ts_to_text(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// Parses a timestamp written by Django or by [`ts_to_text`] (with or without fraction, `T`, offset).
pub fn ts_from_text(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    let t = t.trim_end_matches("+00:00").trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(naive.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_in_djangos_format() {
        let t = ts_from_text("2026-11-25 20:38:15.814842").unwrap();
        assert_eq!(ts_to_text(t), "2026-11-25 20:38:15.814842");
        assert!(ts_from_text("2026-11-25T20:38:15+00:00").is_some());
        assert!(ts_from_text("garbage").is_none());
    }
}
