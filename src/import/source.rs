//! A file to import: its encoding (UTF-8 with or without BOM, UTF-16 by its BOM or its zero
//! bytes, else Latin-1 with a warning), delimiter, whether its first line names the columns,
//! and its first rows. The file is read as a stream: never whole in memory.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::ImportError;

/// How the file's bytes are text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    /// Western European single bytes (ISO-8859-1): what is left when the file is not UTF-8.
    Latin1,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Self::Utf8 => "UTF-8",
            Self::Utf16Le => "UTF-16 (little-endian)",
            Self::Utf16Be => "UTF-16 (big-endian)",
            Self::Latin1 => "Latin-1",
        }
    }
}

/// How to read a file: what sniffing found, which the user may change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Format {
    pub encoding: Encoding,
    /// `,`, `;`, tab or `|`.
    pub delimiter: u8,
    /// The first line names the columns (else they are `column_1`, `column_2`, …).
    pub header: bool,
}

/// The first rows of a file, as read with its format.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub format: Format,
    /// Said to the user: the file was read as Latin-1, lines have different lengths, ….
    pub warnings: Vec<String>,
    /// The column names: the first line's, or `column_1`, ….
    pub columns: Vec<String>,
    /// Up to [`SAMPLE_ROWS`] rows after the header, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
}

/// How many rows a sample shows.
pub const SAMPLE_ROWS: usize = 100;

/// How many bytes sniffing looks at.
const SNIFF_BYTES: usize = 64 * 1024;

/// The delimiters sniffing tries.
pub const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The name of a delimiter, as a form shows it.
pub fn delimiter_label(d: u8) -> &'static str {
    match d {
        b',' => "comma",
        b';' => "semicolon",
        b'\t' => "tab",
        b'|' => "vertical bar",
        _ => "other",
    }
}

/// Reads the start of `path` and guesses how to read it.
pub fn sniff(path: &Path) -> Result<Sample, ImportError> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    open(path)?.take(SNIFF_BYTES as u64).read_to_end(&mut head).map_err(|e| ImportError::read(path, &e))?;
    if head.is_empty() {
        return Err(ImportError::Empty(path.display().to_string()));
    }
    let encoding = encoding_of(&head);
    let text = decode_all(&head, encoding);
    // The sample may end in the middle of a line: leave that line out.
    let text = match text.rfind('\n') {
        Some(i) if head.len() == SNIFF_BYTES => &text[..=i],
        _ => text.as_str(),
    };
    let delimiter = delimiter_of(text);
    let header = has_header(text, delimiter);
    let format = Format { encoding, delimiter, header };
    sample(path, &format)
}

/// The first rows of `path` read with `format` (after the user changed what sniffing found).
pub fn sample(path: &Path, format: &Format) -> Result<Sample, ImportError> {
    let mut reader = records(path, format)?;
    let mut warnings = Vec::new();
    if format.encoding == Encoding::Latin1 {
        warnings.push(
            "The file is not UTF-8: it was read as Latin-1 (Western European). Check that accented letters look right; \
             if not, save the file as UTF-8 CSV and import it again."
                .to_owned(),
        );
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut first: Option<Vec<String>> = None;
    let mut record = csv::ByteRecord::new();
    let mut ragged = false;
    while rows.len() < SAMPLE_ROWS {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                warnings.push(format!("Reading stopped early: {}", super::csv_problem(&e)));
                break;
            }
        }
        let fields: Vec<String> = record.iter().map(|f| String::from_utf8_lossy(f).trim().to_owned()).collect();
        if first.is_none() && format.header {
            first = Some(fields);
            continue;
        }
        if let Some(f) = &first
            && fields.len() != f.len()
        {
            ragged = true;
        }
        rows.push(fields);
    }
    let width = first.as_ref().map_or_else(|| rows.iter().map(Vec::len).max().unwrap_or(0), Vec::len);
    let columns = match first {
        Some(names) => column_names(names, &mut warnings),
        None => (1..=width).map(|i| format!("column_{i}")).collect(),
    };
    if columns.is_empty() {
        return Err(ImportError::Empty(path.display().to_string()));
    }
    if ragged {
        warnings.push(
            "Some lines have more or fewer values than the first line names: they will be refused, each with its line."
                .to_owned(),
        );
    }
    for row in &mut rows {
        row.resize(columns.len(), String::new());
    }
    Ok(Sample { format: format.clone(), warnings, columns, rows })
}

