//! Users: create, read, update, delete, passwords, group memberships and direct permissions.
//!
//! Every write validates its whole input first and runs in one transaction: bad input changes nothing.

use castellan_core::validators::{
    normalize_email, normalize_username, validate_email, validate_person_name, validate_username,
};
use castellan_core::User;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::audit::{audit, json};
use crate::error::{Error, Result};
use crate::lookalike::{refuse_lookalike, Names};
use crate::on_pool;
use crate::pool::{ts_from_text, ts_to_text, Dialect, RowExt};
use crate::sqlm::{change_perms, exact_id, exec, group_id, permission_rows, user_id, PermHolder};
use crate::Store;

/// A user to create (Django's `create_user` / `create_superuser` arguments).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    /// Username: NFKC-normalised, then validated with Django's rules.
    pub username: String,
    /// E-mail (blank allowed); its domain is lower-cased.
    pub email: String,
    /// The raw password; `None` stores an unusable password, as Django does.
    pub password: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// `is_staff`.
    pub is_staff: bool,
    /// `is_superuser`.
    pub is_superuser: bool,
    /// `is_active` (Django's default is true).
    pub is_active: bool,
}

impl NewUser {
    /// An active, non-staff user with an unusable password.
    pub fn new(username: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            is_active: true,
            ..Self::default()
        }
    }
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChanges {
    /// New e-mail.
    pub email: Option<String>,
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New `is_staff`.
    pub is_staff: Option<bool>,
    /// New `is_superuser`.
    pub is_superuser: Option<bool>,
    /// New `is_active`.
    pub is_active: Option<bool>,
}

fn flags_json(u: &User) -> String {
    serde_json::json!({
        "email": u.email, "first_name": u.first_name, "last_name": u.last_name,
        "is_staff": u.is_staff, "is_superuser": u.is_superuser, "is_active": u.is_active,
    })
    .to_string()
}

pub(crate) fn user_columns(d: Dialect) -> String {
    format!(
        "u.id AS id, u.password AS password, {} AS last_login, u.is_superuser AS is_superuser, \
         u.username AS username, u.first_name AS first_name, u.last_name AS last_name, u.email AS email, \
         u.is_staff AS is_staff, u.is_active AS is_active, {} AS date_joined",
        d.ts_text("u.last_login"),
        d.ts_text("u.date_joined")
    )
}

pub(crate) fn user_from_row(r: &impl RowExt) -> Result<User> {
    let date_joined = r.text("date_joined")?;
    Ok(User {
        id: r.int("id")?,
        password: r.text("password")?,
        last_login: r.opt_text("last_login")?.as_deref().and_then(ts_from_text),
        is_superuser: r.flag("is_superuser")?,
        username: r.text("username")?,
        first_name: r.text("first_name")?,
        last_name: r.text("last_name")?,
        email: r.text("email")?,
        is_staff: r.flag("is_staff")?,
        is_active: r.flag("is_active")?,
        date_joined: ts_from_text(&date_joined).ok_or_else(|| {
            Error::Schema(format!(
                "auth_user.date_joined holds {date_joined:?}, which is not a timestamp"
            ))
        })?,
    })
}

impl Store {
    /// The user with exactly this username (case-sensitive, as Django's `get_by_natural_key`).
    pub async fn user(&self, username: &str) -> Result<Option<User>> {
        let d = self.dialect();
        let sql = format!(
            "SELECT {} FROM auth_user u WHERE u.username = ?",
            user_columns(d)
        );
        let users = on_pool!(&self.pool, p => {
            let rows = sqlx::query(&d.sql(&sql)).bind(username).fetch_all(p).await?;
            rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?
        });
        Ok(users.into_iter().find(|u| u.username == username))
    }

