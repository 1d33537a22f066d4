//! The guide's `has_group` / `has_any_group` filters: membership only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

mod common;

use castellan_templates::auth_context;
use common::*;
use minijinja::context;

const SRC: &str = "{{ user|has_group('Editors') }} {{ user|has_any_group('Editors,Admins') }} \
                   {{ user|has_any_group('Admins', 'Editors') }} \
                   {{ user|has_any_group(['Admins', 'Editors']) }}";

#[test]
fn member() {
    assert_eq!(render(SRC, &user(&[]), &["Editors"]), "True True True True");
    assert_eq!(
        render(
            "{% if user|has_group('Editors') %}Editor tools{% endif %}",
            &user(&[]),
            &["Editors"]
        ),
        "Editor tools"
    );
}

#[test]
fn member_of_another_group_only() {
    assert_eq!(render(SRC, &user(&[]), &["Admins"]), "False True True True");
}

#[test]
fn non_member() {
    assert_eq!(
        render(SRC, &user(&[]), &["Writers"]),
        "False False False False"
    );
    assert_eq!(render(SRC, &user(&[]), &[]), "False False False False");
}

/// Exact, case-sensitive names; the guide strips whitespace around comma-separated names.
#[test]
fn names_are_exact_and_stripped() {
    let p = user(&[]);
    assert_eq!(
        render("{{ user|has_group('editors') }}", &p, &["Editors"]),
        "False"
    );
    assert_eq!(
        render("{{ user|has_group(' Editors') }}", &p, &["Editors"]),
        "False"
    );
    assert_eq!(
        render(
            "{{ user|has_any_group(' Writers , Editors ') }}",
            &p,
            &["Editors"]
        ),
        "True"
    );
    assert_eq!(
        render("{{ user|has_any_group() }}", &p, &["Editors"]),
        "False"
    );
    assert_eq!(
        render("{{ user|has_any_group([]) }}", &p, &["Editors"]),
        "False"
    );
}

/// As in the guide's Python, a superuser is not in a group it does not belong to.
#[test]
fn superuser_checks_membership_only() {
    assert_eq!(render(SRC, &superuser(), &[]), "False False False False");
    assert_eq!(
        render(SRC, &superuser(), &["Editors"]),
        "True True True True"
    );
}

/// An inactive member is still a member (membership, not permission).
#[test]
fn inactive_member() {
    let p = principal(
        Who {
            active: false,
            ..Who::default()
        },
        &[],
        &[],
    );
    assert_eq!(render(SRC, &p, &["Editors"]), "True True True True");
}

#[test]
fn anonymous_is_in_no_group() {
    assert_eq!(
        render(SRC, &anonymous(), &["Editors"]),
        "False False False False"
    );
}

#[test]
fn wrong_input_is_a_clear_error() {
    let err = render_with("{{ 'bob'|has_group('Editors') }}", context! {}).unwrap_err();
    assert!(
        err.to_string().contains("applies to the `user` variable"),
        "{err}"
    );
    let ctx = auth_context(&user(&[]), vec![], None);
    let err = render_with("{{ user|has_any_group(3) }}", ctx).unwrap_err();
    assert!(
        err.to_string().contains("has_any_group takes group names"),
        "{err}"
    );
}

/// The filters are plain functions too.
#[test]
fn callable_from_rust() {
    let ctx = auth_context(&user(&[]), vec!["Editors".into()], None);
    let u = ctx.get_attr("user").unwrap();
    assert!(castellan_templates::has_group(u.clone(), "Editors").unwrap());
    assert!(!castellan_templates::has_group(u, "Admins").unwrap());
}
