//! Small editors the property forms are made of: a text field that applies when it is left,
//! combo boxes over the data model, value editors by column type and operator.

use std::collections::HashMap;

use egui::{Id, Response, RichText, Ui};
use egui_extras::DatePickerButton;

use super::super::theme;
use crate::model::{ColumnType, DataModel, Entity, Op, Operand, PeriodUnit};

/// The distinct values of text columns, by (entity, column), as far as they are known:
/// `Some(None)` when the column has too many to be a list of choices.
pub type Choices = HashMap<(String, String), Option<Vec<String>>>;

/// What the forms read besides the activity, and what they ask for.
pub struct FormContext<'a> {
    pub model: &'a DataModel,
    pub choices: &'a Choices,
    /// Columns whose distinct values the forms would like to offer.
    pub wanted: Vec<(String, String)>,
    pub today: jiff::civil::Date,
}

impl FormContext<'_> {
    /// The known values of a text column; asks for them when they are not known yet.
    pub fn choices_of(&mut self, entity: &str, column: &str) -> Option<&[String]> {
        let key = (entity.to_owned(), column.to_owned());
        match self.choices.get(&key) {
            Some(values) => values.as_deref(),
            None => {
                if !self.wanted.contains(&key) {
                    self.wanted.push(key);
                }
                None
            }
        }
    }
}

/// A single-line text field that applies what was typed when it loses focus (Tab, Enter or a
/// click elsewhere): a word typed is one edit, not one per letter. Returns whether `value`
/// changed.
pub fn text_field(ui: &mut Ui, id: Id, value: &mut String, hint: &str) -> bool {
    typed(ui, id, value, |text| egui::TextEdit::singleline(text).hint_text(hint), |_, _| {})
}

/// A multi-line [`text_field`]: applies when it loses focus. Returns whether `value` changed;
/// `live` sees the text as it is typed (for counters).
pub fn text_area(
    ui: &mut Ui,
    id: Id,
    value: &mut String,
    hint: &str,
    rows: usize,
    live: impl FnOnce(&mut Ui, &str),
) -> bool {
    typed(ui, id, value, |text| egui::TextEdit::multiline(text).hint_text(hint).desired_rows(rows), live)
}

/// A text editor whose text lives in a buffer while it has focus and goes to `value` when it
/// loses it.
fn typed(
    ui: &mut Ui,
    id: Id,
    value: &mut String,
    editor: impl for<'a> FnOnce(&'a mut String) -> egui::TextEdit<'a>,
    live: impl FnOnce(&mut Ui, &str),
) -> bool {
    let buffer = id.with("typing");
    let mut text = ui.data(|d| d.get_temp::<String>(buffer)).unwrap_or_else(|| value.clone());
    let r = ui.add(editor(&mut text).id(id).desired_width(f32::INFINITY));
    live(ui, &text);
    if r.has_focus() {
        ui.data_mut(|d| d.insert_temp(buffer, text));
        return false;
    }
    ui.data_mut(|d| d.remove::<String>(buffer));
    if r.lost_focus() && text != *value {
        *value = text;
        return true;
    }
    false
}

/// A labelled row: the label on the left in the muted colour, the editor after it.
pub fn row<R>(ui: &mut Ui, label: &str, add: impl FnOnce(&mut Ui) -> R) -> R {
    ui.horizontal(|ui| {
        ui.label(RichText::new(label).color(theme::muted(ui)));
        add(ui)
    })
    .inner
}

/// A combo box over `options` (value, text); returns whether `value` changed.
pub fn combo<T: PartialEq + Clone>(ui: &mut Ui, id: Id, value: &mut T, options: &[(T, String)]) -> bool {
    let selected = options.iter().find(|(v, _)| v == value).map_or_else(|| "—".to_owned(), |(_, t)| t.clone());
    let mut changed = false;
    egui::ComboBox::from_id_salt(id).selected_text(selected).truncate().show_ui(ui, |ui| {
        for (v, text) in options {
            if ui.selectable_label(v == value, text).clicked() && v != value {
                *value = v.clone();
                changed = true;
            }
        }
    });
    changed
}

