//! One cell of a file as a typed value of a customer table: how dates and times are written
//! (detected from the file, editable), what a number or a yes/no may look like, and why a
//! cell cannot be read, in words a marketer understands.

use serde::{Deserialize, Serialize};

use crate::model::ColumnType;

/// How a date (or the date part of a timestamp) is written in the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateFormat {
    /// `2026-03-31`, `2026-03-31T14:05:00Z`, `2026-03-31 14:05:00`.
    #[default]
    Iso,
    /// `31/03/2026` (also with `-` or `.`), optionally followed by `14:05[:00]`.
    DayMonthYear,
    /// `03/31/2026`, optionally followed by a time.
    MonthDayYear,
    /// Seconds since 1970-01-01 UTC (`1774965900`); milliseconds when it has 13 digits.
    Epoch,
}

impl DateFormat {
    pub const ALL: [Self; 4] = [Self::Iso, Self::DayMonthYear, Self::MonthDayYear, Self::Epoch];

    pub fn label(self) -> &'static str {
        match self {
            Self::Iso => "ISO (2026-03-31)",
            Self::DayMonthYear => "dd/mm/yyyy",
            Self::MonthDayYear => "mm/dd/yyyy",
            Self::Epoch => "seconds since 1970 (epoch)",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iso => "iso",
            Self::DayMonthYear => "dd/mm/yyyy",
            Self::MonthDayYear => "mm/dd/yyyy",
            Self::Epoch => "epoch",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|f| f.as_str() == s || (s == "dmy" && *f == Self::DayMonthYear))
    }
}

/// A cell read as its column's type, ready to be written.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    /// The value as the store writes it.
    pub fn cell(&self) -> crate::model::Cell<'_> {
        match self {
            Self::Null => crate::model::Cell::Null,
            Self::Int(n) => crate::model::Cell::Int(*n),
            Self::Real(x) => crate::model::Cell::Real(*x),
            Self::Text(s) => crate::model::Cell::Text(s),
        }
    }
}

