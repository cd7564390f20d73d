//! Reading customer rows for people: a page of a browse (keyset: after the last row shown),
//! its count and its export, and one row with its linked rows, the messages the ledger holds
//! for it and its interaction events.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row, params};

use super::{Result, StoreError, quote_ident};
use crate::audience::{BrowseSql, SqlStatement, register_functions, sqlite_value};
use crate::model::browse::{BrowsePage, BrowseRow, Cursor, LinkedRows, PageStart, RowDetail, RowEvent, SentMessage};
use crate::model::{ColumnType, DataModel, Entity, Operand};

/// At most `limit` rows from `start`, and where the next page starts.
pub fn page(conn: &Connection, sql: &BrowseSql<'_>, start: &PageStart, limit: u64) -> Result<BrowsePage> {
    register_functions(conn)?;
    // One row more than asked tells whether there is a next page.
    let statement = sql.page(start, limit.saturating_add(1));
    let mut stmt = prepare(conn, &statement)?;
    let mut rows = stmt.raw_query();
    let sort_at = sql.sort_column.and_then(|s| sql.entity.columns.iter().position(|c| c.name == s));
    let key_at = key_index(sql.entity)?;
    let mut out = Vec::new();
    let mut last = None;
    while let Some(r) = rows.next()? {
        if out.len() as u64 == limit {
            return Ok(BrowsePage { rows: out, next: last });
        }
        let row = read_row(r, sql.entity, key_at)?;
        last = Some(Cursor {
            value: match sort_at {
                Some(i) => operand(r.get_ref(i)?),
                None => Operand::None,
            },
            key: row.key,
        });
        out.push(row);
    }
    Ok(BrowsePage { rows: out, next: None })
}

/// How many rows the browse matches.
pub fn count(conn: &Connection, sql: &BrowseSql<'_>) -> Result<u64> {
    register_functions(conn)?;
    let mut stmt = prepare(conn, &sql.count())?;
    let mut rows = stmt.raw_query();
    let n: i64 = match rows.next()? {
        Some(r) => r.get(0)?,
        None => 0,
    };
    Ok(n.max(0) as u64)
}

/// The keys among `keys` of the rows the browse's filter matches.
pub fn keys_among(conn: &Connection, sql: &BrowseSql<'_>, keys: &[i64]) -> Result<std::collections::HashSet<i64>> {
    register_functions(conn)?;
    let mut stmt = prepare(conn, &sql.keys_among(keys))?;
    let mut rows = stmt.raw_query();
    let mut found = std::collections::HashSet::new();
    while let Some(r) = rows.next()? {
        found.insert(r.get::<_, i64>(0)?);
    }
    Ok(found)
}

/// Writes the rows the browse matches, in its order, as CSV with a header line of column
/// names; values as an import reads them back: yes/no as `true` / `false`, decimals with their
/// point, text defused for spreadsheets. Returns how many rows, `None` when `cancelled` (checked
/// every 10,000 rows) said to stop.
pub fn export_csv(
    conn: &Connection,
    sql: &BrowseSql<'_>,
    out: impl std::io::Write,
    cancelled: &dyn Fn() -> bool,
) -> Result<Option<u64>> {
    register_functions(conn)?;
    let mut stmt = prepare(conn, &sql.all())?;
    let types: Vec<ColumnType> = sql.entity.columns.iter().map(|c| c.column_type).collect();
    let bad = |e: csv::Error| StoreError::Invalid(format!("the file could not be written: {e}"));
    let mut w = csv::Writer::from_writer(out);
    w.write_record(sql.entity.columns.iter().map(|c| c.name.as_str())).map_err(bad)?;
    let mut rows = stmt.raw_query();
    let mut n = 0u64;
    let mut record: Vec<String> = Vec::with_capacity(types.len());
    while let Some(r) = rows.next()? {
        record.clear();
        for (i, ty) in types.iter().enumerate() {
            record.push(match (r.get_ref(i)?, ty) {
                (ValueRef::Null | ValueRef::Blob(_), _) => String::new(),
                (ValueRef::Integer(x), ColumnType::Boolean) => (x != 0).to_string(),
                (ValueRef::Integer(x), _) => x.to_string(),
                (ValueRef::Real(x), _) => format!("{x:?}"),
                (ValueRef::Text(t), _) => crate::model::spreadsheet_safe(&String::from_utf8_lossy(t)).into_owned(),
            });
        }
        w.write_record(&record).map_err(bad)?;
        n += 1;
        if n.is_multiple_of(10_000) && cancelled() {
            return Ok(None);
        }
    }
    w.flush().map_err(|e| StoreError::Invalid(format!("the file could not be written: {e}")))?;
    Ok(Some(n))
}

