//! Bringing customer data in from CSV or TSV files: how a file is read (`source.rs`: encoding,
//! delimiter, header, a sample), what goes where (`mapping.rs`), each cell as its column's
//! type (`values.rs`), and the rows read through a mapping, good or refused with the reason
//! (`rows.rs`). Nothing here writes to the workspace: the Console hands the good rows to
//! `store::import`, in one transaction.

pub mod mapping;
pub mod rows;
pub mod source;
pub mod values;

pub use mapping::{ColumnMapping, Key, Mapping, Mode};
pub use rows::{Reject, Row, Rows};
pub use source::{Encoding, Format, Sample};
pub use values::DateFormat;

/// Why a file cannot be imported at all (a row that cannot is a [`Reject`], not an error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file {path} cannot be opened: {why}")]
    Open { path: String, why: String },
    #[error("the file {path} cannot be read: {why}")]
    Read { path: String, why: String },
    #[error("the file {0} is empty: its first line should name the columns")]
    Empty(String),
    #[error("the file {0} has no rows under its first line: nothing to import")]
    NoRows(String),
    #[error(
        "a quote opened on line {0} is never closed: everything after it would be one value. Close the quote (or double a quote inside a value: \"\") and import again"
    )]
    UnclosedQuote(u64),
    #[error("the file cannot be read on: {0}")]
    Csv(String),
    #[error("the mapping cannot work: {}", .0.join("; "))]
    Mapping(Vec<String>),
}

impl ImportError {
    fn read(path: &std::path::Path, e: &std::io::Error) -> Self {
        Self::Read { path: path.display().to_string(), why: e.to_string() }
    }
}

/// What the CSV reader found wrong, in words.
fn csv_problem(e: &csv::Error) -> String {
    let line = e.position().map_or(0, csv::Position::line);
    match e.kind() {
        csv::ErrorKind::Io(io) => format!("a read failed near line {line}: {io}"),
        csv::ErrorKind::UnequalLengths { .. } => format!("line {line} has a different number of values"),
        _ => format!("line {line}: {e}"),
    }
}
