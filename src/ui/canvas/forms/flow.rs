//! The forms of the flow-control activities: test, fork, wait and scheduler.

use super::*;

pub(super) fn test_form(ui: &mut Ui, id: Id, conditions: &mut Vec<TestCondition>) -> (bool, Option<usize>) {
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

pub(super) fn fork_form(ui: &mut Ui, id: Id, outputs: &mut Vec<String>) -> (bool, Option<usize>) {
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

pub(super) fn wait_form(ui: &mut Ui, id: Id, wait: &mut WaitFor) -> bool {
    let mut changed = false;
    let mut until = matches!(wait, WaitFor::Until { .. });
    let kinds = [(false, "for a while".to_owned()), (true, "until a date".to_owned())];
    if row(ui, "Wait", |ui| combo(ui, id.with("kind"), &mut until, &kinds)) {
        *wait = if until {
            let tomorrow = crate::clock::today().tomorrow().unwrap_or(crate::clock::today());
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

pub(super) const DAYS: [(&str, &str); 7] =
    [("mon", "Mon"), ("tue", "Tue"), ("wed", "Wed"), ("thu", "Thu"), ("fri", "Fri"), ("sat", "Sat"), ("sun", "Sun")];

pub(crate) fn scheduler_form(
    ui: &mut Ui,
    id: Id,
    now: jiff::Timestamp,
    schedule: &mut Schedule,
    period: Option<(&mut Option<String>, &mut Option<String>)>,
    timezone: &mut Option<String>,
) -> bool {
    let (mut no_from, mut no_until) = (None, None);
    let shows_period = period.is_some();
    let (valid_from, valid_until) = period.unwrap_or((&mut no_from, &mut no_until));
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
        let tomorrow = crate::clock::today().tomorrow().unwrap_or(crate::clock::today());
        *schedule = match every {
            Every::Once => Schedule::Once { at: format!("{tomorrow} 09:00") },
            Every::Daily => Schedule::Daily { times: vec!["09:00".into()] },
            Every::Weekly => Schedule::Weekly { days: vec!["mon".into()], time: "09:00".into() },
            Every::Monthly => Schedule::Monthly { day: 1, time: "09:00".into() },
            Every::Cron => Schedule::Cron { expression: "0 9 * * 1-5".into() },
        };
        changed = true;
    }
    changed |= times_form(ui, id, schedule);
    let period = [("From", &mut *valid_from, "from"), ("Until", &mut *valid_until, "until")];
    for (label, value, key) in period.into_iter().filter(|_| shows_period) {
        ui.horizontal(|ui| {
            let mut on = value.is_some();
            if ui.checkbox(&mut on, label).changed() {
                *value = on.then(|| crate::clock::today().to_string());
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

/// When a schedule launches: the day and time, the times of day, the days of the week, the
/// day of the month, or a cron expression.
fn times_form(ui: &mut Ui, id: Id, schedule: &mut Schedule) -> bool {
    let mut changed = false;
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
    changed
}
