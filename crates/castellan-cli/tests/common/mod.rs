//! Shared helper of the CLI tests: a throw-away SQLite database and the `castellan` binary.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub struct Db {
    pub url: String,
    pub path: std::path::PathBuf,
}

impl Db {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join("castellan-cli-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!(
            "{}-{name}-{}.sqlite3",
            env!("CARGO_CRATE_NAME"),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Self {
            url: format!("sqlite://{}", path.display()),
            path,
        }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_stdin(args, None)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.run_env(args, stdin, &[])
    }

    /// Runs with standard input (piped, not a terminal) and extra environment variables.
    pub fn run_env(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_castellan"))
            .arg("--database-url")
            .arg(&self.url)
            .args(args)
            .env_remove("CASTELLAN_DATABASE_URL")
            .env_remove("DATABASE_URL")
            .env_remove("CASTELLAN_SUPERUSER_PASSWORD")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    /// Runs on a terminal (a pseudo-terminal from util-linux `script`), typing `input`; returns
    /// the exit code and everything the terminal showed (stdout, stderr and the echo), or `None`
    /// when `script` is not installed.
    pub fn run_tty(&self, args: &[&str], input: &str) -> Option<(Option<i32>, String)> {
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let mut command = quote(env!("CARGO_BIN_EXE_castellan"));
        for a in ["--database-url", self.url.as_str()].iter().chain(args) {
            command.push(' ');
            command.push_str(&quote(a));
        }
        let child = Command::new("script")
            .args(["-q", "-e", "-c", &command, "/dev/null"])
            .env("SHELL", "/bin/sh")
            .env_remove("CASTELLAN_DATABASE_URL")
            .env_remove("DATABASE_URL")
            .env_remove("CASTELLAN_SUPERUSER_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            eprintln!("skipping a terminal test: util-linux `script` is not installed");
            return None;
        };
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let shown = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
        Some((out.status.code(), shown))
    }

    /// Runs and asserts the exit code; returns stdout.
    pub fn ok(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "castellan {args:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        self.json_exit(args, 0)
    }

    /// Runs, asserts the exit code, and parses stdout as JSON.
    pub fn json_exit(&self, args: &[&str], code: i32) -> serde_json::Value {
        serde_json::from_str(&self.ok(args, code)).unwrap()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
