//! The scheduler, with a clock the test moves: a published campaign launches at each of its
//! Scheduler's times, once even when two processes look, and a launch missed while nothing ran
//! is run once.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use campaign_console::console::{Console, ConsoleOptions, LifeAction, SecretsChoice};
use campaign_console::model::{
    Activity, ActivityKind, CampaignKind, CampaignStatus, Canvas, Channel, Message, Recipient, Rule, Schedule,
    Transition,
};
use campaign_console::store::launches::RunTrigger;

/// A clock the test sets.
#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn at(t: &str) -> Self {
        Self(Arc::new(AtomicI64::new(t.parse::<jiff::Timestamp>().unwrap().as_second())))
    }
    fn set(&self, t: &str) {
        self.0.store(t.parse::<jiff::Timestamp>().unwrap().as_second(), Ordering::SeqCst);
    }
}

fn console(dir: &std::path::Path, clock: &TestClock) -> Arc<Console> {
    let c = clock.0.clone();
    Arc::new(
        Console::open(ConsoleOptions {
            workspace_dir: dir.to_owned(),
            secrets: SecretsChoice::Ephemeral,
            clock: Some(Arc::new(move || jiff::Timestamp::from_second(c.load(Ordering::SeqCst)).unwrap())),
            log_dir: None,
        })
        .unwrap(),
    )
}

/// Every day at 09:00 UTC: everyone gets an SMS through the Sandbox.
fn daily_canvas() -> Canvas {
    let a = |id: &str, kind| Activity { id: id.into(), label: id.into(), kind, position: [0.0, 0.0] };
    Canvas {
        version: campaign_console::model::CANVAS_VERSION,
        activities: vec![
            a(
                "every_day",
                ActivityKind::Scheduler {
                    schedule: Schedule::Daily { times: vec!["09:00".into()] },
                    valid_from: None,
                    valid_until: None,
                    timezone: Some("UTC".into()),
                },
            ),
            a(
                "everyone",
                ActivityKind::BuildAudience {
                    dimension: "profiles".into(),
                    rule: Rule::everyone(),
                    emit_when_empty: false,
                },
            ),
            a(
                "sms",
                ActivityKind::Channel {
                    channel: Channel::Sms,
                    credential: None,
                    configuration: None,
                    per: Recipient::Profile,
                    message: Message { text: "Good morning".into(), ..Message::default() },
                },
            ),
        ],
        transitions: vec![
            Transition {
                id: "t0".into(),
                from: "every_day".into(),
                output: "out".into(),
                to: "everyone".into(),
                input: "start".into(),
            },
            Transition {
                id: "t1".into(),
                from: "everyone".into(),
                output: "out".into(),
                to: "sms".into(),
                input: "in".into(),
            },
        ],
    }
}

fn deliveries(console: &Console) -> usize {
    console.deliveries(Some("Morning")).unwrap().len()
}

