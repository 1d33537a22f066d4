//! The registry of apps, models and the permissions they declare.
//!
//! Django creates, for every model, one permission per action in `Meta.default_permissions`
//! (`add`, `change`, `delete`, `view`) with codename `<action>_<model_name>` and name
//! `Can <action> <verbose_name>`, followed by the custom `Meta.permissions`. A [`Registry`] holds the same
//! declarations for a Rust application, so the store can create them and guards can be checked against
//! them when the router is built.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::perm::{validate_identifier, validate_new_codename};
use crate::validators::{validate_permission_name, MAX_PERMISSION_NAME};

/// Django's default `Meta.default_permissions`.
pub const DEFAULT_ACTIONS: [&str; 4] = ["add", "change", "delete", "view"];

/// One permission a model declares: a codename and a human-readable name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PermissionSpec {
    /// The codename, e.g. `add_book` or `can_publish_book`.
    pub codename: String,
    /// The name, e.g. `Can add book`.
    pub name: String,
}

/// A model as Django's content-type and permission machinery sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSpec {
    app_label: String,
    model_name: String,
    verbose_name: String,
    default_actions: Vec<String>,
    custom: Vec<PermissionSpec>,
}

impl ModelSpec {
    /// A model named like its Rust/Python class (`BookAuthor`): the model name is the lower-cased class
    /// name (`bookauthor`) and the verbose name the class name split into words (`book author`).
    pub fn new(app_label: impl Into<String>, object_name: &str) -> Self {
        Self {
            app_label: app_label.into(),
            model_name: object_name.to_lowercase(),
            verbose_name: camel_case_to_spaces(object_name),
            default_actions: DEFAULT_ACTIONS.iter().map(|a| (*a).to_owned()).collect(),
            custom: Vec::new(),
        }
    }

    /// Sets an explicit verbose name, used verbatim in the default permission names (`Can add Buch`).
    pub fn with_verbose_name(mut self, verbose_name: impl Into<String>) -> Self {
        self.verbose_name = verbose_name.into();
        self
    }

    /// Replaces the default actions (`Meta.default_permissions`); an empty list suppresses them.
    pub fn with_default_permissions<I, S>(mut self, actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.default_actions = actions.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a custom permission (`Meta.permissions` entry).
    pub fn with_permission(mut self, codename: impl Into<String>, name: impl Into<String>) -> Self {
        self.custom.push(PermissionSpec {
            codename: codename.into(),
            name: name.into(),
        });
        self
    }

    /// The app label, e.g. `bookshelf`.
    pub fn app_label(&self) -> &str {
        &self.app_label
    }

    /// The model name (`_meta.model_name`), e.g. `book`.
    pub fn model_name(&self) -> &str {
        &self.model_name
    }

    /// The verbose name, e.g. `book`.
    pub fn verbose_name(&self) -> &str {
        &self.verbose_name
    }

    /// The default actions.
    pub fn default_actions(&self) -> &[String] {
        &self.default_actions
    }

    /// The custom permissions, as declared.
    pub fn custom_permissions(&self) -> &[PermissionSpec] {
        &self.custom
    }

    /// Every permission of the model in Django's creation order: the default actions, then the custom ones.
    pub fn permissions(&self) -> Vec<PermissionSpec> {
        self.default_actions
            .iter()
            .map(|action| PermissionSpec {
                codename: default_codename(action, &self.model_name),
                name: format!("Can {action} {}", self.verbose_name),
            })
            .chain(self.custom.iter().cloned())
            .collect()
    }

    /// Runs Django's permission system checks (auth.E005–E008, E011, E012) and validates the names.
    pub fn check(&self) -> Result<()> {
        validate_identifier("app label", &self.app_label)?;
        validate_identifier("model name", &self.model_name)?;
        let longest_action = self
            .default_actions
            .iter()
            .map(|a| a.chars().count())
            .max()
            .unwrap_or(0);
        // "Can <action> " prefix + verbose name must fit in 255 (E007).
        let prefix = "Can  ".len() + longest_action;
        if !self.default_actions.is_empty()
            && prefix + self.verbose_name.chars().count() > MAX_PERMISSION_NAME
        {
            return Err(Error::Check {
                id: "auth.E007",
                message: format!(
                    "The verbose_name of model '{}.{}' must be at most {} characters for its builtin permission names to be at most {MAX_PERMISSION_NAME} characters.",
                    self.app_label,
                    self.model_name,
                    MAX_PERMISSION_NAME.saturating_sub(prefix)
                ),
            });
        }
        // "<action>_" + model name must fit in 100 (E011).
        let max_model = 100usize.saturating_sub(longest_action + 1);
        if !self.default_actions.is_empty() && self.model_name.chars().count() > max_model {
            return Err(Error::Check {
                id: "auth.E011",
                message: format!(
                    "The name of model '{}.{}' must be at most {max_model} characters for its builtin permission codenames to be at most 100 characters.",
                    self.app_label, self.model_name
                ),
            });
        }
        let builtin: Vec<String> = self
            .default_actions
            .iter()
            .map(|a| default_codename(a, &self.model_name))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for perm in &self.custom {
            validate_new_codename(&perm.codename).map_err(|e| Error::Check {
                id: "auth.E012",
                message: format!(
                    "The permission codenamed '{}' of model '{}.{}' is invalid: {e}",
                    perm.codename, self.app_label, self.model_name
                ),
            })?;
            validate_permission_name(&perm.name).map_err(|e| Error::Check {
                id: "auth.E008",
                message: format!(
                    "The permission named '{}' of model '{}.{}' is invalid: {e}",
                    perm.name, self.app_label, self.model_name
                ),
            })?;
            if builtin.contains(&perm.codename) {
                return Err(Error::Check {
                    id: "auth.E005",
                    message: format!(
                        "The permission codenamed '{}' clashes with a builtin permission for model '{}.{}'.",
                        perm.codename, self.app_label, self.model_name
                    ),
                });
            }
            if !seen.insert(perm.codename.as_str()) {
                return Err(Error::Check {
                    id: "auth.E006",
                    message: format!(
                        "The permission codenamed '{}' is duplicated for model '{}.{}'.",
                        perm.codename, self.app_label, self.model_name
                    ),
                });
            }
        }
        Ok(())
    }
}

/// `get_permission_codename(action, opts)`: `<action>_<model_name>`.
pub fn default_codename(action: &str, model_name: &str) -> String {
    format!("{action}_{model_name}")
}

/// Django's `camel_case_to_spaces`: `BookAuthor` → `book author`, `HTTPResponse` → `http response`.
///
/// A space goes before an upper-case ASCII letter that follows a lower-case one, or that is followed
/// by a character that is not upper-case; then the result is lower-cased and trimmed.
pub fn camel_case_to_spaces(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let after_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
            let before_non_upper = chars.get(i + 1).is_some_and(|n| !n.is_ascii_uppercase());
            if after_lower || before_non_upper {
                out.push(' ');
            }
        }
        out.push(c);
    }
    out.to_lowercase().trim().to_owned()
}

