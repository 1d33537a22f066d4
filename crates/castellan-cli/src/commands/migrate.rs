//! `castellan migrate`.

use castellan_core::Registry;
use castellan_store::{Error, Store};

use crate::{output, Outcome};

pub(crate) async fn run(store: &Store, json: bool) -> Result<Outcome, Error> {
    let report = store
        .migrate(&Registry::django_for(store.user_schema().model()))
        .await?;
    if json {
        output::json(&serde_json::to_value(&report).unwrap_or_default());
    } else {
        if report.created_schema {
            println!("Created Django's contenttypes and auth tables (Django 6.1 schema) and recorded their migrations.");
        } else {
            println!(
                "Adopted the existing Django database; Django's tables were left as they are."
            );
        }
        println!(
            "Content types created: {}; permissions created: {}.",
            report.content_types_created, report.permissions_created
        );
        println!(
            "Castellan's generation table and triggers are in place: permission caching is on."
        );
    }
    Ok(Outcome::Success)
}
