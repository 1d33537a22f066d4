//! Object permissions (django-guardian's tables): `check --object`, `perms --object`, `objects`,
//! and `user|group grant|revoke --object`.

use castellan_core::object_perms::{self, ObjectRef, ObjectsQuery};
use castellan_store::{Error, ObjectHolder, Store};
use serde_json::json;

use crate::args::{Check, Objects};
use crate::output::{self, input_error};
use crate::Outcome;

/// `check --object`: `has_perms(perms, obj)` (or any of them), printing each permission asked
/// until the answer is known, as Python's short-circuit stops.
pub(crate) async fn check(store: &Store, args: &Check, object: &str) -> Result<Outcome, Error> {
    let obj = ObjectRef::parse(object)?;
    if args.perms.is_empty() {
        return Err(input_error(
            "name at least one permission (app_label.codename or codename)",
        ));
    }
    // Validates every name and the object before answering, as `check` does.
    let allowed = store
        .check_object_perms(&args.username, &args.perms, &obj, args.any)
        .await?;
    let (who, grants) = store.object_principal(&args.username, &obj).await?;
    for perm in &args.perms {
        let held = object_perms::has_perm(&who, &grants, perm, &obj)?;
        println!(
            "{}: {perm} on {obj} {}",
            args.username,
            if held { "allowed" } else { "denied" }
        );
        if held == args.any {
            break;
        }
    }
    Ok(if allowed {
        Outcome::Success
    } else {
        Outcome::Denied
    })
}

/// `perms --object`: guardian's `get_perms`, as `app_label.codename`.
pub(crate) async fn perms(
    store: &Store,
    username: &str,
    object: &str,
    json: bool,
) -> Result<Outcome, Error> {
    let obj = ObjectRef::parse(object)?;
    let all: Vec<String> = store
        .object_perms(username, &obj)
        .await?
        .into_iter()
        .map(|c| format!("{}.{c}", obj.app_label()))
        .collect();
    if json {
        output::json(&json!({ "username": username, "object": obj.to_string(), "all": all }));
    } else {
        for p in &all {
            println!("{p}");
        }
    }
    Ok(Outcome::Success)
}

/// `objects`: guardian's `get_objects_for_user`.
pub(crate) async fn objects(store: &Store, args: Objects) -> Result<Outcome, Error> {
    let (app_label, model) = ObjectRef::parse_model(&args.model)?;
    let query = ObjectsQuery {
        any_perm: args.any,
        use_groups: !args.no_groups,
        with_superuser: !args.no_superuser,
        accept_global_perms: !args.no_global,
    };
    let pks = store
        .objects_for_user(&args.username, &args.perms, (&app_label, &model), query)
        .await?;
    if args.json {
        output::json(&json!({ "pks": pks }));
    } else {
        let mut lines = output::Lines::stdout();
        let written = pks.iter().try_for_each(|pk| lines.line(pk));
        lines.finish(written)?;
    }
    Ok(Outcome::Success)
}

/// `user|group grant|revoke --object`.
pub(crate) async fn grant(
    store: &Store,
    holder: ObjectHolder<'_>,
    perms: &[String],
    object: &str,
    grant: bool,
) -> Result<Outcome, Error> {
    let obj = ObjectRef::parse(object)?;
    let who = match holder {
        ObjectHolder::User(name) => format!("'{name}'"),
        ObjectHolder::Group(name) => format!("group '{name}'"),
    };
    if grant {
        let n = store.grant_object_perms(holder, perms, &obj).await?;
        println!("Granted {n} permission(s) on {obj} to {who}.");
    } else {
        let n = store.revoke_object_perms(holder, perms, &obj).await?;
        println!("Revoked {n} permission(s) on {obj} from {who}.");
    }
    Ok(Outcome::Success)
}
