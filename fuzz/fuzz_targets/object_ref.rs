//! Object names (`castellan_core::object_perms::ObjectRef`, the CLI's `APP.MODEL:PK`): parsing never
//! panics; a parsed name displays as written and parses back to itself; the key is never empty nor
//! longer than guardian's column.
#![no_main]

use castellan_core::object_perms::{ObjectRef, MAX_OBJECT_PK};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match ObjectRef::parse(text) {
        Ok(o) => {
            let shown = o.to_string();
            assert_eq!(shown, text, "a parsed object displays as written");
            assert_eq!(ObjectRef::parse(&shown).ok(), Some(o.clone()));
            assert!(!o.pk().is_empty() && o.pk().chars().count() <= MAX_OBJECT_PK);
            assert!(!o.app_label().contains('.') && !o.model().contains(':'));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    if let Ok((app, model)) = ObjectRef::parse_model(text) {
        assert_eq!(format!("{app}.{model}"), text);
    }
});
