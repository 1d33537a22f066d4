//! The pages generated for a registered [`ModelAdmin`](crate::ModelAdmin): list (paged, with a
//! search box when the model has search fields), add, change and delete, each gated by the
//! model's `has_*_permission` hooks (checked again on every POST). Every write is handed the acting
//! user and recorded in the audit trail as Django's `LogEntry` would be: `admin.add` /
//! `admin.change` / `admin.delete`, object type `app.model`, the object's id, and the label with
//! the values (all of them on add and delete, the changed ones on change).

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::response::Response;
use axum::Form;
use http::StatusCode;
use minijinja::context;
use serde_json::json;

use castellan_axum::messages;

use crate::access::{segment, Staff};
use crate::crumbs::Crumbs;
use crate::error::AdminError;
use crate::forms::FormData;
use crate::model_admin::{
    AdminRequest, Field, FieldKind, ListQuery, ModelAdmin, ModelError, Object, Values,
};
use crate::respond::{page, redirect};
use crate::saving::{deleted_message, SaveButton, BUTTONS};

pub(crate) fn model(
    staff: &Staff,
    app: &str,
    name: &str,
) -> Result<Arc<dyn ModelAdmin>, AdminError> {
    staff.site.model(app, name).cloned().ok_or_else(|| {
        AdminError::NotFound(format!(
            "No model {app}.{name} is registered with the admin."
        ))
    })
}

/// A refusal naming the permission Django's default hook asks for (`what`: view, add, change,
/// delete); a model may add rules of its own, which the message mentions.
pub(crate) fn forbidden(what: &str, m: &dyn ModelAdmin) -> AdminError {
    let (app, model) = (m.app_label(), m.model_name());
    let perm = match what {
        "view" => format!("{app}.view_{model} or {app}.change_{model}"),
        other => format!("{app}.{other}_{model}"),
    };
    AdminError::Forbidden(format!(
        "You may not {what} {app}.{model} objects: this needs the permission {perm} (and the model's own rules, if it has any); ask a superuser for it."
    ))
}

fn model_error(e: ModelError) -> AdminError {
    match e {
        ModelError::Invalid(msgs) => AdminError::BadRequest(msgs.join(" ")),
        ModelError::NotFound => AdminError::NotFound("No such object.".into()),
        ModelError::Failed(e) => AdminError::Internal(format!("model storage failed: {e}")),
    }
}

use crate::links::{model_list as base_url, model_object as object_url};

/// The list's query parameters: `q` (search), `p` (page, from 1), `o` (order: a sortable field,
/// `-` in front for descending) and one per declared filter (`{field}={value}`).
#[derive(Debug, Default)]
pub(crate) struct ListParams {
    q: String,
    p: String,
    o: String,
    filters: Vec<(String, String)>,
}

impl ListParams {
    /// Reads the parameters against the model's filters: an unknown parameter, or a value a
    /// filter does not offer, is a 400.
    fn read(m: &dyn ModelAdmin, pairs: Vec<(String, String)>) -> Result<Self, AdminError> {
        let declared = m.list_filters();
        let mut out = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "q" => out.q = v,
                "p" => out.p = v,
                "o" => out.o = v,
                field => {
                    let Some(f) = declared.iter().find(|f| f.field == field) else {
                        return Err(AdminError::BadRequest(format!(
                            "The list has no filter or parameter {field:?}."
                        )));
                    };
                    if v.is_empty() {
                        continue;
                    }
                    if !f.choices.iter().any(|(c, _)| *c == v) {
                        return Err(AdminError::BadRequest(format!(
                            "{v:?} is not one of the values of the filter {:?}.",
                            f.label
                        )));
                    }
                    out.filters.retain(|(name, _)| name != field);
                    out.filters.push((field.to_owned(), v));
                }
            }
        }
        Ok(out)
    }

    /// `?…` with these parameters, `p` and `o` replaced (`None`: left out).
    fn url(&self, page: u64, order: Option<&str>) -> String {
        let mut parts = Vec::new();
        if !self.q.trim().is_empty() {
            parts.push(format!("q={}", segment(self.q.trim())));
        }
        for (f, v) in &self.filters {
            parts.push(format!("{}={}", segment(f), segment(v)));
        }
        if let Some(o) = order.filter(|o| !o.is_empty()) {
            parts.push(format!("o={}", segment(o)));
        }
        if page > 1 {
            parts.push(format!("p={page}"));
        }
        format!("?{}", parts.join("&"))
    }
}

