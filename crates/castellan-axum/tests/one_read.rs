//! A warm logged-in request reads its backend once: the session row together with the user it
//! named last time (and their permissions, from the cache while no grant changed) — one statement
//! on the store. The guess grants nothing: a session rewritten to name someone else is that
//! someone else, and every outside change is still seen on the next request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use castellan_axum::{AuthConfig, AuthLayer};
use castellan_core::{
    AuthnBackend, BackendResult, PermIndex, Principal, SessionStore, SessionWithUser, User, UserId,
};
use castellan_store::{Store, UserChanges};
use chrono::{DateTime, Utc};
use common::{client, Env, Whoami, PASSWORD, SECRET};
use http::StatusCode;

/// The store, recording which backend method each call was.
#[derive(Clone)]
struct Counting {
    store: Store,
    calls: Arc<Mutex<Vec<&'static str>>>,
}

impl Counting {
    fn note(&self, call: &'static str) {
        self.calls.lock().unwrap().push(call);
    }
    fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

impl AuthnBackend for Counting {
    async fn authenticate(&self, username: &str, password: &str) -> BackendResult<Option<User>> {
        self.note("authenticate");
        AuthnBackend::authenticate(&self.store, username, password).await
    }
    async fn user_by_session_id(&self, id: &str) -> BackendResult<Option<User>> {
        self.note("user_by_session_id");
        self.store.user_by_session_id(id).await
    }
    async fn principal(&self, user: &User) -> BackendResult<Principal> {
        self.note("principal");
        AuthnBackend::principal(&self.store, user).await
    }
    async fn permission_index(&self) -> BackendResult<Arc<PermIndex>> {
        self.note("permission_index");
        AuthnBackend::permission_index(&self.store).await
    }
    async fn user_groups(&self, user: &User) -> BackendResult<Vec<String>> {
        self.note("user_groups");
        AuthnBackend::user_groups(&self.store, user).await
    }
    async fn set_password(&self, user: &User, raw: &str) -> BackendResult<Option<User>> {
        self.note("set_password");
        AuthnBackend::set_password(&self.store, user, raw).await
    }
    async fn touch_last_login(&self, user: &User) -> BackendResult<()> {
        self.note("touch_last_login");
        AuthnBackend::touch_last_login(&self.store, user).await
    }
}

impl SessionStore for Counting {
    async fn prepare(&self) -> BackendResult<()> {
        SessionStore::prepare(&self.store).await
    }
    async fn load(&self, key: &str) -> BackendResult<Option<String>> {
        self.note("load");
        SessionStore::load(&self.store, key).await
    }
    async fn load_with_user(
        &self,
        key: &str,
        user: UserId,
    ) -> BackendResult<Option<SessionWithUser>> {
        self.note("load_with_user");
        SessionStore::load_with_user(&self.store, key, user).await
    }
    async fn save(&self, key: &str, data: &str, expire: DateTime<Utc>) -> BackendResult<()> {
        self.note("save");
        SessionStore::save(&self.store, key, data, expire).await
    }
    async fn delete(&self, key: &str) -> BackendResult<()> {
        self.note("delete");
        SessionStore::delete(&self.store, key).await
    }
}

async fn counting_env() -> (Env, Counting) {
    let base = common::env().await;
    let counting = Counting {
        store: base.store.clone(),
        calls: Arc::default(),
    };
    let auth = AuthLayer::new(counting.clone(), AuthConfig::new(SECRET))
        .await
        .unwrap();
    let env = Env {
        store: base.store.clone(),
        auth,
        counter: Arc::clone(&base.counter),
    };
    (env, counting)
}

#[tokio::test]
async fn a_warm_logged_in_request_reads_the_backend_once() {
    let (env, counting) = counting_env().await;
    let mut c = client(&env);
    assert_eq!(c.login("ginny", PASSWORD).await.status(), StatusCode::FOUND);
    // The first request after the login learns whom the session names.
    assert_eq!(c.whoami().await, "ginny");
    counting.take();
    for path in ["/", "/perm", "/login-required"] {
        let r = c.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(counting.take(), ["load_with_user"], "{path}: one read");
    }
    // Two browsers, two sessions: each is remembered on its own.
    let mut d = client(&env);
    d.login("dora", PASSWORD).await;
    assert_eq!(d.whoami().await, "dora");
    counting.take();
    assert_eq!(c.whoami().await, "ginny");
    assert_eq!(d.whoami().await, "dora");
    assert_eq!(counting.take(), ["load_with_user", "load_with_user"]);
    env.store.close().await;
}

#[tokio::test]
async fn a_session_rewritten_to_name_someone_else_is_that_someone() {
    let (env, counting) = counting_env().await;
    let mut alice = client(&env);
    alice.login("alice", PASSWORD).await;
    assert_eq!(alice.whoami().await, "alice");
    assert_eq!(alice.whoami().await, "alice");
    let mut dora = client(&env);
    dora.login("dora", PASSWORD).await;
    let dora_key = dora.jar.get("sessionid").unwrap().to_owned();
    let dora_data = env.store.session_data(&dora_key).await.unwrap().unwrap();
    // Another process (Django, say) writes dora's login into alice's session row.
    let alice_key = alice.jar.get("sessionid").unwrap().to_owned();
    env.store
        .save_session(
            &alice_key,
            &dora_data,
            Utc::now() + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    counting.take();
    assert_eq!(alice.whoami().await, "dora", "the session's data decides");
    assert_eq!(
        counting.take(),
        ["load_with_user", "user_by_session_id", "principal"]
    );
    // From now on the session is remembered as dora's.
    assert_eq!(alice.whoami().await, "dora");
    assert_eq!(counting.take(), ["load_with_user"]);
    env.store.close().await;
}

#[tokio::test]
async fn outside_changes_are_seen_on_the_next_warm_request() {
    let (env, _counting) = counting_env().await;
    let mut c = client(&env);
    c.login("dora", PASSWORD).await;
    assert_eq!(c.get("/perm").await.status(), StatusCode::OK);
    assert_eq!(c.get("/perm").await.status(), StatusCode::OK);
    // A revocation.
    env.store
        .revoke_user("dora", &["auth.change_user".into()])
        .await
        .unwrap();
    assert_eq!(c.get("/perm").await.status(), StatusCode::FORBIDDEN);
    env.store
        .grant_user("dora", &["auth.change_user".into()])
        .await
        .unwrap();
    assert_eq!(c.get("/perm").await.status(), StatusCode::OK);
    // A deactivation logs her out.
    env.store
        .update_user(
            "dora",
            UserChanges {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(c.whoami().await, "anonymous");
    // A password change elsewhere ends the other session.
    let mut g = client(&env);
    g.login("ginny", PASSWORD).await;
    assert_eq!(g.whoami().await, "ginny");
    assert_eq!(g.whoami().await, "ginny");
    env.store
        .set_password("ginny", Some("another password 456"))
        .await
        .unwrap();
    assert_eq!(g.whoami().await, "anonymous");
    // A deleted session row.
    let mut s = client(&env);
    s.login("sam", PASSWORD).await;
    assert_eq!(s.whoami().await, "sam");
    assert_eq!(s.whoami().await, "sam");
    let key = s.jar.get("sessionid").unwrap().to_owned();
    env.store.delete_session(&key).await.unwrap();
    assert_eq!(s.whoami().await, "anonymous");
    env.store.close().await;
}

#[tokio::test]
async fn membership_changes_are_seen_by_group_guards_on_the_next_request() {
    let (env, counting) = counting_env().await;
    let mut c = client(&env);
    c.login("ginny", PASSWORD).await;
    assert_eq!(c.get("/group").await.status(), StatusCode::OK);
    counting.take();
    assert_eq!(c.get("/group").await.status(), StatusCode::OK);
    assert_eq!(counting.take(), ["load_with_user", "user_groups"]);
    env.store
        .remove_user_from_groups("ginny", &["Editors".into()])
        .await
        .unwrap();
    assert_eq!(c.get("/group").await.status(), StatusCode::FORBIDDEN);
    env.store
        .add_user_to_groups("ginny", &["Editors".into()])
        .await
        .unwrap();
    assert_eq!(c.get("/group").await.status(), StatusCode::OK);
    // Renaming the group is a change too.
    env.store.rename_group("Editors", "Writers").await.unwrap();
    assert_eq!(c.get("/group").await.status(), StatusCode::FORBIDDEN);
    env.store.close().await;
}
