//! Property tests for permission names: `PermName::parse` agrees with a direct model of its rule,
//! and every well-formed name survives display → parse unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_core::PermName;
use proptest::prelude::*;

/// The rule, stated directly: exactly one dot, both sides non-empty, no whitespace or control
/// character, app label ≤ 100 and codename ≤ 100 characters.
fn model_accepts(name: &str) -> bool {
    let Some((app, code)) = name.split_once('.') else {
        return false;
    };
    !code.contains('.')
        && !app.is_empty()
        && !code.is_empty()
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
        && app.chars().count() <= 100
        && code.chars().count() <= 100
}

proptest! {
    #[test]
    fn parse_display_round_trip(app in "[a-z_][a-z0-9_]{0,99}", code in "[A-Za-z0-9_é]{1,100}") {
        let p = PermName::from_parts(&app, &code);
        let shown = p.to_string();
        let q = PermName::parse(&shown).unwrap();
        prop_assert_eq!(q, p);
        prop_assert_eq!(q.to_string(), shown);
    }

    #[test]
    fn parse_agrees_with_the_model(name in "[ab._é \t\u{0}\u{85}\u{3000}]{0,12}") {
        let parsed = PermName::parse(&name);
        prop_assert_eq!(parsed.is_ok(), model_accepts(&name), "{:?}: {:?}", name, parsed);
        if let Ok(p) = parsed {
            prop_assert_eq!(p.to_string(), name);
        }
    }

    #[test]
    fn over_long_parts_are_refused(extra in 1usize..50, app_side in any::<bool>()) {
        let long = "x".repeat(100 + extra);
        let name = if app_side { format!("{long}.view") } else { format!("app.{long}") };
        prop_assert!(PermName::parse(&name).is_err());
    }
}
