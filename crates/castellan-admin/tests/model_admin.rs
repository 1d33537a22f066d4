//! A small in-test model registered with the admin: generated pages gated by Django's rules and
//! by an overridden hook.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use castellan_admin::{BoxFuture, Field, FieldKind, ModelAdmin, ModelError, Object, Values};
use castellan_core::Principal;
use common::*;
use http::StatusCode;

#[derive(Clone, Default)]
struct Widgets(Arc<Mutex<Vec<Object>>>);

impl ModelAdmin for Widgets {
    fn app_label(&self) -> &str {
        "shop"
    }
    fn model_name(&self) -> &str {
        "widget"
    }
    fn fields(&self) -> Vec<Field> {
        vec![
            Field::new("name", FieldKind::Text).required(),
            Field::new("locked", FieldKind::Bool),
        ]
    }
    fn list(&self) -> BoxFuture<'_, Result<Vec<Object>, ModelError>> {
        Box::pin(async move { Ok(self.0.lock().unwrap().clone()) })
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Object>, ModelError>> {
        Box::pin(async move { Ok(self.0.lock().unwrap().iter().find(|o| o.id == id).cloned()) })
    }
    fn create<'a>(&'a self, values: &'a Values) -> BoxFuture<'a, Result<Object, ModelError>> {
        Box::pin(async move {
            let mut v = self.0.lock().unwrap();
            let o = Object {
                id: (v.len() + 1).to_string(),
                label: values["name"].clone(),
                values: values.clone(),
            };
            v.push(o.clone());
            Ok(o)
        })
    }
    fn update<'a>(
        &'a self,
        id: &'a str,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Object, ModelError>> {
        Box::pin(async move {
            let mut v = self.0.lock().unwrap();
            let o = v
                .iter_mut()
                .find(|o| o.id == id)
                .ok_or(ModelError::NotFound)?;
            o.values = values.clone();
            o.label = values["name"].clone();
            Ok(o.clone())
        })
    }
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), ModelError>> {
        Box::pin(async move {
            self.0.lock().unwrap().retain(|o| o.id != id);
            Ok(())
        })
    }
    /// Overridden: a locked widget cannot be deleted by anyone but a superuser.
    fn has_delete_permission(&self, user: &Principal, obj: Option<&Object>) -> bool {
        let locked =
            obj.is_some_and(|o| o.values.get("locked").map(String::as_str) == Some("true"));
        user.has_perm("shop.delete_widget") && (!locked || user.identity().is_superuser())
    }
}

async fn setup(db: TestDb) -> (Env, Widgets) {
    let store = store_for(&db).await;
    seed(&store).await;
    for (p, n) in [
        ("view", "Can view widget"),
        ("add", "Can add widget"),
        ("change", "Can change widget"),
        ("delete", "Can delete widget"),
    ] {
        store
            .create_permission(&format!("shop.{p}_widget"), "widget", n)
            .await
            .unwrap();
    }
    store.create_group("Shop").await.unwrap();
    store
        .grant_group(
            "Shop",
            &[
                "shop.view_widget".into(),
                "shop.add_widget".into(),
                "shop.delete_widget".into(),
            ],
        )
        .await
        .unwrap();
    store
        .add_user_to_groups("bob", &["Shop".into()])
        .await
        .unwrap();
    let widgets = Widgets::default();
    let env = env_on(db, store, |a| a.register(widgets.clone())).await;
    (env, widgets)
}

async fn generated_pages_follow_djangos_rules_and_the_hooks(db: TestDb) {
    let (env, widgets) = setup(db).await;
    let mut bob = Client::as_user(&env, "bob").await;
    let (_, html) = bob.page("/admin/").await;
    assert!(html.contains("data-testid=\"app-shop\""));
    let r = bob
        .post(
            "/admin/shop/widget/add/",
            &[("name", "Gear"), ("locked", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = bob.post("/admin/shop/widget/add/", &[("name", "")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "required field");
    let r = bob
        .post("/admin/shop/widget/add/", &[("name", "x"), ("owner", "me")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "unknown field");
    assert_eq!(widgets.0.lock().unwrap().len(), 1);
    let (s, html) = bob.page("/admin/shop/widget/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Gear"));
    // View-only on change: the page renders read-only and the POST is refused.
    let (s, html) = bob.page("/admin/shop/widget/1/change/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("data-testid=\"save\""));
    let r = bob
        .post("/admin/shop/widget/1/change/", &[("name", "Hacked")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The overridden delete hook: locked → refused even with delete_widget.
    assert_eq!(
        bob.get("/admin/shop/widget/1/delete/").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        bob.post("/admin/shop/widget/1/delete/", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(widgets.0.lock().unwrap()[0].label, "Gear");
    // A superuser edits and deletes.
    let mut root = Client::as_user(&env, "root").await;
    let r = root
        .post("/admin/shop/widget/1/change/", &[("name", "Cog")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(widgets.0.lock().unwrap()[0].values["locked"], "false");
    assert_eq!(
        root.post("/admin/shop/widget/1/delete/", &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert!(widgets.0.lock().unwrap().is_empty());
    // Staff without any shop permission: no module, 403.
    let mut helen = Client::as_user(&env, "helen").await;
    let (_, html) = helen.page("/admin/").await;
    assert!(!html.contains("data-testid=\"app-shop\""));
    assert_eq!(
        helen.get("/admin/shop/widget/").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        helen
            .post("/admin/shop/widget/add/", &[("name", "x")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

admin_tests!(generated_pages_follow_djangos_rules_and_the_hooks,);
