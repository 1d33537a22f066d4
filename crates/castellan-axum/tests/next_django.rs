//! Differential test: `url_has_allowed_host_and_scheme` against real Django on a generated corpus
//! of tricky URLs (skipped when no Python with Django is available).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

/// Skips with a note, unless CI asked for Django (`CASTELLAN_REQUIRE_DJANGO=1`): then the test fails.
fn skip(why: &str) {
    assert!(
        std::env::var("CASTELLAN_REQUIRE_DJANGO").map_or(true, |v| v != "1"),
        "CASTELLAN_REQUIRE_DJANGO=1 but {why}"
    );
    eprintln!("skipped: {why}");
}

fn corpus() -> Vec<String> {
    let prefixes = [
        "", " ", "\t", "\x08", "\u{200E}", "\n", "/", "//", "///", "\\", "\\\\", "/\\", "\\/",
    ];
    let schemes = [
        "",
        "http:",
        "https:",
        "HTTPS:",
        "ftp:",
        "javascript:",
        "java\nscript:",
        "data:",
        "mailto:",
        "1http:",
    ];
    let middles = ["", "//", "/", "\\\\", "/\\", "\\/", "///"];
    let hosts = [
        "",
        "testserver",
        "testserver:80",
        "example.com",
        "user@testserver",
        "testserver\\@example.com",
        "testserver@example.com",
        "[::1]",
        "[::1",
        "::1]",
        "TESTSERVER",
        "testserver.evil.com",
    ];
    let tails = [
        "",
        "/",
        "/path?x=http://example.com",
        "?next=//evil",
        "#frag",
        "/a b",
        "/é",
    ];
    let mut out = Vec::new();
    for p in prefixes {
        for s in schemes {
            for m in middles {
                for h in hosts {
                    for t in tails
                        .iter()
                        .take(if p.is_empty() { tails.len() } else { 2 })
                    {
                        out.push(format!("{p}{s}{m}{h}{t}"));
                    }
                }
            }
        }
    }
    out.push("a".repeat(2048));
    out.push(format!("/{}", "a".repeat(2048)));
    out
}

#[test]
fn agrees_with_django_on_a_generated_corpus() {
    let py = std::env::var("CASTELLAN_DJANGO_PYTHON")
        .unwrap_or_else(|_| "/tmp/djvenv/bin/python".into());
    let script = "import sys, json\nfrom django.utils.http import url_has_allowed_host_and_scheme as f\n\
                  urls = json.load(sys.stdin)\n\
                  print(json.dumps([[f(u, {'testserver', 'testserver:80'}, False), f(u, {'testserver', 'testserver:80'}, True)] for u in urls]))";
    let Ok(mut child) = Command::new(&py)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        skip(&format!("no Python at {py}"));
        return;
    };
    let urls = corpus();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&urls).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'django'") {
        skip(&format!("{stderr}"));
        return;
    }
    assert!(out.status.success(), "{stderr}");
    let expected: Vec<[bool; 2]> = serde_json::from_slice(&out.stdout).unwrap();
    let hosts = ["testserver", "testserver:80"];
    let mut mismatches = Vec::new();
    for (url, want) in urls.iter().zip(&expected) {
        let got = [
            castellan_axum::url_has_allowed_host_and_scheme(url, &hosts, false),
            castellan_axum::url_has_allowed_host_and_scheme(url, &hosts, true),
        ];
        if got != *want {
            mismatches.push(format!("{url:?}: django {want:?}, castellan {got:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} differ:\n{}",
        mismatches.len(),
        urls.len(),
        mismatches.join("\n")
    );
}

#[test]
fn redirect_to_login_agrees_with_django() {
    let py = std::env::var("CASTELLAN_DJANGO_PYTHON")
        .unwrap_or_else(|_| "/tmp/djvenv/bin/python".into());
    let script = "import sys, json, django\nfrom django.conf import settings\n\
                  urlpatterns = []\nsettings.configure(SECRET_KEY='x', ROOT_URLCONF='__main__', INSTALLED_APPS=['django.contrib.contenttypes', 'django.contrib.auth'])\n\
                  django.setup()\nfrom django.contrib.auth.views import redirect_to_login\n\
                  cases = json.load(sys.stdin)\n\
                  print(json.dumps([redirect_to_login(n, l, f)['Location'] for n, l, f in cases]))";
    let nexts = [
        "/rand",
        "/a b/?x=1&y=2",
        "/else/where/झ/",
        "http://testserver/rand",
        "/p?next=/q#frag",
        "/~user/x.y-z_",
    ];
    let logins = [
        "/accounts/login/",
        "/login/?pretty=1",
        "https://www.remote.example.com/login",
        "/login/?next=/old&a=1",
    ];
    let fields: [Option<&str>; 3] = [Some("next"), Some("goto"), None];
    let mut cases = Vec::new();
    for n in nexts {
        for l in logins {
            for f in fields {
                cases.push((n, l, f));
            }
        }
    }
    let Ok(mut child) = Command::new(&py)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        skip(&format!("no Python at {py}"));
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&cases).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'django'") {
        skip(&format!("{stderr}"));
        return;
    }
    assert!(out.status.success(), "{stderr}");
    let expected: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    let mut mismatches = Vec::new();
    for ((n, l, f), want) in cases.iter().zip(&expected) {
        let got = castellan_axum::login_redirect_url(n, l, *f);
        if &got != want {
            mismatches.push(format!(
                "({n:?}, {l:?}, {f:?}): django {want:?}, castellan {got:?}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
