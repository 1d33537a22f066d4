//! Queries for the admin UI: a filtered, keyset-paginated user list that stays fast on large tables,
//! and versioned edits of a user's or a group's flags, memberships and permissions.
//!
//! A versioned edit carries the fingerprint ([`UserState::version`], [`GroupState::version`]) of the
//! state the editor was shown. The edit re-reads that state **inside its transaction**, after taking
//! a row lock (PostgreSQL and MariaDB: `FOR UPDATE`, rows locked in id order; SQLite transactions
//! are serialisable), and is refused with [`Error::Conflict`] when it moved: two admins editing the
//! same object cannot silently undo each other. Edits that would leave no active superuser are
//! refused with [`Error::Refused`] inside the same transaction, so nothing is written.
//!
//! SQLite starts them with `BEGIN IMMEDIATE`, taking the write lock first: two deferred
//! transactions that both read and then write make SQLite fail one at once with "database is
//! locked" (its busy timeout cannot wait out that deadlock), whereas immediate ones queue. Any
//! collision left (SQLite busy, a PostgreSQL deadlock, a MariaDB deadlock or lock wait timeout) is
//! retried a few times ([`Error::Busy`] after that, answered 409 by the admin, never 503).
//!
//! MariaDB/MySQL run these transactions at `READ COMMITTED`: at InnoDB's default `REPEATABLE READ`
//! a plain `SELECT` after a lock wait still reads the snapshot taken before the wait, so the
//! re-read would miss the change the lock was waiting for (and two concurrent demotions could
//! each count the other superuser). PostgreSQL's default is already `READ COMMITTED`.

use castellan_core::User;
use sha2::{Digest, Sha256};

use crate::audit::{audit, json};
use crate::error::{Error, Result};
use crate::lookalike::{refuse_lookalike, Names};
use crate::on_pool;
use crate::pool::{retry_busy, Dialect, RowExt};
use crate::sqlm::{change_perms, exact_id, exec, group_id, permission_rows, user_id, PermHolder};
use crate::users::{user_columns, user_from_row};
use crate::Store;

/// How many matching users a list counts at most (beyond that it says "more than").
pub const USER_COUNT_CAP: u64 = 10_000;

/// What the admin's user list asks for. `None` filters are not applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Case-insensitive substring of username, e-mail, first or last name.
    pub search: Option<String>,
    /// Only members of this group (exact name).
    pub group: Option<String>,
    /// Only users with this `is_active`.
    pub is_active: Option<bool>,
    /// Only users with this `is_staff`.
    pub is_staff: Option<bool>,
    /// Only users with this `is_superuser`.
    pub is_superuser: Option<bool>,
    /// Keyset cursor: only usernames after this one (the previous page's `next`).
    pub after: Option<String>,
    /// Page size (1–500; 0 means 100).
    pub limit: u32,
}

/// One page of [`Store::user_page`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    /// The users of this page, in username order.
    pub users: Vec<User>,
    /// The cursor for the next page, `None` on the last page.
    pub next: Option<String>,
    /// How many users match (all pages), at most [`USER_COUNT_CAP`].
    pub total: u64,
    /// Whether more than [`USER_COUNT_CAP`] users match.
    pub more_than_total: bool,
}

/// A user as the admin's edit page shows it, with the version an edit must quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserState {
    /// The user row.
    pub user: User,
    /// Group names, sorted.
    pub groups: Vec<String>,
    /// Direct permissions (`app_label.codename`), sorted.
    pub permissions: Vec<String>,
    /// Fingerprint of the flags, names, e-mail, groups and direct permissions.
    pub version: String,
}

/// A change to a user, as additions and removals. `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserEdit {
    /// New e-mail.
    pub email: Option<String>,
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New `is_active`.
    pub is_active: Option<bool>,
    /// New `is_staff`.
    pub is_staff: Option<bool>,
    /// New `is_superuser`.
    pub is_superuser: Option<bool>,
    /// Groups to join.
    pub add_groups: Vec<String>,
    /// Groups to leave.
    pub remove_groups: Vec<String>,
    /// Direct permissions to grant.
    pub grant: Vec<String>,
    /// Direct permissions to revoke.
    pub revoke: Vec<String>,
}

