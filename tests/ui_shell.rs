//! The window shell: navigation, the Data screen on the demo, Settings, background jobs.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use campaign_console::console::{DataCommand, RunCommand};
use campaign_console::ui::{App, Page, SavedState, ThemeChoice, testing};
use egui_kittest::kittest::Queryable;
use support::{harness, settle};

#[test]
fn the_demo_shows_its_campaigns_and_six_entities_with_row_counts() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(300, 7, false, &mut |_| true).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    for name in ["Summer getaway", "Summer reminder", "Password reset"] {
        h.get_by_label(name);
    }

    h.get_by_label_contains("Data").click();
    settle(&mut h);
    let overview = console.data_overview().unwrap();
    assert_eq!(overview.entities.len(), 6);
    for e in &overview.entities {
        h.get_by_label(&e.entity.label);
        let shown = campaign_console::ui::theme::count(e.row_count.unwrap());
        assert!(h.query_all_by_label(&shown).next().is_some(), "row count {shown} of {} not shown", e.entity.name);
    }
    h.get_by_label("Profiles");
    h.get_by_label("300");
    h.get_by_label("bookings.profile_id = profiles.id");
    h.get_by_label("profiles.email");
}

#[test]
fn settings_show_where_things_are_and_change_the_theme() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState { screen: Page::Settings, ..Default::default() }));
    settle(&mut h);
    h.get_by_label(&console.workspace_dir().display().to_string());
    h.get_by_label_contains("in memory for this session only");
    h.get_by_label("Dark").click();
    settle(&mut h);
    assert_eq!(h.state().state.theme, ThemeChoice::Dark);
    assert_eq!(h.ctx.options(|o| o.theme_preference), egui::ThemePreference::Dark);
}

#[test]
fn empty_screens_say_what_to_do_first() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let mut h = harness(App::new(console, SavedState::default()));
    settle(&mut h);
    for (nav, line) in [
        ("Deliveries", "No delivery yet"),
        ("Visitors", "add one in Channels, X (Twitter)"),
        ("Channels", "Add credential"),
        ("Social (X)", "No X service yet: add one in Channels"),
    ] {
        // The navigation comes first (a screen's text may name another screen).
        h.get_all_by_label_contains(nav).next().unwrap().click();
        settle(&mut h);
        h.get_by_label_contains(line);
        assert_eq!(h.state().state.screen.label(), nav);
    }
}

#[test]
fn a_background_job_shows_progress_and_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    console.send(DataCommand::GenerateDemo { profiles: 3_000_000, replace: false });
    // The job appears in the status bar with a Cancel button.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while h.query_by_label("Cancel").is_none() {
        assert!(std::time::Instant::now() < deadline, "no job in the status bar");
        h.step();
    }
    h.get_by_label_contains("Generating demo data");
    h.get_by_label("Cancel").click();
    settle(&mut h);
    h.get_by_label_contains("cancelled");
    assert!(h.query_by_label("Cancel").is_none(), "the job left the status bar");
    // Nothing was written.
    assert!(console.data_overview().unwrap().entities.is_empty());
    assert!(console.campaigns().unwrap().is_empty());
}

#[test]
fn settings_set_the_frequency_cap_and_refuse_what_is_not_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label_contains("Settings").click();
    settle(&mut h);
    let field = || egui::accesskit::Role::TextInput;
    h.get_by_role_and_label(field(), "Frequency cap").click();
    h.run_steps(1);
    h.get_by_role_and_label(field(), "Frequency cap").type_text("two");
    h.run_steps(1);
    h.get_by_label("Apply").click();
    h.run_steps(2);
    h.get_by_label_contains("is not a number of messages");
    assert_eq!(console.frequency_cap().unwrap(), None, "nothing set");

    h.get_by_role_and_label(field(), "Frequency cap").click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_role_and_label(field(), "Frequency cap").type_text("3");
    h.run_steps(1);
    h.get_by_label("Apply").click();
    h.run_steps(2);
    settle(&mut h);
    assert_eq!(console.frequency_cap().unwrap(), Some(3));
    assert!(h.query_by_label_contains("is not a number of messages").is_none());
}

/// A workspace without data offers the demo on the Data screen and in Settings; the first
/// start's generation, interrupted, is redone on the next start (and only until it is done).
#[test]
fn an_empty_workspace_offers_the_demo_and_an_interrupted_first_start_is_redone() {
    let dir = tempfile::tempdir().unwrap();
    {
        let console = testing::console(dir.path()).unwrap();
        assert!(console.first_start_demo_due(true).unwrap(), "a new workspace gets the demo");
        // The window closed before the generation finished: nothing was written.
    }
    let console = testing::console(dir.path()).unwrap();
    assert!(console.first_start_demo_due(false).unwrap(), "the interrupted generation is redone");

    let mut h = harness(App::new(console.clone(), SavedState { screen: Page::Settings, ..Default::default() }));
    settle(&mut h);
    h.get_by_label("This workspace has no data yet.");
    h.get_by_label(&format!("{}  Data", campaign_console::ui::theme::ICON_DATA)).click();
    settle(&mut h);
    h.get_by_label("Generate the demo data").click();
    settle(&mut h);
    let overview = console.data_overview().unwrap();
    let profiles = overview.entities.iter().find(|e| e.entity.name == "profiles").unwrap();
    assert_eq!(profiles.row_count, Some(campaign_console::demo::FIRST_START_PROFILES));
    h.get_by_label("Profiles");
    assert!(!console.first_start_demo_due(false).unwrap(), "done once: not again");
}

