//! The canvas being edited: opening it with its kept counts, saving it, counting it while it
//! is edited (one count session kept per campaign, so a recount reruns only what changed),
//! its transitions' rows and the values offered as choices.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{
    CanvasCommand, CanvasContext, CanvasEvent, Console, ConsoleError, CountOutcome, Event, KeptCounts, UserError, jobs,
};
use crate::audience::{self, CompiledRun, CountReport, Dialect};
use crate::model::{Campaign, Canvas, SavedAudience};
use crate::store;

/// A page of a transition's rows: (rows in all, column names, rows as text).
pub type RowsPage = (u64, Vec<String>, Vec<Vec<String>>);

/// Rows shown per page when inspecting a transition.
pub const ROWS_PAGE: u64 = 100;

/// A text column with more distinct values than this is not offered as a list of choices.
pub const MAX_CHOICES: usize = 50;

/// How many times a count leaves out activities with problems before giving up.
const MAX_PRUNES: usize = 8;

/// The count session of the canvas being edited: kept between counts so that a recount after
/// an edit reruns only what changed; one count at a time.
#[derive(Default)]
pub(super) struct CanvasCounter {
    /// The campaign and its session (work tables of the last count).
    pub session: Mutex<Option<(i64, audience::CountSession)>>,
    /// The newest requested generation; a running count with an older one stops.
    pub latest: AtomicU64,
    /// Interrupts the statement running now.
    interrupt: Mutex<Option<rusqlite::InterruptHandle>>,
}

impl Console {
    /// A campaign's canvas with what it is edited against.
    pub fn open_canvas(&self, campaign_id: i64) -> Result<(Campaign, Canvas, CanvasContext), ConsoleError> {
        let campaign = store::campaigns::get(&self.workspace.conn(), campaign_id)?;
        let canvas = self.canvas(&campaign)?;
        let credentials = self.credentials()?;
        let sms_configurations = self.sms_configurations()?;
        let conn = self.workspace.conn();
        let context = CanvasContext {
            model: store::data_model::load(&conn)?,
            audiences: store::audiences::list(&conn)?,
            credentials,
            sms_configurations,
            kept: self.kept_counts(&conn, campaign_id, &canvas)?,
        };
        Ok((campaign, canvas, context))
    }

    /// Stores a campaign's canvas; returns when.
    pub fn save_canvas(&self, campaign_id: i64, canvas: &Canvas) -> Result<jiff::Timestamp, ConsoleError> {
        let json = serde_json::to_string(canvas).map_err(|source| ConsoleError::Json { what: "the canvas", source })?;
        let now = self.now();
        store::campaigns::save_canvas(&self.workspace.conn(), campaign_id, &json, now)?;
        Ok(now)
    }

    /// Compiles a campaign's canvas for `dialect`, relative dates counted from now.
    pub fn compile_campaign(
        &self,
        name_or_id: &str,
        dialect: Dialect,
    ) -> Result<(Campaign, Canvas, CompiledRun), ConsoleError> {
        let campaign = self.campaign(name_or_id)?;
        let canvas = self.canvas(&campaign)?;
        let (model, options) = self.compile_options(dialect, &canvas)?;
        let run = audience::compile_with(&canvas, &model, &options)?;
        Ok((campaign, canvas, run))
    }

