//! Users: create, read, update, delete, passwords, group memberships and direct permissions.
//!
//! Every write validates its whole input first and runs in one transaction: bad input changes nothing.

use castellan_core::validators::{
    normalize_email, normalize_username, validate_email, validate_person_name, validate_username,
};
use castellan_core::{User, UserId};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::audit::json;
use crate::error::{Error, Result};
use crate::grants::{PermChange, PermHolder};
use crate::lookalike::{refuse_lookalike, Names};
use crate::lookup::{find_user_id, group_id, user_id};
use crate::retry::retry_busy;
use crate::sql::{Arg, Row, Sql, SqlText, Tx};
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
    /// Values for the user model's own columns (`REQUIRED_FIELDS` such as `display_name`), as
    /// `(column, value)`: see [`UserSchema::required_fields`](crate::UserSchema::required_fields).
    /// `auth.User` has none.
    #[serde(default)]
    pub fields: Vec<(String, String)>,
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

/// The columns of `auth_user u` that make a [`User`], as a literal for `concat!`.
macro_rules! user_columns {
    () => {
        "u.id AS id, u.password AS password, u.last_login AS last_login, \
         u.is_superuser AS is_superuser, u.username AS username, u.first_name AS first_name, \
         u.last_name AS last_name, u.email AS email, u.is_staff AS is_staff, \
         u.is_active AS is_active, u.date_joined AS date_joined"
    };
}
pub(crate) use user_columns;

/// A [`User`] from a row selected with [`user_columns!`].
pub(crate) fn user_from_row(r: &Row) -> Result<User> {
    Ok(User {
        id: r.user_id("id")?,
        password: r.text("password")?,
        last_login: r.opt_ts("last_login")?,
        is_superuser: r.flag("is_superuser")?,
        username: r.text("username")?,
        first_name: r.text("first_name")?,
        last_name: r.text("last_name")?,
        email: r.text("email")?,
        is_staff: r.flag("is_staff")?,
        is_active: r.flag("is_active")?,
        date_joined: r.opt_ts("date_joined")?,
    })
}

const USERS_NAMED: Sql = crate::sql!(concat!(
    "SELECT ",
    user_columns!(),
    " FROM auth_user u WHERE u.username = $1"
));
const USERS: Sql = crate::sql!(concat!("SELECT ", user_columns!(), " FROM auth_user u"));
pub(crate) const USER_BY_ID: Sql = crate::sql!(concat!(
    "SELECT ",
    user_columns!(),
    " FROM auth_user u WHERE u.id = $1"
));
const INSERT_USER: Sql = crate::sql!(
    "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, \
     email, is_staff, is_active, date_joined) VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9)"
);
const SET_EMAIL: Sql = crate::sql!("UPDATE auth_user SET email = $1 WHERE id = $2");
const SET_FIRST_NAME: Sql = crate::sql!("UPDATE auth_user SET first_name = $1 WHERE id = $2");
const SET_LAST_NAME: Sql = crate::sql!("UPDATE auth_user SET last_name = $1 WHERE id = $2");
const SET_STAFF: Sql = crate::sql!("UPDATE auth_user SET is_staff = $1 WHERE id = $2");
const SET_SUPERUSER: Sql = crate::sql!("UPDATE auth_user SET is_superuser = $1 WHERE id = $2");
const SET_ACTIVE: Sql = crate::sql!("UPDATE auth_user SET is_active = $1 WHERE id = $2");
const SET_PASSWORD: Sql = crate::sql!("UPDATE auth_user SET password = $1 WHERE id = $2");
const DELETE_MEMBERSHIPS: Sql = crate::sql!("DELETE FROM auth_user_groups WHERE user_id = $1");
const DELETE_DIRECT_GRANTS: Sql =
    crate::sql!("DELETE FROM auth_user_user_permissions WHERE user_id = $1");
