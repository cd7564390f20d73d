//! An API-triggered campaign opens this form, not a canvas: channel and configuration, title
//! and description, the message, the identity namespace, start and end, create missing
//! profiles, transactional; the context attributes the message uses (required or not, with a
//! sample); Review to activate (then Pause, Resume, Stop); a preview with the sample context,
//! proofs, and the cURL command that triggers it.

use super::{Commands, theme};
use crate::console::{ApiCampaignCommand, ApiCampaignEvent, ApiCampaignPage, ApiPreview, Event, LifeAction, UserError};
use crate::model::api::{API_CHANNELS, ApiCampaign};
use crate::model::{CampaignStatus, Channel};

pub struct ApiCampaignForm {
    pub campaign_id: i64,
    page: Option<ApiCampaignPage>,
    title: String,
    form: ApiCampaign,
    starts: String,
    ends: String,
    /// Edited since the last save.
    dirty: bool,
    error: Option<String>,
    preview_for: String,
    preview: Option<Result<ApiPreview, UserError>>,
    proof_to: String,
    proof: Option<Result<u64, UserError>>,
    /// The message (subject, text, HTML) whose context attributes the form lists.
    parsed: Option<[String; 3]>,
}

/// A date as the form shows it, in the system's time zone.
pub(super) fn shown(t: Option<jiff::Timestamp>) -> String {
    t.map(|t| t.to_zoned(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// Why a typed date cannot be read, in words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct BadDate(pub(super) String);

/// A typed date ("2026-12-24 18:00", or a day), in the system's time zone; empty is none.
fn typed(text: &str, what: &str) -> Result<Option<jiff::Timestamp>, BadDate> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let civil = t
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| t.parse::<jiff::civil::Date>().map(|d| d.to_datetime(jiff::civil::Time::midnight())))
        .map_err(|_| BadDate(format!("the {what} \u{201c}{t}\u{201d} is not a date: type it as 2026-12-24 18:00")))?;
    civil
        .to_zoned(jiff::tz::TimeZone::system())
        .map(|z| Some(z.timestamp()))
        .map_err(|e| BadDate(format!("the {what} cannot be placed in this time zone: {e}")))
}

impl ApiCampaignForm {
    pub fn new(campaign_id: i64, commands: &mut Commands) -> Self {
        commands.push(ApiCampaignCommand::Open { campaign_id });
        Self {
            campaign_id,
            page: None,
            title: String::new(),
            form: ApiCampaign::default(),
            starts: String::new(),
            ends: String::new(),
            dirty: false,
            error: None,
            preview_for: String::new(),
            preview: None,
            proof_to: String::new(),
            proof: None,
            parsed: None,
        }
    }

    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::ApiCampaign(ApiCampaignEvent::Page(page)) if page.campaign.id == self.campaign_id => {
                if !self.dirty {
                    self.title.clone_from(&page.campaign.name);
                    self.form = page.form.clone();
                    self.starts = shown(page.campaign.starts_at);
                    self.ends = shown(page.campaign.ends_at);
                }
                self.page = Some((**page).clone());
            }
            Event::ApiCampaign(ApiCampaignEvent::Saved { campaign_id }) if *campaign_id == self.campaign_id => {
                self.dirty = false;
            }
            Event::ApiCampaign(ApiCampaignEvent::Preview(p)) => self.preview = Some(p.clone()),
            Event::ApiCampaign(ApiCampaignEvent::ProofSent(p)) => self.proof = Some(p.clone()),
            _ => {}
        }
    }

    /// Keeps what was typed, if the dates read; else says why.
    pub fn save(&mut self, commands: &mut Commands) -> bool {
        match typed_dates(&self.starts, &self.ends) {
            Ok(dates) => {
                self.error = None;
                commands.push(ApiCampaignCommand::Save {
                    campaign_id: self.campaign_id,
                    title: self.title.clone(),
                    form: Box::new(self.form.clone()),
                    dates,
                });
                true
            }
            Err(why) => {
                self.error = Some(why.0);
                false
            }
        }
    }

    pub fn is_saved(&self) -> bool {
        !self.dirty
    }

    /// The form. Returns whether the user went back to the list.
    pub fn ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) -> bool {
        let Some(page) = self.page.clone() else {
            opening(ui);
            return false;
        };
        ui.add_space(8.0);
        let status = page.campaign.status;
        let back = ui
            .horizontal(|ui| {
                let back = ui.button("\u{2b05} All campaigns").clicked();
                ui.heading(&page.campaign.name);
                ui.label(
                    egui::RichText::new(format!("API-triggered \u{b7} {}", status.label())).color(theme::muted(ui)),
                );
                ui.separator();
                if ui.add_enabled(self.dirty, egui::Button::new("Save")).clicked() {
                    self.save(commands);
                }
                let life = |ui: &mut egui::Ui, label: &str, action: LifeAction, commands: &mut Commands| {
                    if ui.button(label).clicked() {
                        commands.push(ApiCampaignCommand::Life { campaign_id: page.campaign.id, action });
                    }
                };
                match status {
                    CampaignStatus::Live => {
                        life(ui, "Pause", LifeAction::Pause, commands);
                        life(ui, "Stop", LifeAction::Stop, commands);
                    }
                    CampaignStatus::Paused => {
                        life(ui, "Resume", LifeAction::Resume, commands);
                        life(ui, "Stop", LifeAction::Stop, commands);
                    }
                    _ => {
                        let ok = !self.dirty;
                        if ui
                            .add_enabled(ok, egui::Button::new("Review to activate"))
                            .on_disabled_hover_text("Save first")
                            .clicked()
                        {
                            commands.push(ApiCampaignCommand::Life {
                                campaign_id: page.campaign.id,
                                action: LifeAction::Publish,
                            });
                        }
                    }
                }
                back
            })
            .inner;
        problems_list(ui, self.error.as_deref(), &page.problems);
        ui.add_space(6.0);
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            let before = (self.title.clone(), self.form.clone(), self.starts.clone(), self.ends.clone());
            self.settings_ui(ui, &page);
            ui.add_space(theme::SECTION_GAP);
            self.message_ui(ui);
            if (self.title.clone(), self.form.clone(), self.starts.clone(), self.ends.clone()) != before {
                self.dirty = true;
            }
            ui.add_space(theme::SECTION_GAP);
            self.try_ui(ui, commands);
            ui.add_space(theme::SECTION_GAP);
            ui.strong("cURL request");
            ui.label(
                egui::RichText::new(
                    "Run it in a terminal against `campaign-console serve`, with a key from Settings (API keys) in place of YOUR_API_KEY. The same request_id again sends nothing new.",
                )
                .small()
                .color(theme::muted(ui)),
            );
            ui.horizontal(|ui| {
                let mut curl = page.curl.clone();
                ui.add(egui::TextEdit::multiline(&mut curl).code_editor().desired_width(f32::INFINITY).interactive(true));
            });
            if ui.button("Copy").on_hover_text("Copy the command").clicked() {
                ui.ctx().copy_text(page.curl.clone());
            }
        });
        back
    }

    fn settings_ui(&mut self, ui: &mut egui::Ui, page: &ApiCampaignPage) {
        let zone = jiff::tz::TimeZone::system().iana_name().unwrap_or("the system's time zone").to_owned();
        egui::Grid::new("api_campaign").num_columns(2).spacing([24.0, 8.0]).show(ui, |ui| {
            let label = |ui: &mut egui::Ui, text: &str| ui.label(egui::RichText::new(text).color(theme::muted(ui))).id;
            let id = label(ui, "Title");
            ui.add(egui::TextEdit::singleline(&mut self.title).desired_width(320.0)).labelled_by(id);
            ui.end_row();
            let id = label(ui, "Description");
            ui.add(egui::TextEdit::multiline(&mut self.form.description).desired_rows(2).desired_width(320.0))
                .labelled_by(id);
            ui.end_row();
            label(ui, "Channel");
            ui.horizontal(|ui| {
                for c in API_CHANNELS {
                    if ui.radio_value(&mut self.form.channel, c, c.label()).changed() {
                        self.form.credential = None;
                        self.form.configuration = None;
                    }
                }
            });
            ui.end_row();
            label(ui, "Configuration");
            let names = page
                .credentials
                .iter()
                .find(|(c, _)| *c == self.form.channel)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            choice(ui, "credential", &mut self.form.credential, &names, "the channel's default");
            ui.end_row();
            if self.form.channel == Channel::Sms {
                label(ui, "SMS configuration");
                choice(ui, "sms_configuration", &mut self.form.configuration, &page.configurations, "none");
                ui.end_row();
            }
            label(ui, "Identity namespace");
            ui.horizontal(|ui| {
                egui::ComboBox::from_id_salt("namespace").selected_text(&self.form.namespace).show_ui(ui, |ui| {
                    for n in &page.namespaces {
                        ui.selectable_value(&mut self.form.namespace, n.clone(), n);
                    }
                });
                ui.label(egui::RichText::new("how a request names its recipients").small().color(theme::muted(ui)));
            });
            ui.end_row();
            let id = label(ui, "Start");
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(&mut self.starts).hint_text("any time").desired_width(140.0))
                    .labelled_by(id);
                let id = ui.label("End").id;
                ui.add(egui::TextEdit::singleline(&mut self.ends).hint_text("no end").desired_width(140.0))
                    .labelled_by(id);
                ui.label(egui::RichText::new(format!("YYYY-MM-DD HH:MM, {zone}")).small().color(theme::muted(ui)));
            });
            ui.end_row();
            label(ui, "Recipients");
            ui.vertical(|ui| {
                ui.checkbox(&mut self.form.create_missing, "Create missing profiles")
                    .on_hover_text("A recipient no profile has becomes a profile with the namespace's value");
                ui.checkbox(&mut self.form.transactional, "Transactional").on_hover_text(
                    "Sent even without the channel's marketing opt-in; never counted against the frequency cap",
                );
            });
            ui.end_row();
        });
    }

    fn message_ui(&mut self, ui: &mut egui::Ui) {
        ui.strong("Message");
        let m = &mut self.form.message;
        egui::Grid::new("api_message").num_columns(2).spacing([24.0, 8.0]).show(ui, |ui| {
            if matches!(self.form.channel, Channel::Email | Channel::Push) {
                let what = if self.form.channel == Channel::Email { "Subject" } else { "Title" };
                let id = ui.label(egui::RichText::new(what).color(theme::muted(ui))).id;
                ui.add(egui::TextEdit::singleline(&mut m.subject).desired_width(420.0)).labelled_by(id);
                ui.end_row();
            }
            let id = ui.label(egui::RichText::new("Text").color(theme::muted(ui))).id;
            ui.add(egui::TextEdit::multiline(&mut m.text).desired_rows(4).desired_width(420.0)).labelled_by(id);
            ui.end_row();
            if self.form.channel == Channel::Email {
                let id = ui.label(egui::RichText::new("HTML").color(theme::muted(ui))).id;
                ui.add(egui::TextEdit::multiline(&mut m.html).code_editor().desired_rows(4).desired_width(420.0))
                    .labelled_by(id);
                ui.end_row();
            }
        });
        ui.label(
            egui::RichText::new("{{profile.first_name}} for the recipient's columns, {{context.<name>}} for what the call gives (strings).")
                .small()
                .color(theme::muted(ui)),
        );
        // The context attributes the message uses now.
        // Parsed again only when the message changed, not every frame.
        let message = [m.subject.clone(), m.text.clone(), m.html.clone()];
        if self.parsed.as_ref() != Some(&message) {
            let used = crate::personalize::context_names(&message.iter().map(String::as_str).collect::<Vec<_>>());
            if used.iter().map(String::as_str).ne(self.form.context.iter().map(|a| a.name.as_str())) {
                self.form = std::mem::take(&mut self.form).with_context(&used);
            }
            self.parsed = Some(message);
        }
        ui.add_space(6.0);
        ui.strong("Context attributes");
        if self.form.context.is_empty() {
            ui.label(egui::RichText::new("The message uses none.").color(theme::muted(ui)));
            return;
        }
        egui::Grid::new("api_context").num_columns(3).spacing([16.0, 4.0]).show(ui, |ui| {
            for h in ["Attribute", "Required", "Sample (for the preview)"] {
                ui.label(egui::RichText::new(h).color(theme::muted(ui)));
            }
            ui.end_row();
            for a in &mut self.form.context {
                ui.monospace(format!("context.{}", a.name));
                ui.checkbox(&mut a.required, "").on_hover_text("A call without it is refused (422)");
                ui.add(egui::TextEdit::singleline(&mut a.sample).desired_width(260.0));
                ui.end_row();
            }
        });
        if self.form.context.iter().any(|a| a.name == crate::model::api::RESERVED_CONTEXT) {
            ui.colored_label(theme::error(ui), "context.system is reserved for the system: name the value otherwise.");
        }
    }

    fn try_ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        ui.strong("Preview and proof");
        ui.horizontal(|ui| {
            let id = ui.label("Sample recipient").id;
            ui.add(
                egui::TextEdit::singleline(&mut self.preview_for).hint_text("the first profile").desired_width(220.0),
            )
            .labelled_by(id);
            if ui.button("Preview").clicked() {
                let recipient = Some(self.preview_for.trim().to_owned()).filter(|r| !r.is_empty());
                commands.push(ApiCampaignCommand::Preview { form: Box::new(self.form.clone()), recipient });
            }
        });
        match &self.preview {
            None => {}
            Some(Err(e)) => {
                ui.colored_label(theme::error(ui), &e.message);
            }
            Some(Ok(p)) => {
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    ui.label(
                        egui::RichText::new(format!("To {} \u{b7} {}", p.recipient, p.address)).color(theme::muted(ui)),
                    );
                    if !p.subject.is_empty() {
                        ui.strong(&p.subject);
                    }
                    ui.label(&p.text);
                });
            }
        }
        ui.horizontal(|ui| {
            let id = ui.label("Send a proof to").id;
            ui.add(
                egui::TextEdit::singleline(&mut self.proof_to)
                    .hint_text("addresses, separated by commas")
                    .desired_width(260.0),
            )
            .labelled_by(id);
            if ui.button("Send proof").clicked() {
                let addresses =
                    self.proof_to.split(',').map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect();
                self.proof = None;
                commands.push(ApiCampaignCommand::Proof {
                    campaign_id: self.campaign_id,
                    form: Box::new(self.form.clone()),
                    addresses,
                });
            }
        });
        match &self.proof {
            Some(Ok(n)) => {
                ui.colored_label(theme::ok(ui), format!("{n} proof(s) sent: see Deliveries."));
            }
            Some(Err(e)) => {
                ui.colored_label(theme::error(ui), &e.message);
            }
            None => {}
        }
    }
}

