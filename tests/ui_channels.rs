//! The Channels screen: an SMTP credential typed into its form is verified against a local SMTP
//! sink (signing in with the typed password), saved with its password in the keychain only, and
//! settings that cannot work are refused with what to fix, nothing saved. The SMS page: a Twilio
//! credential checked as it is typed, its Auth Token in the keychain only (kept on Edit unless
//! retyped), verified with a real message to a local fake Twilio, deleted with its keychain entry.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;
use support::smtp_sink;

use campaign_console::model::{Channel, ProviderKind};
use campaign_console::ui::{App, SavedState, testing};
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use support::{harness, settle, type_into};

#[test]
fn an_smtp_credential_is_verified_and_saved_with_its_password_in_the_keychain_only() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let sink = smtp_sink::SmtpSink::start("mailer", "s3cret");
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label_contains("Channels").click();
    settle(&mut h);
    h.get_by_label("+ Add credential").click();
    h.run_steps(2);
    // A new credential starts as Email · SMTP.
    type_into(&mut h, "Name", "Relay");
    type_into(&mut h, "Server", "127.0.0.1");
    type_into(&mut h, "Port", &sink.port.to_string());
    h.get_by_role_and_label(Role::ComboBox, "Encryption").click();
    h.run_steps(2);
    h.get_by_label("None (this machine only)").click();
    h.run_steps(2);
    type_into(&mut h, "User name", "mailer");
    type_into(&mut h, "From", "Travel Co <news@example.com>");
    type_into(&mut h, "Password", "wrong");

    // Verify with the wrong password: refused by the server, said in the form.
    h.get_by_label("Verify").click();
    h.run_steps(2);
    settle(&mut h);
    let said = h.state().channels_screen().verify_result().cloned().unwrap();
    assert!(said.as_ref().is_err_and(|e| e.message.contains("535")), "{said:?}");
    h.get_by_label_contains("Verify failed");

    // Retype it, verify: signed in, nothing sent.
    h.get_by_role_and_label(Role::PasswordInput, "Password").click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_role_and_label(Role::PasswordInput, "Password").type_text("s3cret");
    h.run_steps(2);
    h.get_by_label("Verify").click();
    h.run_steps(2);
    settle(&mut h);
    let said = h.state().channels_screen().verify_result().cloned().unwrap();
    assert!(said.as_ref().is_ok_and(|m| m.contains("signed in as mailer")), "{said:?}");
    assert!(sink.mails().is_empty());

    h.get_by_label("Save").click();
    h.run_steps(2);
    settle(&mut h);
    let saved = console.credentials().unwrap();
    let relay = saved.iter().find(|c| c.name == "Relay").expect("saved");
    assert_eq!((relay.channel, relay.provider()), (Channel::Email, ProviderKind::Smtp));
    let kept = relay.settings.to_json();
    assert_eq!(kept["host"], "127.0.0.1");
    assert_eq!(kept["port"], serde_json::json!(sink.port));
    assert_eq!(kept["tls"], "none");
    assert!(!kept.to_string().contains("s3cret"), "the password is not in the settings");
    assert_eq!(console.credential_secret(relay).unwrap().as_deref(), Some("s3cret"), "it is in the keychain");
    let on_disk = std::fs::read(dir.path().join("workspace.sqlite")).unwrap();
    assert!(!on_disk.windows(6).any(|w| w == b"s3cret"), "the password is nowhere in the workspace file");
    assert!(h.state().channels_screen().list().iter().any(|c| c.name == "Relay"), "listed");
    h.get_by_label_contains("Relay · SMTP");

    // "Send test email" sends one, with the stored password.
    type_into(&mut h, "Test to", "me@example.com");
    h.get_by_label("Send test email").click();
    h.run_steps(2);
    settle(&mut h);
    let said = h.state().channels_screen().verify_result().cloned().unwrap();
    assert!(said.as_ref().is_ok_and(|m| m.contains("sent to me@example.com")), "{said:?}");
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["<me@example.com>"]);
    assert_eq!(mails[0].user.as_deref(), Some("mailer"));
    assert!(mails[0].data.contains("Subject: Campaign Console test message"));
}

