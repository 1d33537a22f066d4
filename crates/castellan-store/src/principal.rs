//! Loading a user's effective permissions (one query), the generation-checked cache, and `with_perm`.

use std::sync::Arc;

use castellan_core::{
    Backends, Identity, PermIndex, PermObject, Principal, User, UserFlags, UserPerms, WithPerm,
};

use crate::error::Result;
use crate::on_pool;
use crate::pool::{Dialect, RowExt};
use crate::sqlm::permission_rows;
use crate::users::{user_columns, user_from_row};
use crate::Store;

/// The generations a cached entry is valid for: `grants` moves on any write to the permission tables,
/// `catalog` only when permissions or content types change (then the index is rebuilt too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gen {
    pub(crate) grants: i64,
    pub(crate) catalog: i64,
}

pub(crate) const GENERATIONS: &str =
    "(SELECT value FROM castellan_generation WHERE id = 1) AS grants_generation, \
(SELECT value FROM castellan_generation WHERE id = 2) AS catalog_generation";

/// The one query that loads a user's permissions: one row holding the generations and the direct and
/// group permission row ids as comma-separated lists (one row, not one per permission, keeps the cold
/// path short).
fn load_perms_sql(d: Dialect, caching: bool) -> String {
    let agg = |col: &str| match d {
        Dialect::Sqlite => format!("group_concat({col})"),
        Dialect::Postgres => format!("string_agg(CAST({col} AS text), ',')"),
        Dialect::MySql => format!("CAST(GROUP_CONCAT({col}) AS CHAR)"),
    };
    format!(
        "SELECT {}(SELECT {} FROM auth_user_user_permissions up WHERE up.user_id = ?) AS direct, \
         (SELECT {} FROM auth_user_groups ug JOIN auth_group_permissions gp ON gp.group_id = ug.group_id \
         WHERE ug.user_id = ?) AS via_groups",
        if caching { format!("{GENERATIONS}, ") } else { String::new() },
        agg("up.permission_id"),
        agg("gp.permission_id"),
    )
}

