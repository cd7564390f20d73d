//! Posts and direct messages through an X service, against the fake X (every request's
//! signature checked): a campaign's X post goes out once per run, whoever the population; an
//! X direct message goes to each visitor that still follows the service it sends through, at
//! the service's pace, personalized with the visitor's values, and the count said so first.

use std::time::{Duration, Instant};

use campaign_console::model::settings::XService;
use campaign_console::model::{CampaignKind, Channel, Message, ProviderSettings};
use campaign_console::ui::testing;

use super::support::blast::blast_over;
use super::support::fake_x::{self, FakeX, Followers, HANDLE};
use super::support::{blast, count_as_edited, one, sqlite};

fn service(fake: &FakeX, dm_seconds_between: Option<f64>) -> ProviderSettings {
    ProviderSettings::XApi(XService {
        internal_name: HANDLE.into(),
        visitor_folder: "Fans".into(),
        base_url: fake.base.clone(),
        dm_seconds_between,
        ..XService::default()
    })
}

#[test]
fn a_campaigns_x_post_goes_out_once_per_run_whoever_the_population() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(20, 2, false, &mut |_| true).unwrap();
    let fake = FakeX::start();
    console.add_credential_with(Channel::X, "Brand", service(&fake, None), &fake_x::slots(&fake_x::keys())).unwrap();
    let c = console.create_campaign("Posts", CampaignKind::Orchestrated).unwrap();
    let message =
        Message { text: "New routes this summer ✈️ https://example.com/routes".into(), ..Message::default() };
    console.save_canvas(c.id, &blast(Channel::X, Some("Brand"), message)).unwrap();
    console.run_campaign("Posts", false, None, &mut |_, _| {}, &|| false).unwrap();
    assert_eq!(*fake.posts.lock().unwrap(), ["New routes this summer ✈️ https://example.com/routes"]);
    assert_eq!(fake.unsigned(), 0);
    let conn = sqlite(dir.path());
    // One ledger row: the post, with X's id for it and the account it went to.
    let (address, status, id): (String, String, String) = conn
        .query_row("SELECT address, status, provider_message_id FROM cc_ledger", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((address.as_str(), status.as_str()), ("@TravelBrand", "sent"));
    assert!(id.starts_with("17"), "{id}");
    // Run again on purpose: one more post.
    console.run_campaign("Posts", true, None, &mut |_, _| {}, &|| false).unwrap();
    assert_eq!(fake.posts.lock().unwrap().len(), 2);
    // A post is the same for everyone: a profile's value is refused before anything goes.
    let personal = Message { text: "Hello {{profile.first_name}}".into(), ..Message::default() };
    console.save_canvas(c.id, &blast(Channel::X, Some("Brand"), personal)).unwrap();
    let e = console.run_campaign("Posts", true, None, &mut |_, _| {}, &|| false).unwrap_err();
    assert!(e.to_string().contains("the same for everyone: it cannot use {{profile.first_name}}"), "{e}");
    assert_eq!(fake.posts.lock().unwrap().len(), 2);
}

