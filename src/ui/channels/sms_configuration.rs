//! The SMS configuration dialog: a name, the API credential, the sender, the keywords people
//! reply with and the replies they get. Checked as it is typed; Save is off, with the reasons,
//! until it can work.

use egui::RichText;

use super::super::{Commands, sentence, theme};
use crate::console::{RequestId, SmsCommand, UserError};
use crate::model::sms::{Keywords, SmsConfiguration, parse_keywords};
use crate::model::{Channel, Credential, ProviderKind};

/// A configuration being added or edited.
pub(super) struct Dialog {
    id: i64,
    created_at: jiff::Timestamp,
    pub name: String,
    pub credential_id: i64,
    pub sender: String,
    pub opt_out: String,
    pub opt_out_reply: String,
    pub opt_in: String,
    pub opt_in_reply: String,
    pub help: String,
    pub help_reply: String,
    pub shorten_links: bool,
    /// The Save request waiting for its answer.
    pub saving: Option<RequestId>,
    pub error: Option<UserError>,
    /// The name field takes the keyboard when the dialog opens.
    focus_name: bool,
}

impl Dialog {
    /// A new configuration on the default SMS credential, with the standard keywords.
    pub fn new(credentials: &[Credential]) -> Self {
        let credential_id = crate::model::default_credential(credentials, Channel::Sms).map_or(0, |c| c.id);
        Self::of(&SmsConfiguration {
            id: 0,
            name: String::new(),
            credential_id,
            sender: String::new(),
            keywords: Keywords::default(),
            shorten_links: false,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        })
    }

    pub fn of(c: &SmsConfiguration) -> Self {
        let k = &c.keywords;
        Self {
            id: c.id,
            created_at: c.created_at,
            name: c.name.clone(),
            credential_id: c.credential_id,
            sender: c.sender.clone(),
            opt_out: k.opt_out.join(", "),
            opt_out_reply: k.opt_out_reply.clone(),
            opt_in: k.opt_in.join(", "),
            opt_in_reply: k.opt_in_reply.clone(),
            help: k.help.join(", "),
            help_reply: k.help_reply.clone(),
            shorten_links: c.shorten_links,
            saving: None,
            error: None,
            focus_name: true,
        }
    }

    /// The configuration as typed.
    pub fn configuration(&self) -> SmsConfiguration {
        SmsConfiguration {
            id: self.id,
            name: self.name.trim().to_owned(),
            credential_id: self.credential_id,
            sender: self.sender.trim().to_owned(),
            keywords: Keywords {
                opt_out: parse_keywords(&self.opt_out),
                opt_out_reply: self.opt_out_reply.trim().to_owned(),
                opt_in: parse_keywords(&self.opt_in),
                opt_in_reply: self.opt_in_reply.trim().to_owned(),
                help: parse_keywords(&self.help),
                help_reply: self.help_reply.trim().to_owned(),
            },
            shorten_links: self.shorten_links,
            created_at: self.created_at,
        }
    }
}

