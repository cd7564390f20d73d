//! Browsing an entity's rows: a search, a rule (the rule builder's) and a sort become one
//! SELECT paged by keyset — each page starts after the last row of the one before, by its sort
//! value and key, so page 5,000 costs what page 1 does — and the count and export of the same
//! rows. Building the SQL is pure; the store runs it.

use sea_query::{Alias, Expr, ExprTrait, Func, Order, Query, SelectStatement, SqliteQueryBuilder};

use super::expr::{Builder, col};
use super::fold::{SEARCH_FUNCTION, fold};
use super::{Dialect, RuleError, SqlStatement, unfit};
use crate::model::browse::{BrowseQuery, Cursor, PageStart};
use crate::model::{ColumnType, DataModel, Entity, Operand};

/// The table alias of the browsed entity.
const T: &str = "t";

/// The SQL of a browse: the page after a cursor, the count, every row (for export).
pub struct BrowseSql<'m> {
    pub entity: &'m Entity,
    /// The column a page's cursor is read from (`None`: the key alone).
    pub sort_column: Option<&'m str>,
    select: SelectStatement,
    condition: Expr,
    sort: Option<(&'m str, bool)>,
}

impl<'m> BrowseSql<'m> {
    /// Checks `query` against `model` (an unknown entity or column, a rule that does not fit
    /// its columns) and builds its SQL. `now` is the moment "in the last 7 days" counts from.
    pub fn new(model: &'m DataModel, query: &BrowseQuery, now: jiff::Timestamp) -> Result<Self, RuleError> {
        let b = Builder::new(model, now, Dialect::Sqlite, jiff::tz::TimeZone::UTC);
        let entity = b.entity(&query.entity)?;
        let mut condition = b.rule(&query.filter, entity, T)?;
        if let Some(search) = search(entity, &query.search, &query.search_by_prefix) {
            condition = condition.and(search);
        }
        let sort = match &query.sort {
            Some(s) if s.column != entity.primary_key => {
                let c = entity
                    .column(&s.column)
                    .ok_or_else(|| unfit!("{} has no column \u{201c}{}\u{201d} to sort by", entity.label, s.column))?;
                Some((c.name.as_str(), s.descending))
            }
            _ => None,
        };
        let key_descending = matches!(&query.sort, Some(s) if s.column == entity.primary_key && s.descending);
        let mut select = Query::select();
        select.from_as(Alias::new(&entity.name), Alias::new(T));
        for c in &entity.columns {
            select.expr_as(col(T, &c.name), Alias::new(&c.name));
        }
        if let Some((column, descending)) = sort {
            select.order_by_expr(col(T, column), if descending { Order::Desc } else { Order::Asc });
        }
        select.order_by_expr(col(T, &entity.primary_key), if key_descending { Order::Desc } else { Order::Asc });
        let sort = sort.or(key_descending.then_some((entity.primary_key.as_str(), true)));
        Ok(Self { entity, sort_column: sort.map(|(c, _)| c), select, condition, sort })
    }

    /// At most `limit` rows from `start`, every column of the entity in its order.
    pub fn page(&self, start: &PageStart, limit: u64) -> SqlStatement {
        let mut q = self.select.clone();
        q.and_where(self.condition.clone());
        match start {
            PageStart::After(c) => {
                q.and_where(self.after(c));
            }
            PageStart::Offset(n) => {
                q.offset(*n);
            }
        }
        q.limit(limit);
        statement(&q)
    }

    /// Every matching row, in order (for export).
    pub fn all(&self) -> SqlStatement {
        let mut q = self.select.clone();
        q.and_where(self.condition.clone());
        statement(&q)
    }

    /// The keys among `keys` of the rows that match (an action-triggered campaign's audience
    /// filter, checked when its sends are due).
    pub fn keys_among(&self, keys: &[i64]) -> SqlStatement {
        let mut q = Query::select();
        q.expr(col(T, &self.entity.primary_key)).from_as(Alias::new(&self.entity.name), Alias::new(T));
        q.and_where(col(T, &self.entity.primary_key).is_in(keys.iter().copied()));
        q.and_where(self.condition.clone());
        statement(&q)
    }

    /// How many rows match.
    pub fn count(&self) -> SqlStatement {
        let mut q = Query::select();
        q.expr(Expr::cust("COUNT(*)")).from_as(Alias::new(&self.entity.name), Alias::new(T));
        q.and_where(self.condition.clone());
        statement(&q)
    }

