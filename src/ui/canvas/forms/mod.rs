//! The properties form of each kind of activity. A form edits a copy of the activity's
//! parameters and says whether it changed them (the editor then makes it one undo step and
//! counts again).

mod channel;
mod flow;
mod targeting;

use egui::{Id, RichText, Ui};

use super::super::theme;
use super::fields::{
    FormContext, any_type, column_combo, combo, date_editor, entity_combo, is_number, is_time, remove_button, row,
    text_area, text_field,
};
use super::rule::rule_editor;
use crate::model::{
    ActivityKind as K, Aggregate, Channel, ColumnType, CombineMode, Credential, DedupMethod, EnrichColumn,
    EnrichSource, Entity, Limit, Message, Op, Pick, Recipient, ReconcileRule, Rule, SavedAudience, Schedule, Subset,
    TestCheck, TestCondition, WaitFor,
};
use crate::schedule::{Plan, SchedulerParams};
use channel::{channel_form, message_form};
pub(crate) use flow::scheduler_form;
use flow::{fork_form, test_form, wait_form};
use targeting::{combine_form, dedup_form, enrichment_form, limit_editor, reconciliation_form, split_form};

/// What the forms know about the activity's surroundings.
pub struct Surroundings<'a> {
    pub audiences: &'a [SavedAudience],
    pub credentials: &'a [Credential],
    pub sms_configurations: &'a [crate::model::sms::SmsConfiguration],
    /// The entity arriving on the activity's input, when it is known.
    pub dimension: Option<String>,
    /// The transitions arriving on the activity's input: (id, what they come from).
    pub inbound: Vec<(String, String)>,
    pub now: jiff::Timestamp,
    /// The enrichment columns the population arriving on the input carries (at the last
    /// count): a split can filter and sort on them.
    pub work_columns: Vec<crate::audience::WorkColumn>,
}

/// `entity` with the population's enrichment columns as columns of its own, for the forms
/// that may use them (the engine reads them from the population).
fn with_work_columns(entity: &Entity, work: &[crate::audience::WorkColumn]) -> Entity {
    let mut e = entity.clone();
    for w in work.iter().filter(|w| entity.column(&w.alias).is_none()) {
        e.columns.push(crate::model::Column::new(w.alias.clone(), format!("{} (enrichment)", w.alias), w.column_type));
    }
    e
}

/// What a form did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Edit {
    pub changed: bool,
    /// The output at this index was removed (a subset, a fork path, a test): the wires of
    /// the outputs after it move up one.
    pub removed_output: Option<usize>,
}

/// The form of `kind`.
pub fn kind_form(ui: &mut Ui, cx: &mut FormContext<'_>, s: &Surroundings<'_>, id: Id, kind: &mut K) -> Edit {
    let mut edit = Edit::default();
    let model = cx.model;
    let dimension = s.dimension.as_deref().and_then(|d| model.entity(d));
    edit.changed = match kind {
        K::BuildAudience { dimension, rule, emit_when_empty } => {
            build_audience_form(ui, cx, id, dimension, rule, emit_when_empty)
        }
        K::ReadAudience { audience } => read_audience_form(ui, s, id, audience),
        K::SaveAudience { audience } => {
            let c = row(ui, "Save as", |ui| text_field(ui, id.with("name"), audience, "audience name"));
            if s.audiences.iter().any(|a| a.name.eq_ignore_ascii_case(audience)) {
                ui.label(
                    RichText::new("An audience of this name exists: running the campaign replaces it.")
                        .small()
                        .color(theme::muted(ui)),
                );
            }
            c
        }
        K::Combine { mode, primary, complement } => combine_form(ui, s, id, mode, primary, complement),
        K::Enrichment { columns } => match dimension {
            Some(d) => enrichment_form(ui, cx, id, d, columns),
            None => needs_input(ui),
        },
        K::Split { subsets, complement, skip_empty, allow_overlap } => {
            let extended = dimension.map(|d| with_work_columns(d, &s.work_columns));
            let (c, removed) = split_form(ui, cx, id, extended.as_ref(), subsets);
            edit.removed_output = removed;
            let mut c = c;
            c |= ui.checkbox(complement, "Output the rest (complement)").changed();
            c |= ui.checkbox(skip_empty, "Skip empty subsets").changed();
            c |= ui
                .checkbox(allow_overlap, "A row may go to several subsets")
                .on_hover_text("Off: a row goes to the first subset it matches.")
                .changed();
            c
        }
        K::Deduplication { columns, keep, method, output_removed } => match dimension {
            Some(d) => dedup_form(ui, id, d, columns, keep, method, output_removed),
            None => needs_input(ui),
        },
        K::ChangeDimension { to } => match dimension {
            Some(d) => change_dimension_form(ui, model, id, d, to),
            None => needs_input(ui),
        },
        K::Reconciliation { file, entity, rules, keep_unreconciled } => {
            reconciliation_form(ui, cx, id, file, entity, rules, keep_unreconciled)
        }
        K::ControlGroup { size, seed } => {
            let mut c = limit_editor(ui, id.with("size"), size);
            c |= row(ui, "Seed", |ui| ui.add(egui::DragValue::new(seed)).changed());
            ui.label(
                RichText::new("The same seed holds out the same people each time.").small().color(theme::muted(ui)),
            );
            c
        }
        K::Test { conditions } => {
            let (c, removed) = test_form(ui, id, conditions);
            edit.removed_output = removed;
            c
        }
        K::Fork { outputs } => {
            let (c, removed) = fork_form(ui, id, outputs);
            edit.removed_output = removed;
            c
        }
        K::AndJoin { primary } => {
            let mut options: Vec<(Option<String>, String)> = vec![(None, "the first to arrive".to_owned())];
            options.extend(s.inbound.iter().map(|(t, from)| (Some(t.clone()), from.clone())));
            row(ui, "Continue with", |ui| combo(ui, id.with("primary"), primary, &options))
        }
        K::Wait { wait } => wait_form(ui, id, wait),
        K::Scheduler { schedule, valid_from, valid_until, timezone } => {
            scheduler_form(ui, id, s.now, schedule, Some((valid_from, valid_until)), timezone)
        }
        K::End => {
            ui.label(RichText::new("Nothing to set: this marks the end of a path.").color(theme::muted(ui)));
            false
        }
        K::Channel { channel, credential, configuration, per, message } => {
            let mut c = channel_form(ui, s, id, *channel, credential, configuration, per);
            c |= message_form(ui, cx, s, id.with("message"), *channel, *per, message);
            c
        }
    };
    edit
}

