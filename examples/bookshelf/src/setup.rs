//! Start-up: Castellan's auth schema, the permission layout (`bookshelf.toml`), then the
//! application's own tables. Every step is idempotent.

use anyhow::{anyhow, Context};
use castellan_core::policy::Policy;
use castellan_core::{Registry, TrustedGroups};
use castellan_store::{Store, SyncError};

use crate::db::Db;

/// The permission layout: models Book and Article with their custom permissions, and the guide's
/// groups. Applied with `sync` (without prune) at every start.
pub const POLICY: &str = include_str!("../bookshelf.toml");

/// The group names Bookshelf trusts beyond its group guards: every group of [`POLICY`] (with the
/// permissions it binds to each) and the names its templates test with `has_group`.
pub fn trusted_groups() -> anyhow::Result<TrustedGroups> {
    let policy = Policy::parse(POLICY)
        .map_err(|p| anyhow!("bookshelf.toml is invalid:\n{}", p.render("bookshelf.toml")))?;
    Ok(TrustedGroups::new()
        .with_policy(&policy, "bookshelf.toml")
        .with_group("Editors", "template base.html (has_group)"))
}

/// Creates or adopts Django's auth schema, applies [`POLICY`], creates (or adopts)
/// django-guardian's object-permission tables, and creates the Bookshelf tables.
pub async fn setup(store: &Store, db: &Db) -> anyhow::Result<()> {
    store
        .migrate(&Registry::django_for(store.user_schema().model()))
        .await
        .context("creating Django's auth schema failed")?;
    let policy = Policy::parse(POLICY)
        .map_err(|p| anyhow!("bookshelf.toml is invalid:\n{}", p.render("bookshelf.toml")))?;
    match store.sync(&policy, false).await {
        Ok(plan) if plan.is_empty() => tracing::debug!("permission layout already applied"),
        Ok(plan) => tracing::info!(changes = plan.change_count(), "permission layout applied"),
        Err(SyncError::Invalid(p)) => {
            return Err(anyhow!(
                "bookshelf.toml does not apply to this database:\n{}",
                p.render("bookshelf.toml")
            ))
        }
        Err(e) => return Err(anyhow!("applying bookshelf.toml failed: {e}")),
    }
    store
        .install_object_permissions()
        .await
        .context("creating django-guardian's object permission tables failed")?;
    db.migrate()
        .await
        .context("creating the bookshelf tables failed")?;
    Ok(())
}
