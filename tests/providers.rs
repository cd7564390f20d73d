//! Providers against local fakes on loopback: an SMTP sink (headers, both parts,
//! personalization, the keychain's password, Verify), an HTTP mock injecting faults (429 with
//! Retry-After, 500, dropped connections, slow answers, 400) for the webhook provider, the
//! direct-mail extraction file with its crash recovery, and a run killed again and again while
//! sending over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use support::mock_http;
use support::smtp_sink;
#[path = "sms/configurations.rs"]
mod configurations;
#[path = "sms/custom.rs"]
mod custom;
mod support;
#[path = "sms/twilio.rs"]
mod twilio;
#[path = "x/messages.rs"]
mod x_messages;
#[path = "x/service.rs"]
mod x_service;
#[path = "x/sync.rs"]
mod x_sync;

use std::time::{Duration, Instant};

use campaign_console::console::Console;
use campaign_console::model::{CampaignKind, Canvas, Channel, Message, ProviderKind, ProviderSettings};
use campaign_console::ui::testing;
use mock_http::{MockHttp, Reply};
use serde_json::json;
use support::{one, settings, sqlite};

fn blast(channel: Channel, credential: &str, message: Message) -> Canvas {
    support::blast(channel, Some(credential), message)
}

fn run(console: &Console, campaign: &str) -> campaign_console::console::RunSummary {
    console.run_campaign(campaign, false, None, &mut |_, _| {}, &|| false).unwrap()
}

/// The recipient (profile id) of an idempotency key `delivery:recipient:secondary`.
fn recipient(key: &str) -> i64 {
    key.split(':').nth(1).and_then(|r| r.parse().ok()).unwrap_or(-1)
}

#[test]
fn smtp_sends_both_parts_with_headers_personalized_signed_in_with_the_keychain_password() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(40, 5, false, &mut |_| true).unwrap();
    let db = sqlite(dir.path());
    db.execute_batch(
        "UPDATE profiles SET email_opt_in = 1, email = 'p' || id || '@example.com';
         UPDATE profiles SET first_name = 'Ann & <Bo>' WHERE id = 1;",
    )
    .unwrap();
    let sink = smtp_sink::SmtpSink::start("mailer", "s3cret");
    let smtp = settings(
        ProviderKind::Smtp,
        json!({
            "host": "127.0.0.1", "port": sink.port, "tls": "none", "username": "mailer",
            "from": "Travel Co <news@example.com>", "reply_to": "help@example.com",
            "unsubscribe": "https://example.com/unsub/{key}",
        }),
    );
    let credential = console.add_credential(Channel::Email, "Relay", smtp.clone(), Some("s3cret")).unwrap();
    // The password is in the keychain, not in the workspace.
    let stored: String = db
        .query_row(
            "SELECT settings_json || COALESCE(secret_ref, '') FROM cc_credentials WHERE name = 'Relay'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!stored.contains("s3cret"));

    // Verify signs in without sending; a wrong password says so.
    let verified = console.verify_credential(Some(credential.id), &smtp, None).unwrap();
    assert!(verified.contains("signed in as mailer"), "{verified}");
    let refused = console.verify_credential(None, &smtp, Some("wrong".into())).unwrap_err().to_string();
    assert!(refused.contains("535"), "{refused}");
    assert!(sink.mails().is_empty(), "Verify sends nothing");
    // Settings that cannot work are refused when saved, with what to fix.
    let err = console
        .add_credential(
            Channel::Email,
            "Open relay",
            settings(ProviderKind::Smtp, json!({"host": "smtp.example.com", "tls": "none", "from": "a@example.com"})),
            None,
        )
        .unwrap_err();
    assert!(err.to_string().contains("unencrypted"), "{err}");

    let c = console.create_campaign("Mails", CampaignKind::Orchestrated).unwrap();
    let message = Message {
        subject: "Hello {{ profile.first_name }}".into(),
        text: "Dear {{ profile.first_name }}, see you in {{ profile.city }}.".into(),
        html: "<p>Dear {{ profile.first_name }}</p>".into(),
        ..Message::default()
    };
    console.save_canvas(c.id, &blast(Channel::Email, "Relay", message)).unwrap();
    let summary = run(&console, "Mails");
    let d = &summary.deliveries[0];
    assert_eq!(d.count(campaign_console::model::delivery::status::SENT), 40, "{d:?}");
    let mails = sink.mails();
    assert_eq!(mails.len(), 40);
    assert!(mails.iter().all(|m| m.user.as_deref() == Some("mailer")), "signed in with the keychain's password");

    let first = mails.iter().find(|m| m.to == ["<p1@example.com>"]).expect("the mail to profile 1");
    let key: String =
        db.query_row("SELECT idempotency_key FROM cc_ledger WHERE recipient_key = '1'", [], |r| r.get(0)).unwrap();
    let city: String = db.query_row("SELECT city FROM profiles WHERE id = 1", [], |r| r.get(0)).unwrap();
    let data = &first.data;
    for expected in [
        "Subject: Hello Ann & <Bo>".to_owned(),
        "Reply-To: help@example.com".to_owned(),
        format!("List-Unsubscribe: <https://example.com/unsub/{key}>"),
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click".to_owned(),
        "multipart/alternative".to_owned(),
        "Content-Type: text/plain".to_owned(),
        "Content-Type: text/html".to_owned(),
        format!("Dear Ann & <Bo>, see you in {city}."),
        // Escaped in HTML only.
        "<p>Dear Ann &amp; &lt;Bo&gt;</p>".to_owned(),
    ] {
        assert!(data.contains(&expected), "{expected:?} missing from:\n{data}");
    }
    assert!(first.from.contains("news@example.com"));
    assert!(data.lines().any(|l| l.starts_with("From: ") && l.contains("Travel Co") && l.contains("news@example.com")));
    // The ledger keeps the server's queue id.
    let id: String =
        db.query_row("SELECT provider_message_id FROM cc_ledger WHERE recipient_key = '1'", [], |r| r.get(0)).unwrap();
    assert!(id.starts_with("SINK"), "{id}");
}

