//! SQLite's `PRAGMA data_version`, read on a dedicated synchronous connection: the number changes
//! exactly when another connection — this process's pool, another process, Django, the `sqlite3`
//! shell — committed to the database file since the last read. Read in the calling thread (a
//! few microseconds, no hop to sqlx's worker thread), it tells whether anything cached from the
//! database may still be used: the logged-in request's session, user and permissions
//! ([`SessionCache`](crate::session_cache::SessionCache)).

use std::path::Path;
use std::str::FromStr;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

/// The dedicated connection.
pub(crate) struct DataVersion {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for DataVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataVersion")
    }
}

impl DataVersion {
    /// A connection to the file of the SQLite URL `url`; `None` for an in-memory database (one
    /// connection: nothing else can commit to it, but nothing else can open it either) or a file
    /// that cannot be opened (then nothing is cached).
    pub(crate) fn for_url(url: &str) -> Option<Self> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return None;
        }
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
        Self::open(options.get_filename())
    }

    fn open(path: &Path) -> Option<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        match Connection::open_with_flags(path, flags) {
            Ok(conn) => Some(Self {
                conn: Mutex::new(conn),
            }),
            Err(e) => {
                tracing::warn!(
                    "castellan-store: cannot open {} for PRAGMA data_version ({e}); sessions are read from the database on every request",
                    path.display()
                );
                None
            }
        }
    }

    /// The current data version, or `None` when it cannot be read (then nothing is reused).
    pub(crate) fn read(&self) -> Option<i64> {
        let conn = self.conn.lock().ok()?;
        let mut stmt = conn.prepare_cached("PRAGMA data_version").ok()?;
        stmt.query_row([], |r| r.get::<_, i64>(0)).ok()
    }
}
