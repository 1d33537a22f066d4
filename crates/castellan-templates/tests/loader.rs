//! The embedded default templates (snapshots), overriding them, and `csrf_token`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

mod common;

use castellan_templates::{auth_context, default_template, install_with_loader, DEFAULT_TEMPLATES};
use common::*;
use minijinja::{context, Environment};

#[test]
fn csrf_token_renders_hidden_input() {
    let ctx = auth_context(&user(&[]), vec![], Some("abc123".into()));
    assert_eq!(
        render_with("<form>{{ csrf_token }}</form>", ctx).unwrap(),
        r#"<form><input type="hidden" name="csrfmiddlewaretoken" value="abc123"></form>"#
    );
}

#[test]
fn csrf_token_is_escaped() {
    let ctx = auth_context(&user(&[]), vec![], Some(r#""><script>&'"#.into()));
    assert_eq!(
        render_with("{{ csrf_token }}|{{ csrf_token_value }}", ctx).unwrap(),
        "<input type=\"hidden\" name=\"csrfmiddlewaretoken\" \
         value=\"&quot;&gt;&lt;script&gt;&amp;&#x27;\">|&quot;&gt;&lt;script&gt;&amp;&#x27;"
    );
}

#[test]
fn no_csrf_token_renders_nothing() {
    let ctx = auth_context(&user(&[]), vec![], None);
    assert_eq!(render_with("[{{ csrf_token }}]", ctx).unwrap(), "[]");
}

#[test]
fn every_default_template_is_listed_and_compiles() {
    let env = env();
    assert_eq!(DEFAULT_TEMPLATES.len(), 12);
    for (name, _) in DEFAULT_TEMPLATES {
        assert!(name.starts_with(castellan_templates::PREFIX));
        env.get_template(name).unwrap();
    }
    assert!(default_template("castellan/nope.html").is_none());
    assert!(env.get_template("castellan/nope.html").is_err());
}

#[test]
fn login_page() {
    let ctx = auth_context(&anonymous(), vec![], Some("tok".into()));
    let html = env()
        .get_template("castellan/registration/login.html")
        .unwrap()
        .render(context! { next => "/books/?a=1&b=2", ..ctx })
        .unwrap();
    for field in [
        r#"name="username""#,
        r#"name="password""#,
        r#"name="next" value="/books/?a=1&amp;b=2""#,
        r#"name="csrfmiddlewaretoken" value="tok""#,
    ] {
        assert!(html.contains(field), "{field} missing from {html}");
    }
    insta::assert_snapshot!("login", html);
}

#[test]
fn login_page_with_error() {
    let ctx = auth_context(&anonymous(), vec![], Some("tok".into()));
    let html = env()
        .get_template("castellan/registration/login.html")
        .unwrap()
        .render(context! {
            error => "Please enter a correct username and password.",
            username => "<bob>",
            ..ctx
        })
        .unwrap();
    insta::assert_snapshot!("login_error", html);
}

#[test]
fn forbidden_page_names_the_permission() {
    let ctx = auth_context(&user(&[]), vec![], None);
    let html = env()
        .get_template("castellan/403.html")
        .unwrap()
        .render(context! { permission => "bookshelf.change_book", ..ctx })
        .unwrap();
    assert!(html.contains("<code>bookshelf.change_book</code>"));
    insta::assert_snapshot!("forbidden_one", html);
}

#[test]
fn forbidden_page_lists_permissions() {
    let ctx = auth_context(&user(&[]), vec![], None);
    let html = env()
        .get_template("castellan/403.html")
        .unwrap()
        .render(context! {
            permissions => vec!["bookshelf.change_book", "bookshelf.delete_book"],
            ..ctx
        })
        .unwrap();
    insta::assert_snapshot!("forbidden_many", html);
}

#[test]
fn forbidden_page_without_permission() {
    let html = env()
        .get_template("castellan/403.html")
        .unwrap()
        .render(auth_context(&anonymous(), vec![], None))
        .unwrap();
    insta::assert_snapshot!("forbidden_plain", html);
}

#[test]
fn base_page() {
    let html = env()
        .get_template("castellan/base.html")
        .unwrap()
        .render(auth_context(&user(&[]), vec![], None))
        .unwrap();
    insta::assert_snapshot!("base", html);
}

/// The app's loader is consulted first; names it does not know fall back to the defaults, and
/// its templates can extend the defaults.
#[test]
fn app_loader_overrides_defaults() {
    let mut env = Environment::new();
    install_with_loader(&mut env, |name: &str| {
        Ok(match name {
            "castellan/403.html" => Some(
                "{% extends 'castellan/base.html' %}{% block content %}Nope, {{ user }}.{% endblock %}"
                    .to_owned(),
            ),
            "books.html" => Some("{{ user|has_group('Editors') }}".to_owned()),
            _ => None,
        })
    });
    let ctx = || auth_context(&user(&[]), vec!["Editors".into()], None);
    let forbidden = env
        .get_template("castellan/403.html")
        .unwrap()
        .render(ctx())
        .unwrap();
    assert!(forbidden.contains("<main>Nope, alice."), "{forbidden}");
    assert!(
        forbidden.contains("<title>Castellan</title>"),
        "{forbidden}"
    );
    // Not overridden: the default.
    let login = env
        .get_template("castellan/registration/login.html")
        .unwrap()
        .render(ctx())
        .unwrap();
    assert!(login.contains(r#"name="password""#));
    // The filters are installed too.
    assert_eq!(
        env.get_template("books.html")
            .unwrap()
            .render(ctx())
            .unwrap(),
        "True"
    );
}

/// `add_template` wins over any loader.
#[test]
fn add_template_overrides_defaults() {
    let mut env = env();
    env.add_template("castellan/403.html", "custom {{ permission }}")
        .unwrap();
    let out = env
        .get_template("castellan/403.html")
        .unwrap()
        .render(context! { permission => "a.b" })
        .unwrap();
    assert_eq!(out, "custom a.b");
}

/// A path loader, as an application would use it.
#[test]
fn path_loader_overrides_defaults() {
    let dir = std::env::temp_dir().join(format!("castellan-templates-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("castellan")).unwrap();
    std::fs::write(
        dir.join("castellan/base.html"),
        "APP BASE {% block content %}{% endblock %}",
    )
    .unwrap();
    let mut env = Environment::new();
    install_with_loader(&mut env, minijinja::path_loader(&dir));
    let out = env
        .get_template("castellan/403.html")
        .unwrap()
        .render(context! { permission => "a.b" })
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.starts_with("APP BASE"), "{out}");
    assert!(out.contains("<code>a.b</code>"), "{out}");
}