/// Everything known about row `key` of `entity`: its values, up to `limit` rows of each
/// linked entity, and — when `is_profile` (messages are addressed to its rows) — the newest
/// `limit` messages and events.
pub fn detail(
    conn: &Connection,
    model: &DataModel,
    entity: &Entity,
    key: i64,
    is_profile: bool,
    limit: u64,
) -> Result<RowDetail> {
    // A visitor's messages are the X direct messages sent to it; it has no interactions of
    // its own.
    let is_visitor = entity.name == crate::model::VISITORS;
    let row = rows_where(conn, entity, &entity.primary_key, key, 1)?.pop();
    let mut linked = Vec::new();
    for l in model.links_of(&entity.name) {
        if l.parent == entity.name
            && let Some(child) = model.entity(&l.child)
        {
            let rows = rows_where(conn, child, &l.foreign_key, key, limit)?;
            let total: i64 = conn.query_row(
                &format!(
                    "SELECT COUNT(*) FROM {} WHERE {} = ?1",
                    quote_ident(&child.name)?,
                    quote_ident(&l.foreign_key)?
                ),
                [key],
                |r| r.get(0),
            )?;
            linked.push(linked_rows(child, rows, total.max(0) as u64));
        }
        if l.child == entity.name
            && let Some(parent) = model.entity(&l.parent)
        {
            let fk = entity.columns.iter().position(|c| c.name == l.foreign_key);
            let rows = match (&row, fk) {
                (Some(r), Some(i)) => match r.cells.get(i).and_then(|v| v.parse::<i64>().ok()) {
                    Some(parent_key) => rows_where(conn, parent, &parent.primary_key, parent_key, 1)?,
                    None => Vec::new(),
                },
                _ => Vec::new(),
            };
            let total = rows.len() as u64;
            linked.push(linked_rows(parent, rows, total));
        }
    }
    let (messages, messages_total, events, events_total) = if is_profile {
        let (m, mt) = messages(conn, key, false, limit)?;
        let (e, et) = events(conn, key, limit)?;
        (m, mt, e, et)
    } else if is_visitor {
        let (m, mt) = messages(conn, key, true, limit)?;
        (m, mt, Vec::new(), 0)
    } else {
        (Vec::new(), 0, Vec::new(), 0)
    };
    Ok(RowDetail {
        entity: entity.name.clone(),
        key,
        fields: row.map(|r| entity.columns.iter().map(|c| c.label.clone()).zip(r.cells).collect()).unwrap_or_default(),
        linked,
        messages,
        messages_total,
        events,
        events_total,
    })
}

fn linked_rows(entity: &Entity, rows: Vec<BrowseRow>, total: u64) -> LinkedRows {
    LinkedRows {
        entity: entity.name.clone(),
        columns: entity.columns.iter().map(|c| c.label.clone()).collect(),
        key_column: entity.columns.iter().position(|c| c.name == entity.primary_key).unwrap_or(0),
        rows,
        total,
    }
}

/// Up to `limit` rows of `entity` whose `column` equals `value`, by key.
fn rows_where(conn: &Connection, entity: &Entity, column: &str, value: i64, limit: u64) -> Result<Vec<BrowseRow>> {
    let cols = entity.columns.iter().map(|c| quote_ident(&c.name)).collect::<Result<Vec<_>>>()?.join(", ");
    let sql = format!(
        "SELECT {cols} FROM {} WHERE {} = ?1 ORDER BY {} LIMIT ?2",
        quote_ident(&entity.name)?,
        quote_ident(column)?,
        quote_ident(&entity.primary_key)?
    );
    let key_at = key_index(entity)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![value, i64::try_from(limit).unwrap_or(i64::MAX)])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read_row(r, entity, key_at)?);
    }
    Ok(out)
}

