//! In-memory principals and an environment for the template tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use castellan_core::{Identity, PermIndex, PermissionRow, Principal, UserFlags, UserPerms};
use minijinja::{Environment, Value};

pub fn index() -> Arc<PermIndex> {
    let rows = [
        (1, "auth", "add_permission"),
        (2, "auth", "add_group"),
        (3, "auth", "change_user"),
        (4, "mockapp", "someperm"),
        (5, "contenttypes", "view_contenttype"),
        (6, "bookshelf", "change_book"),
    ];
    Arc::new(PermIndex::new(rows.map(|(id, app, code)| PermissionRow {
        id,
        app_label: app.into(),
        codename: code.into(),
    })))
}

pub struct Who {
    pub id: i64,
    pub username: &'static str,
    pub active: bool,
    pub superuser: bool,
    pub staff: bool,
}

impl Default for Who {
    fn default() -> Self {
        Self {
            id: 1,
            username: "alice",
            active: true,
            superuser: false,
            staff: false,
        }
    }
}

/// A user holding `direct` permission rows itself and `via_group` through its groups.
pub fn principal(who: Who, direct: &[i64], via_group: &[i64]) -> Principal {
    let idx = index();
    let perms = UserPerms::new(
        idx.set_from_rows(direct.iter().copied()),
        idx.set_from_rows(via_group.iter().copied()),
    );
    Principal::new(
        Identity::User(UserFlags {
            id: castellan_core::UserId::Int(who.id),
            username: who.username.into(),
            is_active: who.active,
            is_superuser: who.superuser,
            is_staff: who.staff,
        }),
        Arc::new(perms),
        idx,
    )
}

pub fn user(direct: &[i64]) -> Principal {
    principal(Who::default(), direct, &[])
}

pub fn superuser() -> Principal {
    principal(
        Who {
            username: "root",
            superuser: true,
            staff: true,
            ..Who::default()
        },
        &[],
        &[],
    )
}

pub fn anonymous() -> Principal {
    Principal::anonymous(index())
}

pub fn env() -> Environment<'static> {
    let mut env = Environment::new();
    castellan_templates::install(&mut env);
    env
}

/// Renders `source` (as an `.html` template, so auto-escaping is on) with the auth context.
pub fn render_with(source: &str, ctx: Value) -> Result<String, minijinja::Error> {
    let mut env = env();
    env.add_template_owned("t.html", source.to_owned())?;
    env.get_template("t.html")?.render(ctx)
}

pub fn render(source: &str, p: &Principal, groups: &[&str]) -> String {
    let groups = groups.iter().map(|g| (*g).to_owned()).collect();
    render_with(source, castellan_templates::auth_context(p, groups, None)).unwrap()
}
