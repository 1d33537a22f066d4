//! "Why can Y do X?" and "who can do X?" for large databases.
//!
//! [`Store::explain`] loads what [`castellan_core::explain::Explanation`] reasons about: the user
//! ([`Store::principal`]) and, in one query, the groups that either contain the user or grant the
//! permission.
//!
//! [`Store::with_perm_page`], [`Store::with_perm_count`] and [`Store::with_perm_each`] answer
//! `with_perm` without collecting a million usernames: keyset pagination by username, a `COUNT`, and a
//! row stream (on SQLite one row holding the sorted usernames as a JSON array). Counts and streams start from the permission (`auth_user_user_permissions.permission_id`
//! and `auth_user_groups.group_id` are indexed by Django) instead of testing every user; a page walks
//! the unique `username` index and stops after `limit` holders. Both order by username in byte order — the order of Rust's `String` — in every dialect (`COLLATE "C"` on
//! PostgreSQL, `BINARY` on MariaDB, SQLite's default `BINARY`), so cursors compare the same way on
//! both sides.

use castellan_core::explain::{Explanation, Provenance};
use castellan_core::WithPerm;
use futures_util::TryStreamExt;

use crate::error::Result;
use crate::on_pool;
use crate::pool::{Dialect, RowExt};
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
    /// holder. Best when every holder is read (count, stream).
    FromPermission,
    /// Walk users in username order (Django's unique index on `username`) and test each with two
    /// indexed `EXISTS` probes. Best for a short page: it stops after `limit` holders.
    Exists,
}

/// The `WHERE` condition of `with_perm`. Binds: codename, app label, codename, app label (then
/// `is_active` when filtered).
fn with_perm_condition(d: Dialect, args: &WithPerm, shape: Shape) -> String {
    let perm_ids = format!(
        "SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id \
         WHERE {} AND {}",
        d.exact("p.codename"),
        d.exact("ct.app_label")
    );
    let superusers = format!("u.is_superuser = {}", d.true_lit());
    let mut cond = match shape {
        Shape::FromPermission => {
            // UNION ALL: `IN` ignores duplicates, and skipping the de-duplication is cheaper.
            let mut ids = format!(
                "SELECT up.user_id FROM auth_user_user_permissions up WHERE up.permission_id IN ({perm_ids}) \
                 UNION ALL SELECT ug.user_id FROM auth_user_groups ug WHERE ug.group_id IN \
                 (SELECT gp.group_id FROM auth_group_permissions gp WHERE gp.permission_id IN ({perm_ids}))"
            );
            if args.include_superusers {
                ids.push_str(&format!(
                    " UNION ALL SELECT su.id FROM auth_user su WHERE su.is_superuser = {}",
                    d.true_lit()
                ));
            }
            format!("u.id IN ({ids})")
        }
        Shape::Exists => {
            let held = format!(
                "EXISTS (SELECT 1 FROM auth_user_user_permissions up WHERE up.user_id = u.id \
                 AND up.permission_id IN ({perm_ids})) \
                 OR EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group_permissions gp \
                 ON gp.group_id = ug.group_id WHERE ug.user_id = u.id AND gp.permission_id IN ({perm_ids}))"
            );
            if args.include_superusers {
                format!("({held} OR {superusers})")
            } else {
                format!("({held})")
            }
        }
    };
    if args.is_active.is_some() {
        cond.push_str(" AND u.is_active = ?");
    }
    cond
}

/// `username` in byte order (Rust's `String` order).
fn bytewise(d: Dialect, expr: &str) -> String {
    match d {
        Dialect::Sqlite => expr.to_owned(),
        Dialect::Postgres => format!("{expr} COLLATE \"C\""),
        Dialect::MySql => format!("CAST({expr} AS BINARY)"),
    }
}

fn with_perm_sql(d: Dialect, args: &WithPerm, after: bool, limit: bool) -> String {
    let shape = if limit {
        Shape::Exists
    } else {
        Shape::FromPermission
    };
    let mut sql = format!(
        "SELECT u.username AS username FROM auth_user u WHERE {}",
        with_perm_condition(d, args, shape)
    );
    if after {
        sql.push_str(&format!(
            " AND {} > {}",
            bytewise(d, "u.username"),
            bytewise(d, "?")
        ));
    }
    sql.push_str(&format!(" ORDER BY {}", bytewise(d, "u.username")));
    if limit {
        sql.push_str(" LIMIT ?");
    }
    sql
}

/// Binds the `with_perm` arguments (and cursor, limit) in the order [`with_perm_sql`] takes them.
macro_rules! bind_with_perm {
    ($q:expr, $args:expr, $after:expr, $limit:expr) => {{
        let mut q = $q
            .bind(&$args.codename)
            .bind(&$args.app_label)
            .bind(&$args.codename)
            .bind(&$args.app_label);
        if let Some(active) = $args.is_active {
            q = q.bind(active);
        }
        if let Some(after) = $after {
            q = q.bind(after);
        }
        if let Some(limit) = $limit {
            q = q.bind(limit);
        }
        q
    }};
}

impl Store {
    /// Explains `perm` for the user `username` (`None` when no such user exists): the decision and
    /// its reasons, as [`Explanation::new`] derives them. Two queries (the principal, which may be
    /// cached, and the groups).
    pub async fn explain(&self, username: &str, perm: &str) -> Result<Option<Explanation>> {
        let Some(who) = self.principal(username).await? else {
            return Ok(None);
        };
        let provenance = match who.identity().id() {
            Some(id) => self.provenance(Some(id), perm).await?,
            None => Provenance::default(),
        };
        Ok(Some(Explanation::new(&who, perm, &provenance)))
    }

