//! The Channels screen: the credentials of each channel, and a form per provider (Sandbox, SMTP,
//! Twilio, custom SMS, webhook, extraction file), checked as it is typed, to add or change one,
//! verify it (connect and sign in without sending) and delete it; and the SMS page (`sms.rs`).
//! Secrets typed here go to the keychain; the form shows whether one is stored, never what it is.

mod form;
mod sms;
mod sms_configuration;

use egui::RichText;

use form::{FIELD, Form, fields, setting_editor, template_samples};

use super::screen::{Screen, ScreenContext};
use super::secret_field::secret_field;
use super::{Commands, sentence, theme};
use crate::console::ChannelCommand;
use crate::console::{ChannelEvent, Event, RequestId, UserError, providers_for};
use crate::model::provider::FieldKind as Kind;
use crate::model::{Channel, Credential, ProviderKind};

/// A custom credential's inbound and feedback URLs, or why there are none.
type WebhookUrls = Result<(String, String), UserError>;

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
    /// The SMS page is on show (instead of a form).
    sms_page: bool,
    /// What the SMS page shows beside the credentials.
    sms_overview: Option<Result<crate::console::SmsOverview, UserError>>,
    /// The Verify SMS connection dialog, when open.
    verify_sms: Option<sms::VerifyDialog>,
    /// The webhook URLs of the custom credential on show (asked once per credential).
    webhook_urls: Option<(i64, Option<WebhookUrls>)>,
    /// The SMS configuration dialogs.
    configurations: sms_configuration::Configurations,
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

    /// What is wrong with each field of the form on show (tests look at it).
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
        egui::Panel::left("credential_list").resizable(false).exact_size(270.0).show(ui, |ui| {
            self.list_ui(ui, commands);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| match self.form.as_mut() {
                Some(_) => self.form_ui(ui, commands),
                None if self.sms_page => self.sms_page_ui(ui, commands),
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
        if let Some(dialog) = self.verify_sms.as_mut()
            && !sms::verify_window(ui, dialog, commands)
        {
            self.verify_sms = None;
        }
        let (taken, public_url) = match &self.sms_overview {
            Some(Ok(o)) => (o.configurations.clone(), o.public_url.clone()),
            _ => (Vec::new(), String::new()),
        };
        self.configurations.ui(ui, self.list.as_deref().unwrap_or_default(), &taken, &public_url, commands);
    }

    fn sms_page_ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let list = self.list.clone().unwrap_or_default();
        match sms::page(ui, &list, self.sms_overview.as_ref(), commands) {
            Some(sms::RowAction::New) => self.open_form(Form::new(Channel::Sms, ProviderKind::Twilio)),
            Some(sms::RowAction::Edit(c)) => self.open_form(Form::of(&c)),
            Some(sms::RowAction::Verify(c)) => self.verify_sms = Some(sms::VerifyDialog::new(&c)),
            Some(sms::RowAction::Delete(id)) => self.confirm_delete = Some(id),
            Some(sms::RowAction::NewConfiguration) => {
                self.configurations.edit(sms_configuration::Dialog::new(&list));
            }
            Some(sms::RowAction::EditConfiguration(c)) => self.configurations.edit(sms_configuration::Dialog::of(&c)),
            Some(sms::RowAction::DeleteConfiguration(c)) => self.configurations.ask_delete(c),
            None => {}
        }
    }

    /// The two URLs a saved custom credential gives its provider, each with Copy.
    fn webhook_urls_ui(&mut self, ui: &mut egui::Ui, id: i64, commands: &mut Commands) {
        if self.webhook_urls.as_ref().map(|(asked, _)| *asked) != Some(id) {
            self.webhook_urls = Some((id, None));
            commands.push(crate::console::SmsCommand::WebhookUrls { id });
        }
        let Some((_, urls)) = &self.webhook_urls else { return };
        ui.label(
            RichText::new(
                "Give the provider these URLs (this app's server: its public URL is set in Settings, Server)",
            )
            .strong(),
        );
        match urls {
            None => {
                ui.spinner();
            }
            Some(Err(e)) => {
                ui.colored_label(theme::error(ui), format!("{} {e}", theme::ICON_ERROR));
            }
            Some(Ok((inbound, feedback))) => {
                egui::Grid::new("webhook_urls").num_columns(3).spacing([12.0, 4.0]).show(ui, |ui| {
                    for (what, url) in [("Inbound messages", inbound), ("Delivery feedback", feedback)] {
                        ui.label(what);
                        ui.monospace(url);
                        if ui
                            .small_button("Copy")
                            .on_hover_text(format!("Copy the {} URL", what.to_lowercase()))
                            .clicked()
                        {
                            ui.ctx().copy_text(url.clone());
                        }
                        ui.end_row();
                    }
                });
            }
        }
        ui.add_space(theme::SECTION_GAP);
    }

    /// Shows the SMS page, reading what it shows.
    fn open_sms_page(&mut self, commands: &mut Commands) {
        self.sms_page = true;
        self.form = None;
        self.sms_overview = None;
        commands.push(crate::console::SmsCommand::Overview);
    }

    fn open_form(&mut self, form: Form) {
        self.form = Some(form);
        self.verified = None;
        self.error = None;
    }

    /// What the Verify SMS connection dialog shows (tests).
    pub fn sms_verification(&self) -> Option<&Result<crate::model::Verification, UserError>> {
        self.verify_sms.as_ref().and_then(|d| d.result.as_ref())
    }

    fn list_ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
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
        let mut open_sms = false;
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            for channel in Channel::ALL {
                ui.label(RichText::new(channel.label()).strong());
                if channel == Channel::Sms
                    && ui
                        .selectable_label(
                            self.sms_page && self.form.is_none(),
                            "   API credentials and inbound messages",
                        )
                        .clicked()
                {
                    open_sms = true;
                }
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
            self.open_form(Form::of(&c));
        }
        if open_sms {
            self.open_sms_page(commands);
        }
    }

    fn form_ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let Some(form) = self.form.as_mut() else { return };
        // Checked as it is typed: every problem, each beside its field once something is typed
        // there (all of them are listed by Save, which stays off until there is none).
        let (settings, problems) = form.checked(self.list.as_deref().unwrap_or_default());
        self.problems = problems;
        let problems = &self.problems;
        let typed: Vec<&'static str> = form
            .values
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, _)| *k)
            .chain((!form.name.trim().is_empty()).then_some("name"))
            .collect();
        // The problem with a field, in the column beside it.
        let problem_cell = |ui: &mut egui::Ui, key: &str| {
            if let Some((_, why)) = problems.iter().find(|(k, _)| *k == key).filter(|_| typed.contains(&key)) {
                // Wrapped, so that a long reason stays on the screen beside its field.
                ui.scope(|ui| {
                    ui.set_max_width(300.0);
                    let text =
                        RichText::new(format!("{} {}", theme::ICON_ERROR, sentence(why))).color(theme::error(ui));
                    ui.add(egui::Label::new(text).wrap());
                });
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
                    problem_cell(ui, f.key);
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
        template_samples(ui, &form);
        if let (ProviderKind::CustomSms, Some(id)) = (form.provider, form.id) {
            self.webhook_urls_ui(ui, id, commands);
        }
        self.form_buttons(ui, &form, settings, commands);
        self.form_outcome(ui);
    }

    /// Save (with `settings`, the form's as checked this frame; off while there are problems),
    /// Verify, Send test email, Make default and Delete.
    fn form_buttons(
        &mut self,
        ui: &mut egui::Ui,
        form: &Form,
        settings: Option<crate::model::ProviderSettings>,
        commands: &mut Commands,
    ) {
        ui.horizontal(|ui| {
            let clean = self.problems.is_empty();
            let reasons: Vec<String> = self.problems.iter().map(|(_, why)| sentence(why)).collect();
            let save = ui.add_enabled(self.saving.is_none() && clean, egui::Button::new("Save"));
            let save = if clean { save } else { save.on_disabled_hover_text(reasons.join("\n")) };
            if save.clicked()
                && let (true, Some(settings)) = (clean, settings)
            {
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
                if form.channel == Channel::Sms
                    && ui.button("Verify SMS connection…").on_hover_text("Send one real message through it").clicked()
                    && let Some(c) = self.list().iter().find(|c| c.id == id)
                {
                    self.verify_sms = Some(sms::VerifyDialog::new(c));
                }
                if ui.button("Delete…").clicked() {
                    self.confirm_delete = Some(id);
                }
            }
        });
    }

    /// Why Save is off, why the form was not saved, and what Verify or the test email found.
    fn form_outcome(&self, ui: &mut egui::Ui) {
        ui.add_space(8.0);
        let off = match self.problems.as_slice() {
            [] => None,
            [(_, why)] => Some(format!("Save is off until this is fixed: {}", sentence(why))),
            [(_, why), ..] => Some(format!(
                "Save is off until the {} problems are fixed. First: {}",
                self.problems.len(),
                sentence(why)
            )),
        };
        if let Some(off) = off {
            ui.colored_label(theme::warning(ui), format!("{} {off}", theme::ICON_ERROR));
        }
        if let Some(e) = &self.error {
            ui.colored_label(theme::error(ui), format!("{} Not saved: {e}", theme::ICON_ERROR));
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
            Event::Channel(ChannelEvent::SmsVerified(result)) => {
                if let Some(d) = self.verify_sms.as_mut().filter(|d| request.is_some() && d.waiting == request) {
                    d.waiting = None;
                    d.result = Some(result.clone());
                }
            }
            Event::Channel(ChannelEvent::SmsOverview(overview)) => self.sms_overview = Some(overview.clone()),
            Event::Channel(ChannelEvent::SmsConfiguration(outcome)) => self.configurations.answered(outcome, request),
            Event::Channel(ChannelEvent::WebhookUrls { id, urls })
                if self.webhook_urls.as_ref().is_some_and(|(asked, _)| asked == id) =>
            {
                self.webhook_urls = Some((*id, Some(urls.clone())));
            }
            // The public URL may have changed: the URLs are asked again.
            Event::Server(_) => self.webhook_urls = None,
            _ => {}
        }
    }
}
