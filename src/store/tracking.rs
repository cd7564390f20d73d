//! What email tracking writes: opens and clicks against the message they came from (its
//! campaign, delivery, ledger row and profile), and unsubscriptions.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, ts};

/// An event of a tracked message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackedEvent {
    /// `opened`, `clicked` or `unsubscribed`.
    pub kind: &'static str,
    /// The message's ledger idempotency key.
    pub message: String,
    /// The event's detail (the link and its alias), JSON.
    pub detail_json: String,
    pub at: jiff::Timestamp,
}

/// Writes `events` (in the caller's transaction, when it has one); returns how many were about
/// a message the workspace has (the others are dropped: their delivery was deleted).
pub fn record(conn: &Connection, events: &[TrackedEvent]) -> Result<usize> {
    let mut written = 0;
    {
        let mut insert = conn.prepare_cached(
            "INSERT INTO cc_interactions (kind, at, campaign_id, delivery_id, ledger_id, profile_key, detail_json)
             SELECT ?1, ?2, d.campaign_id, l.delivery_id, l.id, l.recipient_key, ?4
               FROM cc_ledger l LEFT JOIN cc_deliveries d ON d.id = l.delivery_id
              WHERE l.idempotency_key = ?3",
        )?;
        for e in events {
            written += insert.execute(params![e.kind, ts(e.at), e.message, e.detail_json])?;
        }
    }
    Ok(written)
}

/// Who a message went to: its profile's key, its address and its campaign's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub profile_key: String,
    pub address: String,
    pub campaign: Option<String>,
}

/// The recipient of the message with ledger key `message`, if the workspace has it.
pub fn recipient(conn: &Connection, message: &str) -> Result<Option<Recipient>> {
    Ok(conn
        .query_row(
            "SELECT l.recipient_key, l.address, c.name
               FROM cc_ledger l
               LEFT JOIN cc_deliveries d ON d.id = l.delivery_id
               LEFT JOIN cc_campaigns c ON c.id = d.campaign_id
              WHERE l.idempotency_key = ?1",
            [message],
            |r| Ok(Recipient { profile_key: r.get(0)?, address: r.get(1)?, campaign: r.get(2)? }),
        )
        .optional()?)
}