/// Why a cell cannot be read as its column's type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CellProblem {
    #[error("is not a whole number")]
    NotInteger,
    #[error("has a thousands separator: write the number without it (1234567)")]
    Thousands,
    #[error("is not a number")]
    NotNumber,
    #[error("is not yes or no (true/false, yes/no, 1/0)")]
    NotBoolean,
    #[error("is not a date written {0}")]
    NotDate(&'static str),
    #[error("is not a date and time written {0}")]
    NotTimestamp(&'static str),
    #[error("is not an email address")]
    NotEmail,
    #[error("is not a phone number{0}")]
    NotPhone(String),
    #[error("holds a NUL character (the file may be binary or UTF-16 read as something else)")]
    Nul,
    #[error("is {0} bytes long, more than the {max} a value may hold", max = MAX_CELL_BYTES)]
    TooLong(usize),
}

/// The longest value a cell may hold (1 MiB): a longer one is a file read wrong, not data.
pub const MAX_CELL_BYTES: usize = 1 << 20;

/// `raw` as a value of `ty` (dates and times written as `format`); empty is NULL.
pub fn read(ty: ColumnType, format: DateFormat, raw: &str) -> Result<Value, CellProblem> {
    if raw.len() > MAX_CELL_BYTES {
        return Err(CellProblem::TooLong(raw.len()));
    }
    if raw.contains('\0') {
        return Err(CellProblem::Nul);
    }
    let t = raw.trim();
    if t.is_empty() {
        return Ok(Value::Null);
    }
    match ty {
        ColumnType::Text => Ok(Value::Text(t.to_owned())),
        ColumnType::Integer => integer(t).map(Value::Int),
        ColumnType::Decimal => decimal(t).map(Value::Real),
        ColumnType::Boolean => boolean(t).map(|b| Value::Int(i64::from(b))),
        ColumnType::Date => date(t, format).map(|d| Value::Text(d.to_string())),
        ColumnType::Timestamp => {
            timestamp(t, format).map(|ts| Value::Text(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
        }
    }
}

fn integer(t: &str) -> Result<i64, CellProblem> {
    if let Ok(n) = t.parse::<i64>() {
        return Ok(n);
    }
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if grouped(digits) {
        return Err(CellProblem::Thousands);
    }
    // "12.0" is a whole number a spreadsheet wrote as a decimal.
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(x as i64),
        _ => Err(CellProblem::NotInteger),
    }
}

/// `1,234,567`, `1.234.567`, `1 234 567` or `1'234'567`: digits in groups of three after the
/// first, one separator throughout.
fn grouped(digits: &str) -> bool {
    let Some(sep) = digits.chars().find(|c| !c.is_ascii_digit()) else { return false };
    if !matches!(sep, ',' | '.' | ' ' | '\'' | '\u{a0}' | '\u{202f}') {
        return false;
    }
    let groups: Vec<&str> = digits.split(sep).collect();
    groups.len() >= 2
        && (1..=3).contains(&groups[0].len())
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3)
}

fn decimal(t: &str) -> Result<f64, CellProblem> {
    let ok = |x: f64| if x.is_finite() { Ok(x) } else { Err(CellProblem::NotNumber) };
    if t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && let Ok(x) = t.parse::<f64>()
    {
        return ok(x);
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    // A decimal comma, as European files write it: "3,5" (and "1,234" is 1.234 then).
    if unsigned.matches(',').count() == 1
        && !unsigned.contains('.')
        && let Ok(x) = t.replace(',', ".").parse::<f64>()
    {
        return ok(x);
    }
    // Grouped digits, with or without a decimal part after the last separator.
    let whole = unsigned.rfind(['.', ',']).map_or(unsigned, |i| &unsigned[..i]);
    if grouped(unsigned) || grouped(whole) {
        return Err(CellProblem::Thousands);
    }
    Err(CellProblem::NotNumber)
}

fn boolean(t: &str) -> Result<bool, CellProblem> {
    match t.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "t" | "oui" | "vrai" => Ok(true),
        "0" | "false" | "no" | "n" | "f" | "non" | "faux" => Ok(false),
        _ => Err(CellProblem::NotBoolean),
    }
}

/// Day, month and year of `d/m/y`-shaped text with `/`, `-` or `.` between them, in the order
/// the format says.
fn dmy(t: &str, day_first: bool) -> Option<jiff::civil::Date> {
    let parts: Vec<&str> = t.split(['/', '-', '.']).collect();
    let [a, b, y] = parts.as_slice() else { return None };
    let (a, b, y): (i8, i8, i16) = (a.parse().ok()?, b.parse().ok()?, y.parse().ok()?);
    let y = if y < 100 { return None } else { y };
    let (day, month) = if day_first { (a, b) } else { (b, a) };
    jiff::civil::Date::new(y, month, day).ok()
}

fn date(t: &str, format: DateFormat) -> Result<jiff::civil::Date, CellProblem> {
    let wrong = CellProblem::NotDate(format.label());
    match format {
        DateFormat::Iso => {
            // A timestamp's date part is a date too ("2026-03-31T00:00:00").
            let day = t.get(..10).unwrap_or(t);
            if t.len() > 10 && !matches!(t.as_bytes()[10], b'T' | b' ') {
                return Err(wrong);
            }
            day.parse::<jiff::civil::Date>().map_err(|_| wrong)
        }
        DateFormat::DayMonthYear | DateFormat::MonthDayYear => {
            let day = t.split([' ', 'T']).next().unwrap_or(t);
            dmy(day, format == DateFormat::DayMonthYear).ok_or(wrong)
        }
        DateFormat::Epoch => epoch(t).map(|ts| ts.to_zoned(jiff::tz::TimeZone::UTC).date()).ok_or(wrong),
    }
}

fn epoch(t: &str) -> Option<jiff::Timestamp> {
    let n: i64 = t.parse().ok()?;
    if t.trim_start_matches('-').len() >= 13 {
        jiff::Timestamp::from_millisecond(n).ok()
    } else {
        jiff::Timestamp::from_second(n).ok()
    }
}

/// `HH:MM[:SS]`.
fn time_of_day(t: &str) -> Option<jiff::civil::Time> {
    let parts: Vec<&str> = t.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (h.parse().ok()?, m.parse().ok()?, 0),
        [h, m, s] => (h.parse().ok()?, m.parse().ok()?, s.split('.').next()?.parse().ok()?),
        _ => return None,
    };
    jiff::civil::Time::new(h, m, s, 0).ok()
}

