//! `migrate`: create Django's schema, or adopt an existing Django database, then add Castellan's own
//! objects (`castellan_*`) and the content types and permissions of the registry's models.

use castellan_core::Registry;
use chrono::Utc;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::sql::{Db, Dialect, Sql, Tx};
use crate::user_schema::UserSchema;

/// The Django migrations whose end state Castellan creates, in order (spec §1.1).
pub const DJANGO_MIGRATIONS: [(&str, &str); 14] = [
    ("contenttypes", "0001_initial"),
    ("contenttypes", "0002_remove_content_type_name"),
    ("auth", "0001_initial"),
    ("auth", "0002_alter_permission_name_max_length"),
    ("auth", "0003_alter_user_email_max_length"),
    ("auth", "0004_alter_user_username_opts"),
    ("auth", "0005_alter_user_last_login_null"),
    ("auth", "0006_require_contenttypes_0002"),
    ("auth", "0007_alter_validators_add_error_messages"),
    ("auth", "0008_alter_user_username_max_length"),
    ("auth", "0009_alter_user_last_name_max_length"),
    ("auth", "0010_alter_group_name_max_length"),
    ("auth", "0011_update_proxy_permissions"),
    ("auth", "0012_alter_user_first_name_max_length"),
];

/// The tables whose changes can change someone's permissions: each gets a generation trigger.
pub(crate) const WATCHED_TABLES: [&str; 6] = [
    "auth_user_groups",
    "auth_user_user_permissions",
    "auth_group_permissions",
    "auth_permission",
    "auth_group",
    "django_content_type",
];

/// The tables the permission index is built from: a change there also moves the catalog generation.
pub(crate) const CATALOG_TABLES: [&str; 2] = ["auth_permission", "django_content_type"];

/// The statement a trigger on `table` runs.
fn bump(table: &str) -> &'static str {
    if CATALOG_TABLES.contains(&table) {
        "UPDATE castellan_generation SET value = value + 1"
    } else {
        "UPDATE castellan_generation SET value = value + 1 WHERE id = 1"
    }
}

/// Castellan's two indexes on Django's `auth_user`, of the users `with_perm` treats apart from their
/// grants: the superusers and the inactive users. Usually a handful of rows each, so `who-has` reads
/// both sets without scanning the user table (see `Store::with_perm_ids`). Only a speed-up: every query
/// that uses them answers the same without them (a Django migration that rebuilds `auth_user` on
/// SQLite drops them; `migrate` puts them back). SQLite and PostgreSQL index only the matching rows
/// (partial indexes); MariaDB, which has none, indexes the flag column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserFlagIndex {
    /// `is_superuser` is true.
    Superusers,
    /// `is_active` is false.
    Inactive,
}

impl UserFlagIndex {
    pub(crate) const ALL: [Self; 2] = [Self::Superusers, Self::Inactive];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Superusers => "castellan_auth_user_superuser",
            Self::Inactive => "castellan_auth_user_inactive",
        }
    }

    /// The condition on `auth_user` (columns prefixed with `prefix`, e.g. `"u."`) selecting this
    /// index's users, written exactly as the partial index declares it: SQLite uses a partial index
    /// only for a query that repeats its condition term for term.
    pub(crate) fn condition(self, d: Dialect, prefix: &str) -> String {
        match (self, d) {
            (Self::Superusers, Dialect::MySql) => format!("{prefix}is_superuser = 1"),
            (Self::Superusers, _) => format!("{prefix}is_superuser"),
            (Self::Inactive, Dialect::MySql) => format!("{prefix}is_active = 0"),
            (Self::Inactive, _) => format!("NOT {prefix}is_active"),
        }
    }

    fn create_sql(self, d: Dialect) -> String {
        match d {
            Dialect::MySql => format!(
                "CREATE INDEX IF NOT EXISTS {} ON auth_user ({})",
                self.name(),
                match self {
                    Self::Superusers => "is_superuser",
                    Self::Inactive => "is_active",
                }
            ),
            _ => format!(
                "CREATE INDEX IF NOT EXISTS {} ON auth_user (id) WHERE {}",
                self.name(),
                self.condition(d, "")
            ),
        }
    }
}

