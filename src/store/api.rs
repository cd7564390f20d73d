//! API-triggered campaigns in the workspace: their form, the API keys (hashes only), the
//! executions of trigger calls (one per campaign and request id) with their ledger rows, and
//! the events other systems report (counted once by their id).

use rusqlite::{Connection, OptionalExtension, params};

use super::deliveries::{LedgerStatus, status};
use super::{Result, StoreError, parse_opt_ts, parse_ts, quote_ident, ts};
use crate::model::api::{ApiKey, ApiScope};

/// The form of API-triggered campaign `campaign_id` (JSON), when it was saved.
pub fn settings(conn: &Connection, campaign_id: i64) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT settings_json FROM cc_api_campaigns WHERE campaign_id = ?1")?
        .query_row([campaign_id], |r| r.get(0))
        .optional()?)
}

/// Keeps the form of API-triggered campaign `campaign_id`.
pub fn save_settings(conn: &Connection, campaign_id: i64, json: &str, now: jiff::Timestamp) -> Result<()> {
    conn.execute(
        "INSERT INTO cc_api_campaigns (campaign_id, settings_json, modified_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (campaign_id) DO UPDATE SET settings_json = excluded.settings_json, modified_at = excluded.modified_at",
        params![campaign_id, json, ts(now)],
    )?;
    conn.execute("UPDATE cc_campaigns SET modified_at = ?2 WHERE id = ?1", params![campaign_id, ts(now)])?;
    Ok(())
}

/// A key's columns as read: id, name, prefix, scopes, created, last used, revoked.
type KeyColumns = (i64, String, String, String, String, Option<String>, Option<String>);

fn key_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyColumns> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

const KEY_COLUMNS: &str = "id, name, prefix, scopes, created_at, last_used_at, revoked_at";

fn to_key((id, name, prefix, scopes, created, used, revoked): KeyColumns) -> Result<ApiKey> {
    Ok(ApiKey {
        id,
        name,
        prefix,
        scopes: scopes.split(',').filter_map(ApiScope::parse).collect(),
        created_at: parse_ts(&created)?,
        last_used_at: parse_opt_ts(used)?,
        revoked_at: parse_opt_ts(revoked)?,
    })
}

/// Keeps a new API key by its hash; a name a key in use has already is refused.
pub fn create_key(
    conn: &Connection,
    name: &str,
    prefix: &str,
    hash: &str,
    scopes: &[ApiScope],
    now: jiff::Timestamp,
) -> Result<ApiKey> {
    let taken: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM cc_api_keys WHERE name = ?1 COLLATE NOCASE AND revoked_at IS NULL)",
        [name],
        |r| r.get(0),
    )?;
    if taken {
        return Err(StoreError::Invalid(format!(
            "an API key named \u{201c}{name}\u{201d} is in use already: choose another name, or revoke that key first"
        )));
    }
    let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    conn.execute(
        "INSERT INTO cc_api_keys (name, prefix, key_hash, scopes, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, prefix, hash, scopes.join(","), ts(now)],
    )?;
    let id = conn.last_insert_rowid();
    let row = conn.query_row(&format!("SELECT {KEY_COLUMNS} FROM cc_api_keys WHERE id = ?1"), [id], key_of)?;
    to_key(row)
}

/// Every API key, in use first, newest first.
pub fn list_keys(conn: &Connection) -> Result<Vec<ApiKey>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {KEY_COLUMNS} FROM cc_api_keys ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC"
    ))?;
    let rows = stmt.query_map([], key_of)?.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(to_key).collect()
}

/// Revokes the key in use named `name` (any case); false when there is none.
pub fn revoke_key(conn: &Connection, name: &str, now: jiff::Timestamp) -> Result<bool> {
    let n = conn.execute(
        "UPDATE cc_api_keys SET revoked_at = ?2 WHERE name = ?1 COLLATE NOCASE AND revoked_at IS NULL",
        params![name.trim(), ts(now)],
    )?;
    Ok(n > 0)
}

