//! Technical workflows as the workspace keeps them: started or not, their schedule, their last
//! launch (claimed with a compare-and-set, so that two processes never launch one twice).

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError, parse_ts, ts};
use crate::model::workflow::TechnicalWorkflow;

/// The workflow `key`, as it was last saved; as it is before any change when it never was.
pub fn get(conn: &Connection, key: &str) -> Result<TechnicalWorkflow> {
    let row = conn
        .query_row(
            "SELECT started, schedule_json, timezone, started_at, last_launch_at
               FROM cc_technical_workflows WHERE key = ?1",
            [key],
            |r| {
                Ok((
                    r.get::<_, bool>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((started, schedule, timezone, started_at, last_launch_at)) = row else {
        return Ok(TechnicalWorkflow::new(key));
    };
    let schedule = serde_json::from_str(&schedule)
        .map_err(|e| StoreError::Invalid(format!("the schedule of the technical workflow {key}: {e}")))?;
    Ok(TechnicalWorkflow {
        key: key.to_owned(),
        started,
        schedule,
        timezone,
        started_at: started_at.as_deref().map(parse_ts).transpose()?,
        last_launch_at: last_launch_at.as_deref().map(parse_ts).transpose()?,
    })
}

/// Keeps a workflow's state and schedule (its last launch is only moved by [`claim_launch`]).
pub fn save(conn: &Connection, w: &TechnicalWorkflow) -> Result<()> {
    let schedule = serde_json::to_string(&w.schedule)
        .map_err(|e| StoreError::Invalid(format!("the schedule of the technical workflow {}: {e}", w.key)))?;
    conn.execute(
        "INSERT INTO cc_technical_workflows (key, started, schedule_json, timezone, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (key) DO UPDATE SET started = excluded.started, schedule_json = excluded.schedule_json,
             timezone = excluded.timezone, started_at = excluded.started_at",
        params![w.key, w.started, schedule, w.timezone, w.started_at.map(ts)],
    )?;
    Ok(())
}

/// Claims the launch at `due` of workflow `key` whose last launch was `last`: false when
/// another process claimed one since.
pub fn claim_launch(conn: &Connection, key: &str, last: Option<jiff::Timestamp>, due: jiff::Timestamp) -> Result<bool> {
    let n = conn.execute(
        "UPDATE cc_technical_workflows SET last_launch_at = ?3
          WHERE key = ?1 AND last_launch_at IS ?2",
        params![key, last.map(ts), ts(due)],
    )?;
    Ok(n == 1)
}
