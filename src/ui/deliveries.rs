//! The Deliveries screen: every delivery with its messages by status; open one to page through
//! its ledger (filtered by status), see its errors grouped by code, export it to CSV, and
//! click a row to read its message as the Sandbox kept it (and try its links).

use egui::RichText;

use super::screen::{Screen, ScreenContext};
use super::table::{TextTable, text_table};
use super::{Commands, theme};
use crate::console::{Event, LEDGER_PAGE, RequestId, RunCommand, RunEvent};
use crate::model::delivery::{Delivery, LedgerPage, LedgerRow, LedgerStatus, TALLY, status};

#[derive(Default)]
pub struct DeliveriesScreen {
    list: Option<Vec<Delivery>>,
    selected: Option<i64>,
    filter: Option<LedgerStatus>,
    offset: u64,
    page: Option<LedgerPage>,
    /// The request for the page asked for, until its answer arrives.
    loading: Option<RequestId>,
    list_asked: bool,
    page_asked: bool,
    /// When the list was last asked for (it refreshes every few seconds while on screen).
    refreshed_at: Option<f64>,
    /// Where to export the ledger, while the user chooses.
    export_to: Option<String>,
    /// The message of the ledger row clicked.
    message: Option<super::sent_message::MessageWindow>,
}

/// The list refreshes this often while the screen is on show (events arrive later).
const REFRESH_EVERY: f64 = 3.0;

impl DeliveriesScreen {
    pub fn set_list(&mut self, list: Vec<Delivery>) {
        // The ledger on show may have moved on.
        if self.selected.is_some() {
            self.page_stale();
        }
        self.list = Some(list);
    }

    /// A ledger page arrived (answering `request`): shown if it is the one on view.
    pub fn page_arrived(
        &mut self,
        request: Option<RequestId>,
        (delivery, status, offset): (i64, Option<LedgerStatus>, u64),
        page: LedgerPage,
    ) {
        if request.is_some() && request == self.loading {
            self.loading = None;
        }
        if self.selected == Some(delivery) && self.filter == status && self.offset == offset {
            self.page = Some(page);
        }
    }

    /// The deliveries on show (tests).
    pub fn list(&self) -> &[Delivery] {
        self.list.as_deref().unwrap_or_default()
    }

    /// The delivery whose ledger is on show (tests).
    pub fn selected(&self) -> Option<i64> {
        self.selected
    }

    /// The ledger page on show (tests).
    pub fn page(&self) -> Option<&LedgerPage> {
        self.page.as_ref()
    }

    fn page_stale(&mut self) {
        self.loading = None;
        self.page_asked = false;
    }

