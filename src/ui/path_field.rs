//! A file or folder to write to or open: a path the user can type, and "Browse…" for the
//! system's dialog when there is one. Where no dialog can open (no portal, no GTK), the field
//! still works and says so.

use std::path::PathBuf;

use super::theme;

/// Which dialog "Browse…" opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// A file to write (a save dialog).
    SaveFile,
    /// A CSV or TSV file to read.
    OpenCsv,
    /// A folder.
    Folder,
    /// A campaign file to read.
    OpenCampaign,
}

/// Draws the path field and "Browse…". The dialog runs here, on the UI thread (macOS allows
/// no other). When it returns nothing, a note under the field says that a path can be typed.
pub fn path_field(ui: &mut egui::Ui, id: egui::Id, path: &mut String, pick: Pick, title: &str) {
    let note_id = id.with("no_dialog");
    ui.horizontal(|ui| {
        let label = ui.label("Path").id;
        ui.add(egui::TextEdit::singleline(path).desired_width(360.0).id(id)).labelled_by(label);
        if ui.button("Browse…").clicked() {
            let current = PathBuf::from(path.trim());
            let mut dialog = rfd::FileDialog::new().set_title(title);
            if let Some(dir) = current.parent().filter(|d| d.is_dir()) {
                dialog = dialog.set_directory(dir);
            }
            let chosen = match pick {
                Pick::SaveFile => {
                    let name = current.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    dialog.set_file_name(name).save_file()
                }
                Pick::Folder => dialog.pick_folder(),
                Pick::OpenCsv => dialog.add_filter("CSV or TSV", &["csv", "tsv", "txt"]).pick_file(),
                Pick::OpenCampaign => dialog.add_filter("Campaign file", &["json"]).pick_file(),
            };
            match chosen {
                Some(p) => {
                    *path = p.display().to_string();
                    ui.data_mut(|d| d.remove::<bool>(note_id));
                }
                None => {
                    ui.data_mut(|d| d.insert_temp(note_id, true));
                }
            }
        }
    });
    if ui.data(|d| d.get_temp::<bool>(note_id)).unwrap_or(false) {
        ui.label(
            egui::RichText::new(
                "No file was chosen. If no dialog appeared (none is available on this system), type the path above.",
            )
            .small()
            .color(theme::muted(ui)),
        );
    }
}

/// A default place for a new file: the user's documents (or home) folder.
pub fn default_path(file_name: &str) -> String {
    let dir = directories::UserDirs::new()
        .and_then(|u| u.document_dir().map(std::path::Path::to_owned).or_else(|| Some(u.home_dir().to_owned())))
        .unwrap_or_else(|| PathBuf::from("."));
    dir.join(file_name).display().to_string()
}

/// "Export to CSV…", then where to: the path (typed, or chosen with "Browse…") and Export.
/// `target` holds the path while the user chooses. Returns the file to write when Export is
/// pressed.
pub fn export_controls(
    ui: &mut egui::Ui,
    id: egui::Id,
    target: &mut Option<String>,
    file_name: &str,
    hover: &str,
) -> Option<PathBuf> {
    save_controls(ui, id, target, file_name, hover, ("Export to CSV", "Export"))
}

/// A button "`title`…", then where to: the path (typed, or chosen with "Browse…") and the
/// `action` button. `target` holds the path while the user chooses. Returns the file to
/// write when `action` is pressed.
pub fn save_controls(
    ui: &mut egui::Ui,
    id: egui::Id,
    target: &mut Option<String>,
    file_name: &str,
    hover: &str,
    (title, action): (&str, &str),
) -> Option<PathBuf> {
    let Some(path) = target.as_mut() else {
        if ui.button(format!("{title}\u{2026}")).on_hover_text(hover).clicked() {
            *target = Some(default_path(file_name));
        }
        return None;
    };
    let mut chosen = None;
    let mut close = false;
    ui.vertical(|ui| {
        path_field(ui, id, path, Pick::SaveFile, title);
        ui.horizontal(|ui| {
            let ready = !path.trim().is_empty();
            if ui.add_enabled(ready, egui::Button::new(action)).clicked() {
                chosen = Some(PathBuf::from(path.trim()));
                close = true;
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
    });
    if close {
        *target = None;
    }
    chosen
}
