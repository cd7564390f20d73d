//! Facts kept with the data: the per-row values of linked rows that an Enrichment asks for
//! (a count, a sum, the most recent row's column) and that rules test ("has a completed
//! booking in the last 12 months": an EXISTS kept as 0 or 1, see `audience/linked_facts.rs`),
//! kept in tables of the workspace (`cc_fact_v<data version>_[d<day>_]<definitions' hash>`, a
//! column per value) so that a later count reads them with one lookup by key instead of going
//! through the linked rows of each row again.
//!
//! A table is filled by the same subqueries the count would run, for every row of the
//! entity: a value read from it is the value the count computes, to the bit. It is filled
//! once per data version (its name carries it) and per definition (a relative window is
//! written as its days, so "the last 12 months" is a new definition each day, and such a
//! table's name carries its day); the step that reads it fills it first when it is empty.
//! Stale tables (older data, days over) are dropped by the workspace
//! (`store::column_facts::drop_stale_facts`). SQLite only.

use super::*;
use crate::audience::expr::zero_if_empty;
use crate::audience::linked_facts::LINKED_FACTS_ALIAS;
use crate::model::{EnrichColumn, EnrichSource};

/// The prefix of every fact table's name.
pub const FACT_PREFIX: &str = "cc_fact_v";

/// The alias a fact table is joined as.
const FACT_ALIAS: &str = "f";

/// An Enrichment's facts: the table, and for each of its columns the fact column that holds
/// its value (`None`: an attribute, read as before).
pub(super) struct Facts {
    pub table: String,
    pub columns: Vec<Option<String>>,
}

impl Compiler<'_> {
    /// The facts of an Enrichment's `columns` for rows of `entity`, with the statements that
    /// fill their table when it is empty (pushed to `out`); `None` when none is kept as a
    /// fact (only attributes, facts off, PostgreSQL). `flow`: what its output carries. Each
    /// fact is kept as the output's column holds it: with the column's type, an aggregate
    /// over no row as 0.
    pub(super) fn facts(
        &self,
        columns: &[EnrichColumn],
        entity: &Entity,
        flow: &Flow,
        out: &mut Statements,
    ) -> Result<Option<Facts>, RuleError> {
        if !self.keeps_facts() {
            return Ok(None);
        }
        // Built afresh: a definition's text does not depend on what was compiled before.
        let b = self.b.afresh();
        let mut values = Vec::new();
        let mut names = Vec::new();
        for c in columns {
            let name = b.linked_value(&c.source, entity, "t")?.map(|(value, ty)| {
                let value = match &c.source {
                    EnrichSource::Aggregate { function, .. } => zero_if_empty(*function, Expr::from(value)),
                    _ => Expr::from(value),
                };
                let ty = flow.columns.iter().find(|w| w.alias == c.alias).map_or(ty, |w| w.column_type);
                values.push((value, self.sql_type(Some(ty))));
                format!("v{}", values.len())
            });
            names.push(name);
        }
        let by_day = b.read_the_clock.get();
        Ok(self
            .fact_table(entity, "t", values, by_day, Covering::Every, out)?
            .map(|table| Facts { table, columns: names }))
    }

    /// Whether facts are kept in the workspace and read by counts (SQLite only).
    pub(super) fn keeps_facts(&self) -> bool {
        self.options.kept_facts && self.options.dialect == Dialect::Sqlite
    }

    /// What `rules` builds (rules on rows of `entity` aliased `alias` in `q`), its linked
    /// conditions reading their values from a fact table when facts are kept: the table is
    /// joined to `q`, and the statements that fill it when it is empty are pushed to `out`.
    pub(super) fn with_linked_facts<T>(
        &self,
        q: &mut SelectStatement,
        entity: &Entity,
        alias: &str,
        out: &mut Statements,
        rules: impl FnOnce() -> Result<T, RuleError>,
    ) -> Result<T, RuleError> {
        if !self.keeps_facts() {
            return rules();
        }
        self.b.collect_linked_facts(entity, alias);
        let built = rules();
        let (values, by_day) = self.b.take_linked_facts();
        let built = built?;
        let values = values.into_iter().map(|v| (v, "")).collect();
        if let Some(name) = self.fact_table(entity, "t", values, by_day, Covering::Every, out)? {
            join_fact_table(q, &name, LINKED_FACTS_ALIAS, alias, &entity.primary_key);
        }
        Ok(built)
    }

    /// The fact table holding `values` (expressions over a row of `entity` aliased `row`,
    /// each with the type its column is declared with, or none: "") for the rows `covering`
    /// says, with the statements that fill it (pushed to `out`); `None` when there is no value
    /// to keep. `by_day`: a value read the clock, so the table holds for today only, and its
    /// name says which day (`_d<YYYYMMDD>`) for the workspace to drop it once the day is over.
    pub(super) fn fact_table(
        &self,
        entity: &Entity,
        row: &str,
        values: Vec<(Expr, &'static str)>,
        by_day: bool,
        covering: Covering<'_>,
        out: &mut Statements,
    ) -> Result<Option<String>, RuleError> {
        let Some(pk) = entity.column(&entity.primary_key) else { return Ok(None) };
        if values.is_empty() {
            return Ok(None);
        }
        // (The values' text names `row`: the same values over another alias are another table.)
        let mut definition = vec!["facts".to_owned(), entity.name.clone()];
        definition.extend(values.iter().map(|(v, ty)| {
            let text = Query::select().expr(v.clone()).to_string(SqliteQueryBuilder);
            if ty.is_empty() { text } else { format!("{text} as {ty}") }
        }));
        let day = if by_day { format!("d{}_", self.b.today.strftime("%Y%m%d")) } else { String::new() };
        let hash = match covering {
            Covering::Every => hash_key(&definition),
            Covering::RowsOf(_) => format!("m{}", hash_key(&definition)),
        };
        let name = format!("{FACT_PREFIX}{}_{day}{hash}", self.options.data_version);
        let table = (Alias::new("main"), Alias::new(&name));
        // A value with no declared type is kept exactly as its expression gives it.
        let mut create = Table::create();
        create.table(table.clone()).if_not_exists().col(
            ColumnDef::new(Alias::new("key")).custom(Alias::new(self.sql_type(Some(pk.column_type)))).primary_key(),
        );
        for (i, (_, ty)) in values.iter().enumerate() {
            create.col(ColumnDef::new(Alias::new(format!("v{}", i + 1))).custom(Alias::new(*ty)));
        }
        out.push(self.create(&create));
        // Filled apart first, in a temporary table of the count's own connection: the
        // workspace's write lock is held only while the rows are copied in, not while the
        // linked rows of every row are aggregated (seconds at a million profiles).
        let apart = Alias::new(format!("{name}_filling"));
        let drop_apart = || SqlStatement {
            sql: format!("DROP TABLE IF EXISTS temp.\"{name}_filling\""),
            values: Vec::new(),
            display: format!("DROP TABLE IF EXISTS temp.\"{name}_filling\""),
        };
        out.push(drop_apart());
        let mut create_apart = create.clone();
        create_apart.table(apart.clone()).temporary();
        out.push(self.create(&create_apart));
        let empty = || {
            let mut any = Query::select();
            any.expr(Expr::val(1)).from(table.clone());
            Expr::exists(any).not()
        };
        let mut fill = Query::select();
        fill.expr(col(row, &entity.primary_key));
        let entity_as_row = || Alias::new(&entity.name).into_table_ref().alias(Alias::new(row));
        match covering {
            Covering::Every => {
                // Read only when the table is empty: a row that exists then, joined to the
                // entity's rows (a condition on every row would still walk them all: 14–27 ms
                // at 1M).
                let mut when_empty = Query::select();
                when_empty.expr(Expr::val(1)).and_where(empty());
                fill.from_subquery(when_empty, Alias::new("g")).cross_join(entity_as_row());
            }
            Covering::RowsOf(w) => {
                let mut kept = Query::select();
                kept.expr(Expr::val(1))
                    .from_as(table.clone(), Alias::new("k"))
                    .and_where(col("k", "key").equals((Alias::new("w"), Alias::new("key"))));
                fill.from_as(Alias::new(w), Alias::new("w"))
                    .cross_join(entity_as_row())
                    .and_where(col(row, &entity.primary_key).equals((Alias::new("w"), Alias::new("key"))))
                    .and_where(Expr::exists(kept).not());
            }
        }
        let mut targets = vec![Alias::new("key")];
        for (i, (value, _)) in values.into_iter().enumerate() {
            fill.expr(value);
            targets.push(Alias::new(format!("v{}", i + 1)));
        }
        let mut insert = Query::insert();
        insert.into_table(apart.clone()).columns(targets.clone());
        insert.select_from(fill).map_err(|e| RuleError::Sql(e.to_string()))?;
        out.push(self.insert(&insert));
        let mut copy = Query::select();
        copy.columns(targets.clone()).from(apart);
        let mut keep = Query::insert();
        keep.into_table(table.clone()).columns(targets);
        match covering {
            // Another count may have filled it meanwhile: its rows are these.
            Covering::Every => {
                copy.and_where(empty());
            }
            Covering::RowsOf(_) => {
                // (A WHERE before ON CONFLICT: SQLite would read its ON as a join's.)
                copy.and_where(Expr::cust("1 = 1"));
                keep.on_conflict(sea_query::OnConflict::column(Alias::new("key")).do_nothing().to_owned());
            }
        }
        keep.select_from(copy).map_err(|e| RuleError::Sql(e.to_string()))?;
        out.push(self.insert(&keep));
        out.push(drop_apart());
        Ok(Some(name))
    }
}

