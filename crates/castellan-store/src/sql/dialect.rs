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
    /// The `n`-th placeholder (from 1) in this database's syntax: `$n` on PostgreSQL, `?` on
    /// SQLite and MariaDB (positional: SQLite looks named ones up one by one).
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Self::Postgres => format!("${n}"),
            Self::Sqlite | Self::MySql => "?".to_owned(),
        }
    }

    /// `column = <placeholder n>`, compared exactly (case- and accent-sensitive) on every database:
    /// MariaDB's default collations are case-insensitive, so it compares bytes there.
    pub fn exact(self, column: &str, n: usize) -> String {
        match self {
            Self::MySql => format!("{column} = BINARY ?"),
            Self::Sqlite => format!("{column} = ?"),
            Self::Postgres => format!("{column} = ${n}"),
        }
    }

    /// How a quoted identifier is written (`"name"`, or `` `name` `` on MariaDB).
    pub fn quote(self, name: &str) -> String {
        match self {
            Self::MySql => format!("`{}`", name.replace('`', "``")),
            Self::Sqlite | Self::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }
}
