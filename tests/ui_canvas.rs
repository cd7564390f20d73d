//! The canvas editor, driven through the real app on a temporary demo workspace: counts on
//! screen equal the engine's, activities are added, moved, connected and configured through
//! the UI, a wrong connection is refused with its reason, undo goes back, and the canvas
//! round-trips through the workspace.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use std::time::{Duration, Instant};

use campaign_console::console::Console;
use campaign_console::model::{ActivityKind, CampaignKind, Canvas, Op, Operand, Rule};
use campaign_console::ui::{App, SavedState, testing, theme};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use support::{harness, settle};

/// Runs frames until the editor has counted and saved everything and the Console is idle.
fn settle_canvas(h: &mut Harness<'static, App>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        h.step();
        let idle = h.state().console().is_idle();
        let done = h.state_mut().canvas_editor().is_some_and(|e| !e.is_counting() && e.is_saved());
        if idle && done {
            h.run_steps(3);
            if h.state().console().is_idle() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the canvas did not settle within 30 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn open(h: &mut Harness<'static, App>, name: &str) {
    h.get_by_label(name).click();
    settle(h);
    h.get_by_role_and_label(Role::Button, "Open").click();
    settle(h);
    settle_canvas(h);
}

/// Drags with the primary button from `from` to `to` in small steps.
fn drag(h: &mut Harness<'static, App>, from: egui::Pos2, to: egui::Pos2) {
    h.hover_at(from);
    h.run_steps(4);
    h.drag_at(from);
    h.run_steps(2);
    for i in 1..=10 {
        h.hover_at(from + (to - from) * (i as f32 / 10.0));
        h.run_steps(2);
    }
    h.drop_at(to);
    h.run_steps(2);
}

/// A demo workspace of `profiles` (seed `seed`) with the app open on the demo canvas, counted.
fn demo_canvas(profiles: u64, seed: u64) -> (tempfile::TempDir, std::sync::Arc<Console>, Harness<'static, App>) {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(profiles, seed, false, &mut |_| true).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    open(&mut h, "Summer getaway");
    (dir, console, h)
}

/// A plain click on activity `id`'s frame (which selects it).
fn click_frame(h: &mut Harness<'static, App>, id: &str) {
    let rect = h.state_mut().canvas_editor().unwrap().node_screen_rect(id).unwrap();
    let at = rect.left_bottom() + egui::vec2(3.0, -3.0);
    h.hover_at(at);
    h.run_steps(2);
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        h.run_steps(1);
    }
    h.run_steps(2);
}

fn editor_canvas(h: &mut Harness<'static, App>) -> Canvas {
    h.state_mut().canvas_editor().unwrap().canvas()
}

#[test]
fn the_demo_canvas_shows_the_engines_counts() {
    let (dir, console, mut h) = demo_canvas(2_000, 5);

    let (_, canvas, report) = console.count_campaign("Summer getaway", &|| false).unwrap();
    let editor = h.state_mut().canvas_editor().unwrap();
    assert!(editor.problems().is_empty(), "{:?}", editor.problems());
    for t in &canvas.transitions {
        assert_eq!(editor.count_of(&t.id), report.count_of(&t.id), "transition {}", t.id);
    }
    // On screen: the audience's count, and the split's outputs with theirs.
    let audience = report.count_of("t_audience").unwrap();
    // Build, enrichment and deduplication keep everyone here: three outputs show it.
    assert!(h.query_all_by_label(&theme::count(audience)).count() >= 1);
    let vip = report.count_of("t_vip").unwrap();
    let label = format!("Gold and platinum: {}", theme::count(vip));
    h.get_by_label(&label);

    // Clicking a count shows the transition's rows (first page), from the engine's table.
    h.get_by_label(&label).click_accesskit();
    h.run_steps(2);
    settle_canvas(&mut h);
    h.run_steps(2);
    let (transition, total, rows) = {
        let e = h.state_mut().canvas_editor().unwrap();
        let (t, total, rows) = e.inspected().unwrap();
        (t.to_owned(), total, rows.to_vec())
    };
    assert_eq!((transition.as_str(), total), ("t_vip", vip));
    assert_eq!(rows.len() as u64, vip.min(campaign_console::console::ROWS_PAGE));
    h.get_by_label_contains(&format!("of {}", theme::count(vip)));
    // The profile's columns come first, its key last.
    let mut keys: Vec<i64> = rows.iter().map(|r| r.last().unwrap().parse().unwrap()).collect();
    let sorted = {
        let mut k = keys.clone();
        k.sort_unstable();
        k
    };
    assert_eq!(keys, sorted, "rows come in key order");
    // Every one of them is a gold or platinum profile.
    let conn = rusqlite::Connection::open(console.database_path()).unwrap();
    for k in keys.drain(..) {
        let tier: String =
            conn.query_row("SELECT loyalty_tier FROM profiles WHERE id = ?1", [k], |r| r.get(0)).unwrap();
        assert!(tier == "gold" || tier == "platinum", "{k}: {tier}");
    }

    // Export them all to CSV (the window asks where with a dialog; here the path is given).
    let file = dir.path().join("vip.csv");
    console.send(campaign_console::console::CanvasCommand::Export {
        campaign_id: console.campaign("Summer getaway").unwrap().id,
        transition: "t_vip".into(),
        path: file.clone(),
    });
    settle(&mut h);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    // As on screen: the profile's columns, the enrichment columns, then the key.
    assert_eq!(
        lines.next(),
        Some(
            "email,phone,first_name,last_name,country,city,birth_date,loyalty_tier,created_at,email_opt_in,\
             sms_opt_in,push_opt_in,x_handle,crm_id,total_spent,stays,last_check_in,id"
        )
    );
    assert_eq!(lines.count() as u64, vip);
    h.get_by_label_contains(&format!("Exported {vip} rows"));

    // A new activity, not yet connected, has a problem; every other count stays on screen.
    h.get_by_role_and_label(Role::Button, "🗐 Deduplication").focus();
    h.run_steps(2);
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    settle_canvas(&mut h);
    let editor = h.state_mut().canvas_editor().unwrap();
    assert!(
        editor.problems().iter().any(|p| p.activity.as_deref() == Some("deduplication_1")),
        "{:?}",
        editor.problems()
    );
    for t in &canvas.transitions {
        assert_eq!(editor.count_of(&t.id), report.count_of(&t.id), "transition {}", t.id);
    }
    assert!(h.query_all_by_label_contains("nothing is connected to its input").count() >= 1);
}

#[test]
#[allow(clippy::too_many_lines, reason = "one user's story through the canvas, step by step")]
fn build_split_and_sms_through_the_ui() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(1_000, 3, false, &mut |_| true).unwrap();
    console.create_campaign("Autumn", CampaignKind::Orchestrated).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    open(&mut h, "Autumn");
    h.get_by_label_contains("This canvas has no activities yet");

    // Add three activities from the palette with the keyboard (Enter on the entry).
    let mut history: Vec<Canvas> = vec![editor_canvas(&mut h)];
    for entry in ["🎯 Build audience", "✂ Split", "💬 SMS"] {
        h.get_by_role_and_label(Role::Button, entry).focus();
        h.run_steps(2);
        h.key_press(egui::Key::Enter);
        h.run_steps(2);
        settle_canvas(&mut h);
        history.push(editor_canvas(&mut h));
    }
    let canvas = editor_canvas(&mut h);
    let ids: Vec<&str> = canvas.activities.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["build_audience_1", "split_1", "sms_1"]);

    // Move them apart by dragging their frames: the audience left, the SMS right.
    for (id, dx) in [("build_audience_1", -330.0), ("sms_1", 260.0)] {
        let rect = h.state_mut().canvas_editor().unwrap().node_screen_rect(id).unwrap();
        let grab = egui::pos2(rect.center().x, rect.bottom() - 3.0);
        let before = editor_canvas(&mut h).activity(id).unwrap().position;
        drag(&mut h, grab, grab + egui::vec2(dx, 0.0));
        settle_canvas(&mut h);
        let after = editor_canvas(&mut h).activity(id).unwrap().position;
        assert!((after[0] - before[0]) / dx > 0.5, "{id} did not move: {before:?} → {after:?}");
        history.push(editor_canvas(&mut h));
    }

    // Set the audience's condition in the properties: gold-tier profiles.
    // (Inside the canvas, accessibility rectangles are in graph space: click through AccessKit.)
    h.get_by_role_and_label(Role::Label, "🎯 Build audience").click_accesskit();
    h.run_steps(2);
    settle_canvas(&mut h);
    h.get_by_label("Build audience · build_audience_1");
    // Through the form: add a condition, pick the column, the operator, then a value from
    // the column's values (read from the data in the background).
    h.get_by_role_and_label(Role::Button, "+ Condition").click();
    h.run_steps(2);
    settle_canvas(&mut h);
    history.push(editor_canvas(&mut h));
    // A combo box is found by what it shows.
    for (shows, choice) in [("Email", "Loyalty tier"), ("is not empty", "="), ("—", "gold")] {
        h.query_all_by_role(Role::ComboBox)
            .find(|n| n.value().as_deref() == Some(shows))
            .unwrap_or_else(|| panic!("no combo box shows {shows}"))
            .click();
        h.run_steps(2);
        h.get_by_label(choice).click();
        h.run_steps(2);
        settle_canvas(&mut h);
        history.push(editor_canvas(&mut h));
    }
    let kind = ActivityKind::BuildAudience {
        dimension: "profiles".into(),
        rule: Rule::All {
            rules: vec![Rule::Column {
                column: "loyalty_tier".into(),
                op: Op::Eq,
                value: Operand::Text("gold".into()),
            }],
        },
        emit_when_empty: false,
    };
    assert_eq!(editor_canvas(&mut h).activity("build_audience_1").unwrap().kind, kind);

    // Close the properties (they cover part of the canvas), then connect audience → split →
    // SMS by dragging from output pins to input pins.
    h.get_by_role_and_label(Role::Button, "✖").click();
    h.run_steps(2);
    for (from, output, to) in [("build_audience_1", "out", "split_1"), ("split_1", "subset_1", "sms_1")] {
        let e = h.state_mut().canvas_editor().unwrap();
        let (a, b) = (e.pin_screen_pos(from, true, output).unwrap(), e.pin_screen_pos(to, false, "in").unwrap());
        drag(&mut h, a, b);
        settle_canvas(&mut h);
        history.push(editor_canvas(&mut h));
    }
    let canvas = editor_canvas(&mut h);
    assert_eq!(canvas.transitions.len(), 2, "{:?}", canvas.transitions);

    // The counts on screen are the engine's for the saved canvas.
    let (_, saved, report) = console.count_campaign("Autumn", &|| false).unwrap();
    assert_eq!(saved.transitions, canvas.transitions);
    let editor = h.state_mut().canvas_editor().unwrap();
    for t in &saved.transitions {
        assert!(report.count_of(&t.id).is_some());
        assert_eq!(editor.count_of(&t.id), report.count_of(&t.id), "transition {}", t.id);
    }
    let gold = report.count_of(&saved.transitions[0].id).unwrap();
    assert!(h.query_all_by_label(&theme::count(gold)).count() >= 1);

    // A second wire into the SMS's single input is refused, with the reason.
    let e = h.state_mut().canvas_editor().unwrap();
    let (a, b) =
        (e.pin_screen_pos("split_1", true, "complement").unwrap(), e.pin_screen_pos("sms_1", false, "in").unwrap());
    drag(&mut h, a, b);
    settle_canvas(&mut h);
    let why = h.state_mut().canvas_editor().unwrap().refusal().unwrap().to_owned();
    assert!(why.contains("already has an inbound transition"), "{why}");
    h.get_by_label_contains("Not connected");
    assert_eq!(editor_canvas(&mut h).transitions.len(), 2);

    // Undo three times: back to before the value was chosen.
    for _ in 0..3 {
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
        h.run_steps(2);
    }
    settle_canvas(&mut h);
    let n = history.len();
    assert_eq!(editor_canvas(&mut h), history[n - 4]);
    // Redo once: the value is back.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Y);
    h.run_steps(2);
    settle_canvas(&mut h);
    assert_eq!(editor_canvas(&mut h), history[n - 3]);

    // Reopen: the canvas is as it was left.
    let left = editor_canvas(&mut h);
    h.get_by_label("⬅ All campaigns").click();
    settle(&mut h);
    open(&mut h, "Autumn");
    assert_eq!(editor_canvas(&mut h), left);
    let stored = console.canvas(&console.campaign("Autumn").unwrap()).unwrap();
    assert_eq!(stored, left);
}

