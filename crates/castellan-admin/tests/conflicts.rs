//! Concurrent edits that collide while the database is reachable are answered 409 (or refused),
//! never 503: two superusers demote, or delete, each other at the same moment, many times, on
//! every database; exactly one wins and an active superuser always remains.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use castellan_store::UserEdit;
use common::*;
use http::StatusCode;

const ROUNDS: usize = 12;

/// Makes `root` and `tom` active staff superusers (as they may not be after a round).
async fn two_superusers(env: &Env) {
    for name in ["root", "tom"] {
        let v = env.store.user_state(name).await.unwrap().unwrap().version;
        let edit = UserEdit {
            is_superuser: Some(true),
            is_staff: Some(true),
            is_active: Some(true),
            ..Default::default()
        };
        env.store.apply_user_edit(name, &v, &edit).await.unwrap();
    }
}

async fn active_superusers(env: &Env) -> Vec<String> {
    let mut out = Vec::new();
    for name in ["root", "tom"] {
        if let Some(u) = env.store.user(name).await.unwrap() {
            if u.is_superuser && u.is_active {
                out.push(name.to_owned());
            }
        }
    }
    out
}

/// A refusal a losing request may get: 409 (the store's rule or a collision), 403 (it arrived
/// after its sender stopped being a superuser) or 302 to the login page (its sender was deleted).
fn refused(s: StatusCode) -> bool {
    matches!(
        s,
        StatusCode::CONFLICT | StatusCode::FORBIDDEN | StatusCode::FOUND
    )
}

/// Each of `root` and `tom` sends, at the same moment, the request `action(other, version)`
/// makes (`version`: the other user's current state version, as the change form quotes it).
async fn race(
    env: &Env,
    action: impl Fn(&str, String) -> (String, Vec<(&'static str, String)>),
    what: &str,
) {
    for round in 0..ROUNDS {
        two_superusers(env).await;
        let mut sends = Vec::new();
        for (me, other) in [("root", "tom"), ("tom", "root")] {
            let mut c = Client::as_user(env, me).await;
            let token = c.token_from("/admin/").await;
            let version = env.store.user_state(other).await.unwrap().unwrap().version;
            let (uri, mut fields) = action(other, version);
            fields.insert(0, ("csrfmiddlewaretoken", token));
            sends.push((c, uri, fields));
        }
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = sends
            .into_iter()
            .map(|(mut c, uri, fields)| {
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    let refs: Vec<(&str, &str)> =
                        fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    barrier.wait().await;
                    let r = c.post_raw(&uri, &refs).await;
                    let status = r.status();
                    let html = body(r).await;
                    // The error message, if any (whole pages make unreadable failures).
                    let message = html
                        .split_once("data-testid=\"error-message\">")
                        .map(|(_, rest)| rest.split('<').next().unwrap_or("").to_owned());
                    (status, message)
                })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let statuses: Vec<StatusCode> = results.iter().map(|(s, _)| *s).collect();
        let won = statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count();
        let lost = statuses.iter().filter(|s| refused(**s)).count();
        assert_eq!(
            (won, lost),
            (1, 1),
            "{what}, round {round}: one wins, one is refused (never 503/500): {results:?}"
        );
        let left = active_superusers(env).await;
        assert_eq!(left.len(), 1, "{what}, round {round}: {left:?}");
        // Put the deleted one back for the next round.
        for name in ["root", "tom"] {
            if env.store.user(name).await.unwrap().is_none() {
                user(&env.store, name, |u| u.is_staff = true).await;
            }
        }
    }
}

async fn concurrent_demotions_are_409_never_503(db: TestDb) {
    let env = env(db).await;
    race(
        &env,
        |other, version| {
            (
                format!("/admin/auth/user/{other}/change/"),
                vec![
                    ("version", version),
                    ("shown_flag", "is_superuser".to_owned()),
                ],
            )
        },
        "demotions",
    )
    .await;
}

async fn concurrent_deletions_are_409_never_503(db: TestDb) {
    let env = env(db).await;
    race(
        &env,
        |other, _| (format!("/admin/auth/user/{other}/delete/"), Vec::new()),
        "deletions",
    )
    .await;
}

admin_tests!(
    concurrent_demotions_are_409_never_503,
    concurrent_deletions_are_409_never_503
);
