//! The file's rows read through a mapping: each row either ready to be written (its values
//! in the mapping's column order) or refused, with every cell that failed (line, column,
//! value, reason). Keys missing or repeated in the file, addresses that are not addresses and
//! lines of the wrong length are refusals too. Streams: one record at a time.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use super::mapping::{Key, Mapping};
use super::source::{Format, watched_records};
use super::values::{self, CellProblem, Value};
use super::{ImportError, csv_problem};
use crate::model::address::{AddressKind, valid_address};

/// One refused cell (or line, `column` empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// The line of the file (1 is the first).
    pub line: u64,
    pub column: String,
    /// The value as the file has it (cut to 200 characters).
    pub value: String,
    pub reason: String,
}

/// A row of the file, read.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// Values in the order of the mapping's mapped columns; the key is among them unless the
    /// rows are numbered.
    Good {
        line: u64,
        values: Vec<Value>,
    },
    Refused(Vec<Reject>),
}

/// How each record becomes a row: what the mapping says of each column. Shared by the threads
/// that parse.
struct Parser {
    /// (file column, its name, type, date format, namespace) per mapped column.
    columns: Vec<(usize, String, crate::model::ColumnType, values::DateFormat, Option<String>)>,
    width: usize,
    /// The key's place among the mapped columns (none: numbered rows).
    key: Option<usize>,
    country: Option<phonenumber::country::Id>,
}

/// Reads the rows of a file through a mapping, in batches parsed on several threads
/// ([`Rows::run`]), handed on in file order: a key seen twice is refused the second time.
pub struct Rows {
    reader: super::source::Records,
    /// The line of a quote not closed yet (0: none).
    open_quote: Arc<AtomicU64>,
    record: csv::ByteRecord,
    parser: Arc<Parser>,
    keys: HashSet<i64>,
    header: bool,
    /// Bytes read so far (for progress).
    bytes: Arc<AtomicU64>,
}

/// A value as a reject shows it: at most 200 characters.
fn shown(raw: &str) -> String {
    let mut s: String = raw.chars().take(200).collect();
    if s.len() < raw.len() {
        s.push('…');
    }
    s
}

/// How many records a batch holds.
const BATCH: usize = 2048;

impl Rows {
    pub fn open(path: &Path, format: &Format, mapping: &Mapping, width: usize) -> Result<Self, ImportError> {
        let columns: Vec<_> = mapping
            .mapped()
            .map(|(i, c)| (i, c.source.clone(), c.column_type, c.date_format, c.namespace.clone()))
            .collect();
        let key = match &mapping.key {
            Key::Column(k) => mapping.mapped().position(|(_, c)| c.target.as_deref() == Some(k.as_str())),
            Key::Numbered(_) => None,
        };
        let (reader, open_quote) = watched_records(path, format)?;
        Ok(Self {
            reader,
            open_quote,
            record: csv::ByteRecord::new(),
            parser: Arc::new(Parser { columns, width, key, country: mapping.default_country.parse().ok() }),
            keys: HashSet::new(),
            header: format.header,
            bytes: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Bytes of the (decoded) file read so far, as they are read (for progress).
    pub fn bytes_read(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.bytes)
    }

    /// The next record that is a row (not the header, not a blank line) and its line, into
    /// `self.record`; `None` at the end of the file.
    fn next_record(&mut self) -> Result<Option<u64>, ImportError> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => {
                    return match self.open_quote.load(Ordering::Relaxed) {
                        0 => Ok(None),
                        line => Err(ImportError::UnclosedQuote(line)),
                    };
                }
                Ok(true) => {}
                Err(e) => return Err(ImportError::Csv(csv_problem(&e))),
            }
            if let Some(p) = self.record.position() {
                self.bytes.store(p.byte(), Ordering::Relaxed);
            }
            let line = self.record.position().map_or(0, csv::Position::line);
            if std::mem::take(&mut self.header) {
                continue;
            }
            // A blank line is no row.
            if self.record.len() <= 1 && self.record.get(0).is_none_or(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            return Ok(Some(line));
        }
    }

    /// Reads every row, parsing batches on `workers` threads while the file is read on
    /// another, and hands them to `sink` in file order; `sink` returns `false` to stop.
    pub fn run(mut self, workers: usize, sink: &mut dyn FnMut(Vec<Row>) -> bool) -> Result<(), ImportError> {
        let workers = workers.max(1);
        let shared = Arc::clone(&self.parser);
        let parser: &Parser = &shared;
        let mut keys = std::mem::take(&mut self.keys);
        std::thread::scope(|scope| {
            let mut to_workers = Vec::with_capacity(workers);
            let mut from_workers = Vec::with_capacity(workers);
            for _ in 0..workers {
                let (tx, rx) = mpsc::sync_channel::<Vec<(u64, csv::ByteRecord)>>(2);
                let (out_tx, out_rx) = mpsc::sync_channel::<Vec<Row>>(2);
                scope.spawn(move || {
                    for batch in rx {
                        let rows = batch.iter().map(|(line, r)| parser.parse(*line, r)).collect();
                        if out_tx.send(rows).is_err() {
                            return;
                        }
                    }
                });
                to_workers.push(tx);
                from_workers.push(out_rx);
            }
            let reader = &mut self;
            let read = scope.spawn(move || -> Result<(), ImportError> {
                let mut n = 0usize;
                loop {
                    let mut batch = Vec::with_capacity(BATCH);
                    while batch.len() < BATCH {
                        match reader.next_record()? {
                            Some(line) => batch.push((line, reader.record.clone())),
                            None => break,
                        }
                    }
                    let last = batch.len() < BATCH;
                    if !batch.is_empty() && to_workers[n % workers].send(batch).is_err() {
                        return Ok(());
                    }
                    n += 1;
                    if last {
                        return Ok(());
                    }
                }
            });
            let mut n = 0usize;
            while let Ok(batch) = from_workers[n % workers].recv() {
                n += 1;
                let rows = batch.into_iter().map(|row| once(&mut keys, parser, row)).collect();
                if !sink(rows) {
                    break;
                }
            }
            drop(from_workers);
            read.join().unwrap_or(Ok(()))
        })
    }
}