/// One installed app: its label, a human name and its models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSpec {
    /// The app label.
    pub label: String,
    /// The human name (`AppConfig.verbose_name`).
    pub verbose_name: String,
    /// The models, in declaration order (the order Django creates their permissions in).
    pub models: Vec<ModelSpec>,
}

/// The apps and models an application declares, with Django's built-in `contenttypes` and `auth`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(from = "RegistryData")]
pub struct Registry {
    /// Apps in installation order (Django's `INSTALLED_APPS`).
    apps: Vec<AppSpec>,
    /// `(app label, model name)` → position in `apps` and in its `models`: duplicate checks and
    /// look-ups in constant time (a policy can declare tens of thousands of models).
    #[serde(skip)]
    positions: HashMap<(String, String), (usize, usize), RandomState>,
}

impl std::fmt::Debug for Registry {
    /// The apps only, exactly as before `positions` existed: `sync` fingerprints a policy by its
    /// `Debug` text, which must not depend on a hash map's (per-process random) order.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("apps", &self.apps)
            .finish()
    }
}

impl PartialEq for Registry {
    fn eq(&self, other: &Self) -> bool {
        // `positions` is derived from `apps`.
        self.apps == other.apps
    }
}

impl Eq for Registry {}

/// The serialised form of a [`Registry`] (its apps); the positions are rebuilt on load.
#[derive(Deserialize)]
struct RegistryData {
    apps: Vec<AppSpec>,
}

impl From<RegistryData> for Registry {
    fn from(data: RegistryData) -> Self {
        let mut positions = HashMap::default();
        for (a, app) in data.apps.iter().enumerate() {
            for (m, model) in app.models.iter().enumerate() {
                positions
                    .entry((app.label.clone(), model.model_name.clone()))
                    .or_insert((a, m));
            }
        }
        Self {
            apps: data.apps,
            positions,
        }
    }
}

impl Registry {
    /// An empty registry (not even `auth`); see [`Registry::django`] for the usual start.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Django's `contenttypes` and `auth` apps with their four models, in Django's creation order.
    pub fn django() -> Self {
        let mut registry = Self::empty();
        for (app, verbose) in [
            ("contenttypes", "Content Types"),
            ("auth", "Authentication and Authorization"),
        ] {
            registry.apps.push(AppSpec {
                label: app.to_owned(),
                verbose_name: verbose.to_owned(),
                models: Vec::new(),
            });
        }
        let builtin = [
            ModelSpec::new("contenttypes", "ContentType").with_verbose_name("content type"),
            ModelSpec::new("auth", "Permission"),
            ModelSpec::new("auth", "Group"),
            ModelSpec::new("auth", "User"),
        ];
        for model in builtin {
            registry.push(model);
        }
        registry
    }

