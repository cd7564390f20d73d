//! Two campaigns side by side: every number of their reports in two columns with the
//! difference, and their funnels on one plot.

use super::report::{Figure, NUMBER_ROWS, funnel, plot_box};
use super::{Commands, theme};
use crate::console::{Event, ReportCommand};
use crate::model::report::{CampaignReport, percent};

pub struct Comparison {
    campaigns: [(i64, String); 2],
    reports: [Option<CampaignReport>; 2],
    error: Option<String>,
}

impl Comparison {
    pub fn new(campaigns: [(i64, String); 2], commands: &mut Commands) -> Self {
        for (id, _) in &campaigns {
            commands.push(ReportCommand::Campaign { id: *id });
        }
        Self { campaigns, reports: [None, None], error: None }
    }

    pub fn on_event(&mut self, event: &Event) {
        let Event::Report { campaign_id, report } = event else { return };
        let Some(i) = self.campaigns.iter().position(|(id, _)| id == campaign_id) else { return };
        match report {
            Ok(r) => self.reports[i] = Some((**r).clone()),
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// Draws the comparison; returns whether the user went back to the table.
    pub fn ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) -> bool {
        ui.add_space(8.0);
        let back = ui
            .horizontal(|ui| {
                let back = ui.button("\u{2b05} All campaigns").clicked();
                ui.heading(format!("Compare: {} and {}", self.campaigns[0].1, self.campaigns[1].1));
                if self.reports.iter().any(Option::is_none) && self.error.is_none() {
                    ui.spinner();
                } else if ui.button("Refresh").clicked() {
                    for (id, _) in &self.campaigns {
                        commands.push(ReportCommand::Campaign { id: *id });
                    }
                }
                back
            })
            .inner;
        if let Some(e) = &self.error {
            ui.label(egui::RichText::new(format!("{} {e}", theme::ICON_ERROR)).color(theme::error(ui)));
        }
        let [Some(a), Some(b)] = &self.reports else { return back };
        ui.add_space(theme::SECTION_GAP);
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            side_by_side(ui, a, b);
            ui.add_space(theme::SECTION_GAP);
            let width = ui.available_width().min(720.0);
            plot_box(ui, width, "Funnel", |ui| {
                funnel(ui, "compare", &[(a.campaign.as_str(), &a.total), (b.campaign.as_str(), &b.total)]);
            });
        });
        back
    }
}

/// Every number of the two reports, then how the second differs from the first.
fn side_by_side(ui: &mut egui::Ui, a: &CampaignReport, b: &CampaignReport) {
    egui::Grid::new("report_compare").striped(true).spacing([28.0, 4.0]).show(ui, |ui| {
        ui.label("");
        for name in [&a.campaign, &b.campaign] {
            ui.label(egui::RichText::new(name).strong());
        }
        ui.label(egui::RichText::new("Difference").strong());
        ui.end_row();
        for (label, value) in &NUMBER_ROWS {
            let (x, y) = (value(&a.total), value(&b.total));
            ui.label(egui::RichText::new(*label).color(theme::muted(ui)));
            ui.label(x.text());
            ui.label(y.text());
            ui.label(difference(&x, &y));
            ui.end_row();
        }
    });
}

/// How `a`'s number differs from `b`'s: a count as "+12" / "−3", a rate in percentage points.
fn difference(a: &Figure<'_>, b: &Figure<'_>) -> String {
    match (a, b) {
        (Figure::Count(x, _), Figure::Count(y, _)) => signed(*y as f64 - *x as f64, 0, ""),
        (Figure::Rate(Some(x)), Figure::Rate(Some(y))) => signed((y - x) * 100.0, 1, " points"),
        _ => percent(None),
    }
}

/// "+12", "−3.5 points", "0".
fn signed(d: f64, decimals: usize, unit: &str) -> String {
    let text = format!("{:.decimals$}", d.abs());
    if text.trim_start_matches(['0', '.']).is_empty() {
        return "0".to_owned();
    }
    let sign = if d < 0.0 { "\u{2212}" } else { "+" };
    format!("{sign}{text}{unit}")
}
