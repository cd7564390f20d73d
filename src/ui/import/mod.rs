//! Data → Import…: a CSV or TSV file into an entity, in four steps on one page — the file
//! (and how it is read), its first rows, where each column goes (`mapping.rs`), then a check
//! of every row with the refused ones listed, and the import of the good ones. The check and
//! the import are jobs in the status bar, with Cancel; nothing is written until Import.

mod mapping;

use std::path::PathBuf;

use egui::RichText;

use super::path_field::{Pick, path_field};
use super::table::{TextTable, text_table};
use super::{Commands, theme};
use crate::console::{DataCommand, Event, ImportCommand, ImportEvent, ImportReport, RequestId, UserError};
use crate::import::{Encoding, Mapping, Sample, source};
use crate::model::{DataModel, DataOverview};

/// How many refused cells the page lists (the rejects file has them all).
const REJECTS_SHOWN: usize = 200;

/// The import page's state.
#[derive(Default)]
pub struct ImportView {
    path: String,
    /// The file read last, its first rows and the mapping being edited.
    file: Option<PathBuf>,
    sample: Option<Sample>,
    mapping: Option<Mapping>,
    /// Why the file could not be read.
    error: Option<UserError>,
    sampling: Option<RequestId>,
    /// The check or import under way: its request, and whether it writes.
    running: Option<(RequestId, bool)>,
    /// What the last check or import found, and whether it was an import.
    report: Option<(Result<ImportReport, UserError>, bool)>,
    /// Where refused rows are saved, while the user chooses.
    rejects_path: Option<String>,
    mapping_name: String,
    saved: Vec<(String, Mapping)>,
    asked_saved: bool,
    /// The files chosen together that come after this one, in order (parents first: the
    /// user picks customers before their orders, or imports them in that order).
    queue: Vec<PathBuf>,
}

/// What the page asks of the Data screen.
pub enum Outcome {
    Stay,
    /// Back to the data model.
    Close,
}

impl ImportView {
    /// The mapping being edited (tests).
    pub fn mapping(&self) -> Option<&Mapping> {
        self.mapping.as_ref()
    }

    /// What the last check or import found (tests).
    pub fn report(&self) -> Option<&Result<ImportReport, UserError>> {
        self.report.as_ref().map(|(r, _)| r)
    }

