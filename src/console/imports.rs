//! Importing customer data from CSV files: a file's sample, a check of every row before
//! anything is written, the import itself as one transaction (a cancelled or failed one
//! leaves the workspace as it was), the rejects as a CSV file, and mappings saved by name.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::{Console, ConsoleError, Event, ImportCommand, ImportEvent, JobEvent, Refresh, UserError, jobs};
use crate::import::{self, Format, Mapping, Reject, Row, Rows, Sample};
use crate::model::Cell;
use crate::store;

/// How many rejects a report keeps to show (all of them go to a rejects file).
pub const REJECTS_KEPT: usize = 10_000;

/// What an import did, or would do (a check).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    pub entity: String,
    /// Data rows in the file.
    pub rows: u64,
    /// Rows written (0 for a check).
    pub written: u64,
    /// Rows refused (each with one or more rejects).
    pub refused: u64,
    /// The first [`REJECTS_KEPT`] rejects.
    pub rejects: Vec<Reject>,
    /// For each link of the entity, its rows that point at no parent row (after an import),
    /// or that would (a check: the good rows of the file against the workspace).
    pub dangling: Vec<Dangling>,
    /// Whether it only checked.
    pub checked_only: bool,
    pub seconds: f64,
}

impl ImportReport {
    /// One line for the status bar and the CLI.
    pub fn summary(&self) -> String {
        let refused = match self.refused {
            0 => String::new(),
            1 => ", 1 refused".to_owned(),
            n => format!(", {n} refused"),
        };
        let rate = if self.seconds > 0.0 {
            format!(" ({:.0} rows/s)", self.rows as f64 / self.seconds)
        } else {
            String::new()
        };
        if self.checked_only {
            format!(
                "Checked {} rows of {}: {} can be imported{refused}",
                self.rows,
                self.entity,
                self.rows - self.refused
            )
        } else {
            format!("Imported {} rows into {}{refused}{rate}", self.written, self.entity)
        }
    }

    /// The links whose rows point nowhere, as sentences ("37 rows of orders point to no
    /// customers"; "would point" after a check).
    pub fn dangling_sentences(&self) -> Vec<String> {
        self.dangling
            .iter()
            .filter(|d| d.rows > 0)
            .map(|d| {
                let n = d.rows;
                let point = match (n, self.checked_only) {
                    (_, true) => "would point",
                    (1, false) => "points",
                    _ => "point",
                };
                let rows = if n == 1 { "row" } else { "rows" };
                format!(
                    "{n} {rows} of {} {point} to no {} ({}): they never join a population through it",
                    self.entity, d.parent, d.link
                )
            })
            .collect()
    }
}

/// The rows of a link that point at no parent row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dangling {
    /// The link's name.
    pub link: String,
    pub parent: String,
    pub rows: u64,
}

/// The reject of a row whose key the workspace has already (inserting new rows only).
fn key_exists(line: u64, mapping: &Mapping, values: &[import::values::Value], key_at: Option<usize>) -> Reject {
    let value = match key_at.and_then(|i| values.get(i)) {
        Some(import::values::Value::Int(k)) => k.to_string(),
        _ => String::new(),
    };
    Reject {
        line,
        column: mapping.key.column().to_owned(),
        value,
        reason: "is a key the workspace has already: choose \u{201c}update existing ones\u{201d} to change that row"
            .into(),
    }
}

/// How the store writes the rows `mapping` reads into `model` (the model once mapped).
fn plan<'a>(model: &'a crate::model::DataModel, mapping: &'a Mapping) -> store::import::Plan<'a> {
    store::import::Plan {
        model,
        entity: &mapping.entity,
        columns: mapping.mapped().filter_map(|(_, c)| c.target.clone()).collect(),
        numbered: matches!(mapping.key, import::Key::Numbered(_)),
        replace: mapping.mode == import::Mode::Replace,
        upsert: mapping.mode == import::Mode::Upsert,
        clear_empty: mapping.clear_empty,
    }
}

/// What a check's good rows point at, link by link, to count those pointing nowhere.
struct Pointing<'m> {
    /// Each link of the entity, with where its key is among a row's values and how many
    /// rows point at each parent key.
    links: Vec<(&'m crate::model::Link, usize, std::collections::HashMap<i64, u64>)>,
    /// The rows' own keys, when a link points back at the entity itself.
    keys: Option<(usize, std::collections::HashSet<i64>)>,
}

