//! The last counts of each canvas, kept with what they were counted on (the canvas's count
//! key and the data version, and the day: relative dates move with it), so that reopening a
//! canvas shows them at once.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError, parse_ts, ts};

/// Counts as kept: the report and the problems of the count, as JSON written by the caller.
#[derive(Clone, Debug, PartialEq)]
pub struct CachedCounts {
    pub canvas_key: String,
    pub data_version: i64,
    /// The UTC day they were counted on (`YYYY-MM-DD`).
    pub day: String,
    pub report_json: String,
    pub problems_json: String,
    pub counted_at: jiff::Timestamp,
}

pub fn save(conn: &Connection, campaign: i64, c: &CachedCounts) -> Result<()> {
    conn.execute(
        "INSERT INTO cc_count_cache (campaign_id, canvas_key, data_version, day, report_json, problems_json, counted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (campaign_id) DO UPDATE SET canvas_key = excluded.canvas_key,
             data_version = excluded.data_version, day = excluded.day, report_json = excluded.report_json,
             problems_json = excluded.problems_json, counted_at = excluded.counted_at",
        params![campaign, c.canvas_key, c.data_version, c.day, c.report_json, c.problems_json, ts(c.counted_at)],
    )?;
    Ok(())
}

pub fn load(conn: &Connection, campaign: i64) -> Result<Option<CachedCounts>> {
    let row: Option<(String, i64, String, String, String, String)> = conn
        .query_row(
            "SELECT canvas_key, data_version, day, report_json, problems_json, counted_at
             FROM cc_count_cache WHERE campaign_id = ?1",
            [campaign],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?;
    row.map(|(canvas_key, data_version, day, report_json, problems_json, at)| {
        Ok(CachedCounts { canvas_key, data_version, day, report_json, problems_json, counted_at: parse_ts(&at)? })
    })
    .transpose()
    .map_err(|e: StoreError| e)
}
