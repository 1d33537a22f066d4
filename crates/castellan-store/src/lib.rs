//! # castellan-store
//!
//! Castellan's persistence: Django's own `auth` and `contenttypes` tables on **SQLite** (embedded,
//! the default), **PostgreSQL** and **MariaDB/MySQL**, through sqlx. A database made by Django works
//! as it is; a database made by Castellan is one Django accepts (`migrate` finds nothing to do).
//!
//! It sits on `castellan-core` (whose types it fills) and below the web, admin and CLI crates.
//!
//! * [`Store::migrate`] creates Django's schema (exact DDL per database), or adopts an existing Django
//!   database, and adds Castellan's only own objects: `castellan_generation` and its triggers.
//! * [`Store::principal`] loads a user for permission checks: one query for the user row and the
//!   generation, plus one query for its permissions when they are not cached. The cache is dropped as
//!   soon as the generation moves — any write to the permission tables, by anyone, moves it — so a
//!   revocation is visible on the very next check, in every process.
//! * [`Store::session_with_user`] answers a logged-in request — the session, its user and their
//!   permissions — in one statement; on a SQLite file, in **none** while nothing was committed
//!   since: a dedicated synchronous connection reads `PRAGMA data_version`, which changes exactly
//!   when any other connection (this process, another one, Django, a shell) commits, so every
//!   change is still seen on the next request and an expired session is never served. On
//!   PostgreSQL, [`StoreOptions::reuse_notified_reads`] does the same with Castellan's
//!   notifying triggers, within a bounded, measured window.
//! * Users, groups and permissions are managed with methods that validate everything first and write
//!   in one transaction.
//! * [`sql`](mod@sql) is the SQL layer underneath, open to applications for their own tables in the same
//!   database ([`Store::db`]): statements are written once with PostgreSQL's placeholders (`$1`,
//!   `$2`, …), the `?` text of SQLite and MariaDB is derived at compile time by a lexer that knows
//!   literals and comments, placeholders are never rewritten at run time, and a statement with placeholders
//!   out of order does not compile.
//!
//! ## Features
//!
//! | feature | default | database |
//! |---|---|---|
//! | `sqlite` | yes | SQLite (embedded; Django's default) |
//! | `postgres` | no | PostgreSQL |
//! | `mysql` | no | MariaDB and MySQL |
//!
//! A URL whose driver is not compiled in is refused with [`Error::DriverMissing`], which names the
//! feature to turn on.
//!
//! ```no_run
//! # async fn demo() -> castellan_store::Result<()> {
//! use castellan_store::{NewUser, Store};
//!
//! let store = Store::connect("sqlite://castellan.sqlite3").await?;
//! store.migrate(&castellan_core::Registry::django()).await?;
//! store.create_group("Editors").await?;
//! store.grant_group("Editors", &["auth.change_user".into()]).await?;
//! store.create_user(NewUser::new("alice")).await?;
//! store.add_user_to_groups("alice", &["Editors".into()]).await?;
//! let alice = store.principal("alice").await?.expect("alice exists");
//! assert!(alice.has_perm("auth.change_user"));
//! # Ok(()) }
//! ```

mod audit;
mod authn;
mod backend;
mod bulk;
mod cache;
#[cfg(feature = "postgres")]
mod change_feed;
#[cfg(feature = "sqlite")]
mod data_version;
mod error;
mod explain;
mod grants;
mod group_edits;
mod groups;
mod like;
mod lookalike;
mod lookup;
mod matrix;
mod migrate;
mod object_holders;
mod object_perms;
mod object_tables;
mod perms;
mod principal;
mod reset;
mod retry;
mod rule_filter;
mod session_cache;
mod sessions;
pub mod sql;
#[cfg(test)]
mod statements;
mod sync;
mod transfer;
mod user_edits;
mod user_list;
mod user_schema;
mod users;
mod versions;
mod who_has;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use castellan_core::hashers::Hashers;
use castellan_core::{Registry, UserModel};
use tokio::sync::Semaphore;

pub use audit::{Actor, AuditEntry, AuditFilter};
pub use castellan_core::sync_plan::{
    GroupChange, PlannedPermission, ReboundGroup, RenamedPermission, SyncPlan,
};
pub use error::{Error, Result};
pub use groups::GroupDetail;
pub use matrix::{Matrix, MatrixColumn, MatrixRow, RowKind};
pub use migrate::{MigrateReport, DJANGO_MIGRATIONS};
pub use object_holders::{ObjectCapabilities, ObjectGrantList};
pub use object_perms::ObjectHolder;
pub use object_tables::ObjectTable;
pub use rule_filter::RuleFilter;
pub use sql::Dialect;
pub use sync::{SyncError, SyncOptions};
pub use transfer::{
    Export, ExportedGroup, ExportedPermission, ExportedUser, ImportReport, Progress, EXPORT_FORMAT,
};
pub use user_edits::{UserEdit, VersionedEdit};
pub use user_list::{UserPage, UserQuery, UserSort, USER_COUNT_CAP};
pub use user_schema::{ColumnKind, UserColumn, UserSchema};
pub use users::{NewUser, UserChanges};
pub use versions::{GroupState, UserState};
pub use who_has::WhoHasPage;

