//! Reopening a canvas: the time from asking for a campaign's canvas to having its counts on
//! screen, on a demo workspace (1,000,000 profiles unless BENCH_PROFILES says otherwise,
//! generated once under target/ and shared with the `audience` bench). Reports
//! (a) the first count of the demo canvas from cold (what opening cost before counts were
//! kept), and (b) opening it again when neither the canvas nor the data changed: the canvas,
//! its context and its kept counts, no count. Median of 21 runs for (b).
//!
//!     cargo bench --profile dev --bench reopen

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

#[path = "support/demo_workspace.rs"]
mod demo_workspace;

use std::time::{Duration, Instant};

use campaign_console::console::CountOutcome;

fn main() {
    let (profiles, console) = demo_workspace::demo_console();
    let id = console.campaign("Summer getaway").unwrap().id;

    // (a) The first count, from cold: what every opening cost before.
    let (_, canvas, _) = console.open_canvas(id).unwrap();
    let t = Instant::now();
    let outcome = console.count_canvas(id, &canvas, 0, true);
    let cold = t.elapsed();
    assert!(matches!(outcome, CountOutcome::Counted(_)), "{outcome:?}");

    // (b) Opening again: the canvas with its kept counts, current, so nothing is counted.
    let mut runs: Vec<Duration> = (0..21)
        .map(|_| {
            let t = Instant::now();
            let (_, _, context) = console.open_canvas(id).unwrap();
            let took = t.elapsed();
            let kept = context.kept.expect("the counts were kept");
            assert!(kept.current, "the kept counts are not current");
            assert!(kept.report.count_of("t_audience").is_some(), "no count kept for the audience");
            took
        })
        .collect();
    runs.sort();
    let reopen = runs[runs.len() / 2];
    println!("profiles                         {profiles}");
    println!("(a) first count from cold        {:>9.1} ms", cold.as_secs_f64() * 1e3);
    println!("(b) reopen to counts (median)    {:>9.1} ms   target ≤ 100 ms", reopen.as_secs_f64() * 1e3);
}
