//! The properties form of each kind of activity. A form edits a copy of the activity's
//! parameters and says whether it changed them (the editor then makes it one undo step and
//! counts again).

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

/// What the forms know about the activity's surroundings.
pub struct Surroundings<'a> {
    pub audiences: &'a [SavedAudience],
    pub credentials: &'a [Credential],
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
        e.columns.push(crate::model::Column {
            name: w.alias.clone(),
            label: format!("{} (enrichment)", w.alias),
            column_type: w.column_type,
        });
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
        K::ReadAudience { audience } => {
            if s.audiences.is_empty() {
                ui.label(
                    RichText::new(
                        "No audience has been saved yet: a Save audience activity saves one when its campaign runs.",
                    )
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
            Some(d) => {
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
            scheduler_form(ui, id, s.now, schedule, valid_from, valid_until, timezone)
        }
        K::End => {
            ui.label(RichText::new("Nothing to set: this marks the end of a path.").color(theme::muted(ui)));
            false
        }
        K::Channel { channel, credential, per, message } => {
            let mut c = channel_form(ui, s, id, *channel, credential, per);
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

fn combine_form(
    ui: &mut Ui,
    s: &Surroundings<'_>,
    id: Id,
    mode: &mut CombineMode,
    primary: &mut Option<String>,
    complement: &mut bool,
) -> bool {
    let modes = [
        (CombineMode::Union, "Union: in any of them".to_owned()),
        (CombineMode::Intersection, "Intersection: in all of them".to_owned()),
        (CombineMode::Exclusion, "Exclusion: in one, not the others".to_owned()),
    ];
    let mut c = row(ui, "Mode", |ui| combo(ui, id.with("mode"), mode, &modes));
    if *mode == CombineMode::Exclusion {
        let mut options: Vec<(Option<String>, String)> = vec![(None, "—".to_owned())];
        options.extend(s.inbound.iter().map(|(t, from)| (Some(t.clone()), from.clone())));
        c |= row(ui, "Keep from", |ui| combo(ui, id.with("primary"), primary, &options));
        if s.inbound.is_empty() {
            ui.label(RichText::new("Connect the populations first.").small().color(theme::muted(ui)));
        }
    }
    if *mode != CombineMode::Union {
        c |= ui.checkbox(complement, "Also output the rows left out").changed();
    }
    c
}

fn enrichment_form(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    id: Id,
    dimension: &Entity,
    columns: &mut Vec<EnrichColumn>,
) -> bool {
    let model = cx.model;
    let mut changed = false;
    let mut remove = None;
    // Where data can come from: the dimension and its parents (one value each), its children
    // (many rows: an aggregate or the most recent).
    let parents: Vec<String> = std::iter::once(dimension.name.clone())
        .chain(model.links.iter().filter(|l| l.child == dimension.name).map(|l| l.parent.clone()))
        .collect();
    let children: Vec<String> =
        model.links.iter().filter(|l| l.parent == dimension.name).map(|l| l.child.clone()).collect();
    let label_of = |n: &String| model.entity(n).map_or_else(|| n.clone(), |e| e.label.clone());
    for (i, col) in columns.iter_mut().enumerate() {
        let cid = id.with(i);
        egui::Frame::group(ui.style()).inner_margin(4.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(RichText::new("as").color(theme::muted(ui)));
                ui.allocate_ui(egui::vec2(ui.available_width() - 28.0, 20.0), |ui| {
                    changed |= text_field(ui, cid.with("alias"), &mut col.alias, "name");
                });
                if remove_button(ui, &format!("column {}", col.alias)) {
                    remove = Some(i);
                }
            });
            #[derive(Clone, Copy, PartialEq)]
            enum Source {
                Attribute,
                Aggregate,
                MostRecent,
            }
            let mut source = match col.source {
                EnrichSource::Attribute { .. } => Source::Attribute,
                EnrichSource::Aggregate { .. } => Source::Aggregate,
                EnrichSource::MostRecent { .. } => Source::MostRecent,
            };
            let mut sources = vec![(Source::Attribute, "a value".to_owned())];
            if !children.is_empty() {
                sources.push((Source::Aggregate, "a count or total".to_owned()));
                sources.push((Source::MostRecent, "from the most recent".to_owned()));
            }
            if combo(ui, cid.with("source"), &mut source, &sources) {
                col.source = match source {
                    Source::Attribute => EnrichSource::Attribute {
                        entity: dimension.name.clone(),
                        column: first_column(dimension, |_| true),
                    },
                    Source::Aggregate => EnrichSource::Aggregate {
                        entity: children[0].clone(),
                        function: Aggregate::Count,
                        column: None,
                        filter: Rule::everyone(),
                    },
                    Source::MostRecent => {
                        let e = model.entity(&children[0]);
                        EnrichSource::MostRecent {
                            entity: children[0].clone(),
                            order_by: e.map(|e| first_column(e, is_time)).unwrap_or_default(),
                            column: e.map(|e| first_column(e, |_| true)).unwrap_or_default(),
                            rank: 1,
                        }
                    }
                };
                changed = true;
            }
            match &mut col.source {
                EnrichSource::Attribute { entity, column } => {
                    let options: Vec<(String, String)> = parents.iter().map(|n| (n.clone(), label_of(n))).collect();
                    ui.horizontal(|ui| {
                        if combo(ui, cid.with("entity"), entity, &options) {
                            *column = model.entity(entity).map(|e| first_column(e, |_| true)).unwrap_or_default();
                            changed = true;
                        }
                        if let Some(e) = model.entity(entity) {
                            changed |= column_combo(ui, cid.with("column"), e, column, any_type);
                        }
                    });
                }
                EnrichSource::Aggregate { entity, function, column, filter } => {
                    let options: Vec<(String, String)> = children.iter().map(|n| (n.clone(), label_of(n))).collect();
                    let functions = [
                        (Aggregate::Count, "number of".to_owned()),
                        (Aggregate::Sum, "total of".to_owned()),
                        (Aggregate::Avg, "average of".to_owned()),
                        (Aggregate::Min, "smallest".to_owned()),
                        (Aggregate::Max, "largest".to_owned()),
                    ];
                    ui.horizontal(|ui| {
                        if combo(ui, cid.with("function"), function, &functions) {
                            changed = true;
                        }
                        if combo(ui, cid.with("entity"), entity, &options) {
                            *filter = Rule::everyone();
                            *column = None;
                            changed = true;
                        }
                    });
                    if let Some(e) = model.entity(entity) {
                        if *function == Aggregate::Count {
                            *column = None;
                        } else {
                            let numbers_only = matches!(function, Aggregate::Sum | Aggregate::Avg);
                            let mut name = column.clone().unwrap_or_else(|| first_column(e, is_number));
                            let before = column.clone();
                            row(ui, "column", |ui| {
                                column_combo(ui, cid.with("agg_column"), e, &mut name, |t| {
                                    !numbers_only || is_number(t)
                                })
                            });
                            *column = Some(name);
                            changed |= before != *column;
                        }
                        egui::CollapsingHeader::new("of the rows where…").id_salt(cid.with("filter")).show(ui, |ui| {
                            changed |= rule_editor(ui, cx, cid.with("filter_rule"), e, filter, 1);
                        });
                    }
                }
                EnrichSource::MostRecent { entity, order_by, column, rank } => {
                    let options: Vec<(String, String)> = children.iter().map(|n| (n.clone(), label_of(n))).collect();
                    ui.horizontal(|ui| {
                        if combo(ui, cid.with("entity"), entity, &options) {
                            let e = model.entity(entity);
                            *order_by = e.map(|e| first_column(e, is_time)).unwrap_or_default();
                            *column = e.map(|e| first_column(e, |_| true)).unwrap_or_default();
                            changed = true;
                        }
                    });
                    if let Some(e) = model.entity(entity) {
                        changed |= row(ui, "column", |ui| column_combo(ui, cid.with("column"), e, column, any_type));
                        changed |= row(ui, "latest by", |ui| {
                            column_combo(ui, cid.with("order_by"), e, order_by, |t| is_time(t) || is_number(t))
                        });
                        changed |= row(ui, "rank", |ui| {
                            ui.add(egui::DragValue::new(rank).range(1..=100))
                                .on_hover_text("1 is the latest, 2 the one before, …")
                                .changed()
                        });
                    }
                }
            }
        });
    }
    if let Some(i) = remove {
        columns.remove(i);
        changed = true;
    }
    if ui.button("+ Column").clicked() {
        let n = (1..).find(|n| !columns.iter().any(|c| c.alias == format!("column_{n}"))).unwrap_or(1);
        columns.push(EnrichColumn {
            alias: format!("column_{n}"),
            source: EnrichSource::Attribute {
                entity: dimension.name.clone(),
                column: first_column(dimension, |_| true),
            },
        });
        changed = true;
    }
    changed
}

/// The first column of `e` (other than its key) whose type `keep` accepts.
fn first_column(e: &Entity, keep: impl Fn(ColumnType) -> bool) -> String {
    e.columns
        .iter()
        .find(|c| c.name != e.primary_key && keep(c.column_type))
        .map(|c| c.name.clone())
        .unwrap_or_default()
}

fn split_form(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    id: Id,
    dimension: Option<&Entity>,
    subsets: &mut Vec<Subset>,
) -> (bool, Option<usize>) {
    let mut changed = false;
    let mut remove = None;
    for (i, subset) in subsets.iter_mut().enumerate() {
        let sid = id.with(i);
        egui::Frame::group(ui.style()).inner_margin(4.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("{}.", i + 1)).strong());
                ui.allocate_ui(egui::vec2(ui.available_width() - 28.0, 20.0), |ui| {
                    changed |= text_field(ui, sid.with("label"), &mut subset.label, "subset name");
                });
                if remove_button(ui, &format!("subset {}", i + 1)) {
                    remove = Some(i);
                }
            });
            match dimension {
                Some(d) => {
                    egui::CollapsingHeader::new("Filter").id_salt(sid.with("filter")).default_open(true).show(
                        ui,
                        |ui| {
                            changed |= rule_editor(ui, cx, sid.with("rule"), d, &mut subset.filter, 1);
                        },
                    );
                }
                None => {
                    ui.label(RichText::new("Connect a population to filter it.").small().color(theme::muted(ui)));
                }
            }
            let mut limited = subset.limit.is_some();
            if ui.checkbox(&mut limited, "Limit the size").changed() {
                subset.limit = limited.then_some(Limit::Percent(10.0));
                changed = true;
            }
            if let Some(limit) = &mut subset.limit {
                changed |= limit_editor(ui, sid.with("limit"), limit);
                #[derive(Clone, Copy, PartialEq)]
                enum How {
                    Random,
                    Sorted,
                }
                let mut how = match subset.pick {
                    Pick::Random { .. } => How::Random,
                    Pick::Sorted { .. } => How::Sorted,
                };
                let hows = [(How::Random, "at random".to_owned()), (How::Sorted, "first by a column".to_owned())];
                if row(ui, "Pick", |ui| combo(ui, sid.with("how"), &mut how, &hows)) {
                    subset.pick = match how {
                        How::Random => Pick::Random { seed: 1 },
                        How::Sorted => Pick::Sorted {
                            column: dimension.map(|d| first_column(d, |_| true)).unwrap_or_default(),
                            descending: true,
                        },
                    };
                    changed = true;
                }
                match &mut subset.pick {
                    Pick::Random { seed } => {
                        changed |= row(ui, "Seed", |ui| ui.add(egui::DragValue::new(seed)).changed());
                    }
                    Pick::Sorted { column, descending } => {
                        if let Some(d) = dimension {
                            ui.horizontal(|ui| {
                                changed |= column_combo(ui, sid.with("sort"), d, column, any_type);
                                let orders = [(true, "largest first".to_owned()), (false, "smallest first".to_owned())];
                                changed |= combo(ui, sid.with("order"), descending, &orders);
                            });
                        }
                    }
                }
            }
        });
    }
    if let Some(i) = remove {
        subsets.remove(i);
        changed = true;
    }
    if ui.button("+ Subset").clicked() {
        subsets.push(Subset {
            label: format!("Subset {}", subsets.len() + 1),
            filter: Rule::everyone(),
            limit: None,
            pick: Pick::default(),
        });
        changed = true;
    }
    (changed, remove)
}

