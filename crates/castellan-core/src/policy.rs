//! The declarative policy file: apps, models, their permissions, and groups with their permissions.
//!
//! A policy is TOML, parsed here from a `&str` (no I/O). It declares what `castellan sync` makes true:
//!
//! ```toml
//! [apps.bookshelf]
//! verbose_name = "Bookshelf"              # optional
//!
//! [[apps.bookshelf.models]]
//! name = "Book"                           # the class name: model "book", verbose name "book"
//! # verbose_name = "book"                 # optional: used in the default permission names
//! # default_permissions = ["add", "change", "delete", "view"]   # optional (Meta.default_permissions)
//! permissions = [ { codename = "can_publish_book", name = "Can publish book" } ]
//!
//! [groups.Editors]
//! permissions = ["bookshelf.add_book", "bookshelf.change_book", "bookshelf.view_*"]
//! ```
//!
//! Group permissions are `app_label.codename` names or **wildcards**: `*` in the app label and/or in the
//! codename matches any run of characters (`bookshelf.*`, `bookshelf.view_*`, `*.view_*`). A name must be
//! declared by the file or already exist in the database; a wildcard must match at least one.
//!
//! Every problem is collected with the line it is on ([`Problem`]), so one run reports them all:
//! [`Policy::parse`] finds the file's own problems (TOML shape, names, Django's model checks
//! auth.E005–E012, malformed permission names); [`Policy::resolve`] adds the ones that need to know what
//! the database holds (unknown permissions, wildcards that match nothing).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use foldhash::fast::RandomState;
use serde::Deserialize;
use toml::Spanned;

use crate::index::closest;
use crate::perm::{validate_identifier, PermName};
use crate::registry::{ModelSpec, Registry};
use crate::validators::validate_group_name;

/// Apps whose permissions belong to Django itself: a policy may grant them, never prune them.
pub const BUILTIN_APPS: [&str; 2] = ["auth", "contenttypes"];

/// One problem in a policy file, at a line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// The line of the file the problem is on (1-based).
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Every problem found in a policy file, sorted by line. Nothing is applied when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The problems, each prefixed with `file:line: `, one per line.
    pub fn render(&self, file: &str) -> String {
        self.0
            .iter()
            .map(|p| format!("{file}:{}: {}", p.line, p.message))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// One permission pattern of a group, as written, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// `app_label.codename`, possibly with `*` wildcards.
    pub text: String,
    /// The line it is on.
    pub line: usize,
}

impl Pattern {
    /// Whether the pattern has a wildcard.
    pub fn is_wildcard(&self) -> bool {
        self.text.contains('*')
    }

    /// Whether the pattern matches `app_label.codename` (app label and codename matched separately).
    pub fn matches(&self, app_label: &str, codename: &str) -> bool {
        match self.text.split_once('.') {
            Some((app, code)) => glob(app, app_label) && glob(code, codename),
            None => false,
        }
    }
}

/// A group the policy declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPolicy {
    /// The group's name.
    pub name: String,
    /// The line of its table.
    pub line: usize,
    /// Its permission patterns, as written.
    pub permissions: Vec<Pattern>,
}

/// A parsed policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    registry: Registry,
    apps: Vec<String>,
    groups: Vec<GroupPolicy>,
    problems: Vec<Problem>,
}

/// A policy checked against the permissions that exist: each group's exact permission names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Group name → its permissions as sorted, de-duplicated `app_label.codename` names.
    pub groups: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    apps: BTreeMap<Spanned<String>, Spanned<RawApp>>,
    #[serde(default)]
    groups: BTreeMap<Spanned<String>, Spanned<RawGroup>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    verbose_name: Option<String>,
    #[serde(default)]
    models: Vec<Spanned<RawModel>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    name: Spanned<String>,
    verbose_name: Option<String>,
    default_permissions: Option<Vec<String>>,
    #[serde(default)]
    permissions: Vec<Spanned<RawPermission>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPermission {
    codename: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    permissions: Vec<Spanned<String>>,
}

/// The 1-based line of a byte offset.
pub fn line_of(src: &str, offset: usize) -> usize {
    Lines::new(src).line(offset)
}

/// The offsets of a text's line breaks, for line lookups in O(log n).
struct Lines(Vec<usize>);