fn parse_ids(list: Option<String>) -> Vec<i64> {
    list.map(|l| l.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_default()
}

pub(crate) fn read_gen(r: &impl RowExt) -> Result<Gen> {
    Ok(Gen {
        grants: r.int("grants_generation")?,
        catalog: r.int("catalog_generation")?,
    })
}

struct Loaded {
    generation: Option<Gen>,
    user: Vec<i64>,
    group: Vec<i64>,
}

impl Store {
    /// The subject for permission checks by username, or `None` when no such user exists.
    ///
    /// One query reads the user row with the current generations; when the cache holds this user's
    /// permissions for them, that is all. Otherwise one more query loads them.
    pub async fn principal(&self, username: &str) -> Result<Option<Principal>> {
        let Some((user, generation)) = self
            .user_with_generation("u.username = ?", Key::Name(username))
            .await?
        else {
            return Ok(None);
        };
        self.principal_for(&user, generation).await.map(Some)
    }

    /// The subject for permission checks by user id.
    pub async fn principal_by_id(&self, id: i64) -> Result<Option<Principal>> {
        let Some((user, generation)) = self.user_with_generation("u.id = ?", Key::Id(id)).await?
        else {
            return Ok(None);
        };
        self.principal_for(&user, generation).await.map(Some)
    }

    /// The anonymous user, with the current permission index.
    pub async fn anonymous(&self) -> Result<Principal> {
        Ok(Principal::anonymous(self.permission_index().await?))
    }

    /// The subject for a user row already read (the user's flags are taken from `user`, as given).
    pub async fn principal_for_user(&self, user: &User) -> Result<Principal> {
        let generation = self.generations().await?;
        self.principal_for(user, generation).await
    }

    async fn principal_for(&self, user: &User, generation: Option<Gen>) -> Result<Principal> {
        let identity = Identity::User(UserFlags::from(user));
        if let Some(g) = generation.filter(|_| self.caching()) {
            self.cache.observe(g);
            if let Some((index, perms)) = self.cache.user(g, user.id) {
                return Ok(Principal::new(identity, perms, index));
            }
        }
        // Cold: load the grants, and an index of the same catalog (retry if a write slipped between).
        let mut attempt = 0;
        loop {
            attempt += 1;
            let loaded = self.load_perms(user.id).await?;
            let (index, index_catalog) = self.index_for(loaded.generation).await?;
            let consistent = match loaded.generation {
                Some(g) => index_catalog == Some(g.catalog),
                None => true,
            };
            if !consistent && attempt < 3 {
                continue;
            }
            let perms = Arc::new(UserPerms::new(
                index.set_from_rows(loaded.user),
                index.set_from_rows(loaded.group),
            ));
            if let Some(g) = loaded.generation.filter(|_| consistent && self.caching()) {
                self.cache.put_user(g, user.id, Arc::clone(&perms));
            }
            return Ok(Principal::new(identity, perms, index));
        }
    }

    /// The interned index of every permission, cached per catalog generation.
    pub async fn permission_index(&self) -> Result<Arc<PermIndex>> {
        let generation = self.generations().await?;
        Ok(self.index_for(generation).await?.0)
    }

    /// The index for `generation` from the cache, else loaded (and cached under the catalog
    /// generation read in the same transaction).
    async fn index_for(&self, generation: Option<Gen>) -> Result<(Arc<PermIndex>, Option<i64>)> {
        if let Some(g) = generation.filter(|_| self.caching()) {
            self.cache.observe(g);
            if let Some(index) = self.cache.index(g.catalog) {
                return Ok((index, Some(g.catalog)));
            }
        }
        let caching = self.caching();
        let (rows, catalog) = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let rows = permission_rows!(&mut *tx);
            let c = if caching {
                Some(sqlx::query("SELECT value FROM castellan_generation WHERE id = 2").fetch_one(&mut *tx).await?.int("value")?)
            } else {
                None
            };
            tx.commit().await?;
            (rows, c)
        });
        let index = Arc::new(PermIndex::new(rows));
        if let Some(c) = catalog {
            self.cache.put_index(c, Arc::clone(&index));
        }
        Ok((index, catalog))
    }

    async fn load_perms(&self, user_id: i64) -> Result<Loaded> {
        let d = self.dialect();
        let caching = self.caching();
        let sql = load_perms_sql(d, caching);
        on_pool!(&self.pool, p => {
            let row = sqlx::query(&d.sql(&sql)).bind(user_id).bind(user_id).fetch_one(p).await?;
            Ok(Loaded {
                generation: if caching { Some(read_gen(&row)?) } else { None },
                user: parse_ids(row.opt_text("direct")?),
                group: parse_ids(row.opt_text("via_groups")?),
            })
        })
    }

    /// The current grants generation (`None` when Castellan's generation table is not installed): it
    /// moves with every committed write to the permission tables.
    pub async fn generation(&self) -> Result<Option<i64>> {
        Ok(self.generations().await?.map(|g| g.grants))
    }

    pub(crate) async fn generations(&self) -> Result<Option<Gen>> {
        if !self.caching() {
            return Ok(None);
        }
        let g = on_pool!(&self.pool, p => {
            let row = sqlx::query(&format!("SELECT {GENERATIONS}")).fetch_one(p).await?;
            read_gen(&row)?
        });
        Ok(Some(g))
    }

    async fn user_with_generation(
        &self,
        filter: &str,
        key: Key<'_>,
    ) -> Result<Option<(User, Option<Gen>)>> {
        let d = self.dialect();
        let generation = if self.caching() {
            format!(", {GENERATIONS}")
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT {}{generation} FROM auth_user u WHERE {filter}",
            user_columns(d)
        );
        let caching = self.caching();
        let found = on_pool!(&self.pool, p => {
            let sql = d.sql(&sql);
            let q = sqlx::query(&sql);
            let q = match key {
                Key::Name(name) => q.bind(name),
                Key::Id(id) => q.bind(id),
            };
            let rows = q.fetch_all(p).await?;
            let mut found = None;
            for r in &rows {
                let user = user_from_row(r)?;
                let exact = match key {
                    Key::Name(name) => user.username == name,
                    Key::Id(_) => true,
                };
                if exact {
                    let g = if caching { Some(read_gen(r)?) } else { None };
                    found = Some((user, g));
                }
            }
            found
        });
        Ok(found)
    }

    /// `User.objects.with_perm(...)` with the model backend: the usernames (sorted) of users holding the
    /// permission directly or through a group, plus superusers when asked, filtered on `is_active`.
    pub async fn with_perm(&self, args: &WithPerm) -> Result<Vec<String>> {
        let d = self.dialect();
        let held = format!(
            "EXISTS (SELECT 1 FROM auth_user_user_permissions up JOIN auth_permission p ON p.id = up.permission_id \
             JOIN django_content_type ct ON ct.id = p.content_type_id WHERE up.user_id = u.id AND {} AND {}) \
             OR EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group_permissions gp ON gp.group_id = ug.group_id \
             JOIN auth_permission p ON p.id = gp.permission_id JOIN django_content_type ct ON ct.id = p.content_type_id \
             WHERE ug.user_id = u.id AND {} AND {})",
            d.exact("p.codename"),
            d.exact("ct.app_label"),
            d.exact("p.codename"),
            d.exact("ct.app_label"),
        );
        let mut cond = if args.include_superusers {
            format!("({held} OR u.is_superuser = {})", d.true_lit())
        } else {
            format!("({held})")
        };
        if args.is_active.is_some() {
            cond.push_str(" AND u.is_active = ?");
        }
        let sql = format!("SELECT u.username AS username FROM auth_user u WHERE {cond}");
        let mut names = on_pool!(&self.pool, p => {
            let sql = d.sql(&sql);
            let mut q = sqlx::query(&sql)
                .bind(&args.codename)
                .bind(&args.app_label)
                .bind(&args.codename)
                .bind(&args.app_label);
            if let Some(active) = args.is_active {
                q = q.bind(active);
            }
            q.fetch_all(p).await?.iter().map(|r| r.text("username")).collect::<Result<Vec<_>>>()?
        });
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

    /// Number of users whose permissions are cached in this process.
    pub fn cached_users(&self) -> usize {
        self.cache.len()
    }
}

#[derive(Clone, Copy)]
enum Key<'a> {
    Name(&'a str),
    Id(i64),
}
