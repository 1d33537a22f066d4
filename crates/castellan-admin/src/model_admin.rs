//! [`ModelAdmin`]: how an application puts its own models in the admin. The application keeps its
//! own storage; the admin asks it for pages of objects and hands it validated form values with the
//! acting user ([`AdminRequest`]). The permission hooks default to Django's rules and can be
//! overridden per model (and per object). Every create, update and delete made through the admin
//! is written to Castellan's audit trail (`admin.add`, `admin.change`, `admin.delete`).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use castellan_core::{Principal, User};

/// A boxed, sendable future (the trait is used as `dyn ModelAdmin`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Field values by field name, as text (what a form submits and a list shows).
pub type Values = BTreeMap<String, String>;

/// One object of an application model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Its primary key, as text (used in URLs).
    pub id: String,
    /// A human label (`__str__`).
    pub label: String,
    /// Its field values.
    pub values: Values,
}

/// Who is acting on a model: the logged-in admin user and their loaded permissions (Django hands
/// `ModelAdmin.save_model` the `request`). Every write method gets one, so an application can
/// check its own custom permissions (`user.has_perm("app.can_publish_book")`) or record the user
/// (an article's author). The admin has already checked the `has_*_permission` hook.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AdminRequest<'a> {
    /// The acting user (active staff).
    pub user: &'a User,
    /// The same user's permissions, for `has_perm`.
    pub principal: &'a Principal,
}

impl<'a> AdminRequest<'a> {
    /// A request by `user`, whose permissions are `principal` (the admin builds these; tests of
    /// a `ModelAdmin` may too).
    pub fn new(user: &'a User, principal: &'a Principal) -> Self {
        Self { user, principal }
    }

    /// `user.has_perm(perm)`.
    pub fn has_perm(&self, perm: &str) -> bool {
        self.principal.has_perm(perm)
    }
}

/// Which page of a model's list the admin asks for: `limit` objects after skipping `offset`, of
/// those matching `search` (when the model has [`ModelAdmin::search_fields`] and the user typed
/// something).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListQuery {
    /// The trimmed search text, if any.
    pub search: Option<String>,
    /// How many matching objects to skip.
    pub offset: u64,
    /// At most this many objects (Django's `list_per_page`).
    pub limit: u64,
    /// The field to order by (one of [`ModelAdmin::sortable_fields`]) and whether descending;
    /// `None`: the model's own order.
    pub order: Option<(String, bool)>,
    /// Only objects whose field has this value (`(field, value)`, from
    /// [`ModelAdmin::list_filters`]; every pair applies).
    pub filters: Vec<(String, String)>,
}

impl ListQuery {
    /// The page of `limit` objects after `offset`, without search.
    pub fn new(offset: u64, limit: u64) -> Self {
        Self {
            search: None,
            offset,
            limit,
            order: None,
            filters: Vec::new(),
        }
    }

    /// The same page ordered by `field` (descending when `descending`).
    pub fn with_order(mut self, field: impl Into<String>, descending: bool) -> Self {
        self.order = Some((field.into(), descending));
        self
    }

    /// The same page of the objects whose `field` is `value` (on top of earlier filters).
    pub fn with_filter(mut self, field: impl Into<String>, value: impl Into<String>) -> Self {
        self.filters.push((field.into(), value.into()));
        self
    }

    /// The same page of the objects matching `search` (ignored when blank).
    pub fn with_search(mut self, search: impl Into<String>) -> Self {
        let search = search.into().trim().to_owned();
        self.search = (!search.is_empty()).then_some(search);
        self
    }
}

/// One page of a model's list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// The objects, in display order (at most [`ListQuery::limit`]).
    pub objects: Vec<Object>,
    /// Whether more objects follow (a "Next" link is shown). A model using SQL can ask for
    /// `limit + 1` rows to know.
    pub more: bool,
    /// How many objects match in all, when the model knows it cheaply.
    pub total: Option<u64>,
}