const DELETE_USER: Sql = crate::sql!("DELETE FROM auth_user WHERE id = $1");
const USER_GROUP_NAMES: Sql = crate::sql!(
    "SELECT g.name AS name FROM auth_group g \
     JOIN auth_user_groups ug ON ug.group_id = g.id WHERE ug.user_id = $1"
);
const MEMBERSHIP_COUNT: Sql =
    crate::sql!("SELECT count(*) AS n FROM auth_user_groups WHERE user_id = $1 AND group_id = $2");
const INSERT_MEMBERSHIP: Sql =
    crate::sql!("INSERT INTO auth_user_groups (user_id, group_id) VALUES ($1, $2)");
const DELETE_MEMBERSHIP: Sql =
    crate::sql!("DELETE FROM auth_user_groups WHERE user_id = $1 AND group_id = $2");

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[
    USERS_NAMED,
    USERS,
    USER_BY_ID,
    INSERT_USER,
    SET_EMAIL,
    SET_FIRST_NAME,
    SET_LAST_NAME,
    SET_STAFF,
    SET_SUPERUSER,
    SET_ACTIVE,
    SET_PASSWORD,
    DELETE_MEMBERSHIPS,
    DELETE_DIRECT_GRANTS,
    DELETE_USER,
    USER_GROUP_NAMES,
    MEMBERSHIP_COUNT,
    INSERT_MEMBERSHIP,
    DELETE_MEMBERSHIP,
];

impl Store {
    /// The user with exactly this username (case-sensitive, as Django's `get_by_natural_key`).
    pub async fn user(&self, username: &str) -> Result<Option<User>> {
        for r in self.db.fetch_all(&USERS_NAMED, &[username.into()]).await? {
            let user = user_from_row(&r)?;
            if user.username == username {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }

    /// Every user, sorted by username.
    pub async fn users(&self) -> Result<Vec<User>> {
        let mut users = self
            .db
            .fetch_all(&USERS, &[])
            .await?
            .iter()
            .map(user_from_row)
            .collect::<Result<Vec<_>>>()?;
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }

    /// Creates a user. The username is NFKC-normalised and validated, the e-mail normalised and
    /// validated, the password hashed with the preferred hasher (or made unusable when `None`).
    /// A username that looks the same as another user's (see [`castellan_core::lookalike`]) is
    /// refused with [`Error::AlreadyExists`] naming that user.
    ///
    /// For a custom user model, the username is its `USERNAME_FIELD` (validated as an e-mail
    /// address when that field is `email`), [`NewUser::fields`] fill the model's own columns,
    /// and a user the table would refuse (a required column not given, a flag the model does not
    /// have) is an [`Error::UserModel`] before anything is written.
    pub async fn create_user(&self, new: NewUser) -> Result<User> {
        let username = self.clean_username(&new.username)?;
        let email = if self.users.model().username_field() == "email" {
            let given = normalize_email(&new.email);
            if !given.is_empty() && given != username {
                return Err(Error::UserModel(format!(
                    "the username of {} is its e-mail address; give the address once, as the username",
                    self.users.model()
                )));
            }
            username.clone()
        } else {
            let email = normalize_email(&new.email);
            validate_email(&email)?;
            email
        };
        validate_person_name("first name", &new.first_name)?;
        validate_person_name("last name", &new.last_name)?;
        self.check_new_user_fits(&new, &email)?;
        let password = self.hash_password(new.password.clone()).await?;
        let now = Utc::now();
        // A collision with a concurrent write is retried, so that the loser of a race between
        // look-alike usernames gets the look-alike refusal rather than "busy".
        let id =
            retry_busy(|| self.insert_user_once(&new, &username, &email, &password, now)).await?;
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
            date_joined: self.users.has_column("date_joined").then_some(now),
        })
    }