/// A count or a percentage.
fn limit_editor(ui: &mut Ui, id: Id, limit: &mut Limit) -> bool {
    ui.horizontal(|ui| {
        let mut changed = false;
        match limit {
            Limit::Count(n) => changed |= ui.add(egui::DragValue::new(n).range(0..=u64::MAX)).changed(),
            Limit::Percent(p) => {
                changed |= ui
                    .add(
                        egui::DragValue::new(p)
                            .range(0.0..=100.0)
                            .speed(0.5)
                            .max_decimals(crate::audience::PERCENT_DECIMALS)
                            .suffix(" %"),
                    )
                    .changed();
            }
        }
        let mut percent = matches!(limit, Limit::Percent(_));
        let kinds = [(true, "of the population".to_owned()), (false, "rows".to_owned())];
        if combo(ui, id.with("kind"), &mut percent, &kinds) {
            *limit = if percent { Limit::Percent(10.0) } else { Limit::Count(1_000) };
            changed = true;
        }
        changed
    })
    .inner
}

fn dedup_form(
    ui: &mut Ui,
    id: Id,
    dimension: &Entity,
    columns: &mut Vec<String>,
    keep: &mut u32,
    method: &mut DedupMethod,
    output_removed: &mut bool,
) -> bool {
    let mut changed = false;
    ui.label("Rows are duplicates when these are equal:");
    ui.horizontal_wrapped(|ui| {
        for c in dimension.columns.iter().filter(|c| c.name != dimension.primary_key) {
            let mut on = columns.contains(&c.name);
            if ui.checkbox(&mut on, &c.label).changed() {
                if on {
                    columns.push(c.name.clone());
                } else {
                    columns.retain(|x| *x != c.name);
                }
                changed = true;
            }
        }
    });
    if columns.is_empty() {
        missing(ui, "choose at least one column");
    }
    changed |= row(ui, "Keep", |ui| {
        let c = ui.add(egui::DragValue::new(keep).range(1..=1000)).changed();
        ui.label("of each group");
        c
    });
    #[derive(Clone, Copy, PartialEq)]
    enum How {
        KeepBy,
        FirstNonEmpty,
        Random,
    }
    let mut how = match method {
        DedupMethod::KeepBy { .. } => How::KeepBy,
        DedupMethod::FirstNonEmpty { .. } => How::FirstNonEmpty,
        DedupMethod::Random { .. } => How::Random,
    };
    let hows = [
        (How::KeepBy, "by the value of a column".to_owned()),
        (How::FirstNonEmpty, "those where a column is filled".to_owned()),
        (How::Random, "at random".to_owned()),
    ];
    if row(ui, "Choose", |ui| combo(ui, id.with("how"), &mut how, &hows)) {
        *method = match how {
            How::KeepBy => DedupMethod::KeepBy { column: first_column(dimension, |_| true), largest: true },
            How::FirstNonEmpty => DedupMethod::FirstNonEmpty { column: first_column(dimension, |_| true) },
            How::Random => DedupMethod::Random { seed: 1 },
        };
        changed = true;
    }
    match method {
        DedupMethod::KeepBy { column, largest } => {
            ui.horizontal(|ui| {
                changed |= column_combo(ui, id.with("column"), dimension, column, any_type);
                let orders = [(true, "largest".to_owned()), (false, "smallest".to_owned())];
                changed |= combo(ui, id.with("largest"), largest, &orders);
            });
        }
        DedupMethod::FirstNonEmpty { column } => {
            changed |= row(ui, "Column", |ui| column_combo(ui, id.with("column"), dimension, column, any_type));
        }
        DedupMethod::Random { seed } => {
            changed |= row(ui, "Seed", |ui| ui.add(egui::DragValue::new(seed)).changed());
        }
    }
    changed |= ui.checkbox(output_removed, "Output the duplicates removed").changed();
    changed
}

