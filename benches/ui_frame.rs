//! CPU time per frame of the canvas editor on a synthetic 200-activity canvas, drawn
//! headless (an egui context, no GPU): layout of the panels, the snarl nodes and wires
//! with their counts, and tessellation.
//! Median and 95th percentile of 300 frames after 30 warm-up frames.
//!
//!     cargo bench --profile dev --bench ui_frame

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

use std::time::{Duration, Instant};

use campaign_console::model::{Activity, Campaign, CampaignKind, CampaignStatus, Canvas, Transition};
use campaign_console::ui::Commands;
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
}