#[test]
fn a_published_campaign_launches_at_its_times_once_and_catches_up_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at("2026-06-01T08:00:00Z");
    let first = console(dir.path(), &clock);
    first.generate_demo(60, 3, false, &mut |_| true).unwrap();
    let c = first.create_campaign("Morning", CampaignKind::Orchestrated).unwrap();
    first.save_canvas(c.id, &daily_canvas()).unwrap();

    // Not published: nothing launches.
    clock.set("2026-06-01T09:01:00Z");
    assert!(first.launch_due("a", &|| false).unwrap().is_empty());

    clock.set("2026-06-01T08:30:00Z");
    let live = first.change_life(c.id, LifeAction::Publish).unwrap();
    assert_eq!(live.status, CampaignStatus::Live);
    assert!(live.published_at.is_some());
    assert!(first.launch_due("a", &|| false).unwrap().is_empty(), "not 09:00 yet");

    // First launch.
    clock.set("2026-06-01T09:01:00Z");
    let launched = first.launch_due("a", &|| false).unwrap();
    assert_eq!(launched.len(), 1, "{launched:?}");
    assert_eq!(launched[0].scheduled_for.to_string(), "2026-06-01T09:00:00Z");
    assert!(!launched[0].failed, "{launched:?}");
    assert_eq!(deliveries(&first), 1);
    assert!(first.launch_due("a", &|| false).unwrap().is_empty(), "the same launch is not run twice");

    // Next day, two processes look: one launch in all.
    clock.set("2026-06-02T09:00:30Z");
    let second = console(dir.path(), &clock);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| first.launch_due("a", &|| false).unwrap());
        let b = s.spawn(|| second.launch_due("b", &|| false).unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(a.len() + b.len(), 1, "{a:?} {b:?}");
    assert_eq!(deliveries(&first), 2);
    // While one process holds the lease, the other cannot take it.
    let (holder, other) = if b.is_empty() { ("a", "b") } else { ("b", "a") };
    {
        use campaign_console::store::launches::{SCHEDULER_LEASE, acquire_lease};
        let conn = rusqlite::Connection::open(dir.path().join("workspace.sqlite")).unwrap();
        let now: jiff::Timestamp = "2026-06-02T09:01:00Z".parse().unwrap();
        let later: jiff::Timestamp = "2026-06-02T09:02:00Z".parse().unwrap();
        assert!(!acquire_lease(&conn, SCHEDULER_LEASE, other, now, later).unwrap());
        assert!(acquire_lease(&conn, SCHEDULER_LEASE, holder, now, later).unwrap(), "the holder renews it");
    }

    // Nothing ran for three days: one run catches up (the latest launch), not three.
    clock.set("2026-06-05T10:00:00Z");
    let caught = first.launch_due(holder, &|| false).unwrap();
    assert_eq!(caught.len(), 1, "{caught:?}");
    assert_eq!(caught[0].scheduled_for.to_string(), "2026-06-05T09:00:00Z");
    assert_eq!(caught[0].missed, 2, "June 3rd and 4th were missed");
    assert_eq!(deliveries(&first), 3);
    assert!(first.launch_due(holder, &|| false).unwrap().is_empty());

    // Each launch is a recorded run with its time and result.
    let runs = first.campaign_runs(Some(c.id)).unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r.trigger == RunTrigger::Scheduled && !r.failed), "{runs:?}");
    assert!(runs[0].outcome.as_deref().is_some_and(|o| o.contains("sent")), "{runs:?}");
    assert_eq!(first.campaign("Morning").unwrap().status, CampaignStatus::Live, "a recurring campaign stays live");

    // Paused: no launch, and the launches missed meanwhile are not caught up on resume.
    first.change_life(c.id, LifeAction::Pause).unwrap();
    clock.set("2026-06-06T09:05:00Z");
    assert!(first.launch_due(holder, &|| false).unwrap().is_empty());
    first.change_life(c.id, LifeAction::Resume).unwrap();
    assert!(first.launch_due(holder, &|| false).unwrap().is_empty());
    clock.set("2026-06-07T09:05:00Z");
    assert_eq!(first.launch_due(holder, &|| false).unwrap().len(), 1);
}

#[test]
fn a_one_shot_run_completes_the_campaign_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at("2026-06-01T08:00:00Z");
    let console = console(dir.path(), &clock);
    console.generate_demo(30, 3, false, &mut |_| true).unwrap();
    let c = console.create_campaign("Once", CampaignKind::Orchestrated).unwrap();
    let mut canvas = daily_canvas();
    canvas.activities.remove(0);
    canvas.transitions.remove(0);
    console.save_canvas(c.id, &canvas).unwrap();
    assert_eq!(console.campaign("Once").unwrap().status, CampaignStatus::Draft);
    // Publishing needs a Scheduler.
    let e = console.change_life(c.id, LifeAction::Publish).unwrap_err();
    assert!(e.to_string().contains("has no Scheduler"), "{e}");

    console.run_campaign("Once", false, None, &mut |_, _| {}, &|| false).unwrap();
    assert_eq!(console.campaign("Once").unwrap().status, CampaignStatus::Completed);
    let runs = console.campaign_runs(Some(c.id)).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].trigger, RunTrigger::Manual);
    assert!(runs[0].finished_at.is_some());
    assert!(runs[0].outcome.as_deref().is_some_and(|o| o.contains("sent")), "{runs:?}");
    // Running it again without meaning to is refused, and a refusal is no run.
    let e = console.run_campaign("Once", false, None, &mut |_, _| {}, &|| false).unwrap_err();
    assert!(e.to_string().contains("has already run"), "{e}");
    assert_eq!(console.campaign_runs(Some(c.id)).unwrap().len(), 1);
}