#[allow(clippy::too_many_arguments)]
fn reconciliation_form(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    id: Id,
    file: &mut String,
    entity: &mut String,
    rules: &mut Vec<ReconcileRule>,
    keep_unreconciled: &mut bool,
) -> bool {
    let model = cx.model;
    let mut changed = false;
    ui.label("CSV file");
    ui.horizontal(|ui| {
        ui.allocate_ui(egui::vec2(ui.available_width() - 80.0, 20.0), |ui| {
            changed |= text_field(ui, id.with("file"), file, "path of the file");
        });
        if ui.button("Choose…").clicked()
            && let Some(path) = rfd::FileDialog::new().add_filter("CSV", &["csv", "txt", "tsv"]).pick_file()
        {
            *file = path.display().to_string();
            changed = true;
        }
    });
    changed |= row(ui, "Match to", |ui| entity_combo(ui, id.with("entity"), model, entity));
    ui.label("A line matches a row when:");
    let mut remove = None;
    if let Some(e) = model.entity(entity) {
        for (i, r) in rules.iter_mut().enumerate() {
            let rid = id.with(i);
            ui.horizontal(|ui| {
                ui.allocate_ui(egui::vec2(90.0, 20.0), |ui| {
                    changed |= text_field(ui, rid.with("file_column"), &mut r.file_column, "file column");
                });
                ui.label("=");
                changed |= column_combo(ui, rid.with("entity_column"), e, &mut r.entity_column, any_type);
                if remove_button(ui, &format!("rule {}", i + 1)) {
                    remove = Some(i);
                }
            });
        }
        if ui.small_button("+ Rule").clicked() {
            rules.push(ReconcileRule { file_column: String::new(), entity_column: first_column(e, |_| true) });
            changed = true;
        }
    }
    if let Some(i) = remove {
        rules.remove(i);
        changed = true;
    }
    changed |= ui.checkbox(keep_unreconciled, "Output the lines that match nothing").changed();
    changed
}

