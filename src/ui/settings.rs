//! The Settings screen: where the workspace and logs are, how secrets are kept, the theme.

use super::{ThemeChoice, theme};
use crate::console::Console;

#[derive(Default)]
pub struct SettingsScreen;

impl SettingsScreen {
    pub fn ui(&mut self, ui: &mut egui::Ui, console: &Console, choice: &mut ThemeChoice) {
        ui.add_space(8.0);
        ui.heading("Settings");
        ui.add_space(10.0);
        egui::Grid::new("settings").num_columns(2).spacing([24.0, 10.0]).show(ui, |ui| {
            ui.label(egui::RichText::new("Workspace").color(theme::muted(ui)));
            path_line(ui, &console.workspace_dir().display().to_string());
            ui.end_row();

            ui.label(egui::RichText::new("Database").color(theme::muted(ui)));
            path_line(ui, &console.database_path().display().to_string());
            ui.end_row();

            ui.label(egui::RichText::new("Keychain").color(theme::muted(ui)));
            let status = console.keychain_status();
            let colour = if status.is_persistent() { theme::ok(ui) } else { theme::warning(ui) };
            ui.vertical(|ui| {
                ui.add(egui::Label::new(egui::RichText::new(status.describe()).color(colour)).wrap());
                if let Some(reason) = status.technical_reason() {
                    ui.collapsing("Details", |ui| ui.label(egui::RichText::new(reason).monospace().small()));
                }
            });
            ui.end_row();

            ui.label(egui::RichText::new("Log files").color(theme::muted(ui)));
            match console.log_dir() {
                Some(p) => path_line(ui, &format!("{}", p.display())),
                None => {
                    ui.label("Logs go to the terminal only (no log folder could be written).");
                }
            }
            ui.end_row();

            ui.label(egui::RichText::new("Theme").color(theme::muted(ui)));
            ui.horizontal(|ui| {
                ui.radio_value(choice, ThemeChoice::System, "System");
                ui.radio_value(choice, ThemeChoice::Light, "Light");
                ui.radio_value(choice, ThemeChoice::Dark, "Dark");
            });
            ui.end_row();
        });
    }
}

fn path_line(ui: &mut egui::Ui, path: &str) {
    ui.horizontal(|ui| {
        ui.monospace(path);
        if ui.small_button("Copy").on_hover_text("Copy the path").clicked() {
            ui.ctx().copy_text(path.to_owned());
        }
    });
}
