//! The rows of a transition, in a window, with their export.

use super::*;

/// The rows of one transition, shown in a window.
pub(super) struct Inspector {
    pub(super) transition: String,
    pub(super) title: String,
    pub(super) offset: u64,
    pub(super) total: u64,
    pub(super) columns: Vec<String>,
    pub(super) rows: Vec<Vec<String>>,
    pub(super) loading: bool,
    /// Where to export the rows, while the user chooses.
    pub(super) export_to: Option<String>,
}

impl CanvasEditor {
    /// A page of rows for the inspector arrived.
    pub fn rows_arrived(
        &mut self,
        campaign_id: i64,
        transition: &str,
        offset: u64,
        total: u64,
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    ) {
        if campaign_id != self.campaign.id {
            return;
        }
        if let Some(i) = &mut self.inspector
            && i.transition == transition
            && i.offset == offset
        {
            (i.total, i.columns, i.rows, i.loading) = (total, columns, rows, false);
        }
    }

    /// The inspector's transition and rows on show, if it is open (for tests).
    pub fn inspected(&self) -> Option<(&str, u64, &[Vec<String>])> {
        self.inspector.as_ref().map(|i| (i.transition.as_str(), i.total, i.rows.as_slice()))
    }

    pub(super) fn inspector_ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let Some(i) = &mut self.inspector else { return };
        // Ask for the page on show once the count it belongs to is done.
        if i.loading
            && self.count == CountState::Idle
            && !self.requested_rows.contains(&(i.transition.clone(), i.offset))
        {
            self.requested_rows.push((i.transition.clone(), i.offset));
            commands.push(CanvasCommand::Inspect {
                campaign_id: self.campaign.id,
                transition: i.transition.clone(),
                offset: i.offset,
            });
        }
        if !i.loading {
            self.requested_rows.clear();
        }
        let mut open = true;
        egui::Window::new(format!("Rows: {}", i.title))
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(self.canvas_rect.center())
            .id(egui::Id::new(("inspector", self.campaign.id)))
            .open(&mut open)
            .default_size([720.0, 420.0])
            .resizable(true)
            .show(ui.ctx(), |ui| {
                ui.horizontal(|ui| {
                    let page = crate::console::ROWS_PAGE;
                    let last = (i.offset + i.rows.len() as u64).min(i.total);
                    if i.total == 0 {
                        ui.label(if i.loading { "Loading…" } else { "No rows." });
                    } else {
                        ui.label(format!(
                            "Rows {}–{} of {}",
                            theme::count(i.offset + 1),
                            theme::count(last),
                            theme::count(i.total)
                        ));
                    }
                    if i.loading {
                        ui.spinner();
                    }
                    if ui.add_enabled(i.offset > 0, egui::Button::new("Previous")).clicked() {
                        i.offset = i.offset.saturating_sub(page);
                        i.loading = true;
                    }
                    if ui.add_enabled(last < i.total, egui::Button::new("Next")).clicked() {
                        i.offset += page;
                        i.loading = true;
                    }
                    let name: String =
                        i.title.chars().map(|c| if c.is_alphanumeric() || c == ' ' { c } else { '_' }).collect();
                    let file = format!("{}.csv", name.split_whitespace().collect::<Vec<_>>().join(" "));
                    if let Some(path) = crate::ui::path_field::export_controls(
                        ui,
                        egui::Id::new(("export_rows", self.campaign.id, &i.transition)),
                        &mut i.export_to,
                        &file,
                        "Every row of this transition, to a CSV file.",
                    ) {
                        commands.push(CanvasCommand::Export {
                            campaign_id: self.campaign.id,
                            transition: i.transition.clone(),
                            path,
                        });
                    }
                });
                ui.separator();
                rows_table(ui, &i.columns, &i.rows);
            });
        if !open {
            self.inspector = None;
        }
    }
}

/// A table of rows with a header (egui_extras, only the visible rows are laid out).
pub(super) fn rows_table(ui: &mut egui::Ui, columns: &[String], rows: &[Vec<String>]) {
    use egui_extras::{Column, TableBuilder};
    if columns.is_empty() {
        return;
    }
    egui::ScrollArea::horizontal().show(ui, |ui| {
        let mut table = TableBuilder::new(ui).striped(true).resizable(true);
        for _ in columns {
            table = table.column(Column::auto().at_least(70.0).clip(true));
        }
        table
            .header(22.0, |mut header| {
                for c in columns {
                    header.col(|ui| {
                        ui.strong(c);
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, rows.len(), |mut row| {
                    let r = &rows[row.index()];
                    for v in r {
                        row.col(|ui| {
                            ui.label(v);
                        });
                    }
                });
            });
    });
}