/// Rows a write must reach before SQLite's per-row generation triggers are suspended for it (below
/// this, the triggers cost less than the schema change).
pub(crate) const BULK_ROWS: usize = 500;

/// Castellan's row triggers on some tables, dropped inside a write transaction by
/// [`suspend_row_triggers!`] and put back by [`restore_row_triggers!`] in the same transaction.
///
/// SQLite has no statement-level triggers, so every row a bulk write touches would bump
/// `castellan_generation` once (about 7 µs a row). Instead, the bulk path drops the triggers of the
/// tables it writes, writes, bumps the generations once, and recreates the triggers from their own
/// stored SQL, all in one transaction. This keeps the invariant that any committed write moves the
/// generation:
/// * SQLite DDL is transactional: other connections see the triggers as they were until the commit, and
///   after it see them recreated; a failure or rollback restores them with everything else;
/// * dropping a trigger is a write, so it takes the database's write lock, and no other connection
///   (Castellan, Django or raw SQL) can write — with or without triggers — until this transaction ends;
/// * the one bump is made inside the same transaction as the rows, so it commits with them.
#[derive(Debug, Default)]
pub(crate) struct SuspendedTriggers {
    /// `(table, CREATE TRIGGER statement)` of each dropped trigger.
    pub(crate) saved: Vec<(String, String)>,
}

impl SuspendedTriggers {
    /// The statement that bumps what the dropped triggers would have bumped (`None` when none was
    /// dropped: then the writes bump nothing either).
    pub(crate) fn bump_sql(&self) -> Option<&'static str> {
        if self.saved.is_empty() {
            None
        } else if self
            .saved
            .iter()
            .any(|(t, _)| CATALOG_TABLES.contains(&t.as_str()))
        // (the catalog tables are never renamed: only the user model's are)
        {
            Some(bump("auth_permission"))
        } else {
            Some(bump("auth_user_groups"))
        }
    }
}

const SQLITE_BUMP_TRIGGERS: Sql = crate::sql!(
    "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'castellan_bump_%'"
);

/// Inside a write transaction on SQLite, drops Castellan's generation triggers on `tables` and
/// returns them as a [`SuspendedTriggers`]; on other databases does nothing (PostgreSQL's
/// triggers fire once per statement; MariaDB's DDL would commit the transaction). Must be the
/// transaction's first write, or follow one, so that it holds the write lock.
pub(crate) async fn suspend_row_triggers(
    tx: &mut Tx,
    tables: &[&str],
) -> Result<SuspendedTriggers> {
    let mut suspended = SuspendedTriggers::default();
    if tx.dialect() != Dialect::Sqlite {
        return Ok(suspended);
    }
    let tables: Vec<String> = tables
        .iter()
        .map(|t| tx.table_name(t).into_owned())
        .collect();
    let mut names = Vec::new();
    for r in tx.fetch_all(&SQLITE_BUMP_TRIGGERS, &[]).await? {
        let table = r.text("tbl_name")?;
        if tables.contains(&table) {
            names.push(r.text("name")?);
            suspended.saved.push((table, r.text("sql")?));
        }
    }
    for name in &names {
        tx.execute_once(&format!("DROP TRIGGER \"{}\"", name.replace('"', "\"\"")))
            .await?;
    }
    Ok(suspended)
}

/// Bumps the generations once for the writes made while `suspended` was in force, and recreates
/// the triggers, in the same transaction (see [`SuspendedTriggers`]).
pub(crate) async fn restore_row_triggers(tx: &mut Tx, suspended: SuspendedTriggers) -> Result<()> {
    if let Some(bump) = suspended.bump_sql() {
        tx.execute_once(bump).await?;
    }
    for (_, sql) in &suspended.saved {
        tx.execute_once(sql).await?;
    }
    Ok(())
}

