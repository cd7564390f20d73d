//! The Campaigns screen: the list of campaigns (`campaign_table.rs`) with create, rename,
//! duplicate, delete, open, export and import (`campaign_file.rs`); and the view of one opened
//! campaign.

use super::campaign_table::{RowAction, campaign_table, dates};
use super::canvas::CanvasEditor;
use super::screen::{Screen, ScreenContext};
use super::{Commands, theme};
use crate::console::{
    CampaignCommand, CampaignEvent, CanvasCommand, CanvasContext, CanvasEvent, Console, CountOutcome, Event, RequestId,
    RunEvent, UserError,
};
use crate::model::{Campaign, CampaignKind, Canvas};

/// A dialog over the list. `pending` while the Console works on its command.
enum Dialog {
    New { name: String, kind: CampaignKind, error: Option<String>, pending: bool, focus: bool },
    Rename { id: i64, name: String, error: Option<String>, pending: bool, focus: bool },
    Delete { id: i64, name: String, error: Option<String>, pending: bool },
}

impl Dialog {
    fn pending_mut(&mut self) -> (&mut bool, &mut Option<String>) {
        match self {
            Self::New { pending, error, .. }
            | Self::Rename { pending, error, .. }
            | Self::Delete { pending, error, .. } => (pending, error),
        }
    }
}

#[derive(Default)]
pub struct CampaignsScreen {
    /// `None` until the first list arrives.
    campaigns: Option<Vec<Campaign>>,
    selected: Option<i64>,
    opened: Option<i64>,
    dialog: Option<Dialog>,
    /// The canvas editor of the opened orchestrated campaign, once its canvas has arrived.
    editor: Option<CanvasEditor>,
    /// A campaign just created, opened once it is in the list.
    open_when_listed: Option<i64>,
    /// The navigation's Campaigns entry was clicked: back to the list.
    back_requested: bool,
    technical: super::technical_workflows::TechnicalWorkflows,
    /// The form of the opened API-triggered campaign.
    api_form: Option<super::api_campaign::ApiCampaignForm>,
    connector_form: Option<super::connector::ConnectorFormView>,
    /// Export… or Import…, while open.
    file_dialog: Option<super::campaign_file::CampaignFileDialog>,
    /// The report shown instead of the list.
    report: Option<super::report::ReportView>,
}

impl CampaignsScreen {
    pub fn set_campaigns(&mut self, list: Vec<Campaign>) {
        let exists = |id: Option<i64>| id.filter(|id| list.iter().any(|c| c.id == *id));
        self.selected = exists(self.selected);
        self.opened = exists(self.opened);
        // A rename or delete that did not fail is done when the fresh list arrives.
        if matches!(self.dialog, Some(Dialog::Rename { pending: true, .. } | Dialog::Delete { pending: true, .. })) {
            self.dialog = None;
        }
        self.campaigns = Some(list);
    }

    pub fn created(&mut self, c: Campaign) {
        if matches!(self.dialog, Some(Dialog::New { .. })) {
            self.dialog = None;
        }
        self.selected = Some(c.id);
        self.open_when_listed = Some(c.id);
    }

    /// Goes back to the list (the navigation's Campaigns entry, clicked on this screen).
    pub fn back_to_list(&mut self) {
        self.back_requested = self.opened.is_some() || self.report.is_some();
    }

    /// Shows an error inside the dialog that caused it. Returns whether it was taken.
    pub fn take_error(&mut self, e: &UserError) -> bool {
        match &mut self.dialog {
            Some(d) => {
                let (pending, error) = d.pending_mut();
                if *pending {
                    *pending = false;
                    *error = Some(e.message.clone());
                    true
                } else {
                    false
                }
            }
            None => false,
        }
    }

    /// The canvas of the opened campaign arrived.
    pub fn canvas_opened(&mut self, campaign: Campaign, canvas: Canvas, context: CanvasContext) {
        if self.opened == Some(campaign.id) {
            self.editor = Some(CanvasEditor::new(campaign, canvas, context));
        }
    }

    pub fn distinct_values(&mut self, entity: String, column: String, values: Option<Vec<String>>) {
        if let Some(e) = &mut self.editor {
            e.distinct_values_arrived(entity, column, values);
        }
    }