    fn draw(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let now = ui.input(|i| i.time);
        let due = self.refreshed_at.is_none_or(|t| now - t >= REFRESH_EVERY);
        if (self.list.is_none() && !self.list_asked) || (self.list.is_some() && due) {
            self.list_asked = true;
            self.refreshed_at = Some(now);
            commands.push(RunCommand::RefreshDeliveries);
        }
        ui.ctx().request_repaint_after(std::time::Duration::from_secs_f64(REFRESH_EVERY));
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.heading("Deliveries");
            if ui.button("Refresh").clicked() {
                commands.push(RunCommand::RefreshDeliveries);
            }
        });
        ui.add_space(6.0);
        let Some(list) = &self.list else {
            ui.spinner();
            return;
        };
        if list.is_empty() {
            ui.label(
                RichText::new("No delivery yet. Open an orchestrated campaign and press Start to send it.")
                    .color(theme::muted(ui)),
            );
            return;
        }
        let height = (list.len() as f32 * 24.0 + 30.0).min(ui.available_height() * 0.4);
        let spec = TextTable {
            id: "deliveries_table",
            headers: &HEADERS,
            widths: &[40.0, 140.0, 110.0, 60.0, 110.0, 80.0, 64.0, 64.0, 64.0, 64.0, 64.0, 64.0],
            row_height: 24.0,
            max_height: Some(height),
            selectable: true,
            selected: self.selected.and_then(|id| list.iter().position(|d| d.id == id)),
        };
        let clicked = text_table(ui, &spec, list.len(), |i| delivery_cells(&list[i])).map(|i| list[i].id);
        if let Some(id) = clicked {
            self.selected = Some(id);
            self.filter = None;
            self.offset = 0;
            self.page = None;
            self.page_stale();
        }
        let Some(id) = self.selected else {
            ui.add_space(8.0);
            ui.label(RichText::new("Click a delivery to see its ledger.").color(theme::muted(ui)));
            return;
        };
        ui.separator();
        if let Some(d) = self.list.as_ref().and_then(|l| l.iter().find(|d| d.id == id)) {
            delivery_summary(ui, d);
        }
        self.ledger_ui(ui, id, commands);
    }

    /// What to do about messages left unconfirmed by a crash.
    fn unconfirmed_ui(&mut self, ui: &mut egui::Ui, id: i64, commands: &mut Commands) {
        let unconfirmed = self.list().iter().find(|d| d.id == id).map_or(0, |d| d.count(status::UNCONFIRMED));
        if unconfirmed == 0 {
            return;
        }
        ui.add_space(4.0);
        ui.colored_label(
            theme::warning(ui),
            format!(
                "{} {} messages are unconfirmed: the app stopped while they were with a provider that cannot say whether it got them. They are never sent again on their own; check at the provider, then:",
                theme::ICON_ERROR,
                theme::count(unconfirmed)
            ),
        );
        ui.horizontal(|ui| {
            if ui.button("Mark them sent").clicked() {
                commands.push(RunCommand::ResolveUnconfirmed { delivery: id, sent: true });
                self.page_stale();
            }
            if ui.button("Mark them not sent").clicked() {
                commands.push(RunCommand::ResolveUnconfirmed { delivery: id, sent: false });
                self.page_stale();
            }
        });
    }

    fn ledger_ui(&mut self, ui: &mut egui::Ui, id: i64, commands: &mut Commands) {
        if self.loading.is_none() && !self.page_asked {
            self.page_asked = true;
            let asked = RunCommand::LedgerPage { delivery: id, status: self.filter, offset: self.offset };
            self.loading = Some(commands.push(asked));
        }
        ui.horizontal(|ui| {
            ui.strong(format!("Ledger of delivery {id}"));
            let mut filter = self.filter;
            egui::ComboBox::from_id_salt("ledger_status")
                .selected_text(filter.map_or("every status", LedgerStatus::as_str))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut filter, None, "every status");
                    for s in status::ALL {
                        ui.selectable_value(&mut filter, Some(s), s.as_str());
                    }
                });
            if filter != self.filter {
                self.filter = filter;
                self.offset = 0;
                self.page_stale();
            }
            let total = self.page.as_ref().map_or(0, |p| p.total);
            let last = (self.offset + LEDGER_PAGE).min(total);
            if total > 0 {
                ui.label(format!(
                    "rows {}–{} of {}",
                    theme::count(self.offset + 1),
                    theme::count(last),
                    theme::count(total)
                ));
            }
            if self.loading.is_some() {
                ui.spinner();
            }
            if ui.add_enabled(self.offset > 0, egui::Button::new("Previous")).clicked() {
                self.offset = self.offset.saturating_sub(LEDGER_PAGE);
                self.page_stale();
            }
            if ui.add_enabled(last < total, egui::Button::new("Next")).clicked() {
                self.offset += LEDGER_PAGE;
                self.page_stale();
            }
            if let Some(path) = super::path_field::export_controls(
                ui,
                egui::Id::new(("export_ledger", id)),
                &mut self.export_to,
                &format!("delivery-{id}.csv"),
                "Every message of this delivery with its status, to a CSV file.",
            ) {
                commands.push(RunCommand::ExportLedger { delivery: id, path });
            }
        });
        self.unconfirmed_ui(ui, id, commands);
        let Some(page) = &self.page else { return };
        ui.label(
            RichText::new("Click a row to read its message as the Sandbox kept it, and try its links.")
                .small()
                .color(theme::muted(ui)),
        );
        if !page.errors.is_empty() {
            ui.add_space(4.0);
            ui.label(RichText::new("Errors by code").strong());
            egui::Grid::new("ledger_errors").striped(true).num_columns(3).show(ui, |ui| {
                for (code, n, message) in &page.errors {
                    ui.label(RichText::new(code).monospace());
                    ui.label(theme::count(*n));
                    ui.label(RichText::new(message).color(theme::muted(ui)));
                    ui.end_row();
                }
            });
        }
        ui.add_space(4.0);
        let spec = TextTable {
            id: "ledger_table",
            headers: &["row", "recipient", "secondary", "address", "status", "tries", "provider id", "error"],
            widths: &[50.0, 70.0, 60.0, 200.0, 80.0, 50.0, 110.0],
            row_height: 22.0,
            max_height: None,
            selectable: true,
            selected: self.message.as_ref().and_then(|m| page.rows.iter().position(|r| r.id == m.ledger_id)),
        };
        if let Some(i) = text_table(ui, &spec, page.rows.len(), |i| ledger_cells(&page.rows[i])) {
            let ledger_id = page.rows[i].id;
            commands.push(RunCommand::SentMessage { ledger_id });
            self.message = Some(super::sent_message::MessageWindow { ledger_id, message: None });
        }
        if let Some(window) = &self.message
            && !super::sent_message::show(ui.ctx(), window)
        {
            self.message = None;
        }
    }
}

