//! Changes to the graph: adding, inserting on a wire, removing, pasting, changing a kind.

use super::*;

impl CanvasEditor {
    pub(super) fn add(&mut self, label: &str, pos: egui::Pos2) -> Option<NodeId> {
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
    pub(super) fn wire_near(&self, pos: egui::Pos2) -> Option<(OutPinId, InPinId)> {
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
    pub(super) fn insert_on_wire(&mut self, node: NodeId, (out, inp): (OutPinId, InPinId)) {
        let options = CompileOptions {
            audiences: self.context.audiences.clone(),
            ..CompileOptions::new(Dialect::Sqlite, crate::clock::wall(), 0)
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

    pub(super) fn remove(&mut self, node: NodeId) {
        if self.graph.snarl.get_node(node).is_some() {
            self.graph.snarl.remove_node(node);
        }
    }

    /// Adds copies of `activities` (new ids, shifted 40 px; without their wires).
    pub(super) fn paste(&mut self, activities: &[Activity]) {
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
    pub(super) fn set_kind(&mut self, node: NodeId, kind: ActivityKind, removed: Option<usize>) {
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
}
