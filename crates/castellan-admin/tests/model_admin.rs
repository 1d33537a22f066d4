//! A small in-test model registered with the admin: generated pages gated by Django's rules and
//! by an overridden hook.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use castellan_admin::{
    AdminRequest, BoxFuture, Field, FieldKind, ListFilter, ListPage, ListQuery, ModelAdmin,
    ModelError, Object, Values,
};
use castellan_core::Principal;
use common::*;
use http::StatusCode;

/// Widgets kept in memory; `maker` is set from the acting user on create, and a widget named
/// "special…" needs the custom permission `shop.can_make_special`.
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
    fn search_fields(&self) -> Vec<String> {
        vec!["name".into()]
    }
    fn list_per_page(&self) -> u64 {
        2
    }
    fn sortable_fields(&self) -> Vec<String> {
        vec!["name".into()]
    }
    fn list_filters(&self) -> Vec<ListFilter> {
        vec![ListFilter::yes_no("locked", "Locked")]
    }
    fn list<'a>(&'a self, query: &'a ListQuery) -> BoxFuture<'a, Result<ListPage, ModelError>> {
        Box::pin(async move {
            let all = self.0.lock().unwrap().clone();
            Ok(ListPage::from_all(all, query, &self.search_fields()))
        })
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Object>, ModelError>> {
        Box::pin(async move { Ok(self.0.lock().unwrap().iter().find(|o| o.id == id).cloned()) })
    }
    fn create<'a>(
        &'a self,
        request: AdminRequest<'a>,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Object, ModelError>> {
        Box::pin(async move {
            if values["name"].starts_with("special") && !request.has_perm("shop.can_make_special") {
                return Err(ModelError::Invalid(vec![
                    "Name: only makers of specials may use this name.".into(),
                ]));
            }
            let mut v = self.0.lock().unwrap();
            let mut values = values.clone();
            values.insert("maker".into(), request.user.username.clone());
            let o = Object {
                id: (v.len() + 1).to_string(),
                label: values["name"].clone(),
                values,
            };
            v.push(o.clone());
            Ok(o)
        })
    }
    fn update<'a>(
        &'a self,
        _request: AdminRequest<'a>,
        id: &'a str,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Object, ModelError>> {
        Box::pin(async move {
            let mut v = self.0.lock().unwrap();
            let o = v
                .iter_mut()
                .find(|o| o.id == id)
                .ok_or(ModelError::NotFound)?;
            let maker = o.values.get("maker").cloned().unwrap_or_default();
            o.values = values.clone();
            o.values.insert("maker".into(), maker);
            o.label = values["name"].clone();
            Ok(o.clone())
        })
    }
    fn delete<'a>(
        &'a self,
        _request: AdminRequest<'a>,
        id: &'a str,
    ) -> BoxFuture<'a, Result<(), ModelError>> {
        Box::pin(async move {
            self.0.lock().unwrap().retain(|o| o.id != id);
            Ok(())
        })
    }
    fn verbose_name(&self) -> String {
        "widget".into()
    }
    /// A widget's page on the site; a name starting with "js" yields a script URL, which the
    /// admin must not link.
    fn view_on_site(&self, obj: &Object) -> Option<String> {
        if obj.label.starts_with("js") {
            Some("javascript:alert(1)".into())
        } else {
            Some(format!("/widgets/{}/", obj.id))
        }
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
        .post_form(
            "/admin/shop/widget/add/",
            &[("name", "Gear"), ("locked", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = bob
        .post_form("/admin/shop/widget/add/", &[("name", "")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "required field");
    let r = bob
        .post_form("/admin/shop/widget/add/", &[("name", "x"), ("owner", "me")])
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
        .post_form("/admin/shop/widget/1/change/", &[("name", "Hacked")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The overridden delete hook: locked → refused even with delete_widget.
    assert_eq!(
        bob.get("/admin/shop/widget/1/delete/").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        bob.post_form("/admin/shop/widget/1/delete/", &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(widgets.0.lock().unwrap()[0].label, "Gear");
    // A superuser edits and deletes.
    let mut root = Client::as_user(&env, "root").await;
    let r = root
        .post_form("/admin/shop/widget/1/change/", &[("name", "Cog")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(widgets.0.lock().unwrap()[0].values["locked"], "false");
    assert_eq!(
        root.post_form("/admin/shop/widget/1/delete/", &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert!(widgets.0.lock().unwrap().is_empty());
    // Staff without any shop permission: no module, 403.
    let mut helen = Client::as_user(&env, "helen").await;
    let (_, html) = helen.page("/admin/").await;
    assert!(!html.contains("data-testid=\"app-shop\""));
    let (s, html) = helen.page("/admin/shop/widget/").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(
        html.contains("shop.view_widget or shop.change_widget"),
        "the 403 names the permission: {html}"
    );
    assert_eq!(
        helen
            .post_form("/admin/shop/widget/add/", &[("name", "x")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

/// The audit entries of model edits, oldest first, as "actor action type object".
async fn model_audit(env: &Env) -> Vec<castellan_store::AuditEntry> {
    let mut v: Vec<_> = env
        .store
        .audit_log(&castellan_store::AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("admin."))
        .collect();
    v.reverse();
    v
}

async fn writes_know_the_user_and_are_audited(db: TestDb) {
    let (env, widgets) = setup(db).await;
    env.store
        .create_permission(
            "shop.can_make_special",
            "widget",
            "Can make special widgets",
        )
        .await
        .unwrap();
    let mut bob = Client::as_user(&env, "bob").await;
    let r = bob
        .post_form("/admin/shop/widget/add/", &[("name", "Gear")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(widgets.0.lock().unwrap()[0].values["maker"], "bob");
    // The model checks a custom permission with the acting user: bob lacks it, root has it.
    let r = bob
        .post_form("/admin/shop/widget/add/", &[("name", "special one")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(body(r).await.contains("only makers of specials"));
    let mut root = Client::as_user(&env, "root").await;
    let r = root
        .post_form("/admin/shop/widget/add/", &[("name", "special one")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(widgets.0.lock().unwrap()[1].values["maker"], "root");
    let r = root
        .post_form(
            "/admin/shop/widget/1/change/",
            &[("name", "Cog"), ("locked", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = root.post_form("/admin/shop/widget/2/delete/", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let entries = model_audit(&env).await;
    let summary: Vec<String> = entries
        .iter()
        .map(|e| format!("{} {} {} {}", e.actor, e.action, e.object_type, e.object))
        .collect();
    assert_eq!(
        summary,
        [
            "user:bob admin.add shop.widget 1",
            "user:root admin.add shop.widget 2",
            "user:root admin.change shop.widget 1",
            "user:root admin.delete shop.widget 2",
        ]
    );
    let json = |s: &Option<String>| -> serde_json::Value {
        serde_json::from_str(s.as_deref().unwrap()).unwrap()
    };
    let add = &entries[0];
    assert!(add.before.is_none());
    assert_eq!(json(&add.after)["values"]["name"], "Gear");
    assert_eq!(json(&add.after)["values"]["maker"], "bob");
    let change = &entries[2];
    assert_eq!(
        json(&change.after)["changed"],
        serde_json::json!(["locked", "name"])
    );
    assert_eq!(json(&change.before)["values"]["name"], "Gear");
    assert_eq!(json(&change.after)["values"]["name"], "Cog");
    assert!(
        json(&change.after)["values"].get("maker").is_none(),
        "only changed fields"
    );
    let delete = &entries[3];
    assert!(delete.after.is_none());
    assert_eq!(json(&delete.before)["label"], "special one");
    // Refused writes leave no entry.
    assert_eq!(
        bob.post_form("/admin/shop/widget/1/change/", &[("name", "x")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(model_audit(&env).await.len(), 4);
    // The audit page shows them.
    let (_, html) = root.page("/admin/audit/?action=admin.").await;
    assert!(html.contains("admin.change"));
    assert!(html.contains("shop.widget"));
}

async fn lists_are_paged_and_searched(db: TestDb) {
    let (env, widgets) = setup(db).await;
    let mut bob = Client::as_user(&env, "bob").await;
    for name in ["Alpha", "Beta", "Gamma", "Delta", "Alpine"] {
        let r = bob
            .post_form("/admin/shop/widget/add/", &[("name", name)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(widgets.0.lock().unwrap().len(), 5);
    // Two per page: pages 1..3, each object exactly once.
    let mut seen = Vec::new();
    let mut uri = "/admin/shop/widget/".to_owned();
    for page in 1..=3 {
        let (s, html) = bob.page(&uri).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        assert!(
            html.contains("data-testid=\"object-count\">5 in all"),
            "{html}"
        );
        for id in 1..=5 {
            if html.contains(&format!("data-testid=\"object-{id}\"")) {
                seen.push(id);
            }
        }
        assert_eq!(html.contains("data-testid=\"previous-page\""), page > 1);
        let next = html.contains("data-testid=\"next-page\"");
        assert_eq!(next, page < 3, "page {page}");
        if next {
            uri = format!("/admin/shop/widget/?p={}", page + 1);
            assert!(html.contains(&format!("href=\"?p={}\"", page + 1)));
        }
    }
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    // Search: "alp" matches Alpha and Alpine (case-insensitive), on one page.
    let (s, html) = bob.page("/admin/shop/widget/?q=alp").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-testid=\"object-search\""));
    assert!(html.contains("value=\"alp\""));
    assert!(html.contains("data-testid=\"object-1\""));
    assert!(html.contains("data-testid=\"object-5\""));
    assert!(!html.contains("data-testid=\"object-2\""));
    assert!(!html.contains("data-testid=\"next-page\""));
    let (_, html) = bob.page("/admin/shop/widget/?q=zzz").await;
    assert!(html.contains("Nothing matches."));
    // Past the end: an empty page with a way back; a bad page number is a 400.
    let (s, html) = bob.page("/admin/shop/widget/?p=9").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-testid=\"previous-page\""));
    for bad in ["0", "x", "-1", "99999999999999999999"] {
        let (s, _) = bob.page(&format!("/admin/shop/widget/?p={bad}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "p={bad}");
    }
}

#[test]
fn from_all_cuts_pages_and_counts() {
    let objects: Vec<Object> = (1..=5)
        .map(|i| Object {
            id: i.to_string(),
            label: format!("w{i}"),
            values: Values::from([(
                "colour".to_owned(),
                if i % 2 == 0 { "Red" } else { "blue" }.to_owned(),
            )]),
        })
        .collect();
    let page = ListPage::from_all(objects.clone(), &ListQuery::new(4, 2), &[]);
    assert_eq!(page.objects.len(), 1);
    assert!(!page.more);
    assert_eq!(page.total, Some(5));
    let page = ListPage::from_all(objects.clone(), &ListQuery::new(0, 2), &[]);
    assert!(page.more);
    let q = ListQuery::new(0, 10).with_search(" red ");
    assert_eq!(q.search.as_deref(), Some("red"));
    let page = ListPage::from_all(objects.clone(), &q, &["colour".to_owned()]);
    assert_eq!(page.total, Some(2));
    let page = ListPage::from_all(objects, &q, &[]);
    assert_eq!(
        page.total,
        Some(0),
        "values outside search_fields are not searched"
    );
    assert!(ListQuery::new(0, 1).with_search("  ").search.is_none());
}

async fn apps_have_verbose_names_and_a_view_site_link(db: TestDb) {
    let (env, _) = setup(db).await;
    let mut root = Client::as_user(&env, "root").await;
    let (_, html) = root.page("/admin/").await;
    assert!(html.contains("data-testid=\"app-name-auth\">Authentication and Authorization<"));
    assert!(
        html.contains("data-testid=\"app-name-shop\">Shop<"),
        "label.title()"
    );
    assert!(
        !html.contains("data-testid=\"view-site\""),
        "no site URL by default"
    );
    let store = env.store.clone();
    let db = env.db.clone();
    let named = env_on_shared(db, store, |a| {
        a.register(Widgets::default())
            .with_app_name("shop", "Widget <Shop>")
            .with_site_url("/shop/")
    })
    .await;
    let mut root = Client::as_user(&named, "root").await;
    for page in ["/admin/", "/admin/shop/widget/"] {
        let (_, html) = root.page(page).await;
        assert!(
            html.contains("<a href=\"/shop/\" data-testid=\"view-site\">View site</a>"),
            "{page}: {html}"
        );
    }
    let (_, html) = root.page("/admin/").await;
    assert!(
        html.contains("data-testid=\"app-name-shop\">Widget &lt;Shop&gt;<"),
        "escaped"
    );
    assert!(
        html.contains("data-testid=\"app-shop\""),
        "test ids keep the label"
    );
}

/// Django's three save buttons, the message each leaves, inline field errors with required
/// markers, breadcrumbs, the History page and "View on site".
async fn save_buttons_messages_history_and_view_on_site(db: TestDb) {
    let (env, _widgets) = setup(db).await;
    let mut root = Client::as_user(&env, "root").await;
    // "Save and continue editing": back to the new object, with Django's message.
    let r = root
        .post_form(
            "/admin/shop/widget/add/",
            &[("name", "Gear"), ("_continue", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/shop/widget/1/change/");
    let (_, html) = root.page("/admin/shop/widget/1/change/").await;
    assert!(
        html.contains("The widget “Gear” was added successfully. You may edit it again below."),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="/widgets/1/" data-testid="view-on-site">"#),
        "{html}"
    );
    assert!(html.contains(r#"href="/admin/shop/widget/1/history/""#));
    assert!(html.contains(r#"data-testid="breadcrumbs""#));
    assert!(
        html.contains(r#"<a href="/admin/shop/widget/">widgets</a>"#),
        "{html}"
    );
    // The message is shown once.
    let (_, again) = root.page("/admin/shop/widget/1/change/").await;
    assert!(!again.contains("was added successfully"));
    // "Save and add another": to an empty add form.
    let r = root
        .post_form(
            "/admin/shop/widget/1/change/",
            &[("name", "Gear 2"), ("_addanother", "1")],
        )
        .await;
    assert_eq!(location(&r), "/admin/shop/widget/add/");
    let (_, html) = root.page("/admin/shop/widget/add/").await;
    assert!(html.contains(
        "The widget “Gear 2” was changed successfully. You may add another widget below."
    ));
    assert!(html.contains("Add widget"));
    // "Save": to the list.
    let r = root
        .post_form(
            "/admin/shop/widget/1/change/",
            &[("name", "Gear 3"), ("_save", "1")],
        )
        .await;
    assert_eq!(location(&r), "/admin/shop/widget/");
    let (_, html) = root.page("/admin/shop/widget/").await;
    assert!(html.contains("The widget “Gear 3” was changed successfully."));
    // A missing required field: the error beside the field, nothing saved.
    let r = root
        .post_form("/admin/shop/widget/1/change/", &[("name", " ")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = body(r).await;
    assert!(html.contains("Please correct the error below."), "{html}");
    assert!(
        html.contains(r#"data-testid="field-error-name"><li>This field is required.</li>"#),
        "{html}"
    );
    assert!(html.contains(r#"class="required-mark""#));
    // History: newest first, each change readable.
    let (s, html) = root.page("/admin/shop/widget/1/history/").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        html.matches("<tr data-testid=\"history-").count(),
        3,
        "3 entries: {html}"
    );
    assert!(
        html.contains(r#"<strong>name</strong>: <del class="old">Gear 2</del> → <ins class="new">Gear 3</ins>"#),
        "{html}"
    );
    assert!(
        html.find("Gear 3").unwrap() < html.find("Gear 2</ins>").unwrap(),
        "newest first"
    );
    // A script URL from the model is not linked.
    root.post_form("/admin/shop/widget/add/", &[("name", "jsthing")])
        .await;
    let (_, html) = root.page("/admin/shop/widget/2/change/").await;
    assert!(
        !html.contains("view-on-site") && !html.contains("javascript:"),
        "{html}"
    );
    // Delete: Django's message on the list.
    let r = root.post_form("/admin/shop/widget/2/delete/", &[]).await;
    assert_eq!(location(&r), "/admin/shop/widget/");
    let (_, html) = root.page("/admin/shop/widget/").await;
    assert!(html.contains("The widget “jsthing” was deleted successfully."));
    // History of something that does not exist: 404; bob may not view it: 403 (he has view).
    assert_eq!(
        root.get("/admin/shop/widget/9/history/").await.status(),
        StatusCode::NOT_FOUND
    );
    let mut helen = Client::as_user(&env, "helen").await;
    assert_eq!(
        helen.get("/admin/shop/widget/1/history/").await.status(),
        StatusCode::FORBIDDEN
    );
}

async fn post_pairs(c: &mut Client, fields: &[(String, String)]) -> axum::response::Response {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    c.post_form("/admin/shop/widget/", &pairs).await
}

/// Sorting, filters and "Delete selected" (confirmation first; all or nothing under the model's
/// own delete rule; one audit entry per object).
async fn lists_sort_filter_and_delete_selected(db: TestDb) {
    let (env, widgets) = setup(db).await;
    let mut root = Client::as_user(&env, "root").await;
    for (name, locked) in [("Cog", "off"), ("Axle", "on"), ("Bolt", "off")] {
        let mut fields = vec![("name", name)];
        if locked == "on" {
            fields.push(("locked", "on"));
        }
        root.post_form("/admin/shop/widget/add/", &fields).await;
    }
    let mut bob = Client::as_user(&env, "bob").await;
    let order = |html: &str| -> Vec<String> {
        ["Axle", "Bolt", "Cog"]
            .iter()
            .filter_map(|n| {
                html.find(&format!(">{n}</a>"))
                    .map(|i| (i, (*n).to_owned()))
            })
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_values()
            .collect()
    };
    let (_, html) = bob.page("/admin/shop/widget/?o=name").await;
    assert_eq!(order(&html), ["Axle", "Bolt"], "first page of 2, by name");
    let (_, html) = bob.page("/admin/shop/widget/?o=-name").await;
    assert_eq!(order(&html), ["Cog", "Bolt"]);
    assert!(html.contains(r#"aria-sort="descending""#));
    let (_, html) = bob.page("/admin/shop/widget/?locked=false&o=name").await;
    assert_eq!(order(&html), ["Bolt", "Cog"]);
    assert!(
        html.contains(r#"<option value="false" selected>No</option>"#),
        "{html}"
    );
    for bad in ["?o=maker", "?locked=maybe", "?colour=red"] {
        assert_eq!(
            bob.get(&format!("/admin/shop/widget/{bad}")).await.status(),
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    // Bob may delete widgets, but not the locked Axle (the model's rule): all or nothing.
    let ids = |names: &[&str]| -> Vec<String> {
        let all = widgets.0.lock().unwrap();
        names
            .iter()
            .map(|n| all.iter().find(|o| o.label == *n).unwrap().id.clone())
            .collect()
    };
    let select = |ids: &[String], confirm: bool| -> Vec<(String, String)> {
        let mut f = vec![("action".to_owned(), "delete_selected".to_owned())];
        if confirm {
            f.push(("post".into(), "yes".into()));
        }
        f.extend(
            ids.iter()
                .map(|i| ("_selected_action".to_owned(), i.clone())),
        );
        f
    };
    let r = post_pairs(&mut bob, &select(&ids(&["Bolt", "Axle"]), true)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(widgets.0.lock().unwrap().len(), 3, "nothing deleted");
    let r = post_pairs(&mut bob, &select(&ids(&["Bolt", "Cog"]), false)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = body(r).await;
    assert!(
        page.contains("Are you sure?") && page.contains(">Bolt</a>") && page.contains(">Cog</a>")
    );
    assert_eq!(widgets.0.lock().unwrap().len(), 3, "asking is not deleting");
    let r = post_pairs(&mut bob, &select(&ids(&["Bolt", "Cog"]), true)).await;
    assert_eq!(location(&r), "/admin/shop/widget/");
    let left: Vec<String> = widgets
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|o| o.label.clone())
        .collect();
    assert_eq!(left, ["Axle"]);
    let (_, html) = bob.page("/admin/shop/widget/").await;
    assert!(html.contains("Successfully deleted 2 widgets."), "{html}");
    let deletes = model_audit(&env)
        .await
        .into_iter()
        .filter(|e| e.action == "admin.delete")
        .count();
    assert_eq!(deletes, 2);
}

admin_tests!(
    lists_sort_filter_and_delete_selected,
    save_buttons_messages_history_and_view_on_site,
    apps_have_verbose_names_and_a_view_site_link,
    generated_pages_follow_djangos_rules_and_the_hooks,
    writes_know_the_user_and_are_audited,
    lists_are_paged_and_searched,
);
