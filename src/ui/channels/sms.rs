//! The SMS page of the Channels screen: the API credentials (vendor, inbound number, last
//! verification, the campaigns sending through each) with Edit, Verify SMS connection and
//! Delete, and the Inbound list (what people replied, and the keywords that changed their
//! opt-in).

use egui::RichText;

use super::super::{Commands, theme};
use crate::console::{ChannelCommand, RequestId, SmsCommand, SmsOverview, UserError};
use crate::model::sms::SmsConfiguration;
use crate::model::{CampaignStatus, Channel, Credential, ProviderKind, Verification};

/// The "Verify SMS connection" dialog of one credential.
pub(super) struct VerifyDialog {
    pub id: i64,
    pub name: String,
    pub to: String,
    pub body: String,
    /// The request waiting for the provider's answer.
    pub waiting: Option<RequestId>,
    pub result: Option<Result<Verification, UserError>>,
    /// The user stopped waiting (the message may still go out).
    pub gave_up: bool,
}

impl VerifyDialog {
    pub fn new(c: &Credential) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            to: String::new(),
            body: "This is a test message from Campaign Console.".into(),
            waiting: None,
            result: None,
            gave_up: false,
        }
    }
}

/// What a row of the lists asks for.
pub(super) enum RowAction {
    Edit(Credential),
    Verify(Credential),
    Delete(i64),
    New,
    NewConfiguration,
    EditConfiguration(SmsConfiguration),
    DeleteConfiguration(SmsConfiguration),
}

/// The vendor as the list names it.
fn vendor(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Twilio => "Twilio",
        ProviderKind::CustomSms => "Custom",
        ProviderKind::Sandbox => "Sandbox",
        ProviderKind::Http => "Webhook",
        other => other.label(),
    }
}

/// The SMS page: credentials, then inbound messages. Returns what the user asked for.
pub(super) fn page(
    ui: &mut egui::Ui,
    credentials: &[Credential],
    overview: Option<&Result<SmsOverview, UserError>>,
    commands: &mut Commands,
) -> Option<RowAction> {
    let mut action = None;
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        ui.heading("SMS");
        if ui.button("+ New API credential").clicked() {
            action = Some(RowAction::New);
        }
        if ui.button("Refresh").on_hover_text("Read the inbound messages and the campaigns again").clicked() {
            commands.push(SmsCommand::Overview);
        }
    });
    ui.add_space(theme::SECTION_GAP);
    ui.label(RichText::new("API credentials").strong());
    let of_sms: Vec<&Credential> = credentials.iter().filter(|c| c.channel == Channel::Sms).collect();
    if of_sms.is_empty() {
        ui.label(RichText::new("None yet: SMS go through the built-in Sandbox.").color(theme::muted(ui)));
    }
    let usage = overview.and_then(|o| o.as_ref().ok()).map(|o| &o.usage);
    egui::Grid::new("sms_credentials").num_columns(6).striped(true).spacing([14.0, 6.0]).show(ui, |ui| {
        for title in ["Name", "Vendor", "Inbound number", "Last verified", "", "Used by"] {
            ui.label(RichText::new(title).color(theme::muted(ui)));
        }
        ui.end_row();
        for c in &of_sms {
            let default = crate::model::default_credential(credentials, Channel::Sms).is_some_and(|d| d.id == c.id);
            ui.label(if default { format!("{} (default)", c.name) } else { c.name.clone() });
            ui.label(vendor(c.provider()));
            let inbound = match &c.settings {
                crate::model::ProviderSettings::Twilio(t) => t.inbound_number.clone(),
                _ => String::new(),
            };
            ui.label(if inbound.is_empty() { "—".to_owned() } else { inbound });
            match &c.verified {
                None => ui.label(RichText::new("never").color(theme::muted(ui))),
                Some(v) if v.ok => ui.colored_label(theme::ok(ui), format!("\u{2714} {}", theme::when(v.at))),
                Some(v) => ui
                    .colored_label(
                        theme::error(ui),
                        format!("{} {} · {}", theme::ICON_ERROR, theme::when(v.at), v.code),
                    )
                    .on_hover_text(&v.summary),
            };
            ui.horizontal(|ui| {
                if ui.button("Edit").clicked() {
                    action = Some(RowAction::Edit((*c).clone()));
                }
                let verify =
                    ui.button("Verify…").on_hover_text("Verify SMS connection: send one real message through it");
                if verify.clicked() {
                    action = Some(RowAction::Verify((*c).clone()));
                }
                if ui.button("\u{1f5d1}").on_hover_text(format!("Delete {}", c.name)).clicked() {
                    action = Some(RowAction::Delete(c.id));
                }
            });
            let configurations: Vec<String> = overview
                .and_then(|o| o.as_ref().ok())
                .map(|o| {
                    o.configurations
                        .iter()
                        .filter(|s| s.credential_id == c.id)
                        .map(|s| format!("{} (configuration)", s.name))
                        .collect()
                })
                .unwrap_or_default();
            used_by(ui, usage.and_then(|u| u.get(&c.id)), configurations);
            ui.end_row();
        }
    });
    ui.add_space(theme::SECTION_GAP * 2.0);
    if let Some(a) = configurations(ui, credentials, overview) {
        action = Some(a);
    }
    ui.add_space(theme::SECTION_GAP * 2.0);
    inbound(ui, overview);
    action
}

