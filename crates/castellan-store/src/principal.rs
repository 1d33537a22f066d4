//! Loading a user's effective permissions (one query) and the generation-checked cache.

use std::sync::Arc;

use castellan_core::{Identity, PermIndex, Principal, User, UserFlags, UserId, UserPerms};

use crate::error::Result;
use crate::lookup::permission_rows;
use crate::session_cache::Watch;
use crate::sql::{Row, Sql};
use crate::users::{user_columns, user_from_row, USER_BY_ID};
use crate::Store;

/// The generations a cached entry is valid for: `grants` moves on any write to the permission tables,
/// `catalog` only when permissions or content types change (then the index is rebuilt too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gen {
    pub(crate) grants: i64,
    pub(crate) catalog: i64,
}

/// The two generations as columns `grants_generation` and `catalog_generation`, as a literal for
/// `concat!`.
macro_rules! generations {
    () => {
        "(SELECT value FROM castellan_generation WHERE id = 1) AS grants_generation, \
         (SELECT value FROM castellan_generation WHERE id = 2) AS catalog_generation"
    };
}
pub(crate) use generations;

/// The current generations.
pub(crate) const GENERATIONS: Sql = crate::sql!(concat!("SELECT ", generations!()));
const CATALOG_GENERATION: Sql = crate::sql!("SELECT value FROM castellan_generation WHERE id = 2");

/// The one query that loads a user's permissions: one row holding the direct and group permission
/// row ids as comma-separated lists (one row, not one per permission, keeps the cold path short),
/// written with each database's string aggregate and placeholders. Arguments: the user's id,
/// twice.
macro_rules! load_perms {
    ($generations:expr, $agg:literal, $end:literal, $p1:literal, $p2:literal) => {
        concat!(
            "SELECT ",
            $generations,
            $agg,
            "up.permission_id",
            $end,
            " FROM auth_user_user_permissions up WHERE up.user_id = ",
            $p1,
            ") AS direct, ",
            $agg,
            "gp.permission_id",
            $end,
            " FROM auth_user_groups ug JOIN auth_group_permissions gp ON gp.group_id = ug.group_id \
             WHERE ug.user_id = ",
            $p2,
            ") AS via_groups"
        )
    };
}

const LOAD_PERMS: Sql = Sql::per_dialect(
    load_perms!("", "(SELECT group_concat(", ")", "?", "?"),
    load_perms!(
        "",
        "(SELECT string_agg(CAST(",
        " AS text), ',')",
        "$1",
        "$2"
    ),
    load_perms!("", "(SELECT CAST(GROUP_CONCAT(", ") AS CHAR)", "?", "?"),
);
/// [`LOAD_PERMS`] with the generations the result is valid for.
const LOAD_PERMS_WITH_GENERATIONS: Sql = Sql::per_dialect(
    load_perms!(
        concat!(generations!(), ", "),
        "(SELECT group_concat(",
        ")",
        "?",
        "?"
    ),
    load_perms!(
        concat!(generations!(), ", "),
        "(SELECT string_agg(CAST(",
        " AS text), ',')",
        "$1",
        "$2"
    ),
    load_perms!(
        concat!(generations!(), ", "),
        "(SELECT CAST(GROUP_CONCAT(",
        ") AS CHAR)",
        "?",
        "?"
    ),
);

const USER_NAMED: Sql = crate::sql!(concat!(
    "SELECT ",
    user_columns!(),
    " FROM auth_user u WHERE u.username = $1"
));
const USER_NAMED_WITH_GENERATIONS: Sql = crate::sql!(concat!(
    "SELECT ",
    user_columns!(),
    ", ",
    generations!(),
    " FROM auth_user u WHERE u.username = $1"
));
const USER_WITH_GENERATIONS: Sql = crate::sql!(concat!(
    "SELECT ",
    user_columns!(),
    ", ",
    generations!(),
    " FROM auth_user u WHERE u.id = $1"
));
/// An unexpired session row, the user whose key is given (NULLs when there is none) and the
/// generations: a logged-in request's reads in one statement. Arguments: the user's key, the
/// session key, now.
const SESSION_WITH_USER: Sql = crate::sql!(concat!(
    "SELECT s.session_data AS session_data, s.expire_date AS expire_date, ",
    user_columns!(),
    ", ",
    generations!(),
    " FROM django_session s LEFT JOIN auth_user u ON u.id = $1 \
     WHERE s.session_key = $2 AND s.expire_date > $3"
));

