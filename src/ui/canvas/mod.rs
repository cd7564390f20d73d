//! The canvas editor of an orchestrated campaign: palette, node canvas (egui-snarl) with the
//! exact count of every transition kept up to date in the background, properties of the
//! selected activity, problems list, undo / redo and autosave.

mod fields;
mod forms;
mod graph;
mod life;
pub mod palette;
mod rule;
mod viewer;

use std::collections::HashMap;
use std::time::Duration;

use egui::emath::TSTransform;
use egui::{Key, KeyboardShortcut, Modifiers, RichText};
use egui_snarl::ui::{SnarlStyle, SnarlWidget, get_selected_nodes};
use egui_snarl::{InPinId, NodeId, OutPinId, Snarl};

pub use graph::Graph;
use viewer::{Request, Viewer};

use super::{Commands, theme};
use crate::audience::{self, CompileOptions, CountReport, Dialect, Problem, inputs, outputs};
use crate::console::{CanvasCommand, CanvasContext, CountOutcome, ProofCommand, RunCommand};
use crate::model::{Activity, ActivityKind, Campaign, Canvas, DataModel};

/// Edits wait this long before the background count starts (another edit restarts it).
pub const COUNT_DEBOUNCE: f64 = 0.3;
/// Edits are saved this long after the last one.
pub const SAVE_DEBOUNCE: f64 = 1.0;
/// The next number of the rising sequence that every count (and cancel) of the window takes
/// its generation from: a canvas opened again starts above whatever the previous editor
/// asked for, so its first count is never taken for a stale one.
pub fn next_generation() -> u64 {
    static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1
}

/// "Fit all" fits this many frames in a row (see `steer_view`).
const FIT_PASSES: u8 = 2;

/// "Fit all" zooms out no further than this (the canvas's own limit is 0.2): the demo
/// canvas fits whole in a 1280×800 window.
const MIN_FIT_SCALE: f32 = 0.3;
/// Undo keeps at most this many steps.
const UNDO_LIMIT: usize = 200;

const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
const REDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
const REDO_Y: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
const DUPLICATE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::D);
const COPY: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::C);
const PASTE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::V);
const FIT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Num0);

/// The state of the count shown on the canvas.
#[derive(Clone, Debug, Default, PartialEq)]
enum CountState {
    #[default]
    Idle,
    /// Waiting for the debounce, then counting generation `n`.
    Due(f64),
    Running(u64),
}

/// The rows of one transition, shown in a window.
struct Inspector {
    transition: String,
    title: String,
    offset: u64,
    total: u64,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    loading: bool,
    /// Where to export the rows, while the user chooses.
    export_to: Option<String>,
}

/// A channel activity's message as one recipient gets it.
struct PreviewView {
    activity: String,
    index: u64,
    /// The message and count the preview was asked for (a change asks again).
    message: crate::model::Message,
    generation: u64,
    result: Option<Result<crate::console::MessagePreview, String>>,
}

/// How a run ended: a summary, or what went wrong.
pub type RunOutcome = Result<String, String>;

/// The campaign's sending, as the editor shows it.
#[derive(Default)]
struct RunView {
    /// The latest progress of each delivery.
    progress: std::collections::BTreeMap<i64, crate::model::delivery::Progress>,
    running: bool,
    /// (time, messages settled) of recent progress, for the rate.
    samples: std::collections::VecDeque<(f64, u64)>,
    /// How the run ended, in words.
    outcome: Option<Result<String, String>>,
}

impl RunView {
    fn totals(&self) -> crate::model::delivery::Progress {
        let mut t = crate::model::delivery::Progress::default();
        for p in self.progress.values() {
            t.total += p.total;
            t.sent += p.sent;
            t.failed += p.failed;
            t.excluded += p.excluded;
            t.unconfirmed += p.unconfirmed;
            t.remaining += p.remaining;
        }
        t
    }

    /// Messages settled per second over the last few seconds.
    fn rate(&self) -> Option<f64> {
        let (first, last) = (self.samples.front()?, self.samples.back()?);
        let dt = last.0 - first.0;
        (dt > 0.2).then(|| (last.1.saturating_sub(first.1)) as f64 / dt)
    }
}

/// The parameters being edited as text in the properties panel.
struct ParamsEdit {
    activity: String,
    text: String,
    error: Option<String>,
}

pub struct CanvasEditor {
    pub campaign: Campaign,
    context: CanvasContext,
    /// The distinct values of text columns, as far as they have arrived.
    choices: fields::Choices,
    /// Columns whose values were asked for.
    asked_choices: Vec<(String, String)>,
    /// Steps done and to do of the count running now.
    progress: Option<(usize, usize)>,
    /// The window with the SQL of the selected activity.
    show_sql: bool,
    /// The next count recomputes everything (the Count button).
    fresh: bool,
    /// A space + drag pan is under way.
    panning: bool,
    /// Compare the canvas with the committed one on the next frame too.
    look_again: bool,
    /// This campaign's deliveries (earlier runs), as last listed.
    earlier: Vec<crate::model::delivery::Delivery>,
    asked_deliveries: bool,
    /// The "send now?" window is open.
    confirm_start: bool,
    run: Option<RunView>,
    preview: Option<PreviewView>,
    /// The addresses typed for a proof, and how the last proof went.
    proof_to: String,
    proof: Option<Result<u64, String>>,
    graph: Graph,
    /// The canvas as of the last finished edit: what Undo goes back from.
    committed: Canvas,
    undo: Vec<Canvas>,
    redo: Vec<Canvas>,
    /// What the workspace holds.
    saved: Canvas,
    save_due: Option<f64>,
    saving: bool,
    count: CountState,
    generation: u64,
    /// The canvas of each count request in flight, by generation.
    requested: HashMap<u64, Canvas>,
    /// (activity, output) → count, from the last finished count.
    counts: HashMap<(String, String), u64>,
    durations: HashMap<String, Duration>,
    /// The counts on show were kept from this time (not counted since the canvas opened).
    kept_from: Option<jiff::Timestamp>,
    /// Channel activity id → whom it reaches at the last count.
    sends: HashMap<String, crate::audience::SendCount>,
    /// Transition id → the enrichment columns it carries (at the last count).
    flows: HashMap<String, Vec<crate::audience::WorkColumn>>,
    last_report: Option<CountReport>,
    problems: Vec<Problem>,
    count_error: Option<String>,
    refusal: Option<String>,
    transform: TSTransform,
    canvas_rect: egui::Rect,
    node_rects: HashMap<NodeId, egui::Rect>,
    pins: viewer::PinRects,
    clipboard: Vec<Activity>,
    /// The activity shown in the properties panel.
    focus: Option<String>,
    last_selection: Vec<NodeId>,
    label_edit: Option<(String, String)>,
    params_edit: Option<ParamsEdit>,
    /// Centre the view on this graph point (next frame).
    look_at: Option<egui::Pos2>,
    fit_passes: u8,
    /// The view to move to on the next frame.
    pending_view: Option<TSTransform>,
    inspector: Option<Inspector>,
    /// Pages asked for and not yet arrived.
    requested_rows: Vec<(String, u64)>,
}

impl CanvasEditor {
    pub fn new(campaign: Campaign, canvas: Canvas, context: CanvasContext) -> Self {
        let mut graph = Graph::from_canvas(&canvas);
        let committed = graph.to_canvas();
        let kept = context.kept.clone();
        let mut editor = Self {
            kept_from: None,
            campaign,
            context,
            choices: fields::Choices::new(),
            asked_choices: Vec::new(),
            progress: None,
            show_sql: false,
            fresh: false,
            panning: false,
            look_again: true,
            earlier: Vec::new(),
            asked_deliveries: false,
            confirm_start: false,
            run: None,
            preview: None,
            proof_to: String::new(),
            proof: None,
            graph,
            saved: committed.clone(),
            committed,
            undo: Vec::new(),
            redo: Vec::new(),
            save_due: None,
            saving: false,
            // Count what is there as soon as it opens.
            count: CountState::Due(0.0),
            generation: 0,
            requested: HashMap::new(),
            counts: HashMap::new(),
            durations: HashMap::new(),
            sends: HashMap::new(),
            flows: HashMap::new(),
            last_report: None,
            problems: Vec::new(),
            count_error: None,
            refusal: None,
            transform: TSTransform::IDENTITY,
            canvas_rect: egui::Rect::NOTHING,
            node_rects: HashMap::new(),
            pins: viewer::PinRects::default(),
            clipboard: Vec::new(),
            focus: None,
            last_selection: Vec::new(),
            label_edit: None,
            params_edit: None,
            look_at: None,
            fit_passes: FIT_PASSES,
            pending_view: None,
            inspector: None,
            requested_rows: Vec::new(),
        };
        // The last counts at once; counted again in the background unless they are current.
        if let Some(k) = kept {
            let committed = editor.committed.clone();
            editor.show_report(k.report, k.problems, Some(&committed));
            editor.kept_from = Some(k.counted_at);
            if k.current {
                editor.count = CountState::Idle;
            }
        }
        editor
    }