    /// The `USERNAME_FIELD` value as the user model would store it (NFKC-normalised for
    /// `username`, an e-mail address with its domain lower-cased for `email`), or why it is
    /// invalid.
    pub fn clean_username(&self, raw: &str) -> Result<String> {
        match self.users.model().username_field() {
            "username" => {
                let username = normalize_username(raw);
                validate_username(&username)?;
                // A custom model may hold fewer characters than auth.User's 150.
                if let Some(column) = self.users.column("username") {
                    column.check_length(&username)?;
                }
                Ok(username)
            }
            field => {
                let value = if field == "email" {
                    normalize_email(raw)
                } else {
                    raw.trim().to_owned()
                };
                if value.is_empty() {
                    return Err(castellan_core::Error::Blank { field: "Username" }.into());
                }
                if field == "email" {
                    validate_email(&value)?;
                }
                if let Some(column) = self.users.column(field) {
                    column.check_length(&value)?;
                }
                Ok(value)
            }
        }
    }

    /// Refuses a new user the user table cannot hold: a value for a column the model does not
    /// have, a field that is not one of the model's own columns, a required column not given.
    fn check_new_user_fits(&self, new: &NewUser, email: &str) -> Result<()> {
        let schema = &self.users;
        let model = schema.model();
        let absent_but_set = [
            ("is_staff", new.is_staff),
            ("is_active", !new.is_active),
            ("first_name", !new.first_name.is_empty()),
            ("last_name", !new.last_name.is_empty()),
            ("email", !email.is_empty()),
        ];
        if let Some(column) = schema.unheld(&absent_but_set) {
            return Err(Error::UserModel(format!(
                "the user model {model} has no {column} column; leave it out"
            )));
        }
        for (name, value) in &new.fields {
            let column = schema.extra_column(name).ok_or_else(|| {
                let own: Vec<&str> = schema.extra_columns().map(|c| c.name.as_str()).collect();
                Error::UserModel(format!(
                    "the user model {model} has no field {name:?} of its own{}",
                    if own.is_empty() {
                        String::new()
                    } else {
                        format!(" (its own fields: {})", own.join(", "))
                    }
                ))
            })?;
            column.arg(value)?;
        }
        let missing: Vec<&str> = schema
            .required_fields()
            .filter(|c| !new.fields.iter().any(|(name, _)| *name == c.name))
            .map(|c| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Error::UserModel(format!(
                "a new {model} needs a value for {}: give each with --field NAME=VALUE",
                missing.join(", ")
            )));
        }
        Ok(())
    }

    /// One try of [`Store::create_user`]'s write: the checks, the row and the audit entry in one
    /// transaction; the new user's id.
    async fn insert_user_once(
        &self,
        new: &NewUser,
        username: &str,
        email: &str,
        password: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<UserId> {
        let mut tx = self.db.begin().await?;
        if find_user_id(&mut tx, username).await?.is_some() {
            return Err(Error::AlreadyExists {
                what: "user",
                message: format!("A user with that username already exists: {username:?}."),
            });
        }
        refuse_lookalike(&mut tx, Names::Users, username, None).await?;
        if self.users.model().is_django_default() {
            tx.execute(
                &INSERT_USER,
                &[
                    password.into(),
                    new.is_superuser.into(),
                    username.into(),
                    new.first_name.as_str().into(),
                    new.last_name.as_str().into(),
                    email.into(),
                    new.is_staff.into(),
                    new.is_active.into(),
                    now.into(),
                ],
            )
            .await?;
        } else {
            self.insert_model_user(&mut tx, new, username, email, password, now)
                .await?;
        }
        let id = user_id(&mut tx, username).await?;
        let after = json(&serde_json::json!({
            "email": email, "first_name": &new.first_name, "last_name": &new.last_name,
            "is_staff": new.is_staff, "is_superuser": new.is_superuser, "is_active": new.is_active,
            "has_usable_password": new.password.is_some(),
        }));
        self.audit(&mut tx, "user.create", "user", username, None, after)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The insert of a custom model's user: the columns the model has, and its own fields.
    async fn insert_model_user(
        &self,
        tx: &mut Tx,
        new: &NewUser,
        username: &str,
        email: &str,
        password: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<()> {
        let schema = &self.users;
        let mut columns: Vec<&str> = vec!["password", "is_superuser", "username"];
        let mut args: Vec<Arg<'_>> =
            vec![password.into(), new.is_superuser.into(), username.into()];
        if let Some(id) = schema.new_id()? {
            columns.push("id");
            args.push(id.into());
        }
        let optional: [(&str, Arg<'_>); 6] = [
            ("first_name", new.first_name.as_str().into()),
            ("last_name", new.last_name.as_str().into()),
            ("email", email.into()),
            ("is_staff", new.is_staff.into()),
            ("is_active", new.is_active.into()),
            ("date_joined", now.into()),
        ];
        for (column, arg) in optional {
            if schema.has_column(column) && column != schema.model().username_field() {
                columns.push(column);
                args.push(arg);
            }
        }
        for (name, value) in &new.fields {
            if let Some(column) = schema.extra_column(name) {
                columns.push(column.name.as_str());
                args.push(column.arg(value)?);
            }
        }
        let mut sql = SqlText::new(tx.dialect());
        sql.once()
            .push("INSERT INTO auth_user (last_login, ")
            .push(&columns.join(", "))
            .push(") VALUES (NULL, ")
            .params(columns.len())
            .push(")");
        tx.execute(&sql, &args).await?;
        Ok(())
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
        let before = self.user(username).await?.map(|u| flags_json(&u));
        let after = serde_json::json!({
            "email": &email, "first_name": &changes.first_name, "last_name": &changes.last_name,
            "is_staff": changes.is_staff, "is_superuser": changes.is_superuser, "is_active": changes.is_active,
        });
        let mut tx = self.db.begin().await?;
        let id = user_id(&mut tx, username).await?;
        self.audit(
            &mut tx,
            "user.update",
            "user",
            username,
            before,
            json(&after),
        )
        .await?;
        let texts = [
            (&SET_EMAIL, email.as_deref()),
            (&SET_FIRST_NAME, changes.first_name.as_deref()),
            (&SET_LAST_NAME, changes.last_name.as_deref()),
        ];
        for (sql, value) in texts {
            if let Some(v) = value {
                tx.execute(sql, &[v.into(), id.into()]).await?;
            }
        }
        let flags = [
            (&SET_STAFF, changes.is_staff),
            (&SET_SUPERUSER, changes.is_superuser),
            (&SET_ACTIVE, changes.is_active),
        ];
        for (sql, value) in flags {
            if let Some(v) = value {
                tx.execute(sql, &[v.into(), id.into()]).await?;
            }
        }
        tx.commit().await?;
        self.user(username).await?.ok_or_else(|| Error::NotFound {
            what: "user",
            name: username.to_owned(),
        })
    }

    /// Deletes a user with its group memberships and direct permissions (Django's cascade).
    pub async fn delete_user(&self, username: &str) -> Result<()> {
        let before = self.user(username).await?.map(|u| flags_json(&u));
        let mut tx = self.db.begin().await?;
        let id = user_id(&mut tx, username).await?;
        self.audit(&mut tx, "user.delete", "user", username, before, None)
            .await?;
        self.delete_object_grants(&mut tx, crate::object_perms::GrantsOf::User(id))
            .await?;
        for sql in [&DELETE_MEMBERSHIPS, &DELETE_DIRECT_GRANTS, &DELETE_USER] {
            tx.execute(sql, &[id.into()]).await?;
        }
        tx.commit().await?;
        self.after_write();
        Ok(())
    }

    /// Sets (or, with `None`, makes unusable) a user's password, hashed with the preferred hasher.
    pub async fn set_password(&self, username: &str, raw: Option<&str>) -> Result<()> {
        let encoded = self.hash_password(raw.map(str::to_owned)).await?;
        let mut tx = self.db.begin().await?;
        let id = user_id(&mut tx, username).await?;
        self.write_password(&mut tx, id, username, &encoded, raw.is_some())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inside `tx`: stores the already hashed password of user `id` and audits the change (without
    /// the hash). The one write behind [`Store::set_password`], [`Store::set_password_by_id`] and
    /// [`Store::set_password_at_version`].
    pub(crate) async fn write_password(
        &self,
        tx: &mut Tx,
        id: UserId,
        username: &str,
        encoded: &str,
        usable: bool,
    ) -> Result<()> {
        tx.execute(&SET_PASSWORD, &[encoded.into(), id.into()])
            .await?;
        // The hash itself never goes into the audit trail.
        let after = json(&serde_json::json!({ "has_usable_password": usable }));
        self.audit(tx, "user.set_password", "user", username, None, after)
            .await
    }

    /// Sets (or, with `None`, makes unusable) the password of the user with primary key `id` and
    /// returns the updated row, or `None` when there is no such user (a rename between reading the
    /// user and writing cannot redirect the change to another account, as a username could).
    pub async fn set_password_by_id(&self, id: UserId, raw: Option<&str>) -> Result<Option<User>> {
        let encoded = self.hash_password(raw.map(str::to_owned)).await?;
        let mut tx = self.db.begin().await?;
        let Some(row) = tx.fetch_optional(&USER_BY_ID, &[id.into()]).await? else {
            return Ok(None);
        };
        let mut user = user_from_row(&row)?;
        self.write_password(&mut tx, id, &user.username, &encoded, raw.is_some())
            .await?;
        tx.commit().await?;
        user.password = encoded;
        Ok(Some(user))
    }

    /// The names of a user's groups, sorted.
    pub async fn user_groups(&self, username: &str) -> Result<Vec<String>> {
        let id = user_id(&mut &self.db, username).await?;
        self.group_names_by_id(id).await
    }

    /// The names of the groups of the user whose key is `id`, sorted, read now.
    pub(crate) async fn group_names_by_id(&self, id: UserId) -> Result<Vec<String>> {
        let mut names = self
            .db
            .fetch_all(&USER_GROUP_NAMES, &[id.into()])
            .await?
            .iter()
            .map(|r| r.text("name"))
            .collect::<Result<Vec<_>>>()?;
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
        let mut tx = self.db.begin().await?;
        let mut user_ids = Vec::with_capacity(usernames.len());
        for u in usernames {
            user_ids.push(user_id(&mut tx, u).await?);
        }
        let mut group_ids = Vec::with_capacity(groups.len());
        for g in groups {
            group_ids.push(group_id(&mut tx, g).await?);
        }
        let mut n = 0;
        for (u, &uid) in usernames.iter().zip(&user_ids) {
            for (g, &gid) in groups.iter().zip(&group_ids) {
                let pair = [uid.into(), gid.into()];
                let present = tx.fetch_one(&MEMBERSHIP_COUNT, &pair).await?.int("n")? > 0;
                let change = json(&serde_json::json!({ "group": g }));
                if add && !present {
                    n += tx.execute(&INSERT_MEMBERSHIP, &pair).await?;
                    self.audit(&mut tx, "user.add_group", "user", u, None, change)
                        .await?;
                } else if !add && present {
                    n += tx.execute(&DELETE_MEMBERSHIP, &pair).await?;
                    self.audit(&mut tx, "user.remove_group", "user", u, change, None)
                        .await?;
                }
            }
        }
        tx.commit().await?;
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
        let mut tx = self.db.begin().await?;
        let uid = user_id(&mut tx, username).await?;
        let (grant, revoke) = if grant {
            (perms, &[][..])
        } else {
            (&[][..], perms)
        };
        let change = PermChange {
            holder: PermHolder::User,
            id: uid.into(),
            name: username,
            grant,
            revoke,
        };
        let n = self.change_perms(&mut tx, change).await?;
        tx.commit().await?;
        self.after_write();
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
