//! Visitors: the followers of X services, kept in the `visitors` entity of the data model (so
//! that a canvas can target them and the row browser can show them), written by the follower
//! synchronization page by page; and the runs of that synchronization, resumable where they
//! stopped.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError, parse_ts, ts};
use crate::model::{Column, ColumnType, Entity};

/// The entity (and table) visitors are kept in.
pub const ENTITY: &str = crate::model::VISITORS;

/// The columns a search of the visitors looks at, by prefix through their index.
pub const SEARCHED: [&str; 2] = ["username", "full_name"];

/// The `visitors` entity as the synchronization writes it.
pub fn entity() -> Entity {
    let col = |name: &str, label: &str, t: ColumnType, description: &str| {
        let mut c = Column::new(name, label, t);
        c.description = description.to_owned();
        c
    };
    let id = col("id", "Id", ColumnType::Integer, "the visitor's number in this workspace");
    let mut key = col("visitor_key", "Key", ColumnType::Text, "the service and the account's id at X");
    key.hidden = true;
    let mut seen = col("seen_in_run", "Seen in run", ColumnType::Integer, "the synchronization run that last found it");
    seen.hidden = true;
    Entity {
        name: ENTITY.into(),
        label: "Visitors".into(),
        primary_key: "id".into(),
        columns: vec![
            id,
            key,
            col("origin", "Origin", ColumnType::Text, "where the visitor comes from (TWITTER)"),
            col("external_id", "External id", ColumnType::Text, "the account's id at X"),
            col("username", "Username", ColumnType::Text, "the X handle, without @"),
            col("full_name", "Full name", ColumnType::Text, ""),
            col("followers", "Followers", ColumnType::Integer, "how many follow this visitor"),
            col("verified", "Verified", ColumnType::Boolean, "X shows the account as verified"),
            col("description", "Description", ColumnType::Text, "the account's bio"),
            col("avatar_url", "Avatar URL", ColumnType::Text, ""),
            col("location", "Location", ColumnType::Text, "as the account gives it"),
            col("service", "Service", ColumnType::Text, "the X service it follows"),
            col("folder", "Folder", ColumnType::Text, "the service's visitor folder"),
            col("first_seen", "First seen", ColumnType::Timestamp, "the first synchronization that found it"),
            col("last_seen", "Last seen", ColumnType::Timestamp, "the last synchronization that found it"),
            col(
                "following",
                "Still following",
                ColumnType::Boolean,
                "it followed the service at the last synchronization",
            ),
            seen,
            col(
                "profile_id",
                "Profile",
                ColumnType::Integer,
                "the profile whose X handle (identity x_handle) this visitor's username is",
            ),
        ],
    }
}

/// The `visitors` table's indexes: the key the synchronization writes by, the counts by service, the search by
/// username or full name, the sort by followers. (Made again if missing: a workspace of an
/// earlier version gets the ones it lacks.)
const INDEXES: &str = "CREATE UNIQUE INDEX IF NOT EXISTS visitors_key ON visitors(visitor_key);
     CREATE INDEX IF NOT EXISTS visitors_service ON visitors(service, following);
     CREATE INDEX IF NOT EXISTS visitors_username ON visitors(username COLLATE NOCASE);
     CREATE INDEX IF NOT EXISTS visitors_full_name ON visitors(full_name COLLATE NOCASE);
     CREATE INDEX IF NOT EXISTS visitors_followers ON visitors(followers);
     CREATE INDEX IF NOT EXISTS visitors_profile ON visitors(profile_id);";

/// The identity namespace a visitor's username is matched with, on the profiles.
pub const HANDLE_NAMESPACE: &str = "x_handle";

