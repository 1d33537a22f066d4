//! The pages generated for a registered [`ModelAdmin`](crate::ModelAdmin): list, add, change and
//! delete, each gated by the model's `has_*_permission` hooks (checked again on every POST).

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use axum::Form;
use http::StatusCode;
use minijinja::context;

use crate::access::{segment, Staff};
use crate::error::AdminError;
use crate::forms::FormData;
use crate::model_admin::{FieldKind, ModelAdmin, ModelError, Object, Values};
use crate::render::{page, redirect};

fn model(staff: &Staff, app: &str, name: &str) -> Result<Arc<dyn ModelAdmin>, AdminError> {
    staff.site.model(app, name).cloned().ok_or_else(|| {
        AdminError::NotFound(format!(
            "No model {app}.{name} is registered with the admin."
        ))
    })
}

fn forbidden(what: &str, m: &dyn ModelAdmin) -> AdminError {
    AdminError::Forbidden(format!(
        "You may not {what} {}.{} objects; ask a superuser for the permission.",
        m.app_label(),
        m.model_name()
    ))
}

fn model_error(e: ModelError) -> AdminError {
    match e {
        ModelError::Invalid(msgs) => AdminError::BadRequest(msgs.join(" ")),
        ModelError::NotFound => AdminError::NotFound("No such object.".into()),
        ModelError::Failed(e) => AdminError::Internal(format!("model storage failed: {e}")),
    }
}

fn base_url(staff: &Staff, m: &dyn ModelAdmin) -> String {
    staff.url(&format!("/{}/{}/", m.app_label(), m.model_name()))
}

fn object_url(staff: &Staff, m: &dyn ModelAdmin, id: &str, action: &str) -> String {
    format!("{}{}/{action}/", base_url(staff, m), segment(id))
}

