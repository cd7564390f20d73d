//! Whether a wire may be drawn: the engine's answer, typed ([`WireRefusal`]), with its
//! `Display` in a marketer's words. The canvas editor asks when a wire is dropped.

use std::collections::HashSet;
use std::fmt;

use super::options::CompileOptions;
use super::ports::inputs;
use super::validate::validate;
use crate::model::{Canvas, DataModel, Transition};

/// A problem with the populations a transition brings: the engine marks these so that a wire
/// can be refused for them (and for nothing else) when it is drawn.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum WireProblem {
    /// Two inbound populations of different entities.
    MixedDimensions { first: String, second: String },
    /// The input wants a population; the transition only starts it (a Scheduler's signal).
    NeedsPopulation,
    /// The input takes a Scheduler's start signal only; a population arrives.
    OnlyStartSignal,
    /// The same output is connected to the same input twice.
    ConnectedTwice { output: String, source: String },
}

impl fmt::Display for WireProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MixedDimensions { first, second } => write!(
                f,
                "combines populations of different kinds ({first} and {second}): add a Change dimension first"
            ),
            Self::NeedsPopulation => write!(
                f,
                "needs a population, but its inbound transition only starts it (connect it after an audience)"
            ),
            Self::OnlyStartSignal => {
                write!(f, "starts a new audience: its input only takes a Scheduler's start signal")
            }
            Self::ConnectedTwice { output, source } => {
                write!(f, "the output \u{201c}{output}\u{201d} of {source} is connected to it twice")
            }
        }
    }
}

/// Why a wire cannot be drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireRefusal {
    /// From an activity to itself.
    ToItself { activity: String },
    /// The input does not exist.
    NoSuchInput { target: String, input: String },
    /// The input takes one transition and has one.
    InputTaken { target: String },
    /// The target already leads to the source.
    Loop { source: String, target: String },
    /// What the engine finds about the target with the wire.
    Populations { target: String, problem: WireProblem },
}

impl fmt::Display for WireRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ToItself { activity } => write!(f, "\u{201c}{activity}\u{201d} cannot be connected to itself."),
            Self::NoSuchInput { target, input } => {
                write!(f, "\u{201c}{target}\u{201d} has no input \u{201c}{input}\u{201d}.")
            }
            Self::InputTaken { target } => write!(
                f,
                "\u{201c}{target}\u{201d} already has an inbound transition; remove it first, or combine the populations with a Combine activity."
            ),
            Self::Loop { source, target } => {
                write!(f, "this would make a loop: \u{201c}{target}\u{201d} already leads to \u{201c}{source}\u{201d}.")
            }
            Self::Populations { target, problem } => write!(f, "\u{201c}{target}\u{201d} {problem}"),
        }
    }
}

/// Whether `wire` may be added to `canvas`: the ports, loops, and what the engine says about
/// the populations its target would get. Problems the canvas has already are not held against
/// the wire.
pub fn check_wire(
    canvas: &Canvas,
    wire: &Transition,
    model: &DataModel,
    options: &CompileOptions,
) -> Result<(), WireRefusal> {
    let label = |id: &str| canvas.activity(id).map_or_else(|| id.to_owned(), |a| a.label.clone());
    if wire.from == wire.to {
        return Err(WireRefusal::ToItself { activity: label(&wire.from) });
    }
    let Some(target) = canvas.activity(&wire.to) else {
        return Err(WireRefusal::NoSuchInput { target: label(&wire.to), input: wire.input.clone() });
    };
    let ports = inputs(&target.kind);
    let Some(port) = ports.iter().find(|p| p.name == wire.input) else {
        return Err(WireRefusal::NoSuchInput { target: target.label.clone(), input: wire.input.clone() });
    };
    let into: Vec<&Transition> =
        canvas.transitions.iter().filter(|t| t.to == wire.to && t.input == wire.input).collect();
    if into.iter().any(|t| t.from == wire.from && t.output == wire.output) {
        return Ok(());
    }
    if !port.multi && !into.is_empty() {
        return Err(WireRefusal::InputTaken { target: target.label.clone() });
    }
    // A loop: the target already leads to the source.
    let mut stack = vec![wire.to.as_str()];
    let mut seen = HashSet::new();
    while let Some(n) = stack.pop() {
        if n == wire.from {
            return Err(WireRefusal::Loop { source: label(&wire.from), target: target.label.clone() });
        }
        if seen.insert(n) {
            stack.extend(canvas.transitions.iter().filter(|t| t.from == n).map(|t| t.to.as_str()));
        }
    }
    // What the engine says about the target with and without the new wire.
    let wiring_of = |c: &Canvas| -> Vec<WireProblem> {
        validate(c, model, options)
            .err()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.activity.as_deref() == Some(wire.to.as_str()))
            .filter_map(|p| p.wiring)
            .collect()
    };
    let before = wiring_of(canvas);
    let mut with = canvas.clone();
    with.transitions.push(wire.clone());
    match wiring_of(&with).into_iter().find(|p| !before.contains(p)) {
        Some(problem) => Err(WireRefusal::Populations { target: target.label.clone(), problem }),
        None => Ok(()),
    }
}
