//! The permission matrix as templates see it (`castellan/admin/matrix_table.html`), shared by the
//! admin's matrix page and `castellan matrix --format html`
//! ([`matrix_document`], a standalone page).

use castellan_store::{Matrix, RowKind};
use minijinja::{context, Value};

use crate::render::Renderer;

/// The template name of the standalone matrix page.
const DOCUMENT: &str = "matrix_document.html";

/// Header cells (`name`, `start`, `span`) for runs of columns sharing a key, named by `name`.
fn header_cells<K>(runs: Vec<(K, usize, usize)>, name: impl Fn(K) -> String) -> Vec<Value> {
    runs.into_iter()
        .map(|(key, start, span)| context! { name => name(key), start, span })
        .collect()
}

/// The `matrix` variable: `apps` and `models` (header cells with `name`, `start`, `span`),
/// `columns` (`permission`, `app`, `model`, `codename`, `name`, `filter`), `rows` (`kind`,
/// `name`, `special`, `filter`, `cells` with `permission` and `granted`) and `groups` (how many
/// rows are groups).
pub(crate) fn matrix_value(m: &Matrix) -> Value {
    let columns: Vec<Value> = m
        .columns
        .iter()
        .map(|c| {
            let filter = format!("{} {} {} {}", c.permission, c.model, c.name, c.codename).to_lowercase();
            context! { permission => &c.permission, app => &c.app_label, model => &c.model, codename => &c.codename, name => &c.name, filter }
        })
        .collect();
    let rows: Vec<Value> = m
        .rows
        .iter()
        .map(|r| {
            let kind = r.kind.as_str();
            let cells: Vec<Value> = m
                .columns
                .iter()
                .zip(&r.granted)
                .map(|(c, g)| context! { permission => &c.permission, granted => *g })
                .collect();
            context! {
                kind,
                name => &r.name,
                special => matches!(r.kind, RowKind::Anonymous | RowKind::Superuser),
                filter => format!("{} {kind}", r.name).to_lowercase(),
                cells,
            }
        })
        .collect();
    context! {
        apps => header_cells(m.column_runs(|c| &c.app_label), String::clone),
        models => header_cells(m.column_runs(|c| (&c.app_label, &c.model)), |(_, model)| model.clone()),
        columns,
        rows,
        groups => m.rows.iter().filter(|r| r.kind == RowKind::Group).count(),
    }
}

/// The matrix as a standalone HTML page (`castellan/admin/matrix_document.html`): sticky role
/// column and permission headers (app, model, codename), a filter box, coloured ✓/✗ cells and a
/// legend; every database text is escaped. `castellan matrix --format html` prints it; the admin's
/// matrix page shows the same table.
pub fn matrix_document(m: &Matrix) -> Result<String, minijinja::Error> {
    Renderer::defaults().render_raw(DOCUMENT, context! { matrix => matrix_value(m) })
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
    fn the_document_escapes_every_database_text() {
        let page = matrix_document(&sample("<script>&\"'")).unwrap();
        assert!(!page.contains("<script>&"));
        assert!(page.contains("&lt;script&gt;&amp;&quot;&#x27;"), "{page}");
        assert!(page.contains("Can add &lt;x&gt;"));
        assert_eq!(
            page.matches("<script>").count(),
            1,
            "only the page's own script"
        );
        assert!(page.contains("1 permissions · 1 groups"));
        assert!(page.contains("<td class=\"y\""));
    }
}
