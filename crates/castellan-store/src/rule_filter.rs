//! Object rules compiled to SQL: the condition an application adds to its own list query so that
//! the database returns exactly the objects a per-object check would allow.
//!
//! ```
//! use castellan_core::rules::{Rule, Value};
//! use castellan_store::sql::{Dialect, SqlText};
//! use castellan_store::RuleFilter;
//!
//! let rule = Rule::all([Rule::eq("author_id", Value::Int(7)), Rule::eq("status", Value::text("draft"))]);
//! let filter = RuleFilter::compile(Dialect::Postgres, &rule, "a");
//! let mut q = SqlText::new(Dialect::Postgres);
//! q.push("SELECT id FROM bookshelf_article a WHERE ");
//! filter.append_to(&mut q);
//! assert_eq!(
//!     q.as_str(),
//!     "SELECT id FROM bookshelf_article a WHERE ((\"a\".\"author_id\" IS NOT NULL AND \"a\".\"author_id\" = $1) \
//!      AND (\"a\".\"status\" IS NOT NULL AND \"a\".\"status\" = $2))"
//! );
//! assert_eq!(filter.args().len(), 2);
//! ```

use castellan_core::rules::{Operand, Rule, Value};

use crate::sql::{Arg, Dialect, SqlText};

/// A piece of a compiled condition.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Param(Value),
    /// A user's key, bound as the store binds user keys (a UUID as PostgreSQL's `uuid`).
    User(castellan_core::UserId),
}

/// A rule compiled to a SQL condition over one table alias: text with placeholders, and their
/// values. Every comparison is written so that it is never `NULL` (`col IS NOT NULL AND col = ?`),
/// so `NOT` means what it means in memory; text compares byte for byte on every database.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFilter {
    pieces: Vec<Piece>,
}

impl RuleFilter {
    /// Compiles `rule` (in the form [`castellan_core::rules::ObjectRules::condition`] gives, or any
    /// rule that does not ask about the user: group and permission tests compile to `false`) for
    /// columns of table alias `alias`. The alias and the field names are quoted identifiers (quotes
    /// in them doubled), so no text of a rule reaches the SQL as SQL; write the alias in lower case
    /// (PostgreSQL folds an unquoted `A` to `a`).
    pub fn compile(dialect: Dialect, rule: &Rule, alias: &str) -> Self {
        let mut out = Self { pieces: Vec::new() };
        out.push_rule(dialect, rule, alias);
        out
    }

    /// A condition true for every row.
    pub fn always() -> Self {
        Self {
            pieces: vec![Piece::Text("1 = 1".into())],
        }
    }

    fn text(&mut self, s: &str) {
        match self.pieces.last_mut() {
            Some(Piece::Text(t)) => t.push_str(s),
            _ => self.pieces.push(Piece::Text(s.to_owned())),
        }
    }

    fn push_rule(&mut self, d: Dialect, rule: &Rule, alias: &str) {
        let column = |field: &str| format!("{}.{}", d.quote(alias), d.quote(field));
        match rule {
            Rule::Always => self.text("1 = 1"),
            // Group and permission tests not folded for a user are false, as for the anonymous user.
            Rule::Never | Rule::InGroup(_) | Rule::HasPerm(_) => self.text("1 = 0"),
            Rule::Cmp {
                field,
                op,
                rhs: Operand::Const(value),
            } => {
                let col = column(field);
                if *value == Value::Null {
                    self.text("1 = 0");
                    return;
                }
                self.text(&format!("({col} IS NOT NULL AND {col} {} ", op.sql()));
                if d == Dialect::MySql && matches!(value, Value::Text(_)) {
                    self.text("BINARY ");
                }
                self.pieces.push(Piece::Param(value.clone()));
                self.text(")");
            }
            // The user's id is only known once the rule is folded for a user.
            Rule::Cmp {
                rhs: Operand::User, ..
            } => self.text("1 = 0"),
            Rule::IsNull(field) => self.text(&format!("{} IS NULL", column(field))),
            Rule::All(rules) | Rule::Any(rules) if rules.is_empty() => {
                self.text(if matches!(rule, Rule::All(_)) {
                    "1 = 1"
                } else {
                    "1 = 0"
                });
            }
            Rule::All(rules) | Rule::Any(rules) => {
                let sep = if matches!(rule, Rule::All(_)) {
                    " AND "
                } else {
                    " OR "
                };
                self.text("(");
                for (i, r) in rules.iter().enumerate() {
                    if i > 0 {
                        self.text(sep);
                    }
                    self.push_rule(d, r, alias);
                }
                self.text(")");
            }
            Rule::Not(inner) => {
                self.text("NOT (");
                self.push_rule(d, inner, alias);
                self.text(")");
            }
        }
    }