/// The largest page number accepted (keeps `offset` far from overflowing).
const MAX_PAGE: u64 = 1_000_000;

/// The order asked for by `o`, if the model offers that field.
fn list_order(m: &dyn ModelAdmin, o: &str) -> Result<Option<(String, bool)>, AdminError> {
    let o = o.trim();
    if o.is_empty() {
        return Ok(None);
    }
    let (descending, field) = match o.strip_prefix('-') {
        Some(f) => (true, f),
        None => (false, o),
    };
    if m.sortable_fields().iter().any(|f| f == field) {
        Ok(Some((field.to_owned(), descending)))
    } else {
        Err(AdminError::BadRequest(format!(
            "The list cannot be ordered by {field:?}."
        )))
    }
}

/// `GET /{app}/{model}/` (`q` searches, `p` pages, `o` orders, filters narrow).
pub(crate) async fn list(
    staff: Staff,
    Path((app, name)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    let m = model(&staff, &app, &name)?;
    if !m.has_view_permission(&staff.principal, None) {
        return Err(forbidden("view", m.as_ref()));
    }
    let params = ListParams::read(m.as_ref(), pairs)?;
    let page_number = match params.p.trim() {
        "" => 1,
        p => p
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                AdminError::BadRequest(format!(
                    "p={p:?} is not a page number (1, 2, …); nothing to show."
                ))
            })?,
    };
    let order = list_order(m.as_ref(), &params.o)?;
    let per_page = m.list_per_page().clamp(1, 10_000);
    let search_fields = m.search_fields();
    let search = if search_fields.is_empty() {
        String::new()
    } else {
        params.q.trim().to_owned()
    };
    let mut query =
        ListQuery::new((page_number - 1) * per_page, per_page).with_search(search.clone());
    if let Some((field, descending)) = &order {
        query = query.with_order(field.clone(), *descending);
    }
    for (f, v) in &params.filters {
        query = query.with_filter(f.clone(), v.clone());
    }
    let columns = m.list_display();
    let fields = m.fields();
    // A column or search field shows as its form field's label, or without one as a field's
    // default label of its name (`copies_total` → "Copies total").
    let label_of = |n: &String| {
        fields.iter().find(|f| &f.name == n).map_or_else(
            || Field::new(n.clone(), FieldKind::Text).label,
            |f| f.label.clone(),
        )
    };
    let sortable = m.sortable_fields();
    let headers: Vec<_> = columns
        .iter()
        .map(|c| {
            let sorted = order.as_ref().filter(|(f, _)| f == c);
            let descending = sorted.is_some_and(|(_, d)| *d);
            let url = sortable.contains(c).then(|| {
                let next = if sorted.is_some() && !descending {
                    format!("-{c}")
                } else {
                    c.clone()
                };
                params.url(1, Some(&next))
            });
            context! { label => label_of(c), url, sorted => sorted.is_some(), descending, key => c }
        })
        .collect();
    let filters: Vec<_> = m
        .list_filters()
        .into_iter()
        .map(|f| {
            let current = params
                .filters
                .iter()
                .find(|(n, _)| *n == f.field)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let choices: Vec<_> = f
                .choices
                .iter()
                .map(|(v, l)| context! { value => v, label => l, selected => *v == current })
                .collect();
            context! { field => f.field, label => f.label, choices }
        })
        .collect();
    let found = m.list(&query).await.map_err(model_error)?;
    let objects: Vec<_> = found
        .objects
        .into_iter()
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .filter(|o| m.has_view_permission(&staff.principal, Some(o)))
        .map(|o| {
            let cells: Vec<String> = columns.iter().map(|c| o.values.get(c).cloned().unwrap_or_default()).collect();
            context! { url => object_url(&staff, m.as_ref(), &o.id, "change"), label => &o.label, id => &o.id, cells }
        })
        .collect();
    let search_labels: Vec<String> = search_fields.iter().map(label_of).collect();
    let o = params.o.trim().to_owned();
    page(
        &staff,
        "model_list.html",
        StatusCode::OK,
        context! {
            crumbs => Crumbs::app(&staff, &app).here(m.verbose_name_plural()).value(),
            app, model => name, title => m.verbose_name_plural(), headers, objects, filters,
            verbose_name => m.verbose_name(),
            add_url => m.has_add_permission(&staff.principal).then(|| format!("{}add/", base_url(&staff, m.as_ref()))),
            can_delete => m.has_delete_permission(&staff.principal, None),
            searchable => !search_fields.is_empty(), search_labels, q => &search, o,
            page_number, total => found.total,
            next_url => found.more.then(|| params.url(page_number + 1, Some(&params.o))),
            previous_url => (page_number > 1).then(|| params.url(page_number - 1, Some(&params.o))),
        },
    )
}

