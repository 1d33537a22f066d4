//! Object rules: predicates per permission ("is the author", "is a draft", "is in group
//! Reviewers"), evaluated for one loaded object **and** compiled to a SQL condition by the store
//! (`castellan_store::RuleFilter`), so that "the articles this user may change" is one query. A
//! property test on every database holds the two to the same answer.
//!
//! A [`Rule`] reads the object's fields through [`RuleObject`] and the user through a
//! [`RuleSubject`] (the [`Principal`] and their group names). Two-valued logic throughout: a
//! comparison with a missing (`NULL`) field is false, also under `Not`, and the SQL is written so
//! that it never yields `NULL` either.
//!
//! ```
//! use castellan_core::rules::{Rule, Value};
//! // Authors change their own drafts.
//! let own_draft = Rule::all([Rule::is_user("author_id"), Rule::eq("status", Value::text("draft"))]);
//! assert_eq!(own_draft.to_string(), "(author_id = user AND status = 'draft')");
//! ```

use std::collections::BTreeMap;
use std::fmt;

use crate::backend::Principal;
use crate::error::{Error, Result};
use crate::perm::validate_identifier;

/// A field value of an object, or a constant in a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// `NULL`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer (ids, counts).
    Int(i64),
    /// Text.
    Text(String),
}

impl Value {
    /// A text value.
    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("NULL"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::Text(s) => write!(f, "'{}'", s.replace('\'', "''")),
        }
    }
}

/// An object rules can read: its fields by name.
pub trait RuleObject {
    /// The value of `field` (`None`: the object has no such field, which a rule treats as `NULL`).
    fn field(&self, name: &str) -> Option<Value>;
}

impl RuleObject for BTreeMap<String, Value> {
    fn field(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
}

/// Who a rule is asked about: the user and the names of their groups.
#[derive(Debug, Clone, Copy)]
pub struct RuleSubject<'a> {
    /// The user (or anonymous).
    pub who: &'a Principal,
    /// The names of the user's groups.
    pub groups: &'a [String],
}