#[test]
fn each_visitor_following_the_service_gets_a_direct_message_at_its_pace_as_counted() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let fake = FakeX::start();
    *fake.followers.lock().unwrap() = Followers::fans(5, 1000);
    console
        .add_credential_with(Channel::X, "Brand", service(&fake, Some(0.3)), &fake_x::slots(&fake_x::keys()))
        .unwrap();
    console.sync_followers(Some("Brand"), &mut |_| {}, &|| false).unwrap();
    // fan4 stops following: kept, but no longer reachable.
    fake.followers.lock().unwrap().list.pop();
    console.sync_followers(Some("Brand"), &mut |_| {}, &|| false).unwrap();
    let c = console.create_campaign("Thanks", CampaignKind::Orchestrated).unwrap();
    let message = Message {
        text: "Thanks for following, {{visitor.full_name}} (@{{visitor.username}})".into(),
        ..Message::default()
    };
    console.save_canvas(c.id, &blast_over("visitors", Channel::XDm, Some("Brand"), message)).unwrap();
    let (_, _, report) = console.count_campaign("Thanks", &|| false).unwrap();
    let send = &report.sends[0];
    assert_eq!(send.reachable, Some(4));
    assert_eq!(send.excluded, [("not_following".to_owned(), 1)]);
    let started = Instant::now();
    console.run_campaign("Thanks", false, None, &mut |_, _| {}, &|| false).unwrap();
    let took = started.elapsed();
    let mut dms = fake.dms.lock().unwrap().clone();
    dms.sort();
    assert_eq!(
        dms,
        (0..4)
            .map(|i| (format!("{}", 9000 + i), format!("Thanks for following, Fan fan{i} (@fan{i})")))
            .collect::<Vec<_>>()
    );
    // One every 0.3 s, as the service says: four messages take at least three intervals.
    assert!(took >= Duration::from_millis(850), "{took:?}");
    assert_eq!(fake.unsigned(), 0);
    let conn = sqlite(dir.path());
    // The ledger says what the count said.
    assert_eq!(one(&conn, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent'"), 4);
    assert_eq!(
        one(&conn, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'excluded' AND error_code = 'not_following'"),
        1
    );
    assert_eq!(one(&conn, "SELECT COUNT(*) FROM cc_ledger WHERE provider_message_id LIKE '18%'"), 4);
}

#[test]
fn a_direct_message_goes_to_visitors_only_and_names_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(20, 2, false, &mut |_| true).unwrap();
    let c = console.create_campaign("DM", CampaignKind::Orchestrated).unwrap();
    // No visitors yet.
    let message = Message { text: "Hi {{visitor.username}}".into(), ..Message::default() };
    console.save_canvas(c.id, &blast_over("profiles", Channel::XDm, None, message.clone())).unwrap();
    let e = console.run_campaign("DM", false, None, &mut |_, _| {}, &|| false).unwrap_err();
    assert!(e.to_string().contains("there are none yet: synchronize"), "{e}");
    console.sync_followers(None, &mut |_| {}, &|| false).unwrap();
    // Over profiles: refused, saying what to do.
    let e = console.run_campaign("DM", false, None, &mut |_, _| {}, &|| false).unwrap_err();
    assert!(e.to_string().contains("build its audience over Visitors"), "{e}");
    // A profile's value in a direct message: refused, saying what to use.
    let wrong = Message { text: "Hi {{profile.first_name}}".into(), ..Message::default() };
    console.save_canvas(c.id, &blast_over("visitors", Channel::XDm, None, wrong)).unwrap();
    let e = console.run_campaign("DM", false, None, &mut |_, _| {}, &|| false).unwrap_err();
    assert!(e.to_string().contains("use visitor.<column>"), "{e}");
    // Through the demo's Sandbox X account: every follower, kept in the Sandbox's outbox.
    console.save_canvas(c.id, &blast_over("visitors", Channel::XDm, None, message)).unwrap();
    console.run_campaign("DM", false, None, &mut |_, _| {}, &|| false).unwrap();
    let conn = sqlite(dir.path());
    assert_eq!(one(&conn, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent'"), 5_000);
    // Each to the visitor's X id, with its username.
    assert_eq!(
        one(
            &conn,
            "SELECT COUNT(*) FROM cc_sandbox_messages m JOIN visitors v ON m.address = v.external_id
              WHERE m.channel = 'x_dm' AND m.body = 'Hi ' || v.username"
        ),
        5_000
    );
    // A visitor's detail lists the direct message sent to it; the profile of the same number
    // does not.
    let visitor = console.row_detail("visitors", 7).unwrap();
    assert_eq!(visitor.messages_total, 1);
    assert_eq!((visitor.messages[0].channel.as_str(), visitor.messages[0].status.as_str()), ("x_dm", "sent"));
    assert_eq!(console.row_detail("profiles", 7).unwrap().messages_total, 0);
}

#[test]
fn direct_messages_beyond_the_days_limit_wait_for_the_next_day() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let fake = FakeX::start();
    *fake.followers.lock().unwrap() = Followers::fans(5, 1000);
    let ProviderSettings::XApi(mut settings) = service(&fake, Some(0.1)) else { unreachable!() };
    settings.dm_per_day = Some(3.0);
    console
        .add_credential_with(Channel::X, "Brand", ProviderSettings::XApi(settings), &fake_x::slots(&fake_x::keys()))
        .unwrap();
    console.sync_followers(Some("Brand"), &mut |_| {}, &|| false).unwrap();
    let c = console.create_campaign("Welcome", CampaignKind::Orchestrated).unwrap();
    let message = Message { text: "Welcome @{{visitor.username}}".into(), ..Message::default() };
    console.save_canvas(c.id, &blast_over("visitors", Channel::XDm, None, message)).unwrap();
    // The run waits once the day's three are sent; Pause then.
    let waiting = std::cell::Cell::new(None);
    let summary = console
        .run_campaign("Welcome", false, None, &mut |_, p| waiting.set(waiting.get().or(p.waiting_until)), &|| {
            waiting.get().is_some()
        })
        .unwrap();
    assert_eq!(fake.dms.lock().unwrap().len(), 3);
    let until = waiting.get().expect("the run said until when it waits");
    let day = until.duration_since(campaign_console::clock::wall());
    assert!(day > jiff::SignedDuration::from_hours(23), "{day:?}");
    let conn = sqlite(dir.path());
    assert_eq!(one(&conn, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'queued'"), 2);
    assert!(summary.deliveries.iter().any(|d| d.is_unfinished()));
}

#[test]
fn proofs_of_x_posts_and_direct_messages_go_to_the_test_account() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let fake = FakeX::start();
    *fake.followers.lock().unwrap() = Followers::fans(3, 1000);
    let slots = fake_x::slots(&fake_x::keys());
    console.add_credential_with(Channel::X, "Brand", service(&fake, None), &slots).unwrap();
    console.sync_followers(Some("Brand"), &mut |_| {}, &|| false).unwrap();
    let c = console.create_campaign("Proofs", CampaignKind::Orchestrated).unwrap();
    let dm = Message { text: "Hi @{{visitor.username}}".into(), ..Message::default() };
    let canvas = blast_over("visitors", Channel::XDm, Some("Brand"), dm);
    console.save_canvas(c.id, &canvas).unwrap();
    count_as_edited(&console, c.id, &canvas);
    // No test account yet: refused, saying how to have one.
    let e = console.send_proof(c.id, &canvas, "send", 1, &[]).unwrap_err().to_string();
    assert!(e.contains("no X service is marked Test account"), "{e}");
    let ProviderSettings::XApi(mut test) = service(&fake, None) else { unreachable!() };
    test.test_account = "yes".into();
    console.add_credential_with(Channel::X, "Proofs", ProviderSettings::XApi(test), &slots).unwrap();
    // The second recipient's message, to the test account's own id; nobody else gets it.
    assert_eq!(console.send_proof(c.id, &canvas, "send", 1, &[]).unwrap(), 1);
    assert_eq!(*fake.dms.lock().unwrap(), [(fake_x::ACCOUNT_ID.to_owned(), "Hi @fan1".to_owned())]);
    // A post's proof is posted on the test account.
    let post = Message { text: "Summer routes are open".into(), ..Message::default() };
    let canvas = blast_over("visitors", Channel::X, Some("Brand"), post);
    console.save_canvas(c.id, &canvas).unwrap();
    count_as_edited(&console, c.id, &canvas);
    assert_eq!(console.send_proof(c.id, &canvas, "send", 0, &[]).unwrap(), 1);
    assert_eq!(*fake.posts.lock().unwrap(), ["Summer routes are open"]);
    assert_eq!(fake.unsigned(), 0);
    let conn = sqlite(dir.path());
    assert_eq!(one(&conn, "SELECT COUNT(*) FROM cc_deliveries WHERE is_proof = 1"), 2);
    // Each says what it went through: the test account.
    assert_eq!(
        one(
            &conn,
            "SELECT COUNT(*) FROM cc_deliveries d JOIN cc_credentials c ON c.id = d.credential_id
              WHERE d.is_proof = 1 AND c.name = 'Proofs'"
        ),
        2
    );
}