/// `GET /{app}/{model}/`.
pub(crate) async fn list(
    staff: Staff,
    Path((app, name)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let m = model(&staff, &app, &name)?;
    if !m.has_view_permission(&staff.principal, None) {
        return Err(forbidden("view", m.as_ref()));
    }
    let columns = m.list_display();
    let fields = m.fields();
    let headers: Vec<String> = columns
        .iter()
        .map(|c| {
            fields
                .iter()
                .find(|f| &f.name == c)
                .map_or_else(|| c.clone(), |f| f.label.clone())
        })
        .collect();
    let objects: Vec<_> = m
        .list()
        .await
        .map_err(model_error)?
        .into_iter()
        .filter(|o| m.has_view_permission(&staff.principal, Some(o)))
        .map(|o| {
            let cells: Vec<String> = columns.iter().map(|c| o.values.get(c).cloned().unwrap_or_default()).collect();
            context! { url => object_url(&staff, m.as_ref(), &o.id, "change"), label => &o.label, id => &o.id, cells }
        })
        .collect();
    page(
        &staff,
        "model_list.html",
        StatusCode::OK,
        context! {
            app, model => name, title => m.verbose_name_plural(), headers, objects,
            add_url => m.has_add_permission(&staff.principal).then(|| format!("{}add/", base_url(&staff, m.as_ref()))),
        },
    )
}

fn form_page(
    staff: &Staff,
    m: &dyn ModelAdmin,
    object: Option<&Object>,
    values: &Values,
    editable: bool,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, AdminError> {
    let fields: Vec<_> = m
        .fields()
        .into_iter()
        .map(|f| {
            let kind = match f.kind {
                FieldKind::Text => "text",
                FieldKind::TextArea => "textarea",
                FieldKind::Bool => "bool",
                FieldKind::Integer => "integer",
            };
            let value = values.get(&f.name).cloned().unwrap_or_default();
            context! { name => f.name, label => f.label, required => f.required, kind, value }
        })
        .collect();
    let (action, delete_url) = match object {
        Some(o) => (
            object_url(staff, m, &o.id, "change"),
            m.has_delete_permission(&staff.principal, Some(o))
                .then(|| object_url(staff, m, &o.id, "delete")),
        ),
        None => (format!("{}add/", base_url(staff, m)), None),
    };
    page(
        staff,
        "model_form.html",
        status,
        context! {
            app => m.app_label(), model => m.model_name(), title => m.verbose_name_plural(),
            object => object.map(|o| o.label.clone()), fields, editable, errors, action, delete_url,
            list_url => base_url(staff, m),
        },
    )
}

/// Reads the model's fields from a form (unknown fields: 400), checking required ones.
fn read_values(
    m: &dyn ModelAdmin,
    form: Vec<(String, String)>,
) -> Result<(Values, Vec<String>), AdminError> {
    let fields = m.fields();
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let form = FormData(form).only(&names)?;
    let mut values = Values::new();
    let mut errors = Vec::new();
    for f in &fields {
        let v = match f.kind {
            FieldKind::Bool => form.checked(&f.name).to_string(),
            _ => form.get(&f.name).unwrap_or("").trim().to_owned(),
        };
        if f.required && v.is_empty() {
            errors.push(format!("{}: this field is required.", f.label));
        }
        if f.kind == FieldKind::Integer && !v.is_empty() && v.parse::<i64>().is_err() {
            errors.push(format!("{}: enter a whole number.", f.label));
        }
        values.insert(f.name.clone(), v);
    }
    Ok((values, errors))
}

/// `GET /{app}/{model}/add/`.
pub(crate) async fn add_form(
    staff: Staff,
    Path((app, name)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let m = model(&staff, &app, &name)?;
    if !m.has_add_permission(&staff.principal) {
        return Err(forbidden("add", m.as_ref()));
    }
    form_page(
        &staff,
        m.as_ref(),
        None,
        &Values::new(),
        true,
        StatusCode::OK,
        Vec::new(),
    )
}

/// `POST /{app}/{model}/add/`.
pub(crate) async fn add(
    staff: Staff,
    Path((app, name)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    let m = model(&staff, &app, &name)?;
    if !m.has_add_permission(&staff.principal) {
        return Err(forbidden("add", m.as_ref()));
    }
    let (values, errors) = read_values(m.as_ref(), form)?;
    if !errors.is_empty() {
        return form_page(
            &staff,
            m.as_ref(),
            None,
            &values,
            true,
            StatusCode::BAD_REQUEST,
            errors,
        );
    }
    match m.create(&values).await {
        Ok(o) => Ok(redirect(&object_url(&staff, m.as_ref(), &o.id, "change"))),
        Err(ModelError::Invalid(errors)) => form_page(
            &staff,
            m.as_ref(),
            None,
            &values,
            true,
            StatusCode::BAD_REQUEST,
            errors,
        ),
        Err(e) => Err(model_error(e)),
    }
}

async fn object(m: &dyn ModelAdmin, id: &str) -> Result<Object, AdminError> {
    m.get(id)
        .await
        .map_err(model_error)?
        .ok_or_else(|| AdminError::NotFound(format!("No {} with id {id:?}.", m.model_name())))
}

/// `GET /{app}/{model}/{id}/change/` (read-only for view-only users).
pub(crate) async fn change_form(
    staff: Staff,
    Path((app, name, id)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    let m = model(&staff, &app, &name)?;
    let o = object(m.as_ref(), &id).await?;
    if !m.has_view_permission(&staff.principal, Some(&o)) {
        return Err(forbidden("view", m.as_ref()));
    }
    let editable = m.has_change_permission(&staff.principal, Some(&o));
    form_page(
        &staff,
        m.as_ref(),
        Some(&o),
        &o.values,
        editable,
        StatusCode::OK,
        Vec::new(),
    )
}

/// `POST /{app}/{model}/{id}/change/`.
pub(crate) async fn change(
    staff: Staff,
    Path((app, name, id)): Path<(String, String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    let m = model(&staff, &app, &name)?;
    let o = object(m.as_ref(), &id).await?;
    if !m.has_change_permission(&staff.principal, Some(&o)) {
        return Err(forbidden("change", m.as_ref()));
    }
    let (values, errors) = read_values(m.as_ref(), form)?;
    if !errors.is_empty() {
        return form_page(
            &staff,
            m.as_ref(),
            Some(&o),
            &values,
            true,
            StatusCode::BAD_REQUEST,
            errors,
        );
    }
    match m.update(&id, &values).await {
        Ok(o) => Ok(redirect(&object_url(&staff, m.as_ref(), &o.id, "change"))),
        Err(ModelError::Invalid(errors)) => form_page(
            &staff,
            m.as_ref(),
            Some(&o),
            &values,
            true,
            StatusCode::BAD_REQUEST,
            errors,
        ),
        Err(e) => Err(model_error(e)),
    }
}

/// `GET /{app}/{model}/{id}/delete/`.
pub(crate) async fn delete_form(
    staff: Staff,
    Path((app, name, id)): Path<(String, String, String)>,
) -> Result<Response, AdminError> {
    let m = model(&staff, &app, &name)?;
    let o = object(m.as_ref(), &id).await?;
    if !m.has_delete_permission(&staff.principal, Some(&o)) {
        return Err(forbidden("delete", m.as_ref()));
    }
    page(
        &staff,
        "confirm_delete.html",
        StatusCode::OK,
        context! {
            kind => m.model_name(), object => &o.label,
            action => object_url(&staff, m.as_ref(), &o.id, "delete"),
            back => object_url(&staff, m.as_ref(), &o.id, "change"),
            errors => Vec::<String>::new(),
        },
    )
}

/// `POST /{app}/{model}/{id}/delete/`.
pub(crate) async fn delete(
    staff: Staff,
    Path((app, name, id)): Path<(String, String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    FormData(form).only(&[])?;
    let m = model(&staff, &app, &name)?;
    let o = object(m.as_ref(), &id).await?;
    if !m.has_delete_permission(&staff.principal, Some(&o)) {
        return Err(forbidden("delete", m.as_ref()));
    }
    m.delete(&id).await.map_err(model_error)?;
    Ok(redirect(&base_url(&staff, m.as_ref())))
}