#[test]
fn space_drag_pans_and_removing_a_subset_keeps_the_other_wires() {
    let (_dir, console, mut h) = demo_canvas(1_000, 9);

    // Space + drag over a node pans the view; the node stays where it is on the canvas.
    let before = editor_canvas(&mut h);
    let rect = h.state_mut().canvas_editor().unwrap().node_screen_rect("enrich").unwrap();
    h.key_down(egui::Key::Space);
    h.run_steps(2);
    drag(&mut h, rect.center(), rect.center() + egui::vec2(80.0, 40.0));
    h.key_up(egui::Key::Space);
    h.run_steps(4);
    let moved = h.state_mut().canvas_editor().unwrap().node_screen_rect("enrich").unwrap();
    let shift = moved.center() - rect.center();
    assert!((shift - egui::vec2(80.0, 40.0)).length() < 6.0, "the view moved by {shift:?}");
    assert_eq!(editor_canvas(&mut h), before, "a pan changed the canvas");

    // Remove the split's second subset in its form: the third subset's wire (to the SMS) moves
    // up with it, the complement keeps its wire, and the counts are the engine's again.
    h.get_by_role_and_label(Role::Label, "✂ Segments").click_accesskit();
    h.run_steps(2);
    settle_canvas(&mut h);
    h.get_by_role_and_label(Role::Button, "Remove subset 2").click();
    h.run_steps(2);
    settle_canvas(&mut h);
    let canvas = editor_canvas(&mut h);
    let ActivityKind::Split { subsets, .. } = &canvas.activity("split").unwrap().kind else { panic!("not a split") };
    let labels: Vec<&str> = subsets.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["Gold and platinum", "Sample of the rest"]);
    let from_split: Vec<(&str, &str)> =
        canvas.transitions.iter().filter(|t| t.from == "split").map(|t| (t.output.as_str(), t.to.as_str())).collect();
    assert_eq!(from_split, [("subset_1", "vip_and_new"), ("subset_2", "sms"), ("complement", "save_rest")]);
    let (_, saved, report) = console.count_campaign("Summer getaway", &|| false).unwrap();
    assert_eq!(saved, canvas);
    let editor = h.state_mut().canvas_editor().unwrap();
    for t in &saved.transitions {
        assert_eq!(editor.count_of(&t.id), report.count_of(&t.id), "transition {}", t.id);
    }

    // Undo brings the subset and its wire back.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    settle_canvas(&mut h);
    assert_eq!(editor_canvas(&mut h).transitions, before.transitions);
}