impl RuleSubject<'_> {
    /// The user's id as a rule value (`Null` for the anonymous user; a UUID as its 32 hex digits).
    pub fn user_value(&self) -> Value {
        match self.who.identity().id() {
            None => Value::Null,
            Some(id) => match id.as_int() {
                Some(n) => Value::Int(n),
                None => Value::Text(id.hex()),
            },
        }
    }

    fn active(&self) -> bool {
        self.who.identity().is_active()
    }
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<` (integers only)
    Lt,
    /// `<=` (integers only)
    Le,
    /// `>` (integers only)
    Gt,
    /// `>=` (integers only)
    Ge,
}

impl CmpOp {
    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Self::Eq => ord == Equal,
            Self::Ne => ord != Equal,
            Self::Lt => ord == Less,
            Self::Le => ord != Greater,
            Self::Gt => ord == Greater,
            Self::Ge => ord != Less,
        }
    }
}

/// What a field is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operand {
    /// The user's id (`author_id = user`).
    User,
    /// A constant.
    Const(Value),
}

/// A predicate over a user and an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Always true.
    Always,
    /// Always false.
    Never,
    /// `field <op> operand`; false when the field is `NULL` (or missing) or the user anonymous.
    Cmp {
        /// The object's field (a column of its table).
        field: String,
        /// The comparison.
        op: CmpOp,
        /// The other side.
        rhs: Operand,
    },
    /// `field IS NULL`.
    IsNull(String),
    /// The user is active and a member of the group (by exact name).
    InGroup(String),
    /// The user holds the (model) permission, as `user.has_perm(perm)`.
    HasPerm(String),
    /// Every one (an empty list is true).
    All(Vec<Rule>),
    /// Any one (an empty list is false).
    Any(Vec<Rule>),
    /// The opposite.
    Not(Box<Rule>),
}

impl Rule {
    /// `field = user`: the user is the object's author, owner… (django-rules' `is_author`).
    pub fn is_user(field: &str) -> Self {
        Self::Cmp {
            field: field.to_owned(),
            op: CmpOp::Eq,
            rhs: Operand::User,
        }
    }

    /// `field = value`.
    pub fn eq(field: &str, value: Value) -> Self {
        Self::cmp(field, CmpOp::Eq, value)
    }

    /// `field <op> value`.
    pub fn cmp(field: &str, op: CmpOp, value: Value) -> Self {
        Self::Cmp {
            field: field.to_owned(),
            op,
            rhs: Operand::Const(value),
        }
    }

    /// The user is a member of `group`.
    pub fn in_group(group: &str) -> Self {
        Self::InGroup(group.to_owned())
    }

    /// The user holds `perm` globally.
    pub fn has_perm(perm: &str) -> Self {
        Self::HasPerm(perm.to_owned())
    }

    /// Every one of `rules`.
    pub fn all(rules: impl IntoIterator<Item = Rule>) -> Self {
        Self::All(rules.into_iter().collect())
    }

    /// Any one of `rules`.
    pub fn any(rules: impl IntoIterator<Item = Rule>) -> Self {
        Self::Any(rules.into_iter().collect())
    }

    /// The opposite of `rule`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(rule: Rule) -> Self {
        Self::Not(Box::new(rule))
    }

    /// Checks the rule's shape: field names are plain identifiers (they become column names),
    /// ordering comparisons take integers, `NULL` is compared with [`Rule::IsNull`] only.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Always | Self::Never | Self::InGroup(_) | Self::HasPerm(_) => Ok(()),
            Self::IsNull(field) => validate_identifier("rule field", field),
            Self::Cmp { field, op, rhs } => {
                validate_identifier("rule field", field)?;
                let bad = |reason: &str| Error::InvalidName {
                    what: "rule",
                    value: self.to_string(),
                    reason: reason.to_owned(),
                };
                match rhs {
                    Operand::Const(Value::Null) => {
                        Err(bad("compare with NULL through Rule::IsNull"))
                    }
                    Operand::Const(Value::Text(_) | Value::Bool(_))
                        if !matches!(op, CmpOp::Eq | CmpOp::Ne) =>
                    {
                        Err(bad(
                            "only integers are ordered; text and booleans take = and <>",
                        ))
                    }
                    _ => Ok(()),
                }
            }
            Self::All(rules) | Self::Any(rules) => rules.iter().try_for_each(Rule::validate),
            Self::Not(rule) => rule.validate(),
        }
    }

    /// Evaluates the rule for one object.
    pub fn check(&self, subject: &RuleSubject<'_>, obj: &dyn RuleObject) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Cmp { field, op, rhs } => {
                let left = obj.field(field).unwrap_or(Value::Null);
                let right = match rhs {
                    Operand::User => subject.user_value(),
                    Operand::Const(v) => v.clone(),
                };
                compare(&left, *op, &right)
            }
            Self::IsNull(field) => matches!(obj.field(field).unwrap_or(Value::Null), Value::Null),
            Self::InGroup(group) => subject.active() && subject.groups.iter().any(|g| g == group),
            Self::HasPerm(perm) => subject.who.has_perm(perm),
            Self::All(rules) => rules.iter().all(|r| r.check(subject, obj)),
            Self::Any(rules) => rules.iter().any(|r| r.check(subject, obj)),
            Self::Not(rule) => !rule.check(subject, obj),
        }
    }

    /// The rule with everything about the user decided (group membership, permissions, the user's
    /// id) and constant parts folded: what remains reads only the object's fields. The store
    /// compiles this form to SQL.
    pub fn for_subject(&self, subject: &RuleSubject<'_>) -> Rule {
        match self {
            Self::InGroup(_) | Self::HasPerm(_) => {
                if self.check(subject, &BTreeMap::new()) {
                    Self::Always
                } else {
                    Self::Never
                }
            }
            Self::Cmp {
                field,
                op,
                rhs: Operand::User,
            } => match subject.user_value() {
                Value::Null => Self::Never,
                v => Self::cmp(field, *op, v),
            },
            Self::All(rules) => {
                let mut kept = Vec::new();
                for r in rules {
                    match r.for_subject(subject) {
                        Self::Always => {}
                        Self::Never => return Self::Never,
                        other => kept.push(other),
                    }
                }
                match kept.len() {
                    0 => Self::Always,
                    1 => kept.remove(0),
                    _ => Self::All(kept),
                }
            }
            Self::Any(rules) => {
                let mut kept = Vec::new();
                for r in rules {
                    match r.for_subject(subject) {
                        Self::Never => {}
                        Self::Always => return Self::Always,
                        other => kept.push(other),
                    }
                }
                match kept.len() {
                    0 => Self::Never,
                    1 => kept.remove(0),
                    _ => Self::Any(kept),
                }
            }
            Self::Not(rule) => match rule.for_subject(subject) {
                Self::Always => Self::Never,
                Self::Never => Self::Always,
                other => Self::Not(Box::new(other)),
            },
            other => other.clone(),
        }
    }
}

/// `left <op> right` in two-valued logic: false when either side is `NULL` or they are of
/// different kinds.
fn compare(left: &Value, op: CmpOp, right: &Value) -> bool {
    let ord = match (left, right) {
        (Value::Int(a), Value::Int(b)) => a.cmp(b),
        (Value::Text(a), Value::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        _ => return false,
    };
    op.holds(ord)
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, rules: &[Rule], sep: &str, empty: &str| {
            if rules.is_empty() {
                return f.write_str(empty);
            }
            f.write_str("(")?;
            for (i, r) in rules.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{r}")?;
            }
            f.write_str(")")
        };
        match self {
            Self::Always => f.write_str("true"),
            Self::Never => f.write_str("false"),
            Self::Cmp { field, op, rhs } => match rhs {
                Operand::User => write!(f, "{field} {} user", op.sql()),
                Operand::Const(v) => write!(f, "{field} {} {v}", op.sql()),
            },
            Self::IsNull(field) => write!(f, "{field} IS NULL"),
            Self::InGroup(g) => write!(f, "in group {g:?}"),
            Self::HasPerm(p) => write!(f, "has {p}"),
            Self::All(rules) => join(f, rules, " AND ", "true"),
            Self::Any(rules) => join(f, rules, " OR ", "false"),
            Self::Not(rule) => write!(f, "NOT {rule}"),
        }
    }
}

/// The rules of an application: for each permission, the rule that grants it on an object.
/// Combined with guardian's grants, a rule or a grant allows (Django's backend chain).
#[derive(Debug, Clone, Default)]
pub struct ObjectRules {
    rules: BTreeMap<String, Rule>,
}

impl ObjectRules {
    /// No rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `rule` for `perm` (`app_label.codename`); a second rule for the same permission is
    /// an error (combine them with [`Rule::any`]).
    pub fn with(mut self, perm: &str, rule: Rule) -> Result<Self> {
        crate::perm::PermName::parse(perm)?;
        rule.validate()?;
        if self.rules.contains_key(perm) {
            return Err(Error::InvalidName {
                what: "rule",
                value: perm.to_owned(),
                reason:
                    "a rule is already registered for this permission; combine them with Rule::any"
                        .into(),
            });
        }
        self.rules.insert(perm.to_owned(), rule);
        Ok(self)
    }

    /// The rule for `perm`, if any.
    pub fn rule(&self, perm: &str) -> Option<&Rule> {
        self.rules.get(perm)
    }

    /// Every `(permission, rule)`, by permission.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Rule)> {
        self.rules.iter().map(|(p, r)| (p.as_str(), r))
    }

    /// Whether a rule allows `perm` on `obj` for the subject (an inactive user: never; an active
    /// superuser: always, as Django's shortcut).
    pub fn allows(&self, subject: &RuleSubject<'_>, perm: &str, obj: &dyn RuleObject) -> bool {
        let identity = subject.who.identity();
        if identity.is_active_superuser() {
            return true;
        }
        if !identity.is_active() {
            return false;
        }
        self.rule(perm).is_some_and(|r| r.check(subject, obj))
    }

    /// The condition on the object's fields alone under which a rule allows `perm` to the
    /// subject: what the store compiles to SQL for a list.
    pub fn condition(&self, subject: &RuleSubject<'_>, perm: &str) -> Rule {
        let identity = subject.who.identity();
        if identity.is_active_superuser() {
            return Rule::Always;
        }
        if !identity.is_active() {
            return Rule::Never;
        }
        self.rule(perm)
            .map_or(Rule::Never, |r| r.for_subject(subject))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::*;
    use crate::backend::UserPerms;
    use crate::index::PermIndex;
    use crate::user::{Identity, UserFlags};
    use crate::UserId;

    fn user(id: i64, active: bool) -> Principal {
        Principal::new(
            Identity::User(UserFlags {
                id: UserId::Int(id),
                username: format!("u{id}"),
                is_active: active,
                is_superuser: false,
                is_staff: false,
            }),
            Arc::new(UserPerms::empty()),
            Arc::new(PermIndex::new([])),
        )
    }

    fn article(author: Option<i64>, status: &str) -> BTreeMap<String, Value> {
        BTreeMap::from([
            ("author_id".into(), author.map_or(Value::Null, Value::Int)),
            ("status".into(), Value::text(status)),
        ])
    }

    #[test]
    fn rules_evaluate_with_two_valued_logic() {
        let ann = user(7, true);
        let groups = vec!["Authors".to_owned()];
        let s = RuleSubject {
            who: &ann,
            groups: &groups,
        };
        let own_draft = Rule::all([
            Rule::is_user("author_id"),
            Rule::eq("status", Value::text("draft")),
        ]);
        assert!(own_draft.check(&s, &article(Some(7), "draft")));
        assert!(!own_draft.check(&s, &article(Some(8), "draft")));
        assert!(!own_draft.check(&s, &article(None, "draft")));
        // NOT over a NULL comparison is true (two-valued), as the compiled SQL is.
        assert!(Rule::not(Rule::is_user("author_id")).check(&s, &article(None, "x")));
        assert!(Rule::IsNull("author_id".into()).check(&s, &article(None, "x")));
        assert!(Rule::in_group("Authors").check(&s, &article(None, "x")));
        let inactive = user(7, false);
        let s2 = RuleSubject {
            who: &inactive,
            groups: &groups,
        };
        assert!(!Rule::in_group("Authors").check(&s2, &article(None, "x")));
    }

    #[test]
    fn conditions_fold_what_is_known_about_the_user() {
        let ann = user(7, true);
        let groups = vec!["Authors".to_owned()];
        let s = RuleSubject {
            who: &ann,
            groups: &groups,
        };
        let rule = Rule::any([
            Rule::all([
                Rule::in_group("Chiefs"),
                Rule::eq("status", Value::text("review")),
            ]),
            Rule::all([Rule::in_group("Authors"), Rule::is_user("author_id")]),
        ]);
        assert_eq!(rule.for_subject(&s).to_string(), "author_id = 7");
        let rules = ObjectRules::new()
            .with("bookshelf.change_article", rule)
            .unwrap();
        assert_eq!(rules.condition(&s, "bookshelf.view_article"), Rule::Never);
        assert!(rules.allows(&s, "bookshelf.change_article", &article(Some(7), "x")));
        assert!(ObjectRules::new()
            .with(
                "bookshelf.x",
                Rule::cmp("title", CmpOp::Lt, Value::text("a"))
            )
            .is_err());
        assert!(ObjectRules::new()
            .with("bookshelf.x", Rule::eq("title; drop", Value::Int(1)))
            .is_err());
    }
}
