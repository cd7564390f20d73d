//! Writing an import: one transaction from the data model's change to the last row, so that a
//! failed or cancelled import leaves the workspace as it was. The table is created or its new
//! columns added, the rows inserted, upserted or replaced, the key, link and namespace columns
//! indexed, and the data version moved on (counts recompute) — or nothing at all.

use rusqlite::{Connection, ErrorCode, Statement};

use super::{Result, StoreError, quote_ident};
use crate::model::{Cell, DataModel, Entity};

/// What one import writes.
pub struct Plan<'a> {
    /// The data model after the import (the entity with its new columns, links, namespaces).
    pub model: &'a DataModel,
    pub entity: &'a str,
    /// The columns the rows' values fill, in order.
    pub columns: Vec<String>,
    /// The rows are numbered: the key column gets the next number (not among `columns`).
    pub numbered: bool,
    pub replace: bool,
    pub upsert: bool,
    /// With upsert: an empty value clears the column (else it keeps its value).
    pub clear_empty: bool,
}

/// What writing one row did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    Row,
    /// Insert only: a row with this key is in the table already.
    KeyExists,
}

/// An import being written; dropped without [`Writer::commit`], it rolls everything back.
pub struct Writer<'c> {
    conn: &'c Connection,
    insert: Statement<'c>,
    next_key: Option<i64>,
    open: bool,
}

fn entity<'m>(model: &'m DataModel, name: &str) -> Result<&'m Entity> {
    model.entity(name).ok_or_else(|| StoreError::Invalid(format!("the data model has no entity {name}")))
}

/// Starts an import: the transaction, the data model saved, the table made ready.
pub fn begin<'c>(conn: &'c Connection, plan: &Plan<'_>) -> Result<Writer<'c>> {
    // One long transaction: a page cache that holds the table's growing end; no memory map,
    // so that reading the workspace back (indexes, links) does not count against memory.
    conn.execute_batch("PRAGMA cache_size = -32768; PRAGMA mmap_size = 0; BEGIN IMMEDIATE")?;
    let mut writer = Writer { conn, insert: conn.prepare("SELECT 1")?, next_key: None, open: true };
    writer.insert = prepare(conn, plan)?;
    let e = entity(plan.model, plan.entity)?;
    if plan.numbered {
        let max: Option<i64> = conn.query_row(
            &format!("SELECT MAX({}) FROM {}", quote_ident(&e.primary_key)?, quote_ident(&e.name)?),
            [],
            |r| r.get(0),
        )?;
        writer.next_key = Some(max.unwrap_or(0) + 1);
    }
    Ok(writer)
}

/// The data model saved, the table created or widened, emptied for a replace; the row
/// statement prepared.
fn prepare<'c>(conn: &'c Connection, plan: &Plan<'_>) -> Result<Statement<'c>> {
    super::data_model::save(conn, plan.model)?;
    let e = entity(plan.model, plan.entity)?;
    let table = quote_ident(&e.name)?;
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [&e.name],
        |r| r.get(0),
    )?;
    if exists {
        let have: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info({})", quote_literal(&e.name)))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for c in e.columns.iter().filter(|c| !have.contains(&c.name)) {
            conn.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN {} {}",
                quote_ident(&c.name)?,
                c.column_type.sqlite_type()
            ))?;
        }
        if plan.replace {
            conn.execute_batch(&format!("DELETE FROM {table}"))?;
        }
    } else {
        conn.execute_batch(&super::data_model::create_table_sql(e)?)?;
    }
    let mut columns = plan.columns.clone();
    if plan.numbered {
        columns.insert(0, e.primary_key.clone());
    }
    let names = columns.iter().map(|c| quote_ident(c)).collect::<Result<Vec<_>>>()?;
    let marks = vec!["?"; names.len()].join(", ");
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ({marks})", names.join(", "));
    if plan.upsert {
        let set: Vec<String> = names
            .iter()
            .zip(&columns)
            .filter(|(_, c)| **c != e.primary_key)
            .map(|(q, _)| {
                if plan.clear_empty {
                    format!("{q} = excluded.{q}")
                } else {
                    format!("{q} = COALESCE(excluded.{q}, {q})")
                }
            })
            .collect();
        if set.is_empty() {
            sql.push_str(&format!(" ON CONFLICT ({}) DO NOTHING", quote_ident(&e.primary_key)?));
        } else {
            sql.push_str(&format!(" ON CONFLICT ({}) DO UPDATE SET {}", quote_ident(&e.primary_key)?, set.join(", ")));
        }
    }
    Ok(conn.prepare(&sql)?)
}

