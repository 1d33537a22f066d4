//! The store's error type.

/// What can go wrong in the store. The CLI maps [`Error::Unavailable`] to exit code 3 and the input
/// errors to exit code 2.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database cannot be reached (connection refused, file not openable, pool timed out).
    #[error("database unavailable: {0}. Check --database-url / CASTELLAN_DATABASE_URL and that the server is running")]
    Unavailable(#[source] sqlx::Error),
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
    /// A request was refused because it would break an invariant (e.g. delete the last superuser).
    #[error("{0}")]
    Refused(String),
    /// The object changed since the caller read it (a stale version); nothing was changed.
    #[error("{0}")]
    Conflict(String),
    /// A background task (password hashing) failed.
    #[error("internal task failed: {0}")]
    Task(String),
}

impl Error {
    /// Whether the error means "the database could not be reached" (exit 3, HTTP 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
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
            sqlx::Error::Database(db) if is_unavailable_code(db.code().as_deref()) => {
                Self::Unavailable(e)
            }
            _ => Self::Database(e),
        }
    }
}

/// SQLSTATE / driver codes that mean the server is going away or refusing connections.
fn is_unavailable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        // PostgreSQL: admin shutdown, crash shutdown, cannot connect now, too many connections,
        // database does not exist.
        Some(
            "57P01" | "57P02" | "57P03" | "53300" | "3D000"
            // SQLite: SQLITE_CANTOPEN (14), SQLITE_BUSY (5) after the timeout.
            | "14" | "5"
            // MySQL: unknown database, too many connections, server gone.
            | "1049" | "1040" | "2006" | "2013"
        )
    )
}

/// `Result` with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
