//! Customer tables (profiles, bookings, …): creating them from the data model, bulk loading,
//! indexing, and the workspace facts that go with them (data version).

use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, Statement, params};

use super::{Result, StoreError, quote_ident};
use crate::model::{Cell, DataModel, IndexSpec};

impl ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Cell::Null => ValueRef::Null,
            Cell::Int(v) => ValueRef::Integer(v),
            Cell::Real(v) => ValueRef::Real(v),
            Cell::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

/// What the workspace already holds, if anything: application metadata or customer tables.
pub fn occupancy(conn: &Connection) -> Result<Option<String>> {
    let entities: i64 = conn.query_row("SELECT COUNT(*) FROM cc_entities", [], |r| r.get(0))?;
    let campaigns: i64 = conn.query_row("SELECT COUNT(*) FROM cc_campaigns", [], |r| r.get(0))?;
    let tables: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'
           AND name NOT LIKE 'cc\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        [],
        |r| r.get(0),
    )?;
    Ok(match (entities, campaigns, tables) {
        (0, 0, 0) => None,
        _ => Some(format!("{entities} entities, {tables} customer tables, {campaigns} campaigns")),
    })
}

/// Drops the tables of `model`'s entities (when present).
pub fn drop_tables(conn: &Connection, model: &DataModel) -> Result<()> {
    for e in &model.entities {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", quote_ident(&e.name)?))?;
    }
    Ok(())
}

/// Creates a table for every entity of `model`.
pub fn create_tables(conn: &Connection, model: &DataModel) -> Result<()> {
    for e in &model.entities {
        conn.execute_batch(&super::data_model::create_table_sql(e)?)?;
    }
    Ok(())
}

/// Creates the given indexes (named `<table>_by_<first column>[_<n>]`) and one on every
/// identity namespace's column, then gathers planner statistics from a bounded sample: a
/// full ANALYZE of millions of rows would cost as much as the load itself.
pub fn create_indexes(conn: &Connection, model: &DataModel, specs: &[IndexSpec]) -> Result<()> {
    let mut all: Vec<(String, Vec<String>)> =
        specs.iter().map(|s| (s.entity.to_owned(), s.columns.iter().map(|c| (*c).to_owned()).collect())).collect();
    for ns in &model.identity_namespaces {
        all.push((ns.entity.clone(), vec![ns.column.clone()]));
    }
    let mut used = std::collections::HashSet::new();
    for (table, columns) in all {
        let Some(first) = columns.first() else {
            return Err(StoreError::Invalid(format!("an index on {table} needs at least one column")));
        };
        let mut name = format!("{table}_by_{first}");
        let mut n = 2;
        while !used.insert(name.clone()) {
            name = format!("{table}_by_{first}_{n}");
            n += 1;
        }
        let cols = columns.iter().map(|c| quote_ident(c)).collect::<Result<Vec<_>>>()?.join(", ");
        conn.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} ({cols})",
            quote_ident(&name)?,
            quote_ident(&table)?
        ))?;
    }
    conn.execute_batch("PRAGMA analysis_limit = 1000; ANALYZE; PRAGMA analysis_limit = 0;")?;
    Ok(())
}

/// Creates an index on `table.column` when no index of that name exists (a link's foreign
/// key, an identity's column declared on the Data screen).
pub fn ensure_index(conn: &Connection, table: &str, column: &str) -> Result<()> {
    conn.execute_batch(&format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
        quote_ident(&format!("{table}_by_{column}"))?,
        quote_ident(table)?,
        quote_ident(column)?
    ))?;
    Ok(())
}

/// How many rows point at no row of `parent`, given how many rows point at each key
/// (`pointed`); keys in `also` count as present (the rows of a file that links to itself).
pub fn rows_pointing_nowhere(
    conn: &Connection,
    parent: &crate::model::Entity,
    pointed: &std::collections::HashMap<i64, u64>,
    also: &std::collections::HashSet<i64>,
) -> Result<u64> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [&parent.name],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(pointed.iter().filter(|(k, _)| !also.contains(k)).map(|(_, n)| n).sum());
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE {} = ?1)",
        quote_ident(&parent.name)?,
        quote_ident(&parent.primary_key)?
    ))?;
    let mut missing = 0;
    for (key, rows) in pointed {
        if !also.contains(key) && !stmt.query_row([key], |r| r.get::<_, bool>(0))? {
            missing += rows;
        }
    }
    Ok(missing)
}

/// Sets `column` (a channel's opt-in) to `on` on the rows of `table` whose `by` column holds
/// one of `keys`; returns the keys of the rows that changed (text), read through `key_column`.
/// Counts cached on the old value become stale.
pub fn set_opt_in(
    conn: &Connection,
    table: &str,
    key_column: &str,
    column: &str,
    by: &str,
    keys: &[&str],
    on: bool,
) -> Result<Vec<String>> {
    let sql = format!(
        "UPDATE {t} SET {c} = ?2 WHERE {by} = ?1 AND {c} IS NOT ?2 RETURNING CAST({k} AS TEXT)",
        t = quote_ident(table)?,
        c = quote_ident(column)?,
        by = quote_ident(by)?,
        k = quote_ident(key_column)?,
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut changed = Vec::new();
    for key in keys {
        let rows = stmt.query_map(params![key, on], |r| r.get::<_, String>(0))?;
        for row in rows {
            changed.push(row?);
        }
    }
    drop(stmt);
    if !changed.is_empty() {
        bump_data_version(conn)?;
    }
    Ok(changed)
}

/// The keys (as text) of the rows of `table` whose `by` column holds `value`, at most 100.
pub fn keys_where(conn: &Connection, table: &str, key_column: &str, by: &str, value: &str) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT CAST({k} AS TEXT) FROM {t} WHERE {by} = ?1 ORDER BY {k} LIMIT 100",
        t = quote_ident(table)?,
        by = quote_ident(by)?,
        k = quote_ident(key_column)?,
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut keys = Vec::new();
    for key in stmt.query_map([value], |r| r.get::<_, String>(0))? {
        keys.push(key?);
    }
    Ok(keys)
}