/// The dialog; `false` once it is closed (cancelled, or saved).
pub(super) fn window(
    ui: &mut egui::Ui,
    dialog: &mut Dialog,
    credentials: &[Credential],
    taken: &[SmsConfiguration],
    public_url: &str,
    commands: &mut Commands,
) -> bool {
    let mut open = true;
    let of_sms: Vec<&Credential> = credentials.iter().filter(|c| c.channel == Channel::Sms).collect();
    let credential = of_sms.iter().find(|c| c.id == dialog.credential_id);
    let twilio = credential.is_some_and(|c| c.provider() == ProviderKind::Twilio);
    let typed = dialog.configuration();
    let mut problems = typed.problems(twilio);
    if taken.iter().any(|c| c.id != typed.id && c.name.trim().eq_ignore_ascii_case(&typed.name)) {
        problems.push(("name", format!("a configuration named \u{201c}{}\u{201d} already exists", typed.name)));
    }
    let title = if dialog.id == 0 { "New SMS configuration" } else { "SMS configuration" };
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ui.ctx(), |ui| {
            ui.label(
                RichText::new("What an SMS activity picks: the credential it sends through, as which sender, and how the number answers replies.")
                    .color(theme::muted(ui)),
            );
            ui.add_space(6.0);
            let problem = |ui: &mut egui::Ui, key: &str| {
                if let Some((_, why)) = problems.iter().find(|(k, _)| *k == key) {
                    ui.scope(|ui| {
                        ui.set_max_width(260.0);
                        let text = RichText::new(format!("{} {}", theme::ICON_ERROR, sentence(why))).color(theme::error(ui));
                        ui.add(egui::Label::new(text).wrap());
                    });
                } else {
                    ui.label("");
                }
            };
            egui::Grid::new("sms_configuration_form").num_columns(3).spacing([12.0, 8.0]).show(ui, |ui| {
                let label = ui.label("Name").id;
                let name =
                    ui.add(egui::TextEdit::singleline(&mut dialog.name).hint_text("e.g. US marketing").desired_width(300.0))
                        .labelled_by(label);
                if std::mem::take(&mut dialog.focus_name) {
                    name.request_focus();
                }
                // An empty name is said on Save, not shouted before anything is typed.
                if dialog.name.is_empty() {
                    ui.label("");
                } else {
                    problem(ui, "name");
                }
                ui.end_row();
                let label = ui.label("API credential").id;
                let shown = credential.map_or_else(|| "choose one".to_owned(), |c| c.name.clone());
                egui::ComboBox::from_id_salt("sms_configuration_credential")
                    .selected_text(shown)
                    .width(300.0)
                    .show_ui(ui, |ui| {
                        for c in &of_sms {
                            ui.selectable_value(&mut dialog.credential_id, c.id, c.name.as_str());
                        }
                    })
                    .response
                    .labelled_by(label);
                problem(ui, "credential");
                ui.end_row();
                let label = ui.label("Sender").id;
                let own = credential.map_or(String::new(), |c| own_sender(c));
                let hint = if own.is_empty() { "e.g. +14155550100".to_owned() } else { format!("the credential's: {own}") };
                ui.add(egui::TextEdit::singleline(&mut dialog.sender).hint_text(hint).desired_width(300.0))
                    .labelled_by(label)
                    .on_hover_text(if twilio {
                        "A phone number in international form, or a Messaging Service SID (MG…); empty: the credential's own"
                    } else {
                        "A phone number in international form; empty: the credential's own"
                    });
                problem(ui, "sender");
                ui.end_row();
                keyword_rows(ui, dialog, &problem);
                links_row(ui, &mut dialog.shorten_links, public_url);
                ui.label("");
                ui.end_row();
            });
            ui.label(
                RichText::new("Keywords are whole replies, in any case (\u{201c} stop \u{201d} is STOP); separate them with commas. An empty reply sends nothing back.")
                    .small()
                    .color(theme::muted(ui)),
            );
            ui.add_space(6.0);
            if !buttons(ui, dialog, &typed, &problems, commands) {
                open = false;
            }
            if let Some(e) = &dialog.error {
                ui.colored_label(theme::error(ui), format!("{} {e}", theme::ICON_ERROR));
            }
        });
    open
}

/// The opt-out, opt-in and help keywords, each with its reply.
fn keyword_rows(ui: &mut egui::Ui, dialog: &mut Dialog, problem: &dyn Fn(&mut egui::Ui, &str)) {
    for (key, what, words, reply) in [
        ("opt_out", "Opt-out", &mut dialog.opt_out, &mut dialog.opt_out_reply),
        ("opt_in", "Opt-in", &mut dialog.opt_in, &mut dialog.opt_in_reply),
        ("help", "Help", &mut dialog.help, &mut dialog.help_reply),
    ] {
        let label = ui.label(format!("{what} keywords")).id;
        ui.add(egui::TextEdit::singleline(words).desired_width(300.0)).labelled_by(label);
        problem(ui, key);
        ui.end_row();
        let label = ui.label(format!("{what} reply")).id;
        ui.vertical(|ui| {
            ui.add(egui::TextEdit::multiline(reply).desired_rows(2).desired_width(300.0)).labelled_by(label);
            let n = reply.trim().chars().count();
            ui.label(
                RichText::new(format!("{n} of {} characters", crate::model::sms::REPLY_MAX_CHARACTERS))
                    .small()
                    .color(theme::muted(ui)),
            );
        });
        problem(
            ui,
            match key {
                "opt_out" => "opt_out_reply",
                "opt_in" => "opt_in_reply",
                _ => "help_reply",
            },
        );
        ui.end_row();
    }
}

/// Whether links are shortened, and where short links point.
fn links_row(ui: &mut egui::Ui, shorten_links: &mut bool, public_url: &str) {
    ui.label("Links");
    ui.vertical(|ui| {
        ui.checkbox(shorten_links, "Shorten links through this app's tracking")
            .on_hover_text("Each link becomes a short link on this app's server, which counts the click and sends the reader on.");
        if *shorten_links {
            let at = if public_url.trim().is_empty() {
                RichText::new("Short links point at the server's address on this computer, which phones cannot reach: set its public URL in Settings \u{2013} Server.").color(theme::warning(ui))
            } else {
                RichText::new(format!("Short links point at {}/s/\u{2026}", public_url.trim().trim_end_matches('/'))).color(theme::muted(ui))
            };
            ui.scope(|ui| {
                ui.set_max_width(300.0);
                ui.add(egui::Label::new(at.small()).wrap());
            });
        }
    });
}