/// A combo box over the entities of the data model.
pub fn entity_combo(ui: &mut Ui, id: Id, model: &DataModel, entity: &mut String) -> bool {
    let options: Vec<(String, String)> = model.entities.iter().map(|e| (e.name.clone(), e.label.clone())).collect();
    combo(ui, id, entity, &options)
}

/// A combo box over the columns of `entity` that `keep` accepts: those shown to marketers, and
/// the one chosen already even when it is hidden now. A column's description is its hover text.
pub fn column_combo(
    ui: &mut Ui,
    id: Id,
    entity: &Entity,
    column: &mut String,
    keep: impl Fn(ColumnType) -> bool,
) -> bool {
    let offered = || entity.columns.iter().filter(|c| keep(c.column_type) && (!c.hidden || c.name == *column));
    let selected = entity.column(column).map_or_else(|| "\u{2014}".to_owned(), |c| c.label.clone());
    let mut chosen = None;
    let r = egui::ComboBox::from_id_salt(id).selected_text(selected).truncate().show_ui(ui, |ui| {
        for c in offered() {
            let mut item = ui.selectable_label(c.name == *column, &c.label);
            if !c.description.is_empty() {
                item = item.on_hover_text(&c.description);
            }
            if item.clicked() && c.name != *column {
                chosen = Some(c.name.clone());
            }
        }
    });
    if let Some(c) = entity.column(column).filter(|c| !c.description.is_empty()) {
        r.response.on_hover_text(&c.description);
    }
    match chosen {
        Some(c) => {
            *column = c;
            true
        }
        None => false,
    }
}

pub fn any_type(_: ColumnType) -> bool {
    true
}

pub fn is_number(t: ColumnType) -> bool {
    matches!(t, ColumnType::Integer | ColumnType::Decimal)
}

pub fn is_time(t: ColumnType) -> bool {
    matches!(t, ColumnType::Date | ColumnType::Timestamp)
}

/// The operators that make sense for a column type, in the order they are offered.
pub fn ops_for(ty: ColumnType) -> &'static [Op] {
    use Op::*;
    match ty {
        ColumnType::Integer | ColumnType::Decimal => &[Eq, Ne, Lt, Le, Gt, Ge, Between, In, NotIn, IsEmpty, IsNotEmpty],
        ColumnType::Text => &[Eq, Ne, Contains, StartsWith, In, NotIn, IsEmpty, IsNotEmpty],
        ColumnType::Boolean => &[IsTrue, IsFalse, IsEmpty],
        ColumnType::Date => &[InLast, InNext, Before, After, Eq, Between, IsEmpty, IsNotEmpty],
        ColumnType::Timestamp => &[InLast, InNext, Before, After, Between, IsEmpty, IsNotEmpty],
    }
}

