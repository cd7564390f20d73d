//! The rule builder: groups of conditions on the columns of an entity and on its linked data
//! (bookings of a profile, the profile of a booking), nested as deep as needed.

use egui::{Id, RichText, Ui};

use super::super::theme;
use super::fields::{
    FormContext, any_type, column_combo, combo, fit_operand, is_number, is_time, op_combo, ops_for, remove_button,
    value_editor,
};
use crate::model::{Aggregate, ColumnType, Entity, LinkedCondition, Op, Operand, Rule};

/// How a group combines its conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    All,
    Any,
    NoneOf,
    NotAll,
}

/// A rule seen as a group (a single condition is a group of one).
fn as_group(rule: &Rule) -> (Mode, Vec<Rule>) {
    match rule {
        Rule::All { rules } => (Mode::All, rules.clone()),
        Rule::Any { rules } => (Mode::Any, rules.clone()),
        Rule::Not { rule } => match &**rule {
            Rule::Any { rules } => (Mode::NoneOf, rules.clone()),
            Rule::All { rules } => (Mode::NotAll, rules.clone()),
            other => (Mode::NoneOf, vec![other.clone()]),
        },
        other => (Mode::All, vec![other.clone()]),
    }
}

fn from_group(mode: Mode, rules: Vec<Rule>) -> Rule {
    match mode {
        Mode::All => Rule::All { rules },
        Mode::Any => Rule::Any { rules },
        Mode::NoneOf => Rule::Not { rule: Box::new(Rule::Any { rules }) },
        Mode::NotAll => Rule::Not { rule: Box::new(Rule::All { rules }) },
    }
}

/// Groups nest at most this deep in the editor (the engine has no limit).
const MAX_DEPTH: usize = 5;

/// A new condition on the first column of `entity`.
pub fn new_condition(entity: &Entity, today: jiff::civil::Date) -> Rule {
    let (column, ty) = entity
        .columns
        .iter()
        .find(|c| c.name != entity.primary_key)
        .or(entity.columns.first())
        .map_or((String::new(), ColumnType::Text), |c| (c.name.clone(), c.column_type));
    // "is not empty" keeps everyone with a value until the marketer says more.
    let op = if ops_for(ty).contains(&Op::IsNotEmpty) { Op::IsNotEmpty } else { ops_for(ty)[0] };
    Rule::Column { column, op, value: fit_operand(ty, op, &Operand::None, today) }
}

/// Edits `rule`, a condition tree on rows of `entity`. Returns whether it changed.
pub fn rule_editor(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    id: Id,
    entity: &Entity,
    rule: &mut Rule,
    depth: usize,
) -> bool {
    let (mut mode, mut rules) = as_group(rule);
    let mut changed = false;
    ui.horizontal(|ui| {
        ui.label("Match");
        let modes = [
            (Mode::All, "all of".to_owned()),
            (Mode::Any, "any of".to_owned()),
            (Mode::NoneOf, "none of".to_owned()),
            (Mode::NotAll, "not all of".to_owned()),
        ];
        changed |= combo(ui, id.with("mode"), &mut mode, &modes);
        ui.label("these");
    });
    if rules.is_empty() {
        let what = match mode {
            Mode::All | Mode::NoneOf => "No condition: every row matches.",
            Mode::Any | Mode::NotAll => "No condition: no row matches.",
        };
        ui.label(RichText::new(what).color(theme::muted(ui)).small());
    }
    let mut remove = None;
    for (i, child) in rules.iter_mut().enumerate() {
        let cid = id.with(i);
        egui::Frame::group(ui.style()).inner_margin(4.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            let mut gone = false;
            changed |= match child {
                Rule::Column { column, op, value } => {
                    column_condition(ui, cx, cid, entity, column, op, value, &mut gone)
                }
                Rule::Linked { entity: other, condition } => {
                    linked_condition(ui, cx, cid, entity, other, condition, depth, &mut gone)
                }
                group => {
                    let mut c = false;
                    ui.horizontal(|ui| {
                        ui.label(RichText::new("Group").strong());
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            gone = remove_button(ui, "group");
                        });
                    });
                    c |= rule_editor(ui, cx, cid, entity, group, depth + 1);
                    c
                }
            };
            if gone {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        rules.remove(i);
        changed = true;
    }
    ui.horizontal(|ui| {
        if ui.small_button("+ Condition").on_hover_text("A condition on a column").clicked() {
            rules.push(new_condition(entity, cx.today));
            changed = true;
        }
        let linked = linked_entities(cx, entity);
        if let Some((first, _)) = linked.first()
            && ui.small_button("+ Linked data").on_hover_text("A condition on linked rows (bookings, …)").clicked()
        {
            rules.push(Rule::Linked {
                entity: first.clone(),
                condition: LinkedCondition::Exists { rule: Box::new(Rule::everyone()) },
            });
            changed = true;
        }
        if depth < MAX_DEPTH && ui.small_button("+ Group").on_hover_text("Conditions combined differently").clicked() {
            rules.push(Rule::Any { rules: vec![new_condition(entity, cx.today)] });
            changed = true;
        }
    });
    if changed {
        *rule = from_group(mode, rules);
    }
    changed
}