    /// `self OR other`.
    pub fn or(mut self, other: RuleFilter) -> Self {
        let mut pieces = vec![Piece::Text("(".into())];
        pieces.append(&mut self.pieces);
        pieces.push(Piece::Text(" OR ".into()));
        pieces.extend(other.pieces);
        pieces.push(Piece::Text(")".into()));
        Self { pieces }
    }

    /// A condition from raw text and its values, in order (`?` never appears in `texts`: the
    /// placeholders go between them).
    fn from_parts(texts: &[&str], values: Vec<Piece>) -> Self {
        let mut pieces = Vec::new();
        let mut values = values.into_iter();
        for (i, t) in texts.iter().enumerate() {
            if i > 0 {
                if let Some(v) = values.next() {
                    pieces.push(v);
                }
            }
            pieces.push(Piece::Text((*t).to_owned()));
        }
        Self { pieces }
    }

    /// Appends the condition to `q`, its placeholders numbered after those already in `q`; pass
    /// [`RuleFilter::args`] after the arguments of what `q` held before.
    pub fn append_to(&self, q: &mut SqlText) {
        for p in &self.pieces {
            match p {
                Piece::Text(t) => {
                    q.push(t);
                }
                Piece::Param(_) | Piece::User(_) => {
                    q.param();
                }
            }
        }
    }

    /// The values of the placeholders, in order.
    pub fn args(&self) -> Vec<Arg<'_>> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Param(v) => Some(match v {
                    Value::Null => Arg::OptInt(None),
                    Value::Bool(b) => Arg::Flag(*b),
                    Value::Int(i) => Arg::Int(*i),
                    Value::Text(s) => Arg::Text(s),
                }),
                Piece::User(id) => Some(Arg::User(*id)),
                Piece::Text(_) => None,
            })
            .collect()
    }
}