impl Lines {
    fn new(src: &str) -> Self {
        Self(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// The 1-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|nl| *nl < offset) + 1
    }
}

/// `*` matches any run of characters (including none); everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    // Allocation-free: it runs once per available permission and wildcard.
    let Some((first, after_first)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let (middle, last) = after_first.rsplit_once('*').unwrap_or(("", after_first));
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in middle.split('*') {
        match rest.find(part) {
            Some(pos) => rest = &rest[pos + part.len()..],
            None => return false,
        }
    }
    true
}

/// Checks a pattern's form: `app.codename`, each part non-empty, of letters, digits, `_` and `*`.
fn check_pattern(text: &str) -> Result<(), String> {
    if !text.contains('*') {
        return PermName::parse(text).map(|_| ()).map_err(|e| e.to_string());
    }
    let Some((app, code)) = text.split_once('.') else {
        return Err(format!(
            "malformed permission pattern {text:?}: expected \"app_label.codename\" with `*` wildcards (for example \"bookshelf.view_*\")"
        ));
    };
    if app.is_empty() || code.is_empty() || code.contains('.') {
        return Err(format!(
            "malformed permission pattern {text:?}: expected exactly one dot between a non-empty app label and codename"
        ));
    }
    if let Some(c) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '.')))
    {
        return Err(format!(
            "malformed permission pattern {text:?}: it contains {c:?}; use letters, digits, `_` and `*`"
        ));
    }
    Ok(())
}

impl Policy {
    /// Parses a policy. A file that is not valid TOML or not of the policy's shape is an error (with
    /// lines); a file of the right shape is returned with its remaining problems in
    /// [`Policy::problems`], which [`Policy::resolve`] reports together with its own.
    pub fn parse(src: &str) -> Result<Self, Problems> {
        let lines = Lines::new(src);
        let line_of = |_: &str, offset: usize| lines.line(offset);
        let (_, syntax) = toml::de::DeTable::parse_recoverable(src);
        if !syntax.is_empty() {
            let mut problems: Vec<Problem> = syntax
                .iter()
                .map(|e| Problem {
                    line: e.span().map_or(1, |s| line_of(src, s.start)),
                    message: format!("TOML syntax: {}", e.message().trim()),
                })
                .collect();
            problems.sort();
            problems.dedup();
            return Err(Problems(problems));
        }
        let raw: RawFile = toml::from_str(src).map_err(|e| {
            Problems(vec![Problem {
                line: e.span().map_or(1, |s| line_of(src, s.start)),
                message: e.message().trim().to_owned(),
            }])
        })?;
        let mut problems = Vec::new();
        let mut registry = Registry::empty();
        let mut apps = Vec::new();
        for (label, app) in &raw.apps {
            let app_line = line_of(src, label.span().start);
            let label = label.get_ref();
            if let Err(e) = validate_identifier("app label", label) {
                problems.push(Problem {
                    line: app_line,
                    message: e.to_string(),
                });
                continue;
            }
            apps.push(label.clone());
            let app = app.get_ref();
            let verbose = app.verbose_name.clone().unwrap_or_else(|| label.clone());
            if let Err(e) = registry.declare_app(label, &verbose) {
                problems.push(Problem {
                    line: app_line,
                    message: e.to_string(),
                });
            }
            for model in &app.models {
                let line = line_of(src, model.get_ref().name.span().start);
                let raw = model.get_ref();
                let class = raw.name.get_ref();
                if let Err(e) = validate_identifier("model name", class) {
                    problems.push(Problem {
                        line,
                        message: format!("model of app '{label}': {e}"),
                    });
                    continue;
                }
                let mut spec = ModelSpec::new(label.as_str(), class);
                if let Some(v) = &raw.verbose_name {
                    spec = spec.with_verbose_name(v.as_str());
                }
                if let Some(actions) = &raw.default_permissions {
                    spec = spec.with_default_permissions(actions.iter().cloned());
                }
                for p in &raw.permissions {
                    let p = p.get_ref();
                    spec = spec.with_permission(p.codename.as_str(), p.name.as_str());
                }
                // Per-permission lines for the checks that name one permission.
                let perm_line = |codename: &str| {
                    raw.permissions
                        .iter()
                        .filter(|p| p.get_ref().codename == codename)
                        .map(|p| line_of(src, p.span().start))
                        .next_back()
                        .unwrap_or(line)
                };
                if let Err(e) = spec.check() {
                    let at = raw
                        .permissions
                        .iter()
                        .map(|p| p.get_ref())
                        .find(|p| e.to_string().contains(&format!("'{}'", p.codename)))
                        .map_or(line, |p| perm_line(&p.codename));
                    problems.push(Problem {
                        line: at,
                        message: e.to_string(),
                    });
                    continue;
                }
                if let Err(e) = registry.register(spec) {
                    problems.push(Problem {
                        line,
                        message: format!("{e} (declare each model once)"),
                    });
                }
            }
        }
        let mut groups = Vec::new();
        for (name, group) in &raw.groups {
            let line = line_of(src, name.span().start);
            if let Err(e) = validate_group_name(name.get_ref()) {
                problems.push(Problem {
                    line,
                    message: format!("group {:?}: {e}", name.get_ref()),
                });
            }
            let mut permissions = Vec::new();
            for p in &group.get_ref().permissions {
                let pline = line_of(src, p.span().start);
                match check_pattern(p.get_ref()) {
                    Ok(()) => permissions.push(Pattern {
                        text: p.get_ref().clone(),
                        line: pline,
                    }),
                    Err(message) => problems.push(Problem {
                        line: pline,
                        message: format!("group {:?}: {message}", name.get_ref()),
                    }),
                }
            }
            groups.push(GroupPolicy {
                name: name.get_ref().clone(),
                line,
                permissions,
            });
        }
        Ok(Self {
            registry,
            apps,
            groups,
            problems,
        })
    }

