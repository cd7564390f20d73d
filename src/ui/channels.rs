//! The Channels screen: the credentials of each channel, and a form per provider (Sandbox, SMTP,
//! Webhook, extraction file) to add or change one, verify it (connect and sign in without
//! sending) and delete it. Secrets typed here go to the keychain; the form shows whether one is
//! stored, never what it is.

use egui::RichText;

use super::screen::{Screen, ScreenContext};
use super::secret_field::secret_field;
use super::{Commands, sentence, theme};
use crate::console::ChannelCommand;
use crate::console::{ChannelEvent, Event, RequestId, UserError, provider_form, providers_for};
use crate::model::provider::{Field, FieldKind as Kind};
use crate::model::{Channel, Credential, ProviderKind, ProviderSettings};
use crate::secrets::Typed;

#[derive(Default)]
pub struct ChannelsScreen {
    list: Option<Vec<Credential>>,
    asked: bool,
    form: Option<Form>,
    /// What the last Verify found.
    verified: Option<Result<String, UserError>>,
    /// The Verify (or test message) request waiting for its answer.
    verifying: Option<RequestId>,
    /// The Save request waiting for its answer.
    saving: Option<RequestId>,
    /// Why the form was not saved.
    error: Option<UserError>,
    /// What is wrong with each field (by key; "name" for the name), all at once.
    problems: Vec<(&'static str, String)>,
    confirm_delete: Option<i64>,
    /// Where "Send test email" sends.
    test_to: String,
    /// The result on show is a test email's, not Verify's.
    tested: bool,
}

/// The size of a setting's text field: as wide on every form, whatever the other fields (a
/// grid's columns keep the width they had the frame before).
const FIELD: [f32; 2] = [320.0, 20.0];

/// A provider's form, from the provider registry.
fn fields(provider: ProviderKind) -> Vec<Field> {
    provider_form(provider)
}

/// The form being edited.
#[derive(Clone)]
struct Form {
    id: Option<i64>,
    channel: Channel,
    provider: ProviderKind,
    name: String,
    /// Settings as typed, by key.
    values: std::collections::BTreeMap<&'static str, String>,
    /// Secrets as typed, by slot (the key of their field).
    secrets: std::collections::BTreeMap<&'static str, String>,
    reveal: bool,
    /// The slots that hold a secret in the keychain already.
    stored: Vec<String>,
}

impl Form {
    fn new(channel: Channel, provider: ProviderKind) -> Self {
        let mut form = Self {
            id: None,
            channel,
            provider,
            name: String::new(),
            values: Default::default(),
            secrets: Default::default(),
            reveal: false,
            stored: Vec::new(),
        };
        form.defaults();
        form
    }

    fn defaults(&mut self) {
        for f in fields(self.provider) {
            let value = match (f.kind, f.key) {
                (Kind::Secret, _) => continue,
                (Kind::Choice(options), _) if f.default.is_empty() => options[0].0.to_owned(),
                _ => f.default.to_owned(),
            };
            self.values.entry(f.key).or_insert(value);
        }
    }

    fn of(c: &Credential) -> Self {
        let mut form = Self::new(c.channel, c.provider());
        form.id = Some(c.id);
        form.name = c.name.clone();
        form.stored = c.secrets.keys().cloned().collect();
        let settings = c.settings.to_json();
        for f in fields(c.provider()) {
            let value = match (f.kind, settings.get(f.key)) {
                (_, None | Some(serde_json::Value::Null)) => continue,
                (Kind::Lines, Some(serde_json::Value::Object(map))) => map
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join("\n"),
                (_, Some(serde_json::Value::String(s))) => s.clone(),
                (_, Some(other)) => other.to_string(),
            };
            form.values.insert(f.key, value);
        }
        form
    }

