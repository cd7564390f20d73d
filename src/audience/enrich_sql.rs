//! An Enrichment's values as SQL: a column of the row or of its parent, an aggregate of its
//! linked rows, or the most recent linked row's column (the subqueries the facts of
//! `compile/facts.rs` keep too).

use sea_query::{Alias, Expr, ExprTrait, Query};

use super::expr::{Builder, Relation, col, column_of, zero_if_empty};
use crate::audience::{RuleError, unfit};
use crate::model::{ColumnType, EnrichSource, Entity};

impl Builder<'_> {
    /// The value of an enrichment column for rows of `entity` aliased `table`, and its type.
    pub fn enrichment(
        &self,
        source: &EnrichSource,
        entity: &Entity,
        table: &str,
    ) -> Result<(Expr, ColumnType), RuleError> {
        match source {
            EnrichSource::Attribute { entity: from, column } if *from == entity.name => {
                Ok((col(table, column), column_of(entity, column)?.column_type))
            }
            EnrichSource::Attribute { entity: from, column } => match self.relation(entity, from)? {
                Relation::Parent { other, fk } => {
                    let c = column_of(other, column)?;
                    let a = self.alias();
                    let mut sub = Query::select();
                    sub.expr(col(&a, column))
                        .from_as(Alias::new(&other.name), Alias::new(&a))
                        .and_where(col(&a, &other.primary_key).equals((Alias::new(table), Alias::new(fk))));
                    Ok((Expr::from(sub), c.column_type))
                }
                Relation::Children { .. } => Err(unfit!(
                    "{from} has many rows per {}: use an aggregate or \u{201c}most recent\u{201d}",
                    entity.label
                )),
            },
            EnrichSource::Aggregate { function, .. } => {
                let (sub, ty) =
                    self.linked_value(source, entity, table)?.ok_or("internal error: not a linked value")?;
                Ok((zero_if_empty(*function, Expr::from(sub)), ty))
            }
            EnrichSource::MostRecent { .. } => {
                let (sub, ty) =
                    self.linked_value(source, entity, table)?.ok_or("internal error: not a linked value")?;
                Ok((Expr::from(sub), ty))
            }
        }
    }

    /// The subquery an enrichment column reads from linked rows (an aggregate, or the most
    /// recent row's column) for a row of `entity` aliased `table`, as it is before an empty
    /// aggregate becomes 0; `None` for an attribute.
    pub fn linked_value(
        &self,
        source: &EnrichSource,
        entity: &Entity,
        table: &str,
    ) -> Result<Option<(sea_query::SelectStatement, ColumnType)>, RuleError> {
        match source {
            EnrichSource::Attribute { .. } => Ok(None),
            EnrichSource::Aggregate { entity: from, function, column, filter } => {
                let Relation::Children { other, fk } = self.relation(entity, from)? else {
                    return Err(unfit!("an aggregate needs many {from} per {}", entity.label));
                };
                let a = self.alias();
                let (agg, ty) = self.aggregate(other, &a, *function, column.as_deref())?;
                let mut sub = Query::select();
                sub.expr(agg)
                    .from_as(Alias::new(&other.name), Alias::new(&a))
                    .and_where(col(&a, fk).equals((Alias::new(table), Alias::new(&entity.primary_key))))
                    .and_where(self.rule(filter, other, &a)?);
                Ok(Some((sub, ty)))
            }
            EnrichSource::MostRecent { entity: from, order_by, column, rank } => {
                let Relation::Children { other, fk } = self.relation(entity, from)? else {
                    return Err(unfit!("\u{201c}most recent\u{201d} needs many {from} per {}", entity.label));
                };
                let c = column_of(other, column)?;
                if *rank == 0 {
                    return Err("the rank starts at 1 (the most recent)".into());
                }
                let a = self.alias();
                let mut sub = Query::select();
                sub.expr(col(&a, column))
                    .from_as(Alias::new(&other.name), Alias::new(&a))
                    .and_where(col(&a, fk).equals((Alias::new(table), Alias::new(&entity.primary_key))));
                self.most_recent_first(&mut sub, other, &a, order_by)?;
                sub.limit(1).offset(u64::from(rank - 1));
                Ok(Some((sub, c.column_type)))
            }
        }
    }

    /// The model, clock, dialect and time zone of this builder, with its aliases anew: what
    /// it builds is the same text whatever was built before (a fact's definition).
    pub fn afresh(&self) -> Self {
        Self::new(self.model, self.now, self.dialect, self.tz.clone())
            .with_canonical_instants(self.canonical_instants.clone())
    }
}
