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

/// Columns `direct` and `via_groups`: the permission ids of the user `u` as [`load_perms!`]
/// reads them, or NULLs when the generations are those the first (for `direct`) and second
/// pair of placeholders give: the cache holds the user's permissions for them, so a warm load
/// skips the aggregates and a cold one needs no second statement. Four arguments: the grants
/// and catalog generations, twice (a generation no table holds, such as -1, always reads).
macro_rules! perms_unless_cached {
    ($agg:literal, $end:literal, $p1:literal, $p2:literal, $p3:literal, $p4:literal) => {
        concat!(
            "CASE WHEN (SELECT value FROM castellan_generation WHERE id = 1) = ",
            $p1,
            " AND (SELECT value FROM castellan_generation WHERE id = 2) = ",
            $p2,
            " THEN NULL ELSE ",
            $agg,
            "up.permission_id",
            $end,
            " FROM auth_user_user_permissions up WHERE up.user_id = u.id) END AS direct, \
             CASE WHEN (SELECT value FROM castellan_generation WHERE id = 1) = ",
            $p3,
            " AND (SELECT value FROM castellan_generation WHERE id = 2) = ",
            $p4,
            " THEN NULL ELSE ",
            $agg,
            "gp.permission_id",
            $end,
            " FROM auth_user_groups ug JOIN auth_group_permissions gp ON gp.group_id = ug.group_id \
             WHERE ug.user_id = u.id) END AS via_groups"
        )
    };
}

/// `head`, [`perms_unless_cached!`] in each database's aggregate, then `tail`, written with
/// question marks for SQLite and MariaDB and numbered from `$5` for PostgreSQL.
macro_rules! with_perms {
    ($head:expr, $tail_q:expr, $tail_d:expr) => {
        Sql::per_dialect(
            concat!(
                $head,
                perms_unless_cached!("(SELECT group_concat(", ")", "?", "?", "?", "?"),
                $tail_q
            ),
            concat!(
                $head,
                perms_unless_cached!(
                    "(SELECT string_agg(CAST(",
                    " AS text), ',')",
                    "$1",
                    "$2",
                    "$3",
                    "$4"
                ),
                $tail_d
            ),
            concat!(
                $head,
                perms_unless_cached!(
                    "(SELECT CAST(GROUP_CONCAT(",
                    ") AS CHAR)",
                    "?",
                    "?",
                    "?",
                    "?"
                ),
                $tail_q
            ),
        )
    };
}

/// A user row by username with the generations and, unless cached, the permissions.
/// Arguments: the cached generations twice (see [`perms_unless_cached!`]), the username.
const USER_NAMED_WITH_PERMS: Sql = with_perms!(
    concat!("SELECT ", user_columns!(), ", ", generations!(), ", "),
    " FROM auth_user u WHERE u.username = ?",
    " FROM auth_user u WHERE u.username = $5"
);
/// The same by id. Arguments: the cached generations twice, the user's key.
const USER_WITH_PERMS: Sql = with_perms!(
    concat!("SELECT ", user_columns!(), ", ", generations!(), ", "),
    " FROM auth_user u WHERE u.id = ?",
    " FROM auth_user u WHERE u.id = $5"
);
/// An unexpired session row, the user whose key is given (NULLs when there is none), the
/// generations and, unless cached, the user's permissions: a logged-in request's reads in one
/// statement, cold or warm. Arguments: the cached generations twice (see
/// [`perms_unless_cached!`]), the user's key, the session key, now.
const SESSION_WITH_USER: Sql = with_perms!(
    concat!(
        "SELECT s.session_data AS session_data, s.expire_date AS expire_date, ",
        user_columns!(),
        ", ",
        generations!(),
        ", "
    ),
    " FROM django_session s LEFT JOIN auth_user u ON u.id = ? \
     WHERE s.session_key = ? AND s.expire_date > ?",
    " FROM django_session s LEFT JOIN auth_user u ON u.id = $5 \
     WHERE s.session_key = $6 AND s.expire_date > $7"
);

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
    USER_NAMED_WITH_PERMS,
    USER_WITH_PERMS,
];
/// The other statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[LOAD_PERMS, USER_NAMED];

/// The ids of a comma-separated list (`None`: no rows). An entry that is not an id (a list cut
/// short by the database, say) is an error, never a permission silently left out.
fn parse_ids(list: Option<String>) -> Result<Vec<i64>> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(|x| {
            x.trim().parse().map_err(|_| {
                crate::Error::Schema(format!(
                    "a list of permission ids from the database holds {x:?}, which is not an id \
                     (on MariaDB, is group_concat_max_len too small?)"
                ))
            })
        })
        .collect()
}