/// A value of the right shape for `op` on a column of type `ty`, keeping `old` when it fits.
pub fn fit_operand(ty: ColumnType, op: Op, old: &Operand, today: jiff::civil::Date) -> Operand {
    let scalar = |v: &Operand| -> Operand {
        match (ty, v) {
            (ColumnType::Integer, Operand::Int(_))
            | (ColumnType::Decimal, Operand::Real(_))
            | (ColumnType::Text, Operand::Text(_))
            | (ColumnType::Boolean, Operand::Bool(_)) => v.clone(),
            (ColumnType::Date | ColumnType::Timestamp, Operand::Date(s)) if s.parse::<jiff::civil::Date>().is_ok() => {
                v.clone()
            }
            (ColumnType::Decimal, Operand::Int(i)) => Operand::Real(*i as f64),
            (ColumnType::Integer, _) => Operand::Int(0),
            (ColumnType::Decimal, _) => Operand::Real(0.0),
            (ColumnType::Text, _) => Operand::Text(String::new()),
            (ColumnType::Boolean, _) => Operand::Bool(true),
            (ColumnType::Date | ColumnType::Timestamp, _) => Operand::Date(today.to_string()),
        }
    };
    match op {
        Op::IsEmpty | Op::IsNotEmpty | Op::IsTrue | Op::IsFalse => Operand::None,
        Op::InLast | Op::InNext => match old {
            Operand::Period { .. } => old.clone(),
            _ => Operand::Period { amount: 30, unit: PeriodUnit::Days },
        },
        Op::Between => match old {
            Operand::Range(a, b) => Operand::Range(Box::new(scalar(a)), Box::new(scalar(b))),
            other => Operand::Range(Box::new(scalar(other)), Box::new(scalar(other))),
        },
        Op::In | Op::NotIn => match old {
            Operand::List(items) => Operand::List(items.iter().map(scalar).collect()),
            Operand::None => Operand::List(Vec::new()),
            other => Operand::List(vec![scalar(other)]),
        },
        Op::Contains | Op::StartsWith => match old {
            Operand::Text(_) => old.clone(),
            _ => Operand::Text(String::new()),
        },
        _ => match old {
            Operand::Range(a, _) => scalar(a),
            Operand::List(items) if !items.is_empty() => scalar(&items[0]),
            other => scalar(other),
        },
    }
}

/// An operator combo for a column of type `ty`; on a change the value is reshaped to fit.
pub fn op_combo(
    ui: &mut Ui,
    id: Id,
    ty: ColumnType,
    op: &mut Op,
    value: &mut Operand,
    today: jiff::civil::Date,
) -> bool {
    let options: Vec<(Op, String)> = ops_for(ty).iter().map(|o| (*o, o.label().to_owned())).collect();
    if combo(ui, id, op, &options) {
        *value = fit_operand(ty, *op, value, today);
        return true;
    }
    false
}

/// The editor of the value compared by `op` to a column of type `ty`. `choices` are the
/// column's known values (text columns with few of them).
pub fn value_editor(
    ui: &mut Ui,
    id: Id,
    ty: ColumnType,
    op: Op,
    value: &mut Operand,
    choices: Option<&[String]>,
    today: jiff::civil::Date,
) -> bool {
    let fitted = fit_operand(ty, op, value, today);
    let mut changed = false;
    if fitted != *value {
        *value = fitted;
        changed = true;
    }
    changed |= match (op, &mut *value) {
        (_, Operand::None) => false,
        (Op::InLast | Op::InNext, Operand::Period { amount, unit }) => {
            ui.horizontal(|ui| {
                let mut c = ui.add(egui::DragValue::new(amount).range(0..=10_000)).changed();
                let units = [
                    (PeriodUnit::Days, "days".to_owned()),
                    (PeriodUnit::Weeks, "weeks".to_owned()),
                    (PeriodUnit::Months, "months".to_owned()),
                ];
                c |= combo(ui, id.with("unit"), unit, &units);
                c
            })
            .inner
        }
        (Op::Between, Operand::Range(a, b)) => {
            ui.horizontal(|ui| {
                let mut c = scalar_editor(ui, id.with("from"), ty, a, choices);
                ui.label("and");
                c |= scalar_editor(ui, id.with("to"), ty, b, choices);
                c
            })
            .inner
        }
        (Op::In | Op::NotIn, Operand::List(items)) => list_editor(ui, id, ty, items, choices),
        (_, v) => scalar_editor(ui, id, ty, v, choices),
    };
    changed
}

