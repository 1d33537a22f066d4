//! `castellan matrix`: the role × permission table, as Markdown, CSV, JSON or a standalone HTML page.
//!
//! The store assembles the data ([`castellan_store::Matrix`]); this module only renders it. Rendering
//! is presentation for this command, so it lives here rather than in the core; the HTML page is the
//! admin's matrix template (`castellan_admin::matrix_document`), the same table as the admin's page.

use std::fmt::Write as _;

use castellan_store::{Error, Matrix, RowKind, Store};
use serde_json::json;

use crate::args::{Matrix as MatrixArgs, MatrixFormat};
use crate::Outcome;

pub(crate) async fn run(store: &Store, args: MatrixArgs) -> Result<Outcome, Error> {
    let users: Vec<String> = args
        .users
        .iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    let matrix = store.matrix(&users, args.app.as_deref()).await?;
    let text = match args.format {
        MatrixFormat::Markdown => markdown(&matrix),
        MatrixFormat::Csv => csv(&matrix),
        MatrixFormat::Json => {
            let v = to_json(&matrix);
            serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()) + "\n"
        }
        MatrixFormat::Html => castellan_admin::matrix_document(&matrix)
            .map_err(|e| Error::Task(format!("the HTML matrix failed to render: {e:#}")))?,
    };
    print!("{text}");
    Ok(Outcome::Success)
}

const YES: &str = "✓";
const NO: &str = "✗";

/// Markdown: one table per app label and model, headed `### app_label.model`, with the codenames as
/// columns (a single table over every permission is too wide to read).
pub(crate) fn markdown(m: &Matrix) -> String {
    let mut out = String::from("# Permission matrix\n\n");
    if m.columns.is_empty() {
        out.push_str("No permissions.\n");
        return out;
    }
    for ((app, model), start, len) in m.column_runs(|c| (&c.app_label, &c.model)) {
        let cols = &m.columns[start..start + len];
        let _ = writeln!(out, "### {}.{}\n", md_cell(app), md_cell(model));
        out.push_str("| Role |");
        for c in cols {
            let _ = write!(out, " {} |", md_cell(&c.codename));
        }
        out.push_str("\n|---|");
        for _ in cols {
            out.push_str(":---:|");
        }
        out.push('\n');
        for row in &m.rows {
            let name = match row.kind {
                RowKind::User => format!("{} (user)", row.name),
                _ => row.name.clone(),
            };
            let _ = write!(out, "| {} |", md_cell(&name));
            for g in &row.granted[start..start + len] {
                let _ = write!(out, " {} |", if *g { YES } else { NO });
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// Escapes a table cell: `|` and the characters that would start HTML or an entity (CommonMark
/// backslash escapes), line breaks become spaces.
fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '|' | '<' | '>' | '&' | '*' | '`' | '[' | ']' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// CSV (RFC 4180): `kind,role,<app_label.codename>…`, cells `1` (granted) or `0`.
pub(crate) fn csv(m: &Matrix) -> String {
    let mut out = String::from("kind,role");
    for c in &m.columns {
        out.push(',');
        out.push_str(&csv_field(&c.permission));
    }
    out.push_str("\r\n");
    for row in &m.rows {
        out.push_str(row.kind.as_str());
        out.push(',');
        out.push_str(&csv_field(&row.name));
        for g in &row.granted {
            out.push_str(if *g { ",1" } else { ",0" });
        }
        out.push_str("\r\n");
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// JSON: `{"columns":[{permission, app_label, model, codename, name}], "rows":[{kind, name,
/// granted:[permission…]}]}` — each row lists the permissions it holds, sorted.
pub(crate) fn to_json(m: &Matrix) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = m
        .rows
        .iter()
        .map(|r| {
            let mut granted: Vec<&str> = m
                .columns
                .iter()
                .zip(&r.granted)
                .filter(|(_, g)| **g)
                .map(|(c, _)| c.permission.as_str())
                .collect();
            granted.sort_unstable();
            granted.dedup();
            json!({ "kind": r.kind.as_str(), "name": r.name, "granted": granted })
        })
        .collect();
    json!({ "columns": m.columns, "rows": rows })
}

#[cfg(test)]
mod tests {
    use castellan_store::{MatrixColumn, MatrixRow};

    use super::*;

    fn sample(group: &str) -> Matrix {
        Matrix {
            columns: vec![MatrixColumn {
                permission: "app.add_x".into(),
                app_label: "app".into(),
                model: "x".into(),
                codename: "add_x".into(),
                name: "Can add <x>".into(),
            }],
            rows: vec![MatrixRow {
                kind: RowKind::Group,
                name: group.into(),
                granted: vec![true],
            }],
        }
    }

    #[test]
    fn csv_and_markdown_quote_what_they_must() {
        assert!(csv(&sample("a,\"b\"")).contains("group,\"a,\"\"b\"\"\",1\r\n"));
        assert!(markdown(&sample("a|b")).contains("| a\\|b | ✓ |"));
    }
}
