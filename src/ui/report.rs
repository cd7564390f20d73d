//! A campaign's report: its numbers per channel activity and in total, with the rates on their
//! base, and four plots — events over time (a line per kind), the funnel, errors by code and
//! clicks by link alias. It asks for the report again every few seconds while it is shown, so
//! a send fills it as it goes.

use std::time::{Duration, Instant};

use egui_plot::{Bar, BarChart, HoverPosition, Legend, Line, Plot, Points};

use super::Commands;
use super::theme;
use crate::console::{Event, ReportCommand, ReportOf};
use crate::model::report::{CampaignReport, Numbers, percent};

/// How often the report is asked for again while shown.
const REFRESH: Duration = Duration::from_secs(3);

/// The height of each plot.
pub(super) const PLOT_HEIGHT: f32 = 210.0;

/// A picture of the plots on its way.
struct Shooting {
    path: std::path::PathBuf,
    /// Where the plots were the frame before (they are scrolled into view: the picture is
    /// asked for once they stay put, or after [`SCROLL_FRAMES`] frames at most).
    before: Option<egui::Rect>,
    frames: u8,
    asked: bool,
}

/// The most frames the plots are given to scroll into view.
const SCROLL_FRAMES: u8 = 60;

pub struct ReportView {
    campaign_id: i64,
    name: String,
    report: Option<CampaignReport>,
    error: Option<String>,
    /// When the report was last asked for; `None` while an answer is awaited.
    asked: Option<Instant>,
    /// Where to export the report (CSV) or its plots (PNG), while the user chooses.
    csv_to: Option<String>,
    png_to: Option<String>,
    /// The PNG file to save the plots to, while the plots are scrolled into view and then
    /// while the window's screenshot is awaited.
    shooting: Option<Shooting>,
    /// Where the plots were drawn last frame.
    plots: Option<egui::Rect>,
    /// Where "back" goes.
    back_to: &'static str,
}

impl ReportView {
    pub fn new(campaign_id: i64, name: &str, commands: &mut Commands) -> Self {
        commands.push(ReportCommand::Campaign { id: campaign_id });
        Self {
            campaign_id,
            name: name.to_owned(),
            report: None,
            error: None,
            asked: None,
            csv_to: None,
            png_to: None,
            shooting: None,
            plots: None,
            back_to: "\u{2b05} All campaigns",
        }
    }

    /// Opened from the canvas (its run strip): back goes to the canvas.
    #[must_use]
    pub fn from_canvas(mut self) -> Self {
        self.back_to = "\u{2b05} Canvas";
        self
    }

    pub fn on_event(&mut self, event: &Event) {
        if let Event::Report { campaign_id, report } = event
            && *campaign_id == self.campaign_id
        {
            match report {
                Ok(r) => {
                    self.report = Some((**r).clone());
                    self.error = None;
                }
                Err(e) => self.error = Some(e.to_string()),
            }
            self.asked = Some(Instant::now());
        }
    }

