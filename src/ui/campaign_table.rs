//! The list of campaigns: name, kind, status, dates, last change and last run; a click
//! selects a row, a double click opens it.

use egui_extras::{Column, TableBuilder};

use super::theme;
use crate::model::Campaign;

pub(super) enum RowAction {
    Select(i64),
    Open(i64),
}

pub(super) fn campaign_table(ui: &mut egui::Ui, list: &[Campaign], selected: Option<i64>) -> Option<RowAction> {
    let mut action = None;
    TableBuilder::new(ui)
        .striped(true)
        .resizable(true)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(280.0).at_least(140.0).clip(true))
        .column(Column::initial(140.0))
        .column(Column::initial(90.0))
        .column(Column::initial(230.0))
        .column(Column::initial(150.0))
        .column(Column::remainder().at_least(130.0))
        .header(theme::ROW_HEIGHT, |mut h| {
            for title in ["Name", "Kind", "Status", "Dates (UTC)", "Last modified (UTC)", "Last run"] {
                h.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(theme::ROW_HEIGHT, list.len(), |mut row| {
                let Some(c) = list.get(row.index()) else { return };
                let is_selected = selected == Some(c.id);
                row.set_selected(is_selected);
                row.col(|ui| {
                    let r = ui.selectable_label(is_selected, &c.name);
                    if r.double_clicked() {
                        action = Some(RowAction::Open(c.id));
                    } else if r.clicked() {
                        action = Some(RowAction::Select(c.id));
                    }
                });
                row.col(|ui| {
                    ui.label(c.kind.label());
                });
                row.col(|ui| {
                    ui.label(c.status.label());
                });
                row.col(|ui| {
                    ui.label(dates(c));
                });
                row.col(|ui| {
                    ui.label(theme::when(c.modified_at));
                });
                row.col(|ui| last_run(ui, c));
            });
        });
    action
}

/// When the campaign last ran and what came of it.
fn last_run(ui: &mut egui::Ui, c: &Campaign) {
    let Some(run) = &c.last_run else {
        ui.label(egui::RichText::new("never").color(theme::muted(ui)));
        return;
    };
    let outcome = match (&run.outcome, run.finished_at) {
        (Some(o), _) => o.clone(),
        (None, None) => "running…".to_owned(),
        (None, Some(_)) => String::new(),
    };
    let text = format!("{} \u{00b7} {outcome}", theme::when(run.started_at));
    let label = if run.failed {
        egui::RichText::new(format!("{} {text}", theme::ICON_ERROR)).color(theme::error(ui))
    } else {
        egui::RichText::new(text)
    };
    ui.add(egui::Label::new(label).truncate()).on_hover_text(run.outcome.clone().unwrap_or_default());
}

pub(super) fn dates(c: &Campaign) -> String {
    match (c.starts_at, c.ends_at) {
        (None, None) => "—".into(),
        (Some(s), None) => format!("from {}", theme::when(s)),
        (None, Some(e)) => format!("until {}", theme::when(e)),
        (Some(s), Some(e)) => format!("{} – {}", theme::when(s), theme::when(e)),
    }
}
