//! The Settings screen: where the workspace and logs are, how secrets are kept, the theme, the
//! server (where it listens, where providers reach it, whether the window runs it), and the
//! API keys.

use super::screen::{Screen, ScreenContext};
use super::{Commands, ThemeChoice, theme};
use crate::console::{Console, DataCommand, DataEvent, Event, RequestId};

#[derive(Default)]
pub struct SettingsScreen {
    /// The frequency cap as typed ("" for none), once read from the workspace.
    cap: Option<String>,
    cap_asked: bool,
    cap_error: Option<String>,
    /// The workspace holds no data (from the last data overview).
    empty: bool,
    /// The server's settings as edited, once read.
    server: Option<crate::model::server::ServerSettings>,
    /// Where the window's server runs, or why it does not.
    server_status: Option<ServerStatus>,
    api_keys: super::api_keys::ApiKeysSection,
}

/// How the window's server is doing, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerStatus {
    Running(String),
    Failed(String),
}

impl SettingsScreen {
    /// Whether the workspace holds no data: Settings then offers the demo data.
    pub fn set_empty(&mut self, empty: bool) {
        self.empty = empty;
    }

    /// Where the window's server runs now, or why it does not (the app says).
    pub fn set_server_status(&mut self, status: Option<ServerStatus>) {
        self.server_status = status;
    }

    /// The server section: where it listens, where providers reach it, whether the window runs
    /// it, and how it is doing.
    fn server_ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let Some(server) = self.server.as_mut() else {
            ui.spinner();
            return;
        };
        ui.vertical(|ui| {
            egui::Grid::new("server_settings").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                let label = ui.label("Listen on").id;
                ui.add(egui::TextEdit::singleline(&mut server.bind).hint_text("127.0.0.1:8080").desired_width(200.0))
                    .labelled_by(label);
                ui.end_row();
                let label = ui.label("Public URL").id;
                ui.add(
                    egui::TextEdit::singleline(&mut server.public_url)
                        .hint_text("https://hooks.example.com (where providers reach it)")
                        .desired_width(320.0),
                )
                .labelled_by(label);
                ui.end_row();
            });
            ui.horizontal(|ui| {
                ui.checkbox(&mut server.run_in_window, "Run the server while this window is open");
                if ui.button("Apply to the server").clicked() {
                    commands.push(crate::console::ServerCommand::Save(server.clone()));
                }
            });
            match &self.server_status {
                Some(ServerStatus::Running(status)) => {
                    ui.colored_label(theme::ok(ui), format!("\u{2714} {status}"));
                }
                Some(ServerStatus::Failed(why)) => {
                    ui.colored_label(theme::error(ui), format!("{} The server is not running: {why}", theme::ICON_ERROR));
                }
                None => {
                    ui.label(egui::RichText::new(format!(
                        "Not running in this window. Headless: campaign-console serve --bind {} --public-url {}",
                        server.bind.trim(),
                        server.public_base()
                    )).small().color(theme::muted(ui)));
                }
            }
            ui.label(
                egui::RichText::new(format!(
                    "Twilio's status callbacks go to {0}/webhooks/twilio/status and its inbound messages to {0}/webhooks/twilio/inbound.",
                    server.public_base()
                ))
                .small()
                .color(theme::muted(ui)),
            );
        });
    }

    /// The workspace's frequency cap arrived (or changed).
    pub fn set_frequency_cap(&mut self, cap: Option<u32>) {
        self.cap = Some(cap.map(|n| n.to_string()).unwrap_or_default());
        self.cap_error = None;
    }

    fn draw(&mut self, ui: &mut egui::Ui, console: &Console, choice: &mut ThemeChoice, commands: &mut Commands) {
        if !self.cap_asked {
            self.cap_asked = true;
            commands.push(DataCommand::RefreshFrequencyCap);
            commands.push(DataCommand::RefreshOverview);
        }
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

            if self.empty {
                ui.label(egui::RichText::new("Data").color(theme::muted(ui)));
                ui.horizontal(|ui| {
                    ui.label("This workspace has no data yet.");
                    super::data::demo_button(ui, commands);
                });
                ui.end_row();
            }

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

            ui.label(egui::RichText::new("Server").color(theme::muted(ui)));
            self.server_ui(ui, commands);
            ui.end_row();

            let label = ui.label(egui::RichText::new("Frequency cap").color(theme::muted(ui))).id;
            ui.vertical(|ui| {
                match self.cap.as_mut() {
                    None => {
                        ui.spinner();
                    }
                    Some(text) => {
                        ui.horizontal(|ui| {
                            ui.add(egui::TextEdit::singleline(text).hint_text("no cap").desired_width(60.0))
                                .labelled_by(label);
                            ui.label("marketing messages per profile in 24 hours, all channels");
                            if ui.button("Apply").clicked() {
                                let typed = text.trim();
                                match typed.parse::<u32>() {
                                    _ if typed.is_empty() => {
                                        self.cap_error = None;
                                        commands.push(DataCommand::SetFrequencyCap { cap: None });
                                    }
                                    Ok(n) if n > 0 => {
                                        self.cap_error = None;
                                        commands.push(DataCommand::SetFrequencyCap { cap: Some(n) });
                                    }
                                    _ => {
                                        self.cap_error = Some(format!(
                                            "\u{201c}{typed}\u{201d} is not a number of messages: type a whole number above 0, or nothing for no cap"
                                        ));
                                    }
                                }
                            }
                        });
                    }
                }
                if let Some(e) = &self.cap_error {
                    ui.colored_label(theme::error(ui), e);
                }
                ui.label(
                    egui::RichText::new(
                        "A profile that already has this many messages is excluded from the next delivery, with the reason in its ledger.",
                    )
                    .small()
                    .color(theme::muted(ui)),
                );
            });
            ui.end_row();

            ui.label(egui::RichText::new("API keys").color(theme::muted(ui)));
            ui.vertical(|ui| self.api_keys.ui(ui, commands));
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

impl Screen for SettingsScreen {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
        self.draw(ui, cx.console, cx.theme, cx.commands);
    }

    fn on_event(&mut self, event: &Event, _request: Option<RequestId>) {
        self.api_keys.on_event(event);
        match event {
            Event::Data(DataEvent::Overview(o)) => self.set_empty(o.entities.is_empty()),
            Event::Data(DataEvent::FrequencyCap(cap)) => self.set_frequency_cap(*cap),
            Event::Server(settings) => self.server = Some(settings.clone()),
            _ => {}
        }
    }
}