    /// Draws the report; returns whether the user went back to the list.
    pub fn ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) -> bool {
        if self.asked.is_some_and(|t| t.elapsed() >= REFRESH) {
            self.asked = None;
            commands.push(ReportCommand::Campaign { id: self.campaign_id });
        }
        ui.ctx().request_repaint_after(REFRESH);
        ui.add_space(8.0);
        let back = ui
            .horizontal(|ui| {
                let back = ui.button(self.back_to).clicked();
                ui.heading(format!("Report: {}", self.name));
                if self.asked.is_none() {
                    ui.spinner();
                } else if ui.button("Refresh").on_hover_text("It refreshes by itself every 3 seconds").clicked() {
                    self.asked = None;
                    commands.push(ReportCommand::Campaign { id: self.campaign_id });
                }
                self.export_ui(ui, commands);
                back
            })
            .inner;
        self.take_screenshot(ui, commands);
        if let Some(e) = &self.error {
            ui.label(egui::RichText::new(format!("{} {e}", theme::ICON_ERROR)).color(theme::error(ui)));
        }
        let Some(report) = &self.report else {
            return back;
        };
        let scroll_to = self.shooting.as_ref().filter(|s| !s.asked).and(self.plots);
        self.plots = egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if let Some(plots) = scroll_to {
                    ui.scroll_to_rect(plots, Some(egui::Align::Min));
                }
                report_body(ui, report)
            })
            .inner;
        back
    }

    /// "Export to CSV…" and "Save plots as PNG…".
    fn export_ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let file = self.name.replace(|c: char| !c.is_alphanumeric(), "-");
        if let Some(path) = super::path_field::export_controls(
            ui,
            egui::Id::new(("export_report", self.campaign_id)),
            &mut self.csv_to,
            &format!("report-{file}.csv"),
            "The numbers of each channel activity and of the campaign, to a CSV file.",
        ) {
            commands.push(ReportCommand::ExportCsv { report: ReportOf::Campaign(self.campaign_id), path });
        }
        if self.plots.is_none() {
            return;
        }
        if let Some(path) = super::path_field::save_controls(
            ui,
            egui::Id::new(("report_png", self.campaign_id)),
            &mut self.png_to,
            &format!("report-{file}.png"),
            "The four plots as they are on screen, to a PNG picture.",
            ("Save plots as PNG", "Save"),
        ) {
            self.shooting = Some(Shooting { path, before: None, frames: 0, asked: false });
        }
    }

    /// Once the plots are in view, asks for the window's screenshot; when it comes, its
    /// plots' part goes to the PNG file.
    fn take_screenshot(&mut self, ui: &egui::Ui, commands: &mut Commands) {
        let Some(shooting) = &mut self.shooting else { return };
        if !shooting.asked {
            shooting.frames += 1;
            let still = shooting.frames > 2 && shooting.before == self.plots;
            if still || shooting.frames >= SCROLL_FRAMES {
                shooting.asked = true;
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Screenshot(egui::UserData::new(self.campaign_id)));
            }
            shooting.before = self.plots;
            ui.ctx().request_repaint();
            return;
        }
        let path = &shooting.path;
        let shot = ui.input(|i| {
            i.raw.events.iter().find_map(|e| match e {
                egui::Event::Screenshot { image, user_data, .. }
                    if user_data.data.as_ref().and_then(|d| d.downcast_ref::<i64>()) == Some(&self.campaign_id) =>
                {
                    Some(std::sync::Arc::clone(image))
                }
                _ => None,
            })
        });
        let (Some(image), Some(plots)) = (shot, self.plots) else { return };
        let ppp = ui.ctx().pixels_per_point();
        let shown = plots.intersect(ui.clip_rect()).intersect(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(image.width() as f32, image.height() as f32) / ppp,
        ));
        let part = image.region(&shown, Some(ppp));
        let rgba: Vec<u8> = part.pixels.iter().flat_map(|c| c.to_array()).collect();
        commands.push(ReportCommand::SavePng {
            width: part.width() as u32,
            height: part.height() as u32,
            rgba,
            path: path.clone(),
        });
        self.shooting = None;
    }
}