#[test]
fn settings_that_cannot_work_are_refused_with_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let sandbox = campaign_console::model::ProviderSettings::default();
    console.add_credential(campaign_console::model::Channel::Email, "Sandbox", sandbox, None).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label_contains("Channels").click();
    settle(&mut h);
    h.get_by_label("+ Add credential").click();
    h.run_steps(2);
    type_into(&mut h, "Name", "sandbox");
    type_into(&mut h, "Server", "not a host!");
    h.get_by_role_and_label(Role::ComboBox, "Encryption").click();
    h.run_steps(2);
    h.get_by_label("None (this machine only)").click();
    h.run_steps(2);
    type_into(&mut h, "Port", "twenty-five");
    h.get_by_label("Save").click();
    h.run_steps(2);
    settle(&mut h);
    // Every problem at once, each beside its field, before anything is sent.
    let problems: Vec<String> =
        h.state().channels_screen().problems().iter().map(|(k, why)| format!("{k}: {why}")).collect();
    for expected in [
        "name: A Email credential named “sandbox” already exists.",
        "host: “not a host!” is not a host name or an IP address",
        "port: Port must be a number, not “twenty-five”",
        "from: the sender address (From) is missing",
    ] {
        assert!(problems.iter().any(|p| p == expected), "{expected} not in {problems:#?}");
    }
    h.get_by_label_contains("Save is off until the 4 problems are fixed");
    assert!(h.get_by_label("Save").accesskit_node().is_disabled(), "Save stays off while anything is wrong");
    h.get_by_label_contains("is not a host name or an IP address");
    h.get_by_label_contains("Port must be a number");

    type_into(&mut h, "Name", "Remote");
    type_into(&mut h, "Server", "smtp.example.com");
    type_into(&mut h, "Port", "25");
    type_into(&mut h, "From", "news@example.com");
    h.get_by_label("Save").click();
    h.run_steps(2);
    settle(&mut h);
    // Unencrypted to another machine: refused, beside the encryption, nothing saved.
    let problems = h.state().channels_screen().problems().to_vec();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, "tls");
    assert!(problems[0].1.contains("unencrypted"), "{problems:?}");
    assert!(console.credentials().unwrap().iter().all(|c| c.name != "Remote"));
}

/// The events answering a request carry its id (so the screen that asked knows its answer);
/// news nobody asked for carries none.
#[test]
fn answers_carry_the_request_they_answer() {
    use campaign_console::console::{Answer, ChannelCommand, ChannelEvent, Event, next_request};
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let answers = |console: &std::sync::Arc<campaign_console::Console>| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !console.is_idle() {
            assert!(std::time::Instant::now() < deadline, "the Console did not answer");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::iter::from_fn(|| console.poll_answer()).collect::<Vec<Answer>>()
    };
    let (first, second) = (next_request(), next_request());
    console.send_as(first, ChannelCommand::Refresh);
    console.send_as(second, ChannelCommand::Refresh);
    let got = answers(&console);
    let requests: Vec<Option<u64>> = got
        .iter()
        .filter(|a| matches!(a.event, Event::Channel(ChannelEvent::Credentials(_))))
        .map(|a| a.request)
        .collect();
    assert_eq!(requests.len(), 2, "{got:?}");
    assert!(requests.contains(&Some(first)) && requests.contains(&Some(second)), "{requests:?}");
    console.send(ChannelCommand::Refresh);
    assert!(answers(&console).iter().all(|a| a.request.is_none()), "a plain send is nobody's request");
}

