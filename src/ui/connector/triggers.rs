//! The connector's triggers ("interacts with campaign", OR-ed), its schedule delay, its
//! exception events, and the delivery rules as the seed explains them.

use super::super::api_campaign::shown;
use super::super::theme;
use crate::console::{ConnectorPage, SourceCampaign};
use crate::model::CampaignStatus;
use crate::model::connector::{ConnectorForm, Delay, Interaction, TriggerRule};

/// The triggers, the delay and the exceptions.
pub(super) fn triggers_ui(ui: &mut egui::Ui, form: &mut ConnectorForm, sources: &[SourceCampaign]) {
    ui.strong("Trigger: interacts with campaign");
    ui.label(
        egui::RichText::new("Any of these starts the follow-up for the profile: an interaction with an orchestrated campaign, an API-triggered one, or another follow-up.")
            .small()
            .color(theme::muted(ui)),
    );
    rules_ui(ui, "trigger", &mut form.triggers, sources, false);
    if ui.button("+ Add a trigger (or)").clicked() {
        form.triggers.push(TriggerRule::default());
    }
    ui.add_space(theme::SECTION_GAP);
    ui.strong("Schedule delay");
    delay_ui(ui, &mut form.delay);
    ui.add_space(theme::SECTION_GAP);
    ui.strong("Exception events");
    ui.label(
        egui::RichText::new(
            "One of these while the profile waits cancels its message (one before the trigger does not count).",
        )
        .small()
        .color(theme::muted(ui)),
    );
    rules_ui(ui, "exception", &mut form.exceptions, sources, true);
    if ui.button("+ Add an exception").clicked() {
        form.exceptions.push(TriggerRule { interaction: Interaction::EmailOpened, ..TriggerRule::default() });
    }
}

/// Rows of interaction × campaign × narrowing, each with a remove button.
fn rules_ui(ui: &mut egui::Ui, salt: &str, rules: &mut Vec<TriggerRule>, sources: &[SourceCampaign], exception: bool) {
    let mut remove = None;
    for (i, r) in rules.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let id = ui.make_persistent_id((salt, i));
            egui::ComboBox::from_id_salt(id.with("interaction"))
                .selected_text(r.interaction.label())
                .width(210.0)
                .show_ui(ui, |ui| {
                    for k in Interaction::ALL {
                        ui.selectable_value(&mut r.interaction, k, k.label());
                    }
                });
            ui.label("of");
            let none = if !exception {
                "choose a campaign"
            } else if r.interaction.is_conversion() {
                "any campaign"
            } else {
                "the trigger's campaign"
            };
            let name = r
                .campaign
                .map(|id| sources.iter().find(|s| s.id == id).map_or_else(|| format!("campaign {id}"), source_label));
            egui::ComboBox::from_id_salt(id.with("campaign"))
                .selected_text(name.unwrap_or_else(|| none.to_owned()))
                .width(220.0)
                .show_ui(ui, |ui| {
                    if exception && ui.selectable_label(r.campaign.is_none(), none).clicked() {
                        r.campaign = None;
                        r.message = None;
                    }
                    for s in sources {
                        if ui.selectable_label(r.campaign == Some(s.id), source_label(s)).clicked() {
                            r.campaign = Some(s.id);
                            r.message = None;
                        }
                    }
                });
            let messages = r.campaign.and_then(|id| sources.iter().find(|s| s.id == id)).map(|s| &s.messages);
            if let Some(messages) = messages.filter(|m| m.len() > 1) {
                let shown = r
                    .message
                    .as_ref()
                    .and_then(|m| messages.iter().find(|(id, _)| id == m))
                    .map_or("any message", |(_, label)| label.as_str());
                egui::ComboBox::from_id_salt(id.with("message")).selected_text(shown).show_ui(ui, |ui| {
                    ui.selectable_value(&mut r.message, None, "any message");
                    for (mid, label) in messages {
                        ui.selectable_value(&mut r.message, Some(mid.clone()), label);
                    }
                });
            }
            if r.interaction.has_alias() {
                let mut alias = r.alias.clone().unwrap_or_default();
                let field =
                    ui.add(egui::TextEdit::singleline(&mut alias).hint_text("link alias (any)").desired_width(120.0));
                if field.changed() {
                    r.alias = Some(alias).filter(|a| !a.trim().is_empty());
                }
            }
            if r.interaction.is_conversion() {
                let mut name = r.conversion.clone().unwrap_or_default();
                let field = ui
                    .add(egui::TextEdit::singleline(&mut name).hint_text("conversion (purchase)").desired_width(140.0));
                if field.changed() {
                    r.conversion = Some(name).filter(|n| !n.trim().is_empty());
                }
            }
            if ui.small_button("\u{1f5d1}").on_hover_text("Remove").clicked() {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        rules.remove(i);
    }
}