    /// The rows after `c` in this order. SQLite sorts rows with no value first, and last
    /// when descending; ties go by key, ascending.
    fn after(&self, c: &Cursor) -> Expr {
        let key = || col(T, &self.entity.primary_key);
        let Some((column, descending)) = self.sort else { return key().gt(c.key) };
        if column == self.entity.primary_key {
            return key().lt(c.key);
        }
        let s = || col(T, column);
        let tie = |v: Expr| s().eq(v).and(key().gt(c.key));
        match (value(&c.value), descending) {
            (None, false) => s().is_null().and(key().gt(c.key)).or(s().is_not_null()),
            (None, true) => s().is_null().and(key().gt(c.key)),
            (Some(v), false) => s().gt(v.clone()).or(tie(v)),
            (Some(v), true) => s().lt(v.clone()).or(tie(v)).or(s().is_null()),
        }
    }
}

/// What a search stands for: a text column containing the words (folded as the rules' "contains"
/// folds them), or the key equal to the number typed. One function call per row.
/// With `by_prefix` columns, one of them starting with the words instead: a range of their
/// `COLLATE NOCASE` index.
fn search(entity: &Entity, search: &str, by_prefix: &[String]) -> Option<Expr> {
    let words = search.trim();
    if words.is_empty() {
        return None;
    }
    let prefixed =
        by_prefix.iter().filter_map(|name| entity.column(name)).filter(|c| c.column_type == ColumnType::Text);
    // The keys of the rows whose column starts with the words, one index range per column
    // (every text starting with them sorts from them to them followed by the last character
    // there is); the rows are then read by key, in key order.
    let starts = prefixed
        .map(|c| {
            let column = || Expr::col(Alias::new(&c.name));
            let range = Expr::cust_with_exprs(
                "(? >= ? COLLATE NOCASE AND ? < ? COLLATE NOCASE)",
                [column(), Expr::val(words), column(), Expr::val(format!("{words}\u{10FFFF}"))],
            );
            Query::select()
                .column(Alias::new(&entity.primary_key))
                .from(Alias::new(&entity.name))
                .and_where(range)
                .to_owned()
        })
        .reduce(|mut all, one| {
            all.union(sea_query::UnionType::Distinct, one);
            all
        })
        .map(|keys| col(T, &entity.primary_key).in_subquery(keys));
    let mut found: Expr = match starts {
        Some(starts) => starts,
        None => {
            let mut args = vec![Expr::val(fold(words))];
            args.extend(entity.columns.iter().filter(|c| c.column_type == ColumnType::Text).map(|c| col(T, &c.name)));
            Func::cust(Alias::new(SEARCH_FUNCTION)).args(args).into()
        }
    };
    if let Ok(key) = words.parse::<i64>() {
        found = found.or(col(T, &entity.primary_key).eq(key));
    }
    Some(found)
}

fn value(v: &Operand) -> Option<Expr> {
    match v {
        Operand::Int(i) => Some(Expr::val(*i)),
        Operand::Real(x) => Some(Expr::val(*x)),
        Operand::Text(s) => Some(Expr::val(s.clone())),
        Operand::Bool(b) => Some(Expr::val(i64::from(*b))),
        _ => None,
    }
}

fn statement(q: &SelectStatement) -> SqlStatement {
    let (sql, values) = q.build(SqliteQueryBuilder);
    SqlStatement { sql, values: values.0, display: q.to_string(SqliteQueryBuilder) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, DataModel};

    #[test]
    fn a_search_by_prefix_is_a_range_of_each_column_s_index() {
        let entity = Entity {
            name: "visitors".into(),
            label: "Visitors".into(),
            primary_key: "id".into(),
            columns: vec![
                Column::new("id", "Id", ColumnType::Integer),
                Column::new("username", "Username", ColumnType::Text),
                Column::new("full_name", "Full name", ColumnType::Text),
            ],
        };
        let model = DataModel { entities: vec![entity], ..DataModel::default() };
        let mut q = BrowseQuery::new("visitors");
        q.search = "emma_4".into();
        q.search_by_prefix = vec!["username".into(), "full_name".into()];
        let sql = BrowseSql::new(&model, &q, jiff::Timestamp::UNIX_EPOCH).unwrap().count();
        assert!(
            sql.display.contains(r#""t"."id" IN (SELECT "id" FROM "visitors" WHERE ("username" >= 'emma_4' COLLATE NOCASE AND "username" < 'emma_4"#),
            "{}",
            sql.display
        );
        assert!(
            sql.display.contains(r#"UNION SELECT "id" FROM "visitors" WHERE ("full_name" >= 'emma_4' COLLATE NOCASE"#),
            "{}",
            sql.display
        );
        assert!(!sql.display.contains(SEARCH_FUNCTION), "{}", sql.display);
    }
}
