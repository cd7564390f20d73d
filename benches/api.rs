//! The execution API under load: `serve`'s router on loopback, 1,000 trigger calls of 10
//! recipients each, all started at once (BENCH_CONCURRENCY in flight at most, default 1,000),
//! through the Sandbox. Reports calls per second and p50 / p99 / max latency of the answers (a
//! call is answered once it is kept: its recipients are resolved and sent just after), how
//! long until every message is in the Sandbox, and checks that every call was answered 202 and
//! that no recipient was sent twice (sandbox outbox).
//!
//!     cargo bench --profile perf --bench api
//!
//! BENCH_CALLS sets the number of calls (1,000).
//!
//! Each round runs twice: on a new client (each call opens its connection: "cold"), then
//! again on the connections that client keeps ("warm"; new request ids, new messages). The
//! floors, measured the same two ways: as many `GET /healthz` at once, which touch no
//! workspace; and the same trigger calls with a key the workspace does not know, refused (401)
//! once the key is read: the same bodies sent, nothing else done. Their p99 is the least any
//! call (any call of this size) can have on this machine at that load.

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

/// What a round of calls measured.
struct Round {
    started: Instant,
    answered: usize,
    seconds: f64,
    /// Sorted.
    times: Vec<Duration>,
}

impl Round {
    fn at(&self, p: f64) -> f64 {
        let n = self.times.len();
        self.times[((n as f64 * p).ceil() as usize).clamp(1, n) - 1].as_secs_f64() * 1e3
    }

    fn line(&self) -> String {
        format!(
            "{} answered in {:.2} s ({:.0} calls/s); latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.answered,
            self.seconds,
            self.times.len() as f64 / self.seconds,
            self.at(0.50),
            self.at(0.99),
            self.at(1.0)
        )
    }
}

/// `calls` requests made by `request`, all started at once (at most `concurrency` in flight);
/// those answered with `expected` are counted.
fn round(
    runtime: &tokio::runtime::Runtime,
    concurrency: usize,
    calls: usize,
    expected: u16,
    request: impl Fn(usize) -> reqwest::RequestBuilder,
) -> Round {
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let answers: Vec<(u16, Duration)> = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for call in 0..calls {
            let (gate, request) = (Arc::clone(&gate), request(call));
            tasks.spawn(async move {
                let _slot = gate.acquire().await;
                let t = Instant::now();
                let status = request.send().await.map_or(0, |r| r.status().as_u16());
                (status, t.elapsed())
            });
        }
        let mut out = Vec::with_capacity(calls);
        while let Some(r) = tasks.join_next().await {
            out.push(r.unwrap());
        }
        out
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut times: Vec<Duration> = answers.iter().map(|(_, t)| *t).collect();
    times.sort();
    Round { started, answered: answers.iter().filter(|(s, _)| *s == expected).count(), seconds, times }
}

/// The body of call `call` of round `n`: 10 recipients, each with a context value.
fn body(n: usize, call: usize) -> serde_json::Value {
    let recipients: Vec<_> = (0..10)
        .map(|r| {
            let id = (call * 10 + r) % 20_000 + 1;
            serde_json::json!({ "namespace": "email", "id": format!("p{id}@example.com"),
                                "context": { "reset_url": format!("https://example.com/r/{call}/{r}") } })
        })
        .collect();
    serde_json::json!({ "request_id": format!("load-{n}-{call}"), "recipients": recipients })
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
    let new_client = || reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let db = support::sqlite(dir.path());

    let client = new_client();
    for (n, warmth) in ["cold", "warm"].into_iter().enumerate() {
        let target = format!("{url}/v1/campaigns/3/trigger");
        let round = round(&runtime, concurrency, calls, 202, |call| {
            client.post(&target).bearer_auth(&key).json(&body(n, call))
        });
        println!("{calls} trigger calls x 10 recipients, {concurrency} at once, {warmth}: {}", round.line());
        // Let the calls be resolved and their messages sent, then count the outbox.
        let deadline = Instant::now() + Duration::from_secs(120);
        let busy = |db: &rusqlite::Connection| {
            support::one(db, "SELECT COUNT(*) FROM cc_api_executions WHERE resolved_at IS NULL") > 0
                || support::one(db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sending'") > 0
        };
        while busy(&db) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let all_sent = round.started.elapsed().as_secs_f64();
        let sent = support::one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages");
        let twice = support::one(
            &db,
            "SELECT COUNT(*) FROM (SELECT idempotency_key FROM cc_sandbox_messages GROUP BY idempotency_key HAVING COUNT(*) > 1)",
        );
        println!(
            "  then: the round's 10000 messages all in the Sandbox {all_sent:.2} s after its first call ({:.0} messages/s end to end); {twice} sent twice",
            10_000.0 / all_sent
        );
        assert_eq!(round.answered, calls, "every call answered 202");
        assert_eq!(sent, 10_000 * (n as i64 + 1), "every message sent");
        assert_eq!(twice, 0, "no recipient sent twice");
    }

    let client = new_client();
    for warmth in ["cold", "warm"] {
        let round = round(&runtime, concurrency, calls, 200, |_| client.get(format!("{url}/healthz")));
        println!("floor: {calls} GET /healthz, {concurrency} at once, {warmth}: {}", round.line());
    }
    // The same calls with a key the workspace does not know: the same bodies sent, the key
    // read and the call refused (401) before anything else is done.
    let client = new_client();
    for (n, warmth) in ["cold", "warm"].into_iter().enumerate() {
        let target = format!("{url}/v1/campaigns/3/trigger");
        let round = round(&runtime, concurrency, calls, 401, |call| {
            client.post(&target).bearer_auth("cc_unknown").json(&body(n + 2, call))
        });
        println!("floor: the same calls with an unknown key (401), {concurrency} at once, {warmth}: {}", round.line());
        assert_eq!(round.answered, calls, "every call refused 401");
    }
}