#[test]
fn a_twilio_credential_is_checked_as_typed_verified_with_a_real_message_and_deleted_with_its_token() {
    use support::fake_twilio::{FakeTwilio, SID, TOKEN};
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let fake = FakeTwilio::start(|_, _| None);
    let mut h = sms_page(&console);
    h.get_by_label("+ New API credential").click();
    h.run_steps(2);
    type_into(&mut h, "Name", "Twilio US");
    type_into(&mut h, "Account SID", "AC12");
    type_into(&mut h, "From number", "+14155550100");
    // A SID still being typed: the reason beside it, Save off.
    h.get_by_label_contains("is not an Account SID: AC followed by 32 hexadecimal digits");
    assert!(h.get_by_label("Save").accesskit_node().is_disabled());
    type_into(&mut h, "Account SID", SID);
    type_into(&mut h, "API base URL", &fake.base);
    h.get_by_label_contains("Auth Token is missing");
    assert!(h.get_by_label("Save").accesskit_node().is_disabled(), "no token yet");
    h.get_by_role_and_label(Role::PasswordInput, "Auth Token").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::PasswordInput, "Auth Token").type_text(TOKEN);
    h.run_steps(2);
    assert!(!h.get_by_label("Save").accesskit_node().is_disabled(), "{:?}", h.state().channels_screen().problems());
    h.get_by_label("Save").click();
    h.run_steps(2);
    settle(&mut h);
    let saved = console.credentials().unwrap().into_iter().find(|c| c.name == "Twilio US").expect("saved");
    assert_eq!((saved.channel, saved.provider()), (Channel::Sms, ProviderKind::Twilio));
    assert_eq!(console.credential_secret(&saved).unwrap().as_deref(), Some(TOKEN), "in the secret store");
    let on_disk = std::fs::read(dir.path().join("workspace.sqlite")).unwrap();
    assert!(!on_disk.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()), "nowhere in the workspace");

    // Edit: a new name, the token not retyped, kept.
    type_into(&mut h, "Name", "Twilio EU");
    h.get_by_label("Save").click();
    h.run_steps(2);
    settle(&mut h);
    let edited = console.credentials().unwrap().into_iter().find(|c| c.id == saved.id).unwrap();
    assert_eq!(edited.name, "Twilio EU");
    assert_eq!(console.credential_secret(&edited).unwrap().as_deref(), Some(TOKEN), "kept unless retyped");

    // Verify SMS connection: one real message, the provider's answer shown and kept.
    h.get_by_label("Verify SMS connection…").click();
    h.run_steps(2);
    type_into(&mut h, "Number", "+33612345678");
    // The dialog's Verify (the form behind it has one that connects without sending).
    h.get_all_by_label("Verify").last().unwrap().click();
    h.run_steps(2);
    settle(&mut h);
    let shown = h.state().channels_screen().sms_verification().cloned().expect("an answer");
    let v = shown.unwrap();
    assert!(v.ok && v.summary.contains("SM"), "{v:?}");
    h.get_by_label_contains("Twilio took the message for +33612345678");
    assert_eq!(fake.created().len(), 1, "one message was sent");
    let kept = console.credentials().unwrap().into_iter().find(|c| c.id == saved.id).unwrap().verified;
    assert_eq!(kept, Some(v), "kept on the credential");
    h.get_by_label("Close").click();
    h.run_steps(2);

    // Delete, from the SMS page: the credential and its keychain entry go.
    h.get_by_label_contains("API credentials and inbound messages").click();
    settle(&mut h);
    h.get_by_label("\u{1f5d1}").click();
    h.run_steps(2);
    h.get_by_label("Delete").click();
    h.run_steps(2);
    settle(&mut h);
    assert!(console.credentials().unwrap().iter().all(|c| c.id != saved.id));
    assert_eq!(console.credential_secret(&edited).unwrap(), None, "its token left the secret store");
}

