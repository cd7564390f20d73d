//! The Sandbox provider's outbox: the messages it "sent", kept in the workspace, and the
//! delivered / bounced / opened / clicked events it simulates for them.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, ts};
use crate::model::provider::SandboxRates;

/// A message as the Sandbox keeps it.
pub struct SandboxMessage<'a> {
    pub idempotency_key: &'a str,
    pub channel: &'a str,
    pub address: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub html: &'a str,
    /// The List-Unsubscribe link it carried (empty: none).
    pub unsubscribe: &'a str,
}

/// Stores a message the Sandbox "sent"; returns its id (`sandbox-<n>`).
pub fn sandbox_insert(conn: &Connection, m: &SandboxMessage<'_>, now: jiff::Timestamp) -> Result<String> {
    conn.prepare_cached(
        "INSERT INTO cc_sandbox_messages (idempotency_key, channel, address, subject, body, html, unsubscribe, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![m.idempotency_key, m.channel, m.address, m.subject, m.body, m.html, m.unsubscribe, ts(now)])?;
    Ok(format!("sandbox-{}", conn.last_insert_rowid()))
}

/// The Sandbox's id of the message sent with this idempotency key, if it was.
pub fn sandbox_lookup(conn: &Connection, idempotency_key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT id FROM cc_sandbox_messages WHERE idempotency_key = ?1 ORDER BY id LIMIT 1",
            [idempotency_key],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .map(|id| format!("sandbox-{id}")))
}

/// What the Sandbox kept of the message of ledger row `ledger_id`: (channel, address,
/// subject, text, HTML, List-Unsubscribe link); `None` when it kept nothing of it.
pub fn sandbox_message(conn: &Connection, ledger_id: i64) -> Result<Option<[String; 6]>> {
    Ok(conn
        .query_row(
            "SELECT m.channel, m.address, m.subject, m.body, m.html, m.unsubscribe
               FROM cc_ledger l JOIN cc_sandbox_messages m ON m.idempotency_key = l.idempotency_key
              WHERE l.id = ?1 ORDER BY m.id DESC LIMIT 1",
            [ledger_id],
            |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?]),
        )
        .optional()?)
}

/// Writes the simulated events of Sandbox messages of `channel` sent at least `rates.delay`
/// ago: delivered or bounced, then (email, push) opened and clicked. Which message gets what is
/// decided by a hash of its id, so a rerun decides the same. At most `limit` messages per call;
/// returns how many were handled.
pub fn sandbox_events(
    conn: &Connection,
    channel: &str,
    rates: &SandboxRates,
    now: jiff::Timestamp,
    limit: usize,
) -> Result<u64> {
    let due = now.checked_sub(jiff::SignedDuration::try_from(rates.delay).unwrap_or_default()).unwrap_or(now);
    let tx = conn.unchecked_transaction()?;
    let rows = {
        let mut stmt = tx.prepare(
            "SELECT m.id, l.id, l.delivery_id, l.recipient_key, d.campaign_id
             FROM cc_sandbox_messages m
             JOIN cc_ledger l ON l.idempotency_key = m.idempotency_key AND l.status = 'sent'
             JOIN cc_deliveries d ON d.id = l.delivery_id
             WHERE m.channel = ?1 AND m.events_at IS NULL AND m.created_at <= ?2
             ORDER BY m.id LIMIT ?3",
        )?;
        stmt.query_map(params![channel, ts(due), i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
    };
    let engaging = matches!(channel, "email" | "push");
    {
        let mut event = tx.prepare(
            "INSERT INTO cc_interactions (kind, at, campaign_id, delivery_id, ledger_id, profile_key, detail_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, '{\"sandbox\":true}')",
        )?;
        let mut done = tx.prepare("UPDATE cc_sandbox_messages SET events_at = ?2 WHERE id = ?1")?;
        let at = ts(now);
        let draw = |id: i64, salt: u64| unit_draw(id, salt);
        for (message, ledger, delivery, recipient, campaign) in &rows {
            let delivered = draw(*message, 1) < rates.delivered;
            let kind = if delivered { "delivered" } else { "bounced" };
            event.execute(params![kind, at, campaign, delivery, ledger, recipient])?;
            if delivered && engaging && draw(*message, 2) < rates.opened {
                event.execute(params!["opened", at, campaign, delivery, ledger, recipient])?;
                if draw(*message, 3) < rates.clicked {
                    event.execute(params!["clicked", at, campaign, delivery, ledger, recipient])?;
                }
            }
            done.execute(params![message, at])?;
        }
    }
    tx.commit()?;
    Ok(rows.len() as u64)
}

/// A number in [0, 1) from an id and a salt (SplitMix64): the same pair always draws the same.
fn unit_draw(id: i64, salt: u64) -> f64 {
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut z = (id as u64) ^ salt.wrapping_mul(GOLDEN);
    z = z.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
