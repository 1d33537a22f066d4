//! `perms` and `user` (Django's `test_context_processors.py`, spec §5 and §9 T69–T75).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

mod common;

use castellan_templates::{auth_context, AuthContext, PermWrapper, TemplateUser};
use common::*;
use minijinja::{context, ErrorKind, Value};

/// T69: `in perms` with and without a dot.
#[test]
fn permwrapper_in() {
    let p = user(&[4]);
    let perms = PermWrapper::new(p.clone());
    assert!(perms.contains("mockapp"));
    assert!(!perms.contains("nonexistent"));
    assert!(perms.contains("mockapp.someperm"));
    assert!(!perms.contains("mockapp.nonexistent"));

    let out = render(
        "{{ 'mockapp' in perms }} {{ 'nonexistent' in perms }} \
         {{ 'mockapp.someperm' in perms }} {{ 'mockapp.nonexistent' in perms }}",
        &p,
        &[],
    );
    assert_eq!(out, "True False True False");
}

/// Spec §5: a dotted name is split on the first dot only (a dotted codename works).
#[test]
fn in_perms_splits_on_first_dot() {
    let idx_rows = castellan_core::PermIndex::new([castellan_core::PermissionRow {
        id: 1,
        app_label: "auth".into(),
        codename: "do.thing".into(),
    }]);
    let idx = std::sync::Arc::new(idx_rows);
    let p = castellan_core::Principal::new(
        castellan_core::Identity::User(castellan_core::UserFlags {
            id: castellan_core::UserId::Int(1),
            username: "u".into(),
            is_active: true,
            is_superuser: false,
            is_staff: false,
        }),
        std::sync::Arc::new(castellan_core::UserPerms::new(
            idx.set_from_rows([1]),
            idx.set_from_rows([]),
        )),
        idx,
    );
    assert_eq!(render("{{ 'auth.do.thing' in perms }}", &p, &[]), "True");
}

/// T72: `perms.app` and `perms.app.codename`; nonexistent branches render nothing.
#[test]
fn perms_attrs() {
    let p = user(&[1]);
    let out = render(
        "{% if perms.auth %}Has auth permissions{% endif %}\
         {% if perms.auth.add_permission %}Has auth.add_permission permissions{% endif %}\
         {% if perms.nonexistent %}nonexistent perm{% endif %}\
         {% if perms.auth.nonexistent %}nonexistent app perm{% endif %}\
         {% if perms.contenttypes %}contenttypes{% endif %}\
         {% if perms.contenttypes.view_contenttype %}view_contenttype{% endif %}",
        &p,
        &[],
    );
    assert_eq!(
        out,
        "Has auth permissionsHas auth.add_permission permissions"
    );
}

/// T73: the same through `in`.
#[test]
fn perm_in_perms_attrs() {
    let p = user(&[1]);
    let out = render(
        "{% if 'auth' in perms %}Has auth permissions{% endif %}\
         {% if 'auth.add_permission' in perms %}Has auth.add_permission permissions{% endif %}\
         {% if 'nonexistent' in perms %}nonexistent perm{% endif %}\
         {% if 'auth.nonexistent' in perms %}nonexistent app perm{% endif %}\
         {% if 'contenttypes' in perms %}contenttypes{% endif %}",
        &p,
        &[],
    );
    assert_eq!(
        out,
        "Has auth permissionsHas auth.add_permission permissions"
    );
    assert_eq!(render("{{ 'auth' not in perms }}", &p, &[]), "False");
}

/// Spec §5's observed results: a direct permission plus one through a group.
#[test]
fn spec_observed_results() {
    let p = principal(Who::default(), &[2], &[3]);
    let t = |src: &str| render(src, &p, &[]);
    assert_eq!(t("{% if perms.auth %}y{% endif %}"), "y");
    assert_eq!(t("{% if perms.auth.add_group %}y{% endif %}"), "y");
    assert_eq!(t("{% if perms.auth.change_user %}y{% endif %}"), "y");
    assert_eq!(t("{% if 'auth.add_group' in perms %}y{% endif %}"), "y");
    assert_eq!(t("{% if 'auth' in perms %}y{% endif %}"), "y");
    assert_eq!(t("{% if 'contenttypes' in perms %}y{% endif %}"), "");
    assert_eq!(
        t("{{ perms.auth.add_group }}|{{ perms.auth.delete_group }}"),
        "True|False"
    );
    // Wrong case: renders the set, and is False.
    assert_eq!(
        t("{{ perms.Auth }}"),
        "{&#x27;auth.add_group&#x27;, &#x27;auth.change_user&#x27;}"
    );
    assert_eq!(t("{% if perms.Auth %}y{% else %}n{% endif %}"), "n");
    assert_eq!(t("{{ perms }}"), "PermWrapper(alice)");
    // Subscript forms.
    assert_eq!(t("{% if perms['auth'] %}y{% endif %}"), "y");
    assert_eq!(t("{% if perms['auth']['add_group'] %}y{% endif %}"), "y");
    assert_eq!(
        t("{% if perms['contenttypes'] %}y{% else %}n{% endif %}"),
        "n"
    );
}

