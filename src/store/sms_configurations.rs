//! SMS configurations: a credential, a sender, keywords and replies, link shortening.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError, parse_ts, ts};
use crate::model::sms::SmsConfiguration;

/// All configurations, by name.
pub fn list(conn: &Connection) -> Result<Vec<SmsConfiguration>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, credential_id, sender, keywords_json, shorten_links, created_at
           FROM cc_sms_configurations ORDER BY name COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, bool>(5)?,
            r.get::<_, String>(6)?,
        ))
    })?;
    rows.map(|r| {
        let (id, name, credential_id, sender, keywords, shorten_links, created) = r?;
        Ok(SmsConfiguration {
            id,
            name,
            credential_id,
            sender,
            keywords: serde_json::from_str(&keywords)
                .map_err(|e| StoreError::Damaged(format!("keywords of SMS configuration {id}: {e}")))?,
            shorten_links,
            created_at: parse_ts(&created)?,
        })
    })
    .collect()
}

/// Inserts `c` (its id 0) or changes it; returns its id. Names are unique in any case.
pub fn save(conn: &Connection, c: &SmsConfiguration) -> Result<i64> {
    let name = c.name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid("An SMS configuration needs a name.".into()));
    }
    let clash: Option<i64> = conn
        .query_row(
            "SELECT id FROM cc_sms_configurations WHERE name = ?1 COLLATE NOCASE AND id <> ?2",
            params![name, c.id],
            |r| r.get(0),
        )
        .optional()?;
    if clash.is_some() {
        return Err(StoreError::Invalid(format!("An SMS configuration named \u{201c}{name}\u{201d} already exists.")));
    }
    let keywords = serde_json::to_string(&c.keywords)
        .map_err(|e| StoreError::Invalid(format!("the keywords could not be written: {e}")))?;
    if c.id == 0 {
        conn.execute(
            "INSERT INTO cc_sms_configurations (name, credential_id, sender, keywords_json, shorten_links, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![name, c.credential_id, c.sender.trim(), keywords, c.shorten_links, ts(c.created_at)],
        )?;
        return Ok(conn.last_insert_rowid());
    }
    let n = conn.execute(
        "UPDATE cc_sms_configurations
            SET name = ?2, credential_id = ?3, sender = ?4, keywords_json = ?5, shorten_links = ?6
          WHERE id = ?1",
        params![c.id, name, c.credential_id, c.sender.trim(), keywords, c.shorten_links],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound { what: format!("SMS configuration {}", c.id) });
    }
    Ok(c.id)
}

pub fn delete(conn: &Connection, id: i64) -> Result<()> {
    let n = conn.execute("DELETE FROM cc_sms_configurations WHERE id = ?1", [id])?;
    if n == 0 {
        return Err(StoreError::NotFound { what: format!("SMS configuration {id}") });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sms::Keywords;

    #[test]
    fn configurations_are_saved_changed_listed_by_name_and_deleted_with_their_credential() {
        let dir = tempfile::tempdir().unwrap();
        let ws = crate::store::Workspace::open(dir.path()).unwrap();
        let conn = ws.conn();
        conn.execute(
            "INSERT INTO cc_credentials (id, channel, provider, name, settings_json, secret_refs_json, created_at)
             VALUES (7, 'sms', 'sandbox', 'Sandbox', '{}', '{}', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
        let mut c = SmsConfiguration {
            id: 0,
            name: "US".into(),
            credential_id: 7,
            sender: " +14155550100 ".into(),
            keywords: Keywords::default(),
            shorten_links: true,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        };
        c.id = save(&conn, &c).unwrap();
        let mut other = c.clone();
        other.id = 0;
        other.name = "us".into();
        let e = save(&conn, &other).unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        other.name = "Alpha".into();
        other.keywords.help = vec!["AIDE".into()];
        save(&conn, &other).unwrap();
        let listed = list(&conn).unwrap();
        assert_eq!(listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Alpha", "US"]);
        assert_eq!(listed[1].sender, "+14155550100");
        assert_eq!(listed[0].keywords.help, ["AIDE"]);
        c.shorten_links = false;
        save(&conn, &c).unwrap();
        assert!(!list(&conn).unwrap()[1].shorten_links);
        delete(&conn, c.id).unwrap();
        assert!(matches!(delete(&conn, c.id), Err(StoreError::NotFound { .. })));
        conn.execute("DELETE FROM cc_credentials WHERE id = 7", []).unwrap();
        assert!(list(&conn).unwrap().is_empty(), "a credential's configurations go with it");
    }
}
