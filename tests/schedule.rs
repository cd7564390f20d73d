#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]
//! Scheduler activity: launch times, validity period, time zones, the 15-minute floor and the
//! messages for bad input.

use campaign_console::model::Schedule;
use campaign_console::schedule::{Plan, SchedulerParams};
use jiff::Timestamp;

fn plan(schedule: &Schedule, from: Option<&str>, until: Option<&str>, tz: &str) -> Result<Plan, Vec<(String, String)>> {
    Plan::new(SchedulerParams { schedule, valid_from: from, valid_until: until, timezone: Some(tz) })
        .map_err(|ps| ps.into_iter().map(|p| (p.parameter.to_owned(), p.message)).collect())
}

fn next(p: &Plan, after: &str, n: usize) -> Vec<String> {
    p.next_launches(after.parse::<Timestamp>().unwrap(), n)
        .into_iter()
        .map(|z| z.strftime("%Y-%m-%d %H:%M %:z").to_string())
        .collect()
}

fn times(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn daily_at_several_times_keeps_local_time_across_a_clock_change() {
    let s = Schedule::Daily { times: times(&["18:00", "09:00"]) };
    let p = plan(&s, None, None, "Europe/Paris").unwrap();
    // Summer time starts in Paris on Sunday 2026-03-29.
    assert_eq!(
        next(&p, "2026-03-28T12:00:00Z", 4),
        ["2026-03-28 18:00 +01:00", "2026-03-29 09:00 +02:00", "2026-03-29 18:00 +02:00", "2026-03-30 09:00 +02:00"]
    );
}

#[test]
fn weekly_and_monthly_with_short_months() {
    let w = Schedule::Weekly { days: times(&["thu", "Monday"]), time: "08:30".into() };
    let p = plan(&w, None, None, "UTC").unwrap();
    // 2026-11-23 is a Monday.
    assert_eq!(
        next(&p, "2026-11-23T09:00:00Z", 3),
        ["2026-11-26 08:30 +00:00", "2026-11-30 08:30 +00:00", "2026-12-03 08:30 +00:00"]
    );

    let m = Schedule::Monthly { day: 31, time: "07:00".into() };
    let p = plan(&m, None, None, "UTC").unwrap();
    assert_eq!(
        next(&p, "2026-01-31T08:00:00Z", 4),
        ["2026-02-28 07:00 +00:00", "2026-03-31 07:00 +00:00", "2026-04-30 07:00 +00:00", "2026-05-31 07:00 +00:00"]
    );
}

#[test]
fn the_validity_period_bounds_launches() {
    let s = Schedule::Daily { times: times(&["00:00", "10:00"]) };
    let p = plan(&s, Some("2026-06-01"), Some("2026-06-02"), "America/New_York").unwrap();
    // From long before: the first launch is midnight of the first valid day; none after the last.
    assert_eq!(
        next(&p, "2026-01-01T00:00:00Z", 10),
        ["2026-06-01 00:00 -04:00", "2026-06-01 10:00 -04:00", "2026-06-02 00:00 -04:00", "2026-06-02 10:00 -04:00"]
    );
    assert!(next(&p, "2026-06-03T00:00:00Z", 10).is_empty());

    let once = Schedule::Once { at: "2026-12-24 17:45".into() };
    let p = plan(&once, None, None, "Asia/Seoul").unwrap();
    assert_eq!(next(&p, "2026-11-23T00:00:00Z", 3), ["2026-12-24 17:45 +09:00"]);
    assert!(next(&p, "2026-12-25T00:00:00Z", 3).is_empty(), "a past launch is not to come");
}

#[test]
fn cron_expressions_and_the_fifteen_minute_floor() {
    let every_quarter = Schedule::Cron { expression: "*/15 8-9 * * mon-fri".into() };
    let p = plan(&every_quarter, None, None, "UTC").unwrap();
    assert_eq!(
        next(&p, "2026-11-23T09:40:00Z", 3),
        ["2026-11-23 09:45 +00:00", "2026-11-24 08:00 +00:00", "2026-11-24 08:15 +00:00"]
    );

    let too_fast = Schedule::Cron { expression: "*/5 * * * *".into() };
    let problems = plan(&too_fast, None, None, "UTC").unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].1.contains("5 minutes apart") && problems[0].1.contains("every 15 minutes"), "{problems:?}");

    let close_times = Schedule::Daily { times: times(&["09:00", "09:10"]) };
    let problems = plan(&close_times, None, None, "UTC").unwrap_err();
    assert!(problems[0].1.contains("10 minutes apart"), "{problems:?}");
    // Across midnight too.
    let around_midnight = Schedule::Daily { times: times(&["23:55", "00:05"]) };
    assert!(plan(&around_midnight, None, None, "UTC").is_err());
}

#[test]
fn bad_input_is_named_in_plain_words() {
    // (schedule, valid from, valid until, time zone, parameter named, words of the message)
    type Case<'a> = (Schedule, Option<&'a str>, Option<&'a str>, &'a str, &'a str, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (Schedule::Daily { times: times(&["25:00"]) }, None, None, "UTC", "times", "not a time of day"),
        (Schedule::Daily { times: Vec::new() }, None, None, "UTC", "times", "at least one time"),
        (Schedule::Weekly { days: times(&["funday"]), time: "09:00".into() }, None, None, "UTC", "days", "funday"),
        (Schedule::Monthly { day: 32, time: "09:00".into() }, None, None, "UTC", "day", "between 1 and 31"),
        (Schedule::Once { at: "tomorrow".into() }, None, None, "UTC", "at", "not a date and time"),
        (Schedule::Cron { expression: "0 0 9 * * *".into() }, None, None, "UTC", "expression", "five fields"),
        (Schedule::Cron { expression: "0 99 * * *".into() }, None, None, "UTC", "expression", "not a valid schedule"),
        (Schedule::Daily { times: times(&["09:00"]) }, None, None, "Mars/Olympus", "timezone", "not a time zone"),
        (Schedule::Daily { times: times(&["09:00"]) }, Some("2026-13-01"), None, "UTC", "valid_from", "not a date"),
        (
            Schedule::Daily { times: times(&["09:00"]) },
            Some("2026-06-02"),
            Some("2026-06-01"),
            "UTC",
            "valid_until",
            "ends before it starts",
        ),
    ];
    for (s, from, until, tz, param, words) in cases {
        let problems = plan(&s, from, until, tz).expect_err(&format!("{s:?} should be refused"));
        assert!(
            problems.iter().any(|(p, m)| p == param && m.contains(words)),
            "{s:?}: expected {param}: …{words}…, got {problems:?}"
        );
    }
}