use cache::PermCache;
use sql::Db;

/// A connection to a Django-compatible database, with Castellan's permission cache.
///
/// Cloning is cheap and shares the pool and the cache.
#[derive(Clone)]
pub struct Store {
    /// The database, running the store's statements with the user model's names.
    db: Db,
    /// The same database as applications see it (no renames).
    app_db: Db,
    /// The database running statements on django-guardian's tables (their `user_id` stays).
    guardian_db: Db,
    users: Arc<UserSchema>,
    cache: Arc<PermCache>,
    caching: Arc<AtomicBool>,
    auditing: Arc<AtomicBool>,
    actor: Actor,
    hashers: Arc<Hashers>,
    hash_slots: Arc<Semaphore>,
    /// What says whether a session read may be reused: SQLite's data version on a dedicated
    /// connection (a file database), or PostgreSQL's notifications (when asked for).
    watch: Option<Arc<session_cache::Watch>>,
    /// Sessions with their users, reused while `watch` says nothing changed.
    sessions: Arc<session_cache::SessionCache>,
    /// Tables of models whose objects are not where Django's naming puts them.
    object_tables: Arc<Vec<((String, String), ObjectTable)>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.dialect())
            .field("caching", &self.caching())
            .finish_non_exhaustive()
    }
}

/// How to open a [`Store`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Maximum pooled connections (default 8).
    pub max_connections: u32,
    /// The password hashers (default: Django 6.1's list and parameters).
    pub hashers: Hashers,
    /// The model holding the users, Django's `AUTH_USER_MODEL` (default `auth.User`). For any
    /// other model the user table must exist (Django's migrations make it): opening the store
    /// reads its columns and fails with [`Error::UserModel`] when it does not fit.
    pub user_model: UserModel,
    /// On a SQLite file, serve a logged-in request's session, user and permissions from memory
    /// while `PRAGMA data_version` shows that no connection committed since they were read
    /// (default `true`): no statement per warm request, every change still seen on the next one.
    /// `false` reads them with one statement per request.
    pub reuse_unchanged_reads: bool,
    /// On PostgreSQL, serve a logged-in request's session, user and permissions from memory
    /// (no statement) while no notification of Castellan's triggers says they changed, for at
    /// most this long after they were read (default `None`: one statement per request, every
    /// change seen on the next one). A change is then enforced once its notification reached
    /// this process — milliseconds, measured in `docs/benchmarks.md` — and in any case after the
    /// bound; while the listening connection is down, every request reads the database. Needs
    /// the triggers `migrate` installs (without them nothing is reused, with a warning).
    pub reuse_notified_reads: Option<std::time::Duration>,
    /// The tables of models whose objects are not in `<app_label>_<model>` keyed by `id`
    /// (`Meta.db_table`, another primary key), for object permissions: `((app_label, model),
    /// table)`. See [`ObjectTable`].
    pub object_tables: Vec<((String, String), ObjectTable)>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            hashers: Hashers::django_default(),
            user_model: UserModel::django(),
            reuse_unchanged_reads: true,
            reuse_notified_reads: None,
            object_tables: Vec::new(),
        }
    }
}

/// What will tell whether a session read may be reused: SQLite's data version for a file
/// (unless turned off), PostgreSQL's notifications when asked for, else nothing.
#[allow(unused_variables)] // without the sqlite or postgres feature
fn session_watch(
    db: &Db,
    url: &str,
    options: &StoreOptions,
    kind: castellan_core::UserPk,
) -> Option<session_cache::Watch> {
    match db.dialect() {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite if options.reuse_unchanged_reads => {
            data_version::DataVersion::for_url(url).map(session_cache::Watch::DataVersion)
        }
        #[cfg(feature = "postgres")]
        Dialect::Postgres => {
            let max_age = options.reuse_notified_reads?;
            let pool = db.pg_pool()?.clone();
            Some(session_cache::Watch::Notified(
                change_feed::ChangeFeed::start(pool, kind, max_age),
            ))
        }
        _ => None,
    }
}

