//! The scheduler: every [`SCHEDULER_TICK`] it launches the live campaigns that are due and
//! the started technical workflows that are due, and fires the connectors' due follow-ups, in the window and headless
//! (`campaign-console scheduler`, `serve`).

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{Console, ConsoleError, LaunchReport};

/// How often the scheduler looks for due launches.
pub const SCHEDULER_TICK: Duration = Duration::from_secs(30);

impl Console {
    /// Launches what is due now: the live campaigns (when this process, `holder`, has the
    /// scheduler's lease) and the started technical workflows. What it did.
    pub fn launch_all_due(
        &self,
        holder: &str,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Vec<LaunchReport>, ConsoleError> {
        let mut reports = self.launch_due(holder, cancelled)?;
        if !cancelled() {
            reports.extend(self.launch_due_workflows()?);
        }
        if !cancelled() {
            reports.extend(self.fire_due_connectors(holder, cancelled)?);
        }
        Ok(reports)
    }

    /// Starts the scheduler in the background: every [`SCHEDULER_TICK`] it launches what is
    /// due, and tells the UI. It stops with the Console.
    pub fn start_scheduler(self: &Arc<Self>) {
        let weak: Weak<Self> = Arc::downgrade(self);
        let holder = format!("window-{}-{}", std::process::id(), uuid::Uuid::new_v4());
        let spawned = std::thread::Builder::new().name("cc-scheduler".into()).spawn(move || {
            loop {
                let Some(console) = weak.upgrade() else { return };
                match console.launch_all_due(&holder, &|| false) {
                    Ok(reports) if !reports.is_empty() => {
                        for r in &reports {
                            tracing::info!("launched {}: {}", r.campaign, r.outcome);
                        }
                        console.outbox.send(console.refreshed(super::Refresh::Campaigns));
                        if let Ok(overview) = console.x_overview() {
                            console.outbox.offer(super::Event::X(Ok(overview)));
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!("the scheduler could not launch: {e:#}"),
                }
                drop(console);
                std::thread::sleep(SCHEDULER_TICK);
            }
        });
        if let Err(e) = spawned {
            tracing::warn!("the scheduler could not start: {e}");
        }
    }
}