#[test]
fn dropping_a_deduplication_on_a_wire_puts_it_in_between() {
    let (_dir, console, mut h) = demo_canvas(1_000, 4);
    let before = editor_canvas(&mut h);

    // Drag the palette's Deduplication onto the wire from the audience to the enrichment.
    let (a, b) = {
        let e = h.state_mut().canvas_editor().unwrap();
        (e.pin_screen_pos("audience", true, "out").unwrap(), e.pin_screen_pos("enrich", false, "in").unwrap())
    };
    let on_wire = a + (b - a) * 0.5;
    let from = h.get_by_role_and_label(Role::Button, "🗐 Deduplication").rect().center();
    drag(&mut h, from, on_wire);
    settle_canvas(&mut h);

    let canvas = editor_canvas(&mut h);
    let added = canvas.activities.iter().find(|x| x.id == "deduplication_1").expect("the deduplication was not added");
    assert!(matches!(added.kind, ActivityKind::Deduplication { .. }));
    let wire = |from: &str, to: &str| canvas.transitions.iter().any(|t| t.from == from && t.to == to);
    assert!(wire("audience", "deduplication_1") && wire("deduplication_1", "enrich"), "{:?}", canvas.transitions);
    assert!(!wire("audience", "enrich"));
    // Everything from the enrichment on moved right to make room; nothing else moved.
    let x = |c: &Canvas, id: &str| c.activity(id).unwrap().position[0];
    assert!(x(&canvas, "deduplication_1") > x(&canvas, "audience"));
    assert!(x(&canvas, "enrich") > x(&canvas, "deduplication_1"));
    assert_eq!(x(&canvas, "audience"), x(&before, "audience"));
    // The counts are the engine's for the new canvas.
    let (_, saved, report) = console.count_campaign("Summer getaway", &|| false).unwrap();
    assert_eq!(saved, canvas);
    let editor = h.state_mut().canvas_editor().unwrap();
    for t in &saved.transitions {
        assert_eq!(editor.count_of(&t.id), report.count_of(&t.id), "transition {}", t.id);
    }

    // One undo takes it all back.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    settle_canvas(&mut h);
    assert_eq!(editor_canvas(&mut h), before);
}

