//! The object-permission commands (django-guardian's tables): `migrate --object-permissions`,
//! `check --object`, `perms --object`, `objects`, `user|group grant|revoke --object`; their exit
//! codes and JSON (a stable interface).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Db;
use serde_json::json;

/// Groups are objects too (`auth.group:ID`), so no application table is needed.
fn setup(db: &Db) {
    db.ok(&["migrate", "--object-permissions"], 0);
    db.ok(&["group", "create", "Editors"], 0); // id 1
    db.ok(&["group", "create", "Desk"], 0); // id 2
    db.ok(&["user", "create", "ann"], 0);
    db.ok(&["user", "create", "bob"], 0);
    db.ok(&["user", "create", "root", "--superuser"], 0);
    db.ok(&["group", "add-user", "Desk", "bob"], 0);
}

#[test]
fn object_commands_follow_guardian() {
    let db = Db::new("objects");
    setup(&db);
    let granted = db.ok(
        &[
            "user",
            "grant",
            "--object",
            "auth.group:1",
            "--",
            "ann",
            "auth.change_group",
            "view_group",
        ],
        0,
    );
    assert!(
        granted.contains("Granted 2 permission(s) on auth.group:1 to 'ann'"),
        "{granted}"
    );
    db.ok(
        &[
            "group",
            "grant",
            "--object",
            "auth.group:2",
            "--",
            "Desk",
            "auth.delete_group",
        ],
        0,
    );

    db.ok(
        &[
            "check",
            "--object",
            "auth.group:1",
            "--",
            "ann",
            "auth.change_group",
        ],
        0,
    );
    db.ok(
        &[
            "check",
            "--object",
            "auth.group:2",
            "--",
            "ann",
            "auth.change_group",
        ],
        1,
    );
    db.ok(
        &[
            "check",
            "--object",
            "auth.group:1",
            "--",
            "ann",
            "auth.change_group",
            "auth.delete_group",
        ],
        1,
    );
    db.ok(
        &[
            "check",
            "--any",
            "--object",
            "auth.group:1",
            "--",
            "ann",
            "auth.delete_group",
            "auth.change_group",
        ],
        0,
    );
    db.ok(
        &[
            "check",
            "--object",
            "auth.group:2",
            "--",
            "bob",
            "delete_group",
        ],
        0,
    );
    db.ok(
        &[
            "check",
            "--object",
            "auth.group:2",
            "--",
            "root",
            "auth.delete_group",
        ],
        0,
    );
    // A global permission never grants an object.
    db.ok(&["user", "grant", "bob", "auth.change_group"], 0);
    db.ok(
        &[
            "check",
            "--object",
            "auth.group:2",
            "--",
            "bob",
            "auth.change_group",
        ],
        1,
    );

    assert_eq!(
        db.json(&["perms", "--json", "--object", "auth.group:1", "--", "ann"]),
        json!({"username": "ann", "object": "auth.group:1", "all": ["auth.change_group", "auth.view_group"]})
    );
    assert_eq!(
        db.json(&["perms", "--json", "--object", "auth.group:1", "--", "bob"])["all"],
        json!([])
    );
    assert_eq!(
        db.json(&[
            "objects",
            "--model",
            "auth.group",
            "--json",
            "--",
            "ann",
            "auth.change_group"
        ]),
        json!({"pks": ["1"]})
    );
    // bob holds change_group globally: every group, unless global permissions are off.
    assert_eq!(
        db.json(&[
            "objects",
            "--model",
            "auth.group",
            "--json",
            "--",
            "bob",
            "auth.change_group"
        ]),
        json!({"pks": ["1", "2"]})
    );
    assert_eq!(
        db.json(&[
            "objects",
            "--model",
            "auth.group",
            "--json",
            "--no-global",
            "--",
            "bob",
            "auth.change_group"
        ]),
        json!({"pks": []})
    );
    assert_eq!(
        db.json(&[
            "objects",
            "--model",
            "auth.group",
            "--json",
            "--no-groups",
            "--",
            "bob",
            "auth.delete_group"
        ]),
        json!({"pks": []})
    );
    assert_eq!(
        db.json(&[
            "objects",
            "--model",
            "auth.group",
            "--json",
            "--",
            "bob",
            "auth.delete_group"
        ]),
        json!({"pks": ["2"]})
    );
    assert_eq!(
        db.json(&[
            "objects",
            "--model",
            "auth.group",
            "--json",
            "--no-superuser",
            "--",
            "root",
            "auth.delete_group"
        ]),
        json!({"pks": []})
    );
    assert_eq!(
        db.json(&[
            "objects",
            "--model",
            "auth.group",
            "--json",
            "--any",
            "--",
            "ann",
            "auth.delete_group",
            "auth.view_group"
        ]),
        json!({"pks": ["1"]})
    );

    // who-has --object: guardian's get_users_with_perms (superusers only when asked).
    assert_eq!(
        db.json(&[
            "who-has",
            "--json",
            "--object",
            "auth.group:2",
            "auth.delete_group"
        ]),
        json!({"permission": "auth.delete_group", "object": "auth.group:2", "usernames": ["bob"]})
    );
    assert_eq!(
        db.json(&[
            "who-has",
            "--json",
            "--object",
            "auth.group:2",
            "auth.delete_group",
            "--include-superusers",
            "true"
        ])["usernames"],
        json!(["bob", "root"])
    );
    // explain --object: through what, and what a global permission does not do.
    let why = db.json_exit(
        &[
            "explain",
            "--json",
            "--object",
            "auth.group:2",
            "bob",
            "auth.delete_group",
        ],
        0,
    );
    assert_eq!(why["reason"], "granted");
    assert_eq!(why["groups"], json!(["Desk"]));
    let why = db.json_exit(
        &[
            "explain",
            "--json",
            "--object",
            "auth.group:2",
            "bob",
            "auth.change_group",
        ],
        1,
    );
    assert_eq!(why["reason"], "not_granted");
    assert_eq!(why["global"], true);
    assert!(
        why["message"].as_str().unwrap().contains("globally"),
        "{why}"
    );
    let why = db.json_exit(
        &[
            "explain",
            "--json",
            "--object",
            "auth.group:2",
            "ann",
            "auth.delete_group",
        ],
        1,
    );
    assert_eq!(why["would_grant"], json!(["Desk"]));

    let revoked = db.ok(
        &[
            "user",
            "revoke",
            "--object",
            "auth.group:1",
            "--",
            "ann",
            "change_group",
        ],
        0,
    );
    assert!(revoked.contains("Revoked 1 permission(s)"), "{revoked}");
    db.ok(
        &[
            "check",
            "--object",
            "auth.group:1",
            "--",
            "ann",
            "auth.change_group",
        ],
        1,
    );
}