impl Store {
    /// Opens `url` (`sqlite://PATH`, `sqlite::memory:`, `postgres://…`, `mysql://…`, `mariadb://…`)
    /// with default options. An unreachable database is [`Error::Unavailable`].
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// Opens `url` with options.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Self> {
        let app_db = Db::connect(url, options.max_connections).await?;
        let users = UserSchema::discover(&app_db, &options.user_model).await?;
        let db = app_db.with_renames(users.renames());
        let guardian_db = app_db.with_renames(users.guardian_renames());
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let watch = session_watch(&db, url, &options, users.pk()).map(Arc::new);
        let store = Self {
            db,
            app_db,
            guardian_db,
            users: Arc::new(users),
            cache: Arc::default(),
            caching: Arc::new(AtomicBool::new(false)),
            auditing: Arc::new(AtomicBool::new(false)),
            actor: Actor::System,
            hashers: Arc::new(options.hashers),
            hash_slots: Arc::new(Semaphore::new(cores)),
            watch,
            sessions: Arc::default(),
            object_tables: Arc::new(options.object_tables),
        };
        store.refresh_caching().await?;
        Ok(store)
    }

    /// Whether a logged-in request's session, user and permissions are reused from memory now
    /// ([`StoreOptions::reuse_unchanged_reads`], [`StoreOptions::reuse_notified_reads`]): on
    /// PostgreSQL, waits up to `timeout` for the listening connection (a server calls this once
    /// at start-up to say which mode it runs in).
    pub async fn reusing_reads(&self, timeout: std::time::Duration) -> bool {
        let Some(watch) = self.watch.as_deref() else {
            return false;
        };
        #[cfg(feature = "postgres")]
        #[allow(irrefutable_let_patterns)] // with PostgreSQL alone
        if let session_cache::Watch::Notified(feed) = watch {
            feed.wait_listening(timeout).await;
        }
        let _ = timeout;
        self.caching() && watch.version().is_some()
    }

    /// The open database, for an application's own tables in the same database (one pool for
    /// both): statements through [`sql::Db`] are written once per dialect, never rewritten.
    #[allow(clippy::misnamed_getters)] // on purpose: `self.db` renames the store's own statements
    pub fn db(&self) -> &Db {
        &self.app_db
    }

    /// The user model and its tables as this database holds them.
    pub fn user_schema(&self) -> &UserSchema {
        &self.users
    }

    /// The database kind.
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// The password hashers in use.
    pub fn hashers(&self) -> &Hashers {
        &self.hashers
    }

    /// Whether cross-request permission caching is on: only when Castellan's generation table and
    /// every trigger are in place (so that no write can go unseen).
    pub fn caching(&self) -> bool {
        self.caching.load(Ordering::Acquire)
    }

    /// The same store (sharing pool and cache) acting as `actor`: its changes are audited under that name.
    pub fn with_actor(&self, actor: Actor) -> Self {
        let mut store = self.clone();
        store.actor = actor;
        store
    }

    /// Who this store's changes are attributed to.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Whether changes are recorded in the audit trail (Castellan's `migrate` installed it).
    pub fn auditing(&self) -> bool {
        self.auditing.load(Ordering::Acquire)
    }

    async fn refresh_caching(&self) -> Result<()> {
        let audit = self.db.table_exists("castellan_audit").await?;
        self.auditing.store(audit, Ordering::Release);
        let intact = migrate::castellan_objects_intact(&self.db).await?;
        if !intact && self.db.table_exists("castellan_generation").await? {
            tracing::warn!(
                "Castellan's generation triggers are missing or incomplete (a Django migration may have rebuilt an auth table); \
                 permission caching is off until `castellan migrate` repairs them"
            );
        }
        self.caching.store(intact, Ordering::Release);
        if !intact {
            self.cache.clear();
        }
        #[cfg(feature = "postgres")]
        #[allow(irrefutable_let_patterns)] // with PostgreSQL alone
        if let Some(session_cache::Watch::Notified(feed)) = self.watch.as_deref() {
            let installed =
                intact && migrate::notify_triggers_installed(&self.db, &self.users).await?;
            if !installed {
                tracing::warn!(
                    "Castellan's notifying triggers are missing: sessions are read from the database on every request until `castellan migrate` installs them"
                );
            }
            feed.set_triggers(installed);
        }
        Ok(())
    }

    /// Creates Django's schema on an empty database or adopts a Django one, installs Castellan's
    /// generation table and triggers, and creates the missing content types and permissions of
    /// `registry` (at least [`Registry::django`]). With a custom user model, `auth.User` is left
    /// out of `registry` ([`Registry::for_user_model`]), as Django leaves out a swapped model.
    pub async fn migrate(&self, registry: &Registry) -> Result<MigrateReport> {
        // A project with its own user model has no auth.User content type nor permissions.
        let registry = registry.for_user_model(self.users.model());
        let report = migrate::migrate(&self.db, &self.users, &registry).await?;
        self.refresh_caching().await?;
        self.cache.clear();
        Ok(report)
    }

    /// Whether the database holds Django's auth schema (made by Django or by [`Store::migrate`]).
    pub async fn is_migrated(&self) -> Result<bool> {
        Ok(matches!(
            migrate::django_state(&self.db).await,
            Ok(migrate::DjangoState::Complete)
        ))
    }

    /// Executes one raw SQL statement (no parameters) and returns the rows affected. For tests,
    /// tooling and administration (e.g. `CREATE DATABASE`); application code uses the typed methods.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        self.app_db.execute_raw(sql).await
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// Called after this process wrote: the triggers moved the generation anyway; dropping the cache
    /// now only saves the next check a lookup that would miss.
    fn after_write(&self) {
        self.cache.clear();
    }
}

/// Guides: longer walk-throughs than the API documentation. The SQL layer's guide is on
/// [`sql`](mod@crate::sql).
pub mod guide {
    #[doc = include_str!("docs/django.md")]
    pub mod django {}
}
