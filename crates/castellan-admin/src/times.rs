//! Times as people read them ("5 minutes ago"), with the exact UTC time kept for the hover title
//! and the `<time datetime>` attribute.

use chrono::{DateTime, Utc};
use minijinja::{context, Value};

/// "just now", "5 minutes ago", "3 hours ago", "yesterday", "4 days ago", else the date; a time in
/// the future (a clock ahead of ours) reads as its date.
pub(crate) fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds();
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match seconds {
        s if s < 0 => at.format("%Y-%m-%d").to_string(),
        0..=59 => "just now".to_owned(),
        60..=3_599 => plural(seconds / 60, "minute"),
        3_600..=86_399 => plural(seconds / 3_600, "hour"),
        86_400..=172_799 => "yesterday".to_owned(),
        172_800..=604_799 => plural(seconds / 86_400, "day"),
        _ => at.format("%Y-%m-%d").to_string(),
    }
}

/// The exact time shown on hover: `2026-12-03 08:01:39 UTC`.
pub(crate) fn exact(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A template value `{human, exact, iso}` for `<time datetime="{{ iso }}" title="{{ exact }}">`.
pub(crate) fn value(at: DateTime<Utc>, now: DateTime<Utc>) -> Value {
    context! { human => ago(at, now), exact => exact(at), iso => at.to_rfc3339() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn reads_like_a_person() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
        let at = |d: Duration| ago(now - d, now);
        assert_eq!(at(Duration::seconds(5)), "just now");
        assert_eq!(at(Duration::seconds(60)), "1 minute ago");
        assert_eq!(at(Duration::minutes(59)), "59 minutes ago");
        assert_eq!(at(Duration::hours(1)), "1 hour ago");
        assert_eq!(at(Duration::hours(30)), "yesterday");
        assert_eq!(at(Duration::days(3)), "3 days ago");
        assert_eq!(at(Duration::days(8)), "2026-11-25");
        assert_eq!(at(Duration::hours(-2)), "2026-12-03");
        assert_eq!(exact(now), "2026-12-03 12:00:00 UTC");
    }
}
