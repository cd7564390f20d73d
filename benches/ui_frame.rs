//! CPU time per frame, drawn headless (an egui context, no GPU), tessellation included:
//! - the canvas editor on a synthetic 200-activity canvas (the panels, the snarl nodes and
//!   wires with their counts);
//! - the Visitors browser on 1,000,000 visitors, scrolled by the wheel three lines a frame,
//!   every page asked for answered at the end of the frame that asked (a page read takes
//!   2 to 36 ms off the UI thread: `bench browse`), then a jump to the middle.
//!
//! Median and 95th percentile of 300 frames after 30 warm-up frames.
//!
//!     cargo bench --profile perf --bench ui_frame

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

use std::time::{Duration, Instant};

use campaign_console::console::{BrowseCommand, Command, DataEvent, Event};
use campaign_console::model::browse::{BrowsePage, BrowseRow, Cursor, PageStart};
use campaign_console::model::{Activity, Campaign, CampaignKind, CampaignStatus, Canvas, Operand, Transition};
use campaign_console::ui::Commands;
use campaign_console::ui::browse::BrowseView;
use campaign_console::ui::canvas::{CanvasEditor, palette};

/// How many activities (BENCH_ACTIVITIES overrides, to see how the cost grows).
fn activity_count() -> usize {
    std::env::var("BENCH_ACTIVITIES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
}

/// Twenty chains of ten: build audience → enrichment → deduplication → split → … → email.
fn canvas() -> Canvas {
    let model = campaign_console::demo::data_model();
    let cycle = [
        "Build audience",
        "Enrichment",
        "Deduplication",
        "Control group",
        "Split",
        "Combine",
        "Wait",
        "Test",
        "Fork",
        "Email",
    ];
    let mut activities = Vec::new();
    let mut transitions = Vec::new();
    for i in 0..activity_count() {
        let (row, col) = (i / cycle.len(), i % cycle.len());
        let label = cycle[col];
        activities.push(Activity {
            id: format!("a{i}"),
            label: format!("{label} {i}"),
            kind: palette::new_kind(label, &model).unwrap(),
            position: [col as f32 * 220.0, row as f32 * 140.0],
        });
        if col > 0 && std::env::var("BENCH_NO_WIRES").is_err() {
            let output = campaign_console::audience::outputs(&activities[i - 1].kind)[0].clone();
            transitions.push(Transition {
                id: format!("t{i}"),
                from: format!("a{}", i - 1),
                output,
                to: format!("a{i}"),
                input: "in".into(),
            });
        }
    }
    Canvas { version: campaign_console::model::CANVAS_VERSION, activities, transitions }
}

fn main() {
    let now = campaign_console::clock::wall();
    let campaign = Campaign {
        id: 1,
        name: "Frame benchmark".into(),
        kind: CampaignKind::Orchestrated,
        status: CampaignStatus::Draft,
        starts_at: None,
        ends_at: None,
        published_at: None,
        created_at: now,
        modified_at: now,
        last_run: None,
    };
    let c = canvas();
    assert_eq!(c.activities.len(), activity_count());
    let mut editor = CanvasEditor::new(
        campaign,
        c,
        campaign_console::console::CanvasContext { model: campaign_console::demo::data_model(), ..Default::default() },
    );
    // A plain egui context, as the window runs it (accessibility off: egui builds the
    // AccessKit tree only when a screen reader asks; kittest always builds it).
    let ctx = egui::Context::default();
    let mut time = 0.0;
    let mut frame = |editor: &mut CanvasEditor| {
        time += 1.0 / 60.0;
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0))),
            time: Some(time),
            ..Default::default()
        };
        let t = Instant::now();
        let mut output = ctx.run_ui(input, |ui| {
            let mut commands = Commands::default();
            editor.ui(ui, &mut commands);
        });
        // Tessellation is part of a frame's CPU work too.
        let shapes = ctx.tessellate(std::mem::take(&mut output.shapes), output.pixels_per_point);
        std::hint::black_box(shapes);
        // No GPU here: the font atlas updates go nowhere.
        output.drop_without_applying_deltas();
        t.elapsed()
    };
    for _ in 0..30 {
        frame(&mut editor);
    }
    let mut frames: Vec<Duration> = (0..300).map(|_| frame(&mut editor)).collect();
    frames.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("canvas editor, {} activities, 1280×800, headless (median of 300 frames)", activity_count());
    println!("  median frame   {:6.2} ms", ms(frames[frames.len() / 2]));
    println!("  95th pct       {:6.2} ms", ms(frames[frames.len() * 95 / 100]));
    visitors();
}

