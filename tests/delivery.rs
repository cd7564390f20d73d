//! Delivery through the Sandbox: the ledger is written before anything is sent, every message
//! is personalized and sent once, a campaign does not run twice by accident, and a run killed at
//! random moments (SIGKILL, over and over) ends with every row settled and no message sent twice.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use std::time::{Duration, Instant};

use campaign_console::console::Console;
use campaign_console::model::{CampaignKind, Canvas, Channel, Message};
use campaign_console::store::deliveries::status;
use campaign_console::ui::testing;

mod support;

use support::{one, sqlite};

fn blast(channel: Channel, message: Message) -> Canvas {
    support::blast(channel, None, message)
}

fn run(console: &Console, campaign: &str, again: bool) -> campaign_console::console::RunSummary {
    console.run_campaign(campaign, again, None, &mut |_, _| {}, &|| false).unwrap()
}

#[test]
fn the_demo_campaign_sends_each_message_once_through_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(1_000, 3, false, &mut |_| true).unwrap();
    let (_, _, report) = console.count_campaign("Summer getaway", &|| false).unwrap();

    let summary = run(&console, "Summer getaway", false);
    assert!(!summary.resumed);
    assert_eq!(summary.deliveries.len(), 2);
    let db = sqlite(dir.path());
    for d in &summary.deliveries {
        assert_eq!(d.status, "done");
        // One ledger row per recipient of the transition into the channel activity.
        let inbound = if d.activity_id == "email" { "t_email" } else { "t_sample" };
        assert_eq!(d.total(), report.count_of(inbound).unwrap(), "{}", d.activity_id);
        assert_eq!(d.count(status::SENT) + d.count(status::EXCLUDED), d.total());
        let sandbox =
            one(&db, &format!("SELECT COUNT(*) FROM cc_sandbox_messages WHERE idempotency_key LIKE '{}:%'", d.id));
        assert_eq!(sandbox as u64, d.count(status::SENT));
    }
    // SMS to profiles without a phone or who did not opt in are excluded, with the reason.
    let sms = summary.deliveries.iter().find(|d| d.channel == "sms").unwrap();
    assert!(sms.count(status::EXCLUDED) > 0);
    let not_opted = one(
        &db,
        &format!(
            "SELECT COUNT(*) FROM cc_ledger l JOIN profiles p ON p.id = CAST(l.recipient_key AS INTEGER)
             WHERE l.delivery_id = {} AND l.status = 'excluded'
               AND ((l.error_code = 'no_address' AND COALESCE(TRIM(p.phone), '') = '')
                 OR (l.error_code = 'not_opted_in' AND p.sms_opt_in = 0 AND TRIM(p.phone) <> ''))",
            sms.id
        ),
    );
    assert_eq!(not_opted as u64, sms.count(status::EXCLUDED));
    // Personalized: the profile's first name and the enrichment's number of stays.
    let (body, first_name, stays): (String, String, i64) = db
        .query_row(
            "SELECT m.body, p.first_name, json_extract(l.vars_json, '$.stays')
             FROM cc_sandbox_messages m JOIN cc_ledger l ON l.idempotency_key = m.idempotency_key
             JOIN profiles p ON p.id = CAST(l.recipient_key AS INTEGER) WHERE m.channel = 'sms' LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let plural = if stays == 1 { "" } else { "s" };
    assert!(body.starts_with(&format!("{first_name}, thanks for your {stays} stay{plural} with us!")), "{body}");
    let html: String =
        db.query_row("SELECT html FROM cc_sandbox_messages WHERE channel = 'email'", [], |r| r.get(0)).unwrap();
    assert!(html.starts_with("<p>Hello ") && html.contains("<strong>20 % off</strong>"), "{html}");
    // No idempotency key twice; one "sent" event per message sent.
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages"),
        one(&db, "SELECT COUNT(DISTINCT idempotency_key) FROM cc_sandbox_messages")
    );
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_interactions WHERE kind = 'sent'"),
        one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages")
    );

    // The Sandbox's events come after its delay: with none, at the next look.
    db.execute("UPDATE cc_credentials SET settings_json = json_set(settings_json, '$.delay_seconds', 0)", []).unwrap();
    let email = console.deliveries(Some("Summer getaway")).unwrap().into_iter().find(|d| d.channel == "email").unwrap();
    let sent = email.count(status::SENT);
    assert_eq!(email.events_of("delivered") + email.events_of("bounced"), sent);
    assert!(email.events_of("bounced") > 0 && email.events_of("bounced") < sent / 10, "{:?}", email.events);
    assert!(email.events_of("opened") > sent / 4 && email.events_of("opened") < sent * 2 / 3, "{:?}", email.events);
    assert!(email.events_of("clicked") > 0 && email.events_of("clicked") < email.events_of("opened"));
    // Written once: another look adds nothing.
    let again = console.deliveries(Some("Summer getaway")).unwrap().into_iter().find(|d| d.channel == "email").unwrap();
    assert_eq!(again.events, email.events);
    let sms = console.deliveries(Some("Summer getaway")).unwrap().into_iter().find(|d| d.channel == "sms").unwrap();
    assert_eq!(sms.events_of("opened"), 0, "SMS are not opened");

    // Running it again is refused; on purpose, it makes new deliveries.
    let again = console.run_campaign("Summer getaway", false, None, &mut |_, _| {}, &|| false).unwrap_err();
    assert!(again.to_string().contains("already run"), "{again}");
    let summary = run(&console, "Summer getaway", true);
    assert_eq!(summary.deliveries.len(), 4);
}

