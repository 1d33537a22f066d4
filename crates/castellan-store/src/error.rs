//! The store's error type.

/// What can go wrong in the store. The CLI maps [`Error::Unavailable`] to exit code 3 and the input
/// errors to exit code 2; the admin answers [`Error::Unavailable`] with 503 and [`Error::Busy`],
/// [`Error::Conflict`] and [`Error::Refused`] with 409.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database cannot be reached (connection refused, file not openable, pool timed out).
    #[error("database unavailable: {0}. Check --database-url / CASTELLAN_DATABASE_URL and that the server is running")]
    Unavailable(#[source] sqlx::Error),
    /// The database is reachable, but the change collided with concurrent ones and still did
    /// after the store retried it (SQLite busy or locked, a PostgreSQL serialization failure,
    /// deadlock or lock timeout, a MariaDB deadlock or lock wait timeout); nothing was changed.
    #[error("the database is busy with concurrent changes ({0}); nothing was changed. Try again in a moment")]
    Busy(#[source] sqlx::Error),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The input breaks a rule (bad name, unknown permission…); nothing was changed.
    #[error(transparent)]
    Input(#[from] castellan_core::Error),
    /// A named thing does not exist; nothing was changed.
    #[error("{what} {name:?} does not exist")]
    NotFound {
        /// `user`, `group`, `permission`, `content type`.
        what: &'static str,
        /// The name as given.
        name: String,
    },
    /// A thing with that name exists already; nothing was changed.
    #[error("{message}")]
    AlreadyExists {
        /// `user`, `group`, `permission`.
        what: &'static str,
        /// Django's message, e.g. "A user with that username already exists.".
        message: String,
    },
    /// The database URL is not one Castellan understands.
    #[error("unsupported database URL {0:?}: use sqlite://PATH, postgres://… or mysql://… (mariadb://…)")]
    BadUrl(String),
    /// The schema is missing or from an unsupported Django version.
    #[error("{0}")]
    Schema(String),
    /// The configured user model does not fit the database (no such table, a required column
    /// missing, an unsupported primary key), or an operation needs a column the model does not
    /// have; nothing was changed.
    #[error("{0}")]
    UserModel(String),
    /// A request was refused because it would break an invariant (e.g. delete the last superuser).
    #[error("{0}")]
    Refused(String),
    /// The object changed since the caller read it (a stale version); nothing was changed.
    #[error("{0}")]
    Conflict(String),
    /// A statement was run with the wrong number of arguments, or on a database it was not
    /// written for: a bug in Castellan, reported instead of running the statement.
    #[error("internal error in a database statement: {0}")]
    Statement(String),
    /// The URL names a database whose driver was not compiled in.
    #[error("{url:?} needs the `{feature}` driver, which this build of castellan-store leaves out: enable its `{feature}` feature")]
    DriverMissing {
        /// The URL given.
        url: String,
        /// The cargo feature that adds the driver.
        feature: &'static str,
    },
    /// A background task (password hashing) failed.
    #[error("internal task failed: {0}")]
    Task(String),
}

impl Error {
    /// Whether the error means "the database could not be reached" (exit 3, HTTP 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// Whether the error is a collision with concurrent changes while the database is reachable
    /// ([`Error::Busy`]): trying again may succeed.
    pub fn is_busy(&self) -> bool {
        matches!(self, Self::Busy(_))
    }

    /// Whether a statement broke a unique constraint (an application's own insert of a taken
    /// value, reported rather than raised).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(d)) if d.is_unique_violation())
    }

    /// Whether the error is the caller's input (exit 2, nothing changed).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            Self::Input(_)
                | Self::NotFound { .. }
                | Self::AlreadyExists { .. }
                | Self::BadUrl(_)
                | Self::Refused(_)
                | Self::Conflict(_)
                | Self::UserModel(_)
        )
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Self::Unavailable(e),
            sqlx::Error::Database(db) => match DbErrorKind::of(db.as_ref()) {
                DbErrorKind::Unavailable => Self::Unavailable(e),
                DbErrorKind::Busy => Self::Busy(e),
                DbErrorKind::Other => Self::Database(e),
            },
            _ => Self::Database(e),
        }
    }
}

