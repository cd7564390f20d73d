//! The Data screen: the workspace's data model — entities with row counts, their columns and
//! types, the links between them, and the identity namespaces.

use egui_extras::{Column, TableBuilder};

use super::screen::{Screen, ScreenContext};
use super::{Commands, theme};
use crate::console::{Console, DataCommand, DataEvent, Event, RequestId};
use crate::model::DataOverview;

#[derive(Default)]
pub struct DataScreen {
    overview: Option<DataOverview>,
    selected: Option<String>,
    /// Data → Import…, while it is open.
    import: Option<super::import::ImportView>,
    /// Where the selected entity is exported, while the user chooses.
    export_path: Option<String>,
    /// The labels being edited: the entity's name, its label, its columns' labels.
    labels: Option<(String, String, Vec<String>)>,
    /// The entity whose deletion waits for the user's confirmation.
    confirm_drop: Option<String>,
    /// Data → an entity → Browse rows, while it is open.
    browse: Option<super::browse::BrowseView>,
}

impl DataScreen {
    pub fn set_overview(&mut self, o: DataOverview) {
        // Labels as saved (or as they were, when saving was refused).
        self.labels = None;
        if self.selected.as_ref().is_none_or(|s| !o.entities.iter().any(|e| &e.entity.name == s)) {
            self.selected = o.entities.first().map(|e| e.entity.name.clone());
        }
        self.overview = Some(o);
    }

    /// The import page, when it is open (tests).
    pub fn import_view(&self) -> Option<&super::import::ImportView> {
        self.import.as_ref()
    }

    /// The browser, when it is open (tests).
    pub fn browse_view(&self) -> Option<&super::browse::BrowseView> {
        self.browse.as_ref()
    }

    fn draw(&mut self, ui: &mut egui::Ui, console: &Console, commands: &mut Commands) {
        if let Some(view) = self.browse.as_mut() {
            let today = console.now().to_zoned(jiff::tz::TimeZone::UTC).date();
            if let super::browse::Outcome::Close = view.ui(ui, commands, today) {
                self.browse = None;
                commands.push(DataCommand::RefreshOverview);
            }
            return;
        }
        if let (Some(view), Some(o)) = (self.import.as_mut(), self.overview.as_ref()) {
            if let super::import::Outcome::Close = view.ui(ui, o, commands) {
                self.import = None;
            }
            return;
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.heading("Data");
            if ui.button("Refresh counts").clicked() {
                commands.push(DataCommand::RefreshOverview);
            }
            if ui
                .button("Import\u{2026}")
                .on_hover_text("Bring customers, orders or any table in from a CSV or TSV file")
                .clicked()
            {
                self.import = Some(super::import::ImportView::default());
            }
        });
        ui.add_space(6.0);
        // A copy for this frame: the entity's details edit the screen's state beside it.
        let Some(o) = self.overview.clone() else {
            ui.spinner();
            return;
        };
        let o = &o;
        if o.entities.is_empty() {
            ui.label(
                egui::RichText::new(
                    "This workspace has no data yet: import your own from a CSV file, or try the demo.",
                )
                .color(theme::muted(ui)),
            );
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if ui.button("Import a CSV file\u{2026}").clicked() {
                    self.import = Some(super::import::ImportView::default());
                }
                demo_button(ui, commands);
            });
            return;
        }
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            ui.strong("Entities");
            ui.add_space(4.0);
            if let Some(name) = entity_table(ui, o, self.selected.as_deref()) {
                self.selected = Some(name);
            }
            ui.add_space(theme::SECTION_GAP);
            if let Some(e) = o.entities.iter().find(|e| Some(&e.entity.name) == self.selected.as_ref()) {
                self.entity_detail(ui, e, commands);
                ui.add_space(theme::SECTION_GAP);
            }
            links_grid(ui, o);
            ui.add_space(theme::SECTION_GAP);
            ui.strong("Identity namespaces");
            ui.add_space(4.0);
            egui::Grid::new("namespaces").striped(true).num_columns(2).spacing([28.0, 4.0]).show(ui, |ui| {
                for ns in &o.identity_namespaces {
                    ui.label(&ns.name);
                    ui.monospace(format!("{}.{}", ns.entity, ns.column));
                    ui.end_row();
                }
            });
        });
    }
}

