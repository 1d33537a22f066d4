//! `castellan perm …`.

use castellan_store::{Error, Store};
use serde_json::json;

use crate::args::PermCmd;
use crate::output;
use crate::Outcome;

pub(crate) async fn run(store: &Store, cmd: PermCmd) -> Result<Outcome, Error> {
    match cmd {
        PermCmd::List { app, json } => {
            let perms = store.permissions(app.as_deref()).await?;
            if json {
                output::json(&json!(perms
                    .iter()
                    .map(|p| json!({
                        "permission": p.user_perm_str(),
                        "name": p.name,
                        "app_label": p.app_label,
                        "model": p.model,
                        "codename": p.codename,
                    }))
                    .collect::<Vec<_>>()));
            } else {
                for p in &perms {
                    println!("{:<50} {}", p.user_perm_str(), p.name);
                }
            }
        }
        PermCmd::Create { perm, model, name } => {
            let p = store.create_permission(&perm, &model, &name).await?;
            println!(
                "Created permission '{}' ({}) on {}.{}.",
                p.user_perm_str(),
                p.name,
                p.app_label,
                p.model
            );
        }
        PermCmd::Delete { perm } => {
            let n = store.delete_permission(&perm).await?;
            println!("Deleted {n} permission row(s) named '{perm}' and their grants.");
        }
    }
    Ok(Outcome::Success)
}
