//! # castellan-core
//!
//! Django's permission and group system — users, groups, model and custom permissions, the checks,
//! the backend chain, Django-format password hashers — as plain Rust with **no I/O**: no database, no
//! async runtime, no clock or randomness of its own (they come in as arguments).
//!
//! It is the bottom of Castellan's dependency chain and holds its seams: [`AuthnBackend`] (users,
//! credentials, principals) and [`SessionStore`] (session rows). `castellan-store` implements both on
//! Django's tables; [`MemoryBackend`] implements both in memory (the one module that reads the clock
//! and the OS random generator, as any backend must); the web layer runs in front of either.
//!
//! ```
//! use std::sync::Arc;
//! use castellan_core::{Identity, PermIndex, PermissionRow, Principal, UserFlags, UserPerms};
//!
//! // What the store loads: every permission row, and one user's grants (row ids).
//! let index = Arc::new(PermIndex::new([
//!     PermissionRow { id: 1, app_label: "bookshelf".into(), codename: "add_book".into() },
//!     PermissionRow { id: 2, app_label: "bookshelf".into(), codename: "delete_book".into() },
//! ]));
//! let perms = UserPerms::new(index.set_from_rows([1]), index.set_from_rows([]));
//! let alice = Identity::User(UserFlags {
//!     id: castellan_core::UserId::Int(7), username: "alice".into(), is_active: true, is_superuser: false, is_staff: false,
//! });
//! let alice = Principal::new(alice, Arc::new(perms), Arc::clone(&index));
//!
//! assert!(alice.has_perm("bookshelf.add_book"));
//! assert!(!alice.has_perm("bookshelf.delete_book"));
//! assert!(!alice.has_perm("bookshelf.add_bok")); // a typo is false at run time…
//! assert_eq!(index.closest("bookshelf.add_bok"), Some("bookshelf.add_book")); // …and findable.
//! assert!(alice.has_module_perms("bookshelf"));
//! ```
//!
//! Modules follow Django's `contrib.auth`: [`authn`] and [`session_store`] (the seams),
//! [`memory`] (the in-memory implementation), [`sync_plan`] (what `castellan sync` changes, computed
//! without I/O), [`backend`] (permission backends and the chain), [`hashers`],
//! [`validators`], [`password_validation`] (Django's password validators), [`lookalike`]
//! (usernames and group names that read the same), [`registry`] (apps, models and their default/custom permissions), [`index`]
//! (interned permission ids), [`holders`] (`with_perm` by user id), [`user`], [`signing`]
//! (Django's `django.core.signing` with `SECRET_KEY_FALLBACKS`) and [`tokens`] (Django's
//! password-reset tokens).

pub mod authn;
pub mod backend;
pub mod error;
pub mod explain;
pub mod hashers;
pub mod holders;
pub mod index;
pub mod lookalike;
pub mod memory;
pub mod object_explain;
pub mod object_perms;
pub mod password_validation;
pub mod perm;
pub mod policy;
pub mod registry;
pub mod rules;
pub mod session_store;
pub mod signing;
pub mod sync_plan;
pub mod tokens;
pub mod trusted;
pub mod user;
pub mod user_id;
pub mod user_model;
pub mod validators;

pub use authn::{AuthnBackend, BackendError, BackendErrorKind, BackendResult};
pub use backend::{
    Backends, ModelBackend, Outcome, PermObject, PermissionBackend, Principal, UserPerms, WithPerm,
};
pub use error::{Error, Result};
pub use holders::HolderIds;
pub use index::{PermId, PermIndex, PermissionRow, PermissionSet};
pub use memory::MemoryBackend;
pub use object_perms::{ObjectGrants, ObjectRef, ObjectsPlan, ObjectsQuery};
pub use password_validation::{PasswordValidator, PasswordValidators, UserAttributes};
pub use perm::PermName;
pub use registry::{ModelSpec, PermissionSpec, Registry};
pub use session_store::{SessionStore, SessionWithUser};
pub use trusted::TrustedGroups;
pub use user::{Group, Identity, Permission, User, UserFlags};
pub use user_id::{UserId, UserPk};
pub use user_model::UserModel;
