//! The admin's stylesheet.

/// The stylesheet served at `admin.css`.
pub(crate) const CSS: &str = include_str!("../static/admin.css");