    /// The canvas as it is on screen now.
    pub fn canvas(&mut self) -> Canvas {
        self.graph.to_canvas()
    }

    /// The count last shown for a transition.
    pub fn count_of(&self, transition: &str) -> Option<u64> {
        self.last_report.as_ref().and_then(|r| r.count_of(transition))
    }

    /// Whether a count is waiting or running.
    pub fn is_counting(&self) -> bool {
        self.count != CountState::Idle
    }

    /// Whether everything is saved.
    pub fn is_saved(&self) -> bool {
        self.save_due.is_none() && !self.saving && self.saved == self.committed
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Why the last connection was refused.
    pub fn refusal(&self) -> Option<&str> {
        self.refusal.as_deref()
    }

    /// Screen position of a node's frame (for tests that drag nodes).
    /// When the counts on show were kept from, while they have not been counted again
    /// since the canvas opened (tests).
    pub fn kept_from(&self) -> Option<jiff::Timestamp> {
        self.kept_from
    }

    /// Where the canvas is drawn on screen (tests).
    pub fn canvas_screen_rect(&self) -> egui::Rect {
        self.canvas_rect
    }

    pub fn node_screen_rect(&self, activity: &str) -> Option<egui::Rect> {
        let node = self.graph.node_of(activity)?;
        self.node_rects.get(&node).map(|r| self.transform * *r)
    }

    /// Screen position of a pin: an output (`output` true) or input of an activity, by the
    /// port's name (for tests that connect by pointer).
    pub fn pin_screen_pos(&self, activity: &str, output: bool, port: &str) -> Option<egui::Pos2> {
        let node = self.graph.node_of(activity)?;
        let kind = &self.graph.snarl[node].kind;
        let index = if output {
            outputs(kind).iter().position(|o| o == port)?
        } else {
            inputs(kind).iter().position(|i| i.name == port)?
        };
        let pin = *self.pins.lock().unwrap_or_else(|p| p.into_inner()).get(&(node, output, index))?;
        Some(self.transform * pin.center())
    }

    /// The data model the canvas is edited against.
    pub fn model(&self) -> &DataModel {
        &self.context.model
    }

    pub fn saved(&mut self, at: jiff::Timestamp, campaign_id: i64) {
        if campaign_id == self.campaign.id {
            self.saving = false;
            self.campaign.modified_at = at;
        }
    }

    pub fn save_failed(&mut self) {
        if self.saving {
            self.saving = false;
            // Try again later; the canvas stays unsaved (and says so).
            self.saved = Canvas::default();
        }
    }

    pub fn counted(&mut self, campaign_id: i64, generation: u64, outcome: CountOutcome) {
        if campaign_id != self.campaign.id {
            return;
        }
        let canvas = self.requested.remove(&generation);
        if self.count != CountState::Running(generation) {
            return;
        }
        self.count = CountState::Idle;
        self.progress = None;
        match outcome {
            CountOutcome::Counted(report) => self.show_report(report, Vec::new(), canvas.as_ref()),
            CountOutcome::Invalid { problems, partial } => match partial {
                Some(report) => self.show_report(report, problems, canvas.as_ref()),
                None => {
                    self.problems = problems;
                    self.count_error = None;
                    self.counts.clear();
                    self.durations.clear();
                    self.sends.clear();
                    self.last_report = None;
                }
            },
            CountOutcome::Failed(e) => {
                self.count_error = Some(e.message);
            }
            CountOutcome::Superseded => {}
        }
        // The rows on show belong to the previous count: fetch them again.
        if let Some(i) = &mut self.inspector {
            i.loading = true;
        }
    }

    /// The distinct values of a column arrived.
    pub fn distinct_values_arrived(&mut self, entity: String, column: String, values: Option<Vec<String>>) {
        self.choices.insert((entity, column), values);
    }

    /// A message preview arrived.
    pub fn preview_arrived(
        &mut self,
        campaign_id: i64,
        activity: &str,
        index: u64,
        result: Result<crate::console::MessagePreview, String>,
    ) {
        if campaign_id != self.campaign.id {
            return;
        }
        if let Some(p) = &mut self.preview
            && p.activity == activity
            && p.index == index
        {
            if let Ok(r) = &result {
                p.index = r.index;
            }
            p.result = Some(result);
        }
    }

    /// A proof was sent (or not).
    pub fn proof_sent(&mut self, campaign_id: i64, _activity: &str, result: Result<u64, String>) {
        if campaign_id == self.campaign.id {
            self.proof = Some(result);
        }
    }

    /// The preview on show (tests).
    pub fn preview(&self) -> Option<&Result<crate::console::MessagePreview, String>> {
        self.preview.as_ref().and_then(|p| p.result.as_ref())
    }

    /// A delivery of this campaign moved on.
    pub fn run_progress(&mut self, campaign_id: i64, progress: crate::model::delivery::Progress) {
        if campaign_id != self.campaign.id {
            return;
        }
        let run = self.run.get_or_insert_with(RunView::default);
        run.running = true;
        run.progress.insert(progress.delivery, progress);
        let settled = run.totals();
        let now = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
        run.samples.push_back((now, settled.sent + settled.failed));
        while run.samples.front().is_some_and(|(t, _)| now - t > 5.0) {
            run.samples.pop_front();
        }
    }

    /// This campaign's run ended.
    pub fn run_finished(&mut self, campaign_id: i64, outcome: Result<String, crate::console::UserError>) {
        if campaign_id != self.campaign.id {
            return;
        }
        let run = self.run.get_or_insert_with(RunView::default);
        run.running = false;
        run.outcome = Some(outcome.map_err(|e| e.message));
    }

    /// The workspace's deliveries were listed: keep this campaign's.
    pub fn deliveries(&mut self, list: &[crate::model::delivery::Delivery]) {
        // Proofs are not runs.
        self.earlier =
            list.iter().filter(|d| d.campaign_id == Some(self.campaign.id) && !d.is_proof).cloned().collect();
    }

    /// The run on show: (running, settled fraction, outcome) (tests).
    pub fn run_state(&self) -> Option<(bool, f32, Option<&RunOutcome>)> {
        self.run.as_ref().map(|r| (r.running, r.totals().fraction(), r.outcome.as_ref()))
    }

    /// How far the running count has got.
    pub fn count_progress(&mut self, campaign_id: i64, generation: u64, done: usize, total: usize) {
        if campaign_id == self.campaign.id && self.count == CountState::Running(generation) {
            self.progress = Some((done, total));
        }
    }

    fn show_report(&mut self, report: CountReport, problems: Vec<Problem>, canvas: Option<&Canvas>) {
        self.kept_from = None;
        self.problems = problems;
        self.count_error = None;
        self.counts.clear();
        if let Some(canvas) = canvas {
            for t in &canvas.transitions {
                if let Some(n) = report.count_of(&t.id) {
                    self.counts.insert((t.from.clone(), t.output.clone()), n);
                }
            }
        }
        self.durations = report.activities.iter().map(|a| (a.activity.clone(), a.duration)).collect();
        self.sends = report.sends.iter().map(|s| (s.activity.clone(), s.clone())).collect();
        // What each transition carries, for the forms (a split on enrichment columns).
        self.flows = report.transitions.iter().map(|t| (t.transition.clone(), t.columns.clone())).collect();
        self.last_report = Some(report);
    }

    /// A page of rows for the inspector arrived.
    pub fn rows_arrived(
        &mut self,
        campaign_id: i64,
        transition: &str,
        offset: u64,
        total: u64,
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    ) {
        if campaign_id != self.campaign.id {
            return;
        }
        if let Some(i) = &mut self.inspector
            && i.transition == transition
            && i.offset == offset
        {
            (i.total, i.columns, i.rows, i.loading) = (total, columns, rows, false);
        }
    }

    /// The inspector's transition and rows on show, if it is open (for tests).
    pub fn inspected(&self) -> Option<(&str, u64, &[Vec<String>])> {
        self.inspector.as_ref().map(|i| (i.transition.as_str(), i.total, i.rows.as_slice()))
    }

    /// Draws the editor. Returns whether the user went back to the list.
    pub fn ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) -> bool {
        let now = ui.input(|i| i.time);
        let back = self.toolbar(ui, commands);
        self.shortcuts(ui, commands);

        egui::Panel::left(egui::Id::new(("canvas_palette", self.campaign.id)))
            .resizable(false)
            .exact_size(158.0)
            .show(ui, |ui| self.palette(ui));
        // The properties panel is there while an activity is selected.
        if self.focus.as_deref().and_then(|id| self.graph.node_of(id)).is_some() {
            egui::Panel::right(egui::Id::new(("canvas_properties", self.campaign.id)))
                .resizable(true)
                .default_size(260.0)
                .size_range(200.0..=480.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| self.properties(ui, commands));
                });
        }
        if self.run.is_some() {
            egui::Panel::bottom(egui::Id::new(("canvas_run", self.campaign.id)))
                .show(ui, |ui| self.run_panel(ui, commands));
        }
        egui::Panel::bottom(egui::Id::new(("canvas_problems", self.campaign.id)))
            .resizable(true)
            .default_size(90.0)
            .show(ui, |ui| self.problems_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| self.canvas_ui(ui));

        self.inspector_ui(ui, commands);
        self.sql_window(ui);
        self.confirm_window(ui, commands);
        if !self.asked_deliveries {
            self.asked_deliveries = true;
            commands.push(RunCommand::RefreshDeliveries);
        }
        self.commit(ui, now);
        self.schedule(ui, now, commands);
        back
    }

    fn inspector_ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let Some(i) = &mut self.inspector else { return };
        // Ask for the page on show once the count it belongs to is done.
        if i.loading
            && self.count == CountState::Idle
            && !self.requested_rows.contains(&(i.transition.clone(), i.offset))
        {
            self.requested_rows.push((i.transition.clone(), i.offset));
            commands.push(CanvasCommand::Inspect {
                campaign_id: self.campaign.id,
                transition: i.transition.clone(),
                offset: i.offset,
            });
        }
        if !i.loading {
            self.requested_rows.clear();
        }
        let mut open = true;
        egui::Window::new(format!("Rows: {}", i.title))
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(self.canvas_rect.center())
            .id(egui::Id::new(("inspector", self.campaign.id)))
            .open(&mut open)
            .default_size([720.0, 420.0])
            .resizable(true)
            .show(ui.ctx(), |ui| {
                ui.horizontal(|ui| {
                    let page = crate::console::ROWS_PAGE;
                    let last = (i.offset + i.rows.len() as u64).min(i.total);
                    if i.total == 0 {
                        ui.label(if i.loading { "Loading…" } else { "No rows." });
                    } else {
                        ui.label(format!(
                            "Rows {}–{} of {}",
                            theme::count(i.offset + 1),
                            theme::count(last),
                            theme::count(i.total)
                        ));
                    }
                    if i.loading {
                        ui.spinner();
                    }
                    if ui.add_enabled(i.offset > 0, egui::Button::new("Previous")).clicked() {
                        i.offset = i.offset.saturating_sub(page);
                        i.loading = true;
                    }
                    if ui.add_enabled(last < i.total, egui::Button::new("Next")).clicked() {
                        i.offset += page;
                        i.loading = true;
                    }
                    let name: String =
                        i.title.chars().map(|c| if c.is_alphanumeric() || c == ' ' { c } else { '_' }).collect();
                    let file = format!("{}.csv", name.split_whitespace().collect::<Vec<_>>().join(" "));
                    if let Some(path) = crate::ui::path_field::export_controls(
                        ui,
                        egui::Id::new(("export_rows", self.campaign.id, &i.transition)),
                        &mut i.export_to,
                        &file,
                        "Every row of this transition, to a CSV file.",
                    ) {
                        commands.push(CanvasCommand::Export {
                            campaign_id: self.campaign.id,
                            transition: i.transition.clone(),
                            path,
                        });
                    }
                });
                ui.separator();
                rows_table(ui, &i.columns, &i.rows);
            });
        if !open {
            self.inspector = None;
        }
    }

    /// The SQL the last count ran for the selected activity, in a window.
    fn sql_window(&mut self, ui: &mut egui::Ui) {
        if !self.show_sql {
            return;
        }
        let focus = self.focus.clone().unwrap_or_default();
        let label = self.graph.node_of(&focus).map(|n| self.graph.snarl[n].label.clone());
        let report = self.last_report.as_ref().and_then(|r| r.activities.iter().find(|x| x.activity == focus));
        let mut open = true;
        egui::Window::new(format!("SQL: {}", label.as_deref().unwrap_or("no activity selected")))
            .id(egui::Id::new(("sql_window", self.campaign.id)))
            .open(&mut open)
            .default_size([640.0, 360.0])
            .resizable(true)
            .show(ui.ctx(), |ui| match report {
                Some(r) => {
                    egui::ScrollArea::both().show(ui, |ui| {
                        let mut sql = r.sql.join(";\n\n");
                        ui.add(egui::TextEdit::multiline(&mut sql).code_editor().desired_width(f32::INFINITY));
                    });
                }
                None => {
                    ui.label("The last count did not run this activity: select another one, or count again.");
                }
            });
        self.show_sql = open;
    }

    fn snarl_id(&self) -> egui::Id {
        egui::Id::new(("campaign_canvas", self.campaign.id))
    }

    fn toolbar(&mut self, ui: &mut egui::Ui, commands: &mut Commands) -> bool {
        ui.add_space(6.0);
        let back = ui
            .horizontal(|ui| {
                let back = ui.button("⬅ All campaigns").clicked();
                ui.heading(&self.campaign.name);
                ui.label(
                    RichText::new(format!("{} · {}", self.campaign.kind.label(), self.campaign.status.label()))
                        .color(theme::muted(ui)),
                );
                ui.separator();
                if ui.button("Save").on_hover_text("Ctrl+S. Edits are also saved automatically.").clicked() {
                    self.save_now(commands);
                }
                let saved = if self.saving {
                    "Saving…"
                } else if self.is_saved() {
                    "All changes saved"
                } else {
                    "Unsaved changes"
                };
                ui.label(RichText::new(saved).color(theme::muted(ui)));
                ui.separator();
                if ui.add_enabled(!self.undo.is_empty(), egui::Button::new("Undo")).on_hover_text("Ctrl+Z").clicked() {
                    self.undo_step();
                }
                if ui.add_enabled(!self.redo.is_empty(), egui::Button::new("Redo")).on_hover_text("Ctrl+Y").clicked() {
                    self.redo_step();
                }
                ui.separator();
                if self.is_counting() {
                    let (done, total) = self.progress.unwrap_or((0, 0));
                    let fraction = if total == 0 { 0.0 } else { done as f32 / total as f32 };
                    ui.add(egui::ProgressBar::new(fraction).desired_width(140.0).text(if total == 0 {
                        "Counting…".to_owned()
                    } else {
                        format!("Counting {done}/{total}")
                    }));
                    if ui.button("Cancel").on_hover_text("Stop the count; what was counted stays.").clicked() {
                        commands.push(CanvasCommand::CancelCount { generation: next_generation() });
                        self.count = CountState::Idle;
                        self.progress = None;
                    }
                } else if ui
                    .button("Count")
                    .on_hover_text("A full test run: every transition counted again from the data, nothing sent.")
                    .clicked()
                {
                    self.count = CountState::Due(0.0);
                    self.fresh = true;
                }
                let sql = ui
                    .add_enabled(self.focus.is_some() && self.last_report.is_some(), egui::Button::new("Show SQL"))
                    .on_hover_text("The SQL the last count ran for the selected activity.")
                    .on_disabled_hover_text("Select a counted activity to see its SQL.");
                if sql.clicked() {
                    self.show_sql = !self.show_sql;
                }
                match (&self.last_report, self.kept_from) {
                    (Some(_), Some(at)) => {
                        let time = at.strftime("%H:%M");
                        let text = if self.is_counting() {
                            format!("counts of {time}\u{2026}")
                        } else {
                            format!("counts of {time}")
                        };
                        ui.label(RichText::new(text).color(theme::muted(ui))).on_hover_text(format!(
                            "Kept from the count of {} (UTC): the canvas and the data have not changed since, or a count is running to confirm them.",
                            theme::when(at)
                        ));
                    }
                    (Some(r), None) => {
                        ui.label(
                            RichText::new(format!("last count {:.2} s", r.total.as_secs_f64()))
                                .color(theme::muted(ui)),
                        );
                    }
                    _ => {}
                }
                self.start_button(ui, commands);
                let blocked = if !self.problems.is_empty() || self.count_error.is_some() {
                    Some("Fix the problems listed under the canvas first.")
                } else if !self.is_saved() {
                    Some("Wait for the canvas to be saved.")
                } else {
                    None
                };
                life::life_controls(ui, &self.campaign, &self.committed, blocked, commands);
                back
            })
            .inner;
        ui.add_space(4.0);
        back
    }

    /// Whether an earlier run of this campaign was left unfinished (paused, crashed).
    fn unfinished(&self) -> bool {
        self.earlier.iter().any(crate::model::delivery::Delivery::is_unfinished)
    }

    fn start_button(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let running = self.run.as_ref().is_some_and(|r| r.running);
        let has_channel = self.committed.activities.iter().any(|a| matches!(a.kind, ActivityKind::Channel { .. }));
        let why_not = if running {
            Some("Sending now.")
        } else if !self.problems.is_empty() || self.count_error.is_some() {
            Some("Fix the problems listed under the canvas first.")
        } else if self.is_counting() {
            Some("Wait for the count to finish.")
        } else if !has_channel {
            Some("Add a channel activity (Email, SMS, …): there is nothing to send.")
        } else if !self.is_saved() {
            Some("Wait for the canvas to be saved.")
        } else {
            None
        };
        let unfinished = self.unfinished();
        let label = if unfinished { "▶ Resume" } else { "▶ Start" };
        let r = ui
            .add_enabled(why_not.is_none(), egui::Button::new(RichText::new(label).strong()))
            .on_hover_text(if unfinished {
                "Carry on the run that was paused or interrupted: nothing is sent twice."
            } else {
                "Run the campaign: count, then send every message."
            })
            .on_disabled_hover_text(why_not.unwrap_or_default());
        if r.clicked() {
            if unfinished {
                self.begin_run(false, commands);
            } else {
                self.confirm_start = true;
            }
        }
    }

    fn begin_run(&mut self, again: bool, commands: &mut Commands) {
        commands.push(RunCommand::Start { campaign_id: self.campaign.id, again });
        self.run = Some(RunView { running: true, ..RunView::default() });
        self.confirm_start = false;
    }

    /// "Send now?": what each channel activity will send to, and a warning when it ran before.
    fn confirm_window(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        if !self.confirm_start {
            return;
        }
        let mut open = true;
        let mut send = false;
        egui::Window::new(format!("Send \u{201c}{}\u{201d} now?", self.campaign.name))
            .id(egui::Id::new(("confirm_start", self.campaign.id)))
            .collapsible(false)
            .resizable(false)
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(self.canvas_rect.center())
            .open(&mut open)
            .show(ui.ctx(), |ui| {
                ui.label("The campaign is counted again, then each channel activity sends to its recipients:");
                ui.add_space(4.0);
                for a in &self.committed.activities {
                    let ActivityKind::Channel { channel, credential, .. } = &a.kind else { continue };
                    // The same choice the run makes (`model::credential_for`).
                    let with = match crate::model::credential_for(
                        &self.context.credentials,
                        *channel,
                        credential.as_deref(),
                    ) {
                        Ok(Some(c)) => c.display_name(),
                        Ok(None) => "the built-in Sandbox".to_owned(),
                        Err(e) => e,
                    };
                    let (reachable, excluded) = self
                        .sends
                        .get(&a.id)
                        .map_or((0, Vec::new()), |s| (s.reachable.unwrap_or(0), s.excluded.clone()));
                    ui.label(format!(
                        "\u{2022} {} \u{201c}{}\u{201d}: {} recipients at the last count, through {with}",
                        a.kind.label(),
                        a.label,
                        theme::count(reachable)
                    ));
                    if !excluded.is_empty() {
                        let reasons: Vec<String> = excluded
                            .iter()
                            .map(|(code, n)| format!("{} {}", theme::count(*n), crate::audience::exclusion_label(code)))
                            .collect();
                        ui.label(
                            RichText::new(format!("    not sent to: {}", reasons.join(", "))).color(theme::muted(ui)),
                        );
                    }
                }
                if !self.earlier.is_empty() {
                    ui.add_space(4.0);
                    ui.label(
                        RichText::new(format!(
                            "{} This campaign already ran ({} deliveries): sending again reaches everyone again.",
                            theme::ICON_ERROR,
                            self.earlier.len()
                        ))
                        .color(theme::warning(ui)),
                    );
                }
                ui.add_space(6.0);
                ui.horizontal(|ui| {
                    if ui.button(RichText::new("Send now").strong()).clicked() {
                        send = true;
                    }
                    if ui.button("Not now").clicked() {
                        self.confirm_start = false;
                    }
                });
            });
        if !open {
            self.confirm_start = false;
        }
        if send {
            let again = !self.earlier.is_empty();
            self.begin_run(again, commands);
        }
    }

    /// The strip with the run's progress, rate, time left and its controls.
    fn run_panel(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let unfinished = self.unfinished();
        let Some(run) = &self.run else { return };
        let t = run.totals();
        let running = run.running;
        let rate = run.rate();
        let outcome = run.outcome.clone();
        let mut close = false;
        let mut resume = false;
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.label(RichText::new("Sending").strong());
            let text = if t.total == 0 && running {
                "Counting and writing the ledger…".to_owned()
            } else {
                format!("{} of {}", theme::count(t.total - t.remaining), theme::count(t.total))
            };
            ui.add(
                egui::ProgressBar::new(if t.total == 0 { 0.0 } else { t.fraction() }).desired_width(260.0).text(text),
            );
            ui.label(format!(
                "sent {} · failed {} · excluded {} · remaining {}",
                theme::count(t.sent),
                theme::count(t.failed),
                theme::count(t.excluded),
                theme::count(t.remaining)
            ));
            if let Some(r) = rate.filter(|_| running) {
                ui.label(RichText::new(format!("{r:.0} msg/s")).color(theme::muted(ui)));
                if r > 0.0 && t.remaining > 0 {
                    let secs = (t.remaining as f64 / r).ceil() as u64;
                    ui.label(
                        RichText::new(format!("about {}:{:02} left", secs / 60, secs % 60)).color(theme::muted(ui)),
                    );
                }
            }
            if running {
                if ui.button("Pause").on_hover_text("Stop after the current batch; Resume carries on.").clicked() {
                    commands.push(RunCommand::Stop { campaign_id: self.campaign.id, cancel: false });
                }
                if ui
                    .button("Cancel sending")
                    .on_hover_text("Stop, and settle what was not sent as cancelled.")
                    .clicked()
                {
                    commands.push(RunCommand::Stop { campaign_id: self.campaign.id, cancel: true });
                }
                ui.spinner();
            } else {
                if unfinished && ui.button("Resume").clicked() {
                    resume = true;
                }
                if ui.button("Close").clicked() {
                    close = true;
                }
            }
        });
        if let Some(o) = outcome {
            match o {
                Ok(text) => ui.label(RichText::new(text).color(theme::muted(ui))),
                Err(e) => ui.label(RichText::new(format!("{} {e}", theme::ICON_ERROR)).color(theme::error(ui))),
            };
        }
        if resume {
            self.begin_run(false, commands);
        }
        if close {
            self.run = None;
        }
    }

    fn shortcuts(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        if ui.input_mut(|i| i.consume_shortcut(&SAVE)) {
            self.save_now(commands);
        }
        // The rest only when no text field has the keyboard.
        if ui.memory(|m| m.focused().is_some()) {
            return;
        }
        if ui.input_mut(|i| i.consume_shortcut(&REDO) || i.consume_shortcut(&REDO_Y)) {
            self.redo_step();
        } else if ui.input_mut(|i| i.consume_shortcut(&UNDO)) {
            self.undo_step();
        }
        let selected = get_selected_nodes(self.snarl_id(), ui.ctx());
        if ui.input_mut(|i| i.consume_shortcut(&DUPLICATE)) {
            let copies: Vec<Activity> =
                selected.iter().filter_map(|n| self.graph.snarl.get_node(*n).cloned()).collect();
            self.paste(&copies);
        }
        if ui.input_mut(|i| i.consume_shortcut(&COPY)) && !selected.is_empty() {
            self.clipboard = selected.iter().filter_map(|n| self.graph.snarl.get_node(*n).cloned()).collect();
        }
        if ui.input_mut(|i| i.consume_shortcut(&PASTE)) {
            let copies = self.clipboard.clone();
            self.paste(&copies);
        }
        if ui.input_mut(|i| i.consume_shortcut(&FIT)) {
            self.fit_passes = FIT_PASSES;
        }
        if ui.input(|i| i.key_pressed(Key::Delete) || i.key_pressed(Key::Backspace)) {
            for n in selected {
                self.remove(n);
            }
        }
    }

    fn palette(&mut self, ui: &mut egui::Ui) {
        ui.add_space(4.0);
        ui.label(RichText::new("Activities").strong());
        ui.label(
            RichText::new("Drag onto the canvas, or double-click to add in the middle.")
                .small()
                .color(theme::muted(ui)),
        );
        egui::ScrollArea::vertical().show(ui, |ui| {
            for group in palette::Group::ALL {
                ui.add_space(6.0);
                ui.label(RichText::new(group.label()).color(theme::muted(ui)));
                for e in palette::ENTRIES.iter().filter(|e| e.group == group) {
                    let id = egui::Id::new(("palette", e.label));
                    let r = ui
                        .dnd_drag_source(id, e.label, |ui| {
                            ui.add(
                                egui::Button::new(format!("{} {}", e.icon, e.label))
                                    .min_size(egui::vec2(ui.available_width(), 22.0))
                                    .sense(egui::Sense::click()),
                            )
                        })
                        .inner
                        .on_hover_text(e.description);
                    // A double-click, or Enter / Space on the focused entry.
                    let keyboard = r.clicked() && !ui.input(|i| i.pointer.any_released());
                    if r.double_clicked() || keyboard {
                        let centre = self.transform.inverse() * self.canvas_rect.center();
                        let centre = if centre.x.is_finite() { centre } else { egui::pos2(100.0, 100.0) };
                        self.add(e.label, centre);
                    }
                }
            }
        });
    }

    fn canvas_ui(&mut self, ui: &mut egui::Ui) {
        if let Some(why) = self.refusal.clone() {
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("{} Not connected: {why}", theme::ICON_ERROR)).color(theme::error(ui)));
                if ui.small_button("OK").clicked() {
                    self.refusal = None;
                }
            });
        }
        let mut problems: HashMap<String, Vec<String>> = HashMap::new();
        for p in &self.problems {
            if let Some(a) = &p.activity {
                let text = match &p.parameter {
                    Some(param) => format!("{param}: {}", p.message),
                    None => p.message.clone(),
                };
                problems.entry(a.clone()).or_default().push(text);
            }
        }
        // The engine's checks run only when a wire is dropped, not every frame.
        let (model, audiences) = (&self.context.model, &self.context.audiences);
        let check = |snarl: &Snarl<Activity>, from: OutPinId, to: InPinId| {
            let options = CompileOptions {
                audiences: audiences.clone(),
                ..CompileOptions::new(Dialect::Sqlite, jiff::Timestamp::now(), 0)
            };
            check_connection(snarl, from, to, model, &options)
        };
        let mut requests = Vec::new();
        let counting = self.is_counting();
        let snarl_id = self.snarl_id();
        let mut viewer = Viewer {
            counts: &self.counts,
            counting,
            problems: &problems,
            durations: &self.durations,
            sends: &self.sends,
            refusal: &mut self.refusal,
            check: &check,
            transform: &mut self.transform,
            move_view: self.pending_view.take(),
            node_rects: &mut self.node_rects,
            pins: &self.pins,
            requests: &mut requests,
        };
        let style = SnarlStyle {
            bg_frame: Some(egui::Frame::new().fill(theme::canvas_background(ui))),
            pin_placement: Some(egui_snarl::ui::PinPlacement::Edge),
            // Room between the text of a row and the pin on the frame's edge.
            node_frame: Some(
                egui::Frame::new()
                    .fill(ui.visuals().window_fill)
                    .stroke(ui.visuals().window_stroke)
                    .corner_radius(6)
                    .inner_margin(egui::Margin::symmetric(12, 6)),
            ),
            pin_size: Some(8.0),
            ..SnarlStyle::new()
        };
        self.canvas_rect = ui.available_rect_before_wrap();
        let response = SnarlWidget::new().id(snarl_id).style(style).show(&mut self.graph.snarl, &mut viewer, ui);
        // Rectangles of deleted nodes would skew "fit all".
        let snarl = &self.graph.snarl;
        self.node_rects.retain(|id, _| snarl.get_node(*id).is_some());
        self.space_pan(ui);
        if self.graph.snarl.nodes().next().is_none() {
            ui.put(
                egui::Rect::from_center_size(self.canvas_rect.center(), egui::vec2(420.0, 24.0)),
                egui::Label::new(
                    RichText::new("This canvas has no activities yet: drag one from the palette.")
                        .size(15.0)
                        .color(theme::muted(ui)),
                ),
            );
        }
        let mut dropped = false;
        if let Some(label) = response.dnd_release_payload::<&'static str>()
            && let Some(pos) = ui.input(|i| i.pointer.interact_pos())
        {
            requests.push(Request::Add { label: *label, pos: self.transform.inverse() * pos });
            dropped = true;
        }
        for r in requests {
            match r {
                Request::Add { label, pos } => {
                    // Dropped on a wire: it goes in between.
                    let on_wire = dropped.then(|| self.wire_near(pos)).flatten();
                    if let Some(node) = self.add(label, pos)
                        && let Some(wire) = on_wire
                    {
                        self.insert_on_wire(node, wire);
                    }
                }
                Request::Delete(n) => self.remove(n),
                Request::Duplicate(n) => {
                    if let Some(a) = self.graph.snarl.get_node(n).cloned() {
                        self.paste(&[a]);
                    }
                }
                Request::Select(n) => self.focus = self.graph.snarl.get_node(n).map(|a| a.id.clone()),
                Request::Inspect { activity, output } => {
                    let t = self.committed.transitions.iter().find(|t| t.from == activity && t.output == output);
                    if let Some(t) = t {
                        let source = self.committed.activity(&t.from);
                        let from = source.map_or(t.from.as_str(), |a| a.label.as_str());
                        let to = self.committed.activity(&t.to).map_or(t.to.as_str(), |a| a.label.as_str());
                        let via = match source {
                            Some(a) if output != "out" => {
                                let index = outputs(&a.kind).iter().position(|o| *o == output).unwrap_or(0);
                                format!(" ({})", viewer::output_label(&a.kind, index, &output))
                            }
                            _ => String::new(),
                        };
                        self.inspector = Some(Inspector {
                            transition: t.id.clone(),
                            title: format!("{from}{via} – {to}"),
                            offset: 0,
                            total: 0,
                            columns: Vec::new(),
                            rows: Vec::new(),
                            loading: true,
                            export_to: None,
                        });
                    }
                }
            }
        }
        // Selection drives the properties panel.
        let selected = get_selected_nodes(snarl_id, ui.ctx());
        if selected != self.last_selection {
            if let Some(n) = selected.first() {
                self.focus = self.graph.snarl.get_node(*n).map(|a| a.id.clone());
            }
            self.last_selection = selected;
        }
        self.steer_view(ui);
    }

    /// Applies "fit all" and "look at" by moving the view (next frame's transform).
    /// Space + drag pans the view wherever the pointer is (over nodes too): while space is
    /// held, a layer above the canvas takes the drag.
    fn space_pan(&mut self, ui: &egui::Ui) {
        let held = ui.input(|i| i.key_down(Key::Space)) && !ui.ctx().egui_wants_keyboard_input();
        let over = ui.input(|i| i.pointer.hover_pos()).is_some_and(|p| self.canvas_rect.contains(p));
        if !held || !(over || self.panning) {
            self.panning = false;
            return;
        }
        let rect = self.canvas_rect;
        let r = egui::Area::new(self.snarl_id().with("space_pan"))
            .order(egui::Order::Foreground)
            .fixed_pos(rect.min)
            .show(ui.ctx(), |ui| {
                ui.allocate_rect(egui::Rect::from_min_size(rect.min, rect.size()), egui::Sense::drag())
            })
            .inner;
        self.panning = r.dragged();
        ui.ctx().set_cursor_icon(if r.dragged() { egui::CursorIcon::Grabbing } else { egui::CursorIcon::Grab });
        let delta = r.drag_delta();
        if delta != egui::Vec2::ZERO {
            self.pending_view = Some(TSTransform::from_translation(delta) * self.transform);
            ui.ctx().request_repaint();
        }
    }

    fn steer_view(&mut self, ui: &egui::Ui) {
        let view = self.canvas_rect;
        if !view.is_positive() {
            return;
        }
        let target = if self.fit_passes > 0 && !self.node_rects.is_empty() {
            let bounds = self.node_rects.values().fold(egui::Rect::NOTHING, |b, r| b.union(*r));
            let fit = (view.width() / (bounds.width() + 40.0)).min(view.height() / (bounds.height() + 40.0)).min(1.0);
            if fit >= MIN_FIT_SCALE {
                Some(TSTransform::new(view.center().to_vec2() - bounds.center().to_vec2() * fit, fit))
            } else {
                // Not so small that labels and counts become unreadable: show the start of
                // the canvas, the rest is a pan away.
                let s = MIN_FIT_SCALE;
                let origin =
                    egui::vec2(view.left() + 20.0, view.center().y) - egui::vec2(bounds.left(), bounds.center().y) * s;
                Some(TSTransform::new(origin, s))
            }
        } else {
            self.look_at.map(|p| {
                TSTransform::new(view.center().to_vec2() - p.to_vec2() * self.transform.scaling, self.transform.scaling)
            })
        };
        if let Some(t) = target {
            self.pending_view = Some(t);
            ui.ctx().request_repaint();
        }
        // Nodes that were off screen kept the size they had when last drawn (a count may
        // have widened them since): fit a second time, once they have been drawn in view.
        self.fit_passes = self.fit_passes.saturating_sub(1);
        self.look_at = None;
    }

    fn properties(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.label(RichText::new("Properties").strong());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("✖").on_hover_text("Close the properties").clicked() {
                    self.focus = None;
                }
            });
        });
        let Some(node) = self.focus.as_deref().and_then(|id| self.graph.node_of(id)) else {
            ui.label(RichText::new("Select an activity to see its properties.").color(theme::muted(ui)));
            return;
        };
        let a = self.graph.snarl[node].clone();
        ui.label(RichText::new(format!("{} · {}", a.kind.label(), a.id)).color(theme::muted(ui)));
        if let Some(e) = palette::entry_of(&a.kind) {
            ui.label(RichText::new(e.description).small());
        }
        ui.add_space(6.0);
        ui.label("Label");
        let (_, text) = match &mut self.label_edit {
            Some((id, text)) if *id == a.id => (id.clone(), text),
            _ => {
                self.label_edit = Some((a.id.clone(), a.label.clone()));
                let Some((id, text)) = &mut self.label_edit else { return };
                (id.clone(), text)
            }
        };
        let r = ui.add(egui::TextEdit::singleline(text).desired_width(f32::INFINITY));
        if r.lost_focus() && !text.trim().is_empty() && text.trim() != a.label {
            let label = text.trim().to_owned();
            self.graph.snarl[node].label = label;
        }
        ui.add_space(6.0);
        let mine: Vec<&Problem> = self.problems.iter().filter(|p| p.activity.as_deref() == Some(&a.id)).collect();
        for p in mine {
            let text = match &p.parameter {
                Some(param) => format!("{param}: {}", p.message),
                None => p.message.clone(),
            };
            ui.label(RichText::new(format!("{} {text}", theme::ICON_ERROR)).color(theme::error(ui)));
        }
        ui.add_space(6.0);
        ui.separator();
        // The form of the activity's kind, on a copy: a change becomes one edit.
        let mut kind = a.kind.clone();
        let surroundings = forms::Surroundings {
            audiences: &self.context.audiences,
            credentials: &self.context.credentials,
            dimension: inbound_dimension(&self.committed, &a.id, &self.context.audiences),
            inbound: self
                .committed
                .transitions
                .iter()
                .filter(|t| t.to == a.id)
                .map(|t| {
                    let from = self.committed.activity(&t.from).map_or(t.from.as_str(), |f| f.label.as_str());
                    (t.id.clone(), format!("{from} ({})", t.output))
                })
                .collect(),
            now: jiff::Timestamp::now(),
            work_columns: self
                .committed
                .transitions
                .iter()
                .find(|t| t.to == a.id)
                .and_then(|t| self.flows.get(&t.id))
                .cloned()
                .unwrap_or_default(),
        };
        let mut cx = fields::FormContext {
            model: &self.context.model,
            choices: &self.choices,
            wanted: Vec::new(),
            today: jiff::Zoned::now().date(),
        };
        let form_id = egui::Id::new(("form", self.campaign.id, &a.id));
        let edit = forms::kind_form(ui, &mut cx, &surroundings, form_id, &mut kind);
        let wanted = std::mem::take(&mut cx.wanted);
        for w in wanted {
            if !self.asked_choices.contains(&w) {
                self.asked_choices.push(w.clone());
                commands.push(CanvasCommand::DistinctValues { entity: w.0, column: w.1 });
            }
        }
        if edit.changed && kind != a.kind {
            self.set_kind(node, kind, edit.removed_output);
            self.params_edit = None;
        }
        if let ActivityKind::Channel { message, .. } = &self.graph.snarl[node].kind {
            let message = message.clone();
            egui::CollapsingHeader::new("Preview for a recipient").id_salt(("preview", &a.id)).show(ui, |ui| {
                self.preview_ui(ui, &a.id, message, commands);
            });
        }
        ui.add_space(6.0);
        egui::CollapsingHeader::new("Parameters as JSON").id_salt(("json", &a.id)).show(ui, |ui| {
            self.json_editor(ui, node, &a);
        });
        // What the last count ran for this activity.
        let report = self.last_report.as_ref().and_then(|r| r.activities.iter().find(|x| x.activity == a.id));
        if let Some(r) = report {
            ui.add_space(6.0);
            let how = if r.reused {
                "reused from the previous count".to_owned()
            } else {
                format!("{:.3} s", r.duration.as_secs_f64())
            };
            egui::CollapsingHeader::new(format!("SQL of the last count ({how})")).id_salt(("sql", &a.id)).show(
                ui,
                |ui| {
                    let mut sql = r.sql.join(";\n\n");
                    ui.add(
                        egui::TextEdit::multiline(&mut sql)
                            .code_editor()
                            .interactive(true)
                            .desired_width(f32::INFINITY),
                    );
                },
            );
        }
    }

    /// The message rendered for one recipient of the last count, with Previous / Next.
    fn preview_ui(
        &mut self,
        ui: &mut egui::Ui,
        activity: &str,
        message: crate::model::Message,
        commands: &mut Commands,
    ) {
        let stale = self.preview.as_ref().is_none_or(|p| {
            p.activity != activity || p.message != message || (p.generation != self.generation && !self.is_counting())
        });
        if stale && !self.is_counting() {
            let index = self.preview.as_ref().filter(|p| p.activity == activity).map_or(0, |p| p.index);
            self.ask_preview(activity, index, message.clone(), commands);
        }
        let Some(p) = &self.preview else { return };
        match &p.result {
            None => {
                ui.spinner();
            }
            Some(Err(why)) => {
                ui.label(RichText::new(why).color(theme::muted(ui)));
            }
            Some(Ok(r)) => {
                let mut go = None;
                ui.horizontal(|ui| {
                    if ui.add_enabled(r.index > 0, egui::Button::new("◀")).on_hover_text("Previous recipient").clicked()
                    {
                        go = Some(r.index - 1);
                    }
                    ui.label(format!("{} of {}", theme::count(r.index + 1), theme::count(r.total)));
                    if ui
                        .add_enabled(r.index + 1 < r.total, egui::Button::new("▶"))
                        .on_hover_text("Next recipient")
                        .clicked()
                    {
                        go = Some(r.index + 1);
                    }
                });
                ui.label(RichText::new(format!("{} · {}", r.recipient, r.address)).small().color(theme::muted(ui)));
                if let Some(ActivityKind::Channel { channel: crate::model::Channel::Sms, .. }) =
                    self.graph.node_of(activity).map(|n| &self.graph.snarl[n].kind)
                {
                    let size = crate::personalize::sms_size(&r.text);
                    ui.label(
                        RichText::new(format!(
                            "{} characters, {} SMS for this recipient",
                            size.characters, size.segments
                        ))
                        .small()
                        .color(theme::muted(ui)),
                    );
                }
                for (label, text) in [("Subject", &r.subject), ("Text", &r.text), ("HTML", &r.html)] {
                    if text.is_empty() {
                        continue;
                    }
                    ui.label(RichText::new(label).strong());
                    egui::Frame::group(ui.style()).show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        ui.add(egui::Label::new(RichText::new(text.as_str()).monospace()).wrap());
                    });
                }
                // A proof: this message, as this recipient gets it, to typed addresses.
                ui.add_space(4.0);
                ui.label("Send a proof to");
                let mut send = false;
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut self.proof_to)
                            .hint_text("addresses, separated by commas")
                            .desired_width(ui.available_width() - 90.0),
                    );
                    send = ui.button("Send proof").clicked();
                });
                match &self.proof {
                    Some(Ok(n)) => {
                        ui.label(RichText::new(format!("Proof sent to {n}.")).color(theme::muted(ui)));
                    }
                    Some(Err(e)) => {
                        ui.label(RichText::new(e).color(theme::error(ui)));
                    }
                    None => {}
                }
                if send {
                    self.proof = None;
                    commands.push(ProofCommand::Send {
                        campaign_id: self.campaign.id,
                        canvas: self.committed.clone(),
                        activity: activity.to_owned(),
                        index: r.index,
                        addresses: self.proof_to.split([',', ';']).map(|s| s.trim().to_owned()).collect(),
                    });
                }
                if let Some(i) = go {
                    self.ask_preview(activity, i, message, commands);
                }
            }
        }
    }

    fn ask_preview(&mut self, activity: &str, index: u64, message: crate::model::Message, commands: &mut Commands) {
        commands.push(ProofCommand::Preview {
            campaign_id: self.campaign.id,
            canvas: self.committed.clone(),
            activity: activity.to_owned(),
            index,
        });
        self.preview = Some(PreviewView {
            activity: activity.to_owned(),
            index,
            message,
            generation: self.generation,
            result: None,
        });
    }

    /// The parameters as JSON, for what the form does not show or for pasting.
    fn json_editor(&mut self, ui: &mut egui::Ui, node: NodeId, a: &Activity) {
        let current = self.graph.snarl[node].kind.clone();
        if self.params_edit.as_ref().is_none_or(|p| p.activity != a.id) {
            self.params_edit = Some(ParamsEdit {
                activity: a.id.clone(),
                text: serde_json::to_string_pretty(&current).unwrap_or_default(),
                error: None,
            });
        }
        let Some(edit) = &mut self.params_edit else { return };
        ui.add(egui::TextEdit::multiline(&mut edit.text).code_editor().desired_rows(8).desired_width(f32::INFINITY));
        let mut apply = None;
        ui.horizontal(|ui| {
            if ui.button("Apply").clicked() {
                match serde_json::from_str::<ActivityKind>(&edit.text) {
                    Ok(kind) if kind.label() != current.label() => {
                        edit.error = Some(format!("The activity must stay a {}.", current.label()));
                    }
                    Ok(kind) => {
                        edit.error = None;
                        apply = Some(kind);
                    }
                    Err(e) => edit.error = Some(format!("These parameters cannot be read: {e}")),
                }
            }
            if ui.button("Revert").clicked() {
                edit.text = serde_json::to_string_pretty(&current).unwrap_or_default();
                edit.error = None;
            }
        });
        if let Some(e) = &edit.error {
            ui.label(RichText::new(e).color(theme::error(ui)));
        }
        if let Some(kind) = apply {
            self.set_kind(node, kind, None);
        }
    }

    fn problems_ui(&mut self, ui: &mut egui::Ui) {
        ui.add_space(2.0);
        let n = self.problems.len();
        ui.horizontal(|ui| {
            ui.label(RichText::new("Problems").strong());
            if n == 0 && self.count_error.is_none() {
                ui.label(RichText::new("none").color(theme::muted(ui)));
            }
        });
        egui::ScrollArea::vertical().show(ui, |ui| {
            if let Some(e) = &self.count_error {
                ui.label(RichText::new(format!("{} {e}", theme::ICON_ERROR)).color(theme::error(ui)));
            }
            let mut clicked = None;
            for p in &self.problems {
                let r = ui.selectable_label(
                    false,
                    RichText::new(format!("{} {p}", theme::ICON_ERROR)).color(theme::error(ui)),
                );
                if r.clicked() {
                    clicked = p.activity.clone();
                }
            }
            if let Some(id) = clicked {
                if let Some(node) = self.graph.node_of(&id)
                    && let Some(r) = self.node_rects.get(&node)
                {
                    self.look_at = Some(r.center());
                }
                self.focus = Some(id);
            }
        });
    }

    // ---- Edits. ----

    fn add(&mut self, label: &str, pos: egui::Pos2) -> Option<NodeId> {
        let kind = palette::new_kind(label, &self.context.model)?;
        let id = self.graph.new_activity_id(label);
        // Not exactly on top of another one.
        let mut pos = pos;
        while self.graph.snarl.nodes_pos().any(|(p, _)| (p - pos).length() < 12.0) {
            pos += egui::vec2(30.0, 30.0);
        }
        let a = Activity { id: id.clone(), label: label.to_owned(), kind, position: [pos.x, pos.y] };
        let node = self.graph.snarl.insert_node(pos, a);
        self.focus = Some(id);
        Some(node)
    }

    /// The wire passing within a few pixels of `pos` (graph space), if any.
    fn wire_near(&self, pos: egui::Pos2) -> Option<(OutPinId, InPinId)> {
        let pins = self.pins.lock().unwrap_or_else(|p| p.into_inner());
        let tolerance = 14.0 / self.transform.scaling.max(0.1);
        let mut best: Option<(f32, (OutPinId, InPinId))> = None;
        for (out, inp) in self.graph.snarl.wires() {
            let (Some(a), Some(b)) = (pins.get(&(out.node, true, out.output)), pins.get(&(inp.node, false, inp.input)))
            else {
                continue;
            };
            let (a, b) = (a.center(), b.center());
            // Wires are drawn as curves leaving and entering horizontally.
            let bend = ((b.x - a.x).abs() / 2.0).max(30.0);
            let (c1, c2) = (a + egui::vec2(bend, 0.0), b - egui::vec2(bend, 0.0));
            let distance = (0..=32)
                .map(|i| {
                    let t = i as f32 / 32.0;
                    let u = 1.0 - t;
                    let p = a.to_vec2() * (u * u * u)
                        + c1.to_vec2() * (3.0 * u * u * t)
                        + c2.to_vec2() * (3.0 * u * t * t)
                        + b.to_vec2() * (t * t * t);
                    (p.to_pos2() - pos).length()
                })
                .fold(f32::INFINITY, f32::min);
            if distance < tolerance && best.is_none_or(|(d, _)| distance < d) {
                best = Some((distance, (out, inp)));
            }
        }
        best.map(|(_, wire)| wire)
    }

    /// Puts the new activity `node` in the middle of `wire`: the wire's source feeds it and it
    /// feeds the wire's target, and the activities from the target on move right to make room.
    /// When the engine would refuse either connection, the wire stays and the reason is shown.
    fn insert_on_wire(&mut self, node: NodeId, (out, inp): (OutPinId, InPinId)) {
        let options = CompileOptions {
            audiences: self.context.audiences.clone(),
            ..CompileOptions::new(Dialect::Sqlite, jiff::Timestamp::now(), 0)
        };
        let (new_in, new_out) = (InPinId { node, input: 0 }, OutPinId { node, output: 0 });
        let fits = {
            let kind = &self.graph.snarl[node].kind;
            inputs(kind).first().is_some_and(|p| p.population) && !outputs(kind).is_empty()
        };
        let label = self.graph.snarl[node].label.clone();
        if !fits {
            self.refusal = Some(format!("\u{201c}{label}\u{201d} cannot go in the middle of a wire."));
            return;
        }
        let model = &self.context.model;
        self.graph.snarl.disconnect(out, inp);
        let checked = check_connection(&self.graph.snarl, out, new_in, model, &options).and_then(|()| {
            self.graph.snarl.connect(out, new_in);
            check_connection(&self.graph.snarl, new_out, inp, model, &options)
        });
        if let Err(why) = checked {
            self.graph.snarl.disconnect(out, new_in);
            self.graph.snarl.connect(out, inp);
            self.refusal = Some(format!("\u{201c}{label}\u{201d} was not put in the middle: {why}"));
            return;
        }
        self.graph.snarl.connect(new_out, inp);
        // Room: the new activity one step right of the source, the target one step further.
        const STEP: f32 = 210.0;
        let source = self.graph.snarl.get_node_info(out.node).map(|n| n.pos);
        let target = self.graph.snarl.get_node_info(inp.node).map(|n| n.pos);
        if let (Some(source), Some(target)) = (source, target) {
            let shift = (source.x + 2.0 * STEP - target.x).max(0.0);
            if shift > 0.0 {
                let movers: Vec<NodeId> = self
                    .graph
                    .snarl
                    .node_ids()
                    .map(|(id, _)| id)
                    .filter(|id| *id != node)
                    .filter(|id| self.graph.snarl.get_node_info(*id).is_some_and(|n| n.pos.x >= target.x - 1.0))
                    .collect();
                for id in movers {
                    if let Some(n) = self.graph.snarl.get_node_info_mut(id) {
                        n.pos.x += shift;
                    }
                }
            }
            if let Some(n) = self.graph.snarl.get_node_info_mut(node) {
                n.pos = egui::pos2(source.x + STEP, target.y);
            }
        }
    }

    fn remove(&mut self, node: NodeId) {
        if self.graph.snarl.get_node(node).is_some() {
            self.graph.snarl.remove_node(node);
        }
    }

    /// Adds copies of `activities` (new ids, shifted 40 px; without their wires).
    fn paste(&mut self, activities: &[Activity]) {
        for a in activities {
            let mut copy = a.clone();
            copy.id = self.graph.new_activity_id(a.kind.label());
            copy.label = format!("{} (copy)", a.label);
            let pos = egui::pos2(a.position[0] + 40.0, a.position[1] + 40.0);
            let pos = self
                .graph
                .node_of(&a.id)
                .and_then(|n| self.graph.snarl.get_node_info(n))
                .map_or(pos, |n| n.pos + egui::vec2(40.0, 40.0));
            copy.position = [pos.x, pos.y];
            self.focus = Some(copy.id.clone());
            self.graph.snarl.insert_node(pos, copy);
        }
    }

    /// Replaces an activity's parameters, dropping wires of ports it no longer has. When
    /// output `removed` went away (a subset, a path), the wires of the outputs after it move
    /// up one so that each stays with its subset.
    fn set_kind(&mut self, node: NodeId, kind: ActivityKind, removed: Option<usize>) {
        if let Some(r) = removed {
            let old_out = outputs(&self.graph.snarl[node].kind).len();
            self.graph.snarl.drop_outputs(OutPinId { node, output: r });
            for o in r + 1..old_out {
                let from = OutPinId { node, output: o };
                let remotes = self.graph.snarl.out_pin(from).remotes;
                for to in remotes {
                    self.graph.snarl.disconnect(from, to);
                    self.graph.snarl.connect(OutPinId { node, output: o - 1 }, to);
                }
            }
        }
        let (old_out, old_in) = {
            let a = &self.graph.snarl[node];
            (outputs(&a.kind).len(), inputs(&a.kind).len())
        };
        let (new_out, new_in) = (outputs(&kind).len(), inputs(&kind).len());
        for output in new_out..old_out {
            self.graph.snarl.drop_outputs(OutPinId { node, output });
        }
        for input in new_in..old_in {
            self.graph.snarl.drop_inputs(InPinId { node, input });
        }
        self.graph.snarl[node].kind = kind;
    }

    fn undo_step(&mut self) {
        if let Some(previous) = self.undo.pop() {
            self.redo.push(std::mem::replace(&mut self.committed, previous.clone()));
            self.restore(&previous);
        }
    }

    fn redo_step(&mut self) {
        if let Some(next) = self.redo.pop() {
            self.undo.push(std::mem::replace(&mut self.committed, next.clone()));
            self.restore(&next);
        }
    }

    fn restore(&mut self, canvas: &Canvas) {
        self.graph = Graph::from_canvas(canvas);
        self.label_edit = None;
        self.params_edit = None;
        self.count = CountState::Due(0.0);
        self.save_due = Some(0.0);
    }

    /// After the frame: a finished change (nothing being dragged) becomes an undo step, and
    /// schedules a save and, when more than positions changed, a count.
    fn commit(&mut self, ui: &egui::Ui, now: f64) {
        // The canvas changes only through input (a click, a key, a drop, a drag ended): frames
        // without any, and the one after, skip the comparison (a copy of the whole canvas).
        let input = ui.input(|i| {
            i.pointer.any_released()
                || i.events.iter().any(|e| !matches!(e, egui::Event::PointerMoved(_) | egui::Event::MouseMoved(_)))
        });
        let look = input || self.look_again;
        self.look_again = input;
        if !look || ui.input(|i| i.pointer.any_down()) {
            self.look_again |= look;
            return;
        }
        let current = self.graph.to_canvas();
        if current == self.committed {
            return;
        }
        let previous = std::mem::replace(&mut self.committed, current);
        if !same_apart_from_positions(&previous, &self.committed) {
            self.count = CountState::Due(now + COUNT_DEBOUNCE);
        }
        self.undo.push(previous);
        if self.undo.len() > UNDO_LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
        self.save_due = Some(now + SAVE_DEBOUNCE);
    }

    fn save_now(&mut self, commands: &mut Commands) {
        self.saved = self.graph.to_canvas();
        self.committed = self.saved.clone();
        self.saving = true;
        self.save_due = None;
        commands.push(CanvasCommand::Save { campaign_id: self.campaign.id, canvas: self.saved.clone() });
    }

    /// Starts what is due: the debounced count, the debounced save.
    fn schedule(&mut self, ui: &egui::Ui, now: f64, commands: &mut Commands) {
        if let CountState::Due(at) = self.count {
            if now >= at {
                self.generation = next_generation();
                let canvas = self.committed.clone();
                self.requested.insert(self.generation, canvas.clone());
                commands.push(CanvasCommand::Count {
                    campaign_id: self.campaign.id,
                    canvas,
                    generation: self.generation,
                    fresh: std::mem::take(&mut self.fresh),
                });
                self.count = CountState::Running(self.generation);
            } else {
                ui.ctx().request_repaint_after(Duration::from_secs_f64(at - now));
            }
        }
        if let Some(at) = self.save_due {
            if now >= at && self.committed != self.saved {
                self.save_now(commands);
            } else if now >= at {
                self.save_due = None;
            } else {
                ui.ctx().request_repaint_after(Duration::from_secs_f64(at - now));
            }
        }
    }
}