/// The newest `limit` messages of the ledger addressed to profile `key` (or to visitor `key`:
/// the X direct messages, whose recipients are visitors), and how many in all.
fn messages(conn: &Connection, key: i64, visitor: bool, limit: u64) -> Result<(Vec<SentMessage>, u64)> {
    let key = key.to_string();
    let total: i64 = conn.query_row(
        "SELECT COUNT(*) FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id
          WHERE l.recipient_key = ?1 AND (d.channel = 'x_dm') = ?2",
        params![&key, visitor],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT c.name, d.channel, l.address, l.status, l.error_message, l.updated_at, d.is_proof
         FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id LEFT JOIN cc_campaigns c ON c.id = d.campaign_id
         WHERE l.recipient_key = ?1 AND (d.channel = 'x_dm') = ?3 ORDER BY l.id DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![key, i64::try_from(limit).unwrap_or(i64::MAX), visitor], |r| {
            Ok(SentMessage {
                campaign: r.get(0)?,
                channel: r.get(1)?,
                address: r.get(2)?,
                status: r.get(3)?,
                reason: r.get(4)?,
                at: r.get(5)?,
                proof: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total.max(0) as u64))
}

/// The newest `limit` interaction events of profile `key`, and how many in all.
fn events(conn: &Connection, key: i64, limit: u64) -> Result<(Vec<RowEvent>, u64)> {
    let key = key.to_string();
    // Not those of X direct messages: their recipient keys are visitors'.
    let not_a_visitors = "NOT EXISTS (SELECT 1 FROM cc_deliveries d WHERE d.id = i.delivery_id AND d.channel = 'x_dm')";
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM cc_interactions i WHERE i.profile_key = ?1 AND {not_a_visitors}"),
        [&key],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT i.kind, i.at, c.name FROM cc_interactions i LEFT JOIN cc_campaigns c ON c.id = i.campaign_id
         WHERE i.profile_key = ?1 AND {not_a_visitors} ORDER BY i.id DESC LIMIT ?2"
    ))?;
    let rows = stmt
        .query_map(params![key, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(RowEvent { kind: r.get(0)?, at: r.get(1)?, campaign: r.get(2)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total.max(0) as u64))
}

fn prepare<'c>(conn: &'c Connection, s: &SqlStatement) -> Result<rusqlite::Statement<'c>> {
    let mut stmt = conn.prepare(&s.sql)?;
    for (i, v) in s.values.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, sqlite_value(v))?;
    }
    Ok(stmt)
}

fn key_index(entity: &Entity) -> Result<usize> {
    entity
        .columns
        .iter()
        .position(|c| c.name == entity.primary_key)
        .ok_or_else(|| StoreError::Damaged(format!("{} has no key column {}", entity.name, entity.primary_key)))
}

/// A row of `entity` (its columns in order) as people read it.
fn read_row(r: &Row<'_>, entity: &Entity, key_at: usize) -> Result<BrowseRow> {
    let mut cells = Vec::with_capacity(entity.columns.len());
    for (i, c) in entity.columns.iter().enumerate() {
        cells.push(shown(r.get_ref(i)?, c.column_type));
    }
    let key = match r.get_ref(key_at)? {
        ValueRef::Integer(k) => k,
        _ => return Err(StoreError::Damaged(format!("a row of {} has no whole-number key", entity.name))),
    };
    Ok(BrowseRow { key, cells })
}

/// A value as people read it: empty for none, yes / no for booleans.
fn shown(v: ValueRef<'_>, ty: ColumnType) -> String {
    match (v, ty) {
        (ValueRef::Null, _) => String::new(),
        (ValueRef::Integer(x), ColumnType::Boolean) => if x != 0 { "yes" } else { "no" }.to_owned(),
        (ValueRef::Integer(x), _) => x.to_string(),
        (ValueRef::Real(x), _) => x.to_string(),
        (ValueRef::Text(t), _) => String::from_utf8_lossy(t).into_owned(),
        (ValueRef::Blob(b), _) => format!("({} bytes)", b.len()),
    }
}

/// A value as a cursor holds it.
fn operand(v: ValueRef<'_>) -> Operand {
    match v {
        ValueRef::Null | ValueRef::Blob(_) => Operand::None,
        ValueRef::Integer(x) => Operand::Int(x),
        ValueRef::Real(x) => Operand::Real(x),
        ValueRef::Text(t) => Operand::Text(String::from_utf8_lossy(t).into_owned()),
    }
}
