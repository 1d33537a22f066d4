//! The permission picker shared by the user and group pages: every permission, filtered on the
//! server by app, model and text (so it works without JavaScript). Only the permissions shown are
//! submitted as `shown_perm`, so a filtered form never removes what it did not show.
//!
//! A non-superuser can grant and remove only what they hold (the server rules in `grants`), so a
//! permission they do not hold is shown disabled (checked or not), with a note. A disabled row is
//! not listed in `shown_perm`, so the form never asks to remove it.

use castellan_core::Permission;
use serde::{Deserialize, Serialize};

use crate::forms::FormData;

/// The picker's filter (query parameters `app`, `model`, `q`; others are ignored).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub(crate) struct PickerFilter {
    #[serde(default)]
    pub(crate) app: String,
    #[serde(default)]
    pub(crate) model: String,
    #[serde(default)]
    pub(crate) q: String,
}

/// One row of the picker.
#[derive(Debug, Serialize)]
pub(crate) struct PickerRow {
    pub(crate) perm: String,
    pub(crate) name: String,
    pub(crate) app: String,
    pub(crate) model: String,
    pub(crate) checked: bool,
    /// The editor may grant and remove it (holds it, or is a superuser).
    pub(crate) grantable: bool,
    /// Not grantable: shown disabled, neither granted nor removed by the form.
    pub(crate) locked: bool,
}

/// The picker's context: rows after filtering, and the app and model choices.
#[derive(Debug, Serialize)]
pub(crate) struct Picker {
    pub(crate) rows: Vec<PickerRow>,
    pub(crate) apps: Vec<String>,
    pub(crate) models: Vec<String>,
    pub(crate) filter: PickerFilter,
    pub(crate) total: usize,
    /// How many rows shown are locked (the note above the list says why).
    pub(crate) locked: usize,
}

/// Builds the picker over `all` with `held` checked; `grantable` says which permissions the editor
/// may grant and remove.
pub(crate) fn picker(
    all: &[Permission],
    held: &[String],
    filter: PickerFilter,
    grantable: &dyn Fn(&str) -> bool,
) -> Picker {
    let mut apps: Vec<String> = all.iter().map(|p| p.app_label.clone()).collect();
    apps.dedup();
    let mut models: Vec<String> = all
        .iter()
        .filter(|p| filter.app.is_empty() || p.app_label == filter.app)
        .map(|p| p.model.clone())
        .collect();
    models.sort();
    models.dedup();
    let q = filter.q.trim().to_lowercase();
    let rows = all
        .iter()
        .filter(|p| filter.app.is_empty() || p.app_label == filter.app)
        .filter(|p| filter.model.is_empty() || p.model == filter.model)
        .filter(|p| {
            q.is_empty()
                || p.user_perm_str().to_lowercase().contains(&q)
                || p.name.to_lowercase().contains(&q)
        })
        .map(|p| {
            let perm = p.user_perm_str();
            let checked = held.contains(&perm);
            let grantable = grantable(&perm);
            PickerRow {
                checked,
                grantable,
                locked: !grantable,
                perm,
                name: p.name.clone(),
                app: p.app_label.clone(),
                model: p.model.clone(),
            }
        })
        .collect::<Vec<PickerRow>>();
    Picker {
        locked: rows.iter().filter(|r| r.locked).count(),
        rows,
        apps,
        models,
        filter,
        total: all.len(),
    }
}

/// The additions and removals a picker form asks for, relative to `current`: only permissions
/// that were shown (`shown_perm`) can be removed; checked ones (`perm`) are added.
pub(crate) fn submitted_change(form: &FormData, current: &[String]) -> (Vec<String>, Vec<String>) {
    let shown = form.all("shown_perm");
    let checked = form.all("perm");
    let add = checked
        .iter()
        .filter(|p| !current.contains(p))
        .cloned()
        .collect();
    let remove = shown
        .iter()
        .filter(|p| current.contains(p) && !checked.contains(p))
        .cloned()
        .collect();
    (add, remove)
}