/// Records that customer data changed (cached counts keyed on it become stale).
pub fn bump_data_version(conn: &Connection) -> Result<()> {
    conn.execute(
        "INSERT INTO cc_workspace_meta (key, value) VALUES ('data_version', '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        [],
    )?;
    Ok(())
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO cc_workspace_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Sets workspace setting `key` to `value` where it is still `replacing` (`None`: not set),
/// in one statement; returns the value kept, which is another's when another process set it
/// meanwhile.
pub fn set_meta_unless_changed(conn: &Connection, key: &str, replacing: Option<&str>, value: &str) -> Result<String> {
    match replacing {
        None => conn.execute(
            "INSERT INTO cc_workspace_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            params![key, value],
        )?,
        Some(old) => conn.execute(
            "UPDATE cc_workspace_meta SET value = ?3 WHERE key = ?1 AND value = ?2",
            params![key, old, value],
        )?,
    };
    Ok(meta(conn, key)?.unwrap_or_default())
}

/// A workspace setting, if set.
pub fn meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT value FROM cc_workspace_meta WHERE key = ?1",
        [key],
        |r| r.get(0),
    ))?)
}

pub fn delete_meta(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM cc_workspace_meta WHERE key = ?1", [key])?;
    Ok(())
}

/// The workspace setting holding the frequency cap.
const FREQUENCY_CAP: &str = "frequency_cap_per_day";

/// The workspace's cap on marketing messages per profile in 24 hours (all channels), if any.
pub fn frequency_cap(conn: &Connection) -> Result<Option<u32>> {
    Ok(meta(conn, FREQUENCY_CAP)?.and_then(|v| v.parse().ok()).filter(|n| *n > 0))
}

/// Sets (or with `None` removes) the frequency cap.
pub fn set_frequency_cap(conn: &Connection, cap: Option<u32>) -> Result<()> {
    match cap.filter(|n| *n > 0) {
        Some(n) => set_meta(conn, FREQUENCY_CAP, &n.to_string()),
        None => delete_meta(conn, FREQUENCY_CAP),
    }
}

/// The current data version (0 before any customer data was loaded).
pub fn data_version(conn: &Connection) -> Result<i64> {
    let v: Option<String> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT value FROM cc_workspace_meta WHERE key = 'data_version'",
        [],
        |r| r.get(0),
    ))?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Inserts rows into the customer tables of a data model with one prepared statement per
/// table. Meant to run inside the caller's transaction.
pub struct Loader<'c> {
    statements: Vec<(usize, Statement<'c>)>,
}

impl<'c> Loader<'c> {
    pub fn new(conn: &'c Connection, model: &DataModel) -> Result<Self> {
        let mut statements = Vec::with_capacity(model.entities.len());
        for e in &model.entities {
            let cols = e.columns.iter().map(|c| quote_ident(&c.name)).collect::<Result<Vec<_>>>()?.join(", ");
            let marks = vec!["?"; e.columns.len()].join(", ");
            let sql = format!("INSERT INTO {} ({cols}) VALUES ({marks})", quote_ident(&e.name)?);
            statements.push((e.columns.len(), conn.prepare(&sql)?));
        }
        Ok(Self { statements })
    }

    /// Inserts one row into the `entity`-th entity of the model, values in column order.
    pub fn insert(&mut self, entity: usize, row: &[Cell<'_>]) -> Result<()> {
        let Some((arity, stmt)) = self.statements.get_mut(entity) else {
            return Err(StoreError::Invalid(format!("no entity number {entity} in the data model")));
        };
        if row.len() != *arity {
            return Err(StoreError::Invalid(format!("a row of {} values for a table of {arity} columns", row.len())));
        }
        for (i, cell) in row.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, cell)?;
        }
        stmt.raw_execute()?;
        Ok(())
    }
}

/// The distinct non-empty values of a text column, sorted, when there are at most `limit` of
/// them (`None` when there are more: the column is not a list of choices). Scans the table.
pub fn distinct_values(conn: &Connection, entity: &str, column: &str, limit: usize) -> Result<Option<Vec<String>>> {
    let sql = format!(
        "SELECT DISTINCT CAST({c} AS TEXT) AS v FROM {t} WHERE {c} IS NOT NULL AND TRIM(CAST({c} AS TEXT)) <> '' \
         ORDER BY v LIMIT ?1",
        c = quote_ident(column)?,
        t = quote_ident(entity)?,
    );
    let mut stmt = conn.prepare(&sql)?;
    let values = stmt
        .query_map(params![i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1)], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok((values.len() <= limit).then_some(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_is_set_unless_another_process_changed_it_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let ws = crate::store::Workspace::open(dir.path()).unwrap();
        let conn = ws.conn();
        assert_eq!(set_meta_unless_changed(&conn, "k", None, "a").unwrap(), "a");
        assert_eq!(set_meta_unless_changed(&conn, "k", None, "b").unwrap(), "a", "set by another already");
        assert_eq!(set_meta_unless_changed(&conn, "k", Some("old"), "c").unwrap(), "a", "not the one replaced");
        assert_eq!(set_meta_unless_changed(&conn, "k", Some("a"), "d").unwrap(), "d");
    }
}
