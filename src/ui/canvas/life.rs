//! The toolbar's part for a campaign whose canvas starts with a Scheduler: Publish / Pause /
//! Resume / Stop, each saying what the status means for launches.

use crate::console::{LifeAction, RunCommand};
use crate::model::{ActivityKind, Campaign, CampaignStatus, Canvas};
use crate::ui::Commands;

/// Draws the actions that fit the campaign's status, when `canvas` has a Scheduler. `blocked` says
/// why it cannot be published now (problems, unsaved edits).
pub fn life_controls(
    ui: &mut egui::Ui,
    campaign: &Campaign,
    canvas: &Canvas,
    blocked: Option<&str>,
    commands: &mut Commands,
) {
    if !canvas.activities.iter().any(|a| matches!(a.kind, ActivityKind::Scheduler { .. })) {
        return;
    }
    ui.separator();
    // The status itself is in the title ("Orchestrated · Live").
    let status = campaign.status;
    let mut act = |ui: &mut egui::Ui, label: &str, tip: &str, action: LifeAction, enabled: bool| {
        let tip = format!("{} {tip}", about(status));
        let r = ui.add_enabled(enabled, egui::Button::new(label)).on_hover_text(&tip);
        let r = if enabled { r } else { r.on_disabled_hover_text(blocked.unwrap_or_default()) };
        if r.clicked() {
            commands.push(RunCommand::ChangeLife { campaign_id: campaign.id, action });
        }
    };
    match status {
        CampaignStatus::Live => {
            act(ui, "⏸ Pause", "No launch until you resume it.", LifeAction::Pause, true);
            act(ui, "⏹ Stop", "No more launches.", LifeAction::Stop, true);
        }
        CampaignStatus::Paused => {
            act(ui, "▶ Resume", "Launches again from now on.", LifeAction::Resume, blocked.is_none());
            act(ui, "⏹ Stop", "No more launches.", LifeAction::Stop, true);
        }
        CampaignStatus::Draft | CampaignStatus::Stopped | CampaignStatus::Completed => act(
            ui,
            "Publish",
            "Go live: the campaign launches at its Scheduler's times from now on.",
            LifeAction::Publish,
            blocked.is_none(),
        ),
    }
}

/// What the status means for launches.
fn about(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Live => {
            "Live: it launches at its Scheduler's times (in the window or in `campaign-console scheduler`)."
        }
        CampaignStatus::Paused => "Paused: no launch until it is resumed (launches missed meanwhile are skipped).",
        CampaignStatus::Stopped => "Stopped: it launches no more.",
        CampaignStatus::Completed => "Completed: its Scheduler has no launch left.",
        CampaignStatus::Draft => "Not published: its Scheduler launches nothing yet.",
    }
}