/// What uses a credential or a configuration: campaigns (with their status), then `more`;
/// all of it on hover when it does not fit.
fn used_by(ui: &mut egui::Ui, campaigns: Option<&Vec<(String, CampaignStatus)>>, more: Vec<String>) {
    let Some(campaigns) = campaigns else {
        ui.spinner();
        return;
    };
    let mut names: Vec<String> = campaigns.iter().map(|(n, s)| format!("{n} ({})", s.label().to_lowercase())).collect();
    names.extend(more);
    if names.is_empty() {
        ui.label(RichText::new("nothing").color(theme::muted(ui)));
        return;
    }
    let all = names.join(", ");
    ui.scope(|ui| {
        ui.set_max_width(190.0);
        ui.add(egui::Label::new(all.as_str()).truncate()).on_hover_text(all.as_str());
    });
}

/// The configurations SMS activities pick: credential, sender, keywords, and what uses each.
fn configurations(
    ui: &mut egui::Ui,
    credentials: &[Credential],
    overview: Option<&Result<SmsOverview, UserError>>,
) -> Option<RowAction> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.label(RichText::new("Configurations").strong());
        if ui.button("+ New configuration").clicked() {
            action = Some(RowAction::NewConfiguration);
        }
    });
    let Some(Ok(o)) = overview else {
        ui.spinner();
        return action;
    };
    if o.configurations.is_empty() {
        ui.label(
            RichText::new("None yet: SMS activities send with their credential's own sender and the standard keywords (STOP, START, HELP).")
                .color(theme::muted(ui)),
        );
        return action;
    }
    egui::Grid::new("sms_configurations").num_columns(6).striped(true).spacing([14.0, 6.0]).show(ui, |ui| {
        for title in ["Name", "API credential", "Sender", "Opt-out keywords", "", "Used by"] {
            ui.label(RichText::new(title).color(theme::muted(ui)));
        }
        ui.end_row();
        for c in &o.configurations {
            ui.label(&c.name);
            let credential = credentials.iter().find(|k| k.id == c.credential_id);
            ui.label(credential.map_or("—", |k| k.name.as_str()));
            ui.label(c.sender().unwrap_or("the credential's"));
            let words = c.keywords.opt_out.join(", ");
            ui.scope(|ui| {
                ui.set_max_width(170.0);
                ui.add(egui::Label::new(words.as_str()).truncate()).on_hover_text(words.as_str());
            });
            ui.horizontal(|ui| {
                if ui.button("Edit").on_hover_text(format!("Edit the configuration {}", c.name)).clicked() {
                    action = Some(RowAction::EditConfiguration(c.clone()));
                }
                if ui.button("\u{1f5d1}").on_hover_text(format!("Delete the configuration {}", c.name)).clicked() {
                    action = Some(RowAction::DeleteConfiguration(c.clone()));
                }
            });
            used_by(ui, o.configuration_usage.get(&c.id), Vec::new());
            ui.end_row();
        }
    });
    action
}