fn test_form(ui: &mut Ui, id: Id, conditions: &mut Vec<TestCondition>) -> (bool, Option<usize>) {
    let mut changed = false;
    let mut remove = None;
    ui.label(
        RichText::new("The population takes the first path whose condition holds, else the default one.")
            .small()
            .color(theme::muted(ui)),
    );
    for (i, c) in conditions.iter_mut().enumerate() {
        let cid = id.with(i);
        egui::Frame::group(ui.style()).inner_margin(4.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("{}.", i + 1)).strong());
                ui.allocate_ui(egui::vec2(ui.available_width() - 28.0, 20.0), |ui| {
                    changed |= text_field(ui, cid.with("label"), &mut c.label, "path name");
                });
                if remove_button(ui, &format!("path {}", i + 1)) {
                    remove = Some(i);
                }
            });
            let mut is_count = matches!(c.check, TestCheck::Count { .. });
            let kinds = [(true, "when the count is".to_owned()), (false, "always / never".to_owned())];
            if combo(ui, cid.with("kind"), &mut is_count, &kinds) {
                c.check =
                    if is_count { TestCheck::Count { op: Op::Gt, value: 0 } } else { TestCheck::Flag { value: true } };
                changed = true;
            }
            match &mut c.check {
                TestCheck::Count { op, value } => {
                    ui.horizontal(|ui| {
                        let ops: Vec<(Op, String)> = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge]
                            .into_iter()
                            .map(|o| (o, o.label().to_owned()))
                            .collect();
                        changed |= combo(ui, cid.with("op"), op, &ops);
                        changed |= ui.add(egui::DragValue::new(value)).changed();
                    });
                }
                TestCheck::Flag { value } => {
                    changed |= ui.checkbox(value, "take this path").changed();
                }
            }
        });
    }
    if let Some(i) = remove {
        conditions.remove(i);
        changed = true;
    }
    if ui.button("+ Path").clicked() {
        conditions.push(TestCondition {
            label: format!("Path {}", conditions.len() + 1),
            check: TestCheck::Count { op: Op::Gt, value: 0 },
        });
        changed = true;
    }
    (changed, remove)
}

