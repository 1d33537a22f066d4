//! `castellan matrix`: the role × permission table, as Markdown, CSV, JSON or a standalone HTML page.
//!
//! The store assembles the data ([`castellan_store::Matrix`]); this module only renders it. Rendering
//! is presentation for this command (the admin UI has its own templates), so it lives here rather than
//! in the core.

use std::fmt::Write as _;

use castellan_axum::escape;
use castellan_store::{Error, Matrix, MatrixColumn, RowKind, Store};
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
        MatrixFormat::Html => html(&matrix),
    };
    print!("{text}");
    Ok(Outcome::Success)
}

const YES: &str = "✓";
const NO: &str = "✗";

fn kind_label(kind: RowKind) -> &'static str {
    match kind {
        RowKind::Anonymous => "anonymous",
        RowKind::Group => "group",
        RowKind::Superuser => "superuser",
        RowKind::User => "user",
    }
}

/// Consecutive runs of columns sharing a key: (key, first index, length).
fn runs<'a>(
    columns: &'a [MatrixColumn],
    key: impl Fn(&'a MatrixColumn) -> (&'a str, &'a str),
) -> Vec<((&'a str, &'a str), usize, usize)> {
    let mut out: Vec<((&str, &str), usize, usize)> = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let k = key(c);
        match out.last_mut() {
            Some((last, _, len)) if *last == k => *len += 1,
            _ => out.push((k, i, 1)),
        }
    }
    out
}

/// Markdown: one table per app label and model, headed `### app_label.model`, with the codenames as
/// columns (a single table over every permission is too wide to read).
pub(crate) fn markdown(m: &Matrix) -> String {
    let mut out = String::from("# Permission matrix\n\n");
    if m.columns.is_empty() {
        out.push_str("No permissions.\n");
        return out;
    }
    for ((app, model), start, len) in runs(&m.columns, |c| (&c.app_label, &c.model)) {
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
        out.push_str(kind_label(row.kind));
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
            json!({ "kind": kind_label(r.kind), "name": r.name, "granted": granted })
        })
        .collect();
    json!({ "columns": m.columns, "rows": rows })
}