    /// The settings as typed, or what is wrong with what was typed.
    fn settings(&self) -> Result<ProviderSettings, UserError> {
        let mut map = serde_json::Map::new();
        for f in fields(self.provider) {
            let text = self.values.get(f.key).map_or("", |s| s.trim());
            if text.is_empty() || matches!(f.kind, Kind::Secret) {
                continue;
            }
            let value = match f.kind {
                Kind::Number => {
                    let x = text.replace(',', ".").parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| {
                        UserError::plain(format!("{} must be a number, not \u{201c}{text}\u{201d}", f.label))
                    })?;
                    if x.fract() == 0.0 && x.abs() < 1e15 {
                        serde_json::Value::from(x as i64)
                    } else {
                        serde_json::Value::from(x)
                    }
                }
                Kind::Lines => {
                    let mut headers = serde_json::Map::new();
                    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                        let (name, value) = line.split_once(':').ok_or_else(|| {
                            UserError::plain(format!(
                                "the header line \u{201c}{line}\u{201d} needs a colon: Name: value"
                            ))
                        })?;
                        headers.insert(name.trim().to_owned(), serde_json::Value::from(value.trim()));
                    }
                    serde_json::Value::Object(headers)
                }
                _ => serde_json::Value::from(text),
            };
            map.insert(f.key.to_owned(), value);
        }
        ProviderSettings::from_json(self.provider, serde_json::Value::Object(map))
            .map_err(|e| UserError::plain(e.to_string()))
    }

    /// The settings as typed, and every problem with the form, each with the key of its field
    /// ("name" for the name, "" for the whole form): all at once, not the first only.
    fn checked(&self, others: &[Credential]) -> (Option<ProviderSettings>, Vec<(&'static str, String)>) {
        let mut problems = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            problems.push(("name", "Give the credential a name.".to_owned()));
        } else if others
            .iter()
            .any(|c| c.channel == self.channel && Some(c.id) != self.id && c.name.to_lowercase() == name.to_lowercase())
        {
            problems.push((
                "name",
                format!("A {} credential named \u{201c}{name}\u{201d} already exists.", self.channel.label()),
            ));
        }
        // Each field alone first (a number that is not one); the provider's checks then see
        // the fields that could be read.
        let mut one = self.clone();
        for f in fields(self.provider) {
            let mut just = self.clone();
            just.values.retain(|k, _| *k == f.key);
            if let Err(e) = just.settings() {
                problems.push((f.key, e.message));
                one.values.remove(f.key);
            }
        }
        let settings = match one.settings() {
            Ok(settings) => Some(settings),
            Err(e) => {
                problems.push(("", e.message));
                None
            }
        };
        for (key, why) in settings.iter().flat_map(crate::console::Console::credential_problems) {
            if !problems.iter().any(|(k, _)| *k == key) {
                problems.push((key, why));
            }
        }
        (settings, problems)
    }

    /// The secrets typed, by slot: only the slots this provider's form has.
    fn typed_secrets(&self) -> std::collections::BTreeMap<String, Typed> {
        fields(self.provider)
            .iter()
            .filter(|f| f.kind == Kind::Secret)
            .filter_map(|f| {
                self.secrets.get(f.key).filter(|v| !v.is_empty()).map(|v| (f.key.to_owned(), Typed(v.clone())))
            })
            .collect()
    }
}

impl ChannelsScreen {
    pub fn set_list(&mut self, list: Vec<Credential>) {
        self.list = Some(list);
    }

    pub fn saved(&mut self, result: Result<Credential, UserError>) {
        self.saving = None;
        match result {
            Ok(c) => {
                self.error = None;
                self.problems.clear();
                self.form = Some(Form::of(&c));
            }
            Err(e) => self.error = Some(e),
        }
    }

    pub fn verified(&mut self, result: Result<String, UserError>) {
        self.verifying = None;
        self.verified = Some(result);
    }

    /// The credentials on show (tests).
    pub fn list(&self) -> &[Credential] {
        self.list.as_deref().unwrap_or_default()
    }

    /// What Verify said last (tests).
    pub fn verify_result(&self) -> Option<&Result<String, UserError>> {
        self.verified.as_ref()
    }

