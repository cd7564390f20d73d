//! Rules and values as sea-query expressions. Every user value becomes a bound parameter.
//! The same code checks a rule (validation) and builds its SQL (compilation), so what is
//! accepted is exactly what can be run.

use crate::audience::{RuleError, unfit};
use std::cell::Cell;

use super::fold::{FOLD_FUNCTION, escape_like, fold};

use sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Order, Query, SimpleExpr};

use super::Dialect;
use super::validate::WorkColumn;
use crate::model::{Aggregate, ColumnType, DataModel, Entity, LinkedCondition, Op, Operand, PeriodUnit, Rule};

/// How a linked entity relates to the current one.
pub(crate) enum Relation<'m> {
    /// `other.fk = current.pk`: many rows of `other` per current row.
    Children { other: &'m Entity, fk: &'m str },
    /// `other.pk = current.fk`: at most one row of `other` per current row.
    Parent { other: &'m Entity, fk: &'m str },
}

/// Shared state while turning rules into SQL.
pub(crate) struct Builder<'m> {
    pub model: &'m DataModel,
    pub today: jiff::civil::Date,
    pub now: jiff::Timestamp,
    pub dialect: Dialect,
    /// The campaign's time zone: a day typed on a timestamp column is that whole day there.
    pub tz: jiff::tz::TimeZone,
    /// The timestamp columns (entity, column) whose every value is UTC text to the second
    /// (`CompileOptions::canonical_instants`): compared and sorted as they are stored.
    pub canonical_instants: Vec<(String, String)>,
    /// While set, the linked conditions on its rows read their values from a fact table
    /// (`linked_facts.rs`).
    pub(crate) linked_facts: std::cell::RefCell<Option<super::linked_facts::LinkedFacts>>,
    /// Whether something built read the clock ("in the last 30 days"): its text holds on
    /// this day only.
    pub(crate) read_the_clock: Cell<bool>,
    next_alias: Cell<u32>,
}

pub(crate) fn col(table: &str, column: &str) -> Expr {
    Expr::col((Alias::new(table), Alias::new(column)))
}

fn always() -> Expr {
    Expr::cust("1 = 1")
}

fn never() -> Expr {
    Expr::cust("1 = 0")
}

impl<'m> Builder<'m> {
    pub fn new(model: &'m DataModel, now: jiff::Timestamp, dialect: Dialect, tz: jiff::tz::TimeZone) -> Self {
        Self {
            model,
            today: now.to_zoned(tz.clone()).date(),
            now,
            dialect,
            tz,
            canonical_instants: Vec::new(),
            linked_facts: std::cell::RefCell::new(None),
            read_the_clock: Cell::new(false),
            next_alias: Cell::new(0),
        }
    }

    /// A fresh table alias for a subquery.
    pub fn alias(&self) -> String {
        let n = self.next_alias.get() + 1;
        self.next_alias.set(n);
        format!("s{n}")
    }

