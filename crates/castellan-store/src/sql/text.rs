//! Statements assembled at run time (lists of placeholders, optional filters), written directly
//! in the database's own placeholder syntax.

use super::statement::Statement;
use super::Dialect;

/// A statement built at run time: text is appended as written and every placeholder through
/// [`SqlText::param`], which writes the database's own syntax and counts the arguments.
#[derive(Debug, Clone)]
pub struct SqlText {
    dialect: Dialect,
    text: String,
    binds: usize,
    persistent: bool,
}

impl SqlText {
    /// An empty statement for `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            text: String::with_capacity(128),
            binds: 0,
            persistent: true,
        }
    }

    /// Marks the statement as run once: the database does not keep it prepared (long lists of
    /// placeholders whose length varies).
    pub fn once(&mut self) -> &mut Self {
        self.persistent = false;
        self
    }

    /// Appends text (no placeholders: a `$n` or `?` written here is not counted).
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends the next placeholder.
    pub fn param(&mut self) -> &mut Self {
        self.binds += 1;
        let p = self.dialect.placeholder(self.binds);
        self.text.push_str(&p);
        self
    }

    /// Appends `n` placeholders separated by commas (`$1, $2, $3`).
    pub fn params(&mut self, n: usize) -> &mut Self {
        for i in 0..n {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.param();
        }
        self
    }

    /// Appends `column = <placeholder>`, compared exactly on every database (see
    /// [`Dialect::exact`]).
    pub fn exact(&mut self, column: &str) -> &mut Self {
        self.binds += 1;
        let cmp = self.dialect.exact(column, self.binds);
        self.text.push_str(&cmp);
        self
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The database this text is written for.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

impl Statement for SqlText {
    fn text(&self, dialect: Dialect) -> Option<&str> {
        (dialect == self.dialect).then_some(self.text.as_str())
    }

    fn binds(&self) -> usize {
        self.binds
    }

    fn persistent(&self) -> bool {
        self.persistent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_natively() {
        let mut q = SqlText::new(Dialect::Postgres);
        q.push("SELECT 1 FROM t WHERE a = ")
            .param()
            .push(" AND b IN (")
            .params(2)
            .push(")");
        assert_eq!(q.as_str(), "SELECT 1 FROM t WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(Statement::binds(&q), 3);
        let mut q = SqlText::new(Dialect::MySql);
        q.push("SELECT 1 FROM t WHERE ")
            .exact("name")
            .push(" AND b IN (")
            .params(2)
            .push(")");
        assert_eq!(
            q.as_str(),
            "SELECT 1 FROM t WHERE name = BINARY ? AND b IN (?, ?)"
        );
        assert_eq!(Statement::text(&q, Dialect::Sqlite), None);
    }
}