#[test]
fn rows_left_sending_by_a_crash_are_looked_up_not_resent() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(500, 8, false, &mut |_| true).unwrap();
    // Stop the run right after the ledgers are written: nothing sent yet.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let r = console.run_campaign(
        "Summer getaway",
        false,
        None,
        &mut |_, _| stop.store(true, std::sync::atomic::Ordering::SeqCst),
        &|| stop.load(std::sync::atomic::Ordering::SeqCst),
    );
    r.unwrap();
    let db = sqlite(dir.path());
    let queued = one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'queued'");
    assert!(queued > 10, "{queued}");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages"), 0);
    // Simulate a crash in the middle of a batch: ten rows claimed; the provider got five.
    db.execute_batch(
        "UPDATE cc_ledger SET status = 'sending', attempts = 1
         WHERE id IN (SELECT id FROM cc_ledger WHERE status = 'queued' ORDER BY id LIMIT 10);
         INSERT INTO cc_sandbox_messages (idempotency_key, channel, address, body, created_at)
         SELECT idempotency_key, 'email', address, 'sent before the crash', '2026-01-01T00:00:00Z'
         FROM cc_ledger WHERE status = 'sending' ORDER BY id LIMIT 5;",
    )
    .unwrap();
    let summary = run(&console, "Summer getaway", false);
    assert!(summary.resumed);
    for d in &summary.deliveries {
        assert_eq!(d.status, "done");
        assert_eq!(d.count(status::SENT) + d.count(status::EXCLUDED), d.total());
    }
    // The five the provider had were recorded as sent, not sent again; the others went once.
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages WHERE body = 'sent before the crash'"), 5);
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages"),
        one(&db, "SELECT COUNT(DISTINCT idempotency_key) FROM cc_sandbox_messages")
    );
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages"),
        one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent'")
    );
}

#[test]
fn a_damaged_stored_message_is_an_error_and_nothing_of_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(300, 8, false, &mut |_| true).unwrap();
    // Stop right after the ledgers are written, then damage one delivery's stored message.
    let stop = std::sync::atomic::AtomicBool::new(false);
    console
        .run_campaign(
            "Summer getaway",
            false,
            None,
            &mut |_, _| stop.store(true, std::sync::atomic::Ordering::SeqCst),
            &|| stop.load(std::sync::atomic::Ordering::SeqCst),
        )
        .unwrap();
    let db = sqlite(dir.path());
    db.execute_batch("UPDATE cc_deliveries SET message_json = '{\"subject\": 12' WHERE channel = 'email'").unwrap();
    let err = console.run_campaign("Summer getaway", false, None, &mut |_, _| {}, &|| false).unwrap_err();
    assert!(err.to_string().contains("is damaged in the workspace"), "{err}");
    // Not sent as an empty message: the email ledger is still queued, nothing reached the Sandbox.
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages WHERE channel = 'email'"),
        0,
        "a damaged message must not be sent"
    );
    assert!(
        one(
            &db,
            "SELECT COUNT(*) FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id WHERE d.channel = 'email' AND l.status = 'queued'"
        ) > 0
    );
}