/// The most objects "Delete selected" takes at once.
const MAX_SELECTED: usize = 500;

/// `POST /{app}/{model}/`: "Delete selected" — a confirmation page listing the objects, then
/// (`post=yes`) the delete, if the user may delete every one of them (else nothing is deleted),
/// with one audit entry per object and Django's message.
pub(crate) async fn action(
    staff: Staff,
    Path((app, name)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    let m = model(&staff, &app, &name)?;
    if !m.has_view_permission(&staff.principal, None) {
        return Err(forbidden("view", m.as_ref()));
    }
    let form = FormData(form).only(&["action", "_selected_action", "post"])?;
    match form.get("action").unwrap_or("") {
        "delete_selected" => {}
        "" => {
            return Err(AdminError::BadRequest(
                "Choose an action for the selected objects; nothing was changed.".into(),
            ))
        }
        other => {
            return Err(AdminError::BadRequest(format!(
                "There is no action {other:?}; nothing was changed."
            )))
        }
    }
    let ids = form.all("_selected_action");
    if ids.is_empty() {
        messages::warning(
            &staff.auth,
            "Items must be selected in order to perform actions on them. No items have been changed.",
        );
        return Ok(redirect(&base_url(&staff, m.as_ref())));
    }
    if ids.len() > MAX_SELECTED {
        return Err(AdminError::BadRequest(format!(
            "At most {MAX_SELECTED} objects can be deleted at once; nothing was deleted."
        )));
    }
    let mut objects = Vec::with_capacity(ids.len());
    for id in &ids {
        let o = m.get(id).await.map_err(model_error)?.ok_or_else(|| {
            AdminError::BadRequest(format!(
                "There is no {} with id {id:?} (deleted meanwhile?); nothing was deleted.",
                m.verbose_name()
            ))
        })?;
        if !m.has_delete_permission(&staff.principal, Some(&o)) {
            return Err(AdminError::Forbidden(format!(
                "Nothing was deleted: you may not delete the {} “{}”.",
                m.verbose_name(),
                o.label
            )));
        }
        // Two spellings of one id (`5`, `05`) are one object.
        if !objects.iter().any(|seen: &Object| seen.id == o.id) {
            objects.push(o);
        }
    }
    let ids: Vec<String> = objects.iter().map(|o| o.id.clone()).collect();
    if form.get("post") != Some("yes") {
        let items: Vec<_> = objects
            .iter()
            .map(|o| context! { id => &o.id, label => &o.label, url => object_url(&staff, m.as_ref(), &o.id, "change") })
            .collect();
        return page(
            &staff,
            "model_delete_selected.html",
            StatusCode::OK,
            context! {
                items, verbose_name => m.verbose_name(), title => m.verbose_name_plural(),
                list_url => base_url(&staff, m.as_ref()),
                crumbs => Crumbs::app(&staff, &app)
                    .link(m.verbose_name_plural(), base_url(&staff, m.as_ref()))
                    .here(format!("Delete multiple {}", m.verbose_name_plural()))
                    .value(),
            },
        );
    }
    let deleted = m.delete_many(request(&staff), &ids).await;
    if let Err(e) = deleted {
        // A model deleting one by one may have stopped part-way: what is gone is audited.
        for o in &objects {
            if matches!(m.get(&o.id).await, Ok(None)) {
                record_deleted(&staff, m.as_ref(), o).await;
            }
        }
        return Err(model_error(e));
    }
    for o in &objects {
        record_deleted(&staff, m.as_ref(), o).await;
    }
    let count = objects.len();
    let noun = if count == 1 {
        m.verbose_name()
    } else {
        m.verbose_name_plural()
    };
    messages::success(&staff.auth, format!("Successfully deleted {count} {noun}."));
    Ok(redirect(&base_url(&staff, m.as_ref())))
}

/// The acting user, for the model's write methods.
fn request(staff: &Staff) -> AdminRequest<'_> {
    AdminRequest::new(&staff.user, &staff.principal)
}

