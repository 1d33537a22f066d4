//! The request-scoped authentication state: the Django session (`django_session` row, signed data),
//! the user it authenticates, and the CSRF secret. [`AuthSession`] is its handle (an extractor);
//! `login`, `logout`, `cycle_key`, `flush` and `update_session_auth_hash` are Django's.

use std::sync::{Arc, Mutex, MutexGuard};

use castellan_core::{Principal, User};
use getrandom::SysRng;
use rand_core::{Rng, UnwrapErr};
use serde_json::{Map, Value};

use crate::config::MODEL_BACKEND;
use crate::csrf;
use crate::error::{Error, Result};
use crate::shared::Shared;
use crate::signing::{constant_time_eq, session_auth_hash};
use castellan_core::signing::{self, SecretKeys};

/// Session keys Django uses for authentication.
pub(crate) const SESSION_KEY: &str = "_auth_user_id";
pub(crate) const BACKEND_SESSION_KEY: &str = "_auth_user_backend";
pub(crate) const HASH_SESSION_KEY: &str = "_auth_user_hash";
/// The salt of `django.contrib.sessions.backends.db.SessionStore`'s signed data.
const SESSION_SALT: &str = "django.contrib.sessions.SessionStore";

/// A new session key: 32 characters of `[a-z0-9]` from the OS CSPRNG (Django's `_get_new_session_key`).
pub(crate) fn new_session_key() -> String {
    const CHARS: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(32);
    while out.len() < 32 {
        let mut buf = [0u8; 64];
        UnwrapErr(SysRng).fill_bytes(&mut buf);
        for b in buf {
            // 36 * 7 = 252: reject the top 4 values to avoid modulo bias.
            if b < 252 && out.len() < 32 {
                out.push(CHARS[usize::from(b % 36)] as char);
            }
        }
    }
    out
}

/// Whether a cookie value can be a session key (Django requires ≥ 8 characters; the column holds 40).
pub(crate) fn valid_session_key(key: &str) -> bool {
    (8..=40).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Encodes session data as Django's database backend does (signed with `secret`, the current key).
pub(crate) fn encode_session(data: &Map<String, Value>, secret: &[u8]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    signing::dumps(
        &Value::Object(data.clone()),
        secret,
        SESSION_SALT,
        true,
        now,
    )
}

/// Decodes Django session data signed with any of `keys`; anything invalid is an empty session
/// (as Django does, which logs it as a suspicious session).
pub(crate) fn decode_session(text: &str, keys: &SecretKeys) -> Map<String, Value> {
    match signing::loads(text, keys, SESSION_SALT) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            tracing::warn!("session data is not a JSON object; treated as empty");
            Map::new()
        }
        Err(e) => {
            tracing::warn!(error = %e, "session data corrupted; treated as empty");
            Map::new()
        }
    }
}

#[derive(Debug)]
pub(crate) struct State {
    /// The key of the session row this request loaded or will write (None: a new key on save).
    pub(crate) key: Option<String>,
    pub(crate) data: Map<String, Value>,
    pub(crate) modified: bool,
    /// Rows to delete when the response is written (old keys after cycle/flush).
    pub(crate) delete: Vec<String>,
    pub(crate) user: Option<User>,
    pub(crate) principal: Principal,
    pub(crate) csrf_secret: Option<String>,
    pub(crate) csrf_cookie_update: bool,
}

/// The request's authentication state: the session, the current user and the CSRF secret.
///
/// An extractor (requires [`AuthLayer`](crate::AuthLayer)); cheap to clone, and shared by every
/// extractor and guard of the request. Changes are written when the response leaves the layer.
#[derive(Clone)]
pub struct AuthSession {
    pub(crate) shared: Arc<Shared>,
    pub(crate) state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("AuthSession")
            .field("user", &state.principal.identity())
            .field("modified", &state.modified)
            .finish_non_exhaustive()
    }
}

impl AuthSession {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The subject of permission checks (anonymous when nobody is logged in).
    pub fn principal(&self) -> Principal {
        self.lock().principal.clone()
    }

    /// The logged-in user's row, or `None` for an anonymous request.
    pub fn user(&self) -> Option<User> {
        self.lock().user.clone()
    }

    /// Whether a user is logged in.
    pub fn is_authenticated(&self) -> bool {
        self.lock().user.is_some()
    }

    /// The users behind this layer (its [`AuthnBackend`](castellan_core::AuthnBackend)), for
    /// handlers that authenticate or change passwords themselves.
    pub fn users(&self) -> crate::Users {
        self.shared.users.clone()
    }

    /// This layer's error for a failed backend call: answers 503 with the configured
    /// `Retry-After` when the backend is unavailable, else 500 (details logged, never shown).
    pub fn backend_error(&self, e: castellan_core::BackendError) -> Error {
        Error::backend(e, self.shared.config.retry_after)
    }