/// `name` as an SQL string literal.
fn quote_literal(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

impl Writer<'_> {
    /// Writes one row (values in the plan's column order).
    pub fn write(&mut self, row: &[Cell<'_>]) -> Result<Written> {
        let mut at = 1;
        if let Some(k) = self.next_key {
            self.insert.raw_bind_parameter(1, k)?;
            at = 2;
        }
        for (i, cell) in row.iter().enumerate() {
            self.insert.raw_bind_parameter(at + i, cell)?;
        }
        match self.insert.raw_execute() {
            Ok(_) => {
                if let Some(k) = &mut self.next_key {
                    *k += 1;
                }
                Ok(Written::Row)
            }
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => {
                Ok(Written::KeyExists)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Indexes the key, link and namespace columns of `entity`, gathers statistics, moves the
    /// data version on and commits. Returns, for each link of the entity (as child), how many
    /// of its rows point at no parent row.
    pub fn commit(mut self, model: &DataModel, entity: &str) -> Result<Vec<(crate::model::Link, u64)>> {
        let e = self::entity(model, entity)?;
        let mut indexed: Vec<&str> =
            model.links.iter().filter(|l| l.child == e.name).map(|l| l.foreign_key.as_str()).collect();
        indexed.extend(model.identity_namespaces.iter().filter(|n| n.entity == e.name).map(|n| n.column.as_str()));
        indexed.sort_unstable();
        indexed.dedup();
        let t = std::time::Instant::now();
        for column in indexed {
            super::customer_data::ensure_index(self.conn, &e.name, column)?;
        }
        let indexing = t.elapsed();
        let links: Vec<_> = model.links.iter().filter(|l| l.child == e.name).cloned().collect();
        let dangling =
            super::data_model::dangling_links(self.conn, &DataModel { links: links.clone(), ..model.clone() })?;
        let checking = t.elapsed() - indexing;
        self.conn.execute_batch("PRAGMA analysis_limit = 1000; ANALYZE; PRAGMA analysis_limit = 0;")?;
        super::customer_data::bump_data_version(self.conn)?;
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        tracing::info!(
            "import into {}: indexes {:.1} s, links checked {:.1} s, statistics and commit {:.1} s",
            e.name,
            indexing.as_secs_f64(),
            checking.as_secs_f64(),
            (t.elapsed() - indexing - checking).as_secs_f64()
        );
        Ok(links.into_iter().zip(dangling).map(|(l, n)| (l, n.unwrap_or(0))).collect())
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        if self.open
            && let Err(e) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!("an import could not be rolled back: {e}");
        }
    }
}

/// Saves (or replaces) a mapping by name (names compare in any case).
pub fn save_mapping(conn: &Connection, name: &str, mapping_json: &str, now: jiff::Timestamp) -> Result<()> {
    conn.execute(
        "INSERT INTO cc_import_mappings (name, mapping_json, saved_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET name = excluded.name, mapping_json = excluded.mapping_json, saved_at = excluded.saved_at",
        rusqlite::params![name.trim(), mapping_json, super::ts(now)],
    )?;
    Ok(())
}

/// The saved mappings: (name, mapping as JSON), by name.
pub fn mappings(conn: &Connection) -> Result<Vec<(String, String)>> {
    Ok(conn
        .prepare("SELECT name, mapping_json FROM cc_import_mappings ORDER BY name")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}