const CSS: &str = r#"
:root { --y: #1a7f37; --y-bg: #dafbe1; --n: #9a6767; --n-bg: #fbf3f3; --line: #d0d7de; --head: #f6f8fa; }
* { box-sizing: border-box; }
html, body { height: 100%; }
body { margin: 0; display: flex; flex-direction: column; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #fff; }
header { padding: 12px 20px; border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: center; }
h1 { font-size: 18px; margin: 0; }
.meta { color: #59636e; }
input[type=search] { font: inherit; padding: 5px 10px; width: 280px; border: 1px solid var(--line); border-radius: 6px; }
.legend { display: flex; gap: 14px; align-items: center; color: #59636e; }
.legend span.c { display: inline-block; width: 22px; text-align: center; border-radius: 4px; }
.wrap { overflow: auto; flex: 1; min-height: 0; }
table { border-collapse: separate; border-spacing: 0; }
th, td { border-right: 1px solid var(--line); border-bottom: 1px solid var(--line); padding: 0; }
thead th { position: sticky; background: var(--head); z-index: 2; font-weight: 600; }
thead tr.apps th { top: 0; height: 28px; padding: 4px 8px; text-align: left; }
thead tr.models th { top: 28px; height: 26px; padding: 3px 8px; text-align: left; font-weight: 500; color: #3d444d; }
thead tr.perms th { top: 54px; height: 160px; vertical-align: bottom; font-weight: 400; }
thead tr.perms th div { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; padding: 6px 4px; margin: 0 auto; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; max-height: 158px; overflow: hidden; text-overflow: ellipsis; }
th.corner { left: 0; top: 0; z-index: 4; text-align: left; vertical-align: bottom; padding: 8px 12px; min-width: 200px; }
tbody th { position: sticky; left: 0; background: #fff; z-index: 1; text-align: left; font-weight: 500; padding: 4px 12px; white-space: nowrap; }
tbody th .kind { display: inline-block; min-width: 88px; font-size: 11px; color: #59636e; text-transform: uppercase; letter-spacing: .04em; }
tbody tr:hover th, tbody tr:hover td { filter: brightness(.95); }
td { text-align: center; min-width: 30px; height: 28px; font-weight: 700; }
td.y { color: var(--y); background: var(--y-bg); }
td.n { color: var(--n); background: var(--n-bg); font-weight: 400; }
tr.special th { font-style: italic; }
.hidden { display: none; }
#empty { padding: 16px 20px; color: #59636e; }
"#;

const JS: &str = r#"
(function () {
  var box = document.getElementById('filter');
  var cols = Array.prototype.slice.call(document.querySelectorAll('tr.perms th'));
  var rows = Array.prototype.slice.call(document.querySelectorAll('tbody tr'));
  var groups = Array.prototype.slice.call(document.querySelectorAll('thead th[data-span]'));
  function apply() {
    var q = box.value.trim().toLowerCase();
    var colHit = cols.map(function (c) { return !q || c.dataset.f.indexOf(q) >= 0; });
    var rowHit = rows.map(function (r) { return !q || r.dataset.f.indexOf(q) >= 0; });
    var anyCol = colHit.some(Boolean), anyRow = rowHit.some(Boolean);
    var showCol = colHit.map(function (h) { return anyCol ? h : anyRow; });
    var showRow = rowHit.map(function (h) { return anyRow ? h : anyCol; });
    cols.forEach(function (c, i) { c.classList.toggle('hidden', !showCol[i]); });
    rows.forEach(function (r, j) {
      r.classList.toggle('hidden', !showRow[j]);
      Array.prototype.forEach.call(r.querySelectorAll('td'), function (td, i) { td.classList.toggle('hidden', !showCol[i]); });
    });
    groups.forEach(function (g) {
      var a = +g.dataset.start, n = 0;
      for (var i = a; i < a + +g.dataset.span; i++) { if (showCol[i]) n++; }
      g.colSpan = Math.max(n, 1); g.classList.toggle('hidden', n === 0);
    });
    document.getElementById('empty').classList.toggle('hidden', anyCol || anyRow);
  }
  box.addEventListener('input', apply);
  apply(); // a value the browser restored
})();
"#;

/// A standalone page: sticky role column and permission headers (app, model, codename), a filter
/// box, coloured ✓/✗ cells and a legend. Every database text is escaped.
pub(crate) fn html(m: &Matrix) -> String {
    let groups = m.rows.iter().filter(|r| r.kind == RowKind::Group).count();
    let mut out = String::with_capacity(4096 + m.rows.len() * m.columns.len() * 24);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>Permission matrix</title>\n<style>");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n<header>\n<h1>Permission matrix</h1>\n");
    let _ = writeln!(
        out,
        "<span class=\"meta\">{} permissions · {} groups</span>",
        m.columns.len(),
        groups
    );
    out.push_str("<input id=\"filter\" type=\"search\" placeholder=\"Filter roles and permissions…\" aria-label=\"Filter roles and permissions\" autofocus>\n");
    let _ = writeln!(
        out,
        "<span class=\"legend\"><span><span class=\"c\" style=\"background:var(--y-bg);color:var(--y)\">{YES}</span> granted</span>\
         <span><span class=\"c\" style=\"background:var(--n-bg);color:var(--n)\">{NO}</span> not granted</span>\
         <span>Anonymous: the model backend grants nothing · Superuser: every permission while active · users: effective permissions</span></span>"
    );
    out.push_str("</header>\n<div class=\"wrap\">\n<table>\n<thead>\n<tr class=\"apps\">");
    out.push_str("<th class=\"corner\" rowspan=\"3\">Role</th>");
    for ((app, _), start, len) in runs(&m.columns, |c| (&c.app_label, "")) {
        let _ = write!(
            out,
            "<th colspan=\"{len}\" data-start=\"{start}\" data-span=\"{len}\">{}</th>",
            escape(app)
        );
    }
    out.push_str("</tr>\n<tr class=\"models\">");
    for ((_, model), start, len) in runs(&m.columns, |c| (&c.app_label, &c.model)) {
        let _ = write!(
            out,
            "<th colspan=\"{len}\" data-start=\"{start}\" data-span=\"{len}\">{}</th>",
            escape(model)
        );
    }
    out.push_str("</tr>\n<tr class=\"perms\">");
    for c in &m.columns {
        let f = format!("{} {} {} {}", c.permission, c.model, c.name, c.codename).to_lowercase();
        let _ = write!(
            out,
            "<th data-f=\"{}\" title=\"{} — {}\"><div>{}</div></th>",
            escape(&f),
            escape(&c.permission),
            escape(&c.name),
            escape(&c.codename)
        );
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for row in &m.rows {
        let kind = kind_label(row.kind);
        let special = matches!(row.kind, RowKind::Anonymous | RowKind::Superuser);
        let _ = write!(
            out,
            "<tr data-f=\"{}\"{}><th><span class=\"kind\">{kind}</span>{}</th>",
            escape(&format!("{} {kind}", row.name).to_lowercase()),
            if special { " class=\"special\"" } else { "" },
            escape(&row.name)
        );
        for (c, g) in m.columns.iter().zip(&row.granted) {
            let _ = write!(
                out,
                "<td class=\"{}\" title=\"{} · {}\">{}</td>",
                if *g { "y" } else { "n" },
                escape(&row.name),
                escape(&c.permission),
                if *g { YES } else { NO }
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n<p id=\"empty\" class=\"hidden\">Nothing matches the filter.</p>\n</div>\n<script>");
    out.push_str(JS);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use castellan_store::MatrixRow;

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
    fn html_escapes_every_database_text() {
        let page = html(&sample("<script>&\"'"));
        assert!(!page.contains("<script>&"));
        assert!(page.contains("&lt;script&gt;&amp;&quot;&#x27;"));
        assert!(page.contains("Can add &lt;x&gt;"));
        assert_eq!(
            page.matches("<script>").count(),
            1,
            "only the page's own script"
        );
    }

    #[test]
    fn csv_and_markdown_quote_what_they_must() {
        assert!(csv(&sample("a,\"b\"")).contains("group,\"a,\"\"b\"\"\",1\r\n"));
        assert!(markdown(&sample("a|b")).contains("| a\\|b | ✓ |"));
    }
}
