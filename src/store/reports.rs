//! The numbers of reports: events from the rollups the events table's trigger keeps up to
//! date (migration 20: hourly counts, and who did each kind at least once), never the events
//! themselves; targeted, excluded, sent and failed from the ledger's rollup (migration 21).

use rusqlite::{Connection, params};

use super::{Result, parse_ts};
use crate::model::report::ApiFigures;

/// Events of one kind for one activity and channel, with their detail (a failure's code, a
/// click's link alias, a conversion's name; "" otherwise).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventTotal {
    pub campaign_id: i64,
    pub activity: String,
    pub channel: String,
    pub kind: String,
    pub detail: String,
    pub events: u64,
}

/// Every kind of event of `campaigns`, by campaign, activity, channel and detail.
pub fn event_totals(conn: &Connection, campaigns: &[i64]) -> Result<Vec<EventTotal>> {
    let mut stmt = conn.prepare_cached(
        "SELECT campaign_id, activity, channel, kind, detail, SUM(events) FROM cc_report_hourly
          WHERE campaign_id IN (SELECT value FROM json_each(?1))
          GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
    )?;
    let rows = stmt
        .query_map([ids(campaigns)], |r| {
            Ok(EventTotal {
                campaign_id: r.get(0)?,
                activity: r.get(1)?,
                channel: r.get(2)?,
                kind: r.get(3)?,
                detail: r.get(4)?,
                events: r.get::<_, i64>(5)?.max(0) as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// How many profiles did each kind at least once, by campaign and activity.
pub fn unique_counts(conn: &Connection, campaigns: &[i64]) -> Result<Vec<UniqueCount>> {
    let mut stmt = conn.prepare_cached(
        "SELECT campaign_id, activity, kind, profiles FROM cc_report_unique_counts
          WHERE campaign_id IN (SELECT value FROM json_each(?1)) ORDER BY 1, 2, 3",
    )?;
    let rows = stmt
        .query_map([ids(campaigns)], |r| {
            Ok(UniqueCount {
                campaign_id: r.get(0)?,
                activity: r.get(1)?,
                kind: r.get(2)?,
                profiles: r.get::<_, i64>(3)?.max(0) as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// How many profiles of a campaign's activity did a kind of event at least once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniqueCount {
    pub campaign_id: i64,
    pub activity: String,
    pub kind: String,
    pub profiles: u64,
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
    pub campaign_id: i64,
    pub activity: String,
    pub channel: String,
    pub status: String,
    pub code: String,
    pub rows: u64,
}

/// The ledger rows of `campaigns` (proofs left out), by campaign, activity, channel, status
/// and error code, from the ledger's rollup (migration 21): a few rows per delivery, however
/// many recipients it had.
pub fn ledger_totals(conn: &Connection, campaigns: &[i64]) -> Result<Vec<LedgerTotal>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.campaign_id, COALESCE(d.activity_id, ''), d.channel, r.status, r.code, SUM(r.rows)
           FROM cc_deliveries d JOIN cc_report_ledger r ON r.delivery_id = d.id
          WHERE d.campaign_id IN (SELECT value FROM json_each(?1)) AND d.is_proof = 0 AND r.rows > 0
          GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
    )?;
    let rows = stmt
        .query_map(params![ids(campaigns)], |r| {
            Ok(LedgerTotal {
                campaign_id: r.get(0)?,
                activity: r.get(1)?,
                channel: r.get(2)?,
                status: r.get(3)?,
                code: r.get(4)?,
                rows: r.get::<_, i64>(5)?.max(0) as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The campaigns with events in the hours from `since`'s to `until`'s, by id (a deleted
/// campaign's events are left out).
pub fn active_campaigns(conn: &Connection, since: jiff::Timestamp, until: jiff::Timestamp) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT h.campaign_id FROM cc_report_hourly h JOIN cc_campaigns c ON c.id = h.campaign_id
          WHERE h.hour >= ?1 AND h.hour <= ?2 ORDER BY 1",
    )?;
    let rows =
        stmt.query_map(params![hour_of(since), hour_of(until)], |r| r.get(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The events of `kind` of `campaigns` day by day (UTC) in the hours from `since`'s to `until`'s:
/// (campaign, day as `YYYY-MM-DD`, events).
pub fn daily(
    conn: &Connection,
    campaigns: &[i64],
    kind: &str,
    since: jiff::Timestamp,
    until: jiff::Timestamp,
) -> Result<Vec<(i64, String, u64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT campaign_id, substr(hour, 1, 10), SUM(events) FROM cc_report_hourly
          WHERE campaign_id IN (SELECT value FROM json_each(?1)) AND kind = ?2 AND hour >= ?3 AND hour <= ?4
          GROUP BY 1, 2 ORDER BY 1, 2",
    )?;
    let rows = stmt
        .query_map(params![ids(campaigns), kind, hour_of(since), hour_of(until)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Campaign ids as the JSON array the queries above take.
fn ids(campaigns: &[i64]) -> String {
    let list: Vec<String> = campaigns.iter().map(i64::to_string).collect();
    format!("[{}]", list.join(","))
}

/// The start of the hour of `at`, as the rollups write hours: `2026-11-30T14:00:00Z`.
fn hour_of(at: jiff::Timestamp) -> String {
    let s = at.as_second();
    jiff::Timestamp::from_second(s - s.rem_euclid(3600)).map_or_else(|_| at.to_string(), |t| t.to_string())
}

/// What API-triggered campaign `campaign_id` was asked, from its executions: calls (waiting
/// to be resolved, failed), recipients, those not found and those created.
pub fn api_figures(conn: &Connection, campaign_id: i64) -> Result<ApiFigures> {
    let mut stmt = conn.prepare_cached(
        "SELECT (SELECT COUNT(*) FROM cc_api_executions WHERE campaign_id = ?1),
                (SELECT COUNT(*) FROM cc_api_executions WHERE campaign_id = ?1 AND resolved_at IS NULL),
                (SELECT COUNT(*) FROM cc_api_executions WHERE campaign_id = ?1 AND failure IS NOT NULL),
                COUNT(j.value),
                COALESCE(SUM(e.resolved_at IS NOT NULL AND e.failure IS NULL AND json_extract(j.value, '$.key') IS NULL), 0),
                COALESCE(SUM(COALESCE(json_extract(j.value, '$.created'), 0) = 1), 0)
           FROM cc_api_executions e, json_each(e.recipients_json) j WHERE e.campaign_id = ?1",
    )?;
    let n = |v: i64| v.max(0) as u64;
    Ok(stmt.query_row([campaign_id], |r| {
        Ok(ApiFigures {
            calls: n(r.get(0)?),
            calls_waiting: n(r.get(1)?),
            calls_failed: n(r.get(2)?),
            recipients: n(r.get(3)?),
            not_found: n(r.get(4)?),
            created: n(r.get(5)?),
        })
    })?)
}