/// A group as the admin's edit page shows it, with the version an edit must quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    /// The group's name.
    pub name: String,
    /// Its permissions, sorted.
    pub permissions: Vec<String>,
    /// Its members' usernames, sorted.
    pub members: Vec<String>,
    /// Fingerprint of the name and the permissions.
    pub version: String,
}

/// The fingerprint of a list of strings (order-sensitive; callers pass sorted lists).
fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn user_version(u: &User, groups: &[String], perms: &[String]) -> String {
    let flags = format!(
        "{}{}{}",
        u8::from(u.is_active),
        u8::from(u.is_staff),
        u8::from(u.is_superuser)
    );
    let head = [
        flags.as_str(),
        u.email.as_str(),
        u.first_name.as_str(),
        u.last_name.as_str(),
        "groups",
    ];
    fingerprint(
        head.into_iter()
            .chain(groups.iter().map(String::as_str))
            .chain(["perms"])
            .chain(perms.iter().map(String::as_str)),
    )
}

fn group_version(name: &str, perms: &[String]) -> String {
    fingerprint([name].into_iter().chain(perms.iter().map(String::as_str)))
}

/// ` FOR UPDATE` where the database has it (SQLite's transactions are serialisable without it).
fn for_update(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "",
        _ => " FOR UPDATE",
    }
}

/// `LIKE` pattern for a substring search, with `!` as the escape character.
fn like_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Runs `$sql` (one `?`, bound to `$id`; selecting `app_label` and `codename`) on `$conn`: the
/// sorted, distinct permission names (`app_label.codename`).
macro_rules! perm_names {
    ($conn:expr, $sql:expr, $id:expr) => {{
        let mut perms = sqlx::query(&$sql)
            .bind($id)
            .fetch_all(&mut *$conn)
            .await?
            .iter()
            .map(|r| Ok(format!("{}.{}", r.text("app_label")?, r.text("codename")?)))
            .collect::<Result<Vec<_>>>()?;
        perms.sort();
        perms.dedup();
        perms
    }};
}

/// Reads the sorted group names and direct permissions of user `$uid` on `$conn`.
macro_rules! user_grants {
    ($conn:expr, $d:expr, $uid:expr) => {{
        let mut groups = sqlx::query(&$d.sql(
            "SELECT g.name AS name FROM auth_group g JOIN auth_user_groups ug ON ug.group_id = g.id WHERE ug.user_id = ?",
        ))
        .bind($uid)
        .fetch_all(&mut *$conn)
        .await?
        .iter()
        .map(|r| r.text("name"))
        .collect::<Result<Vec<_>>>()?;
        groups.sort();
        let perms = perm_names!(
            $conn,
            $d.sql(
                "SELECT ct.app_label AS app_label, p.codename AS codename FROM auth_user_user_permissions up \
                 JOIN auth_permission p ON p.id = up.permission_id \
                 JOIN django_content_type ct ON ct.id = p.content_type_id WHERE up.user_id = ?",
            ),
            $uid
        );
        (groups, perms)
    }};
}

/// Reads the sorted permission names of group `$gid` on `$conn`.
macro_rules! group_perms {
    ($conn:expr, $d:expr, $gid:expr) => {{
        perm_names!(
            $conn,
            $d.sql(
                "SELECT ct.app_label AS app_label, p.codename AS codename FROM auth_group_permissions gp \
                 JOIN auth_permission p ON p.id = gp.permission_id \
                 JOIN django_content_type ct ON ct.id = p.content_type_id WHERE gp.group_id = ?",
            ),
            $gid
        )
    }};
}

/// Begins a transaction for a versioned edit on pool `$p` (MariaDB/MySQL: `READ COMMITTED`;
/// SQLite: `BEGIN IMMEDIATE`; see the module doc). Binds the connection to `$conn` and the
/// transaction to `$tx`.
macro_rules! begin_edit {
    ($p:expr, $d:expr, $conn:ident, $tx:ident) => {
        let mut $conn = $p.acquire().await?;
        if $d == Dialect::MySql {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                .execute(&mut *$conn)
                .await?;
        }
        let mut $tx = if $d == Dialect::Sqlite {
            sqlx::Connection::begin_with(&mut *$conn, "BEGIN IMMEDIATE").await?
        } else {
            sqlx::Connection::begin(&mut *$conn).await?
        };
    };
}

