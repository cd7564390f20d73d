//! Runs compiled canvases in count mode. A [`CountSession`] owns a connection and keeps the
//! work tables of its last run: a recount after an edit reruns only the steps whose key
//! changed (the edited activity and what is downstream of it), and a limited subset whose
//! limit changed is remade from the one it holds (`compile/slices.rs`). Tables (and views)
//! are TEMP, so they live and die with the session's connection; stale ones are dropped after
//! each run. A view whose count follows from others' (`CountedAs`) is not read to count it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, InterruptHandle};
use sea_query::{Alias, Expr, Func, Order, Query, SqliteQueryBuilder, Table, Value};

use super::{AudienceError, CompiledRun, CompiledStep, Dialect, SqlStatement};

/// The count of one transition.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransitionCount {
    pub transition: String,
    /// `None` for a transition that carries no population (a Scheduler's start signal), or
    /// that a cancelled run did not reach.
    pub count: Option<u64>,
    /// The enrichment columns the transition carries (what a split after it can use).
    #[serde(default)]
    pub columns: Vec<super::WorkColumn>,
}

/// What one activity did.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActivityReport {
    pub activity: String,
    pub duration: Duration,
    /// Its work tables were reused from the previous run (nothing upstream changed).
    pub reused: bool,
    /// The SQL it ran, values written in.
    pub sql: Vec<String>,
}

/// Whom a channel activity can reach, at a count.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SendCount {
    pub activity: String,
    /// The recipients a message can reach (`None` when the run did not get there).
    pub reachable: Option<u64>,
    /// The recipients it cannot reach, by reason (the ledger's codes: `no_address`,
    /// `invalid_address`, `not_opted_in`, `no_profile`), most first.
    pub excluded: Vec<(String, u64)>,
}

impl SendCount {
    pub fn excluded_total(&self) -> u64 {
        self.excluded.iter().map(|(_, n)| n).sum()
    }
}

/// A reason a recipient is excluded, in a marketer's words.
pub fn exclusion_label(code: &str) -> &str {
    match code {
        "no_address" => "no address",
        "invalid_address" => "an address that cannot be sent to",
        "not_opted_in" => "not opted in",
        "no_profile" => "no profile",
        "frequency_cap" => "at the frequency cap",
        "not_following" => "no longer following",
        "other_service" => "following another X service",
        other => other,
    }
}

/// The result of a count run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CountReport {
    pub transitions: Vec<TransitionCount>,
    /// Each channel activity's reachable and excluded recipients.
    pub sends: Vec<SendCount>,
    pub activities: Vec<ActivityReport>,
    pub total: Duration,
    /// `false` when the run was cancelled: the report then holds what was finished.
    pub complete: bool,
}

impl CountReport {
    pub fn count_of(&self, transition: &str) -> Option<u64> {
        self.transitions.iter().find(|t| t.transition == transition).and_then(|t| t.count)
    }
}

/// A connection with the work tables of the last run on it.
pub struct CountSession {
    pub(super) conn: Connection,
    /// Work table → its row count.
    pub(super) tables: HashMap<String, u64>,
    /// Transition → work table, for the last run.
    pub(super) by_transition: HashMap<String, String>,
    /// Transition → what it carries, for the last run.
    pub(super) flows: HashMap<String, super::Flow>,
    /// Excluded-recipients table → its rows by reason, once read.
    exclusions: HashMap<String, Vec<(String, u64)>>,
    /// The phone numbers the connection checked since the last step was kept.
    new_checks: Option<super::functions::NewChecks>,
    /// Work table → what it holds, for the limited subsets' tables kept.
    slices: HashMap<String, super::RankedSlice>,
}

impl CountSession {
    /// A session on `conn`, with the functions compiled SQL calls registered on it.
    pub fn new(conn: Connection) -> Self {
        // Only fails when SQLite is out of memory; the count then fails on the missing
        // function and says so.
        let new_checks = super::functions::register_recording(&conn)
            .map_err(|e| tracing::warn!("could not register the text-folding function: {e:#}"))
            .ok();
        Self {
            conn,
            tables: HashMap::new(),
            by_transition: HashMap::new(),
            flows: HashMap::new(),
            exclusions: HashMap::new(),
            new_checks,
            slices: HashMap::new(),
        }
    }

    /// The session's connection: its work tables are visible only through it.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A handle that stops the statement running now (from another thread).
    pub fn interrupt_handle(&self) -> InterruptHandle {
        self.conn.get_interrupt_handle()
    }