fn fork_form(ui: &mut Ui, id: Id, outputs: &mut Vec<String>) -> (bool, Option<usize>) {
    let mut changed = false;
    let mut remove = None;
    ui.label("Paths");
    for (i, name) in outputs.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            ui.allocate_ui(egui::vec2(ui.available_width() - 28.0, 20.0), |ui| {
                changed |= text_field(ui, id.with(i), name, "path name");
            });
            if remove_button(ui, &format!("path {name}")) {
                remove = Some(i);
            }
        });
    }
    let mut seen = std::collections::HashSet::new();
    if outputs.iter().any(|o| !seen.insert(o.trim().to_lowercase())) {
        missing(ui, "two paths have the same name");
    }
    if let Some(i) = remove {
        outputs.remove(i);
        changed = true;
    }
    if ui.button("+ Path").clicked() {
        let n = (outputs.len() + 1..).find(|n| !outputs.contains(&format!("path {n}"))).unwrap_or(1);
        outputs.push(format!("path {n}"));
        changed = true;
    }
    (changed, remove)
}

fn wait_form(ui: &mut Ui, id: Id, wait: &mut WaitFor) -> bool {
    let mut changed = false;
    let mut until = matches!(wait, WaitFor::Until { .. });
    let kinds = [(false, "for a while".to_owned()), (true, "until a date".to_owned())];
    if row(ui, "Wait", |ui| combo(ui, id.with("kind"), &mut until, &kinds)) {
        *wait = if until {
            let tomorrow = jiff::Zoned::now().date().tomorrow().unwrap_or(jiff::Zoned::now().date());
            WaitFor::Until { at: format!("{tomorrow} 09:00") }
        } else {
            WaitFor::Duration { minutes: 60 }
        };
        changed = true;
    }
    match wait {
        WaitFor::Duration { minutes } => {
            // Shown in the largest unit that divides it.
            let (mut amount, mut unit) = if *minutes % 1440 == 0 && *minutes > 0 {
                (*minutes / 1440, 1440)
            } else if *minutes % 60 == 0 && *minutes > 0 {
                (*minutes / 60, 60)
            } else {
                (*minutes, 1)
            };
            ui.horizontal(|ui| {
                let mut c = ui.add(egui::DragValue::new(&mut amount).range(1..=100_000)).changed();
                let units = [(1u64, "minutes".to_owned()), (60, "hours".to_owned()), (1440, "days".to_owned())];
                c |= combo(ui, id.with("unit"), &mut unit, &units);
                if c {
                    *minutes = amount.saturating_mul(unit);
                    changed = true;
                }
            });
        }
        WaitFor::Until { at } => {
            let (mut day, mut time) = match at.split_once(' ') {
                Some((d, t)) => (d.to_owned(), t.to_owned()),
                None => (at.clone(), "09:00".to_owned()),
            };
            ui.horizontal(|ui| {
                let mut c = date_editor(ui, id.with("day"), &mut day);
                ui.allocate_ui(egui::vec2(60.0, 20.0), |ui| c |= text_field(ui, id.with("time"), &mut time, "HH:MM"));
                if c {
                    *at = format!("{day} {}", time.trim());
                    changed = true;
                }
            });
        }
    }
    changed
}

