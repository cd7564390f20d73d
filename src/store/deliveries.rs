//! Deliveries and their send ledger: one row per message, written before anything is sent,
//! claimed (`queued` → `sending`, committed) before the provider is called, and closed with the
//! provider's answer. The Sandbox provider's outbox lives here too.

use crate::model::ProviderKind;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError, parse_opt_ts, parse_ts, ts};

pub use crate::model::delivery::{
    Delivery, DeliveryStatus, LedgerPage, LedgerRow, LedgerStatus, delivery_status, status,
};

impl rusqlite::ToSql for LedgerStatus {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl rusqlite::types::FromSql for LedgerStatus {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let s = value.as_str()?;
        Self::parse(s)
            .ok_or_else(|| rusqlite::types::FromSqlError::Other(format!("unknown ledger status {s:?}").into()))
    }
}

impl rusqlite::ToSql for DeliveryStatus {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl rusqlite::types::FromSql for DeliveryStatus {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let s = value.as_str()?;
        Self::parse(s)
            .ok_or_else(|| rusqlite::types::FromSqlError::Other(format!("unknown delivery status {s:?}").into()))
    }
}

/// A delivery's rows by ledger status.
pub fn status_counts(conn: &Connection, delivery: i64) -> Result<Vec<(LedgerStatus, u64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT status, COUNT(*) FROM cc_ledger WHERE delivery_id = ?1 GROUP BY status ORDER BY status",
    )?;
    let rows = stmt
        .query_map([delivery], |r| Ok((r.get::<_, LedgerStatus>(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Creates a delivery (status `preparing`) and returns its id.
pub fn create(
    conn: &Connection,
    campaign_id: Option<i64>,
    activity_id: &str,
    channel: &str,
    message_json: &str,
    now: jiff::Timestamp,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO cc_deliveries (campaign_id, activity_id, channel, status, message_json, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![campaign_id, activity_id, channel, delivery_status::PREPARING, message_json, ts(now)],
    )?;
    Ok(conn.last_insert_rowid())
}

/// How a delivery is routed, as it starts: kept, so that a resumed run sends the same way and
/// a message made again is the same text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Route<'a> {
    /// The credential it sends with (`None`: the built-in Sandbox).
    pub credential: Option<i64>,
    /// The SMS configuration (sender, keywords) it started with.
    pub configuration: Option<i64>,
    /// Where its short links point, when it shortens SMS links.
    pub short_links_base: Option<&'a str>,
    /// Where its tracked links point, when its emails are tracked.
    pub tracking_base: Option<&'a str>,
}

/// Records how a delivery is routed.
pub fn set_route(conn: &Connection, delivery: i64, route: &Route<'_>) -> Result<()> {
    conn.execute(
        "UPDATE cc_deliveries SET credential_id = ?2, configuration_id = ?3, short_links_base = ?4, tracking_base = ?5
          WHERE id = ?1",
        params![delivery, route.credential, route.configuration, route.short_links_base, route.tracking_base],
    )?;
    Ok(())
}

/// What a delivery sends, as it was started: its activity, its message (JSON), and the
/// credential and SMS configuration it started with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSend {
    pub activity: String,
    /// Its channel, as stored (`email`, `sms`, …).
    pub channel: String,
    pub message_json: String,
    pub credential_id: Option<i64>,
    pub configuration_id: Option<i64>,
    /// Where its short links point, when it shortens links.
    pub short_links_base: Option<String>,
    /// Where its tracked links point, when its emails are tracked.
    pub tracking_base: Option<String>,
}

pub use crate::model::address::{AddressKind, VALID_ADDRESS_FUNCTION, valid_address};

pub use super::ledger_fill::{LedgerSource, fill_ledger, mark_proof, single_post};

/// A ledger row claimed for sending.
#[derive(Clone, Debug, PartialEq)]
pub struct Claimed {
    pub id: i64,
    pub idempotency_key: String,
    pub recipient_key: String,
    pub secondary_key: String,
    pub address: String,
    pub attempts: u32,
    pub vars_json: String,
}

impl Claimed {
    /// A row selected as `id, idempotency_key, recipient_key, secondary_key, address, attempts,
    /// vars_json` (first).
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            idempotency_key: r.get(1)?,
            recipient_key: r.get(2)?,
            secondary_key: r.get(3)?,
            address: r.get(4)?,
            attempts: r.get::<_, i64>(5)?.clamp(0, i64::from(u32::MAX)) as u32,
            vars_json: r.get::<_, Option<String>>(6)?.unwrap_or_else(|| "{}".into()),
        })
    }
}