fn timestamp(t: &str, format: DateFormat) -> Result<jiff::Timestamp, CellProblem> {
    let wrong = CellProblem::NotTimestamp(format.label());
    let utc = |dt: jiff::civil::DateTime| dt.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).ok();
    let found = match format {
        DateFormat::Epoch => epoch(t),
        DateFormat::Iso => t
            .parse::<jiff::Timestamp>()
            .ok()
            .or_else(|| t.replace(' ', "T").parse::<jiff::civil::DateTime>().ok().and_then(utc))
            .or_else(|| {
                t.parse::<jiff::civil::Date>().ok().and_then(|d| utc(d.to_datetime(jiff::civil::Time::midnight())))
            }),
        DateFormat::DayMonthYear | DateFormat::MonthDayYear => {
            let (day, time) = t.split_once([' ', 'T']).unwrap_or((t, ""));
            let time =
                if time.trim().is_empty() { Some(jiff::civil::Time::midnight()) } else { time_of_day(time.trim()) };
            dmy(day, format == DateFormat::DayMonthYear).zip(time).and_then(|(d, tm)| utc(d.to_datetime(tm)))
        }
    };
    found.ok_or(wrong)
}

/// The type and date format the sample of a column suggests: the narrowest type that at
/// least four in five non-empty values read as (whole numbers, yes/no, numbers, dates, times,
/// else text); the others are refused with their reason when imported. Digits with a leading
/// zero (zip codes, phone numbers) stay text.
pub fn guess(values: &[&str]) -> (ColumnType, DateFormat) {
    let present: Vec<&str> = values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
    if present.is_empty() {
        return (ColumnType::Text, DateFormat::Iso);
    }
    if present.iter().any(|v| v.len() > 1 && v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit())) {
        return (ColumnType::Text, DateFormat::Iso);
    }
    let mostly = |ok: &dyn Fn(&str) -> bool| {
        let n = present.iter().filter(|v| ok(v)).count();
        n > 0 && n * 5 >= present.len() * 4
    };
    let reads = |ty: ColumnType, f: DateFormat| move |v: &str| read(ty, f, v).is_ok();
    // A column of 0/1 reads as whole numbers: only words make it yes/no.
    if mostly(&|v| {
        v.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
            && read(ColumnType::Integer, DateFormat::Iso, v).is_ok()
    }) {
        return (ColumnType::Integer, DateFormat::Iso);
    }
    if mostly(&reads(ColumnType::Boolean, DateFormat::Iso)) {
        return (ColumnType::Boolean, DateFormat::Iso);
    }
    if mostly(&reads(ColumnType::Decimal, DateFormat::Iso)) {
        return (ColumnType::Decimal, DateFormat::Iso);
    }
    let formats = date_formats(&present);
    for f in &formats {
        if mostly(&|v| v.len() <= 10 && read(ColumnType::Date, *f, v).is_ok()) {
            return (ColumnType::Date, *f);
        }
    }
    for f in &formats {
        if mostly(&reads(ColumnType::Timestamp, *f)) {
            return (ColumnType::Timestamp, *f);
        }
    }
    (ColumnType::Text, DateFormat::Iso)
}

