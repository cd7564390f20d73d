//! Short links: the links of the SMS a configuration sends shortened, each pointing at this
//! app's server, which counts the click against the message and sends the reader on.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, ts};

/// Keeps the short links of a message (code → the link it stands for); a message sent again
/// (a retry, a resumed run) has the same codes, kept once.
pub fn keep(conn: &Connection, ledger_key: &str, links: &[(String, String)], now: jiff::Timestamp) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO cc_short_links (code, url, ledger_key, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let at = ts(now);
    for (code, url) in links {
        stmt.execute(params![code, url, ledger_key, at])?;
    }
    Ok(())
}

/// Where short link `code` leads, after writing a click on its message (campaign, delivery,
/// ledger row, profile) at `now`; `None` for a code no message has.
pub fn follow(conn: &Connection, code: &str, now: jiff::Timestamp) -> Result<Option<String>> {
    let url: Option<String> =
        conn.query_row("SELECT url FROM cc_short_links WHERE code = ?1", [code], |r| r.get(0)).optional()?;
    let Some(url) = url else { return Ok(None) };
    // The message's campaign, delivery, row and profile (none once its campaign is deleted).
    let detail = serde_json::json!({ "url": url, "short_link": code }).to_string();
    conn.execute(
        "INSERT INTO cc_interactions (kind, at, campaign_id, delivery_id, ledger_id, profile_key, detail_json)
         SELECT 'clicked', ?2, d.campaign_id, l.delivery_id, l.id, l.recipient_key, ?3
           FROM cc_short_links s
           LEFT JOIN cc_ledger l ON l.idempotency_key = s.ledger_key
           LEFT JOIN cc_deliveries d ON d.id = l.delivery_id
          WHERE s.code = ?1",
        params![code, ts(now), detail],
    )?;
    Ok(Some(url))
}
