//! `castellan explain`, `who-has` pagination and `matrix`: output, JSON formats and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

mod common;

use common::Db;

fn library(db: &Db) {
    db.ok(&["migrate"], 0);
    for g in ["Editors", "Staff", "Publishers", "<script>&\"'"] {
        db.ok(&["group", "create", g], 0);
    }
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
    db.ok(&["group", "grant", "Staff", "auth.change_user"], 0);
    db.ok(&["group", "grant", "Publishers", "auth.delete_user"], 0);
    db.ok(&["group", "grant", "<script>&\"'", "auth.view_group"], 0);
    for u in ["alice", "bob", "carol"] {
        db.ok(&["user", "create", u], 0);
    }
    db.ok(&["user", "create", "root", "--superuser"], 0);
    db.ok(&["user", "create", "ghost", "--inactive"], 0);
    db.ok(
        &["user", "create", "phantom", "--inactive", "--superuser"],
        0,
    );
    db.ok(&["user", "grant", "alice", "auth.add_group"], 0);
    db.ok(&["user", "add-group", "alice", "Editors"], 0);
    db.ok(&["user", "add-group", "bob", "Editors", "Staff"], 0);
    db.ok(&["user", "grant", "ghost", "auth.change_user"], 0);
}

#[test]
fn explain_messages_and_exit_codes() {
    let db = Db::new("messages");
    library(&db);
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["explain", "alice", "auth.add_group"],
            0,
            "alice is allowed auth.add_group: granted directly\n",
        ),
        (
            &["explain", "alice", "auth.view_user"],
            0,
            "alice is allowed auth.view_user: granted through group \"Editors\"\n",
        ),
        (
            &["explain", "bob", "auth.change_user"],
            0,
            "bob is allowed auth.change_user: granted through groups \"Editors\", \"Staff\"\n",
        ),
        (
            &["explain", "root", "auth.delete_user"],
            0,
            "root is allowed auth.delete_user: an active superuser has every permission\n",
        ),
        (
            &["explain", "carol", "auth.change_user"],
            1,
            "carol is denied auth.change_user: not granted directly nor through the user's groups; it would be granted by joining \"Editors\", \"Staff\"\n",
        ),
        (
            &["explain", "ghost", "auth.change_user"],
            1,
            "ghost is denied auth.change_user: the user is inactive (if active, it would have it directly)\n",
        ),
        (
            &["explain", "phantom", "auth.change_user"],
            1,
            "phantom is denied auth.change_user: the user is inactive (as an active superuser it would have every permission)\n",
        ),
        (
            &["explain", "alice", "auth.chnage_user"],
            1,
            "alice is denied auth.chnage_user: no permission \"auth.chnage_user\" exists; did you mean auth.change_user, auth.add_user, auth.delete_user?\n",
        ),
        (
            &["explain", "--anonymous", "auth.view_user"],
            1,
            "AnonymousUser is denied auth.view_user: the anonymous user has no model permissions (log in, or grant it through a custom backend)\n",
        ),
    ];
    for (args, code, want) in cases {
        assert_eq!(&db.ok(args, *code), want, "{args:?}");
    }
    // Malformed names are explained too (exit 1: explain answers a question).
    let out = db.ok(&["explain", "alice", "change_user"], 1);
    assert!(out.contains("is not a permission name"), "{out}");
    // Usage and lookup errors are exit 2.
    for args in [
        &["explain", "nobody", "auth.view_user"][..],
        &["explain", "alice"],
        &["explain", "--anonymous", "alice", "auth.view_user"],
    ] {
        let out = db.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
}

#[test]
fn explain_json_is_pinned() {
    let db = Db::new("json");
    library(&db);
    assert_eq!(
        db.json_exit(&["explain", "bob", "auth.change_user", "--json"], 0),
        serde_json::json!({
            "username": "bob", "permission": "auth.change_user", "allowed": true,
            "reason": "granted", "is_active": true, "is_superuser": false,
            "direct": false, "groups": ["Editors", "Staff"], "would_have": null,
            "would_grant": [], "suggestions": [],
            "message": "bob is allowed auth.change_user: granted through groups \"Editors\", \"Staff\"",
        })
    );
    let v = db.json_exit(&["explain", "alice", "auth.delete_user", "--json"], 1);
    assert_eq!(v["reason"], "not_granted");
    assert_eq!(v["would_grant"], serde_json::json!(["Publishers"]));
    let v = db.json_exit(&["explain", "ghost", "auth.change_user", "--json"], 1);
    assert_eq!(v["reason"], "inactive");
    assert_eq!(
        (v["would_have"].clone(), v["direct"].clone()),
        (true.into(), true.into())
    );
    let v = db.json_exit(&["explain", "root", "auth.add_user", "--json"], 0);
    assert_eq!(v["reason"], "superuser");
    let v = db.json_exit(&["explain", "alice", "auth.chnage_user", "--json"], 1);
    assert_eq!(v["reason"], "unknown_permission");
    assert_eq!(v["suggestions"][0], "auth.change_user");
    let v = db.json_exit(&["explain", "alice", "nodot", "--json"], 1);
    assert_eq!(v["reason"], "malformed_permission");
    let v = db.json_exit(&["explain", "--anonymous", "auth.view_user", "--json"], 1);
    assert_eq!(v["reason"], "anonymous");
    assert_eq!(v["username"], serde_json::Value::Null);
}

