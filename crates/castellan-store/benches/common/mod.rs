//! What the benches share: a fresh SQLite file in the temporary directory, and on PostgreSQL a fresh
//! database of their own on the server named by `CASTELLAN_BENCH_POSTGRES`; both removed afterwards.

// Each bench compiles this module for itself and uses only part of it.
#![allow(dead_code)]

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

/// A fresh SQLite file `castellan-bench-<name>-<pid>.sqlite3` in the temporary directory.
pub(crate) struct SqliteBenchDb {
    path: std::path::PathBuf,
    /// A store on the fresh file.
    pub(crate) store: Store,
}

impl SqliteBenchDb {
    pub(crate) async fn create(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "castellan-bench-{name}-{}.sqlite3",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        Self { path, store }
    }

    /// Closes the store and removes the file.
    pub(crate) async fn drop(self) {
        self.store.close().await;
        let _ = std::fs::remove_file(&self.path);
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
            eprintln!(
                "(e.g. CASTELLAN_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres)"
            );
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

    /// Closes the store and drops the database (kept, with a note, when `CASTELLAN_BENCH_KEEP` is set).
    pub(crate) async fn drop(self) {
        self.store.close().await;
        if std::env::var_os("CASTELLAN_BENCH_KEEP").is_some() {
            eprintln!(
                "CASTELLAN_BENCH_KEEP is set: database {} kept",
                self.database
            );
        } else {
            self.admin
                .execute_raw(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.database
                ))
                .await
                .unwrap();
        }
        self.admin.close().await;
    }
}
