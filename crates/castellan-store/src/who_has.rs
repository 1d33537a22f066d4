//! "Who can do X?" — Django's `User.objects.with_perm` — for large databases.
//!
//! [`Store::with_perm`] lists the holders' usernames; [`Store::with_perm_ids`], [`Store::with_perm_count`], [`Store::with_perm_page`] and
//! [`Store::with_perm_each`] answer `with_perm` without collecting a million usernames:
//! * ids and counts never read a user row. One query reads four id sets from indexes — the direct
//!   and group grants of the permission (Django's `permission_id` and `group_id` indexes), the
//!   superusers and the inactive users (Castellan's small `auth_user` indexes, `UserFlagIndex`) —
//!   and [`HolderIds::resolve`] combines them in memory;
//! * a page walks Django's unique `username` index and stops after `limit` holders;
//! * a stream reads the holders' usernames (on SQLite by the ids above, in one row).
//!
//! Pages and streams order by username in byte order — the order of Rust's `String` — in every
//! dialect (the pattern operators `~<~`/`~>~` on PostgreSQL, `BINARY` on MariaDB, SQLite's default
//! `BINARY`), so cursors compare the same way on both sides.

use castellan_core::{Backends, HolderIds, PermObject, UserId, UserPk, WithPerm};

use crate::error::Result;
use crate::migrate::UserFlagIndex;
use crate::sql::{Arg, Dialect, Row, SqlText};
use crate::Store;

/// One page of [`Store::with_perm_page`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WhoHasPage {
    /// The usernames of this page, in byte order.
    pub usernames: Vec<String>,
    /// The cursor for the next page (the last username of this one), `None` on the last page.
    pub next: Option<String>,
}

/// How the `with_perm` condition reaches the users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// From the permission to its holders: the ids of direct grants and of members of granting
    /// groups (Django's `permission_id` and `group_id` indexes), then one primary-key lookup per
    /// holder. Best when every holder's username is read (the PostgreSQL and MariaDB stream).
    FromPermission,
    /// Walk users in username byte order (an index in that order: SQLite's and MariaDB's on
    /// `username`, PostgreSQL's `varchar_pattern_ops` one) and test each with two indexed `EXISTS`
    /// probes. Best for a short page: it stops after `limit` holders.
    Exists,
}

/// Appends the ids of the permission rows `args` names. Binds: codename, app label.
fn push_perm_ids(sql: &mut SqlText) {
    sql.push(
        "SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id WHERE ",
    )
    .exact("p.codename")
    .push(" AND ")
    .exact("ct.app_label");
}

/// Appends the `WHERE` condition of `with_perm`. Binds: codename, app label, codename, app label
/// (then `is_active` when filtered).
fn push_with_perm_condition(sql: &mut SqlText, args: &WithPerm, shape: Shape) {
    let d = sql.dialect();
    match shape {
        Shape::FromPermission => {
            // UNION ALL: `IN` ignores duplicates, and skipping the de-duplication is cheaper.
            sql.push("u.id IN (SELECT up.user_id FROM auth_user_user_permissions up WHERE up.permission_id IN (");
            push_perm_ids(sql);
            sql.push(
                ") UNION ALL SELECT ug.user_id FROM auth_user_groups ug WHERE ug.group_id IN \
                 (SELECT gp.group_id FROM auth_group_permissions gp WHERE gp.permission_id IN (",
            );
            push_perm_ids(sql);
            sql.push("))");
            if args.include_superusers {
                sql.push(" UNION ALL SELECT su.id FROM auth_user su WHERE ")
                    .push(&UserFlagIndex::Superusers.condition(d, "su."));
            }
            sql.push(")");
        }
        Shape::Exists => {
            sql.push(
                "((EXISTS (SELECT 1 FROM auth_user_user_permissions up WHERE up.user_id = u.id \
                 AND up.permission_id IN (",
            );
            push_perm_ids(sql);
            sql.push(
                ")) OR EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group_permissions gp \
                 ON gp.group_id = ug.group_id WHERE ug.user_id = u.id AND gp.permission_id IN (",
            );
            push_perm_ids(sql);
            sql.push(")))");
            if args.include_superusers {
                sql.push(" OR u.is_superuser = TRUE");
            }
            sql.push(")");
        }
    }
    if args.is_active.is_some() {
        sql.push(" AND u.is_active = ").param();
    }
}

