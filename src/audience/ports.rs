//! What each activity kind takes in and gives out.

use crate::model::{ActivityKind, CombineMode};

/// An input of an activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputPort {
    pub name: &'static str,
    /// Several transitions may arrive here (Combine, And-join).
    pub multi: bool,
    pub required: bool,
    /// Carries a population (a work table); otherwise it only starts the activity.
    pub population: bool,
}

const IN: InputPort = InputPort { name: "in", multi: false, required: true, population: true };
const MULTI: InputPort = InputPort { name: "in", multi: true, required: true, population: true };
const START: InputPort = InputPort { name: "start", multi: false, required: false, population: false };

/// The inputs of an activity kind.
pub fn inputs(kind: &ActivityKind) -> Vec<InputPort> {
    use ActivityKind as K;
    match kind {
        K::BuildAudience { .. } | K::ReadAudience { .. } | K::Reconciliation { .. } => vec![START],
        K::Scheduler { .. } => vec![],
        K::Combine { .. } | K::AndJoin { .. } => vec![MULTI],
        K::SaveAudience { .. }
        | K::Enrichment { .. }
        | K::Split { .. }
        | K::Deduplication { .. }
        | K::ChangeDimension { .. }
        | K::ControlGroup { .. }
        | K::Test { .. }
        | K::Fork { .. }
        | K::Wait { .. }
        | K::Channel { .. } => vec![IN],
        K::End => vec![InputPort { name: "in", multi: true, required: true, population: false }],
    }
}

/// The outputs of an activity kind, by name.
pub fn outputs(kind: &ActivityKind) -> Vec<String> {
    use ActivityKind as K;
    let one = || vec!["out".to_owned()];
    match kind {
        K::BuildAudience { .. }
        | K::ReadAudience { .. }
        | K::SaveAudience { .. }
        | K::Enrichment { .. }
        | K::ChangeDimension { .. }
        | K::AndJoin { .. }
        | K::Wait { .. }
        | K::Scheduler { .. }
        | K::Channel { .. } => one(),
        K::Combine { mode, complement, .. } => {
            let mut o = one();
            if *complement && *mode != CombineMode::Union {
                o.push("complement".into());
            }
            o
        }
        K::Split { subsets, complement, .. } => {
            let mut o: Vec<String> = (1..=subsets.len()).map(|i| format!("subset_{i}")).collect();
            if *complement {
                o.push("complement".into());
            }
            o
        }
        K::Deduplication { output_removed, .. } => {
            let mut o = one();
            if *output_removed {
                o.push("removed".into());
            }
            o
        }
        K::Reconciliation { keep_unreconciled, .. } => {
            let mut o = one();
            if *keep_unreconciled {
                o.push("unreconciled".into());
            }
            o
        }
        K::ControlGroup { .. } => vec!["out".into(), "control".into()],
        K::Test { conditions } => {
            let mut o: Vec<String> = (1..=conditions.len()).map(|i| format!("test_{i}")).collect();
            o.push("default".into());
            o
        }
        K::Fork { outputs } => outputs.clone(),
        K::End => vec![],
    }
}

/// The transition a count gives an unwired output of `activity` (see [`with_open_outputs`]).
pub fn open_transition(activity: &str, output: &str) -> String {
    format!("__open:{activity}:{output}")
}

/// `canvas` with every unwired output of a targeting activity wired to a hidden End of its
/// own, so that a count says how many it holds: a Build audience alone shows its count, as a
/// marketer expects of exact counts on every step. The transitions are named by
/// [`open_transition`]; an End each, so that an activity with a problem (and what follows it,
/// left out of a count) takes no other output's count with it.
pub fn with_open_outputs(canvas: &crate::model::Canvas) -> crate::model::Canvas {
    use ActivityKind as K;
    let mut out = canvas.clone();
    for a in &canvas.activities {
        let populated = matches!(
            a.kind,
            K::BuildAudience { .. }
                | K::ReadAudience { .. }
                | K::SaveAudience { .. }
                | K::Combine { .. }
                | K::Enrichment { .. }
                | K::Split { .. }
                | K::Deduplication { .. }
                | K::ChangeDimension { .. }
                | K::Reconciliation { .. }
                | K::ControlGroup { .. }
        );
        if !populated {
            continue;
        }
        for output in outputs(&a.kind) {
            if canvas.outbound(&a.id).any(|t| t.output == output) {
                continue;
            }
            let id = open_transition(&a.id, &output);
            out.activities.push(crate::model::Activity {
                id: format!("{id}:end"),
                label: "End".into(),
                kind: K::End,
                position: a.position,
            });
            out.transitions.push(crate::model::Transition {
                to: format!("{id}:end"),
                id,
                from: a.id.clone(),
                output,
                input: "in".into(),
            });
        }
    }
    out
}
