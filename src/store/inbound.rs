//! Messages people send to the workspace's numbers (SMS replies), and what the provider later
//! says of a message sent (delivered, undelivered).

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, parse_ts, ts};
use crate::model::sms::{InboundMessage, KeywordKind};

/// Keeps an inbound message; `false` when the provider sent it before (same credential and
/// message id: a repeated webhook), and nothing changes.
pub fn insert(conn: &Connection, credential_id: Option<i64>, m: &InboundMessage) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO cc_inbound_messages
             (credential_id, provider_message_id, from_address, to_address, body, keyword, profile_key, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (credential_id, provider_message_id) DO NOTHING",
        params![
            credential_id,
            m.provider_message_id,
            m.from,
            m.to,
            m.body,
            m.keyword.map_or("", KeywordKind::as_str),
            m.profile_key,
            ts(m.received_at),
        ],
    )?;
    Ok(n == 1)
}

/// Whether the credential already has the inbound message `provider_message_id`.
pub fn exists(conn: &Connection, credential_id: i64, provider_message_id: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM cc_inbound_messages WHERE credential_id = ?1 AND provider_message_id = ?2",
            params![credential_id, provider_message_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The newest inbound messages first, at most `limit`.
pub fn list(conn: &Connection, limit: usize) -> Result<Vec<InboundMessage>> {
    let mut stmt = conn.prepare(
        "SELECT m.id, c.name, m.provider_message_id, m.from_address, m.to_address, m.body, m.keyword,
                m.profile_key, m.received_at
         FROM cc_inbound_messages m LEFT JOIN cc_credentials c ON c.id = m.credential_id
         ORDER BY m.received_at DESC, m.id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((
                InboundMessage {
                    id: r.get(0)?,
                    credential: r.get(1)?,
                    provider_message_id: r.get(2)?,
                    from: r.get(3)?,
                    to: r.get(4)?,
                    body: r.get(5)?,
                    keyword: KeywordKind::parse(&r.get::<_, String>(6)?),
                    profile_key: r.get(7)?,
                    received_at: jiff::Timestamp::UNIX_EPOCH,
                },
                r.get::<_, String>(8)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(|(m, at)| Ok(InboundMessage { received_at: parse_ts(&at)?, ..m })).collect()
}

/// What a provider's report on a sent message changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reported {
    /// No message of the workspace has this id (a test message, another app's): nothing changed.
    Unknown,
    /// The message already had a final report (a late or repeated one): nothing changed.
    AlreadyFinal,
    /// The message's status at the provider was noted; `event` is the interaction written
    /// (`delivered` or `bounced`) when the report was final.
    Noted { event: Option<&'static str> },
}

/// A sent message's ledger row: its id, delivery, campaign, recipient and provider status.
type SentRow = (i64, i64, Option<i64>, String, Option<String>);

/// The final statuses of a message at the provider, and the event each writes.
const FINAL: [(&str, &str); 3] = [("delivered", "delivered"), ("undelivered", "bounced"), ("failed", "bounced")];

/// Notes what the provider says of the message it knows as `message_id` (`status`, with its
/// error code): the ledger row keeps it, and a final one writes its interaction event once.
pub fn report(
    conn: &Connection,
    message_id: &str,
    status: &str,
    error_code: Option<&str>,
    now: jiff::Timestamp,
) -> Result<Reported> {
    let tx = conn.unchecked_transaction()?;
    let row: Option<SentRow> = tx
        .query_row(
            "SELECT l.id, l.delivery_id, d.campaign_id, l.recipient_key, l.provider_status
             FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id
             WHERE l.provider_message_id = ?1",
            [message_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((ledger, delivery, campaign, recipient, before)) = row else {
        // It may be a message whose send is not recorded yet (the provider answered the
        // callback faster): kept a while, applied when its send is.
        tx.execute(
            "INSERT INTO cc_pending_reports (message_id, status, error_code, reported_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, error_code = excluded.error_code
             WHERE cc_pending_reports.status NOT IN ('delivered', 'undelivered', 'failed')",
            params![message_id, status, error_code, ts(now)],
        )?;
        tx.commit()?;
        return Ok(Reported::Unknown);
    };
    let is_final = |s: &str| FINAL.iter().any(|(f, _)| *f == s);
    if before.as_deref().is_some_and(is_final) {
        return Ok(Reported::AlreadyFinal);
    }
    let status = status.trim().to_ascii_lowercase();
    tx.execute(
        "UPDATE cc_ledger SET provider_status = ?2,
                error_code = CASE WHEN ?3 IS NULL THEN error_code ELSE ?3 END, updated_at = ?4
         WHERE id = ?1",
        params![ledger, status, error_code, ts(now)],
    )?;
    let event = FINAL.iter().find(|(f, _)| *f == status).map(|(_, e)| *e);
    if let Some(kind) = event {
        let detail = serde_json::json!({ "provider_status": status, "error_code": error_code }).to_string();
        tx.execute(
            "INSERT INTO cc_interactions (kind, at, campaign_id, delivery_id, ledger_id, profile_key, detail_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![kind, ts(now), campaign, delivery, ledger, recipient, detail],
        )?;
    }
    tx.commit()?;
    Ok(Reported::Noted { event })
}

/// Applies the reports that came before their message's send was recorded (see [`report`]),
/// and forgets those older than a day that never found their message. Returns how many were
/// applied.
pub fn apply_pending(conn: &Connection, now: jiff::Timestamp) -> Result<u64> {
    let waiting: Vec<(String, String, Option<String>)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT p.message_id, p.status, p.error_code FROM cc_pending_reports p
             JOIN cc_ledger l ON l.provider_message_id = p.message_id",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?
    };
    for (id, status, code) in &waiting {
        report(conn, id, status, code.as_deref(), now)?;
        conn.execute("DELETE FROM cc_pending_reports WHERE message_id = ?1", [id])?;
    }
    let day_ago = now.checked_sub(jiff::SignedDuration::from_hours(24)).unwrap_or(now);
    conn.execute("DELETE FROM cc_pending_reports WHERE reported_at < ?1", [ts(day_ago)])?;
    Ok(waiting.len() as u64)
}