/// The date formats worth trying on `values`, most likely first: ISO; then day-first unless a
/// value has a month above 12 in first place (then month-first).
fn date_formats(values: &[&str]) -> Vec<DateFormat> {
    let part = |n: usize| values.iter().filter_map(move |v| v.split(['/', '-', '.']).nth(n)?.parse::<u32>().ok());
    let day_in_first = part(0).any(|a| (13..=31).contains(&a));
    let month_first = !day_in_first && part(1).any(|b| (13..=31).contains(&b));
    let (first, second) = if month_first {
        (DateFormat::MonthDayYear, DateFormat::DayMonthYear)
    } else {
        (DateFormat::DayMonthYear, DateFormat::MonthDayYear)
    };
    vec![DateFormat::Iso, first, second]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType as T;

    #[test]
    fn numbers_read_as_people_write_them_and_separators_are_named() {
        assert_eq!(read(T::Integer, DateFormat::Iso, " 42 "), Ok(Value::Int(42)));
        assert_eq!(read(T::Integer, DateFormat::Iso, "12.0"), Ok(Value::Int(12)));
        assert_eq!(read(T::Integer, DateFormat::Iso, "1,234"), Err(CellProblem::Thousands));
        assert_eq!(read(T::Integer, DateFormat::Iso, "1 234 567"), Err(CellProblem::Thousands));
        assert_eq!(read(T::Integer, DateFormat::Iso, "12.5"), Err(CellProblem::NotInteger));
        assert_eq!(read(T::Integer, DateFormat::Iso, "abc"), Err(CellProblem::NotInteger));
        assert_eq!(read(T::Decimal, DateFormat::Iso, "3,5"), Ok(Value::Real(3.5)));
        assert_eq!(read(T::Decimal, DateFormat::Iso, "-0.25"), Ok(Value::Real(-0.25)));
        assert_eq!(read(T::Decimal, DateFormat::Iso, "1,234.50"), Err(CellProblem::Thousands));
        assert_eq!(read(T::Decimal, DateFormat::Iso, "1.234.567"), Err(CellProblem::Thousands));
        assert_eq!(read(T::Decimal, DateFormat::Iso, "NaN"), Err(CellProblem::NotNumber));
        assert_eq!(read(T::Integer, DateFormat::Iso, ""), Ok(Value::Null));
    }

    #[test]
    fn dates_in_three_formats_and_epoch() {
        let d = |f, s| read(T::Date, f, s);
        assert_eq!(d(DateFormat::Iso, "2026-03-31"), Ok(Value::Text("2026-03-31".into())));
        assert_eq!(d(DateFormat::DayMonthYear, "31/03/2026"), Ok(Value::Text("2026-03-31".into())));
        assert_eq!(d(DateFormat::MonthDayYear, "03/31/2026"), Ok(Value::Text("2026-03-31".into())));
        assert_eq!(d(DateFormat::DayMonthYear, "03/31/2026"), Err(CellProblem::NotDate("dd/mm/yyyy")));
        assert_eq!(d(DateFormat::Iso, "2026-02-30"), Err(CellProblem::NotDate("ISO (2026-03-31)")));
        assert_eq!(d(DateFormat::Epoch, "1774915200"), Ok(Value::Text("2026-03-31".into())));
        let ts = |f, s| read(T::Timestamp, f, s);
        assert_eq!(ts(DateFormat::Iso, "2026-03-31 14:05:00"), Ok(Value::Text("2026-03-31T14:05:00Z".into())));
        assert_eq!(ts(DateFormat::Iso, "2026-03-31T14:05:00+02:00"), Ok(Value::Text("2026-03-31T12:05:00Z".into())));
        assert_eq!(ts(DateFormat::DayMonthYear, "31/03/2026 14:05"), Ok(Value::Text("2026-03-31T14:05:00Z".into())));
        assert_eq!(ts(DateFormat::Epoch, "1774965900000"), Ok(Value::Text("2026-03-31T14:05:00Z".into())));
    }

    #[test]
    fn guesses_the_narrowest_type_and_the_date_order() {
        assert_eq!(guess(&["1", "2", ""]), (T::Integer, DateFormat::Iso));
        assert_eq!(guess(&["1.5", "2"]), (T::Decimal, DateFormat::Iso));
        assert_eq!(guess(&["yes", "no"]), (T::Boolean, DateFormat::Iso));
        assert_eq!(guess(&["2026-01-02", "2025-12-31"]), (T::Date, DateFormat::Iso));
        assert_eq!(guess(&["02/01/2026", "31/12/2025"]), (T::Date, DateFormat::DayMonthYear));
        assert_eq!(guess(&["01/02/2026", "12/31/2025"]), (T::Date, DateFormat::MonthDayYear));
        assert_eq!(guess(&["2026-01-02 10:00", "2025-12-31T23:59:59Z"]), (T::Timestamp, DateFormat::Iso));
        assert_eq!(guess(&["Paris", "12"]), (T::Text, DateFormat::Iso));
        assert_eq!(guess(&["75001", "01234"]), (T::Text, DateFormat::Iso), "zip codes keep their zeros");
        assert_eq!(
            guess(&["31/01/2024", "15/02/2024", "29/02/2024", "30/02/2024", "01/03/2024"]),
            (T::Date, DateFormat::DayMonthYear),
            "one bad date is a reject, not text"
        );
        assert_eq!(guess(&["1250,50", "80", "15,5"]), (T::Decimal, DateFormat::Iso));
    }

    #[test]
    fn nul_and_huge_cells_are_named() {
        assert_eq!(read(T::Text, DateFormat::Iso, "a\0b"), Err(CellProblem::Nul));
        let big = "x".repeat(MAX_CELL_BYTES + 1);
        assert_eq!(read(T::Text, DateFormat::Iso, &big), Err(CellProblem::TooLong(MAX_CELL_BYTES + 1)));
    }
}