/// The report's numbers and plots; returns where the plots are, when there are some.
fn report_body(ui: &mut egui::Ui, report: &CampaignReport) -> Option<egui::Rect> {
    ui.add_space(6.0);
    calls_and_triggers(ui, report);
    if report.activities.is_empty() && report.hourly.is_empty() {
        ui.label(
            egui::RichText::new("Nothing sent yet: the report fills as the campaign sends.").color(theme::muted(ui)),
        );
        return None;
    }
    headline(ui, &report.total);
    ui.add_space(theme::SECTION_GAP);
    numbers_table(ui, report);
    ui.add_space(theme::SECTION_GAP);
    let width = ((ui.available_width() - 16.0) / 2.0).max(260.0);
    let top = ui.horizontal_top(|ui| {
        plot_box(ui, width, "Events over time", |ui| events_over_time(ui, report));
        plot_box(ui, width, "Funnel", |ui| funnel(ui, "campaign", &[("campaign", &report.total)]));
    });
    ui.add_space(8.0);
    let bottom = ui.horizontal_top(|ui| {
        plot_box(ui, width, "Errors by code", |ui| {
            by_key(ui, "errors", "failed", "No message failed.", &report.total.failed);
        });
        let aliases: Vec<(String, u64)> = report
            .total
            .clicks_by_alias
            .iter()
            .map(|(a, n)| (if a.is_empty() { "(no alias)".to_owned() } else { a.clone() }, *n))
            .collect();
        plot_box(ui, width, "Clicks by link alias", |ui| by_key(ui, "clicks", "clicks", "No click yet.", &aliases));
    });
    Some(top.response.rect.union(bottom.response.rect))
}

/// An API-triggered campaign's calls, an action-triggered one's triggers.
fn calls_and_triggers(ui: &mut egui::Ui, report: &CampaignReport) {
    if let Some(api) = &report.api {
        ui.label(
            egui::RichText::new(format!(
                "{} API calls ({} waiting, {} failed) for {} recipients: {} not found, {} profiles created",
                api.calls, api.calls_waiting, api.calls_failed, api.recipients, api.not_found, api.created
            ))
            .strong(),
        );
    }
    if let Some(c) = &report.connector {
        let cancelled: Vec<String> = c.cancelled.iter().map(|(why, n)| format!("{n} {why}")).collect();
        let why = if cancelled.is_empty() { String::new() } else { format!(": {}", cancelled.join(", ")) };
        ui.label(
            egui::RichText::new(format!(
                "{} triggers: {} waiting, {} fired, {} cancelled{why}",
                c.triggers,
                c.waiting,
                c.fired,
                c.cancelled_total()
            ))
            .strong(),
        );
    }
    if report.api.is_some() || report.connector.is_some() {
        ui.add_space(4.0);
    }
}

/// The campaign's key figures, one label each.
fn headline(ui: &mut egui::Ui, n: &Numbers) {
    ui.horizontal_wrapped(|ui| {
        for text in [
            format!("{} targeted", n.targeted),
            format!("{} sent", n.sent),
            format!("{} delivered ({})", n.delivered, percent(n.delivery_rate())),
            format!("{} opened ({})", n.opened_unique, percent(n.open_rate())),
            format!("{} clicked ({})", n.clicked_unique, percent(n.click_rate())),
            format!("{} failed", n.failed_total()),
            format!("{} unsubscribed", n.unsubscribed),
        ] {
            egui::Frame::group(ui.style()).show(ui, |ui| ui.label(egui::RichText::new(text).strong()));
        }
    });
}

/// A number of the numbers table.
pub(super) enum Figure<'a> {
    /// A count, with its parts (by reason, by code) when it has some.
    Count(u64, &'a [(String, u64)]),
    Rate(Option<f64>),
}

impl Figure<'_> {
    pub(super) fn text(&self) -> String {
        match self {
            Self::Count(n, parts) => with_parts(*n, parts),
            Self::Rate(r) => percent(*r),
        }
    }
}

/// A line of the numbers table: its title, and its number.
pub(super) type NumberRow = (&'static str, fn(&Numbers) -> Figure<'_>);

/// The numbers table's lines, in order.
pub(super) const NUMBER_ROWS: [NumberRow; 15] = [
    ("Targeted", |n| Figure::Count(n.targeted, &[])),
    ("Excluded", |n| Figure::Count(n.excluded_total(), &n.excluded)),
    ("Sent", |n| Figure::Count(n.sent, &[])),
    ("On their way", |n| Figure::Count(n.pending, &[])),
    ("Failed", |n| Figure::Count(n.failed_total(), &n.failed)),
    ("Delivered", |n| Figure::Count(n.delivered, &[])),
    ("Bounced", |n| Figure::Count(n.bounced, &[])),
    ("Opened (unique)", |n| Figure::Count(n.opened_unique, &[])),
    ("Opened (total)", |n| Figure::Count(n.opened, &[])),
    ("Clicked (unique)", |n| Figure::Count(n.clicked_unique, &[])),
    ("Clicked (total)", |n| Figure::Count(n.clicked, &[])),
    ("Unsubscribed", |n| Figure::Count(n.unsubscribed, &[])),
    ("Delivered of sent", |n| Figure::Rate(n.delivery_rate())),
    ("Opened of delivered", |n| Figure::Rate(n.open_rate())),
    ("Clicked of delivered", |n| Figure::Rate(n.click_rate())),
];