#[test]
fn webhook_faults_end_every_message_sent_or_failed_with_its_reason_and_the_rate_holds() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(120, 6, false, &mut |_| true).unwrap();
    sqlite(dir.path())
        .execute_batch("UPDATE profiles SET sms_opt_in = 1, phone = '+3361' || printf('%07d', id);")
        .unwrap();
    // By recipient: 0 a permanent 400; 1 a 429 asking to wait; 2 a 500; 3 a dropped connection;
    // 4 an answer slower than the timeout; each of 1–4 succeeds on the next try; 6 a 200 whose
    // body is cut short.
    let mock = MockHttp::start(|request, before| {
        let r = recipient(&request.key());
        let ok = Reply::ok(&format!("{{\"id\": \"m-{r}\"}}"));
        match (r % 10, before) {
            (0, _) => Reply::Status {
                status: 400,
                headers: Vec::new(),
                body: "{\"error\": \"invalid number\"}".into(),
                delay: Duration::ZERO,
            },
            (1, 0) => Reply::Status {
                status: 429,
                headers: vec![("Retry-After".into(), "1".into())],
                body: String::new(),
                delay: Duration::ZERO,
            },
            (2, 0) => Reply::status(500),
            (3, 0) => Reply::Drop,
            (4, 0) => {
                Reply::Status { status: 200, headers: Vec::new(), body: "{}".into(), delay: Duration::from_secs(3) }
            }
            // Accepted, then the answer is cut: it went, so it is not sent again.
            (6, _) => Reply::Truncated,
            _ => ok,
        }
    });
    let hook = settings(
        ProviderKind::Http,
        json!({
            "url": mock.url, "secret_header": "Authorization", "timeout_seconds": 1,
            "rate_per_second": 40, "max_in_flight": 4, "retry_backoff_seconds": 0.2,
        }),
    );
    console.add_credential(Channel::Sms, "Hook", hook, Some("Bearer t0ken")).unwrap();
    let c = console.create_campaign("Texts", CampaignKind::Orchestrated).unwrap();
    let message = Message { text: "Hi {{ profile.first_name }}".into(), ..Message::default() };
    console.save_canvas(c.id, &blast(Channel::Sms, "Hook", message)).unwrap();
    let summary = run(&console, "Texts");
    let d = &summary.deliveries[0];
    assert_eq!(
        d.count(campaign_console::model::delivery::status::SENT)
            + d.count(campaign_console::model::delivery::status::FAILED),
        120,
        "every message ends sent or failed: {d:?}"
    );
    assert_eq!(d.count(campaign_console::model::delivery::status::FAILED), 12);
    let db = sqlite(dir.path());
    assert_eq!(
        one(
            &db,
            "SELECT COUNT(*) FROM cc_ledger WHERE status = 'failed' AND error_code = 'http_400' AND error_message LIKE '%invalid number%' AND attempts = 1"
        ),
        12,
        "a 400 is final, with the provider's code and words"
    );
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent' AND attempts = 2"),
        48,
        "429, 500, a dropped connection and a timeout are tried again, once"
    );
    let id: String =
        db.query_row("SELECT provider_message_id FROM cc_ledger WHERE recipient_key = '5'", [], |r| r.get(0)).unwrap();
    assert_eq!(id, "m-5", "the provider's id is kept");
    let cut = one(
        &db,
        "SELECT COUNT(*) FROM cc_ledger WHERE CAST(recipient_key AS INTEGER) % 10 = 6 AND status = 'sent' AND attempts = 1
           AND provider_message_id = idempotency_key",
    );
    assert_eq!(cut, 12, "a 200 whose body was cut counts as sent, once");

    let received = mock.received.lock().unwrap().clone();
    assert!(
        received.iter().all(|r| r.header("authorization") == Some("Bearer t0ken")),
        "the keychain's secret is sent"
    );
    assert!(received.iter().all(|r| r.method == "POST" && r.body.contains("\"to\":\"+3361")));
    // 429 with Retry-After: 1 is honoured.
    for r in (1..=120).filter(|r| r % 10 == 1) {
        let times: Vec<Instant> = received.iter().filter(|q| recipient(&q.key()) == r).map(|q| q.at).collect();
        assert_eq!(times.len(), 2);
        assert!(times[1].duration_since(times[0]) >= Duration::from_millis(950), "retried before Retry-After");
    }
    // The rate is never exceeded: the n-th request comes no sooner than n / rate after the first.
    let mut times: Vec<Instant> = received.iter().map(|r| r.at).collect();
    times.sort();
    for (n, at) in times.iter().enumerate() {
        let earliest = Duration::from_secs_f64(n as f64 / 40.0);
        assert!(at.duration_since(times[0]) + Duration::from_millis(15) >= earliest, "request {n} came too early");
    }
}