#[test]
fn an_sms_configuration_is_checked_as_typed_saved_with_its_keywords_and_kept_while_a_live_campaign_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(50, 3, false, &mut |_| true).unwrap();
    rusqlite::Connection::open(dir.path().join("workspace.sqlite"))
        .unwrap()
        .execute("UPDATE cc_campaigns SET status = 'live' WHERE name = 'Summer getaway'", [])
        .unwrap();
    let mut h = sms_page(&console);
    // The demo's configuration, with the campaign that uses it.
    h.get_by_label("Sandbox SMS");
    h.get_by_label("Summer getaway (live)");
    h.get_by_label("Summer getaway (live), Sandbox SMS (configuration)");
    h.get_by_label("+ New configuration").click();
    h.run_steps(5);
    type_in_dialog(&mut h, "Name", "US marketing");
    type_in_dialog(&mut h, "Sender", "0612");
    h.get_by_label_contains("is not a phone number in international form");
    assert!(h.get_by_label("Save").accesskit_node().is_disabled());
    type_in_dialog(&mut h, "Sender", "+14155550123");
    type_in_dialog(&mut h, "Opt-out keywords", "stop, arret");
    type_in_dialog(&mut h, "Opt-in keywords", "start, ARRET");
    h.get_by_label_contains("is in two lists (opt-out and opt-in)");
    assert!(h.get_by_label("Save").accesskit_node().is_disabled());
    type_in_dialog(&mut h, "Opt-in keywords", "start");
    assert!(!h.get_by_label("Save").accesskit_node().is_disabled());
    h.get_by_label("Save").click();
    h.run_steps(2);
    settle(&mut h);
    let saved = console.sms_configurations().unwrap().into_iter().find(|c| c.name == "US marketing").expect("saved");
    assert_eq!(saved.sender, "+14155550123");
    assert_eq!(saved.keywords.opt_out, ["STOP", "ARRET"]);
    assert_eq!(saved.keywords.opt_in, ["START"]);
    assert!(h.query_by_label("New SMS configuration").is_none(), "the dialog closed");

    // The demo's configuration cannot go while the live campaign sends with it.
    let demo = console.sms_configurations().unwrap().into_iter().find(|c| c.name == "Sandbox SMS").unwrap();
    // The bins: the Sandbox credential's, then the configurations' by name.
    h.get_all_by_label("\u{1f5d1}").nth(1).unwrap().click();
    h.run_steps(2);
    h.get_by_label("Delete").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label_contains(
        "cannot be deleted while these campaigns send with it: \u{201c}Summer getaway\u{201d} (live)",
    );
    assert!(console.sms_configurations().unwrap().iter().any(|c| c.id == demo.id), "kept");
}

/// The app on `console`, showing Channels, SMS: API credentials and inbound messages.
fn sms_page(console: &std::sync::Arc<campaign_console::console::Console>) -> egui_kittest::Harness<'static, App> {
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label_contains("Channels").click();
    settle(&mut h);
    h.get_by_label_contains("API credentials and inbound messages").click();
    settle(&mut h);
    h
}

/// Types into a field of a centred dialog, then lets the dialog settle: it grows as reasons
/// appear beside its fields, and is centred again a frame later.
fn type_in_dialog(h: &mut egui_kittest::Harness<'static, App>, label: &str, text: &str) {
    type_into(h, label, text);
    h.run_steps(3);
}

/// A workspace with the X service "Brand" on a fake X.
fn with_fake_x() -> (tempfile::TempDir, std::sync::Arc<campaign_console::console::Console>, support::fake_x::FakeX) {
    use support::fake_x::{self, FakeX};
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let fake = FakeX::start();
    let settings = campaign_console::model::ProviderSettings::XApi(campaign_console::model::settings::XService {
        internal_name: fake_x::HANDLE.into(),
        base_url: fake.base.clone(),
        ..Default::default()
    });
    console.add_credential_with(Channel::X, "Brand", settings, &fake_x::slots(&fake_x::keys())).unwrap();
    (dir, console, fake)
}