/// `u.username` compared and ordered in byte order (Rust's `String` order) in each dialect:
/// `(text before the cursor's placeholder, text after it, ORDER BY …)`. On PostgreSQL the byte-wise
/// operators `~>~`/`~<~` of `varchar_pattern_ops` let the planner walk Django's own
/// `auth_user_username_…_like` index in order; `COLLATE "C"` gives the same order but no index
/// (unless the database's collation is `C`), so a first page sorted the whole table (1M users:
/// 320 ms, against 14 ms).
fn username_bytewise(d: Dialect) -> (&'static str, &'static str, &'static str) {
    match d {
        Dialect::Sqlite => ("u.username > ", "", "u.username"),
        Dialect::Postgres => ("u.username ~>~ ", "", "u.username USING ~<~"),
        Dialect::MySql => (
            "CAST(u.username AS BINARY) > CAST(",
            " AS BINARY)",
            "CAST(u.username AS BINARY)",
        ),
    }
}

/// The `with_perm` query, paged (`limit`) or whole, after a cursor or not, and its arguments.
pub(crate) fn with_perm_sql<'a>(
    d: Dialect,
    args: &'a WithPerm,
    after: Option<&'a str>,
    limit: Option<i64>,
) -> (SqlText, Vec<Arg<'a>>) {
    let shape = if limit.is_some() {
        Shape::Exists
    } else {
        Shape::FromPermission
    };
    let mut sql = SqlText::new(d);
    sql.push("SELECT u.username AS username FROM auth_user u WHERE ");
    push_with_perm_condition(&mut sql, args, shape);
    let mut binds = perm_args(args);
    if let Some(active) = args.is_active {
        binds.push(active.into());
    }
    let (cursor_before, cursor_after, order) = username_bytewise(d);
    if let Some(after) = after {
        sql.push(" AND ")
            .push(cursor_before)
            .param()
            .push(cursor_after);
        binds.push(after.into());
    }
    sql.push(" ORDER BY ").push(order);
    if let Some(limit) = limit {
        sql.push(" LIMIT ").param();
        binds.push(limit.into());
    }
    (sql, binds)
}

/// Codename and app label, twice: the arguments of two [`push_perm_ids`].
fn perm_args(args: &WithPerm) -> Vec<Arg<'_>> {
    vec![
        args.codename.as_str().into(),
        args.app_label.as_str().into(),
        args.codename.as_str().into(),
        args.app_label.as_str().into(),
    ]
}

