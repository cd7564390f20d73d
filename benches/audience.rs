//! Audience engine benchmark on a demo workspace (1,000,000 profiles unless BENCH_PROFILES says
//! otherwise), generated once under target/. Reports, for the demo's orchestrated canvas
//! (build audience with a linked-bookings condition → enrichment → deduplication → split in 3
//! → combine → channels):
//! (a) all transition counts from cold (fresh connection, page cache warm),
//! (b) the recount after changing one split percentage (incremental session),
//! (c) the same audiences computed by a hand-written chain of SQL statements,
//! and the ratio (a)/(c). Medians of 7 runs; (a) and (c) alternate. The facts the app keeps
//! about the data (distinct columns, instants stored as UTC text to the second; the
//! enrichment's aggregates, the linked conditions and the phone checks kept in the workspace)
//! are found and kept first, and timed; BENCH_FACTS=0 leaves them out, BENCH_FACTS=kept
//! reads those a previous run kept (to measure a count apart from the first). BENCH_STEPS=1 prints
//! each statement of one cold count with its time instead; BENCH_PRAGMAS adds connection
//! settings to the app's (to weigh the page cache, the map).
//!
//!     cargo bench --profile perf --bench audience

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

#[path = "support/demo_workspace.rs"]
mod demo_workspace;

use std::time::{Duration, Instant};

use campaign_console::audience::{self, CompileOptions, CountSession, Dialect};
use campaign_console::model::{ActivityKind, Canvas, DataModel, Limit};
use campaign_console::store::{self, customer_data};
use campaign_console::ui::testing;