/// The columns of the list of deliveries.
const HEADERS: [&str; 13] = [
    "id", "campaign", "activity", "channel", "through", "status", TALLY[0], TALLY[1], TALLY[2], TALLY[3], TALLY[4],
    TALLY[5], "created",
];

/// A delivery as a row of the list.
fn delivery_cells(d: &Delivery) -> Vec<String> {
    let mut cells = vec![
        d.id.to_string(),
        d.campaign.clone(),
        d.activity_name().to_owned(),
        d.channel.clone(),
        d.credential.clone().unwrap_or_else(|| "built-in Sandbox".to_owned()),
        d.status.to_string(),
    ];
    cells.extend(d.tally().map(theme::count));
    cells.push(d.created_at.strftime("%Y-%m-%d %H:%M").to_string());
    cells
}

/// A ledger row as a row of the table.
fn ledger_cells(r: &LedgerRow) -> Vec<String> {
    let error = match (&r.error_code, &r.error_message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        _ => String::new(),
    };
    vec![
        r.id.to_string(),
        r.recipient_key.clone(),
        r.secondary_key.clone(),
        r.address.clone(),
        r.status.to_string(),
        r.attempts.to_string(),
        r.provider_message_id.clone().unwrap_or_default(),
        error,
    ]
}

/// A delivery's events and rates.
fn delivery_summary(ui: &mut egui::Ui, d: &Delivery) {
    let events: Vec<String> = ["sent", "delivered", "bounced", "failed", "opened", "clicked", "unsubscribed"]
        .iter()
        .filter(|k| d.events_of(k) > 0)
        .map(|k| format!("{k} {}", theme::count(d.events_of(k))))
        .collect();
    ui.horizontal(|ui| {
        ui.strong("Events");
        if events.is_empty() {
            ui.label(RichText::new("none yet").color(theme::muted(ui)));
        } else {
            ui.label(events.join(" · "));
        }
    });
    ui.horizontal(|ui| {
        ui.strong("Rates");
        ui.label(format!(
            "delivered {} of sent \u{00b7} bounced {} \u{00b7} opened {} of delivered \u{00b7} clicked {} of delivered",
            d.rate("delivered", "sent"),
            d.rate("bounced", "sent"),
            d.rate("opened", "delivered"),
            d.rate("clicked", "delivered")
        ));
    });
}

impl Screen for DeliveriesScreen {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
        self.draw(ui, cx.commands);
    }

    fn on_event(&mut self, event: &Event, request: Option<RequestId>) {
        match event {
            Event::Run(RunEvent::Deliveries(list)) => self.set_list(list.clone()),
            Event::Run(RunEvent::LedgerPage { delivery, status, offset, page }) => {
                self.page_arrived(request, (*delivery, *status, *offset), page.clone());
            }
            Event::Run(RunEvent::SentMessage { ledger_id, message }) => {
                if let Some(window) = self.message.as_mut().filter(|w| w.ledger_id == *ledger_id) {
                    window.message = Some(message.clone());
                }
            }
            _ => {}
        }
    }
}
