//! What the data guarantees, kept with the data version it was found at: whether the non-empty
//! values of some columns of an entity are distinct (no two rows share them all). A
//! deduplication on such columns removes nothing, and the audience compiler makes it a
//! pass-through. A fact is found when first asked at a data version (one grouped scan, along
//! an index when there is one), then read; every write to the customer data moves the data
//! version on, so a fact is never read for data it was not found on.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, quote_ident};
use crate::model::{ColumnType, Entity};

/// Whether no two rows of `entity` share non-empty values in all of `columns` at
/// `data_version` (found now unless known). A row with any of them empty (NULL, or '' for text)
/// does not count: a deduplication keeps such rows anyway.
pub fn distinct(conn: &Connection, data_version: i64, entity: &Entity, columns: &[String]) -> Result<bool> {
    let key = columns.join(",");
    let known: Option<bool> = conn
        .query_row(
            "SELECT is_distinct FROM cc_column_facts WHERE entity = ?1 AND columns = ?2 AND data_version = ?3",
            params![entity.name, key, data_version],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(known) = known {
        return Ok(known);
    }
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
    // Kept for the next count; one that cannot be kept now (the workspace busy with another
    // process's write) is found again next time, and this count goes on.
    let kept = conn.execute(
        "INSERT INTO cc_column_facts (entity, columns, data_version, is_distinct) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (entity, columns) DO UPDATE SET data_version = excluded.data_version, is_distinct = excluded.is_distinct",
        params![entity.name, key, data_version, !shared],
    );
    if let Err(e) = kept {
        tracing::warn!("the fact about {}({key}) was not kept: {e}", entity.name);
    }
    Ok(!shared)
}

/// Drops the aggregate fact tables (`audience::FACT_PREFIX`, named with their data version)
/// kept for data versions before `data_version`: the data has changed since, and no count
/// reads them again. Returns how many.
pub fn drop_stale_facts(conn: &Connection, data_version: i64) -> Result<usize> {
    let prefix = crate::audience::FACT_PREFIX;
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?1) = ?2")?
        .query_map(params![prefix.len() as i64, prefix], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let stale: Vec<&String> = names
        .iter()
        .filter(|n| {
            let version = n[prefix.len()..].split('_').next().and_then(|v| v.parse::<i64>().ok());
            version.is_none_or(|v| v < data_version)
        })
        .collect();
    for name in &stale {
        conn.execute(&format!("DROP TABLE IF EXISTS {}", quote_ident(name)?), [])?;
    }
    Ok(stale.len())
}