#[test]
fn direct_mail_writes_an_extraction_file_and_a_crash_does_not_write_a_line_twice() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(50, 7, false, &mut |_| true).unwrap();
    let folder = out.path().display().to_string();
    console
        .add_credential(
            Channel::DirectMail,
            "Printer",
            settings(ProviderKind::FileExport, json!({ "folder": folder })),
            None,
        )
        .unwrap();
    let c = console.create_campaign("Letters", CampaignKind::Orchestrated).unwrap();
    let columns = vec!["profile.first_name".to_owned(), "profile.last_name".to_owned(), "profile.city".to_owned()];
    let message = Message { columns, ..Message::default() };
    console.save_canvas(c.id, &blast(Channel::DirectMail, "Printer", message)).unwrap();
    let summary = run(&console, "Letters");
    let d = &summary.deliveries[0];
    assert_eq!(d.count(campaign_console::model::delivery::status::SENT), 50);
    let file = out.path().join(format!("direct-mail-delivery-{}.csv", d.id));
    let read = || {
        let mut r = csv::ReaderBuilder::new().flexible(true).from_path(&file).unwrap();
        let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        let rows: Vec<Vec<String>> = r.records().map(|x| x.unwrap().iter().map(str::to_owned).collect()).collect();
        (header, rows)
    };
    let (header, rows) = read();
    assert_eq!(header, ["idempotency_key", "profile.first_name", "profile.last_name", "profile.city"]);
    assert_eq!(rows.len(), 50);
    let db = sqlite(dir.path());
    let (first, city): (String, String) =
        db.query_row("SELECT first_name, city FROM profiles WHERE id = 3", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    let row3 = rows.iter().find(|r| recipient(&r[0]) == 3).unwrap();
    assert_eq!((&row3[1], &row3[3]), (&first, &city));

    // A crash after the file was written and before the ledger said so: ten rows left in
    // `sending`, the delivery unfinished, and a torn half line at the end of the file.
    db.execute_batch(&format!(
        "UPDATE cc_ledger SET status = 'sending', provider_message_id = NULL WHERE delivery_id = {0} AND CAST(recipient_key AS INTEGER) <= 10;
         UPDATE cc_ledger SET status = 'queued', provider_message_id = NULL WHERE delivery_id = {0} AND CAST(recipient_key AS INTEGER) > 45;
         UPDATE cc_deliveries SET status = 'sending', finished_at = NULL WHERE id = {0};",
        d.id
    ))
    .unwrap();
    // Rows 46–50 "never reached the file": cut them off, leaving a torn line.
    let text = std::fs::read_to_string(&file).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| recipient(l.split(',').next().unwrap()) <= 45).collect();
    let mut rewritten = kept.join("\n");
    rewritten.push('\n');
    rewritten.push_str(&format!("{}:99:,Torn", d.id));
    std::fs::write(&file, rewritten).unwrap();
    let (_, before) = read();
    assert_eq!(before.len(), 46, "45 whole lines and a torn one");

    let again = console.run_campaign("Letters", false, None, &mut |_, _| {}, &|| false).unwrap();
    assert!(again.resumed);
    assert_eq!(again.deliveries[0].count(campaign_console::model::delivery::status::SENT), 50);
    let (_, rows) = read();
    assert_eq!(rows.len(), 50, "the ten found in the file are not written again; the five missing are");
    let mut keys: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 50, "no line twice, the torn one gone");
}