impl DataScreen {
    /// The selected entity: its labels (editable), columns and types; export and delete.
    fn entity_detail(&mut self, ui: &mut egui::Ui, e: &crate::model::EntityOverview, commands: &mut Commands) {
        let entity = &e.entity;
        let stored =
            || (entity.name.clone(), entity.label.clone(), entity.columns.iter().map(|c| c.label.clone()).collect());
        if self.labels.as_ref().is_none_or(|(name, _, _)| *name != entity.name) {
            self.labels = Some(stored());
        }
        ui.horizontal(|ui| {
            ui.strong(format!("Columns of {}", entity.label));
            if let Some(path) = super::path_field::export_controls(
                ui,
                egui::Id::new("entity_export_path"),
                &mut self.export_path,
                &format!("{}.csv", entity.name),
                "Every row of this entity as CSV (an import reads it back)",
            ) {
                commands.push(DataCommand::ExportEntity { entity: entity.name.clone(), path });
            }
            if ui.button("Browse rows\u{2026}").on_hover_text("Every row, with search, sort and filter").clicked()
                && let Some(o) = &self.overview
            {
                self.browse = Some(super::browse::BrowseView::new(o.model(), entity.clone(), commands));
            }
            if ui
                .button("Delete entity\u{2026}")
                .on_hover_text("Remove this entity and its rows from the workspace")
                .clicked()
            {
                self.confirm_drop = Some(entity.name.clone());
            }
        });
        if self.confirm_drop.as_deref() == Some(entity.name.as_str()) {
            ui.horizontal(|ui| {
                let rows = e.row_count.map_or_else(String::new, |n| format!(" and its {} rows", theme::count(n)));
                ui.colored_label(
                    theme::warning(ui),
                    format!("Delete {}{rows}? A campaign that uses it keeps it from going.", entity.label),
                );
                if ui.button(format!("Delete {}", entity.label)).clicked() {
                    commands.push(DataCommand::DropEntity { entity: entity.name.clone() });
                    self.confirm_drop = None;
                }
                if ui.button("Cancel").clicked() {
                    self.confirm_drop = None;
                }
            });
        }
        ui.add_space(4.0);
        let Some((_, label, columns)) = self.labels.as_mut() else { return };
        ui.horizontal(|ui| {
            let l = ui.label("Shown to marketers as").id;
            ui.add(egui::TextEdit::singleline(label).desired_width(200.0)).labelled_by(l);
        });
        egui::Grid::new("entity_columns").striped(true).num_columns(3).spacing([28.0, 4.0]).show(ui, |ui| {
            for title in ["Column", "Label", "Type"] {
                ui.label(egui::RichText::new(title).color(theme::muted(ui)));
            }
            ui.end_row();
            for (c, text) in entity.columns.iter().zip(columns.iter_mut()) {
                let key = if c.name == entity.primary_key { " (key)" } else { "" };
                ui.monospace(format!("{}{key}", c.name));
                ui.add_sized([220.0, 20.0], egui::TextEdit::singleline(text))
                    .on_hover_text(format!("The label of {}", c.name));
                ui.label(c.column_type.as_str());
                ui.end_row();
            }
        });
        let edited = self.labels.as_ref().is_some_and(|l| *l != stored());
        if edited {
            ui.horizontal(|ui| {
                if ui.button("Save labels").clicked()
                    && let Some((_, label, columns)) = &self.labels
                {
                    let columns = entity.columns.iter().map(|c| c.name.clone()).zip(columns.iter().cloned()).collect();
                    commands.push(DataCommand::SetLabels {
                        entity: entity.name.clone(),
                        label: label.clone(),
                        columns,
                    });
                }
                if ui.button("Undo changes").clicked() {
                    self.labels = Some(stored());
                }
            });
        }
    }
}