/// Fails with [`Error::Refused`] when no active superuser is left (call after the change, inside
/// the transaction). A locking read: it sees the latest committed rows on every database.
macro_rules! ensure_superuser_left {
    ($conn:expr, $d:expr) => {{
        let left = sqlx::query(&format!(
            "SELECT id FROM auth_user WHERE is_superuser = {t} AND is_active = {t}{}",
            for_update($d),
            t = $d.true_lit()
        ))
        .fetch_all(&mut *$conn)
        .await?
        .len();
        if left == 0 {
            return Err(Error::Refused(
                "At least one active superuser must remain: make another user an active superuser first.".into(),
            ));
        }
    }};
}

/// Locks the rows of every active superuser (PostgreSQL, MariaDB) so that two concurrent edits
/// cannot each remove a different "other" superuser.
macro_rules! lock_superusers {
    ($conn:expr, $d:expr) => {{
        if $d != Dialect::Sqlite {
            sqlx::query(&format!(
                "SELECT id FROM auth_user WHERE is_superuser = {t} AND is_active = {t} ORDER BY id{}",
                for_update($d),
                t = $d.true_lit()
            ))
            .fetch_all(&mut *$conn)
            .await?;
        }
    }};
}

impl Store {
    /// One page of users matching `q`, in username order (keyset pagination on the unique
    /// `username` index), with a count capped at [`USER_COUNT_CAP`].
    pub async fn user_page(&self, q: &UserQuery) -> Result<UserPage> {
        let d = self.dialect();
        let limit = match q.limit {
            0 => 100,
            n => n.min(500),
        };
        let mut cond = String::from("1 = 1");
        let search = q
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(like_pattern);
        if search.is_some() {
            // PostgreSQL: one LIKE over the four columns joined by U+0001 (which no search
            // contains), both sides lower-cased: 2.2x faster than four ILIKEs on a 100k-user scan.
            // SQLite (LIKE is case-insensitive for ASCII; the concatenation was slower there) and
            // MariaDB/MySQL (case-insensitive through the column collation): one LIKE per column.
            cond.push_str(match d {
                Dialect::Postgres => {
                    " AND lower(u.username || chr(1) || u.email || chr(1) || u.first_name || chr(1) || u.last_name) \
                     LIKE ? ESCAPE '!'"
                }
                _ => {
                    " AND (u.username LIKE ? ESCAPE '!' OR u.email LIKE ? ESCAPE '!' \
                     OR u.first_name LIKE ? ESCAPE '!' OR u.last_name LIKE ? ESCAPE '!')"
                }
            });
        }
        // The group by its exact name (MariaDB's collation would match `helpdesk` to `Helpdesk`),
        // then its members as `u.id IN (…group_id = ?)`: the planner can drive the count from the
        // group's membership rows instead of probing every user (an `EXISTS` per user row made
        // the 100k-user count 90 ms on SQLite; see docs/benchmarks.md, "Admin user list").
        let group_id = match &q.group {
            Some(g) => {
                let found = on_pool!(&self.pool, p => {
                    exact_id!(p, d, "SELECT id, name FROM auth_group WHERE name = ?", g.as_str())
                });
                match found {
                    Some(id) => Some(id),
                    None => {
                        return Ok(UserPage {
                            users: Vec::new(),
                            next: None,
                            total: 0,
                            more_than_total: false,
                        })
                    }
                }
            }
            None => None,
        };
        if group_id.is_some() {
            cond.push_str(
                " AND u.id IN (SELECT ug.user_id FROM auth_user_groups ug WHERE ug.group_id = ?)",
            );
        }
        for (flag, col) in [
            (q.is_active, "is_active"),
            (q.is_staff, "is_staff"),
            (q.is_superuser, "is_superuser"),
        ] {
            if flag.is_some() {
                cond.push_str(&format!(" AND u.{col} = ?"));
            }
        }
        let page_sql = format!(
            "SELECT {} FROM auth_user u WHERE {cond}{} ORDER BY u.username LIMIT {}",
            user_columns(d),
            if q.after.is_some() {
                " AND u.username > ?"
            } else {
                ""
            },
            limit + 1
        );
        let count_sql = format!(
            "SELECT count(*) AS n FROM (SELECT 1 AS one FROM auth_user u WHERE {cond} LIMIT {}) t",
            USER_COUNT_CAP + 1
        );
        macro_rules! bind_filters {
            ($q:expr) => {{
                let mut q2 = $q;
                if let Some(s) = &search {
                    match d {
                        Dialect::Postgres => q2 = q2.bind(s.to_lowercase()),
                        _ => {
                            q2 = q2
                                .bind(s.clone())
                                .bind(s.clone())
                                .bind(s.clone())
                                .bind(s.clone())
                        }
                    }
                }
                if let Some(g) = group_id {
                    q2 = q2.bind(g);
                }
                for flag in [q.is_active, q.is_staff, q.is_superuser]
                    .into_iter()
                    .flatten()
                {
                    q2 = q2.bind(flag);
                }
                q2
            }};
        }
        let (mut users, count) = on_pool!(&self.pool, p => {
            let page_sql = d.sql(&page_sql);
            let mut query = bind_filters!(sqlx::query(&page_sql));
            if let Some(after) = &q.after {
                query = query.bind(after.clone());
            }
            let users = query
                .fetch_all(p)
                .await?
                .iter()
                .map(user_from_row)
                .collect::<Result<Vec<_>>>()?;
            // A first page that is also the last one counts itself: no second scan (a rare
            // search would otherwise read the whole table twice).
            let count = if q.after.is_none() && users.len() <= limit as usize {
                i64::try_from(users.len()).unwrap_or(i64::MAX)
            } else {
                let count_sql = d.sql(&count_sql);
                bind_filters!(sqlx::query(&count_sql)).fetch_one(p).await?.int("n")?
            };
            (users, count)
        });
        let has_more = users.len() > limit as usize;
        users.truncate(limit as usize);
        let next = if has_more {
            users.last().map(|u| u.username.clone())
        } else {
            None
        };
        let count = u64::try_from(count).unwrap_or(0);
        Ok(UserPage {
            users,
            next,
            total: count.min(USER_COUNT_CAP),
            more_than_total: count > USER_COUNT_CAP,
        })
    }

