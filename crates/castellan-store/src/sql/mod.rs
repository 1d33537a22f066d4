#![doc = include_str!("../docs/sql.md")]

mod args;
mod catalog;
mod db;
mod dialect;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
pub mod rename;
mod row;
#[cfg(feature = "sqlite")]
mod sqlite;
mod statement;
mod text;
mod timestamp;

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("castellan-store needs at least one database driver: enable the `sqlite`, `postgres` or `mysql` feature");

pub use args::Arg;
#[cfg(test)]
pub(crate) use catalog::STATEMENTS as CATALOG_STATEMENTS;
pub use db::{Db, Tx};
pub use dialect::Dialect;
pub use row::Row;
#[doc(hidden)]
pub use statement::to_question_marks;
pub use statement::{dollar_placeholders, question_placeholders, Sql, Statement};
pub use text::SqlText;
pub use timestamp::{ts_from_text, ts_to_text};
