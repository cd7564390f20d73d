//! What the data guarantees, kept with the data version it was found at:
//! - whether the non-empty values of some columns of an entity are distinct (no two rows share
//!   them all): a deduplication on such columns removes nothing, and the audience compiler
//!   makes it a pass-through;
//! - whether a timestamp column holds UTC text to the second only (`YYYY-MM-DDTHH:MM:SSZ`, as
//!   the demo and imports write instants): the compiler then compares and sorts it as stored
//!   instead of normalizing every value.
//!
//! A fact is found when first asked at a data version (one scan), then read; every write to
//! the customer data moves the data version on, so a fact is never read for data it was not
//! found on. The aggregate fact tables of older data versions are dropped here too.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, quote_ident};
use crate::audience::CompileOptions;
use crate::model::{Canvas, ColumnType, DataModel, Entity};

/// Adds to `options` what the data guarantees for `canvas` at `options.data_version`: its
/// deduplications' distinct columns and its timestamp columns held as UTC text to the second
/// (each found now unless known).
pub fn find_for(conn: &Connection, canvas: &Canvas, model: &DataModel, options: &mut CompileOptions) -> Result<()> {
    let data_version = options.data_version;
    for (entity, columns) in CompileOptions::facts_wanted(canvas, model) {
        if distinct(conn, data_version, entity, &columns)? {
            options.distinct.push((entity.name.clone(), columns));
        }
    }
    for (entity, column) in CompileOptions::instants_wanted(canvas, model) {
        if canonical_instants(conn, data_version, entity, column)? {
            options.canonical_instants.push((entity.name.clone(), column.to_owned()));
        }
    }
    Ok(())
}

/// Whether every value of the timestamp column `entity.column` at `data_version` is NULL or
/// UTC text to the second, `YYYY-MM-DDTHH:MM:SSZ` (found now unless known): text that sorts
/// as the instants it names, and that SQLite's `strftime` gives back unchanged.
pub fn canonical_instants(conn: &Connection, data_version: i64, entity: &Entity, column: &str) -> Result<bool> {
    let kept = Kept { table: "cc_instant_facts", key: "column_name", value: "canonical" };
    kept.read_or_find(conn, data_version, entity, column, || {
        if entity.column(column).is_none_or(|c| c.column_type != ColumnType::Timestamp) {
            return Ok(false);
        }
        let c = quote_ident(column)?;
        let other: bool = conn.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE {c} IS NOT NULL
                   AND (typeof({c}) <> 'text' OR strftime('%Y-%m-%dT%H:%M:%SZ', {c}) IS NOT {c}))",
                quote_ident(&entity.name)?
            ),
            [],
            |r| r.get(0),
        )?;
        Ok(!other)
    })
}

/// Whether no two rows of `entity` share non-empty values in all of `columns` at
/// `data_version` (found now unless known). A row with any of them empty (NULL, or '' for text)
/// does not count: a deduplication keeps such rows anyway.
pub fn distinct(conn: &Connection, data_version: i64, entity: &Entity, columns: &[String]) -> Result<bool> {
    let kept = Kept { table: "cc_column_facts", key: "columns", value: "is_distinct" };
    kept.read_or_find(conn, data_version, entity, &columns.join(","), || {
        let mut named = Vec::new();
        let mut present = Vec::new();
        for c in columns {
            let Some(column) = entity.column(c) else { return Ok(false) };
            let q = quote_ident(c)?;
            present.push(if column.column_type == ColumnType::Text {
                format!("{q} IS NOT NULL AND {q} <> ''")
            } else {
                format!("{q} IS NOT NULL")
            });
            named.push(q);
        }
        if named.is_empty() {
            return Ok(false);
        }
        let shared: bool = conn.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE {} GROUP BY {} HAVING COUNT(*) > 1)",
                quote_ident(&entity.name)?,
                present.join(" AND "),
                named.join(", ")
            ),
            [],
            |r| r.get(0),
        )?;
        Ok(!shared)
    })
}

/// A table of yes/no facts, one per entity and `key`, with the data version it was found at.
struct Kept {
    table: &'static str,
    key: &'static str,
    value: &'static str,
}

impl Kept {
    /// The fact about `entity` and `key` at `data_version`: read when kept, else found by
    /// `find` and kept for the next count. One that cannot be kept now (the workspace busy
    /// with another process's write) is found again next time, and this count goes on.
    fn read_or_find(
        &self,
        conn: &Connection,
        data_version: i64,
        entity: &Entity,
        key: &str,
        find: impl FnOnce() -> Result<bool>,
    ) -> Result<bool> {
        let Self { table, key: key_column, value } = self;
        let known: Option<bool> = conn
            .query_row(
                &format!("SELECT {value} FROM {table} WHERE entity = ?1 AND {key_column} = ?2 AND data_version = ?3"),
                params![entity.name, key, data_version],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(known) = known {
            return Ok(known);
        }
        let found = find()?;
        let kept = conn.execute(
            &format!(
                "INSERT INTO {table} (entity, {key_column}, data_version, {value}) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (entity, {key_column}) DO UPDATE SET data_version = excluded.data_version, {value} = excluded.{value}"
            ),
            params![entity.name, key, data_version, found],
        );
        if let Err(e) = kept {
            tracing::warn!("the fact about {}({key}) was not kept: {e}", entity.name);
        }
        Ok(found)
    }
}

/// Drops the fact tables (`audience::FACT_PREFIX`, named with their data version and, for
/// those that read the clock, their day) kept for data versions before `data_version` (the
/// data has changed since) or for days before yesterday (`today` in UTC, so that no time zone
/// of a campaign is still on that day): no count reads them again. Drops the checks of
/// addresses kept by another phone parser too. Returns how many tables were dropped.
pub fn drop_stale_facts(conn: &Connection, data_version: i64, today: jiff::civil::Date) -> Result<usize> {
    // Looked for first: a DELETE would wait for the workspace's write lock even to delete
    // nothing, and this runs before every count.
    let checker = crate::model::address::ADDRESS_CHECKER;
    let others: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM cc_address_checks WHERE checker < ?1)
             OR EXISTS (SELECT 1 FROM cc_address_checks WHERE checker > ?1)",
        [checker],
        |r| r.get(0),
    )?;
    if others {
        conn.execute("DELETE FROM cc_address_checks WHERE checker <> ?1", [checker])?;
    }
    let prefix = crate::audience::FACT_PREFIX;
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?1) = ?2")?
        .query_map(params![prefix.len() as i64, prefix], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let yesterday = today.yesterday().unwrap_or(today).strftime("%Y%m%d").to_string();
    let stale: Vec<&String> = names
        .iter()
        .filter(|n| {
            let mut parts = n[prefix.len()..].split('_');
            let version = parts.next().and_then(|v| v.parse::<i64>().ok());
            // `d<YYYYMMDD>`: compared as text, as the digits of days are.
            let day = parts.next().and_then(|d| d.strip_prefix('d')).filter(|d| d.len() == 8);
            version.is_none_or(|v| v < data_version) || day.is_some_and(|d| d < yesterday.as_str())
        })
        .collect();
    for name in &stale {
        conn.execute(&format!("DROP TABLE IF EXISTS {}", quote_ident(name)?), [])?;
    }
    Ok(stale.len())
}
