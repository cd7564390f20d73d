//! Campaign files on the Campaigns screen: "Export…" writes the selected campaign to a
//! `.campaign.json` file, "Import…" reads one as a draft and lists what this workspace lacks
//! for it. The path is typed or chosen with the system's dialog.

use super::path_field::{Pick, default_path, path_field};
use super::{Commands, theme};
use crate::console::{CampaignCommand, CampaignEvent, CampaignFileDone, Event, UserError};
use crate::model::campaign_file::CampaignFile;

/// The dialog, while open.
pub struct CampaignFileDialog {
    /// The campaign to export (id, name); `None`: an import.
    export: Option<(i64, String)>,
    path: String,
    pending: bool,
    result: Option<Result<CampaignFileDone, UserError>>,
}

impl CampaignFileDialog {
    pub fn export(id: i64, name: &str) -> Self {
        Self {
            export: Some((id, name.to_owned())),
            path: default_path(&CampaignFile::file_name(name)),
            pending: false,
            result: None,
        }
    }

    pub fn import() -> Self {
        Self { export: None, path: String::new(), pending: false, result: None }
    }

    /// What came of an import asked from elsewhere (a campaign file the app was opened with).
    pub fn showing(done: Result<CampaignFileDone, UserError>) -> Self {
        Self { export: None, path: String::new(), pending: false, result: Some(done) }
    }

    pub fn on_event(&mut self, event: &Event) {
        if let Event::Campaign(CampaignEvent::File(done)) = event
            && self.pending
        {
            self.pending = false;
            self.result = Some(done.clone());
        }
    }

    /// The dialog; returns whether it stays open.
    pub fn ui(&mut self, ctx: &egui::Context, commands: &mut Commands) -> bool {
        let mut open = true;
        let title = match &self.export {
            Some((_, name)) => format!("Export \u{201c}{name}\u{201d}"),
            None => "Import a campaign".to_owned(),
        };
        let mut close = false;
        egui::Window::new(title).collapsible(false).resizable(false).open(&mut open).show(ctx, |ui| {
            ui.label(match self.export {
                Some(_) => "Its canvas or form and its messages go to a campaign file: no secret, no customer data.",
                None => "A campaign file becomes a draft campaign here; what this workspace lacks for it is listed.",
            });
            let pick = if self.export.is_some() { Pick::SaveFile } else { Pick::OpenCampaign };
            path_field(ui, egui::Id::new("campaign_file_path"), &mut self.path, pick, "A campaign file");
            match &self.result {
                None => {}
                Some(Err(e)) => {
                    ui.colored_label(theme::error(ui), &e.message);
                }
                Some(Ok(CampaignFileDone::Exported { name, path })) => {
                    ui.colored_label(theme::ok(ui), format!("\u{201c}{name}\u{201d} written to {}", path.display()));
                }
                Some(Ok(CampaignFileDone::Imported(imported))) => {
                    let c = &imported.campaign;
                    ui.colored_label(theme::ok(ui), format!("Imported as \u{201c}{}\u{201d}, a draft", c.name));
                    if !imported.missing.is_empty() {
                        ui.label(
                            egui::RichText::new("What this workspace lacks for it (fix it before it runs):")
                                .color(theme::warning(ui)),
                        );
                        for m in &imported.missing {
                            ui.label(egui::RichText::new(format!("\u{2022} {m}")).color(theme::warning(ui)));
                        }
                    }
                }
            }
            ui.horizontal(|ui| {
                let done = matches!(self.result, Some(Ok(_)));
                let action = if self.export.is_some() { "Export" } else { "Import" };
                let ready = !self.path.trim().is_empty() && !self.pending && !done;
                if ui.add_enabled(ready, egui::Button::new(action)).clicked() {
                    let path = std::path::PathBuf::from(self.path.trim());
                    self.pending = true;
                    self.result = None;
                    let command = match &self.export {
                        Some((id, _)) => CampaignCommand::Export { id: *id, path },
                        None => CampaignCommand::Import { path },
                    };
                    commands.push(command);
                }
                if self.pending {
                    ui.spinner();
                }
                if ui.button(if done { "Close" } else { "Cancel" }).clicked() {
                    close = true;
                }
            });
        });
        open && !close
    }
}
