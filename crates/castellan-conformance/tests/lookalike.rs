//! Look-alike names: a new username or group name that reads the same as another existing one
//! (NFKC + Unicode case folding) is refused with a clear input error naming the existing one, on
//! every database kind; existing data is left as it is.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use std::future::Future;
use std::sync::Arc;

use castellan_conformance::TestDb;
use castellan_core::lookalike::lookalike_key;
use castellan_store::{Error, NewUser, Store};
use castellan_testkit::per_db;

async fn group_names(store: &Store) -> Vec<String> {
    store
        .groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect()
}

async fn usernames(store: &Store) -> Vec<String> {
    store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect()
}

/// Asserts a refusal that names the existing look-alike.
fn assert_refused(result: Result<impl std::fmt::Debug, Error>, existing: &str) {
    match result {
        Err(e @ Error::AlreadyExists { .. }) => {
            assert!(e.is_input(), "{e}");
            let message = e.to_string();
            assert!(
                message.contains("looks the same as the existing"),
                "{message}"
            );
            assert!(message.contains(&format!("{existing:?}")), "{message}");
        }
        other => panic!("expected a look-alike refusal naming {existing:?}, got {other:?}"),
    }
}

async fn new_groups_that_look_alike_are_refused(_db: &TestDb, store: &Store) {
    store.create_group("Editors").await.unwrap();
    store.create_group("ǅungla").await.unwrap();
    for name in [
        "editors",
        "EDITORS",
        "ＥＤＩＴＯＲＳ",
        "Ｅditors",
        "ｅｄｉｔｏｒｓ",
    ] {
        assert_refused(store.create_group(name).await, "Editors");
    }
    // ǅ (U+01C5), ǆ (U+01C6), Ǆ (U+01C4) and "dž" (two letters) are one name.
    for name in ["ǆungla", "ǄUNGLA", "džungla", "DŽUNGLA"] {
        assert_refused(store.create_group(name).await, "ǅungla");
    }
    assert_eq!(group_names(store).await, ["Editors", "ǅungla"]);
    // Different names are still fine.
    store.create_group("Editor").await.unwrap();
    store.create_group("Editors 2").await.unwrap();
}

async fn new_usernames_that_look_alike_are_refused(_db: &TestDb, store: &Store) {
    store.create_user(NewUser::new("straße")).await.unwrap();
    store.create_user(NewUser::new("Alice")).await.unwrap();
    for name in ["STRASSE", "strasse", "Straße", "ＳＴＲＡＳＳＥ"] {
        assert_refused(store.create_user(NewUser::new(name)).await, "straße");
    }
    for name in ["alice", "ALICE", "ａｌｉｃｅ"] {
        assert_refused(store.create_user(NewUser::new(name)).await, "Alice");
    }
    assert_eq!(usernames(store).await, ["Alice", "straße"]);
    store.create_user(NewUser::new("alice2")).await.unwrap();
}

async fn renames_to_a_lookalike_are_refused(_db: &TestDb, store: &Store) {
    store.create_group("Editors").await.unwrap();
    store.create_group("Viewers").await.unwrap();
    // The escalation of issue 11, by look-alike: Viewers → "ＥＤＩＴＯＲＳ" beside Editors.
    for name in ["EDITORS", "ＥＤＩＴＯＲＳ", "editors"] {
        assert_refused(store.rename_group("Viewers", name).await, "Editors");
    }
    assert_eq!(group_names(store).await, ["Editors", "Viewers"]);
    // A group may change the case of its own name.
    store.rename_group("Editors", "EDITORS").await.unwrap();
    store.rename_group("EDITORS", "Editors").await.unwrap();
    assert_eq!(group_names(store).await, ["Editors", "Viewers"]);
}

