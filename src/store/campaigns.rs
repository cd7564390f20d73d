//! Campaigns and their canvases.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Result, StoreError, parse_opt_ts, parse_ts, ts};
use crate::model::{Campaign, CampaignKind, CampaignStatus, LastRun};

const COLUMNS: &str = "id, name, kind, status, starts_at, ends_at, published_at, created_at, modified_at";

/// The longest campaign name accepted.
pub const MAX_NAME_LEN: usize = 200;

fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<Campaign>> {
    let kind: String = row.get(2)?;
    let status: String = row.get(3)?;
    let created: String = row.get(7)?;
    let modified: String = row.get(8)?;
    let (starts, ends, published) = (row.get(4)?, row.get(5)?, row.get(6)?);
    let (id, name) = (row.get(0)?, row.get(1)?);
    Ok((|| {
        Ok(Campaign {
            id,
            name,
            kind: CampaignKind::parse(&kind).ok_or_else(|| StoreError::Damaged(format!("campaign kind {kind:?}")))?,
            status: CampaignStatus::parse(&status)
                .ok_or_else(|| StoreError::Damaged(format!("campaign status {status:?}")))?,
            starts_at: parse_opt_ts(starts)?,
            ends_at: parse_opt_ts(ends)?,
            published_at: parse_opt_ts(published)?,
            created_at: parse_ts(&created)?,
            modified_at: parse_ts(&modified)?,
            last_run: None,
        })
    })())
}

/// `c` with its last run, when it has one.
fn with_last_run(conn: &Connection, mut c: Campaign) -> Result<Campaign> {
    let run: Option<(String, Option<String>, Option<String>, bool)> = conn
        .prepare_cached(
            "SELECT started_at, finished_at, outcome, failed FROM cc_campaign_runs
             WHERE campaign_id = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([c.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    c.last_run = match run {
        Some((started, finished, outcome, failed)) => {
            Some(LastRun { started_at: parse_ts(&started)?, finished_at: parse_opt_ts(finished)?, outcome, failed })
        }
        None => None,
    };
    Ok(c)
}

/// Checks and tidies a campaign name typed by a user.
pub fn clean_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid("A campaign needs a name.".into()));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(StoreError::Invalid(format!("A campaign name can have at most {MAX_NAME_LEN} characters.")));
    }
    if name.chars().any(char::is_control) {
        return Err(StoreError::Invalid("A campaign name cannot contain line breaks or tabs.".into()));
    }
    Ok(name.to_owned())
}

fn ensure_name_free(conn: &Connection, name: &str, except: Option<i64>) -> Result<()> {
    let taken: Option<i64> = conn
        .query_row(
            "SELECT id FROM cc_campaigns WHERE name = ?1 COLLATE NOCASE AND id IS NOT ?2",
            params![name, except],
            |r| r.get(0),
        )
        .optional()?;
    match taken {
        Some(_) => Err(StoreError::Invalid(format!("A campaign named \u{201c}{name}\u{201d} already exists."))),
        None => Ok(()),
    }
}

/// All campaigns, most recently modified first.
pub fn list(conn: &Connection) -> Result<Vec<Campaign>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM cc_campaigns ORDER BY modified_at DESC, id DESC"))?;
    let rows = stmt.query_map([], from_row)?;
    rows.map(|r| with_last_run(conn, r??)).collect()
}

pub fn get(conn: &Connection, id: i64) -> Result<Campaign> {
    with_last_run(conn, get_bare(conn, id)?)
}

/// Campaign `id` without its last run (for checks that look at its kind, status and dates).
pub fn get_bare(conn: &Connection, id: i64) -> Result<Campaign> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM cc_campaigns WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound { what: format!("Campaign {id}") })?
}

/// Finds a campaign by id (digits) or by name (case-insensitive).
pub fn find(conn: &Connection, name_or_id: &str) -> Result<Campaign> {
    if let Ok(id) = name_or_id.parse::<i64>()
        && let Ok(c) = get(conn, id)
    {
        return Ok(c);
    }
    let c = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM cc_campaigns WHERE name = ?1 COLLATE NOCASE"),
            [name_or_id.trim()],
            from_row,
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound { what: format!("A campaign named \u{201c}{name_or_id}\u{201d}") })??;
    with_last_run(conn, c)
}

