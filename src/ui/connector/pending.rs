//! The connector's pending sends: how many wait, were fired or cancelled (by reason), and the
//! latest of them (profile, trigger event, due time, state, the reason of a cancelled one).

use super::super::{Commands, theme};
use crate::console::{ConnectorCommand, ConnectorPage, PENDING_SHOWN};
use crate::model::connector::PendingState;

pub(super) fn pending_ui(ui: &mut egui::Ui, page: &ConnectorPage, commands: &mut Commands) {
    let c = &page.counts;
    ui.horizontal(|ui| {
        ui.strong("Pending sends");
        if ui.small_button("Refresh").clicked() {
            commands.push(ConnectorCommand::Open { campaign_id: page.campaign.id });
        }
    });
    ui.label(format!(
        "{} waiting \u{b7} {} fired \u{b7} {} cancelled",
        theme::count(c.waiting),
        theme::count(c.fired),
        theme::count(c.cancelled_total())
    ));
    for (reason, n) in &c.cancelled {
        ui.label(egui::RichText::new(format!("    {} {reason}", theme::count(*n))).color(theme::muted(ui)));
    }
    if page.pending.is_empty() {
        ui.label(
            egui::RichText::new(
                "None yet: they appear as profiles interact with the source campaign once this is live.",
            )
            .color(theme::muted(ui)),
        );
        return;
    }
    if page.pending.len() >= PENDING_SHOWN {
        ui.label(
            egui::RichText::new(format!(
                "The first {PENDING_SHOWN}, waiting ones first (`campaign-console pending` lists them all)."
            ))
            .small()
            .color(theme::muted(ui)),
        );
    }
    egui::Grid::new("pending_sends").num_columns(6).striped(true).spacing([16.0, 4.0]).show(ui, |ui| {
        for h in ["Profile", "Trigger", "Happened", "Due", "State", "Reason"] {
            ui.label(egui::RichText::new(h).color(theme::muted(ui)));
        }
        ui.end_row();
        for p in &page.pending {
            ui.label(&p.profile);
            ui.label(&p.trigger);
            ui.label(theme::when(p.trigger_at));
            ui.label(p.due_at.map_or_else(|| "working it out".to_owned(), theme::when));
            let state = match p.state {
                PendingState::Waiting => egui::RichText::new("waiting"),
                PendingState::Fired => egui::RichText::new("fired").color(theme::ok(ui)),
                PendingState::Cancelled => egui::RichText::new("cancelled").color(theme::muted(ui)),
            };
            ui.label(state);
            ui.label(p.reason.as_deref().unwrap_or(""));
            ui.end_row();
        }
    });
}
