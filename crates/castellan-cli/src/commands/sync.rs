//! `castellan sync POLICY.toml [--dry-run] [--prune] [--force] [--json]`.

use castellan_core::policy::Policy;
use castellan_store::{Error, Store, SyncError, SyncOptions, SyncPlan};
use serde_json::json;

use crate::args::Sync;
use crate::{output, Outcome};

pub(crate) async fn run(store: &Store, a: Sync) -> Result<Outcome, Error> {
    let file = a.policy.display().to_string();
    let src = std::fs::read_to_string(&a.policy).map_err(|e| {
        output::input_error(format!(
            "cannot read the policy file {file}: {e}; check the path"
        ))
    })?;
    let invalid = |problems: castellan_core::policy::Problems| {
        eprintln!("{}", problems.render(&file));
        output::input_error(format!(
            "the policy file {file} has {} problem(s) (listed above); nothing was applied",
            problems.0.len()
        ))
    };
    let policy = Policy::parse(&src).map_err(invalid)?;
    let result = if a.dry_run {
        store.sync_plan(&policy, a.prune).await
    } else {
        let options = SyncOptions {
            prune: a.prune,
            force: a.force,
        };
        store.sync_with(&policy, options).await
    };
    let plan = match result {
        Ok(plan) => plan,
        Err(SyncError::Invalid(problems)) => return Err(invalid(problems)),
        Err(SyncError::Store(e)) => return Err(e),
        Err(e) => return Err(output::input_error(e.to_string())),
    };
    if a.json {
        output::json(&json!({
            "file": file,
            "dry_run": a.dry_run,
            "prune": a.prune,
            "applied": !a.dry_run && !plan.is_empty(),
            "changes": plan.change_count(),
            "plan": serde_json::to_value(&plan).unwrap_or_default(),
        }));
    } else {
        print_plan(&file, &plan, a.dry_run, a.prune);
    }
    Ok(Outcome::Success)
}

fn print_plan(file: &str, plan: &SyncPlan, dry_run: bool, prune: bool) {
    if !plan.rebound.is_empty() {
        println!("Group names that moved since {file} was last applied:");
        for r in &plan.rebound {
            println!("  ! {r}");
        }
        if dry_run {
            println!("A sync refuses this; --force gives the policy's permissions to the groups that carry the names now.");
        } else {
            println!("Re-bound with --force.");
        }
    }
    if plan.is_empty() {
        println!("No changes: the database already matches {file}.");
        return;
    }
    let n = plan.change_count();
    if dry_run {
        println!("Planned changes for {file} ({n}; dry run, nothing applied):");
    } else {
        println!("Applying {file} ({n} changes):");
    }
    for line in plan
        .to_string()
        .lines()
        .filter(|l| !l.trim_start().starts_with('!'))
    {
        println!("{line}");
    }
    if dry_run {
        println!("Run without --dry-run to apply.");
    } else {
        println!("Applied {n} change(s) in one transaction.");
    }
    if !prune {
        println!("(Without --prune nothing is removed.)");
    }
}
