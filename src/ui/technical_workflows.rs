//! The Technical workflows section of the Campaigns screen: "Synchronization of X accounts",
//! stopped until started, with its schedule (the Scheduler's form, in a dialog), its next
//! launch, **Execute pending task(s) now**, and its last runs with what came of them.

use egui::RichText;

use super::{Commands, theme};
use crate::console::{Event, UserError, WorkflowChange, XCommand, XOverview};
use crate::model::Schedule;

/// Runs listed under the workflow.
const RUNS_SHOWN: usize = 5;

#[derive(Default)]
pub struct TechnicalWorkflows {
    overview: Option<Result<XOverview, UserError>>,
    asked: bool,
    /// The schedule being edited (schedule, time zone), in a dialog.
    editing: Option<(Schedule, Option<String>)>,
}

impl TechnicalWorkflows {
    pub fn on_event(&mut self, event: &Event) {
        if let Event::X(o) = event {
            self.overview = Some(o.clone());
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands, now: jiff::Timestamp) {
        if !self.asked {
            self.asked = true;
            commands.push(XCommand::Overview);
        }
        ui.add_space(theme::SECTION_GAP);
        ui.label(RichText::new("Technical workflows").strong());
        let Some(o) = super::visitors::ready(ui, self.overview.as_ref()) else { return };
        let w = &o.workflow;
        let services = o.services.iter().filter(|s| s.4).count();
        egui::Grid::new("technical_workflows").num_columns(5).striped(true).spacing([14.0, 6.0]).show(ui, |ui| {
            for title in ["Name", "Status", "Schedule", "Next launch", ""] {
                ui.label(RichText::new(title).color(theme::muted(ui)));
            }
            ui.end_row();
            ui.label(w.label());
            if w.started {
                ui.colored_label(theme::ok(ui), "Started");
            } else {
                ui.label(RichText::new("Stopped").color(theme::muted(ui)));
            }
            let zone = w.timezone.clone().unwrap_or_else(|| "this computer's time".to_owned());
            ui.label(format!("{} ({zone})", crate::schedule::describe(&w.schedule)));
            match (&o.next_launch, w.started) {
                (Err(why), _) => ui.colored_label(theme::error(ui), why.to_string()),
                (Ok(_), false) => ui.label(RichText::new("none while stopped").color(theme::muted(ui))),
                (Ok(None), true) => ui.label("none left"),
                (Ok(Some(at)), true) => ui.label(theme::when(*at)),
            };
            ui.horizontal(|ui| {
                if w.started {
                    if ui.button("Stop").on_hover_text("No more scheduled launches until started again").clicked() {
                        commands.push(XCommand::Workflow(WorkflowChange::Stop));
                    }
                } else if ui
                    .button("Start")
                    .on_hover_text(
                        "Launches at its schedule's times from now on, in this window or `campaign-console scheduler`",
                    )
                    .clicked()
                {
                    commands.push(XCommand::Workflow(WorkflowChange::Start));
                }
                if ui.button("Schedule…").clicked() {
                    self.editing = Some((w.schedule.clone(), w.timezone.clone()));
                }
                let run = ui.add_enabled(services > 0, egui::Button::new("Execute pending task(s) now"));
                let run = if services > 0 {
                    run.on_hover_text("Synchronizes the followers now, whatever the schedule; a stopped run carries on")
                } else {
                    run.on_disabled_hover_text(
                        "No X service synchronizes its followers: add one in Channels, X (Twitter)",
                    )
                };
                if run.clicked() {
                    commands.push(XCommand::Sync { service: None });
                }
            });
            ui.end_row();
        });
        if !o.runs.is_empty() {
            ui.add_space(4.0);
            ui.label(RichText::new("Last runs").color(theme::muted(ui)));
            for r in o.runs.iter().take(RUNS_SHOWN) {
                let service = o.services.iter().find(|s| s.0 == r.service_id).map_or("(removed)", |s| s.1.as_str());
                let line = format!("{}  {service}: {}", theme::when(r.started_at), r.outcome);
                match r.status.as_str() {
                    "failed" => ui.colored_label(theme::error(ui), line),
                    "done" => ui.label(line),
                    _ => ui.colored_label(theme::warning(ui), line),
                };
            }
        }
        self.schedule_dialog(ui, commands, now);
    }

    fn schedule_dialog(&mut self, ui: &mut egui::Ui, commands: &mut Commands, now: jiff::Timestamp) {
        let Some((schedule, timezone)) = &mut self.editing else { return };
        let mut close = false;
        egui::Modal::new(egui::Id::new("workflow_schedule")).show(ui.ctx(), |ui| {
            ui.set_width(440.0);
            ui.heading("Schedule of the synchronization");
            ui.add_space(8.0);
            super::canvas::scheduler_form(ui, egui::Id::new("workflow_schedule_form"), now, schedule, None, timezone);
            ui.add_space(8.0);
            let plan = crate::console::workflow_plan(&crate::model::workflow::TechnicalWorkflow {
                schedule: schedule.clone(),
                timezone: timezone.clone(),
                ..crate::model::workflow::TechnicalWorkflow::new(crate::model::workflow::X_SYNC)
            });
            ui.horizontal(|ui| {
                let save = ui.add_enabled(plan.is_ok(), egui::Button::new("Save"));
                if save.on_disabled_hover_text("The schedule cannot launch: see above").clicked() {
                    commands.push(XCommand::Workflow(WorkflowChange::Schedule {
                        schedule: schedule.clone(),
                        timezone: timezone.clone(),
                    }));
                    close = true;
                }
                close |= ui.button("Cancel").clicked();
            });
        });
        if close {
            self.editing = None;
        }
    }
}