/// The generations to pass to [`perms_unless_cached!`]: those the cache holds `user`'s
/// permissions for, or -1 (no generation: read them).
fn cached_args(cached: Option<Gen>) -> [crate::sql::Arg<'static>; 4] {
    let g = cached.unwrap_or(Gen {
        grants: -1,
        catalog: -1,
    });
    [
        g.grants.into(),
        g.catalog.into(),
        g.grants.into(),
        g.catalog.into(),
    ]
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
        let Some((user, generation, read)) = self.user_with_generation(Key::Name(username)).await?
        else {
            return Ok(None);
        };
        self.principal_for(&user, generation, read).await.map(Some)
    }

    /// The subject for permission checks by user id: one statement, cold or warm.
    pub async fn principal_by_id(&self, id: UserId) -> Result<Option<Principal>> {
        let Some((user, generation, read)) = self.user_with_generation(Key::Id(id)).await? else {
            return Ok(None);
        };
        self.principal_for(&user, generation, read).await.map(Some)
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
        let cached = self.cache.cached_at(user);
        let [a, b, c, d] = cached_args(cached);
        let args = [a, b, c, d, user.into(), session_key.into(), now.into()];
        let Some(r) = self.db.fetch_optional(&SESSION_WITH_USER, &args).await? else {
            return Ok(None);
        };
        let data = r.text("session_data")?;
        let read = if r.opt_user_id("id")?.is_none() {
            (data, None)
        } else {
            let found = user_from_row(&r)?;
            let g = read_gen(&r)?;
            let principal = self
                .principal_for(&found, Some(g), perms_read(&r, g, cached)?)
                .await?;
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
        self.principal_for(user, generation, None).await
    }

    /// The principal for `user` read at `generation`: from the cache, else from `read` (the
    /// permissions read in the same statement), else loaded.
    async fn principal_for(
        &self,
        user: &User,
        generation: Option<Gen>,
        mut read: Option<Loaded>,
    ) -> Result<Principal> {
        let identity = Identity::User(UserFlags::from(user));
        if let Some(g) = generation.filter(|_| self.caching()) {
            self.cache.observe(g);
            if let Some((index, perms)) = self.cache.user(g, user.id) {
                return Ok(Principal::new(identity, perms, index));
            }
        }
        // Cold: the grants, and an index of the same catalog (retry if a write slipped between).
        let mut attempt = 0;
        loop {
            attempt += 1;
            let loaded = match read.take() {
                Some(loaded) => loaded,
                None => self.load_perms(user.id).await?,
            };
            let (index, index_catalog) = self.index_for(loaded.generation).await?;
            let consistent = match loaded.generation {
                Some(g) => index_catalog == Some(g.catalog),
                None => true,
            };
            if !consistent && attempt < 3 {
                continue;
            }
            let (direct, via_groups) = (
                index.set_from_rows(loaded.user),
                index.set_from_rows(loaded.group),
            );
            let perms = match loaded.generation.filter(|_| consistent && self.caching()) {
                Some(g) => {
                    let perms = Arc::new(self.cache.shared_perms(g, direct, via_groups));
                    self.cache.put_user(g, user.id, Arc::clone(&perms));
                    perms
                }
                None => Arc::new(UserPerms::new(direct, via_groups)),
            };
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
            user: parse_ids(row.opt_text("direct")?)?,
            group: parse_ids(row.opt_text("via_groups")?)?,
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

    /// The user row for `key`, with the generations and the permissions read with it (`None`
    /// when the cache holds them for these generations), when caching.
    async fn user_with_generation(
        &self,
        key: Key<'_>,
    ) -> Result<Option<(User, Option<Gen>, Option<Loaded>)>> {
        if !self.caching() {
            let (sql, arg) = match key {
                Key::Name(name) => (&USER_NAMED, name.into()),
                Key::Id(id) => (&USER_BY_ID, id.into()),
            };
            let rows = self.db.fetch_all(sql, &[arg]).await?;
            return Ok(exact_user(key, rows.iter())?.map(|(user, _)| (user, None, None)));
        }
        // By id, the cache says whether it holds this user; by name, skip the permissions while
        // the cache holds any generation (a user it does not hold then costs a second read).
        let (sql, cached, arg) = match key {
            Key::Name(name) => (
                &USER_NAMED_WITH_PERMS,
                self.cache.generations(),
                name.into(),
            ),
            Key::Id(id) => (&USER_WITH_PERMS, self.cache.cached_at(id), id.into()),
        };
        let [a, b, c, d] = cached_args(cached);
        let rows = self.db.fetch_all(sql, &[a, b, c, d, arg]).await?;
        let Some((user, r)) = exact_user(key, rows.iter())? else {
            return Ok(None);
        };
        let g = read_gen(r)?;
        let read = perms_read(r, g, cached)?;
        Ok(Some((user, Some(g), read)))
    }

    /// Number of users whose permissions are cached in this process.
    pub fn cached_users(&self) -> usize {
        self.cache.len()
    }

    /// The bytes the cached users' permissions take in this process, estimated from the layout:
    /// the map, each user's entry, and each distinct permission set once (members of the same
    /// groups share their sets). The permission index, one per process, is not counted.
    pub fn cached_permission_bytes(&self) -> usize {
        self.cache.user_bytes()
    }
}

/// The row whose user matches `key` exactly (a name lookup may match case-insensitively on
/// MariaDB's collations), with the user.
fn exact_user<'r>(
    key: Key<'_>,
    rows: impl Iterator<Item = &'r Row>,
) -> Result<Option<(User, &'r Row)>> {
    let mut found = None;
    for r in rows {
        let user = user_from_row(r)?;
        let exact = match key {
            Key::Name(name) => user.username == name,
            Key::Id(_) => true,
        };
        if exact {
            found = Some((user, r));
        }
    }
    Ok(found)
}

/// The permissions a row read with [`perms_unless_cached!`] holds: none when it was read at the
/// generations the cache was asked about (`cached`), the lists otherwise.
fn perms_read(r: &Row, g: Gen, cached: Option<Gen>) -> Result<Option<Loaded>> {
    if cached == Some(g) {
        return Ok(None);
    }
    Ok(Some(Loaded {
        generation: Some(g),
        user: parse_ids(r.opt_text("direct")?)?,
        group: parse_ids(r.opt_text("via_groups")?)?,
    }))
}

#[derive(Clone, Copy)]
enum Key<'a> {
    Name(&'a str),
    Id(UserId),
}