#[test]
fn a_message_that_cannot_be_sent_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(200, 2, false, &mut |_| true).unwrap();
    let c = console.create_campaign("Empty SMS", CampaignKind::Orchestrated).unwrap();
    console.save_canvas(c.id, &blast(Channel::Sms, Message::default())).unwrap();
    let e = console.run_campaign("Empty SMS", false, None, &mut |_, _| {}, &|| false).unwrap_err();
    assert!(e.to_string().contains("the message needs a text before it can be sent"), "{e}");
    assert_eq!(one(&sqlite(dir.path()), "SELECT COUNT(*) FROM cc_deliveries"), 0);
}

/// Everyone → one channel activity.
#[test]
fn killed_again_and_again_a_run_never_sends_a_message_twice() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(20_000, 11, false, &mut |_| true).unwrap();
    let c = console.create_campaign("Blast", CampaignKind::Orchestrated).unwrap();
    let message = Message {
        subject: "Hello {{ profile.first_name }}".into(),
        text: "Dear {{ profile.first_name }} {{ profile.last_name }}, see you soon.".into(),
        html: String::new(),
        columns: Vec::new(),
    };
    console.save_canvas(c.id, &blast(Channel::Email, message)).unwrap();
    drop(console);

    let kills = support::kill_again_and_again(
        dir.path(),
        &["run", "Blast", "--rate", "2500"],
        0x9e37_79b9_7f4a_7c15,
        150,
        Duration::from_secs(240),
    );
    assert!(kills >= 10, "only {kills} kills happened before the run finished: slow it down");

    let db = sqlite(dir.path());
    let rows = one(&db, "SELECT COUNT(*) FROM cc_ledger");
    assert_eq!(rows, 20_000, "one ledger row per profile");
    let settled =
        one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status IN ('sent', 'failed', 'excluded', 'unconfirmed')");
    assert_eq!(settled, rows, "every row ends sent, failed, excluded or unconfirmed");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_deliveries"), 1, "a restart carries on, it does not start over");
    let sent = one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent'");
    assert!(sent > 5_000, "{sent}");
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages"),
        sent,
        "a message for every row sent, and only those"
    );
    assert_eq!(
        one(&db, "SELECT COUNT(DISTINCT idempotency_key) FROM cc_sandbox_messages"),
        sent,
        "no idempotency key reached the provider twice"
    );
}