impl Store {
    /// `User.objects.with_perm(...)` with the model backend: the usernames (sorted) of users holding the
    /// permission directly or through a group, plus superusers when asked, filtered on `is_active`.
    pub async fn with_perm(&self, args: &WithPerm) -> Result<Vec<String>> {
        let mut sql = SqlText::new(self.dialect());
        sql.push(
            "SELECT u.username AS username FROM auth_user u WHERE ((EXISTS (SELECT 1 FROM auth_user_user_permissions up \
             JOIN auth_permission p ON p.id = up.permission_id \
             JOIN django_content_type ct ON ct.id = p.content_type_id WHERE up.user_id = u.id AND ",
        )
        .exact("p.codename")
        .push(" AND ")
        .exact("ct.app_label")
        .push(
            ") OR EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group_permissions gp ON gp.group_id = ug.group_id \
             JOIN auth_permission p ON p.id = gp.permission_id JOIN django_content_type ct ON ct.id = p.content_type_id \
             WHERE ug.user_id = u.id AND ",
        )
        .exact("p.codename")
        .push(" AND ")
        .exact("ct.app_label")
        .push("))");
        if args.include_superusers {
            sql.push(" OR u.is_superuser = TRUE");
        }
        sql.push(")");
        let mut binds: Vec<Arg<'_>> = vec![
            args.codename.as_str().into(),
            args.app_label.as_str().into(),
            args.codename.as_str().into(),
            args.app_label.as_str().into(),
        ];
        if let Some(active) = args.is_active {
            sql.push(" AND u.is_active = ").param();
            binds.push(active.into());
        }
        let mut names = self
            .db
            .fetch_all(&sql, &binds)
            .await?
            .iter()
            .map(|r| r.text("username"))
            .collect::<Result<Vec<_>>>()?;
        names.sort();
        Ok(names)
    }

    /// `User.objects.with_perm(perm, is_active, include_superusers, backend, obj)` through a backend
    /// chain, with Django's rules for choosing the backend: the named one, or the only one (several and
    /// none named is an error). A backend without `with_perm`, or an object argument with the model
    /// backend, gives no users.
    pub async fn with_perm_in(
        &self,
        backends: &Backends,
        backend: Option<&str>,
        args: &WithPerm,
        obj: Option<&dyn PermObject>,
    ) -> Result<Vec<String>> {
        match backends.with_perm_backend(backend)? {
            Some(_) if obj.is_none() => self.with_perm(args).await,
            _ => Ok(Vec::new()),
        }
    }

    /// How many users [`Store::with_perm`] would return: the length of [`Store::with_perm_ids`].
    pub async fn with_perm_count(&self, args: &WithPerm) -> Result<u64> {
        let n = match self.users.pk() {
            UserPk::Integer => self.holder_ids::<i64>(args).await?.resolve(args).len(),
            UserPk::Uuid => self.holder_ids::<u128>(args).await?.resolve(args).len(),
        };
        Ok(u64::try_from(n).unwrap_or(u64::MAX))
    }

    /// The ids of the users [`Store::with_perm`] would return, ascending. One query, answered from
    /// indexes only: the holders from the grant tables (Django's `permission_id` and `group_id`
    /// indexes), the superusers and the inactive users from Castellan's two small indexes on
    /// `auth_user` (`UserFlagIndex`), each set read as one aggregated value and combined by
    /// [`HolderIds::resolve`] — no user row is read, however many users there are.
    pub async fn with_perm_ids(&self, args: &WithPerm) -> Result<Vec<UserId>> {
        Ok(match self.users.pk() {
            UserPk::Integer => ids(self.holder_ids::<i64>(args).await?.resolve(args)),
            UserPk::Uuid => ids(self.holder_ids::<u128>(args).await?.resolve(args)),
        })
    }

    /// One page of [`Store::with_perm`]: at most `limit` usernames greater than `after` (in byte
    /// order), and the cursor of the next page. Concatenated pages equal the unpaged list.
    pub async fn with_perm_page(
        &self,
        args: &WithPerm,
        after: Option<&str>,
        limit: usize,
    ) -> Result<WhoHasPage> {
        // One more row than asked tells whether a next page exists.
        let fetch = i64::try_from(limit)
            .unwrap_or(i64::MAX - 1)
            .saturating_add(1);
        let (sql, binds) = with_perm_sql(self.dialect(), args, after, Some(fetch));
        let mut usernames = self
            .db
            .fetch_all(&sql, &binds)
            .await?
            .iter()
            .map(|r| r.text("username"))
            .collect::<Result<Vec<_>>>()?;
        let next = if usernames.len() > limit {
            usernames.truncate(limit);
            usernames.last().cloned()
        } else {
            None
        };
        Ok(WhoHasPage { usernames, next })
    }

    /// Streams [`Store::with_perm`]'s usernames after `after` (all when `None`), in byte order, to
    /// `each`. Returns how many were passed. An error from `each` stops the stream and is returned.
    ///
    /// PostgreSQL and MariaDB pass the rows on as they arrive, without collecting them. SQLite reads
    /// them all at once, as one JSON array (about 2 × their total length in memory), because sqlx's
    /// per-row hand-off would cost more than the query itself.
    pub async fn with_perm_each(
        &self,
        args: &WithPerm,
        after: Option<&str>,
        mut each: impl FnMut(&str) -> Result<()>,
    ) -> Result<u64> {
        let d = self.dialect();
        if d == Dialect::Sqlite {
            return match self.users.pk() {
                UserPk::Integer => self.with_perm_each_sqlite::<i64>(args, after, each).await,
                UserPk::Uuid => self.with_perm_each_sqlite::<u128>(args, after, each).await,
            };
        }
        let (sql, binds) = with_perm_sql(d, args, after, None);
        let mut n = 0;
        self.db
            .fetch_each(&sql, &binds, |row| {
                each(&row.text("username")?)?;
                n += 1;
                Ok(true)
            })
            .await?;
        Ok(n)
    }
}