    /// Counts every transition of a campaign's canvas (count mode: nothing is saved or sent),
    /// on a connection of its own so that the workspace stays usable meanwhile.
    pub fn count_campaign(
        &self,
        name_or_id: &str,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(Campaign, Canvas, CountReport), ConsoleError> {
        let (campaign, canvas, run) = self.compile_campaign(name_or_id, Dialect::Sqlite)?;
        let report = audience::run_count(self.workspace.connect()?, &run, cancelled)?;
        Ok((campaign, canvas, report))
    }

    /// Compiles a canvas being edited for counting. An activity with a problem, and what
    /// follows it, is left out, so the rest is still counted (a new, unconnected activity does
    /// not blank the whole canvas); the problems come back with the run.
    fn compile_for_count(
        &self,
        canvas: &Canvas,
    ) -> Result<(CompiledRun, Option<Vec<audience::Problem>>), CountOutcome> {
        let failed = |e: ConsoleError| CountOutcome::Failed(UserError::new("The canvas could not be counted", &e));
        let (model, options) = self.compile_options(Dialect::Sqlite, canvas).map_err(failed)?;
        // A channel activity's message is checked apart: what it lacks is a problem, but
        // its audience is still counted.
        let unsendable = audience::message_problems(canvas);
        let mut problems: Option<Vec<audience::Problem>> = None;
        // Unwired outputs are counted too (a Build audience alone shows its count).
        let mut counted = audience::with_open_outputs(canvas);
        for _ in 0..MAX_PRUNES {
            match audience::compile_with(&counted, &model, &options) {
                Ok(run) => {
                    if !unsendable.is_empty() {
                        problems.get_or_insert_with(Vec::new).extend(unsendable);
                    }
                    return Ok((run, problems));
                }
                Err(audience::AudienceError::Invalid(found)) => {
                    let bad: HashSet<String> = found.iter().filter_map(|p| p.activity.clone()).collect();
                    let problems = problems.get_or_insert(found);
                    if bad.is_empty() || counted.activities.is_empty() {
                        return Err(CountOutcome::Invalid { problems: problems.clone(), partial: None });
                    }
                    counted = counted.without_downstream_of(&bad);
                }
                Err(e) => return Err(failed(e.into())),
            }
        }
        Err(CountOutcome::Invalid { problems: problems.unwrap_or_default(), partial: None })
    }

    /// Counts a campaign's canvas, then writes its Save audience activities: what a campaign
    /// run does before sending (nothing is sent here). Returns the saved audiences.
    pub fn count_and_save_audiences(
        &self,
        name_or_id: &str,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(Campaign, Canvas, CountReport, Vec<SavedAudience>), ConsoleError> {
        let (campaign, canvas, run) = self.compile_campaign(name_or_id, Dialect::Sqlite)?;
        let mut session = audience::CountSession::new(self.workspace.connect()?);
        let report = session.count(&run, cancelled)?;
        if !report.complete {
            return Err(audience::AudienceError::Cancelled.into());
        }
        let saved = session.save_audiences(&run, Some(campaign.id), self.now())?;
        Ok((campaign, canvas, report, saved))
    }

    /// The counts kept for a campaign's canvas, and whether they are current (same canvas,
    /// same data, same day). A kept count that cannot be read is left aside: it is a cache.
    fn kept_counts(
        &self,
        conn: &rusqlite::Connection,
        campaign_id: i64,
        canvas: &Canvas,
    ) -> Result<Option<KeptCounts>, ConsoleError> {
        let Some(kept) = store::count_cache::load(conn, campaign_id)? else { return Ok(None) };
        let decoded = serde_json::from_str::<CountReport>(&kept.report_json)
            .and_then(|r| Ok((r, serde_json::from_str::<Vec<audience::Problem>>(&kept.problems_json)?)));
        let (report, problems) = match decoded {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("the kept counts of campaign {campaign_id} could not be read ({e}); counting again");
                return Ok(None);
            }
        };
        let current = audience::count_key(canvas).is_some_and(|k| k == kept.canvas_key)
            && kept.data_version == store::customer_data::data_version(conn)?
            && kept.day == self.now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
        Ok(Some(KeptCounts { report, problems, counted_at: kept.counted_at, current }))
    }

    /// Keeps a canvas's counts for the next time it opens.
    fn keep_counts(&self, campaign_id: i64, canvas: &Canvas, report: &CountReport, problems: &[audience::Problem]) {
        let kept = (|| -> Result<(), ConsoleError> {
            let Some(canvas_key) = audience::count_key(canvas) else { return Ok(()) };
            let conn = self.workspace.conn();
            let (Ok(report_json), Ok(problems_json)) = (serde_json::to_string(report), serde_json::to_string(problems))
            else {
                return Ok(());
            };
            let counts = store::count_cache::CachedCounts {
                canvas_key,
                data_version: store::customer_data::data_version(&conn)?,
                day: self.now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string(),
                report_json,
                problems_json,
                counted_at: self.now(),
            };
            Ok(store::count_cache::save(&conn, campaign_id, &counts)?)
        })();
        // Only the next opening is slower without them.
        if let Err(e) = kept {
            tracing::warn!("the counts of campaign {campaign_id} were not kept: {e:#}");
        }
    }

    /// Counts a canvas being edited (count mode) in the kept session of its campaign; stops
    /// when a newer generation is requested.
    pub fn count_canvas(&self, campaign_id: i64, canvas: &Canvas, generation: u64, fresh: bool) -> CountOutcome {
        let superseded = || self.counter.latest.load(Ordering::SeqCst) != generation;
        // One count at a time: wait for the previous one (already told to stop).
        let mut guard = self.counter.session.lock().unwrap_or_else(|p| p.into_inner());
        if superseded() {
            return CountOutcome::Superseded;
        }
        let (run, problems) = match self.compile_for_count(canvas) {
            Ok(compiled) => compiled,
            Err(outcome) => return outcome,
        };
        if fresh || guard.as_ref().is_none_or(|(id, _)| *id != campaign_id) {
            *guard = None;
            match self.workspace.connect() {
                Ok(conn) => *guard = Some((campaign_id, audience::CountSession::new(conn))),
                Err(e) => return CountOutcome::Failed(UserError::new("The canvas could not be counted", &e.into())),
            }
        }
        let Some((_, session)) = guard.as_mut() else { return CountOutcome::Superseded };
        *self.counter.interrupt.lock().unwrap_or_else(|p| p.into_inner()) = Some(session.interrupt_handle());
        // A request that came in between the check above and now has interrupted nothing.
        if superseded() {
            return CountOutcome::Superseded;
        }
        let mut progress = |done, total| {
            self.outbox.offer(CanvasEvent::CountProgress { campaign_id, generation, done, total });
        };
        let result = session.count_with_progress(&run, &superseded, &mut progress);
        *self.counter.interrupt.lock().unwrap_or_else(|p| p.into_inner()) = None;
        match result {
            Ok(report) if !report.complete && superseded() => CountOutcome::Superseded,
            Ok(report) => {
                if report.complete {
                    self.keep_counts(campaign_id, canvas, &report, problems.as_deref().unwrap_or_default());
                }
                match problems {
                    None => CountOutcome::Counted(report),
                    Some(problems) => CountOutcome::Invalid { problems, partial: Some(report) },
                }
            }
            Err(audience::AudienceError::Cancelled) => CountOutcome::Superseded,
            Err(e) => CountOutcome::Failed(UserError::new("The canvas could not be counted", &e.into())),
        }
    }

    /// Rows `offset..offset + limit` of a transition from the last count of the campaign's
    /// canvas, as text: (rows in all, column names, rows).
    pub fn transition_rows(
        &self,
        campaign_id: i64,
        transition: &str,
        offset: u64,
        limit: u64,
    ) -> Result<RowsPage, ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        self.ensure_counted(campaign_id)?;
        let guard = self.counter.session.lock().unwrap_or_else(|p| p.into_inner());
        let Some((_, session)) = guard.as_ref().filter(|(id, _)| *id == campaign_id) else {
            return Ok((0, Vec::new(), Vec::new()));
        };
        let (columns, rows) = session.readable_page(transition, &model, offset, limit)?;
        let rows = rows.iter().map(|r| r.iter().map(audience::display_value).collect()).collect();
        Ok((session.transition_count(transition).unwrap_or(0), columns, rows))
    }

