//! `castellan migrate`.

use castellan_core::Registry;
use castellan_store::{Error, Store};

use crate::args::Migrate;
use crate::{output, Outcome};

pub(crate) async fn run(store: &Store, args: Migrate) -> Result<Outcome, Error> {
    let report = store
        .migrate(&Registry::django_for(store.user_schema().model()))
        .await?;
    let object_tables = if args.object_permissions {
        Some(store.install_object_permissions().await?)
    } else {
        None
    };
    if args.json {
        let mut value = serde_json::to_value(&report).unwrap_or_default();
        if let (Some(created), Some(map)) = (object_tables, value.as_object_mut()) {
            map.insert("object_permissions_created".into(), created.into());
        }
        output::json(&value);
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
        match object_tables {
            Some(true) => println!(
                "Created django-guardian's object permission tables and recorded its migrations."
            ),
            Some(false) => println!(
                "django-guardian's object permission tables were there already; left as they are."
            ),
            None => {}
        }
    }
    Ok(Outcome::Success)
}