/// The four [`HolderIds`] sets, in the order direct, via groups, superusers, inactive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HolderSet {
    Direct,
    ViaGroups,
    Superusers,
    Inactive,
}

impl HolderSet {
    const ALL: [Self; 4] = [
        Self::Direct,
        Self::ViaGroups,
        Self::Superusers,
        Self::Inactive,
    ];

    /// The column of the aggregated query.
    fn column(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::ViaGroups => "via_groups",
            Self::Superusers => "superusers",
            Self::Inactive => "inactive",
        }
    }

    /// Whether `args` needs this set.
    fn needed(self, args: &WithPerm) -> bool {
        let (superusers, inactive) = HolderIds::needs(args);
        match self {
            Self::Direct | Self::ViaGroups => true,
            Self::Superusers => superusers,
            Self::Inactive => inactive,
        }
    }

    /// The id expression of the set.
    fn id(self) -> &'static str {
        match self {
            Self::Direct => "up.user_id",
            Self::ViaGroups => "ug.user_id",
            Self::Superusers | Self::Inactive => "f.id",
        }
    }

    /// Appends `FROM … WHERE …` of the set. Binds codename and app label for the first two.
    fn push_from(self, sql: &mut SqlText) {
        let d = sql.dialect();
        match self {
            Self::Direct => {
                sql.push("FROM auth_user_user_permissions up WHERE up.permission_id IN (");
                push_perm_ids(sql);
                sql.push(")");
            }
            Self::ViaGroups => {
                sql.push(
                    "FROM auth_user_groups ug WHERE ug.group_id IN \
                     (SELECT gp.group_id FROM auth_group_permissions gp WHERE gp.permission_id IN (",
                );
                push_perm_ids(sql);
                sql.push("))");
            }
            Self::Superusers => {
                sql.push("FROM auth_user f WHERE ")
                    .push(&UserFlagIndex::Superusers.condition(d, "f."));
            }
            Self::Inactive => {
                sql.push("FROM auth_user f WHERE ")
                    .push(&UserFlagIndex::Inactive.condition(d, "f."));
            }
        }
    }
}

/// A user key as the `with_perm` sets hold it: `i64` for integer keys, `u128` for UUIDs (16
/// bytes, where a [`UserId`] takes 32).
trait HolderId: Ord + Copy + Default + Send {
    /// One id of an aggregated list, or `None` when it is not one.
    fn parse(text: &str) -> Option<Self>;
    /// The id in column `col`.
    fn from_row(row: &Row, col: &str) -> Result<Self>;
    /// Appends the id as a JSON value matching the stored column (for SQLite's `json_each`).
    fn push_json(self, out: &mut String);
    /// The id as a [`UserId`].
    fn user_id(self) -> UserId;
}

impl HolderId for i64 {
    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }

    fn from_row(row: &Row, col: &str) -> Result<Self> {
        row.int(col)
    }

    fn push_json(self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "{self}");
    }

    fn user_id(self) -> UserId {
        UserId::Int(self)
    }
}

impl HolderId for u128 {
    fn parse(text: &str) -> Option<Self> {
        match UserId::parse(UserPk::Uuid, text)? {
            UserId::Uuid(u) => Some(u),
            UserId::Int(_) => None,
        }
    }