/// An active superuser passes every `perms` form, even for unknown names; an inactive one none.
#[test]
fn superuser_and_inactive() {
    let src = "{{ perms.anything.whatever }} {{ 'anything' in perms }} \
               {{ 'anything.whatever' in perms }} {% if perms.anything %}y{% endif %}";
    assert_eq!(render(src, &superuser(), &[]), "True True True y");

    let inactive_root = principal(
        Who {
            active: false,
            superuser: true,
            ..Who::default()
        },
        &[1],
        &[],
    );
    assert_eq!(render(src, &inactive_root, &[]), "False False False ");
    let inactive = principal(
        Who {
            active: false,
            ..Who::default()
        },
        &[1],
        &[],
    );
    assert_eq!(
        render(
            "{{ perms.auth.add_permission }} {{ 'auth' in perms }}",
            &inactive,
            &[]
        ),
        "False False"
    );
}

/// The anonymous user has no permissions.
#[test]
fn anonymous_perms() {
    assert_eq!(
        render(
            "{{ perms.auth.add_permission }} {{ 'auth' in perms }} {% if perms.auth %}y{% endif %}",
            &anonymous(),
            &[]
        ),
        "False False "
    );
}

/// T70 and spec §11 item 14: `'x' in perms.app` is Django's trap (silently False in templates).
/// Here it means `perms.app.x` — a documented difference from Django.
#[test]
fn permlookupdict_in_is_perm_check() {
    let p = user(&[2]);
    assert_eq!(
        render(
            "{{ 'add_group' in perms.auth }} {{ 'delete_group' in perms.auth }} \
             {{ 'x' in perms.nonexistent }}",
            &p,
            &[]
        ),
        "True False False"
    );
    assert_eq!(
        render("{{ 'anything' in perms.whatever }}", &superuser(), &[]),
        "True"
    );
}

/// T71: iteration is an error with Django's message; `{{ perms }}` is its repr.
#[test]
fn iteration_is_an_error() {
    let ctx = || auth_context(&user(&[1]), vec![], None);
    let err = render_with("{% for p in perms %}{{ p }}{% endfor %}", ctx()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidOperation);
    assert!(
        err.to_string().contains("PermWrapper is not iterable."),
        "{err}"
    );
    let err = render_with("{% for p in perms.auth %}{{ p }}{% endfor %}", ctx()).unwrap_err();
    assert!(
        err.to_string().contains("PermLookupDict is not iterable."),
        "{err}"
    );
    assert_eq!(
        format!("{:?}", PermWrapper::new(user(&[]))),
        "PermWrapper(alice)"
    );
    assert_eq!(
        render("{{ perms }}", &anonymous(), &[]),
        "PermWrapper(AnonymousUser)"
    );
}

/// `{{ perms.app }}` renders the whole permission set (Django's `str(get_all_permissions())`).
#[test]
fn lookup_dict_renders_permission_set() {
    let mut env = minijinja::Environment::new();
    env.add_template("t.txt", "{{ perms.auth }}|{{ perms.zzz }}")
        .unwrap();
    let out = |p| {
        env.get_template("t.txt")
            .unwrap()
            .render(auth_context(&p, vec![], None))
            .unwrap()
    };
    assert_eq!(
        out(user(&[1, 4])),
        "{'auth.add_permission', 'mockapp.someperm'}|{'auth.add_permission', 'mockapp.someperm'}"
    );
    assert_eq!(out(user(&[])), "set()|set()");
}

/// T74: `{{ user }}`, `pk`, `username`, flags; the context user equals the authenticated user.
#[test]
fn user_attrs() {
    let p = principal(
        Who {
            id: 42,
            username: "alice",
            staff: true,
            ..Who::default()
        },
        &[],
        &[],
    );
    let out = render(
        "{{ user }}|{{ user.pk }}|{{ user.id }}|{{ user.username }}|{{ user.get_username() }}|\
         {{ user.is_authenticated }}|{{ user.is_anonymous }}|{{ user.is_active }}|\
         {{ user.is_staff }}|{{ user.is_superuser }}|{{ user.groups|join(',') }}",
        &p,
        &["Writers", "Editors"],
    );
    assert_eq!(
        out,
        "alice|42|42|alice|alice|True|False|True|True|False|Editors,Writers"
    );

    let ctx = AuthContext::new(&p, vec![]);
    assert!(*ctx.user() == *p.identity());
    assert!(*p.identity() == *ctx.user());
    let value = ctx.into_value();
    let user = value
        .get_attr("user")
        .unwrap()
        .downcast_object::<TemplateUser>()
        .unwrap();
    assert_eq!(*user, *p.identity());
}