const DAYS: [(&str, &str); 7] =
    [("mon", "Mon"), ("tue", "Tue"), ("wed", "Wed"), ("thu", "Thu"), ("fri", "Fri"), ("sat", "Sat"), ("sun", "Sun")];

fn scheduler_form(
    ui: &mut Ui,
    id: Id,
    now: jiff::Timestamp,
    schedule: &mut Schedule,
    valid_from: &mut Option<String>,
    valid_until: &mut Option<String>,
    timezone: &mut Option<String>,
) -> bool {
    let mut changed = false;
    #[derive(Clone, Copy, PartialEq)]
    enum Every {
        Once,
        Daily,
        Weekly,
        Monthly,
        Cron,
    }
    let mut every = match schedule {
        Schedule::Once { .. } => Every::Once,
        Schedule::Daily { .. } => Every::Daily,
        Schedule::Weekly { .. } => Every::Weekly,
        Schedule::Monthly { .. } => Every::Monthly,
        Schedule::Cron { .. } => Every::Cron,
    };
    let options = [
        (Every::Once, "once".to_owned()),
        (Every::Daily, "every day".to_owned()),
        (Every::Weekly, "every week".to_owned()),
        (Every::Monthly, "every month".to_owned()),
        (Every::Cron, "by a cron expression".to_owned()),
    ];
    if row(ui, "Run", |ui| combo(ui, id.with("every"), &mut every, &options)) {
        let tomorrow = jiff::Zoned::now().date().tomorrow().unwrap_or(jiff::Zoned::now().date());
        *schedule = match every {
            Every::Once => Schedule::Once { at: format!("{tomorrow} 09:00") },
            Every::Daily => Schedule::Daily { times: vec!["09:00".into()] },
            Every::Weekly => Schedule::Weekly { days: vec!["mon".into()], time: "09:00".into() },
            Every::Monthly => Schedule::Monthly { day: 1, time: "09:00".into() },
            Every::Cron => Schedule::Cron { expression: "0 9 * * 1-5".into() },
        };
        changed = true;
    }
    let time_field = |ui: &mut Ui, id: Id, time: &mut String| {
        row(ui, "at", |ui| ui.allocate_ui(egui::vec2(70.0, 20.0), |ui| text_field(ui, id, time, "HH:MM")).inner)
    };
    match schedule {
        Schedule::Once { at } => {
            let (mut day, mut time) = match at.split_once(' ') {
                Some((d, t)) => (d.to_owned(), t.to_owned()),
                None => (at.clone(), "09:00".to_owned()),
            };
            let mut c = row(ui, "on", |ui| date_editor(ui, id.with("day"), &mut day));
            c |= time_field(ui, id.with("time"), &mut time);
            if c {
                *at = format!("{day} {}", time.trim());
                changed = true;
            }
        }
        Schedule::Daily { times } => {
            let mut text = times.join(", ");
            let c = row(ui, "at", |ui| text_field(ui, id.with("times"), &mut text, "09:00, 18:00"));
            if c {
                *times = text.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
                changed = true;
            }
        }
        Schedule::Weekly { days, time } => {
            ui.horizontal_wrapped(|ui| {
                for (key, label) in DAYS {
                    let mut on = days.iter().any(|d| d == key);
                    if ui.checkbox(&mut on, label).changed() {
                        if on {
                            days.push(key.to_owned());
                            // Kept in week order.
                            days.sort_by_key(|d| DAYS.iter().position(|(k, _)| k == d));
                        } else {
                            days.retain(|d| d != key);
                        }
                        changed = true;
                    }
                }
            });
            changed |= time_field(ui, id.with("time"), time);
        }
        Schedule::Monthly { day, time } => {
            changed |= row(ui, "on day", |ui| {
                ui.add(egui::DragValue::new(day).range(1..=31))
                    .on_hover_text("29, 30 or 31: the last day of shorter months")
                    .changed()
            });
            changed |= time_field(ui, id.with("time"), time);
        }
        Schedule::Cron { expression } => {
            changed |=
                row(ui, "cron", |ui| text_field(ui, id.with("cron"), expression, "minute hour day month weekday"));
        }
    }
    for (label, value, key) in [("From", &mut *valid_from, "from"), ("Until", &mut *valid_until, "until")] {
        ui.horizontal(|ui| {
            let mut on = value.is_some();
            if ui.checkbox(&mut on, label).changed() {
                *value = on.then(|| jiff::Zoned::now().date().to_string());
                changed = true;
            }
            if let Some(day) = value {
                changed |= date_editor(ui, id.with(key), day);
            }
        });
    }
    let mut tz = timezone.clone().unwrap_or_default();
    let system = jiff::tz::TimeZone::system().iana_name().unwrap_or("UTC").to_owned();
    if row(ui, "Time zone", |ui| text_field(ui, id.with("tz"), &mut tz, &format!("{system} (this computer's)"))) {
        *timezone = (!tz.trim().is_empty()).then(|| tz.trim().to_owned());
        changed = true;
    }
    // The next launches, or what is wrong.
    ui.add_space(4.0);
    let plan = Plan::new(SchedulerParams {
        schedule,
        valid_from: valid_from.as_deref(),
        valid_until: valid_until.as_deref(),
        timezone: timezone.as_deref(),
    });
    match plan {
        Ok(plan) => {
            let next = plan.next_launches(now, 5);
            ui.label(RichText::new("Next launches").strong());
            if next.is_empty() {
                ui.label(RichText::new("None: the schedule has no launch left.").color(theme::warning(ui)));
            }
            for z in next {
                ui.label(z.strftime("%a %-d %b %Y, %H:%M %Z").to_string());
            }
        }
        Err(problems) => {
            for p in problems {
                missing(ui, &format!("{}: {}", p.parameter, p.message));
            }
        }
    }
    changed
}