/// Claims up to `limit` rows that are due (queued, or retry whose time has come): they become
/// `sending` and the claim is committed before this returns.
pub fn claim(conn: &mut Connection, delivery: i64, limit: usize, now: jiff::Timestamp) -> Result<Vec<Claimed>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let rows = {
        let mut stmt = tx.prepare(
            "UPDATE cc_ledger SET status = 'sending', attempts = attempts + 1, updated_at = ?3
             WHERE id IN (
                 -- Two index searches (due retries first, then queued in order): one query with
                 -- OR would scan the whole delivery and sort it, at every batch.
                 SELECT id FROM (SELECT id FROM cc_ledger
                                 WHERE delivery_id = ?1 AND status = 'retry' AND next_attempt_at <= ?3 LIMIT ?2)
                 UNION ALL
                 SELECT id FROM (SELECT id FROM cc_ledger
                                 WHERE delivery_id = ?1 AND status = 'queued' ORDER BY id LIMIT ?2)
                 LIMIT ?2)
             RETURNING id, idempotency_key, recipient_key, secondary_key, address, attempts, vars_json",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        stmt.query_map(params![delivery, limit, ts(now)], Claimed::from_row)?.collect::<rusqlite::Result<Vec<_>>>()?
    };
    tx.commit()?;
    let mut rows = rows;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// What happened to one claimed row.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Sent { provider_message_id: String },
    Failed { code: String, message: String },
    Retry { at: jiff::Timestamp, code: String, message: String },
}

/// Records outcomes in one transaction, with a `sent` or `failed` interaction event each.
pub fn record(
    conn: &mut Connection,
    campaign_id: Option<i64>,
    delivery: i64,
    outcomes: &[(i64, String, Outcome)],
    now: jiff::Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    record_within(&tx, campaign_id, delivery, outcomes, now)?;
    tx.commit()?;
    Ok(())
}

