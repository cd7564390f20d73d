//! A table of text rows that lays out only the rows in view, whatever their number (a list of
//! deliveries, a page of a ledger), each cell on one line, with a click selecting a row when
//! the table is selectable.

use egui_extras::{Column, TableBuilder};

/// How a [`text_table`] looks.
pub struct TextTable<'a> {
    pub id: &'a str,
    /// Column titles; the last column takes the room left.
    pub headers: &'a [&'a str],
    /// The least width of each column but the last.
    pub widths: &'a [f32],
    pub row_height: f32,
    /// At most this high (it scrolls); `None`: as high as the room.
    pub max_height: Option<f32>,
    /// Rows are selected by a click; `Some(i)`: row `i` is selected now.
    pub selectable: bool,
    pub selected: Option<usize>,
}

/// Draws `rows` rows, whose cells `cells(i)` gives. Returns the row clicked, if any.
pub fn text_table(
    ui: &mut egui::Ui,
    spec: &TextTable<'_>,
    rows: usize,
    cells: impl Fn(usize) -> Vec<String>,
) -> Option<usize> {
    let mut clicked = None;
    ui.push_id(spec.id, |ui| {
        let mut table = TableBuilder::new(ui).striped(true);
        if spec.selectable {
            table = table.sense(egui::Sense::click());
        }
        if let Some(h) = spec.max_height {
            table = table.max_scroll_height(h);
        }
        for w in spec.widths {
            table = table.column(Column::auto().at_least(*w));
        }
        table
            .column(Column::remainder())
            .header(22.0, |mut h| {
                for t in spec.headers {
                    h.col(|ui| {
                        ui.strong(*t);
                    });
                }
            })
            .body(|body| {
                body.rows(spec.row_height, rows, |mut row| {
                    let i = row.index();
                    row.set_selected(spec.selected == Some(i));
                    for c in cells(i) {
                        row.col(|ui| {
                            // Not selectable text (a click goes to the row), on one line.
                            ui.add(
                                egui::Label::new(c)
                                    .selectable(!spec.selectable)
                                    .wrap_mode(egui::TextWrapMode::Truncate),
                            );
                        });
                    }
                    if row.response().clicked() {
                        clicked = Some(i);
                    }
                });
            });
    });
    clicked
}
