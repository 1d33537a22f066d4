//! Store fixtures shared by the test suites.

use castellan_core::hashers::{Hashers, Pbkdf2Hasher};
use castellan_store::{AuditFilter, NewUser, Store, StoreOptions};

use crate::{TestDb, PASSWORD};

/// PBKDF2-SHA256 with 1000 rounds instead of Django's 1.5 million: cheap enough for tests, and
/// still Django's hash format.
pub fn cheap_hashers() -> Hashers {
    let hasher = Pbkdf2Hasher::sha256()
        .with_iterations(1000)
        .unwrap_or_else(|e| panic!("1000 rounds are valid: {e}"));
    Hashers::new(vec![Box::new(hasher)]).unwrap_or_else(|e| panic!("one hasher is valid: {e}"))
}

/// The default store options with [`cheap_hashers`].
pub fn cheap_options() -> StoreOptions {
    StoreOptions {
        hashers: cheap_hashers(),
        ..StoreOptions::default()
    }
}

/// A store on `url` with [`cheap_options`] and Django's schema migrated.
///
/// # Panics
///
/// When the database cannot be opened or migrated.
pub async fn store_at(url: &str) -> Store {
    let store = Store::connect_with(url, cheap_options())
        .await
        .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    store
        .migrate(&castellan_core::Registry::django())
        .await
        .unwrap_or_else(|e| panic!("migrate failed on {url}: {e}"));
    store
}

/// The store of a fresh test database: [`store_at`] its URL.
pub async fn store(db: &TestDb) -> Store {
    store_at(&db.url).await
}

/// Creates user `name` with password [`PASSWORD`], after `f` has set anything else.
///
/// # Panics
///
/// When the store refuses the user.
pub async fn user(store: &Store, name: &str, f: impl FnOnce(&mut NewUser)) {
    let mut u = NewUser::new(name);
    u.password = Some(PASSWORD.into());
    f(&mut u);
    store
        .create_user(u)
        .await
        .unwrap_or_else(|e| panic!("cannot create user {name}: {e}"));
}

/// Owned strings, for the store's `&[String]` arguments.
pub fn perms(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The audit entries recorded so far, oldest first, as `"actor action object"`.
///
/// # Panics
///
/// When the audit log cannot be read.
pub async fn audit(store: &Store) -> Vec<String> {
    let mut v: Vec<String> = store
        .audit_log(&AuditFilter::default())
        .await
        .unwrap_or_else(|e| panic!("cannot read the audit log: {e}"))
        .into_iter()
        .map(|e| format!("{} {} {}", e.actor, e.action, e.object))
        .collect();
    v.reverse();
    v
}
