//! Differential test of `password_validation` against real Django 6.1: a few hundred generated
//! users and passwords, each validated by Django's four default validators and by
//! `PasswordValidators::default()`; every message list must be the same.
//!
//! The Python is named by `CASTELLAN_DJANGO_PYTHON` (see `scripts/django-venv.sh`). Unset: the test
//! is skipped, unless `CASTELLAN_REQUIRE_DJANGO=1` (CI), which makes it fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use castellan_core::password_validation::{PasswordValidators, UserAttributes};
use serde_json::{json, Value};

const COMMON: &str = include_str!("../data/common-passwords.txt");

/// Validates each case with Django's defaults; prints the message lists as JSON.
const HARNESS: &str = r#"
import json, sys
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
    AUTH_PASSWORD_VALIDATORS=[
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ],
)
django.setup()
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

assert django.get_version() == "6.1.3", django.get_version()
out = []
for case in json.load(sys.stdin):
    user = User(**case["user"]) if case["user"] is not None else None
    try:
        validate_password(case["password"], user)
        out.append([])
    except ValidationError as e:
        out.append(e.messages)
json.dump(out, sys.stdout)
"#;

fn django_python() -> Option<String> {
    match std::env::var("CASTELLAN_DJANGO_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if std::env::var("CASTELLAN_REQUIRE_DJANGO").is_ok_and(|v| v == "1") => panic!(
            "CASTELLAN_DJANGO_PYTHON is not set but CASTELLAN_REQUIRE_DJANGO=1: set it to the python of \
             `scripts/django-venv.sh` (PY=$(scripts/django-venv.sh | tail -n1))"
        ),
        _ => {
            eprintln!("skipping Django differential test: set CASTELLAN_DJANGO_PYTHON");
            None
        }
    }
}

/// xorshift64*, seeded: the cases are the same on every run.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const NAMES: &[&str] = &[
    "alice",
    "bob",
    "Jean-Luc",
    "straße",
    "ǅemal",
    "user_01",
    "İstanbul",
    "ΣΊΣΥΦΟΣ",
    "o'neil",
    "x",
    "Ｅｄｉｔｏｒ",
    "mary.ann",
    "李小龙",
    "Ünal",
    "d'Artagnan",
    "",
    "a.b-c_d",
];
const DOMAINS: &[&str] = &["example.com", "wonder.land", "x.io", "ÉCOLE.fr", ""];
const ALPHABET: &[&str] = &[
    "a", "b", "e", "l", "i", "c", "o", "s", "1", "2", "9", "0", "_", "-", ".", " ", "\t", "É", "ß",
    "ς", "Σ", "İ", "٣", "²", "①", "½", "Ⅻ", "\u{3000}", "\u{1c}", "!", "@", "Z", "q",
];
const DIGITS: &[&str] = &["0", "1", "7", "٣", "۵", "²", "①", "⁹", "１", "½", "Ⅻ", "a"];

fn random_string(rng: &mut Prng, max: usize) -> String {
    let n = rng.below(max + 1);
    (0..n).map(|_| rng.pick(ALPHABET)).collect()
}

