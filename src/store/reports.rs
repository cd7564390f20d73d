//! The numbers of reports: events from the rollups the events table's trigger keeps up to
//! date (migration 20: hourly counts, and who did each kind at least once), never the events
//! themselves; targeted, excluded, sent and failed from the ledger.

use rusqlite::{Connection, params};

use super::{Result, parse_ts};

/// Events of one kind for one activity and channel, with their detail (a failure's code, a
/// click's link alias, a conversion's name; "" otherwise).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventTotal {
    pub activity: String,
    pub channel: String,
    pub kind: String,
    pub detail: String,
    pub events: u64,
}

/// Every kind of event of campaign `campaign_id`, by activity, channel and detail.
pub fn event_totals(conn: &Connection, campaign_id: i64) -> Result<Vec<EventTotal>> {
    let mut stmt = conn.prepare_cached(
        "SELECT activity, channel, kind, detail, SUM(events) FROM cc_report_hourly
          WHERE campaign_id = ?1 GROUP BY activity, channel, kind, detail ORDER BY activity, channel, kind, detail",
    )?;
    let rows = stmt
        .query_map([campaign_id], |r| {
            Ok(EventTotal {
                activity: r.get(0)?,
                channel: r.get(1)?,
                kind: r.get(2)?,
                detail: r.get(3)?,
                events: r.get::<_, i64>(4)?.max(0) as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// How many profiles did each kind at least once, by activity: (activity, kind, profiles).
pub fn unique_counts(conn: &Connection, campaign_id: i64) -> Result<Vec<(String, String, u64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT activity, kind, profiles FROM cc_report_unique_counts WHERE campaign_id = ?1 ORDER BY activity, kind",
    )?;
    let rows = stmt
        .query_map([campaign_id], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The events of campaign `campaign_id` hour by hour and kind, oldest first.
pub fn hourly(conn: &Connection, campaign_id: i64) -> Result<Vec<(jiff::Timestamp, String, u64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT hour, kind, SUM(events) FROM cc_report_hourly WHERE campaign_id = ?1
          GROUP BY hour, kind ORDER BY hour, kind",
    )?;
    let rows = stmt
        .query_map([campaign_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(|(hour, kind, n)| Ok((parse_ts(&hour)?, kind, n.max(0) as u64))).collect()
}

/// Ledger rows of one activity and channel in one status, with their error code ("" when none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerTotal {
    pub activity: String,
    pub channel: String,
    pub status: String,
    pub code: String,
    pub rows: u64,
}

/// The ledger rows of campaign `campaign_id` (proofs left out), by activity, channel, status
/// and error code. Counted per delivery along the ledger's (delivery, status) index; only the
/// failed and excluded rows are read for their code.
pub fn ledger_totals(conn: &Connection, campaign_id: i64) -> Result<Vec<LedgerTotal>> {
    let mut stmt = conn.prepare_cached(
        "SELECT COALESCE(d.activity_id, ''), d.channel, l.status, '', COUNT(*)
           FROM cc_deliveries d JOIN cc_ledger l ON l.delivery_id = d.id
          WHERE d.campaign_id = ?1 AND d.is_proof = 0 AND l.status NOT IN ('failed', 'excluded')
          GROUP BY d.id, l.status
         UNION ALL
         SELECT COALESCE(d.activity_id, ''), d.channel, l.status, COALESCE(l.error_code, ''), COUNT(*)
           FROM cc_deliveries d JOIN cc_ledger l ON l.delivery_id = d.id
          WHERE d.campaign_id = ?1 AND d.is_proof = 0 AND l.status IN ('failed', 'excluded')
          GROUP BY d.id, l.status, l.error_code
         ORDER BY 1, 2, 3, 4",
    )?;
    let rows = stmt
        .query_map(params![campaign_id], |r| {
            Ok(LedgerTotal {
                activity: r.get(0)?,
                channel: r.get(1)?,
                status: r.get(2)?,
                code: r.get(3)?,
                rows: r.get::<_, i64>(4)?.max(0) as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
