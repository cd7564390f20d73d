//! A campaign's report on a big event log: BENCH_EVENTS events (default 10,000,000) of one
//! campaign over 30 days and 1,000,000 ledger rows, written through the events table (its
//! trigger keeps the rollups as each event is written, as in use). Then:
//! - how long the report takes to make (the Console's `campaign_report`: the ledger's numbers,
//!   the rollups, the hourly series), first and then the median of 9;
//! - how long the global report of the 30 days takes (median of 9);
//! - the CPU time of a frame of the Report view showing it, headless (an egui context, no GPU,
//!   tessellation included) while the pointer moves over the events plot (hover labels):
//!   median and 95th percentile of 300 frames after 30.
//!
//!     cargo bench --profile perf --bench report

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

use std::time::{Duration, Instant};

use campaign_console::console::Event;
use campaign_console::ui::Commands;
use campaign_console::ui::report::ReportView;
use campaign_console::ui::testing;

#[path = "../tests/support/mod.rs"]
mod support;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let events = env_number("BENCH_EVENTS", 10_000_000);
    let recipients = (events / 10).max(1);
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let db = support::sqlite(dir.path());
    db.execute_batch(
        "INSERT INTO cc_campaigns (id, name, kind, status, created_at, modified_at)
              VALUES (900, 'Big one', 'orchestrated', 'completed', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z');
         INSERT INTO cc_deliveries (id, campaign_id, activity_id, channel, status, is_proof, created_at)
              VALUES (1, 900, 'email1', 'email', 'done', 0, '2026-11-01T00:00:00Z'),
                     (2, 900, 'sms1', 'sms', 'done', 0, '2026-11-01T00:00:00Z');",
    )
    .unwrap();
    let t = Instant::now();
    db.execute(
        "INSERT INTO cc_ledger (delivery_id, idempotency_key, recipient_key, address, status, error_code, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         SELECT 1 + i % 2, 'k' || i, i, 'a@example.com',
                CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 20 = 0 THEN 'excluded' ELSE 'sent' END,
                CASE WHEN i % 50 = 0 THEN 'timeout' WHEN i % 20 = 0 THEN 'not_opted_in' END,
                '2026-11-01T00:00:00Z'
           FROM n",
        [recipients as i64],
    )
    .unwrap();
    println!("{recipients} ledger rows written in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    db.execute(
        "INSERT INTO cc_interactions (kind, at, campaign_id, delivery_id, profile_key, detail_json)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         SELECT CASE i % 10 WHEN 0 THEN 'sent' WHEN 1 THEN 'delivered' WHEN 2 THEN 'opened' WHEN 3 THEN 'opened'
                           WHEN 4 THEN 'clicked' WHEN 5 THEN 'bounced' WHEN 6 THEN 'unsubscribed'
                           WHEN 7 THEN 'failed' ELSE 'delivered' END,
                strftime('%Y-%m-%dT%H:%M:%SZ', 1764547200 + (i * 7919) % 2592000, 'unixepoch'),
                900, 1 + (i / 10) % 2, CAST((i / 10) % ?2 AS TEXT),
                CASE i % 10 WHEN 4 THEN json_object('alias', 'link' || (i % 7))
                            WHEN 7 THEN json_object('code', 'code' || (i % 5)) ELSE '{}' END
           FROM n",
        [events as i64, recipients as i64],
    )
    .unwrap();
    let took = t.elapsed().as_secs_f64();
    println!(
        "{events} events written through the events table and its rollup trigger in {took:.1} s ({:.0} events/s)",
        events as f64 / took
    );

    let t = Instant::now();
    let report = console.campaign_report(900).unwrap();
    let first = t.elapsed();
    let mut times: Vec<Duration> = (0..9)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(console.campaign_report(900).unwrap());
            t.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let events_in_report: u64 = report.hourly.iter().map(|h| h.events).sum();
    assert_eq!(events_in_report, events, "every event is in the report");
    println!(
        "report of {events} events, {} ledger rows, {} hours: first {:.1} ms, then median {:.1} ms (max {:.1} ms)",
        report.total.targeted,
        report.hourly.len() / 7,
        ms(first),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );

    // The global report of the 30 days the events span: this campaign and its numbers.
    let (first_day, last_day) = (jiff::civil::date(2025, 12, 1), jiff::civil::date(2025, 12, 30));
    let mut times: Vec<Duration> = (0..9)
        .map(|_| {
            let t = Instant::now();
            let global = console.global_report(first_day, last_day).unwrap();
            let took = t.elapsed();
            assert_eq!(global.total, report.total, "the global report has the campaign's numbers");
            took
        })
        .collect();
    times.sort();
    println!(
        "global report of those 30 days: median {:.1} ms (max {:.1} ms)",
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );

    frames(report);
}

/// Frames of the Report view showing `report`, the pointer moving over the events plot.
fn frames(report: campaign_console::model::report::CampaignReport) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut commands = Commands::default();
    let mut view = ReportView::new(900, "Big one", &mut commands);
    view.on_event(&Event::Report { campaign_id: 900, report: Ok(Box::new(report)) });
    let ctx = egui::Context::default();
    let mut time = 0.0;
    let mut step = 0u32;
    let mut frame = |view: &mut ReportView| {
        time += 1.0 / 60.0;
        step += 1;
        // Back and forth over the events plot (left half, below the table).
        let x = 200.0 + f32::from(u16::try_from(step % 480).unwrap_or(0));
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0))),
            time: Some(time),
            events: vec![egui::Event::PointerMoved(egui::pos2(x, 600.0))],
            ..Default::default()
        };
        let t = Instant::now();
        let mut output = ctx.run_ui(input, |ui| {
            let mut commands = Commands::default();
            view.ui(ui, &mut commands);
        });
        let shapes = ctx.tessellate(std::mem::take(&mut output.shapes), output.pixels_per_point);
        std::hint::black_box(shapes);
        output.drop_without_applying_deltas();
        t.elapsed()
    };
    for _ in 0..30 {
        frame(&mut view);
    }
    let mut frames: Vec<Duration> = (0..300).map(|_| frame(&mut view)).collect();
    frames.sort();
    println!(
        "Report view, 1280×800, headless, pointer over the events plot: median frame {:.2} ms, 95th pct {:.2} ms",
        ms(frames[frames.len() / 2]),
        ms(frames[frames.len() * 95 / 100])
    );
}