/// A damaged workspace opens a window that says so; another folder can be opened from it, or
/// a new workspace created, and nothing in the damaged one is touched.
#[test]
fn a_damaged_workspace_says_what_is_wrong_and_another_can_be_created() {
    use campaign_console::console::{Console, ConsoleOptions, SecretsChoice};
    use campaign_console::ui::Launcher;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    let garbage = b"this is not a database, it was overwritten by something else".repeat(100);
    std::fs::write(damaged.join("workspace.sqlite"), &garbage).unwrap();
    let open = |d: &std::path::Path| {
        Console::open(ConsoleOptions {
            workspace_dir: d.to_owned(),
            secrets: SecretsChoice::Ephemeral,
            clock: Some(Arc::new(testing::fixed_now)),
            log_dir: None,
        })
        .map(Arc::new)
    };
    let first = open(&damaged);
    assert!(first.is_err());
    let launcher = Launcher::new(Box::new(open), &damaged, first, SavedState::default());
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, l: &mut Launcher| l.show(ui), launcher);
    h.run_steps(3);
    h.get_by_label("The workspace could not be opened");
    h.get_by_label_contains("not a Campaign Console workspace database");

    // Opening a folder with no workspace is refused with the reason; creating one there works.
    let fresh = dir.path().join("fresh");
    h.get_by_label("Path").focus();
    h.run_steps(2);
    h.get_by_label("Path").type_text(&fresh.display().to_string());
    h.run_steps(2);
    h.get_by_label("Open this folder").click();
    h.run_steps(3);
    h.get_by_label_contains("holds no workspace");
    h.get_by_label("Create a new workspace here").click();
    h.run_steps(3);
    let console = h.state_mut().app().expect("the app runs on the new workspace").console().clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !console.is_idle() || console.is_empty().unwrap() {
        assert!(std::time::Instant::now() < deadline, "the demo was not generated");
        h.run_steps(1);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(console.workspace_dir(), fresh.as_path());
    assert_eq!(console.campaigns().unwrap().len(), 3, "the new workspace has the demo");
    assert_eq!(std::fs::read(damaged.join("workspace.sqlite")).unwrap(), garbage, "the damaged one is untouched");
}

/// A notice stays on the screen that raised it, and a failure goes when the same thing then
/// succeeds.
#[test]
fn notices_belong_to_their_screen_and_a_success_clears_the_failure() {
    use campaign_console::model::ActivityKind;
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(200, 7, false, &mut |_| true).unwrap();
    let campaign = console.campaign("Summer getaway").unwrap();
    let good = console.canvas(&campaign).unwrap();
    let mut bad = good.clone();
    for a in &mut bad.activities {
        if let ActivityKind::Channel { credential, .. } = &mut a.kind {
            *credential = Some("Missing".into());
        }
    }
    console.save_canvas(campaign.id, &bad).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    console.send(RunCommand::Start { campaign_id: campaign.id, again: false });
    settle(&mut h);
    let shown = |h: &egui_kittest::Harness<'_, App>| h.query_all_by_label_contains("there is no").next().is_some();
    assert!(shown(&h), "the failure is shown");
    // Not on another screen…
    h.get_by_label(&format!("{}  Data", campaign_console::ui::theme::ICON_DATA)).click();
    settle(&mut h);
    assert!(!shown(&h), "the error followed to the Data screen");
    // …but still where it was raised.
    h.get_by_label(&format!("{}  Campaigns", campaign_console::ui::theme::ICON_CAMPAIGNS)).click();
    settle(&mut h);
    assert!(shown(&h), "the failure is still on its screen");
    // Fixed and run again: the stale failure goes.
    console.save_canvas(campaign.id, &good).unwrap();
    console.send(RunCommand::Start { campaign_id: campaign.id, again: false });
    settle(&mut h);
    assert!(!shown(&h), "a stale failure stayed after a success");
    h.get_by_label_contains("sent:");
}

/// Settings → Server: the window runs the server where it is told (liveness answers there),
/// an address that is not one is refused with the reason, and unticking stops it.
#[test]
fn settings_run_the_server_in_the_window_and_stop_it() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label_contains("Settings").click();
    settle(&mut h);
    support::type_into(&mut h, "Listen on", "not an address");
    h.get_by_label("Apply to the server").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label_contains("is not an address to listen on");
    assert!(!console.server_settings().unwrap().run_in_window, "nothing kept");

    // A port that is free now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    support::type_into(&mut h, "Listen on", &format!("127.0.0.1:{port}"));
    support::type_into(&mut h, "Public URL", "https://hooks.example.com/");
    h.get_by_label("Run the server while this window is open").click();
    h.run_steps(1);
    h.get_by_label("Apply to the server").click();
    h.run_steps(2);
    settle(&mut h);
    let kept = console.server_settings().unwrap();
    assert!(kept.run_in_window);
    assert_eq!(kept.public_base(), "https://hooks.example.com");
    h.get_by_label_contains(&format!("serving on http://127.0.0.1:{port}"));
    let health = |port: u16| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            reqwest::Client::new()
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    assert_eq!(health(port).unwrap(), 200, "it answers where it was told");

    h.get_by_label("Run the server while this window is open").click();
    h.run_steps(1);
    h.get_by_label("Apply to the server").click();
    h.run_steps(2);
    settle(&mut h);
    assert!(health(port).is_err(), "stopped");
}
