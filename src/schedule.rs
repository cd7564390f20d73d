//! When a Scheduler activity launches its campaign: the launch times of a schedule (once,
//! daily at one or several times, weekly, monthly, cron) inside its validity period, in its
//! time zone, and the checks a marketer needs before saving one (a valid time, a period that
//! ends after it starts, at most one launch every 15 minutes).

use std::str::FromStr as _;

use croner::Cron;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

use crate::model::Schedule;

/// The shortest time allowed between two launches of a campaign.
pub const MIN_INTERVAL: SignedDuration = SignedDuration::from_mins(15);

/// How many upcoming launches the interval check looks at.
const CHECKED_LAUNCHES: usize = 1_000;

/// A problem with a schedule: the parameter it is about and what is wrong, in plain words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleProblem {
    pub parameter: &'static str,
    pub message: String,
}

/// A Scheduler that cannot launch: each of its problems, "parameter: what is wrong".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|p| format!("{}: {}", p.parameter, p.message)).collect::<Vec<_>>().join("; "))]
pub struct InvalidSchedule(pub Vec<ScheduleProblem>);

fn problem(parameter: &'static str, message: impl Into<String>) -> ScheduleProblem {
    ScheduleProblem { parameter, message: message.into() }
}

/// A schedule ready to tell its launch times.
#[derive(Clone, Debug)]
pub struct Plan {
    tz: TimeZone,
    launches: Launches,
    /// Launches happen from this moment on (the start of the first valid day)…
    from: Option<Timestamp>,
    /// …and before this one (the end of the last valid day).
    until: Option<Timestamp>,
}

#[derive(Clone, Debug)]
enum Launches {
    Once(Timestamp),
    /// The union of the occurrences of these patterns.
    Patterns(Vec<Cron>),
    /// That day of every month at that time; months without the day (the 31st in April)
    /// launch on their last day.
    Monthly {
        day: i8,
        time: Time,
    },
}

/// The parts of a Scheduler activity, as stored on the canvas.
#[derive(Clone, Copy, Debug)]
pub struct SchedulerParams<'a> {
    pub schedule: &'a Schedule,
    /// First day launches may happen, `YYYY-MM-DD` (inclusive).
    pub valid_from: Option<&'a str>,
    /// Last day launches may happen, `YYYY-MM-DD` (inclusive).
    pub valid_until: Option<&'a str>,
    /// An IANA time zone name ("Europe/Paris"); the computer's when absent.
    pub timezone: Option<&'a str>,
}

impl Plan {
    /// Reads a schedule; every problem is reported, each naming its parameter.
    pub fn new(p: SchedulerParams<'_>) -> Result<Self, Vec<ScheduleProblem>> {
        let mut problems = Vec::new();
        let tz = match p.timezone.map(str::trim).filter(|s| !s.is_empty()) {
            None => TimeZone::system(),
            Some(name) => TimeZone::get(name).unwrap_or_else(|_| {
                problems.push(problem(
                    "timezone",
                    format!(
                        "\u{201c}{name}\u{201d} is not a time zone name (for example Europe/Paris or America/New_York)"
                    ),
                ));
                TimeZone::UTC
            }),
        };
        let day = |param: &'static str, value: Option<&str>, problems: &mut Vec<ScheduleProblem>| {
            let value = value.map(str::trim).filter(|s| !s.is_empty())?;
            match Date::from_str(value) {
                Ok(d) => Some(d),
                Err(_) => {
                    problems.push(problem(
                        param,
                        format!("\u{201c}{value}\u{201d} is not a date (write it as 2026-12-31)"),
                    ));
                    None
                }
            }
        };
        let from_day = day("valid_from", p.valid_from, &mut problems);
        let until_day = day("valid_until", p.valid_until, &mut problems);
        if let (Some(f), Some(u)) = (from_day, until_day)
            && u < f
        {
            problems.push(problem("valid_until", "the validity period ends before it starts"));
        }
        let start_of = |d: Date| d.to_zoned(tz.clone()).ok().map(|z| z.timestamp());
        let from = from_day.and_then(start_of);
        let until = until_day.and_then(|d| d.tomorrow().ok()).and_then(start_of);