    pub fn run_progress(&mut self, campaign_id: i64, progress: crate::model::delivery::Progress) {
        if let Some(e) = &mut self.editor {
            e.run_progress(campaign_id, progress);
        }
    }

    pub fn run_finished(&mut self, campaign_id: i64, outcome: Result<String, UserError>) {
        if let Some(e) = &mut self.editor {
            e.run_finished(campaign_id, outcome);
        }
    }

    pub fn proof_sent(&mut self, campaign_id: i64, activity: &str, result: Result<u64, crate::console::UserError>) {
        if let Some(e) = &mut self.editor {
            e.proof_sent(campaign_id, activity, result);
        }
    }

    pub fn message_preview(
        &mut self,
        campaign_id: i64,
        activity: &str,
        index: u64,
        result: Result<crate::console::MessagePreview, crate::console::UserError>,
    ) {
        if let Some(e) = &mut self.editor {
            e.preview_arrived(campaign_id, activity, index, result);
        }
    }

    pub fn deliveries(&mut self, list: &[crate::model::delivery::Delivery]) {
        if let Some(e) = &mut self.editor {
            e.deliveries(list);
        }
    }

    pub fn count_progress(&mut self, campaign_id: i64, generation: u64, done: usize, total: usize) {
        if let Some(e) = &mut self.editor {
            e.count_progress(campaign_id, generation, done, total);
        }
    }

    pub fn canvas_saved(&mut self, campaign_id: i64, at: jiff::Timestamp) {
        if let Some(e) = &mut self.editor {
            e.saved(at, campaign_id);
        }
    }

    pub fn canvas_counted(&mut self, campaign_id: i64, generation: u64, outcome: CountOutcome) {
        if let Some(e) = &mut self.editor {
            e.counted(campaign_id, generation, outcome);
        }
    }

    pub fn transition_rows(
        &mut self,
        campaign_id: i64,
        transition: &str,
        offset: u64,
        total: u64,
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    ) {
        if let Some(e) = &mut self.editor {
            e.rows_arrived(campaign_id, transition, offset, total, columns, rows);
        }
    }

    /// A failed save leaves the editor with unsaved changes.
    pub fn save_failed(&mut self) {
        if let Some(e) = &mut self.editor {
            e.save_failed();
        }
    }

    /// A campaign's status changed: the open editor shows it.
    pub fn campaign_changed(&mut self, c: Campaign) {
        if let Some(editor) = self.editor.as_mut().filter(|e| e.campaign.id == c.id) {
            editor.campaign = c;
        }
    }

    /// The canvas editor, when one is open.
    pub fn editor(&mut self) -> Option<&mut CanvasEditor> {
        self.editor.as_mut()
    }

    fn open(&mut self, id: i64, commands: &mut Commands) {
        self.selected = Some(id);
        self.opened = Some(id);
        self.editor = None;
        self.api_form = None;
        self.connector_form = None;
        let kind = self.campaigns.as_ref().and_then(|l| l.iter().find(|c| c.id == id)).map(|c| c.kind);
        match kind {
            Some(CampaignKind::Orchestrated) => {
                commands.push(CanvasCommand::Open { campaign_id: id });
            }
            Some(CampaignKind::ApiTriggered) => {
                self.api_form = Some(super::api_campaign::ApiCampaignForm::new(id, commands));
            }
            Some(CampaignKind::ActionTriggered) => {
                self.connector_form = Some(super::connector::ConnectorFormView::new(id, commands));
            }
            None => {}
        }
    }

    /// Back to the list from an opened campaign: what was edited is kept, a count stops.
    fn close_opened(&mut self, campaign_id: i64, commands: &mut Commands) {
        if let Some(mut form) = self.api_form.take()
            && !form.is_saved()
        {
            form.save(commands);
        }
        if let Some(mut form) = self.connector_form.take()
            && !form.is_saved()
        {
            form.save(commands);
        }
        if let Some(mut editor) = self.editor.take() {
            commands.push(CanvasCommand::CancelCount { generation: crate::ui::canvas::next_generation() });
            if !editor.is_saved() {
                commands.push(CanvasCommand::Save { campaign_id, canvas: editor.canvas() });
            }
        }
        self.opened = None;
        commands.push(CampaignCommand::Refresh);
    }