/// Creates a draft campaign and returns it.
pub fn create(conn: &Connection, name: &str, kind: CampaignKind, now: jiff::Timestamp) -> Result<Campaign> {
    let name = clean_name(name)?;
    ensure_name_free(conn, &name, None)?;
    conn.execute(
        "INSERT INTO cc_campaigns (name, kind, status, created_at, modified_at) VALUES (?1, ?2, 'draft', ?3, ?3)",
        params![name, kind.as_str(), ts(now)],
    )?;
    get(conn, conn.last_insert_rowid())
}

/// Inserts a campaign with every field given (the demo and imports use this).
pub fn insert(conn: &Connection, c: &Campaign) -> Result<i64> {
    let name = clean_name(&c.name)?;
    ensure_name_free(conn, &name, None)?;
    conn.execute(
        "INSERT INTO cc_campaigns (name, kind, status, starts_at, ends_at, published_at, created_at, modified_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            name,
            c.kind.as_str(),
            c.status.as_str(),
            c.starts_at.map(ts),
            c.ends_at.map(ts),
            c.published_at.map(ts),
            ts(c.created_at),
            ts(c.modified_at),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn rename(conn: &Connection, id: i64, new_name: &str, now: jiff::Timestamp) -> Result<Campaign> {
    let name = clean_name(new_name)?;
    ensure_name_free(conn, &name, Some(id))?;
    let n =
        conn.execute("UPDATE cc_campaigns SET name = ?1, modified_at = ?2 WHERE id = ?3", params![name, ts(now), id])?;
    if n == 0 {
        return Err(StoreError::NotFound { what: format!("Campaign {id}") });
    }
    get(conn, id)
}

/// Sets a campaign's start and end (`None`: no limit).
pub fn set_dates(
    conn: &Connection,
    id: i64,
    starts_at: Option<jiff::Timestamp>,
    ends_at: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
) -> Result<()> {
    conn.execute(
        "UPDATE cc_campaigns SET starts_at = ?2, ends_at = ?3, modified_at = ?4 WHERE id = ?1",
        params![id, starts_at.map(ts), ends_at.map(ts), ts(now)],
    )?;
    Ok(())
}

/// Copies a campaign (as a draft, with its canvas) under the first free name
/// "<name> (copy)", "<name> (copy 2)", …
pub fn duplicate(conn: &mut Connection, id: i64, now: jiff::Timestamp) -> Result<Campaign> {
    let tx = conn.transaction()?;
    let original = get(&tx, id)?;
    let mut n = 1;
    let name = loop {
        let base = if n == 1 { format!("{} (copy)", original.name) } else { format!("{} (copy {n})", original.name) };
        // Keep within the length limit by shortening the original part of the name.
        let candidate = if base.chars().count() > MAX_NAME_LEN {
            let suffix: String = base.chars().skip(original.name.chars().count()).collect();
            let keep = MAX_NAME_LEN - suffix.chars().count();
            format!("{}{suffix}", original.name.chars().take(keep).collect::<String>())
        } else {
            base
        };
        if ensure_name_free(&tx, &candidate, None).is_ok() {
            break candidate;
        }
        n += 1;
    };
    tx.execute(
        "INSERT INTO cc_campaigns (name, kind, status, starts_at, ends_at, created_at, modified_at)
         SELECT ?1, kind, 'draft', starts_at, ends_at, ?2, ?2 FROM cc_campaigns WHERE id = ?3",
        params![name, ts(now), id],
    )?;
    let new_id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO cc_canvases (campaign_id, canvas_json, modified_at)
         SELECT ?1, canvas_json, ?2 FROM cc_canvases WHERE campaign_id = ?3",
        params![new_id, ts(now), id],
    )?;
    tx.execute(
        "INSERT INTO cc_api_campaigns (campaign_id, settings_json, modified_at)
         SELECT ?1, settings_json, ?2 FROM cc_api_campaigns WHERE campaign_id = ?3",
        params![new_id, ts(now), id],
    )?;
    tx.execute(
        "INSERT INTO cc_connectors (campaign_id, settings_json, modified_at)
         SELECT ?1, settings_json, ?2 FROM cc_connectors WHERE campaign_id = ?3",
        params![new_id, ts(now), id],
    )?;
    let copy = get(&tx, new_id)?;
    tx.commit()?;
    Ok(copy)
}

/// Deletes a campaign and its canvas. Deliveries keep their history (their campaign becomes
/// empty).
pub fn delete(conn: &Connection, id: i64) -> Result<()> {
    let n = conn.execute("DELETE FROM cc_campaigns WHERE id = ?1", [id])?;
    if n == 0 {
        return Err(StoreError::NotFound { what: format!("Campaign {id}") });
    }
    Ok(())
}

/// Deletes every campaign (replacing the demo).
pub fn delete_all(conn: &Connection) -> Result<()> {
    conn.execute("DELETE FROM cc_campaigns", [])?;
    Ok(())
}

/// The stored canvas JSON of a campaign, if it has one.
pub fn canvas_json(conn: &Connection, id: i64) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT canvas_json FROM cc_canvases WHERE campaign_id = ?1", [id], |r| r.get(0)).optional()?)
}