fn source_label(s: &SourceCampaign) -> String {
    match s.status {
        CampaignStatus::Live => s.name.clone(),
        other => format!("{} ({})", s.name, other.label().to_lowercase()),
    }
}

/// No delay, a number of minutes to weeks, or the next local time of day.
fn delay_ui(ui: &mut egui::Ui, delay: &mut Delay) {
    ui.horizontal(|ui| {
        if ui.radio(*delay == Delay::None, "No delay").clicked() {
            *delay = Delay::None;
        }
        let (amount, unit) = match *delay {
            Delay::Minutes(n) => (n, 0),
            Delay::Hours(n) => (n, 1),
            Delay::Days(n) => (n, 2),
            Delay::Weeks(n) => (n, 3),
            _ => (3, 2),
        };
        let after = !matches!(*delay, Delay::None | Delay::NextLocalTime { .. });
        if ui.radio(after, "After").clicked() && !after {
            *delay = Delay::Days(3);
        }
        let (mut amount, mut unit) = (amount, unit);
        let changed = ui.add_enabled(after, egui::DragValue::new(&mut amount).range(1..=10_000)).changed();
        let units = ["minutes", "hours", "days", "weeks"];
        let mut picked = false;
        ui.add_enabled_ui(after, |ui| {
            egui::ComboBox::from_id_salt("delay_unit").selected_text(units[unit]).show_ui(ui, |ui| {
                for (i, u) in units.iter().enumerate() {
                    picked |= ui.selectable_value(&mut unit, i, *u).changed();
                }
            });
        });
        if after && (changed || picked) {
            *delay = [Delay::Minutes, Delay::Hours, Delay::Days, Delay::Weeks][unit](amount);
        }
        let (hour, minute) = match *delay {
            Delay::NextLocalTime { hour, minute } => (hour, minute),
            _ => (9, 0),
        };
        let local = matches!(*delay, Delay::NextLocalTime { .. });
        if ui.radio(local, "At the next").clicked() && !local {
            *delay = Delay::NextLocalTime { hour, minute };
        }
        let (mut h, mut m) = (hour, minute);
        let a = ui
            .add_enabled(local, egui::DragValue::new(&mut h).range(0..=23).custom_formatter(|v, _| format!("{v:02}")));
        ui.label(":");
        let b = ui
            .add_enabled(local, egui::DragValue::new(&mut m).range(0..=59).custom_formatter(|v, _| format!("{v:02}")));
        if local && (a.changed() || b.changed()) {
            *delay = Delay::NextLocalTime { hour: h, minute: m };
        }
        ui.label("in the profile's time zone");
    });
}

/// The delivery rules: only interactions after this follow-up is published count; both
/// publication times, a warning when a source went first, and the order to publish in.
pub(super) fn delivery_rules_ui(ui: &mut egui::Ui, page: &ConnectorPage) {
    ui.strong("Delivery rules");
    ui.label(
        "Only interactions that happen after this follow-up is published count: a profile who interacted with the source campaign before gets nothing from it.",
    );
    let mine = page
        .campaign
        .published_at
        .map_or_else(|| "not published yet".to_owned(), |t| format!("published {}", shown(Some(t))));
    ui.label(egui::RichText::new(format!("This follow-up: {mine}")).color(theme::muted(ui)));
    let mut seen = std::collections::HashSet::new();
    for id in page.form.triggers.iter().filter_map(|t| t.campaign) {
        if !seen.insert(id) {
            continue;
        }
        let Some(s) = page.sources.iter().find(|s| s.id == id) else { continue };
        let when =
            s.published_at.map_or_else(|| s.status.label().to_lowercase(), |t| format!("published {}", shown(Some(t))));
        ui.label(egui::RichText::new(format!("\u{201c}{}\u{201d}: {when}", s.name)).color(theme::muted(ui)));
    }
    for w in &page.warnings {
        ui.colored_label(theme::warning(ui), format!("\u{26a0} {w}"));
    }
    ui.label(
        egui::RichText::new(
            "To reach everyone: keep the source campaign as a draft, publish this follow-up, then publish the source.",
        )
        .small()
        .color(theme::muted(ui)),
    );
}
