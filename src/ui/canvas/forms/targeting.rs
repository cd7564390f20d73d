//! The forms of the targeting activities: combine, enrichment, split, deduplication and
//! reconciliation.

use super::*;

pub(super) fn combine_form(
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

pub(super) fn enrichment_form(
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
            changed |= source_choice(ui, cid, col, dimension, &children, model);
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
                source @ EnrichSource::Aggregate { .. } => {
                    let options: Vec<(String, String)> = children.iter().map(|n| (n.clone(), label_of(n))).collect();
                    changed |= aggregate_source(ui, cx, cid, &options, source);
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
pub(super) fn first_column(e: &Entity, keep: impl Fn(ColumnType) -> bool) -> String {
    e.columns
        .iter()
        .find(|c| c.name != e.primary_key && keep(c.column_type))
        .map(|c| c.name.clone())
        .unwrap_or_default()
}

pub(super) fn split_form(
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
pub(super) fn limit_editor(ui: &mut Ui, id: Id, limit: &mut Limit) -> bool {
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

pub(super) fn dedup_form(
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
            if c.hidden && !on {
                continue;
            }
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

#[allow(clippy::too_many_arguments, reason = "the form edits each parameter of the activity apart")]
pub(super) fn reconciliation_form(
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

/// Where an enriched column's value comes from: a value, a count or total, the most recent.
/// A new choice resets the source to its first columns.
fn source_choice(
    ui: &mut Ui,
    cid: Id,
    col: &mut EnrichColumn,
    dimension: &Entity,
    children: &[String],
    model: &crate::model::DataModel,
) -> bool {
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
            Source::Attribute => {
                EnrichSource::Attribute { entity: dimension.name.clone(), column: first_column(dimension, |_| true) }
            }
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
        return true;
    }
    false
}

/// A count, total, average, smallest or largest of the linked rows (those a rule keeps).
fn aggregate_source(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    cid: Id,
    options: &[(String, String)],
    source: &mut EnrichSource,
) -> bool {
    let model = cx.model;
    let EnrichSource::Aggregate { entity, function, column, filter } = source else { return false };
    let mut changed = false;
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
        if combo(ui, cid.with("entity"), entity, options) {
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
                column_combo(ui, cid.with("agg_column"), e, &mut name, |t| !numbers_only || is_number(t))
            });
            *column = Some(name);
            changed |= before != *column;
        }
        egui::CollapsingHeader::new("of the rows where…").id_salt(cid.with("filter")).show(ui, |ui| {
            changed |= rule_editor(ui, cx, cid.with("filter_rule"), e, filter, 1);
        });
    }
    changed
}