    /// The apps and models the file declares (without Django's own, unless the file declares them).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The labels of the apps the file declares, sorted.
    pub fn apps(&self) -> &[String] {
        &self.apps
    }

    /// The groups, sorted by name.
    pub fn groups(&self) -> &[GroupPolicy] {
        &self.groups
    }

    /// The problems found while parsing (each with its line).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Whether `app_label` is one the file declares and may prune (not Django's own apps).
    pub fn owns_app(&self, app_label: &str) -> bool {
        !BUILTIN_APPS.contains(&app_label) && self.apps.iter().any(|a| a == app_label)
    }

    /// Checks every group permission against the permissions the file declares plus `existing`
    /// (`(app_label, codename)` pairs in the database) and expands the wildcards. With `prune`, the
    /// existing permissions of the file's own apps that the file does not declare are not available (sync
    /// would delete them). Returns every problem (the parse ones included), sorted by line.
    pub fn resolve<'a, I>(&self, existing: I, prune: bool) -> Result<Resolved, Problems>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        // Every available `app_label.codename`; one allocation per distinct name.
        let mut universe: HashSet<String, RandomState> = HashSet::default();
        for m in self.registry.models() {
            let app = m.app_label();
            for p in m.permissions() {
                let mut name = String::with_capacity(app.len() + 1 + p.codename.len());
                name.push_str(app);
                name.push('.');
                name.push_str(&p.codename);
                universe.insert(name);
            }
        }
        let mut buf = String::new();
        for (app, codename) in existing {
            if prune && self.owns_app(app) {
                continue;
            }
            buf.clear();
            buf.push_str(app);
            buf.push('.');
            buf.push_str(codename);
            if !universe.contains(buf.as_str()) {
                universe.insert(buf.clone());
            }
        }
        let mut problems = self.problems.clone();
        let mut groups = BTreeMap::new();
        for group in &self.groups {
            let mut names = BTreeSet::new();
            for pattern in &group.permissions {
                if pattern.is_wildcard() {
                    let before = names.len();
                    let mut matched = false;
                    for name in &universe {
                        let (app, code) = name.split_once('.').unwrap_or((name, ""));
                        if pattern.matches(app, code) {
                            matched = true;
                            names.insert(name.clone());
                        }
                    }
                    if !matched && names.len() == before {
                        problems.push(Problem {
                            line: pattern.line,
                            message: format!(
                                "group {:?}: the wildcard {:?} matches no permission; declare the model or fix the pattern",
                                group.name, pattern.text
                            ),
                        });
                    }
                } else {
                    if universe.contains(pattern.text.as_str()) {
                        names.insert(pattern.text.clone());
                    } else {
                        let mut known: Vec<&str> = universe.iter().map(String::as_str).collect();
                        known.sort_unstable();
                        let hint = closest(&pattern.text, known.iter().copied())
                            .map_or_else(
                                || "; declare it in the file (a model's `permissions`) or create it first".to_owned(),
                                |s| format!("; did you mean {s:?}?"),
                            );
                        problems.push(Problem {
                            line: pattern.line,
                            message: format!(
                                "group {:?}: unknown permission {:?}{hint}",
                                group.name, pattern.text
                            ),
                        });
                    }
                }
            }
            groups.insert(group.name.clone(), names);
        }
        if problems.is_empty() {
            Ok(Resolved { groups })
        } else {
            problems.sort();
            problems.dedup();
            Err(Problems(problems))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[apps.bookshelf]
verbose_name = "Bookshelf"

[[apps.bookshelf.models]]
name = "Book"
permissions = [ { codename = "can_publish_book", name = "Can publish book" } ]

[[apps.bookshelf.models]]
name = "BookAuthor"
default_permissions = ["view"]

[groups.Editors]
permissions = ["bookshelf.add_book", "bookshelf.view_*"]

[groups.Everyone]
permissions = ["*.view_*"]
"#;

    #[test]
    fn parses_models_and_groups() {
        let p = Policy::parse(GOOD).unwrap();
        assert!(p.problems().is_empty(), "{:?}", p.problems());
        assert_eq!(p.apps(), ["bookshelf"]);
        let names = p.registry().permission_names();
        assert_eq!(
            names,
            [
                "bookshelf.add_book",
                "bookshelf.can_publish_book",
                "bookshelf.change_book",
                "bookshelf.delete_book",
                "bookshelf.view_book",
                "bookshelf.view_bookauthor"
            ]
        );
        let r = p.resolve([("auth", "view_user")], false).unwrap();
        let editors: Vec<&str> = r.groups["Editors"].iter().map(String::as_str).collect();
        assert_eq!(
            editors,
            [
                "bookshelf.add_book",
                "bookshelf.view_book",
                "bookshelf.view_bookauthor"
            ]
        );
        assert_eq!(r.groups["Everyone"].len(), 3);
        assert!(r.groups["Everyone"].contains("auth.view_user"));
        assert_eq!(p.groups()[0].line, 13);
        assert!(p.owns_app("bookshelf"));
        assert!(!p.owns_app("auth"));
    }

    #[test]
    fn globs() {
        assert!(glob("*", "anything"));
        assert!(glob("view_*", "view_book"));
        assert!(!glob("view_*", "add_book"));
        assert!(glob("*_book", "add_book"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "acb"));
        assert!(glob("exact", "exact"));
        assert!(!glob("ab*ba", "aba"));
    }

    #[test]
    fn line_numbers_count_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
        assert_eq!(line_of("a", 99), 1);
    }

