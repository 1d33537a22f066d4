//! Loading a user's effective permissions (one query), the generation-checked cache, and `with_perm`.

use std::sync::Arc;

use castellan_core::{Identity, PermIndex, Principal, User, UserFlags, UserPerms, WithPerm};

use crate::error::Result;
use crate::on_pool;
use crate::pool::RowExt;
use crate::sqlm::permission_rows;
use crate::users::{user_columns, user_from_row};
use crate::Store;

/// The one query that loads a user's permission row ids: source 0 is the generation, 1 the user's
/// direct grants, 2 its groups' grants.
const LOAD_PERMS: &str = "\
SELECT 0 AS src, value AS pid FROM castellan_generation WHERE id = 1 \
UNION ALL SELECT 1, up.permission_id FROM auth_user_user_permissions up WHERE up.user_id = ? \
UNION ALL SELECT 2, gp.permission_id FROM auth_user_groups ug \
JOIN auth_group_permissions gp ON gp.group_id = ug.group_id WHERE ug.user_id = ?";

/// The same without Castellan's generation table (a Django database that was never migrated by Castellan).
const LOAD_PERMS_UNCACHED: &str = "\
SELECT 1 AS src, up.permission_id AS pid FROM auth_user_user_permissions up WHERE up.user_id = ? \
UNION ALL SELECT 2, gp.permission_id FROM auth_user_groups ug \
JOIN auth_group_permissions gp ON gp.group_id = ug.group_id WHERE ug.user_id = ?";

struct Loaded {
    generation: Option<i64>,
    user: Vec<i64>,
    group: Vec<i64>,
}

impl Store {
    /// The subject for permission checks by username, or `None` when no such user exists.
    ///
    /// One query reads the user row with the current generation; when the cache holds this user's
    /// permissions for that generation, that is all. Otherwise one more query loads them.
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
        let generation = self.generation().await?;
        self.principal_for(user, generation).await
    }

    async fn principal_for(&self, user: &User, generation: Option<i64>) -> Result<Principal> {
        let identity = Identity::User(UserFlags::from(user));
        if let Some(g) = generation.filter(|_| self.caching()) {
            self.cache.observe(g);
            if let Some((index, perms)) = self.cache.user(g, user.id) {
                return Ok(Principal::new(identity, perms, index));
            }
        }
        // Cold: load the grants, and an index of the same generation (retry if a write slipped between).
        let mut attempt = 0;
        loop {
            attempt += 1;
            let loaded = self.load_perms(user.id).await?;
            let index = self.index_for(loaded.generation).await?;
            if loaded.generation.is_some() && index.1 != loaded.generation && attempt < 3 {
                continue;
            }
            let (index, _) = index;
            let perms = Arc::new(UserPerms {
                user: index.set_from_rows(loaded.user),
                group: index.set_from_rows(loaded.group),
            });
            if let Some(g) = loaded.generation.filter(|_| self.caching()) {
                self.cache.put_user(g, user.id, Arc::clone(&perms));
            }
            return Ok(Principal::new(identity, perms, index));
        }
    }

    /// The interned index of every permission, cached per generation.
    pub async fn permission_index(&self) -> Result<Arc<PermIndex>> {
        let generation = self.generation().await?;
        Ok(self.index_for(generation).await?.0)
    }

    /// The index for `generation` from the cache, else loaded (and cached when its generation matches).
    async fn index_for(&self, generation: Option<i64>) -> Result<(Arc<PermIndex>, Option<i64>)> {
        if let Some(g) = generation.filter(|_| self.caching()) {
            if let Some(index) = self.cache.index(g) {
                return Ok((index, Some(g)));
            }
        }
        let caching = self.caching();
        let (rows, loaded_generation) = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let rows = permission_rows!(&mut *tx);
            let g = if caching {
                Some(sqlx::query("SELECT value FROM castellan_generation WHERE id = 1").fetch_one(&mut *tx).await?.int("value")?)
            } else {
                None
            };
            tx.commit().await?;
            (rows, g)
        });
        let index = Arc::new(PermIndex::new(rows));
        if let Some(g) = loaded_generation {
            self.cache.put_index(g, Arc::clone(&index));
        }
        Ok((index, loaded_generation))
    }

    async fn load_perms(&self, user_id: i64) -> Result<Loaded> {
        let d = self.dialect();
        let sql = if self.caching() {
            LOAD_PERMS
        } else {
            LOAD_PERMS_UNCACHED
        };
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&d.sql(sql)).bind(user_id).bind(user_id).fetch_all(p).await?;
            let mut loaded = Loaded { generation: None, user: Vec::new(), group: Vec::new() };
            for r in &rows {
                let pid = r.int("pid")?;
                match r.int("src")? {
                    0 => loaded.generation = Some(pid),
                    1 => loaded.user.push(pid),
                    _ => loaded.group.push(pid),
                }
            }
            Ok(loaded)
        })
    }

    /// The current generation (`None` when Castellan's generation table is not installed).
    pub async fn generation(&self) -> Result<Option<i64>> {
        if !self.caching() {
            return Ok(None);
        }
        let g = on_pool!(&self.pool, p => {
            sqlx::query("SELECT value FROM castellan_generation WHERE id = 1").fetch_one(p).await?.int("value")?
        });
        Ok(Some(g))
    }

    async fn user_with_generation(
        &self,
        filter: &str,
        key: Key<'_>,
    ) -> Result<Option<(User, Option<i64>)>> {
        let d = self.dialect();
        let generation = if self.caching() {
            ", (SELECT value FROM castellan_generation WHERE id = 1) AS castellan_generation"
        } else {
            ""
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
                    let g = if caching { Some(r.int("castellan_generation")?) } else { None };
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
