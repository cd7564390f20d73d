//! The detail pane of the browser: the row clicked with every value, its linked rows (a
//! profile's bookings, a booking's profile), the messages sent to it and its events.

use super::super::theme;
use crate::model::DataModel;
use crate::model::browse::RowDetail;

/// Draws the detail of the row clicked; returns a linked row clicked (entity, key).
pub fn pane(
    ui: &mut egui::Ui,
    model: &DataModel,
    detail: Option<&RowDetail>,
    selected: Option<i64>,
) -> Option<(String, i64)> {
    let Some(d) = detail else {
        let hint = if selected.is_some() { "Reading the row\u{2026}" } else { "Click a row to see it whole." };
        ui.add_space(8.0);
        ui.label(egui::RichText::new(hint).color(theme::muted(ui)));
        return None;
    };
    let label = |name: &str| model.entity(name).map_or_else(|| name.to_owned(), |e| e.label.clone());
    let mut clicked = None;
    egui::ScrollArea::vertical().id_salt("browse_detail_scroll").auto_shrink([false, false]).show(ui, |ui| {
        ui.add_space(8.0);
        ui.heading(format!("{} #{}", label(&d.entity), d.key));
        if d.fields.is_empty() {
            ui.colored_label(theme::warning(ui), "This row is no longer in the workspace.");
            return;
        }
        egui::Grid::new("browse_detail_fields").num_columns(2).spacing([16.0, 3.0]).striped(true).show(ui, |ui| {
            for (name, value) in &d.fields {
                ui.label(egui::RichText::new(name).color(theme::muted(ui)));
                ui.add(egui::Label::new(value).wrap());
                ui.end_row();
            }
        });
        for (i, linked) in d.linked.iter().enumerate() {
            ui.add_space(theme::SECTION_GAP);
            let title = format!("{} ({})", label(&linked.entity), theme::count(linked.total));
            ui.strong(title);
            if linked.rows.is_empty() {
                ui.label(egui::RichText::new("none").color(theme::muted(ui)));
                continue;
            }
            egui::ScrollArea::horizontal().id_salt(("browse_linked_h", i)).show(ui, |ui| {
                egui::Grid::new(("browse_linked", i)).striped(true).spacing([12.0, 2.0]).show(ui, |ui| {
                    for c in &linked.columns {
                        ui.label(egui::RichText::new(c).color(theme::muted(ui)));
                    }
                    ui.end_row();
                    for r in &linked.rows {
                        for (j, value) in r.cells.iter().enumerate() {
                            // The key opens the linked row in this pane.
                            if j == linked.key_column {
                                if ui.link(value).on_hover_text("Show this row").clicked() {
                                    clicked = Some((linked.entity.clone(), r.key));
                                }
                            } else {
                                ui.add(egui::Label::new(value).extend());
                            }
                        }
                        ui.end_row();
                    }
                });
            });
            if linked.total > linked.rows.len() as u64 {
                ui.label(
                    egui::RichText::new(format!("the first {} shown", linked.rows.len()))
                        .small()
                        .color(theme::muted(ui)),
                );
            }
        }
        if model.profile_entity() == Some(d.entity.as_str()) {
            messages(ui, d);
            events(ui, d);
        } else if d.entity == crate::model::VISITORS {
            messages(ui, d);
        }
    });
    clicked
}

fn messages(ui: &mut egui::Ui, d: &RowDetail) {
    ui.add_space(theme::SECTION_GAP);
    ui.strong(format!("Messages ({})", theme::count(d.messages_total)));
    if d.messages.is_empty() {
        let whom = if d.entity == crate::model::VISITORS { "visitor" } else { "profile" };
        ui.label(egui::RichText::new(format!("No message was sent to this {whom}.")).color(theme::muted(ui)));
        return;
    }
    let rows = d.messages.iter().map(|m| {
        let campaign = m.campaign.clone().unwrap_or_else(|| "\u{2014}".to_owned());
        let status = match &m.reason {
            Some(why) => format!("{} ({why})", m.status),
            None if m.proof => format!("{} (proof)", m.status),
            None => m.status.clone(),
        };
        vec![short_time(&m.at), campaign, m.channel.clone(), status, m.address.clone()]
    });
    grid(ui, "browse_messages", &["When", "Campaign", "Channel", "Status", "Address"], rows);
}

fn events(ui: &mut egui::Ui, d: &RowDetail) {
    ui.add_space(theme::SECTION_GAP);
    ui.strong(format!("Interactions ({})", theme::count(d.events_total)));
    if d.events.is_empty() {
        ui.label(
            egui::RichText::new("No interaction yet (deliveries, opens, clicks\u{2026}).").color(theme::muted(ui)),
        );
        return;
    }
    let rows = d.events.iter().map(|e| {
        vec![short_time(&e.at), e.kind.replace('_', " "), e.campaign.clone().unwrap_or_else(|| "\u{2014}".to_owned())]
    });
    grid(ui, "browse_events", &["When", "What", "Campaign"], rows);
}

/// A small table of text, its header muted, scrolling sideways when wide.
fn grid(ui: &mut egui::Ui, id: &str, headers: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    egui::ScrollArea::horizontal().id_salt((id, "h")).show(ui, |ui| {
        egui::Grid::new(id).striped(true).spacing([12.0, 2.0]).show(ui, |ui| {
            for h in headers {
                ui.label(egui::RichText::new(*h).color(theme::muted(ui)));
            }
            ui.end_row();
            for row in rows {
                for value in row {
                    ui.add(egui::Label::new(value).extend());
                }
                ui.end_row();
            }
        });
    });
}

/// `2026-11-23T09:05:00Z` as `2026-11-23 09:05`.
fn short_time(at: &str) -> String {
    at.parse::<jiff::Timestamp>().map_or_else(|_| at.to_owned(), theme::when)
}
