//! [`ModelAdmin`]: how an application puts its own models in the admin. The application keeps its
//! own storage; the admin asks it for objects and hands it validated form values. The permission
//! hooks default to Django's rules and can be overridden per model (and per object).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use castellan_core::Principal;

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
    /// The plural shown in headings (default: model name + "s").
    fn verbose_name_plural(&self) -> String {
        format!("{}s", self.model_name())
    }
    /// The form fields, in order.
    fn fields(&self) -> Vec<Field>;
    /// The field names shown as list columns (default: every field).
    fn list_display(&self) -> Vec<String> {
        self.fields().into_iter().map(|f| f.name).collect()
    }
    /// Every object, in display order.
    fn list(&self) -> BoxFuture<'_, Result<Vec<Object>, ModelError>>;
    /// One object, or `None`.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Object>, ModelError>>;
    /// Creates an object from the submitted values.
    fn create<'a>(&'a self, values: &'a Values) -> BoxFuture<'a, Result<Object, ModelError>>;
    /// Updates an object from the submitted values.
    fn update<'a>(
        &'a self,
        id: &'a str,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Object, ModelError>>;
    /// Deletes an object.
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), ModelError>>;

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