const RUNS: usize = 7;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let (profiles, console) = demo_workspace::demo_console();
    let campaign = console.campaign("Summer getaway").unwrap();
    let canvas = console.canvas(&campaign).unwrap();
    let (model, data_version) = {
        let conn = rusqlite::Connection::open(console.database_path()).unwrap();
        (store::data_model::load(&conn).unwrap(), customer_data::data_version(&conn).unwrap())
    };
    let mut options = CompileOptions::new(Dialect::Sqlite, testing::fixed_now(), data_version);
    // The connection settings of the app (temp tables in memory, large cache, mmap).
    // BENCH_PRAGMAS: settings tried on top (e.g. "PRAGMA mmap_size = 0").
    let pragmas = std::env::var("BENCH_PRAGMAS").unwrap_or_default();
    let connect = || {
        let conn = store::open_connection(&console.database_path()).unwrap();
        conn.execute_batch(&pragmas).unwrap();
        conn
    };

    // What the data guarantees, found as the app finds it when first asked at a data version
    // (forgotten first, to time it). BENCH_FACTS=0: none known; kept: those kept before.
    let facts = std::env::var("BENCH_FACTS").unwrap_or_default();
    if facts == "kept" {
        store::column_facts::find_for(&connect(), &canvas, &model, &mut options).unwrap();
        options.kept_facts = true;
        println!("facts: as kept by a previous run (BENCH_FACTS=kept)");
    } else if facts != "0" {
        let conn = connect();
        conn.execute_batch("DELETE FROM cc_column_facts; DELETE FROM cc_instant_facts").unwrap();
        let t = Instant::now();
        store::column_facts::find_for(&conn, &canvas, &model, &mut options).unwrap();
        println!(
            "facts: {:?} distinct, {:?} instants as stored, found in {:.1} ms (once per data version)",
            options.distinct,
            options.canonical_instants,
            ms(t.elapsed())
        );
        // The enrichment's aggregates and the phone numbers' checks kept as facts: dropped,
        // then filled by a first count.
        store::column_facts::drop_stale_facts(&conn, i64::MAX, jiff::civil::date(9999, 1, 1)).unwrap();
        conn.execute("DELETE FROM cc_address_checks", []).unwrap();
        options.kept_facts = true;
        let t = Instant::now();
        let run = audience::compile_with(&canvas, &model, &options).unwrap();
        let report = CountSession::new(connect()).count(&run, &|| false).unwrap();
        let took =
            |activity: &str| report.activities.iter().find(|a| a.activity == activity).map_or(0.0, |a| ms(a.duration));
        println!(
            "facts: kept by a first count in {:.1} ms (the enrichment's aggregates: {:.1} ms, once per data version and day; the SMS's phone checks and reasons: {:.1} ms, once per number and profile; the email's reasons: {:.1} ms, once per data version)",
            ms(t.elapsed()),
            took("enrich"),
            took("sms"),
            took("email")
        );
    } else {
        println!("facts: none (BENCH_FACTS=0)");
    }

    if std::env::var("BENCH_STEPS").as_deref() == Ok("1") {
        print_steps(&connect(), &audience::compile_with(&canvas, &model, &options).unwrap());
        return;
    }
    // (a) Cold, a fresh connection and session each time, and (c) the same audiences by
    // hand, run alternately so that both see the same machine (this one is noisy).
    let mut cold = Vec::new();
    let mut engine_counts = None;
    // Each activity's time in each cold count.
    let mut by_activity: Vec<(String, Vec<Duration>)> = Vec::new();
    let mut hand = Vec::new();
    let mut hand_counts = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let run = audience::compile_with(&canvas, &model, &options).unwrap();
        let mut session = CountSession::new(connect());
        let report = session.count(&run, &|| false).unwrap();
        cold.push(t.elapsed());
        for a in &report.activities {
            match by_activity.iter_mut().find(|(id, _)| *id == a.activity) {
                Some((_, times)) => times.push(a.duration),
                None => by_activity.push((a.activity.clone(), vec![a.duration])),
            }
        }
        engine_counts = Some(report);
        drop(session);

        let conn = connect();
        let t = Instant::now();
        conn.execute_batch(HAND_CHAIN).unwrap();
        hand.push(t.elapsed());
        hand_counts = ["h_audience", "h_unique", "h_vip", "h_new", "h_sample", "h_rest", "h_email"]
            .iter()
            .map(|t| conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get::<_, i64>(0)).unwrap() as u64)
            .collect();
    }
    let engine = engine_counts.unwrap();

    // (b) Incremental: change the sample's percentage, recount in the same session.
    let (recount, recounted) = recounts(CountSession::new(connect()), &canvas, &model, &options);

    let engine_list: Vec<u64> = ["t_audience", "t_unique", "t_vip", "t_new", "t_sample", "t_rest", "t_email"]
        .iter()
        .map(|t| engine.count_of(t).unwrap())
        .collect();
    assert_eq!(engine_list, hand_counts, "the engine and the hand-written chain disagree");

    let (a, b, c) = (median(cold), median(recount), median(hand));
    println!("audience benchmark, {profiles} profiles, demo canvas \u{201c}Summer getaway\u{201d} (median of {RUNS})");
    println!("  counts: {engine_list:?}");
    println!("  (a) all counts from cold           {:8.1} ms", ms(a));
    println!("  (b) recount after a split change   {:8.1} ms", ms(b));
    println!("  (c) hand-written SQL chain         {:8.1} ms", ms(c));
    println!("  (a)/(c)                            {:8.2}", a.as_secs_f64() / c.as_secs_f64());
    println!("  by activity (median of the cold counts; the last recount, - where reused):");
    for ((activity, times), again) in by_activity.into_iter().zip(&recounted.activities) {
        let again = if again.reused { "-".to_owned() } else { format!("{:.1} ms", ms(again.duration)) };
        println!("      {activity:<14} {:8.1} ms {again:>10}", ms(median(times)));
    }
}

/// Counts `canvas` in `session`, then recounts it `RUNS` times with the sample's percentage
/// changed (25 %, 20 %, …): how long each recount took, and the last one's report.
fn recounts(
    mut session: CountSession,
    canvas: &Canvas,
    model: &DataModel,
    options: &CompileOptions,
) -> (Vec<Duration>, audience::CountReport) {
    session.count(&audience::compile_with(canvas, model, options).unwrap(), &|| false).unwrap();
    let mut recount = Vec::new();
    let mut last = None;
    for i in 0..RUNS {
        let mut edited = canvas.clone();
        for a in &mut edited.activities {
            if let ActivityKind::Split { subsets, .. } = &mut a.kind {
                subsets[2].limit = Some(Limit::Percent(if i % 2 == 0 { 25.0 } else { 20.0 }));
            }
        }
        let t = Instant::now();
        let run = audience::compile_with(&edited, model, options).unwrap();
        let report = session.count(&run, &|| false).unwrap();
        recount.push(t.elapsed());
        assert!(report.activities.iter().any(|a| a.reused), "nothing was reused");
        last = Some(report);
    }
    (recount, last.unwrap())
}

