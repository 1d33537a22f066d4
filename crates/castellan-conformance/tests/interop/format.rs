//! The expected.json format of `interop/README.md`, read (Django's answers) and written (Castellan's).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole expected.json. Every list of strings is sorted by code point (Rust's `str` order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Expected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) django_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) interop_apps: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) database_vendor: Option<String>,
    pub(crate) permissions: Vec<String>,
    pub(crate) probe_permissions: Vec<String>,
    pub(crate) apps: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) groups: Option<Vec<GroupAnswers>>,
    pub(crate) users: Vec<UserAnswers>,
    pub(crate) with_perm: Vec<WithPermAnswer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupAnswers {
    pub(crate) name: String,
    pub(crate) permissions: Vec<String>,
    pub(crate) members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UserAnswers {
    pub(crate) username: String,
    pub(crate) is_active: bool,
    pub(crate) is_superuser: bool,
    pub(crate) is_staff: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) direct_grants: Option<Vec<String>>,
    pub(crate) user_permissions: Vec<String>,
    pub(crate) group_permissions: Vec<String>,
    pub(crate) all_permissions: Vec<String>,
    pub(crate) has_perm: BTreeMap<String, bool>,
    /// `[[["a.x", "b.y"], true], …]`
    pub(crate) has_perms_pairs: Vec<(Vec<String>, bool)>,
    pub(crate) has_module_perms: BTreeMap<String, bool>,
    /// `None` (JSON null): an unusable password.
    pub(crate) password: Option<String>,
    pub(crate) wrong_password: String,
    pub(crate) encoded: String,
    pub(crate) check_password: PasswordAnswers,
    pub(crate) authenticate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PasswordAnswers {
    pub(crate) right: bool,
    pub(crate) wrong: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WithPermAnswer {
    pub(crate) perm: String,
    pub(crate) is_active: Option<bool>,
    pub(crate) include_superusers: bool,
    /// `None` (JSON null) when Django raised (see `error`).
    pub(crate) usernames: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}
