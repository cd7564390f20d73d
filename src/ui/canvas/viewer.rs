//! How egui-snarl draws the canvas: activities as nodes with their counts on the outputs,
//! problems as a red outline, and connections checked before they are made.

use std::collections::HashMap;
use std::time::Duration;

use egui::emath::TSTransform;
use egui::{Color32, RichText, Ui};
use egui_snarl::ui::{PinInfo, SnarlPin, SnarlViewer};
use egui_snarl::{InPin, InPinId, NodeId, OutPin, OutPinId, Snarl};

use super::palette;
use crate::audience::{inputs, outputs};
use crate::model::{Activity, ActivityKind};
use crate::ui::theme;

/// What an action on the canvas asks the editor to do after the frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Add an activity of this palette entry at this graph position.
    Add {
        label: &'static str,
        pos: egui::Pos2,
    },
    Delete(NodeId),
    Duplicate(NodeId),
    Select(NodeId),
    /// Show the rows of this output's transition.
    Inspect {
        activity: String,
        output: String,
    },
}

/// Checks a connection (from, to) before it is made: `Err` says why not.
pub type ConnectionCheck<'a> =
    dyn Fn(&Snarl<Activity>, OutPinId, InPinId) -> Result<(), crate::audience::WireRefusal> + 'a;

pub struct Viewer<'a> {
    /// (activity, output) → its count in the last count.
    pub counts: &'a HashMap<(String, String), u64>,
    /// A count is running: counts shown are the previous ones.
    pub counting: bool,
    /// Activity id → what is wrong with it.
    pub problems: &'a HashMap<String, Vec<String>>,
    pub durations: &'a HashMap<String, Duration>,
    /// Channel activity id → whom it reaches at the last count.
    pub sends: &'a HashMap<String, crate::audience::SendCount>,
    /// Why the last connection the user tried was refused.
    pub refusal: &'a mut Option<String>,
    /// Checks a connection before it is made.
    pub check: &'a ConnectionCheck<'a>,
    /// Graph → screen, as drawn this frame.
    pub transform: &'a mut TSTransform,
    /// A new view to move to (fit all, look at a node).
    pub move_view: Option<TSTransform>,
    /// Screen rectangles of the nodes (graph space), for tests and centring.
    pub node_rects: &'a mut HashMap<NodeId, egui::Rect>,
    /// Graph-space rectangles of the pins as drawn: (node, is output, index).
    pub pins: &'a PinRects,
    pub requests: &'a mut Vec<Request>,
}

/// Where each pin was drawn (graph space), by (node, is output, index).
pub type PinRects = std::sync::Arc<std::sync::Mutex<HashMap<(NodeId, bool, usize), egui::Rect>>>;

/// A pin that notes where snarl drew it.
struct Recorded {
    info: PinInfo,
    key: (NodeId, bool, usize),
    sink: PinRects,
}

impl SnarlPin for Recorded {
    fn draw(
        self,
        snarl_style: &egui_snarl::ui::SnarlStyle,
        style: &egui::Style,
        rect: egui::Rect,
        painter: &egui::Painter,
    ) -> egui_snarl::ui::PinWireInfo {
        self.sink.lock().unwrap_or_else(|p| p.into_inner()).insert(self.key, rect);
        self.info.draw(snarl_style, style, rect, painter)
    }
}

fn pin_colour(population: bool) -> Color32 {
    if population { Color32::from_rgb(0x4a, 0x90, 0xd9) } else { Color32::from_gray(140) }
}

