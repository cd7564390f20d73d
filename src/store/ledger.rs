//! Reading a delivery's ledger for people: a page of it (of one status or all) with its errors
//! grouped by code, and the whole of it as CSV.

use rusqlite::{Connection, params};

use super::deliveries::{LedgerPage, LedgerRow, LedgerStatus};
use super::{Result, StoreError};

/// Rows `offset..offset + limit` of a delivery's ledger (of one status when given), by id.
pub fn page(
    conn: &Connection,
    delivery: i64,
    status: Option<LedgerStatus>,
    offset: u64,
    limit: u64,
) -> Result<LedgerPage> {
    let total: i64 = conn.query_row(
        "SELECT COUNT(*) FROM cc_ledger WHERE delivery_id = ?1 AND (?2 IS NULL OR status = ?2)",
        params![delivery, status],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare(
        "SELECT id, recipient_key, secondary_key, address, status, attempts, provider_message_id, error_code,
                error_message, updated_at
         FROM cc_ledger WHERE delivery_id = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY id LIMIT ?3 OFFSET ?4",
    )?;
    let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![delivery, status, to_i64(limit), to_i64(offset)], |r| {
            Ok(LedgerRow {
                id: r.get(0)?,
                recipient_key: r.get(1)?,
                secondary_key: r.get(2)?,
                address: r.get(3)?,
                status: r.get(4)?,
                attempts: r.get::<_, i64>(5)?.clamp(0, i64::from(u32::MAX)) as u32,
                provider_message_id: r.get(6)?,
                error_code: r.get(7)?,
                error_message: r.get(8)?,
                updated_at: r.get(9)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare(
        "SELECT error_code, COUNT(*), MIN(error_message) FROM cc_ledger
         WHERE delivery_id = ?1 AND error_code IS NOT NULL GROUP BY error_code ORDER BY COUNT(*) DESC, error_code",
    )?;
    let errors = stmt
        .query_map([delivery], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?.max(0) as u64,
                r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(LedgerPage { total: total.max(0) as u64, rows, errors })
}

/// Writes a delivery's ledger as CSV (header first); `cancelled` is checked every 1,000 rows.
pub fn export_csv(
    conn: &Connection,
    delivery: i64,
    out: impl std::io::Write,
    cancelled: &dyn Fn() -> bool,
) -> Result<u64> {
    let bad = |e: csv::Error| StoreError::Invalid(format!("the file could not be written: {e}"));
    let mut w = csv::Writer::from_writer(out);
    let header = [
        "id",
        "recipient_key",
        "secondary_key",
        "address",
        "status",
        "attempts",
        "provider_message_id",
        "error_code",
        "error_message",
        "updated_at",
    ];
    w.write_record(header).map_err(bad)?;
    let mut stmt = conn.prepare(
        "SELECT id, recipient_key, secondary_key, address, status, attempts, provider_message_id, error_code,
                error_message, updated_at FROM cc_ledger WHERE delivery_id = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([delivery])?;
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        let mut record = Vec::with_capacity(header.len());
        for i in 0..header.len() {
            let v = match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => String::new(),
                rusqlite::types::ValueRef::Integer(x) => x.to_string(),
                rusqlite::types::ValueRef::Real(x) => x.to_string(),
                rusqlite::types::ValueRef::Text(t) => {
                    crate::model::spreadsheet_safe(&String::from_utf8_lossy(t)).into_owned()
                }
                rusqlite::types::ValueRef::Blob(_) => String::new(),
            };
            record.push(v);
        }
        w.write_record(&record).map_err(bad)?;
        n += 1;
        if n.is_multiple_of(1000) && cancelled() {
            return Err(StoreError::Invalid("the export was cancelled".into()));
        }
    }
    w.flush().map_err(|e| StoreError::Invalid(format!("the file could not be written: {e}")))?;
    Ok(n)
}
