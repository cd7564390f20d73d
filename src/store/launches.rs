//! What the scheduler needs from the workspace: a lease so that one process launches at a
//! time, each campaign's last launch (claimed with a compare-and-set, so that a launch happens
//! once even if two processes see it due), and the record of every run.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError, parse_opt_ts, parse_ts, ts};
use crate::model::CampaignStatus;

/// The lease the scheduler holds while it launches.
pub const SCHEDULER_LEASE: &str = "scheduler";

/// Takes (or renews) the lease `name` for `holder` until `until`, unless another holder has it
/// and it has not expired at `now`. Returns whether `holder` has it now.
pub fn acquire_lease(
    conn: &Connection,
    name: &str,
    holder: &str,
    now: jiff::Timestamp,
    until: jiff::Timestamp,
) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO cc_leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE cc_leases.holder = excluded.holder OR cc_leases.expires_at <= ?4",
        params![name, holder, until.as_second(), now.as_second()],
    )?;
    Ok(n == 1)
}

/// Who holds the lease `name` now, if anyone does.
pub fn lease_holder(conn: &Connection, name: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT holder FROM cc_leases WHERE name = ?1", [name], |r| r.get(0)).optional()?)
}

/// Takes the lease `name` from `from` (a holder known to be gone) for `holder` until `until`;
/// whether it was taken (not when someone else took it meanwhile).
pub fn take_lease(conn: &Connection, name: &str, from: &str, holder: &str, until: jiff::Timestamp) -> Result<bool> {
    let n = conn.execute(
        "UPDATE cc_leases SET holder = ?3, expires_at = ?4 WHERE name = ?1 AND holder = ?2",
        params![name, from, holder, until.as_second()],
    )?;
    Ok(n == 1)
}

/// Gives the lease up (when `holder` has it).
pub fn release_lease(conn: &Connection, name: &str, holder: &str) -> Result<()> {
    conn.execute("DELETE FROM cc_leases WHERE name = ?1 AND holder = ?2", params![name, holder])?;
    Ok(())
}

/// A campaign's launch state.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchState {
    pub status: CampaignStatus,
    pub published_at: Option<jiff::Timestamp>,
    /// The scheduled time of the last launch handled.
    pub last_launch_at: Option<jiff::Timestamp>,
}

pub fn launch_state(conn: &Connection, campaign: i64) -> Result<LaunchState> {
    let row: Option<(String, Option<String>, Option<String>)> = conn
        .query_row("SELECT status, published_at, last_launch_at FROM cc_campaigns WHERE id = ?1", [campaign], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let (status, published, last) = row.ok_or_else(|| StoreError::NotFound { what: format!("Campaign {campaign}") })?;
    Ok(LaunchState {
        status: CampaignStatus::parse(&status).ok_or_else(|| StoreError::Damaged(format!("status {status:?}")))?,
        published_at: parse_opt_ts(published)?,
        last_launch_at: parse_opt_ts(last)?,
    })
}

/// Sets a campaign's status; `published` also sets when it was published and forgets its last
/// launch (launches count from then on).
pub fn set_status(
    conn: &Connection,
    campaign: i64,
    status: CampaignStatus,
    published: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
) -> Result<()> {
    let n = match published {
        Some(at) => conn.execute(
            "UPDATE cc_campaigns SET status = ?2, published_at = ?3, last_launch_at = NULL, modified_at = ?4
             WHERE id = ?1",
            params![campaign, status.as_str(), ts(at), ts(now)],
        )?,
        None => conn.execute(
            "UPDATE cc_campaigns SET status = ?2, modified_at = ?3 WHERE id = ?1",
            params![campaign, status.as_str(), ts(now)],
        )?,
    };
    if n == 0 {
        return Err(StoreError::NotFound { what: format!("Campaign {campaign}") });
    }
    Ok(())
}

/// Marks the launch scheduled at `due` as taken by this process, if the campaign's last launch
/// is still `previous` and it is still live: only one process can win it.
pub fn claim_launch(
    conn: &Connection,
    campaign: i64,
    previous: Option<jiff::Timestamp>,
    due: jiff::Timestamp,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE cc_campaigns SET last_launch_at = ?3
         WHERE id = ?1 AND last_launch_at IS ?2 AND status = 'live'",
        params![campaign, previous.map(ts), ts(due)],
    )?;
    Ok(n == 1)
}

/// How a run of a campaign came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunTrigger {
    /// Start on the canvas, or `campaign-console run`.
    Manual,
    /// A Scheduler's launch.
    Scheduled,
}

impl RunTrigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Scheduled => "scheduled",
        }
    }
}

/// One run of a campaign, as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub id: i64,
    pub campaign_id: i64,
    pub trigger: RunTrigger,
    /// For a scheduled run, the launch time it was for.
    pub scheduled_for: Option<jiff::Timestamp>,
    /// Launch times that were missed and caught up by this one run.
    pub missed: u32,
    pub started_at: jiff::Timestamp,
    pub finished_at: Option<jiff::Timestamp>,
    /// What came of it, in a sentence ("4,210 sent, 12 failed"), once finished.
    pub outcome: Option<String>,
    /// It failed (the outcome says why).
    pub failed: bool,
}

pub fn start_run(
    conn: &Connection,
    campaign: i64,
    trigger: RunTrigger,
    scheduled_for: Option<jiff::Timestamp>,
    missed: u32,
    now: jiff::Timestamp,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO cc_campaign_runs (campaign_id, trigger, scheduled_for, missed, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![campaign, trigger.as_str(), scheduled_for.map(ts), missed, ts(now)],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn finish_run(conn: &Connection, run: i64, outcome: &str, failed: bool, now: jiff::Timestamp) -> Result<()> {
    conn.execute(
        "UPDATE cc_campaign_runs SET finished_at = ?2, outcome = ?3, failed = ?4 WHERE id = ?1",
        params![run, ts(now), outcome, failed],
    )?;
    Ok(())
}

/// The runs of a campaign (all campaigns with `None`), newest first.
pub fn runs(conn: &Connection, campaign: Option<i64>) -> Result<Vec<RunRecord>> {
    let mut stmt = conn.prepare(
        "SELECT id, campaign_id, trigger, scheduled_for, missed, started_at, finished_at, outcome, failed
         FROM cc_campaign_runs WHERE ?1 IS NULL OR campaign_id = ?1 ORDER BY id DESC",
    )?;
    let rows = stmt.query_map([campaign], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, u32>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, bool>(8)?,
        ))
    })?;
    rows.map(|r| {
        let (id, campaign_id, trigger, scheduled, missed, started, finished, outcome, failed) = r?;
        Ok(RunRecord {
            id,
            campaign_id,
            trigger: if trigger == "scheduled" { RunTrigger::Scheduled } else { RunTrigger::Manual },
            scheduled_for: parse_opt_ts(scheduled)?,
            missed,
            started_at: parse_ts(&started)?,
            finished_at: parse_opt_ts(finished)?,
            outcome,
            failed,
        })
    })
    .collect()
}
