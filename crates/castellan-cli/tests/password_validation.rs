//! Password validation in `createsuperuser`, `changepassword` and `user create` (Django's four
//! default validators), and passwords from standard input taken whole.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Db;
use std::process::Output;

const STRONG: &str = "Str0ng-Passw0rd!";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn usernames(db: &Db) -> Vec<String> {
    db.json(&["user", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

/// Exit code of `authenticate USER --password-stdin` given exactly `input` on standard input.
fn authenticate(db: &Db, user: &str, input: &str) -> Option<i32> {
    db.run_stdin(&["authenticate", user, "--password-stdin"], Some(input))
        .status
        .code()
}

fn migrated(name: &str) -> Db {
    let db = Db::new(name);
    db.ok(&["migrate"], 0);
    db
}

#[test]
fn user_create_refuses_a_weak_password_without_a_terminal() {
    let db = migrated("pv-user-create");
    let out = db.run_stdin(
        &["user", "create", "ann", "--password-stdin"],
        Some("Ann!\n"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("The password is too similar to the username."),
        "{err}"
    );
    assert!(
        err.contains("This password is too short. It must contain at least 8 characters."),
        "{err}"
    );
    assert!(err.contains("--skip-validation"), "{err}");
    assert!(usernames(&db).is_empty(), "nothing was written");

    for (password, message) in [
        ("password", "This password is too common."),
        ("1234567890123", "This password is entirely numeric."),
    ] {
        let out = db.run_stdin(
            &["user", "create", "ann", "--password-stdin"],
            Some(&format!("{password}\n")),
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
    // Similar to a part of the e-mail address.
    let out = db.run_stdin(
        &[
            "user",
            "create",
            "ann",
            "--email",
            "ann@wonderland.example",
            "--password-stdin",
        ],
        Some("Wonderland\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("The password is too similar to the email address."),
        "{}",
        stderr(&out)
    );
    assert!(usernames(&db).is_empty());

    // --skip-validation sets it anyway; a good password needs no flag.
    let out = db.run_stdin(
        &[
            "user",
            "create",
            "ann",
            "--password-stdin",
            "--skip-validation",
        ],
        Some("Ann!\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(authenticate(&db, "ann", "Ann!\n"), Some(0));
    let out = db.run_stdin(
        &["user", "create", "bea", "--password-stdin"],
        Some(&format!("{STRONG}\n")),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(authenticate(&db, "bea", &format!("{STRONG}\n")), Some(0));
    // No password at all: unusable, nothing to validate.
    db.ok(&["user", "create", "cid"], 0);
}

#[test]
fn createsuperuser_no_input_validates_the_environment_password() {
    let db = migrated("pv-superuser");
    let args = [
        "createsuperuser",
        "--no-input",
        "--username",
        "root",
        "--email",
        "root@example.org",
    ];
    let out = db.run_env(&args, None, &[("CASTELLAN_SUPERUSER_PASSWORD", "root1")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("The password is too similar to the username."),
        "{err}"
    );
    assert!(err.contains("This password is too short."), "{err}");
    assert!(usernames(&db).is_empty(), "nothing was written");

    let mut skip = args.to_vec();
    skip.push("--skip-validation");
    let out = db.run_env(&skip, None, &[("CASTELLAN_SUPERUSER_PASSWORD", "root1")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(authenticate(&db, "root", "root1"), Some(0));

    let mut other = args.to_vec();
    other[3] = "admin";
    let out = db.run_env(&other, None, &[("CASTELLAN_SUPERUSER_PASSWORD", STRONG)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn changepassword_from_stdin_refuses_a_weak_password() {
    let db = migrated("pv-changepassword");
    let out = db.run_stdin(
        &["user", "create", "joe", "--password-stdin"],
        Some(&format!("{STRONG}\n")),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    db.ok(&["user", "update", "joe", "--last-name", "Liddell"], 0);

    let out = db.run_stdin(
        &["changepassword", "joe", "--password-stdin"],
        Some("liddell!\n"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("The password is too similar to the last name."),
        "{}",
        stderr(&out)
    );
    let out = db.run_stdin(
        &["changepassword", "joe", "--password-stdin"],
        Some("qwerty\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("This password is too common."));
    // Unchanged.
    assert_eq!(authenticate(&db, "joe", STRONG), Some(0));

    let out = db.run_stdin(
        &[
            "changepassword",
            "joe",
            "--password-stdin",
            "--skip-validation",
        ],
        Some("qwerty\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(authenticate(&db, "joe", "qwerty"), Some(0));
}

#[test]
fn password_stdin_takes_all_of_it_less_one_newline() {
    let db = migrated("pv-stdin");
    // Tabs, an inner newline, trailing spaces: all part of the password.
    let password = "tab\there\nsecond line  ";
    let out = db.run_stdin(
        &["user", "create", "tess", "--password-stdin"],
        Some(&format!("{password}\r\n")),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(authenticate(&db, "tess", password), Some(0));
    assert_eq!(authenticate(&db, "tess", &format!("{password}\n")), Some(0));
    assert_eq!(
        authenticate(&db, "tess", &format!("{password}\r\n")),
        Some(0)
    );
    // Only the whole password: not its first line, nor with the spaces trimmed.
    assert_eq!(authenticate(&db, "tess", "tab\there\n"), Some(1));
    assert_eq!(
        authenticate(&db, "tess", "tab\there\nsecond line\n"),
        Some(1)
    );
    // Exactly one newline is stripped: a second one is part of the password.
    assert_eq!(
        authenticate(&db, "tess", &format!("{password}\n\n")),
        Some(1)
    );

    let changed = "new\tpass\nword\n";
    let out = db.run_stdin(
        &["changepassword", "tess", "--password-stdin"],
        Some(&format!("{changed}\n")),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(authenticate(&db, "tess", &format!("{changed}\n")), Some(0));
    assert_eq!(authenticate(&db, "tess", changed), Some(1));
    assert_eq!(authenticate(&db, "tess", "new\tpass\n"), Some(1));
}

#[test]
fn createsuperuser_on_a_terminal_asks_to_bypass() {
    let db = migrated("pv-tty-superuser");
    let args = [
        "createsuperuser",
        "--username",
        "root",
        "--email",
        "root@example.org",
    ];
    // A common password, "n" to the question, then a good one.
    let input = format!("password\npassword\nn\n{STRONG}\n{STRONG}\n");
    let Some((code, shown)) = db.run_tty(&args, &input) else {
        return;
    };
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("This password is too common."), "{shown}");
    assert!(
        shown.contains("Bypass password validation and create user anyway? [y/N]: "),
        "{shown}"
    );
    assert!(shown.contains("Superuser created successfully."), "{shown}");
    assert_eq!(authenticate(&db, "root", STRONG), Some(0));
    assert_eq!(authenticate(&db, "root", "password"), Some(1));

    // "y" keeps the weak password.
    let args = ["createsuperuser", "--username", "admin", "--email", ""];
    let (code, shown) = db.run_tty(&args, "admin1\nadmin1\ny\n").unwrap();
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        shown.contains("The password is too similar to the username."),
        "{shown}"
    );
    assert_eq!(authenticate(&db, "admin", "admin1"), Some(0));

    // --skip-validation asks nothing.
    let args = [
        "createsuperuser",
        "--username",
        "third",
        "--email",
        "",
        "--skip-validation",
    ];
    let (code, shown) = db.run_tty(&args, "abc\nabc\n").unwrap();
    assert_eq!(code, Some(0), "{shown}");
    assert!(!shown.contains("Bypass"), "{shown}");
    assert_eq!(authenticate(&db, "third", "abc"), Some(0));
}

#[test]
fn changepassword_on_a_terminal_prompts_again() {
    let db = migrated("pv-tty-changepassword");
    let out = db.run_stdin(
        &["user", "create", "joe", "--password-stdin"],
        Some(&format!("{STRONG}\n")),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let Some((code, shown)) = db.run_tty(
        &["changepassword", "joe"],
        "12345678\n12345678\nAn0ther-g00d-one\nAn0ther-g00d-one\n",
    ) else {
        return;
    };
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        shown.contains("This password is entirely numeric."),
        "{shown}"
    );
    assert!(!shown.contains("Bypass"), "{shown}");
    assert!(
        shown.contains("Password changed successfully for user 'joe'"),
        "{shown}"
    );
    assert_eq!(authenticate(&db, "joe", "An0ther-g00d-one"), Some(0));

    // Three weak passwords: aborted, unchanged.
    let (code, shown) = db
        .run_tty(
            &["changepassword", "joe"],
            "joejoe\njoejoe\npassword\npassword\n1234\n1234\n",
        )
        .unwrap();
    assert_eq!(code, Some(2), "{shown}");
    assert!(
        shown.contains("Aborting password change for user 'joe' after 3 attempts"),
        "{shown}"
    );
    assert_eq!(authenticate(&db, "joe", "An0ther-g00d-one"), Some(0));
}

#[test]
fn user_create_on_a_terminal_asks_to_bypass() {
    let db = migrated("pv-tty-user-create");
    // The password typed on the terminal ends with Ctrl-D; then the answer.
    let Some((code, shown)) = db.run_tty(
        &["user", "create", "ann", "--password-stdin"],
        "password\n\u{4}n\n",
    ) else {
        return;
    };
    assert_eq!(code, Some(2), "{shown}");
    assert!(shown.contains("This password is too common."), "{shown}");
    assert!(
        shown.contains("Bypass password validation and create user anyway? [y/N]: "),
        "{shown}"
    );
    assert!(usernames(&db).is_empty());

    let (code, shown) = db
        .run_tty(
            &["user", "create", "ann", "--password-stdin"],
            "password\n\u{4}y\n",
        )
        .unwrap();
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(authenticate(&db, "ann", "password"), Some(0));
}
