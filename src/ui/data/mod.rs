//! The Data screen: the workspace's data model — entities with row counts, their columns and
//! types, the links between them, and the identity namespaces.

mod entity;

use egui_extras::{Column, TableBuilder};

use super::screen::{Screen, ScreenContext};
use super::{Commands, theme};
use crate::console::{Console, DataCommand, DataEvent, Event, ModelEdit, RequestId};
use crate::model::DataOverview;

#[derive(Default)]
pub struct DataScreen {
    overview: Option<DataOverview>,
    selected: Option<String>,
    /// Data → Import…, while it is open.
    import: Option<super::import::ImportView>,
    /// The selected entity's editor.
    editor: Option<entity::EntityEditor>,
    /// Data → an entity → Browse rows, while it is open.
    browse: Option<super::browse::BrowseView>,
    /// Remove the demo data… waits for the user's confirmation.
    confirm_remove_demo: bool,
}

impl DataScreen {
    pub fn set_overview(&mut self, o: DataOverview) {
        if self.selected.as_ref().is_none_or(|s| !o.entities.iter().any(|e| &e.entity.name == s)) {
            self.selected = o.entities.first().map(|e| e.entity.name.clone());
        }
        // The editor as saved (or as it was, when saving was refused).
        let selected = o.entities.iter().find(|e| Some(&e.entity.name) == self.selected.as_ref());
        self.editor = match (self.editor.take(), selected) {
            (Some(editor), Some(e)) if editor.entity == e.entity.name => Some(editor.refreshed(&e.entity)),
            (_, e) => e.map(|e| entity::EntityEditor::new(&e.entity)),
        };
        self.overview = Some(o);
    }

    /// The import page, when it is open (tests).
    pub fn import_view(&self) -> Option<&super::import::ImportView> {
        self.import.as_ref()
    }

    /// The import page, to change (tests).
    pub fn import_view_mut(&mut self) -> Option<&mut super::import::ImportView> {
        self.import.as_mut()
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
        if o.demo {
            self.demo_banner(ui, commands);
        }
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            ui.strong("Entities");
            ui.add_space(4.0);
            if let Some(name) = entity_table(ui, o, self.selected.as_deref()) {
                self.selected = Some(name);
            }
            ui.add_space(theme::SECTION_GAP);
            let selected = o.entities.iter().find(|e| Some(&e.entity.name) == self.selected.as_ref());
            if let Some(e) = selected {
                if self.editor.as_ref().is_none_or(|ed| ed.entity != e.entity.name) {
                    self.editor = Some(entity::EntityEditor::new(&e.entity));
                }
                if let Some(editor) = self.editor.as_mut()
                    && let entity::Action::Browse = editor.ui(ui, e, commands)
                {
                    self.browse = Some(super::browse::BrowseView::new(o.model(), e.entity.clone(), commands));
                }
                ui.add_space(theme::SECTION_GAP);
            }
            links_grid(ui, o, commands);
            if let (Some(editor), Some(e)) = (self.editor.as_mut(), selected) {
                editor.add_link(ui, &e.entity, o, commands);
            }
            ui.add_space(theme::SECTION_GAP);
            identities_grid(ui, o, commands);
            if let (Some(editor), Some(e)) = (self.editor.as_mut(), selected) {
                editor.add_identity(ui, &e.entity, o, commands);
            }
        });
    }
}

impl DataScreen {
    /// The workspace holds the demo: it can go, for the team's own data to take its place.
    fn demo_banner(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                if self.confirm_remove_demo {
                    ui.colored_label(
                        theme::warning(ui),
                        "Remove the demo's entities with their rows and its sample campaigns?                          The Sandbox channels stay.",
                    );
                    if ui.button("Remove the demo data").clicked() {
                        commands.push(DataCommand::RemoveDemo);
                        self.confirm_remove_demo = false;
                    }
                    if ui.button("Cancel").clicked() {
                        self.confirm_remove_demo = false;
                    }
                } else {
                    ui.label(
                        "This workspace holds the demo data. To work on your own customers, remove it, then \
                         import your files.",
                    );
                    if ui.button("Remove the demo data\u{2026}").clicked() {
                        self.confirm_remove_demo = true;
                    }
                }
            });
        });
        ui.add_space(6.0);
    }
}

/// The identity namespaces: where each kind of address or id is found; each can be removed.
fn identities_grid(ui: &mut egui::Ui, o: &DataOverview, commands: &mut Commands) {
    ui.strong("Identity namespaces");
    ui.add_space(4.0);
    if o.identity_namespaces.is_empty() {
        ui.label(
            egui::RichText::new("None yet: email and SMS need one to find their addresses.").color(theme::muted(ui)),
        );
        return;
    }
    egui::Grid::new("namespaces").striped(true).num_columns(3).spacing([28.0, 4.0]).show(ui, |ui| {
        for ns in &o.identity_namespaces {
            ui.label(&ns.name);
            ui.monospace(format!("{}.{}", ns.entity, ns.column));
            if ui
                .small_button("Remove")
                .on_hover_text(format!("Remove the {} identity (refused while a campaign uses it)", ns.name))
                .clicked()
            {
                commands.push(DataCommand::Model(ModelEdit::RemoveIdentity { name: ns.name.clone() }));
            }
            ui.end_row();
        }
    });
}

/// The links between entities, with the rows of each that point nowhere.
fn links_grid(ui: &mut egui::Ui, o: &DataOverview, commands: &mut Commands) {
    ui.strong("Links");
    ui.add_space(4.0);
    egui::Grid::new("links").striped(true).num_columns(5).spacing([28.0, 4.0]).show(ui, |ui| {
        for title in ["From (many)", "To (one)", "Through", "Pointing nowhere", ""] {
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
            if ui
                .small_button("Remove")
                .on_hover_text("Remove this link (refused while a campaign uses it); the rows stay")
                .clicked()
            {
                commands.push(DataCommand::Model(ModelEdit::RemoveLink {
                    child: l.child.clone(),
                    foreign_key: l.foreign_key.clone(),
                }));
            }
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
