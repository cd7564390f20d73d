//! Interaction events: what happened to whom in a campaign (sent, delivered, opened, …,
//! and enrolment in a control group).

use rusqlite::{Connection, params};
use sea_query::{Alias, Expr, Query, SqliteQueryBuilder};

use super::{Result, ts};

/// The kind of event written for a held-out row of a control group.
pub const CONTROL_GROUP: &str = "enrolled_in_control_group";

/// Writes one "enrolled in control group" event per row of the work table `table` (the
/// engine's own, visible to `conn`). The profile key is set when `dimension` is the profiles
/// entity; the detail names the activity, the dimension and the row's key. Returns how many.
pub fn record_control_group(
    conn: &Connection,
    campaign_id: i64,
    activity: &str,
    dimension: &str,
    is_profile: bool,
    table: &str,
    now: jiff::Timestamp,
) -> Result<u64> {
    let profile_key = if is_profile { Expr::cust("CAST(key AS TEXT)") } else { Expr::cust("NULL") };
    let select = Query::select()
        .expr(Expr::cust("?1"))
        .expr(Expr::cust("?2"))
        .expr(Expr::cust("?3"))
        .expr(profile_key)
        .expr(Expr::cust("json_object('activity', ?4, 'dimension', ?5, 'key', key)"))
        .from(Alias::new(table))
        .order_by(Alias::new("key"), sea_query::Order::Asc)
        .to_string(SqliteQueryBuilder);
    let sql = format!("INSERT INTO cc_interactions (kind, at, campaign_id, profile_key, detail_json) {select}");
    let n = conn.execute(&sql, params![CONTROL_GROUP, ts(now), campaign_id, activity, dimension])?;
    Ok(n as u64)
}

/// How many events of `kind` the campaign has.
pub fn count(conn: &Connection, campaign_id: i64, kind: &str) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM cc_interactions WHERE campaign_id = ?1 AND kind = ?2",
        params![campaign_id, kind],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}