fn channel_form(
    ui: &mut Ui,
    s: &Surroundings<'_>,
    id: Id,
    channel: Channel,
    credential: &mut Option<String>,
    per: &mut Recipient,
) -> bool {
    let mut changed = false;
    let default = crate::model::default_credential(s.credentials, channel)
        .map_or_else(|| "the built-in Sandbox".to_owned(), crate::model::Credential::display_name);
    let mut options: Vec<(Option<String>, String)> = vec![(None, format!("the channel's default: {default}"))];
    options.extend(
        s.credentials.iter().filter(|c| c.channel == channel).map(|c| (Some(c.name.clone()), c.display_name())),
    );
    if let Some(name) = credential.as_ref()
        && !options.iter().any(|(v, _)| v.as_ref() == Some(name))
    {
        options.push((Some(name.clone()), format!("{name} (not configured)")));
    }
    changed |= row(ui, "Send with", |ui| combo(ui, id.with("credential"), credential, &options));
    let dimension = s.dimension.clone().unwrap_or_else(|| "row".to_owned());
    let pers = [
        (Recipient::Profile, "one message per profile".to_owned()),
        (Recipient::SecondaryEntity, format!("one message per {dimension} row")),
    ];
    changed |= row(ui, "Send", |ui| combo(ui, id.with("per"), per, &pers));
    changed
}