    /// Why the form was not saved (tests).
    /// What is wrong with each field, from the last Save (tests look at it).
    pub fn problems(&self) -> &[(&'static str, String)] {
        &self.problems
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_ref().map(|e| e.message.as_str())
    }

    fn draw(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        if !self.asked {
            self.asked = true;
            commands.push(ChannelCommand::Refresh);
        }
        egui::Panel::left("credential_list").resizable(false).exact_size(300.0).show(ui, |ui| {
            self.list_ui(ui);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| match self.form.as_mut() {
                Some(_) => self.form_ui(ui, commands),
                None => {
                    ui.add_space(24.0);
                    ui.label(
                        RichText::new("Choose a credential, or add one. A channel activity sends with the credential it names, or with its channel's default (Make default, on a credential, changes it).")
                            .color(theme::muted(ui)),
                    );
                }
            });
        });
        self.delete_window(ui, commands);
    }

    fn list_ui(&mut self, ui: &mut egui::Ui) {
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.heading("Channels");
            if ui.button("+ Add credential").clicked() {
                self.form = Some(Form::new(Channel::Email, ProviderKind::Smtp));
                self.verified = None;
                self.error = None;
            }
        });
        ui.add_space(theme::SECTION_GAP);
        let Some(list) = &self.list else {
            ui.spinner();
            return;
        };
        let mut open = None;
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            for channel in Channel::ALL {
                ui.label(RichText::new(channel.label()).strong());
                let of_channel: Vec<&Credential> = list.iter().filter(|c| c.channel == channel).collect();
                if of_channel.is_empty() {
                    ui.label(RichText::new("   none: sends through the Sandbox").color(theme::muted(ui)));
                }
                let default = crate::model::default_credential(list, channel).map(|c| c.id);
                for c in &of_channel {
                    let selected = self.form.as_ref().and_then(|f| f.id) == Some(c.id);
                    let provider = if c.name.eq_ignore_ascii_case(c.provider().label()) {
                        String::new()
                    } else {
                        format!(" \u{00b7} {}", c.provider().label())
                    };
                    let text =
                        format!("   {}{provider}{}", c.name, if Some(c.id) == default { " (default)" } else { "" });
                    if ui.selectable_label(selected, text).clicked() {
                        open = Some((*c).clone());
                    }
                }
                ui.add_space(6.0);
            }
        });
        if let Some(c) = open {
            self.form = Some(Form::of(&c));
            self.verified = None;
            self.error = None;
        }
    }

    fn form_ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let Some(form) = self.form.as_mut() else { return };
        let problems = &self.problems;
        // The problem with a field, in the column beside it.
        let problem_cell = |ui: &mut egui::Ui, key: &str| {
            if let Some((_, why)) = problems.iter().find(|(k, _)| *k == key) {
                ui.colored_label(theme::error(ui), format!("{} {}", theme::ICON_ERROR, sentence(why)));
            }
        };
        ui.add_space(8.0);
        ui.heading(if form.id.is_some() { "Credential" } else { "New credential" });
        ui.add_space(theme::SECTION_GAP);
        let mut changed_kind = false;
        egui::Grid::new("credential_form").num_columns(3).spacing([12.0, 8.0]).show(ui, |ui| {
            let label = ui.label("Channel").id;
            if form.id.is_none() {
                egui::ComboBox::from_id_salt("credential_channel")
                    .selected_text(form.channel.label())
                    .show_ui(ui, |ui| {
                        for c in Channel::ALL {
                            if ui.selectable_value(&mut form.channel, c, c.label()).changed() {
                                changed_kind = true;
                            }
                        }
                    })
                    .response
                    .labelled_by(label);
            } else {
                ui.label(form.channel.label());
            }
            ui.end_row();
            let label = ui.label("Provider").id;
            if form.id.is_none() {
                egui::ComboBox::from_id_salt("credential_provider")
                    .selected_text(form.provider.label())
                    .show_ui(ui, |ui| {
                        for p in providers_for(form.channel) {
                            if ui.selectable_value(&mut form.provider, p, p.label()).changed() {
                                changed_kind = true;
                            }
                        }
                    })
                    .response
                    .labelled_by(label);
            } else {
                ui.label(form.provider.label());
            }
            ui.end_row();
            let label = ui.label("Name").id;
            ui.add_sized(FIELD, egui::TextEdit::singleline(&mut form.name).hint_text("e.g. Newsletter relay"))
                .labelled_by(label);
            problem_cell(ui, "name");
            ui.end_row();
            for f in fields(form.provider) {
                let label = ui.label(f.label).id;
                if let Kind::Secret = f.kind {
                    let stored = form.stored.iter().any(|k| k == f.key);
                    secret_field(ui, form.secrets.entry(f.key).or_default(), &mut form.reveal, stored, label);
                    ui.end_row();
                    continue;
                }
                setting_editor(ui, &f, form.values.entry(f.key).or_default(), label);
                problem_cell(ui, f.key);
                ui.end_row();
            }
        });
        if changed_kind {
            if !providers_for(form.channel).contains(&form.provider) {
                form.provider = providers_for(form.channel)[0];
            }
            form.values.clear();
            form.defaults();
        }
        ui.add_space(theme::SECTION_GAP);
        let form = form.clone();
        self.form_buttons(ui, &form, commands);
        self.form_outcome(ui);
    }

    /// Save, Verify, Send test email, Make default and Delete.
    fn form_buttons(&mut self, ui: &mut egui::Ui, form: &Form, commands: &mut Commands) {
        ui.horizontal(|ui| {
            let save = ui.add_enabled(self.saving.is_none(), egui::Button::new("Save"));
            if save.clicked() {
                let (settings, problems) = form.checked(self.list.as_deref().unwrap_or_default());
                self.problems = problems;
                match self.problems.len() {
                    0 => {}
                    1 => self.error = Some(UserError::plain("fix the problem shown next to its field.")),
                    n => {
                        self.error = Some(UserError::plain(format!("fix the {n} problems shown next to their fields.")))
                    }
                }
                if let (true, Some(settings)) = (self.problems.is_empty(), settings) {
                    self.error = None;
                    self.saving = Some(commands.push(ChannelCommand::Save {
                        id: form.id,
                        channel: form.channel,
                        name: form.name.clone(),
                        settings,
                        secrets: form.typed_secrets(),
                    }));
                    if let Some(f) = self.form.as_mut() {
                        f.secrets.clear();
                    }
                }
            }
            let verify = ui.add_enabled(self.verifying.is_none(), egui::Button::new("Verify"));
            if verify.on_hover_text("Connect and sign in without sending anything").clicked() {
                match form.settings() {
                    Err(e) => self.verified = Some(Err(e)),
                    Ok(settings) => {
                        self.verified = None;
                        self.tested = false;
                        self.verifying = Some(commands.push(ChannelCommand::Verify {
                            id: form.id,
                            settings,
                            secrets: form.typed_secrets(),
                        }));
                    }
                }
            }
            if self.verifying.is_some() {
                ui.spinner();
            }
            if form.provider == ProviderKind::Smtp {
                ui.separator();
                let label = ui.label("Test to").id;
                ui.add(egui::TextEdit::singleline(&mut self.test_to).hint_text("you@example.com").desired_width(180.0))
                    .labelled_by(label)
                    .on_hover_text("Where the test email goes");
                let ready = self.verifying.is_none() && !self.test_to.trim().is_empty();
                let send = ui.add_enabled(ready, egui::Button::new("Send test email"));
                if send.clicked() {
                    match form.settings() {
                        Err(e) => self.verified = Some(Err(e)),
                        Ok(settings) => {
                            self.verified = None;
                            self.tested = true;
                            self.verifying = Some(commands.push(ChannelCommand::SendTest {
                                id: form.id,
                                channel: form.channel,
                                settings,
                                secrets: form.typed_secrets(),
                                to: self.test_to.trim().to_owned(),
                            }));
                        }
                    }
                }
            }
            if let Some(id) = form.id {
                let is_default = self.list.as_ref().is_some_and(|list| {
                    crate::model::default_credential(list, form.channel).is_some_and(|c| c.id == id)
                });
                if is_default {
                    ui.label(RichText::new("the channel's default").color(theme::muted(ui)));
                } else if ui
                    .button("Make default")
                    .on_hover_text("Activities that name no credential send with this one from now on")
                    .clicked()
                {
                    commands.push(ChannelCommand::MakeDefault { id });
                }
                if ui.button("Delete…").clicked() {
                    self.confirm_delete = Some(id);
                }
            }
        });
    }

    /// Why the form was not saved, and what Verify or the test email found.
    fn form_outcome(&self, ui: &mut egui::Ui) {
        ui.add_space(8.0);
        if let Some(e) = &self.error {
            ui.colored_label(theme::error(ui), format!("{} Not saved: {e}", theme::ICON_ERROR));
            for (_, why) in self.problems.iter().filter(|(k, _)| k.is_empty()) {
                ui.colored_label(theme::error(ui), format!("{} {}", theme::ICON_ERROR, sentence(why)));
            }
        }
        match &self.verified {
            Some(Ok(what)) => {
                let what = if self.tested { what.clone() } else { format!("Verified: {what}") };
                ui.colored_label(theme::ok(ui), format!("\u{2714} {what}"));
            }
            Some(Err(why)) => {
                let why = if self.tested { why.message.clone() } else { format!("Verify failed: {why}") };
                ui.colored_label(theme::error(ui), format!("{} {why}", theme::ICON_ERROR));
            }
            None => {}
        }
    }

    fn delete_window(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let Some(id) = self.confirm_delete else { return };
        let name = self.list().iter().find(|c| c.id == id).map(|c| c.name.clone()).unwrap_or_default();
        egui::Window::new("Delete credential").collapsible(false).resizable(false).anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0]).show(
            ui.ctx(),
            |ui| {
                ui.label(format!("Delete \u{201c}{name}\u{201d} and its secret in the keychain? Activities that name it will not run until they name another."));
                ui.horizontal(|ui| {
                    if ui.button("Delete").clicked() {
                        commands.push(ChannelCommand::Delete { id });
                        self.confirm_delete = None;
                        self.form = None;
                    }
                    if ui.button("Keep").clicked() {
                        self.confirm_delete = None;
                    }
                });
            },
        );
    }
}