/// The messages people sent to the workspace's numbers, newest first.
fn inbound(ui: &mut egui::Ui, overview: Option<&Result<SmsOverview, UserError>>) {
    let list = match overview {
        None => {
            ui.label(RichText::new("Inbound").strong());
            ui.spinner();
            return;
        }
        Some(Err(e)) => {
            ui.colored_label(theme::error(ui), format!("{} {e}", theme::ICON_ERROR));
            return;
        }
        Some(Ok(o)) => &o.inbound,
    };
    ui.label(RichText::new(format!("Inbound ({})", theme::count(list.len() as u64))).strong());
    if list.is_empty() {
        ui.label(
            RichText::new("No message received yet. Replies come in through the server (campaign-console serve): point the number's incoming-message webhook at <public URL>/webhooks/twilio/inbound.")
                .color(theme::muted(ui)),
        );
        return;
    }
    egui::Grid::new("sms_inbound").num_columns(6).striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
        for title in ["Received", "From", "To", "Message", "Keyword", "Profile"] {
            ui.label(RichText::new(title).color(theme::muted(ui)));
        }
        ui.end_row();
        for m in list {
            ui.label(theme::when(m.received_at));
            ui.label(&m.from);
            ui.label(m.credential.as_deref().map_or_else(|| m.to.clone(), |c| format!("{} ({c})", m.to)));
            let text: String = m.body.chars().take(80).collect();
            ui.label(text).on_hover_text(&m.body);
            ui.label(m.keyword.map_or("", |k| k.label()));
            ui.label(m.profile_key.as_deref().unwrap_or("—"));
            ui.end_row();
        }
    });
}

/// The Verify SMS connection dialog; `false` when it is closed.
pub(super) fn verify_window(ui: &mut egui::Ui, dialog: &mut VerifyDialog, commands: &mut Commands) -> bool {
    let mut open = true;
    egui::Window::new("Verify SMS connection")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ui.ctx(), |ui| {
            ui.label(format!(
                "Sends one real message through \u{201c}{}\u{201d} and shows the provider's answer.",
                dialog.name
            ));
            ui.add_space(6.0);
            egui::Grid::new("verify_sms").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
                let label = ui.label("Number").id;
                ui.add(egui::TextEdit::singleline(&mut dialog.to).hint_text("+33612345678").desired_width(260.0))
                    .labelled_by(label);
                ui.end_row();
                let label = ui.label("Message").id;
                ui.add(egui::TextEdit::multiline(&mut dialog.body).desired_rows(3).desired_width(260.0))
                    .labelled_by(label);
                ui.end_row();
            });
            let length = dialog.body.chars().count();
            ui.label(RichText::new(format!("{length} characters")).color(theme::muted(ui)));
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let ready = dialog.waiting.is_none() && !dialog.to.trim().is_empty() && !dialog.body.trim().is_empty();
                if ui.add_enabled(ready, egui::Button::new("Verify")).clicked() {
                    dialog.result = None;
                    dialog.gave_up = false;
                    dialog.waiting = Some(commands.push(ChannelCommand::VerifySms {
                        id: dialog.id,
                        to: dialog.to.trim().to_owned(),
                        body: dialog.body.clone(),
                    }));
                }
                if dialog.waiting.is_some() {
                    ui.spinner();
                    ui.label("Waiting for the provider…");
                    if ui.button("Cancel").clicked() {
                        dialog.waiting = None;
                        dialog.gave_up = true;
                    }
                } else if ui.button("Close").clicked() {
                    open = false;
                }
            });
            if dialog.gave_up {
                ui.label(
                    RichText::new(
                        "Stopped waiting: the message may still be sent; the list shows the answer when it comes.",
                    )
                    .color(theme::muted(ui)),
                );
            }
            match &dialog.result {
                Some(Ok(v)) if v.ok => {
                    ui.colored_label(theme::ok(ui), format!("\u{2714} {}", v.summary));
                }
                Some(Ok(v)) => {
                    ui.colored_label(
                        theme::error(ui),
                        format!("{} {}", theme::ICON_ERROR, super::super::sentence(&v.summary)),
                    );
                    ui.collapsing("Details", |ui| {
                        ui.label(format!("The provider's code: {}", v.code));
                        ui.label(format!("What it said: {}", v.detail));
                    });
                }
                Some(Err(e)) => {
                    ui.colored_label(theme::error(ui), format!("{} {e}", theme::ICON_ERROR));
                }
                None => {}
            }
        });
    open
}