/// How many visitors the browser shows.
const VISITORS: u64 = 1_000_000;

/// Rows `from..from + 200` of the visitors, as the store gives them (a keyset cursor after the
/// last).
fn page(columns: usize, from: u64) -> BrowsePage {
    let rows: Vec<BrowseRow> = (from..(from + campaign_console::console::BROWSE_PAGE).min(VISITORS))
        .map(|i| {
            let key = i as i64 + 1;
            let cells = (0..columns)
                .map(|c| match c {
                    0 => key.to_string(),
                    4 => format!("fan_{i}"),
                    5 => format!("Fan Number {i}"),
                    6 => (i * 7 % 10_000).to_string(),
                    _ => format!("value {c}"),
                })
                .collect();
            BrowseRow { key, cells }
        })
        .collect();
    let next = rows.last().filter(|r| (r.key as u64) < VISITORS).map(|r| Cursor { value: Operand::None, key: r.key });
    BrowsePage { rows, next }
}

/// The visitors browser scrolled, then jumped to the middle: frame times.
fn visitors() {
    let entity = campaign_console::store::visitors::entity();
    let columns = entity.columns.len();
    let mut model = campaign_console::demo::data_model();
    model.entities.push(entity.clone());
    let mut commands = Commands::default();
    let mut view = BrowseView::new(model, entity, &mut commands)
        .search_by_prefix(&campaign_console::console::VISITOR_SEARCH, &mut commands);
    let today = campaign_console::clock::wall().to_zoned(jiff::tz::TimeZone::UTC).date();
    let ctx = egui::Context::default();
    let mut time = 0.0;
    let mut frame = |view: &mut BrowseView, commands: &mut Commands, events: Vec<egui::Event>| {
        time += 1.0 / 60.0;
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0))),
            time: Some(time),
            events,
            ..Default::default()
        };
        let t = Instant::now();
        let mut output = ctx.run_ui(input, |ui| {
            view.ui(ui, commands, today);
        });
        let shapes = ctx.tessellate(std::mem::take(&mut output.shapes), output.pixels_per_point);
        std::hint::black_box(shapes);
        output.drop_without_applying_deltas();
        let took = t.elapsed();
        // The pages and counts asked for arrive before the next frame.
        for c in commands.take() {
            let Command::Browse(b) = c else { continue };
            let event = match b {
                BrowseCommand::Page { query, start } => {
                    let from = match &start {
                        PageStart::After(cursor) => cursor.key as u64,
                        PageStart::Offset(n) => *n,
                    };
                    DataEvent::BrowsePage { query, start, page: Ok(page(columns, from)) }
                }
                BrowseCommand::Count { query } => DataEvent::BrowseCount { query, count: Ok(VISITORS) },
                _ => continue,
            };
            view.on_event(&Event::Data(event), None);
        }
        took
    };
    let hover = egui::Event::PointerMoved(egui::pos2(640.0, 400.0));
    let wheel = || egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Line,
        delta: egui::vec2(0.0, -3.0),
        phase: egui::TouchPhase::Move,
        modifiers: egui::Modifiers::NONE,
    };
    for _ in 0..30 {
        frame(&mut view, &mut commands, vec![hover.clone()]);
    }
    let mut frames: Vec<Duration> =
        (0..300).map(|_| frame(&mut view, &mut commands, vec![hover.clone(), wheel()])).collect();
    frames.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let deepest = view.loaded_rows().map(|r| r.key).max().unwrap_or(0);
    assert!(deepest > 1_000, "the wheel scrolled the table (rows loaded down to {deepest})");
    println!(
        "visitors browser, {VISITORS} rows, 1280×800, scrolled 3 lines a frame (300 frames, rows loaded down to {deepest})"
    );
    println!("  median frame   {:6.2} ms", ms(frames[frames.len() / 2]));
    println!("  95th pct       {:6.2} ms", ms(frames[frames.len() * 95 / 100]));
    // A jump: End (the last rows), then the frames after it.
    let end = egui::Event::Key {
        key: egui::Key::End,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: egui::Modifiers::NONE,
    };
    let jump = frame(&mut view, &mut commands, vec![hover.clone(), end]);
    let after: Vec<Duration> = (0..10).map(|_| frame(&mut view, &mut commands, vec![hover.clone()])).collect();
    assert!(view.loaded_rows().any(|r| r.key == VISITORS as i64), "End went to the last row");
    println!(
        "  End (to row {VISITORS}): {:.2} ms, the 10 frames after it at most {:.2} ms",
        ms(jump),
        ms(after.into_iter().max().unwrap_or_default())
    );
}