        let launches = launches_of(p.schedule, &tz, &mut problems);
        let plan = match launches {
            Some(launches) if problems.is_empty() => Self { tz, launches, from, until },
            _ => return Err(problems),
        };
        plan.check_interval()?;
        Ok(plan)
    }

    /// The time zone the times are in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The latest launch after `since` and at or before `now`, and how many there were.
    pub fn due(&self, since: Timestamp, now: Timestamp) -> (Option<Timestamp>, u32) {
        const BATCH: usize = 500;
        let (mut after, mut latest, mut n) = (since, None, 0u32);
        loop {
            let batch = self.next_launches(after, BATCH);
            for z in &batch {
                let t = z.timestamp();
                if t > now {
                    return (latest, n);
                }
                (latest, after, n) = (Some(t), t, n.saturating_add(1));
            }
            if batch.len() < BATCH || n > 1_000_000 {
                return (latest, n);
            }
        }
    }

    /// The next `n` launches strictly after `after`, inside the validity period.
    pub fn next_launches(&self, after: Timestamp, n: usize) -> Vec<Zoned> {
        let start = match self.from {
            // Launches at the very start of the first valid day count.
            Some(f) if f > after => f - SignedDuration::from_secs(1),
            _ => after,
        };
        let within = |t: Timestamp| self.until.is_none_or(|u| t < u) && t > after;
        match &self.launches {
            Launches::Once(t) => {
                if within(*t) && self.from.is_none_or(|f| *t >= f) {
                    vec![t.to_zoned(self.tz.clone())]
                } else {
                    Vec::new()
                }
            }
            Launches::Patterns(patterns) => {
                let begin = start.to_zoned(self.tz.clone());
                let mut iters: Vec<_> = patterns.iter().map(|c| c.iter_after(begin.clone()).peekable()).collect();
                let mut out: Vec<Zoned> = Vec::with_capacity(n);
                while out.len() < n {
                    // The earliest next occurrence of all patterns.
                    let Some(i) = (0..iters.len())
                        .filter_map(|i| iters[i].peek().map(|z| (i, z.timestamp())))
                        .min_by_key(|(_, t)| *t)
                        .map(|(i, _)| i)
                    else {
                        break;
                    };
                    let Some(z) = iters[i].next() else { break };
                    if self.until.is_some_and(|u| z.timestamp() >= u) {
                        break;
                    }
                    if out.last().is_none_or(|last| last.timestamp() < z.timestamp()) && within(z.timestamp()) {
                        out.push(z);
                    }
                }
                out
            }
            Launches::Monthly { day, time } => {
                let mut out = Vec::with_capacity(n);
                let first = start.to_zoned(self.tz.clone()).date().first_of_month();
                // Twelve years of months at most: enough for any preview.
                for m in 0..144 {
                    if out.len() >= n {
                        break;
                    }
                    let Ok(month) = first.checked_add(jiff::Span::new().months(m)) else { break };
                    let date = month.with().day((*day).min(month.days_in_month())).build();
                    let Ok(z) = date.map(|d| d.to_datetime(*time)).and_then(|dt| dt.to_zoned(self.tz.clone())) else {
                        continue;
                    };
                    if self.until.is_some_and(|u| z.timestamp() >= u) {
                        break;
                    }
                    if z.timestamp() > start && within(z.timestamp()) {
                        out.push(z);
                    }
                }
                out
            }
        }
    }

    /// Refuses a schedule that would launch twice within 15 minutes.
    fn check_interval(&self) -> Result<(), Vec<ScheduleProblem>> {
        let Launches::Patterns(_) = self.launches else { return Ok(()) };
        // Look from the start of the period, or from a fixed date (2026-01-01) when it has
        // none, so the check gives the same answer whenever it runs.
        let after = self.from.unwrap_or_else(|| Timestamp::from_second(1_767_225_600).unwrap_or(Timestamp::UNIX_EPOCH));
        let launches = self.next_launches(after, CHECKED_LAUNCHES);
        if let Some(w) = launches.windows(2).find(|w| w[1].timestamp().duration_since(w[0].timestamp()) < MIN_INTERVAL)
        {
            let gap = w[1].timestamp().duration_since(w[0].timestamp());
            let param = "schedule";
            return Err(vec![problem(
                param,
                format!(
                    "launches {} minutes apart (at {} and {}): a campaign may start at most once every {} minutes",
                    gap.as_mins(),
                    w[0].strftime("%H:%M"),
                    w[1].strftime("%H:%M"),
                    MIN_INTERVAL.as_mins()
                ),
            )]);
        }
        Ok(())
    }
}

fn crons(patterns: &[String], parameter: &'static str, problems: &mut Vec<ScheduleProblem>) -> Option<Launches> {
    let mut out = Vec::new();
    for p in patterns {
        match Cron::from_str(p) {
            Ok(c) => out.push(c),
            Err(e) => problems.push(problem(parameter, format!("\u{201c}{p}\u{201d} is not a valid schedule: {e}"))),
        }
    }
    (!out.is_empty() && out.len() == patterns.len()).then_some(Launches::Patterns(out))
}

fn bad_time(t: &str) -> String {
    format!("\u{201c}{t}\u{201d} is not a time of day (write it as 09:30)")
}

