//! Django's `django_session` table (the database session backend): rows of `session_key`,
//! signed `session_data` and `expire_date`. The web crate encodes and decodes the data; this module
//! only stores it. Also the by-id user read that the per-request session check needs.

use castellan_core::User;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::sql::{Db, Dialect, Sql};
use crate::users::{user_from_row, USER_BY_ID};
use crate::Store;

const SESSIONS_RECORDED: Sql = crate::sql!(
    "SELECT 1 AS one FROM django_migrations WHERE app = 'sessions' AND name = '0001_initial'"
);
const RECORD_SESSIONS: Sql = crate::sql!(
    "INSERT INTO django_migrations (app, name, applied) VALUES ('sessions', '0001_initial', $1)"
);
const SESSION_DATA: Sql = crate::sql!(
    "SELECT session_data FROM django_session WHERE session_key = $1 AND expire_date > $2"
);
const UPDATE_SESSION: Sql = crate::sql!(
    "UPDATE django_session SET session_data = $1, expire_date = $2 WHERE session_key = $3"
);
const INSERT_SESSION: Sql = crate::sql!(
    "INSERT INTO django_session (session_key, session_data, expire_date) VALUES ($1, $2, $3)"
);
const DELETE_SESSION: Sql = crate::sql!("DELETE FROM django_session WHERE session_key = $1");
const DELETE_EXPIRED: Sql = crate::sql!("DELETE FROM django_session WHERE expire_date <= $1");

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    SESSIONS_RECORDED,
    RECORD_SESSIONS,
    SESSION_DATA,
    UPDATE_SESSION,
    INSERT_SESSION,
    DELETE_SESSION,
    DELETE_EXPIRED,
];

/// Django's `sessions.0001_initial` DDL for each database, as `sqlmigrate sessions 0001` prints it.
fn session_table_ddl(d: Dialect) -> &'static [&'static str] {
    match d {
        Dialect::Sqlite => &[
            r#"CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL)"#,
            r#"CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date")"#,
        ],
        Dialect::Postgres => &[
            r#"CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" timestamp with time zone NOT NULL)"#,
            r#"CREATE INDEX "django_session_session_key_c0390e0f_like" ON "django_session" ("session_key" varchar_pattern_ops)"#,
            r#"CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date")"#,
        ],
        Dialect::MySql => &[
            "CREATE TABLE `django_session` (`session_key` varchar(40) NOT NULL PRIMARY KEY, `session_data` longtext NOT NULL, `expire_date` datetime(6) NOT NULL)",
            "CREATE INDEX `django_session_expire_date_a5c62663` ON `django_session` (`expire_date`)",
        ],
    }
}

/// Creates `django_session` (and records `sessions.0001_initial`) when the table is missing.
pub(crate) async fn ensure_session_table(db: &Db) -> Result<bool> {
    if db.table_exists("django_session").await? {
        return Ok(false);
    }
    let mut tx = db.begin().await?;
    for stmt in session_table_ddl(db.dialect()) {
        tx.execute_once(stmt).await?;
    }
    if db.dialect() == Dialect::Postgres {
        // A logout or a session changed elsewhere reaches `reuse_notified_reads`' listeners.
        for stmt in crate::migrate::pg_notify_sql("django_session", "session_key", "s") {
            tx.execute_once(&stmt).await?;
        }
    }
    let recorded = tx.fetch_optional(&SESSIONS_RECORDED, &[]).await?.is_some();
    if !recorded {
        tx.execute(&RECORD_SESSIONS, &[Utc::now().into()]).await?;
    }
    tx.commit().await?;
    Ok(true)
}

impl Store {
    /// Creates Django's `django_session` table (recording `sessions.0001_initial`) when it is missing,
    /// as Django's `migrate` of `django.contrib.sessions` would. Returns whether it was created.
    /// `migrate` does this on databases it creates; the web layer calls it for adopted ones.
    pub async fn ensure_sessions(&self) -> Result<bool> {
        ensure_session_table(&self.db).await
    }

    /// The `session_data` of an unexpired session row, or `None` (unknown or expired key).
    pub async fn session_data(&self, session_key: &str) -> Result<Option<String>> {
        let row = self
            .db
            .fetch_optional(&SESSION_DATA, &[session_key.into(), Utc::now().into()])
            .await?;
        row.map(|r| r.text("session_data")).transpose()
    }

    /// Writes a session row (insert or replace) with its expiry.
    pub async fn save_session(
        &self,
        session_key: &str,
        session_data: &str,
        expire_date: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let updated = tx
            .execute(
                &UPDATE_SESSION,
                &[session_data.into(), expire_date.into(), session_key.into()],
            )
            .await?;
        if updated == 0 {
            tx.execute(
                &INSERT_SESSION,
                &[session_key.into(), session_data.into(), expire_date.into()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a session row (no error when it does not exist).
    pub async fn delete_session(&self, session_key: &str) -> Result<()> {
        self.db
            .execute(&DELETE_SESSION, &[session_key.into()])
            .await?;
        Ok(())
    }

    /// Deletes expired session rows (Django's `clearsessions`); returns how many.
    pub async fn clear_expired_sessions(&self) -> Result<u64> {
        self.db.execute(&DELETE_EXPIRED, &[Utc::now().into()]).await
    }

    /// The user with this primary key (with its password hash, for the session auth hash), or `None`.
    pub async fn user_by_id(&self, id: castellan_core::UserId) -> Result<Option<User>> {
        self.db
            .fetch_optional(&USER_BY_ID, &[id.into()])
            .await?
            .map(|r| user_from_row(&r))
            .transpose()
    }
}