impl ListPage {
    /// A page cut from every object in memory: those whose label or one of `search_fields`
    /// contains the search text (case-insensitive) and whose values match the filters, in the
    /// query's order (numbers as numbers, then text; stable), then `offset`/`limit`. For small
    /// models; a model with a database should page in SQL.
    pub fn from_all(all: Vec<Object>, query: &ListQuery, search_fields: &[String]) -> Self {
        let needle = query.search.as_deref().map(str::to_lowercase);
        let mut matching: Vec<Object> = all
            .into_iter()
            .filter(|o| {
                query
                    .filters
                    .iter()
                    .all(|(f, v)| o.values.get(f).is_some_and(|x| x == v))
            })
            .filter(|o| match &needle {
                None => true,
                Some(n) => {
                    o.label.to_lowercase().contains(n)
                        || search_fields.iter().any(|f| {
                            o.values
                                .get(f)
                                .is_some_and(|v| v.to_lowercase().contains(n))
                        })
                }
            })
            .collect();
        if let Some((field, descending)) = &query.order {
            let value = |o: &Object| o.values.get(field).cloned().unwrap_or_default();
            matching.sort_by(|a, b| {
                let (x, y) = (value(a), value(b));
                let order = match (x.parse::<i64>(), y.parse::<i64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.to_lowercase().cmp(&y.to_lowercase()),
                };
                if *descending {
                    order.reverse()
                } else {
                    order
                }
            });
        }
        let total = matching.len() as u64;
        let skip = usize::try_from(query.offset).unwrap_or(usize::MAX);
        let take = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let objects: Vec<Object> = matching.into_iter().skip(skip).take(take).collect();
        let shown = query.offset.saturating_add(objects.len() as u64);
        Self {
            more: shown < total,
            objects,
            total: Some(total),
        }
    }
}

/// A list filter (Django's `list_filter`): the objects whose `field` has one of `choices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    /// The field filtered on (a key of the objects' [`Values`]).
    pub field: String,
    /// The heading ("By status").
    pub label: String,
    /// The values to choose from, each with its label: `("true", "Yes")`.
    pub choices: Vec<(String, String)>,
}

impl ListFilter {
    /// A filter on `field` headed `label` with `choices` (value, label).
    pub fn new(
        field: impl Into<String>,
        label: impl Into<String>,
        choices: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Self {
            field: field.into(),
            label: label.into(),
            choices: choices.into_iter().collect(),
        }
    }

    /// A yes/no filter on a boolean field (values `true` / `false`).
    pub fn yes_no(field: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(
            field,
            label,
            [
                ("true".to_owned(), "Yes".to_owned()),
                ("false".to_owned(), "No".to_owned()),
            ],
        )
    }
}

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A one-line text input.
    Text,
    /// A multi-line text area.
    TextArea,
    /// A checkbox (`"true"` / `"false"`).
    Bool,
    /// An integer input.
    Integer,
}

/// A form field of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field name (form field and [`Values`] key).
    pub name: String,
    /// The label shown.
    pub label: String,
    /// The input kind.
    pub kind: FieldKind,
    /// Whether an empty value is refused (checked by the admin before calling the model).
    pub required: bool,
}

impl Field {
    /// A field; the label defaults to the name with `_` as spaces.
    pub fn new(name: impl Into<String>, kind: FieldKind) -> Self {
        let name = name.into();
        let mut label = name.replace('_', " ");
        if let Some(first) = label.get(..1) {
            label = first.to_uppercase() + label.get(1..).unwrap_or("");
        }
        Self {
            name,
            label,
            kind,
            required: false,
        }
    }