/// A CSV reader of a decoded file.
pub type Records = csv::Reader<Box<dyn Read + Send>>;

/// A CSV reader of `path` as `format` says: decoded to UTF-8, the byte order mark dropped,
/// every line read as a record (the header too, when there is one).
pub fn records(path: &Path, format: &Format) -> Result<Records, ImportError> {
    Ok(watched_records(path, format)?.0)
}

/// [`records`], and the line where a quote was opened and is not closed yet (0: none), as
/// far as the reader has read: at the end of the file, a quote never closed.
pub fn watched_records(path: &Path, format: &Format) -> Result<(Records, Arc<AtomicU64>), ImportError> {
    let file = open(path)?;
    let open_quote = Arc::new(AtomicU64::new(0));
    let decoded = Decoder::new(BufReader::with_capacity(1 << 16, file), format.encoding);
    let watched: Box<dyn Read + Send> = Box::new(QuoteWatch::new(decoded, format.delimiter, Arc::clone(&open_quote)));
    let reader = csv::ReaderBuilder::new()
        .delimiter(format.delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(watched);
    Ok((reader, open_quote))
}

/// Where a field stands, as the CSV reader sees it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the end of the field, or the first of two.
    QuoteInQuoted,
}

/// Follows the quotes of the text going through to the CSV reader (which reads a quote never
/// closed as a value running to the end of the file, without a word).
struct QuoteWatch<R> {
    inner: R,
    delimiter: u8,
    state: Quoting,
    line: u64,
    opened_on: u64,
    open_quote: Arc<AtomicU64>,
}

impl<R> QuoteWatch<R> {
    fn new(inner: R, delimiter: u8, open_quote: Arc<AtomicU64>) -> Self {
        Self { inner, delimiter, state: Quoting::FieldStart, line: 1, opened_on: 0, open_quote }
    }
}

impl<R: Read> Read for QuoteWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            let end = b == self.delimiter || b == b'\n' || b == b'\r';
            self.state = match (self.state, b) {
                (Quoting::FieldStart, b'"') => {
                    self.opened_on = self.line;
                    Quoting::Quoted
                }
                (Quoting::FieldStart | Quoting::Unquoted, _) if end => Quoting::FieldStart,
                (Quoting::FieldStart | Quoting::Unquoted, _) => Quoting::Unquoted,
                (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
                // A doubled quote is a quote inside the value.
                (Quoting::QuoteInQuoted, b'"') | (Quoting::Quoted, _) => Quoting::Quoted,
                (Quoting::QuoteInQuoted, _) if end => Quoting::FieldStart,
                (Quoting::QuoteInQuoted, _) => Quoting::Unquoted,
            };
            if b == b'\n' {
                self.line += 1;
            }
        }
        let open = if self.state == Quoting::Quoted { self.opened_on } else { 0 };
        self.open_quote.store(open, Ordering::Relaxed);
        Ok(n)
    }
}

fn open(path: &Path) -> Result<File, ImportError> {
    if path.is_dir() {
        return Err(ImportError::Open { path: path.display().to_string(), why: "it is a folder".into() });
    }
    File::open(path).map_err(|e| ImportError::Open { path: path.display().to_string(), why: e.to_string() })
}

