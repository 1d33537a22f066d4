//! What the password-reset views need from `auth_user` beyond the rest of the store: the query of
//! Django's `PasswordResetForm.get_users` (active users whose e-mail matches ignoring case).

use castellan_core::User;

use crate::error::Result;
use crate::sql::Sql;
use crate::users::{user_columns, user_from_row};
use crate::Store;

/// `email__iexact` with `is_active=True`. `UPPER` on both sides is PostgreSQL's `iexact` in Django;
/// on SQLite it folds ASCII only and MariaDB compares with the column's collation, so the caller
/// compares again with Unicode case folding (`castellan_core::tokens::reset_recipients`).
const ACTIVE_USERS_BY_EMAIL: Sql = crate::sql!(concat!(
    "SELECT ",
    user_columns!(),
    " FROM auth_user u WHERE u.is_active = TRUE AND UPPER(u.email) = UPPER($1) ORDER BY u.id"
));

/// The statements of this module.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[ACTIVE_USERS_BY_EMAIL];

impl Store {
    /// The active users whose e-mail equals `email` ignoring case, by primary key (Django's
    /// `PasswordResetForm.get_users` query; blank e-mails never match a non-blank address).
    pub async fn users_by_email(&self, email: &str) -> Result<Vec<User>> {
        if email.is_empty() {
            return Ok(Vec::new());
        }
        self.db
            .fetch_all(&ACTIVE_USERS_BY_EMAIL, &[email.into()])
            .await?
            .iter()
            .map(user_from_row)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use castellan_testkit::{per_db, TestDb};

    use crate::{NewUser, Store};

    async fn add(store: &Store, name: &str, email: &str, active: bool) {
        let mut u = NewUser::new(name);
        u.email = email.into();
        u.is_active = active;
        store.create_user(u).await.unwrap();
    }

    async fn finds_active_users_by_email_ignoring_case(db: TestDb) {
        let store = Store::connect(&db.url).await.unwrap();
        store
            .migrate(&castellan_core::Registry::django())
            .await
            .unwrap();
        add(&store, "a", "Alice@Example.com", true).await;
        add(&store, "b", "alice@example.COM", true).await;
        add(&store, "c", "alice@example.com", false).await;
        add(&store, "d", "bob@example.com", true).await;
        add(&store, "e", "", true).await;
        let names = |users: Vec<castellan_core::User>| {
            users.into_iter().map(|u| u.username).collect::<Vec<_>>()
        };
        let found = store.users_by_email("ALICE@example.com").await.unwrap();
        assert_eq!(names(found), ["a", "b"]);
        assert!(store.users_by_email("").await.unwrap().is_empty());
        assert!(store
            .users_by_email("carol@example.com")
            .await
            .unwrap()
            .is_empty());
        // LIKE-style wildcards are plain characters here.
        assert!(store
            .users_by_email("%@example.com")
            .await
            .unwrap()
            .is_empty());
        store.close().await;
    }

    per_db!(finds_active_users_by_email_ignoring_case);
}
