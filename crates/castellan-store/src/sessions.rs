//! Django's `django_session` table (the database session backend): rows of `session_key`,
//! signed `session_data` and `expire_date`. The web crate encodes and decodes the data; this module
//! only stores it. Also the by-id user read that the per-request session check needs.

use castellan_core::User;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::migrate::table_exists;
use crate::on_pool;
use crate::pool::{ts_to_text, Dialect, Pool, RowExt};
use crate::users::{user_columns, user_from_row};
use crate::Store;

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
pub(crate) async fn ensure_session_table(pool: &Pool) -> Result<bool> {
    if table_exists(pool, "django_session").await? {
        return Ok(false);
    }
    let d = pool.dialect();
    let now = ts_to_text(Utc::now());
    on_pool!(pool, p => {
        let mut tx = p.begin().await?;
        for stmt in session_table_ddl(d) {
            sqlx::query(stmt).execute(&mut *tx).await?;
        }
        let recorded = sqlx::query(&d.sql("SELECT 1 AS one FROM django_migrations WHERE app = 'sessions' AND name = '0001_initial'"))
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !recorded {
            sqlx::query(&d.sql("INSERT INTO django_migrations (app, name, applied) VALUES ('sessions', '0001_initial', ?ts)"))
                .bind(&now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(true)
}

impl Store {
    /// Creates Django's `django_session` table (recording `sessions.0001_initial`) when it is missing,
    /// as Django's `migrate` of `django.contrib.sessions` would. Returns whether it was created.
    /// `migrate` does this on databases it creates; the web layer calls it for adopted ones.
    pub async fn ensure_sessions(&self) -> Result<bool> {
        ensure_session_table(&self.pool).await
    }

    /// The `session_data` of an unexpired session row, or `None` (unknown or expired key).
    pub async fn session_data(&self, session_key: &str) -> Result<Option<String>> {
        let d = self.dialect();
        let now = ts_to_text(Utc::now());
        let data = on_pool!(&self.pool, p => {
            let row = sqlx::query(&d.sql(
                "SELECT session_data FROM django_session WHERE session_key = ? AND expire_date > ?ts",
            ))
            .bind(session_key)
            .bind(&now)
            .fetch_optional(p)
            .await?;
            match row {
                Some(r) => Some(r.text("session_data")?),
                None => None,
            }
        });
        Ok(data)
    }

    /// Writes a session row (insert or replace) with its expiry.
    pub async fn save_session(
        &self,
        session_key: &str,
        session_data: &str,
        expire_date: DateTime<Utc>,
    ) -> Result<()> {
        let d = self.dialect();
        let expire = ts_to_text(expire_date);
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let updated = sqlx::query(&d.sql(
                "UPDATE django_session SET session_data = ?, expire_date = ?ts WHERE session_key = ?",
            ))
            .bind(session_data)
            .bind(&expire)
            .bind(session_key)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                sqlx::query(&d.sql(
                    "INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?ts)",
                ))
                .bind(session_key)
                .bind(session_data)
                .bind(&expire)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Deletes a session row (no error when it does not exist).
    pub async fn delete_session(&self, session_key: &str) -> Result<()> {
        let d = self.dialect();
        on_pool!(&self.pool, p => {
            sqlx::query(&d.sql("DELETE FROM django_session WHERE session_key = ?"))
                .bind(session_key)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Deletes expired session rows (Django's `clearsessions`); returns how many.
    pub async fn clear_expired_sessions(&self) -> Result<u64> {
        let d = self.dialect();
        let now = ts_to_text(Utc::now());
        Ok(on_pool!(&self.pool, p => {
            sqlx::query(&d.sql("DELETE FROM django_session WHERE expire_date <= ?ts"))
                .bind(&now)
                .execute(p)
                .await?
                .rows_affected()
        }))
    }

    /// The user with this primary key (with its password hash, for the session auth hash), or `None`.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        let d = self.dialect();
        let sql = format!("SELECT {} FROM auth_user u WHERE u.id = ?", user_columns(d));
        Ok(on_pool!(&self.pool, p => {
            match sqlx::query(&d.sql(&sql)).bind(id).fetch_optional(p).await? {
                Some(r) => Some(user_from_row(&r)?),
                None => None,
            }
        }))
    }
}