/// Stores (or replaces) the canvas JSON of a campaign.
pub fn save_canvas(conn: &Connection, id: i64, canvas_json: &str, now: jiff::Timestamp) -> Result<()> {
    get(conn, id)?;
    conn.execute(
        "INSERT INTO cc_canvases (campaign_id, canvas_json, modified_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (campaign_id) DO UPDATE SET canvas_json = excluded.canvas_json, modified_at = excluded.modified_at",
        params![id, canvas_json, ts(now)],
    )?;
    conn.execute("UPDATE cc_campaigns SET modified_at = ?1 WHERE id = ?2", params![ts(now), id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Workspace;

    fn t(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn crud_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        let mut conn = ws.conn();
        let now = t("2026-03-01T10:00:00Z");

        let c = create(&conn, "  Spring sale ", CampaignKind::Orchestrated, now).unwrap();
        assert_eq!(c.name, "Spring sale");
        assert_eq!(c.status, CampaignStatus::Draft);
        assert_eq!(get(&conn, c.id).unwrap(), c);
        assert_eq!(find(&conn, "spring SALE").unwrap().id, c.id);
        assert_eq!(find(&conn, &c.id.to_string()).unwrap().id, c.id);

        let err = create(&conn, "SPRING SALE", CampaignKind::ApiTriggered, now).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert!(create(&conn, "   ", CampaignKind::ApiTriggered, now).is_err());
        assert!(create(&conn, "a\nb", CampaignKind::ApiTriggered, now).is_err());

        let later = t("2026-03-02T10:00:00Z");
        let renamed = rename(&conn, c.id, "Summer sale", later).unwrap();
        assert_eq!(renamed.name, "Summer sale");
        assert_eq!(renamed.modified_at, later);
        assert_eq!(renamed.created_at, now);

        conn.execute(
            "INSERT INTO cc_canvases (campaign_id, canvas_json, modified_at) VALUES (?1, '{\"version\":1}', ?2)",
            params![c.id, ts(now)],
        )
        .unwrap();
        let copy = duplicate(&mut conn, c.id, later).unwrap();
        assert_eq!(copy.name, "Summer sale (copy)");
        assert_eq!(copy.kind, CampaignKind::Orchestrated);
        assert_eq!(canvas_json(&conn, copy.id).unwrap().as_deref(), Some("{\"version\":1}"));
        let copy2 = duplicate(&mut conn, c.id, later).unwrap();
        assert_eq!(copy2.name, "Summer sale (copy 2)");

        assert_eq!(list(&conn).unwrap().len(), 3);
        delete(&conn, c.id).unwrap();
        assert!(matches!(get(&conn, c.id), Err(StoreError::NotFound { .. })));
        assert_eq!(canvas_json(&conn, c.id).unwrap(), None, "canvas deleted with its campaign");
        assert!(matches!(delete(&conn, c.id), Err(StoreError::NotFound { .. })));
        assert_eq!(list(&conn).unwrap().len(), 2);
    }

    #[test]
    fn insert_keeps_every_field() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        let conn = ws.conn();
        let c = Campaign {
            id: 0,
            name: "Password reset".into(),
            kind: CampaignKind::ApiTriggered,
            status: CampaignStatus::Live,
            starts_at: Some(t("2026-01-01T00:00:00Z")),
            ends_at: Some(t("2027-01-01T00:00:00Z")),
            published_at: Some(t("2026-01-02T00:00:00Z")),
            created_at: t("2025-12-01T00:00:00Z"),
            modified_at: t("2025-12-02T00:00:00Z"),
            last_run: None,
        };
        let id = insert(&conn, &c).unwrap();
        assert_eq!(get(&conn, id).unwrap(), Campaign { id, ..c });
    }
}
