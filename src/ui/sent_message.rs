//! A message as the Sandbox kept it, in a window of its own over the Deliveries screen: who it
//! went to, its subject and text, and its links, each one a click away in the browser (a
//! tracked link leads through the server, which counts the click).

use egui::RichText;

use super::theme;
use crate::model::delivery::SentMessage;

/// The message window's state: the ledger row shown, and its message once read.
pub struct MessageWindow {
    pub ledger_id: i64,
    /// `None` while it is read; then what the Sandbox kept (`None` inside: nothing).
    pub message: Option<Option<Box<SentMessage>>>,
}

/// Draws the window; returns `false` once the user closed it.
pub fn show(ctx: &egui::Context, window: &MessageWindow) -> bool {
    let mut open = true;
    egui::Window::new(format!("Message of ledger row {}", window.ledger_id))
        .id(egui::Id::new("sent_message"))
        .open(&mut open)
        .default_width(520.0)
        .default_pos(ctx.content_rect().right_top() + egui::vec2(-560.0, 60.0))
        .default_height(420.0)
        .resizable(true)
        .show(ctx, |ui| match &window.message {
            None => {
                ui.spinner();
            }
            Some(None) => {
                ui.label(
                    RichText::new(
                        "The Sandbox kept nothing of this message: it was sent through a real provider (it is in the recipient's mailbox or phone), or not sent yet.",
                    )
                    .color(theme::muted(ui)),
                );
            }
            Some(Some(m)) => body(ui, m),
        });
    open
}

fn body(ui: &mut egui::Ui, m: &SentMessage) {
    egui::Grid::new("sent_message_head").num_columns(2).show(ui, |ui| {
        ui.strong("To");
        ui.label(format!("{} ({})", m.address, m.channel));
        ui.end_row();
        if !m.subject.is_empty() {
            ui.strong("Subject");
            ui.label(&m.subject);
            ui.end_row();
        }
        if !m.unsubscribe.is_empty() {
            ui.strong("Unsubscribe");
            ui.hyperlink_to("List-Unsubscribe link", &m.unsubscribe).on_hover_text(&m.unsubscribe);
            ui.end_row();
        }
    });
    if !m.links.is_empty() {
        ui.add_space(6.0);
        ui.strong(format!("Links ({})", m.links.len()));
        for link in &m.links {
            let label = link.alias.clone().unwrap_or_else(|| "(a link without text)".to_owned());
            ui.horizontal_wrapped(|ui| {
                ui.hyperlink_to(label, &link.url).on_hover_text(&link.url);
                let to = match &link.leads_to {
                    Some(to) => format!("tracked, leads to {to}"),
                    None => "not tracked".to_owned(),
                };
                ui.label(RichText::new(to).small().color(theme::muted(ui)));
            });
        }
        ui.label(
            RichText::new("A click opens the link in your browser; a tracked one is counted by the server first.")
                .small()
                .color(theme::muted(ui)),
        );
    }
    ui.add_space(6.0);
    ui.strong("Text");
    egui::ScrollArea::vertical().max_height(ui.available_height().max(120.0)).show(ui, |ui| {
        let text = if m.text.trim().is_empty() { "(no text part)" } else { m.text.as_str() };
        ui.add(egui::Label::new(RichText::new(text).monospace()).selectable(true));
    });
}
