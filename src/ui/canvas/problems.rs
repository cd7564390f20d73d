//! The canvas's problems, and whether a wire may be drawn.

use super::*;

impl CanvasEditor {
    pub(super) fn problems_ui(&mut self, ui: &mut egui::Ui) {
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
}

/// Refuses a connection the engine would reject (see [`audience::check_wire`]), with the
/// reason in a marketer's words. Run when a wire is dropped, never every frame.
pub fn check_connection(
    snarl: &Snarl<Activity>,
    from: OutPinId,
    to: InPinId,
    model: &DataModel,
    options: &CompileOptions,
) -> Result<(), audience::WireRefusal> {
    let (source, target) = (&snarl[from.node], &snarl[to.node]);
    let output = outputs(&source.kind).get(from.output).cloned().unwrap_or_default();
    let input = inputs(&target.kind).get(to.input).map(|p| p.name.to_owned()).unwrap_or_default();
    // The canvas as it is, without the new wire.
    let mut graph = Graph { snarl: Snarl::new(), wire_ids: HashMap::new(), dangling: Vec::new() };
    let mut nodes = HashMap::new();
    for (id, a) in snarl.node_ids() {
        nodes.insert(id, graph.snarl.insert_node(egui::Pos2::ZERO, a.clone()));
    }
    for (o, i) in snarl.wires() {
        graph.snarl.connect(OutPinId { node: nodes[&o.node], ..o }, InPinId { node: nodes[&i.node], ..i });
    }
    let wire =
        crate::model::Transition { id: String::new(), from: source.id.clone(), output, to: target.id.clone(), input };
    let canvas = graph.to_canvas();
    // The files of Reconciliation activities are read here, when a wire is dropped.
    let options = options.clone().with_files(&canvas);
    audience::check_wire(&canvas, &wire, model, &options)
}

/// The entity arriving on `activity`'s input, found by walking back to where the population
/// comes from (a Build audience, a Change dimension, …); `None` when nothing is connected.
pub(super) fn inbound_dimension(
    canvas: &Canvas,
    activity: &str,
    audiences: &[crate::model::SavedAudience],
) -> Option<String> {
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
