//! An action-triggered campaign (campaign connector) opens this form, not a canvas: its
//! triggers ("interacts with campaign", OR-ed), the schedule delay and exception events, the
//! delivery rules with both publication times, the audience filter (the rule builder) and
//! re-eligibility, the dates, the message; Publish / Pause / Resume / Stop; and its pending
//! sends (`pending.rs`).

mod pending;
mod triggers;

use super::api_campaign::{choice, opening, problems_list, shown, typed_dates};
use super::canvas::fields::{Choices, FormContext};
use super::{Commands, theme};
use crate::console::{CanvasCommand, CanvasEvent, ConnectorCommand, ConnectorEvent, ConnectorPage, Event, LifeAction};
use crate::model::connector::{CONNECTOR_CHANNELS, ConnectorForm, Reeligibility};
use crate::model::{CampaignStatus, Channel, Rule};

pub struct ConnectorFormView {
    pub campaign_id: i64,
    page: Option<ConnectorPage>,
    title: String,
    form: ConnectorForm,
    starts: String,
    ends: String,
    /// Edited since the last save.
    dirty: bool,
    error: Option<String>,
    /// The distinct values the audience filter offers.
    choices: Choices,
}

impl ConnectorFormView {
    pub fn new(campaign_id: i64, commands: &mut Commands) -> Self {
        commands.push(ConnectorCommand::Open { campaign_id });
        Self {
            campaign_id,
            page: None,
            title: String::new(),
            form: ConnectorForm::default(),
            starts: String::new(),
            ends: String::new(),
            dirty: false,
            error: None,
            choices: Choices::new(),
        }
    }

    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::Connector(ConnectorEvent::Page(page)) if page.campaign.id == self.campaign_id => {
                if !self.dirty {
                    self.title.clone_from(&page.campaign.name);
                    self.form = page.form.clone();
                    self.starts = shown(page.campaign.starts_at);
                    self.ends = shown(page.campaign.ends_at);
                }
                self.page = Some((**page).clone());
            }
            Event::Connector(ConnectorEvent::Saved { campaign_id }) if *campaign_id == self.campaign_id => {
                self.dirty = false;
            }
            Event::Canvas(CanvasEvent::DistinctValues { entity, column, values }) => {
                self.choices.insert((entity.clone(), column.clone()), values.clone());
            }
            _ => {}
        }
    }

    /// Keeps what was typed, if the dates read; else says why.
    pub fn save(&mut self, commands: &mut Commands) -> bool {
        match typed_dates(&self.starts, &self.ends) {
            Ok(dates) => {
                self.error = None;
                commands.push(ConnectorCommand::Save {
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
        let back = self.header(ui, &page, commands);
        problems_list(ui, self.error.as_deref(), &page.problems);
        ui.add_space(6.0);
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            let before = (self.title.clone(), self.form.clone(), self.starts.clone(), self.ends.clone());
            self.settings_ui(ui);
            ui.add_space(theme::SECTION_GAP);
            triggers::triggers_ui(ui, &mut self.form, &page.sources);
            ui.add_space(theme::SECTION_GAP);
            triggers::delivery_rules_ui(ui, &page);
            ui.add_space(theme::SECTION_GAP);
            self.audience_ui(ui, &page, commands);
            ui.add_space(theme::SECTION_GAP);
            self.message_ui(ui, &page);
            if (self.title.clone(), self.form.clone(), self.starts.clone(), self.ends.clone()) != before {
                self.dirty = true;
            }
            ui.add_space(theme::SECTION_GAP);
            pending::pending_ui(ui, &page, commands);
        });
        back
    }

    fn header(&mut self, ui: &mut egui::Ui, page: &ConnectorPage, commands: &mut Commands) -> bool {
        let status = page.campaign.status;
        ui.horizontal(|ui| {
            let back = ui.button("\u{2b05} All campaigns").clicked();
            ui.heading(&page.campaign.name);
            ui.label(
                egui::RichText::new(format!("Action-triggered \u{b7} {}", status.label())).color(theme::muted(ui)),
            );
            ui.separator();
            if ui.add_enabled(self.dirty, egui::Button::new("Save")).clicked() {
                self.save(commands);
            }
            let id = page.campaign.id;
            let mut life = |ui: &mut egui::Ui, label: &str, action: LifeAction, enabled: bool| {
                if ui.add_enabled(enabled, egui::Button::new(label)).on_disabled_hover_text("Save first").clicked() {
                    commands.push(ConnectorCommand::Life { campaign_id: id, action });
                }
            };
            match status {
                CampaignStatus::Live => {
                    life(ui, "Pause", LifeAction::Pause, true);
                    life(ui, "Stop", LifeAction::Stop, true);
                }
                CampaignStatus::Paused => {
                    life(ui, "Resume", LifeAction::Resume, !self.dirty);
                    life(ui, "Stop", LifeAction::Stop, true);
                }
                _ => life(ui, "Publish", LifeAction::Publish, !self.dirty),
            }
            back
        })
        .inner
    }

    fn settings_ui(&mut self, ui: &mut egui::Ui) {
        let zone = jiff::tz::TimeZone::system().iana_name().unwrap_or("the system's time zone").to_owned();
        egui::Grid::new("connector").num_columns(2).spacing([24.0, 8.0]).show(ui, |ui| {
            let label = |ui: &mut egui::Ui, text: &str| ui.label(egui::RichText::new(text).color(theme::muted(ui))).id;
            let id = label(ui, "Title");
            ui.add(egui::TextEdit::singleline(&mut self.title).desired_width(320.0)).labelled_by(id);
            ui.end_row();
            let id = label(ui, "Description");
            ui.add(egui::TextEdit::multiline(&mut self.form.description).desired_rows(2).desired_width(320.0))
                .labelled_by(id);
            ui.end_row();
            let id = label(ui, "Start");
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(&mut self.starts).hint_text("any time").desired_width(140.0))
                    .labelled_by(id);
                let id = ui.label("End").id;
                ui.add(egui::TextEdit::singleline(&mut self.ends).hint_text("no end").desired_width(140.0))
                    .labelled_by(id);
                ui.label(
                    egui::RichText::new(format!("YYYY-MM-DD HH:MM, {zone}; a send due after the end is dropped"))
                        .small()
                        .color(theme::muted(ui)),
                );
            });
            ui.end_row();
        });
    }

    fn audience_ui(&mut self, ui: &mut egui::Ui, page: &ConnectorPage, commands: &mut Commands) {
        ui.strong("Audience");
        ui.label(
            egui::RichText::new("Checked when each message is due: a profile it no longer fits is not sent to.")
                .small()
                .color(theme::muted(ui)),
        );
        let Some(profile) = page.model.profile_entity().and_then(|p| page.model.entity(p)).cloned() else {
            ui.colored_label(theme::warning(ui), "The data has no profiles yet.");
            return;
        };
        egui::Frame::group(ui.style()).show(ui, |ui| {
            let mut cx = FormContext {
                model: &page.model,
                choices: &self.choices,
                wanted: Vec::new(),
                today: crate::clock::today(),
            };
            let mut rule = self.form.filter.clone();
            let changed =
                super::canvas::rule::rule_editor(ui, &mut cx, egui::Id::new("connector_rule"), &profile, &mut rule, 0);
            for (entity, column) in std::mem::take(&mut cx.wanted) {
                commands.push(CanvasCommand::DistinctValues { entity, column });
            }
            if rule != Rule::everyone() && ui.button("Every profile").clicked() {
                rule = Rule::everyone();
            }
            if changed || rule != self.form.filter {
                self.form.filter = rule;
            }
        });
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new("Re-eligibility").color(theme::muted(ui)));
            let r = &mut self.form.reeligibility;
            if ui.radio(*r == Reeligibility::Once, "Once ever").clicked() {
                *r = Reeligibility::Once;
            }
            let days = match *r {
                Reeligibility::AfterDays(d) => d,
                _ => 30,
            };
            if ui.radio(matches!(*r, Reeligibility::AfterDays(_)), "Again after").clicked() {
                *r = Reeligibility::AfterDays(days);
            }
            let mut d = days;
            let field = ui.add_enabled(
                matches!(*r, Reeligibility::AfterDays(_)),
                egui::DragValue::new(&mut d).range(1..=3650).suffix(" days"),
            );
            if field.changed() {
                *r = Reeligibility::AfterDays(d);
            }
            if ui.radio(*r == Reeligibility::EveryTime, "Every time").clicked() {
                *r = Reeligibility::EveryTime;
            }
        });
    }

    fn message_ui(&mut self, ui: &mut egui::Ui, page: &ConnectorPage) {
        ui.strong("Message");
        egui::Grid::new("connector_message").num_columns(2).spacing([24.0, 8.0]).show(ui, |ui| {
            let label = |ui: &mut egui::Ui, text: &str| ui.label(egui::RichText::new(text).color(theme::muted(ui))).id;
            label(ui, "Channel");
            ui.horizontal(|ui| {
                for c in CONNECTOR_CHANNELS {
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
            choice(ui, "connector_credential", &mut self.form.credential, &names, "the channel's default");
            ui.end_row();
            if self.form.channel == Channel::Sms {
                label(ui, "SMS configuration");
                choice(ui, "connector_sms_configuration", &mut self.form.configuration, &page.configurations, "none");
                ui.end_row();
            }
            let m = &mut self.form.message;
            if matches!(self.form.channel, Channel::Email | Channel::Push) {
                let id = label(ui, if self.form.channel == Channel::Email { "Subject" } else { "Title" });
                ui.add(egui::TextEdit::singleline(&mut m.subject).desired_width(420.0)).labelled_by(id);
                ui.end_row();
            }
            let id = label(ui, "Text");
            ui.add(egui::TextEdit::multiline(&mut m.text).desired_rows(4).desired_width(420.0)).labelled_by(id);
            ui.end_row();
            if self.form.channel == Channel::Email {
                let id = label(ui, "HTML");
                ui.add(egui::TextEdit::multiline(&mut m.html).code_editor().desired_rows(4).desired_width(420.0))
                    .labelled_by(id);
                ui.end_row();
            }
        });
        ui.label(
            egui::RichText::new(
                "{{profile.first_name}} for the recipient's columns; {{trigger.campaign}}, {{trigger.interaction}}, {{trigger.alias}} and {{trigger.at}} for what triggered it.",
            )
            .small()
            .color(theme::muted(ui)),
        );
    }
}
