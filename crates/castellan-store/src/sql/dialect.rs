//! The database kinds and the few expressions whose spelling differs between them.

/// The database kinds Castellan speaks. Chosen once, when the pool is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite (embedded; the default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MariaDB or MySQL.
    MySql,
}

impl Dialect {
    /// The `n`-th placeholder (from 1) in this database's syntax: `$n` on SQLite and PostgreSQL,
    /// `?` on MariaDB.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Self::MySql => "?".to_owned(),
            Self::Sqlite | Self::Postgres => format!("${n}"),
        }
    }

    /// `column = <placeholder n>`, compared exactly (case- and accent-sensitive) on every database:
    /// MariaDB's default collations are case-insensitive, so it compares bytes there.
    pub fn exact(self, column: &str, n: usize) -> String {
        match self {
            Self::MySql => format!("{column} = BINARY ?"),
            Self::Sqlite | Self::Postgres => format!("{column} = ${n}"),
        }
    }

    /// How a quoted identifier is written (`"name"`, or `` `name` `` on MariaDB).
    pub fn quote(self, name: &str) -> String {
        match self {
            Self::MySql => format!("`{name}`"),
            Self::Sqlite | Self::Postgres => format!("\"{name}\""),
        }
    }
}