const SQLITE_SCHEMA: &str = include_str!("schema/sqlite.sql");
const POSTGRES_SCHEMA: &str = include_str!("schema/postgres.sql");
const MYSQL_SCHEMA: &str = include_str!("schema/mysql.sql");

/// What `migrate` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MigrateReport {
    /// Django's tables were created (a new database).
    pub created_schema: bool,
    /// An existing Django database was adopted as it is.
    pub adopted: bool,
    /// Content types inserted.
    pub content_types_created: usize,
    /// Permissions inserted.
    pub permissions_created: usize,
    /// Castellan's own objects (generation table, triggers, `auth_user` flag indexes) were installed
    /// or repaired.
    pub castellan_objects: bool,
}

/// The state of the Django side of a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DjangoState {
    /// Neither contenttypes nor auth tables exist.
    Empty,
    /// Every migration Castellan needs is recorded.
    Complete,
}

const APPLIED_MIGRATIONS: Sql =
    crate::sql!("SELECT app, name FROM django_migrations WHERE app IN ('auth', 'contenttypes')");
const RECORD_MIGRATION: Sql =
    crate::sql!("INSERT INTO django_migrations (app, name, applied) VALUES ($1, $2, $3)");
const GENERATION_ROW_COUNT: Sql =
    crate::sql!("SELECT count(*) AS n FROM castellan_generation WHERE id = $1");
const INSERT_GENERATION_ROW: Sql =
    crate::sql!("INSERT INTO castellan_generation (id, value) VALUES ($1, 1)");
const NEW_GENERATIONS: Sql = crate::sql!("UPDATE castellan_generation SET value = value + 1");
const GENERATION_ROWS: Sql =
    crate::sql!("SELECT count(*) AS n FROM castellan_generation WHERE id IN (1, 2)");
const BUMP_TRIGGER_COUNT: Sql = Sql::per_dialect(
    "SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'castellan_bump_%'",
    "SELECT count(*) AS n FROM pg_trigger WHERE tgname = 'castellan_bump' AND NOT tgisinternal",
    "SELECT count(*) AS n FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND trigger_name LIKE 'castellan_bump_%'",
);

/// The statements of this module that run before Django's tables exist.
#[cfg(test)]
pub(crate) const SCHEMA_FREE_STATEMENTS: &[Sql] = &[BUMP_TRIGGER_COUNT];
/// The statements of this module that need Django's and Castellan's tables.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    APPLIED_MIGRATIONS,
    RECORD_MIGRATION,
    GENERATION_ROW_COUNT,
    INSERT_GENERATION_ROW,
    NEW_GENERATIONS,
    GENERATION_ROWS,
];
/// PostgreSQL-only statements.
#[cfg(all(test, feature = "postgres"))]
pub(crate) const POSTGRES_STATEMENTS: &[Sql] = &[NOTIFY_TRIGGER_COUNT, NOTIFYING_BUMPS];
/// SQLite-only statements.
#[cfg(test)]
pub(crate) const SQLITE_STATEMENTS: &[Sql] = &[SQLITE_BUMP_TRIGGERS];

pub(crate) async fn django_state(pool: &Db) -> Result<DjangoState> {
    let has_auth = pool.table_exists(&pool.table_name("auth_user")).await?
        || pool.table_exists("auth_permission").await?;
    let has_ct = pool.table_exists("django_content_type").await?;
    let has_migrations = pool.table_exists("django_migrations").await?;
    if !has_auth && !has_ct {
        return Ok(DjangoState::Empty);
    }
    if !has_migrations {
        return Err(Error::Schema(
            "the database has auth tables but no django_migrations table; Castellan cannot tell which Django version made it".into(),
        ));
    }
    let applied: Vec<(String, String)> = pool
        .fetch_all(&APPLIED_MIGRATIONS, &[])
        .await?
        .iter()
        .map(|r| Ok((r.text("app")?, r.text("name")?)))
        .collect::<Result<Vec<_>>>()?;
    let missing: Vec<String> = DJANGO_MIGRATIONS
        .iter()
        .filter(|(app, name)| !applied.iter().any(|(a, n)| a == app && n == name))
        .map(|(app, name)| format!("{app}.{name}"))
        .collect();
    if missing.is_empty() {
        Ok(DjangoState::Complete)
    } else {
        Err(Error::Schema(format!(
            "this Django database is not fully migrated (missing {}); run Django's `manage.py migrate` first, or point Castellan at an empty database",
            missing.join(", ")
        )))
    }
}