/// A user's group names with the generations they are valid for: always one row at least (a
/// NULL name when there is no membership), so that an empty list also comes with its
/// generations. Argument: the user's key.
const GROUP_NAMES_WITH_GENERATIONS: Sql = crate::sql!(concat!(
    "SELECT v.grants_generation AS grants_generation, v.catalog_generation AS catalog_generation, \
     g.name AS name FROM (SELECT ",
    generations!(),
    ") v LEFT JOIN auth_user_groups ug ON ug.user_id = $1 \
     LEFT JOIN auth_group g ON g.id = ug.group_id"
));

/// The statements of this module that need Castellan's generation table.
#[cfg(test)]
pub(crate) const GENERATION_STATEMENTS: &[Sql] = &[
    GROUP_NAMES_WITH_GENERATIONS,
    SESSION_WITH_USER,
    GENERATIONS,
    CATALOG_GENERATION,
    LOAD_PERMS_WITH_GENERATIONS,
    USER_NAMED_WITH_GENERATIONS,
    USER_WITH_GENERATIONS,
];
/// The other statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[LOAD_PERMS, USER_NAMED];

fn parse_ids(list: Option<String>) -> Vec<i64> {
    list.map(|l| l.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_default()
}

pub(crate) fn read_gen(r: &Row) -> Result<Gen> {
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
        let Some((user, generation)) = self.user_with_generation(Key::Name(username)).await? else {
            return Ok(None);
        };
        self.principal_for(&user, generation).await.map(Some)
    }

    /// The subject for permission checks by user id.
    pub async fn principal_by_id(&self, id: UserId) -> Result<Option<Principal>> {
        let Some((user, generation)) = self.user_with_generation(Key::Id(id)).await? else {
            return Ok(None);
        };
        self.principal_for(&user, generation).await.map(Some)
    }

    /// The unexpired session stored under `session_key` and the user whose key is `user` with
    /// their permissions, in one statement (the permissions from the cache while no grant
    /// changed; a cold user costs one more). `None` for an unknown or expired session; the user
    /// part is `None` when there is no such user. Without Castellan's generation table (a store
    /// that has not migrated) the session alone is read, as [`Store::session_data`].
    pub async fn session_with_user(
        &self,
        session_key: &str,
        user: UserId,
    ) -> Result<Option<(String, Option<(User, Principal)>)>> {
        if !self.caching() {
            return Ok(self.session_data(session_key).await?.map(|d| (d, None)));
        }
        let now = chrono::Utc::now();
        // Reused while nothing says it changed since. The version is taken before the
        // statement, so a commit racing with it is seen next time.
        let watch = self.watch.as_deref();
        let version = watch.and_then(Watch::version);
        if let (Some(w), Some(v)) = (watch, version) {
            let fresh = |read, read_at| w.fresh(v, read, read_at, user, session_key);
            if let Some(read) = self.sessions.get(session_key, user, now, fresh) {
                return Ok(Some(read));
            }
        }
        let read_at = std::time::Instant::now();
        let args = [user.into(), session_key.into(), now.into()];
        let Some(r) = self.db.fetch_optional(&SESSION_WITH_USER, &args).await? else {
            return Ok(None);
        };
        let data = r.text("session_data")?;
        let read = if r.opt_user_id("id")?.is_none() {
            (data, None)
        } else {
            let found = user_from_row(&r)?;
            let principal = self.principal_for(&found, Some(read_gen(&r)?)).await?;
            (data, Some((found, principal)))
        };
        if let Some(v) = version {
            let expires = r.ts("expire_date")?;
            self.sessions
                .put(session_key, user, v, read_at, expires, read.clone());
        }
        Ok(Some(read))
    }

    /// The names of the groups the user whose key is `user` belongs to, sorted: from the cache
    /// while no membership or group changed since the newest generations this store read (a
    /// logged-in request reads them with its session, so a page that shows the user's groups
    /// costs no statement), else one statement.
    pub async fn group_names_of(&self, user: UserId) -> Result<Vec<String>> {
        if !self.caching() {
            return self.group_names_by_id(user).await;
        }
        if let Some(names) = self.cache.groups(user) {
            return Ok(names.to_vec());
        }
        let rows = self
            .db
            .fetch_all(&GROUP_NAMES_WITH_GENERATIONS, &[user.into()])
            .await?;
        let mut names = Vec::with_capacity(rows.len());
        let mut generation = None;
        for r in &rows {
            generation = Some(read_gen(r)?);
            if let Some(name) = r.opt_text("name")? {
                names.push(name);
            }
        }
        names.sort();
        if let Some(g) = generation {
            self.cache.observe(g);
            self.cache.put_groups(g, user, names.clone().into());
        }
        Ok(names)
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
        let mut tx = self.db.begin().await?;
        let rows = permission_rows(&mut tx).await?;
        let catalog = if caching {
            Some(tx.fetch_one(&CATALOG_GENERATION, &[]).await?.int("value")?)
        } else {
            None
        };
        tx.commit().await?;
        let index = PermIndex::new(rows);
        let index = Arc::new(match catalog {
            Some(c) => index.at_generation(c),
            None => index,
        });
        if let Some(c) = catalog {
            self.cache.put_index(c, Arc::clone(&index));
        }
        Ok((index, catalog))
    }

    async fn load_perms(&self, user_id: UserId) -> Result<Loaded> {
        let caching = self.caching();
        let sql = if caching {
            &LOAD_PERMS_WITH_GENERATIONS
        } else {
            &LOAD_PERMS
        };
        let row = self
            .db
            .fetch_one(sql, &[user_id.into(), user_id.into()])
            .await?;
        Ok(Loaded {
            generation: if caching { Some(read_gen(&row)?) } else { None },
            user: parse_ids(row.opt_text("direct")?),
            group: parse_ids(row.opt_text("via_groups")?),
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
        let g = read_gen(&self.db.fetch_one(&GENERATIONS, &[]).await?)?;
        Ok(Some(g))
    }

    async fn user_with_generation(&self, key: Key<'_>) -> Result<Option<(User, Option<Gen>)>> {
        let caching = self.caching();
        let (sql, arg) = match (key, caching) {
            (Key::Name(name), true) => (&USER_NAMED_WITH_GENERATIONS, name.into()),
            (Key::Name(name), false) => (&USER_NAMED, name.into()),
            (Key::Id(id), true) => (&USER_WITH_GENERATIONS, id.into()),
            (Key::Id(id), false) => (&USER_BY_ID, id.into()),
        };
        let mut found = None;
        for r in self.db.fetch_all(sql, &[arg]).await? {
            let user = user_from_row(&r)?;
            let exact = match key {
                Key::Name(name) => user.username == name,
                Key::Id(_) => true,
            };
            if exact {
                let g = if caching { Some(read_gen(&r)?) } else { None };
                found = Some((user, g));
            }
        }
        Ok(found)
    }

    /// Number of users whose permissions are cached in this process.
    pub fn cached_users(&self) -> usize {
        self.cache.len()
    }
}

#[derive(Clone, Copy)]
enum Key<'a> {
    Name(&'a str),
    Id(UserId),
}
