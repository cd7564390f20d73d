//! SMS configurations: the sender an SMS activity sends as (a Messaging Service or a number,
//! kept by a resumed run), the keywords and replies its number answers, the refusals that keep
//! a live campaign sending, and short links counted on the server.

use std::sync::Arc;

use campaign_console::console::Console;
use campaign_console::model::sms::{Keywords, SmsConfiguration};
use campaign_console::model::{ActivityKind, CampaignKind, Channel, Message};
use serde_json::json;

use super::support::fake_twilio::{FakeTwilio, SERVICE, SID, TOKEN};
use super::support::{one, sqlite};
use super::twilio::{Served, twilio_credential, workspace};

fn configuration(name: &str, credential_id: i64, sender: &str) -> SmsConfiguration {
    SmsConfiguration {
        id: 0,
        name: name.into(),
        credential_id,
        sender: sender.into(),
        keywords: Keywords::default(),
        shorten_links: false,
        created_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

/// A campaign "Texts" sending `text` to every profile with the configuration `name`.
fn texts_with(console: &Console, name: &str, text: &str) -> campaign_console::console::RunSummary {
    let c = console.create_campaign("Texts", CampaignKind::Orchestrated).unwrap();
    let message = Message { text: text.into(), ..Message::default() };
    let mut canvas = super::support::blast(Channel::Sms, None, message);
    for a in &mut canvas.activities {
        if let ActivityKind::Channel { configuration, .. } = &mut a.kind {
            *configuration = Some(name.into());
        }
    }
    console.save_canvas(c.id, &canvas).unwrap();
    console.run_campaign("Texts", false, None, &mut |_, _| {}, &|| false).unwrap()
}

#[test]
fn an_sms_activity_sends_as_its_configurations_sender_and_a_resumed_run_keeps_it() {
    let (dir, console) = workspace(4);
    let fake = FakeTwilio::start(|_, _| None);
    // The credential sends through a Messaging Service; the configuration, from a number.
    let credential = twilio_credential(&console, &fake, json!({}));
    let id = console.save_sms_configuration(&configuration("US numbers", credential, "+14155550123")).unwrap();
    let summary = texts_with(&console, "us NUMBERS", "Hello {{ profile.first_name }}");
    assert_eq!(summary.deliveries[0].count(campaign_console::model::delivery::status::SENT), 4);
    let created = fake.created();
    assert_eq!(created.len(), 4);
    for form in &created {
        let from: Vec<&str> = form.iter().filter(|(k, _)| k == "From").map(|(_, v)| v.as_str()).collect();
        assert_eq!(from, ["+14155550123"], "{form:?}");
        assert!(form.iter().all(|(k, _)| k != "MessagingServiceSid"), "one sender only: {form:?}");
    }
    let db = sqlite(dir.path());
    assert_eq!(one(&db, "SELECT configuration_id FROM cc_deliveries"), id, "the delivery keeps its configuration");
    assert_eq!(one(&db, "SELECT credential_id FROM cc_deliveries"), credential);
    let listed = console.deliveries(None).unwrap();
    assert_eq!(listed[0].credential.as_deref(), Some("US numbers: Twilio (Twilio)"), "the Deliveries screen names it");

    // A run left unfinished carries on from the sender it started with, even when the
    // activity has since been given another configuration.
    console.save_sms_configuration(&configuration("Service", credential, SERVICE)).unwrap();
    let texts = console.campaign("Texts").unwrap();
    let mut canvas = console.canvas(&texts).unwrap();
    for a in &mut canvas.activities {
        if let ActivityKind::Channel { configuration, .. } = &mut a.kind {
            *configuration = Some("Service".into());
        }
    }
    console.save_canvas(texts.id, &canvas).unwrap();
    let unfinish = || {
        db.execute_batch(
            "UPDATE cc_ledger SET status = 'queued', provider_message_id = NULL WHERE id = (SELECT MAX(id) FROM cc_ledger);
             UPDATE cc_deliveries SET status = 'sending', finished_at = NULL;
             UPDATE cc_campaigns SET status = 'draft' WHERE name = 'Texts';",
        )
        .unwrap();
    };
    unfinish();
    console.run_campaign("Texts", false, None, &mut |_, _| {}, &|| false).unwrap();
    let resumed = fake.created().pop().unwrap();
    assert_eq!(fake.created().len(), 5);
    assert!(resumed.contains(&("From".to_owned(), "+14155550123".to_owned())), "{resumed:?}");
    // Its configuration deleted meanwhile, nothing more of it is sent from another sender.
    unfinish();
    console.delete_sms_configuration(id).unwrap();
    let e = console.run_campaign("Texts", false, None, &mut |_, _| {}, &|| false).unwrap_err();
    assert!(e.to_string().contains("the SMS configuration this delivery started with"), "{e}");
    assert_eq!(fake.created().len(), 5, "nothing sent from another sender");
    // A new run sends through the activity's configuration now: the Messaging Service.
    db.execute("DELETE FROM cc_deliveries", []).unwrap();
    console.run_campaign("Texts", true, None, &mut |_, _| {}, &|| false).unwrap();
    let last = fake.created().pop().unwrap();
    assert!(last.contains(&("MessagingServiceSid".to_owned(), SERVICE.to_owned())), "{last:?}");
    assert!(last.iter().all(|(k, _)| k != "From"), "{last:?}");
}

#[test]
fn a_configuration_that_cannot_send_is_refused_with_every_reason() {
    let (_dir, console) = workspace(1);
    let sandbox = console.credentials().unwrap().into_iter().find(|c| c.channel == Channel::Sms).unwrap();
    let email = console.credentials().unwrap().into_iter().find(|c| c.channel == Channel::Email).unwrap();
    let mut c = configuration("  ", sandbox.id, SERVICE);
    c.keywords.help.push("stop".into());
    let e = console.save_sms_configuration(&c).unwrap_err().to_string();
    assert!(e.contains("needs a name"), "{e}");
    assert!(e.contains("only a Twilio credential sends through a Messaging Service"), "{e}");
    assert!(e.contains("in two lists"), "{e}");
    let e = console.save_sms_configuration(&configuration("Mail", email.id, "")).unwrap_err().to_string();
    assert!(e.contains("not an SMS credential"), "{e}");
    let e = console
        .save_sms_configuration(&configuration(campaign_console::demo::SMS_CONFIGURATION, sandbox.id, ""))
        .unwrap_err()
        .to_string();
    assert!(e.contains("already exists"), "{e}");
    assert_eq!(console.sms_configurations().unwrap().len(), 1, "only the demo's");
}

#[test]
fn a_configuration_or_its_credential_is_not_deleted_while_something_sends_with_it() {
    let (dir, console) = workspace(2);
    let demo = console.sms_configurations().unwrap().remove(0);
    assert_eq!(demo.name, campaign_console::demo::SMS_CONFIGURATION);
    sqlite(dir.path()).execute("UPDATE cc_campaigns SET status = 'live' WHERE name = 'Summer getaway'", []).unwrap();
    assert_eq!(
        console.campaigns_using_configuration(demo.id).unwrap().iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["Summer getaway"]
    );
    let e = console.delete_sms_configuration(demo.id).unwrap_err().to_string();
    assert!(e.contains("\u{201c}Summer getaway\u{201d} (live)"), "{e}");
    let e = console.delete_credential(demo.credential_id).unwrap_err().to_string();
    assert!(e.contains("Summer getaway"), "the campaign sends through its configuration's credential: {e}");
    sqlite(dir.path()).execute("UPDATE cc_campaigns SET status = 'draft' WHERE name = 'Summer getaway'", []).unwrap();
    let e = console.delete_credential(demo.credential_id).unwrap_err().to_string();
    assert!(e.contains("SMS configurations use it: \u{201c}Sandbox SMS\u{201d}"), "{e}");
    console.delete_sms_configuration(demo.id).unwrap();
    assert!(console.sms_configurations().unwrap().is_empty());
    console.delete_credential(demo.credential_id).unwrap();
}

#[test]
fn the_keywords_and_replies_are_those_of_the_configuration_sending_as_the_number_written_to() {
    let (dir, console) = workspace(3);
    let fake = FakeTwilio::start(|_, _| None);
    let credential = twilio_credential(&console, &fake, json!({ "inbound_number": "+14155550111" }));
    let mut french = configuration("France", credential, "+33757000000");
    french.keywords = Keywords {
        opt_out: vec!["ARRET".into(), "STOP".into()],
        opt_out_reply: "Vous ne recevrez plus de messages.".into(),
        opt_in: vec!["REPRISE".into()],
        opt_in_reply: "C'est reparti.".into(),
        help: vec!["AIDE".into()],
        help_reply: String::new(),
    };
    console.save_sms_configuration(&french).unwrap();
    let served = Served::start(Arc::clone(&console));
    let db = sqlite(dir.path());
    let from = "+33610000002";
    let post = |sid: &str, to: &str, body: &str| {
        let p = [("AccountSid", SID), ("MessageSid", sid), ("From", from), ("To", to), ("Body", body)];
        served.post("/webhooks/twilio/inbound", &p, Some(TOKEN))
    };
    let (status, twiml) = post("SM1", "+33757000000", " arret ");
    assert_eq!(status, 200);
    assert!(twiml.contains("<Message>Vous ne recevrez plus de messages.</Message>"), "{twiml}");
    assert_eq!(one(&db, "SELECT sms_opt_in FROM profiles WHERE id = 2"), 0);
    let (_, twiml) = post("SM2", "+33757000000", "aide");
    assert!(!twiml.contains("<Message>"), "an empty reply sends nothing back: {twiml}");
    let (_, twiml) = post("SM3", "+33757000000", "START");
    assert!(!twiml.contains("<Message>"), "START is not this configuration's: {twiml}");
    assert_eq!(one(&db, "SELECT sms_opt_in FROM profiles WHERE id = 2"), 0);
    let (_, twiml) = post("SM4", "+33757000000", "Reprise");
    assert!(twiml.contains("reparti"), "{twiml}");
    assert_eq!(one(&db, "SELECT sms_opt_in FROM profiles WHERE id = 2"), 1);
    let kinds: Vec<Option<&str>> =
        console.inbound_messages(10).unwrap().iter().map(|m| m.keyword.map(|k| k.as_str())).rev().collect::<Vec<_>>();
    assert_eq!(kinds, [Some("opt_out"), Some("help"), None, Some("opt_in")]);
}

#[test]
fn shortened_links_are_counted_when_followed_and_lead_to_the_link() {
    let (dir, console) = workspace(3);
    let sandbox = console.credentials().unwrap().into_iter().find(|c| c.channel == Channel::Sms).unwrap();
    let mut c = configuration("Short", sandbox.id, "");
    c.shorten_links = true;
    console.save_sms_configuration(&c).unwrap();
    let served = Served::start(Arc::clone(&console));
    let mut server = console.server_settings().unwrap();
    server.public_url = "https://go.example.com/".into();
    console.set_server_settings(&server).unwrap();
    let summary =
        texts_with(&console, "Short", "{{ profile.first_name }}, see https://example.com/sale?from=sms. Reply STOP");
    assert_eq!(summary.deliveries[0].count(campaign_console::model::delivery::status::SENT), 3);
    let db = sqlite(dir.path());
    let bodies: Vec<String> = db
        .prepare("SELECT body FROM cc_sandbox_messages ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let codes: Vec<String> = bodies
        .iter()
        .map(|b| {
            let at = b.find("https://go.example.com/s/").unwrap_or_else(|| panic!("no short link in {b:?}"));
            assert!(!b.contains("example.com/sale"), "{b}");
            assert!(b.ends_with(". Reply STOP"), "{b}");
            b[at + "https://go.example.com/s/".len()..].chars().take(12).collect()
        })
        .collect();
    assert_eq!(codes.iter().collect::<std::collections::BTreeSet<_>>().len(), 3, "one code per message");
    let kept: String = db.query_row("SELECT short_links_base FROM cc_deliveries", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, "https://go.example.com", "kept with the delivery: a message made again is the same text");
    let (status, location, _) = served.get(&format!("/s/{}", codes[1]));
    assert_eq!((status, location.as_deref()), (302, Some("https://example.com/sale?from=sms")));
    served.get(&format!("/s/{}", codes[1]));
    let campaign = console.campaign("Texts").unwrap().id;
    assert_eq!(
        one(&db, &format!("SELECT COUNT(*) FROM cc_interactions WHERE kind = 'clicked' AND campaign_id = {campaign}")),
        2
    );
    let clicked_by: String = db
        .query_row("SELECT profile_key FROM cc_interactions WHERE kind = 'clicked' LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let sent_to: String = db
        .query_row(
            "SELECT l.recipient_key FROM cc_short_links s JOIN cc_ledger l ON l.idempotency_key = s.ledger_key WHERE s.code = ?1",
            [&codes[1]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(clicked_by, sent_to, "the click is the recipient's");
    let (status, location, page) = served.get("/s/nosuchcode00");
    assert_eq!((status, location), (404, None));
    assert!(page.contains("not known"), "{page}");
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_interactions WHERE kind = 'clicked'"),
        2,
        "an unknown code counts nothing"
    );
}
