//! Checks a canvas against the data model and works out what flows on each transition.

use std::collections::{HashMap, HashSet, VecDeque};

use super::expr::Builder;
use super::options::CompileOptions;
use super::ports::{inputs, outputs};
use super::reconcile::{self, FileColumn};
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
    fn add(&mut self, a: Option<&Activity>, parameter: Option<&str>, message: impl Into<String>) {
        self.problems.push(Problem {
            activity: a.map(|a| a.id.clone()),
            label: a.map(|a| a.label.clone()),
            parameter: parameter.map(str::to_owned),
            message: message.into(),
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

    // Transitions: ends exist, ports exist, no duplicates, single inputs get one wire.
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
                    ck.add(
                        Some(to),
                        None,
                        format!("the output \u{201c}{}\u{201d} of {} is connected to it twice", t.output, from.label),
                    );
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

    // Order (Kahn); what is left is on a loop.
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
        let ports = inputs(&a.kind);
        let mut population: Option<Flow> = None;
        let mut ok = true;
        for Inbound { input, flow, .. } in &inbound {
            let carries = flow.is_some_and(|f| f.dimension.is_some());
            let wants = ports.iter().any(|p| p.name == *input && p.population);
            let optional = ports.iter().any(|p| p.name == *input && !p.population && p.multi);
            if wants && !carries {
                ck.add(
                    Some(a),
                    None,
                    "needs a population, but its inbound transition only starts it (connect it after an audience)",
                );
                ok = false;
            } else if !wants && carries && !optional {
                ck.add(Some(a), None, "starts a new audience: its input only takes a Scheduler's start signal");
                ok = false;
            }
            if let Some(f) = flow.filter(|f| f.dimension.is_some()) {
                match &population {
                    None => population = Some((*f).clone()),
                    // End carries nothing on: it takes any population.
                    Some(p) if p.dimension != f.dimension && !matches!(a.kind, ActivityKind::End) => {
                        ck.add(
                            Some(a),
                            None,
                            format!(
                                "combines populations of different kinds ({} and {}): add a Change dimension first",
                                p.dimension.as_deref().unwrap_or("?"),
                                f.dimension.as_deref().unwrap_or("?")
                            ),
                        );
                        ok = false;
                    }
                    Some(_) => {}
                }
            }
        }
        if !ok {
            continue;
        }
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
        ActivityKind::Combine { mode, primary, complement } => {
            let count = inbound.len();
            if *mode != CombineMode::Union && count < 2 {
                ck.add(Some(a), None, "needs at least two inbound populations");
            }
            if *complement && *mode == CombineMode::Union {
                ck.add(Some(a), Some("complement"), "a union has no complement");
            }
            if let Some(p) = primary
                && !ck.canvas.inbound(&a.id).any(|t| &t.id == p)
            {
                ck.add(Some(a), Some("primary"), format!("the primary set {p} is not one of its inbound transitions"));
            }
            input.map(|f| {
                let keys_only = Flow { dimension: f.dimension.clone(), columns: Vec::new() };
                let primary_flow = match (mode, primary) {
                    (CombineMode::Union, _) => keys_only.clone(),
                    (_, Some(p)) => inbound.iter().find(|i| i.id == p).and_then(|i| i.flow).unwrap_or(f).clone(),
                    _ => f.clone(),
                };
                outputs(&a.kind)
                    .into_iter()
                    .map(|o| if o == "complement" { (o, keys_only.clone()) } else { (o, primary_flow.clone()) })
                    .collect()
            })
        }
        ActivityKind::Enrichment { columns } => {
            let entity = dim?;
            let mut flow = input?.clone();
            if columns.is_empty() {
                ck.add(Some(a), Some("columns"), "add at least one column");
            }
            for (i, c) in columns.iter().enumerate() {
                let p = format!("columns[{}] ({})", i + 1, c.alias);
                if !is_identifier(&c.alias) || matches!(c.alias.as_str(), "key" | "seg") {
                    ck.add(
                        Some(a),
                        Some(&p),
                        "the alias must be lower-case letters, digits and _, starting with a letter",
                    );
                } else if flow.columns.iter().any(|w| w.alias == c.alias) {
                    ck.add(Some(a), Some(&p), "another column already has this alias");
                }
                match b.enrichment(&c.source, entity, "t") {
                    Ok((_, column_type)) => flow.columns.push(WorkColumn { alias: c.alias.clone(), column_type }),
                    Err(e) => ck.add(Some(a), Some(&p), e),
                }
            }
            Some(same(&flow))
        }
        ActivityKind::Split { subsets, .. } => {
            let entity = dim?;
            if subsets.is_empty() {
                ck.add(Some(a), Some("subsets"), "add at least one subset");
            }
            // Filters and sorts may use the population's enrichment columns too.
            let work = input.map_or(&[][..], |f| f.columns.as_slice());
            for (i, s) in subsets.iter().enumerate() {
                let p = format!("subset {} ({})", i + 1, s.label);
                if let Err(e) = b.rule_with(&s.filter, entity, "t", work) {
                    ck.add(Some(a), Some(&p), e);
                }
                check_limit(ck, a, &p, s.limit.as_ref());
                if let Pick::Sorted { column, .. } = &s.pick
                    && entity.column(column).is_none()
                    && !work.iter().any(|w| w.alias == *column)
                {
                    ck.add(
                        Some(a),
                        Some(&p),
                        format!("{} has no column \u{201c}{column}\u{201d} to sort by", entity.label),
                    );
                }
            }
            input.map(same)
        }
        ActivityKind::Deduplication { columns, keep, method, .. } => {
            let entity = dim?;
            if columns.is_empty() {
                ck.add(Some(a), Some("columns"), "choose the columns that identify duplicates");
            }
            for c in columns {
                if entity.column(c).is_none() {
                    ck.add(Some(a), Some("columns"), format!("{} has no column \u{201c}{c}\u{201d}", entity.label));
                }
            }
            if *keep == 0 {
                ck.add(Some(a), Some("keep"), "keep at least one row of each group");
            }
            if let DedupMethod::KeepBy { column, .. } | DedupMethod::FirstNonEmpty { column } = method
                && entity.column(column).is_none()
            {
                ck.add(Some(a), Some("method"), format!("{} has no column \u{201c}{column}\u{201d}", entity.label));
            }
            input.map(same)
        }
        ActivityKind::ChangeDimension { to } => {
            let entity = dim?;
            let f = input?;
            match b.relation(entity, to) {
                Err(e) => {
                    ck.add(Some(a), Some("to"), e);
                    None
                }
                Ok(super::expr::Relation::Children { .. }) => {
                    Some(vec![("out".into(), Flow { dimension: Some(to.clone()), columns: f.columns.clone() })])
                }
                Ok(super::expr::Relation::Parent { .. }) => {
                    Some(vec![("out".into(), Flow { dimension: Some(to.clone()), columns: Vec::new() })])
                }
            }
        }
        ActivityKind::ControlGroup { size, .. } => {
            check_limit(ck, a, "size", Some(size));
            input.map(same)
        }
        ActivityKind::Channel { channel, per, message, .. } => {
            let entity = dim?;
            let f = input?;
            let profile = profile_entity(b.model);
            let Some(profile) = profile else {
                ck.add(Some(a), None, "the data model has no profile entity (identity namespaces point at none)");
                return None;
            };
            // What the message may use: the profile, the row sent about (one message per
            // secondary entity), the enrichment columns that arrive.
            let columns = |e: &str| {
                b.model.entity(e).map(|e| e.columns.iter().map(|c| c.name.clone()).collect()).unwrap_or_default()
            };
            let scope = crate::personalize::Scope {
                profile: columns(profile),
                secondary: (*per == Recipient::SecondaryEntity && entity.name != profile)
                    .then(|| (entity.name.clone(), columns(&entity.name))),
                enrichment: f.columns.iter().map(|c| c.alias.clone()).collect(),
                context: false,
            };
            for (part, source) in [("subject", &message.subject), ("text", &message.text), ("HTML", &message.html)] {
                if source.trim().is_empty() {
                    continue;
                }
                if let Err(problems) = crate::personalize::check(source, &scope) {
                    for p in problems {
                        ck.add(Some(a), Some(&format!("message {part}")), p.to_string());
                    }
                }
            }
            for column in &message.columns {
                if let Err(problems) = crate::personalize::check(&format!("{{{{ {column} }}}}"), &scope) {
                    for p in problems {
                        ck.add(Some(a), Some("columns"), p.to_string());
                    }
                }
            }
            let reaches = entity.name == profile
                || matches!(b.relation(entity, profile), Ok(super::expr::Relation::Parent { .. }));
            if !reaches {
                ck.add(Some(a), None, format!("{} cannot be sent to: it has no link to {profile}", entity.label));
            }
            if *per == Recipient::SecondaryEntity && entity.name == profile {
                ck.add(
                    Some(a),
                    Some("per"),
                    "\u{201c}one message per secondary entity\u{201d} needs a Change dimension before it",
                );
            }
            if let Some(ns) = address_namespace(*channel)
                && !b.model.identity_namespaces.iter().any(|n| n.name == ns && n.entity == profile)
            {
                ck.add(
                    Some(a),
                    None,
                    format!(
                        "{} needs the profiles' {ns} (an identity namespace \u{201c}{ns}\u{201d})",
                        channel.label()
                    ),
                );
            }
            let out = if *per == Recipient::Profile && entity.name != profile {
                Flow { dimension: Some(profile.to_owned()), columns: Vec::new() }
            } else {
                f.clone()
            };
            Some(vec![("out".into(), out)])
        }
        ActivityKind::Test { conditions } => {
            for (i, cond) in conditions.iter().enumerate() {
                if let crate::model::TestCheck::Count { op, .. } = &cond.check
                    && !matches!(op, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge)
                {
                    ck.add(
                        Some(a),
                        Some(&format!("condition {} ({})", i + 1, cond.label)),
                        "compare the count with =, ≠, <, ≤, > or ≥",
                    );
                }
            }
            input.map(same)
        }
        ActivityKind::ReadAudience { audience } => {
            let name = audience.trim();
            if name.is_empty() {
                ck.add(Some(a), Some("audience"), "choose the saved audience to read");
                None
            } else if let Some(saved) = ck.options.audience(name) {
                if b.model.entity(&saved.dimension).is_none() {
                    let message =
                        format!("the saved audience holds {}, which the data model no longer has", saved.dimension);
                    ck.add(Some(a), Some("audience"), message);
                    None
                } else {
                    let flow = Flow { dimension: Some(saved.dimension.clone()), columns: Vec::new() };
                    Some(vec![("out".to_owned(), flow)])
                }
            } else {
                ck.add(
                    Some(a),
                    Some("audience"),
                    format!(
                        "there is no saved audience called \u{201c}{name}\u{201d} (a campaign's Save audience activity creates one when the campaign runs)"
                    ),
                );
                None
            }
        }
        ActivityKind::Reconciliation { file, entity, rules, .. } => {
            let target = match b.entity(entity) {
                Ok(e) => Some(e),
                Err(e) => {
                    ck.add(Some(a), Some("entity"), e);
                    None
                }
            };
            let header = if file.trim().is_empty() {
                ck.add(Some(a), Some("file"), "choose the CSV file to reconcile");
                None
            } else {
                match reconcile::read_header(std::path::Path::new(file.trim())) {
                    Ok(h) => Some(h),
                    Err(e) => {
                        ck.add(Some(a), Some("file"), e);
                        None
                    }
                }
            };
            if rules.is_empty() {
                ck.add(
                    Some(a),
                    Some("rules"),
                    "add at least one rule: which column of the file matches which column of the data",
                );
            }
            for (i, r) in rules.iter().enumerate() {
                let p = format!("rules[{}]", i + 1);
                if let Some((_, columns)) = &header
                    && reconcile::find(columns, &r.file_column).is_none()
                {
                    let names: Vec<&str> = columns.iter().map(|c| c.header.as_str()).collect();
                    ck.add(
                        Some(a),
                        Some(&p),
                        format!(
                            "the file has no column \u{201c}{}\u{201d} (its columns: {})",
                            r.file_column,
                            names.join(", ")
                        ),
                    );
                }
                if let Some(e) = target
                    && e.column(&r.entity_column).is_none()
                {
                    ck.add(Some(a), Some(&p), format!("{} has no column \u{201c}{}\u{201d}", e.label, r.entity_column));
                }
            }
            match (target, header) {
                (Some(e), Some((delimiter, columns))) => {
                    let work: Vec<WorkColumn> = columns
                        .iter()
                        .map(|c| WorkColumn { alias: c.alias.clone(), column_type: ColumnType::Text })
                        .collect();
                    ck.files.insert(a.id.clone(), CsvFile { delimiter, columns });
                    let out = Flow { dimension: Some(e.name.clone()), columns: work.clone() };
                    // Unmatched lines belong to no entity: they can be counted and looked at.
                    let unreconciled = Flow { dimension: None, columns: work };
                    Some(
                        outputs(&a.kind)
                            .into_iter()
                            .map(|o| if o == "unreconciled" { (o, unreconciled.clone()) } else { (o, out.clone()) })
                            .collect(),
                    )
                }
                _ => None,
            }
        }
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
        let mut lacks = |parameter: &str, what: &str| {
            problems.push(Problem {
                activity: Some(a.id.clone()),
                label: Some(a.label.clone()),
                parameter: Some(parameter.to_owned()),
                message: format!("the message needs {what} before it can be sent"),
            });
        };
        match channel {
            Channel::Email => {
                if blank(&message.subject) {
                    lacks("message subject", "a subject");
                }
                if blank(&message.text) && blank(&message.html) {
                    lacks("message text", "a text or HTML part");
                }
            }
            Channel::Sms | Channel::Push | Channel::X if blank(&message.text) => lacks("message text", "a text"),
            Channel::DirectMail if message.columns.is_empty() => {
                lacks("columns", "the columns of its extraction file");
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
    model.identity_namespaces.first().map(|n| n.entity.as_str())
}

/// The identity namespace holding a channel's address, for channels that need one.
pub fn address_namespace(channel: Channel) -> Option<&'static str> {
    match channel {
        Channel::Email => Some("email"),
        Channel::Sms => Some("phone"),
        _ => None,
    }
}