/// The content: subject, text, HTML as the channel uses them, with the SMS size while typing
/// and the variables the message can use.
fn message_form(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    s: &Surroundings<'_>,
    id: Id,
    channel: Channel,
    per: Recipient,
    message: &mut Message,
) -> bool {
    let mut changed = false;
    ui.add_space(4.0);
    ui.label(RichText::new("Message").strong());
    let (subject, text, html) = match channel {
        Channel::Email => (Some("Subject"), Some("Text part"), true),
        Channel::Push => (Some("Title"), Some("Text"), false),
        Channel::Sms | Channel::X => (None, Some("Text"), false),
        Channel::Webhook => (None, Some("JSON body"), false),
        Channel::DirectMail => (None, None, false),
    };
    if let Some(label) = subject {
        ui.label(label);
        changed |= text_field(ui, id.with("subject"), &mut message.subject, "Hello {{profile.first_name}}");
    }
    if let Some(label) = text {
        ui.label(label);
        if channel == Channel::Webhook {
            ui.label(
                RichText::new(
                    "Values are written as JSON: {\"name\": {{ profile.first_name }}}. Empty: a JSON object with the recipient and the message.",
                )
                .small()
                .color(theme::muted(ui)),
            );
        }
        let sms = channel == Channel::Sms;
        changed |= text_area(ui, id.with("text"), &mut message.text, "", if sms { 4 } else { 6 }, |ui, typed| {
            if sms {
                let size = crate::personalize::sms_size(typed);
                let encoding = match size.encoding {
                    crate::personalize::SmsEncoding::Gsm7 => "GSM-7",
                    crate::personalize::SmsEncoding::Ucs2 => "Unicode (UCS-2)",
                };
                let segments = if size.segments == 1 { "1 SMS".to_owned() } else { format!("{} SMS", size.segments) };
                ui.label(
                    RichText::new(format!(
                        "{} characters · {encoding} · {segments} (before personalization)",
                        size.characters
                    ))
                    .small()
                    .color(theme::muted(ui)),
                );
            }
        });
    }
    if html {
        ui.label("HTML part");
        changed |=
            text_area(ui, id.with("html"), &mut message.html, "<p>Hello {{profile.first_name}}</p>", 6, |_, _| {});
    }
    if channel == Channel::DirectMail {
        changed |= columns_form(ui, cx, s, id, per, &mut message.columns);
        return changed;
    }
    // The variables at hand.
    egui::CollapsingHeader::new("Variables").id_salt(id.with("variables")).show(ui, |ui| {
        let model = cx.model;
        let profile = model.identity_namespaces.first().map(|n| n.entity.clone()).unwrap_or_else(|| "profiles".into());
        let mut lines: Vec<String> = Vec::new();
        if let Some(e) = model.entity(&profile) {
            lines.extend(e.columns.iter().map(|c| format!("{{{{profile.{}}}}}  {}", c.name, c.label)));
        }
        if per == Recipient::SecondaryEntity
            && let Some(d) = s.dimension.as_deref().filter(|d| *d != profile).and_then(|d| model.entity(d))
        {
            lines.extend(d.columns.iter().map(|c| format!("{{{{{}.{}}}}}  {}", d.name, c.name, c.label)));
        }
        lines.push("{{enrichment.<name>}}  a column added by an Enrichment before this activity".into());
        lines.push("Filters: | default(\"…\") | upper | lower | date(\"%d %B %Y\")".into());
        for l in lines {
            ui.label(RichText::new(l).small().monospace());
        }
    });
    changed
}

/// Direct mail: the columns of the extraction file, each a variable of the recipient.
fn columns_form(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    s: &Surroundings<'_>,
    id: Id,
    per: Recipient,
    columns: &mut Vec<String>,
) -> bool {
    let model = cx.model;
    let profile = model.identity_namespaces.first().map(|n| n.entity.clone()).unwrap_or_else(|| "profiles".into());
    let mut options: Vec<(String, String)> = Vec::new();
    if let Some(e) = model.entity(&profile) {
        options.extend(e.columns.iter().map(|c| (format!("profile.{}", c.name), format!("{} (profile)", c.label))));
    }
    if per == Recipient::SecondaryEntity
        && let Some(d) = s.dimension.as_deref().filter(|d| *d != profile).and_then(|d| model.entity(d))
    {
        options
            .extend(d.columns.iter().map(|c| (format!("{}.{}", d.name, c.name), format!("{} ({})", c.label, d.label))));
    }
    let mut changed = false;
    ui.label("Columns of the extraction file");
    ui.label(
        RichText::new("One line per recipient in a CSV file, written to the credential's folder.")
            .small()
            .color(theme::muted(ui)),
    );
    let mut remove = None;
    for (i, column) in columns.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let mut here = options.clone();
            if !here.iter().any(|(v, _)| v == column) {
                here.push((column.clone(), column.clone()));
            }
            changed |= combo(ui, id.with(("column", i)), column, &here);
            if remove_button(ui, &format!("column {}", i + 1)) {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        columns.remove(i);
        changed = true;
    }
    if ui.button("+ Column").clicked()
        && let Some((first, _)) = options.iter().find(|(v, _)| !columns.contains(v))
    {
        columns.push(first.clone());
        changed = true;
    }
    ui.label(
        RichText::new("An enrichment's column can be typed in the JSON parameters as enrichment.<name>.")
            .small()
            .color(theme::muted(ui)),
    );
    changed
}