async fn existing_lookalikes_are_left_alone(_db: &TestDb, store: &Store) {
    store.create_group("Staff").await.unwrap();
    // Django (or SQL) may have stored a look-alike already; MariaDB's case-insensitive unique
    // index may refuse it, in which case there is only one.
    let second = store
        .execute_raw("INSERT INTO auth_group (name) VALUES ('ＳＴＡＦＦ')")
        .await
        .is_ok();
    let mut expected = vec!["Staff".to_owned()];
    if second {
        expected.push("ＳＴＡＦＦ".to_owned());
    }
    assert_eq!(group_names(store).await, expected);
    // Both still work; a third look-alike is refused.
    store
        .grant_group("Staff", &["auth.view_user".into()])
        .await
        .unwrap();
    match store.create_group("staff").await {
        Err(Error::AlreadyExists { message, .. }) => {
            assert!(message.contains("looks the same"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    if second {
        store
            .grant_group("ＳＴＡＦＦ", &["auth.view_group".into()])
            .await
            .unwrap();
        // Renaming one of an existing pair to another look-alike is refused (the other exists).
        assert_refused(store.rename_group("ＳＴＡＦＦ", "STAFF").await, "Staff");
        // Renaming it away is fine.
        store
            .rename_group("ＳＴＡＦＦ", "Staff (fullwidth)")
            .await
            .unwrap();
    }
}

async fn concurrent_lookalikes_end_with_one(_db: &TestDb, store: &Store) {
    let names = [
        "Editors",
        "editors",
        "EDITORS",
        "ＥＤＩＴＯＲＳ",
        "Ｅditors",
        "eDitors",
    ];
    let mut tasks = Vec::new();
    for name in names {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.create_group(name).await }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            created += 1;
        }
    }
    // However the writers interleave, at most one of them wins, and one does.
    assert_eq!(created, 1);
    assert_eq!(group_names(store).await.len(), 1);
}

/// How many times each race below is run: a database that lets both writers through does so
/// within a few rounds.
const ROUNDS: usize = 25;

/// The look-alike pairs the races use, in turn: fullwidth and mixed forms (which MariaDB's
/// case-insensitive unique index does not catch) and a case-only pair (which it does, but the loser
/// must still get the look-alike refusal, not a duplicate-key error).
const PAIRS: [(&str, &str); 3] = [
    ("Editors", "ＥＤＩＴＯＲＳ"),
    ("ｅｄｉｔｏｒｓ", "Ｅditors"),
    ("Editors", "editors"),
];

/// The two names of `round`: a pair of [`PAIRS`], suffixed with the round, swapped on odd rounds.
fn race_names(round: usize) -> (String, String) {
    let (a, b) = PAIRS[round % PAIRS.len()];
    let (a, b) = (format!("{a} {round}"), format!("{b} {round}"));
    if round.is_multiple_of(2) {
        (a, b)
    } else {
        (b, a)
    }
}

/// Runs `a` and `b` at once, each on its own task, released together.
async fn race(
    a: impl Future<Output = Result<(), Error>> + Send + 'static,
    b: impl Future<Output = Result<(), Error>> + Send + 'static,
) -> [Result<(), Error>; 2] {
    let start = Arc::new(tokio::sync::Barrier::new(2));
    let (sa, sb) = (start.clone(), start);
    let a = tokio::spawn(async move {
        sa.wait().await;
        a.await
    });
    let b = tokio::spawn(async move {
        sb.wait().await;
        b.await
    });
    [a.await.unwrap(), b.await.unwrap()]
}

/// Asserts that in `round` exactly one of the two writers won, the other was refused as a
/// look-alike, and the database holds exactly one group that looks like `name`.
async fn assert_one_won(store: &Store, round: usize, name: &str, results: [Result<(), Error>; 2]) {
    assert_one_among(group_names(store).await, round, name, results);
}

/// Asserts that in `round` exactly one of the two writers won, the other was refused as a
/// look-alike, and exactly one of `names` looks like `name`.
fn assert_one_among(names: Vec<String>, round: usize, name: &str, results: [Result<(), Error>; 2]) {
    let key = lookalike_key(name);
    let alike: Vec<String> = names
        .into_iter()
        .filter(|n| lookalike_key(n) == key)
        .collect();
    assert_eq!(
        alike.len(),
        1,
        "round {round}: look-alikes {alike:?} after {results:?}"
    );
    for r in &results {
        if let Err(e) = r {
            assert!(
                matches!(e, Error::AlreadyExists { .. })
                    && e.to_string().contains("looks the same as the existing"),
                "round {round}: expected a look-alike refusal, got {e:?} ({results:?})"
            );
        }
    }
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "round {round}: {results:?}");
}

/// Two different groups renamed at once to look-alike names: one rename wins, the other is refused
/// as a look-alike (the admin's versioned rename and the plain rename share one body).
async fn concurrent_lookalike_renames_end_with_one(_db: &TestDb, store: &Store) {
    for round in 0..ROUNDS {
        let (a, b) = race_names(round);
        let (viewers, authors) = (format!("Viewers {round}"), format!("Authors {round}"));
        store.create_group(&viewers).await.unwrap();
        store.create_group(&authors).await.unwrap();
        let version = store.group_state(&authors).await.unwrap().unwrap().version;
        let (s1, s2) = (store.clone(), store.clone());
        let (a2, b2) = (a.clone(), b.clone());
        let results = race(
            async move { s1.rename_group(&viewers, &a2).await },
            async move { s2.rename_group_at_version(&authors, &b2, &version).await },
        )
        .await;
        assert_one_won(store, round, &a, results).await;
    }
}

/// A group renamed to a name while another group with a look-alike name is created: one wins, the
/// other is refused as a look-alike.
async fn lookalike_rename_racing_a_creation_ends_with_one(_db: &TestDb, store: &Store) {
    for round in 0..ROUNDS {
        let (a, b) = race_names(round);
        let viewers = format!("Viewers {round}");
        store.create_group(&viewers).await.unwrap();
        let (s1, s2) = (store.clone(), store.clone());
        let (a2, b2) = (a.clone(), b.clone());
        let results = race(
            async move { s1.rename_group(&viewers, &a2).await },
            async move { s2.create_group(&b2).await.map(drop) },
        )
        .await;
        assert_one_won(store, round, &a, results).await;
    }
}

/// Two users created at once with look-alike usernames (case, or fullwidth forms NFKC folds):
/// one is created, the other refused as a look-alike — never "busy", never both.
async fn concurrent_lookalike_usernames_end_with_one(_db: &TestDb, store: &Store) {
    const USER_PAIRS: [(&str, &str); 2] = [("editor", "EDITOR"), ("Alice", "ａｌｉｃｅ")];
    for round in 0..ROUNDS {
        let (a, b) = USER_PAIRS[round % USER_PAIRS.len()];
        let (a, b) = (format!("{a}{round}"), format!("{b}{round}"));
        let new = |name: &str| castellan_store::NewUser {
            username: name.to_owned(),
            ..Default::default()
        };
        let (s1, s2) = (store.clone(), store.clone());
        let (n1, n2) = (new(&a), new(&b));
        let results = race(
            async move { s1.create_user(n1).await.map(drop) },
            async move { s2.create_user(n2).await.map(drop) },
        )
        .await;
        assert_one_among(usernames(store).await, round, &a, results);
    }
}

per_db!(
    migrated;
    new_groups_that_look_alike_are_refused,
    new_usernames_that_look_alike_are_refused,
    renames_to_a_lookalike_are_refused,
    existing_lookalikes_are_left_alone,
    concurrent_lookalikes_end_with_one,
    concurrent_lookalike_renames_end_with_one,
    lookalike_rename_racing_a_creation_ends_with_one,
    concurrent_lookalike_usernames_end_with_one,
);
