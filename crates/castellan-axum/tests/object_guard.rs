//! Object guards: the object is loaded first (404 when missing, for everyone), then anonymous
//! users go to login and authenticated users without the permission on that object get 403; a
//! global permission does not open an object; a revocation is enforced on the next request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::routing::get;
use axum::Router;
use castellan_axum::{AuthSession, Error, GuardedObject, ObjectAuthorized, ObjectGuard, Store};
use castellan_core::ObjectRef;
use castellan_store::ObjectHolder;
use common::*;
use http::StatusCode;

#[derive(Clone)]
struct State {
    store: Store,
}

/// Groups are the objects (`auth.group:ID`), with django-guardian's grants.
struct GroupObject(ObjectRef);

impl GuardedObject<State> for GroupObject {
    const PATH_PARAM: &'static str = "id";

    async fn load(state: &State, key: &str) -> Result<Option<Self>, Error> {
        let Ok(obj) = ObjectRef::new("auth", "group", key) else {
            return Ok(None);
        };
        let exists = state
            .store
            .object_exists(&obj)
            .await
            .map_err(|e| Error::Backend(e.into()))?;
        Ok(exists.then_some(Self(obj)))
    }

    async fn allows(&self, state: &State, auth: &AuthSession, perm: &str) -> Result<bool, Error> {
        let Some(user) = auth.user() else {
            return Ok(false);
        };
        state
            .store
            .check_object_perms(&user.username, &[perm.to_owned()], &self.0, false)
            .await
            .map_err(|e| Error::Backend(e.into()))
    }
}

struct EditGroup;
impl ObjectGuard for EditGroup {
    type Object = GroupObject;
    const PERMS: &'static [&'static str] = &["auth.change_group"];
}

struct SeeOrEditGroup;
impl ObjectGuard for SeeOrEditGroup {
    type Object = GroupObject;
    const PERMS: &'static [&'static str] = &["auth.view_group", "auth.change_group"];
    const ANY: bool = true;
}

fn app(env: &Env) -> Router {
    let state = State {
        store: env.store.clone(),
    };
    Router::new()
        .route(
            "/groups/{id}/edit",
            get(|g: ObjectAuthorized<EditGroup, State>| async move {
                format!("{} edits {}", g.principal.identity().username(), g.object.0)
            }),
        )
        .route(
            "/groups/{id}/",
            get(|g: ObjectAuthorized<SeeOrEditGroup, State>| async move { g.object.0.to_string() }),
        )
        .with_state(state)
        .nest("/accounts", castellan_axum::router())
        .layer(env.auth.clone())
}

async fn status(env: &Env, who: &str, path: &str) -> StatusCode {
    let mut c = castellan_testkit::Client::new(app(env));
    if who != "anonymous" {
        assert_eq!(c.login(who, PASSWORD).await.status(), StatusCode::FOUND);
    }
    c.get(path).await.status()
}

#[tokio::test]
async fn object_guards_answer_404_then_login_then_403() {
    let env = env().await;
    env.store.install_object_permissions().await.unwrap();
    // Editors is group 1; a second group to grant on.
    env.store.create_group("Desk").await.unwrap();
    env.store
        .grant_object_perms(
            ObjectHolder::User("alice"),
            &["auth.change_group".into()],
            &ObjectRef::parse("auth.group:2").unwrap(),
        )
        .await
        .unwrap();
    env.store
        .grant_user("dora", &["auth.change_group".into()])
        .await
        .unwrap();
    for (who, path, want) in [
        ("anonymous", "/groups/9/edit", StatusCode::NOT_FOUND),
        ("alice", "/groups/9/edit", StatusCode::NOT_FOUND),
        ("alice", "/groups/x/edit", StatusCode::NOT_FOUND),
        ("anonymous", "/groups/2/edit", StatusCode::FOUND),
        ("alice", "/groups/2/edit", StatusCode::OK),
        ("alice", "/groups/1/edit", StatusCode::FORBIDDEN),
        // A global permission does not open an object.
        ("dora", "/groups/2/edit", StatusCode::FORBIDDEN),
        ("sam", "/groups/1/edit", StatusCode::OK),
        ("alice", "/groups/2/", StatusCode::OK),
        ("ginny", "/groups/2/", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(status(&env, who, path).await, want, "{who} {path}");
    }
    // Revoked: refused on the next request of the same session.
    let mut c = castellan_testkit::Client::new(app(&env));
    c.login("alice", PASSWORD).await;
    assert_eq!(c.get("/groups/2/edit").await.status(), StatusCode::OK);
    env.store
        .revoke_object_perms(
            ObjectHolder::User("alice"),
            &["auth.change_group".into()],
            &ObjectRef::parse("auth.group:2").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        c.get("/groups/2/edit").await.status(),
        StatusCode::FORBIDDEN
    );
    // Through a group: granted to Editors, ginny's group.
    env.store
        .grant_object_perms(
            ObjectHolder::Group("Editors"),
            &["auth.view_group".into()],
            &ObjectRef::parse("auth.group:2").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(status(&env, "ginny", "/groups/2/").await, StatusCode::OK);
    let login = castellan_testkit::Client::new(app(&env))
        .get("/groups/2/edit")
        .await;
    assert!(
        location(&login).starts_with("/accounts/login/?next=/groups/2/edit"),
        "{}",
        location(&login)
    );
}
