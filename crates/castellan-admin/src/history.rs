//! Audit entries as people read them: what was done (added, changed, deleted), to which object,
//! by whom, when, and each changed field as `field: old → new`. Shared by the index's "Recent
//! actions", the per-object History pages and the audit trail.

use std::collections::BTreeMap;

use castellan_store::AuditEntry;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value as Json;

/// One field of a change: its value before and after (either may be absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FieldChange {
    pub(crate) field: String,
    pub(crate) old: Option<String>,
    pub(crate) new: Option<String>,
}

/// Whether an entry added, changed or deleted its object (Django's `LogEntry.action_flag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Added,
    Changed,
    Deleted,
}

/// The kind of an action name: `user.create` added, `group.delete` deleted, the rest changed.
pub(crate) fn kind(action: &str) -> Kind {
    let verb = action.rsplit('.').next().unwrap_or(action);
    match verb {
        "create" | "add" | "create_group" => Kind::Added,
        "delete" | "delete_group" | "delete_permissions" => Kind::Deleted,
        _ => Kind::Changed,
    }
}

/// An action name in words: `group.grant` → "grant", `user.add_group` → "add group".
pub(crate) fn action_words(action: &str) -> String {
    action
        .rsplit('.')
        .next()
        .unwrap_or(action)
        .replace('_', " ")
}

/// The text of one JSON value: strings as they are, lists joined by ", ", null as nothing.
fn text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        Json::Array(items) => Some(items.iter().filter_map(text).collect::<Vec<_>>().join(", ")),
        other => Some(other.to_string()),
    }
}

/// The fields of an entry's `before` or `after` JSON. A model's `{"label", "values", "changed"}`
/// gives its values' fields (the label is the object's name, `changed` only lists the names);
/// other objects give their keys; anything else is one unnamed field.
fn fields(json: Option<&str>) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    let Some(raw) = json else { return out };
    match serde_json::from_str::<Json>(raw) {
        Ok(Json::Object(map)) => {
            let model = map.get("values").is_some_and(Json::is_object);
            for (key, value) in &map {
                match (key.as_str(), value) {
                    ("values", Json::Object(values)) if model => {
                        for (k, v) in values {
                            out.insert(k.clone(), text(v));
                        }
                    }
                    ("label" | "changed", _) if model => {}
                    _ => {
                        out.insert(key.clone(), text(value));
                    }
                }
            }
        }
        Ok(other) => {
            out.insert(String::new(), text(&other));
        }
        Err(_) => {
            out.insert(String::new(), Some(raw.to_owned()));
        }
    }
    out
}

/// What an entry changed, field by field. An entry with both sides is a change: `after` holds
/// the fields it set (a null is a field it left alone), `before` the state they replaced (it may
/// hold more). An entry with one side added (`after`) or removed (`before`) what it lists; empty
/// values are left out there.
pub(crate) fn changes(before: Option<&str>, after: Option<&str>) -> Vec<FieldChange> {
    let filled = |m: BTreeMap<String, Option<String>>| {
        m.into_iter()
            .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
            .collect::<Vec<_>>()
    };
    match (before, after) {
        (None, None) => Vec::new(),
        (Some(b), None) => filled(fields(Some(b)))
            .into_iter()
            .map(|(field, old)| FieldChange {
                field,
                old: Some(old),
                new: None,
            })
            .collect(),
        (None, Some(a)) => filled(fields(Some(a)))
            .into_iter()
            .map(|(field, new)| FieldChange {
                field,
                old: None,
                new: Some(new),
            })
            .collect(),
        (Some(b), Some(a)) => {
            let old = fields(Some(b));
            fields(Some(a))
                .into_iter()
                .filter_map(|(field, new)| {
                    let new = new?;
                    let old = old.get(&field).cloned().flatten();
                    (old.as_deref() != Some(new.as_str())).then_some(FieldChange {
                        field,
                        old,
                        new: Some(new),
                    })
                })
                .collect()
        }
    }
}

/// The label a model entry gave its object (`{"label": …}`), if any.
fn model_label(json: Option<&str>) -> Option<String> {
    let v: Json = serde_json::from_str(json?).ok()?;
    v.get("label")?.as_str().map(str::to_owned)
}

/// The `before=ID` parameter of a paged listing of entries (empty: the first page).
pub(crate) fn before_id(text: &str) -> Result<Option<i64>, crate::error::AdminError> {
    match text.trim() {
        "" => Ok(None),
        s => s.parse::<i64>().map(Some).map_err(|_| {
            crate::error::AdminError::BadRequest(format!("before={s:?} is not an entry number."))
        }),
    }
}