/// The encoding of a file from its first bytes.
fn encoding_of(head: &[u8]) -> Encoding {
    match head {
        [0xEF, 0xBB, 0xBF, ..] => return Encoding::Utf8,
        [0xFF, 0xFE, ..] => return Encoding::Utf16Le,
        [0xFE, 0xFF, ..] => return Encoding::Utf16Be,
        _ => {}
    }
    // UTF-16 without a byte order mark: text in Latin letters has a zero byte in every pair.
    let pairs = head.len() / 2;
    if pairs >= 2 {
        let zero_odd = head.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        let zero_even = head.iter().step_by(2).filter(|b| **b == 0).count();
        if zero_odd * 10 >= pairs * 7 && zero_even * 10 < pairs {
            return Encoding::Utf16Le;
        }
        if zero_even * 10 >= pairs * 7 && zero_odd * 10 < pairs {
            return Encoding::Utf16Be;
        }
    }
    match std::str::from_utf8(head) {
        Ok(_) => Encoding::Utf8,
        // The sample may cut a character in two at its end.
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        // Accented letters in UTF-8 beside bytes that are not: a file of mixed encodings, read
        // as UTF-8 so that its other lines are refused rather than quietly garbled.
        Err(_) if head.utf8_chunks().any(|c| !c.valid().is_ascii()) => Encoding::Utf8,
        Err(_) => Encoding::Latin1,
    }
}

fn decode_all(bytes: &[u8], encoding: Encoding) -> String {
    let mut out = String::new();
    let mut d = Decoder::new(bytes, encoding);
    let mut buf = Vec::new();
    // Reading from a slice cannot fail.
    if d.read_to_end(&mut buf).is_ok() {
        out = String::from_utf8_lossy(&buf).into_owned();
    }
    out
}

/// The delimiter that splits the sample's lines into the same number of fields (more than
/// one), most often; a comma when none does.
fn delimiter_of(text: &str) -> u8 {
    let mut best = (b',', 0usize, 0usize);
    for d in DELIMITERS {
        let mut reader =
            csv::ReaderBuilder::new().delimiter(d).has_headers(false).flexible(true).from_reader(text.as_bytes());
        let widths: Vec<usize> = reader.byte_records().take(50).filter_map(Result::ok).map(|r| r.len()).collect();
        let Some(&first) = widths.first() else { continue };
        if first < 2 {
            continue;
        }
        let same = widths.iter().filter(|w| **w == first).count();
        if (same, first) > (best.1, best.2) {
            best = (d, same, first);
        }
    }
    best.0
}

/// Whether the first line names the columns: none of its fields is a number or a date, and
/// most are not empty (a column without a name gets one).
fn has_header(text: &str, delimiter: u8) -> bool {
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    let Some(Ok(first)) = reader.records().next() else { return false };
    let names: Vec<&str> = first.iter().map(str::trim).collect();
    let named = names.iter().filter(|n| !n.is_empty()).count();
    named * 2 > names.len()
        && names.iter().all(|n| n.parse::<f64>().is_err() && n.parse::<jiff::civil::Date>().is_err())
}

/// The columns' names from the header line: an empty one becomes `column_<n>`, a repeated one
/// gets `_2`, `_3`… (said in `warnings`).
fn column_names(first: Vec<String>, warnings: &mut Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(first.len());
    for (i, name) in first.into_iter().enumerate() {
        let base = if name.is_empty() { format!("column_{}", i + 1) } else { name };
        let mut name = base.clone();
        let mut n = 2;
        while out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
            name = format!("{base}_{n}");
            n += 1;
        }
        if name != base {
            warnings.push(format!("Two columns are called \u{201c}{base}\u{201d}: the second is {name} here."));
        }
        out.push(name);
    }
    out
}

/// Bytes of `encoding` read as UTF-8, the byte order mark dropped.
pub struct Decoder<R> {
    inner: R,
    encoding: Encoding,
    /// Decoded bytes not handed out yet.
    out: Vec<u8>,
    at: usize,
    /// An odd byte of UTF-16 waiting for its pair; a high surrogate waiting for its low one.
    odd: Option<u8>,
    high: Option<u16>,
    started: bool,
}

impl<R: Read> Decoder<R> {
    pub fn new(inner: R, encoding: Encoding) -> Self {
        Self { inner, encoding, out: Vec::new(), at: 0, odd: None, high: None, started: false }
    }