/// The key whose hash is `hash` (revoked or not).
pub fn key_by_hash(conn: &Connection, hash: &str) -> Result<Option<ApiKey>> {
    let row = conn
        .prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM cc_api_keys WHERE key_hash = ?1"))?
        .query_row([hash], key_of)
        .optional()?;
    row.map(to_key).transpose()
}

/// Notes that key `id` was used at `now` (kept to the minute, so a busy key writes once a
/// minute, not once a call).
pub fn touch_key(conn: &Connection, id: i64, now: jiff::Timestamp) -> Result<()> {
    let minute = now.as_second() - now.as_second().rem_euclid(60);
    let at = jiff::Timestamp::from_second(minute).unwrap_or(now);
    conn.prepare_cached(
        "UPDATE cc_api_keys SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
    )?
    .execute(params![id, ts(at)])?;
    Ok(())
}

/// An execution as kept: its campaign, request id, delivery, recipients (JSON) and time;
/// when its recipients were resolved (`None`: accepted, not yet), or why its messages could
/// not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredExecution {
    pub id: String,
    pub campaign_id: i64,
    pub request_id: String,
    pub delivery_id: Option<i64>,
    pub recipients_json: String,
    pub created_at: jiff::Timestamp,
    pub resolved_at: Option<jiff::Timestamp>,
    pub failure: Option<String>,
}

type ExecutionRow = (String, i64, String, Option<i64>, String, String, Option<String>, Option<String>);

fn execution_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

fn to_execution(
    (id, campaign_id, request_id, delivery_id, recipients_json, created, resolved, failure): ExecutionRow,
) -> Result<StoredExecution> {
    Ok(StoredExecution {
        id,
        campaign_id,
        request_id,
        delivery_id,
        recipients_json,
        created_at: parse_ts(&created)?,
        resolved_at: parse_opt_ts(resolved)?,
        failure,
    })
}

const EXECUTION_COLUMNS: &str =
    "id, campaign_id, request_id, delivery_id, recipients_json, created_at, resolved_at, failure";

/// The execution of request `request_id` of campaign `campaign_id`, when it was made.
pub fn execution_by_request(conn: &Connection, campaign_id: i64, request_id: &str) -> Result<Option<StoredExecution>> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {EXECUTION_COLUMNS} FROM cc_api_executions WHERE campaign_id = ?1 AND request_id = ?2"
        ))?
        .query_row(params![campaign_id, request_id], execution_of)
        .optional()?;
    row.map(to_execution).transpose()
}

/// Execution `id`.
pub fn execution(conn: &Connection, id: &str) -> Result<Option<StoredExecution>> {
    let row = conn
        .prepare_cached(&format!("SELECT {EXECUTION_COLUMNS} FROM cc_api_executions WHERE id = ?1"))?
        .query_row([id], execution_of)
        .optional()?;
    row.map(to_execution).transpose()
}

/// Keeps an execution.
pub fn insert_execution(conn: &Connection, e: &StoredExecution, api_key: Option<i64>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO cc_api_executions (id, campaign_id, request_id, delivery_id, api_key_id, recipients_json,
                                        created_at, resolved_at, failure)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        e.id,
        e.campaign_id,
        e.request_id,
        e.delivery_id,
        api_key,
        e.recipients_json,
        ts(e.created_at),
        e.resolved_at.map(ts),
        e.failure
    ])?;
    Ok(())
}

/// Notes that execution `id` was resolved at `now`: its delivery and recipients. `false`
/// when it was resolved (or given up) already.
pub fn resolve_execution(
    conn: &Connection,
    id: &str,
    delivery: i64,
    recipients_json: &str,
    now: jiff::Timestamp,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE cc_api_executions SET delivery_id = ?2, recipients_json = ?3, resolved_at = ?4
          WHERE id = ?1 AND resolved_at IS NULL",
        params![id, delivery, recipients_json, ts(now)],
    )?;
    Ok(n == 1)
}

