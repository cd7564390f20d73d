//! The Reports screen: the global report. Every campaign with events in a period (the last
//! 7, 30 or 90 days, or two days picked), each with its numbers to date and a sparkline of its
//! sends day by day, in a table sorted by any column, with the totals under it; two campaigns
//! ticked are compared side by side (`report_compare.rs`); the table exports to CSV.

use std::time::{Duration, Instant};

use egui_extras::{Column, TableBuilder};

use super::report_compare::Comparison;
use super::screen::{Screen, ScreenContext};
use super::{Commands, theme};
use crate::console::{Event, ReportCommand, ReportOf, RequestId};
use crate::model::report::{CampaignLine, GlobalReport, Numbers, percent};

/// How often the report is asked for again while shown.
const REFRESH: Duration = Duration::from_secs(10);

/// The period of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    LastDays(i64),
    Custom,
}

/// What the table is sorted by.
#[derive(Clone, Copy)]
enum SortBy {
    Campaign,
    Kind,
    Sent,
    Numbers(fn(&Numbers) -> f64),
}

/// The table's columns: title, hover text, what sorting by it means.
const COLUMNS: [(&str, &str, SortBy); 12] = [
    ("Campaign", "", SortBy::Campaign),
    ("Kind", "", SortBy::Kind),
    ("Sent per day", "Messages sent each day of the period", SortBy::Sent),
    ("Targeted", "Recipients in the ledger, excluded ones included", SortBy::Numbers(|n| n.targeted as f64)),
    ("Sent", "Messages sent, to date", SortBy::Numbers(|n| n.sent as f64)),
    ("Delivered", "Delivered, and the share of sent", SortBy::Numbers(|n| n.delivered as f64)),
    ("Opened", "Unique opens, and the share of delivered", SortBy::Numbers(|n| n.opened_unique as f64)),
    ("Clicked", "Unique clicks, and the share of delivered", SortBy::Numbers(|n| n.clicked_unique as f64)),
    ("Open rate", "Unique opens of delivered", SortBy::Numbers(|n| n.open_rate().unwrap_or(-1.0))),
    ("Click rate", "Unique clicks of delivered", SortBy::Numbers(|n| n.click_rate().unwrap_or(-1.0))),
    ("Failed", "Messages that failed", SortBy::Numbers(|n| n.failed_total() as f64)),
    ("Unsubscribed", "", SortBy::Numbers(|n| n.unsubscribed as f64)),
];

pub struct ReportsScreen {
    period: Period,
    /// The custom period's days, as picked (the last 30 days until the user picks).
    from: jiff::civil::Date,
    to: jiff::civil::Date,
    /// Whether the custom days were set from the Console's clock yet.
    dated: bool,
    /// The period asked for last, and the request that asked.
    asked_for: Option<(jiff::civil::Date, jiff::civil::Date)>,
    request: Option<RequestId>,
    asked_at: Option<Instant>,
    report: Option<GlobalReport>,
    error: Option<String>,
    /// The column sorted by, and whether from the largest.
    sort: (usize, bool),
    /// The campaigns ticked for comparing, in the order ticked (two at most).
    ticked: Vec<i64>,
    comparison: Option<Comparison>,
    export_to: Option<String>,
}

impl Default for ReportsScreen {
    fn default() -> Self {
        Self {
            period: Period::LastDays(30),
            from: jiff::civil::Date::default(),
            to: jiff::civil::Date::default(),
            dated: false,
            asked_for: None,
            request: None,
            asked_at: None,
            report: None,
            error: None,
            sort: (4, true),
            ticked: Vec::new(),
            comparison: None,
            export_to: None,
        }
    }
}

impl ReportsScreen {
    /// The report as last received (tests look at it).
    pub fn report(&self) -> Option<&GlobalReport> {
        self.report.as_ref()
    }

    /// The period's days as they stand now: the last N days up to today (UTC), or the days
    /// picked.
    fn days(&self, today: jiff::civil::Date) -> (jiff::civil::Date, jiff::civil::Date) {
        match self.period {
            Period::LastDays(n) => (today.checked_sub(jiff::Span::new().days(n - 1)).unwrap_or(today), today),
            Period::Custom => (self.from, self.to),
        }
    }

    fn ask(&mut self, days: (jiff::civil::Date, jiff::civil::Date), commands: &mut Commands) {
        self.asked_for = Some(days);
        self.asked_at = Some(Instant::now());
        self.request = Some(commands.push(ReportCommand::Global { first_day: days.0, last_day: days.1 }));
    }

