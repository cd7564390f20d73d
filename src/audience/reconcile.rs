//! Reconciliation's file side: reading a CSV file's header, naming its columns for SQL, and
//! loading its rows into a work table (streamed, in batches, cancellable).

use std::fs::File;
use std::io::{BufRead as _, BufReader};
use std::path::Path;

use rusqlite::Connection;
use sea_query::{Alias, Query, SqliteQueryBuilder};

use super::AudienceError;

/// A loaded file's rows are numbered from 1 in this column (the work table's key).
pub const LINE_KEY: &str = "key";

/// A column of the file: its header as written and the name the work table gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct FileColumn {
    pub header: String,
    pub alias: String,
}

/// What a Reconciliation step loads before its statements run.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvLoad {
    pub path: String,
    /// The table to fill (created by the step's first statement): `key` = data line number,
    /// `seg`, then one TEXT column per file column.
    pub table: String,
    pub delimiter: u8,
    pub columns: Vec<FileColumn>,
}

/// Why a Reconciliation's file cannot be used, in words for the marketer (the path as shown).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file {path} cannot be opened: {why}")]
    Open { path: String, why: String },
    #[error("the file {path} cannot be read: {why}")]
    Read { path: String, why: String },
    #[error("the file {0} is empty: its first line must name the columns")]
    Empty(String),
    #[error("column {column} of the file {path} has no name in the first line")]
    Unnamed { path: String, column: usize },
    #[error("the file {path} has two columns called \u{201c}{header}\u{201d}")]
    Twice { path: String, header: String },
    #[error("line {line} of the file {path} has {len} values where the first line names {expected} columns")]
    Ragged { path: String, line: u64, len: u64, expected: u64 },
    #[error("line {line} of the file {path} is not UTF-8 text (save the file as UTF-8 CSV)")]
    NotUtf8 { path: String, line: u64 },
    #[error("the file {path} cannot be read as CSV: {why}")]
    NotCsv { path: String, why: String },
    #[error("the file {0} changed while it was being counted: count again")]
    Changed(String),
}

/// The file's header: its columns, and the delimiter it uses (`,`, `;` or tab, whichever the
/// header line has most of).
pub fn read_header(path: &Path) -> Result<(u8, Vec<FileColumn>), FileError> {
    let shown = || path.display().to_string();
    let file = File::open(path).map_err(|e| FileError::Open { path: shown(), why: e.to_string() })?;
    let mut first = String::new();
    BufReader::new(file).read_line(&mut first).map_err(|e| FileError::Read { path: shown(), why: e.to_string() })?;
    let first = first.trim_start_matches('\u{feff}');
    if first.trim().is_empty() {
        return Err(FileError::Empty(shown()));
    }
    let delimiter =
        [b',', b';', b'\t'].into_iter().max_by_key(|d| first.bytes().filter(|b| b == d).count()).unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).from_path(path).map_err(|e| csv_error(path, e))?;
    let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    let mut columns: Vec<FileColumn> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let header = h.trim().trim_start_matches('\u{feff}').to_owned();
        if header.is_empty() {
            return Err(FileError::Unnamed { path: shown(), column: i + 1 });
        }
        if columns.iter().any(|c| c.header.eq_ignore_ascii_case(&header)) {
            return Err(FileError::Twice { path: shown(), header });
        }
        let mut alias = alias_for(&header);
        let base = alias.clone();
        let mut n = 2;
        while columns.iter().any(|c| c.alias == alias) {
            alias = format!("{base}_{n}");
            n += 1;
        }
        columns.push(FileColumn { header, alias });
    }
    Ok((delimiter, columns))
}

/// The work-table name of a file column: `file_` and its header in lower-case letters,
/// digits and `_` (so it cannot clash with the key or the enrichment aliases).
fn alias_for(header: &str) -> String {
    let mut s: String = header
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    s.truncate(40);
    format!("file_{}", if s.is_empty() { "column" } else { s.trim_end_matches('_') })
}

/// Finds a file column by its header (any case) or its alias.
pub fn find<'c>(columns: &'c [FileColumn], name: &str) -> Option<&'c FileColumn> {
    let name = name.trim();
    columns.iter().find(|c| c.header.eq_ignore_ascii_case(name) || c.alias == name)
}

/// A fingerprint of the file (size and modification time), so that a recount notices an
/// edited file.
pub fn fingerprint(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(m) => {
            let modified = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            format!("{}:{:?}", m.len(), modified)
        }
        Err(_) => "missing".to_owned(),
    }
}

