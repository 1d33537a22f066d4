//! `castellan export` and `castellan import`.

use std::io::{IsTerminal, Read, Write};

use castellan_store::{Error, Export, Store};

use crate::args;
use crate::output::{self, input_error};
use crate::Outcome;

pub(crate) async fn export(store: &Store, args: args::Export) -> Result<Outcome, Error> {
    let data = store.export().await?;
    let text = serde_json::to_string_pretty(&data)
        .map_err(|e| input_error(format!("cannot serialise the export: {e}")))?;
    match &args.output {
        Some(path) => std::fs::write(path, text + "\n")
            .map_err(|e| input_error(format!("cannot write {}: {e}", path.display())))?,
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{text}")
                .map_err(|e| input_error(format!("cannot write the export: {e}")))?;
        }
    }
    eprintln!(
        "Exported {} users, {} groups, {} permissions.",
        data.users.len(),
        data.groups.len(),
        data.permissions.len()
    );
    Ok(Outcome::Success)
}

pub(crate) async fn import(store: &Store, args: args::Import) -> Result<Outcome, Error> {
    let text = if args.file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| input_error(format!("cannot read standard input: {e}")))?;
        s
    } else {
        std::fs::read_to_string(&args.file)
            .map_err(|e| input_error(format!("cannot read {}: {e}", args.file.display())))?
    };
    let data: Export = serde_json::from_str(&text).map_err(|e| {
        input_error(format!(
            "{} is not a Castellan export: {e}",
            args.file.display()
        ))
    })?;
    // A progress bar only when a person watches (stderr is a terminal); quiet in scripts and CI.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(data.users.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message("importing users");
        bar
    });
    let progress = |_stage: &str, done: u64, _total: u64| {
        if let Some(bar) = &bar {
            bar.set_position(done);
        }
    };
    let report = store.import(&data, &progress).await?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if args.json {
        output::json(&serde_json::to_value(&report).unwrap_or_default());
    } else if report.is_noop() {
        println!(
            "Nothing to import: the database already holds everything in {}.",
            args.file.display()
        );
    } else {
        println!(
            "Imported: {} users created, {} updated; {} groups, {} permissions, {} content types created; {} memberships and {} grants added.",
            report.users_created,
            report.users_updated,
            report.groups_created,
            report.permissions_created,
            report.content_types_created,
            report.memberships_added,
            report.grants_added
        );
    }
    Ok(Outcome::Success)
}