    fn period_bar(&mut self, ui: &mut egui::Ui, today: jiff::civil::Date, commands: &mut Commands) {
        ui.horizontal(|ui| {
            ui.label("Period");
            for (n, label) in [(7, "Last 7 days"), (30, "Last 30 days"), (90, "Last 90 days")] {
                ui.selectable_value(&mut self.period, Period::LastDays(n), label);
            }
            ui.selectable_value(&mut self.period, Period::Custom, "Custom");
            if self.period == Period::Custom {
                ui.label("from");
                ui.add(egui_extras::DatePickerButton::new(&mut self.from).id_salt("report_from"));
                ui.label("to");
                ui.add(egui_extras::DatePickerButton::new(&mut self.to).id_salt("report_to"));
            }
            if self.request.is_some() {
                ui.spinner();
            } else if ui.button("Refresh").on_hover_text("It refreshes by itself every 10 seconds").clicked() {
                self.asked_for = None;
            }
            let (first_day, last_day) = self.days(today);
            if let Some(path) = super::path_field::export_controls(
                ui,
                egui::Id::new("export_global_report"),
                &mut self.export_to,
                &format!("report-{first_day}-{last_day}.csv"),
                "Every campaign's line, its sends day by day and the totals, to a CSV file.",
            ) {
                commands.push(ReportCommand::ExportCsv { report: ReportOf::Global { first_day, last_day }, path });
            }
        });
    }

