//! The Campaigns screen, driven by role and label on a temporary workspace; every step is
//! checked in the workspace database.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use campaign_console::model::{CampaignKind, CampaignStatus};
use campaign_console::ui::{Page, SavedState, testing};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use support::{harness, settle};

#[test]
fn create_rename_and_delete_a_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    // Start elsewhere so that the test navigates to Campaigns.
    let app =
        campaign_console::ui::App::new(console.clone(), SavedState { screen: Page::Settings, ..Default::default() });
    let mut h = harness(app);
    settle(&mut h);
    h.get_by_label_contains("Campaigns").click();
    settle(&mut h);
    h.get_by_label_contains("No campaigns yet");

    // Create "Spring sale" (orchestrated is the default kind).
    h.get_by_label("New campaign…").click();
    settle(&mut h);
    h.get_by_label("Campaign name").focus();
    h.run_steps(2);
    h.get_by_label("Campaign name").type_text("Spring sale");
    h.run_steps(2);
    h.get_by_label("Create").click();
    settle(&mut h);
    let list = console.campaigns().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "Spring sale");
    assert_eq!(list[0].kind, CampaignKind::Orchestrated);
    assert_eq!(list[0].status, CampaignStatus::Draft);
    assert_eq!(list[0].created_at, testing::fixed_now());
    // The new campaign opens at once; the navigation's Campaigns entry goes back to the list.
    assert!(h.state_mut().canvas_editor().is_some(), "the new campaign opened on its canvas");
    h.get_by_label_contains("Campaigns").click();
    settle(&mut h);
    assert!(h.state_mut().canvas_editor().is_none(), "back to the list");
    h.get_by_label("Spring sale");

    // Rename it: select the row, Rename…, replace the text, Save.
    h.get_by_label("Spring sale").click();
    settle(&mut h);
    h.get_by_label("Rename…").click();
    settle(&mut h);
    let field = h.get_by_label("Campaign name");
    field.focus();
    h.run_steps(2);
    h.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::A]);
    h.run_steps(1);
    h.get_by_label("Campaign name").type_text("Spring sale 2027");
    h.run_steps(2);
    h.get_by_label("Save").click();
    settle(&mut h);
    let list = console.campaigns().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "Spring sale 2027");
    assert!(h.query_by_label("Save").is_none(), "the dialog closed after saving");

    // Delete it, confirming in the dialog.
    h.get_by_label("Delete…").click();
    settle(&mut h);
    h.get_by_label_contains("This cannot be undone");
    h.get_by_label("Delete").click();
    settle(&mut h);
    assert!(console.campaigns().unwrap().is_empty());
    h.get_by_label_contains("No campaigns yet");
}

#[test]
fn a_duplicate_name_is_refused_inside_the_dialog_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.create_campaign("Welcome", CampaignKind::ApiTriggered).unwrap();
    let mut h = harness(campaign_console::ui::App::new(console.clone(), SavedState::default()));
    settle(&mut h);

    h.get_by_label("New campaign…").click();
    settle(&mut h);
    h.get_by_label("Campaign name").focus();
    h.run_steps(2);
    h.get_by_label("Campaign name").type_text("welcome");
    h.get_by_label("Action-triggered").click();
    h.run_steps(2);
    h.get_by_label("Create").click();
    settle(&mut h);
    h.get_by_label_contains("already exists");
    // The dialog stays open with what was typed, and the workspace still has one campaign.
    assert_eq!(h.get_by_label("Campaign name").value().as_deref(), Some("welcome"));
    assert_eq!(console.campaigns().unwrap().len(), 1);

    h.get_by_label("Cancel").click();
    settle(&mut h);
    assert!(h.query_by_label("Create").is_none());
}

#[test]
fn duplicate_and_open_an_orchestrated_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.create_campaign("Autumn", CampaignKind::Orchestrated).unwrap();
    let mut h = harness(campaign_console::ui::App::new(console.clone(), SavedState::default()));
    settle(&mut h);

    h.get_by_label("Autumn").click();
    settle(&mut h);
    h.get_by_label("Duplicate").click();
    settle(&mut h);
    let names: Vec<_> = console.campaigns().unwrap().into_iter().map(|c| c.name).collect();
    assert!(names.contains(&"Autumn (copy)".to_owned()), "{names:?}");

    h.get_by_label("Autumn").click();
    settle(&mut h);
    h.get_by_label("Open").click();
    settle(&mut h);
    h.get_by_label("⬅ All campaigns");
    h.get_by_label_contains("no activities yet");
    h.get_by_label("⬅ All campaigns").click();
    settle(&mut h);
    h.get_by_role_and_label(Role::Button, "New campaign…");
}