#[test]
fn invalid_addresses_are_excluded_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(200, 4, false, &mut |_| true).unwrap();
    let db = sqlite(dir.path());
    db.execute_batch(
        "UPDATE profiles SET sms_opt_in = 1, email_opt_in = 1, phone = '+33612345678', email = 'ok.' || id || '@example.com';
         UPDATE profiles SET phone = '0612345678' WHERE id = 1;
         UPDATE profiles SET phone = '+33 6 12 34 56 78' WHERE id = 2;
         UPDATE profiles SET phone = '+0612345678' WHERE id = 3;
         UPDATE profiles SET phone = '+331' WHERE id = 4;
         UPDATE profiles SET phone = '+4915112345678' WHERE id = 5;
         UPDATE profiles SET email = 'not-an-email' WHERE id = 1;
         UPDATE profiles SET email = 'a@b' WHERE id = 2;
         UPDATE profiles SET email = 'a@@example.com' WHERE id = 3;
         UPDATE profiles SET email = 'two words@example.com' WHERE id = 4;
         UPDATE profiles SET email = 'x@example.com.' WHERE id = 5;
         UPDATE profiles SET email = 'first.last+tag@sub.example.org' WHERE id = 6;",
    )
    .unwrap();
    for (name, channel) in [("Texts", Channel::Sms), ("Mails", Channel::Email)] {
        let c = console.create_campaign(name, CampaignKind::Orchestrated).unwrap();
        let message = Message {
            subject: "Hi".into(),
            text: "Hello {{ profile.first_name }}".into(),
            html: String::new(),
            columns: Vec::new(),
        };
        console.save_canvas(c.id, &blast(channel, message)).unwrap();
        run(&console, name, false);
    }
    let invalid = |channel: &str| -> Vec<i64> {
        let mut stmt = db
            .prepare(
                "SELECT CAST(l.recipient_key AS INTEGER) FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id
                 WHERE d.channel = ?1 AND l.status = 'excluded' AND l.error_code = 'invalid_address' ORDER BY 1",
            )
            .unwrap();
        stmt.query_map([channel], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(invalid("sms"), [1, 2, 3, 4]);
    assert_eq!(invalid("email"), [1, 2, 3, 4, 5]);
    let reason: String = db
        .query_row("SELECT error_message FROM cc_ledger WHERE error_code = 'invalid_address' LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert!(reason.starts_with("the address is not a valid"), "{reason}");
    // The others were sent.
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent'"), (200 - 4) + (200 - 5));
}

#[test]
fn a_proof_goes_to_typed_addresses_and_is_not_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(500, 5, false, &mut |_| true).unwrap();
    let campaign = console.campaign("Summer getaway").unwrap();
    let canvas = console.canvas(&campaign).unwrap();
    // Previews and proofs use the last count of the canvas being edited.
    let e = console.send_proof(campaign.id, &canvas, "sms", 0, &["+33612345678".into()]).unwrap_err().to_string();
    assert!(e.contains("count the canvas first"), "{e}");
    support::count_as_edited(&console, campaign.id, &canvas);
    let e = console.send_proof(campaign.id, &canvas, "sms", 0, &["06 12 34 56 78".into()]).unwrap_err().to_string();
    assert!(e.contains("not a phone number in international form"), "{e}");
    let e = console.send_proof(campaign.id, &canvas, "sms", 0, &[" ".into()]).unwrap_err().to_string();
    assert!(e.contains("type at least one address"), "{e}");

    let preview = console.preview_message(campaign.id, &canvas, "sms", 3).unwrap();
    let n =
        console.send_proof(campaign.id, &canvas, "sms", 3, &["+33612345678".into(), "+447911123456".into()]).unwrap();
    assert_eq!(n, 2);
    let db = sqlite(dir.path());
    let bodies: Vec<(String, String)> = db
        .prepare("SELECT address, body FROM cc_sandbox_messages ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        bodies,
        [("+33612345678".to_owned(), preview.text.clone()), ("+447911123456".to_owned(), preview.text.clone())]
    );
    let deliveries = console.deliveries(Some("Summer getaway")).unwrap();
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].is_proof);
    // A proof is not a run: the campaign still runs without --again.
    let summary = run(&console, "Summer getaway", false);
    assert_eq!(summary.deliveries.iter().filter(|d| !d.is_proof).count(), 2);
}

/// A provider that fails on purpose: permanently for some recipients, always transiently for
/// others, and transiently twice before succeeding for the rest; it notes when each call came.
struct Flaky {
    calls: std::sync::Mutex<Vec<(String, Instant)>>,
}

impl Flaky {
    fn recipient(key: &str) -> i64 {
        key.split(':').nth(1).unwrap().parse().unwrap()
    }
}

impl campaign_console::channels::Provider for Flaky {
    fn name(&self) -> &str {
        "Flaky"
    }

    fn capabilities(&self) -> campaign_console::channels::Capabilities {
        campaign_console::channels::Capabilities::default()
    }

    fn send<'a>(
        &'a self,
        m: &'a campaign_console::channels::Outgoing,
    ) -> campaign_console::channels::Answer<'a, String> {
        Box::pin(async move { self.answer(m) })
    }
}

impl Flaky {
    fn answer(
        &self,
        m: &campaign_console::channels::Outgoing,
    ) -> Result<String, campaign_console::channels::SendError> {
        use campaign_console::channels::SendError;
        let mut calls = self.calls.lock().unwrap();
        calls.push((m.idempotency_key.clone(), Instant::now()));
        let tries = calls.iter().filter(|(k, _)| *k == m.idempotency_key).count();
        let who = Self::recipient(&m.idempotency_key);
        if who % 10 == 0 {
            return Err(SendError::Permanent { code: "21211".into(), message: "invalid 'To' number".into() });
        }
        if who % 7 == 0 {
            return Err(SendError::Transient { code: "503".into(), message: "unavailable".into(), retry_after: None });
        }
        if tries <= 2 {
            let retry_after = Some(Duration::from_millis(5));
            return Err(SendError::Transient { code: "429".into(), message: "too many requests".into(), retry_after });
        }
        Ok(format!("flaky-{who}"))
    }
}