#[test]
fn superuser_attrs() {
    assert_eq!(
        render(
            "{{ user }} {{ user.is_superuser }} {{ user.is_staff }}",
            &superuser(),
            &[]
        ),
        "root True True"
    );
}

#[test]
fn anonymous_user_attrs() {
    let out = render(
        "{{ user }}|{{ user.username }}|{{ user.pk }}|{{ user.is_authenticated }}|\
         {{ user.is_anonymous }}|{{ user.is_active }}|{{ user.is_staff }}|\
         {{ user.is_superuser }}|{{ user.groups|length }}|{% if user %}truthy{% endif %}",
        &anonymous(),
        &["Ignored"],
    );
    assert_eq!(
        out,
        "AnonymousUser||None|False|True|False|False|False|0|truthy"
    );
}

/// `user.has_perm` / `has_module_perms` methods go to the principal.
#[test]
fn user_methods() {
    let p = user(&[6]);
    assert_eq!(
        render(
            "{{ user.has_perm('bookshelf.change_book') }} {{ user.has_perm('bookshelf.x') }} \
             {{ user.has_module_perms('bookshelf') }} {{ user.has_module_perms('auth') }}",
            &p,
            &[]
        ),
        "True False True False"
    );
    let err = render_with("{{ user.has_perm() }}", auth_context(&p, vec![], None)).unwrap_err();
    assert!(err.to_string().contains("exactly one argument"), "{err}");
}

/// Usernames and group names are HTML-escaped like any value.
#[test]
fn html_escaping() {
    let p = principal(
        Who {
            username: "<b>bob</b>&\"'",
            ..Who::default()
        },
        &[],
        &[],
    );
    let out = render(
        "{{ user }}|{{ user.username }}|{% for g in user.groups %}{{ g }}{% endfor %}",
        &p,
        &["<script>x</script>"],
    );
    assert_eq!(
        out,
        "&lt;b&gt;bob&lt;/b&gt;&amp;&quot;&#x27;|&lt;b&gt;bob&lt;/b&gt;&amp;&quot;&#x27;|\
         &lt;script&gt;x&lt;/script&gt;"
    );
}

/// The guide's template (minus Django's `url` tag) renders for a user with the permissions.
#[test]
fn guide_template() {
    let p = user(&[6]);
    let out = render(
        "{% if user.is_authenticated %}Welcome, {{ user.username }}!\
         {% if perms.bookshelf.change_book %}[edit]{% endif %}\
         {% if perms.bookshelf.delete_book %}[delete]{% endif %}\
         {% if user.is_superuser %}[admin]{% endif %}\
         {% else %}Login{% endif %}",
        &p,
        &[],
    );
    assert_eq!(out, "Welcome, alice![edit]");
    assert_eq!(
        render(
            "{% if user.is_authenticated %}Welcome{% else %}Login{% endif %}",
            &anonymous(),
            &[]
        ),
        "Login"
    );
}

/// T75 (adapted): building the context checks nothing and shares the loaded permissions; a
/// template that reads neither `user` nor `perms` renders with or without them.
#[test]
fn context_is_cheap_and_lazy() {
    let p = user(&[1]);
    let before = std::sync::Arc::strong_count(p.loaded());
    let ctx = auth_context(&p, vec![], None);
    // The permission set is shared, not copied: one reference each for `user` and `perms`.
    assert_eq!(std::sync::Arc::strong_count(p.loaded()), before + 2);
    let out = render_with("Hello {{ name }}", context! { name => "x", ..ctx }).unwrap();
    assert_eq!(out, "Hello x");
    let ctx = auth_context(&p, vec![], None);
    assert_eq!(
        render_with("{{ perms.auth.add_permission }}", context! { ..ctx }).unwrap(),
        "True"
    );
}

/// The context's keys: `csrf_token` only when a token is given.
#[test]
fn context_keys() {
    let keys = |ctx: Value| -> Vec<String> {
        let mut keys: Vec<String> = ctx.try_iter().unwrap().map(|k| k.to_string()).collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(auth_context(&user(&[]), vec![], None)),
        ["perms", "user"]
    );
    assert_eq!(
        keys(auth_context(&user(&[]), vec![], Some("t".into()))),
        ["csrf_token", "csrf_token_value", "perms", "user"]
    );
}

/// Subscripts follow `in` (documented on `PermWrapper`): `perms['app']` is undefined without
/// module permissions, while the attribute form always answers.
#[test]
fn subscript_follows_in() {
    let p = user(&[1]);
    assert_eq!(
        render("{{ perms['auth']['add_permission'] }}", &p, &[]),
        "True"
    );
    assert_eq!(
        render("{{ perms.contenttypes.view_contenttype }}", &p, &[]),
        "False"
    );
    let err = render_with(
        "{{ perms['contenttypes']['view_contenttype'] }}",
        auth_context(&p, vec![], None),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UndefinedError);
}