/// The editor of one setting of a provider's form.
fn setting_editor(ui: &mut egui::Ui, f: &Field, value: &mut String, label: egui::Id) {
    match f.kind {
        Kind::Text | Kind::Number => {
            ui.add_sized(FIELD, egui::TextEdit::singleline(value).hint_text(f.hint)).labelled_by(label);
        }
        Kind::Lines => {
            ui.add_sized([FIELD[0], 60.0], egui::TextEdit::multiline(value).hint_text(f.hint).desired_rows(3))
                .labelled_by(label);
        }
        Kind::Choice(options) => {
            let text =
                |v: &str| options.iter().find(|(o, _)| *o == v).map_or_else(|| v.to_owned(), |(_, l)| (*l).to_owned());
            egui::ComboBox::from_id_salt(f.key)
                .selected_text(text(value))
                .show_ui(ui, |ui| {
                    for (o, label) in options {
                        ui.selectable_value(value, (*o).to_owned(), *label);
                    }
                })
                .response
                .labelled_by(label);
        }
        Kind::Secret => {}
        Kind::Folder => {
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(value).hint_text(f.hint).desired_width(240.0)).labelled_by(label);
                if ui.button("Choose…").clicked()
                    && let Some(dir) = rfd::FileDialog::new().pick_folder()
                {
                    *value = dir.display().to_string();
                }
            });
        }
    }
}

impl Screen for ChannelsScreen {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
        self.draw(ui, cx.commands);
    }

    fn on_event(&mut self, event: &Event, request: Option<RequestId>) {
        match event {
            Event::Channel(ChannelEvent::Credentials(list)) => self.set_list(list.clone()),
            // The answers to this screen's own requests; an older one (the form changed since) is
            // not taken for the current.
            Event::Channel(ChannelEvent::Saved(result)) if request.is_some() && request == self.saving => {
                self.saved(result.clone().map(|c| *c));
            }
            Event::Channel(ChannelEvent::Verified(result)) if request.is_some() && request == self.verifying => {
                self.verified(result.clone());
            }
            _ => {}
        }
    }
}