/// A plain click selects an activity (Delete then removes it), and Ctrl+0 fits the whole demo
/// canvas in a 1280×800 window.
#[test]
fn a_click_selects_and_fit_shows_the_whole_canvas() {
    let (_dir, _console, mut h) = demo_canvas(500, 9);

    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num0);
    h.run_steps(6);
    let (view, nodes): (egui::Rect, Vec<(String, egui::Rect)>) = {
        let e = h.state_mut().canvas_editor().unwrap();
        let ids: Vec<String> = e.canvas().activities.iter().map(|a| a.id.clone()).collect();
        (
            e.canvas_screen_rect(),
            ids.into_iter().filter_map(|id| Some((id.clone(), e.node_screen_rect(&id)?))).collect(),
        )
    };
    assert_eq!(nodes.len(), editor_canvas(&mut h).activities.len());
    for (id, r) in &nodes {
        assert!(view.expand(1.0).contains_rect(*r), "{id} at {r:?} is outside the view {view:?} after fit");
    }

    // A plain click on the activity's frame selects it; Delete removes it.
    click_frame(&mut h, "save_rest");
    h.key_press(egui::Key::Delete);
    h.run_steps(3);
    assert!(editor_canvas(&mut h).activity("save_rest").is_none(), "the clicked activity was not selected");
}