    fn refill(&mut self) -> std::io::Result<bool> {
        let mut raw = [0u8; 1 << 15];
        let n = self.inner.read(&mut raw)?;
        self.out.clear();
        self.at = 0;
        if n == 0 {
            if self.odd.take().is_some() || self.high.take().is_some() {
                self.out.extend_from_slice("\u{fffd}".as_bytes());
                return Ok(true);
            }
            return Ok(false);
        }
        let mut bytes = &raw[..n];
        if !self.started {
            self.started = true;
            let bom: &[u8] = match self.encoding {
                Encoding::Utf8 => &[0xEF, 0xBB, 0xBF],
                Encoding::Utf16Le => &[0xFF, 0xFE],
                Encoding::Utf16Be => &[0xFE, 0xFF],
                Encoding::Latin1 => &[],
            };
            if !bom.is_empty() && bytes.starts_with(bom) {
                bytes = &bytes[bom.len()..];
            }
        }
        match self.encoding {
            // Invalid UTF-8 passes through: the row that holds it is refused with its line.
            Encoding::Utf8 => self.out.extend_from_slice(bytes),
            Encoding::Latin1 => {
                for &b in bytes {
                    let mut buf = [0u8; 4];
                    self.out.extend_from_slice(char::from(b).encode_utf8(&mut buf).as_bytes());
                }
            }
            Encoding::Utf16Le | Encoding::Utf16Be => self.utf16(bytes),
        }
        Ok(true)
    }

    fn utf16(&mut self, bytes: &[u8]) {
        let mut i = 0;
        let mut units = Vec::with_capacity(bytes.len() / 2 + 1);
        if let Some(first) = self.odd.take()
            && let Some(&second) = bytes.first()
        {
            units.push(self.unit(first, second));
            i = 1;
        }
        while i + 1 < bytes.len() {
            units.push(self.unit(bytes[i], bytes[i + 1]));
            i += 2;
        }
        if i < bytes.len() {
            self.odd = Some(bytes[i]);
        }
        if let Some(h) = self.high.take() {
            units.insert(0, h);
        }
        // A high surrogate at the end waits for the next chunk.
        if units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
            self.high = units.pop();
        }
        for c in char::decode_utf16(units) {
            let c = c.unwrap_or('\u{fffd}');
            let mut buf = [0u8; 4];
            self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }

    fn unit(&self, a: u8, b: u8) -> u16 {
        if self.encoding == Encoding::Utf16Le { u16::from_le_bytes([a, b]) } else { u16::from_be_bytes([a, b]) }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.out.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(bytes: &[u8], e: Encoding) -> String {
        decode_all(bytes, e)
    }

    #[test]
    fn encodings_are_told_apart_and_decoded() {
        assert_eq!(encoding_of(b"\xEF\xBB\xBFid,name\n"), Encoding::Utf8);
        assert_eq!(encoding_of("id,name\nZoë\n".as_bytes()), Encoding::Utf8);
        assert_eq!(encoding_of(b"id,name\nZo\xEB\n"), Encoding::Latin1);
        let le: Vec<u8> = "\u{feff}id,név\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(encoding_of(&le), Encoding::Utf16Le);
        assert_eq!(decoded(&le, Encoding::Utf16Le), "id,név\n");
        let be_no_bom: Vec<u8> = "id,name\n1,Ann\n".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(encoding_of(&be_no_bom), Encoding::Utf16Be);
        assert_eq!(decoded(b"\xEF\xBB\xBFa", Encoding::Utf8), "a");
        assert_eq!(decoded(b"Zo\xEB", Encoding::Latin1), "Zoë");
    }

    #[test]
    fn the_decoder_joins_characters_cut_between_chunks() {
        let text = "😀é".repeat(20_000);
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut out = String::new();
        Decoder::new(std::io::Cursor::new(le), Encoding::Utf16Le).read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn delimiter_and_header_are_guessed() {
        assert_eq!(delimiter_of("a;b;c\n1;2,5;3\n"), b';');
        assert_eq!(delimiter_of("a\tb\n1\t2\n"), b'\t');
        assert_eq!(delimiter_of("a,b\n1,2\n"), b',');
        assert!(has_header("id,email\n1,a@b.c\n", b','));
        assert!(!has_header("1,a@b.c\n2,c@d.e\n", b','));
        assert!(has_header("id,,name\n1,2,3\n", b','), "a column without a name is still a header");
        let mut w = Vec::new();
        assert_eq!(column_names(vec!["id".into(), String::new(), "ID".into()], &mut w), ["id", "column_2", "ID_2"]);
        assert_eq!(w.len(), 1);
    }
}
