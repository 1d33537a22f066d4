//! What the benches that also run on PostgreSQL share: a fresh database of their own on the server
//! named by `CASTELLAN_BENCH_POSTGRES`, dropped afterwards.

use castellan_store::Store;

/// `url` with its database name replaced by `database` (the query string kept).
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[host_start..].find('/') {
        Some(slash) => &base[..host_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// A PostgreSQL database `database`, created fresh on the server of `CASTELLAN_BENCH_POSTGRES`.
pub(crate) struct PgBenchDb {
    admin: Store,
    database: &'static str,
    /// A store on the fresh database.
    pub(crate) store: Store,
}

impl PgBenchDb {
    /// `None` (with a note on stderr) when `CASTELLAN_BENCH_POSTGRES` is not set.
    pub(crate) async fn create(database: &'static str) -> Option<Self> {
        let Ok(admin_url) = std::env::var("CASTELLAN_BENCH_POSTGRES") else {
            eprintln!("CASTELLAN_BENCH_POSTGRES is not set: PostgreSQL benches skipped");
            return None;
        };
        let admin = Store::connect(&admin_url).await.unwrap();
        admin
            .execute_raw(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            .await
            .unwrap();
        admin
            .execute_raw(&format!("CREATE DATABASE {database}"))
            .await
            .unwrap();
        let store = Store::connect(&with_database(&admin_url, database))
            .await
            .unwrap();
        Some(Self {
            admin,
            database,
            store,
        })
    }

    /// Closes the store and drops the database.
    pub(crate) async fn drop(self) {
        self.store.close().await;
        self.admin
            .execute_raw(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.database
            ))
            .await
            .unwrap();
        self.admin.close().await;
    }
}