/// How a database's own error is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DbErrorKind {
    /// The server is going away, refusing connections, or the database cannot be opened.
    Unavailable,
    /// A collision with concurrent transactions: retrying may succeed.
    Busy,
    /// Anything else.
    Other,
}

impl DbErrorKind {
    fn of(db: &dyn sqlx::error::DatabaseError) -> Self {
        #[cfg(feature = "sqlite")]
        if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
            // The code is SQLite's extended result code; its low byte is the primary code.
            let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
            return Self::of_sqlite(code);
        }
        #[cfg(feature = "mysql")]
        if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
            return Self::of_mysql(my.number());
        }
        Self::of_sqlstate(db.code().as_deref())
    }

    /// SQLite: SQLITE_CANTOPEN (14) is unavailable; SQLITE_BUSY (5: another connection writes,
    /// including the immediate "deadlock" and stale-snapshot cases the busy timeout does not wait
    /// out) and SQLITE_LOCKED (6) are collisions, in all their extended forms.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    fn of_sqlite(extended: i32) -> Self {
        match extended & 0xff {
            14 => Self::Unavailable,
            5 | 6 => Self::Busy,
            _ => Self::Other,
        }
    }

    /// MariaDB/MySQL error numbers: unknown database (1049), too many connections (1040),
    /// server shutdown (1053) are unavailable; deadlock (1213) and lock wait timeout (1205) are
    /// collisions.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    fn of_mysql(number: u16) -> Self {
        match number {
            1049 | 1040 | 1053 => Self::Unavailable,
            1213 | 1205 => Self::Busy,
            _ => Self::Other,
        }
    }

    /// PostgreSQL SQLSTATEs: admin shutdown, crash shutdown, cannot connect now, too many
    /// connections, database does not exist are unavailable; serialization failure (40001),
    /// deadlock (40P01) and lock not available (55P03) are collisions.
    fn of_sqlstate(code: Option<&str>) -> Self {
        match code {
            Some("57P01" | "57P02" | "57P03" | "53300" | "3D000") => Self::Unavailable,
            Some("40001" | "40P01" | "55P03") => Self::Busy,
            _ => Self::Other,
        }
    }
}

/// `Result` with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::DbErrorKind;

    #[test]
    fn busy_and_locked_are_collisions_not_outages() {
        // SQLITE_BUSY, _RECOVERY, _SNAPSHOT, _TIMEOUT; SQLITE_LOCKED, _SHAREDCACHE.
        for code in [5, 261, 517, 773, 6, 262] {
            assert_eq!(DbErrorKind::of_sqlite(code), DbErrorKind::Busy, "{code}");
        }
        assert_eq!(DbErrorKind::of_sqlite(14), DbErrorKind::Unavailable);
        // SQLITE_CONSTRAINT_UNIQUE.
        assert_eq!(DbErrorKind::of_sqlite(2067), DbErrorKind::Other);
        for n in [1213, 1205] {
            assert_eq!(DbErrorKind::of_mysql(n), DbErrorKind::Busy, "{n}");
        }
        assert_eq!(DbErrorKind::of_mysql(1049), DbErrorKind::Unavailable);
        assert_eq!(DbErrorKind::of_mysql(1062), DbErrorKind::Other);
        for c in ["40001", "40P01", "55P03"] {
            assert_eq!(DbErrorKind::of_sqlstate(Some(c)), DbErrorKind::Busy, "{c}");
        }
        assert_eq!(
            DbErrorKind::of_sqlstate(Some("57P01")),
            DbErrorKind::Unavailable
        );
        assert_eq!(DbErrorKind::of_sqlstate(Some("23505")), DbErrorKind::Other);
        assert_eq!(DbErrorKind::of_sqlstate(None), DbErrorKind::Other);
    }
}