/// `row`, refused when its key was seen before (in file order).
fn once(keys: &mut HashSet<i64>, parser: &Parser, row: Row) -> Row {
    let Row::Good { line, values } = &row else { return row };
    let Some(Value::Int(k)) = parser.key.and_then(|i| values.get(i)) else { return row };
    if keys.insert(*k) {
        return row;
    }
    let column = parser.key.and_then(|i| parser.columns.get(i)).map_or_else(String::new, |c| c.1.clone());
    Row::Refused(vec![Reject {
        line: *line,
        column,
        value: k.to_string(),
        reason: format!("is the key {k} a second time in the file"),
    }])
}

impl Parser {
    /// A record as a row: its values, or every cell refused (a missing key too).
    fn parse(&self, line: u64, record: &csv::ByteRecord) -> Row {
        if record.len() != self.width {
            return Row::Refused(vec![Reject {
                line,
                column: String::new(),
                value: String::new(),
                reason: format!("the line has {} values where the first line names {}", record.len(), self.width),
            }]);
        }
        let mut rejects = Vec::new();
        let mut values = Vec::with_capacity(self.columns.len());
        for (at, (i, name, ty, format, namespace)) in self.columns.iter().enumerate() {
            let bytes = record.get(*i).unwrap_or_default();
            let Ok(raw) = std::str::from_utf8(bytes) else {
                rejects.push(Reject {
                    line,
                    column: name.clone(),
                    value: shown(&String::from_utf8_lossy(bytes)),
                    reason: "is not UTF-8 text (the file mixes encodings: save it as UTF-8 CSV)".into(),
                });
                values.push(Value::Null);
                continue;
            };
            let value = values::read(*ty, *format, raw).and_then(|v| address(v, namespace.as_deref(), self.country));
            match value {
                Ok(Value::Null) if Some(at) == self.key => rejects.push(Reject {
                    line,
                    column: name.clone(),
                    value: String::new(),
                    reason: "is the key and is empty".into(),
                }),
                Ok(v) => values.push(v),
                Err(e) => {
                    rejects.push(Reject { line, column: name.clone(), value: shown(raw), reason: e.to_string() });
                    values.push(Value::Null);
                }
            }
        }
        if rejects.is_empty() { Row::Good { line, values } } else { Row::Refused(rejects) }
    }
}

/// A value of an identity namespace checked (email) or written the one way (phone, E.164).
fn address(v: Value, namespace: Option<&str>, country: Option<phonenumber::country::Id>) -> Result<Value, CellProblem> {
    let Value::Text(t) = &v else { return Ok(v) };
    match namespace {
        Some("email") => {
            let lower = t.to_lowercase();
            if valid_address(AddressKind::Email, &lower) { Ok(Value::Text(lower)) } else { Err(CellProblem::NotEmail) }
        }
        Some("phone") => phone(t, country).map(Value::Text),
        _ => Ok(v),
    }
}

/// A phone number in E.164 (`+33612345678`): written with `+` or `00`, or in `country`'s
/// national form.
pub fn phone(raw: &str, country: Option<phonenumber::country::Id>) -> Result<String, CellProblem> {
    let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}')).collect();
    let international = compact.strip_prefix("00").map(|rest| format!("+{rest}"));
    let candidate = international.as_deref().unwrap_or(&compact);
    // Already E.164 and valid: no need to parse it again.
    if candidate.starts_with('+') && valid_address(AddressKind::Phone, candidate) {
        return Ok(candidate.to_owned());
    }
    let region = if candidate.starts_with('+') { None } else { country };
    if region.is_none() && !candidate.starts_with('+') {
        return Err(CellProblem::NotPhone(" (no country: write it with +, or choose the default country)".into()));
    }
    match phonenumber::parse(region, candidate) {
        // E.164 is the country code and the national number with its leading zeros (Italy).
        Ok(n) if phonenumber::is_valid(&n) => {
            let zeros = "0".repeat(usize::from(n.national().zeros()));
            Ok(format!("+{}{zeros}{}", n.code().value(), n.national().value()))
        }
        Ok(_) => Err(CellProblem::NotPhone(match region {
            Some(r) => format!(" valid in {}", r.as_ref()),
            None => String::new(),
        })),
        Err(_) => Err(CellProblem::NotPhone(String::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_written_in_e164_from_national_and_international_forms() {
        let fr = Some(phonenumber::country::Id::FR);
        assert_eq!(phone("06 12 34 56 78", fr).unwrap(), "+33612345678");
        assert_eq!(phone("+33 6 12 34 56 78", None).unwrap(), "+33612345678");
        assert_eq!(phone("0033612345678", None).unwrap(), "+33612345678");
        assert_eq!(phone("(415) 555-2671", Some(phonenumber::country::Id::US)).unwrap(), "+14155552671");
        assert_eq!(phone("+39 06 6982 0000", None).unwrap(), "+390669820000", "Italy keeps its leading zero");
        assert!(phone("12", fr).is_err());
        assert!(phone("0612345678", None).is_err());
    }
}