/// One value of a column's type.
fn scalar_editor(ui: &mut Ui, id: Id, ty: ColumnType, v: &mut Operand, choices: Option<&[String]>) -> bool {
    match v {
        Operand::Int(i) => ui.add(egui::DragValue::new(i)).changed(),
        Operand::Real(x) => ui.add(egui::DragValue::new(x).speed(0.1)).changed(),
        Operand::Bool(b) => ui.checkbox(b, "yes").changed(),
        Operand::Date(s) => date_editor(ui, id, s),
        Operand::Text(s) => match choices {
            Some(values) if !values.is_empty() => {
                let mut options: Vec<(String, String)> = values.iter().map(|v| (v.clone(), v.clone())).collect();
                if !s.is_empty() && !values.contains(s) {
                    options.insert(0, (s.clone(), format!("{s} (not in the data)")));
                }
                combo(ui, id, s, &options)
            }
            _ => text_field(ui, id, s, if ty == ColumnType::Text { "value" } else { "" }),
        },
        _ => false,
    }
}

/// A date with a calendar; an unreadable stored date is replaced by today's when picked.
pub fn date_editor(ui: &mut Ui, id: Id, s: &mut String) -> bool {
    let parsed = s.get(..10).and_then(|d| d.parse::<jiff::civil::Date>().ok());
    let mut date = parsed.unwrap_or_else(crate::clock::today);
    let salt = format!("{id:?}");
    let r: Response = ui.add(DatePickerButton::new(&mut date).id_salt(&salt).calendar_week(false));
    if parsed.is_none() && !s.is_empty() {
        ui.label(RichText::new(format!("\u{201c}{s}\u{201d} is not a date")).color(theme::error(ui)));
    }
    if r.changed() && date.to_string() != *s {
        *s = date.to_string();
        return true;
    }
    false
}

/// The values of an "in" / "not in" condition: ticks when the column's values are known, else
/// a comma-separated list.
fn list_editor(ui: &mut Ui, id: Id, ty: ColumnType, items: &mut Vec<Operand>, choices: Option<&[String]>) -> bool {
    if ty == ColumnType::Text
        && let Some(values) = choices.filter(|v| !v.is_empty())
    {
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            for v in values {
                let item = Operand::Text(v.clone());
                let mut on = items.contains(&item);
                if ui.checkbox(&mut on, v).changed() {
                    if on {
                        items.push(item);
                    } else {
                        items.retain(|x| *x != item);
                    }
                    changed = true;
                }
            }
        });
        return changed;
    }
    let mut text = items
        .iter()
        .map(|v| match v {
            Operand::Int(i) => i.to_string(),
            Operand::Real(x) => x.to_string(),
            Operand::Text(s) | Operand::Date(s) => s.clone(),
            _ => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    if !text_field(ui, id, &mut text, "values, separated by commas") {
        list_problems(ui, id);
        return false;
    }
    let mut bad = Vec::new();
    let parsed: Vec<Operand> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let v = match ty {
                ColumnType::Integer => s.parse().ok().map(Operand::Int),
                ColumnType::Decimal => s.parse().ok().map(Operand::Real),
                ColumnType::Date | ColumnType::Timestamp => {
                    s.parse::<jiff::civil::Date>().ok().map(|_| Operand::Date(s.to_owned()))
                }
                _ => Some(Operand::Text(s.to_owned())),
            };
            if v.is_none() {
                bad.push(s.to_owned());
            }
            v
        })
        .collect();
    if !bad.is_empty() {
        ui.data_mut(|d| d.insert_temp(id.with("bad"), bad));
    } else {
        ui.data_mut(|d| d.remove::<Vec<String>>(id.with("bad")));
    }
    *items = parsed;
    list_problems(ui, id);
    true
}

/// Shows the values the last list edit could not read, if any.
fn list_problems(ui: &mut Ui, id: Id) {
    if let Some(bad) = ui.data(|d| d.get_temp::<Vec<String>>(id.with("bad"))) {
        ui.label(
            RichText::new(format!("Left out, not of the column's type: {}", bad.join(", "))).color(theme::error(ui)),
        );
    }
}

/// The remove button of a row ("Remove subset 2" to screen readers and on hover): returns
/// whether it was clicked.
pub fn remove_button(ui: &mut Ui, what: &str) -> bool {
    let text = format!("Remove {what}");
    let r = ui.small_button("🗑");
    r.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Button, true, &text));
    r.on_hover_text(text).clicked()
}