/// Notes that the messages of execution `id` could not be made, and why.
pub fn fail_execution(conn: &Connection, id: &str, why: &str, now: jiff::Timestamp) -> Result<()> {
    conn.execute(
        "UPDATE cc_api_executions SET failure = ?2, resolved_at = ?3 WHERE id = ?1 AND resolved_at IS NULL",
        params![id, why, ts(now)],
    )?;
    Ok(())
}

/// Starts an execution's delivery (its rows follow): sending from `now`, outside the
/// frequency cap when `transactional`.
pub fn begin_delivery(tx: &Connection, delivery: i64, transactional: bool, now: jiff::Timestamp) -> Result<()> {
    tx.execute(
        "UPDATE cc_deliveries SET transactional = ?2, status = 'sending', started_at = ?3 WHERE id = ?1",
        params![delivery, transactional, ts(now)],
    )?;
    Ok(())
}

/// The key of the profile whose `column` of `table` is `value` (the first by key, when
/// several share it).
pub fn find_profile(conn: &Connection, table: &str, key: &str, column: &str, value: &str) -> Result<Option<String>> {
    let sql = format!(
        "SELECT CAST({k} AS TEXT) FROM {t} WHERE {c} = ?1 ORDER BY {k} LIMIT 1",
        k = quote_ident(key)?,
        t = quote_ident(table)?,
        c = quote_ident(column)?
    );
    Ok(conn.prepare_cached(&sql)?.query_row([value], |r| r.get(0)).optional()?)
}

/// Creates a profile holding `value` in `column` (its key given by the database) and returns
/// its key.
pub fn create_profile(tx: &Connection, table: &str, column: &str, value: &str) -> Result<String> {
    tx.prepare_cached(&format!("INSERT INTO {} ({}) VALUES (?1)", quote_ident(table)?, quote_ident(column)?))?
        .execute([value])?;
    Ok(tx.last_insert_rowid().to_string())
}

/// A profile's address for a channel (`address` column, empty when none) and whether its
/// `opt_in` column (when given) says yes.
pub fn reach(
    conn: &Connection,
    table: &str,
    key: &str,
    profile: &str,
    address: Option<&str>,
    opt_in: Option<&str>,
) -> Result<(String, bool)> {
    let address = address
        .map(quote_ident)
        .transpose()?
        .map_or_else(|| "''".to_owned(), |c| format!("COALESCE(TRIM(CAST({c} AS TEXT)), '')"));
    let opt_in =
        opt_in.map(quote_ident).transpose()?.map_or_else(|| "1".to_owned(), |c| format!("COALESCE({c}, 0) = 1"));
    let sql = format!("SELECT {address}, {opt_in} FROM {} WHERE {} = ?1", quote_ident(table)?, quote_ident(key)?);
    Ok(conn.prepare_cached(&sql)?.query_row([profile], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Marketing messages sent to (or on their way to) `profile` since `since`, as the frequency
/// cap counts them.
pub fn messages_since(conn: &Connection, profile: &str, since: jiff::Timestamp) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id
              WHERE l.recipient_key = ?1 AND d.is_proof = 0 AND d.transactional = 0 AND d.created_at >= ?2
                AND d.channel NOT IN ('x', 'x_dm')
                AND l.status IN ('queued', 'sending', 'retry', 'sent', 'unconfirmed')",
        )?
        .query_row(params![profile, ts(since)], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One ledger row of an execution: being sent (the call's messages go at once, made from
/// context held in memory only), or excluded with its reason.
pub struct ApiRow<'a> {
    pub idempotency_key: &'a str,
    pub profile: &'a str,
    pub address: &'a str,
    /// `None`: queued; else the reason's code and words.
    pub excluded: Option<(&'a str, &'a str)>,
}

/// Writes an execution's ledger rows; returns the id of each.
pub fn insert_rows(tx: &Connection, delivery: i64, rows: &[ApiRow<'_>], now: jiff::Timestamp) -> Result<Vec<i64>> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO cc_ledger (delivery_id, idempotency_key, recipient_key, address, status, error_code, error_message,
                                updated_at, attempts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5 = 'sending')",
    )?;
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        let (state, code, why) = match row.excluded {
            None => (status::SENDING, None, None),
            Some((code, why)) => (status::EXCLUDED, Some(code), Some(why)),
        };
        stmt.execute(params![delivery, row.idempotency_key, row.profile, row.address, state, code, why, ts(now)])?;
        ids.push(tx.last_insert_rowid());
    }
    Ok(ids)
}

/// A ledger row's idempotency key, status, error, and whether it was reported delivered.
pub type RowState = (String, LedgerStatus, Option<String>, bool);

/// Where each ledger row of `delivery` stands, by idempotency key: its status, error, and
/// whether the provider reported it delivered.
pub fn row_states(conn: &Connection, delivery: i64) -> Result<Vec<RowState>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.idempotency_key, l.status, l.error_message,
                EXISTS (SELECT 1 FROM cc_interactions i WHERE i.ledger_id = l.id AND i.kind = 'delivered')
           FROM cc_ledger l WHERE l.delivery_id = ?1 ORDER BY l.id",
    )?;
    let rows = stmt
        .query_map([delivery], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// An event another system reported, resolved to its profile.
pub struct ReportedEvent<'a> {
    pub event_id: &'a str,
    pub kind: &'a str,
    pub at: jiff::Timestamp,
    pub campaign_id: i64,
    pub profile: Option<&'a str>,
    pub detail_json: &'a str,
}