#[test]
fn object_commands_refuse_bad_input_with_exit_2() {
    let db = Db::new("objects-bad");
    setup(&db);
    let before = db.json(&["audit", "--json"]);
    for args in [
        // unknown permission, another app's, a nonexistent object, a malformed object
        &[
            "check",
            "--object",
            "auth.group:1",
            "--",
            "ann",
            "auth.chnage_group",
        ][..],
        &[
            "check",
            "--object",
            "auth.group:1",
            "--",
            "ann",
            "bookshelf.view_book",
        ],
        &[
            "check",
            "--object",
            "auth.group:9",
            "--",
            "ann",
            "auth.change_group",
        ],
        &[
            "check",
            "--object",
            "auth.group",
            "--",
            "ann",
            "auth.change_group",
        ],
        &["perms", "--object", "auth.group:9", "--", "ann"],
        &[
            "user",
            "grant",
            "--object",
            "auth.group:1",
            "--",
            "ann",
            "auth.change_user",
        ],
        &[
            "user",
            "grant",
            "--object",
            "auth.group:9",
            "--",
            "ann",
            "auth.change_group",
        ],
        &[
            "user",
            "grant",
            "--object",
            "auth.group:1",
            "--",
            "nobody",
            "auth.change_group",
        ],
        &[
            "group",
            "grant",
            "--object",
            "auth.group:1",
            "--",
            "Nobody",
            "auth.change_group",
        ],
        &[
            "objects",
            "--model",
            "auth.group",
            "--",
            "ann",
            "auth.change_group",
            "auth.change_user",
        ],
        &["objects", "--model", "auth.group", "--", "ann", "auth.nope"],
        &["objects", "--model", "auth.ghost", "--", "ann"],
        &["who-has", "--object", "auth.group:9", "auth.change_group"],
        &["who-has", "--object", "auth.group:1", "bookshelf.view_book"],
        &["explain", "--object", "auth.group:1", "ann", "auth.nope"],
        &["explain", "--object", "auth.group:1", "ann"],
    ] {
        let out = db.run(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{args:?} says what was wrong");
    }
    assert_eq!(db.json(&["audit", "--json"]), before, "nothing was changed");
}

#[test]
fn without_guardian_tables_the_commands_say_how_to_add_them() {
    let db = Db::new("objects-none");
    db.ok(&["migrate"], 0);
    db.ok(&["group", "create", "Editors"], 0);
    db.ok(&["user", "create", "ann"], 0);
    let out = db.run(&[
        "check",
        "--object",
        "auth.group:1",
        "--",
        "ann",
        "auth.change_group",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("migrate --object-permissions"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
