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
