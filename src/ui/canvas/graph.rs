//! The canvas as the node editor holds it: a [`Snarl`] of activities whose wires are the
//! transitions, and the conversion to and from the stored [`Canvas`].

use std::collections::HashMap;

use egui_snarl::{InPinId, NodeId, OutPinId, Snarl};

use crate::audience::{inputs, outputs};
use crate::model::{Activity, Canvas, Transition};

/// A wire by what it joins: (from activity, output, to activity, input).
pub type WireKey = (String, String, String, String);

/// The editor's document.
pub struct Graph {
    pub snarl: Snarl<Activity>,
    /// The transition id of each wire (ids are kept so that counts and reports stay attached).
    pub wire_ids: HashMap<WireKey, String>,
    /// Transitions naming a port the activity does not have (kept so nothing is lost; the
    /// validation lists them).
    pub dangling: Vec<Transition>,
}

impl Graph {
    pub fn from_canvas(canvas: &Canvas) -> Self {
        let mut snarl = Snarl::new();
        let mut nodes: HashMap<String, NodeId> = HashMap::new();
        for a in &canvas.activities {
            let id = snarl.insert_node(egui::pos2(a.position[0], a.position[1]), a.clone());
            nodes.insert(a.id.clone(), id);
        }
        let mut wire_ids = HashMap::new();
        let mut dangling = Vec::new();
        for t in &canvas.transitions {
            let pins = (|| {
                let from = *nodes.get(&t.from)?;
                let to = *nodes.get(&t.to)?;
                let output = outputs(&snarl[from].kind).iter().position(|o| *o == t.output)?;
                let input = inputs(&snarl[to].kind).iter().position(|i| i.name == t.input)?;
                Some((OutPinId { node: from, output }, InPinId { node: to, input }))
            })();
            match pins {
                Some((out, inp)) => {
                    snarl.connect(out, inp);
                    wire_ids.insert(key(t), t.id.clone());
                }
                None => dangling.push(t.clone()),
            }
        }
        Self { snarl, wire_ids, dangling }
    }

    /// The canvas as it is now: activities in node order with their positions, transitions
    /// with their kept ids (a new wire gets a fresh one).
    pub fn to_canvas(&mut self) -> Canvas {
        let activities: Vec<Activity> = self
            .snarl
            .nodes_info()
            .map(|n| {
                let mut a = n.value.clone();
                a.position = [n.pos.x.round(), n.pos.y.round()];
                a
            })
            .collect();
        let mut transitions: Vec<Transition> = Vec::new();
        let mut wires: Vec<(OutPinId, InPinId)> = self.snarl.wires().collect();
        wires.sort_by_key(|(o, i)| (o.node, o.output, i.node, i.input));
        for (out, inp) in wires {
            let (from, to) = (&self.snarl[out.node], &self.snarl[inp.node]);
            let (Some(output), Some(input)) =
                (outputs(&from.kind).get(out.output).cloned(), inputs(&to.kind).get(inp.input).map(|p| p.name))
            else {
                continue;
            };
            let k: WireKey = (from.id.clone(), output.clone(), to.id.clone(), input.to_owned());
            let id = match self.wire_ids.get(&k) {
                Some(id) => id.clone(),
                None => {
                    let id = fresh_id(
                        "t",
                        self.wire_ids.values().map(String::as_str).chain(self.dangling.iter().map(|t| t.id.as_str())),
                    );
                    self.wire_ids.insert(k, id.clone());
                    id
                }
            };
            transitions.push(Transition { id, from: from.id.clone(), output, to: to.id.clone(), input: input.into() });
        }
        // Transitions to ports the editor cannot show are kept as they were.
        let ids: Vec<&String> = activities.iter().map(|a| &a.id).collect();
        transitions.extend(self.dangling.iter().filter(|t| ids.contains(&&t.from) || ids.contains(&&t.to)).cloned());
        Canvas { version: crate::model::CANVAS_VERSION, activities, transitions }
    }

    /// The node of the activity with this id.
    pub fn node_of(&self, activity: &str) -> Option<NodeId> {
        self.snarl.node_ids().find(|(_, a)| a.id == activity).map(|(id, _)| id)
    }

    /// A new activity id, unused on the canvas, from a kind's label ("split_2").
    pub fn new_activity_id(&self, label: &str) -> String {
        let base: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect::<String>()
            .trim_matches('_')
            .to_owned();
        let base = if base.is_empty() { "activity".to_owned() } else { base };
        fresh_id(&base, self.snarl.nodes().map(|a| a.id.as_str()))
    }
}

fn key(t: &Transition) -> WireKey {
    (t.from.clone(), t.output.clone(), t.to.clone(), t.input.clone())
}

/// `base_1`, `base_2`, … : the first not in `taken`.
fn fresh_id<'a>(base: &str, taken: impl Iterator<Item = &'a str>) -> String {
    let taken: std::collections::HashSet<&str> = taken.collect();
    (1..).map(|n| format!("{base}_{n}")).find(|id| !taken.contains(id.as_str())).unwrap_or_else(|| base.to_owned())
}