fn statements(schema: &str) -> Vec<String> {
    schema
        .split(";\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty())
        .collect()
}

pub(crate) async fn migrate(
    pool: &Db,
    users: &UserSchema,
    registry: &Registry,
) -> Result<MigrateReport> {
    let d = pool.dialect();
    let mut report = MigrateReport::default();
    match django_state(pool).await? {
        DjangoState::Complete
            if users.model().is_django_default() && !pool.table_exists("auth_user").await? =>
        {
            return Err(Error::UserModel(
                "this Django database has no auth_user table: the project has its own user model (AUTH_USER_MODEL). \
                 Give it with --user-model APP_LABEL.ModelName (and --username-field when its USERNAME_FIELD is not username)"
                    .into(),
            ));
        }
        DjangoState::Complete => report.adopted = true,
        DjangoState::Empty if !users.model().is_django_default() => {
            return Err(Error::UserModel(format!(
                "the database has no Django tables, and the user model {} is not Django's auth.User: Castellan never creates a \
                 custom user table; run the Django project's `manage.py migrate` first",
                users.model()
            )));
        }
        DjangoState::Empty => {
            let has_migrations_table = pool.table_exists("django_migrations").await?;
            let schema = match d {
                Dialect::Sqlite => SQLITE_SCHEMA,
                Dialect::Postgres => POSTGRES_SCHEMA,
                Dialect::MySql => MYSQL_SCHEMA,
            };
            let now = Utc::now();
            // PostgreSQL and SQLite run DDL in the transaction: all or nothing.
            // (MariaDB commits DDL implicitly; a failure there leaves tables that a re-run adopts.)
            let mut tx = pool.begin().await?;
            for stmt in statements(schema) {
                if has_migrations_table && stmt.contains("django_migrations") {
                    continue;
                }
                tx.execute_once(&stmt).await?;
            }
            for (app, name) in DJANGO_MIGRATIONS {
                tx.execute(&RECORD_MIGRATION, &[app.into(), name.into(), now.into()])
                    .await?;
            }
            tx.commit().await?;
            report.created_schema = true;
        }
    }
    install_castellan_objects(pool, users).await?;
    report.castellan_objects = true;
    if report.created_schema {
        // A database Castellan made gets Django's session table too. An adopted Django database is
        // left as it is: the web layer creates the table when it first needs it (Store::ensure_sessions).
        crate::sessions::ensure_session_table(pool).await?;
    }
    let (cts, perms) = crate::perms::ensure_registry(pool, registry).await?;
    report.content_types_created = cts;
    report.permissions_created = perms;
    Ok(report)
}

/// Creates (or repairs) `castellan_generation`, the triggers that bump it, and the [`UserFlagIndex`]es.
pub(crate) async fn install_castellan_objects(pool: &Db, users: &UserSchema) -> Result<()> {
    let d = pool.dialect();
    let mut stmts: Vec<String> = vec![
        "CREATE TABLE IF NOT EXISTS castellan_generation (id integer NOT NULL PRIMARY KEY, value bigint NOT NULL)".into(),
        crate::audit::create_table_sql(d).into(),
        // The last policy `sync` found fully applied, and at which generations (a fast no-op re-run).
        "CREATE TABLE IF NOT EXISTS castellan_sync_state (id integer NOT NULL PRIMARY KEY, policy_hash varchar(64) NOT NULL, \
         grants_generation bigint NOT NULL, catalog_generation bigint NOT NULL)".into(),
        // Which group each policy group name was last applied to: `sync` refuses a name that moved.
        "CREATE TABLE IF NOT EXISTS castellan_policy_group (name varchar(150) NOT NULL PRIMARY KEY, group_id bigint NOT NULL)".into(),
    ];
    match d {
        Dialect::Sqlite => {
            for t in WATCHED_TABLES {
                for op in ["INSERT", "UPDATE", "DELETE"] {
                    let name = format!("castellan_bump_{t}_{}", op.to_lowercase());
                    stmts.push(format!("DROP TRIGGER IF EXISTS {name}"));
                    stmts.push(format!(
                        "CREATE TRIGGER {name} AFTER {op} ON \"{t}\" BEGIN {}; END",
                        bump(t)
                    ));
                }
            }
        }
        Dialect::Postgres => {
            // Each also notifies the listeners of `StoreOptions::reuse_notified_reads`.
            stmts.push(
                "CREATE OR REPLACE FUNCTION castellan_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE castellan_generation SET value = value + 1 WHERE id = 1; PERFORM pg_notify('castellan_changes', 'g'); RETURN NULL; END $$".into(),
            );
            stmts.push(
                "CREATE OR REPLACE FUNCTION castellan_bump_catalog() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE castellan_generation SET value = value + 1; PERFORM pg_notify('castellan_changes', 'g'); RETURN NULL; END $$".into(),
            );
            stmts.extend(pg_notify_sql(users.table(), "id", "u"));
            if pool.table_exists("django_session").await? {
                stmts.extend(pg_notify_sql("django_session", "session_key", "s"));
            }
            for t in WATCHED_TABLES {
                let function = if CATALOG_TABLES.contains(&t) {
                    "castellan_bump_catalog"
                } else {
                    "castellan_bump"
                };
                stmts.push(format!("DROP TRIGGER IF EXISTS castellan_bump ON {t}"));
                stmts.push(format!(
                    "CREATE TRIGGER castellan_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
                ));
            }
        }
        Dialect::MySql => {
            for t in WATCHED_TABLES {
                for op in ["INSERT", "UPDATE", "DELETE"] {
                    let name = format!("castellan_bump_{t}_{}", op.to_lowercase());
                    stmts.push(format!("DROP TRIGGER IF EXISTS {name}"));
                    stmts.push(format!(
                        "CREATE TRIGGER {name} AFTER {op} ON `{t}` FOR EACH ROW {}",
                        bump(t)
                    ));
                }
            }
        }
    }
    // A model without `is_active` has no inactive users to index.
    stmts.extend(
        UserFlagIndex::ALL
            .into_iter()
            .filter(|i| *i != UserFlagIndex::Inactive || users.has_active_flag())
            .map(|i| i.create_sql(d)),
    );
    let mut tx = pool.begin().await?;
    for stmt in &stmts {
        tx.execute_once(stmt).await?;
    }
    for id in [1i64, 2] {
        let n = tx
            .fetch_one(&GENERATION_ROW_COUNT, &[id.into()])
            .await?
            .int("n")?;
        if n == 0 {
            tx.execute(&INSERT_GENERATION_ROW, &[id.into()]).await?;
        }
    }
    // Re-installed triggers may have missed writes: start new generations.
    tx.execute(&NEW_GENERATIONS, &[]).await?;
    tx.commit().await?;
    Ok(())
}

/// PostgreSQL: the function and triggers notifying a change of `table`'s rows (updated or
/// deleted: a new row cannot make a kept read stale) to `StoreOptions::reuse_notified_reads`'
/// listeners, as `PREFIX:KEY` with the row's `key_column`; more than [`NOTIFY_ROWS`] rows in one
/// statement, or a truncation, notify `*` (everything) instead of one notification per row.
pub(crate) fn pg_notify_sql(table: &str, key_column: &str, prefix: &str) -> Vec<String> {
    let q = Dialect::Postgres.quote(table);
    let function = format!("castellan_notify_{prefix}");
    let mut stmts = vec![
        "CREATE OR REPLACE FUNCTION castellan_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN PERFORM pg_notify('castellan_changes', '*'); RETURN NULL; END $$"
            .to_owned(),
        format!(
            "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ \
             DECLARE k text; BEGIN \
             IF (SELECT count(*) FROM (SELECT 1 FROM castellan_old LIMIT {over}) x) > {NOTIFY_ROWS} THEN \
             PERFORM pg_notify('castellan_changes', '*'); \
             ELSE FOR k IN SELECT {col}::text FROM castellan_old LOOP \
             PERFORM pg_notify('castellan_changes', '{prefix}:' || k); END LOOP; END IF; \
             RETURN NULL; END $$",
            over = NOTIFY_ROWS + 1,
            col = Dialect::Postgres.quote(key_column),
        ),
    ];
    for op in ["UPDATE", "DELETE"] {
        let name = format!("castellan_notify_{}", op.to_lowercase());
        stmts.push(format!("DROP TRIGGER IF EXISTS {name} ON {q}"));
        stmts.push(format!(
            "CREATE TRIGGER {name} AFTER {op} ON {q} REFERENCING OLD TABLE AS castellan_old \
             FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        ));
    }
    stmts.push(format!(
        "DROP TRIGGER IF EXISTS castellan_notify_truncate ON {q}"
    ));
    stmts.push(format!(
        "CREATE TRIGGER castellan_notify_truncate AFTER TRUNCATE ON {q} \
         FOR EACH STATEMENT EXECUTE FUNCTION castellan_notify_all()"
    ));
    stmts
}

/// Rows changed by one statement above which its notification says "everything".
const NOTIFY_ROWS: usize = 100;

/// The notifying triggers of [`pg_notify_sql`] on a table: on update, delete and truncate.
#[cfg(feature = "postgres")]
const NOTIFY_TRIGGERS_PER_TABLE: i64 = 3;

#[cfg(feature = "postgres")]
const NOTIFY_TRIGGER_COUNT: Sql = crate::sql!(
    "SELECT count(*) AS n FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
     WHERE t.tgname IN ('castellan_notify_update', 'castellan_notify_delete', 'castellan_notify_truncate') \
     AND NOT t.tgisinternal AND c.relname IN ($1, 'django_session')"
);
#[cfg(feature = "postgres")]
const NOTIFYING_BUMPS: Sql = crate::sql!(
    "SELECT count(*) AS n FROM pg_proc WHERE proname IN ('castellan_bump', 'castellan_bump_catalog') \
     AND prosrc LIKE '%pg_notify%'"
);

/// PostgreSQL: whether every trigger notifying `reuse_notified_reads`' listeners is in place
/// (on the user table, `django_session` and the generation triggers' functions). The generation
/// triggers themselves are [`castellan_objects_intact`]'s to check.
#[cfg(feature = "postgres")]
pub(crate) async fn notify_triggers_installed(pool: &Db, users: &UserSchema) -> Result<bool> {
    let triggers = pool
        .fetch_one(&NOTIFY_TRIGGER_COUNT, &[users.table().into()])
        .await?
        .int("n")?;
    let bumps = pool.fetch_one(&NOTIFYING_BUMPS, &[]).await?.int("n")?;
    Ok(triggers == 2 * NOTIFY_TRIGGERS_PER_TABLE && bumps == 2)
}

/// Whether the generation table and all its triggers are in place (a Django migration that rebuilds
/// an auth table on SQLite drops its triggers; then caching must stay off until `migrate` repairs them).
pub(crate) async fn castellan_objects_intact(pool: &Db) -> Result<bool> {
    if !pool.table_exists("castellan_generation").await? {
        return Ok(false);
    }
    if pool.fetch_one(&GENERATION_ROWS, &[]).await?.int("n")? != 2 {
        return Ok(false);
    }
    let expected = match pool.dialect() {
        Dialect::Sqlite | Dialect::MySql => WATCHED_TABLES.len() * 3,
        Dialect::Postgres => WATCHED_TABLES.len(),
    };
    let n = pool.fetch_one(&BUMP_TRIGGER_COUNT, &[]).await?.int("n")?;
    Ok(usize::try_from(n).unwrap_or(0) == expected)
}
