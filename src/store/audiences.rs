//! Saved audiences: named sets of keys of one entity, written by a campaign's Save audience
//! activity and read by Read audience.

use rusqlite::{Connection, OptionalExtension, Row, params};
use sea_query::{Alias, Expr, ExprTrait, Query, SqliteQueryBuilder};

use super::{Result, StoreError, parse_ts, ts};
use crate::model::SavedAudience;

const COLUMNS: &str = "id, name, dimension, row_count, campaign_id, version, created_at, modified_at";

/// The longest audience name accepted.
pub const MAX_NAME_LEN: usize = 200;

fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<SavedAudience>> {
    let (created, modified): (String, String) = (row.get(6)?, row.get(7)?);
    let count: i64 = row.get(3)?;
    let a = (row.get(0)?, row.get(1)?, row.get(2)?, row.get(4)?, row.get(5)?);
    Ok((|| {
        let (id, name, dimension, campaign_id, version) = a;
        Ok(SavedAudience {
            id,
            name,
            dimension,
            row_count: u64::try_from(count).unwrap_or(0),
            campaign_id,
            version,
            created_at: parse_ts(&created)?,
            modified_at: parse_ts(&modified)?,
        })
    })())
}

/// Every saved audience, by name.
pub fn list(conn: &Connection) -> Result<Vec<SavedAudience>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM cc_audiences ORDER BY name COLLATE NOCASE"))?;
    let rows = stmt.query_map([], from_row)?;
    rows.map(|r| r?).collect()
}

/// The audience called `name` (any case).
pub fn find(conn: &Connection, name: &str) -> Result<Option<SavedAudience>> {
    let found = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM cc_audiences WHERE name = ?1 COLLATE NOCASE"),
            [name.trim()],
            from_row,
        )
        .optional()?;
    found.transpose()
}

/// Creates the audience `name` of `dimension`, or replaces its members, with the keys of the
/// work table `table` (which must be visible to `conn`), all at once: a failure leaves the
/// previous members in place. Returns the saved audience.
pub fn replace_from_table(
    conn: &Connection,
    name: &str,
    dimension: &str,
    table: &str,
    campaign_id: Option<i64>,
    now: jiff::Timestamp,
) -> Result<SavedAudience> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid("An audience needs a name.".into()));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(StoreError::Invalid(format!("An audience name can have at most {MAX_NAME_LEN} characters.")));
    }
    let sp = conn.unchecked_transaction()?;
    let existing = find(&sp, name)?;
    if let Some(a) = &existing
        && a.dimension != dimension
    {
        return Err(StoreError::Invalid(format!(
            "The audience \u{201c}{}\u{201d} holds {}, not {dimension}: give this one another name.",
            a.name, a.dimension
        )));
    }
    let id = match &existing {
        Some(a) => {
            sp.execute("DELETE FROM cc_audience_members WHERE audience_id = ?1", [a.id])?;
            a.id
        }
        None => {
            sp.execute(
                "INSERT INTO cc_audiences (name, dimension, row_count, campaign_id, version, created_at, modified_at)
                 VALUES (?1, ?2, 0, ?3, 0, ?4, ?4)",
                params![name, dimension, campaign_id, ts(now)],
            )?;
            sp.last_insert_rowid()
        }
    };
    // The work table's name is the engine's own (wt_…), quoted all the same.
    let copy = Query::insert()
        .into_table(Alias::new("cc_audience_members"))
        .columns([Alias::new("audience_id"), Alias::new("key")])
        .select_from(
            Query::select()
                .expr(Expr::val(id))
                .column(Alias::new("key"))
                .from(Alias::new(table))
                .and_where(Expr::col(Alias::new("key")).is_not_null())
                .to_owned(),
        )
        .map_err(|e| StoreError::Invalid(format!("internal error while saving the audience: {e}")))?
        .to_string(SqliteQueryBuilder);
    let rows = sp.execute(&copy, [])?;
    sp.execute(
        "UPDATE cc_audiences SET row_count = ?2, campaign_id = COALESCE(?3, campaign_id), version = version + 1,
         modified_at = ?4 WHERE id = ?1",
        params![id, rows as i64, campaign_id, ts(now)],
    )?;
    super::audit::record(&sp, now, "campaign", "save audience", name, &format!("{rows} {dimension}"))?;
    let saved = find(&sp, name)?.ok_or_else(|| StoreError::NotFound { what: format!("the audience {name}") })?;
    sp.commit()?;
    Ok(saved)
}

/// Deletes the audience called `name`; false when there is none.
pub fn delete(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM cc_audiences WHERE name = ?1 COLLATE NOCASE", [name.trim()])? > 0)
}