#[test]
fn the_follower_sync_workflow_is_started_scheduled_and_executed_from_the_campaigns_screen() {
    use campaign_console::model::{Channel, ProviderSettings, Schedule};
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console
        .add_credential_with(Channel::X, "Sandbox", ProviderSettings::Sandbox(Default::default()), &Default::default())
        .unwrap();
    console.set_sandbox_followers(1_200).unwrap();
    let mut h = harness(testing::app(dir.path()).unwrap());
    // The app has a console of its own on the same workspace.
    settle(&mut h);
    h.get_by_label("Synchronization of X accounts");
    h.get_by_label("Stopped");
    h.get_by_label_contains("every Thursday at 07:30");

    h.get_by_label("Start").click();
    settle(&mut h);
    assert!(console.x_sync_workflow().unwrap().started, "started in the workspace");
    h.get_by_label("Started");

    // A new schedule through the Scheduler's form: every day at 07:30.
    h.get_by_label("Schedule…").click();
    settle(&mut h);
    h.get_by_label("Schedule of the synchronization");
    h.get_by_role(Role::ComboBox).click();
    settle(&mut h);
    h.get_by_label("every day").click();
    settle(&mut h);
    h.get_by_label("Save").click();
    settle(&mut h);
    let w = console.x_sync_workflow().unwrap();
    assert!(matches!(w.schedule, Schedule::Daily { .. }), "{:?}", w.schedule);
    h.get_by_label_contains("every day at");

    // Execute pending task(s) now: the followers come in as visitors, the run is listed.
    h.get_by_label("Execute pending task(s) now").click();
    for _ in 0..50 {
        settle(&mut h);
        if console.visitor_count(None, None).unwrap().0 == 1_200 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(console.visitor_count(None, None).unwrap(), (1_200, 1_200));
    for _ in 0..20 {
        settle(&mut h);
        if h.query_all_by_label_contains("1200 visitors in 2 pages").count() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // In the last runs, and the job's end in the status bar.
    assert_eq!(h.query_all_by_label_contains("1200 visitors in 2 pages").count(), 2);

    h.get_by_label("Stop").click();
    settle(&mut h);
    assert!(!console.x_sync_workflow().unwrap().started);
}

#[test]
fn an_api_triggered_campaign_opens_its_form_edits_the_message_and_goes_live() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(20, 1, false, &mut |_| true).unwrap();
    let c = console.create_campaign("Login codes", CampaignKind::ApiTriggered).unwrap();
    let mut h = harness(campaign_console::ui::App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label("Login codes").click();
    settle(&mut h);
    h.get_by_label("Open").click();
    settle(&mut h);
    // A new form: the problems before it can go live, and a cURL command.
    h.get_by_label_contains("Before it can go live");
    h.get_by_label_contains("the email has no subject");
    h.get_by_label("cURL request");
    assert!(console.api_campaign_page(c.id).unwrap().curl.contains(&format!("/v1/campaigns/{}/trigger", c.id)));

    h.get_by_label("SMS").click();
    settle(&mut h);
    h.get_by_role_and_label(Role::MultilineTextInput, "Text").focus();
    h.get_by_role_and_label(Role::MultilineTextInput, "Text").type_text("Your code: {{ context.code }}");
    settle(&mut h);
    // The context attribute the message uses is listed as it is typed.
    h.get_by_label("context.code");
    h.get_by_role_and_label(Role::Button, "Save").click();
    settle(&mut h);
    let (_, form) = console.api_campaign(c.id).unwrap();
    assert_eq!(form.channel, campaign_console::model::Channel::Sms);
    assert_eq!(form.message.text, "Your code: {{ context.code }}");
    assert_eq!(form.context.len(), 1);

    // Nothing left to fix: it goes live.
    h.get_by_label("Review to activate").click();
    settle(&mut h);
    assert_eq!(console.api_campaign(c.id).unwrap().0.status, CampaignStatus::Live);
    h.get_by_role_and_label(Role::Button, "Pause");
}

#[test]
fn an_api_key_is_made_in_settings_and_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let mut h = harness(campaign_console::ui::App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_all_by_label_contains("Settings").next().unwrap().click();
    settle(&mut h);
    h.get_by_label_contains("No API keys yet");
    h.get_by_role_and_label(Role::TextInput, "New key named").focus();
    h.get_by_role_and_label(Role::TextInput, "New key named").type_text("Website");
    h.get_by_label("Create key").click();
    settle(&mut h);
    h.get_by_label_contains("Copy the new key now");
    let keys = console.api_keys().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "Website");
    // The whole key once (with Copy), and its first characters in the list.
    assert_eq!(h.get_all_by_label_contains(&keys[0].prefix).count(), 2);
}

#[test]
fn the_demo_follow_up_opens_its_form_is_edited_published_and_lists_its_pending_sends() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(60, 1, false, &mut |_| true).unwrap();
    let id = console.campaign("Summer reminder").unwrap().id;
    let mut h = harness(campaign_console::ui::App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label("Summer reminder").click();
    settle(&mut h);
    h.get_by_label("Open").click();
    settle(&mut h);
    // The demo's form: its trigger, delay, exception, and the delivery rules.
    h.get_by_label("Trigger: interacts with campaign");
    h.get_by_label("Schedule delay");
    h.get_by_label("Exception events");
    h.get_by_label_contains("This follow-up: not published yet");
    h.get_by_label_contains("keep the source campaign as a draft, publish this follow-up");

    // Every time, instead of once; then saved.
    h.get_by_label("Every time").click();
    settle(&mut h);
    h.get_by_role_and_label(Role::Button, "Save").click();
    settle(&mut h);
    let (_, form) = console.connector(id).unwrap();
    assert_eq!(form.reeligibility, campaign_console::model::connector::Reeligibility::EveryTime);
    assert_eq!(form.delay, campaign_console::model::connector::Delay::Days(3));

    h.get_by_role_and_label(Role::Button, "Publish").click();
    settle(&mut h);
    let live = console.connector(id).unwrap().0;
    assert_eq!(live.status, CampaignStatus::Live);
    h.get_by_role_and_label(Role::Button, "Pause");
    h.get_by_label_contains("This follow-up: published");

    // The source sent through the Sandbox: its email's deliveries wait three days.
    console.run_campaign("Summer getaway", false, None, &mut |_, _| {}, &|| false).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    console.simulate_sandbox_events().unwrap();
    let counts = console.pending_counts(Some(id)).unwrap();
    assert!(counts.waiting > 0);
    // (Below the fold: scrolled to first, as a user would.)
    h.get_by_label("Refresh").scroll_to_me();
    settle(&mut h);
    h.get_by_label("Refresh").click();
    settle(&mut h);
    h.get_by_label_contains(&format!("{} waiting", counts.waiting));
    let rows = h.query_all_by_label("email received on \u{201c}Summer getaway\u{201d}").count();
    assert_eq!(rows as u64, counts.waiting + counts.cancelled_total(), "a row per pending send");
}

#[test]
fn a_campaign_is_exported_to_a_file_and_imported_back_as_a_draft() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(20, 1, false, &mut |_| true).unwrap();
    let file = dir.path().join("reset.campaign.json");
    let mut h = harness(campaign_console::ui::App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label("Password reset").click();
    settle(&mut h);
    h.get_by_label("Export…").click();
    settle(&mut h);
    support::type_into(&mut h, "Path", &file.display().to_string());
    h.get_by_role_and_label(Role::Button, "Export").click();
    settle(&mut h);
    h.get_by_label_contains("written to");
    assert!(file.is_file());
    h.get_by_label("Close").click();
    settle(&mut h);

    h.get_by_label("Import…").click();
    settle(&mut h);
    support::type_into(&mut h, "Path", &file.display().to_string());
    h.get_by_role_and_label(Role::Button, "Import").click();
    settle(&mut h);
    h.get_by_label_contains("Imported as \u{201c}Password reset (imported)\u{201d}, a draft");
    let copy = console.campaign("Password reset (imported)").unwrap();
    assert_eq!((copy.kind, copy.status), (CampaignKind::ApiTriggered, CampaignStatus::Draft));
    assert_eq!(
        console.api_campaign(copy.id).unwrap().1,
        console.api_campaign(console.campaign("Password reset").unwrap().id).unwrap().1
    );
}

#[test]
fn the_report_of_a_sandbox_send_shows_the_ledgers_numbers_and_its_plots() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(200, 1, false, &mut |_| true).unwrap();
    console.run_campaign("Summer getaway", false, None, &mut |_, _| {}, &|| false).unwrap();
    // The Sandbox's events are due two seconds after a send.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let mut h = harness(campaign_console::ui::App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label("Summer getaway").click();
    settle(&mut h);
    h.get_by_role_and_label(Role::Button, "Report").click();
    settle(&mut h);
    h.get_by_label("Report: Summer getaway");

    // The numbers on screen are the workspace's.
    let db = support::sqlite(dir.path());
    let sent = support::one(
        &db,
        "SELECT COUNT(*) FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id
          WHERE d.campaign_id = 1 AND d.is_proof = 0 AND l.status = 'sent'",
    );
    let delivered =
        support::one(&db, "SELECT COUNT(*) FROM cc_interactions WHERE campaign_id = 1 AND kind = 'delivered'");
    let opened = support::one(
        &db,
        "SELECT COUNT(DISTINCT profile_key) FROM cc_interactions WHERE campaign_id = 1 AND kind = 'opened'",
    );
    assert!(sent > 0 && delivered > 0, "the Sandbox sent and delivered");
    h.get_by_label(&format!("{sent} sent"));
    h.get_by_label_contains(&format!("{delivered} delivered ("));
    h.get_by_label_contains(&format!("{opened} opened ("));
    for plot in ["Events over time", "Funnel", "Errors by code", "Clicks by link alias"] {
        h.get_by_label(plot);
    }
    // Back to the list.
    h.get_by_label("⬅ All campaigns").click();
    settle(&mut h);
    h.get_by_role_and_label(Role::Button, "New campaign…");
}

