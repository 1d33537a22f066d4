//! Throw-away databases of every kind: [`TestDb`] makes a fresh SQLite file or a fresh database on
//! the PostgreSQL or MariaDB server named by the environment, and drops it afterwards.

use std::sync::atomic::{AtomicU32, Ordering};

use castellan_store::Store;

/// The database kinds the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A fresh SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server named by `CASTELLAN_TEST_POSTGRES`.
    Postgres,
    /// A fresh database on the MariaDB/MySQL server named by `CASTELLAN_TEST_MYSQL`.
    MySql,
}

impl Kind {
    fn env(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some("CASTELLAN_TEST_POSTGRES"),
            Self::MySql => Some("CASTELLAN_TEST_MYSQL"),
        }
    }
}

/// A throw-away database: its URL, and cleanup when dropped (best effort).
#[derive(Debug)]
pub struct TestDb {
    /// The database URL (pass it to `Store::connect`, the CLI or Django).
    pub url: String,
    /// The database (or file) name.
    pub name: String,
    kind: Kind,
    admin_url: Option<String>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("castellan_t_{}_{}_{}", std::process::id(), n, nanos)
}

/// Replaces the database name (the path) of a server URL.
fn with_database(admin_url: &str, db: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{}", &base[..host_end], db);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

impl TestDb {
    /// A fresh, empty database of `kind`, or `None` when that server is not configured (and
    /// `CASTELLAN_REQUIRE_SERVERS` is not set). Panics — failing the test — when the server is required
    /// but not configured or unreachable.
    pub async fn create(kind: Kind) -> Option<Self> {
        let name = unique_name();
        let Some(var) = kind.env() else {
            let dir = std::env::temp_dir().join("castellan-tests");
            std::fs::create_dir_all(&dir).ok()?;
            let path = dir.join(format!("{name}.sqlite3"));
            return Some(Self {
                url: format!("sqlite://{}", path.display()),
                name: path.display().to_string(),
                kind,
                admin_url: None,
            });
        };
        let admin_url = match std::env::var(var) {
            Ok(url) if !url.is_empty() => url,
            _ if std::env::var("CASTELLAN_REQUIRE_SERVERS").is_ok_and(|v| v == "1") => {
                panic!(
                    "{var} is not set but CASTELLAN_REQUIRE_SERVERS=1: this test needs that server"
                )
            }
            _ => {
                eprintln!("skipping {kind:?} test: set {var} to run it");
                return None;
            }
        };
        let url = with_database(&admin_url, &name);
        let admin = Store::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{var}={admin_url}: cannot connect: {e}"));
        admin
            .execute_raw(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        admin.close().await;
        Some(Self {
            url,
            name,
            kind,
            admin_url: Some(admin_url),
        })
    }

    /// Connects a store to the database.
    pub async fn store(&self) -> Store {
        Store::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.url))
    }

    /// A fresh database with Castellan's (= Django's) schema migrated.
    pub async fn migrated(kind: Kind) -> Option<(Self, Store)> {
        let db = Self::create(kind).await?;
        let store = db.store().await;
        store
            .migrate(&castellan_core::Registry::django())
            .await
            .unwrap_or_else(|e| panic!("migrate failed: {e}"));
        Some((db, store))
    }

    /// The database kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match (&self.admin_url, self.kind) {
            (None, _) => {
                let _ = std::fs::remove_file(&self.name);
            }
            (Some(admin_url), kind) => {
                let (admin_url, name) = (admin_url.clone(), self.name.clone());
                // Dropping needs a runtime of its own: the test's runtime may be shutting down.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async move {
                        if let Ok(admin) = Store::connect(&admin_url).await {
                            let sql = match kind {
                                Kind::Postgres => {
                                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                                }
                                _ => format!("DROP DATABASE IF EXISTS {name}"),
                            };
                            let _ = admin.execute_raw(&sql).await;
                            admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306/test?ssl-mode=disabled", "x"),
            "mysql://root@127.0.0.1:3306/x?ssl-mode=disabled"
        );
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306", "x"),
            "mysql://root@127.0.0.1:3306/x"
        );
    }
}
