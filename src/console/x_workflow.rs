//! The technical workflow "Synchronization of X accounts": stopped until a user starts it,
//! then launched by the scheduler at its schedule's times (weekly on Thursday at 07:30 unless
//! changed); Execute now runs it at once. Its runs are the synchronization's. A launch is
//! claimed with a compare-and-set, so two processes never launch it twice, and one missed
//! while nothing ran is run once.

use super::{Console, ConsoleError, JobEvent, LaunchReport};
use crate::model::Schedule;
use crate::model::workflow::{TechnicalWorkflow, X_SYNC};
use crate::schedule::{InvalidSchedule, Plan, SchedulerParams};
use crate::store;

/// A change to the workflow.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkflowChange {
    /// Launches at its schedule's times from now on.
    Start,
    /// No more launches until started again.
    Stop,
    /// Launches at these times (in `timezone`, the computer's when `None`).
    Schedule { schedule: Schedule, timezone: Option<String> },
}

/// The launch plan of a workflow's schedule.
pub fn workflow_plan(w: &TechnicalWorkflow) -> Result<Plan, InvalidSchedule> {
    Plan::new(SchedulerParams {
        schedule: &w.schedule,
        valid_from: None,
        valid_until: None,
        timezone: w.timezone.as_deref(),
    })
    .map_err(InvalidSchedule)
}

impl Console {
    /// The synchronization's technical workflow, as last saved.
    pub fn x_sync_workflow(&self) -> Result<TechnicalWorkflow, ConsoleError> {
        Ok(store::workflows::get(&self.workspace.conn(), X_SYNC)?)
    }

    /// Starts or stops the workflow, or changes its schedule (refused when the schedule
    /// cannot launch, with what is wrong).
    pub fn change_x_sync_workflow(&self, change: WorkflowChange) -> Result<TechnicalWorkflow, ConsoleError> {
        let conn = self.workspace.conn();
        let mut w = store::workflows::get(&conn, X_SYNC)?;
        let what = match change {
            WorkflowChange::Start => {
                workflow_plan(&w).map_err(|e| ConsoleError::Invalid(format!("its schedule cannot launch: {e}")))?;
                (w.started, w.started_at) = (true, Some(self.now()));
                "start technical workflow"
            }
            WorkflowChange::Stop => {
                w.started = false;
                "stop technical workflow"
            }
            WorkflowChange::Schedule { schedule, timezone } => {
                let mut changed = w.clone();
                (changed.schedule, changed.timezone) = (schedule, timezone.filter(|t| !t.trim().is_empty()));
                workflow_plan(&changed)
                    .map_err(|e| ConsoleError::Invalid(format!("the schedule cannot launch: {e}")))?;
                w = changed;
                "change technical workflow schedule"
            }
        };
        store::workflows::save(&conn, &w)?;
        store::audit::record(&conn, self.now(), "user", what, w.label(), "")?;
        Ok(w)
    }

    /// Runs the workflow when it is started and a launch of its schedule is due (the latest
    /// of those missed), as a job the status bar shows. What it did.
    pub fn launch_due_workflows(&self) -> Result<Vec<LaunchReport>, ConsoleError> {
        let now = self.now();
        let w = self.x_sync_workflow()?;
        if !w.started {
            return Ok(Vec::new());
        }
        let plan = match workflow_plan(&w) {
            Ok(plan) => plan,
            Err(why) => {
                tracing::warn!("{}: its schedule cannot launch: {why}", w.label());
                return Ok(Vec::new());
            }
        };
        let since = [w.last_launch_at, w.started_at].into_iter().flatten().max().unwrap_or(now);
        let (Some(due), count) = plan.due(since, now) else {
            return Ok(Vec::new());
        };
        if !store::workflows::claim_launch(&self.workspace.conn(), X_SYNC, w.last_launch_at, due)? {
            return Ok(Vec::new());
        }
        tracing::info!("launching {} (scheduled for {due})", w.label());
        let job = self.jobs.start();
        let id = job.id;
        self.outbox.offer(JobEvent::Started { id, label: format!("{} (scheduled)", w.label()) });
        let outcome = self.sync_as_job(job, None);
        // Offered, never waited for: headless, nobody reads the events.
        self.outbox.offer(JobEvent::Finished { id, outcome: outcome.clone() });
        let failed = outcome.is_err();
        let outcome = outcome.unwrap_or_else(|e| e.to_string());
        Ok(vec![LaunchReport {
            campaign: w.label().to_owned(),
            scheduled_for: due,
            missed: count.saturating_sub(1),
            outcome,
            failed,
        }])
    }
}