    /// Django's `contenttypes` and `auth` apps as a project with the user model `model` has them:
    /// with a custom model (`AUTH_USER_MODEL`), `auth.User` is swapped out and has no content type
    /// nor permissions (its replacement's come from the project's own app, made by Django's
    /// `migrate`).
    ///
    /// ```
    /// use castellan_core::{Registry, UserModel};
    /// let swapped = Registry::django_for(&UserModel::parse("staff.Person")?);
    /// assert!(swapped.model("auth", "user").is_none());
    /// assert!(swapped.model("auth", "group").is_some());
    /// assert!(Registry::django_for(&UserModel::django()).model("auth", "user").is_some());
    /// # Ok::<(), castellan_core::Error>(())
    /// ```
    pub fn django_for(model: &crate::UserModel) -> Self {
        Self::django().for_user_model(model)
    }

    /// This registry as a project with the user model `model` sees it: without `auth.User` when
    /// the project swapped it for its own model (Django creates no content type nor permissions
    /// for a swapped model); unchanged for `auth.User`.
    pub fn for_user_model(&self, model: &crate::UserModel) -> Self {
        if model.app_label() == "auth" && model.model_name() == "user" {
            return self.clone();
        }
        let mut registry = Self::empty();
        for app in &self.apps {
            registry.apps.push(AppSpec {
                label: app.label.clone(),
                verbose_name: app.verbose_name.clone(),
                models: Vec::new(),
            });
        }
        for m in self.models() {
            if (m.app_label(), m.model_name()) != ("auth", "user") {
                registry.push(m.clone());
            }
        }
        registry
    }

    fn app_position(&mut self, label: &str) -> usize {
        match self.apps.iter().position(|a| a.label == label) {
            Some(pos) => pos,
            None => {
                self.apps.push(AppSpec {
                    label: label.to_owned(),
                    verbose_name: capitalise(label),
                    models: Vec::new(),
                });
                self.apps.len() - 1
            }
        }
    }

    fn app_mut(&mut self, label: &str) -> &mut AppSpec {
        let pos = self.app_position(label);
        &mut self.apps[pos]
    }

    /// Appends a model not registered yet.
    fn push(&mut self, model: ModelSpec) {
        let a = self.app_position(model.app_label());
        let app = &mut self.apps[a];
        self.positions.insert(
            (model.app_label.clone(), model.model_name.clone()),
            (a, app.models.len()),
        );
        app.models.push(model);
    }

    /// Declares an app's human name (optional: it defaults to the label, capitalised).
    pub fn with_app(mut self, label: &str, verbose_name: &str) -> Result<Self> {
        self.declare_app(label, verbose_name)?;
        Ok(self)
    }

    /// In-place form of [`Registry::with_app`].
    pub fn declare_app(&mut self, label: &str, verbose_name: &str) -> Result<()> {
        validate_identifier("app label", label)?;
        self.app_mut(label).verbose_name = verbose_name.to_owned();
        Ok(())
    }

    /// Registers a model after running Django's checks on it. Registering the same model twice is an
    /// error, as two Django models with one name in one app are.
    pub fn register(&mut self, model: ModelSpec) -> Result<()> {
        model.check()?;
        if self.model(model.app_label(), model.model_name()).is_some() {
            return Err(Error::Check {
                id: "models.E028",
                message: format!(
                    "model '{}.{}' is registered twice",
                    model.app_label(),
                    model.model_name()
                ),
            });
        }
        self.push(model);
        Ok(())
    }

    /// Builder form of [`Registry::register`].
    pub fn with_model(mut self, model: ModelSpec) -> Result<Self> {
        self.register(model)?;
        Ok(self)
    }

    /// The apps, in installation order.
    pub fn apps(&self) -> impl Iterator<Item = &AppSpec> {
        self.apps.iter()
    }

    /// One app.
    pub fn app(&self, label: &str) -> Option<&AppSpec> {
        self.apps.iter().find(|a| a.label == label)
    }

    /// One model.
    pub fn model(&self, app_label: &str, model_name: &str) -> Option<&ModelSpec> {
        let (a, m) = self
            .positions
            .get(&(app_label.to_owned(), model_name.to_owned()))?;
        self.apps.get(*a)?.models.get(*m)
    }

    /// Every model, app by app, in declaration order (the order Django creates permissions in).
    pub fn models(&self) -> impl Iterator<Item = &ModelSpec> {
        self.apps.iter().flat_map(|a| a.models.iter())
    }