    /// Explains `perm` for the anonymous user.
    pub async fn explain_anonymous(&self, perm: &str) -> Result<Explanation> {
        let who = self.anonymous().await?;
        Ok(Explanation::new(&who, perm, &Provenance::default()))
    }

    /// The groups that contain the user or grant the permission, in one query.
    async fn provenance(&self, user_id: Option<i64>, perm: &str) -> Result<Provenance> {
        let Some((app_label, codename)) = perm.split_once('.') else {
            return Ok(Provenance::default());
        };
        let d = self.dialect();
        let sql = format!(
            "SELECT g.name AS name, \
             CASE WHEN EXISTS (SELECT 1 FROM auth_user_groups ug WHERE ug.group_id = g.id AND ug.user_id = ?) THEN 1 ELSE 0 END AS member, \
             CASE WHEN EXISTS (SELECT 1 FROM auth_group_permissions gp JOIN auth_permission p ON p.id = gp.permission_id \
             JOIN django_content_type ct ON ct.id = p.content_type_id WHERE gp.group_id = g.id AND {} AND {}) THEN 1 ELSE 0 END AS grants \
             FROM auth_group g",
            d.exact("p.codename"),
            d.exact("ct.app_label")
        );
        let user_id = user_id.unwrap_or(-1);
        let rows: Vec<(String, bool, bool)> = on_pool!(&self.pool, p => {
            let sql = d.sql(&sql);
            sqlx::query(&sql)
                .bind(user_id)
                .bind(codename)
                .bind(app_label)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.text("name")?, r.int("member")? != 0, r.int("grants")? != 0)))
                .collect::<Result<Vec<_>>>()?
        });
        let mut out = Provenance::default();
        for (name, member, grants) in rows {
            if member && grants {
                out.member_of.push(name.clone());
                out.granting_groups.push(name);
            } else if member {
                out.member_of.push(name);
            } else if grants {
                out.granting_groups.push(name);
            }
        }
        out.member_of.sort();
        out.granting_groups.sort();
        Ok(out)
    }

    /// How many users [`Store::with_perm`] would return (one `COUNT` query).
    pub async fn with_perm_count(&self, args: &WithPerm) -> Result<u64> {
        let d = self.dialect();
        let sql = format!(
            "SELECT COUNT(*) AS n FROM auth_user u WHERE {}",
            with_perm_condition(d, args, Shape::FromPermission)
        );
        let n = on_pool!(&self.pool, p => {
            let sql = d.sql(&sql);
            let q = bind_with_perm!(sqlx::query(&sql), args, None::<&str>, None::<i64>);
            q.fetch_one(p).await?.int("n")?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// One page of [`Store::with_perm`]: at most `limit` usernames greater than `after` (in byte
    /// order), and the cursor of the next page. Concatenated pages equal the unpaged list.
    pub async fn with_perm_page(
        &self,
        args: &WithPerm,
        after: Option<&str>,
        limit: usize,
    ) -> Result<WhoHasPage> {
        let d = self.dialect();
        let sql = with_perm_sql(d, args, after.is_some(), true);
        // One more row than asked tells whether a next page exists.
        let fetch = i64::try_from(limit)
            .unwrap_or(i64::MAX - 1)
            .saturating_add(1);
        let mut usernames = on_pool!(&self.pool, p => {
            let sql = d.sql(&sql);
            let q = bind_with_perm!(sqlx::query(&sql), args, after, Some(fetch));
            q.fetch_all(p).await?.iter().map(|r| r.text("username")).collect::<Result<Vec<_>>>()?
        });
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
            return self.with_perm_each_sqlite(args, after, each).await;
        }
        let sql = with_perm_sql(d, args, after.is_some(), false);
        let mut n = 0;
        on_pool!(&self.pool, p => {
            let sql = d.sql(&sql);
            let q = bind_with_perm!(sqlx::query(&sql), args, after, None::<i64>);
            let mut rows = q.fetch(p);
            while let Some(row) = rows.try_next().await? {
                each(&row.text("username")?)?;
                n += 1;
            }
        });
        Ok(n)
    }
}

impl Store {
    /// [`Store::with_perm_each`] on SQLite: sqlx hands every result row from its SQLite worker thread
    /// to the caller separately (about 1–2 µs a row), more than SQLite takes to find the row, so the
    /// usernames come back in **one** row, as a JSON array built and sorted by SQLite
    /// (`json_group_array(… ORDER BY …)`), which is then parsed and passed on. The price is memory:
    /// the matching usernames are held at once (about 2 × their total length).
    async fn with_perm_each_sqlite(
        &self,
        args: &WithPerm,
        after: Option<&str>,
        mut each: impl FnMut(&str) -> Result<()>,
    ) -> Result<u64> {
        let d = Dialect::Sqlite;
        let mut sql = format!(
            "SELECT json_group_array(u.username ORDER BY u.username) AS names FROM auth_user u WHERE {}",
            with_perm_condition(d, args, Shape::FromPermission)
        );
        if after.is_some() {
            sql.push_str(" AND u.username > ?");
        }
        let text = on_pool!(&self.pool, p => {
            let q = bind_with_perm!(sqlx::query(&sql), args, after, None::<i64>);
            q.fetch_one(p).await?.opt_text("names")?
        });
        let names: Vec<String> = match text {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                crate::error::Error::Schema(format!(
                    "SQLite returned usernames that are not a JSON array: {e}"
                ))
            })?,
            None => Vec::new(),
        };
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
        assert_eq!(bytewise(Dialect::Sqlite, "u.username"), "u.username");
        assert_eq!(
            bytewise(Dialect::Postgres, "u.username"),
            "u.username COLLATE \"C\""
        );
        assert_eq!(bytewise(Dialect::MySql, "?"), "CAST(? AS BINARY)");
    }
}
