//! The index page (the apps and models the user may see) and the stylesheet.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use minijinja::value::Serde;
use minijinja::{context, Value};
use serde::Serialize;

use castellan_store::AuditFilter;

use crate::access::Staff;
use crate::error::AdminError;
use crate::history::LinkedEntry;
use crate::respond::page;
use crate::style::CSS;

#[derive(Serialize)]
struct Link {
    name: String,
    url: String,
    add_url: Option<String>,
}

#[derive(Serialize)]
struct App {
    label: String,
    name: String,
    models: Vec<Link>,
}

/// `GET /`: the apps in which the user has some permission, with the models they may view.
pub(crate) async fn index(staff: Staff) -> Result<Response, AdminError> {
    let mut apps = Vec::new();
    if staff.principal.has_module_perms("auth") || staff.can_view_users() {
        let mut models = Vec::new();
        for (model, plural) in [
            ("user", "Users"),
            ("group", "Groups"),
            ("permission", "Permissions"),
        ] {
            let (visible, can_add) = if model == "user" {
                let add = staff.can_add_users();
                (staff.can_view_users(), add)
            } else {
                (
                    staff.can_view("auth", model),
                    staff.has(&format!("auth.add_{model}")),
                )
            };
            if visible {
                models.push(Link {
                    name: plural.into(),
                    url: staff.url(&format!("/auth/{model}/")),
                    add_url: can_add.then(|| staff.url(&format!("/auth/{model}/add/"))),
                });
            }
        }
        apps.push(App {
            label: "auth".into(),
            name: staff.site.app_name("auth"),
            models,
        });
    }
    let mut labels: Vec<&str> = staff.site.models.iter().map(|m| m.app_label()).collect();
    labels.sort_unstable();
    labels.dedup();
    for label in labels {
        let mut models = Vec::new();
        let mut module = false;
        for m in staff.site.models.iter().filter(|m| m.app_label() == label) {
            module |= m.has_module_permission(&staff.principal);
            if m.has_view_permission(&staff.principal, None) {
                models.push(Link {
                    name: m.verbose_name_plural(),
                    url: staff.url(&format!("/{label}/{}/", m.model_name())),
                    add_url: m
                        .has_add_permission(&staff.principal)
                        .then(|| staff.url(&format!("/{label}/{}/add/", m.model_name()))),
                });
            }
        }
        if module {
            apps.push(App {
                label: label.to_owned(),
                name: staff.site.app_name(label),
                models,
            });
        }
    }
    let can_matrix = staff.can_view("auth", "group");
    let recent = recent_actions(&staff).await?;
    page(
        &staff,
        "index.html",
        StatusCode::OK,
        context! {
            apps => Value::from(Serde(&apps)), can_matrix, can_audit => staff.is_superuser(),
            recent => Value::from(Serde(&recent)),
        },
    )
}

/// How many of one's own actions the index lists (Django's "Recent actions" shows 10).
const RECENT: usize = 10;

/// The user's own latest changes (Django's "Recent actions": "My actions").
async fn recent_actions(staff: &Staff) -> Result<Vec<LinkedEntry>, AdminError> {
    let mine = staff
        .site
        .store
        .audit_log(&AuditFilter {
            actor: Some(format!("user:{}", staff.user.username)),
            limit: Some(RECENT),
            ..AuditFilter::default()
        })
        .await?;
    let now = chrono::Utc::now();
    Ok(mine
        .iter()
        .map(|e| LinkedEntry::of(staff, e, now))
        .collect())
}

/// `GET /admin.css`.
pub(crate) async fn stylesheet() -> Response {
    (
        [(http::header::CONTENT_TYPE, "text/css; charset=utf-8")],
        CSS,
    )
        .into_response()
}