    /// Every declared permission name (`app_label.codename`), sorted.
    pub fn permission_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .models()
            .flat_map(|m| {
                m.permissions()
                    .into_iter()
                    .map(move |p| format!("{}.{}", m.app_label(), p.codename))
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Whether a permission name is declared.
    pub fn contains(&self, name: &str) -> bool {
        let Some((app, codename)) = name.split_once('.') else {
            return false;
        };
        self.app(app).is_some_and(|a| {
            a.models
                .iter()
                .any(|m| m.permissions().iter().any(|p| p.codename == codename))
        })
    }
}

fn capitalise(label: &str) -> String {
    let mut chars = label.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_long_default_actions_are_check_errors() {
        // Found by the policy_parse fuzz target: `100 - (action + 1)` and `255 - prefix` underflowed.
        for len in [99, 100, 300] {
            let m = ModelSpec::new("bookshelf", "Book").with_default_permissions(["v".repeat(len)]);
            assert!(
                matches!(m.check(), Err(Error::Check { id, .. }) if id == "auth.E011" || id == "auth.E007"),
                "{len}"
            );
        }
    }

    #[test]
    fn camel_case_splits_like_django() {
        assert_eq!(camel_case_to_spaces("BookAuthor"), "book author");
        assert_eq!(camel_case_to_spaces("Book"), "book");
        assert_eq!(camel_case_to_spaces("HTTPResponse"), "http response");
        assert_eq!(camel_case_to_spaces("ContentType"), "content type");
        assert_eq!(camel_case_to_spaces("UserProxy"), "user proxy");
    }

    #[test]
    fn default_permissions_are_named_like_djangos() {
        let m = ModelSpec::new("bookshelf", "BookAuthor");
        let perms = m.permissions();
        assert_eq!(perms.len(), 4);
        assert_eq!(perms[0].codename, "add_bookauthor");
        assert_eq!(perms[0].name, "Can add book author");
        assert_eq!(perms[3].codename, "view_bookauthor");
        let buch = ModelSpec::new("bookshelf", "Book").with_verbose_name("Buch");
        assert_eq!(buch.permissions()[0].name, "Can add Buch");
    }

    #[test]
    fn custom_permissions_follow_defaults_and_can_replace_them() {
        // Spec T91: 4 defaults + 1 custom, then no defaults + 1 custom.
        let m = ModelSpec::new("auth", "Permission")
            .with_permission("my_custom_permission", "Some permission");
        assert_eq!(m.permissions().len(), 5);
        let m = m.with_default_permissions(Vec::<String>::new());
        assert_eq!(m.permissions().len(), 1);
    }

    #[test]
    fn django_checks() {
        let clash = ModelSpec::new("app", "Book").with_permission("add_book", "x");
        assert!(matches!(
            clash.check(),
            Err(Error::Check {
                id: "auth.E005",
                ..
            })
        ));
        let dup = ModelSpec::new("app", "Book")
            .with_permission("p", "x")
            .with_permission("p", "y");
        assert!(matches!(
            dup.check(),
            Err(Error::Check {
                id: "auth.E006",
                ..
            })
        ));
        let long_verbose = ModelSpec::new("app", "Book").with_verbose_name("x".repeat(5 * 58));
        match long_verbose.check() {
            Err(Error::Check {
                id: "auth.E007",
                message,
            }) => {
                assert!(
                    message.contains("must be at most 244 characters"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
        let long_model = ModelSpec::new("app", &"M".repeat(94));
        match long_model.check() {
            Err(Error::Check {
                id: "auth.E011",
                message,
            }) => {
                assert!(
                    message.contains("must be at most 93 characters"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn debug_text_is_the_same_for_equal_registries() {
        let build = || {
            let mut r = Registry::django();
            for i in 0..50 {
                r.register(ModelSpec::new("shop", &format!("Item{i}")))
                    .unwrap();
            }
            r
        };
        let (a, b) = (build(), build());
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert!(!format!("{a:?}").contains("positions"));
        assert!(a.model("shop", "item7").is_some());
        assert!(a.model("shop", "item50").is_none());
        let again: Registry = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(again, a);
        assert!(again.model("shop", "item7").is_some());
    }

    #[test]
    fn django_registry_has_the_sixteen_builtin_permissions() {
        let r = Registry::django();
        let names = r.permission_names();
        assert_eq!(names.len(), 16);
        assert!(names.contains(&"auth.add_user".to_owned()));
        assert!(names.contains(&"contenttypes.view_contenttype".to_owned()));
        assert!(r.contains("auth.change_group"));
        assert!(!r.contains("auth.change_groups"));
    }
}