impl<'m> Pointing<'m> {
    fn new(model: &'m crate::model::DataModel, mapping: &Mapping, key_at: Option<usize>) -> Self {
        let links: Vec<_> = model
            .links
            .iter()
            .filter(|l| l.child == mapping.entity)
            .filter_map(|l| {
                let at = mapping.mapped().position(|(_, c)| c.target.as_deref() == Some(l.foreign_key.as_str()))?;
                Some((l, at, std::collections::HashMap::new()))
            })
            .collect();
        let to_itself = links.iter().any(|(l, _, _)| l.parent == mapping.entity);
        Self { links, keys: key_at.filter(|_| to_itself).map(|at| (at, std::collections::HashSet::new())) }
    }

    fn note(&mut self, values: &[import::values::Value]) {
        for (_, at, counts) in &mut self.links {
            if let Some(import::values::Value::Int(k)) = values.get(*at) {
                *counts.entry(*k).or_default() += 1;
            }
        }
        if let Some((at, keys)) = &mut self.keys
            && let Some(import::values::Value::Int(k)) = values.get(*at)
        {
            keys.insert(*k);
        }
    }

    fn nowhere(
        &self,
        conn: &rusqlite::Connection,
        model: &crate::model::DataModel,
    ) -> Result<Vec<Dangling>, ConsoleError> {
        let none = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (l, _, counts) in &self.links {
            let Some(parent) = model.entity(&l.parent) else { continue };
            let also = match &self.keys {
                Some((_, keys)) if l.parent == l.child => keys,
                _ => &none,
            };
            let rows = store::customer_data::rows_pointing_nowhere(conn, parent, counts, also)?;
            out.push(Dangling { link: l.name.clone(), parent: l.parent.clone(), rows });
        }
        Ok(out)
    }
}

/// What takes each refused cell (a rejects file).
type OnReject<'a> = &'a mut dyn FnMut(&Reject) -> Result<(), ConsoleError>;

/// What reading a file through a mapping does besides checking.
struct Sink<'a> {
    /// Write the good rows.
    write: bool,
    /// Hand every reject to this (a rejects file).
    rejects: Option<OnReject<'a>>,
}

impl Console {
    /// A file's first rows, with the format sniffing found.
    pub fn import_sample(&self, path: &Path, format: Option<&Format>) -> Result<Sample, ConsoleError> {
        Ok(match format {
            None => import::source::sniff(path)?,
            Some(f) => import::source::sample(path, f)?,
        })
    }