    fn from_row(row: &Row, col: &str) -> Result<Self> {
        match row.user_id(col)? {
            UserId::Uuid(u) => Ok(u),
            UserId::Int(i) => Err(crate::error::Error::Schema(format!(
                "the database returned the integer {i} as a user id of a model whose key is a UUID"
            ))),
        }
    }

    fn push_json(self, out: &mut String) {
        // SQLite keeps Django's UUID as 32 hexadecimal digits.
        use std::fmt::Write;
        let _ = write!(out, "\"{self:032x}\"");
    }

    fn user_id(self) -> UserId {
        UserId::Uuid(self)
    }
}

/// The ids as [`UserId`]s.
fn ids<I: HolderId>(ids: Vec<I>) -> Vec<UserId> {
    ids.into_iter().map(HolderId::user_id).collect()
}

/// `[1,2,3]`: ids as a JSON array (for SQLite's `json_each`).
fn json_id_array<I: HolderId>(ids: &[I]) -> String {
    let mut out = String::with_capacity(ids.len() * 8 + 2);
    out.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        id.push_json(&mut out);
    }
    out.push(']');
    out
}

/// Parses a comma-separated id list (`group_concat`, `string_agg`).
fn parse_id_list<I: HolderId>(text: Option<&str>) -> Result<Vec<I>> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(|id| {
            I::parse(id).ok_or_else(|| {
                crate::error::Error::Schema(format!(
                    "the database returned a user id that does not fit the user model's key: {id:?}"
                ))
            })
        })
        .collect()
}

impl Store {
    /// Reads the [`HolderIds`] of `args` in one query. SQLite and PostgreSQL return one row, each set
    /// aggregated into one comma-separated text (`group_concat`, `string_agg`): a single hand-off
    /// instead of one per id. MariaDB returns the ids as rows tagged with their set, because its
    /// `GROUP_CONCAT` is capped by `group_concat_max_len`.
    async fn holder_ids<I: HolderId>(&self, args: &WithPerm) -> Result<HolderIds<I>> {
        let d = self.dialect();
        if d != Dialect::MySql {
            let sql = holder_ids_aggregate_sql(d, args);
            return holder_ids_from_row(&self.db.fetch_one(&sql, &perm_args(args)).await?);
        }
        let mut sql = SqlText::new(d);
        for (k, set) in HolderSet::ALL.into_iter().enumerate() {
            if !set.needed(args) {
                continue;
            }
            if k > 0 {
                sql.push(" UNION ALL ");
            }
            sql.push(&format!("SELECT {k} AS k, {} AS id ", set.id()));
            set.push_from(&mut sql);
        }
        let mut out = HolderIds::default();
        self.db
            .fetch_each(&sql, &perm_args(args), |row| {
                let id = I::from_row(&row, "id")?;
                match row.int("k")? {
                    0 => out.direct.push(id),
                    1 => out.via_groups.push(id),
                    2 => out.superusers.push(id),
                    _ => out.inactive.push(id),
                }
                Ok(true)
            })
            .await?;
        Ok(out)
    }
}

/// The SQLite and PostgreSQL form of the [`HolderIds`] query: one row, one column per set, each set
/// aggregated into a comma-separated text (`NULL` when empty or not needed).
pub(crate) fn holder_ids_aggregate_sql(d: Dialect, args: &WithPerm) -> SqlText {
    let mut sql = SqlText::new(d);
    sql.push("SELECT ");
    for (k, set) in HolderSet::ALL.into_iter().enumerate() {
        if k > 0 {
            sql.push(", ");
        }
        let name = set.column();
        if !set.needed(args) {
            sql.push(&format!("NULL AS {name}"));
            continue;
        }
        if d == Dialect::Postgres {
            sql.push(&format!(
                "(SELECT string_agg(CAST({} AS text), ',') ",
                set.id()
            ));
        } else {
            sql.push(&format!("(SELECT group_concat({}) ", set.id()));
        }
        set.push_from(&mut sql);
        sql.push(&format!(") AS {name}"));
    }
    sql
}