/// Save (off, with the reasons, while there are problems) and Cancel; `false` on Cancel.
fn buttons(
    ui: &mut egui::Ui,
    dialog: &mut Dialog,
    typed: &SmsConfiguration,
    problems: &[(&'static str, String)],
    commands: &mut Commands,
) -> bool {
    let mut open = true;
    ui.horizontal(|ui| {
        let clean = problems.is_empty();
        let save = ui.add_enabled(clean && dialog.saving.is_none(), egui::Button::new("Save"));
        let save = if clean {
            save
        } else {
            let reasons: Vec<String> = problems.iter().map(|(_, why)| sentence(why)).collect();
            save.on_disabled_hover_text(reasons.join("\n"))
        };
        if save.clicked() {
            dialog.error = None;
            dialog.saving = Some(commands.push(SmsCommand::SaveConfiguration(Box::new(typed.clone()))));
        }
        if dialog.saving.is_some() {
            ui.spinner();
        }
        if ui.button("Cancel").clicked() {
            open = false;
        }
    });
    open
}

/// The sender a credential sends as when a configuration gives none.
fn own_sender(c: &Credential) -> String {
    match &c.settings {
        crate::model::ProviderSettings::Twilio(t) if !t.messaging_service_sid.trim().is_empty() => {
            t.messaging_service_sid.trim().to_owned()
        }
        crate::model::ProviderSettings::Twilio(t) => t.from.trim().to_owned(),
        crate::model::ProviderSettings::CustomSms(s) => s.from.trim().to_owned(),
        _ => String::new(),
    }
}

/// The configuration dialogs of the SMS page: add or edit, and confirm a delete.
#[derive(Default)]
pub(super) struct Configurations {
    pub dialog: Option<Dialog>,
    /// The configuration to delete, once confirmed; why it was not deleted, if it was refused.
    confirm_delete: Option<(SmsConfiguration, Option<UserError>)>,
    deleting: Option<RequestId>,
}

impl Configurations {
    pub fn edit(&mut self, dialog: Dialog) {
        self.dialog = Some(dialog);
    }

    pub fn ask_delete(&mut self, c: SmsConfiguration) {
        self.confirm_delete = Some((c, None));
        self.deleting = None;
    }

    /// The open dialogs.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        credentials: &[Credential],
        taken: &[SmsConfiguration],
        public_url: &str,
        commands: &mut Commands,
    ) {
        if let Some(d) = self.dialog.as_mut()
            && !window(ui, d, credentials, taken, public_url, commands)
        {
            self.dialog = None;
        }
        let Some((c, refused)) = self.confirm_delete.as_ref() else { return };
        let mut close = false;
        egui::Window::new("Delete SMS configuration")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ui.ctx(), |ui| {
                ui.label(format!(
                    "Delete \u{201c}{}\u{201d}? SMS activities that name it will not send until they name another.",
                    c.name
                ));
                if let Some(e) = refused {
                    ui.colored_label(theme::error(ui), format!("{} {e}", theme::ICON_ERROR));
                }
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(self.deleting.is_none() && refused.is_none(), egui::Button::new("Delete"))
                        .clicked()
                    {
                        self.deleting = Some(commands.push(SmsCommand::DeleteConfiguration { id: c.id }));
                    }
                    if self.deleting.is_some() {
                        ui.spinner();
                    }
                    if ui.button(if refused.is_some() { "Close" } else { "Keep" }).clicked() {
                        close = true;
                    }
                });
            });
        if close {
            self.confirm_delete = None;
            self.deleting = None;
        }
    }

    /// The answer to a Save or a Delete of these dialogs.
    pub fn answered(&mut self, outcome: &Result<Option<i64>, UserError>, request: Option<RequestId>) {
        if let Some(d) = self.dialog.as_mut().filter(|d| request.is_some() && d.saving == request) {
            d.saving = None;
            match outcome {
                Ok(_) => self.dialog = None,
                Err(e) => d.error = Some(e.clone()),
            }
        } else if request.is_some() && self.deleting == request {
            self.deleting = None;
            match outcome {
                Ok(_) => self.confirm_delete = None,
                Err(e) => {
                    if let Some((_, refused)) = self.confirm_delete.as_mut() {
                        *refused = Some(e.clone());
                    }
                }
            }
        }
    }
}