    /// What the file and the workspace's data model suggest for filling `entity`.
    pub fn guess_mapping(&self, sample: &Sample, entity: &str) -> Result<Mapping, ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        Ok(Mapping::guess(sample, &model, entity))
    }

    /// Reads every row of `path` through `mapping`; with `write`, writes the good ones in one
    /// transaction; with `rejects_to`, writes every refused cell there as CSV (line, column,
    /// value, reason). `progress` gets the share of the file read; `cancelled` stops it
    /// (nothing written then, no rejects file either).
    #[expect(clippy::too_many_arguments, reason = "what to read, what to do with it, and the job's two hooks")]
    pub fn import_file(
        &self,
        path: &Path,
        format: &Format,
        mapping: &Mapping,
        write: bool,
        rejects_to: Option<&Path>,
        progress: &mut dyn FnMut(f32, u64),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<ImportReport, ConsoleError> {
        let Some(to) = rejects_to else {
            return self.read_through(path, format, mapping, Sink { write, rejects: None }, progress, cancelled);
        };
        let mut report = None;
        jobs::write_atomically(to, |out| {
            let mut w = csv::Writer::from_writer(out);
            let csv_error = |e: csv::Error| ConsoleError::Invalid(format!("the rejects could not be written: {e}"));
            w.write_record(["line", "column", "value", "reason"]).map_err(csv_error)?;
            let mut each = |r: &Reject| {
                w.write_record([
                    r.line.to_string().as_str(),
                    &r.column,
                    &crate::model::spreadsheet_safe(&r.value),
                    &r.reason,
                ])
                .map_err(csv_error)
            };
            let sink = Sink { write, rejects: Some(&mut each) };
            let done = self.read_through(path, format, mapping, sink, progress, cancelled)?;
            w.flush().map_err(|e| ConsoleError::File { path: to.to_owned(), source: e })?;
            let refused = done.refused;
            report = Some(done);
            Ok(refused)
        })?;
        report.ok_or_else(|| ConsoleError::Invalid("the import ended without a report".into()))
    }

    fn read_through(
        &self,
        path: &Path,
        format: &Format,
        mapping: &Mapping,
        mut sink: Sink<'_>,
        progress: &mut dyn FnMut(f32, u64),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<ImportReport, ConsoleError> {
        let started = Instant::now();
        let conn = self.workspace.connect()?;
        let model = store::data_model::load(&conn)?;
        let problems = mapping.problems(&model);
        if !problems.is_empty() {
            return Err(import::ImportError::Mapping(problems).into());
        }
        let after = mapping.applied_to(&model);
        store::data_model::validate(&after)?;
        let size = std::fs::metadata(path).map_or(1, |m| m.len().max(1));
        let rows = Rows::open(path, format, mapping, mapping.columns.len())?;
        let mut writer = if sink.write { Some(store::import::begin(&conn, &plan(&after, mapping))?) } else { None };
        let mut report =
            ImportReport { entity: mapping.entity.clone(), checked_only: writer.is_none(), ..Default::default() };
        let key_at = mapping.mapped().position(|(_, c)| c.target.as_deref() == Some(mapping.key.column()));
        let mut pointing = Pointing::new(&after, mapping, key_at);
        let refuse =
            |report: &mut ImportReport, sink: &mut Sink<'_>, rejects: Vec<Reject>| -> Result<(), ConsoleError> {
                report.refused += 1;
                if let Some(each) = sink.rejects.as_mut() {
                    for r in &rejects {
                        each(r)?;
                    }
                }
                let room = REJECTS_KEPT.saturating_sub(report.rejects.len());
                report.rejects.extend(rejects.into_iter().take(room));
                Ok(())
            };
        let bytes = rows.bytes_read();
        let mut failure: Option<ConsoleError> = None;
        let mut stopped = false;
        let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).clamp(1, 4);
        let mut each_batch = |batch: Vec<Row>| -> bool {
            if cancelled() {
                stopped = true;
                return false;
            }
            for row in batch {
                report.rows += 1;
                let done = match row {
                    Row::Refused(rejects) => refuse(&mut report, &mut sink, rejects),
                    Row::Good { line, values } => {
                        let Some(w) = writer.as_mut() else {
                            pointing.note(&values);
                            continue;
                        };
                        let cells: Vec<Cell<'_>> = values.iter().map(import::values::Value::cell).collect();
                        match w.write(&cells) {
                            Ok(store::import::Written::Row) => {
                                report.written += 1;
                                Ok(())
                            }
                            Ok(store::import::Written::KeyExists) => {
                                refuse(&mut report, &mut sink, vec![key_exists(line, mapping, &values, key_at)])
                            }
                            Err(e) => Err(e.into()),
                        }
                    }
                };
                if let Err(e) = done {
                    failure = Some(e);
                    return false;
                }
            }
            progress(
                (bytes.load(std::sync::atomic::Ordering::Relaxed) as f64 / size as f64).min(1.0) as f32,
                report.rows,
            );
            true
        };
        rows.run(workers, &mut each_batch)?;
        if let Some(e) = failure {
            return Err(e);
        }
        if stopped {
            return Err(ConsoleError::CannotRun("the import was cancelled: nothing was written".into()));
        }
        if cancelled() {
            return Err(ConsoleError::CannotRun("the import was cancelled: nothing was written".into()));
        }
        if report.rows == 0 {
            return Err(import::ImportError::NoRows(path.display().to_string()).into());
        }
        match writer {
            Some(w) => {
                report.dangling = w
                    .commit(&after, &mapping.entity)?
                    .into_iter()
                    .map(|(l, rows)| Dangling { link: l.name, parent: l.parent, rows })
                    .collect();
            }
            None => report.dangling = pointing.nowhere(&conn, &after)?,
        }
        progress(1.0, report.rows);
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Saves `mapping` under `name` for the next load.
    pub fn save_mapping(&self, name: &str, mapping: &Mapping) -> Result<(), ConsoleError> {
        if name.trim().is_empty() {
            return Err(ConsoleError::Invalid("give the mapping a name".into()));
        }
        let json =
            serde_json::to_string(mapping).map_err(|source| ConsoleError::Json { what: "the mapping", source })?;
        store::import::save_mapping(&self.workspace.conn(), name, &json, self.now())?;
        Ok(())
    }

    /// The mappings saved, by name.
    pub fn saved_mappings(&self) -> Result<Vec<(String, Mapping)>, ConsoleError> {
        store::import::mappings(&self.workspace.conn())?
            .into_iter()
            .map(|(name, json)| {
                let m = serde_json::from_str(&json)
                    .map_err(|e| store::StoreError::Damaged(format!("the saved mapping {name}: {e}")))?;
                Ok((name, m))
            })
            .collect()
    }

    fn start_import_job(self: &Arc<Self>, path: PathBuf, format: Format, mapping: Mapping, write: bool) {
        let job = self.jobs.start();
        let id = job.id;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let label = if write { format!("Importing {name}") } else { format!("Checking {name}") };
        self.outbox.offer(JobEvent::Started { id, label });
        self.spawn(move |console| {
            let mut report_progress = jobs::progress_rows_to(console.outbox.clone(), id);
            let mut progress = |fraction, rows| report_progress(fraction, Some(rows));
            let report = console.import_file(&path, &format, &mapping, write, None, &mut progress, &|| job.cancelled());
            drop(job);
            let what = if write { "The file was not imported" } else { "The file was not checked" };
            let report = report.map_err(|e| UserError::new(what, &e));
            let outcome = report.as_ref().map(ImportReport::summary).map_err(Clone::clone);
            let mut events = vec![JobEvent::Finished { id, outcome }.into(), ImportEvent::Report(report).into()];
            if write {
                events.push(console.refreshed(Refresh::Data));
            }
            events
        });
    }

    pub(super) fn import_command(self: &Arc<Self>, command: ImportCommand) {
        match command {
            ImportCommand::Sample { path, format } => self.spawn(move |console| {
                let sampled = console.import_sample(&path, format.as_ref()).and_then(|sample| {
                    let stem = path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
                    let mapping = console.guess_mapping(&sample, &stem)?;
                    Ok(Box::new((sample, mapping)))
                });
                vec![
                    ImportEvent::Sampled {
                        path,
                        sampled: sampled.map_err(|e| UserError::new("The file cannot be read", &e)),
                    }
                    .into(),
                ]
            }),
            ImportCommand::Guess { sample, entity } => self.spawn(move |console| {
                vec![match console.guess_mapping(&sample, &entity) {
                    Ok(m) => ImportEvent::Guessed(Box::new(m)).into(),
                    Err(e) => Event::Failed(UserError::new("Could not read the data model", &e)),
                }]
            }),
            ImportCommand::Check { path, format, mapping } => self.start_import_job(path, format, *mapping, false),
            ImportCommand::Import { path, format, mapping } => self.start_import_job(path, format, *mapping, true),
            ImportCommand::WriteRejects { path, format, mapping, to } => {
                self.start_file_job(to, "refused rows", move |c, to, cancelled| {
                    c.import_file(&path, &format, &mapping, false, Some(to), &mut |_, _| {}, cancelled)
                        .map(|r| r.refused)
                });
            }
            ImportCommand::SaveMapping { name, mapping } => self.spawn(move |console| {
                let mut events = Vec::new();
                if let Err(e) = console.save_mapping(&name, &mapping) {
                    events.push(Event::Failed(UserError::new("The mapping was not saved", &e)));
                }
                events.push(console.mappings_event());
                events
            }),
            ImportCommand::RefreshMappings => self.spawn(|console| vec![console.mappings_event()]),
        }
    }

    fn mappings_event(&self) -> Event {
        match self.saved_mappings() {
            Ok(list) => ImportEvent::Mappings(list).into(),
            Err(e) => Event::Failed(UserError::new("Could not read the saved mappings", &e)),
        }
    }
}