/// Makes the `visitors` entity, its table and indexes when the workspace does not have them
/// yet (or the columns an earlier version did not have), and, when the profiles have an
/// `x_handle` identity, the link from a visitor to its profile
/// (`visitors.profile_id`), so that a canvas goes from visitors to their profiles and back.
pub fn ensure_entity(conn: &Connection) -> Result<()> {
    let mut model = super::data_model::load(conn)?;
    let mut changed = false;
    let mut create = None;
    let mut added = Vec::new();
    match model.entities.iter_mut().find(|e| e.name == ENTITY) {
        None => {
            let e = entity();
            create = Some(super::data_model::create_table_sql(&e)?);
            model.entities.push(e);
            changed = true;
        }
        // A workspace of an earlier version: the columns it lacks.
        Some(have) => {
            let missing: Vec<_> = entity().columns.into_iter().filter(|c| have.column(&c.name).is_none()).collect();
            for c in missing {
                added.push(format!(
                    "ALTER TABLE visitors ADD COLUMN {} {}",
                    super::quote_ident(&c.name)?,
                    c.column_type.sqlite_type()
                ));
                have.columns.push(c);
                changed = true;
            }
        }
    }
    let handles = model.identity_namespaces.iter().find(|n| n.name == HANDLE_NAMESPACE).cloned();
    if let Some(ns) = &handles
        && !model.links.iter().any(|l| l.child == ENTITY && l.foreign_key == "profile_id")
    {
        model.links.push(crate::model::Link {
            name: "profile".into(),
            child: ENTITY.into(),
            foreign_key: "profile_id".into(),
            parent: ns.entity.clone(),
        });
        changed = true;
    }
    super::in_savepoint(conn, "visitors_entity", || {
        if let Some(create) = &create {
            conn.execute_batch(create)?;
        }
        for sql in &added {
            conn.execute_batch(sql)?;
        }
        if changed {
            super::data_model::save(conn, &model)?;
        }
        // Both cores sort an index made again on a million rows (twice as fast).
        conn.execute_batch("PRAGMA threads = 2")?;
        conn.execute_batch(INDEXES)?;
        if let Some(ns) = &handles {
            conn.execute_batch(&format!(
                "CREATE INDEX IF NOT EXISTS {} ON {} ({} COLLATE NOCASE)",
                super::quote_ident(&format!("cc_{}_{}_nocase", ns.entity, ns.column))?,
                super::quote_ident(&ns.entity)?,
                super::quote_ident(&ns.column)?
            ))?;
        }
        Ok(())
    })
}

/// Sets aside the indexes only the search, the sort, the link to profiles and the counts by
/// service read (the synchronization's own, on the key, stays); [`ensure_entity`] makes them
/// again.
pub fn drop_search_indexes(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "DROP INDEX IF EXISTS visitors_username; DROP INDEX IF EXISTS visitors_full_name;
         DROP INDEX IF EXISTS visitors_followers; DROP INDEX IF EXISTS visitors_profile;
         DROP INDEX IF EXISTS visitors_service;",
    )?;
    Ok(())
}

/// Sets up the synchronization's connection for a large one: checkpoints of 64 MB rather
/// than 4 MB (the write-ahead log is folded into the database less often).
pub fn bulk_writes(conn: &Connection) -> Result<()> {
    conn.execute_batch("PRAGMA wal_autocheckpoint = 16384")?;
    Ok(())
}

/// Links every visitor to the profile whose X handle its username is (any case; the first
/// such profile by key), or to none; returns how many are linked. Nothing without an
/// `x_handle` identity.
pub fn link_profiles(conn: &Connection) -> Result<u64> {
    let model = super::data_model::load(conn)?;
    let Some(ns) = model.identity_namespaces.iter().find(|n| n.name == HANDLE_NAMESPACE) else {
        return Ok(0);
    };
    let Some(profiles) = model.entity(&ns.entity) else { return Ok(0) };
    let (table, key, handle) =
        (super::quote_ident(&ns.entity)?, super::quote_ident(&profiles.primary_key)?, super::quote_ident(&ns.column)?);
    conn.execute(
        &format!(
            "UPDATE visitors SET profile_id = (SELECT p.{key} FROM {table} AS p
                 WHERE p.{handle} = visitors.username COLLATE NOCASE ORDER BY p.{key} LIMIT 1)"
        ),
        [],
    )?;
    let linked: i64 = conn.query_row("SELECT COUNT(*) FROM visitors WHERE profile_id IS NOT NULL", [], |r| r.get(0))?;
    Ok(linked.max(0) as u64)
}

/// A follower as X describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Follower {
    pub external_id: String,
    pub username: String,
    pub full_name: String,
    pub followers: u64,
    pub verified: bool,
    pub description: String,
    pub avatar_url: String,
    pub location: String,
}

/// Where a page of followers goes: the service (id and label) and its folder.
#[derive(Clone, Copy, Debug)]
pub struct Destination<'a> {
    pub service_id: i64,
    pub service: &'a str,
    pub folder: &'a str,
}

/// Writes a page of followers (new ones first seen now, known ones updated, all following and
/// seen now) and moves run `run` past it (its next page's token), in one transaction: a page
/// is written with its progress, or not at all.
pub fn keep_page(
    conn: &Connection,
    run: i64,
    to: Destination<'_>,
    page: &[Follower],
    next_token: Option<&str>,
    now: jiff::Timestamp,
) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO visitors (visitor_key, origin, external_id, username, full_name, followers, verified,
                                   description, avatar_url, location, service, folder, first_seen, last_seen, following,
                                   seen_in_run)
             VALUES (?1, 'TWITTER', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, 1, ?13)
             ON CONFLICT (visitor_key) DO UPDATE SET
                 username = excluded.username, full_name = excluded.full_name, followers = excluded.followers,
                 verified = excluded.verified, description = excluded.description, avatar_url = excluded.avatar_url,
                 location = excluded.location, service = excluded.service, folder = excluded.folder,
                 last_seen = excluded.last_seen, following = 1, seen_in_run = excluded.seen_in_run",
        )?;
        // A Timestamp column holds RFC 3339 in UTC, to the second.
        let at = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        for f in page {
            upsert.execute(params![
                format!("{}:{}", to.service_id, f.external_id),
                f.external_id,
                f.username,
                f.full_name,
                i64::try_from(f.followers).unwrap_or(i64::MAX),
                f.verified,
                f.description,
                f.avatar_url,
                f.location,
                to.service,
                to.folder,
                at,
                run,
            ])?;
        }
    }
    tx.execute(
        "UPDATE cc_sync_runs SET next_token = ?2, pages = pages + 1, visitors = visitors + ?3 WHERE id = ?1",
        params![run, next_token, page.len() as i64],
    )?;
    tx.commit()?;
    Ok(())
}