/// Runs `run` on `conn` statement by statement, printing each with its time.
fn print_steps(conn: &rusqlite::Connection, run: &audience::CompiledRun) {
    audience::register_functions(conn).unwrap();
    for step in &run.steps {
        for s in &step.statements {
            let t = Instant::now();
            let mut stmt = conn.prepare(&s.sql).unwrap();
            for (i, v) in s.values.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, audience::sqlite_value(v)).unwrap();
            }
            let n = stmt.raw_execute().unwrap();
            println!("{:<12} {:8.1} ms {n:>8} rows  {}", step.activity, ms(t.elapsed()), s.display);
        }
        if let Some(shuffle) = &step.shuffle {
            let t = Instant::now();
            audience::rank(conn, shuffle, &|| false).unwrap();
            println!(
                "{:<12} {:8.1} ms           ranked in memory: {}",
                step.activity,
                ms(t.elapsed()),
                shuffle.keys.display
            );
        }
    }
}

/// The demo canvas written by hand (clock: 2026-05-28T20:26:40Z), with the same hash for the
/// seeded 20 % sample; every table keyed, as the engine's are (an unkeyed table under NOT
/// EXISTS turns quadratic), and the deduplication's join ordered with CROSS JOIN (otherwise
/// SQLite walks all profiles in email-index order: 3.7 s instead of 1.4 s).
const HAND_CHAIN: &str = "
CREATE TEMP TABLE h_audience (key INTEGER PRIMARY KEY);
INSERT INTO h_audience SELECT p.id FROM profiles p WHERE p.email_opt_in = 1 AND EXISTS (
  SELECT 1 FROM bookings b WHERE b.profile_id = p.id AND b.status = 'completed'
  AND b.check_in_date BETWEEN '2025-05-28' AND '2026-05-28');
CREATE TEMP TABLE h_enriched (key INTEGER PRIMARY KEY, total_spent REAL, stays INTEGER, last_check_in TEXT);
INSERT INTO h_enriched SELECT a.key,
  (SELECT COALESCE(SUM(b.amount), 0) FROM bookings b WHERE b.profile_id = a.key AND b.status = 'completed'),
  (SELECT COUNT(*) FROM bookings b WHERE b.profile_id = a.key AND b.status = 'completed'),
  (SELECT MAX(b.check_in_date) FROM bookings b WHERE b.profile_id = a.key)
  FROM h_audience a;
CREATE TEMP TABLE h_unique (key INTEGER PRIMARY KEY, seg INTEGER);
INSERT INTO h_unique SELECT key, CASE
    WHEN tier IN ('gold', 'platinum') THEN 1
    WHEN created_at BETWEEN '2025-05-28T20:26:40Z' AND '2026-05-28T20:26:40Z' THEN 2
    ELSE 3 END
  FROM (SELECT e.key, p.loyalty_tier AS tier, p.created_at, p.email,
          ROW_NUMBER() OVER (PARTITION BY p.email ORDER BY p.created_at IS NULL, p.created_at DESC, e.key) AS rn
        FROM h_enriched e CROSS JOIN profiles p WHERE p.id = e.key)
  WHERE rn = 1 OR email IS NULL OR email = '';
CREATE TEMP TABLE h_vip (key INTEGER PRIMARY KEY);
INSERT INTO h_vip SELECT key FROM h_unique WHERE seg = 1;
CREATE TEMP TABLE h_new (key INTEGER PRIMARY KEY);
INSERT INTO h_new SELECT key FROM h_unique WHERE seg = 2;
CREATE TEMP TABLE h_sample (key INTEGER PRIMARY KEY);
INSERT INTO h_sample SELECT key FROM (
  SELECT key, ROW_NUMBER() OVER (ORDER BY h, key) AS rn, COUNT(*) OVER () AS n FROM (
    SELECT key, x2 + (x2 >> 16) AS h FROM (
      SELECT key, (((x1 + (x1 >> 13)) * 73244475) & 4294967295) AS x2 FROM (
        SELECT key, (((x0 + (x0 >> 15)) * 73244475) & 4294967295) AS x1 FROM (
          SELECT key, (((key & 268435455) * 2654435761 + 7) & 4294967295) AS x0 FROM h_unique WHERE seg = 3)))))
  WHERE rn * 10000 <= n * 2000;
CREATE TEMP TABLE h_rest (key INTEGER PRIMARY KEY);
INSERT INTO h_rest SELECT key FROM h_unique u WHERE seg = 3 AND NOT EXISTS (SELECT 1 FROM h_sample s WHERE s.key = u.key);
CREATE TEMP TABLE h_email (key INTEGER PRIMARY KEY);
INSERT INTO h_email SELECT key FROM h_vip UNION SELECT key FROM h_new;
";
