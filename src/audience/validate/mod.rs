//! Checks a canvas against the data model and works out what flows on each transition.

use std::collections::{HashMap, HashSet, VecDeque};

use super::expr::Builder;
mod channel;
mod sources;
mod targeting;

use super::options::CompileOptions;
use super::ports::{inputs, outputs};
use super::reconcile::{self, FileColumn};
use super::wiring::WireProblem;
use super::{MAX_ACTIVITIES, MAX_CHANNELS, Problem};
use crate::model::{
    Activity, ActivityKind, Canvas, Channel, ColumnType, CombineMode, DataModel, DedupMethod, Limit, Op, Pick,
    Recipient, is_identifier,
};

/// A column a work table carries besides its key (added by an enrichment).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkColumn {
    pub alias: String,
    pub column_type: ColumnType,
}

/// What a transition carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    /// The targeting dimension (entity), or `None` when the transition only starts the next
    /// activity (from a Scheduler).
    pub dimension: Option<String>,
    pub columns: Vec<WorkColumn>,
}

/// The result of a successful validation.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    /// Activity indices in an order where every activity comes after its inputs.
    pub order: Vec<usize>,
    /// What each transition (by id) carries.
    pub flows: HashMap<String, Flow>,
    /// The file of each Reconciliation (by activity id), as its header was read.
    pub files: HashMap<String, CsvFile>,
}

/// A Reconciliation file's delimiter and columns.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvFile {
    pub delimiter: u8,
    pub columns: Vec<FileColumn>,
}

/// A transition arriving at the activity being checked.
struct Inbound<'a> {
    id: &'a str,
    input: &'a str,
    flow: Option<&'a Flow>,
}

struct Checker<'a> {
    canvas: &'a Canvas,
    options: &'a CompileOptions,
    /// The file columns of each Reconciliation, by activity id.
    files: HashMap<String, CsvFile>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn add(&mut self, a: Option<&Activity>, parameter: Option<&str>, message: impl std::fmt::Display) {
        self.problems.push(Problem {
            activity: a.map(|a| a.id.clone()),
            label: a.map(|a| a.label.clone()),
            parameter: parameter.map(str::to_owned),
            message: message.to_string(),
            wiring: None,
        });
    }

    /// A problem with the populations a transition brings to `a`.
    fn wiring(&mut self, a: &Activity, problem: WireProblem) {
        self.problems.push(Problem {
            activity: Some(a.id.clone()),
            label: Some(a.label.clone()),
            parameter: None,
            message: problem.to_string(),
            wiring: Some(problem),
        });
    }
}

/// Checks `canvas`; on success says what flows where, else lists every problem found.
/// `options` gives the clock (relative dates) and the saved audiences Read audience can use.
pub fn validate(canvas: &Canvas, model: &DataModel, options: &CompileOptions) -> Result<Analysis, Vec<Problem>> {
    let now = options.now;
    let mut ck = Checker { canvas, options, files: HashMap::new(), problems: Vec::new() };
    if canvas.version != crate::model::CANVAS_VERSION {
        ck.add(
            None,
            None,
            format!("this canvas was saved in format {}, which this version cannot read", canvas.version),
        );
        return Err(ck.problems);
    }
    if canvas.activities.len() > MAX_ACTIVITIES {
        ck.add(
            None,
            None,
            format!("a canvas can have at most {MAX_ACTIVITIES} activities; this one has {}", canvas.activities.len()),
        );
    }
    let channels = canvas.activities.iter().filter(|a| matches!(a.kind, ActivityKind::Channel { .. })).count();
    if channels > MAX_CHANNELS {
        ck.add(
            None,
            None,
            format!("a canvas can have at most {MAX_CHANNELS} channel activities; this one has {channels}"),
        );
    }

    // Ids.
    let mut index = HashMap::new();
    for (i, a) in canvas.activities.iter().enumerate() {
        if a.id.trim().is_empty() {
            ck.add(Some(a), None, "the activity has no id");
        } else if index.insert(a.id.as_str(), i).is_some() {
            ck.add(Some(a), None, "two activities have this id");
        }
    }

    check_transitions(&mut ck, &index);

    let order = topological_order(&mut ck, &index);
    if !ck.problems.is_empty() {
        return Err(ck.problems);
    }

    // Flows, in order.
    let builder = Builder::new(model, now, options.dialect, campaign_time_zone(canvas));
    let mut flows: HashMap<String, Flow> = HashMap::new();
    for &i in &order {
        let a = &canvas.activities[i];
        let inbound: Vec<Inbound<'_>> =
            canvas.inbound(&a.id).map(|t| Inbound { id: &t.id, input: &t.input, flow: flows.get(&t.id) }).collect();
        let Some(population) = inbound_population(&mut ck, a, &inbound) else { continue };
        let out = check_activity(&mut ck, &builder, a, population.as_ref(), &inbound);
        if let Some(out) = out {
            for t in canvas.outbound(&a.id) {
                if let Some(f) = out.iter().find(|(name, _)| *name == t.output).map(|(_, f)| f.clone()) {
                    flows.insert(t.id.clone(), f);
                }
            }
        }
    }
    if ck.problems.is_empty() { Ok(Analysis { order, flows, files: ck.files }) } else { Err(ck.problems) }
}