/// The X channel's Sandbox credential: the Sandbox X account, with `followers` followers.
fn sandbox_x(console: &Console, followers: u64) {
    let settings = campaign_console::model::ProviderSettings::Sandbox(Default::default());
    console.add_credential_with(Channel::X, "Sandbox", settings, &Default::default()).unwrap();
    assert_eq!(console.set_sandbox_followers(followers).unwrap(), "Sandbox");
}

#[test]
fn the_follower_sync_workflow_launches_weekly_once_started_and_once_per_launch() {
    use campaign_console::console::WorkflowChange;
    // Wednesday 2026-12-02, 10:00 UTC.
    let clock = TestClock::at("2026-12-02T10:00:00Z");
    let dir = tempfile::tempdir().unwrap();
    let console = console(dir.path(), &clock);
    let other = self::console(dir.path(), &clock);
    sandbox_x(&console, 1_500);
    let w = console.x_sync_workflow().unwrap();
    assert!(!w.started, "stopped until a user starts it");
    assert_eq!(w.schedule, Schedule::Weekly { days: vec!["thu".into()], time: "07:30".into() });
    let utc = WorkflowChange::Schedule { schedule: w.schedule.clone(), timezone: Some("UTC".into()) };
    console.change_x_sync_workflow(utc).unwrap();

    // Stopped: Thursday 07:30 passes without a launch.
    clock.set("2026-12-03T08:00:00Z");
    assert!(console.launch_due_workflows().unwrap().is_empty());
    console.change_x_sync_workflow(WorkflowChange::Start).unwrap();
    assert!(console.launch_due_workflows().unwrap().is_empty(), "a launch before it was started is not caught up");

    // The next Thursday: one launch, whichever process looks first.
    clock.set("2026-12-10T07:31:00Z");
    let reports = console.launch_due_workflows().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].campaign, "Synchronization of X accounts");
    assert!(!reports[0].failed, "{reports:?}");
    assert!(reports[0].outcome.contains("1500 visitors in 2 pages"), "{}", reports[0].outcome);
    assert!(other.launch_due_workflows().unwrap().is_empty(), "never launched twice");
    assert_eq!(console.visitor_count(Some("Sandbox"), Some("Visitors")).unwrap(), (1_500, 1_500));

    // Three weeks missed while nothing ran: one run.
    console.set_sandbox_followers(1_000).unwrap();
    clock.set("2026-12-31T12:00:00Z");
    let reports = other.launch_due_workflows().unwrap();
    assert_eq!((reports.len(), reports[0].missed), (1, 2), "{reports:?}");
    assert_eq!(console.visitor_count(None, None).unwrap(), (1_500, 1_000), "500 stopped following");

    // A schedule that cannot launch is refused, and nothing changes.
    let bad = WorkflowChange::Schedule { schedule: Schedule::Cron { expression: "nope".into() }, timezone: None };
    let e = console.change_x_sync_workflow(bad).unwrap_err();
    assert!(e.to_string().contains("cannot launch"), "{e}");
    console.change_x_sync_workflow(WorkflowChange::Stop).unwrap();
    clock.set("2027-01-07T08:00:00Z");
    assert!(console.launch_due_workflows().unwrap().is_empty(), "stopped again");
    assert_eq!(console.x_sync_workflow().unwrap().schedule, w.schedule);
}
