//! Campaign connectors end to end on a demo workspace through the Sandbox, with a clock the
//! test moves: the seed's three use cases (a push clicked → a discount push; an email received
//! plus a week, "email opened" as the exception → resent to non-openers only; an abandoned-cart
//! push received + a delay, "purchase" and "push opened directly" as exceptions), and the
//! rules around them: an interaction before publication does not count, an exception before
//! the trigger does not cancel, re-eligibility, the end date, two schedulers at once, and a
//! scheduler killed while it fires.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use campaign_console::console::{Console, ConsoleOptions, SecretsChoice};
use campaign_console::model::api::IngestedEvent;
use campaign_console::model::connector::{
    ConnectorForm, Delay, Interaction, PendingSend, PendingState, Reeligibility, TriggerRule,
};
use campaign_console::model::{CampaignKind, CampaignStatus, Channel, Message, ProviderSettings};

mod support;
use support::{blast, one, sqlite};

/// The app's clock: the wall clock moved on by what the test says.
#[derive(Clone, Default)]
struct Later(Arc<AtomicI64>);

impl Later {
    fn by(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

const DAY: i64 = 86_400;

fn console(dir: &std::path::Path, later: &Later) -> Arc<Console> {
    let offset = later.0.clone();
    Arc::new(
        Console::open(ConsoleOptions {
            workspace_dir: dir.to_owned(),
            secrets: SecretsChoice::Ephemeral,
            clock: Some(Arc::new(move || {
                let now = campaign_console::clock::wall();
                now.checked_add(jiff::SignedDuration::from_secs(offset.load(Ordering::SeqCst))).unwrap()
            })),
            log_dir: None,
        })
        .unwrap(),
    )
}

/// A demo workspace of `profiles` whose Sandbox writes its events at once.
fn demo(profiles: u64) -> (tempfile::TempDir, Later, Arc<Console>) {
    let dir = tempfile::tempdir().unwrap();
    let later = Later::default();
    let c = console(dir.path(), &later);
    c.generate_demo(profiles, 5, false, &mut |_| true).unwrap();
    for cred in c.credentials().unwrap() {
        if let ProviderSettings::Sandbox(mut s) = cred.settings.clone() {
            s.delay_seconds = Some(0.0);
            c.update_credential(cred.id, &cred.name, ProviderSettings::Sandbox(s), None).unwrap();
        }
    }
    sqlite(dir.path()).execute_batch("UPDATE profiles SET push_opt_in = 1").unwrap();
    (dir, later, c)
}

/// A connector on `source`'s `interaction`, sending a push, saved (not published).
fn connector(c: &Console, name: &str, trigger: Interaction, source: i64, delay: Delay) -> i64 {
    let id = c.create_campaign(name, CampaignKind::ActionTriggered).unwrap().id;
    let form = ConnectorForm {
        triggers: vec![TriggerRule { interaction: trigger, campaign: Some(source), ..TriggerRule::default() }],
        delay,
        channel: Channel::Push,
        message: Message {
            subject: "15% off".into(),
            text: "{{ profile.first_name }}, after {{ trigger.interaction }} on {{ trigger.campaign }}: 15% off".into(),
            ..Message::default()
        },
        ..ConnectorForm::default()
    };
    c.save_connector(id, "", form, (None, None)).unwrap();
    id
}

fn edit(c: &Console, id: i64, change: impl FnOnce(&mut ConnectorForm)) {
    let (_, mut form) = c.connector(id).unwrap();
    change(&mut form);
    c.save_connector(id, "", form, (None, None)).unwrap();
}

/// An orchestrated campaign that pushes to every profile (not run yet).
fn push_campaign(c: &Console, name: &str) -> i64 {
    let id = c.create_campaign(name, CampaignKind::Orchestrated).unwrap().id;
    let message = Message { subject: "Your cart".into(), text: "Still there".into(), ..Message::default() };
    c.save_canvas(id, &blast(Channel::Push, None, message)).unwrap();
    id
}

/// Runs `name` through the Sandbox and writes its events.
fn run(c: &Console, name: &str) {
    c.run_campaign(name, false, None, &mut |_, _| {}, &|| false).unwrap();
    c.simulate_sandbox_events().unwrap();
}

fn pending(c: &Console, id: i64, state: PendingState) -> Vec<PendingSend> {
    c.pending_sends(Some(id), Some(state), usize::MAX).unwrap()
}

fn profiles(list: &[PendingSend]) -> BTreeSet<String> {
    list.iter().map(|p| p.profile.clone()).collect()
}

/// The profiles `db` says had an event of `kind` on campaign `campaign`.
fn with_event(db: &rusqlite::Connection, kind: &str, campaign: i64) -> BTreeSet<String> {
    let mut stmt =
        db.prepare("SELECT DISTINCT profile_key FROM cc_interactions WHERE kind = ?1 AND campaign_id = ?2").unwrap();
    stmt.query_map(rusqlite::params![kind, campaign], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

/// The profiles the connector's deliveries sent to, and the messages' texts.
fn sent_by(db: &rusqlite::Connection, connector: i64) -> (Vec<String>, Vec<String>) {
    let mut stmt = db
        .prepare(
            "SELECT l.recipient_key, m.body FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id
               JOIN cc_sandbox_messages m ON m.idempotency_key = l.idempotency_key
              WHERE d.campaign_id = ?1 AND l.status = 'sent' ORDER BY l.id",
        )
        .unwrap();
    stmt.query_map([connector], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).unzip()
}

fn event(id: &str, kind: &str, email: &str, campaign: i64, at: Option<jiff::Timestamp>) -> IngestedEvent {
    IngestedEvent {
        event_id: id.into(),
        kind: kind.into(),
        namespace: "email".into(),
        id: email.into(),
        campaign_id: campaign,
        at,
        message: None,
        link_alias: None,
        name: (kind == "conversion").then(|| "purchase".into()),
    }
}

fn email_of(db: &rusqlite::Connection, profile: &str) -> String {
    db.query_row("SELECT email FROM profiles WHERE id = ?1", [profile], |r| r.get(0)).unwrap()
}

fn fire(c: &Console) -> Vec<campaign_console::console::LaunchReport> {
    c.fire_due_connectors("test", &|| false).unwrap()
}

#[test]
fn use_case_1_a_push_clicked_gets_a_discount_push() {
    let (dir, _later, c) = demo(40);
    let db = sqlite(dir.path());
    let promo = c.create_campaign("Free shipping", CampaignKind::Orchestrated).unwrap().id;
    let discount = connector(&c, "Discount", Interaction::PushOpenedDirectly, promo, Delay::None);
    c.publish_connector(discount).unwrap();
    let (ana, ben) = (email_of(&db, "1"), email_of(&db, "2"));
    let report = c
        .ingest_events(&[
            event("e1", "push_opened", &ana, promo, None),
            event("e2", "push_opened", &ben, discount, None),
        ])
        .unwrap();
    assert_eq!(report.accepted, 2);
    // Only the click on the promotion is a trigger; made in the event's transaction.
    assert_eq!(profiles(&pending(&c, discount, PendingState::Waiting)), BTreeSet::from(["1".to_owned()]));
    let reports = fire(&c);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].outcome.starts_with("1 follow-ups fired (1 sent"), "{}", reports[0].outcome);
    let (to, texts) = sent_by(&db, discount);
    assert_eq!(to, ["1"]);
    assert!(texts[0].ends_with("after push opened directly on Free shipping: 15% off"), "{}", texts[0]);
    assert_eq!(pending(&c, discount, PendingState::Fired).len(), 1);
    // The same event reported again triggers nothing more.
    assert_eq!(c.ingest_events(&[event("e1", "push_opened", &ana, promo, None)]).unwrap().accepted, 0);
    assert!(fire(&c).is_empty());
    // A copy keeps the form, as a draft listening to nothing.
    let copy = c.duplicate_campaign(discount).unwrap();
    let (copied, form) = c.connector(copy.id).unwrap();
    assert_eq!(copied.status, CampaignStatus::Draft);
    assert_eq!(form, c.connector(discount).unwrap().1);
}

#[test]
fn use_case_2_an_email_not_opened_within_a_week_is_sent_again_to_non_openers_only() {
    let (dir, later, c) = demo(400);
    let db = sqlite(dir.path());
    let summer = c.campaign("Summer getaway").unwrap().id;
    let reminder = c.campaign("Summer reminder").unwrap().id;
    edit(&c, reminder, |f| f.delay = Delay::Weeks(1));
    assert!(c.connector_page(reminder).unwrap().problems.is_empty());
    c.publish_connector(reminder).unwrap();
    run(&c, "Summer getaway");

    let received = with_event(&db, "delivered", summer);
    let opened = with_event(&db, "opened", summer);
    let waiting = pending(&c, reminder, PendingState::Waiting);
    let cancelled = pending(&c, reminder, PendingState::Cancelled);
    // Only the email's deliveries trigger (the summer SMS's do not), once each.
    let email_received: BTreeSet<String> = {
        let mut stmt = db
            .prepare(
                "SELECT DISTINCT i.profile_key FROM cc_interactions i JOIN cc_deliveries d ON d.id = i.delivery_id
                  WHERE i.kind = 'delivered' AND d.channel = 'email' AND i.campaign_id = ?1",
            )
            .unwrap();
        stmt.query_map([summer], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert!(email_received.len() > 20 && email_received.len() <= received.len());
    assert_eq!(waiting.len() + cancelled.len(), email_received.len());
    assert_eq!(profiles(&cancelled), opened, "the openers' sends are cancelled");
    assert!(cancelled.iter().all(|p| p.reason.as_deref() == Some("exception: email opened while waiting")));
    assert!(waiting.iter().all(|p| (p.due_at.unwrap().duration_since(p.trigger_at).as_secs() - 7 * DAY).abs() <= 1));

    // Not due for a week.
    later.by(6 * DAY);
    assert!(fire(&c).is_empty());
    later.by(DAY + 60);
    let reports = fire(&c);
    assert_eq!(reports.len(), 1, "{reports:?}");
    let (to, texts) = sent_by(&db, reminder);
    let to: BTreeSet<String> = to.into_iter().collect();
    assert_eq!(to, profiles(&waiting), "every non-opener, once");
    assert!(to.is_disjoint(&opened), "no opener");
    assert!(texts.iter().all(|t| t.contains("(You got \u{201c}Summer getaway\u{201d} on ")));
    assert_eq!(pending(&c, reminder, PendingState::Fired).len(), waiting.len());
    // In Deliveries, as the connector's.
    let deliveries = c.deliveries(Some("Summer reminder")).unwrap();
    assert_eq!(deliveries.len(), 1);
    assert!(fire(&c).iter().all(|r| !r.outcome.contains("fired (1")), "nothing fires twice");
}

#[test]
fn use_case_3_an_abandoned_cart_push_skips_buyers_and_openers() {
    let (dir, later, c) = demo(120);
    let db = sqlite(dir.path());
    let cart = push_campaign(&c, "Abandoned cart");
    let again = connector(&c, "Cart again", Interaction::PushReceived, cart, Delay::Hours(20));
    edit(&c, again, |f| {
        f.exceptions = vec![
            TriggerRule {
                interaction: Interaction::ConversionPerformed,
                conversion: Some("Purchase".into()),
                ..TriggerRule::default()
            },
            TriggerRule { interaction: Interaction::PushOpenedDirectly, ..TriggerRule::default() },
        ];
    });
    // The order the seed suggests: the source as a draft, the follow-up published, then the
    // source sent.
    c.publish_connector(again).unwrap();
    run(&c, "Abandoned cart");

    let waiting = pending(&c, again, PendingState::Waiting);
    let opened = with_event(&db, "opened", cart);
    assert!(!waiting.is_empty());
    assert!(profiles(&waiting).is_disjoint(&opened), "an opened push cancels at once");
    // Two buyers after the push, one buyer before it (does not cancel).
    let keys: Vec<String> = profiles(&waiting).into_iter().collect();
    let before_push = waiting.iter().find(|p| p.profile == keys[2]).unwrap().trigger_at;
    let events = [
        event("p1", "conversion", &email_of(&db, &keys[0]), cart, None),
        event("p2", "conversion", &email_of(&db, &keys[1]), again, None),
        event(
            "p3",
            "conversion",
            &email_of(&db, &keys[2]),
            cart,
            before_push.checked_sub(jiff::SignedDuration::from_secs(60)).ok(),
        ),
    ];
    assert_eq!(c.ingest_events(&events).unwrap().accepted, 3);
    let cancelled = pending(&c, again, PendingState::Cancelled);
    let bought: BTreeSet<String> = [keys[0].clone(), keys[1].clone()].into();
    let by_purchase: BTreeSet<String> = cancelled
        .iter()
        .filter(|p| p.reason.as_deref() == Some("exception: conversion event performed while waiting"))
        .map(|p| p.profile.clone())
        .collect();
    assert_eq!(by_purchase, bought, "a purchase on any campaign, after the push, cancels");

    later.by(DAY);
    fire(&c);
    let (to, _) = sent_by(&db, again);
    let to: BTreeSet<String> = to.into_iter().collect();
    let expected: BTreeSet<String> = profiles(&waiting).difference(&bought).cloned().collect();
    assert_eq!(to, expected);
    assert!(to.contains(&keys[2]), "a purchase before the push does not cancel it");
}

#[test]
fn interactions_before_publication_do_not_count_and_stop_cancels_the_waiting() {
    let (dir, later, c) = demo(30);
    let db = sqlite(dir.path());
    let promo = c.create_campaign("Promo", CampaignKind::Orchestrated).unwrap().id;
    let follow = connector(&c, "Follow", Interaction::PushOpenedDirectly, promo, Delay::Days(2));
    c.ingest_events(&[event("a", "push_opened", &email_of(&db, "1"), promo, None)]).unwrap();
    later.by(60);
    let page = c.connector_page(follow).unwrap();
    assert!(page.warnings.is_empty(), "the source is a draft: {:?}", page.warnings);
    let live = c.publish_connector(follow).unwrap();
    assert_eq!(live.status, CampaignStatus::Live);
    // Reported now, but it happened before the publication.
    let earlier = live.published_at.unwrap().checked_sub(jiff::SignedDuration::from_secs(5)).unwrap();
    c.ingest_events(&[event("b", "push_opened", &email_of(&db, "2"), promo, Some(earlier))]).unwrap();
    assert!(pending(&c, follow, PendingState::Waiting).is_empty());
    c.ingest_events(&[event("c", "push_opened", &email_of(&db, "3"), promo, None)]).unwrap();
    assert_eq!(profiles(&pending(&c, follow, PendingState::Waiting)), BTreeSet::from(["3".to_owned()]));

    c.change_connector_life(follow, campaign_console::console::LifeAction::Stop).unwrap();
    let cancelled = pending(&c, follow, PendingState::Cancelled);
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].reason.as_deref(), Some("the campaign was stopped"));
    c.ingest_events(&[event("d", "push_opened", &email_of(&db, "4"), promo, None)]).unwrap();
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_pending_sends"), 1, "a stopped connector listens to nothing");
}

#[test]
fn re_eligibility_the_filter_and_the_end_date() {
    let (dir, later, c) = demo(30);
    let db = sqlite(dir.path());
    let promo = c.create_campaign("Promo", CampaignKind::Orchestrated).unwrap().id;
    let once = connector(&c, "Once", Interaction::PushOpenedDirectly, promo, Delay::None);
    let every = connector(&c, "Every", Interaction::PushOpenedDirectly, promo, Delay::None);
    let filtered = connector(&c, "Filtered", Interaction::PushOpenedDirectly, promo, Delay::None);
    let ending = connector(&c, "Ending", Interaction::PushOpenedDirectly, promo, Delay::Days(3));
    edit(&c, every, |f| f.reeligibility = Reeligibility::EveryTime);
    edit(&c, filtered, |f| {
        f.filter = campaign_console::model::Rule::Column {
            column: "id".into(),
            op: campaign_console::model::Op::Eq,
            value: campaign_console::model::Operand::Int(1),
        };
    });
    let end = c.now().checked_add(jiff::SignedDuration::from_hours(24)).unwrap();
    let (_, form) = c.connector(ending).unwrap();
    c.save_connector(ending, "", form, (None, Some(end))).unwrap();
    for id in [once, every, filtered, ending] {
        c.publish_connector(id).unwrap();
    }
    let (one_email, two_email) = (email_of(&db, "1"), email_of(&db, "2"));
    c.ingest_events(&[
        event("a", "push_opened", &one_email, promo, None),
        event("b", "push_opened", &two_email, promo, None),
    ])
    .unwrap();
    later.by(60);
    c.ingest_events(&[event("c", "push_opened", &one_email, promo, None)]).unwrap();
    fire(&c);
    assert_eq!(sent_by(&db, once).0, ["1", "2"], "once ever: the second trigger of profile 1 is not re-eligible");
    let not_again = pending(&c, once, PendingState::Cancelled);
    assert_eq!(not_again.len(), 1);
    assert_eq!(not_again[0].reason.as_deref(), Some("not re-eligible (had it already)"));
    assert_eq!(sent_by(&db, every).0, ["1", "2", "1"]);
    assert_eq!(sent_by(&db, filtered).0, ["1"]);
    let filtered_out: Vec<String> = pending(&c, filtered, PendingState::Cancelled)
        .into_iter()
        .filter(|p| p.reason.as_deref() == Some("the audience filter no longer holds"))
        .map(|p| p.profile)
        .collect();
    assert_eq!(filtered_out, ["2"]);
    // Due three days on, past the end a day away: dropped, with the reason.
    let dropped = pending(&c, ending, PendingState::Cancelled);
    assert_eq!(dropped.len(), 3);
    assert!(dropped.iter().all(|p| p.reason.as_deref() == Some("due after the campaign's end")));
}

#[test]
fn two_schedulers_on_one_workspace_fire_each_send_once() {
    let (dir, later, c) = demo(1500);
    let db = sqlite(dir.path());
    let promo = c.create_campaign("Promo", CampaignKind::Orchestrated).unwrap().id;
    let follow = connector(&c, "Follow", Interaction::PushOpenedDirectly, promo, Delay::Hours(1));
    c.publish_connector(follow).unwrap();
    db.execute(
        "INSERT INTO cc_interactions (kind, at, campaign_id, profile_key) SELECT 'push_opened', ?1, ?2, id FROM profiles",
        rusqlite::params![c.now().to_string(), promo],
    )
    .unwrap();
    assert_eq!(pending(&c, follow, PendingState::Waiting).len(), 1500);
    later.by(2 * 3600);
    let other = console(dir.path(), &later);
    let threads: Vec<_> = [(Arc::clone(&c), "a"), (other, "b")]
        .into_iter()
        .map(|(console, holder)| {
            std::thread::Builder::new()
                .name(format!("scheduler-{holder}"))
                .spawn(move || {
                    for _ in 0..3 {
                        console.fire_due_connectors(holder, &|| false).unwrap();
                    }
                })
                .unwrap()
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let rows = format!(
        "SELECT COUNT(*) FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id WHERE d.campaign_id = {follow}"
    );
    assert_eq!(one(&db, &rows), 1500);
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages WHERE channel = 'push' AND body LIKE '%15% off'"),
        1500
    );
    assert_eq!(
        one(&db, "SELECT COUNT(DISTINCT idempotency_key) FROM cc_sandbox_messages"),
        one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages")
    );
    assert_eq!(pending(&c, follow, PendingState::Fired).len(), 1500);
}

#[test]
fn a_scheduler_killed_while_it_fires_sends_nothing_twice() {
    let (dir, later, c) = demo(30_000);
    let db = sqlite(dir.path());
    let promo = c.create_campaign("Promo", CampaignKind::Orchestrated).unwrap().id;
    let follow = connector(&c, "Follow", Interaction::PushOpenedDirectly, promo, Delay::Minutes(5));
    c.publish_connector(follow).unwrap();
    db.execute(
        "INSERT INTO cc_interactions (kind, at, campaign_id, profile_key) SELECT 'push_opened', ?1, ?2, id FROM profiles",
        rusqlite::params![c.now().to_string(), promo],
    )
    .unwrap();
    drop(c);
    later.by(3600);
    let clock = campaign_console::clock::wall().checked_add(jiff::SignedDuration::from_secs(3600)).unwrap().to_string();
    let kills = support::kill_again_and_again(
        dir.path(),
        &["--clock", &clock, "scheduler", "--once"],
        0x5eed,
        150,
        std::time::Duration::from_secs(300),
    );
    assert!(kills >= 3, "only {kills} kills happened before the pass finished");
    let sent = one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages WHERE channel = 'push'");
    assert_eq!(sent, 30_000, "every follow-up sent");
    assert_eq!(
        one(&db, "SELECT COUNT(DISTINCT idempotency_key) FROM cc_sandbox_messages WHERE channel = 'push'"),
        sent,
        "none twice"
    );
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_pending_sends WHERE state = 'fired'"), 30_000);
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent'"), 30_000);
}
