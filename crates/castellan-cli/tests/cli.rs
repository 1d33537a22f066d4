//! The `castellan` command line: exit codes, messages and `--json` formats (a stable interface).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

mod common;

use std::process::Output;

use common::Db;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn library(db: &Db) {
    db.ok(&["migrate"], 0);
    db.ok(&["group", "create", "Editors"], 0);
    db.ok(
        &[
            "group",
            "grant",
            "Editors",
            "auth.change_user",
            "auth.view_user",
        ],
        0,
    );
    db.ok(
        &["user", "create", "alice", "--email", "alice@EXAMPLE.org"],
        0,
    );
    db.ok(&["user", "add-group", "alice", "Editors"], 0);
    db.ok(&["user", "grant", "alice", "auth.add_group"], 0);
    db.ok(&["user", "create", "bob"], 0);
    db.ok(&["user", "create", "root", "--superuser", "--staff"], 0);
    db.ok(&["user", "create", "ghost", "--inactive"], 0);
    db.ok(&["user", "grant", "ghost", "auth.change_user"], 0);
}

#[test]
fn json_formats_are_pinned() {
    let db = Db::new("json");
    library(&db);
    assert_eq!(
        db.json(&["perms", "alice", "--json"]),
        serde_json::json!({
            "username": "alice", "is_active": true, "is_superuser": false,
            "user": ["auth.add_group"],
            "group": ["auth.change_user", "auth.view_user"],
            "all": ["auth.add_group", "auth.change_user", "auth.view_user"],
        })
    );
    assert_eq!(
        db.json(&["group", "show", "Editors", "--json"]),
        serde_json::json!({"name": "Editors", "permissions": ["auth.change_user", "auth.view_user"], "members": ["alice"]})
    );
    assert_eq!(
        db.json(&["who-has", "auth.change_user", "--json"]),
        serde_json::json!({"permission": "auth.change_user", "usernames": ["alice", "root"]})
    );
    assert_eq!(
        db.json(&[
            "who-has",
            "auth.change_user",
            "--active",
            "any",
            "--include-superusers",
            "false",
            "--json"
        ]),
        serde_json::json!({"permission": "auth.change_user", "usernames": ["alice", "ghost"]})
    );
    let ghost = db.json(&["perms", "ghost", "--json"]);
    assert_eq!(ghost["all"], serde_json::json!([]));
    let root = db.json(&["perms", "root", "--json"]);
    assert_eq!(root["all"].as_array().unwrap().len(), 16);
    let users = db.json(&["user", "list", "--json"]);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob", "ghost", "root"]);
    assert_eq!(users[0]["email"], "alice@example.org");
    assert_eq!(users[0]["has_usable_password"], false);
    let perms = db.json(&["perm", "list", "--app", "auth", "--json"]);
    assert_eq!(perms.as_array().unwrap().len(), 12);
    assert_eq!(perms[0]["permission"], "auth.add_group");
    assert_eq!(perms[0]["name"], "Can add group");
}

