//! Where each column of the file goes: the entity (an existing one or a new one), the key,
//! the mode, and per column its name in the workspace, type, date format, link and identity.

use egui::RichText;

use super::super::{Commands, theme};
use crate::console::ImportCommand;
use crate::import::mapping::{NAMESPACES, identifier, label};
use crate::import::{DateFormat, Key, Mapping, Mode, Sample};
use crate::model::{ColumnType, DataModel};

/// Draws the mapping form; returns whether anything changed.
pub fn mapping_form(
    ui: &mut egui::Ui,
    m: &mut Mapping,
    sample: &Sample,
    model: &DataModel,
    commands: &mut Commands,
) -> bool {
    let before = m.clone();
    entity_row(ui, m, sample, model, commands);
    ui.add_space(6.0);
    egui::Grid::new("import_columns").striped(true).num_columns(8).spacing([14.0, 4.0]).show(ui, |ui| {
        for title in ["File column", "Import", "Column", "Type", "Date format", "Links to", "Identity", "First values"]
        {
            ui.label(RichText::new(title).color(theme::muted(ui)));
        }
        ui.end_row();
        let parents: Vec<String> = model.entities.iter().map(|e| e.name.clone()).filter(|n| *n != m.entity).collect();
        for (i, c) in m.columns.iter_mut().enumerate() {
            column_row(ui, i, c, &parents, sample);
            ui.end_row();
        }
    });
    ui.add_space(6.0);
    key_and_mode(ui, m);
    *m != before
}

fn entity_row(ui: &mut egui::Ui, m: &mut Mapping, sample: &Sample, model: &DataModel, commands: &mut Commands) {
    ui.horizontal(|ui| {
        let label_id = ui.label("Into the entity").id;
        // The name as typed; the mapping follows when the field is left (or Enter).
        let text_id = egui::Id::new("import_entity_text");
        let focused = ui.memory(|mem| mem.has_focus(text_id));
        let mut name =
            if focused { ui.data(|d| d.get_temp::<String>(text_id)).unwrap_or_default() } else { m.entity.clone() };
        let edit = ui.add(egui::TextEdit::singleline(&mut name).id(text_id).desired_width(160.0)).labelled_by(label_id);
        ui.data_mut(|d| d.insert_temp(text_id, name.clone()));
        let mut chosen: Option<String> = None;
        egui::ComboBox::from_id_salt("import_entity").selected_text("existing entities").show_ui(ui, |ui| {
            for e in &model.entities {
                if ui.selectable_label(e.name == m.entity, format!("{} ({})", e.label, e.name)).clicked() {
                    chosen = Some(e.name.clone());
                }
            }
        });
        let wanted = chosen.or_else(|| edit.lost_focus().then(|| identifier(&name)));
        if let Some(entity) = wanted
            && entity != m.entity
        {
            m.entity = entity.clone();
            commands.push(ImportCommand::Guess { sample: Box::new(sample.clone()), entity });
        }
        match model.entity(&m.entity) {
            Some(e) => {
                ui.label(RichText::new(format!("{}: its rows are there already", e.label)).color(theme::muted(ui)));
            }
            None => {
                let l = ui.label("a new entity, shown as").id;
                ui.add(egui::TextEdit::singleline(&mut m.entity_label).desired_width(140.0)).labelled_by(l);
            }
        }
    });
}