#[test]
fn transient_errors_are_retried_permanent_ones_are_not_and_the_rate_holds() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(150, 12, false, &mut |_| true).unwrap();
    let db = sqlite(dir.path());
    db.execute_batch("UPDATE profiles SET sms_opt_in = 1, phone = '+3361' || printf('%07d', id);").unwrap();
    let c = console.create_campaign("Flaky", CampaignKind::Orchestrated).unwrap();
    let message = Message { text: "Hi {{ profile.first_name }}".into(), ..Message::default() };
    console.save_canvas(c.id, &blast(Channel::Sms, message.clone())).unwrap();
    // Write the ledger, send nothing.
    let stop = std::sync::atomic::AtomicBool::new(false);
    console
        .run_campaign("Flaky", false, None, &mut |_, _| stop.store(true, std::sync::atomic::Ordering::SeqCst), &|| {
            stop.load(std::sync::atomic::Ordering::SeqCst)
        })
        .unwrap();
    let delivery = one(&db, "SELECT id FROM cc_deliveries");
    let model = campaign_console::store::data_model::load(&db).unwrap();
    let recipients = campaign_console::delivery::Recipients {
        model: &model,
        profile: "profiles".into(),
        secondary: None,
        enrichment: Vec::new(),
        profile_values: false,
        visitor: false,
        trigger: false,
    };
    let provider = std::sync::Arc::new(Flaky { calls: std::sync::Mutex::new(Vec::new()) });
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sender = campaign_console::delivery::Sender {
        channel: Channel::Sms,
        provider: provider.clone(),
        // Four calls at once, 400 a second at most.
        throttle: std::sync::Arc::new(campaign_console::delivery::Throttle::new(campaign_console::channels::Pace {
            rate_per_second: Some(400.0),
            max_in_flight: 4,
        })),
        options: campaign_console::delivery::SendOptions {
            batch: 40,
            max_attempts: 3,
            backoff: Duration::from_millis(20),
        },
        runtime: runtime.handle(),
        short_links: None,
        tracking: None,
        daily: None,
    };
    let mut conn = campaign_console::store::open_connection(&dir.path().join("workspace.sqlite")).unwrap();
    let p =
        campaign_console::delivery::send(&mut conn, delivery, &message, &recipients, &sender, &mut |_| {}, &|| false)
            .unwrap();
    assert_eq!(p.remaining, 0);
    assert_eq!(p.total, 150);
    let (permanent, hopeless) =
        ((1..=150).filter(|i| i % 10 == 0).count(), (1..=150).filter(|i| i % 7 == 0 && i % 10 != 0).count());
    assert_eq!(p.failed as usize, permanent + hopeless);
    assert_eq!(p.sent as usize, 150 - permanent - hopeless);
    // Permanent errors: one attempt, the provider's code kept.
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE error_code = '21211' AND status = 'failed' AND attempts = 1"),
        permanent as i64
    );
    // Always transient: given up after the limit, saying so.
    assert_eq!(
        one(
            &db,
            "SELECT COUNT(*) FROM cc_ledger WHERE status = 'failed' AND error_code = '503' AND attempts = 3 AND error_message LIKE '%gave up after 3 attempts%'"
        ),
        hopeless as i64
    );
    // Twice transient, then sent on the third attempt.
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent' AND attempts = 3"), p.sent as i64);
    // The rate is never exceeded: the n-th call comes no sooner than n / rate after the first.
    let calls = provider.calls.lock().unwrap();
    let first = calls[0].1;
    for (n, (_, at)) in calls.iter().enumerate() {
        let earliest = Duration::from_secs_f64(n as f64 / 400.0);
        assert!(at.duration_since(first) + Duration::from_millis(2) >= earliest, "call {n} came too early");
    }
}

