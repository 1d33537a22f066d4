//! Permission names (`castellan_core::perm`): parsing never panics; a parsed name displays as the
//! input and parses back to itself; the validators and the typo finder never panic.
#![no_main]

use std::sync::OnceLock;

use castellan_core::index::closest_n;
use castellan_core::perm::{validate_identifier, validate_new_codename};
use castellan_core::{PermIndex, PermName, PermissionRow};
use libfuzzer_sys::fuzz_target;

fn index() -> &'static PermIndex {
    static INDEX: OnceLock<PermIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let names = [
            ("auth", "add_user"),
            ("auth", "change_user"),
            ("bookshelf", "add_book"),
            ("bookshelf", "can_publish_book"),
            ("ünïcode", "vïew_thing"),
        ];
        PermIndex::new(
            names
                .iter()
                .zip(1..)
                .map(|((app, code), id)| PermissionRow {
                    id,
                    app_label: (*app).into(),
                    codename: (*code).into(),
                }),
        )
    })
}

fuzz_target!(|name: &str| {
    let _ = validate_new_codename(name);
    let _ = validate_identifier("app label", name);
    let _ = index().closest(name);
    let _ = closest_n(name, [name, "auth.add_user", ""], 3);
    match PermName::parse(name) {
        Ok(p) => {
            let shown = p.to_string();
            assert_eq!(shown, name, "a parsed name displays as written");
            assert_eq!(PermName::parse(&shown).ok(), Some(p), "display parses back");
            assert_eq!(PermName::from_parts(p.app_label(), p.codename()), p);
            assert!(!p.app_label().is_empty() && !p.codename().is_empty());
            assert!(!p.codename().contains('.'));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    // Any two parts: display then parse gives the same parts whenever it parses and the app label
    // has no dot (a dot in the app label moves the split, which is why parse refuses it).
    if let Some((app, code)) = name.split_once('\u{0}') {
        let p = PermName::from_parts(app, code);
        let shown = p.to_string();
        if let Ok(q) = PermName::parse(&shown) {
            if !app.contains('.') {
                assert_eq!(q, p);
            }
        }
    }
});