    /// A user with groups, direct permissions and the version an edit must quote (`None`: no such user).
    pub async fn user_state(&self, username: &str) -> Result<Option<UserState>> {
        let Some(user) = self.user(username).await? else {
            return Ok(None);
        };
        let d = self.dialect();
        let (groups, permissions) = on_pool!(&self.pool, p => {
            let mut conn = p.acquire().await?;
            user_grants!(conn, d, user.id)
        });
        let version = user_version(&user, &groups, &permissions);
        Ok(Some(UserState {
            user,
            groups,
            permissions,
            version,
        }))
    }

    /// Applies `edit` to `username` in one transaction if the user's state still has `version`
    /// ([`Error::Conflict`] otherwise) and at least one active superuser remains afterwards
    /// ([`Error::Refused`] otherwise). Every change is audited; on any error nothing is written.
    /// A transaction that collides with concurrent ones is tried again a few times
    /// ([`Error::Busy`] when every try collided).
    pub async fn apply_user_edit(
        &self,
        username: &str,
        version: &str,
        edit: &UserEdit,
    ) -> Result<UserState> {
        retry_busy(|| self.apply_user_edit_once(username, version, edit)).await
    }

    /// One try of [`Store::apply_user_edit`].
    async fn apply_user_edit_once(
        &self,
        username: &str,
        version: &str,
        edit: &UserEdit,
    ) -> Result<UserState> {
        use castellan_core::validators::{normalize_email, validate_email, validate_person_name};
        let email = edit.email.as_deref().map(normalize_email);
        if let Some(e) = &email {
            validate_email(e)?;
        }
        if let Some(v) = &edit.first_name {
            validate_person_name("first name", v)?;
        }
        if let Some(v) = &edit.last_name {
            validate_person_name("last name", v)?;
        }
        let d = self.dialect();
        let sql_user = format!(
            "SELECT {} FROM auth_user u WHERE u.id = ?{}",
            user_columns(d),
            for_update(d)
        );
        on_pool!(&self.pool, p => {
            begin_edit!(p, d, conn, tx);
            let uid = user_id!(&mut *tx, d, username);
            lock_superusers!(tx, d);
            let row = sqlx::query(&d.sql(&sql_user)).bind(uid).fetch_one(&mut *tx).await?;
            let user = user_from_row(&row)?;
            let (groups, perms) = user_grants!(tx, d, uid);
            let current = user_version(&user, &groups, &perms);
            if current != version {
                return Err(Error::Conflict(format!(
                    "User {username:?} was changed by someone else since you opened it; nothing was saved. Review its current state and apply your change again."
                )));
            }
            let before = serde_json::json!({
                "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
                "is_staff": user.is_staff, "is_superuser": user.is_superuser, "is_active": user.is_active,
            });
            let mut after = serde_json::Map::new();
            let mut changed_flags = false;
            for (value, col, old) in [
                (edit.is_active, "is_active", user.is_active),
                (edit.is_staff, "is_staff", user.is_staff),
                (edit.is_superuser, "is_superuser", user.is_superuser),
            ] {
                if let Some(v) = value.filter(|v| *v != old) {
                    exec!(&mut *tx, d, &format!("UPDATE auth_user SET {col} = ? WHERE id = ?"), v, uid);
                    after.insert(col.to_owned(), v.into());
                    changed_flags = true;
                }
            }
            for (value, col, old) in [
                (email.as_ref(), "email", &user.email),
                (edit.first_name.as_ref(), "first_name", &user.first_name),
                (edit.last_name.as_ref(), "last_name", &user.last_name),
            ] {
                if let Some(v) = value.filter(|v| *v != old) {
                    exec!(&mut *tx, d, &format!("UPDATE auth_user SET {col} = ? WHERE id = ?"), v.as_str(), uid);
                    after.insert(col.to_owned(), v.clone().into());
                    changed_flags = true;
                }
            }
            if changed_flags {
                audit!(&mut *tx, self, "user.update", "user", username, json(&before), json(&after));
            }
            for g in &edit.add_groups {
                if groups.contains(g) {
                    continue;
                }
                let gid = group_id!(&mut *tx, d, g.as_str());
                exec!(&mut *tx, d, "INSERT INTO auth_user_groups (user_id, group_id) VALUES (?, ?)", uid, gid);
                audit!(&mut *tx, self, "user.add_group", "user", username, None, json(&serde_json::json!({ "group": g })));
            }
            for g in &edit.remove_groups {
                let gid = group_id!(&mut *tx, d, g.as_str());
                if exec!(&mut *tx, d, "DELETE FROM auth_user_groups WHERE user_id = ? AND group_id = ?", uid, gid) > 0 {
                    audit!(&mut *tx, self, "user.remove_group", "user", username, json(&serde_json::json!({ "group": g })), None);
                }
            }
            change_perms!(tx, d, self, PermHolder::User, uid, username, &edit.grant, &edit.revoke);
            ensure_superuser_left!(tx, d);
            tx.commit().await?;
        });
        self.after_write();
        self.user_state(username)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "user",
                name: username.to_owned(),
            })
    }

    /// Deletes a user (with memberships and direct permissions), refusing when that would leave no
    /// active superuser. Audited; on error nothing is written. A transaction that collides with
    /// concurrent ones is tried again a few times ([`Error::Busy`] when every try collided).
    pub async fn delete_user_keeping_superuser(&self, username: &str) -> Result<()> {
        retry_busy(|| self.delete_user_keeping_superuser_once(username)).await
    }

    /// One try of [`Store::delete_user_keeping_superuser`].
    async fn delete_user_keeping_superuser_once(&self, username: &str) -> Result<()> {
        let d = self.dialect();
        let before = self.user(username).await?.map(|u| {
            serde_json::json!({
                "email": u.email, "is_staff": u.is_staff, "is_superuser": u.is_superuser, "is_active": u.is_active,
            })
            .to_string()
        });
        on_pool!(&self.pool, p => {
            begin_edit!(p, d, conn, tx);
            let id = user_id!(&mut *tx, d, username);
            lock_superusers!(tx, d);
            audit!(&mut *tx, self, "user.delete", "user", username, before.clone(), None);
            exec!(&mut *tx, d, "DELETE FROM auth_user_groups WHERE user_id = ?", id);
            exec!(&mut *tx, d, "DELETE FROM auth_user_user_permissions WHERE user_id = ?", id);
            exec!(&mut *tx, d, "DELETE FROM auth_user WHERE id = ?", id);
            ensure_superuser_left!(tx, d);
            tx.commit().await?;
        });
        self.after_write();
        Ok(())
    }

    /// A group with permissions, members and the version an edit must quote (`None`: no such group).
    pub async fn group_state(&self, name: &str) -> Result<Option<GroupState>> {
        let detail = match self.group_detail(name).await {
            Ok(d) => d,
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let version = group_version(&detail.name, &detail.permissions);
        Ok(Some(GroupState {
            name: detail.name,
            permissions: detail.permissions,
            members: detail.members,
            version,
        }))
    }

    /// Grants and revokes group permissions in one transaction if the group still has `version`
    /// ([`Error::Conflict`] otherwise). Audited; on any error nothing is written.
    pub async fn apply_group_edit(
        &self,
        name: &str,
        version: &str,
        grant: &[String],
        revoke: &[String],
    ) -> Result<GroupState> {
        let d = self.dialect();
        let lock = format!("SELECT id FROM auth_group WHERE id = ?{}", for_update(d));
        on_pool!(&self.pool, p => {
            begin_edit!(p, d, conn, tx);
            let gid = group_id!(&mut *tx, d, name);
            sqlx::query(&d.sql(&lock)).bind(gid).fetch_all(&mut *tx).await?;
            let perms = group_perms!(tx, d, gid);
            if group_version(name, &perms) != version {
                return Err(Error::Conflict(format!(
                    "Group {name:?} was changed by someone else since you opened it; nothing was saved. Review its current permissions and apply your change again."
                )));
            }
            change_perms!(tx, d, self, PermHolder::Group, gid, name, grant, revoke);
            tx.commit().await?;
        });
        self.after_write();
        self.group_state(name)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "group",
                name: name.to_owned(),
            })
    }

    /// Adds users to and removes users from group `name` in one transaction, if the group still
    /// has `version` and every touched user still has the version in `user_versions` (the state
    /// the caller checked its rules on; [`Error::Conflict`] otherwise). The group row and then the
    /// users' rows (in id order) are locked first. Each membership change is audited on the user
    /// (`user.add_group` / `user.remove_group`, as on the user page); on any error nothing is
    /// written. Adding a member or removing a non-member is a no-op.
    pub async fn apply_group_members(
        &self,
        name: &str,
        version: &str,
        add: &[String],
        remove: &[String],
        user_versions: &[(String, String)],
    ) -> Result<GroupState> {
        let d = self.dialect();
        let lock_group = format!("SELECT id FROM auth_group WHERE id = ?{}", for_update(d));
        let lock_user = format!(
            "SELECT {} FROM auth_user u WHERE u.id = ?{}",
            user_columns(d),
            for_update(d)
        );
        let stale = |what: String| {
            Error::Conflict(format!(
                "{what} was changed by someone else since you opened the group {name:?}; nothing was saved. Review the current state and apply your change again."
            ))
        };
        on_pool!(&self.pool, p => {
            begin_edit!(p, d, conn, tx);
            let gid = group_id!(&mut *tx, d, name);
            sqlx::query(&d.sql(&lock_group)).bind(gid).fetch_all(&mut *tx).await?;
            let perms = group_perms!(tx, d, gid);
            if group_version(name, &perms) != version {
                return Err(stale(format!("Group {name:?}")));
            }
            let mut touched: Vec<(i64, &str, bool)> = Vec::new();
            for (list, adding) in [(add, true), (remove, false)] {
                for u in list {
                    let uid = user_id!(&mut *tx, d, u.as_str());
                    if !touched.iter().any(|(id, _, _)| *id == uid) {
                        touched.push((uid, u.as_str(), adding));
                    }
                }
            }
            touched.sort_by_key(|(id, _, _)| *id);
            for (uid, username, adding) in &touched {
                let row = sqlx::query(&d.sql(&lock_user)).bind(*uid).fetch_one(&mut *tx).await?;
                let user = user_from_row(&row)?;
                let (groups, uperms) = user_grants!(tx, d, *uid);
                let expected = user_versions
                    .iter()
                    .find(|(n, _)| n == username)
                    .map(|(_, v)| v.as_str());
                if expected != Some(user_version(&user, &groups, &uperms).as_str()) {
                    return Err(stale(format!("User {username:?}")));
                }
                let member = groups.iter().any(|g| g == name);
                let change = json(&serde_json::json!({ "group": name }));
                if *adding && !member {
                    exec!(&mut *tx, d, "INSERT INTO auth_user_groups (user_id, group_id) VALUES (?, ?)", *uid, gid);
                    audit!(&mut *tx, self, "user.add_group", "user", *username, None, change);
                } else if !*adding && member {
                    exec!(&mut *tx, d, "DELETE FROM auth_user_groups WHERE user_id = ? AND group_id = ?", *uid, gid);
                    audit!(&mut *tx, self, "user.remove_group", "user", *username, change, None);
                }
            }
            tx.commit().await?;
        });
        self.after_write();
        self.group_state(name)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "group",
                name: name.to_owned(),
            })
    }

    /// Renames group `old` to `new` in one transaction if the group still has `version` (the state
    /// the caller checked its rules on; [`Error::Conflict`] otherwise). Audited; refused as
    /// [`Store::rename_group`] refuses (a taken or look-alike name).
    pub async fn rename_group_at_version(&self, old: &str, new: &str, version: &str) -> Result<()> {
        self.rename_group_checked(old, new, Some(version)).await
    }

    /// Renames group `old` to `new`, if given only when the group still has `version`: the one
    /// body of [`Store::rename_group`] and [`Store::rename_group_at_version`].
    pub(crate) async fn rename_group_checked(
        &self,
        old: &str,
        new: &str,
        version: Option<&str>,
    ) -> Result<()> {
        castellan_core::validators::validate_group_name(new)?;
        let d = self.dialect();
        let lock = format!("SELECT id FROM auth_group WHERE id = ?{}", for_update(d));
        on_pool!(&self.pool, p => {
            begin_edit!(p, d, conn, tx);
            let gid = group_id!(&mut *tx, d, old);
            sqlx::query(&d.sql(&lock)).bind(gid).fetch_all(&mut *tx).await?;
            if let Some(version) = version {
                let perms = group_perms!(tx, d, gid);
                if group_version(old, &perms) != version {
                    return Err(group_stale(old));
                }
            }
            if old != new && exact_id!(&mut *tx, d, "SELECT id, name FROM auth_group WHERE name = ?", new).is_some() {
                return Err(Error::AlreadyExists {
                    what: "group",
                    message: format!("Group with this Name already exists: {new:?}."),
                });
            }
            refuse_lookalike!(&mut *tx, d, Names::Groups, new, Some(gid));
            exec!(&mut *tx, d, "UPDATE auth_group SET name = ? WHERE id = ?", new, gid);
            audit!(&mut *tx, self, "group.rename", "group", new,
                json(&serde_json::json!({ "name": old })), json(&serde_json::json!({ "name": new })));
            tx.commit().await?;
        });
        self.after_write();
        Ok(())
    }

    /// Deletes group `name` with its grants and memberships in one transaction if the group still
    /// has `version` ([`Error::Conflict`] otherwise). Audited with what it held.
    pub async fn delete_group_at_version(&self, name: &str, version: &str) -> Result<()> {
        self.delete_group_checked(name, Some(version)).await
    }

    /// Deletes group `name`, if given only when the group still has `version`: the one body of
    /// [`Store::delete_group`] and [`Store::delete_group_at_version`].
    pub(crate) async fn delete_group_checked(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<()> {
        let d = self.dialect();
        let before = self.group_detail(name).await.ok().and_then(|g| json(&g));
        let lock = format!("SELECT id FROM auth_group WHERE id = ?{}", for_update(d));
        on_pool!(&self.pool, p => {
            begin_edit!(p, d, conn, tx);
            let gid = group_id!(&mut *tx, d, name);
            sqlx::query(&d.sql(&lock)).bind(gid).fetch_all(&mut *tx).await?;
            if let Some(version) = version {
                let perms = group_perms!(tx, d, gid);
                if group_version(name, &perms) != version {
                    return Err(group_stale(name));
                }
            }
            audit!(&mut *tx, self, "group.delete", "group", name, before.clone(), None);
            exec!(&mut *tx, d, "DELETE FROM auth_group_permissions WHERE group_id = ?", gid);
            exec!(&mut *tx, d, "DELETE FROM auth_user_groups WHERE group_id = ?", gid);
            exec!(&mut *tx, d, "DELETE FROM auth_group WHERE id = ?", gid);
            tx.commit().await?;
        });
        self.after_write();
        Ok(())
    }

    /// Sets (`Some`) or makes unusable (`None`) `username`'s password if the user still has
    /// `version` (the state the caller checked its rules on; [`Error::Conflict`] otherwise), so a
    /// user made stronger meanwhile cannot be taken over. Audited (without the hash).
    pub async fn set_password_at_version(
        &self,
        username: &str,
        raw: Option<&str>,
        version: &str,
    ) -> Result<()> {
        let encoded = self.hash_password(raw.map(str::to_owned)).await?;
        let d = self.dialect();
        let lock_user = format!(
            "SELECT {} FROM auth_user u WHERE u.id = ?{}",
            user_columns(d),
            for_update(d)
        );
        on_pool!(&self.pool, p => {
            begin_edit!(p, d, conn, tx);
            let uid = user_id!(&mut *tx, d, username);
            let row = sqlx::query(&d.sql(&lock_user)).bind(uid).fetch_one(&mut *tx).await?;
            let user = user_from_row(&row)?;
            let (groups, uperms) = user_grants!(tx, d, uid);
            if user_version(&user, &groups, &uperms) != version {
                return Err(Error::Conflict(format!(
                    "User {username:?} was changed by someone else since you opened it; the password was not changed. Review the user and try again."
                )));
            }
            exec!(&mut *tx, d, "UPDATE auth_user SET password = ? WHERE id = ?", &encoded, uid);
            audit!(&mut *tx, self, "user.set_password", "user", username, None,
                json(&serde_json::json!({ "has_usable_password": raw.is_some() })));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every group with its permission names, sorted by group name (for the "group ⊆ what you hold"
    /// check and the user page's provenance). Two queries.
    pub async fn groups_with_permissions(&self) -> Result<Vec<(String, Vec<String>)>> {
        let rows: Vec<(String, Option<String>)> = on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT g.name AS name, ct.app_label AS app_label, p.codename AS codename FROM auth_group g \
                 LEFT JOIN auth_group_permissions gp ON gp.group_id = g.id \
                 LEFT JOIN auth_permission p ON p.id = gp.permission_id \
                 LEFT JOIN django_content_type ct ON ct.id = p.content_type_id",
            )
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| {
                let perm = match (r.opt_text("app_label")?, r.opt_text("codename")?) {
                    (Some(a), Some(c)) => Some(format!("{a}.{c}")),
                    _ => None,
                };
                Ok((r.text("name")?, perm))
            })
            .collect::<Result<Vec<_>>>()?
        });
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (g, perm) in rows {
            let entry = out.entry(g).or_default();
            if let Some(p) = perm {
                entry.push(p);
            }
        }
        Ok(out
            .into_iter()
            .map(|(g, mut perms)| {
                perms.sort();
                perms.dedup();
                (g, perms)
            })
            .collect())
    }
}

/// The conflict of a group edited since the caller read it.
fn group_stale(name: &str) -> Error {
    Error::Conflict(format!(
        "Group {name:?} was changed by someone else since you opened it; nothing was saved. Review its current state and apply your change again."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("a%b_c!"), "%a!%b!_c!!%");
    }

    #[test]
    fn fingerprints_separate_parts() {
        assert_ne!(fingerprint(["ab", "c"]), fingerprint(["a", "bc"]));
        assert_eq!(fingerprint(["x"]), fingerprint(["x"]));
    }
}