    fn table(&mut self, ui: &mut egui::Ui, report: &GlobalReport) {
        let mut order: Vec<&CampaignLine> = report.lines.iter().collect();
        let (column, largest_first) = self.sort;
        match COLUMNS[column].2 {
            SortBy::Campaign => order.sort_by_key(|l| l.campaign.to_lowercase()),
            SortBy::Kind => order.sort_by_key(|l| l.kind.clone()),
            SortBy::Sent => order.sort_by_key(|l| l.sent_by_day.iter().sum::<u64>()),
            SortBy::Numbers(value) => order.sort_by(|a, b| value(&a.numbers).total_cmp(&value(&b.numbers))),
        }
        if largest_first {
            order.reverse();
        }
        let mut sort_by = None;
        let text_height = ui.text_style_height(&egui::TextStyle::Body) + 8.0;
        let height = (ui.available_height() - 90.0).max(120.0);
        let mut table = TableBuilder::new(ui)
            .id_salt("global_report")
            .striped(true)
            .max_scroll_height(height)
            .column(Column::exact(24.0))
            .column(Column::auto().at_least(210.0).at_most(300.0).clip(true))
            .column(Column::auto().at_least(90.0));
        for _ in 2..COLUMNS.len() {
            table = table.column(Column::auto().at_least(48.0));
        }
        table
            .header(text_height + 4.0, |mut header| {
                header.col(|_| {});
                for (i, (title, hover, _)) in COLUMNS.iter().enumerate() {
                    header.col(|ui| {
                        let arrow = match (i == column, largest_first) {
                            (false, _) => "",
                            (true, true) => " \u{2b07}",
                            (true, false) => " \u{2b06}",
                        };
                        let mut button = ui.add(
                            egui::Button::new(egui::RichText::new(format!("{title}{arrow}")).strong()).frame(false),
                        );
                        if !hover.is_empty() {
                            button = button.on_hover_text(*hover);
                        }
                        if button.clicked() {
                            sort_by = Some(i);
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(text_height, order.len() + 1, |mut row| {
                    let Some(line) = order.get(row.index()) else {
                        row.col(|_| {});
                        let sent = report.total_sent_by_day();
                        let name = format!("Total ({} campaigns)", report.lines.len());
                        line_cells(&mut row, &name, "", &sent, &report.total, true);
                        return;
                    };
                    row.col(|ui| {
                        let mut on = self.ticked.contains(&line.campaign_id);
                        let label = format!("Compare \u{201c}{}\u{201d}", line.campaign);
                        let tick = ui.checkbox(&mut on, "");
                        tick.widget_info(|| egui::WidgetInfo::selected(egui::WidgetType::Checkbox, true, on, &label));
                        let tick = tick.on_hover_text(&label);
                        if tick.changed() {
                            self.ticked.retain(|id| *id != line.campaign_id);
                            if on {
                                self.ticked.push(line.campaign_id);
                                if self.ticked.len() > 2 {
                                    self.ticked.remove(0);
                                }
                            }
                        }
                    });
                    line_cells(&mut row, &line.campaign, &line.kind, &line.sent_by_day, &line.numbers, false);
                });
            });
        if let Some(i) = sort_by {
            self.sort = if i == column {
                (i, !largest_first)
            } else {
                (i, !matches!(COLUMNS[i].2, SortBy::Campaign | SortBy::Kind))
            };
        }
    }
}

/// A line's cells after its tick: its name, kind, sparkline and numbers.
fn line_cells(
    row: &mut egui_extras::TableRow<'_, '_>,
    name: &str,
    kind: &str,
    sent: &[u64],
    n: &Numbers,
    strong: bool,
) {
    let text = |s: String| if strong { egui::RichText::new(s).strong() } else { egui::RichText::new(s) };
    row.col(|ui| {
        ui.label(text(name.to_owned()));
    });
    row.col(|ui| {
        ui.label(egui::RichText::new(kind).color(theme::muted(ui)));
    });
    row.col(|ui| sparkline(ui, sent));
    for value in [
        n.targeted.to_string(),
        n.sent.to_string(),
        format!("{} ({})", n.delivered, percent(n.delivery_rate())),
        n.opened_unique.to_string(),
        n.clicked_unique.to_string(),
        percent(n.open_rate()),
        percent(n.click_rate()),
        n.failed_total().to_string(),
        n.unsubscribed.to_string(),
    ] {
        row.col(|ui| {
            ui.label(text(value));
        });
    }
}

/// A small line of the values, the largest at the top; hovering says the total and the peak.
fn sparkline(ui: &mut egui::Ui, values: &[u64]) {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(90.0, 16.0), egui::Sense::hover());
    let most = values.iter().copied().max().unwrap_or(0).max(1) as f32;
    let step = if values.len() > 1 { rect.width() / (values.len() - 1) as f32 } else { 0.0 };
    let points: Vec<egui::Pos2> = values
        .iter()
        .enumerate()
        .map(|(i, v)| egui::pos2(rect.left() + step * i as f32, rect.bottom() - rect.height() * (*v as f32 / most)))
        .collect();
    let color = ui.visuals().widgets.active.fg_stroke.color;
    ui.painter().line_segment(
        [rect.left_bottom(), rect.right_bottom()],
        egui::Stroke::new(1.0, theme::muted(ui).gamma_multiply(0.4)),
    );
    ui.painter().add(egui::Shape::line(points, egui::Stroke::new(1.5, color)));
    let total: u64 = values.iter().sum();
    let peak = values.iter().copied().max().unwrap_or(0);
    response.on_hover_text(format!("{total} sent in the period; {peak} on the busiest day"));
}

impl Screen for ReportsScreen {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
        if let Some(comparison) = &mut self.comparison {
            if comparison.ui(ui, cx.commands) {
                self.comparison = None;
            }
            return;
        }
        // Events are dated by the wall clock (what really happened when), whatever the
        // campaign clock says: so is the period.
        let today = crate::clock::wall().to_zoned(jiff::tz::TimeZone::UTC).date();
        if !std::mem::replace(&mut self.dated, true) {
            (self.from, self.to) = (today.checked_sub(jiff::Span::new().days(29)).unwrap_or(today), today);
        }
        let days = self.days(today);
        let stale = self.asked_at.is_none_or(|t| t.elapsed() >= REFRESH);
        if self.request.is_none() && (self.asked_for != Some(days) || stale) {
            self.ask(days, cx.commands);
        }
        ui.ctx().request_repaint_after(REFRESH);
        ui.add_space(8.0);
        ui.heading("Reports");
        ui.add_space(4.0);
        self.period_bar(ui, today, cx.commands);
        if let Some(e) = &self.error {
            ui.label(egui::RichText::new(format!("{} {e}", theme::ICON_ERROR)).color(theme::error(ui)));
        }
        let Some(report) = self.report.take() else { return };
        ui.label(
            egui::RichText::new(format!(
                "Campaigns with events from {} to {} (UTC), with their numbers to date. Click a column's title to sort by it.",
                report.first_day, report.last_day
            ))
            .color(theme::muted(ui)),
        );
        ui.add_space(6.0);
        if report.lines.is_empty() {
            ui.label("No campaign had an event in this period: pick a longer one, or send a campaign.");
        } else {
            egui::ScrollArea::horizontal().id_salt("global_report_wide").show(ui, |ui| self.table(ui, &report));
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let two = self.ticked.len() == 2;
                let compare = ui
                    .add_enabled(two, egui::Button::new("Compare"))
                    .on_disabled_hover_text("Tick two campaigns in the table to compare them side by side");
                if compare.clicked() {
                    let named =
                        |id: i64| report.lines.iter().find(|l| l.campaign_id == id).map(|l| (id, l.campaign.clone()));
                    if let (Some(a), Some(b)) = (named(self.ticked[0]), named(self.ticked[1])) {
                        self.comparison = Some(Comparison::new([a, b], cx.commands));
                    }
                }
                ui.label(egui::RichText::new(format!("{} of 2 ticked", self.ticked.len())).color(theme::muted(ui)));
            });
        }
        self.report = Some(report);
    }

    fn on_event(&mut self, event: &Event, request: Option<RequestId>) {
        if let Some(c) = &mut self.comparison {
            c.on_event(event);
        }
        if let Event::GlobalReport(result) = event
            && request.is_some()
            && request == self.request
        {
            self.request = None;
            match result {
                Ok(r) => {
                    let shown: Vec<i64> = r.lines.iter().map(|l| l.campaign_id).collect();
                    self.ticked.retain(|id| shown.contains(id));
                    self.report = Some((**r).clone());
                    self.error = None;
                }
                Err(e) => {
                    // Not the old period's table under the new period's error.
                    self.report = None;
                    self.error = Some(e.to_string());
                }
            }
        }
    }
}
