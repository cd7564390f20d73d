//! How a canvas compiles: the dialect, the clock, the data version and the saved audiences,
//! all given by the caller (the compiler reads no clock of its own).

use std::collections::BTreeMap;

use super::Dialect;
use super::reconcile::FileFacts;

/// How to compile.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    pub dialect: Dialect,
    /// "Today" and "now" for relative dates ("in the last 30 days").
    pub now: jiff::Timestamp,
    /// The workspace's data version: work tables computed on older data are not reused.
    pub data_version: i64,
    /// The saved audiences a Read audience activity can read.
    pub audiences: Vec<crate::model::SavedAudience>,
    /// The files Reconciliation activities read, by path: read by the caller
    /// ([`CompileOptions::with_files`]), never by the compiler.
    pub files: BTreeMap<String, FileFacts>,
    /// The X service an X direct message that names none sends through (the X channel's
    /// default credential), by name: its visitors are those the message can reach.
    pub default_x_service: Option<String>,
    /// Column sets whose non-empty values the caller found distinct at this data version
    /// (`store::column_facts`), by entity: a Deduplication on one removes nothing, so it is
    /// a pass-through instead of a sort. Empty: nothing known, every deduplication sorts.
    pub distinct: Vec<(String, Vec<String>)>,
    /// Whether an Enrichment's aggregates of linked rows are kept as facts in the workspace
    /// (`compile/facts.rs`): filled once per data version, then read by key. SQLite only;
    /// off, each count aggregates the linked rows again.
    pub aggregate_facts: bool,
}

impl CompileOptions {
    /// Options with no saved audience.
    pub fn new(dialect: Dialect, now: jiff::Timestamp, data_version: i64) -> Self {
        Self {
            dialect,
            now,
            data_version,
            audiences: Vec::new(),
            files: BTreeMap::new(),
            default_x_service: None,
            distinct: Vec::new(),
            aggregate_facts: false,
        }
    }

    /// The column sets of `canvas`'s deduplications, with each entity of `model` that has
    /// them: the facts [`CompileOptions::distinct`] could use.
    pub fn facts_wanted<'m>(
        canvas: &crate::model::Canvas,
        model: &'m crate::model::DataModel,
    ) -> Vec<(&'m crate::model::Entity, Vec<String>)> {
        let mut wanted = Vec::new();
        for a in &canvas.activities {
            let crate::model::ActivityKind::Deduplication { columns, .. } = &a.kind else { continue };
            for entity in &model.entities {
                let has_all = !columns.is_empty() && columns.iter().all(|c| entity.column(c).is_some());
                if has_all
                    && !wanted
                        .iter()
                        .any(|(e, c): &(&crate::model::Entity, Vec<String>)| e.name == entity.name && c == columns)
                {
                    wanted.push((entity, columns.clone()));
                }
            }
        }
        wanted
    }

    /// Whether the non-empty values of `columns` of `entity` are known distinct.
    pub fn is_distinct(&self, entity: &str, columns: &[String]) -> bool {
        self.distinct.iter().any(|(e, c)| e == entity && c == columns)
    }

    /// These options with the facts of the files `canvas` reconciles (read now).
    #[must_use]
    pub fn with_files(mut self, canvas: &crate::model::Canvas) -> Self {
        self.files = super::reconcile::file_facts(canvas);
        self
    }

    /// The facts of the file at `path`, when they were read.
    pub fn file(&self, path: &str) -> Option<&FileFacts> {
        self.files.get(path.trim())
    }

    /// The saved audience of this name (any case, as the workspace compares names).
    pub fn audience(&self, name: &str) -> Option<&crate::model::SavedAudience> {
        self.audiences.iter().find(|s| s.name.eq_ignore_ascii_case(name.trim()))
    }
}
