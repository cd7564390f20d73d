//! Linked conditions read from facts. A rule's condition on linked rows ("has a completed
//! booking in the last 12 months", "spent more than 500") is a subquery per row: at a million
//! profiles, most of a Build audience's time. While a [`LinkedFacts`] collection is open for
//! rows of an entity under an alias, the builder writes each such condition as a test of a
//! column of a fact table instead (`lf.v1 = 1` for an EXISTS), and collects the subqueries
//! whose values the table must hold; the compiler then keeps that table as it keeps an
//! Enrichment's (`compile/facts.rs`: filled once per data version and day by the very
//! subqueries, for every row of the entity, then read by key).

use sea_query::{Expr, Query, SqliteQueryBuilder};

use super::RuleError;
use super::expr::{Builder, col};
use crate::model::Entity;

/// The alias the fact table of linked conditions is joined as.
pub(crate) const LINKED_FACTS_ALIAS: &str = "lf";

/// The values the linked conditions of an open collection read, in order of first use: the
/// fact table's columns v1, v2, ….
pub(crate) struct LinkedFacts {
    entity: String,
    alias: String,
    values: Vec<Expr>,
    texts: Vec<String>,
    /// A value read the clock: the table holds for this day only.
    by_day: bool,
}

impl Builder<'_> {
    /// From now on, linked conditions on rows of `entity` aliased `alias` read their values
    /// from the fact table joined as [`LINKED_FACTS_ALIAS`] (until [`Self::take_linked_facts`]).
    pub(crate) fn collect_linked_facts(&self, entity: &Entity, alias: &str) {
        *self.linked_facts.borrow_mut() = Some(LinkedFacts {
            entity: entity.name.clone(),
            alias: alias.to_owned(),
            values: Vec::new(),
            texts: Vec::new(),
            by_day: false,
        });
    }

    /// Closes the collection: the values its fact table must hold, column by column, and
    /// whether one of them read the clock (the table then holds for this day only).
    pub(crate) fn take_linked_facts(&self) -> (Vec<Expr>, bool) {
        self.linked_facts.borrow_mut().take().map(|f| (f.values, f.by_day)).unwrap_or_default()
    }

    /// The fact column to read for a linked condition of a row of `entity` aliased `table`,
    /// whose value `value` builds (with a fresh builder, so that the same condition is the
    /// same text wherever it is); `None` when no collection is open for those rows.
    pub(crate) fn linked_fact(
        &self,
        entity: &Entity,
        table: &str,
        value: impl FnOnce(&Self) -> Result<Expr, RuleError>,
    ) -> Result<Option<Expr>, RuleError> {
        let mut open = self.linked_facts.borrow_mut();
        let Some(facts) = open.as_mut().filter(|f| f.entity == entity.name && f.alias == table) else {
            return Ok(None);
        };
        let fresh = self.afresh();
        let v = value(&fresh)?;
        facts.by_day |= fresh.read_the_clock.get();
        let text = Query::select().expr(v.clone()).to_string(SqliteQueryBuilder);
        let i = match facts.texts.iter().position(|t| *t == text) {
            Some(i) => i,
            None => {
                facts.texts.push(text);
                facts.values.push(v);
                facts.values.len() - 1
            }
        };
        Ok(Some(col(LINKED_FACTS_ALIAS, &format!("v{}", i + 1))))
    }
}