/// Writes the audit entry of a model change made through the admin. The application's storage
/// is not in the store's transaction, so the change is already made: a failure to record it is
/// logged (error level), not shown as a failed save.
async fn record(
    staff: &Staff,
    m: &dyn ModelAdmin,
    action: &str,
    id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) {
    let object_type = format!("{}.{}", m.app_label(), m.model_name());
    let text = |v: Option<serde_json::Value>| v.map(|v| v.to_string());
    if let Err(e) = staff
        .store()
        .record_audit(action, &object_type, id, text(before), text(after))
        .await
    {
        tracing::error!(
            "castellan-admin: {action} of {object_type} {id:?} by {:?} was saved but could not be audited: {e}",
            staff.user.username
        );
    }
}

/// The audit entry of a deleted object: its label and every value, as Django's `LogEntry`.
async fn record_deleted(staff: &Staff, m: &dyn ModelAdmin, o: &Object) {
    let before = json!({ "label": &o.label, "values": &o.values });
    record(staff, m, "admin.delete", &o.id, Some(before), None).await;
}

/// The fields whose value differs between `before` and `after` (Django's `changed_data`).
fn changed_fields(before: &Values, after: &Values) -> Vec<String> {
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| before.get(*n) != after.get(*n))
        .cloned()
        .collect()
}

/// What was wrong with a submitted form: messages for a field (shown beside it) or for the whole
/// form (shown above it).
#[derive(Debug, Default)]
pub(crate) struct FormErrors {
    fields: Vec<(String, String)>,
    form: Vec<String>,
}

impl FormErrors {
    /// Errors of the whole form (the model's own refusals).
    fn of_form(messages: Vec<String>) -> Self {
        Self {
            fields: Vec::new(),
            form: messages,
        }
    }

    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.form.is_empty()
    }

    /// The messages above the form: Django's "Please correct the error(s) below." for field
    /// errors, then the form's own.
    fn summary(&self) -> Vec<String> {
        let mut out = match self.fields.len() {
            0 => Vec::new(),
            1 => vec!["Please correct the error below.".to_owned()],
            _ => vec!["Please correct the errors below.".to_owned()],
        };
        out.extend(self.form.iter().cloned());
        out
    }

    fn of_field(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(f, _)| f == name)
            .map(|(_, m)| m.clone())
            .collect()
    }
}

fn form_page(
    staff: &Staff,
    m: &dyn ModelAdmin,
    object: Option<&Object>,
    values: &Values,
    editable: bool,
    status: StatusCode,
    errors: FormErrors,
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
            let field_errors = errors.of_field(&f.name);
            context! { name => f.name, label => f.label, required => f.required, kind, value, errors => field_errors }
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
    let crumbs =
        Crumbs::app(staff, m.app_label()).link(m.verbose_name_plural(), base_url(staff, m));
    let crumbs = match object {
        Some(o) => crumbs.here(o.label.clone()),
        None => crumbs.here(format!("Add {}", m.verbose_name())),
    };
    page(
        staff,
        "model_form.html",
        status,
        context! {
            app => m.app_label(), model => m.model_name(), title => m.verbose_name_plural(),
            verbose_name => m.verbose_name(),
            object => object.map(|o| o.label.clone()), fields, editable,
            errors => errors.summary(), action, delete_url,
            list_url => base_url(staff, m), crumbs => crumbs.value(),
            history_url => object.map(|o| object_url(staff, m, &o.id, "history")),
            permissions_url => object
                .filter(|_| editable)
                .map(|o| object_url(staff, m, &o.id, "permissions")),
            view_on_site => object.and_then(|o| m.view_on_site(o)).filter(|u| site_link(u)),
            can_add_another => m.has_add_permission(&staff.principal),
        },
    )
}

/// Whether a "View on site" URL is one to link to: a path on this site or an http(s) URL (not
/// `javascript:` or the like, which a model's data might produce).
fn site_link(url: &str) -> bool {
    // Browsers drop tabs and newlines and read `\` as `/`: `/\evil.example` or `/<TAB>/x` would
    // leave the site.
    if url
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return false;
    }
    (url.starts_with('/') && !url.starts_with("//"))
        || url.starts_with("https://")
        || url.starts_with("http://")
}