    /// Makes sure the count session holds the campaign's work tables: a canvas opened with its
    /// kept counts and not counted since is counted now (its saved version).
    fn ensure_counted(&self, campaign_id: i64) -> Result<(), ConsoleError> {
        let counted = {
            let guard = self.counter.session.lock().unwrap_or_else(|p| p.into_inner());
            guard.as_ref().is_some_and(|(id, _)| *id == campaign_id)
        };
        if counted {
            return Ok(());
        }
        let campaign = store::campaigns::get(&self.workspace.conn(), campaign_id)?;
        let canvas = self.canvas(&campaign)?;
        let generation = self.counter.latest.load(Ordering::SeqCst);
        match self.count_canvas(campaign_id, &canvas, generation, false) {
            CountOutcome::Failed(e) => Err(ConsoleError::CannotRun(e.message)),
            _ => Ok(()),
        }
    }

    /// Writes a transition's rows (last count of the campaign's canvas) to `path` as CSV,
    /// through a temporary file renamed at the end: a failed or cancelled export leaves no
    /// half-written file. Returns how many rows.
    pub fn export_transition(
        &self,
        campaign_id: i64,
        transition: &str,
        path: &Path,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<u64, ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        self.ensure_counted(campaign_id)?;
        let guard = self.counter.session.lock().unwrap_or_else(|p| p.into_inner());
        let Some((_, session)) = guard.as_ref().filter(|(id, _)| *id == campaign_id) else {
            return Err(ConsoleError::CannotRun("count the canvas first: there are no rows to export yet".into()));
        };
        jobs::write_atomically(path, |file| Ok(session.export_csv(transition, &model, file, cancelled)?))
    }

