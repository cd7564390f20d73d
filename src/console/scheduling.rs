//! A campaign's life: runs (each recorded, with what came of it), publishing a campaign whose
//! canvas starts with a Scheduler, pausing and stopping it, and the scheduler that launches
//! every live campaign at its Scheduler's times: in the window, and headless in
//! `campaign-console scheduler`. A lease in the workspace lets one process launch at a time, and
//! each launch is claimed with a compare-and-set, so two processes never launch it twice. A
//! launch missed while nothing ran is run once, not once per missed time.

use super::{Console, ConsoleError, RunSummary};
use crate::model::{ActivityKind, Campaign, CampaignStatus, Canvas};
use crate::schedule::{Plan, SchedulerParams};
use crate::store::{self, launches};

/// How long the scheduler's lease lasts unless renewed (a process that dies lets another take
/// over after this).
const LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);

/// What one scheduled launch did.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchReport {
    pub campaign: String,
    /// The launch time it was for (the latest, when several were missed).
    pub scheduled_for: jiff::Timestamp,
    /// Launch times missed before it, caught up by this one run.
    pub missed: u32,
    /// What came of it ("4,210 sent, 12 failed"), or why it did not run.
    pub outcome: String,
    pub failed: bool,
}

/// What a user can do to a scheduled campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifeAction {
    /// Goes live: launches at its Scheduler's times from now on.
    Publish,
    /// No launch until resumed (missed ones are skipped).
    Pause,
    Resume,
    /// No more launches.
    Stop,
}

impl LifeAction {
    /// What the user is told when it could not be done.
    pub fn failure(self) -> &'static str {
        match self {
            Self::Publish => "Could not publish the campaign",
            Self::Pause => "Could not pause the campaign",
            Self::Resume => "Could not resume the campaign",
            Self::Stop => "Could not stop the campaign",
        }
    }
}

/// The launch plan of a canvas's Scheduler, if it has one.
pub fn scheduler_plan(canvas: &Canvas) -> Option<Result<Plan, crate::schedule::InvalidSchedule>> {
    canvas.activities.iter().find_map(|a| match &a.kind {
        ActivityKind::Scheduler { schedule, valid_from, valid_until, timezone } => Some(
            Plan::new(SchedulerParams {
                schedule,
                valid_from: valid_from.as_deref(),
                valid_until: valid_until.as_deref(),
                timezone: timezone.as_deref(),
            })
            .map_err(crate::schedule::InvalidSchedule),
        ),
        _ => None,
    })
}

