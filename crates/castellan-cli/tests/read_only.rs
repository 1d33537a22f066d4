//! Read-only commands: an unknown permission is an input error, and a missing SQLite file is
//! never created.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Db;

#[test]
fn who_has_refuses_an_unknown_permission() {
    let db = Db::new("who-has-unknown");
    db.ok(&["migrate"], 0);
    db.ok(&["user", "create", "root", "--superuser"], 0);
    for args in [
        &["who-has", "auth.view_usr"][..],
        &["who-has", "auth.view_usr", "--json"],
        &["who-has", "auth.view_usr", "--count"],
        &["who-has", "auth.view_usr", "--ids"],
        &["who-has", "auth.view_usr", "--limit", "5"],
        &["who-has", "auth.view_usr", "--include-superusers", "false"],
    ] {
        let out = db.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("unknown permission \"auth.view_usr\""),
            "{err}"
        );
        assert!(err.contains("did you mean \"auth.view_user\"?"), "{err}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing is listed");
    }
    // A known permission still lists the superuser, as Django's with_perm.
    let v = db.json(&["who-has", "auth.view_user", "--json"]);
    assert_eq!(v["usernames"], serde_json::json!(["root"]));
    // A malformed one is an input error too.
    assert_eq!(db.run(&["who-has", "nodot"]).status.code(), Some(2));
}

#[test]
fn read_only_commands_never_create_a_missing_sqlite_file() {
    let db = Db::new("missing-file");
    assert!(!db.path.exists());
    let commands: &[&[&str]] = &[
        &["check", "alice", "auth.view_user"],
        &["check", "alice", "--module", "auth"],
        &["perms", "alice"],
        &["perms", "alice", "--json"],
        &["who-has", "auth.view_user"],
        &["explain", "alice", "auth.view_user"],
        &["matrix"],
        &["user", "list"],
        &["user", "show", "alice"],
        &["group", "list"],
        &["group", "show", "Editors"],
        &["perm", "list"],
        &["audit"],
        &["export"],
    ];
    for args in commands {
        let out = db.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!db.path.exists(), "{args:?} created {}", db.path.display());
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains("does not exist"), "{err}");
        assert!(err.contains("castellan migrate"), "{err}");
    }
    let out = db.run_stdin(&["authenticate", "alice", "--password-stdin"], Some("pw\n"));
    assert_eq!(out.status.code(), Some(3));
    assert!(!db.path.exists());
    // Writing commands need the schema too: no empty file from them either.
    for args in [
        &["user", "create", "alice"][..],
        &["group", "create", "Editors"],
    ] {
        assert_eq!(db.run(args).status.code(), Some(3), "{args:?}");
        assert!(!db.path.exists());
    }
    // `migrate` is the one that creates it.
    db.ok(&["migrate"], 0);
    assert!(db.path.exists());
    db.ok(&["user", "list"], 0);
}

#[test]
fn an_empty_existing_file_is_not_migrated_yet() {
    let db = Db::new("empty-file");
    std::fs::write(&db.path, b"").unwrap();
    let out = db.run(&["perms", "alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `castellan migrate` first"));
}
