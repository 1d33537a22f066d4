//! The policy file parser (`castellan_core::policy`): any text either parses or gives problems with
//! lines inside the file; a parsed policy resolves (with and without pruning) without panicking.
#![no_main]

use castellan_core::policy::{line_of, Policy};
use libfuzzer_sys::fuzz_target;

const EXISTING: [(&str, &str); 4] = [
    ("auth", "add_user"),
    ("auth", "view_group"),
    ("bookshelf", "add_book"),
    ("bookshelf", "retired_perm"),
];

fuzz_target!(|src: &str| {
    let last_line = line_of(src, src.len());
    let check_lines = |problems: &castellan_core::policy::Problems| {
        for p in &problems.0 {
            assert!(
                (1..=last_line).contains(&p.line),
                "problem on line {} of a {last_line}-line file: {}",
                p.line,
                p.message
            );
            assert!(!p.message.is_empty());
        }
        let _ = problems.render("policy.toml");
    };
    match Policy::parse(src) {
        Ok(policy) => {
            for g in policy.groups() {
                assert!((1..=last_line).contains(&g.line));
                for pat in &g.permissions {
                    let _ = pat.matches("bookshelf", "add_book");
                }
            }
            for a in policy.apps() {
                let _ = policy.owns_app(a);
            }
            for prune in [false, true] {
                match policy.resolve(EXISTING.iter().copied(), prune) {
                    Ok(resolved) => {
                        for perms in resolved.groups.values() {
                            for p in perms {
                                assert!(p.contains('.'), "resolved name {p:?}");
                            }
                        }
                    }
                    Err(problems) => {
                        assert!(!problems.0.is_empty());
                        check_lines(&problems);
                    }
                }
            }
        }
        Err(problems) => {
            assert!(
                !problems.0.is_empty(),
                "an error names at least one problem"
            );
            check_lines(&problems);
        }
    }
});