    /// Runs `run` (compiled for SQLite), reusing the work tables of steps whose key has not
    /// changed, and counts every transition. `cancelled` is checked between statements; a
    /// cancelled run returns what it finished with `complete == false`.
    pub fn count(&mut self, run: &CompiledRun, cancelled: &dyn Fn() -> bool) -> Result<CountReport, AudienceError> {
        self.count_with_progress(run, cancelled, &mut |_, _| {})
    }

    /// [`Self::count`], telling `progress(done, total)` before the first and after each step
    /// it computes (steps it reuses are not counted in `total`).
    pub fn count_with_progress(
        &mut self,
        run: &CompiledRun,
        cancelled: &dyn Fn() -> bool,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<CountReport, AudienceError> {
        if run.dialect != Dialect::Sqlite {
            return Err(AudienceError::Invalid(vec![super::Problem {
                activity: None,
                label: None,
                parameter: None,
                message: "this canvas was compiled for PostgreSQL and cannot run on the workspace database".into(),
                wiring: None,
            }]));
        }
        let started = Instant::now();
        let mut activities = Vec::with_capacity(run.steps.len());
        let mut complete = true;
        let reusable =
            |step: &CompiledStep, tables: &HashMap<String, u64>| step.tables.iter().all(|t| tables.contains_key(t));
        let total = run.steps.iter().filter(|s| !reusable(s, &self.tables)).count();
        let mut done = 0;
        progress(done, total);
        for step in &run.steps {
            if reusable(step, &self.tables) {
                add_report(&mut activities, &step.activity, &step.statements, Duration::ZERO, true);
                continue;
            }
            let t = Instant::now();
            match self.run_step(step, run, cancelled) {
                Ok(ran) => {
                    self.keep_new_checks(run.keeps_checks);
                    add_report(&mut activities, &step.activity, &ran, t.elapsed(), false);
                    done += 1;
                    progress(done, total);
                }
                Err(e) => {
                    self.drop_tables(&step.tables);
                    match e {
                        AudienceError::Cancelled => {
                            complete = false;
                            break;
                        }
                        other => return Err(other),
                    }
                }
            }
        }
        // Forget what this canvas no longer uses.
        let used: HashSet<&String> = run.tables.iter().collect();
        let stale: Vec<String> = self.tables.keys().filter(|t| !used.contains(t)).cloned().collect();
        self.drop_tables(&stale);

        self.by_transition =
            run.transitions.iter().filter_map(|t| Some((t.transition.clone(), t.table.clone()?))).collect();
        self.flows = run.transitions.iter().map(|t| (t.transition.clone(), t.flow.clone())).collect();
        let transitions = run
            .transitions
            .iter()
            .map(|t| TransitionCount {
                transition: t.transition.clone(),
                count: t.table.as_ref().and_then(|table| self.tables.get(table).copied()),
                columns: t.flow.columns.clone(),
            })
            .collect();
        let mut sends = Vec::with_capacity(run.sends.len());
        for send in &run.sends {
            let excluded = match &send.excluded {
                Some(table) if self.tables.contains_key(table) => self.exclusions_of(table, cancelled)?,
                _ => Vec::new(),
            };
            let reachable = self.tables.get(&send.reachable).copied();
            sends.push(SendCount { activity: send.activity.clone(), reachable, excluded });
        }
        Ok(CountReport { transitions, sends, activities, total: started.elapsed(), complete })
    }

    /// The rows of an excluded-recipients table by reason (its segment), most first.
    fn exclusions_of(
        &mut self,
        table: &str,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Vec<(String, u64)>, AudienceError> {
        if let Some(known) = self.exclusions.get(table) {
            return Ok(known.clone());
        }
        let sql = Query::select()
            .expr(Expr::col(Alias::new("seg")))
            .expr_as(Func::count(Expr::cust("*")), Alias::new("n"))
            .from(Alias::new(table))
            .group_by_col(Alias::new("seg"))
            .order_by(Alias::new("n"), Order::Desc)
            .order_by(Alias::new("seg"), Order::Asc)
            .to_string(SqliteQueryBuilder);
        let mut stmt = self.conn.prepare(&sql).map_err(|e| interrupted_or(e, cancelled))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get::<_, i64>(1)?.max(0) as u64))
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(|e| interrupted_or(e, cancelled))?;
        self.exclusions.insert(table.to_owned(), rows.clone());
        Ok(rows)
    }

