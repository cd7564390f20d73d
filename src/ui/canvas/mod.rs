//! The canvas editor of an orchestrated campaign: palette, node canvas (egui-snarl) with the
//! exact count of every transition kept up to date in the background, properties of the
//! selected activity, problems list, undo / redo and autosave.

mod counting;
mod editing;
pub(super) mod fields;
mod forms;
mod graph;
mod history;
mod inspector;
mod life;
pub mod palette;
mod problems;
mod properties;
pub(super) mod rule;
mod run_strip;
mod toolbar;
mod viewer;

use std::collections::HashMap;
use std::time::Duration;

use egui::emath::TSTransform;
use egui::{Key, KeyboardShortcut, Modifiers, RichText};
use egui_snarl::ui::{SnarlStyle, SnarlWidget, get_selected_nodes};
use egui_snarl::{InPinId, NodeId, OutPinId, Snarl};

pub(crate) use forms::scheduler_form;
pub use graph::Graph;
use inspector::Inspector;
pub use problems::check_connection;
use problems::inbound_dimension;
use properties::PreviewView;
pub use run_strip::RunOutcome;
use run_strip::RunView;
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
    /// The run strip's Report was clicked (the Campaigns screen opens the report).
    report_asked: bool,
    preview: Option<PreviewView>,
    /// The addresses typed for a proof, and how the last proof went.
    proof_to: String,
    proof: Option<Result<u64, crate::console::UserError>>,
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
            report_asked: false,
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

    fn snarl_id(&self) -> egui::Id {
        egui::Id::new(("campaign_canvas", self.campaign.id))
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
        let problems = problems_by_activity(&self.problems);
        // The engine's checks run only when a wire is dropped, not every frame.
        let (model, audiences) = (&self.context.model, &self.context.audiences);
        let check = |snarl: &Snarl<Activity>, from: OutPinId, to: InPinId| {
            let options = CompileOptions {
                audiences: audiences.clone(),
                ..CompileOptions::new(Dialect::Sqlite, crate::clock::wall(), 0)
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
            self.handle_request(r, dropped);
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

    /// What the viewer asked for while drawing: add (on a wire when dropped there), delete,
    /// duplicate, select, or inspect a transition's rows.
    fn handle_request(&mut self, r: Request, dropped: bool) {
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
                // An output wired to nothing: its rows are those of its open transition.
                let open = crate::model::Transition {
                    id: crate::audience::open_transition(&activity, &output),
                    from: activity.clone(),
                    output: output.clone(),
                    to: String::new(),
                    input: String::new(),
                };
                if let Some(t) = t.or_else(|| self.committed.activity(&activity).map(|_| &open)) {
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
                    let to = if t.to.is_empty() { String::new() } else { format!(" \u{2013} {to}") };
                    self.inspector = Some(Inspector {
                        transition: t.id.clone(),
                        title: format!("{from}{via}{to}"),
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
}

/// Each activity's problems, as its node shows them.
fn problems_by_activity(problems: &[Problem]) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for p in problems {
        if let Some(a) = &p.activity {
            let text = match &p.parameter {
                Some(param) => format!("{param}: {}", p.message),
                None => p.message.clone(),
            };
            out.entry(a.clone()).or_default().push(text);
        }
    }
    out
}