/// Which rows of an entity a fact table holds.
#[derive(Clone, Copy)]
pub(super) enum Covering<'w> {
    /// Every row: filled when it is empty, then read as it is.
    Every,
    /// The rows counted so far: the rows of work table `w` (aliased `w`) not yet there are
    /// added, then those of `w` are read. For values too costly to compute for every row at
    /// once (a phone number's check, see `address_checks.rs`); its name has an `m` before the
    /// hash.
    RowsOf(&'w str),
}

impl Facts {
    /// Whether every column of the Enrichment is a fact (none is read from the row itself).
    pub(super) fn all(&self) -> bool {
        self.columns.iter().all(Option::is_some)
    }

    /// Joins the facts' table to `q`, on the key `alias.column` of its rows of the entity.
    pub(super) fn join(&self, q: &mut SelectStatement, alias: &str, column: &str) {
        join_fact_table(q, &self.table, FACT_ALIAS, alias, column);
    }

    /// The value of column `i` of the Enrichment, when it is a fact: read from the joined
    /// table, as the output's column holds it.
    pub(super) fn value(&self, i: usize) -> Option<Expr> {
        Some(col(FACT_ALIAS, self.columns.get(i)?.as_ref()?))
    }
}

/// Joins the fact table `name` to `q` as `fact_alias`, on the key `alias.column` (LEFT: every
/// row of the entity has its facts, so none is lost either way).
pub(super) fn join_fact_table(q: &mut SelectStatement, name: &str, fact_alias: &str, alias: &str, column: &str) {
    q.join(
        JoinType::LeftJoin,
        (Alias::new("main"), Alias::new(name)).into_table_ref().alias(Alias::new(fact_alias)),
        col(fact_alias, "key").equals((Alias::new(alias), Alias::new(column))),
    );
}
