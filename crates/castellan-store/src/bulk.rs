//! Reads and writes of many rows at once, for `sync` and import/export: whole tables read in one
//! row on SQLite, multi-row inserts and `IN (…)` deletes in chunks.
//!
//! sqlx hands SQLite rows from its worker thread one at a time (1–2 µs each, more than SQLite takes
//! to produce them), so on SQLite a table comes back as **one** row holding a JSON array of arrays
//! (`json_group_array`), parsed here; the other databases return plain rows.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::sql::{Arg, Dialect, Row, Sql, SqlText, Tx};

/// A read whose SQLite text is the JSON form of the others' (see the module docs): columns
/// `$cols`, then `$rest` (`FROM …`), without placeholders.
macro_rules! tuples_sql {
    // `$named`: the same columns with `AS` names, for the rows read by name (a renamed column,
    // such as a custom user model's `user_id`, keeps the name the reader asks for).
    ($cols:literal, $named:literal, $rest:literal) => {
        $crate::sql::Sql::per_dialect(
            concat!(
                "SELECT json_group_array(json_array(",
                $cols,
                ")) AS j ",
                $rest
            ),
            concat!("SELECT ", $named, " ", $rest),
            concat!("SELECT ", $named, " ", $rest),
        )
    };
    ($cols:literal, $rest:literal) => {
        $crate::sql::Sql::per_dialect(
            concat!(
                "SELECT json_group_array(json_array(",
                $cols,
                ")) AS j ",
                $rest
            ),
            concat!("SELECT ", $cols, " ", $rest),
            concat!("SELECT ", $cols, " ", $rest),
        )
    };
}
pub(crate) use tuples_sql;

/// Every row of a [`tuples_sql!`] statement as `T`: parsed from SQLite's JSON row, else decoded by
/// `row`.
pub(crate) async fn tuples<T: DeserializeOwned>(
    tx: &mut Tx,
    sql: &Sql,
    args: &[Arg<'_>],
    row: impl Fn(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = tx.fetch_all(sql, args).await?;
    if tx.dialect() != Dialect::Sqlite {
        return rows.iter().map(row).collect();
    }
    let text = match rows.first() {
        Some(r) => r.opt_text("j")?,
        None => None,
    };
    serde_json::from_str(text.as_deref().unwrap_or("[]")).map_err(|e| {
        Error::Schema(format!(
            "SQLite returned rows that are not a JSON array: {e}"
        ))
    })
}

/// `INSERT INTO <head> VALUES (…), (…)` in chunks of `chunk_rows` rows: `args` holds `columns`
/// arguments per row, row after row. Every full chunk has the same text, kept prepared and reused;
/// only a shorter last chunk is prepared for one use.
pub(crate) async fn insert_rows(
    tx: &mut Tx,
    head: &str,
    columns: usize,
    chunk_rows: usize,
    args: &[Arg<'_>],
) -> Result<()> {
    let dialect = tx.dialect();
    let text = |rows: usize| {
        let mut sql = SqlText::new(dialect);
        sql.push(head).push(" VALUES ");
        for i in 0..rows {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(").params(columns).push(")");
        }
        if rows < chunk_rows {
            sql.once();
        }
        sql
    };
    let mut full: Option<SqlText> = None;
    for chunk in args.chunks(chunk_rows * columns) {
        let rows = chunk.len() / columns;
        if rows == chunk_rows {
            let sql = full.get_or_insert_with(|| text(chunk_rows)).clone();
            tx.execute(&sql, chunk).await?;
        } else {
            tx.execute(&text(rows), chunk).await?;
        }
    }
    Ok(())
}

/// `DELETE FROM <table> WHERE [<eq column> = <eq value> AND] <column> IN (…)`, 1000 ids at a time.
pub(crate) async fn delete_in(
    tx: &mut Tx,
    table: &str,
    eq: Option<(&str, i64)>,
    column: &str,
    ids: &[i64],
) -> Result<()> {
    for chunk in ids.chunks(1000) {
        let mut sql = SqlText::new(tx.dialect());
        sql.push("DELETE FROM ").push(table).push(" WHERE ");
        let mut args: Vec<Arg<'_>> = Vec::with_capacity(chunk.len() + 1);
        if let Some((eq_column, value)) = eq {
            sql.push(eq_column).push(" = ").param().push(" AND ");
            args.push(value.into());
        }
        sql.push(column)
            .push(" IN (")
            .params(chunk.len())
            .push(")")
            .once();
        args.extend(chunk.iter().map(|&id| Arg::from(id)));
        tx.execute(&sql, &args).await?;
    }
    Ok(())
}
