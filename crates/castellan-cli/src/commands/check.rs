//! `castellan check`, `castellan perms`, `castellan who-has`.

use castellan_core::{Principal, WithPerm};
use castellan_store::{Error, Store};
use serde_json::json;

use crate::args::{Check, Tristate, WhoHas};
use crate::output::{self, input_error};
use crate::Outcome;

async fn principal(store: &Store, username: &str) -> Result<Principal, Error> {
    store
        .principal(username)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "user",
            name: username.to_owned(),
        })
}

pub(crate) async fn check(store: &Store, args: Check) -> Result<Outcome, Error> {
    if let Some(object) = &args.object {
        return super::objects::check(store, &args, object).await;
    }
    let who = principal(store, &args.username).await?;
    if let Some(app) = &args.module {
        let allowed = who.has_module_perms(app);
        println!(
            "{}: module '{app}' {}",
            args.username,
            if allowed { "allowed" } else { "denied" }
        );
        return Ok(if allowed {
            Outcome::Success
        } else {
            Outcome::Denied
        });
    }
    if args.perms.is_empty() {
        return Err(input_error(
            "name at least one permission (app_label.codename), or --module APP",
        ));
    }
    // No silent typos: every name must be a real permission, whatever the user's flags.
    store.resolve_permissions(&args.perms).await?;
    let mut any = false;
    let mut all = true;
    for perm in &args.perms {
        let allowed = who.has_perm(perm);
        println!(
            "{}: {perm} {}",
            args.username,
            if allowed { "allowed" } else { "denied" }
        );
        any |= allowed;
        all &= allowed;
    }
    let allowed = if args.any { any } else { all };
    Ok(if allowed {
        Outcome::Success
    } else {
        Outcome::Denied
    })
}

pub(crate) async fn perms(store: &Store, username: &str, json: bool) -> Result<Outcome, Error> {
    let who = principal(store, username).await?;
    let (user, group, all) = (
        who.get_user_permissions(),
        who.get_group_permissions(),
        who.get_all_permissions(),
    );
    if json {
        output::json(&json!({
            "username": username,
            "is_active": who.identity().is_active(),
            "is_superuser": who.identity().is_superuser(),
            "user": user,
            "group": group,
            "all": all,
        }));
    } else {
        if !who.identity().is_active() {
            println!("{username} is inactive: no permissions.");
        } else if who.identity().is_superuser() {
            println!("{username} is an active superuser: every permission.");
        }
        for p in &all {
            let via = match (user.contains(p), group.contains(p)) {
                (true, true) => "direct, group",
                (true, false) => "direct",
                _ => "group",
            };
            println!("{p:<50} {via}");
        }
    }
    Ok(Outcome::Success)
}

fn active_filter(active: Tristate) -> Option<bool> {
    match active {
        Tristate::True => Some(true),
        Tristate::False => Some(false),
        Tristate::Any => None,
    }
}

pub(crate) async fn who_has(store: &Store, args: WhoHas) -> Result<Outcome, Error> {
    if let Some(object) = &args.object {
        let obj = castellan_core::ObjectRef::parse(object)?;
        let usernames = store
            .object_holders(
                &args.perm,
                &obj,
                args.include_superusers.is_some_and(Into::into),
                active_filter(args.active.unwrap_or(Tristate::Any)),
            )
            .await?;
        if args.json {
            output::json(&json!({
                "permission": args.perm,
                "object": obj.to_string(),
                "usernames": usernames,
            }));
        } else {
            for u in &usernames {
                println!("{u}");
            }
        }
        return Ok(Outcome::Success);
    }
    let query = WithPerm::new(&args.perm)?
        .include_superusers(args.include_superusers.is_none_or(Into::into))
        .is_active(active_filter(args.active.unwrap_or(Tristate::True)));
    // No silent typos, as in `check`: an unknown name is an input error naming the closest one
    // (Django's `with_perm` would answer with the superusers alone).
    store
        .resolve_permissions(std::slice::from_ref(&args.perm))
        .await?;
    if args.count {
        let n = store.with_perm_count(&query).await?;
        if args.json {
            output::json(&json!({ "permission": args.perm, "count": n }));
        } else {
            println!("{n}");
        }
        return Ok(Outcome::Success);
    }
    if args.ids {
        let ids = store.with_perm_ids(&query).await?;
        if args.json {
            output::json(&json!({ "permission": args.perm, "ids": ids }));
        } else {
            let mut lines = output::Lines::stdout();
            let written = ids.iter().try_for_each(|id| lines.line(id));
            lines.finish(written)?;
        }
        return Ok(Outcome::Success);
    }
    if let Some(limit) = args.limit {
        let page = store
            .with_perm_page(&query, args.after.as_deref(), limit)
            .await?;
        if args.json {
            output::json(&json!({
                "permission": args.perm,
                "usernames": page.usernames,
                "next": page.next,
            }));
        } else {
            for u in &page.usernames {
                println!("{u}");
            }
            if let Some(next) = &page.next {
                eprintln!("(more: --after {next})");
            }
        }
        return Ok(Outcome::Success);
    }
    if args.json {
        // The same sorted list as `Store::with_perm`, through the faster permission-first query.
        let mut usernames = Vec::new();
        store
            .with_perm_each(&query, args.after.as_deref(), |u| {
                usernames.push(u.to_owned());
                Ok(())
            })
            .await?;
        output::json(&json!({ "permission": args.perm, "usernames": usernames }));
        return Ok(Outcome::Success);
    }
    // Plain text without a limit: print each username as it arrives (on SQLite the store reads them
    // all in one row first; see `Store::with_perm_each`).
    let mut lines = output::Lines::stdout();
    let streamed = store
        .with_perm_each(&query, args.after.as_deref(), |u| lines.line(u))
        .await;
    lines.finish(streamed)?;
    Ok(Outcome::Success)
}
