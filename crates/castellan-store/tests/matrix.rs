//! `matrix.rs`: the role × permission matrix: its rows in order, each flag right, the app filter,
//! and unknown users, on every database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_store::{Error, Matrix, RowKind};
use castellan_testkit::{per_db, perms as s, store, user, TestDb};

/// The permissions granted in row `name`.
fn granted(m: &Matrix, name: &str) -> Vec<String> {
    let row = m.rows.iter().find(|r| r.name == name).unwrap();
    m.columns
        .iter()
        .zip(&row.granted)
        .filter(|(_, g)| **g)
        .map(|(c, _)| c.permission.clone())
        .collect()
}

async fn rows_and_flags(db: TestDb) {
    let store = store(&db).await;
    store.create_group("Zeta").await.unwrap();
    store.create_group("Alpha").await.unwrap();
    store
        .grant_group("Alpha", &s(&["auth.view_user", "auth.change_user"]))
        .await
        .unwrap();
    user(&store, "una", |_| {}).await;
    user(&store, "ivy", |u| u.is_active = false).await;
    user(&store, "rex", |u| u.is_superuser = true).await;
    store
        .add_user_to_groups("una", &s(&["Alpha"]))
        .await
        .unwrap();
    store
        .grant_user("una", &s(&["auth.add_group"]))
        .await
        .unwrap();
    store
        .grant_user("ivy", &s(&["auth.add_group"]))
        .await
        .unwrap();
    let m = store
        .matrix(&s(&["una", "ivy", "rex"]), Some("auth"))
        .await
        .unwrap();
    let rows: Vec<(RowKind, &str)> = m.rows.iter().map(|r| (r.kind, r.name.as_str())).collect();
    assert_eq!(
        rows,
        [
            (RowKind::Anonymous, "Anonymous"),
            (RowKind::Group, "Alpha"),
            (RowKind::Group, "Zeta"),
            (RowKind::Superuser, "Superuser"),
            (RowKind::User, "una"),
            (RowKind::User, "ivy"),
            (RowKind::User, "rex"),
        ]
    );
    assert!(m.columns.iter().all(|c| c.app_label == "auth"));
    assert!(m.rows.iter().all(|r| r.granted.len() == m.columns.len()));
    let mut columns: Vec<(&str, &str, &str)> = m
        .columns
        .iter()
        .map(|c| (c.app_label.as_str(), c.model.as_str(), c.codename.as_str()))
        .collect();
    let shown = columns.clone();
    columns.sort_unstable();
    assert_eq!(shown, columns, "sorted by app label, model and codename");
    assert!(granted(&m, "Anonymous").is_empty());
    assert!(granted(&m, "Zeta").is_empty());
    assert_eq!(granted(&m, "Alpha"), ["auth.change_user", "auth.view_user"]);
    assert_eq!(
        granted(&m, "una"),
        ["auth.add_group", "auth.change_user", "auth.view_user"],
        "direct and through Alpha"
    );
    assert!(granted(&m, "ivy").is_empty(), "inactive: nothing");
    assert_eq!(granted(&m, "rex").len(), m.columns.len(), "superuser: all");
    assert_eq!(granted(&m, "Superuser").len(), m.columns.len());
    store.close().await;
}

async fn app_filter_and_unknown_users(db: TestDb) {
    let store = store(&db).await;
    store
        .create_permission("library.can_lend", "loan", "Can lend")
        .await
        .unwrap();
    let m = store.matrix(&[], Some("library")).await.unwrap();
    let columns: Vec<&str> = m.columns.iter().map(|c| c.permission.as_str()).collect();
    assert_eq!(columns, ["library.can_lend"]);
    assert_eq!(m.columns[0].name, "Can lend");
    let all = store.matrix(&[], None).await.unwrap();
    assert_eq!(
        all.columns.len(),
        store.permissions(None).await.unwrap().len()
    );
    let err = store.matrix(&s(&["nobody"]), None).await.unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { what: "user", name } if name == "nobody"),
        "{err:?}"
    );
    store.close().await;
}

per_db!(rows_and_flags, app_filter_and_unknown_users);