/// A table of rows with a header (egui_extras, only the visible rows are laid out).
fn rows_table(ui: &mut egui::Ui, columns: &[String], rows: &[Vec<String>]) {
    use egui_extras::{Column, TableBuilder};
    if columns.is_empty() {
        return;
    }
    egui::ScrollArea::horizontal().show(ui, |ui| {
        let mut table = TableBuilder::new(ui).striped(true).resizable(true);
        for _ in columns {
            table = table.column(Column::auto().at_least(70.0).clip(true));
        }
        table
            .header(22.0, |mut header| {
                for c in columns {
                    header.col(|ui| {
                        ui.strong(c);
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, rows.len(), |mut row| {
                    let r = &rows[row.index()];
                    for v in r {
                        row.col(|ui| {
                            ui.label(v);
                        });
                    }
                });
            });
    });
}

/// Whether two canvases differ only in where their activities are.
fn same_apart_from_positions(a: &Canvas, b: &Canvas) -> bool {
    let strip = |c: &Canvas| {
        let mut c = c.clone();
        for x in &mut c.activities {
            x.position = [0.0, 0.0];
        }
        c
    };
    strip(a) == strip(b)
}

/// Refuses a connection the engine would reject, with the reason in a marketer's words.
pub fn check_connection(
    snarl: &Snarl<Activity>,
    from: OutPinId,
    to: InPinId,
    model: &DataModel,
    options: &CompileOptions,
) -> Result<(), String> {
    let (source, target) = (&snarl[from.node], &snarl[to.node]);
    if from.node == to.node {
        return Err(format!("\u{201c}{}\u{201d} cannot be connected to itself.", source.label));
    }
    let ports = inputs(&target.kind);
    let Some(port) = ports.get(to.input) else { return Err("that input does not exist".into()) };
    let wired = snarl.in_pin(to).remotes;
    if wired.contains(&from) {
        return Ok(());
    }
    if !port.multi && !wired.is_empty() {
        return Err(format!(
            "\u{201c}{}\u{201d} already has an inbound transition; remove it first, or combine the populations with a Combine activity.",
            target.label
        ));
    }
    // A loop: the target already leads to the source.
    let mut stack = vec![to.node];
    let mut seen = std::collections::HashSet::new();
    while let Some(n) = stack.pop() {
        if n == from.node {
            return Err(format!(
                "this would make a loop: \u{201c}{}\u{201d} already leads to \u{201c}{}\u{201d}.",
                target.label, source.label
            ));
        }
        if seen.insert(n) {
            stack.extend(snarl.wires().filter(|(o, _)| o.node == n).map(|(_, i)| i.node));
        }
    }
    // What the engine says about the target with and without the new wire.
    let mut graph = Graph { snarl: Snarl::new(), wire_ids: HashMap::new(), dangling: Vec::new() };
    let mut nodes = HashMap::new();
    for (id, a) in snarl.node_ids() {
        nodes.insert(id, graph.snarl.insert_node(egui::Pos2::ZERO, a.clone()));
    }
    for (o, i) in snarl.wires() {
        graph.snarl.connect(OutPinId { node: nodes[&o.node], ..o }, InPinId { node: nodes[&i.node], ..i });
    }
    let before = audience::validate(&graph.to_canvas(), model, options).err().unwrap_or_default();
    graph.snarl.connect(OutPinId { node: nodes[&from.node], ..from }, InPinId { node: nodes[&to.node], ..to });
    let after = audience::validate(&graph.to_canvas(), model, options).err().unwrap_or_default();
    let about_wires =
        ["different kinds", "only starts it", "only takes a Scheduler", "needs a population", "connected twice"];
    let new = after.iter().find(|p| {
        p.activity.as_deref() == Some(target.id.as_str())
            && !before.contains(p)
            && about_wires.iter().any(|w| p.message.contains(w))
    });
    match new {
        Some(p) => Err(format!("\u{201c}{}\u{201d} {}", target.label, p.message)),
        None => Ok(()),
    }
}

/// The entity arriving on `activity`'s input, found by walking back to where the population
/// comes from (a Build audience, a Change dimension, …); `None` when nothing is connected.
fn inbound_dimension(canvas: &Canvas, activity: &str, audiences: &[crate::model::SavedAudience]) -> Option<String> {
    let mut current = activity;
    // A wire from each activity at most once: a loop ends the walk.
    for _ in 0..=canvas.activities.len() {
        let t = canvas.transitions.iter().find(|t| t.to == current && t.input == "in")?;
        let from = canvas.activity(&t.from)?;
        match &from.kind {
            ActivityKind::BuildAudience { dimension, .. } => return Some(dimension.clone()),
            ActivityKind::ChangeDimension { to } => return Some(to.clone()),
            ActivityKind::Reconciliation { entity, .. } => return (t.output == "out").then(|| entity.clone()),
            ActivityKind::ReadAudience { audience } => {
                return audiences.iter().find(|x| x.name.eq_ignore_ascii_case(audience)).map(|x| x.dimension.clone());
            }
            ActivityKind::Scheduler { .. } => return None,
            _ => current = &from.id,
        }
    }
    None
}