/// As [`record`], inside the caller's transaction (a grouped write). The statements are
/// cached: the ledger's report triggers make each one costly to prepare.
pub fn record_within(
    conn: &Connection,
    campaign_id: Option<i64>,
    delivery: i64,
    outcomes: &[(i64, String, Outcome)],
    now: jiff::Timestamp,
) -> Result<()> {
    let mut sent = conn.prepare_cached(
        "UPDATE cc_ledger SET status = 'sent', provider_message_id = ?2, error_code = NULL, error_message = NULL,
                next_attempt_at = NULL, updated_at = ?3 WHERE id = ?1 AND status = 'sending'",
    )?;
    let mut failed = conn.prepare_cached(
        "UPDATE cc_ledger SET status = 'failed', error_code = ?2, error_message = ?3, updated_at = ?4
         WHERE id = ?1 AND status = 'sending'",
    )?;
    let mut retry = conn.prepare_cached(
        "UPDATE cc_ledger SET status = 'retry', next_attempt_at = ?2, error_code = ?3, error_message = ?4,
                updated_at = ?5 WHERE id = ?1 AND status = 'sending'",
    )?;
    let mut event = conn.prepare_cached(
        "INSERT INTO cc_interactions (kind, at, campaign_id, delivery_id, ledger_id, profile_key, detail_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let now_s = ts(now);
    for (id, recipient, outcome) in outcomes {
        match outcome {
            Outcome::Sent { provider_message_id } => {
                if sent.execute(params![id, provider_message_id, now_s])? > 0 {
                    let detail = serde_json::json!({ "provider_message_id": provider_message_id }).to_string();
                    event.execute(params!["sent", now_s, campaign_id, delivery, id, recipient, detail])?;
                }
            }
            Outcome::Failed { code, message } => {
                if failed.execute(params![id, code, message, now_s])? > 0 {
                    let detail = serde_json::json!({ "code": code, "message": message }).to_string();
                    event.execute(params!["failed", now_s, campaign_id, delivery, id, recipient, detail])?;
                }
            }
            Outcome::Retry { at, code, message } => {
                retry.execute(params![id, ts(*at), code, message, now_s])?;
            }
        }
    }
    Ok(())
}

/// A row of a delivery left in `sending` (by a crash), and when it was claimed.
#[derive(Clone, Debug, PartialEq)]
pub struct InFlight {
    pub row: Claimed,
    pub claimed_at: jiff::Timestamp,
}

/// Rows of a delivery left in `sending` (by a crash).
pub fn in_flight(conn: &Connection, delivery: i64) -> Result<Vec<InFlight>> {
    let mut stmt = conn.prepare(
        "SELECT id, idempotency_key, recipient_key, secondary_key, address, attempts, vars_json, updated_at
         FROM cc_ledger WHERE delivery_id = ?1 AND status = 'sending' ORDER BY id",
    )?;
    let rows = stmt
        .query_map([delivery], |r| Ok((Claimed::from_row(r)?, r.get::<_, String>(7)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(|(row, at)| Ok(InFlight { row, claimed_at: parse_ts(&at)? })).collect()
}

/// The campaign a delivery sends for (`None`: a delivery of no campaign).
pub fn campaign_of(conn: &Connection, delivery: i64) -> Result<Option<i64>> {
    conn.query_row("SELECT campaign_id FROM cc_deliveries WHERE id = ?1", [delivery], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound { what: format!("Delivery {delivery}") })
}

/// Puts a row left in `sending` back: `queued` when the provider says it never got it,
/// `unconfirmed` when nobody can tell.
pub fn set_recovered(conn: &Connection, id: i64, status: LedgerStatus, now: jiff::Timestamp) -> Result<()> {
    let (code, message) = if status == LedgerStatus::Unconfirmed {
        (Some("unconfirmed"), Some("the app stopped while sending; the provider cannot say whether it went out"))
    } else {
        (None, None)
    };
    conn.execute(
        "UPDATE cc_ledger SET status = ?2, error_code = ?3, error_message = ?4, updated_at = ?5
         WHERE id = ?1 AND status = 'sending'",
        params![id, status, code, message, ts(now)],
    )?;
    Ok(())
}

/// The earliest time a `retry` row of the delivery is due, if any.
pub fn next_retry(conn: &Connection, delivery: i64) -> Result<Option<jiff::Timestamp>> {
    let at: Option<String> = conn.query_row(
        "SELECT MIN(next_attempt_at) FROM cc_ledger WHERE delivery_id = ?1 AND status = 'retry'",
        [delivery],
        |r| r.get(0),
    )?;
    parse_opt_ts(at)
}

/// Marks a delivery finished (`done` or `cancelled`).
pub fn finish(conn: &Connection, delivery: i64, status: DeliveryStatus, now: jiff::Timestamp) -> Result<()> {
    conn.prepare_cached("UPDATE cc_deliveries SET status = ?2, finished_at = ?3 WHERE id = ?1")?.execute(params![
        delivery,
        status,
        ts(now)
    ])?;
    Ok(())
}

/// The deliveries, newest first (of one campaign when given), with their counts by status.
pub fn list(conn: &Connection, campaign_id: Option<i64>) -> Result<Vec<Delivery>> {
    let mut stmt = conn.prepare(
        "SELECT d.id, d.campaign_id, COALESCE(d.activity_id, ''), d.channel, d.status, d.created_at, d.finished_at,
                COALESCE(c.name, ''), d.is_proof, k.name, k.provider, s.name
         FROM cc_deliveries d LEFT JOIN cc_campaigns c ON c.id = d.campaign_id
              LEFT JOIN cc_credentials k ON k.id = d.credential_id
              LEFT JOIN cc_sms_configurations s ON s.id = d.configuration_id
         WHERE ?1 IS NULL OR d.campaign_id = ?1 ORDER BY d.id DESC",
    )?;
    let rows = stmt
        .query_map([campaign_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, DeliveryStatus>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, bool>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, Option<String>>(10)?,
                r.get::<_, Option<String>>(11)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut events =
        // Messages, not events: an email opened twice counts once (events without a message, each).
        conn.prepare(
            "SELECT kind, COUNT(DISTINCT COALESCE(ledger_id, -id)) FROM cc_interactions WHERE delivery_id = ?1
              GROUP BY kind ORDER BY kind",
        )?;
    rows.into_iter()
        .map(
            |(
                id,
                campaign_id,
                activity_id,
                channel,
                status,
                created,
                finished,
                campaign,
                is_proof,
                name,
                provider,
                sms,
            )| {
                // An SMS configuration's delivery names it first ("US marketing: Twilio US (Twilio)").
                let credential = name.map(|name| {
                    let provider = provider.as_deref().and_then(ProviderKind::parse).map_or("?", ProviderKind::label);
                    match sms {
                        Some(sms) => format!("{sms}: {name} ({provider})"),
                        None => format!("{name} ({provider})"),
                    }
                });
                let counts = status_counts(conn, id)?;
                let events = events
                    .query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(Delivery {
                    id,
                    campaign_id,
                    campaign,
                    is_proof,
                    activity_id,
                    activity_label: String::new(),
                    channel,
                    status,
                    created_at: parse_ts(&created)?,
                    finished_at: parse_opt_ts(finished)?,
                    credential,
                    counts,
                    events,
                })
            },
        )
        .collect()
}

/// Settles the unfinished deliveries of a campaign that the user cancelled: what was not sent
/// becomes `failed` (code `cancelled`), and the deliveries `cancelled`. Returns the rows settled.
pub fn cancel_unfinished(conn: &Connection, campaign_id: i64, now: jiff::Timestamp) -> Result<u64> {
    let tx = conn.unchecked_transaction()?;
    let n = tx.execute(
        "UPDATE cc_ledger SET status = 'failed', error_code = 'cancelled', error_message = 'the delivery was cancelled',
                updated_at = ?2
         WHERE status IN ('queued', 'retry')
           AND delivery_id IN (SELECT id FROM cc_deliveries WHERE campaign_id = ?1 AND status IN ('preparing', 'sending'))",
        params![campaign_id, ts(now)],
    )?;
    tx.execute(
        "UPDATE cc_deliveries SET status = ?2, finished_at = ?3
         WHERE campaign_id = ?1 AND status IN ('preparing', 'sending')
           AND NOT EXISTS (SELECT 1 FROM cc_ledger l WHERE l.delivery_id = cc_deliveries.id AND l.status = 'sending')",
        params![campaign_id, delivery_status::CANCELLED, ts(now)],
    )?;
    tx.commit()?;
    Ok(n as u64)
}

/// Settles the `unconfirmed` rows of a delivery as the user found them at the provider: sent,
/// or not sent (failed, code `unconfirmed`), with their interaction events. Returns the rows.
pub fn resolve_unconfirmed(conn: &Connection, delivery: i64, sent: bool, now: jiff::Timestamp) -> Result<u64> {
    let tx = conn.unchecked_transaction()?;
    let (kind, detail) = if sent {
        ("sent", r#"{"resolved_by":"user"}"#)
    } else {
        ("failed", r#"{"code":"unconfirmed","message":"marked not sent by the user","resolved_by":"user"}"#)
    };
    tx.execute(
        "INSERT INTO cc_interactions (kind, at, campaign_id, delivery_id, ledger_id, profile_key, detail_json)
         SELECT ?3, ?2, d.campaign_id, l.delivery_id, l.id, l.recipient_key, ?4
         FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id
         WHERE l.delivery_id = ?1 AND l.status = 'unconfirmed'",
        params![delivery, ts(now), kind, detail],
    )?;
    let n = if sent {
        tx.execute(
            "UPDATE cc_ledger SET status = 'sent', error_code = NULL,
                    error_message = 'marked sent by the user after a crash', updated_at = ?2
             WHERE delivery_id = ?1 AND status = 'unconfirmed'",
            params![delivery, ts(now)],
        )?
    } else {
        tx.execute(
            "UPDATE cc_ledger SET status = 'failed', error_code = 'unconfirmed',
                    error_message = 'marked not sent by the user after a crash', updated_at = ?2
             WHERE delivery_id = ?1 AND status = 'unconfirmed'",
            params![delivery, ts(now)],
        )?
    };
    tx.commit()?;
    Ok(n as u64)
}

/// What a delivery sends and through what, as it was started.
pub fn stored_send(conn: &Connection, delivery: i64) -> Result<StoredSend> {
    conn.query_row(
        "SELECT COALESCE(activity_id, ''), message_json, credential_id, configuration_id, short_links_base, tracking_base,
                channel
           FROM cc_deliveries WHERE id = ?1",
        [delivery],
        |r| {
            Ok(StoredSend {
                activity: r.get(0)?,
                message_json: r.get(1)?,
                credential_id: r.get(2)?,
                configuration_id: r.get(3)?,
                short_links_base: r.get(4)?,
                tracking_base: r.get(5)?,
                channel: r.get(6)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound { what: format!("delivery {delivery}") })
}

/// The messages of `channel` sent (or being sent) through credential `credential_id` since
/// `since` (proofs aside), and, when they are `limit` or more, when the one that makes the
/// limit went: one more may go 24 hours after it.
pub fn sent_since(
    conn: &Connection,
    credential_id: i64,
    channel: &str,
    since: jiff::Timestamp,
    limit: u32,
) -> Result<(u64, Option<jiff::Timestamp>)> {
    let from = "FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id
         WHERE d.credential_id = ?1 AND d.channel = ?2 AND d.is_proof = 0
           AND l.status IN ('sending', 'sent', 'unconfirmed') AND l.updated_at >= ?3";
    let n: i64 =
        conn.query_row(&format!("SELECT COUNT(*) {from}"), params![credential_id, channel, ts(since)], |r| r.get(0))?;
    let n = n.max(0) as u64;
    if n < u64::from(limit) {
        return Ok((n, None));
    }
    let at: String = conn.query_row(
        &format!("SELECT l.updated_at {from} ORDER BY l.updated_at DESC LIMIT 1 OFFSET ?4"),
        params![credential_id, channel, ts(since), i64::from(limit) - 1],
        |r| r.get(0),
    )?;
    Ok((n, Some(parse_ts(&at)?)))
}