/// Marks the visitors of service `service_id` that run `run` did not find as no longer
/// following (they are kept); returns how many.
pub fn mark_unfollowed(conn: &Connection, service_id: i64, run: i64) -> Result<u64> {
    let n = conn.execute(
        "UPDATE visitors SET following = 0
          WHERE visitor_key LIKE ?1 || ':%' AND following = 1 AND (seen_in_run IS NULL OR seen_in_run <> ?2)",
        params![service_id.to_string(), run],
    )?;
    Ok(n as u64)
}

/// A run of the synchronization of one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRun {
    pub id: i64,
    pub service_id: i64,
    pub started_at: jiff::Timestamp,
    pub status: String,
    /// The token of the next page to fetch (`None`: the first page, or none left).
    pub next_token: Option<String>,
    pub pages: u64,
    pub visitors: u64,
    pub unfollowed: u64,
    pub finished_at: Option<jiff::Timestamp>,
    pub outcome: String,
}

/// The unfinished run of service `service_id` (a crash, a Cancel or a wait stopped it), to
/// carry on; else a new one started at `now`.
pub fn open_run(conn: &Connection, service_id: i64, now: jiff::Timestamp) -> Result<SyncRun> {
    let unfinished: Option<i64> = conn
        .query_row(
            "SELECT id FROM cc_sync_runs WHERE service_id = ?1 AND status IN ('running', 'cancelled')
              ORDER BY id DESC LIMIT 1",
            [service_id],
            |r| r.get(0),
        )
        .optional()?;
    let id = match unfinished {
        Some(id) => {
            conn.execute("UPDATE cc_sync_runs SET status = 'running' WHERE id = ?1", [id])?;
            id
        }
        None => {
            conn.execute(
                "INSERT INTO cc_sync_runs (service_id, started_at, status) VALUES (?1, ?2, 'running')",
                params![service_id, ts(now)],
            )?;
            conn.last_insert_rowid()
        }
    };
    runs(conn, Some(service_id), 1)?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| StoreError::NotFound { what: format!("synchronization run {id}") })
}

/// Ends run `run` with `status` (`done`, `failed`, `cancelled`) and what came of it.
pub fn end_run(
    conn: &Connection,
    run: i64,
    status: &str,
    unfollowed: u64,
    outcome: &str,
    now: jiff::Timestamp,
) -> Result<()> {
    conn.execute(
        "UPDATE cc_sync_runs SET status = ?2, unfollowed = ?3, outcome = ?4, finished_at = ?5 WHERE id = ?1",
        params![run, status, unfollowed as i64, outcome, ts(now)],
    )?;
    Ok(())
}

/// The newest runs (of one service when given), at most `limit`.
pub fn runs(conn: &Connection, service_id: Option<i64>, limit: usize) -> Result<Vec<SyncRun>> {
    let mut stmt = conn.prepare(
        "SELECT id, service_id, started_at, status, next_token, pages, visitors, unfollowed, finished_at, outcome
           FROM cc_sync_runs WHERE ?1 IS NULL OR service_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![service_id, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, String>(9)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, service_id, started, status, next_token, pages, visitors, unfollowed, finished, outcome)| {
            Ok(SyncRun {
                id,
                service_id,
                started_at: parse_ts(&started)?,
                status,
                next_token,
                pages: pages.max(0) as u64,
                visitors: visitors.max(0) as u64,
                unfollowed: unfollowed.max(0) as u64,
                finished_at: finished.as_deref().map(parse_ts).transpose()?,
                outcome,
            })
        })
        .collect()
}

/// How many visitors (of a service, in a folder, still following when asked).
pub fn count(conn: &Connection, service: Option<&str>, folder: Option<&str>, following: Option<bool>) -> Result<u64> {
    if super::data_model::load(conn)?.entity(ENTITY).is_none() {
        return Ok(0);
    }
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM visitors
          WHERE (?1 IS NULL OR service = ?1 COLLATE NOCASE) AND (?2 IS NULL OR folder = ?2 COLLATE NOCASE)
            AND (?3 IS NULL OR following = ?3)",
        params![service, folder, following],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}
