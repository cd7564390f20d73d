//! The selected entity on the Data screen: what marketers see of it (its label, its columns'
//! labels, which columns the canvas offers, what each holds), its links to other entities and
//! the identities on its columns, and Browse rows…, Export to CSV…, Delete entity….

use super::super::canvas::fields::combo;
use super::super::{Commands, theme};
use crate::console::{DataCommand, ModelEdit};
use crate::import::mapping::NAMESPACES;
use crate::model::{ColumnLook, ColumnType, DataOverview, Entity, EntityOverview};

/// What the user asked of the entity that the screen around does.
pub enum Action {
    None,
    Browse,
}

/// The editor of one entity, its text as typed until saved.
pub struct EntityEditor {
    pub entity: String,
    /// The entity as saved when the editor was made: what the typing is based on.
    base: Entity,
    label: String,
    columns: Vec<ColumnLook>,
    /// Where the entity is exported, while the user chooses.
    export_path: Option<String>,
    confirm_drop: bool,
    /// A link being added: its column and the entity it points to.
    link: (String, String),
    /// An identity being added: its name and its column.
    identity: (String, String),
}

impl EntityEditor {
    pub fn new(e: &Entity) -> Self {
        Self {
            entity: e.name.clone(),
            base: e.clone(),
            label: e.label.clone(),
            columns: looks(e),
            export_path: None,
            confirm_drop: false,
            link: (String::new(), String::new()),
            identity: (String::new(), String::new()),
        }
    }

    /// The editor for `e` as saved now. When nothing of it changed (a save refused, another
    /// entity changed) what the user typed stays; otherwise the saved values show, and what
    /// the user was adding stays.
    pub fn refreshed(self, e: &Entity) -> Self {
        if *e == self.base {
            return self;
        }
        Self { export_path: self.export_path, link: self.link, identity: self.identity, ..Self::new(e) }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, e: &EntityOverview, commands: &mut Commands) -> Action {
        let entity = &e.entity;
        let mut action = Action::None;
        ui.horizontal(|ui| {
            ui.strong(format!("Columns of {}", entity.label));
            if ui.button("Browse rows\u{2026}").on_hover_text("Every row, with search, sort and filter").clicked() {
                action = Action::Browse;
            }
            if let Some(path) = super::super::path_field::export_controls(
                ui,
                egui::Id::new("entity_export_path"),
                &mut self.export_path,
                &format!("{}.csv", entity.name),
                "Every row of this entity as CSV (an import reads it back)",
            ) {
                commands.push(DataCommand::ExportEntity { entity: entity.name.clone(), path });
            }
            if ui
                .button("Delete entity\u{2026}")
                .on_hover_text("Remove this entity and its rows from the workspace")
                .clicked()
            {
                self.confirm_drop = true;
            }
        });
        if self.confirm_drop {
            ui.horizontal(|ui| {
                let rows = e.row_count.map_or_else(String::new, |n| format!(" and its {} rows", theme::count(n)));
                ui.colored_label(
                    theme::warning(ui),
                    format!("Delete {}{rows}? A campaign that uses it keeps it from going.", entity.label),
                );
                if ui.button(format!("Delete {}", entity.label)).clicked() {
                    commands.push(DataCommand::Model(ModelEdit::DropEntity { entity: entity.name.clone() }));
                    self.confirm_drop = false;
                }
                if ui.button("Cancel").clicked() {
                    self.confirm_drop = false;
                }
            });
        }
        ui.add_space(4.0);
        self.presentation(ui, entity, commands);
        action
    }

    /// The label, and each column's label, shown flag and description.
    fn presentation(&mut self, ui: &mut egui::Ui, entity: &Entity, commands: &mut Commands) {
        ui.horizontal(|ui| {
            let l = ui.label("Shown to marketers as").id;
            ui.add(egui::TextEdit::singleline(&mut self.label).desired_width(200.0)).labelled_by(l);
        });
        egui::Grid::new("entity_columns").striped(true).num_columns(5).spacing([20.0, 4.0]).show(ui, |ui| {
            for title in ["Column", "Label", "Type", "Offered", "What it holds"] {
                ui.label(egui::RichText::new(title).color(theme::muted(ui)));
            }
            ui.end_row();
            for (c, look) in entity.columns.iter().zip(self.columns.iter_mut()) {
                let key = if c.name == entity.primary_key { " (key)" } else { "" };
                let name = ui.monospace(format!("{}{key}", c.name)).id;
                ui.add_sized([200.0, 20.0], egui::TextEdit::singleline(&mut look.label))
                    .on_hover_text(format!("The label of {}", c.name));
                ui.label(c.column_type.as_str());
                let mut offered = !look.hidden;
                ui.add(egui::Checkbox::without_text(&mut offered))
                    .labelled_by(name)
                    .on_hover_text(format!("Offer {} in the canvas's pickers (a canvas using it keeps it)", c.name));
                look.hidden = !offered;
                ui.add_sized(
                    [300.0, 20.0],
                    egui::TextEdit::singleline(&mut look.description).hint_text("shown where it is picked"),
                )
                .labelled_by(name)
                .on_hover_text(format!("What {} holds", c.name));
                ui.end_row();
            }
        });
        let edited = self.label != entity.label || self.columns != looks(entity);
        if edited {
            ui.horizontal(|ui| {
                if ui.button("Save changes").clicked() {
                    commands.push(DataCommand::Model(ModelEdit::Presentation {
                        entity: entity.name.clone(),
                        label: self.label.clone(),
                        columns: self.columns.clone(),
                    }));
                }
                if ui.button("Undo changes").clicked() {
                    self.label = entity.label.clone();
                    self.columns = looks(entity);
                }
            });
        }
    }