#[test]
fn killed_again_and_again_while_sending_over_http_no_key_reaches_the_provider_twice() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(20_000, 13, false, &mut |_| true).unwrap();
    sqlite(dir.path())
        .execute_batch("UPDATE profiles SET sms_opt_in = 1, phone = '+3361' || printf('%07d', id);")
        .unwrap();
    let mock = MockHttp::start(|request, _| Reply::ok(&format!("{{\"id\": \"m-{}\"}}", recipient(&request.key()))));
    // 1,500 a second at most: twelve lives of at most 0.9 s cannot send all 20,000.
    let hook = settings(ProviderKind::Http, json!({ "url": mock.url, "rate_per_second": 1500, "max_in_flight": 8 }));
    console.add_credential(Channel::Sms, "Hook", hook, None).unwrap();
    let c = console.create_campaign("Blast", CampaignKind::Orchestrated).unwrap();
    let message = Message { text: "Hi {{ profile.first_name }}, 20% off until Sunday.".into(), ..Message::default() };
    console.save_canvas(c.id, &blast(Channel::Sms, "Hook", message)).unwrap();
    drop(console);

    let kills = support::kill_again_and_again(
        dir.path(),
        &["run", "Blast"],
        0x2545_f491_4f6c_dd1d,
        200,
        Duration::from_secs(300),
    );
    assert!(kills >= 10, "only {kills} kills happened before the run finished: slow it down");

    let db = sqlite(dir.path());
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_ledger"), 20_000);
    let settled =
        one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status IN ('sent', 'failed', 'excluded', 'unconfirmed')");
    assert_eq!(settled, 20_000, "every row ends sent, failed, excluded or unconfirmed");
    let keys = mock.keys();
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "no idempotency key reached the provider twice");
    let sent = one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent'");
    let unconfirmed = one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'unconfirmed'");
    // A provider that cannot look messages up gets small claims (4 × its 8 at once), two of
    // them in flight at most: few rows are left unknown at each kill.
    assert!(unconfirmed <= kills * 64, "at most two claims' rows at each kill: {unconfirmed}");
    // The provider got every sent message, and at most the unconfirmed ones besides.
    assert!(
        keys.len() as i64 >= sent && keys.len() as i64 <= sent + unconfirmed,
        "{} {sent} {unconfirmed}",
        keys.len()
    );

    // The user checks at the provider and settles them: not sent, with the reason.
    let console = testing::console(dir.path()).unwrap();
    let delivery = one(&db, "SELECT id FROM cc_deliveries");
    assert_eq!(console.resolve_unconfirmed(delivery, false).unwrap(), unconfirmed as u64);
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'unconfirmed'"), 0);
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'failed' AND error_code = 'unconfirmed'"),
        unconfirmed
    );
    assert_eq!(
        one(&db, &format!("SELECT COUNT(*) FROM cc_interactions WHERE delivery_id = {delivery} AND kind = 'failed'")),
        one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'failed'")
    );
}