/// Writes reported events, each once by its id; returns how many were new.
pub fn record_events(conn: &mut Connection, events: &[ReportedEvent<'_>]) -> Result<u64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut added = 0;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO cc_interactions (kind, at, campaign_id, profile_key, detail_json, event_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )?;
        for e in events {
            added += stmt.execute(params![e.kind, ts(e.at), e.campaign_id, e.profile, e.detail_json, e.event_id])?;
        }
    }
    tx.commit()?;
    Ok(added as u64)
}

/// The key of the first profile (by key) with a value in `column`.
pub fn first_with(conn: &Connection, table: &str, key: &str, column: &str) -> Result<Option<String>> {
    let sql = format!(
        "SELECT CAST({k} AS TEXT) FROM {t} WHERE COALESCE(TRIM(CAST({c} AS TEXT)), '') <> '' ORDER BY {k} LIMIT 1",
        k = quote_ident(key)?,
        t = quote_ident(table)?,
        c = quote_ident(column)?
    );
    Ok(conn.query_row(&sql, [], |r| r.get(0)).optional()?)
}

/// Fails what a stopped server left of API executions since before `before`: the ledger rows
/// still `sending`, and the calls accepted before `calls_before` but never resolved. Their context (kept in memory
/// only) is gone, so their messages cannot be made. Returns how many messages and calls.
pub fn fail_interrupted(
    conn: &Connection,
    before: jiff::Timestamp,
    calls_before: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
) -> Result<(u64, u64)> {
    let rows = conn.execute(
        "UPDATE cc_ledger SET status = 'failed', error_code = 'interrupted',
                error_message = 'the server stopped before this message was sent, and its context is never kept: trigger it again with a new request id',
                updated_at = ?2
          WHERE status = 'sending' AND updated_at < ?1
            AND delivery_id IN (SELECT id FROM cc_deliveries WHERE activity_id = 'api' AND is_proof = 0)",
        params![ts(before), ts(now)],
    )?;
    let Some(calls_before) = calls_before else {
        return Ok((rows as u64, 0));
    };
    let calls = conn.execute(
        "UPDATE cc_api_executions SET resolved_at = ?2,
                failure = 'the server stopped before this call''s messages were made, and its context is never kept: trigger it again with a new request id'
          WHERE resolved_at IS NULL AND created_at < ?1",
        params![ts(calls_before), ts(now)],
    )?;
    Ok((rows as u64, calls as u64))
}