/// A canvas opened again shows its last counts at once, and counts nothing when neither the
/// canvas nor the data changed; after the data changed, it counts again.
#[test]
fn a_canvas_reopens_with_its_last_counts_at_once() {
    let (_dir, console, mut h) = demo_canvas(500, 9);
    let (_, canvas, report) = console.count_campaign("Summer getaway", &|| false).unwrap();
    let back = |h: &mut Harness<'static, App>| {
        h.get_by_role_and_label(Role::Button, "⬅ All campaigns").click();
        settle(h);
    };
    back(&mut h);
    open(&mut h, "Summer getaway");
    let editor = h.state_mut().canvas_editor().unwrap();
    assert!(editor.kept_from().is_some(), "the kept counts were replaced by a recount");
    for t in &canvas.transitions {
        assert_eq!(editor.count_of(&t.id), report.count_of(&t.id), "transition {}", t.id);
    }
    h.get_by_label_contains("counts of");
    // Rows can be looked at all the same (the canvas is counted on demand).
    let vip = report.count_of("t_vip").unwrap();
    h.get_by_label(&format!("Gold and platinum: {}", campaign_console::ui::theme::count(vip))).click_accesskit();
    h.run_steps(2);
    settle_canvas(&mut h);
    h.run_steps(2);
    let (_, total, _) =
        h.state_mut().canvas_editor().unwrap().inspected().map(|(t, n, r)| (t.to_owned(), n, r.len())).unwrap();
    assert_eq!(total, vip);

    // The data changed: the kept counts are shown, then counted again.
    let conn = rusqlite::Connection::open(console.database_path()).unwrap();
    campaign_console::store::customer_data::bump_data_version(&conn).unwrap();
    back(&mut h);
    open(&mut h, "Summer getaway");
    assert!(h.state_mut().canvas_editor().unwrap().kept_from().is_none(), "counted again after the data changed");
}

#[test]
fn a_double_click_on_a_palette_entry_adds_it_to_an_empty_canvas_where_it_is_counted_unwired() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(200, 3, false, &mut |_| true).unwrap();
    console.create_campaign("Empty", CampaignKind::Orchestrated).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    open(&mut h, "Empty");
    let at = h.get_by_role_and_label(Role::Button, "🎯 Build audience").rect().center();
    h.hover_at(at);
    h.run_steps(2);
    // Both clicks in one frame: the harness's frames are a quarter of a second apart, longer
    // than a double-click takes.
    for pressed in [true, false, true, false] {
        h.input_mut().events.push(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    h.step();
    h.run_steps(2);
    settle_canvas(&mut h);
    let canvas = editor_canvas(&mut h);
    assert_eq!(canvas.activities.len(), 1, "the double-click added Build audience");

    // Wired to nothing, it is counted all the same: every profile, on its output.
    h.get_by_role_and_label(Role::Button, "Count").click();
    h.run_steps(2);
    settle_canvas(&mut h);
    h.get_by_role_and_label(Role::Link, "200");
    assert!(editor_canvas(&mut h).transitions.is_empty(), "the canvas itself is left as it is");
}

/// The demo's SMS activity names the demo's SMS configuration: its form says what it sends as,
/// and choosing none brings back the credential picker.
#[test]
fn an_sms_activity_picks_its_configuration_on_its_form() {
    let (_dir, _console, mut h) = demo_canvas(300, 4);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num0);
    h.run_steps(6);
    click_frame(&mut h, "sms");
    h.run_steps(1);
    h.get_by_label_contains("Sends through Sandbox as +14155550100; STOP, STOPALL, UNSUBSCRIBE, \u{2026} opts out.");
    assert!(h.query_by_label("Send with").is_none(), "the configuration names the credential");
    // A combo box is found by what it shows.
    h.query_all_by_role(Role::ComboBox)
        .find(|n| n.value().as_deref() == Some("Sandbox SMS"))
        .expect("the configuration's combo box")
        .click();
    h.run_steps(3);
    h.get_by_label("none: choose a credential").click();
    h.run_steps(3);
    settle_canvas(&mut h);
    let canvas = editor_canvas(&mut h);
    let Some(ActivityKind::Channel { configuration, .. }) = canvas.activity("sms").map(|a| &a.kind) else {
        panic!("no SMS activity")
    };
    assert_eq!(configuration, &None);
    h.get_by_label("Send with");
}