/// Adding a credential does not change what sends; "Make default" does, and the delivery (and
/// `deliveries`) names the credential that sent it.
#[test]
fn the_channels_default_credential_is_the_one_that_sends_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(30, 5, false, &mut |_| true).unwrap();
    sqlite(dir.path())
        .execute_batch("UPDATE profiles SET email_opt_in = 1, email = 'p' || id || '@example.com'")
        .unwrap();
    let sink = smtp_sink::SmtpSink::start("mailer", "pw");
    let smtp = settings(
        ProviderKind::Smtp,
        json!({"host": "127.0.0.1", "port": sink.port, "tls": "none", "username": "mailer", "from": "news@example.com"}),
    );
    let relay = console.add_credential(Channel::Email, "My relay", smtp, Some("pw")).unwrap();
    let default = |console: &Console| {
        let list = console.credentials().unwrap();
        campaign_console::model::default_credential(&list, Channel::Email).map(|c| c.name.clone())
    };
    assert_eq!(default(&console).as_deref(), Some("Sandbox"), "adding one does not change the default");
    // A name that differs only by case is refused.
    let clash = console.add_credential(Channel::Email, "my RELAY", ProviderSettings::default(), None).unwrap_err();
    assert!(clash.to_string().contains("already exists"), "{clash}");

    let message = Message { subject: "Hi".into(), text: "Hello".into(), ..Message::default() };
    let c = console.create_campaign("Default mail", CampaignKind::Orchestrated).unwrap();
    console.save_canvas(c.id, &support::blast(Channel::Email, None, message.clone())).unwrap();
    let summary = run(&console, "Default mail");
    assert_eq!(summary.deliveries[0].credential.as_deref(), Some("Sandbox (Sandbox)"));
    assert!(sink.mails().is_empty(), "the Sandbox sent");

    console.make_default_credential(relay.id).unwrap();
    assert_eq!(default(&console).as_deref(), Some("My relay"));
    let c = console.create_campaign("Relay mail", CampaignKind::Orchestrated).unwrap();
    console.save_canvas(c.id, &support::blast(Channel::Email, None, message)).unwrap();
    let summary = run(&console, "Relay mail");
    let d = &summary.deliveries[0];
    assert_eq!(d.credential.as_deref(), Some("My relay (SMTP)"));
    assert_eq!(
        (d.count(campaign_console::model::delivery::status::SENT), sink.mails().len()),
        (30, 30),
        "the default sent them"
    );

    // Deleting the default falls back to the oldest, said so.
    console.delete_credential(relay.id).unwrap();
    assert_eq!(default(&console).as_deref(), Some("Sandbox"));
}