    /// "Link [column] to [entity]": a whole-number column of this entity pointing at another's key.
    pub fn add_link(&mut self, ui: &mut egui::Ui, entity: &Entity, o: &DataOverview, commands: &mut Commands) {
        let free: Vec<(String, String)> = entity
            .columns
            .iter()
            .filter(|c| c.column_type == ColumnType::Integer && c.name != entity.primary_key)
            .filter(|c| !o.links.iter().any(|l| l.child == entity.name && l.foreign_key == c.name))
            .map(|c| (c.name.clone(), c.label.clone()))
            .collect();
        if free.is_empty() {
            return;
        }
        let parents: Vec<(String, String)> =
            o.entities.iter().map(|e| (e.entity.name.clone(), e.entity.label.clone())).collect();
        ui.horizontal(|ui| {
            ui.label(format!("Link {} through", entity.label));
            combo(ui, egui::Id::new("new_link_column"), &mut self.link.0, &free);
            ui.label("to");
            combo(ui, egui::Id::new("new_link_parent"), &mut self.link.1, &parents);
            let ready = !self.link.0.is_empty() && !self.link.1.is_empty();
            if ui
                .add_enabled(ready, egui::Button::new("Add link"))
                .on_hover_text("Each row of this entity then points at one row of the other, by its key")
                .clicked()
            {
                commands.push(DataCommand::Model(ModelEdit::AddLink {
                    child: entity.name.clone(),
                    foreign_key: self.link.0.clone(),
                    parent: self.link.1.clone(),
                }));
                self.link = (String::new(), String::new());
            }
        });
    }

    /// "Identity [name] is [column]" on the entity messages go to (or on any, when none is yet).
    pub fn add_identity(&mut self, ui: &mut egui::Ui, entity: &Entity, o: &DataOverview, commands: &mut Commands) {
        if o.identity_namespaces.first().is_some_and(|n| n.entity != entity.name) {
            return;
        }
        let names: Vec<(String, String)> = NAMESPACES
            .iter()
            .filter(|(n, _)| !o.identity_namespaces.iter().any(|ns| ns.name == *n))
            .map(|(n, _)| ((*n).to_owned(), (*n).to_owned()))
            .collect();
        let columns: Vec<(String, String)> = entity.columns.iter().map(|c| (c.name.clone(), c.label.clone())).collect();
        ui.horizontal(|ui| {
            let l = ui.label("Identity").id;
            ui.add(egui::TextEdit::singleline(&mut self.identity.0).desired_width(90.0).hint_text("email"))
                .labelled_by(l)
                .on_hover_text("email, phone, crm_id, x_handle, or a name of your own");
            if !names.is_empty() {
                egui::ComboBox::from_id_salt("new_identity_name").selected_text("choose").width(70.0).show_ui(
                    ui,
                    |ui| {
                        for (n, _) in &names {
                            if ui.selectable_label(self.identity.0 == *n, n).clicked() {
                                self.identity.0.clone_from(n);
                            }
                        }
                    },
                );
            }
            ui.label("is");
            combo(ui, egui::Id::new("new_identity_column"), &mut self.identity.1, &columns);
            let ready = !self.identity.0.trim().is_empty() && !self.identity.1.is_empty();
            if ui
                .add_enabled(ready, egui::Button::new("Add identity"))
                .on_hover_text("Where a channel finds its address (email, phone), or how an API call names a profile")
                .clicked()
            {
                commands.push(DataCommand::Model(ModelEdit::AddIdentity {
                    name: self.identity.0.trim().to_owned(),
                    entity: entity.name.clone(),
                    column: self.identity.1.clone(),
                }));
                self.identity = (String::new(), String::new());
            }
        });
    }
}

fn looks(e: &Entity) -> Vec<ColumnLook> {
    e.columns
        .iter()
        .map(|c| ColumnLook {
            name: c.name.clone(),
            label: c.label.clone(),
            hidden: c.hidden,
            description: c.description.clone(),
        })
        .collect()
}