/// An entry ready for a template.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EntryView {
    pub(crate) id: i64,
    pub(crate) kind: Kind,
    pub(crate) action: String,
    pub(crate) words: String,
    pub(crate) actor: String,
    pub(crate) object_type: String,
    /// The object's name (a model's label when it recorded one, else its id).
    pub(crate) object: String,
    pub(crate) changes: Vec<FieldChange>,
    pub(crate) human: String,
    pub(crate) exact: String,
    pub(crate) iso: String,
}

impl EntryView {
    /// `entry` for display at `now`.
    pub(crate) fn of(entry: &AuditEntry, now: DateTime<Utc>) -> Self {
        let object = model_label(entry.after.as_deref())
            .or_else(|| model_label(entry.before.as_deref()))
            .unwrap_or_else(|| entry.object.clone());
        Self {
            id: entry.id,
            kind: kind(&entry.action),
            action: entry.action.clone(),
            words: action_words(&entry.action),
            actor: entry
                .actor
                .strip_prefix("user:")
                .unwrap_or(&entry.actor)
                .to_owned(),
            object_type: entry.object_type.clone(),
            object,
            changes: changes(entry.before.as_deref(), entry.after.as_deref()),
            human: crate::times::ago(entry.at, now),
            exact: crate::times::exact(entry.at),
            iso: entry.at.to_rfc3339(),
        }
    }
}

/// An entry with a link to its object's change page (none once the object is deleted).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LinkedEntry {
    #[serde(flatten)]
    pub(crate) entry: EntryView,
    pub(crate) url: Option<String>,
}

impl LinkedEntry {
    /// `entry` for display at `now`, linked for `staff`.
    pub(crate) fn of(staff: &crate::access::Staff, entry: &AuditEntry, now: DateTime<Utc>) -> Self {
        let view = EntryView::of(entry, now);
        let url = (view.kind != Kind::Deleted)
            .then(|| crate::links::audited_object(staff, &entry.object_type, &entry.object))
            .flatten();
        Self { entry: view, url }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(field: &str, old: Option<&str>, new: Option<&str>) -> FieldChange {
        FieldChange {
            field: field.into(),
            old: old.map(Into::into),
            new: new.map(Into::into),
        }
    }

    #[test]
    fn model_changes_list_the_changed_values() {
        let before = r#"{"label":"Dune","values":{"title":"Dune","year":"1965"}}"#;
        let after = r#"{"label":"Dune (2nd ed.)","values":{"title":"Dune (2nd ed.)","year":"1965"},"changed":["title"]}"#;
        assert_eq!(
            changes(Some(before), Some(after)),
            [change("title", Some("Dune"), Some("Dune (2nd ed.)"))]
        );
        assert_eq!(model_label(Some(after)).as_deref(), Some("Dune (2nd ed.)"));
    }

    #[test]
    fn grants_flags_and_odd_values() {
        assert_eq!(
            changes(None, Some(r#"{"permissions":["a.x","a.y"]}"#)),
            [change("permissions", None, Some("a.x, a.y"))]
        );
        // A change: the fields set in `after` (null: left alone), against the whole `before`.
        assert_eq!(
            changes(
                Some(r#"{"is_staff":false,"email":"a@x","first_name":"Ann"}"#),
                Some(r#"{"is_staff":true,"email":null,"first_name":""}"#)
            ),
            [
                change("first_name", Some("Ann"), Some("")),
                change("is_staff", Some("false"), Some("true"))
            ]
        );
        // Added and removed: empty values left out.
        assert_eq!(
            changes(None, Some(r#"{"username":"ann","email":"","group":null}"#)),
            [change("username", None, Some("ann"))]
        );
        assert_eq!(
            changes(Some(r#"{"group":"G"}"#), None),
            [change("group", Some("G"), None)]
        );
        assert_eq!(
            changes(Some("not json"), None),
            [change("", Some("not json"), None)]
        );
        assert!(changes(None, None).is_empty());
    }

    #[test]
    fn kinds_of_actions() {
        assert_eq!(kind("user.create"), Kind::Added);
        assert_eq!(kind("admin.add"), Kind::Added);
        assert_eq!(kind("sync.create_group"), Kind::Added);
        assert_eq!(kind("group.delete"), Kind::Deleted);
        assert_eq!(kind("group.grant"), Kind::Changed);
        assert_eq!(kind("user.add_group"), Kind::Changed);
        assert_eq!(action_words("user.add_group"), "add group");
    }
}