/// "09:30" or "9:30".
fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    Time::new(h, m, 0, 0).ok()
}

/// "2026-12-31 09:30" or "2026-12-31T09:30".
fn parse_datetime(s: &str) -> Option<DateTime> {
    let s = s.trim();
    let (d, t) = s.split_once(['T', ' '])?;
    Some(Date::from_str(d.trim()).ok()?.to_datetime(parse_time(t)?))
}

fn weekday(d: &str) -> Option<&'static str> {
    let d = d.trim().to_ascii_lowercase();
    let all = [
        ("mon", "monday"),
        ("tue", "tuesday"),
        ("wed", "wednesday"),
        ("thu", "thursday"),
        ("fri", "friday"),
        ("sat", "saturday"),
        ("sun", "sunday"),
    ];
    all.iter().find(|(short, long)| d == *short || d == *long).map(|(short, _)| *short)
}
/// The launch times a schedule names, in `tz`; every problem goes to `problems`.
fn launches_of(schedule: &Schedule, tz: &TimeZone, problems: &mut Vec<ScheduleProblem>) -> Option<Launches> {
    match schedule {
        Schedule::Once { at } => match parse_datetime(at) {
            Some(dt) => match dt.to_zoned(tz.clone()) {
                Ok(z) => Some(Launches::Once(z.timestamp())),
                Err(e) => {
                    problems.push(problem("at", format!("{at} does not exist in that time zone: {e}")));
                    None
                }
            },
            None => {
                problems.push(problem(
                    "at",
                    format!("\u{201c}{at}\u{201d} is not a date and time (write it as 2026-12-31 09:30)"),
                ));
                None
            }
        },
        Schedule::Daily { times } => {
            if times.is_empty() {
                problems.push(problem("times", "add at least one time of day"));
            }
            let mut patterns = Vec::new();
            for t in times {
                match parse_time(t) {
                    Some(t) => patterns.push(format!("{} {} * * *", t.minute(), t.hour())),
                    None => problems.push(problem("times", bad_time(t))),
                }
            }
            crons(&patterns, "times", problems)
        }
        Schedule::Weekly { days, time } => {
            if days.is_empty() {
                problems.push(problem("days", "choose at least one day of the week"));
            }
            let mut names = Vec::new();
            for d in days {
                match weekday(d) {
                    Some(n) => names.push(n),
                    None => problems.push(problem(
                        "days",
                        format!("\u{201c}{d}\u{201d} is not a day of the week (mon, tue, wed, thu, fri, sat, sun)"),
                    )),
                }
            }
            match parse_time(time) {
                Some(t) if !names.is_empty() => {
                    crons(&[format!("{} {} * * {}", t.minute(), t.hour(), names.join(","))], "days", problems)
                }
                Some(_) => None,
                None => {
                    problems.push(problem("time", bad_time(time)));
                    None
                }
            }
        }
        Schedule::Monthly { day, time } => {
            if !(1..=31).contains(day) {
                problems.push(problem("day", "the day of the month must be between 1 and 31"));
            }
            match parse_time(time) {
                Some(t) if (1..=31).contains(day) => Some(Launches::Monthly { day: *day as i8, time: t }),
                Some(_) => None,
                None => {
                    problems.push(problem("time", bad_time(time)));
                    None
                }
            }
        }
        Schedule::Cron { expression } => {
            let e = expression.trim();
            if !e.starts_with('@') && e.split_whitespace().count() != 5 {
                problems.push(problem(
                    "expression",
                    "a cron expression has five fields: minute hour day-of-month month day-of-week (for example \u{201c}0 9 * * mon\u{201d})",
                ));
                None
            } else {
                crons(&[e.to_owned()], "expression", problems)
            }
        }
    }
}

/// A schedule in a few words: "every Thursday at 07:30".
pub fn describe(schedule: &Schedule) -> String {
    fn day(d: &str) -> &str {
        match d {
            "mon" => "Monday",
            "tue" => "Tuesday",
            "wed" => "Wednesday",
            "thu" => "Thursday",
            "fri" => "Friday",
            "sat" => "Saturday",
            "sun" => "Sunday",
            other => other,
        }
    }
    let list = |items: Vec<&str>| match items.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    match schedule {
        Schedule::Once { at } => format!("once, on {at}"),
        Schedule::Daily { times } => format!("every day at {}", list(times.iter().map(String::as_str).collect())),
        Schedule::Weekly { days, time } => format!("every {} at {time}", list(days.iter().map(|d| day(d)).collect())),
        Schedule::Monthly { day, time } => format!("every month on day {day} at {time}"),
        Schedule::Cron { expression } => format!("by the cron expression {expression}"),
    }
}