    /// New, Open, Rename, Duplicate, Delete, Report, Export and Import.
    fn toolbar(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let selected = self.selected.and_then(|id| self.campaigns.as_ref()?.iter().find(|c| c.id == id).cloned());
        ui.horizontal(|ui| {
            if ui.button("New campaign…").clicked() {
                self.dialog = Some(Dialog::New {
                    name: String::new(),
                    kind: CampaignKind::Orchestrated,
                    error: None,
                    pending: false,
                    focus: true,
                });
            }
            ui.separator();
            let has = selected.is_some();
            let why = "Select a campaign in the list first.";
            if ui.add_enabled(has, egui::Button::new("Open")).on_disabled_hover_text(why).clicked()
                && let Some(id) = self.selected
            {
                self.open(id, commands);
            }
            if ui.add_enabled(has, egui::Button::new("Rename…")).on_disabled_hover_text(why).clicked()
                && let Some(c) = &selected
            {
                self.dialog =
                    Some(Dialog::Rename { id: c.id, name: c.name.clone(), error: None, pending: false, focus: true });
            }
            if ui.add_enabled(has, egui::Button::new("Duplicate")).on_disabled_hover_text(why).clicked()
                && let Some(c) = &selected
            {
                commands.push(CampaignCommand::Duplicate { id: c.id });
            }
            if ui.add_enabled(has, egui::Button::new("Delete…")).on_disabled_hover_text(why).clicked()
                && let Some(c) = &selected
            {
                self.dialog = Some(Dialog::Delete { id: c.id, name: c.name.clone(), error: None, pending: false });
            }
            let report = ui
                .add_enabled(has, egui::Button::new("Report"))
                .on_hover_text("What it sent and what its recipients did, with plots")
                .on_disabled_hover_text(why);
            if let Some(c) = selected.as_ref().filter(|_| report.clicked()) {
                self.report = Some(super::report::ReportView::new(c.id, &c.name, commands));
            }
            ui.separator();
            let export = ui.add_enabled(has, egui::Button::new("Export…")).on_disabled_hover_text(why);
            if let Some(c) = selected.as_ref().filter(|_| export.clicked()) {
                self.file_dialog = Some(super::campaign_file::CampaignFileDialog::export(c.id, &c.name));
            }
            if ui.button("Import…").on_hover_text("A campaign file, as a draft").clicked() {
                self.file_dialog = Some(super::campaign_file::CampaignFileDialog::import());
            }
        });
    }

    fn draw(&mut self, ui: &mut egui::Ui, console: &Console, commands: &mut Commands) {
        if let Some(id) = self.open_when_listed
            && self.campaigns.as_ref().is_some_and(|l| l.iter().any(|c| c.id == id))
        {
            self.open_when_listed = None;
            self.open(id, commands);
        }
        if let Some(report) = &mut self.report {
            if report.ui(ui, commands) || std::mem::take(&mut self.back_requested) {
                self.report = None;
                commands.push(CampaignCommand::Refresh);
            }
            return;
        }
        let opened = self.opened.and_then(|id| self.campaigns.as_ref()?.iter().find(|c| c.id == id).cloned());
        if let Some(campaign) = opened {
            let back = match &mut self.editor {
                Some(editor) if editor.campaign.id == campaign.id => {
                    editor.campaign.name = campaign.name.clone();
                    let back = editor.ui(ui, commands);
                    if editor.take_report_request() {
                        self.report =
                            Some(super::report::ReportView::new(campaign.id, &campaign.name, commands).from_canvas());
                    }
                    back
                }
                _ => match (&mut self.api_form, &mut self.connector_form) {
                    (Some(form), _) if form.campaign_id == campaign.id => form.ui(ui, commands),
                    (_, Some(form)) if form.campaign_id == campaign.id => form.ui(ui, commands),
                    _ => campaign_view(ui, &campaign),
                },
            } || std::mem::take(&mut self.back_requested);
            if back {
                self.close_opened(campaign.id, commands);
            }
            return;
        }

        ui.add_space(8.0);
        ui.heading("Campaigns");
        ui.add_space(6.0);
        self.toolbar(ui, commands);
        ui.add_space(theme::SECTION_GAP);

        match &self.campaigns {
            None => {
                ui.spinner();
            }
            Some(list) if list.is_empty() => {
                ui.label(
                    egui::RichText::new("No campaigns yet. Create one with \u{201c}New campaign…\u{201d}.")
                        .color(theme::muted(ui)),
                );
            }
            Some(list) => {
                // In a ui of its own: the columns' lines end with the table, above the
                // technical workflows.
                if let Some(action) = ui.vertical(|ui| campaign_table(ui, list, self.selected)).inner {
                    match action {
                        RowAction::Select(id) => self.selected = Some(id),
                        RowAction::Open(id) => self.open(id, commands),
                    }
                }
            }
        }
        self.technical.ui(ui, commands, console.now());

        self.dialog_ui(ui, commands);
        if let Some(d) = &mut self.file_dialog
            && !d.ui(ui.ctx(), commands)
        {
            self.file_dialog = None;
        }
    }