/// The links between entities, with the rows of each that point nowhere.
fn links_grid(ui: &mut egui::Ui, o: &DataOverview) {
    ui.strong("Links");
    ui.add_space(4.0);
    egui::Grid::new("links").striped(true).num_columns(4).spacing([28.0, 4.0]).show(ui, |ui| {
        for title in ["From (many)", "To (one)", "Through", "Pointing nowhere"] {
            ui.label(egui::RichText::new(title).color(theme::muted(ui)));
        }
        ui.end_row();
        for (i, l) in o.links.iter().enumerate() {
            let key =
                o.entities.iter().find(|e| e.entity.name == l.parent).map_or("?", |e| e.entity.primary_key.as_str());
            ui.label(&l.child);
            ui.label(&l.parent);
            ui.monospace(format!("{}.{} = {}.{key}", l.child, l.foreign_key, l.parent));
            match o.dangling.get(i).copied().flatten() {
                Some(0) => ui.label("none"),
                Some(n) => ui
                    .label(egui::RichText::new(format!("{} rows", theme::count(n))).color(theme::warning(ui)))
                    .on_hover_text(format!(
                        "{} {} rows name a {} that does not exist. They are left out when a population \
                         moves to {} (Change dimension, one message per profile).",
                        theme::count(n),
                        l.child,
                        l.parent,
                        l.parent
                    )),
                None => ui.label("\u{2014}"),
            };
            ui.end_row();
        }
    });
}

/// "Generate the demo data", for a workspace that holds nothing: 10,000 profiles and their
/// bookings, three sample campaigns and Sandbox providers (a job in the status bar, with
/// Cancel).
pub fn demo_button(ui: &mut egui::Ui, commands: &mut Commands) {
    let r = ui.button("Generate the demo data").on_hover_text(format!(
        "{} generated profiles with their addresses, bookings and subscriptions, three sample campaigns \
         and Sandbox providers for every channel.",
        theme::count(crate::demo::FIRST_START_PROFILES)
    ));
    if r.clicked() {
        commands.push(DataCommand::GenerateDemo { profiles: crate::demo::FIRST_START_PROFILES, replace: false });
    }
}

/// The entity list; returns the entity clicked.
fn entity_table(ui: &mut egui::Ui, o: &DataOverview, selected: Option<&str>) -> Option<String> {
    let mut clicked = None;
    let height = theme::ROW_HEIGHT * (o.entities.len() as f32 + 1.5);
    ui.allocate_ui(egui::vec2(ui.available_width(), height), |ui| {
        TableBuilder::new(ui)
            .id_salt("entities")
            .striped(true)
            .vscroll(false)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(180.0))
            .column(Column::initial(180.0))
            .column(Column::initial(120.0))
            .column(Column::remainder())
            .header(theme::ROW_HEIGHT, |mut h| {
                for title in ["Entity", "Table", "Rows", "Columns"] {
                    h.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(theme::ROW_HEIGHT, o.entities.len(), |mut row| {
                    let Some(e) = o.entities.get(row.index()) else { return };
                    let is_selected = selected == Some(e.entity.name.as_str());
                    row.set_selected(is_selected);
                    row.col(|ui| {
                        if ui.selectable_label(is_selected, &e.entity.label).clicked() {
                            clicked = Some(e.entity.name.clone());
                        }
                    });
                    row.col(|ui| {
                        ui.monospace(&e.entity.name);
                    });
                    row.col(|ui| match e.row_count {
                        Some(n) => {
                            ui.label(theme::count(n));
                        }
                        None => {
                            ui.label(egui::RichText::new("table missing").color(theme::warning(ui)));
                        }
                    });
                    row.col(|ui| {
                        ui.label(e.entity.columns.len().to_string());
                    });
                });
            });
    });
    clicked
}

impl Screen for DataScreen {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
        self.draw(ui, cx.console, cx.commands);
    }

    fn on_event(&mut self, event: &Event, request: Option<RequestId>) {
        if let Event::Data(DataEvent::Overview(o)) = event {
            self.set_overview(o.clone());
        }
        if let Some(view) = self.import.as_mut() {
            view.on_event(event, request);
        }
        if let Some(view) = self.browse.as_mut() {
            view.on_event(event, request);
        }
    }
}