    /// The group names the application trusts (configured ones and every group guard's): the
    /// admin counts them as rights (see [`castellan_core::TrustedGroups`]).
    pub fn trusted_groups(&self) -> castellan_core::TrustedGroups {
        self.shared.trusted_groups()
    }

    /// The configured password validators (`AuthConfig::with_password_validators`).
    pub fn password_validators(&self) -> std::sync::Arc<castellan_core::PasswordValidators> {
        std::sync::Arc::clone(&self.shared.config.password_validators)
    }

    /// A freshly masked CSRF token for a form field or header (Django's `get_token`); sets the
    /// CSRF cookie on the response when the request had none.
    pub fn csrf_token(&self) -> String {
        let mut state = self.lock();
        let secret = match &state.csrf_secret {
            Some(s) => s.clone(),
            None => {
                let s = csrf::new_secret();
                state.csrf_secret = Some(s.clone());
                state.csrf_cookie_update = true;
                s
            }
        };
        csrf::mask(&secret)
    }

    /// Rotates the CSRF secret (Django's `rotate_token`).
    pub fn rotate_csrf(&self) {
        let mut state = self.lock();
        state.csrf_secret = Some(csrf::new_secret());
        state.csrf_cookie_update = true;
    }

    /// A value stored in the session.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.lock().data.get(key).cloned()
    }

    /// Stores a value in the session.
    pub fn insert(&self, key: impl Into<String>, value: Value) {
        let mut state = self.lock();
        state.data.insert(key.into(), value);
        state.modified = true;
    }

    /// Removes a value from the session.
    pub fn remove(&self, key: &str) -> Option<Value> {
        let mut state = self.lock();
        let old = state.data.remove(key);
        if old.is_some() {
            state.modified = true;
        }
        old
    }

    /// Keeps the data under a new key; the old row is deleted (Django's `cycle_key`).
    pub fn cycle_key(&self) {
        cycle(&mut self.lock());
    }

    /// Deletes the session row and empties the data; a new key is made if data is stored again
    /// (Django's `flush`).
    pub fn flush(&self) {
        flush(&mut self.lock());
    }

    /// Django's `login(request, user)`: cycles the key (or flushes a session that belonged to
    /// another user or carries a stale hash), stores the user id, backend and auth hash, and rotates
    /// the CSRF secret. The caller records `last_login` ([`Users::touch_last_login`](crate::Users::touch_last_login)).
    pub async fn login(&self, user: &User) -> Result<()> {
        let principal = self
            .shared
            .users
            .principal(user)
            .await
            .map_err(|e| Error::backend(e, self.shared.config.retry_after))?;
        let hash = session_auth_hash(&user.password, self.shared.config.keys.current());
        let mut state = self.lock();
        let stale = match state.data.get(SESSION_KEY) {
            None => false,
            Some(id) => {
                id.as_str() != Some(user.id.to_string().as_str())
                    || !state
                        .data
                        .get(HASH_SESSION_KEY)
                        .and_then(Value::as_str)
                        .is_some_and(|h| constant_time_eq(h, &hash))
            }
        };
        if stale {
            flush(&mut state);
        } else {
            cycle(&mut state);
        }
        state
            .data
            .insert(SESSION_KEY.into(), Value::String(user.id.to_string()));
        state.data.insert(
            BACKEND_SESSION_KEY.into(),
            Value::String(MODEL_BACKEND.into()),
        );
        state
            .data
            .insert(HASH_SESSION_KEY.into(), Value::String(hash));
        state.modified = true;
        state.user = Some(user.clone());
        self.shared.observe_index(principal.index());
        state.principal = principal;
        state.csrf_secret = Some(csrf::new_secret());
        state.csrf_cookie_update = true;
        Ok(())
    }

    /// Django's `logout(request)`: deletes the session row, clears the cookie, makes the request
    /// anonymous.
    pub fn logout(&self) {
        let mut state = self.lock();
        flush(&mut state);
        state.user = None;
        state.principal = Principal::anonymous(self.shared.index());
    }

    /// Django's `update_session_auth_hash(request, user)`: after the user's password changed, keeps
    /// this session valid (new key, new hash); every other session of the user is now stale.
    pub fn update_session_auth_hash(&self, user: &User) {
        let mut state = self.lock();
        cycle(&mut state);
        let same_user = state.user.as_ref().is_some_and(|u| u.id == user.id);
        if same_user {
            let hash = session_auth_hash(&user.password, self.shared.config.keys.current());
            state
                .data
                .insert(HASH_SESSION_KEY.into(), Value::String(hash));
            state.user = Some(user.clone());
        }
    }
}

fn cycle(state: &mut State) {
    if let Some(old) = state.key.take() {
        state.delete.push(old);
    }
    state.modified = true;
}

fn flush(state: &mut State) {
    state.data.clear();
    if let Some(old) = state.key.take() {
        state.delete.push(old);
    }
    state.modified = true;
}
