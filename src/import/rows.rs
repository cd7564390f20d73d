//! The file's rows read through a mapping: each row either ready to be written (its values
//! in the mapping's column order) or refused, with every cell that failed (line, column,
//! value, reason). Keys missing or repeated in the file, addresses that are not addresses and
//! lines of the wrong length are refusals too. Streams: one record at a time.

use std::collections::HashSet;
use std::path::Path;

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

/// Reads the rows of a file through a mapping.
pub struct Rows {
    reader: super::source::Records,
    /// The line of a quote not closed yet (0: none).
    open_quote: std::sync::Arc<std::sync::atomic::AtomicU64>,
    record: csv::ByteRecord,
    /// (file column, type, date format, namespace) per mapped column.
    columns: Vec<(usize, String, crate::model::ColumnType, values::DateFormat, Option<String>)>,
    width: usize,
    key: Option<usize>,
    keys: HashSet<i64>,
    country: Option<phonenumber::country::Id>,
    header: bool,
    /// Bytes read so far (for progress).
    pub bytes: u64,
}

/// A value as a reject shows it: at most 200 characters.
fn shown(raw: &str) -> String {
    let mut s: String = raw.chars().take(200).collect();
    if s.len() < raw.len() {
        s.push('…');
    }
    s
}

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
            columns,
            width,
            key,
            keys: HashSet::new(),
            country: mapping.default_country.parse().ok(),
            header: format.header,
            bytes: 0,
        })
    }

    /// The next row, `None` at the end of the file; an error when the file cannot be read on
    /// (a broken quote at the end, a disk error).
    pub fn next_row(&mut self) -> Result<Option<Row>, ImportError> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => {
                    return match self.open_quote.load(std::sync::atomic::Ordering::Relaxed) {
                        0 => Ok(None),
                        line => Err(ImportError::UnclosedQuote(line)),
                    };
                }
                Ok(true) => {}
                Err(e) => return Err(ImportError::Csv(csv_problem(&e))),
            }
            self.bytes = self.record.position().map_or(self.bytes, csv::Position::byte);
            let line = self.record.position().map_or(0, csv::Position::line);
            if std::mem::take(&mut self.header) {
                continue;
            }
            // A blank line is no row.
            if self.record.len() <= 1 && self.record.get(0).is_none_or(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            return Ok(Some(self.read(line)));
        }
    }

    fn read(&mut self, line: u64) -> Row {
        if self.record.len() != self.width {
            return Row::Refused(vec![Reject {
                line,
                column: String::new(),
                value: String::new(),
                reason: format!("the line has {} values where the first line names {}", self.record.len(), self.width),
            }]);
        }
        let mut rejects = Vec::new();
        let mut values = Vec::with_capacity(self.columns.len());
        for (at, (i, name, ty, format, namespace)) in self.columns.iter().enumerate() {
            let bytes = self.record.get(*i).unwrap_or_default();
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
                Ok(Value::Int(k)) if Some(at) == self.key && !self.keys.insert(k) => rejects.push(Reject {
                    line,
                    column: name.clone(),
                    value: shown(raw),
                    reason: format!("is the key {k} a second time in the file"),
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
