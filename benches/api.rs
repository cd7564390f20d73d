//! The execution API under load: `serve`'s router on loopback, 1,000 trigger calls of 10
//! recipients each, all started at once (BENCH_CONCURRENCY in flight at most, default 1,000),
//! through the Sandbox. Reports calls per second, p50 / p99 / max latency, and checks that
//! every call was answered 202 and that no recipient was sent twice (sandbox outbox).
//!
//!     cargo bench --profile perf --bench api
//!
//! BENCH_CALLS sets the number of calls (1,000).
//!
//! Then the floor: as many `GET /healthz` at once on the same server and client, which touch
//! no workspace; their p99 is the least any call can have on this machine at that load.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../tests/support/mod.rs"]
mod support;

use campaign_console::model::api::ApiScope;
use campaign_console::ui::testing;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let calls = env_number("BENCH_CALLS", 1000) as usize;
    let concurrency = env_number("BENCH_CONCURRENCY", 1000) as usize;
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(20_000, 7, false, &mut |_| true).unwrap();
    support::sqlite(dir.path()).execute_batch("UPDATE profiles SET email = 'p' || id || '@example.com'").unwrap();
    let (key, _) = console.create_api_key("Load", &[ApiScope::Trigger]).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = campaign_console::server::Server::new(Arc::clone(&console), url.clone());
    runtime.spawn(campaign_console::server::serve(server, listener, std::future::pending()));

    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let latencies: Vec<(u16, Duration)> = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for call in 0..calls {
            let (client, gate, key) = (client.clone(), Arc::clone(&gate), key.clone());
            let target = format!("{url}/v1/campaigns/3/trigger");
            tasks.spawn(async move {
                let _slot = gate.acquire().await;
                let recipients: Vec<_> = (0..10)
                    .map(|r| {
                        let id = (call * 10 + r) % 20_000 + 1;
                        serde_json::json!({ "namespace": "email", "id": format!("p{id}@example.com"),
                                            "context": { "reset_url": format!("https://example.com/r/{call}/{r}") } })
                    })
                    .collect();
                let body = serde_json::json!({ "request_id": format!("load-{call}"), "recipients": recipients });
                let t = Instant::now();
                let status =
                    client.post(target).bearer_auth(key).json(&body).send().await.map_or(0, |r| r.status().as_u16());
                (status, t.elapsed())
            });
        }
        let mut out = Vec::with_capacity(calls);
        while let Some(r) = tasks.join_next().await {
            out.push(r.unwrap());
        }
        out
    });
    let elapsed = started.elapsed().as_secs_f64();
    let ok = latencies.iter().filter(|(s, _)| *s == 202).count();
    let mut times: Vec<Duration> = latencies.iter().map(|(_, t)| *t).collect();
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1].as_secs_f64() * 1e3;
    // Let the sends finish, then count the outbox.
    let db = support::sqlite(dir.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    while support::one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sending'") > 0 && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let sent = support::one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages");
    let twice = support::one(
        &db,
        "SELECT COUNT(*) FROM (SELECT idempotency_key FROM cc_sandbox_messages GROUP BY idempotency_key HAVING COUNT(*) > 1)",
    );
    println!(
        "{calls} trigger calls x 10 recipients, {concurrency} at once: {ok} answered 202 in {elapsed:.2} s ({:.0} calls/s); latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {sent} messages in the Sandbox, {twice} sent twice",
        calls as f64 / elapsed,
        at(0.50),
        at(0.99),
        at(1.0),
    );
    assert_eq!(ok, calls, "every call answered 202");
    assert_eq!(twice, 0, "no recipient sent twice");

    let started = Instant::now();
    let mut times: Vec<Duration> = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..calls {
            let (client, gate, target) = (client.clone(), Arc::clone(&gate), format!("{url}/healthz"));
            tasks.spawn(async move {
                let _slot = gate.acquire().await;
                let t = Instant::now();
                let ok = client.get(target).send().await.is_ok_and(|r| r.status().is_success());
                assert!(ok, "healthz answered");
                t.elapsed()
            });
        }
        let mut out = Vec::with_capacity(calls);
        while let Some(r) = tasks.join_next().await {
            out.push(r.unwrap());
        }
        out
    });
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1].as_secs_f64() * 1e3;
    println!(
        "floor: {calls} GET /healthz, {concurrency} at once: {:.2} s; latency p50 {:.1} ms, p99 {:.1} ms",
        started.elapsed().as_secs_f64(),
        at(0.50),
        at(0.99),
    );
}