/// What checking an activity starts from: the SQL builder, the activity, the population
/// arriving and its inbound transitions.
struct Scope<'s, 'a> {
    b: &'s Builder<'a>,
    a: &'s Activity,
    input: Option<&'s Flow>,
    inbound: &'s [Inbound<'s>],
    /// The same flow on every output.
    same: &'s dyn Fn(&Flow) -> Vec<(String, Flow)>,
    /// The entity of the arriving population.
    dim: Option<&'a crate::model::Entity>,
}

/// Checks one activity's parameters; returns what each of its outputs carries.
fn check_activity(
    ck: &mut Checker<'_>,
    b: &Builder<'_>,
    a: &Activity,
    input: Option<&Flow>,
    inbound: &[Inbound<'_>],
) -> Option<Vec<(String, Flow)>> {
    let before = ck.problems.len();
    let same = |f: &Flow| outputs(&a.kind).into_iter().map(|o| (o, f.clone())).collect::<Vec<_>>();
    let flow_only = Flow { dimension: None, columns: Vec::new() };
    let dim = input.and_then(|f| f.dimension.as_deref()).and_then(|d| b.model.entity(d));
    let scope = Scope { b, a, input, inbound, same: &same, dim };
    let out = match &a.kind {
        ActivityKind::BuildAudience { dimension, rule, .. } => match b.entity(dimension) {
            Err(e) => {
                ck.add(Some(a), Some("dimension"), e);
                None
            }
            Ok(entity) => {
                if let Err(e) = b.rule(rule, entity, "t") {
                    ck.add(Some(a), Some("rule"), e);
                }
                Some(vec![("out".to_owned(), Flow { dimension: Some(dimension.clone()), columns: Vec::new() })])
            }
        },
        ActivityKind::Scheduler { schedule, valid_from, valid_until, timezone } => {
            let params = crate::schedule::SchedulerParams {
                schedule,
                valid_from: valid_from.as_deref(),
                valid_until: valid_until.as_deref(),
                timezone: timezone.as_deref(),
            };
            if let Err(problems) = crate::schedule::Plan::new(params) {
                for p in problems {
                    ck.add(Some(a), Some(p.parameter), p.message);
                }
            }
            Some(vec![("out".to_owned(), flow_only)])
        }
        ActivityKind::End => Some(Vec::new()),
        ActivityKind::SaveAudience { audience } => {
            if audience.trim().is_empty() {
                ck.add(Some(a), Some("audience"), "the audience needs a name");
            }
            input.map(same)
        }
        ActivityKind::Fork { outputs: names } => {
            let mut unique = HashSet::new();
            if names.is_empty() {
                ck.add(Some(a), Some("outputs"), "a fork needs at least one output");
            }
            for n in names {
                if n.trim().is_empty() || !unique.insert(n) {
                    ck.add(Some(a), Some("outputs"), "each output needs its own, non-empty name");
                }
            }
            input.map(same)
        }
        ActivityKind::Wait { .. } | ActivityKind::AndJoin { .. } => input.map(same),
        ActivityKind::Combine { .. } => targeting::combine(ck, &scope),
        ActivityKind::Enrichment { .. } => targeting::enrichment(ck, &scope),
        ActivityKind::Split { .. } => targeting::split(ck, &scope),
        ActivityKind::Deduplication { .. } => targeting::deduplication(ck, &scope),
        ActivityKind::ChangeDimension { .. } => targeting::change_dimension(ck, &scope),
        ActivityKind::ControlGroup { size, .. } => {
            check_limit(ck, a, "size", Some(size));
            input.map(same)
        }
        ActivityKind::Channel { .. } => channel::channel(ck, &scope),
        ActivityKind::Test { .. } => sources::test(ck, &scope),
        ActivityKind::ReadAudience { .. } => sources::read_audience(ck, &scope),
        ActivityKind::Reconciliation { .. } => sources::reconciliation(ck, &scope),
    };
    if ck.problems.len() > before { None } else { out }
}

/// What the channel activities of `canvas` still lack before they can send (a subject, a
/// text…). These do not stop a count: the audience can be worked on before the message is
/// written, but nothing is sent until they are fixed.
pub fn message_problems(canvas: &Canvas) -> Vec<Problem> {
    let mut problems = Vec::new();
    for a in &canvas.activities {
        let ActivityKind::Channel { channel, message, .. } = &a.kind else { continue };
        let blank = |s: &str| s.trim().is_empty();
        let mut problem = |parameter: &str, message: String| {
            problems.push(Problem {
                activity: Some(a.id.clone()),
                label: Some(a.label.clone()),
                parameter: Some(parameter.to_owned()),
                message,
                wiring: None,
            });
        };
        let needs = |what: &str| format!("the message needs {what} before it can be sent");
        match channel {
            Channel::Email => {
                if blank(&message.subject) {
                    problem("message subject", needs("a subject"));
                }
                if blank(&message.text) && blank(&message.html) {
                    problem("message text", needs("a text or HTML part"));
                }
            }
            Channel::Sms | Channel::Push | Channel::X | Channel::XDm if blank(&message.text) => {
                problem("message text", needs("a text"))
            }
            Channel::Sms if message.text.chars().count() > crate::personalize::SMS_MAX_CHARACTERS => problem(
                "message text",
                format!(
                    "the SMS has {} characters before personalization: at most {} can be sent",
                    message.text.chars().count(),
                    crate::personalize::SMS_MAX_CHARACTERS
                ),
            ),
            Channel::X if crate::personalize::x_length(&message.text) > crate::personalize::X_MAX_LENGTH => problem(
                "message text",
                format!(
                    "the post is {} characters long as X counts them, before personalization: at most {} can be posted",
                    crate::personalize::x_length(&message.text),
                    crate::personalize::X_MAX_LENGTH
                ),
            ),
            Channel::XDm if message.text.chars().count() > crate::personalize::X_DM_MAX_LENGTH => problem(
                "message text",
                format!(
                    "the direct message has {} characters before personalization: X takes at most {}",
                    message.text.chars().count(),
                    crate::personalize::X_DM_MAX_LENGTH
                ),
            ),
            Channel::DirectMail if message.columns.is_empty() => {
                problem("columns", needs("the columns of its extraction file"));
            }
            _ => {}
        }
    }
    problems
}

/// How many decimals a percentage limit may have; limits are computed exactly from them.
pub const PERCENT_DECIMALS: usize = 4;

fn check_limit(ck: &mut Checker<'_>, a: &Activity, p: &str, limit: Option<&Limit>) {
    match limit {
        Some(Limit::Percent(x)) if !(x.is_finite() && *x > 0.0 && *x <= 100.0) => {
            ck.add(Some(a), Some(p), "a percentage must be more than 0 and at most 100");
        }
        Some(Limit::Percent(x)) if ((x * 10_000.0).round() - x * 10_000.0).abs() > 1e-6 => {
            ck.add(
                Some(a),
                Some(p),
                format!("a percentage can have at most {PERCENT_DECIMALS} decimals (it is applied exactly)"),
            );
        }
        Some(Limit::Count(0)) => ck.add(Some(a), Some(p), "a limit must be at least 1"),
        _ => {}
    }
}

/// The campaign's time zone: its Scheduler's, UTC when it has none (or one that does not
/// exist, which validation reports on the Scheduler). A day typed on a timestamp column
/// means that whole day there.
pub fn campaign_time_zone(canvas: &Canvas) -> jiff::tz::TimeZone {
    canvas
        .activities
        .iter()
        .find_map(|a| match &a.kind {
            ActivityKind::Scheduler { timezone: Some(name), .. } => jiff::tz::TimeZone::get(name.trim()).ok(),
            _ => None,
        })
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The entity messages are addressed to: the one the identity namespaces point at.
pub fn profile_entity(model: &DataModel) -> Option<&str> {
    model.profile_entity()
}

/// The identity namespace holding a channel's address, for channels that need one.
pub fn address_namespace(channel: Channel) -> Option<&'static str> {
    match channel {
        Channel::Email => Some("email"),
        Channel::Sms => Some("phone"),
        _ => None,
    }
}

/// Checks the transitions: their ends and ports exist, none is there twice, an input that takes
/// one transition gets one, and every required input gets one.
fn check_transitions(ck: &mut Checker<'_>, index: &HashMap<&str, usize>) {
    let canvas = ck.canvas;
    let mut seen = HashSet::new();
    let mut transition_ids = HashSet::new();
    let mut wired: HashMap<(&str, &str), usize> = HashMap::new();
    for t in &canvas.transitions {
        if !transition_ids.insert(t.id.as_str()) {
            ck.add(None, None, format!("two transitions have the id {}", t.id));
        }
        let (Some(&fi), Some(&ti)) = (index.get(t.from.as_str()), index.get(t.to.as_str())) else {
            ck.add(None, None, format!("transition {} joins an activity that does not exist", t.id));
            continue;
        };
        let (from, to) = (&canvas.activities[fi], &canvas.activities[ti]);
        if !outputs(&from.kind).contains(&t.output) {
            ck.add(Some(from), None, format!("has no output \u{201c}{}\u{201d}", t.output));
        }
        match inputs(&to.kind).into_iter().find(|p| p.name == t.input) {
            None => ck.add(Some(to), None, format!("has no input \u{201c}{}\u{201d}", t.input)),
            Some(port) => {
                if !seen.insert((t.from.as_str(), t.output.as_str(), t.to.as_str(), t.input.as_str())) {
                    ck.wiring(to, WireProblem::ConnectedTwice { output: t.output.clone(), source: from.label.clone() });
                }
                let n = wired.entry((t.to.as_str(), t.input.as_str())).or_default();
                *n += 1;
                if !port.multi && *n == 2 {
                    ck.add(Some(to), None, format!("its input \u{201c}{}\u{201d} takes one transition only", t.input));
                }
            }
        }
    }
    for a in &canvas.activities {
        for port in inputs(&a.kind) {
            if port.required && !wired.contains_key(&(a.id.as_str(), port.name)) {
                ck.add(Some(a), None, "nothing is connected to its input");
            }
        }
    }
}

/// The activities in an order where each comes after what feeds it (Kahn); an activity on a
/// loop is a problem.
fn topological_order(ck: &mut Checker<'_>, index: &HashMap<&str, usize>) -> Vec<usize> {
    let canvas = ck.canvas;
    let n = canvas.activities.len();
    let mut indegree = vec![0usize; n];
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
    for t in &canvas.transitions {
        if let (Some(&f), Some(&to)) = (index.get(t.from.as_str()), index.get(t.to.as_str())) {
            indegree[to] += 1;
            next[f].push(to);
        }
    }
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = queue.pop_front() {
        order.push(i);
        for &j in &next[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                queue.push_back(j);
            }
        }
    }
    if order.len() < n {
        for (i, a) in canvas.activities.iter().enumerate() {
            if indegree[i] > 0 && !order.contains(&i) {
                ck.add(Some(a), None, "is part of a loop: a transition leads back to an earlier activity");
            }
        }
    }
    order
}