/// Reads the model's fields from a form (unknown fields: 400), checking required ones; also
/// says which save button was pressed.
fn read_values(
    m: &dyn ModelAdmin,
    form: Vec<(String, String)>,
) -> Result<(Values, FormErrors, SaveButton), AdminError> {
    let fields = m.fields();
    let mut names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    names.extend(BUTTONS);
    let form = FormData(form).only(&names)?;
    let mut values = Values::new();
    let mut errors = FormErrors::default();
    for f in &fields {
        let v = match f.kind {
            FieldKind::Bool => form.checked(&f.name).to_string(),
            _ => form.get(&f.name).unwrap_or("").trim().to_owned(),
        };
        if f.required && v.is_empty() {
            errors
                .fields
                .push((f.name.clone(), "This field is required.".to_owned()));
        }
        if f.kind == FieldKind::Integer && !v.is_empty() && v.parse::<i64>().is_err() {
            errors
                .fields
                .push((f.name.clone(), "Enter a whole number.".to_owned()));
        }
        values.insert(f.name.clone(), v);
    }
    Ok((values, errors, SaveButton::of(&form)))
}

/// Where a saved object's form goes next, with Django's message for the next page.
fn after_save(
    staff: &Staff,
    m: &dyn ModelAdmin,
    o: &Object,
    button: SaveButton,
    added: bool,
) -> Response {
    let button = button.unless_cannot_add(m.has_add_permission(&staff.principal));
    messages::success(
        &staff.auth,
        button.message(&m.verbose_name(), &o.label, added),
    );
    let list = base_url(staff, m);
    let change = object_url(staff, m, &o.id, "change");
    let add = format!("{list}add/");
    redirect(button.next(&list, &change, &add))
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
        FormErrors::default(),
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
    let (values, errors, button) = read_values(m.as_ref(), form)?;
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
    match m.create(request(&staff), &values).await {
        Ok(o) => {
            record(
                &staff,
                m.as_ref(),
                "admin.add",
                &o.id,
                None,
                Some(json!({ "label": &o.label, "values": &o.values })),
            )
            .await;
            Ok(after_save(&staff, m.as_ref(), &o, button, true))
        }
        Err(ModelError::Invalid(errors)) => form_page(
            &staff,
            m.as_ref(),
            None,
            &values,
            true,
            StatusCode::BAD_REQUEST,
            FormErrors::of_form(errors),
        ),
        Err(e) => Err(model_error(e)),
    }
}

pub(crate) async fn object(m: &dyn ModelAdmin, id: &str) -> Result<Object, AdminError> {
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
        FormErrors::default(),
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
    let (values, errors, button) = read_values(m.as_ref(), form)?;
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
    match m.update(request(&staff), &id, &values).await {
        Ok(new) => {
            let changed = changed_fields(&o.values, &new.values);
            let pick = |v: &Values| -> Values {
                v.iter()
                    .filter(|(k, _)| changed.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            };
            record(
                &staff,
                m.as_ref(),
                "admin.change",
                &new.id,
                Some(json!({ "label": &o.label, "values": pick(&o.values) })),
                Some(json!({ "label": &new.label, "values": pick(&new.values), "changed": &changed })),
            )
            .await;
            Ok(after_save(&staff, m.as_ref(), &new, button, false))
        }
        Err(ModelError::Invalid(errors)) => form_page(
            &staff,
            m.as_ref(),
            Some(&o),
            &values,
            true,
            StatusCode::BAD_REQUEST,
            FormErrors::of_form(errors),
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
            kind => m.verbose_name(), object => &o.label,
            action => object_url(&staff, m.as_ref(), &o.id, "delete"),
            back => object_url(&staff, m.as_ref(), &o.id, "change"),
            errors => Vec::<String>::new(),
            crumbs => Crumbs::app(&staff, m.app_label())
                .link(m.verbose_name_plural(), base_url(&staff, m.as_ref()))
                .link(o.label.clone(), object_url(&staff, m.as_ref(), &o.id, "change"))
                .here("Delete")
                .value(),
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
    m.delete(request(&staff), &id).await.map_err(model_error)?;
    record_deleted(&staff, m.as_ref(), &o).await;
    messages::success(&staff.auth, deleted_message(&m.verbose_name(), &o.label));
    Ok(redirect(&base_url(&staff, m.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::site_link;

    #[test]
    fn view_on_site_links_stay_on_http() {
        for ok in [
            "/books/7/",
            "https://example.org/b/7",
            "http://example.org/",
        ] {
            assert!(site_link(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "//evil.example/",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "data:text/html,x",
            "books/7",
        ] {
            assert!(!site_link(bad), "{bad:?}");
        }
    }
}