#[test]
fn the_global_report_lists_the_sent_campaigns_with_totals_and_compares_two() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(200, 1, false, &mut |_| true).unwrap();
    let copy = console.duplicate_campaign(console.campaign("Summer getaway").unwrap().id).unwrap();
    for name in ["Summer getaway", copy.name.as_str()] {
        console.run_campaign(name, false, None, &mut |_, _| {}, &|| false).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let mut h = harness(campaign_console::ui::App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_role_and_label(Role::Button, "📊  Reports").click();
    settle(&mut h);
    h.get_by_label("Last 30 days");

    // The screen shows the workspace's numbers: each campaign's line and their sum.
    let shown = h.state().reports_screen().report().cloned().unwrap();
    let db = support::sqlite(dir.path());
    let sent = support::one(
        &db,
        "SELECT COUNT(*) FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id
          WHERE d.is_proof = 0 AND l.status = 'sent'",
    );
    assert_eq!(shown.lines.len(), 2, "both campaigns sent in the period; the others did not");
    assert_eq!(shown.total.sent, sent as u64);
    for line in &shown.lines {
        assert_eq!(line.numbers, console.campaign_report(line.campaign_id).unwrap().total, "{}", line.campaign);
        assert_eq!(line.sent_by_day.iter().sum::<u64>(), line.numbers.sent, "every send was in the period");
        h.get_by_label(&line.campaign);
    }
    h.get_by_label("Total (2 campaigns)");
    h.get_by_label(&sent.to_string());

    // Sorted by a column's title: by name, A to Z.
    h.get_by_label("Campaign").click();
    settle(&mut h);
    h.get_by_label("Campaign ⬆");

    // Two ticked, then compared side by side.
    h.get_by_label("Compare \u{201c}Summer getaway\u{201d}").click();
    h.get_by_label(&format!("Compare \u{201c}{}\u{201d}", copy.name)).click();
    settle(&mut h);
    h.get_by_label("2 of 2 ticked");
    h.get_by_role_and_label(Role::Button, "Compare").click();
    settle(&mut h);
    h.get_by_label_contains("Compare: Summer getaway");
    h.get_by_label("Difference");
    h.get_by_label("Funnel");
    h.get_by_label("⬅ All campaigns").click();
    settle(&mut h);
    h.get_by_label("Total (2 campaigns)");

    // Exported to CSV: the same lines as the report's.
    let file = dir.path().join("global.csv");
    h.get_by_label("Export to CSV…").click();
    settle(&mut h);
    support::type_into(&mut h, "Path", &file.display().to_string());
    h.get_by_role_and_label(Role::Button, "Export").click();
    settle(&mut h);
    let written = std::fs::read_to_string(&file).unwrap();
    let mut expected = csv::Writer::from_writer(Vec::new());
    for line in shown.csv() {
        expected.write_record(&line).unwrap();
    }
    assert_eq!(written, String::from_utf8(expected.into_inner().unwrap()).unwrap());
    assert!(written.lines().last().unwrap().starts_with("(total),,"), "{written}");
}