/// Every number, a column per activity and one for the campaign.
fn numbers_table(ui: &mut egui::Ui, report: &CampaignReport) {
    let mut columns: Vec<(String, &Numbers)> =
        report.activities.iter().map(|a| (format!("{} ({})", a.label, a.channel), &a.numbers)).collect();
    if report.activities.len() > 1 {
        columns.push(("Campaign".to_owned(), &report.total));
    }
    egui::Grid::new("report_numbers").striped(true).spacing([24.0, 4.0]).show(ui, |ui| {
        ui.label("");
        for (name, _) in &columns {
            ui.label(egui::RichText::new(name).strong());
        }
        ui.end_row();
        for (label, value) in &NUMBER_ROWS {
            ui.label(egui::RichText::new(*label).color(theme::muted(ui)));
            for (_, n) in &columns {
                ui.label(value(n).text());
            }
            ui.end_row();
        }
    });
    if report.control_group > 0 {
        ui.label(format!("Control group: {} profiles held out", report.control_group));
    }
    for (kind, n) in &report.other_events {
        ui.label(format!("{n} {kind}"));
    }
}

/// "12 (no_address 9, not_opted_in 3)".
fn with_parts(total: u64, parts: &[(String, u64)]) -> String {
    if parts.is_empty() {
        return total.to_string();
    }
    let list: Vec<String> = parts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!("{total} ({})", list.join(", "))
}

pub(super) fn plot_box(ui: &mut egui::Ui, width: f32, title: &str, plot: impl FnOnce(&mut egui::Ui)) {
    ui.allocate_ui(egui::vec2(width, PLOT_HEIGHT + 30.0), |ui| {
        ui.vertical(|ui| {
            ui.set_width(width);
            ui.label(egui::RichText::new(title).strong());
            plot(ui);
        });
    });
}

