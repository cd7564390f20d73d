//! What the window shows first: the app on its workspace or, when that workspace cannot be
//! opened (a damaged database, a read-only folder, a file where a folder should be), what is
//! wrong with it and two ways on: open another folder, or create a new workspace (with the
//! demo data) somewhere else.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::path_field::{Pick, path_field};
use super::{App, SavedState, theme};
use crate::console::{Console, ConsoleError};

/// Opens a workspace folder with the options the app was started with.
pub type OpenWorkspace = Box<dyn Fn(&Path) -> Result<Arc<Console>, ConsoleError>>;

pub struct Launcher {
    open: OpenWorkspace,
    phase: Phase,
}

enum Phase {
    Problem(Problem),
    Ready(Box<App>),
    /// Between the two, for one frame.
    Switching,
}

struct Problem {
    dir: PathBuf,
    error: String,
    /// The folder typed or chosen.
    path: String,
    /// Why the folder chosen could not be opened either.
    again: Option<String>,
    state: SavedState,
}

impl Launcher {
    /// The app on `first`, or the problem with `dir` when `first` failed.
    pub fn new(open: OpenWorkspace, dir: &Path, first: Result<Arc<Console>, ConsoleError>, state: SavedState) -> Self {
        let phase = match first {
            Ok(console) => Phase::Ready(Box::new(App::new(console, state))),
            Err(e) => {
                tracing::warn!("the workspace at {} could not be opened: {e:#}", dir.display());
                Phase::Problem(Problem {
                    dir: dir.to_owned(),
                    error: format!("{e:#}"),
                    path: String::new(),
                    again: None,
                    state,
                })
            }
        };
        Self { open, phase }
    }

    /// The app, once a workspace is open.
    pub fn app(&mut self) -> Option<&mut App> {
        match &mut self.phase {
            Phase::Ready(app) => Some(app),
            _ => None,
        }
    }

    pub fn show(&mut self, ui: &mut egui::Ui) {
        match &mut self.phase {
            Phase::Ready(app) => app.show(ui),
            Phase::Switching => {}
            Phase::Problem(p) => {
                if let Some((dir, create)) = problem_ui(ui, p) {
                    self.switch(&dir, create);
                }
            }
        }
    }

    /// Opens `dir` (a new workspace with the demo when `create`), or says why not.
    fn switch(&mut self, dir: &Path, create: bool) {
        let Phase::Problem(mut p) = std::mem::replace(&mut self.phase, Phase::Switching) else { return };
        let fresh = !Console::holds_workspace(dir);
        let opened = if create && !fresh {
            Err(format!(
                "{} already holds a workspace: use \u{201c}Open this folder\u{201d}, or choose an empty folder",
                dir.display()
            ))
        } else if !create && fresh {
            Err(format!(
                "{} holds no workspace: use \u{201c}Create a new workspace here\u{201d} to make one",
                dir.display()
            ))
        } else {
            (self.open)(dir).map_err(|e| format!("{e:#}"))
        };
        self.phase = match opened {
            Ok(console) => {
                if create && console.first_start_demo_due(true).unwrap_or(false) {
                    console.send(crate::console::DataCommand::GenerateDemo {
                        profiles: crate::demo::FIRST_START_PROFILES,
                        replace: false,
                    });
                }
                Phase::Ready(Box::new(App::new(console, std::mem::take(&mut p.state))))
            }
            Err(why) => {
                p.again = Some(why);
                Phase::Problem(p)
            }
        };
    }
}

/// The problem and the ways on; returns the folder to open (and whether to create it).
fn problem_ui(ui: &mut egui::Ui, p: &mut Problem) -> Option<(PathBuf, bool)> {
    let mut chosen = None;
    egui::CentralPanel::default().show(ui, |ui| {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| ui.heading("The workspace could not be opened"));
        ui.add_space(16.0);
        ui.label(egui::RichText::new(p.dir.display().to_string()).monospace());
        ui.add_space(6.0);
        ui.colored_label(theme::error(ui), format!("{} {}", theme::ICON_ERROR, p.error));
        ui.add_space(6.0);
        ui.label(
            "Nothing was changed in it. Open another workspace folder, or create a new workspace (with the \
             demo data) in an empty folder.",
        );
        ui.add_space(12.0);
        path_field(ui, egui::Id::new("launcher_path"), &mut p.path, Pick::Folder, "A workspace folder");
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let ready = !p.path.trim().is_empty();
            if ui.add_enabled(ready, egui::Button::new("Open this folder")).clicked() {
                chosen = Some((PathBuf::from(p.path.trim()), false));
            }
            if ui.add_enabled(ready, egui::Button::new("Create a new workspace here")).clicked() {
                chosen = Some((PathBuf::from(p.path.trim()), true));
            }
        });
        if let Some(why) = &p.again {
            ui.add_space(6.0);
            ui.colored_label(theme::error(ui), format!("{} {why}", theme::ICON_ERROR));
        }
    });
    chosen
}

impl eframe::App for Launcher {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if let Some(app) = self.app() {
            eframe::set_value(storage, super::STORAGE_KEY, &app.state);
        }
    }
}