impl crate::Store {
    /// The condition under which `subject` holds `perm` on a row of `alias` (a table of model
    /// `app_label.model` keyed by `pk`): a rule of `rules` allows, or a django-guardian grant of
    /// the user's or of one of their groups names the row (when the database has guardian's
    /// tables). An active superuser: every row; an inactive user: none. Add it to the
    /// application's own query (see [`RuleFilter::append_to`]) and list in one statement exactly
    /// what a check of each object would allow.
    pub async fn object_filter(
        &self,
        rules: &castellan_core::rules::ObjectRules,
        subject: &castellan_core::rules::RuleSubject<'_>,
        perm: &str,
        (app_label, model): (&str, &str),
        (alias, pk): (&str, &str),
    ) -> crate::Result<RuleFilter> {
        let d = self.dialect();
        let identity = subject.who.identity();
        if identity.is_active_superuser() {
            return Ok(RuleFilter::always());
        }
        let by_rule = RuleFilter::compile(d, &rules.condition(subject, perm), alias);
        let (Some(user), true) = (identity.id(), identity.is_active()) else {
            return Ok(by_rule);
        };
        if !self.has_object_permissions().await? {
            return Ok(by_rule);
        }
        let codename = match perm.split_once('.') {
            Some((app, codename)) if app == app_label => codename,
            // A permission of another app is never granted on this model's rows.
            _ => return Ok(by_rule),
        };
        let column = format!("{}.{}", d.quote(alias), d.quote(pk));
        let exact = if d == Dialect::MySql { "BINARY " } else { "" };
        let integer_keys = matches!(
            self.object_table(app_label, model)
                .key_kind(&self.app_db)
                .await,
            Ok(crate::object_tables::KeyKind::Integer)
        );
        // Keys compare as text (guardian's rule). On an integer key, the grants' keys in canonical
        // integer form are turned into integers instead, so the table's own index answers; any
        // other text ("05", " 5", "abc") names no row, as in the text comparison.
        let (key, object_pk, canonical) = match (integer_keys, d) {
            (true, Dialect::Sqlite) => (
                column,
                "CAST(g.object_pk AS INTEGER)",
                " AND CAST(CAST(g.object_pk AS INTEGER) AS TEXT) = g.object_pk",
            ),
            (true, Dialect::MySql) => (
                column,
                "CAST(g.object_pk AS SIGNED)",
                " AND CAST(CAST(g.object_pk AS SIGNED) AS CHAR) = BINARY g.object_pk",
            ),
            (true, Dialect::Postgres) => (
                column,
                "CAST(CASE WHEN g.object_pk ~ '^(0|-?[1-9][0-9]{0,17})$' THEN g.object_pk END AS bigint)",
                " AND g.object_pk ~ '^(0|-?[1-9][0-9]{0,17})$'",
            ),
            // Byte comparison: MariaDB's collations ignore case and trailing spaces.
            (false, Dialect::MySql) => (
                format!("BINARY {}", crate::object_perms::cast_text(d, &column)),
                "BINARY g.object_pk",
                "",
            ),
            (false, _) => (crate::object_perms::cast_text(d, &column), "g.object_pk", ""),
        };
        // PostgreSQL plans `x OR id IN (subquery)` as a scan of the table; `id = ANY(ARRAY(…))`
        // reads the grants once and lets the key's index answer.
        let (open, close) = if integer_keys && d == Dialect::Postgres {
            ("= ANY(ARRAY(", "))")
        } else {
            ("IN (", ")")
        };
        let groups = self.users.groups_table();
        let member = self.users.model().user_column();
        let head = format!(
            "{key} {open}SELECT {object_pk} FROM guardian_userobjectpermission g \
             JOIN auth_permission p ON p.id = g.permission_id \
             JOIN django_content_type ct ON ct.id = p.content_type_id \
             WHERE g.user_id = "
        );
        let conditions = format!(" AND ct.app_label = {exact}");
        let granted = RuleFilter::from_parts(
            &[
                &head,
                &conditions,
                &format!(" AND ct.model = {exact}"),
                &format!(" AND p.codename = {exact}"),
                &format!(
                    "{canonical} UNION SELECT {object_pk} FROM guardian_groupobjectpermission g \
                     JOIN {groups} ug ON ug.group_id = g.group_id \
                     JOIN auth_permission p ON p.id = g.permission_id \
                     JOIN django_content_type ct ON ct.id = p.content_type_id \
                     WHERE ug.{member} = "
                ),
                &conditions,
                &format!(" AND ct.model = {exact}"),
                &format!(" AND p.codename = {exact}"),
                &format!("{canonical}{close}"),
            ],
            vec![
                Piece::User(user),
                Piece::Param(Value::text(app_label)),
                Piece::Param(Value::text(model)),
                Piece::Param(Value::text(codename)),
                Piece::User(user),
                Piece::Param(Value::text(app_label)),
                Piece::Param(Value::text(model)),
                Piece::Param(Value::text(codename)),
            ],
        );
        Ok(by_rule.or(granted))
    }
}