    pub fn on_event(&mut self, event: &Event, request: Option<RequestId>) {
        let Event::Import(e) = event else { return };
        match e {
            ImportEvent::Sampled { path, sampled } if request.is_some() && request == self.sampling => {
                self.sampling = None;
                match sampled {
                    Ok(found) => {
                        let (sample, guessed) = found.as_ref().clone();
                        // A new reading of the same file keeps the mapping's choices when its
                        // columns are the same.
                        let keep = self.file.as_ref() == Some(path)
                            && self
                                .mapping
                                .as_ref()
                                .is_some_and(|m| m.columns.iter().map(|c| &c.source).eq(sample.columns.iter()));
                        if !keep {
                            self.mapping = Some(guessed);
                        }
                        self.file = Some(path.clone());
                        self.sample = Some(sample);
                        self.error = None;
                        self.report = None;
                    }
                    Err(e) => {
                        self.error = Some(e.clone());
                        self.sample = None;
                        self.mapping = None;
                    }
                }
            }
            ImportEvent::Guessed(m) => {
                self.mapping = Some(m.as_ref().clone());
                self.report = None;
            }
            ImportEvent::Report(r) if request.is_some() && self.running.is_some_and(|(id, _)| Some(id) == request) => {
                let wrote = self.running.is_some_and(|(_, w)| w);
                self.running = None;
                self.report = Some((r.clone(), wrote));
            }
            ImportEvent::Mappings(list) => self.saved = list.clone(),
            _ => {}
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, overview: &DataOverview, commands: &mut Commands) -> Outcome {
        if !self.asked_saved {
            self.asked_saved = true;
            commands.push(ImportCommand::RefreshMappings);
        }
        let mut outcome = Outcome::Stay;
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.heading("Import a CSV or TSV file");
            if ui.button("Back to the data model").clicked() {
                outcome = Outcome::Close;
            }
        });
        ui.add_space(6.0);
        egui::ScrollArea::vertical().id_salt("import_page").auto_shrink([false, false]).show(ui, |ui| {
            self.file_step(ui, commands);
            let model = overview.model();
            if self.sample.is_some() && self.mapping.is_some() {
                ui.add_space(theme::SECTION_GAP);
                self.rows_step(ui);
                ui.add_space(theme::SECTION_GAP);
                ui.strong("3. Where it goes");
                ui.add_space(4.0);
                let (Some(sample), Some(m)) = (self.sample.as_ref(), self.mapping.as_mut()) else { return };
                let changed = mapping::mapping_form(ui, m, sample, &model, commands);
                if changed {
                    self.report = None;
                }
                self.saved_mappings(ui, commands);
                ui.add_space(theme::SECTION_GAP);
                if self.run_step(ui, &model, commands) {
                    outcome = Outcome::Close;
                }
            }
        });
        outcome
    }

    /// Reads `path`'s first rows (a new file: the mapping is guessed again).
    fn read(&mut self, path: PathBuf, commands: &mut Commands) {
        self.path = path.display().to_string();
        self.report = None;
        self.sampling = Some(commands.push(ImportCommand::Sample { path, format: None }));
    }

    /// Files chosen together and still to import (tests set them; the dialog does for users).
    pub fn queue_files(&mut self, files: Vec<PathBuf>) {
        self.queue = files;
    }

    /// The first step: the file, and how it is read.
    fn file_step(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        ui.strong("1. The file");
        ui.add_space(4.0);
        path_field(ui, egui::Id::new("import_path"), &mut self.path, Pick::OpenCsv, "A CSV or TSV file to import");
        ui.horizontal(|ui| {
            let ready = !self.path.trim().is_empty() && self.sampling.is_none() && self.running.is_none();
            if ui.add_enabled(ready, egui::Button::new("Read the file")).clicked() {
                self.read(PathBuf::from(self.path.trim()), commands);
            }
            if ui
                .add_enabled(
                    self.sampling.is_none() && self.running.is_none(),
                    egui::Button::new("Several files\u{2026}"),
                )
                .on_hover_text("Choose several files: each is mapped and imported in turn, in the order chosen")
                .clicked()
                && let Some(mut files) = rfd::FileDialog::new()
                    .set_title("CSV or TSV files to import")
                    .add_filter("CSV or TSV", &["csv", "tsv", "txt"])
                    .pick_files()
                && !files.is_empty()
            {
                let first = files.remove(0);
                self.queue = files;
                self.read(first, commands);
            }
            if self.sampling.is_some() {
                ui.spinner();
            }
        });
        if !self.queue.is_empty() {
            let names: Vec<String> = self
                .queue
                .iter()
                .map(|p| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned()))
                .collect();
            ui.label(RichText::new(format!("Then: {}", names.join(", "))).color(theme::muted(ui)));
        }
        if let Some(e) = &self.error {
            ui.colored_label(theme::error(ui), format!("{} {}", theme::ICON_ERROR, e.message));
        }
        let (Some(sample), Some(file)) = (&self.sample, &self.file) else { return };
        let mut format = sample.format.clone();
        ui.horizontal(|ui| {
            ui.label("Read as");
            egui::ComboBox::from_id_salt("import_encoding").selected_text(format.encoding.label()).show_ui(ui, |ui| {
                for e in [Encoding::Utf8, Encoding::Utf16Le, Encoding::Utf16Be, Encoding::Latin1] {
                    ui.selectable_value(&mut format.encoding, e, e.label());
                }
            });
            ui.label("values separated by");
            egui::ComboBox::from_id_salt("import_delimiter")
                .selected_text(source::delimiter_label(format.delimiter))
                .show_ui(ui, |ui| {
                    for d in source::DELIMITERS {
                        ui.selectable_value(&mut format.delimiter, d, source::delimiter_label(d));
                    }
                });
            ui.checkbox(&mut format.header, "The first line names the columns");
        });
        if format != sample.format && self.sampling.is_none() {
            self.sampling = Some(commands.push(ImportCommand::Sample { path: file.clone(), format: Some(format) }));
        }
        for w in &sample.warnings {
            ui.colored_label(theme::warning(ui), w);
        }
    }

    /// The second step: the first rows, as read.
    fn rows_step(&self, ui: &mut egui::Ui) {
        let Some(sample) = &self.sample else { return };
        ui.strong(format!("2. The first {} rows", sample.rows.len()));
        ui.add_space(4.0);
        let headers: Vec<&str> = sample.columns.iter().map(String::as_str).collect();
        let widths = vec![90.0; headers.len().saturating_sub(1)];
        ui.push_id("import_rows", |ui| {
            egui::ScrollArea::horizontal().show(ui, |ui| {
                let spec = TextTable {
                    id: "import_sample",
                    headers: &headers,
                    widths: &widths,
                    row_height: 20.0,
                    max_height: Some(180.0),
                    selectable: false,
                    selected: None,
                };
                text_table(ui, &spec, sample.rows.len(), |i| sample.rows[i].clone());
            });
        });
    }

    /// Saved mappings: use one made for files like this, or save this one.
    fn saved_mappings(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let Some(sample) = &self.sample else { return };
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let fitting: Vec<&(String, Mapping)> = self
                .saved
                .iter()
                .filter(|(_, m)| m.columns.iter().map(|c| &c.source).eq(sample.columns.iter()))
                .collect();
            if !fitting.is_empty() {
                let mut chosen: Option<Mapping> = None;
                egui::ComboBox::from_id_salt("import_saved").selected_text("Use a saved mapping").show_ui(ui, |ui| {
                    for (name, m) in &fitting {
                        if ui.selectable_label(false, name).clicked() {
                            chosen = Some(m.clone());
                        }
                    }
                });
                if let Some(m) = chosen {
                    self.mapping = Some(m);
                    self.report = None;
                }
            }
            let label = ui.label("Save this mapping as").id;
            ui.add(
                egui::TextEdit::singleline(&mut self.mapping_name).desired_width(160.0).hint_text("nightly customers"),
            )
            .labelled_by(label);
            let ready = !self.mapping_name.trim().is_empty();
            if ui.add_enabled(ready, egui::Button::new("Save mapping")).clicked()
                && let Some(m) = &self.mapping
            {
                commands.push(ImportCommand::SaveMapping {
                    name: self.mapping_name.trim().to_owned(),
                    mapping: Box::new(m.clone()),
                });
            }
        });
    }

    /// The fourth step: check every row, see the refused ones, import the good ones. Returns
    /// whether the user is done.
    fn run_step(&mut self, ui: &mut egui::Ui, model: &DataModel, commands: &mut Commands) -> bool {
        let (Some(file), Some(m)) = (self.file.clone(), self.mapping.clone()) else { return false };
        let Some(format) = self.sample.as_ref().map(|s| s.format.clone()) else { return false };
        ui.strong("4. Check and import");
        ui.add_space(4.0);
        let problems = m.problems(model);
        for p in &problems {
            ui.colored_label(theme::error(ui), format!("{} {}", theme::ICON_ERROR, super::sentence(p)));
        }
        let idle = self.running.is_none() && self.sampling.is_none();
        let mut done = false;
        ui.horizontal(|ui| {
            let check = ui
                .add_enabled(idle && problems.is_empty(), egui::Button::new("Check every row"))
                .on_hover_text("Reads the whole file as it would be imported, and lists what would be refused. Nothing is written.");
            if check.clicked() {
                let id = commands.push(ImportCommand::Check { path: file.clone(), format: format.clone(), mapping: Box::new(m.clone()) });
                self.running = Some((id, false));
                self.report = None;
            }
            if let Some((Ok(report), false)) = &self.report {
                let good = report.rows - report.refused;
                let label = match report.refused {
                    0 => format!("Import {} rows", theme::count(good)),
                    _ => format!("Import the {} good rows", theme::count(good)),
                };
                let import = ui.add_enabled(idle && good > 0, egui::Button::new(label)).on_hover_text(
                    "Writes the rows in one go: if it fails or you cancel it, the workspace stays as it was.",
                );
                if import.clicked() {
                    let id = commands.push(ImportCommand::Import { path: file.clone(), format: format.clone(), mapping: Box::new(m.clone()) });
                    self.running = Some((id, true));
                }
            }
            if let Some((Ok(_), true)) = &self.report {
                match self.queue.first() {
                    Some(next) => {
                        let name = next.file_name().map_or_else(|| next.display().to_string(), |n| n.to_string_lossy().into_owned());
                        if ui.button(format!("Next file: {name}")).clicked() {
                            let next = self.queue.remove(0);
                            self.read(next, commands);
                            commands.push(DataCommand::RefreshOverview);
                        }
                    }
                    None => done = ui.button("Done").clicked(),
                }
            }
            if self.running.is_some() {
                ui.spinner();
                ui.label(RichText::new("see the progress below, with Cancel").color(theme::muted(ui)));
            }
        });
        self.report_view(ui, &file, &format, &m, commands);
        if done {
            commands.push(DataCommand::RefreshOverview);
        }
        done
    }

    fn report_view(
        &mut self,
        ui: &mut egui::Ui,
        file: &std::path::Path,
        format: &crate::import::Format,
        m: &Mapping,
        commands: &mut Commands,
    ) {
        let Some((report, _)) = &self.report else { return };
        let report = match report {
            Err(e) => {
                ui.colored_label(theme::error(ui), format!("{} {}", theme::ICON_ERROR, e.message));
                return;
            }
            Ok(r) => r,
        };
        ui.add_space(4.0);
        let color = if report.refused == 0 { theme::ok(ui) } else { theme::warning(ui) };
        ui.colored_label(color, format!("{}.", report.summary()));
        for s in report.dangling_sentences() {
            ui.colored_label(theme::warning(ui), super::sentence(&s));
        }
        if report.rejects.is_empty() {
            return;
        }
        ui.add_space(4.0);
        let shown = report.rejects.len().min(REJECTS_SHOWN);
        let spec = TextTable {
            id: "import_rejects",
            headers: &["Line", "Column", "Value", "Why it is refused"],
            widths: &[50.0, 120.0, 160.0],
            row_height: 20.0,
            max_height: Some(220.0),
            selectable: false,
            selected: None,
        };
        let rejects = &report.rejects;
        text_table(ui, &spec, shown, |i| {
            let r = &rejects[i];
            vec![r.line.to_string(), r.column.clone(), r.value.clone(), r.reason.clone()]
        });
        if report.refused as usize > shown || rejects.len() > shown {
            ui.label(
                RichText::new(format!("The first {shown} are shown; save them to a file to see them all."))
                    .color(theme::muted(ui)),
            );
        }
        let name = format!("{}-refused.csv", file.file_stem().map_or_else(|| "import".into(), |s| s.to_string_lossy()));
        if let Some(to) = super::path_field::export_controls(
            ui,
            egui::Id::new("import_rejects_path"),
            &mut self.rejects_path,
            &name,
            "Every refused cell with its line, column, value and reason, as CSV",
        ) {
            commands.push(ImportCommand::WriteRejects {
                path: file.to_owned(),
                format: format.clone(),
                mapping: Box::new(m.clone()),
                to,
            });
        }
    }
}
