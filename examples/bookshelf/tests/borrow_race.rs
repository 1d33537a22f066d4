//! Many concurrent borrows of the last copy: exactly one succeeds, on every database; concurrent
//! returns of one borrow put back one copy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use castellan_store::NewUser;
use common::{env_on, per_db, Client, TestDb, PASSWORD};
use http::StatusCode;

const RACERS: usize = 20;

async fn last_copy_race(db: TestDb) {
    let kind = db.kind();
    let env = env_on(db).await;
    let store = &env.app.store;
    let mut clients = Vec::new();
    for i in 0..RACERS {
        let name = format!("racer{i}");
        let mut u = NewUser::new(&name);
        u.password = Some(PASSWORD.into());
        store.create_user(u).await.unwrap();
        store
            .add_user_to_groups(&name, &["Library Members".into()])
            .await
            .unwrap();
        clients.push(Client::logged_in(&env.router, &name).await);
    }
    // The public list (published books only) works on this database too.
    let list = Client::new(&env.router).get("/books/").await;
    assert_eq!(list.status, StatusCode::OK, "{kind:?}: {}", list.body);
    assert!(list.body.contains("Neuromancer"), "{kind:?}");
    assert!(
        !list.body.contains("Draft: A Memoir"),
        "{kind:?}: drafts are hidden"
    );
    // Book 3 ("Neuromancer") has exactly one copy.
    assert_eq!(
        env.app.db.book(3).await.unwrap().unwrap().copies_available,
        1
    );
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut tasks = Vec::new();
    for mut c in clients.clone() {
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            c.post("/books/3/borrow/", &[]).await.status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let won = statuses.iter().filter(|s| **s == StatusCode::FOUND).count();
    let lost = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((won, lost), (1, RACERS - 1), "{kind:?}: {statuses:?}");
    let book = env.app.db.book(3).await.unwrap().unwrap();
    assert_eq!(book.copies_available, 0, "{kind:?}");
    let borrows = env.app.db.borrows().await.unwrap();
    assert_eq!(borrows.len(), 1, "{kind:?}");
    let winner = borrows[0].username.clone();

    // The winner returns from two tabs at once: one copy comes back, not two.
    let idx: usize = winner.trim_start_matches("racer").parse().unwrap();
    let a = clients[idx].clone();
    let b = clients[idx].clone();
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move {
            let mut a = a;
            a.post("/books/3/return/", &[]).await.status
        }),
        tokio::spawn(async move {
            let mut b = b;
            b.post("/books/3/return/", &[]).await.status
        })
    );
    assert_eq!(
        (ra.unwrap(), rb.unwrap()),
        (StatusCode::FOUND, StatusCode::FOUND)
    );
    let book = env.app.db.book(3).await.unwrap().unwrap();
    assert_eq!(book.copies_available, 1, "{kind:?}");
    assert!(env.app.db.borrows().await.unwrap()[0].returned_at.is_some());
    env.app.store.close().await;
}

per_db!(worker_threads = 4; last_copy_race);