fn column_row(ui: &mut egui::Ui, i: usize, c: &mut crate::import::ColumnMapping, parents: &[String], sample: &Sample) {
    ui.monospace(&c.source);
    let mut on = c.target.is_some();
    if ui.checkbox(&mut on, "").on_hover_text(format!("Import {}", c.source)).changed() {
        c.target = on.then(|| identifier(&c.source));
    }
    let Some(target) = c.target.as_mut() else {
        ui.label(RichText::new("skipped").color(theme::muted(ui)));
        for _ in 0..4 {
            ui.label("");
        }
        ui.label(first_values(ui, sample, i));
        return;
    };
    let edit = ui
        .add_sized([140.0, 20.0], egui::TextEdit::singleline(target))
        .on_hover_text("Its column in the workspace (lower-case letters, digits and _)");
    if edit.lost_focus() {
        *target = identifier(target);
        if c.label.trim().is_empty() {
            c.label = label(target);
        }
    }
    egui::ComboBox::from_id_salt(("import_type", i)).selected_text(c.column_type.as_str()).show_ui(ui, |ui| {
        for t in ColumnType::ALL {
            ui.selectable_value(&mut c.column_type, t, t.as_str());
        }
    });
    if matches!(c.column_type, ColumnType::Date | ColumnType::Timestamp) {
        egui::ComboBox::from_id_salt(("import_format", i)).selected_text(c.date_format.label()).show_ui(ui, |ui| {
            for f in DateFormat::ALL {
                ui.selectable_value(&mut c.date_format, f, f.label());
            }
        });
    } else {
        ui.label("");
    }
    egui::ComboBox::from_id_salt(("import_link", i)).selected_text(c.link.as_deref().unwrap_or("\u{2014}")).show_ui(
        ui,
        |ui| {
            ui.selectable_value(&mut c.link, None, "\u{2014} (no link)");
            for p in parents {
                ui.selectable_value(&mut c.link, Some(p.clone()), p);
            }
        },
    );
    let shown =
        c.namespace.as_deref().and_then(|n| NAMESPACES.iter().find(|(k, _)| *k == n)).map_or("\u{2014}", |(_, l)| *l);
    egui::ComboBox::from_id_salt(("import_identity", i)).selected_text(shown).show_ui(ui, |ui| {
        ui.selectable_value(&mut c.namespace, None, "\u{2014} (none)");
        for (name, l) in NAMESPACES {
            ui.selectable_value(&mut c.namespace, Some(name.to_owned()), l);
        }
    });
    if c.namespace.as_deref().is_some_and(|n| n != "crm_id") {
        c.column_type = ColumnType::Text;
    }
    ui.label(first_values(ui, sample, i));
}

/// The first three values of a file column, as the page shows them beside its mapping.
fn first_values(ui: &egui::Ui, sample: &Sample, i: usize) -> RichText {
    let values: Vec<&str> =
        sample.rows.iter().filter_map(|r| r.get(i)).map(String::as_str).filter(|v| !v.is_empty()).take(3).collect();
    let mut text = values.join(", ");
    if text.chars().count() > 48 {
        text = text.chars().take(47).collect::<String>() + "…";
    }
    RichText::new(text).color(theme::muted(ui))
}

fn key_and_mode(ui: &mut egui::Ui, m: &mut Mapping) {
    ui.horizontal(|ui| {
        ui.label("Each row's key");
        let numbered = matches!(m.key, Key::Numbered(_));
        let shown = if numbered { "numbered rows".to_owned() } else { m.key.column().to_owned() };
        let targets: Vec<String> = m
            .mapped()
            .filter(|(_, c)| c.column_type == ColumnType::Integer)
            .filter_map(|(_, c)| c.target.clone())
            .collect();
        egui::ComboBox::from_id_salt("import_key").selected_text(shown).show_ui(ui, |ui| {
            for t in targets {
                if ui.selectable_label(m.key.column() == t && !numbered, &t).clicked() {
                    m.key = Key::Column(t.clone());
                    if let Some(c) = m.columns.iter_mut().find(|c| c.target.as_deref() == Some(t.as_str())) {
                        c.link = None;
                    }
                }
            }
            if ui.selectable_label(numbered, "number the rows").clicked() && !numbered {
                let taken = |n: &str| m.columns.iter().any(|c| c.target.as_deref() == Some(n));
                m.key = Key::Numbered(if taken("id") { "row_id".into() } else { "id".into() });
            }
        });
    });
    ui.horizontal(|ui| {
        ui.label("Rows already there");
        for mode in Mode::ALL {
            ui.radio_value(&mut m.mode, mode, mode.label());
        }
    });
    if m.mode == Mode::Upsert {
        ui.horizontal(|ui| {
            ui.label("An empty cell");
            ui.radio_value(&mut m.clear_empty, false, "keeps the value there");
            ui.radio_value(&mut m.clear_empty, true, "clears it");
        });
    }
    if m.columns.iter().any(|c| c.target.is_some() && c.namespace.as_deref() == Some("phone")) {
        ui.horizontal(|ui| {
            let l = ui.label("Phone numbers without + are from").id;
            ui.add(egui::TextEdit::singleline(&mut m.default_country).desired_width(40.0)).labelled_by(l);
            ui.label(RichText::new("(a country code: FR, US, GB…)").color(theme::muted(ui)));
        });
    }
}
