//! Authentication (Django's `ModelBackend.authenticate`) and password hashing off the async executor.

use castellan_core::hashers::unusable_password;
use castellan_core::{User, UserId};
use getrandom::SysRng;
use rand_core::UnwrapErr;

use crate::error::{Error, Result};
use crate::sql::Sql;
use crate::Store;

/// Replaces a password hash, only if it is still the one that was checked.
const UPGRADE_HASH: Sql =
    crate::sql!("UPDATE auth_user SET password = $1 WHERE id = $2 AND password = $3");
/// Django's `update_last_login`.
const TOUCH_LAST_LOGIN: Sql = crate::sql!("UPDATE auth_user SET last_login = $1 WHERE id = $2");

/// The statements of this module, for the test that prepares every statement on each database.
#[cfg(test)]
pub(crate) const STATEMENTS: &[Sql] = &[UPGRADE_HASH, TOUCH_LAST_LOGIN];

impl Store {
    /// Runs CPU-heavy hasher work on the blocking pool, at most one job per core at a time.
    pub(crate) async fn hashing<T: Send + 'static>(
        &self,
        job: impl FnOnce(&castellan_core::hashers::Hashers) -> T + Send + 'static,
    ) -> Result<T> {
        let _slot = self
            .hash_slots
            .acquire()
            .await
            .map_err(|e| Error::Task(e.to_string()))?;
        let hashers = std::sync::Arc::clone(&self.hashers);
        tokio::task::spawn_blocking(move || job(&hashers))
            .await
            .map_err(|e| Error::Task(e.to_string()))
    }

    /// Hashes a raw password with the preferred hasher, or makes an unusable one for `None`.
    pub(crate) async fn hash_password(&self, raw: Option<String>) -> Result<String> {
        match raw {
            None => Ok(unusable_password(&mut UnwrapErr(SysRng))),
            Some(raw) => Ok(self
                .hashing(move |h| h.make_password(raw.as_bytes(), &mut UnwrapErr(SysRng)))
                .await?
                .map_err(castellan_core::Error::from)?),
        }
    }

    /// Django's `authenticate(username=…, password=…)` with the model backend.
    ///
    /// * Unknown user: the preferred hasher runs once on a dummy password, then `Ok(None)`.
    /// * Known user: the password is checked (which runs the hasher once, also for unusable or
    ///   unrecognised stored values); an out-of-date hash of a correct password is upgraded to the
    ///   preferred hasher, **before** the `is_active` test, as Django does; an inactive user gets `Ok(None)`.
    /// * `Err` only when the database fails ("wrong password" is `Ok(None)`).
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<Option<User>> {
        let user = self.user(username).await?;
        let Some(mut user) = user else {
            self.hashing(|h| h.fake_hash(&mut UnwrapErr(SysRng)))
                .await?;
            return Ok(None);
        };
        let (encoded, raw) = (user.password.clone(), password.to_owned());
        let (check, upgraded) = self
            .hashing(move |h| {
                let check =
                    h.check_password(Some(raw.as_bytes()), &encoded, &mut UnwrapErr(SysRng));
                let upgraded = check
                    .needs_upgrade()
                    .then(|| h.make_password(raw.as_bytes(), &mut UnwrapErr(SysRng)).ok())
                    .flatten();
                (check, upgraded)
            })
            .await?;
        if let Some(new_hash) = upgraded {
            // Only replace the hash that was checked (a concurrent password change wins).
            self.db
                .execute(
                    &UPGRADE_HASH,
                    &[(&new_hash).into(), user.id.into(), (&user.password).into()],
                )
                .await?;
            user.password = new_hash;
        }
        Ok((check.valid && user.is_active).then_some(user))
    }

    /// Records a successful login (Django's `update_last_login`).
    pub async fn touch_last_login(&self, user_id: UserId) -> Result<()> {
        self.db
            .execute(
                &TOUCH_LAST_LOGIN,
                &[chrono::Utc::now().into(), user_id.into()],
            )
            .await?;
        Ok(())
    }
}
