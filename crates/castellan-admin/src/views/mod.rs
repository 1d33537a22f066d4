//! The admin's pages, one module per section.

pub(crate) mod groups;
pub(crate) mod history;
pub(crate) mod index;
pub(crate) mod models;
pub(crate) mod object_perms;
pub(crate) mod permissions;
pub(crate) mod picker;
pub(crate) mod reports;
pub(crate) mod user_actions;
pub(crate) mod users;
