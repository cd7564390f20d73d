//! The audit log: who changed what, when. Never holds a secret.

use rusqlite::{Connection, params};

use super::{Result, parse_ts, ts};

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub at: jiff::Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

pub fn record(
    conn: &Connection,
    at: jiff::Timestamp,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO cc_audit_log (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ts(at), actor, action, subject, detail],
    )?;
    Ok(())
}

/// The most recent entries, newest first.
pub fn recent(conn: &Connection, limit: usize) -> Result<Vec<AuditEntry>> {
    let mut stmt =
        conn.prepare("SELECT at, actor, action, subject, detail FROM cc_audit_log ORDER BY id DESC LIMIT ?1")?;
    let rows =
        stmt.query_map([limit as i64], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
    rows.map(|r| {
        let (at, actor, action, subject, detail) = r?;
        Ok(AuditEntry { at: parse_ts(&at)?, actor, action, subject, detail })
    })
    .collect()
}
