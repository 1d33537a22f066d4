//! [`SqlList`]: the list page of a [`ModelAdmin`](crate::ModelAdmin) whose objects live in SQL
//! tables of the same database (through [`castellan_store::sql`](mod@castellan_store::sql)): a count and a page of rows,
//! searched case-insensitively on the given columns, filtered and ordered by the fields the list
//! offers, with `limit + 1` rows read to know whether a next page follows.

use castellan_store::sql::{Arg, Db, Row, SqlText};

use crate::model_admin::{ListPage, ListQuery, ModelError, Object};

/// How a model's list is read. `count` and `select` are statements without a `WHERE` clause (the
/// search adds one) and without placeholders.
///
/// ```no_run
/// # use castellan_admin::{ListQuery, ListPage, ModelError, Object, SqlList};
/// # async fn list(db: &castellan_store::sql::Db, query: &ListQuery) -> Result<ListPage, ModelError> {
/// SqlList {
///     count: "SELECT COUNT(*) AS n FROM shop_item",
///     select: "SELECT id, name FROM shop_item",
///     search: &["name"],
///     order: "name, id",
///     columns: &[("name", "name"), ("in_stock", "in_stock")],
/// }
/// .page(db, query, |row| {
///     Ok(Object {
///         id: row.int("id")?.to_string(),
///         label: row.text("name")?,
///         values: Default::default(),
///     })
/// })
/// .await
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SqlList<'a> {
    /// Counts the objects: must select one column `n`.
    pub count: &'a str,
    /// Selects the objects' rows.
    pub select: &'a str,
    /// The columns a search matches (`lower(column) LIKE '%text%'`, any of them).
    pub search: &'a [&'a str],
    /// The `ORDER BY` list (end it with a unique column for stable pages); a chosen order
    /// comes first.
    pub order: &'a str,
    /// The fields the list may be ordered and filtered by, with their SQL column:
    /// `(field, column)` ([`ModelAdmin::sortable_fields`](crate::ModelAdmin::sortable_fields) and
    /// [`ModelAdmin::list_filters`](crate::ModelAdmin::list_filters) name fields). A filter value
    /// is compared as text, except `true`/`false` (booleans) and whole numbers.
    pub columns: &'a [(&'a str, &'a str)],
}

impl SqlList<'_> {
    /// The page `query` asks for; `object` makes each row an admin object. A database failure is
    /// [`ModelError::Failed`].
    pub async fn page(
        &self,
        db: &Db,
        query: &ListQuery,
        object: impl Fn(&Row) -> castellan_store::Result<Object>,
    ) -> Result<ListPage, ModelError> {
        let search = query.search.as_deref();
        let pattern = search.map(like_pattern).unwrap_or_default();
        let filters: Vec<(&str, &str)> = query
            .filters
            .iter()
            .map(|(f, v)| {
                self.column(f).map(|c| (c, v.as_str())).ok_or_else(|| {
                    ModelError::Invalid(vec![format!("The list cannot be filtered by {f:?}.")])
                })
            })
            .collect::<Result<_, _>>()?;
        let order = match &query.order {
            None => self.order.to_owned(),
            Some((f, descending)) => {
                let column = self.column(f).ok_or_else(|| {
                    ModelError::Invalid(vec![format!("The list cannot be ordered by {f:?}.")])
                })?;
                let dir = if *descending { "DESC" } else { "ASC" };
                format!("{column} {dir}, {}", self.order)
            }
        };
        let d = db.dialect();
        let mut count = SqlText::new(d);
        count.push(self.count);
        self.push_where(&mut count, search, &filters);
        let mut rows = SqlText::new(d);
        rows.push(self.select);
        self.push_where(&mut rows, search, &filters);
        rows.push(&format!(" ORDER BY {order} LIMIT "))
            .param()
            .push(" OFFSET ")
            .param();
        let mut args: Vec<Arg<'_>> = Vec::new();
        if search.is_some() {
            args.extend(self.search.iter().map(|_| Arg::from(pattern.as_str())));
        }
        for (_, value) in &filters {
            args.push(match *value {
                "true" => Arg::from(true),
                "false" => Arg::from(false),
                v => v.parse::<i64>().map_or_else(|_| Arg::from(v), Arg::from),
            });
        }
        let total = db
            .fetch_one(&count, &args)
            .await
            .and_then(|r| r.int("n"))
            .map_err(failed)?;
        let (limit, offset) = limits(query);
        args.extend([Arg::from(limit), Arg::from(offset)]);
        let objects = db
            .fetch_all(&rows, &args)
            .await
            .map_err(failed)?
            .iter()
            .map(object)
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed)?;
        Ok(page_of(objects, query, total))
    }

    /// The SQL column of list field `field`, if the list offers it.
    fn column(&self, field: &str) -> Option<&str> {
        self.columns
            .iter()
            .find_map(|(f, c)| (*f == field).then_some(*c))
    }

    /// Appends ` WHERE (lower(a) LIKE <p> ESCAPE '!' OR …) AND col = <v> …`, nothing without a
    /// search or filters.
    fn push_where(&self, sql: &mut SqlText, search: Option<&str>, filters: &[(&str, &str)]) {
        let mut first = true;
        let mut next = |sql: &mut SqlText| {
            sql.push(if first { " WHERE " } else { " AND " });
            first = false;
        };
        if search.is_some() && !self.search.is_empty() {
            next(sql);
            for (i, column) in self.search.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { " OR " })
                    .push(&format!("lower({column}) LIKE "))
                    .param()
                    .push(" ESCAPE '!'");
            }
            sql.push(")");
        }
        for (column, _) in filters {
            next(sql);
            sql.push(&format!("{column} = ")).param();
        }
    }
}

fn failed(e: castellan_store::Error) -> ModelError {
    ModelError::Failed(Box::new(e))
}

/// A search text as a `LIKE` pattern (`%text%`, lower-case, with `!` escaping `%`, `_` and `!`).
fn like_pattern(search: &str) -> String {
    let mut p = String::from("%");
    for c in search.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// `LIMIT`/`OFFSET` values as SQL integers (a page past `i64::MAX` is simply empty), one row more
/// than the page: it tells whether another page follows.
fn limits(query: &ListQuery) -> (i64, i64) {
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX - 1);
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    (limit.saturating_add(1), offset)
}

/// Cuts the extra row off a fetched page.
fn page_of(mut objects: Vec<Object>, query: &ListQuery, total: i64) -> ListPage {
    let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
    let more = objects.len() > limit;
    objects.truncate(limit);
    ListPage {
        objects,
        more,
        total: u64::try_from(total).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_a_literal_pattern() {
        assert_eq!(like_pattern("50%_Off!"), "%50!%!_off!!%");
    }

    #[test]
    fn one_row_more_than_the_page_is_read() {
        let q = ListQuery::new(40, 20);
        assert_eq!(limits(&q), (21, 40));
        let objects: Vec<Object> = (0..21)
            .map(|i| Object {
                id: i.to_string(),
                label: "x".into(),
                values: Default::default(),
            })
            .collect();
        let page = page_of(objects, &q, 61);
        assert!(page.more);
        assert_eq!((page.objects.len(), page.total), (20, Some(61)));
    }
}
