//! The Visitors screen: the followers of the X services, as the follower synchronization keeps
//! them — how many, which services synchronize, **Synchronize now** (a job with progress and
//! Cancel, carried on where a stopped run left off) and the last runs with what came of them.
//! **Browse visitors** opens the row browser on them (search, sort, filter, detail, export).

use egui::RichText;

use super::screen::{Screen, ScreenContext};
use super::{Commands, theme};
use crate::console::{Event, Folder, FolderCommand, RequestId, UserError, XCommand, XOverview};

#[derive(Default)]
pub struct VisitorsScreen {
    overview: Option<Result<XOverview, UserError>>,
    asked: bool,
    /// The visitors' rows, when open.
    browse: Option<super::browse::BrowseView>,
    folders: Option<Result<Vec<Folder>, UserError>>,
    folders_asked: bool,
    /// A new folder's name as typed.
    new_folder: String,
    /// The folder being renamed, and its new name as typed.
    renaming: Option<(String, String)>,
}

impl VisitorsScreen {
    /// What the screen shows (tests).
    pub fn overview(&self) -> Option<&Result<XOverview, UserError>> {
        self.overview.as_ref()
    }

    /// The visitors' browser, when open (tests).
    pub fn browse_view(&self) -> Option<&super::browse::BrowseView> {
        self.browse.as_ref()
    }

    fn draw(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        if !self.asked {
            self.asked = true;
            commands.push(XCommand::Overview);
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.heading("Visitors");
            let services = match &self.overview {
                Some(Ok(o)) => o.services.iter().filter(|s| s.4).count(),
                _ => 0,
            };
            let sync = ui.add_enabled(services > 0, egui::Button::new("Synchronize now"));
            let sync = if services > 0 {
                sync.on_hover_text("Brings in the followers of every service with Synchronize subscriptions on; a stopped run carries on where it left off")
            } else {
                sync.on_disabled_hover_text("No X service synchronizes its followers: add one in Channels, X (Twitter)")
            };
            if sync.clicked() {
                commands.push(XCommand::Sync { service: None });
            }
            if ui.button("Refresh").clicked() {
                commands.push(XCommand::Overview);
            }
            if let Some(Ok(XOverview { browse: Some((model, entity)), .. })) = &self.overview
                && ui.button("Browse visitors").on_hover_text("Search, sort, filter and export them").clicked()
            {
                self.browse = Some(
                    super::browse::BrowseView::new(model.clone(), entity.clone(), commands)
                        .back_to("Visitors")
                        .search_by_prefix(&crate::console::VISITOR_SEARCH, commands),
                );
            }
        });
        let Some(o) = ready(ui, self.overview.as_ref()) else { return };
        ui.label(format!("{} visitors, {} still following.", theme::count(o.visitors), theme::count(o.following)));
        ui.add_space(theme::SECTION_GAP);
        ui.label(RichText::new("X services").strong());
        if o.services.is_empty() {
            ui.label(
                RichText::new(
                    "None yet: add one in Channels, X (Twitter), with the account's handle and its four keys.",
                )
                .color(theme::muted(ui)),
            );
        }
        egui::Grid::new("x_services").num_columns(4).striped(true).spacing([14.0, 6.0]).show(ui, |ui| {
            for title in ["Service", "Handle", "Visitor folder", "Synchronize subscriptions"] {
                ui.label(RichText::new(title).color(theme::muted(ui)));
            }
            ui.end_row();
            for (_, label, handle, folder, sync) in &o.services {
                ui.label(label);
                ui.label(format!("@{handle}"));
                ui.label(folder);
                ui.label(if *sync { "on" } else { "off" });
                ui.end_row();
            }
        });
        ui.add_space(theme::SECTION_GAP);
        ui.label(RichText::new("Last synchronizations").strong());
        if o.runs.is_empty() {
            ui.label(RichText::new("None yet.").color(theme::muted(ui)));
            return;
        }
        egui::Grid::new("x_sync_runs").num_columns(5).striped(true).spacing([14.0, 6.0]).show(ui, |ui| {
            for title in ["Started", "Service", "Pages", "Status", "Outcome"] {
                ui.label(RichText::new(title).color(theme::muted(ui)));
            }
            ui.end_row();
            for r in &o.runs {
                ui.label(theme::when(r.started_at));
                let service = o.services.iter().find(|s| s.0 == r.service_id).map_or("(removed)", |s| s.1.as_str());
                ui.label(service);
                ui.label(theme::count(r.pages));
                match r.status.as_str() {
                    "done" => ui.colored_label(theme::ok(ui), "done"),
                    "failed" => ui.colored_label(theme::error(ui), "failed"),
                    "running" => ui.label("running"),
                    _ => ui.colored_label(theme::warning(ui), "stopped"),
                };
                ui.label(&r.outcome);
                ui.end_row();
            }
        });
    }
}

