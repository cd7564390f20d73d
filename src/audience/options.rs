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
    /// Timestamp columns (entity, column) whose every value the caller found to be UTC text
    /// to the second (`YYYY-MM-DDTHH:MM:SSZ`, or NULL) at this data version
    /// (`store::column_facts`): compared and sorted as stored, not normalized row by row
    /// (`strftime`, some 2 µs a row on SQLite). Empty: every instant is normalized.
    pub canonical_instants: Vec<(String, String)>,
    /// Whether counts keep what they compute again and again in the workspace, and read it
    /// there (SQLite only): an Enrichment's aggregates of linked rows (`compile/facts.rs`,
    /// filled once per data version) and the checks of phone numbers against their
    /// country's plan (`compile/address_checks.rs`, kept by number). Off, each count
    /// computes them again.
    pub kept_facts: bool,
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
            canonical_instants: Vec::new(),
            kept_facts: false,
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

    /// The timestamp columns (entity, column) that `canvas` may name: those whose name is a
    /// text of its definition. Facts [`CompileOptions::canonical_instants`] could use (a name
    /// taken for another thing only costs the finding of a fact that is not used).
    pub fn instants_wanted<'m>(
        canvas: &crate::model::Canvas,
        model: &'m crate::model::DataModel,
    ) -> Vec<(&'m crate::model::Entity, &'m str)> {
        let mut texts = std::collections::HashSet::new();
        if let Ok(serde_json::Value::Array(activities)) = serde_json::to_value(&canvas.activities) {
            collect_texts(&serde_json::Value::Array(activities), &mut texts);
        }
        let mut wanted = Vec::new();
        for entity in &model.entities {
            for c in &entity.columns {
                if c.column_type == crate::model::ColumnType::Timestamp && texts.contains(c.name.as_str()) {
                    wanted.push((entity, c.name.as_str()));
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

/// Every text in `v`, at any depth.
fn collect_texts(v: &serde_json::Value, out: &mut std::collections::HashSet<String>) {
    match v {
        serde_json::Value::String(s) => {
            out.insert(s.clone());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_texts(i, out)),
        serde_json::Value::Object(fields) => fields.values().for_each(|f| collect_texts(f, out)),
        _ => {}
    }
}
