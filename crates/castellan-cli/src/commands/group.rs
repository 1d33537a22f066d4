//! `castellan group …`.

use castellan_store::{Error, ObjectHolder, Store};
use serde_json::json;

use crate::args::GroupCmd;
use crate::output;
use crate::Outcome;

pub(crate) async fn run(store: &Store, cmd: GroupCmd) -> Result<Outcome, Error> {
    match cmd {
        GroupCmd::Create { name } => {
            store.create_group(&name).await?;
            println!("Created group '{name}'.");
        }
        GroupCmd::Delete { name } => {
            store.delete_group(&name).await?;
            println!("Deleted group '{name}'.");
        }
        GroupCmd::Rename { old, new } => {
            store.rename_group(&old, &new).await?;
            println!("Renamed group '{old}' to '{new}'.");
        }
        GroupCmd::List(a) => {
            let groups = store.groups().await?;
            if a.json {
                output::json(&json!(groups
                    .iter()
                    .map(|g| json!({ "name": g.name }))
                    .collect::<Vec<_>>()));
            } else {
                for g in &groups {
                    println!("{}", g.name);
                }
            }
        }
        GroupCmd::Show { name, json } => {
            let detail = store.group_detail(&name).await?;
            if json {
                output::json(&serde_json::to_value(&detail).unwrap_or_default());
            } else {
                println!("group:        {}", detail.name);
                println!("permissions:  {}", detail.permissions.join(", "));
                println!("members:      {}", detail.members.join(", "));
            }
        }
        GroupCmd::Grant {
            name,
            perms,
            object: Some(object),
        } => {
            let holder = ObjectHolder::Group(&name);
            return super::objects::grant(store, holder, &perms, &object, true).await;
        }
        GroupCmd::Revoke {
            name,
            perms,
            object: Some(object),
        } => {
            let holder = ObjectHolder::Group(&name);
            return super::objects::grant(store, holder, &perms, &object, false).await;
        }
        GroupCmd::Grant { name, perms, .. } => {
            let n = store.grant_group(&name, &perms).await?;
            println!("Granted {n} permission(s) to group '{name}'.");
        }
        GroupCmd::Revoke { name, perms, .. } => {
            let n = store.revoke_group(&name, &perms).await?;
            println!("Revoked {n} permission(s) from group '{name}'.");
        }
        GroupCmd::AddUser { name, usernames } => {
            let n = store.add_group_members(&name, &usernames).await?;
            println!("Added {n} member(s) to group '{name}'.");
        }
        GroupCmd::RemoveUser { name, usernames } => {
            let n = store.remove_group_members(&name, &usernames).await?;
            println!("Removed {n} member(s) from group '{name}'.");
        }
    }
    Ok(Outcome::Success)
}
