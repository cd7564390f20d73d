//! Delivery throughput over HTTP: N personalized SMS (1,000,000 unless BENCH_MESSAGES says
//! otherwise) sent by `Console::run_campaign` through the webhook provider to a mock provider on
//! loopback (ledger written first, batches claimed and committed, rendered, posted with the
//! credential's concurrency, recorded with their events), against a bare reqwest loop posting
//! the same number of messages with the same concurrency and nothing else. Reports messages per
//! second for both, their ratio, and the process's peak RSS.
//!
//!     cargo bench --profile perf --bench delivery
//!
//! The mock server runs in this process on two threads of its own (it only counts requests).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

use std::path::PathBuf;
use std::time::Instant;

#[path = "../tests/support/mod.rs"]
mod support;
use support::mock_http;

use campaign_console::model::{CampaignKind, Channel, Message, ProviderKind, ProviderSettings};
use campaign_console::store;
use campaign_console::ui::testing;

const TEXT: &str = "Hi {{ profile.first_name }}, your summer code is {{ profile.id }}. Reply STOP to opt out.";

/// A field of /proc/self/status in MB (RssAnon, RssFile…).
fn status_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Samples the process's anonymous memory (heap, stacks) and file-backed resident pages (the
/// workspace's memory map) every 20 ms until `stop`; returns their peaks.
fn sample_memory(stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> std::thread::JoinHandle<(f64, f64)> {
    std::thread::Builder::new()
        .name("memory-sampler".into())
        .spawn(move || {
            let (mut anon, mut file) = (0.0_f64, 0.0_f64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                anon = anon.max(status_mb("RssAnon:"));
                file = file.max(status_mb("RssFile:"));
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            (anon, file)
        })
        .unwrap()
}

#[allow(clippy::too_many_lines, reason = "the benchmark's script: set-up, the two runs, the figures")]
fn main() {
    let n: u64 = std::env::var("BENCH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-delivery-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    let console = testing::console(&dir).unwrap();
    // The demo's data model, then N profiles that all opted in to SMS.
    console.generate_demo(200, 1, false, &mut |_| true).unwrap();
    {
        let conn = rusqlite::Connection::open(console.database_path()).unwrap();
        let t = Instant::now();
        conn.execute_batch(&format!(
            "DELETE FROM events; DELETE FROM subscriptions; DELETE FROM bookings; DELETE FROM addresses; DELETE FROM profiles;
             INSERT INTO profiles (id, email, phone, first_name, last_name, sms_opt_in, email_opt_in, push_opt_in)
             WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n})
             SELECT i, 'p' || i || '@example.com', '+3361' || printf('%07d', i),
                    CASE i % 4 WHEN 0 THEN 'Zoë' WHEN 1 THEN 'Ana' WHEN 2 THEN 'Léo' ELSE 'Sam' END, 'Test', 1, 1, 1
             FROM k;"
        ))
        .unwrap();
        store::customer_data::bump_data_version(&conn).unwrap();
        eprintln!("{n} profiles written in {:.1} s", t.elapsed().as_secs_f64());
    }
    let in_flight: usize = std::env::var("BENCH_IN_FLIGHT").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    let mock = mock_http::MockHttp::quiet(|_, _| mock_http::Reply::ok("{\"id\": \"m\"}"));
    console
        .add_credential(
            Channel::Sms,
            "Loopback",
            ProviderSettings::from_json(
                ProviderKind::Http,
                serde_json::json!({ "url": mock.url, "max_in_flight": in_flight }),
            )
            .unwrap(),
            None,
        )
        .unwrap();
    let c = console.create_campaign("Bench SMS", CampaignKind::Orchestrated).unwrap();
    let message = Message { text: TEXT.into(), ..Message::default() };
    let canvas = support::blast(Channel::Sms, Some("Loopback"), message);
    console.save_canvas(c.id, &canvas).unwrap();

    // The pipeline: count, ledger, send.
    let stop_sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = sample_memory(std::sync::Arc::clone(&stop_sampling));
    let started = Instant::now();
    let mut ledger_ready = None;
    let rss_before_sending = std::cell::Cell::new(0.0_f64);
    let summary = console
        .run_campaign(
            "Bench SMS",
            false,
            None,
            &mut |_, _| {
                ledger_ready.get_or_insert_with(|| {
                    // From here the peak RSS is the sending's: the kernel forgets the count's.
                    rss_before_sending.set(support::peak_rss_mb());
                    let _ = std::fs::write("/proc/self/clear_refs", "5");
                    Instant::now()
                });
            },
            &|| false,
        )
        .unwrap();
    let total = started.elapsed();
    let ledger_ready = ledger_ready.unwrap_or(started);
    let sending = ledger_ready.elapsed();
    let sent: u64 = summary.deliveries.iter().map(|d| d.count(campaign_console::model::delivery::status::SENT)).sum();
    assert_eq!(sent, n, "every message sent");

    let rss_after_pipeline = support::peak_rss_mb();
    stop_sampling.store(true, std::sync::atomic::Ordering::Relaxed);
    let (peak_anon, peak_file) = sampler.join().unwrap();
    let rss_whole_run = rss_before_sending.get().max(rss_after_pipeline);
    assert_eq!(mock.answered.load(std::sync::atomic::Ordering::SeqCst), n);

    // The bare loop: the same number of POSTs with a similar body, the same concurrency, no
    // ledger, no rendering.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client = reqwest::Client::builder().pool_max_idle_per_host(in_flight).build().unwrap();
    let bare_started = Instant::now();
    runtime.block_on(async {
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            let permit = std::sync::Arc::clone(&slots).acquire_owned().await.unwrap();
            let (client, url) = (client.clone(), mock.url.clone());
            tasks.spawn(async move {
                let body = serde_json::json!({
                    "idempotency_key": format!("bare:{i}"), "channel": "sms", "to": format!("+3361{i:07}"),
                    "text": format!("Hi Ana, your summer code is {i}. Reply STOP to opt out."),
                });
                let r =
                    client.post(url).header("Idempotency-Key", format!("bare:{i}")).json(&body).send().await.unwrap();
                assert!(r.status().is_success());
                r.bytes().await.unwrap();
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    });
    let bare = bare_started.elapsed();

    let rate = |count: u64, d: std::time::Duration| count as f64 / d.as_secs_f64();
    println!("delivery over HTTP to a loopback mock, {n} personalized SMS, {in_flight} in flight");
    println!("  whole run (count + ledger + send)  {:8.1} s", total.as_secs_f64());
    println!("  ledger written after               {:8.1} s", (ledger_ready - started).as_secs_f64());
    println!("  sending                            {:8.1} s   {:9.0} msg/s", sending.as_secs_f64(), rate(n, sending));
    println!("  bare reqwest loop                  {:8.1} s   {:9.0} msg/s", bare.as_secs_f64(), rate(n, bare));
    println!("  pipeline / bare                    {:8.2}", rate(n, sending) / rate(n, bare));
    println!("  peak RSS while sending             {:8.0} MB", rss_after_pipeline);
    println!("  peak RSS of the whole run          {:8.0} MB", rss_whole_run);
    println!("    of which anonymous (heap), peak  {:8.0} MB   (sampled every 20 ms)", peak_anon);
    println!("    file-backed (workspace map), peak{:8.0} MB", peak_file);
}
