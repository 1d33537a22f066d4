//! # castellan-templates
//!
//! Django's template-side auth for [minijinja]: the `user` and `perms` variables of Django's `auth`
//! context processor, the guide's `has_group` / `has_any_group` filters, `csrf_token`, and default
//! templates (`castellan/base.html`, the login, password-change and password-reset forms and the
//! password-reset e-mail, `castellan/403.html`, `castellan/404.html`) that applications override,
//! and the `messages` of Django's messages framework; [`Templates`] is the environment with all of it installed.
//!
//! It depends on `castellan-core` only (no axum, no database): the web layer loads the
//! [`Principal`](castellan_core::Principal) and the user's group names, then calls
//! [`auth_context`] and renders. Rendering is synchronous, so everything a template can ask was
//! loaded before rendering starts.
//!
//! ```
//! use std::sync::Arc;
//! use castellan_core::{Identity, PermIndex, PermissionRow, Principal, UserFlags, UserPerms};
//! use minijinja::{context, Environment};
//!
//! let index = Arc::new(PermIndex::new([PermissionRow {
//!     id: 1, app_label: "bookshelf".into(), codename: "change_book".into(),
//! }]));
//! let alice = Principal::new(
//!     Identity::User(UserFlags {
//!         id: castellan_core::UserId::Int(7), username: "alice".into(), is_active: true, is_superuser: false, is_staff: false,
//!     }),
//!     Arc::new(UserPerms::new(index.set_from_rows([1]), index.set_from_rows([]))),
//!     Arc::clone(&index),
//! );
//!
//! let mut env = Environment::new();
//! castellan_templates::install(&mut env);
//! env.add_template("book.html", "\
//! {% if user.is_authenticated %}Hi {{ user }}.{% endif %}
//! {% if perms.bookshelf.change_book %}[edit]{% endif %}
//! {% if 'bookshelf.delete_book' in perms %}[delete]{% endif %}
//! {% if user|has_group('Editors') %}[editor tools]{% endif %}")?;
//!
//! let auth = castellan_templates::auth_context(&alice, vec!["Editors".into()], None);
//! let html = env.get_template("book.html")?.render(context! { title => "Dune", ..auth })?;
//! assert_eq!(html, "Hi alice.\n[edit]\n\n[editor tools]");
//! # Ok::<(), minijinja::Error>(())
//! ```
//!
//! ## Template variables
//!
//! [`auth_context`] (or [`AuthContext`]) gives:
//!
//! * `user` — a [`TemplateUser`]: `is_authenticated`, `is_anonymous`, `is_active`, `is_staff`,
//!   `is_superuser`, `username`, `pk`/`id`, `groups` (names); `{{ user }}` is the username or
//!   `AnonymousUser`; methods `has_perm('app.codename')`, `has_module_perms('app')`,
//!   `get_username()`.
//! * `perms` — a [`PermWrapper`]: `perms.app` (truthy iff `has_module_perms("app")`),
//!   `perms.app.codename` (`has_perm("app.codename")`), `'app' in perms`, `'app.codename' in perms`.
//!   An active superuser passes every one of them.
//! * `csrf_token` — when a token is given: the hidden input
//!   `<input type="hidden" name="csrfmiddlewaretoken" value="…">` (token HTML-escaped), so
//!   `{{ csrf_token }}` inside a `<form>` does what Django's `{% csrf_token %}` does; and
//!   `csrf_token_value`, the raw token.
//!
//! [`install`] registers the filters:
//!
//! * `user|has_group("Editors")` — member of that group (exact name).
//! * `user|has_any_group("Editors,Admins")` — member of any; also `has_any_group("A", "B")` and
//!   `has_any_group(["A", "B"])`.
//!
//! Both check **membership only**, exactly as the guide's Python filters
//! (`user.groups.filter(name=…).exists()`): a superuser who is not a member gets `false`, an inactive
//! member gets `true`, the anonymous user always `false`. Ask `perms` for permissions.
//!
//! ## Default templates and overriding them
//!
//! The defaults are embedded at build time ([`DEFAULT_TEMPLATES`]):
//!
//! | Name | Reads |
//! |------|-------|
//! | `castellan/base.html` | `user`; blocks `title`, `userbar`, `content` |
//! | `castellan/registration/login.html` | `csrf_token`, `error`, `username`, `next`, `action`; posts Django's field names `username`, `password`, `next`, `csrfmiddlewaretoken` |
//! | `castellan/registration/password_change_form.html` | `csrf_token`, `errors`, `action`; posts `old_password`, `new_password1`, `new_password2` |
//! | `castellan/registration/password_change_done.html` | — |
//! | `castellan/registration/password_reset_form.html` | `csrf_token`, `email`, `errors`, `action`; posts `email` |
//! | `castellan/registration/password_reset_done.html` | — |
//! | `castellan/registration/password_reset_confirm.html` | `validlink`, `csrf_token`, `errors`, `help_texts`, `action`; posts `new_password1`, `new_password2` |
//! | `castellan/registration/password_reset_complete.html` | `login_url` |
//! | `castellan/registration/password_reset_email.html` | the e-mail's body (plain text): `email`, `user`, `domain`, `site_name`, `protocol`, `uid`, `token`, `reset_url` |
//! | `castellan/registration/password_reset_subject.txt` | the e-mail's subject: the same variables |
//! | `castellan/403.html` | `permission` (one missing permission) or `permissions` (a list), `message` |
//! | `castellan/404.html` | `request_path` |
//!
//! `castellan/base.html` also shows `messages` ([`Message`]s, Django's messages framework) in its
//! `messages` block. castellan-axum renders its login, password-change, password-reset, 403 and
//! 404 pages (and the password-reset e-mail) with these names and castellan-admin its pages as
//! `castellan/admin/…`: give both the same
//! [`Templates`] and one override changes the page everywhere.
//!
//! An application overrides one by providing a template of the same name, in any of these ways:
//!
//! * build a [`Templates`] with [`Templates::with_loader`] (the app's loader first, the defaults
//!   after it) or add one with [`Templates::add_template`];
//! * give [`install_with_loader`] (or [`loader_with_defaults`]) its own loader: the app's loader is
//!   consulted **first**, the embedded defaults only when it returns `None`;
//! * or `env.add_template("castellan/403.html", …)`: templates added explicitly are found before any
//!   loader is called.
//!
//! Calling `env.set_loader(…)` after [`install`] replaces the defaults' loader; use
//! [`loader_with_defaults`] to keep them.
//!
//! ## Cost and laziness (Django's T75)
//!
//! Django's context processor is lazy: a template that never reads `user` or `perms` never touches
//! the session. Here the session and the [`Principal`](castellan_core::Principal) are loaded by the
//! web layer before rendering (rendering is synchronous and cannot do I/O), so the template layer
//! cannot avoid that load. What it does guarantee: building the context performs no permission check
//! and no allocation proportional to the user's permissions (the principal's permission set and
//! index are reference-counted and shared), and every `perms` lookup is evaluated only when the
//! template reads it. The group names are the one eager input (loading them is I/O); a web layer
//! that knows a view's template does not use `user.groups` or the group filters may pass an empty
//! list.
//!
//! ## Differences from Django
//!
//! * `'codename' in perms.app` is `perms.app.codename` (`has_perm("app.codename")`). Django's
//!   `PermLookupDict` has no `__contains__`: in Python the expression raises `TypeError`, and in a
//!   template it is silently `False` whatever the user holds (ticket #18979, spec §11 item 14). Here it
//!   means what it reads as.
//! * Iterating `perms` or `perms.app` (`{% for p in perms %}`) is a render error whose message is
//!   Django's, `PermWrapper is not iterable.` / `PermLookupDict is not iterable.`
//! * `{{ perms.app }}` renders the user's whole permission set like Django's `str(set)`, but sorted.
//!   `{{ perms }}` renders `PermWrapper(<username>)`.
//! * `{{ csrf_token }}` renders the hidden input (Django's `{% csrf_token %}` tag); the raw token,
//!   which is what `{{ csrf_token }}` is in Django, is `{{ csrf_token_value }}`.
//! * `user.groups` is the list of group names, not a related manager: write
//!   `{% for g in user.groups %}{{ g }}{% endfor %}` where Django has `user.groups.all` / `g.name`.
//!
//! [minijinja]: https://docs.rs/minijinja