    pub fn entity(&self, name: &str) -> Result<&'m Entity, RuleError> {
        self.model.entity(name).ok_or_else(|| unfit!("the data model has no entity \u{201c}{name}\u{201d}"))
    }

    /// How `other` is linked to `current`.
    pub fn relation(&self, current: &Entity, other: &str) -> Result<Relation<'m>, RuleError> {
        for l in &self.model.links {
            if l.parent == current.name && l.child == other {
                return Ok(Relation::Children { other: self.entity(other)?, fk: &l.foreign_key });
            }
            if l.child == current.name && l.parent == other {
                return Ok(Relation::Parent { other: self.entity(other)?, fk: &l.foreign_key });
            }
        }
        Err(unfit!("{} is not linked to {}", current.label, other))
    }

    /// The condition `rule` on rows of `entity` aliased `table`.
    pub fn rule(&self, rule: &Rule, entity: &Entity, table: &str) -> Result<Expr, RuleError> {
        self.rule_with(rule, entity, table, &[])
    }

    /// The condition `rule` on rows of `entity` aliased `table` that may also name the
    /// population's own columns (`extra`, the enrichment columns of the work table aliased
    /// `w`). A column of the entity wins over a work column of the same name.
    pub fn rule_with(
        &self,
        rule: &Rule,
        entity: &Entity,
        table: &str,
        extra: &[WorkColumn],
    ) -> Result<Expr, RuleError> {
        Ok(match rule {
            Rule::All { rules } => {
                let mut parts = rules.iter().map(|r| self.rule_with(r, entity, table, extra));
                match parts.next() {
                    None => always(),
                    Some(first) => parts.try_fold(first?, |acc, r| Ok::<_, RuleError>(acc.and(r?)))?,
                }
            }
            Rule::Any { rules } => {
                let mut parts = rules.iter().map(|r| self.rule_with(r, entity, table, extra));
                match parts.next() {
                    None => never(),
                    Some(first) => parts.try_fold(first?, |acc, r| Ok::<_, RuleError>(acc.or(r?)))?,
                }
            }
            Rule::Not { rule } => self.rule_with(rule, entity, table, extra)?.not(),
            Rule::Column { column, op, value } => {
                let (left, ty) = match (entity.column(column), extra.iter().find(|w| w.alias == *column)) {
                    (Some(c), _) => (col(table, column), c.column_type),
                    (None, Some(w)) => (col("w", &w.alias), w.column_type),
                    (None, None) => return Err(unfit!("{} has no column \u{201c}{column}\u{201d}", entity.label)),
                };
                let as_stored = ty == ColumnType::Timestamp
                    && entity.column(column).is_some()
                    && self.is_canonical(entity, column)
                    && !matches!(op, Op::IsEmpty | Op::IsNotEmpty);
                if as_stored {
                    self.compare_instant(left, *op, value, true)
                } else {
                    self.compare(left, ty, *op, value)
                }
                .map_err(|e| unfit!("{}.{column} {}: {e}", entity.name, op.label()))?
            }
            Rule::Linked { entity: other, condition } => self.linked(entity, table, other, condition)?,
        })
    }

    fn linked(&self, entity: &Entity, table: &str, other: &str, cond: &LinkedCondition) -> Result<Expr, RuleError> {
        if let Some(read) = self.linked_fact(entity, table, |b| b.linked_value_of(entity, table, other, cond))? {
            return self.linked_test(read, true, other, cond);
        }
        let value = self.linked_value_of(entity, table, other, cond)?;
        self.linked_test(value, false, other, cond)
    }

    /// The value a linked condition on a row of `entity` aliased `table` tests: whether a
    /// linked row satisfies its rule (EXISTS, 0 or 1), the aggregate of its linked rows (0
    /// when there are none, for a count or a sum), or the most recent linked row's column.
    pub(crate) fn linked_value_of(
        &self,
        entity: &Entity,
        table: &str,
        other: &str,
        cond: &LinkedCondition,
    ) -> Result<Expr, RuleError> {
        let a = self.alias();
        let (other, join, is_children) = match self.relation(entity, other)? {
            Relation::Children { other, fk } => {
                (other, col(&a, fk).equals((Alias::new(table), Alias::new(&entity.primary_key))), true)
            }
            Relation::Parent { other, fk } => {
                (other, col(&a, &other.primary_key).equals((Alias::new(table), Alias::new(fk))), false)
            }
        };
        let mut sub = Query::select();
        sub.from_as(Alias::new(&other.name), Alias::new(&a)).and_where(join);
        match cond {
            LinkedCondition::Exists { rule } | LinkedCondition::NotExists { rule } => {
                sub.expr(Expr::val(1)).and_where(self.rule(rule, other, &a)?);
                Ok(Expr::exists(sub))
            }
            LinkedCondition::Aggregate { function, column, filter, .. } => {
                if !is_children {
                    return Err(unfit!("an aggregate needs many {} per {}", other.label, entity.label));
                }
                let (agg, _) = self.aggregate(other, &a, *function, column.as_deref())?;
                sub.expr(agg).and_where(self.rule(filter, other, &a)?);
                Ok(zero_if_empty(*function, Expr::from(sub)))
            }
            LinkedCondition::MostRecent { order_by, column, .. } => {
                if !is_children {
                    return Err(unfit!("\u{201c}most recent\u{201d} needs many {} per {}", other.label, entity.label));
                }
                column_of(other, column)?;
                sub.expr(col(&a, column));
                self.most_recent_first(&mut sub, other, &a, order_by)?;
                sub.limit(1);
                Ok(Expr::from(sub))
            }
        }
    }

    /// A linked condition's test of its `value` ([`Self::linked_value_of`]; `read`: as read
    /// from a fact table, where an EXISTS is kept as 0 or 1).
    fn linked_test(&self, value: Expr, read: bool, other: &str, cond: &LinkedCondition) -> Result<Expr, RuleError> {
        let other = self.entity(other)?;
        match cond {
            LinkedCondition::Exists { .. } => Ok(if read { value.eq(1) } else { value }),
            LinkedCondition::NotExists { .. } => Ok(if read { value.eq(0) } else { value.not() }),
            LinkedCondition::Aggregate { function, column, op, value: operand, .. } => {
                let (_, ty) = self.aggregate(other, "a", *function, column.as_deref())?;
                self.compare(value, ty, *op, operand)
                    .map_err(|e| unfit!("{} of {other_name}: {e}", agg_label(*function), other_name = other.name))
            }
            LinkedCondition::MostRecent { column, op, value: operand, .. } => {
                let c = column_of(other, column)?;
                self.compare(value, c.column_type, *op, operand)
                    .map_err(|e| unfit!("most recent {}.{column}: {e}", other.name))
            }
        }
    }

    /// Orders `sub` (rows of `entity` aliased `table`) most recent first by `order_by`: rows
    /// with no value last in both dialects (PostgreSQL puts NULLs first when descending),
    /// instants compared as instants, ties broken by the key.
    pub(crate) fn most_recent_first(
        &self,
        sub: &mut sea_query::SelectStatement,
        entity: &Entity,
        table: &str,
        order_by: &str,
    ) -> Result<(), RuleError> {
        let c = column_of(entity, order_by)?;
        let value = self.sort_value(entity, table, order_by, c.column_type);
        sub.order_by_expr(col(table, order_by).is_null(), Order::Asc)
            .order_by_expr(value, Order::Desc)
            .order_by_expr(col(table, &entity.primary_key), Order::Desc);
        Ok(())
    }

    /// An aggregate of a column (or a count of rows) of `entity` aliased `table`, with its type.
    pub(crate) fn aggregate(
        &self,
        entity: &Entity,
        table: &str,
        f: Aggregate,
        column: Option<&str>,
    ) -> Result<(Expr, ColumnType), RuleError> {
        if f == Aggregate::Count {
            return Ok((Func::count(col(table, &entity.primary_key)).into(), ColumnType::Integer));
        }
        let name = column.ok_or_else(|| unfit!("{} needs a column", agg_label(f)))?;
        let c = column_of(entity, name)?;
        let numeric = matches!(c.column_type, ColumnType::Integer | ColumnType::Decimal);
        let e = self.normalized(col(table, name), c.column_type);
        Ok(match f {
            Aggregate::Sum | Aggregate::Avg if !numeric => {
                return Err(unfit!("{} needs a number column; {} is {}", agg_label(f), name, c.column_type.as_str()));
            }
            Aggregate::Sum => (Func::sum(e).into(), c.column_type),
            Aggregate::Avg => (Func::avg(e).into(), ColumnType::Decimal),
            Aggregate::Min => (Func::min(e).into(), c.column_type),
            // Max (a count was answered above).
            Aggregate::Max | Aggregate::Count => (Func::max(e).into(), c.column_type),
        })
    }

    /// `left op value` for a left side of type `ty`.
    pub fn compare(&self, left: Expr, ty: ColumnType, op: Op, value: &Operand) -> Result<Expr, RuleError> {
        use ColumnType as T;
        let is_text = ty == T::Text;
        let is_time = matches!(ty, T::Date | T::Timestamp);
        if ty == T::Timestamp && !matches!(op, Op::IsEmpty | Op::IsNotEmpty) {
            return self.compare_instant(left, op, value, false);
        }
        Ok(match op {
            Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                let v = scalar(ty, value)?;
                match op {
                    Op::Eq => left.eq(v),
                    Op::Ne => left.ne(v),
                    Op::Lt => left.lt(v),
                    Op::Le => left.lte(v),
                    Op::Gt => left.gt(v),
                    _ => left.gte(v),
                }
            }
            Op::Between => match value {
                Operand::Range(a, b) => left.between(scalar(ty, a)?, scalar(ty, b)?),
                _ => return Err("needs a range (from … to)".into()),
            },
            Op::In | Op::NotIn => match value {
                Operand::List(items) if !items.is_empty() => {
                    let values = items.iter().map(|v| scalar(ty, v)).collect::<Result<Vec<_>, _>>()?;
                    if op == Op::In { left.is_in(values) } else { left.is_not_in(values) }
                }
                _ => return Err("needs a list of at least one value".into()),
            },
            Op::Contains | Op::StartsWith => {
                let Operand::Text(s) = value else { return Err("needs a text value".into()) };
                if !is_text {
                    return Err(unfit!("only applies to text, not to {}", ty.as_str()));
                }
                let escaped = escape_like(&fold(s));
                let pattern = if op == Op::Contains { format!("%{escaped}%") } else { format!("{escaped}%") };
                self.folded(left).like(LikeExpr::new(pattern).escape('\\'))
            }
            Op::IsEmpty => {
                if is_text {
                    left.clone().is_null().or(left.eq(""))
                } else {
                    left.is_null()
                }
            }
            Op::IsNotEmpty => {
                if is_text {
                    left.clone().is_not_null().and(left.ne(""))
                } else {
                    left.is_not_null()
                }
            }
            Op::IsTrue | Op::IsFalse => {
                if ty != T::Boolean {
                    return Err(unfit!("only applies to yes/no columns, not to {}", ty.as_str()));
                }
                left.eq(op == Op::IsTrue)
            }
            Op::InLast | Op::InNext => {
                if !is_time {
                    return Err(unfit!("only applies to dates, not to {}", ty.as_str()));
                }
                let Operand::Period { amount, unit } = value else {
                    return Err("needs a number of days, weeks or months".into());
                };
                if *amount < 0 {
                    return Err("the number of days, weeks or months cannot be negative".into());
                }
                let (from, to) = self.period(*amount, *unit, op == Op::InNext)?;
                left.between(from, to)
            }
            Op::Before | Op::After => {
                if !is_time {
                    return Err(unfit!("only applies to dates, not to {}", ty.as_str()));
                }
                let day = date_operand(value)?;
                if op == Op::Before { left.lt(day.to_string()) } else { left.gt(day.to_string()) }
            }
        })
    }

    /// The days of "in the last / next N units" on a date column, as stored text.
    fn period(&self, amount: i64, unit: PeriodUnit, next: bool) -> Result<(String, String), RuleError> {
        let span = period_span(amount, unit)?;
        self.read_the_clock.set(true);
        let other = if next { self.today.checked_add(span) } else { self.today.checked_sub(span) }
            .map_err(|e| e.to_string())?;
        let (a, b) = if next { (self.today, other) } else { (other, self.today) };
        Ok((a.to_string(), b.to_string()))
    }

    /// Text folded for case-insensitive matching, the same way in both dialects.
    fn folded(&self, e: Expr) -> Expr {
        match self.dialect {
            Dialect::Sqlite => Func::cust(Alias::new(FOLD_FUNCTION)).arg(e).into(),
            Dialect::Postgres => Func::lower(e).into(),
        }
    }
}