/// The population arriving at `a` through `inbound`, or `None` (with a problem) when what
/// arrives does not fit its inputs.
fn inbound_population(ck: &mut Checker<'_>, a: &Activity, inbound: &[Inbound<'_>]) -> Option<Option<Flow>> {
    let ports = inputs(&a.kind);
    let mut population: Option<Flow> = None;
    let mut ok = true;
    for Inbound { input, flow, .. } in inbound {
        let carries = flow.is_some_and(|f| f.dimension.is_some());
        let wants = ports.iter().any(|p| p.name == *input && p.population);
        let optional = ports.iter().any(|p| p.name == *input && !p.population && p.multi);
        if wants && !carries {
            ck.wiring(a, WireProblem::NeedsPopulation);
            ok = false;
        } else if !wants && carries && !optional {
            ck.wiring(a, WireProblem::OnlyStartSignal);
            ok = false;
        }
        if let Some(f) = flow.filter(|f| f.dimension.is_some()) {
            match &population {
                None => population = Some((*f).clone()),
                // End carries nothing on: it takes any population.
                Some(p) if p.dimension != f.dimension && !matches!(a.kind, ActivityKind::End) => {
                    ck.wiring(
                        a,
                        WireProblem::MixedDimensions {
                            first: p.dimension.clone().unwrap_or_else(|| "?".into()),
                            second: f.dimension.clone().unwrap_or_else(|| "?".into()),
                        },
                    );
                    ok = false;
                }
                Some(_) => {}
            }
        }
    }
    ok.then_some(population)
}