#[test]
fn the_frequency_cap_excludes_profiles_that_had_enough_messages_today() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(80, 8, false, &mut |_| true).unwrap();
    let db = sqlite(dir.path());
    db.execute_batch(
        "UPDATE profiles SET sms_opt_in = 1, email_opt_in = 1, phone = '+3361' || printf('%07d', id),
                             email = 'p' || id || '@example.com';",
    )
    .unwrap();
    console.set_frequency_cap(Some(1)).unwrap();
    assert_eq!(console.frequency_cap().unwrap(), Some(1));
    let text = Message { subject: "Hi".into(), text: "Hello {{ profile.first_name }}".into(), ..Message::default() };
    for (name, channel) in [("Mails", Channel::Email), ("Texts", Channel::Sms)] {
        let c = console.create_campaign(name, CampaignKind::Orchestrated).unwrap();
        console.save_canvas(c.id, &blast(channel, text.clone())).unwrap();
    }
    let mails = run(&console, "Mails", false);
    assert_eq!(mails.deliveries[0].count(status::SENT), 80);
    // Everyone had one message in the last 24 hours: the texts are all held back, with why.
    let texts = run(&console, "Texts", false);
    let d = &texts.deliveries[0];
    assert_eq!((d.count(status::SENT), d.count(status::EXCLUDED)), (0, 80));
    assert_eq!(
        one(
            &db,
            &format!(
                "SELECT COUNT(*) FROM cc_ledger WHERE delivery_id = {} AND error_code = 'frequency_cap' AND error_message LIKE '%1 messages in the last 24 hours%'",
                d.id
            )
        ),
        80
    );
    // A cap of two lets one more through; excluded rows did not count.
    console.set_frequency_cap(Some(2)).unwrap();
    let again = run(&console, "Texts", true);
    let d = again.deliveries.iter().max_by_key(|d| d.id).unwrap();
    assert_eq!(d.count(status::SENT), 80);
    // No cap: nothing is held back for it.
    console.set_frequency_cap(None).unwrap();
    assert_eq!(console.frequency_cap().unwrap(), None);
    let third = run(&console, "Mails", true);
    assert_eq!(third.deliveries.iter().max_by_key(|d| d.id).unwrap().count(status::SENT), 80);
}

/// Two processes (here two consoles on one workspace) starting the same campaign at once: one
/// sends, the other refuses and says so; every message goes once, in one delivery.
#[test]
fn a_campaign_being_sent_elsewhere_is_not_started_twice() {
    let dir = tempfile::tempdir().unwrap();
    let first = testing::console(dir.path()).unwrap();
    first.generate_demo(30, 3, false, &mut |_| true).unwrap();
    support::sqlite(dir.path())
        .execute_batch("UPDATE profiles SET email_opt_in = 1, email = 'p' || id || '@example.com';")
        .unwrap();
    let c = first.create_campaign("Once", CampaignKind::Orchestrated).unwrap();
    let message = Message { subject: "Hi".into(), text: "Hello".into(), ..Message::default() };
    first.save_canvas(c.id, &blast(Channel::Email, message)).unwrap();
    let second = testing::console(dir.path()).unwrap();
    let sending = std::thread::Builder::new()
        .name("first".into())
        .spawn(move || {
            // 30 messages at 10 per second: three seconds of sending.
            first.run_campaign("Once", false, Some(10.0), &mut |_, _| {}, &|| false).unwrap()
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let refused = second.run_campaign("Once", false, None, &mut |_, _| {}, &|| false).unwrap_err().to_string();
    assert!(refused.contains("is being sent by another window or process now"), "{refused}");
    let summary = sending.join().unwrap();
    assert_eq!(summary.deliveries.len(), 1);
    assert_eq!(summary.deliveries[0].count(status::SENT), 30);
    let db = sqlite(dir.path());
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_deliveries"), 1, "one set of deliveries");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages"), 30, "each message once");
    // The lease was given up with the run: what refuses now is that it already ran.
    let after = second.run_campaign("Once", false, None, &mut |_, _| {}, &|| false).unwrap_err().to_string();
    assert!(after.contains("has already run"), "{after}");
}