    fn interrupt_count(&self) {
        if let Some(h) = self.counter.interrupt.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            h.interrupt();
        }
    }

    /// The distinct values of `entity.column` when there are at most [`MAX_CHOICES`].
    pub fn distinct_values(&self, entity: &str, column: &str) -> Result<Option<Vec<String>>, ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        if model.entity(entity).and_then(|e| e.column(column)).is_none() {
            return Err(ConsoleError::Invalid(format!("{entity} has no column {column}")));
        }
        let conn = self.workspace.connect()?;
        let mut values = store::customer_data::distinct_values(&conn, entity, column, MAX_CHOICES)?;
        // Whatever the case (Léa beside LÉA), folded as the engine's case-insensitive
        // matching folds text.
        if let Some(v) = values.as_mut() {
            v.sort_by_cached_key(|s| (audience::fold(s), s.clone()));
        }
        Ok(values)
    }

    pub(super) fn canvas_command(self: &Arc<Self>, command: CanvasCommand) {
        match command {
            CanvasCommand::Count { campaign_id, canvas, generation, fresh } => {
                self.counter.latest.fetch_max(generation, Ordering::SeqCst);
                self.interrupt_count();
                self.spawn(move |console| {
                    let outcome = console.count_canvas(campaign_id, &canvas, generation, fresh);
                    vec![CanvasEvent::Counted { campaign_id, generation, outcome }.into()]
                });
            }
            CanvasCommand::CancelCount { generation } => {
                self.counter.latest.fetch_max(generation, Ordering::SeqCst);
                self.interrupt_count();
            }
            CanvasCommand::Export { campaign_id, transition, path } => {
                self.start_file_job(path, "rows", move |c, path, cancelled| {
                    c.export_transition(campaign_id, &transition, path, cancelled)
                });
            }
            CanvasCommand::Open { campaign_id } => self.spawn(move |console| {
                vec![match console.open_canvas(campaign_id) {
                    Ok((campaign, canvas, context)) => {
                        CanvasEvent::Opened { campaign, canvas, context: Box::new(context) }.into()
                    }
                    Err(e) => Event::Failed(UserError::new("Could not open the canvas", &e)),
                }]
            }),
            CanvasCommand::Save { campaign_id, canvas } => self.spawn(move |console| {
                let outcome = console
                    .save_canvas(campaign_id, &canvas)
                    .map_err(|e| UserError::new("Could not save the canvas: your changes are kept on screen", &e));
                match &outcome {
                    Ok(_) => vec![CanvasEvent::Saved { campaign_id, outcome }.into()],
                    Err(e) => vec![Event::Failed(e.clone()), CanvasEvent::Saved { campaign_id, outcome }.into()],
                }
            }),
            CanvasCommand::Inspect { campaign_id, transition, offset } => self.spawn(move |console| {
                vec![match console.transition_rows(campaign_id, &transition, offset, ROWS_PAGE) {
                    Ok((total, columns, rows)) => {
                        CanvasEvent::TransitionRows { campaign_id, transition, offset, total, columns, rows }.into()
                    }
                    Err(e) => Event::Failed(UserError::new("Could not read the rows of this transition", &e)),
                }]
            }),
            CanvasCommand::DistinctValues { entity, column } => self.spawn(move |console| {
                let values = console.distinct_values(&entity, &column).unwrap_or_else(|e| {
                    tracing::warn!("could not read the values of {entity}.{column}: {e:#}");
                    None
                });
                vec![CanvasEvent::DistinctValues { entity, column, values }.into()]
            }),
        }
    }
}