/// A line per kind of event, by hour (by day past two weeks), hours counted from the first.
fn events_over_time(ui: &mut egui::Ui, report: &CampaignReport) {
    let Some(first) = report.hourly.first().map(|h| h.hour) else {
        ui.label(egui::RichText::new("No event yet.").color(theme::muted(ui)));
        return;
    };
    let last = report.hourly.last().map_or(first, |h| h.hour);
    let span_hours = (last.as_second() - first.as_second()) / 3600;
    let bucket = if span_hours > 14 * 24 { 24 } else { 1 };
    let mut kinds: Vec<&str> = report.hourly.iter().map(|h| h.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let start = first;
    Plot::new(("report_events", report.campaign_id))
        .height(PLOT_HEIGHT)
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_formatter(move |mark, _| {
            let at = start.as_second() + (mark.value * 3600.0) as i64;
            jiff::Timestamp::from_second(at).map_or_else(|_| String::new(), theme::when)
        })
        .label_formatter(move |pos| match pos {
            HoverPosition::NearDataPoint { plot_name, position, .. } => {
                let at = start.as_second() + (position.x * 3600.0) as i64;
                let when = jiff::Timestamp::from_second(at).map_or_else(|_| String::new(), theme::when);
                Some(format!("{plot_name}: {:.0}\n{when}", position.y))
            }
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            for kind in kinds {
                let mut points: Vec<[f64; 2]> = Vec::new();
                for h in report.hourly.iter().filter(|h| h.kind == kind) {
                    let hours = (h.hour.as_second() - first.as_second()) / 3600;
                    let x = (hours - hours % bucket) as f64;
                    match points.last_mut() {
                        Some(p) if p[0] == x => p[1] += h.events as f64,
                        _ => points.push([x, h.events as f64]),
                    }
                }
                // Points too: an hour alone is a point, not a line. One colour for both, so
                // that the legend shows it.
                let color = kind_color(kind);
                plot.points(Points::new(kind, points.clone()).radius(3.0).color(color));
                plot.line(Line::new(kind, points).color(color));
            }
        });
}

/// The colour of a kind of event: the usual ones fixed (green delivered, red failed…), the
/// others spread around the colour wheel by name.
fn kind_color(kind: &str) -> egui::Color32 {
    match kind {
        "sent" => egui::Color32::from_rgb(120, 144, 176),
        "delivered" => egui::Color32::from_rgb(84, 180, 104),
        "opened" => egui::Color32::from_rgb(80, 150, 230),
        "clicked" => egui::Color32::from_rgb(170, 110, 220),
        "bounced" => egui::Color32::from_rgb(230, 150, 60),
        "failed" => egui::Color32::from_rgb(220, 80, 80),
        "unsubscribed" => egui::Color32::from_rgb(210, 190, 70),
        other => {
            let h = other.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            egui::ecolor::Hsva::new((h % 360) as f32 / 360.0, 0.6, 0.8, 1.0).into()
        }
    }
}

/// The funnel's steps.
const STEPS: [&str; 5] = ["Targeted", "Sent", "Delivered", "Opened", "Clicked"];

/// Targeted → sent → delivered → opened → clicked (unique profiles past sent): a bar per
/// step and series, the series side by side (a legend when there are several).
pub(super) fn funnel(ui: &mut egui::Ui, id: &str, series: &[(&str, &Numbers)]) {
    let width = 0.7 / series.len().max(1) as f64;
    let charts: Vec<BarChart> = series
        .iter()
        .enumerate()
        .map(|(k, (name, n))| {
            let values = [n.targeted, n.sent, n.delivered, n.opened_unique, n.clicked_unique];
            let offset = (k as f64 - (series.len() as f64 - 1.0) / 2.0) * width;
            let bars: Vec<Bar> = values
                .iter()
                .enumerate()
                .map(|(i, v)| Bar::new(i as f64 + offset, *v as f64).name(format!("{}: {name}", STEPS[i])))
                .collect();
            BarChart::new(*name, bars).width(width * 0.9)
        })
        .collect();
    let mut plot = Plot::new(("report_funnel", id))
        .height(PLOT_HEIGHT)
        .allow_scroll(false)
        .show_grid([false, true])
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && (0.0..5.0).contains(&i) {
                STEPS[i as usize].to_owned()
            } else {
                String::new()
            }
        });
    if series.len() > 1 {
        plot = plot.legend(Legend::default());
    }
    plot.show(ui, |plot| {
        for chart in charts {
            plot.bar_chart(chart);
        }
    });
}

/// One bar per key (an error code, a link alias), largest first.
fn by_key(ui: &mut egui::Ui, id: &str, series: &str, none: &str, parts: &[(String, u64)]) {
    if parts.is_empty() {
        ui.label(egui::RichText::new(none).color(theme::muted(ui)));
        return;
    }
    let names: Vec<String> = parts.iter().map(|(k, _)| k.clone()).collect();
    let bars: Vec<Bar> = parts.iter().enumerate().map(|(i, (k, n))| Bar::new(i as f64, *n as f64).name(k)).collect();
    Plot::new(("report_by_key", id))
        .height(PLOT_HEIGHT)
        .allow_scroll(false)
        .show_grid([false, true])
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            let exact = (mark.value - i).abs() < 1e-6 && i >= 0.0;
            if exact { names.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
        })
        .show(ui, |plot| plot.bar_chart(BarChart::new(series, bars).width(0.6)));
}
