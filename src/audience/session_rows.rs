//! Reading a count session's rows: a transition's work table by pages, as people read it
//! (the dimension's columns joined), and as CSV.

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use sea_query::{Alias, Asterisk, Expr, Order, Query, SqliteQueryBuilder};

use super::{AudienceError, CountSession};

impl CountSession {
    /// The column names and the first `limit` rows (by key) of a transition's work table in
    /// the last run.
    pub fn rows(&self, transition: &str, limit: u64) -> Result<(Vec<String>, Vec<Vec<SqlValue>>), AudienceError> {
        self.rows_page(transition, 0, limit)
    }

    /// The column names and rows `offset..offset + limit` (by key) of a transition's work
    /// table in the last run.
    pub fn rows_page(
        &self,
        transition: &str,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<String>, Vec<Vec<SqlValue>>), AudienceError> {
        let Some(table) = self.by_transition.get(transition) else { return Ok((Vec::new(), Vec::new())) };
        let sql = Query::select()
            .column(Asterisk)
            .from(Alias::new(table))
            .order_by(Alias::new("key"), Order::Asc)
            .limit(limit)
            .offset(offset)
            .to_string(SqliteQueryBuilder);
        Ok(query_rows(&self.conn, &sql)?)
    }

    /// A transition's rows as people read them: the dimension's columns, the enrichment
    /// columns, then the key (named as the dimension's key), in key order.
    fn readable(&self, transition: &str, model: &crate::model::DataModel) -> Option<sea_query::SelectStatement> {
        let table = self.by_transition.get(transition)?;
        let flow = self.flows.get(transition)?;
        let col = |t: &str, c: &str| Expr::col((Alias::new(t), Alias::new(c)));
        let mut q = Query::select();
        q.from_as(Alias::new(table), Alias::new("w"));
        let entity = flow.dimension.as_deref().and_then(|d| model.entity(d));
        if let Some(e) = entity {
            for c in e.columns.iter().filter(|c| c.name != e.primary_key) {
                q.expr_as(col("t", &c.name), Alias::new(&c.name));
            }
            q.left_join(
                sea_query::TableRef::from(Alias::new(&e.name)).alias(Alias::new("t")),
                sea_query::ExprTrait::equals(col("t", &e.primary_key), (Alias::new("w"), Alias::new("key"))),
            );
        }
        for c in &flow.columns {
            q.expr_as(col("w", &c.alias), Alias::new(&c.alias));
        }
        q.expr_as(col("w", "key"), Alias::new(entity.map_or("key", |e| e.primary_key.as_str())));
        q.order_by((Alias::new("w"), Alias::new("key")), Order::Asc);
        Some(q)
    }

    /// The column names and rows `offset..offset + limit` of a transition as people read
    /// them (see `readable`).
    pub fn readable_page(
        &self,
        transition: &str,
        model: &crate::model::DataModel,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<String>, Vec<Vec<SqlValue>>), AudienceError> {
        let Some(mut q) = self.readable(transition, model) else { return Ok((Vec::new(), Vec::new())) };
        let sql = q.limit(limit).offset(offset).to_string(SqliteQueryBuilder);
        Ok(query_rows(&self.conn, &sql)?)
    }

    /// How many rows a transition had in the last run.
    pub fn transition_count(&self, transition: &str) -> Option<u64> {
        self.by_transition.get(transition).and_then(|t| self.tables.get(t).copied())
    }

    /// Writes every row of a transition (key order, as people read them: see `readable`) as
    /// CSV with a header line;
    /// returns how many rows. `cancelled` is checked every 10,000 rows.
    pub fn export_csv(
        &self,
        transition: &str,
        model: &crate::model::DataModel,
        out: impl std::io::Write,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<u64, AudienceError> {
        let Some(q) = self.readable(transition, model) else {
            return Err(AudienceError::NotCounted);
        };
        let sql = q.to_string(SqliteQueryBuilder);
        let mut stmt = self.conn.prepare(&sql)?;
        let names: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let mut w = csv::Writer::from_writer(out);
        let write_error = |e: csv::Error| AudienceError::Write(e.to_string());
        w.write_record(&names).map_err(write_error)?;
        let mut rows = stmt.query([])?;
        let mut n = 0u64;
        while let Some(r) = rows.next()? {
            let mut record = Vec::with_capacity(names.len());
            for i in 0..names.len() {
                let value = r.get::<_, SqlValue>(i)?;
                let shown = display_value(&value);
                record.push(match value {
                    SqlValue::Text(_) => crate::model::spreadsheet_safe(&shown).into_owned(),
                    _ => shown,
                });
            }
            w.write_record(&record).map_err(write_error)?;
            n += 1;
            if n.is_multiple_of(10_000) && cancelled() {
                return Err(AudienceError::Cancelled);
            }
        }
        w.flush().map_err(|e| AudienceError::Write(e.to_string()))?;
        Ok(n)
    }
}

/// A value as people read it (and as CSV holds it): empty for NULL.
pub fn display_value(v: &SqlValue) -> String {
    match v {
        SqlValue::Null => String::new(),
        SqlValue::Integer(i) => i.to_string(),
        // Sums of amounts carry binary noise (3819.4500000000003): six decimals are plenty.
        SqlValue::Real(f) => ((f * 1e6).round() / 1e6).to_string(),
        SqlValue::Text(t) => t.clone(),
        SqlValue::Blob(b) => format!("({} bytes)", b.len()),
    }
}

/// The column names and every row of `sql`.
fn query_rows(conn: &Connection, sql: &str) -> rusqlite::Result<(Vec<String>, Vec<Vec<SqlValue>>)> {
    let mut stmt = conn.prepare(sql)?;
    let names: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
    let n = names.len();
    let rows = stmt
        .query_map([], |r| (0..n).map(|i| r.get::<_, SqlValue>(i)).collect::<rusqlite::Result<Vec<_>>>())?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((names, rows))
}