    /// Marks the field as required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// Why a model operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The values break the model's rules; the messages are shown on the form (400).
    #[error("invalid: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// No such object (404).
    #[error("not found")]
    NotFound,
    /// The model's storage failed (500, logged, masked).
    #[error("{0}")]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

/// An application model in the admin (Django's `ModelAdmin`). `app_label` and `model_name` must
/// match the permission names (`{app}.view_{model}` …).
pub trait ModelAdmin: Send + Sync + 'static {
    /// The app label, e.g. `bookshelf`.
    fn app_label(&self) -> &str;
    /// The lower-case model name, e.g. `book`.
    fn model_name(&self) -> &str;
    /// The singular used in messages such as "The book “Dune” was changed successfully."
    /// (Django's `verbose_name`; default: the model name).
    fn verbose_name(&self) -> String {
        self.model_name().to_owned()
    }
    /// The plural shown in headings (default: model name + "s").
    fn verbose_name_plural(&self) -> String {
        format!("{}s", self.model_name())
    }
    /// The object's page on the site, shown as "View on site" on its change page (Django's
    /// `ModelAdmin.view_on_site` with the model's `get_absolute_url`; default: none). A path
    /// (`/books/7/`) or an absolute `http(s)://` URL; anything else is not shown.
    fn view_on_site(&self, _obj: &Object) -> Option<String> {
        None
    }
    /// The form fields, in order.
    fn fields(&self) -> Vec<Field>;
    /// The field names shown as list columns (default: every field).
    fn list_display(&self) -> Vec<String> {
        self.fields().into_iter().map(|f| f.name).collect()
    }
    /// The fields the list's search box looks in (Django's `search_fields`; default none: no
    /// search box). The model does the searching in [`ModelAdmin::list`].
    fn search_fields(&self) -> Vec<String> {
        Vec::new()
    }
    /// The list columns a heading click may order by (Django's sortable `list_display` fields;
    /// default none). The model applies [`ListQuery::order`] in [`ModelAdmin::list`] ([`ListPage::from_all`]
    /// and [`SqlList`](crate::SqlList) do).
    fn sortable_fields(&self) -> Vec<String> {
        Vec::new()
    }
    /// The list's filters (Django's `list_filter`; default none): each a field with the values
    /// to choose from. The admin accepts only those values and hands them to
    /// [`ModelAdmin::list`] as [`ListQuery::filters`].
    fn list_filters(&self) -> Vec<ListFilter> {
        Vec::new()
    }
    /// Deletes several objects for "Delete selected" (each already checked with
    /// [`ModelAdmin::has_delete_permission`]). The default deletes them one by one with
    /// [`ModelAdmin::delete`], so a failure part-way leaves the earlier ones deleted; a model
    /// with a database should delete them in one transaction.
    fn delete_many<'a>(
        &'a self,
        request: AdminRequest<'a>,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<(), ModelError>> {
        Box::pin(async move {
            for id in ids {
                self.delete(request, id).await?;
            }
            Ok(())
        })
    }
    /// Objects per list page (Django's `list_per_page`, default 100).
    fn list_per_page(&self) -> u64 {
        100
    }
    /// One page of the objects, in display order (see [`ListPage::from_all`] for a small model
    /// kept in memory).
    fn list<'a>(&'a self, query: &'a ListQuery) -> BoxFuture<'a, Result<ListPage, ModelError>>;
    /// One object, or `None`.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Object>, ModelError>>;
    /// Creates an object from the submitted values, on behalf of `request.user`.
    fn create<'a>(
        &'a self,
        request: AdminRequest<'a>,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Object, ModelError>>;
    /// Updates an object from the submitted values, on behalf of `request.user`.
    fn update<'a>(
        &'a self,
        request: AdminRequest<'a>,
        id: &'a str,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Object, ModelError>>;
    /// Deletes an object, on behalf of `request.user`.
    fn delete<'a>(
        &'a self,
        request: AdminRequest<'a>,
        id: &'a str,
    ) -> BoxFuture<'a, Result<(), ModelError>>;

    /// Django's `has_view_permission`: `view_<model>` or `change_<model>`.
    fn has_view_permission(&self, user: &Principal, _obj: Option<&Object>) -> bool {
        user.has_perm(&format!("{}.view_{}", self.app_label(), self.model_name()))
            || user.has_perm(&format!(
                "{}.change_{}",
                self.app_label(),
                self.model_name()
            ))
    }
    /// Django's `has_add_permission`: `add_<model>`.
    fn has_add_permission(&self, user: &Principal) -> bool {
        user.has_perm(&format!("{}.add_{}", self.app_label(), self.model_name()))
    }
    /// Django's `has_change_permission`: `change_<model>`.
    fn has_change_permission(&self, user: &Principal, _obj: Option<&Object>) -> bool {
        user.has_perm(&format!(
            "{}.change_{}",
            self.app_label(),
            self.model_name()
        ))
    }
    /// Django's `has_delete_permission`: `delete_<model>`.
    fn has_delete_permission(&self, user: &Principal, _obj: Option<&Object>) -> bool {
        user.has_perm(&format!(
            "{}.delete_{}",
            self.app_label(),
            self.model_name()
        ))
    }
    /// Django's `has_module_permission`: any permission in the app.
    fn has_module_permission(&self, user: &Principal) -> bool {
        user.has_module_perms(self.app_label())
    }
}