    fn dialog_ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let Some(dialog) = &mut self.dialog else { return };
        let mut close = false;
        let modal = egui::Modal::new(egui::Id::new("campaign_dialog")).show(ui.ctx(), |ui| {
            ui.set_width(420.0);
            match dialog {
                Dialog::New { name, kind, error, pending, focus } => {
                    ui.heading("New campaign");
                    ui.add_space(8.0);
                    let submit = name_field(ui, name, focus);
                    ui.add_space(8.0);
                    ui.label("Kind");
                    for k in CampaignKind::ALL {
                        ui.radio_value(kind, k, k.label());
                        ui.indent(k.as_str(), |ui| ui.label(egui::RichText::new(k.description()).small().color(theme::muted(ui))));
                    }
                    error_line(ui, error);
                    ui.add_space(8.0);
                    let (ok, cancel) = buttons(ui, "Create", *pending);
                    if (ok || submit) && !*pending {
                        *pending = true;
                        *error = None;
                        commands.push(CampaignCommand::Create { name: name.clone(), kind: *kind });
                    }
                    close |= cancel;
                }
                Dialog::Rename { id, name, error, pending, focus } => {
                    ui.heading("Rename campaign");
                    ui.add_space(8.0);
                    let submit = name_field(ui, name, focus);
                    error_line(ui, error);
                    ui.add_space(8.0);
                    let (ok, cancel) = buttons(ui, "Save", *pending);
                    if (ok || submit) && !*pending {
                        *pending = true;
                        *error = None;
                        commands.push(CampaignCommand::Rename { id: *id, name: name.clone() });
                    }
                    close |= cancel;
                }
                Dialog::Delete { id, name, error, pending } => {
                    ui.heading("Delete campaign");
                    ui.add_space(8.0);
                    ui.label(format!(
                        "Delete \u{201c}{name}\u{201d} and its canvas? Deliveries already made keep their history. This cannot be undone."
                    ));
                    error_line(ui, error);
                    ui.add_space(8.0);
                    let (ok, cancel) = buttons(ui, "Delete", *pending);
                    if ok && !*pending {
                        *pending = true;
                        *error = None;
                        commands.push(CampaignCommand::Delete { id: *id });
                    }
                    close |= cancel;
                }
            }
        });
        let pending = self.dialog.as_mut().is_some_and(|d| *d.pending_mut().0);
        if (close || modal.should_close()) && !pending {
            self.dialog = None;
        }
    }
}

/// The campaign name field; returns whether Enter was pressed in it.
fn name_field(ui: &mut egui::Ui, name: &mut String, focus: &mut bool) -> bool {
    let label = ui.label("Campaign name");
    let response = ui
        .add(egui::TextEdit::singleline(name).hint_text("e.g. Spring sale").desired_width(f32::INFINITY))
        .labelled_by(label.id);
    // Ask until it is granted: a request made while the dialog is still being sized is lost.
    if *focus {
        if response.has_focus() {
            *focus = false;
        } else {
            response.request_focus();
        }
    }
    response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
}

fn error_line(ui: &mut egui::Ui, error: &Option<String>) {
    if let Some(e) = error {
        ui.add_space(6.0);
        ui.label(egui::RichText::new(format!("{} {e}", theme::ICON_ERROR)).color(theme::error(ui)));
    }
}

/// OK and Cancel, right-aligned; returns (ok clicked, cancel clicked).
fn buttons(ui: &mut egui::Ui, ok: &str, pending: bool) -> (bool, bool) {
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        let ok = ui.add_enabled(!pending, egui::Button::new(ok)).clicked();
        let cancel = ui.add_enabled(!pending, egui::Button::new("Cancel")).clicked();
        if pending {
            ui.spinner();
        }
        (ok, cancel)
    })
    .inner
}

