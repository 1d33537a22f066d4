//! Permissions: browse by app and model, and create custom permissions at run time.

use axum::extract::Query;
use axum::response::Response;
use axum::Form;
use http::StatusCode;
use minijinja::value::Serde;
use minijinja::{context, Value};

use castellan_axum::messages;

use crate::access::Staff;
use crate::crumbs::Crumbs;
use crate::error::AdminError;
use crate::forms::FormData;
use crate::respond::{page, redirect};
use crate::views::picker::{picker, PickerFilter};

/// `GET /auth/permission/` (filters `app`, `model`, `q`).
pub(crate) async fn list(
    staff: Staff,
    Query(filter): Query<PickerFilter>,
) -> Result<Response, AdminError> {
    staff.require_any(&["auth.view_permission", "auth.change_permission"])?;
    let all = staff.site.store.permissions(None).await?;
    page(
        &staff,
        "permission_list.html",
        StatusCode::OK,
        context! {
            // A list, not an editor: nothing is granted here.
            picker => Value::from(Serde(picker(&all, &[], filter, &|_| true))),
            can_add => staff.has("auth.add_permission"),
            crumbs => Crumbs::app(&staff, "auth").here("Permissions").value(),
        },
    )
}

fn add_page(
    staff: &Staff,
    status: StatusCode,
    errors: Vec<String>,
    form: &FormData,
) -> Result<Response, AdminError> {
    page(
        staff,
        "permission_add.html",
        status,
        context! {
            errors,
            crumbs => Crumbs::app(staff, "auth")
                .link("Permissions", staff.url("/auth/permission/"))
                .here("Add custom permission")
                .value(),
            app_label => form.text("app_label"), model => form.text("model"),
            codename => form.text("codename"), name => form.text("name"),
        },
    )
}

/// `GET /auth/permission/add/`.
pub(crate) async fn add_form(staff: Staff) -> Result<Response, AdminError> {
    staff.require("auth.add_permission")?;
    add_page(&staff, StatusCode::OK, Vec::new(), &FormData::default())
}

/// `POST /auth/permission/add/`: app label, model, codename and name, validated by the store.
pub(crate) async fn add(
    staff: Staff,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    staff.require("auth.add_permission")?;
    let form = FormData(form).only(&["app_label", "model", "codename", "name"])?;
    let perm = format!("{}.{}", form.text("app_label"), form.text("codename"));
    match staff
        .store()
        .create_permission(&perm, &form.text("model"), &form.text("name"))
        .await
    {
        Ok(p) => {
            messages::success(
                &staff.auth,
                format!(
                    "The permission “{}.{}” was added successfully.",
                    p.app_label, p.codename
                ),
            );
            Ok(redirect(&staff.url(&format!(
                "/auth/permission/?app={}&model={}",
                crate::access::segment(&p.app_label),
                crate::access::segment(&p.model)
            ))))
        }
        Err(e) if e.is_input() => {
            add_page(&staff, StatusCode::BAD_REQUEST, vec![e.to_string()], &form)
        }
        Err(e) => Err(e.into()),
    }
}
