//! Look-alike names: two usernames or group names that read the same to a person.
//!
//! Django NFKC-normalises a new username and compares names byte for byte, so `Editors`,
//! `editors` and `ＥＤＩＴＯＲＳ` (fullwidth) can be three different groups, and `straße` and
//! `STRASSE` two different users. Castellan refuses a *new* name (a created user or group, a
//! renamed group) whose [`lookalike_key`] equals another existing name's; what is already in the
//! database is left as it is.
//!
//! ```
//! use castellan_core::lookalike::{lookalike_key, looks_alike};
//!
//! assert!(looks_alike("Editors", "ＥＤＩＴＯＲＳ"));
//! assert!(looks_alike("straße", "STRASSE"));
//! assert!(looks_alike("ǅemal", "ǄEMAL"));
//! assert!(!looks_alike("Editors", "Editor"));
//! assert_eq!(lookalike_key("Ｅｄｉｔｏｒｓ"), lookalike_key("editors"));
//! ```

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;

/// The name's compatibility caseless form (Unicode's definition D146:
/// `NFKD(toCasefold(NFKD(toCasefold(NFD(name)))))`): NFKC-equivalent names and names that differ
/// only by case, full case folding included (`ß` ~ `ss`), have the same key.
pub fn lookalike_key(name: &str) -> String {
    name.chars()
        .nfd()
        .default_case_fold()
        .nfkd()
        .default_case_fold()
        .nfkd()
        .collect()
}

/// Whether two names have the same [`lookalike_key`].
pub fn looks_alike(a: &str, b: &str) -> bool {
    lookalike_key(a) == lookalike_key(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_width_ligatures_and_compatibility_forms() {
        for (a, b) in [
            ("Editors", "editors"),
            ("Editors", "EDITORS"),
            ("Editors", "ＥＤＩＴＯＲＳ"),
            ("ǅ", "ǆ"),
            ("ǅ", "Ǆ"),
            ("ǅ", "dž"),
            ("straße", "STRASSE"),
            ("ﬁle", "FILE"),
            ("Ⅸ", "ix"),
            ("café", "cafe\u{301}"),
            ("ΣΊΣΥΦΟΣ", "σίσυφος"),
        ] {
            assert!(looks_alike(a, b), "{a:?} ~ {b:?}");
        }
        for (a, b) in [
            ("Editors", "Editor"),
            ("cafe", "café"),
            ("a b", "ab"),
            ("alice", "alicé"),
        ] {
            assert!(!looks_alike(a, b), "{a:?} !~ {b:?}");
        }
    }
}