    /// Runs `step` (of `run`) and counts its tables; returns the statements it ran.
    fn run_step(
        &mut self,
        step: &CompiledStep,
        run: &CompiledRun,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Vec<SqlStatement>, AudienceError> {
        self.drop_tables(&step.tables);
        // A limited subset's table remade from the same subset's at another limit, when the
        // session holds one that this run does not use; else filled anew.
        let remade = step.slice.as_ref().and_then(|slice| {
            let from = self.slices.values().find(|from| {
                from.family == slice.family
                    && from.table != slice.table
                    && self.tables.contains_key(&from.table)
                    && !run.tables.contains(&from.table)
            })?;
            Some((from.table.clone(), slice.remake_from(from)?))
        });
        let statements = match &remade {
            Some((from, statements)) => {
                // Renamed by the first statement: forgotten now, dropped if the step fails.
                self.forget(from);
                statements
            }
            None => &step.statements,
        }
        .clone();
        let ran = statements.iter().try_for_each(|s| {
            if cancelled() {
                return Err(AudienceError::Cancelled);
            }
            execute(&self.conn, s).map(drop).map_err(|e| interrupted_or(e, cancelled))
        });
        if let (Err(_), Some((from, _))) = (&ran, &remade) {
            self.drop_tables(std::slice::from_ref(from));
        }
        ran?;
        let mut statements = statements;
        if let Some(shuffle) = &step.shuffle {
            super::shuffle::rank(&self.conn, shuffle, cancelled).map_err(|e| match e {
                AudienceError::Sql(e) => interrupted_or(e, cancelled),
                other => other,
            })?;
            let display =
                format!("-- ranked by cc_mix(key, {}), then key, in memory: {}", shuffle.seed, shuffle.keys.display);
            statements.push(SqlStatement { sql: String::new(), values: Vec::new(), display });
        }
        if let Some(load) = &step.load {
            super::reconcile::load(&self.conn, load, cancelled).map_err(|e| match e {
                AudienceError::Sql(e) => interrupted_or(e, cancelled),
                other => other,
            })?;
        }
        if let Some(slice) = &step.slice {
            self.slices.insert(slice.table.clone(), slice.clone());
        }
        for table in &step.tables {
            let known = |t: &String| self.tables.get(t).copied();
            let derived = run.counted_as.iter().find(|c| c.table == *table).and_then(|c| {
                let parts = c.parts.iter().map(known).sum::<Option<u64>>()?;
                Some(known(&c.whole)?.saturating_sub(parts))
            });
            if let Some(n) = derived {
                self.tables.insert(table.clone(), n);
                continue;
            }
            let sql = Query::select()
                .expr(Func::count(Expr::cust("*")))
                .from(Alias::new(table))
                .to_string(SqliteQueryBuilder);
            let n: i64 = self.conn.query_row(&sql, [], |r| r.get(0)).map_err(|e| interrupted_or(e, cancelled))?;
            self.tables.insert(table.clone(), n.max(0) as u64);
        }
        Ok(statements)
    }

    /// Keeps in the workspace the phone numbers' checks made since the last call, for later
    /// counts to read (`compile/address_checks.rs`) when `keep`; forgets them otherwise. A
    /// check that cannot be kept now (the workspace busy) is made again next time.
    fn keep_new_checks(&self, keep: bool) {
        let Some(list) = &self.new_checks else { return };
        let checks = std::mem::take(&mut *list.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        if !keep || checks.is_empty() {
            return;
        }
        let kept = (|| -> rusqlite::Result<()> {
            let tx = self.conn.unchecked_transaction()?;
            {
                let mut insert = tx.prepare_cached(&format!(
                    "INSERT INTO main.{} (checker, kind, address, valid) VALUES (?1, 'phone', ?2, ?3) ON CONFLICT DO NOTHING",
                    super::compile::KEPT_CHECKS_TABLE
                ))?;
                for (address, valid) in &checks {
                    insert.execute(rusqlite::params![crate::model::address::ADDRESS_CHECKER, &**address, valid])?;
                }
            }
            tx.commit()
        })();
        if let Err(e) = kept {
            tracing::warn!("{} phone numbers' checks were not kept: {e}", checks.len());
        }
    }

    /// Forgets what the session knows of work table `t` (not dropping it).
    fn forget(&mut self, t: &str) {
        self.tables.remove(t);
        self.exclusions.remove(t);
        self.slices.remove(t);
    }

    fn drop_tables(&mut self, tables: &[String]) {
        for t in tables {
            self.forget(t);
            // A work table may be a view (see the compiler's `view`).
            let is_view = self
                .conn
                .query_row("SELECT type = 'view' FROM temp.sqlite_master WHERE name = ?1", [t], |r| r.get(0))
                .unwrap_or(false);
            let sql = if is_view {
                format!("DROP VIEW IF EXISTS \"{}\"", t.replace('"', "\"\""))
            } else {
                Table::drop().table(Alias::new(t)).if_exists().to_string(SqliteQueryBuilder)
            };
            if let Err(e) = self.conn.execute_batch(&sql) {
                tracing::warn!("could not drop work table {t}: {e}");
            }
        }
    }

    /// Runs the Save audience activities of `run` (counted by this session just before):
    /// each named audience is created or replaced with the keys that reached it. This is
    /// what a campaign run does after counting; a count alone never calls it.
    pub fn save_audiences(
        &self,
        run: &CompiledRun,
        campaign_id: Option<i64>,
        now: jiff::Timestamp,
    ) -> Result<Vec<crate::model::SavedAudience>, AudienceError> {
        let mut saved = Vec::new();
        for s in &run.saves {
            let Some(table) = s.table.as_deref().filter(|t| self.tables.contains_key(*t)) else {
                return Err(AudienceError::Save(format!(
                    "\u{201c}{}\u{201d} has no counted population to save: count the campaign first",
                    s.audience
                )));
            };
            let a = crate::store::audiences::replace_from_table(
                &self.conn,
                &s.audience,
                &s.dimension,
                table,
                campaign_id,
                now,
            )
            .map_err(|e| AudienceError::Save(e.to_string()))?;
            saved.push(a);
        }
        Ok(saved)
    }

    /// Records the held-out rows of every Control group of `run` (counted by this session
    /// just before) as "enrolled in control group" interaction events of the campaign, in one
    /// transaction. A campaign run does this; a count never does. Returns how many.
    pub fn record_control_groups(
        &self,
        run: &CompiledRun,
        campaign_id: i64,
        now: jiff::Timestamp,
    ) -> Result<u64, AudienceError> {
        let tx = self.conn.unchecked_transaction()?;
        let mut total = 0;
        for c in &run.control_groups {
            if !self.tables.contains_key(&c.table) {
                return Err(AudienceError::Save(format!(
                    "the control group of {} has not been counted: count the campaign first",
                    c.activity
                )));
            }
            total += crate::store::interactions::record_control_group(
                &tx,
                campaign_id,
                &c.activity,
                &c.dimension,
                c.is_profile,
                &c.table,
                now,
            )
            .map_err(|e| AudienceError::Save(e.to_string()))?;
        }
        tx.commit()?;
        Ok(total)
    }

    /// The row count of one of the kept work tables (0 when it is not kept).
    pub fn rows_count(&self, table: &str) -> u64 {
        self.tables.get(table).copied().unwrap_or(0)
    }

    /// The work tables currently kept.
    pub fn table_count(&self) -> usize {
        self.tables.len()
    }
}

impl Drop for CountSession {
    fn drop(&mut self) {
        let all: Vec<String> = self.tables.keys().cloned().collect();
        self.drop_tables(&all);
    }
}

/// Reports a step of `activity` that ran (or reused) `ran`; an activity compiled to several
/// steps (a Split) gets one report.
fn add_report(
    reports: &mut Vec<ActivityReport>,
    activity: &str,
    ran: &[SqlStatement],
    duration: Duration,
    reused: bool,
) {
    let sql = ran.iter().map(|s| s.display.clone());
    match reports.last_mut() {
        Some(last) if last.activity == activity => {
            last.duration += duration;
            last.reused &= reused;
            last.sql.extend(sql);
        }
        _ => reports.push(ActivityReport { activity: activity.to_owned(), duration, reused, sql: sql.collect() }),
    }
}

/// Counts `run` once on `conn`; no work table survives the call.
pub fn run_count(
    conn: Connection,
    run: &CompiledRun,
    cancelled: &dyn Fn() -> bool,
) -> Result<CountReport, AudienceError> {
    CountSession::new(conn).count(run, cancelled)
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
        stmt.raw_bind_parameter(i + 1, sqlite_value(v))?;
    }
    stmt.raw_execute()
}

/// A sea-query value as SQLite stores it (booleans as 0/1).
pub fn sqlite_value(v: &Value) -> SqlValue {
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
