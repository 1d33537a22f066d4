//! `castellan sync`: output, exit codes, and a sync killed mid-way.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const CONTENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/policies/content.toml"
);

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("castellan-cli-sync-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn castellan(url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_castellan"));
    cmd.arg("--database-url")
        .arg(url)
        .args(args)
        .env_remove("CASTELLAN_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn run(url: &str, args: &[&str], code: i32) -> (String, String) {
    let out: Output = castellan(url, args).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "castellan {args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    (stdout, stderr)
}

fn migrated(name: &str) -> (String, PathBuf) {
    let path = temp(&format!("{name}.sqlite3"));
    let url = format!("sqlite://{}", path.display());
    run(&url, &["migrate"], 0);
    (url, path)
}

#[test]
fn dry_run_apply_no_op_and_json() {
    let (url, path) = migrated("apply");
    let (out, _) = run(&url, &["sync", CONTENT, "--dry-run"], 0);
    assert!(out.contains("dry run, nothing applied"), "{out}");
    assert!(out.contains("+ group \"Publishers\""), "{out}");
    assert!(
        out.contains("+ permission bookshelf.can_publish_book (\"Can publish book\")"),
        "{out}"
    );
    let (groups, _) = run(&url, &["group", "list"], 0);
    assert_eq!(groups.trim(), "");

    let (out, _) = run(&url, &["sync", CONTENT], 0);
    assert!(
        out.contains("Applied 66 change(s) in one transaction."),
        "{out}"
    );
    let (out, _) = run(&url, &["sync", CONTENT], 0);
    assert!(
        out.contains("No changes: the database already matches"),
        "{out}"
    );

    let (out, _) = run(&url, &["sync", CONTENT, "--json", "--prune"], 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["applied"], false);
    assert_eq!(v["changes"], 0);
    assert_eq!(v["plan"]["groups"], serde_json::json!([]));

    let (out, _) = run(&url, &["group", "show", "Editors", "--json"], 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["permissions"],
        serde_json::json!([
            "bookshelf.add_book",
            "bookshelf.change_book",
            "bookshelf.view_book"
        ])
    );
    let (out, _) = run(&url, &["audit", "--limit", "50"], 0);
    assert!(out.contains("sync.create_group"), "{out}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn invalid_files_exit_2_and_name_each_line() {
    let (url, path) = migrated("invalid");
    let policy = temp("bad.toml");
    std::fs::write(
        &policy,
        "[apps.bookshelf]\n[[apps.bookshelf.models]]\nname = \"Book\"\n\n[groups.Editors]\npermissions = [\n  \"bookshelf.add_bok\",\n  \"bookshelf.zzz_*\",\n]\n",
    )
    .unwrap();
    let file = policy.display().to_string();
    let (out, err) = run(&url, &["sync", &file], 2);
    assert_eq!(out, "");
    assert!(err.contains(&format!("{file}:7: ")), "{err}");
    assert!(err.contains(&format!("{file}:8: ")), "{err}");
    assert!(err.contains("nothing was applied"), "{err}");
    let (perms, _) = run(&url, &["perm", "list", "--app", "bookshelf"], 0);
    assert_eq!(perms.trim(), "");

    std::fs::write(&policy, "[groups.A]\npermissions = [\"x.y\"\n").unwrap();
    let (_, err) = run(&url, &["sync", &file], 2);
    assert!(err.contains(&format!("{file}:")), "{err}");
    assert!(err.contains("TOML syntax"), "{err}");

    let (_, err) = run(&url, &["sync", "/nonexistent/policy.toml"], 2);
    assert!(err.contains("cannot read the policy file"), "{err}");
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(policy);
}

#[test]
fn database_unavailable_exits_3() {
    run(
        "postgres://castellan@127.0.0.1:1/none",
        &["sync", CONTENT, "--dry-run"],
        3,
    );
}

/// A policy with `models` models (5 permissions each) and one group with all view permissions.
fn large_policy(models: usize) -> String {
    let mut s = String::from("[apps.big]\n");
    for i in 0..models {
        s.push_str(&format!(
            "[[apps.big.models]]\nname = \"M{i}\"\npermissions = [{{ codename = \"can_x_m{i}\", name = \"Can x {i}\" }}]\n"
        ));
    }
    s.push_str("[groups.Viewers]\npermissions = [\"big.view_*\"]\n");
    s
}

/// (permissions of app `big`, groups, permissions of Viewers).
async fn state(path: &Path) -> (i64, i64, i64) {
    let store = castellan_store::Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let perms = store.permissions(Some("big")).await.unwrap().len();
    let groups = store.groups().await.unwrap().len();
    let grants = match store.group_detail("Viewers").await {
        Ok(g) => g.permissions.len(),
        Err(_) => 0,
    };
    store.close().await;
    (perms as i64, groups as i64, grants as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sync_leaves_the_old_state_or_the_new_one() {
    const MODELS: i64 = 3000;
    let policy = temp("large.toml");
    std::fs::write(&policy, large_policy(MODELS as usize)).unwrap();
    let file = policy.display().to_string();
    let (mut killed, mut old, mut new) = (0, 0, 0);
    for delay_ms in [5u64, 30, 80, 150, 250, 400, 700, 1200] {
        let (url, path) = migrated(&format!("kill-{delay_ms}"));
        let mut child = castellan(&url, &["sync", &file]).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        match state(&path).await {
            (0, 0, 0) => old += 1,
            (p, 1, g) if p == MODELS * 5 && g == MODELS => new += 1,
            other => panic!("after a kill at {delay_ms} ms the database is half-synced: {other:?}"),
        }
        // The next sync completes the job.
        run(&url, &["sync", &file], 0);
        assert_eq!(state(&path).await, (MODELS * 5, 1, MODELS));
        let _ = std::fs::remove_file(path);
    }
    eprintln!(
        "killed {killed} of 8 runs; found the old state {old} times, the new one {new} times"
    );
    assert!(
        killed > 0,
        "no run was killed: the sync finished too quickly to test"
    );
    assert!(old > 0, "no run was killed before its commit");
    let _ = std::fs::remove_file(policy);
}
