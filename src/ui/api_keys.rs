//! Settings → API keys: the keys other systems call the execution API with. A new key is
//! shown once (with Copy); the list shows each key's first characters, scopes, creation and
//! last use; Revoke asks first.

use super::{Commands, theme};
use crate::console::{ApiKeyCommand, Event};
use crate::model::api::{ApiKey, ApiScope};

pub struct ApiKeysSection {
    keys: Option<Vec<ApiKey>>,
    asked: bool,
    name: String,
    trigger: bool,
    events: bool,
    /// A key just made: shown until dismissed.
    created: Option<String>,
    /// The key whose revocation waits for a confirmation.
    revoking: Option<String>,
    error: Option<String>,
}

impl Default for ApiKeysSection {
    fn default() -> Self {
        Self {
            keys: None,
            asked: false,
            name: String::new(),
            trigger: true,
            events: true,
            created: None,
            revoking: None,
            error: None,
        }
    }
}

impl ApiKeysSection {
    pub fn on_event(&mut self, event: &Event) {
        if let Event::ApiKeys { list, created } = event {
            self.keys = Some(list.clone());
            if created.is_some() {
                self.created.clone_from(created);
                self.name.clear();
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        if !self.asked {
            self.asked = true;
            commands.push(ApiKeyCommand::Refresh);
        }
        ui.label(
            egui::RichText::new(
                "Other systems call the execution API (serve's /v1) with a key: Authorization: Bearer <key>. A key is shown once, then kept only as a hash.",
            )
            .small()
            .color(theme::muted(ui)),
        );
        if let Some(key) = self.created.clone() {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.label(egui::RichText::new("Copy the new key now: it is not shown again.").strong());
                ui.horizontal(|ui| {
                    ui.monospace(&key);
                    if ui.button("Copy").clicked() {
                        ui.ctx().copy_text(key.clone());
                    }
                    if ui.button("Done").clicked() {
                        self.created = None;
                    }
                });
            });
        }
        ui.horizontal(|ui| {
            let label = ui.label("New key named").id;
            ui.add(egui::TextEdit::singleline(&mut self.name).hint_text("Website").desired_width(160.0))
                .labelled_by(label);
            ui.checkbox(&mut self.trigger, "trigger").on_hover_text("Trigger API campaigns and read their executions");
            ui.checkbox(&mut self.events, "events").on_hover_text("Report interaction events");
            if ui.button("Create key").clicked() {
                let scopes: Vec<ApiScope> = [(self.trigger, ApiScope::Trigger), (self.events, ApiScope::Events)]
                    .into_iter()
                    .filter_map(|(on, s)| on.then_some(s))
                    .collect();
                if self.name.trim().is_empty() {
                    self.error = Some("Name the key first (what it is for, e.g. Website).".into());
                } else if scopes.is_empty() {
                    self.error = Some("Tick at least one scope.".into());
                } else {
                    self.error = None;
                    commands.push(ApiKeyCommand::Create { name: self.name.trim().to_owned(), scopes });
                }
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(theme::error(ui), e);
        }
        match &self.keys {
            None => {
                ui.spinner();
            }
            Some(keys) if keys.is_empty() => {
                ui.label(egui::RichText::new("No API keys yet.").color(theme::muted(ui)));
            }
            Some(keys) => self.list_ui(ui, &keys.clone(), commands),
        }
    }

    fn list_ui(&mut self, ui: &mut egui::Ui, keys: &[ApiKey], commands: &mut Commands) {
        egui::Grid::new("api_keys").num_columns(6).striped(true).spacing([16.0, 4.0]).show(ui, |ui| {
            for h in ["Name", "Key", "Scopes", "Created", "Last used", ""] {
                ui.label(egui::RichText::new(h).color(theme::muted(ui)));
            }
            ui.end_row();
            for k in keys {
                ui.label(&k.name);
                ui.monospace(format!("{}\u{2026}", k.prefix));
                ui.label(k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "));
                ui.label(theme::when(k.created_at));
                ui.label(k.last_used_at.map_or_else(|| "never".to_owned(), theme::when));
                match k.revoked_at {
                    Some(at) => {
                        ui.label(egui::RichText::new(format!("revoked {}", theme::when(at))).color(theme::muted(ui)));
                    }
                    None if self.revoking.as_deref() == Some(k.name.as_str()) => {
                        ui.horizontal(|ui| {
                            ui.label("Calls with it will be refused.");
                            if ui.button("Revoke now").clicked() {
                                commands.push(ApiKeyCommand::Revoke { name: k.name.clone() });
                                self.revoking = None;
                            }
                            if ui.button("Cancel").clicked() {
                                self.revoking = None;
                            }
                        });
                    }
                    None => {
                        if ui.button("Revoke…").clicked() {
                            self.revoking = Some(k.name.clone());
                        }
                    }
                }
                ui.end_row();
            }
        });
    }
}