    #[test]
    fn collects_every_problem_with_its_line() {
        let src = r#"[apps.bookshelf]
[[apps.bookshelf.models]]
name = "Book"
permissions = [
  { codename = "add_book", name = "Clash" },
  { codename = "bad code", name = "x" },
]
[apps.9bad]
[groups.Editors]
permissions = [
  "auth.view_usr",
  "bookshelf.nothing_*",
  "nodot",
  "auth.view_user",
]

[groups."  "]
permissions = []
"#;
        let p = Policy::parse(src).unwrap();
        let err = p.resolve([("auth", "view_user")], false).unwrap_err();
        let lines: Vec<usize> = err.0.iter().map(|p| p.line).collect();
        let text = err.render("policy.toml");
        // Book's first check failure (E005 on line 5), bad app label (8), unknown (11), no match (12),
        // malformed (13), blank group name (17).
        assert_eq!(lines, [5, 8, 11, 12, 13, 17], "{text}");
        assert!(text.contains("policy.toml:11:"), "{text}");
        assert!(text.contains("did you mean"), "{text}");
        assert!(text.contains("auth.E005"), "{text}");
    }

    #[test]
    fn syntax_and_shape_errors_have_lines() {
        let err = Policy::parse("[groups.A]\npermissions = [\"x\"\n\n").unwrap_err();
        assert!(err.0.iter().all(|p| p.line >= 2), "{err}");
        let err = Policy::parse("[groups.A]\npermisions = []\n").unwrap_err();
        assert_eq!(err.0[0].line, 2, "{err}");
        assert!(err.0[0].message.contains("permisions"), "{err}");
        let err = Policy::parse("[groups.A]\n[groups.A]\n").unwrap_err();
        assert_eq!(err.0[0].line, 2, "{err}");
    }

    #[test]
    fn prune_hides_undeclared_permissions_of_owned_apps() {
        let p = Policy::parse(
            "[apps.shop]\n[[apps.shop.models]]\nname = \"Item\"\n[groups.G]\npermissions = [\"shop.old_perm\"]\n",
        )
        .unwrap();
        assert!(p.resolve([("shop", "old_perm")], false).is_ok());
        let err = p.resolve([("shop", "old_perm")], true).unwrap_err();
        assert_eq!(err.0[0].line, 5);
    }
}