impl Console {
    /// Runs an orchestrated campaign: counts its canvas, saves its audiences and control groups,
    /// writes the ledger of each channel activity (before anything is sent), then sends. When an
    /// earlier run left deliveries unfinished (stopped, crashed), those are carried on instead:
    /// rows left in `sending` are looked up at the provider, and nothing is sent twice. A
    /// campaign that already ran runs again only with `again`. The run is recorded with what
    /// came of it; a one-shot campaign whose run finished is then Completed.
    pub fn run_campaign(
        &self,
        name_or_id: &str,
        again: bool,
        rate_override: Option<f64>,
        progress: &mut dyn FnMut(&Campaign, &crate::delivery::Progress),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<RunSummary, ConsoleError> {
        let campaign = self.campaign(name_or_id)?;
        // One process sends a campaign at a time; a refusal is no run.
        let _lease = self.sending_lease(&campaign)?;
        self.refuse_rerun(&campaign, again)?;
        let run = launches::start_run(
            &self.workspace.conn(),
            campaign.id,
            launches::RunTrigger::Manual,
            None,
            0,
            self.now(),
        )?;
        self.recorded(run, campaign, rate_override, progress, cancelled)
    }

    /// Runs `campaign` as run `run`, and records what came of it.
    fn recorded(
        &self,
        run: i64,
        campaign: Campaign,
        rate_override: Option<f64>,
        progress: &mut dyn FnMut(&Campaign, &crate::delivery::Progress),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<RunSummary, ConsoleError> {
        let id = campaign.id;
        let result = self.run_deliveries(campaign, rate_override, progress, cancelled);
        let record = || -> Result<(), ConsoleError> {
            let conn = self.workspace.conn();
            match &result {
                Ok(summary) => {
                    let finished = summary.finished();
                    let outcome = if finished {
                        summary.outcome()
                    } else {
                        format!("stopped before the end: {}", summary.outcome())
                    };
                    launches::finish_run(&conn, run, &outcome, false, self.now())?;
                    // A one-shot campaign is done once its run finished; a published one stays live.
                    let state = launches::launch_state(&conn, id)?;
                    if finished && state.status != CampaignStatus::Live {
                        launches::set_status(&conn, id, CampaignStatus::Completed, None, self.now())?;
                    }
                }
                Err(e) => launches::finish_run(&conn, run, &e.to_string(), true, self.now())?,
            }
            Ok(())
        };
        // What the run did is the answer; a record that could not be written is only logged.
        if let Err(e) = record() {
            tracing::warn!("run {run} of campaign {id} could not be recorded: {e:#}");
        }
        result
    }

    /// The recorded runs of a campaign (of all campaigns with `None`), newest first.
    pub fn campaign_runs(&self, campaign: Option<i64>) -> Result<Vec<launches::RunRecord>, ConsoleError> {
        Ok(launches::runs(&self.workspace.conn(), campaign)?)
    }

    /// Publishes, pauses, resumes or stops a campaign whose canvas has a Scheduler.
    pub fn change_life(&self, campaign_id: i64, action: LifeAction) -> Result<Campaign, ConsoleError> {
        let campaign = store::campaigns::get(&self.workspace.conn(), campaign_id)?;
        let canvas = self.canvas(&campaign)?;
        let now = self.now();
        let (status, published) = match action {
            LifeAction::Publish | LifeAction::Resume => {
                match scheduler_plan(&canvas) {
                    None => {
                        return Err(ConsoleError::CannotRun(format!(
                            "\u{201c}{}\u{201d} has no Scheduler: press Start to send it once, or add a Scheduler first",
                            campaign.name
                        )));
                    }
                    Some(Err(why)) => {
                        return Err(ConsoleError::CannotRun(format!("its Scheduler is not valid: {why}")));
                    }
                    Some(Ok(plan)) if plan.next_launches(now, 1).is_empty() => {
                        return Err(ConsoleError::CannotRun(
                            "its Scheduler has no launch left: change its times or its validity period".into(),
                        ));
                    }
                    Some(Ok(_)) => {}
                }
                // What would stop every launch is refused now, not at the first launch.
                let (model, options) = self.validation_options(crate::audience::Dialect::Sqlite, &canvas)?;
                crate::audience::compile_with(&canvas, &model, &options)?;
                if let Some(p) = crate::audience::message_problems(&canvas).into_iter().next() {
                    return Err(ConsoleError::CannotRun(p.to_string()));
                }
                // Launches count from now: those missed while it was paused are not caught up.
                (CampaignStatus::Live, Some(now))
            }
            LifeAction::Pause => (CampaignStatus::Paused, None),
            LifeAction::Stop => (CampaignStatus::Stopped, None),
        };
        let conn = self.workspace.conn();
        launches::set_status(&conn, campaign_id, status, published, now)?;
        let what = match action {
            LifeAction::Publish => "publish campaign",
            LifeAction::Pause => "pause campaign",
            LifeAction::Resume => "resume campaign",
            LifeAction::Stop => "stop campaign",
        };
        store::audit::record(&conn, now, "user", what, &campaign.name, "")?;
        Ok(store::campaigns::get(&conn, campaign_id)?)
    }

    /// Launches every live campaign that is due now, once each (the latest of its missed
    /// launches), if this process (`holder`) has the scheduler's lease. Returns what it did.
    pub fn launch_due(&self, holder: &str, cancelled: &dyn Fn() -> bool) -> Result<Vec<LaunchReport>, ConsoleError> {
        let now = self.now();
        let until = now.checked_add(LEASE).unwrap_or(now);
        if !launches::acquire_lease(&self.workspace.conn(), launches::SCHEDULER_LEASE, holder, now, until)?
            && !self.take_dead_lease(launches::SCHEDULER_LEASE, holder, until)?
        {
            return Ok(Vec::new());
        }
        let mut reports = Vec::new();
        let live = self.campaigns()?.into_iter().filter(|c| c.status == CampaignStatus::Live);
        for campaign in live {
            if cancelled() {
                break;
            }
            let Ok(canvas) = self.canvas(&campaign) else { continue };
            let plan = match scheduler_plan(&canvas) {
                Some(Ok(plan)) => plan,
                Some(Err(why)) => {
                    tracing::warn!("{}: its Scheduler is not valid: {why}", campaign.name);
                    continue;
                }
                None => continue,
            };
            let state = launches::launch_state(&self.workspace.conn(), campaign.id)?;
            let since = state.last_launch_at.or(state.published_at).unwrap_or(now);
            let (Some(due), count) = plan.due(since, now) else {
                if plan.next_launches(now, 1).is_empty() {
                    // Nothing left to launch: a published campaign with no future launch is done.
                    launches::set_status(&self.workspace.conn(), campaign.id, CampaignStatus::Completed, None, now)?;
                }
                continue;
            };
            // Another process sending it now (a run started by hand) keeps it: the launch stays
            // due and is caught up once that run is over.
            let Ok(_lease) = self.sending_lease(&campaign) else {
                continue;
            };
            // Another process may have taken this launch since the lease check.
            if !launches::claim_launch(&self.workspace.conn(), campaign.id, state.last_launch_at, due)? {
                continue;
            }
            let missed = count.saturating_sub(1);
            let run = launches::start_run(
                &self.workspace.conn(),
                campaign.id,
                launches::RunTrigger::Scheduled,
                Some(due),
                missed,
                now,
            )?;
            tracing::info!("launching {} (scheduled for {due}, {missed} missed launches caught up)", campaign.name);
            let name = campaign.name.clone();
            let result = self.recorded(run, campaign.clone(), None, &mut |_, _| {}, cancelled);
            let (outcome, failed) = match result {
                Ok(summary) => (summary.outcome(), false),
                Err(e) => (e.to_string(), true),
            };
            if plan.next_launches(self.now(), 1).is_empty() {
                launches::set_status(&self.workspace.conn(), campaign.id, CampaignStatus::Completed, None, self.now())?;
            }
            reports.push(LaunchReport { campaign: name, scheduled_for: due, missed, outcome, failed });
        }
        Ok(reports)
    }
}