/// What the compiler needs to know of a Reconciliation's file, read by its caller before
/// compiling (the compiler reads no file): its header, and a fingerprint (size and time) that
/// keys the work tables made from it.
#[derive(Clone, Debug, PartialEq)]
pub struct FileFacts {
    /// The delimiter and columns, or why the file cannot be read.
    pub header: Result<(u8, Vec<FileColumn>), FileError>,
    pub fingerprint: String,
}

/// The facts of every file `canvas`'s Reconciliation activities name, by path (trimmed).
pub fn file_facts(canvas: &crate::model::Canvas) -> std::collections::BTreeMap<String, FileFacts> {
    canvas
        .activities
        .iter()
        .filter_map(|a| match &a.kind {
            crate::model::ActivityKind::Reconciliation { file, .. } if !file.trim().is_empty() => Some(file.trim()),
            _ => None,
        })
        .map(|path| {
            let p = Path::new(path);
            (path.to_owned(), FileFacts { header: read_header(p), fingerprint: fingerprint(p) })
        })
        .collect()
}

fn csv_error(path: &Path, e: csv::Error) -> FileError {
    let path = path.display().to_string();
    let line = |pos: Option<&csv::Position>| pos.map_or(0, csv::Position::line);
    match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
            FileError::Ragged { path, line: line(pos.as_ref()), len: *len, expected: *expected_len }
        }
        csv::ErrorKind::Utf8 { pos, .. } => FileError::NotUtf8 { path, line: line(pos.as_ref()) },
        csv::ErrorKind::Io(io) => FileError::Read { path, why: io.to_string() },
        _ => FileError::NotCsv { path, why: e.to_string() },
    }
}

/// At most this many rows per INSERT while loading…
const BATCH: usize = 500;
/// …and at most this many bound values (SQLite allows 32,766).
const MAX_VALUES: usize = 30_000;

/// Loads the file's rows into `load.table`; empty cells become NULL (so they never match).
/// `cancelled` is checked between batches.
pub fn load(conn: &Connection, load: &CsvLoad, cancelled: &dyn Fn() -> bool) -> Result<u64, AudienceError> {
    let path = Path::new(&load.path);
    let (_, columns) = read_header(path)?;
    if columns != load.columns {
        return Err(FileError::Changed(path.display().to_string()).into());
    }
    let mut reader =
        csv::ReaderBuilder::new().delimiter(load.delimiter).from_path(path).map_err(|e| csv_error(path, e))?;
    let width = columns.len();
    let insert_sql = |rows: usize| {
        let mut q = Query::insert();
        let mut cols = vec![Alias::new(LINE_KEY)];
        cols.extend(columns.iter().map(|c| Alias::new(&c.alias)));
        q.into_table(Alias::new(&load.table)).columns(cols);
        for _ in 0..rows {
            let placeholders: Vec<sea_query::Expr> = (0..=width).map(|_| sea_query::Expr::cust("?")).collect();
            q.values_panic(placeholders);
        }
        q.to_string(SqliteQueryBuilder)
    };
    let batch = (MAX_VALUES / (width + 1)).clamp(1, BATCH);
    let full = insert_sql(batch);
    let mut values: Vec<rusqlite::types::Value> = Vec::with_capacity(batch * (width + 1));
    let mut line: i64 = 0;
    let mut loaded = 0u64;
    let flush = |values: &mut Vec<rusqlite::types::Value>, sql: &str| -> Result<(), AudienceError> {
        conn.execute(sql, rusqlite::params_from_iter(values.drain(..)))?;
        Ok(())
    };
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        line += 1;
        values.push(rusqlite::types::Value::Integer(line));
        for i in 0..width {
            let cell = record.get(i).map(str::trim).unwrap_or("");
            values.push(if cell.is_empty() {
                rusqlite::types::Value::Null
            } else {
                rusqlite::types::Value::Text(cell.to_owned())
            });
        }
        loaded += 1;
        if values.len() == batch * (width + 1) {
            if cancelled() {
                return Err(AudienceError::Cancelled);
            }
            flush(&mut values, &full)?;
        }
    }
    if !values.is_empty() {
        let rows = values.len() / (width + 1);
        flush(&mut values, &insert_sql(rows))?;
    }
    Ok(loaded)
}
