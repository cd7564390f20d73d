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