/// A condition on a column: column, operator, value.
#[allow(
    clippy::too_many_arguments,
    reason = "an editor line takes what it edits and the context its choices come from"
)]
fn column_condition(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    id: Id,
    entity: &Entity,
    column: &mut String,
    op: &mut Op,
    value: &mut Operand,
    remove: &mut bool,
) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        changed |= column_combo(ui, id.with("column"), entity, column, any_type);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            *remove = remove_button(ui, "condition");
        });
    });
    let Some(ty) = entity.column(column).map(|c| c.column_type) else {
        ui.label(
            RichText::new(format!("{} has no column \u{201c}{column}\u{201d}", entity.label)).color(theme::error(ui)),
        );
        return changed;
    };
    if changed && !ops_for(ty).contains(op) {
        *op = ops_for(ty)[0];
    }
    if changed {
        *value = fit_operand(ty, *op, value, cx.today);
    }
    changed |= comparison(ui, cx, id, &entity.name, column, ty, op, value);
    changed
}

/// An operator and a value on one line (wrapping when narrow).
#[allow(
    clippy::too_many_arguments,
    reason = "an editor line takes what it edits and the context its choices come from"
)]
fn comparison(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    id: Id,
    entity: &str,
    column: &str,
    ty: ColumnType,
    op: &mut Op,
    value: &mut Operand,
) -> bool {
    let choices = (ty == ColumnType::Text && matches!(op, Op::Eq | Op::Ne | Op::In | Op::NotIn))
        .then(|| cx.choices_of(entity, column).map(<[String]>::to_vec))
        .flatten();
    let today = cx.today;
    ui.horizontal_wrapped(|ui| {
        let mut c = op_combo(ui, id.with("op"), ty, op, value, today);
        c |= value_editor(ui, id.with("value"), ty, *op, value, choices.as_deref(), today);
        c
    })
    .inner
}