fn flip_case(rng: &mut Prng, s: &str) -> String {
    s.chars()
        .map(|c| {
            if rng.chance(50) {
                c.to_uppercase().collect::<String>()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn case(rng: &mut Prng, common: &[&str]) -> (Option<[String; 4]>, String) {
    let username = rng.pick(NAMES).to_owned();
    let first = if rng.chance(50) {
        rng.pick(NAMES).to_owned()
    } else {
        String::new()
    };
    let last = if rng.chance(50) {
        rng.pick(NAMES).to_owned()
    } else {
        String::new()
    };
    let email = if rng.chance(70) {
        format!("{}@{}", rng.pick(NAMES), rng.pick(DOMAINS))
    } else {
        String::new()
    };
    let user = if rng.chance(90) {
        Some([username, first, last, email])
    } else {
        None
    };
    let attr = |rng: &mut Prng| match &user {
        Some(u) => u[rng.below(4)].clone(),
        None => "alice".to_owned(),
    };
    let password = match rng.below(8) {
        // A common password, case flipped, maybe padded with what Python's strip() removes.
        0 => {
            let word = common[rng.below(common.len())];
            let p = flip_case(rng, word);
            match rng.below(4) {
                0 => format!(" {p}\t"),
                1 => format!("\u{3000}{p}\u{1c}"),
                2 => format!("{p}\u{200b}"),
                _ => p,
            }
        }
        // Digits of every kind.
        1 => {
            let n = rng.below(12);
            (0..n).map(|_| rng.pick(DIGITS)).collect()
        }
        // An attribute, changed a little.
        2 => {
            let a = attr(rng);
            match rng.below(5) {
                0 => a.chars().rev().collect(),
                1 => format!("{a}{}", rng.below(10_000)),
                2 => flip_case(rng, &a),
                3 => a.chars().skip(1).collect(),
                _ => format!("{}{a}{}", random_string(rng, 3), random_string(rng, 3)),
            }
        }
        // A long password around an attribute (the length-ratio shortcut).
        3 => {
            let a = attr(rng);
            let pad = random_string(rng, 60);
            format!("{a}{pad}{pad}")
        }
        4 => String::new(),
        _ => random_string(rng, 16),
    };
    (user, password)
}

#[test]
fn same_messages_as_django() {
    let Some(python) = django_python() else {
        return;
    };
    let common: Vec<&str> = COMMON.lines().collect();
    let mut rng = Prng(0x5EED_CA57_E11A_0001);
    let mut cases: Vec<_> = (0..600).map(|_| case(&mut rng, &common)).collect();
    // Hand-picked edges: a similarity of exactly 0.7 (14/20), the length-ratio shortcut's bounds,
    // an empty password beside an attribute ending in a separator (an empty part), final sigma.
    let alice = ["alice", "Alice", "Liddell", "alice.liddell@wonder.example"].map(String::from);
    for password in [
        "wonderexample",
        "wonder.example",
        "xalice-91",
        "",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaal",
        "alicealicealicealicealicealicealicealicealicealice",
        "ΣΊΣΥΦΟΣ",
    ] {
        cases.push((Some(alice.clone()), password.to_owned()));
    }
    for (user, password) in [
        (["john.", "", "", ""], ""),
        (["x", "", "", "x@y."], "x"),
        (["ΣΊΣΥΦΟΣ", "", "", ""], "σίσυφος1"),
        (["İstanbul", "", "", ""], "istanbul"),
        (["straße", "", "", ""], "STRASSE1"),
        // `_` is a word character, `-` is not: only the second name splits.
        (["jean_luc_picard", "", "", ""], "picard12"),
        (["jean-luc-picard", "", "", ""], "picard12"),
    ] {
        cases.push((Some(user.map(String::from)), password.to_owned()));
    }
    let input: Vec<Value> = cases
        .iter()
        .map(|(user, password)| {
            json!({
                "user": user.as_ref().map(|[u, f, l, e]| json!({
                    "username": u, "first_name": f, "last_name": l, "email": e,
                })),
                "password": password,
            })
        })
        .collect();
    let mut child = Command::new(&python)
        .args(["-c", HARNESS])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "Django harness failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let django: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(django.len(), cases.len());

    let validators = PasswordValidators::default();
    let mut mismatches = Vec::new();
    let mut rejected = 0;
    for ((user, password), want) in cases.iter().zip(&django) {
        let attributes = match user {
            Some([u, f, l, e]) => UserAttributes::new()
                .with_username(u)
                .with_first_name(f)
                .with_last_name(l)
                .with_email(e),
            None => UserAttributes::new(),
        };
        let got = validators
            .validate(password, &attributes)
            .err()
            .unwrap_or_default();
        rejected += usize::from(!want.is_empty());
        if &got != want {
            mismatches.push(format!(
                "user {user:?} password {password:?}: Django {want:?}, Castellan {got:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    // The generator exercises both outcomes and every validator.
    assert!(
        rejected > 100 && rejected < cases.len() - 50,
        "{rejected} rejected"
    );
    for message in [
        "The password is too similar to",
        "This password is too short.",
        "This password is too common.",
        "This password is entirely numeric.",
    ] {
        assert!(
            django.iter().flatten().any(|m| m.starts_with(message)),
            "no case for {message:?}"
        );
    }
}