#[test]
fn synchronize_now_on_the_visitors_screen_brings_the_followers_in() {
    let (dir, console, fake) = with_fake_x();
    *fake.followers.lock().unwrap() = support::fake_x::Followers::fans(30, 10);
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label_contains("Visitors").click();
    settle(&mut h);
    h.get_by_label("@TravelBrand");
    h.get_by_label("Synchronize now").click();
    h.run_steps(2);
    settle(&mut h);
    assert_eq!(console.visitor_count(None, None).unwrap(), (30, 30), "in the workspace");
    let shown = h.state().visitors_screen().overview().cloned().unwrap().unwrap();
    assert_eq!((shown.visitors, shown.runs[0].status.as_str(), shown.runs[0].pages), (30, "done", 3));
    h.get_by_label("30 visitors in 3 pages; 0 no longer follow");
    // Visitor folders: a new one, then deleted (it is empty).
    type_into(&mut h, "New folder", "VIP");
    h.get_by_label("Create folder").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label("VIP");
    assert!(console.visitor_folders().unwrap().iter().any(|f| f.name == "VIP"), "in the workspace");
    let deletes: Vec<_> = h.get_all_by_label("Delete").collect();
    assert_eq!(deletes.len(), 2, "one per folder");
    // By name: VIP, then Visitors (whose Delete is off: its fans are there).
    deletes[0].click();
    h.run_steps(2);
    settle(&mut h);
    assert!(h.query_by_label("VIP").is_none());
    assert_eq!(console.visitor_folders().unwrap().len(), 1, "Visitors, where the fans are");
    // Their rows, in the row browser: searched as typed, narrowed.
    h.get_by_label("Browse visitors").click();
    h.run_steps(2);
    settle(&mut h);
    let view = h.state().visitors_screen().browse_view().expect("the browser");
    assert_eq!((view.entity(), view.total()), ("visitors", Some(30)));
    h.get_by_label("Fan fan17");
    // The keyboard: End selects the last visitor, its detail beside; Home the first.
    h.key_press(egui::Key::End);
    h.run_steps(2);
    settle(&mut h);
    let detail = h.state().visitors_screen().browse_view().unwrap().detail().map(|d| d.key);
    assert_eq!(detail, Some(30), "the last visitor's detail");
    // Its avatar: downloaded once, kept in the workspace.
    h.run_steps(2);
    settle(&mut h);
    let pictures = || fake.mock.received.lock().unwrap().iter().filter(|r| r.path == "/avatar.png").count();
    assert_eq!(pictures(), 1);
    assert_eq!(std::fs::read_dir(dir.path().join("avatars")).unwrap().count(), 1);
    h.key_press(egui::Key::Home);
    h.run_steps(2);
    settle(&mut h);
    assert_eq!(h.state().visitors_screen().browse_view().unwrap().detail().map(|d| d.key), Some(1));
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    settle(&mut h);
    assert_eq!(h.state().visitors_screen().browse_view().unwrap().detail().map(|d| d.key), Some(2));
    // A username or full name starting with what is typed, in any case, without Enter.
    type_into(&mut h, "Search", "FAN2");
    h.run_steps(2);
    settle(&mut h);
    assert_eq!(h.state().visitors_screen().browse_view().unwrap().total(), Some(11), "fan2 and fan20 to fan29");
    h.get_by_label("\u{2b05} Visitors").click();
    h.run_steps(2);
    assert!(h.state().visitors_screen().browse_view().is_none());
}

#[test]
fn the_social_screen_shows_the_account_as_x_describes_it_and_posts_now() {
    let (dir, console, fake) = with_fake_x();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_all_by_label_contains("Social (X)").next().unwrap().click();
    h.run_steps(2);
    settle(&mut h);
    // The Twitter page: the account as X describes it, with its picture downloaded and kept.
    h.get_by_label("Travel Brand");
    h.get_by_label("@TravelBrand");
    h.get_by_label("\u{2714} verified");
    h.get_by_label_contains("5\u{2009}210 followers");
    let page = h.state().social_screen().page().cloned().unwrap().unwrap();
    let avatar = page.avatar.expect("the picture");
    assert_eq!((avatar.width, avatar.height), (48, 48));
    assert_eq!(std::fs::read_dir(dir.path().join("avatars")).unwrap().count(), 1, "kept in the workspace");
    // The composer: counted as X counts, posted now, kept as a delivery.
    h.get_by_label("Compose a post").click();
    h.run_steps(2);
    let field = h.get_by_role(Role::MultilineTextInput);
    field.click();
    h.run_steps(1);
    h.get_by_role(Role::MultilineTextInput).type_text("Summer routes are open https://example.com/a-very-long-link");
    h.run_steps(2);
    h.get_by_label_contains("46 of 280 as X counts them");
    h.get_by_label("Post now").click();
    h.run_steps(2);
    settle(&mut h);
    assert_eq!(*fake.posts.lock().unwrap(), ["Summer routes are open https://example.com/a-very-long-link"]);
    h.get_by_label_contains("Posted (X's id 17");
    let deliveries = console.deliveries(None).unwrap();
    assert_eq!((deliveries.len(), deliveries[0].channel.as_str()), (1, "x"));
    assert_eq!(fake.unsigned(), 1, "only the picture's request is unsigned");
}