#[test]
fn who_has_pages_count_and_stream() {
    let db = Db::new("whohas");
    library(&db);
    for u in ["Zoë", "émile", "日本"] {
        db.ok(&["user", "create", u], 0);
        db.ok(&["user", "grant", u, "auth.change_user"], 0);
    }
    // Without --limit: the existing format, sorted (byte order), and the same text streamed.
    let all = db.json_exit(&["who-has", "auth.change_user", "--json"], 0);
    assert_eq!(
        all,
        serde_json::json!({
            "permission": "auth.change_user",
            "usernames": ["Zoë", "alice", "bob", "root", "émile", "日本"],
        })
    );
    assert_eq!(
        db.ok(&["who-has", "auth.change_user"], 0),
        "Zoë\nalice\nbob\nroot\némile\n日本\n"
    );
    assert_eq!(db.ok(&["who-has", "auth.change_user", "--count"], 0), "6\n");
    assert_eq!(
        db.json_exit(&["who-has", "auth.change_user", "--count", "--json"], 0),
        serde_json::json!({ "permission": "auth.change_user", "count": 6 })
    );
    // Pages of 4 then the rest, following `next`.
    let p1 = db.json_exit(
        &["who-has", "auth.change_user", "--limit", "4", "--json"],
        0,
    );
    assert_eq!(
        p1,
        serde_json::json!({
            "permission": "auth.change_user",
            "usernames": ["Zoë", "alice", "bob", "root"],
            "next": "root",
        })
    );
    let p2 = db.json_exit(
        &[
            "who-has",
            "auth.change_user",
            "--limit",
            "4",
            "--after",
            "root",
            "--json",
        ],
        0,
    );
    assert_eq!(p2["usernames"], serde_json::json!(["émile", "日本"]));
    assert_eq!(p2["next"], serde_json::Value::Null);
    assert_eq!(
        db.ok(&["who-has", "auth.change_user", "--after", "bob"], 0),
        "root\némile\n日本\n"
    );
    // Django's arguments still apply.
    assert_eq!(
        db.ok(
            &[
                "who-has",
                "auth.change_user",
                "--active",
                "any",
                "--include-superusers",
                "false",
                "--count"
            ],
            0
        ),
        "6\n"
    );
    assert_eq!(
        db.run(&["who-has", "nodot", "--count"]).status.code(),
        Some(2)
    );
    // --ids: the same users by id (as `user list --json` gives them), ascending, in text and JSON.
    let users = db.json_exit(&["user", "list", "--json"], 0);
    let id_of = |name: &str| {
        users
            .as_array()
            .and_then(|a| a.iter().find(|u| u["username"] == name))
            .and_then(|u| u["id"].as_i64())
            .unwrap_or_else(|| panic!("no id for {name} in {users}"))
    };
    let mut want: Vec<i64> = ["Zoë", "alice", "bob", "root", "émile", "日本"]
        .iter()
        .map(|n| id_of(n))
        .collect();
    want.sort();
    let ids = db.json_exit(&["who-has", "auth.change_user", "--ids", "--json"], 0);
    assert_eq!(
        ids,
        serde_json::json!({ "permission": "auth.change_user", "ids": want })
    );
    let text: String = want.iter().map(|id| format!("{id}\n")).collect();
    assert_eq!(db.ok(&["who-has", "auth.change_user", "--ids"], 0), text);
    assert_eq!(
        db.run(&["who-has", "auth.change_user", "--ids", "--count"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn matrix_snapshots() {
    let db = Db::new("matrix");
    library(&db);
    let args = ["matrix", "--app", "auth", "--users", "alice,ghost"];
    let out = |format: &str| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--format", format]);
        db.ok(&a, 0)
    };
    insta::assert_snapshot!("matrix_markdown", out("markdown"));
    insta::assert_snapshot!("matrix_csv", out("csv"));
    insta::assert_snapshot!("matrix_json", out("json"));
    let html = out("html");
    assert!(html.contains("&lt;script&gt;&amp;&quot;&#x27;"));
    assert_eq!(html.matches("<script>").count(), 1);
    insta::assert_snapshot!("matrix_html", html);
    // Without --app every app is there; an unknown user is an input error.
    assert!(db
        .ok(&["matrix"], 0)
        .contains("### contenttypes.contenttype"));
    assert_eq!(
        db.run(&["matrix", "--users", "nobody"]).status.code(),
        Some(2)
    );
}