/// One opened campaign. Returns whether the user went back to the list.
fn campaign_view(ui: &mut egui::Ui, c: &Campaign) -> bool {
    ui.add_space(8.0);
    let back = ui.horizontal(|ui| {
        let back = ui.button("⬅ All campaigns").clicked();
        ui.heading(&c.name);
        ui.label(egui::RichText::new(format!("{} · {}", c.kind.label(), c.status.label())).color(theme::muted(ui)));
        back
    });
    ui.add_space(6.0);
    egui::Grid::new("campaign_properties").num_columns(2).spacing([24.0, 4.0]).show(ui, |ui| {
        let row = |ui: &mut egui::Ui, k: &str, v: String| {
            ui.label(egui::RichText::new(k).color(theme::muted(ui)));
            ui.label(v);
            ui.end_row();
        };
        row(ui, "Kind", c.kind.description().to_owned());
        row(ui, "Dates (UTC)", dates(c));
        row(ui, "Published", c.published_at.map_or_else(|| "not yet".to_owned(), theme::when));
        row(ui, "Created", theme::when(c.created_at));
        row(ui, "Last modified", theme::when(c.modified_at));
    });
    ui.add_space(theme::SECTION_GAP);
    if c.kind == CampaignKind::Orchestrated {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Opening the canvas…");
        });
    }
    back.inner
}

impl Screen for CampaignsScreen {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
        self.draw(ui, cx.console, cx.commands);
    }

    fn on_event(&mut self, event: &Event, _request: Option<RequestId>) {
        self.technical.on_event(event);
        if let Some(form) = &mut self.api_form {
            form.on_event(event);
        }
        if let Some(form) = &mut self.connector_form {
            form.on_event(event);
        }
        if let Some(report) = &mut self.report {
            report.on_event(event);
        }
        match (&mut self.file_dialog, event) {
            (Some(d), _) => d.on_event(event),
            // An import the window was started with (a campaign file opened): its outcome shown.
            (None, Event::Campaign(CampaignEvent::File(done))) => {
                self.file_dialog = Some(super::campaign_file::CampaignFileDialog::showing(done.clone()));
            }
            (None, _) => {}
        }
        match event.clone() {
            Event::Campaign(CampaignEvent::List(list)) => self.set_campaigns(list),
            Event::Campaign(CampaignEvent::Changed(c)) => self.campaign_changed(c),
            Event::Campaign(CampaignEvent::Created(c)) => self.created(c),
            Event::Canvas(e) => self.canvas_event(e),
            Event::Run(RunEvent::Progress { campaign_id, progress }) => self.run_progress(campaign_id, progress),
            Event::Run(RunEvent::Finished { campaign_id, outcome }) => self.run_finished(campaign_id, outcome),
            Event::Run(RunEvent::Deliveries(list)) => self.deliveries(&list),
            _ => {}
        }
    }
}

impl CampaignsScreen {
    fn canvas_event(&mut self, event: CanvasEvent) {
        match event {
            CanvasEvent::Opened { campaign, canvas, context } => self.canvas_opened(campaign, canvas, *context),
            CanvasEvent::Saved { campaign_id, outcome } => match outcome {
                Ok(at) => self.canvas_saved(campaign_id, at),
                Err(_) => self.save_failed(),
            },
            CanvasEvent::ProofSent { campaign_id, activity, result } => {
                self.proof_sent(campaign_id, &activity, result);
            }
            CanvasEvent::MessagePreview { campaign_id, activity, index, result } => {
                self.message_preview(campaign_id, &activity, index, result);
            }
            CanvasEvent::DistinctValues { entity, column, values } => self.distinct_values(entity, column, values),
            CanvasEvent::CountProgress { campaign_id, generation, done, total } => {
                self.count_progress(campaign_id, generation, done, total);
            }
            CanvasEvent::Counted { campaign_id, generation, outcome } => {
                self.canvas_counted(campaign_id, generation, outcome);
            }
            CanvasEvent::TransitionRows { campaign_id, transition, offset, total, columns, rows } => {
                self.transition_rows(campaign_id, &transition, offset, total, columns, rows);
            }
        }
    }
}