/// Reads the row of [`holder_ids_aggregate_sql`].
fn holder_ids_from_row<I: HolderId>(row: &Row) -> Result<HolderIds<I>> {
    let [direct, via_groups, superusers, inactive] = HolderSet::ALL.map(|set| {
        row.opt_text(set.column())
            .and_then(|t| parse_id_list(t.as_deref()))
    });
    Ok(HolderIds {
        direct: direct?,
        via_groups: via_groups?,
        superusers: superusers?,
        inactive: inactive?,
    })
}

impl Store {
    /// [`Store::with_perm_each`] on SQLite, in one read transaction (one snapshot): the ids of
    /// [`Store::with_perm_ids`], then their usernames in **one** row, a JSON array, by primary key
    /// (`IN` over `json_each` of the ids), sorted here. sqlx hands every SQLite result row from its worker
    /// thread to the caller separately (about 1–2 µs a row, more than SQLite takes to find it), and
    /// sorting in Rust costs less than SQLite's sorter. The price is memory: the matching usernames
    /// are held at once (about 2 × their total length).
    async fn with_perm_each_sqlite<I: HolderId>(
        &self,
        args: &WithPerm,
        after: Option<&str>,
        mut each: impl FnMut(&str) -> Result<()>,
    ) -> Result<u64> {
        let ids_sql = holder_ids_aggregate_sql(Dialect::Sqlite, args);
        // `IN (… json_each …)`: SQLite reads the ids into a sorted temporary index once and probes
        // `auth_user` in id order. (As a join, with `json_each` as the outer loop, it took 2–4× as
        // long with the SQLite sqlx bundles.)
        let mut names_sql = SqlText::new(Dialect::Sqlite);
        names_sql
            .push(
                "SELECT json_group_array(u.username) AS names FROM auth_user u \
                 WHERE u.id IN (SELECT value FROM json_each(",
            )
            .param()
            .push("))");
        if after.is_some() {
            names_sql.push(" AND u.username > ").param();
        }
        let mut tx = self.db.begin().await?;
        let row = tx.fetch_one(&ids_sql, &perm_args(args)).await?;
        let ids = holder_ids_from_row::<I>(&row)?.resolve(args);
        let text = if ids.is_empty() {
            None
        } else {
            let array = json_id_array(&ids);
            let mut binds = vec![array.as_str().into()];
            if let Some(after) = after {
                binds.push(after.into());
            }
            tx.fetch_one(&names_sql, &binds).await?.opt_text("names")?
        };
        tx.commit().await?;
        let mut names: Vec<String> = match text {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                crate::error::Error::Schema(format!(
                    "SQLite returned usernames that are not a JSON array: {e}"
                ))
            })?,
            None => Vec::new(),
        };
        names.sort_unstable();
        let mut n = 0;
        for name in &names {
            each(name)?;
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_per_dialect() {
        assert_eq!(username_bytewise(Dialect::Sqlite).2, "u.username");
        assert_eq!(
            username_bytewise(Dialect::Postgres),
            ("u.username ~>~ ", "", "u.username USING ~<~")
        );
        let args = WithPerm {
            app_label: "auth".into(),
            codename: "view_user".into(),
            is_active: Some(true),
            include_superusers: true,
        };
        let (sql, binds) = with_perm_sql(Dialect::MySql, &args, Some("bob"), Some(11));
        assert!(sql
            .as_str()
            .contains("CAST(u.username AS BINARY) > CAST(? AS BINARY)"));
        assert_eq!(binds.len(), 7);
        assert_eq!(crate::sql::Statement::binds(&sql), 7);
        let (sql, binds) = with_perm_sql(Dialect::Postgres, &args, None, None);
        assert!(
            sql.as_str().contains("u.is_active = $5"),
            "{}",
            sql.as_str()
        );
        assert_eq!(binds.len(), 5);
    }
}
