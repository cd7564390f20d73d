//! Runs a compiled canvas in count mode on one connection: fills every work table, counts
//! every transition, and drops the work tables when it ends, whatever happens.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use sea_query::{Alias, Asterisk, Expr, Func, Order, Query, SqliteQueryBuilder, Table, Value};

use super::{AudienceError, CompiledRun, Dialect, SqlStatement};

/// The count of one transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitionCount {
    pub transition: String,
    /// `None` for a transition that carries no population (a Scheduler's start signal).
    pub count: Option<u64>,
}

/// What one activity did.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityReport {
    pub activity: String,
    pub duration: Duration,
    /// The SQL it ran, values written in.
    pub sql: Vec<String>,
}

/// The result of a count run.
#[derive(Clone, Debug, PartialEq)]
pub struct CountReport {
    pub transitions: Vec<TransitionCount>,
    pub activities: Vec<ActivityReport>,
    pub total: Duration,
}

impl CountReport {
    pub fn count_of(&self, transition: &str) -> Option<u64> {
        self.transitions.iter().find(|t| t.transition == transition).and_then(|t| t.count)
    }
}

/// The work tables of a finished run, readable until this is dropped; then they are dropped
/// too (also on error or cancellation, since the guard exists from the first statement on).
pub struct WorkTables<'c> {
    conn: &'c Connection,
    tables: Vec<String>,
    by_transition: HashMap<String, String>,
}

impl WorkTables<'_> {
    /// The column names and the first `limit` rows (by key) of a transition's work table.
    pub fn rows(&self, transition: &str, limit: u64) -> Result<(Vec<String>, Vec<Vec<SqlValue>>), AudienceError> {
        let Some(table) = self.by_transition.get(transition) else { return Ok((Vec::new(), Vec::new())) };
        let sql = Query::select()
            .column(Asterisk)
            .from(Alias::new(table))
            .order_by(Alias::new("key"), Order::Asc)
            .limit(limit)
            .to_string(SqliteQueryBuilder);
        let mut stmt = self.conn.prepare(&sql)?;
        let names: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let n = names.len();
        let rows = stmt
            .query_map([], |r| (0..n).map(|i| r.get::<_, SqlValue>(i)).collect::<rusqlite::Result<Vec<_>>>())?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((names, rows))
    }
}

impl Drop for WorkTables<'_> {
    fn drop(&mut self) {
        for t in &self.tables {
            let sql = Table::drop().table(Alias::new(t)).if_exists().to_string(SqliteQueryBuilder);
            if let Err(e) = self.conn.execute_batch(&sql) {
                tracing::warn!("could not drop work table {t}: {e}");
            }
        }
    }
}

/// Runs `run` (compiled for SQLite) on `conn` and counts every transition; the work tables
/// are dropped before returning. `cancelled` is checked between statements; to stop a long
/// statement, interrupt the connection (`Connection::get_interrupt_handle`) as well.
pub fn run_count(
    conn: &Connection,
    run: &CompiledRun,
    cancelled: &dyn Fn() -> bool,
) -> Result<CountReport, AudienceError> {
    run_materialized(conn, run, cancelled).map(|(report, _tables)| report)
}

/// Like [`run_count`], but keeps the work tables readable through the returned guard.
pub fn run_materialized<'c>(
    conn: &'c Connection,
    run: &CompiledRun,
    cancelled: &dyn Fn() -> bool,
) -> Result<(CountReport, WorkTables<'c>), AudienceError> {
    if run.dialect != Dialect::Sqlite {
        return Err(AudienceError::Invalid(vec![super::Problem {
            activity: None,
            label: None,
            parameter: None,
            message: "this canvas was compiled for PostgreSQL and cannot run on the workspace database".into(),
        }]));
    }
    let started = Instant::now();
    let by_transition = run.transitions.iter().filter_map(|t| Some((t.transition.clone(), t.table.clone()?))).collect();
    let tables = WorkTables { conn, tables: run.tables.clone(), by_transition };
    let mut activities = Vec::with_capacity(run.steps.len());
    for step in &run.steps {
        let t = Instant::now();
        for s in &step.statements {
            if cancelled() {
                return Err(AudienceError::Cancelled);
            }
            execute(conn, s).map_err(|e| interrupted_or(e, cancelled))?;
        }
        activities.push(ActivityReport {
            activity: step.activity.clone(),
            duration: t.elapsed(),
            sql: step.statements.iter().map(|s| s.display.clone()).collect(),
        });
    }
    let mut counted: HashMap<&str, u64> = HashMap::new();
    let mut transitions = Vec::with_capacity(run.transitions.len());
    for t in &run.transitions {
        let count = match &t.table {
            None => None,
            Some(table) => Some(match counted.get(table.as_str()) {
                Some(n) => *n,
                None => {
                    let sql = Query::select()
                        .expr(Func::count(Expr::cust("*")))
                        .from(Alias::new(table))
                        .to_string(SqliteQueryBuilder);
                    let n: i64 = conn.query_row(&sql, [], |r| r.get(0)).map_err(|e| interrupted_or(e, cancelled))?;
                    let n = n.max(0) as u64;
                    counted.insert(table, n);
                    n
                }
            }),
        };
        transitions.push(TransitionCount { transition: t.transition.clone(), count });
    }
    Ok((CountReport { transitions, activities, total: started.elapsed() }, tables))
}

fn interrupted_or(e: rusqlite::Error, cancelled: &dyn Fn() -> bool) -> AudienceError {
    if cancelled() || matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::OperationInterrupted)) {
        AudienceError::Cancelled
    } else {
        AudienceError::Sql(e)
    }
}

fn execute(conn: &Connection, s: &SqlStatement) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare(&s.sql)?;
    for (i, v) in s.values.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, to_sqlite(v))?;
    }
    stmt.raw_execute()
}

/// A sea-query value as SQLite stores it (booleans as 0/1).
fn to_sqlite(v: &Value) -> SqlValue {
    match v {
        Value::Bool(Some(b)) => SqlValue::Integer(i64::from(*b)),
        Value::TinyInt(Some(x)) => SqlValue::Integer(i64::from(*x)),
        Value::SmallInt(Some(x)) => SqlValue::Integer(i64::from(*x)),
        Value::Int(Some(x)) => SqlValue::Integer(i64::from(*x)),
        Value::BigInt(Some(x)) => SqlValue::Integer(*x),
        Value::TinyUnsigned(Some(x)) => SqlValue::Integer(i64::from(*x)),
        Value::SmallUnsigned(Some(x)) => SqlValue::Integer(i64::from(*x)),
        Value::Unsigned(Some(x)) => SqlValue::Integer(i64::from(*x)),
        Value::BigUnsigned(Some(x)) => SqlValue::Integer(i64::try_from(*x).unwrap_or(i64::MAX)),
        Value::Float(Some(x)) => SqlValue::Real(f64::from(*x)),
        Value::Double(Some(x)) => SqlValue::Real(*x),
        Value::String(Some(s)) => SqlValue::Text(s.clone()),
        Value::Char(Some(c)) => SqlValue::Text(c.to_string()),
        Value::Bytes(Some(b)) => SqlValue::Blob(b.clone()),
        // Every other value this compiler binds is one of the above; absent values are NULL.
        _ => SqlValue::Null,
    }
}
