//! The CLI on a Django project with its own user model: `--user-model` / `--username-field`
//! (or `CASTELLAN_USER_MODEL` / `CASTELLAN_USERNAME_FIELD`), the model's required fields with
//! `--field`, and a model that does not fit refused with exit 2 before anything is written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use castellan_testkit::custom_user::CustomUser;
use castellan_testkit::{Kind, TestDb};
use common::Db;

const PERSON: [&str; 4] = ["--user-model", "staff.Person", "--username-field", "email"];

/// The `staff.Person` project's database as Django migrated it (SQLite).
fn project() -> (TestDb, Db) {
    project_of(CustomUser::Person)
}

/// `custom`'s project database as Django migrated it (SQLite).
fn project_of(custom: CustomUser) -> (TestDb, Db) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let test_db = runtime.block_on(custom.database(Kind::Sqlite)).unwrap();
    let path = test_db.name.clone().into();
    let db = Db {
        url: test_db.url.clone(),
        path,
    };
    (test_db, db)
}

fn with(args: &[&str]) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = PERSON.to_vec();
    for a in args {
        all.push(String::leak((*a).to_owned()));
    }
    all
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_command_works_on_the_projects_users() {
    let (_keep, db) = project();
    db.ok(&with(&["migrate"]), 0);

    // The model's required field is asked for; nothing is written without it.
    let out = db.run(&with(&["user", "create", "ada@example.com"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("display_name"), "{}", stderr(&out));
    assert_eq!(
        db.json(&with(&["user", "list", "--json"])),
        serde_json::json!([])
    );

    db.ok(
        &with(&[
            "user",
            "create",
            "Ada@Example.COM",
            "--field",
            "display_name=Ada Lovelace",
        ]),
        0,
    );
    db.ok(&with(&["group", "create", "Editors"]), 0);
    db.ok(
        &with(&["group", "grant", "Editors", "auth.change_group"]),
        0,
    );
    db.ok(
        &with(&["user", "add-group", "Ada@example.com", "Editors"]),
        0,
    );
    db.ok(&with(&["check", "Ada@example.com", "auth.change_group"]), 0);
    db.ok(&with(&["check", "Ada@example.com", "auth.delete_group"]), 1);
    let holders = db.json(&with(&["who-has", "auth.change_group", "--json"]));
    assert_eq!(holders["usernames"], serde_json::json!(["Ada@example.com"]));
    let perms = db.json(&with(&["perms", "Ada@example.com", "--json"]));
    assert_eq!(perms["all"], serde_json::json!(["auth.change_group"]));

    // The same settings from the environment.
    let out = db.run_env(
        &["check", "Ada@example.com", "auth.change_group"],
        None,
        &[
            ("CASTELLAN_USER_MODEL", "staff.Person"),
            ("CASTELLAN_USERNAME_FIELD", "email"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // The model has no is_staff: making someone staff is refused, nothing changes.
    let out = db.run(&with(&[
        "user",
        "update",
        "Ada@example.com",
        "--staff",
        "true",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is_staff"), "{}", stderr(&out));
}

/// `accounts.Member`: a UUID primary key, shown as Django's `str(pk)`.
#[test]
fn a_uuid_keyed_model_works_and_shows_its_keys() {
    let (_keep, db) = project_of(CustomUser::Member);
    let member = |args: &[&str]| -> Vec<&'static str> {
        let mut all = vec![
            "--user-model",
            "accounts.Member",
            "--username-field",
            "email",
        ];
        all.extend(args.iter().map(|a| &*String::leak((*a).to_owned())));
        all
    };
    db.ok(&member(&["migrate"]), 0);
    // favourite_colour has no database default: a create without it is refused, nothing written.
    let out = db.run(&member(&[
        "user",
        "create",
        "ann@example.com",
        "--field",
        "display_name=Ann",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("favourite_colour"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        db.json(&member(&["user", "list", "--json"])),
        serde_json::json!([])
    );
    db.ok(
        &member(&[
            "user",
            "create",
            "ann@example.com",
            "--field",
            "display_name=Ann",
            "--field",
            "favourite_colour=green",
        ]),
        0,
    );
    db.ok(
        &member(&["user", "grant", "ann@example.com", "auth.view_group"]),
        0,
    );
    db.ok(&member(&["check", "ann@example.com", "auth.view_group"]), 0);
    let shown = db.json(&member(&["user", "show", "ann@example.com", "--json"]));
    let id = shown["id"]
        .as_str()
        .expect("a UUID key is a string")
        .to_owned();
    assert_eq!(id.len(), 36, "hyphenated, as str(uuid): {id}");
    let holders = db.json(&member(&["who-has", "auth.view_group", "--ids", "--json"]));
    assert_eq!(holders["ids"], serde_json::json!([id]));
    let out = db.run(&member(&["who-has", "auth.view_group", "--ids"]));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), id);
    db.ok(&member(&["user", "delete", "ann@example.com"]), 0);
    assert_eq!(
        db.json(&member(&["user", "list", "--json"])),
        serde_json::json!([])
    );
}

#[test]
fn a_model_that_does_not_fit_is_exit_2() {
    let (_keep, db) = project();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--user-model", "nope.Member", "user", "list"],
            "nope_member",
        ),
        (
            &["--user-model", "staff.Person", "user", "list"],
            "username field",
        ),
        (
            &["--user-model", "Person", "user", "list"],
            "APP_LABEL.ModelName",
        ),
        (
            &[
                "--user-model",
                "staff.Person",
                "--username-field",
                "e-mail",
                "user",
                "list",
            ],
            "username field",
        ),
    ];
    for (args, expected) in cases {
        let out = db.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // Django's own user model on this project: its users are not in auth_user.
    let out = db.run(&["migrate"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--user-model"), "{}", stderr(&out));
}
