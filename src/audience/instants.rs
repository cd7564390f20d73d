//! Instants in rules: a timestamp compared with a day (the whole day in the campaign's time
//! zone), a date and time, an instant with its offset, or a window around now, on values
//! normalized to UTC (SQLite stores text, possibly with other offsets) or, for columns known
//! to hold UTC text to the second only, on the values as stored.

use sea_query::{Alias, Expr, ExprTrait, Func, SimpleExpr};

use super::Dialect;
use super::expr::{Builder, col, period_span};
use crate::audience::{RuleError, unfit};
use crate::model::{ColumnType, Entity, Op, Operand};

/// A value typed for a timestamp column: a whole day (in the campaign's time zone) or an instant.
#[derive(Clone, Copy, Debug)]
enum Moment {
    Day(jiff::civil::Date),
    Instant(jiff::Timestamp),
}

impl Builder<'_> {
    /// This builder, comparing and sorting `columns` (entity, timestamp column) as stored.
    #[must_use]
    pub fn with_canonical_instants(mut self, columns: Vec<(String, String)>) -> Self {
        self.canonical_instants = columns;
        self
    }

    /// Whether every value of `entity.column` is UTC text to the second (SQLite only: there
    /// an instant is normalized with `strftime` otherwise).
    pub(super) fn is_canonical(&self, entity: &Entity, column: &str) -> bool {
        self.dialect == Dialect::Sqlite && self.canonical_instants.iter().any(|(e, c)| *e == entity.name && c == column)
    }

    /// `entity.column` (aliased `table`) of type `ty` in the form that sorts right: as
    /// stored when that form is known to sort as [`Self::normalized`] does.
    pub fn sort_value(&self, entity: &Entity, table: &str, column: &str, ty: ColumnType) -> Expr {
        if ty == ColumnType::Timestamp && self.is_canonical(entity, column) {
            col(table, column)
        } else {
            self.normalized(col(table, column), ty)
        }
    }

    /// A value of type `ty` in the form that compares and sorts right: instants as UTC
    /// instants (SQLite stores them as text, possibly with other offsets).
    pub fn normalized(&self, e: Expr, ty: ColumnType) -> Expr {
        match (ty, self.dialect) {
            (ColumnType::Timestamp, Dialect::Sqlite) => {
                Func::cust(Alias::new("strftime")).args([Expr::cust("'%Y-%m-%dT%H:%M:%fZ'"), e]).into()
            }
            _ => e,
        }
    }

    /// An instant as a value to compare with [`Self::normalized`] ones, or with stored ones
    /// (`as_stored`: values known to be UTC text to the second, `YYYY-MM-DDTHH:MM:SSZ`).
    ///
    /// Compared as stored, an instant `s.mmm` (milliseconds, as normalized ones have) is
    /// `sZ` when mmm = 0, else `sZ~`: text after `sZ` and before the next second's, equal to
    /// no stored value. Every comparison then answers as with normalized values (which are
    /// the stored ones with `.000` added, in the same order); an instant before year 0 is ''
    /// (before every stored value).
    fn instant_value(&self, t: jiff::Timestamp, as_stored: bool) -> SimpleExpr {
        match self.dialect {
            Dialect::Sqlite if as_stored => {
                let z = t.to_zoned(jiff::tz::TimeZone::UTC);
                let text = match z.year() {
                    ..0 => String::new(),
                    // A timestamp ends in year 9999 (jiff's range).
                    year => format!(
                        "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z{}",
                        z.month(),
                        z.day(),
                        z.hour(),
                        z.minute(),
                        z.second(),
                        if z.millisecond() == 0 { "" } else { "~" }
                    ),
                };
                Expr::val(text)
            }
            Dialect::Sqlite => {
                let z = t.to_zoned(jiff::tz::TimeZone::UTC);
                Expr::val(format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                    z.year(),
                    z.month(),
                    z.day(),
                    z.hour(),
                    z.minute(),
                    z.second(),
                    z.millisecond()
                ))
            }
            Dialect::Postgres => Expr::val(t.to_string()),
        }
    }

    /// The first instant of `day` in the campaign's time zone.
    fn day_start(&self, day: jiff::civil::Date) -> Result<jiff::Timestamp, RuleError> {
        day.to_zoned(self.tz.clone()).map(|z| z.timestamp()).map_err(|e| RuleError::Unfit(e.to_string()))
    }

    /// The instants `[start, end)` of `day` in the campaign's time zone.
    fn day_bounds(&self, day: jiff::civil::Date, as_stored: bool) -> Result<(SimpleExpr, SimpleExpr), RuleError> {
        let next = day.tomorrow().map_err(|e| e.to_string())?;
        Ok((self.instant_value(self.day_start(day)?, as_stored), self.instant_value(self.day_start(next)?, as_stored)))
    }

    /// What the user typed for a timestamp column: a day, a date and time (in the campaign's
    /// time zone) or an instant with its offset.
    fn moment(&self, v: &Operand) -> Result<Moment, RuleError> {
        let (Operand::Date(s) | Operand::Text(s)) = v else { return Err("needs a date or a date and time".into()) };
        let s = s.trim();
        // A day is just YYYY-MM-DD (jiff would also read the date out of a date and time).
        if s.len() == 10
            && let Ok(d) = s.parse::<jiff::civil::Date>()
        {
            return Ok(Moment::Day(d));
        }
        if let Ok(t) = s.parse::<jiff::Timestamp>() {
            return Ok(Moment::Instant(t));
        }
        if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
            return dt
                .to_zoned(self.tz.clone())
                .map(|z| Moment::Instant(z.timestamp()))
                .map_err(|e| RuleError::Unfit(e.to_string()));
        }
        Err(unfit!("\u{201c}{s}\u{201d} is not a date or a date and time"))
    }

    /// `left op value` for a timestamp: a day is the whole day in the campaign's time zone,
    /// whatever the operator; instants are compared as instants. `as_stored`: `left` is a
    /// column whose values are UTC text to the second, compared as it is.
    pub(super) fn compare_instant(
        &self,
        left: Expr,
        op: Op,
        value: &Operand,
        as_stored: bool,
    ) -> Result<Expr, RuleError> {
        let left = if as_stored { left } else { self.normalized(left, ColumnType::Timestamp) };
        let instant_value = |t| self.instant_value(t, as_stored);
        let day_bounds = |d| self.day_bounds(d, as_stored);
        // `left = value`, as a condition.
        let equals = |v: &Operand| -> Result<Expr, RuleError> {
            Ok(match self.moment(v)? {
                Moment::Day(d) => {
                    let (start, end) = day_bounds(d)?;
                    left.clone().gte(start).and(left.clone().lt(end))
                }
                Moment::Instant(t) => left.clone().eq(instant_value(t)),
            })
        };
        // The first instant after `value` (after its day, for a day), and `value`'s first.
        let after = |v: &Operand| -> Result<(SimpleExpr, bool), RuleError> {
            Ok(match self.moment(v)? {
                Moment::Day(d) => (day_bounds(d)?.1, true),
                Moment::Instant(t) => (instant_value(t), false),
            })
        };
        let first = |v: &Operand| -> Result<SimpleExpr, RuleError> {
            Ok(match self.moment(v)? {
                Moment::Day(d) => day_bounds(d)?.0,
                Moment::Instant(t) => instant_value(t),
            })
        };
        Ok(match op {
            Op::Eq => equals(value)?,
            Op::Ne => equals(value)?.not(),
            Op::Lt | Op::Before => left.lt(first(value)?),
            Op::Ge => left.gte(first(value)?),
            Op::Le | Op::Gt | Op::After => {
                let (bound, exclusive) = after(value)?;
                match (op, exclusive) {
                    (Op::Le, true) => left.lt(bound),
                    (Op::Le, false) => left.lte(bound),
                    (_, true) => left.gte(bound),
                    (_, false) => left.gt(bound),
                }
            }
            Op::Between => {
                let Operand::Range(a, b) = value else { return Err("needs a range (from … to)".into()) };
                let from = left.clone().gte(first(a)?);
                let (bound, exclusive) = after(b)?;
                from.and(if exclusive { left.lt(bound) } else { left.lte(bound) })
            }
            Op::In | Op::NotIn => {
                let Operand::List(items) = value else { return Err("needs a list of at least one value".into()) };
                let any = items
                    .iter()
                    .map(equals)
                    .reduce(|a, b| Ok(a?.or(b?)))
                    .ok_or_else(|| "needs a list of at least one value".to_owned())??;
                if op == Op::In { any } else { any.not() }
            }
            Op::InLast | Op::InNext => {
                let Operand::Period { amount, unit } = value else {
                    return Err("needs a number of days, weeks or months".into());
                };
                if *amount < 0 {
                    return Err("the number of days, weeks or months cannot be negative".into());
                }
                let span = period_span(*amount, *unit)?;
                self.read_the_clock.set(true);
                let zoned = self.now.to_zoned(self.tz.clone());
                let other = if op == Op::InNext { zoned.checked_add(span) } else { zoned.checked_sub(span) }
                    .map_err(|e| e.to_string())?;
                let (a, b) = if op == Op::InNext { (&zoned, &other) } else { (&other, &zoned) };
                left.between(instant_value(a.timestamp()), instant_value(b.timestamp()))
            }
            Op::Contains | Op::StartsWith => return Err("only applies to text, not to a date and time".into()),
            Op::IsTrue | Op::IsFalse => return Err("only applies to yes/no columns, not to a date and time".into()),
            // Emptiness is asked of the stored value itself (answered by the caller).
            Op::IsEmpty | Op::IsNotEmpty => return Err("internal error: emptiness is not a comparison".into()),
        })
    }
}