/// The entities linked to `entity`: (name, how it is shown), children first.
fn linked_entities(cx: &FormContext<'_>, entity: &Entity) -> Vec<(String, String)> {
    let label = |name: &str| cx.model.entity(name).map_or_else(|| name.to_owned(), |e| e.label.clone());
    let mut out: Vec<(String, String)> = Vec::new();
    for l in &cx.model.links {
        if l.parent == entity.name {
            out.push((l.child.clone(), format!("{} (many)", label(&l.child))));
        }
    }
    for l in &cx.model.links {
        if l.child == entity.name {
            out.push((l.parent.clone(), format!("{} (one)", label(&l.parent))));
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LinkedKind {
    Exists,
    NotExists,
    Aggregate,
    MostRecent,
}

fn linked_kind(c: &LinkedCondition) -> LinkedKind {
    match c {
        LinkedCondition::Exists { .. } => LinkedKind::Exists,
        LinkedCondition::NotExists { .. } => LinkedKind::NotExists,
        LinkedCondition::Aggregate { .. } => LinkedKind::Aggregate,
        LinkedCondition::MostRecent { .. } => LinkedKind::MostRecent,
    }
}

/// A condition on linked rows: at least one / none that match, an aggregate, the most recent.
#[allow(
    clippy::too_many_arguments,
    reason = "an editor line takes what it edits and the context its choices come from"
)]
fn linked_condition(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    id: Id,
    entity: &Entity,
    other: &mut String,
    condition: &mut LinkedCondition,
    depth: usize,
    remove: &mut bool,
) -> bool {
    let mut changed = false;
    let linked = linked_entities(cx, entity);
    ui.horizontal(|ui| {
        ui.label(RichText::new("Linked").strong());
        if combo(ui, id.with("entity"), other, &linked) {
            *condition = LinkedCondition::Exists { rule: Box::new(Rule::everyone()) };
            changed = true;
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            *remove = remove_button(ui, "condition");
        });
    });
    let model = cx.model;
    let Some(other_entity) = model.entity(other) else {
        ui.label(
            RichText::new(format!("the data model has no entity \u{201c}{other}\u{201d}")).color(theme::error(ui)),
        );
        return changed;
    };
    let many = model.links.iter().any(|l| l.parent == entity.name && l.child == *other);
    let mut kind = linked_kind(condition);
    let mut kinds =
        vec![(LinkedKind::Exists, "at least one, where".to_owned()), (LinkedKind::NotExists, "none, where".to_owned())];
    if many {
        kinds.push((LinkedKind::Aggregate, "a count or total".to_owned()));
        kinds.push((LinkedKind::MostRecent, "the most recent one".to_owned()));
    }
    if combo(ui, id.with("kind"), &mut kind, &kinds) {
        *condition = new_linked_condition(kind, other_entity, cx.today);
        changed = true;
    }
    match condition {
        LinkedCondition::Exists { rule } | LinkedCondition::NotExists { rule } => {
            ui.indent(id.with("nested"), |ui| {
                changed |= rule_editor(ui, cx, id.with("rule"), other_entity, rule, depth + 1);
            });
        }
        LinkedCondition::Aggregate { function, column, filter, op, value } => {
            let functions = [
                (Aggregate::Count, "number of rows".to_owned()),
                (Aggregate::Sum, "total of".to_owned()),
                (Aggregate::Avg, "average of".to_owned()),
                (Aggregate::Min, "smallest".to_owned()),
                (Aggregate::Max, "largest".to_owned()),
            ];
            ui.horizontal(|ui| {
                if combo(ui, id.with("function"), function, &functions) {
                    changed = true;
                    if *function == Aggregate::Count {
                        *column = None;
                    } else if column.is_none() {
                        *column =
                            other_entity.columns.iter().find(|c| is_number(c.column_type)).map(|c| c.name.clone());
                    }
                }
                if *function != Aggregate::Count {
                    let mut name = column.clone().unwrap_or_default();
                    let numbers_only = matches!(function, Aggregate::Sum | Aggregate::Avg);
                    let keep = move |t: ColumnType| !numbers_only || is_number(t);
                    if column_combo(ui, id.with("agg_column"), other_entity, &mut name, keep) {
                        *column = Some(name);
                        changed = true;
                    }
                }
            });
            let ty = aggregate_type(*function, column.as_deref(), other_entity);
            let today = cx.today;
            ui.horizontal_wrapped(|ui| {
                changed |= op_combo(ui, id.with("op"), ty, op, value, today);
                changed |= value_editor(ui, id.with("value"), ty, *op, value, None, today);
            });
            ui.label(RichText::new("of the rows where").color(theme::muted(ui)));
            ui.indent(id.with("nested"), |ui| {
                changed |= rule_editor(ui, cx, id.with("filter"), other_entity, filter, depth + 1);
            });
        }
        LinkedCondition::MostRecent { order_by, column, op, value } => {
            ui.horizontal(|ui| {
                ui.label(RichText::new("latest by").color(theme::muted(ui)));
                changed |=
                    column_combo(ui, id.with("order_by"), other_entity, order_by, |t| is_time(t) || is_number(t));
            });
            ui.horizontal(|ui| {
                ui.label(RichText::new("its").color(theme::muted(ui)));
                changed |= column_combo(ui, id.with("mr_column"), other_entity, column, any_type);
            });
            if let Some(ty) = other_entity.column(column).map(|c| c.column_type) {
                if !ops_for(ty).contains(op) {
                    *op = ops_for(ty)[0];
                    changed = true;
                }
                changed |= comparison(ui, cx, id, &other_entity.name, column, ty, op, value);
            }
        }
    }
    changed
}

/// A linked condition of `kind` on `other`, with its first sensible columns.
fn new_linked_condition(kind: LinkedKind, other_entity: &Entity, today: jiff::civil::Date) -> LinkedCondition {
    let everyone = || Box::new(Rule::everyone());
    let first_time = other_entity.columns.iter().find(|c| is_time(c.column_type)).map(|c| c.name.clone());
    match kind {
        LinkedKind::Exists => LinkedCondition::Exists { rule: everyone() },
        LinkedKind::NotExists => LinkedCondition::NotExists { rule: everyone() },
        LinkedKind::Aggregate => LinkedCondition::Aggregate {
            function: Aggregate::Count,
            column: None,
            filter: everyone(),
            op: Op::Ge,
            value: Operand::Int(1),
        },
        LinkedKind::MostRecent => {
            let order_by = first_time.unwrap_or_else(|| other_entity.primary_key.clone());
            let (column, ty) = other_entity
                .columns
                .iter()
                .find(|c| c.name != other_entity.primary_key && c.name != order_by)
                .map_or((order_by.clone(), ColumnType::Integer), |c| (c.name.clone(), c.column_type));
            let op = ops_for(ty)[0];
            LinkedCondition::MostRecent { order_by, column, op, value: fit_operand(ty, op, &Operand::None, today) }
        }
    }
}

/// The type of an aggregate's value: a count is a whole number, an average a decimal, the
/// others the column's type.
fn aggregate_type(function: Aggregate, column: Option<&str>, entity: &Entity) -> ColumnType {
    match function {
        Aggregate::Count => ColumnType::Integer,
        Aggregate::Avg => ColumnType::Decimal,
        _ => column.and_then(|c| entity.column(c)).map_or(ColumnType::Decimal, |c| c.column_type),
    }
}