#[test]
fn check_exit_codes() {
    let db = Db::new("check");
    library(&db);
    db.ok(&["check", "alice", "auth.change_user"], 0);
    db.ok(
        &["check", "alice", "auth.change_user", "auth.delete_user"],
        1,
    );
    db.ok(
        &[
            "check",
            "alice",
            "auth.change_user",
            "auth.delete_user",
            "--any",
        ],
        0,
    );
    db.ok(&["check", "bob", "auth.change_user"], 1);
    db.ok(&["check", "ghost", "auth.change_user"], 1);
    db.ok(&["check", "root", "auth.delete_user"], 0);
    db.ok(&["check", "alice", "--module", "auth"], 0);
    db.ok(&["check", "alice", "--module", "Auth"], 1);
    // No silent typos: an unknown permission is an input error with the closest name.
    let out = db.run(&["check", "alice", "auth.chnage_user"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean \"auth.change_user\""),
        "{}",
        stderr(&out)
    );
    let out = db.run(&["check", "root", "made.up"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "even a superuser cannot check a typo"
    );
    let out = db.run(&["check", "nobody", "auth.change_user"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("user \"nobody\" does not exist"));
}

#[test]
fn bad_input_is_exit_2_and_changes_nothing() {
    let db = Db::new("bad");
    library(&db);
    let before = db.ok(&["group", "show", "Editors", "--json"], 0);
    let out = db.run(&[
        "group",
        "grant",
        "Editors",
        "auth.add_user",
        "auth.nonexistent",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown permission \"auth.nonexistent\""));
    let out = db.run(&["group", "grant", "Editors", "auth.add_user", "add_user"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("malformed permission name \"add_user\""));
    assert_eq!(db.ok(&["group", "show", "Editors", "--json"], 0), before);
    let out = db.run(&["user", "create", "bad name"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Enter a valid username"));
    let long = "x".repeat(151);
    assert_eq!(db.run(&["user", "create", &long]).status.code(), Some(2));
    assert_eq!(db.run(&["group", "create", &long]).status.code(), Some(2));
    let out = db.run(&["user", "create", "alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already exists"));
    assert_eq!(
        db.run(&["group", "create", "Editors"]).status.code(),
        Some(2)
    );
    assert_eq!(
        db.run(&["user", "add-group", "bob", "Nope"]).status.code(),
        Some(2)
    );
    assert_eq!(db.run(&["group", "delete", "Nope"]).status.code(), Some(2));
    assert_eq!(db.run(&["user", "delete", "nobody"]).status.code(), Some(2));
    assert_eq!(
        db.run(&[
            "perm",
            "create",
            "auth.do.thing",
            "--model",
            "user",
            "--name",
            "x"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(db.run(&["who-has", "nodots"]).status.code(), Some(2));
    assert_eq!(
        db.run(&["frobnicate"]).status.code(),
        Some(2),
        "usage error"
    );
    let users = db.json(&["user", "list", "--json"]);
    assert_eq!(users.as_array().unwrap().len(), 4);
}

#[test]
fn unmigrated_and_unreachable_databases() {
    let db = Db::new("empty");
    // A missing file: unavailable (exit 3), and not created.
    let out = db.run(&["perms", "alice"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("run `castellan migrate`"));
    assert!(!db.path.exists());
    // An empty file: not migrated yet (exit 2).
    std::fs::write(&db.path, b"").unwrap();
    let out = db.run(&["perms", "alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("run `castellan migrate` first"));
    let unreachable = Db {
        url: "postgres://nobody@127.0.0.1:1/nothing".into(),
        path: "/nonexistent/x".into(),
    };
    let out = unreachable.run(&["perms", "alice"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("database unavailable"));
    assert!(!stderr(&out).contains("panicked"));
    let missing_dir = Db {
        url: "sqlite:///nonexistent-dir/x.sqlite3".into(),
        path: "/nonexistent/x".into(),
    };
    assert_eq!(missing_dir.run(&["migrate"]).status.code(), Some(3));
}

#[test]
fn passwords_superusers_and_authentication() {
    let db = Db::new("auth");
    db.ok(&["migrate"], 0);
    let out = db.run(&["createsuperuser", "--no-input", "--username", "joe"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("You must use --email with --no-input."));
    let out = db.run(&[
        "createsuperuser",
        "--no-input",
        "--username",
        "🤠",
        "--email",
        "",
    ]);
    assert!(stderr(&out).contains("Enter a valid username"));
    let out = db.run(&["createsuperuser", "--no-input", "--email", ""]);
    assert!(stderr(&out).contains("You must use --username with --no-input."));
    let out = db.run(&[
        "createsuperuser",
        "--no-input",
        "--username",
        "joe",
        "--email",
        "",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Superuser created successfully."));
    let out = db.run(&[
        "createsuperuser",
        "--no-input",
        "--username",
        "joe",
        "--email",
        "",
    ]);
    assert!(stderr(&out).contains("Error: That username is already taken."));
    // No password variable: unusable, as Django does.
    let joe = db.json(&["user", "show", "joe", "--json"]);
    assert_eq!(joe["has_usable_password"], false);
    assert_eq!(joe["is_superuser"], true);
    assert_eq!(
        db.run_stdin(&["authenticate", "joe", "--password-stdin"], Some("x\n"))
            .status
            .code(),
        Some(1)
    );

    let out = db.run_stdin(
        &["changepassword", "joe", "--password-stdin"],
        Some("s3cret pass\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Password changed successfully for user 'joe'"
    );
    assert_eq!(
        db.run_stdin(
            &["authenticate", "joe", "--password-stdin"],
            Some("s3cret pass\n")
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        db.run_stdin(
            &["authenticate", "joe", "--password-stdin"],
            Some("wrong\n")
        )
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        db.run_stdin(&["authenticate", "nobody", "--password-stdin"], Some("x\n"))
            .status
            .code(),
        Some(1)
    );
    let out = db.run_stdin(
        &["changepassword", "nobody", "--password-stdin"],
        Some("x\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    db.ok(&["user", "update", "joe", "--active", "false"], 0);
    assert_eq!(
        db.run_stdin(
            &["authenticate", "joe", "--password-stdin"],
            Some("s3cret pass\n")
        )
        .status
        .code(),
        Some(1)
    );
    // A password from standard input at creation.
    let out = db.run_stdin(
        &[
            "user",
            "create",
            "ann",
            "--password-stdin",
            "--skip-validation",
        ],
        Some("pw\n"),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        db.run_stdin(&["authenticate", "ann", "--password-stdin"], Some("pw\n"))
            .status
            .code(),
        Some(0)
    );
}