fn missing(ui: &mut Ui, what: &str) {
    ui.label(RichText::new(format!("{} {what}", theme::ICON_ERROR)).color(theme::error(ui)));
}

fn needs_input(ui: &mut Ui) -> bool {
    ui.label(RichText::new("Connect a population to this activity's input to set it up.").color(theme::muted(ui)));
    false
}

/// A Build audience: its target entity, rule, and whether it goes on when nobody matches.
fn build_audience_form(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    id: Id,
    dimension: &mut String,
    rule: &mut Rule,
    emit_when_empty: &mut bool,
) -> bool {
    let model = cx.model;
    let mut c = false;
    row(ui, "Target", |ui| {
        if entity_combo(ui, id.with("dimension"), model, dimension) {
            *rule = Rule::everyone();
            c = true;
        }
    });
    ui.add_space(4.0);
    match model.entity(dimension) {
        Some(e) => c |= rule_editor(ui, cx, id.with("rule"), e, rule, 0),
        None => missing(ui, &format!("the data model has no entity \u{201c}{dimension}\u{201d}")),
    }
    c |= ui
        .checkbox(emit_when_empty, "Continue even when nobody matches")
        .on_hover_text("Off: the activities after this one do not run on an empty audience.")
        .changed();
    c
}

/// A Read audience: one of the saved audiences (or a name, before any is saved).
fn read_audience_form(ui: &mut Ui, s: &Surroundings<'_>, id: Id, audience: &mut String) -> bool {
    if s.audiences.is_empty() {
        ui.label(
            RichText::new("No audience has been saved yet: a Save audience activity saves one when its campaign runs.")
                .color(theme::muted(ui)),
        );
        row(ui, "Name", |ui| text_field(ui, id.with("name"), audience, "audience name"))
    } else {
        let mut options: Vec<(String, String)> = s
            .audiences
            .iter()
            .map(|a| (a.name.clone(), format!("{} ({} {})", a.name, theme::count(a.row_count), a.dimension)))
            .collect();
        if !audience.is_empty() && !s.audiences.iter().any(|a| a.name.eq_ignore_ascii_case(audience)) {
            options.insert(0, (audience.clone(), format!("{audience} (not saved)")));
        }
        row(ui, "Audience", |ui| combo(ui, id.with("audience"), audience, &options))
    }
}

/// A Change dimension: an entity linked to the population's.
fn change_dimension_form(ui: &mut Ui, model: &crate::model::DataModel, id: Id, d: &Entity, to: &mut String) -> bool {
    let options: Vec<(String, String)> = model
        .links_of(&d.name)
        .map(|l| if l.child == d.name { &l.parent } else { &l.child })
        .filter_map(|n| model.entity(n))
        .map(|e| (e.name.clone(), e.label.clone()))
        .collect();
    if options.is_empty() {
        missing(ui, &format!("{} is linked to no other entity", d.label));
        false
    } else {
        row(ui, "Switch to", |ui| combo(ui, id.with("to"), to, &options))
    }
}