impl VisitorsScreen {
    /// The folders the followers land in: their visitors, the services landing there; New,
    /// Rename, Delete (when empty).
    fn folders_ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        if !self.folders_asked {
            self.folders_asked = true;
            commands.push(FolderCommand::List);
        }
        ui.add_space(theme::SECTION_GAP);
        ui.label(RichText::new("Visitor folders").strong());
        let folders = match &self.folders {
            Some(Ok(f)) => f.clone(),
            Some(Err(e)) => {
                ui.colored_label(theme::error(ui), format!("{} {e}", theme::ICON_ERROR));
                return;
            }
            None => {
                ui.spinner();
                return;
            }
        };
        let mut renaming = self.renaming.take();
        egui::Grid::new("visitor_folders").num_columns(4).striped(true).spacing([14.0, 6.0]).show(ui, |ui| {
            for title in ["Folder", "Visitors", "Services landing there", ""] {
                ui.label(RichText::new(title).color(theme::muted(ui)));
            }
            ui.end_row();
            for f in &folders {
                let mut done = false;
                match &mut renaming {
                    Some((from, to)) if *from == f.name => {
                        let r = ui.add(egui::TextEdit::singleline(to).desired_width(160.0));
                        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                        ui.label(theme::count(f.visitors));
                        ui.label(f.services.join(", "));
                        ui.horizontal(|ui| {
                            if enter || ui.button("Save").clicked() {
                                commands.push(FolderCommand::Rename { from: from.clone(), to: to.clone() });
                                done = true;
                            } else if ui.button("Cancel").clicked() {
                                done = true;
                            }
                        });
                    }
                    _ => {
                        ui.label(&f.name);
                        ui.label(theme::count(f.visitors));
                        ui.label(f.services.join(", "));
                        ui.horizontal(|ui| {
                            if ui.button("Rename\u{2026}").clicked() {
                                renaming = Some((f.name.clone(), f.name.clone()));
                            }
                            let empty = f.visitors == 0 && f.services.is_empty();
                            let delete = ui.add_enabled(empty, egui::Button::new("Delete")).on_disabled_hover_text(
                                "Only a folder with no visitor, where no service lands, is deleted",
                            );
                            if delete.clicked() {
                                commands.push(FolderCommand::Delete { name: f.name.clone() });
                            }
                        });
                    }
                }
                if done {
                    renaming = None;
                }
                ui.end_row();
            }
        });
        self.renaming = renaming;
        ui.horizontal(|ui| {
            let label = ui.label("New folder").id;
            let r = ui
                .add(egui::TextEdit::singleline(&mut self.new_folder).hint_text("its name").desired_width(200.0))
                .labelled_by(label);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let ready = !self.new_folder.trim().is_empty();
            if (ui.add_enabled(ready, egui::Button::new("Create folder")).clicked() || (enter && ready))
                && !self.new_folder.trim().is_empty()
            {
                commands.push(FolderCommand::Create { name: std::mem::take(&mut self.new_folder) });
            }
        });
    }
}

/// The overview once it arrived; meanwhile a spinner, or what went wrong.
pub(super) fn ready<'a>(
    ui: &mut egui::Ui,
    overview: Option<&'a Result<XOverview, UserError>>,
) -> Option<&'a XOverview> {
    match overview {
        None => {
            ui.spinner();
            None
        }
        Some(Err(e)) => {
            ui.colored_label(theme::error(ui), format!("{} {e}", theme::ICON_ERROR));
            None
        }
        Some(Ok(o)) => Some(o),
    }
}

impl Screen for VisitorsScreen {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
        if let Some(view) = self.browse.as_mut() {
            let today = cx.console.now().to_zoned(jiff::tz::TimeZone::UTC).date();
            if let super::browse::Outcome::Close = view.ui(ui, cx.commands, today) {
                self.browse = None;
                cx.commands.push(XCommand::Overview);
            }
            return;
        }
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            self.draw(ui, cx.commands);
            self.folders_ui(ui, cx.commands);
        });
    }

    fn on_event(&mut self, event: &Event, request: Option<RequestId>) {
        if let Some(view) = self.browse.as_mut() {
            view.on_event(event, request);
        }
        match event {
            Event::X(o) => {
                self.overview = Some(o.clone());
                // A synchronization may have filled a folder.
                self.folders_asked = false;
            }
            Event::Folders(f) => self.folders = Some(f.clone()),
            // A service added, changed or removed.
            Event::Channel(crate::console::ChannelEvent::Credentials(_)) => {
                self.asked = false;
                self.folders_asked = false;
            }
            _ => {}
        }
    }
}