    /// Every user, sorted by username.
    pub async fn users(&self) -> Result<Vec<User>> {
        let d = self.dialect();
        let sql = format!("SELECT {} FROM auth_user u", user_columns(d));
        let mut users = on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).fetch_all(p).await?;
            rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?
        });
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }

    /// Creates a user. The username is NFKC-normalised and validated, the e-mail normalised and
    /// validated, the password hashed with the preferred hasher (or made unusable when `None`).
    /// A username that looks the same as another user's (see [`castellan_core::lookalike`]) is
    /// refused with [`Error::AlreadyExists`] naming that user.
    pub async fn create_user(&self, new: NewUser) -> Result<User> {
        let username = normalize_username(&new.username);
        validate_username(&username)?;
        let email = normalize_email(&new.email);
        validate_email(&email)?;
        validate_person_name("first name", &new.first_name)?;
        validate_person_name("last name", &new.last_name)?;
        let password = self.hash_password(new.password.clone()).await?;
        let now = Utc::now();
        let d = self.dialect();
        let id = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let taken = exact_id!(&mut *tx, d, "SELECT id, username AS name FROM auth_user WHERE username = ?", &username);
            if taken.is_some() {
                return Err(Error::AlreadyExists {
                    what: "user",
                    message: format!("A user with that username already exists: {username:?}."),
                });
            }
            refuse_lookalike!(&mut *tx, d, Names::Users, &username, None);
            exec!(
                &mut *tx,
                d,
                "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) \
                 VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?ts)",
                &password,
                new.is_superuser,
                &username,
                &new.first_name,
                &new.last_name,
                &email,
                new.is_staff,
                new.is_active,
                ts_to_text(now)
            );
            let id = user_id!(&mut *tx, d, &username);
            audit!(&mut *tx, self, "user.create", "user", &username, None, json(&serde_json::json!({
                "email": &email, "first_name": &new.first_name, "last_name": &new.last_name,
                "is_staff": new.is_staff, "is_superuser": new.is_superuser, "is_active": new.is_active,
                "has_usable_password": new.password.is_some(),
            })));
            tx.commit().await?;
            id
        });
        Ok(User {
            id,
            password,
            last_login: None,
            is_superuser: new.is_superuser,
            username,
            first_name: new.first_name,
            last_name: new.last_name,
            email,
            is_staff: new.is_staff,
            is_active: new.is_active,
            date_joined: now,
        })
    }

    /// Applies changes to a user.
    pub async fn update_user(&self, username: &str, changes: UserChanges) -> Result<User> {
        let email = changes.email.as_deref().map(normalize_email);
        if let Some(email) = &email {
            validate_email(email)?;
        }
        if let Some(v) = &changes.first_name {
            validate_person_name("first name", v)?;
        }
        if let Some(v) = &changes.last_name {
            validate_person_name("last name", v)?;
        }
        let d = self.dialect();
        let before = self.user(username).await?.map(|u| flags_json(&u));
        let after = serde_json::json!({
            "email": &email, "first_name": &changes.first_name, "last_name": &changes.last_name,
            "is_staff": changes.is_staff, "is_superuser": changes.is_superuser, "is_active": changes.is_active,
        });
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let id = user_id!(&mut *tx, d, username);
            audit!(&mut *tx, self, "user.update", "user", username, before.clone(), json(&after));
            if let Some(v) = &email {
                exec!(&mut *tx, d, "UPDATE auth_user SET email = ? WHERE id = ?", v, id);
            }
            if let Some(v) = &changes.first_name {
                exec!(&mut *tx, d, "UPDATE auth_user SET first_name = ? WHERE id = ?", v, id);
            }
            if let Some(v) = &changes.last_name {
                exec!(&mut *tx, d, "UPDATE auth_user SET last_name = ? WHERE id = ?", v, id);
            }
            if let Some(v) = changes.is_staff {
                exec!(&mut *tx, d, "UPDATE auth_user SET is_staff = ? WHERE id = ?", v, id);
            }
            if let Some(v) = changes.is_superuser {
                exec!(&mut *tx, d, "UPDATE auth_user SET is_superuser = ? WHERE id = ?", v, id);
            }
            if let Some(v) = changes.is_active {
                exec!(&mut *tx, d, "UPDATE auth_user SET is_active = ? WHERE id = ?", v, id);
            }
            tx.commit().await?;
        });
        self.user(username).await?.ok_or_else(|| Error::NotFound {
            what: "user",
            name: username.to_owned(),
        })
    }

    /// Deletes a user with its group memberships and direct permissions (Django's cascade).
    pub async fn delete_user(&self, username: &str) -> Result<()> {
        let d = self.dialect();
        let before = self.user(username).await?.map(|u| flags_json(&u));
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let id = user_id!(&mut *tx, d, username);
            audit!(&mut *tx, self, "user.delete", "user", username, before.clone(), None);
            exec!(&mut *tx, d, "DELETE FROM auth_user_groups WHERE user_id = ?", id);
            exec!(&mut *tx, d, "DELETE FROM auth_user_user_permissions WHERE user_id = ?", id);
            exec!(&mut *tx, d, "DELETE FROM auth_user WHERE id = ?", id);
            tx.commit().await?;
        });
        self.after_write();
        Ok(())
    }

    /// Sets (or, with `None`, makes unusable) a user's password, hashed with the preferred hasher.
    pub async fn set_password(&self, username: &str, raw: Option<&str>) -> Result<()> {
        let encoded = self.hash_password(raw.map(str::to_owned)).await?;
        let d = self.dialect();
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let id = user_id!(&mut *tx, d, username);
            exec!(&mut *tx, d, "UPDATE auth_user SET password = ? WHERE id = ?", &encoded, id);
            // The hash itself never goes into the audit trail.
            audit!(&mut *tx, self, "user.set_password", "user", username, None,
                json(&serde_json::json!({ "has_usable_password": raw.is_some() })));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Sets (or, with `None`, makes unusable) the password of the user with primary key `id` and
    /// returns the updated row, or `None` when there is no such user (a rename between reading the
    /// user and writing cannot redirect the change to another account, as a username could).
    pub async fn set_password_by_id(&self, id: i64, raw: Option<&str>) -> Result<Option<User>> {
        let encoded = self.hash_password(raw.map(str::to_owned)).await?;
        let d = self.dialect();
        let select = format!("SELECT {} FROM auth_user u WHERE u.id = ?", user_columns(d));
        let user = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let Some(row) = sqlx::query(&d.sql(&select)).bind(id).fetch_optional(&mut *tx).await? else {
                return Ok(None);
            };
            let mut user = user_from_row(&row)?;
            exec!(&mut *tx, d, "UPDATE auth_user SET password = ? WHERE id = ?", &encoded, id);
            audit!(&mut *tx, self, "user.set_password", "user", user.username, None,
                json(&serde_json::json!({ "has_usable_password": raw.is_some() })));
            tx.commit().await?;
            user.password.clone_from(&encoded);
            user
        });
        Ok(Some(user))
    }

    /// The names of a user's groups, sorted.
    pub async fn user_groups(&self, username: &str) -> Result<Vec<String>> {
        let d = self.dialect();
        let mut names = on_pool!(&self.pool, p => {
            let mut conn = p.acquire().await?;
            let id = user_id!(&mut *conn, d, username);
            let rows = sqlx::query(&d.sql(
                "SELECT g.name AS name FROM auth_group g JOIN auth_user_groups ug ON ug.group_id = g.id WHERE ug.user_id = ?",
            ))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
            rows.iter().map(|r| r.text("name")).collect::<Result<Vec<_>>>()?
        });
        names.sort();
        Ok(names)
    }

    /// Adds a user to groups (already a member: no change). Returns how many memberships were added.
    pub async fn add_user_to_groups(&self, username: &str, groups: &[String]) -> Result<usize> {
        self.change_memberships(&[username.to_owned()], groups, true)
            .await
    }

    /// Removes a user from groups (not a member: no change). Returns how many were removed.
    pub async fn remove_user_from_groups(
        &self,
        username: &str,
        groups: &[String],
    ) -> Result<usize> {
        self.change_memberships(&[username.to_owned()], groups, false)
            .await
    }

    /// Adds or removes every (user, group) pair, after checking that every user and group exists.
    pub(crate) async fn change_memberships(
        &self,
        usernames: &[String],
        groups: &[String],
        add: bool,
    ) -> Result<usize> {
        let d = self.dialect();
        let n = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let mut user_ids = Vec::with_capacity(usernames.len());
            for u in usernames {
                user_ids.push(user_id!(&mut *tx, d, u.as_str()));
            }
            let mut group_ids = Vec::with_capacity(groups.len());
            for g in groups {
                group_ids.push(group_id!(&mut *tx, d, g.as_str()));
            }
            let mut n = 0;
            for (ui, &uid) in user_ids.iter().enumerate() {
                for (gi, &gid) in group_ids.iter().enumerate() {
                    let present = sqlx::query(&d.sql("SELECT count(*) AS n FROM auth_user_groups WHERE user_id = ? AND group_id = ?"))
                        .bind(uid)
                        .bind(gid)
                        .fetch_one(&mut *tx)
                        .await?
                        .int("n")?
                        > 0;
                    let (u, g) = (&usernames[ui], &groups[gi]);
                    if add && !present {
                        n += exec!(&mut *tx, d, "INSERT INTO auth_user_groups (user_id, group_id) VALUES (?, ?)", uid, gid);
                        audit!(&mut *tx, self, "user.add_group", "user", u, None, json(&serde_json::json!({ "group": g })));
                    } else if !add && present {
                        n += exec!(&mut *tx, d, "DELETE FROM auth_user_groups WHERE user_id = ? AND group_id = ?", uid, gid);
                        audit!(&mut *tx, self, "user.remove_group", "user", u, json(&serde_json::json!({ "group": g })), None);
                    }
                }
            }
            tx.commit().await?;
            n
        });
        self.after_write();
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Grants permissions directly to a user. Every name must exist; returns how many grants were added.
    pub async fn grant_user(&self, username: &str, perms: &[String]) -> Result<usize> {
        self.change_user_perms(username, perms, true).await
    }

    /// Revokes direct permissions from a user. Every name must exist; returns how many were removed.
    pub async fn revoke_user(&self, username: &str, perms: &[String]) -> Result<usize> {
        self.change_user_perms(username, perms, false).await
    }

    async fn change_user_perms(
        &self,
        username: &str,
        perms: &[String],
        grant: bool,
    ) -> Result<usize> {
        let d = self.dialect();
        let n = on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let uid = user_id!(&mut *tx, d, username);
            let (grant, revoke) = if grant { (perms, &[][..]) } else { (&[][..], perms) };
            let n = change_perms!(tx, d, self, PermHolder::User, uid, username, grant, revoke);
            tx.commit().await?;
            n
        });
        self.after_write();
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
