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
}

impl CompileOptions {
    /// Options with no saved audience.
    pub fn new(dialect: Dialect, now: jiff::Timestamp, data_version: i64) -> Self {
        Self { dialect, now, data_version, audiences: Vec::new(), files: BTreeMap::new(), default_x_service: None }
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