impl SnarlViewer<Activity> for Viewer<'_> {
    fn title(&mut self, node: &Activity) -> String {
        node.label.clone()
    }

    fn show_header(&mut self, node: NodeId, _: &[InPin], _: &[OutPin], ui: &mut Ui, snarl: &mut Snarl<Activity>) {
        let a = &snarl[node];
        let entry = palette::entry_of(&a.kind);
        let icon = entry.map_or("▪", |e| e.icon);
        let r = ui.label(RichText::new(format!("{icon} {}", a.label)).strong()).on_hover_text(format!(
            "{} ({}): {}",
            a.kind.label(),
            a.id,
            entry.map_or("", |e| e.description)
        ));
        if r.clicked() {
            self.requests.push(Request::Select(node));
        }
    }

    fn inputs(&mut self, node: &Activity) -> usize {
        inputs(&node.kind).len()
    }

    fn show_input(&mut self, pin: &InPin, ui: &mut Ui, snarl: &mut Snarl<Activity>) -> impl SnarlPin + 'static {
        let ports = inputs(&snarl[pin.id.node].kind);
        let port = ports.get(pin.id.input);
        if let Some(p) = port
            && p.name != "in"
        {
            ui.label(RichText::new(p.name).small().color(theme::muted(ui)));
        }
        Recorded {
            info: PinInfo::circle().with_fill(pin_colour(port.is_some_and(|p| p.population))),
            key: (pin.id.node, false, pin.id.input),
            sink: self.pins.clone(),
        }
    }

    fn outputs(&mut self, node: &Activity) -> usize {
        outputs(&node.kind).len()
    }

    fn show_output(&mut self, pin: &OutPin, ui: &mut Ui, snarl: &mut Snarl<Activity>) -> impl SnarlPin + 'static {
        let a = &snarl[pin.id.node];
        let name = outputs(&a.kind).get(pin.id.output).cloned().unwrap_or_default();
        let count = self.counts.get(&(a.id.clone(), name.clone())).copied();
        let wired = !pin.remotes.is_empty();
        let took = self.durations.get(&a.id).map(|d| format!(" Computed in {:.2} s.", d.as_secs_f64()));
        ui.horizontal(|ui| {
            if wired && self.counting {
                ui.spinner();
            }
            // The output's name, then its count: apart, so neither runs into the other.
            let label = (name != "out").then(|| output_label(&a.kind, pin.id.output, &name));
            if let Some(label) = &label {
                ui.label(RichText::new(label).small().color(theme::muted(ui)));
            }
            if let Some(n) = count {
                let mut text = RichText::new(theme::count(n)).strong();
                if n == 0 {
                    text = text.color(theme::warning(ui));
                }
                let r = ui.link(text).on_hover_text(format!(
                    "{} Click to show its rows.{}",
                    if n == 0 { "Nobody reaches this transition." } else { "Exact count of this transition." },
                    took.as_deref().unwrap_or("")
                ));
                // Read out (and found by tests) with the output it counts.
                let spoken = label.as_ref().map_or_else(|| theme::count(n), |l| format!("{l}: {}", theme::count(n)));
                r.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Link, true, &spoken));
                if r.clicked() {
                    self.requests.push(Request::Inspect { activity: a.id.clone(), output: name.clone() });
                }
            }
        });
        Recorded {
            info: PinInfo::circle().with_fill(pin_colour(true)),
            key: (pin.id.node, true, pin.id.output),
            sink: self.pins.clone(),
        }
    }

    fn has_footer(&mut self, node: &Activity) -> bool {
        self.sends.contains_key(&node.id) || self.problems.contains_key(&node.id)
    }

    fn show_footer(&mut self, node: NodeId, _: &[InPin], _: &[OutPin], ui: &mut Ui, snarl: &mut Snarl<Activity>) {
        let a = &snarl[node];
        if let Some(p) = self.problems.get(&a.id) {
            ui.label(RichText::new(format!("{} {}", theme::ICON_ERROR, p.len())).color(theme::error(ui)))
                .on_hover_text(p.join("\n"));
        }
        // A channel activity: whom it reaches, and whom it cannot, by reason (an X post: one post).
        if matches!(a.kind, ActivityKind::Channel { channel: crate::model::Channel::X, .. })
            && self.sends.get(&a.id).is_some_and(|s| s.reachable.is_some())
        {
            ui.label(RichText::new("one post on the account").small().color(theme::muted(ui))).on_hover_text(
                "A post goes out once per run, on the X service's account, whoever the population; the population goes on.",
            );
        } else if let Some(send) = self.sends.get(&a.id)
            && let Some(reachable) = send.reachable
        {
            let excluded = send.excluded_total();
            let text = format!("{} reachable \u{00b7} {} excluded", theme::count(reachable), theme::count(excluded));
            let reasons: Vec<String> = send
                .excluded
                .iter()
                .map(|(code, n)| format!("{}: {}", crate::audience::exclusion_label(code), theme::count(*n)))
                .collect();
            let why = if reasons.is_empty() {
                "Every recipient can be reached (the frequency cap, if set, applies when sending).".to_owned()
            } else {
                format!(
                    "Excluded when sending:\n{}\n(the frequency cap, if set, applies when sending)",
                    reasons.join("\n")
                )
            };
            ui.label(RichText::new(text).small().color(theme::muted(ui))).on_hover_text(why);
        }
    }

    fn node_frame(
        &mut self,
        default: egui::Frame,
        node: NodeId,
        _: &[InPin],
        _: &[OutPin],
        snarl: &Snarl<Activity>,
    ) -> egui::Frame {
        if self.problems.contains_key(&snarl[node].id) {
            default.stroke(egui::Stroke::new(2.0, Color32::from_rgb(0xd9, 0x3b, 0x3b)))
        } else {
            default
        }
    }

    fn has_on_hover_popup(&mut self, node: &Activity) -> bool {
        self.problems.contains_key(&node.id)
    }

    fn show_on_hover_popup(
        &mut self,
        node: NodeId,
        _: &[InPin],
        _: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<Activity>,
    ) {
        if let Some(p) = self.problems.get(&snarl[node].id) {
            for m in p {
                ui.label(RichText::new(m).color(theme::error(ui)));
            }
        }
    }

    fn connect(&mut self, from: &OutPin, to: &InPin, snarl: &mut Snarl<Activity>) {
        match (self.check)(snarl, from.id, to.id) {
            Ok(()) => {
                snarl.connect(from.id, to.id);
                *self.refusal = None;
            }
            Err(why) => *self.refusal = Some(why.to_string()),
        }
    }

    fn has_graph_menu(&mut self, _: egui::Pos2, _: &mut Snarl<Activity>) -> bool {
        true
    }

    fn show_graph_menu(&mut self, pos: egui::Pos2, ui: &mut Ui, _: &mut Snarl<Activity>) {
        ui.label(RichText::new("Add an activity").strong());
        for group in palette::Group::ALL {
            ui.menu_button(group.label(), |ui| {
                for e in palette::ENTRIES.iter().filter(|e| e.group == group) {
                    if ui.button(format!("{} {}", e.icon, e.label)).on_hover_text(e.description).clicked() {
                        self.requests.push(Request::Add { label: e.label, pos });
                        ui.close();
                    }
                }
            });
        }
    }

    fn has_node_menu(&mut self, _: &Activity) -> bool {
        true
    }

    fn show_node_menu(&mut self, node: NodeId, _: &[InPin], _: &[OutPin], ui: &mut Ui, _: &mut Snarl<Activity>) {
        if ui.button("Duplicate").clicked() {
            self.requests.push(Request::Duplicate(node));
            ui.close();
        }
        if ui.button("Delete").clicked() {
            self.requests.push(Request::Delete(node));
            ui.close();
        }
    }

    fn final_node_rect(&mut self, node: NodeId, rect: egui::Rect, _: &mut Ui, _: &mut Snarl<Activity>) {
        self.node_rects.insert(node, rect);
    }

    fn current_transform(&mut self, to_global: &mut TSTransform, _: &mut Snarl<Activity>) {
        if let Some(t) = self.move_view.take() {
            *to_global = t;
        }
        *self.transform = *to_global;
    }
}

/// What an output is called on the node: the subset's or the test's own name, or what the
/// output carries ("rest", "duplicates", …), shortened to keep nodes narrow.
pub fn output_label(kind: &ActivityKind, index: usize, name: &str) -> String {
    const MAX: usize = 18;
    let label = match (kind, name) {
        (ActivityKind::Split { subsets, .. }, _) if index < subsets.len() => subsets[index].label.clone(),
        (ActivityKind::Test { conditions }, _) if index < conditions.len() => conditions[index].label.clone(),
        (_, "complement") => "rest".to_owned(),
        (_, "removed") => "duplicates".to_owned(),
        (_, "unreconciled") => "not matched".to_owned(),
        (_, "control") => "control group".to_owned(),
        (_, "default") => "otherwise".to_owned(),
        _ => name.to_owned(),
    };
    let label = label.trim();
    if label.is_empty() {
        return name.to_owned();
    }
    if label.chars().count() > MAX {
        let short: String = label.chars().take(MAX - 1).collect();
        format!("{}…", short.trim_end())
    } else {
        label.to_owned()
    }
}