pub(super) fn period_span(amount: i64, unit: PeriodUnit) -> Result<jiff::Span, RuleError> {
    match unit {
        PeriodUnit::Days => jiff::Span::new().try_days(amount),
        PeriodUnit::Weeks => jiff::Span::new().try_weeks(amount),
        PeriodUnit::Months => jiff::Span::new().try_months(amount),
    }
    .map_err(|e| RuleError::Unfit(e.to_string()))
}

fn agg_label(f: Aggregate) -> &'static str {
    match f {
        Aggregate::Count => "count",
        Aggregate::Sum => "sum",
        Aggregate::Avg => "average",
        Aggregate::Min => "minimum",
        Aggregate::Max => "maximum",
    }
}

/// Counts and sums over no rows are 0, not empty.
pub(crate) fn zero_if_empty(f: Aggregate, e: Expr) -> Expr {
    match f {
        Aggregate::Count | Aggregate::Sum => Func::coalesce([e, Expr::val(0)]).into(),
        _ => e,
    }
}

pub(crate) fn column_of<'e>(entity: &'e Entity, name: &str) -> Result<&'e crate::model::Column, RuleError> {
    entity.column(name).ok_or_else(|| unfit!("{} has no column \u{201c}{name}\u{201d}", entity.label))
}

fn date_operand(v: &Operand) -> Result<jiff::civil::Date, RuleError> {
    match v {
        Operand::Date(s) | Operand::Text(s) => {
            s.parse::<jiff::civil::Date>().map_err(|_| unfit!("\u{201c}{s}\u{201d} is not a date (YYYY-MM-DD)"))
        }
        _ => Err("needs a date (YYYY-MM-DD)".into()),
    }
}

/// A single value of the column's type, ready to bind.
fn scalar(ty: ColumnType, v: &Operand) -> Result<SimpleExpr, RuleError> {
    use ColumnType as T;
    Ok(match (ty, v) {
        (T::Integer, Operand::Int(i)) => Expr::val(*i),
        (T::Integer | T::Decimal, Operand::Real(x)) if x.is_finite() => Expr::val(*x),
        (T::Decimal, Operand::Int(i)) => Expr::val(*i as f64),
        (T::Text, Operand::Text(s)) => Expr::val(s.clone()),
        (T::Boolean, Operand::Bool(b)) => Expr::val(*b),
        (T::Date, v) => Expr::val(date_operand(v)?.to_string()),
        (T::Integer | T::Decimal, _) => return Err("needs a number".into()),
        (T::Text, _) => return Err("needs a text value".into()),
        (T::Boolean, _) => return Err("needs yes or no".into()),
        // Compared by `Builder::compare_instant`.
        (T::Timestamp, _) => return Err("needs a date or a date and time".into()),
    })
}