/// Both dates as typed (see [`typed`]), or why one cannot be read.
pub(super) fn typed_dates(
    starts: &str,
    ends: &str,
) -> Result<(Option<jiff::Timestamp>, Option<jiff::Timestamp>), BadDate> {
    Ok((typed(starts, "start")?, typed(ends, "end")?))
}

/// What a campaign form shows while its page comes.
pub(super) fn opening(ui: &mut egui::Ui) {
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label("Opening the campaign\u{2026}");
    });
}

/// The form's own error (a date that cannot be read), then what stops it going live.
pub(super) fn problems_list(ui: &mut egui::Ui, error: Option<&str>, problems: &[String]) {
    if let Some(e) = error {
        ui.colored_label(theme::error(ui), e);
    }
    if !problems.is_empty() {
        ui.add_space(4.0);
        ui.label(egui::RichText::new("Before it can go live:").color(theme::warning(ui)));
        for p in problems {
            ui.label(egui::RichText::new(format!("\u{2022} {p}")).color(theme::warning(ui)));
        }
    }
}

/// A combo of `names`, or `none` (for `None`).
pub(super) fn choice(ui: &mut egui::Ui, salt: &str, value: &mut Option<String>, names: &[String], none: &str) {
    let shown = value.clone().unwrap_or_else(|| none.to_owned());
    egui::ComboBox::from_id_salt(salt).selected_text(shown).show_ui(ui, |ui| {
        ui.selectable_value(value, None, none);
        for n in names {
            ui.selectable_value(value, Some(n.clone()), n);
        }
    });
}