mod context;
mod csrf;
mod escape;
mod filters;
mod loader;
mod messages;
mod object_perms;
mod perms;
mod templates;
mod user;

pub use context::{auth_context, AuthContext};
pub use csrf::{csrf_input, CSRF_FIELD_NAME};
pub use escape::{django_formatter, escape_html};
pub use filters::{has_any_group, has_group};
pub use loader::{
    default_loader, default_template, loader_with_defaults, DEFAULT_TEMPLATES, PREFIX,
};
pub use messages::{messages_value, Level, Message};
pub use object_perms::ObjectPermWrapper;
pub use perms::{PermLookupDict, PermWrapper};
pub use templates::Templates;
pub use user::TemplateUser;

use minijinja::{Environment, Error, TemplateSource};

/// Registers the `has_group` and `has_any_group` filters, without touching the loader.
pub fn add_filters(env: &mut Environment<'_>) {
    env.add_filter("has_group", has_group);
    env.add_filter("has_any_group", has_any_group);
}

/// Registers the filters, Django's escaping ([`django_formatter`]) and a loader serving the
/// embedded `castellan/` defaults.
///
/// This sets the environment's loader; an application with its own loader calls
/// [`install_with_loader`] instead, or overrides single templates with `env.add_template`.
pub fn install(env: &mut Environment<'_>) {
    add_filters(env);
    env.set_formatter(django_formatter);
    env.set_loader(default_loader);
}

/// Registers the filters and a loader that asks `app_loader` first and falls back to the embedded
/// defaults: an application's `castellan/…` template replaces the default of the same name.
///
/// ```
/// # use minijinja::Environment;
/// let mut env = Environment::new();
/// castellan_templates::install_with_loader(&mut env, minijinja::path_loader("templates"));
/// // Unless ./templates/castellan/403.html exists, this is the embedded default.
/// assert!(env.get_template("castellan/403.html").is_ok());
/// ```
pub fn install_with_loader<F, R>(env: &mut Environment<'_>, app_loader: F)
where
    F: Fn(&str) -> Result<Option<R>, Error> + Send + Sync + 'static,
    R: Into<TemplateSource>,
{
    add_filters(env);
    env.set_formatter(django_formatter);
    env.set_loader(loader_with_defaults(app_loader));
}
