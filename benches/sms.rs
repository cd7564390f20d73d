//! SMS through the Twilio provider to a local fake Twilio (tests/support/fake_twilio.rs, which
//! checks HTTP Basic and keeps every message, on two threads of its own), with
//! `Console::run_campaign`: messages per second unthrottled (16 at once) and at a configured
//! rate; then the server's status-callback throughput: every message's signed "delivered"
//! callback posted to `serve`'s router on loopback (16 at once), callbacks per second and the
//! latency percentiles.
//!
//!     cargo bench --profile perf --bench sms
//!
//! BENCH_MESSAGES sets the unthrottled count (20,000), BENCH_RATE the configured rate (200/s,
//! over 10 seconds of messages).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../tests/support/mod.rs"]
mod support;
use support::fake_twilio::{FakeTwilio, SERVICE, SID, TOKEN};

use campaign_console::channels::twilio;
use campaign_console::console::Console;
use campaign_console::model::{CampaignKind, Channel, Message, ProviderKind, ProviderSettings};
use campaign_console::ui::testing;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A console on a fresh workspace of `n` profiles opted in to SMS, sending through a Twilio
/// credential on `fake` at `rate` (none: as fast as it answers).
fn workspace(n: u64, fake: &FakeTwilio, rate: Option<f64>) -> (tempfile::TempDir, Arc<Console>) {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(n, 7, false, &mut |_| true).unwrap();
    support::sqlite(dir.path())
        .execute_batch("UPDATE profiles SET sms_opt_in = 1, phone = '+336' || printf('%08d', id);")
        .unwrap();
    let mut s = serde_json::json!({
        "account_sid": SID, "messaging_service_sid": SERVICE, "base_url": fake.base,
        "status_callback_base": "https://hooks.example.com", "max_in_flight": 16,
    });
    if let Some(rate) = rate {
        s["rate_per_second"] = rate.into();
    }
    let settings = ProviderSettings::from_json(ProviderKind::Twilio, s).unwrap();
    console.add_credential(Channel::Sms, "Twilio", settings, Some(TOKEN)).unwrap();
    let c = console.create_campaign("Texts", CampaignKind::Orchestrated).unwrap();
    let message = Message {
        text: "Hi {{ profile.first_name }}, 20% off this week. Reply STOP to opt out.".into(),
        ..Message::default()
    };
    console.save_canvas(c.id, &support::blast(Channel::Sms, Some("Twilio"), message)).unwrap();
    (dir, console)
}

/// Sends the campaign; returns (messages sent, seconds).
fn send(console: &Console) -> (u64, f64) {
    let started = Instant::now();
    let summary = console.run_campaign("Texts", false, None, &mut |_, _| {}, &|| false).unwrap();
    let sent = summary.deliveries[0].count(campaign_console::model::delivery::status::SENT);
    (sent, started.elapsed().as_secs_f64())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn main() {
    let n = env_number("BENCH_MESSAGES", 20_000);
    let rate = env_number("BENCH_RATE", 200) as f64;

    let fake = FakeTwilio::start(|_, _| None);
    let (_dir, console) = workspace(n, &fake, None);
    let (sent, seconds) = send(&console);
    assert_eq!(sent as usize, fake.stored.lock().unwrap().len(), "every message reached the fake once");
    println!("unthrottled (16 at once): {sent} messages in {seconds:.2} s = {:.0} messages/s", sent as f64 / seconds);

    let slow = FakeTwilio::start(|_, _| None);
    let (_dir2, paced) = workspace((rate * 10.0) as u64, &slow, Some(rate));
    let (sent2, seconds2) = send(&paced);
    println!(
        "at a configured {rate:.0}/s: {sent2} messages in {seconds2:.2} s = {:.1} messages/s",
        sent2 as f64 / seconds2
    );

    // The status callbacks of the first run's messages, signed, to the server's router.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = campaign_console::server::Server::new(Arc::clone(&console), url.clone());
    runtime.spawn(campaign_console::server::serve(server, listener, std::future::pending()));
    let sids: Vec<String> = fake.stored.lock().unwrap().iter().map(|m| m.sid.clone()).collect();
    let client = reqwest::Client::new();
    let endpoint = format!("{url}/webhooks/twilio/status");
    let started = Instant::now();
    let latencies = runtime.block_on(async {
        let queue = Arc::new(tokio::sync::Mutex::new(sids.into_iter()));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (queue, client, endpoint) = (Arc::clone(&queue), client.clone(), endpoint.clone());
            workers.spawn(async move {
                let mut times = Vec::new();
                loop {
                    let Some(sid) = queue.lock().await.next() else { break };
                    let params: Vec<(String, String)> =
                        [("AccountSid", SID), ("MessageSid", sid.as_str()), ("MessageStatus", "delivered")]
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v.to_owned()))
                            .collect();
                    let signature = twilio::signature(TOKEN, &endpoint, &params);
                    let t = Instant::now();
                    let r = client
                        .post(&endpoint)
                        .header("X-Twilio-Signature", signature)
                        .form(&params)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    times.push(t.elapsed());
                }
                times
            });
        }
        let mut all = Vec::new();
        while let Some(done) = workers.join_next().await {
            all.extend(done.unwrap());
        }
        all
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut sorted = latencies;
    sorted.sort();
    let delivered = console.deliveries(Some("Texts")).unwrap()[0].events_of("delivered");
    assert_eq!(delivered, sorted.len() as u64, "each callback counted once");
    println!(
        "status callbacks (16 at once): {} in {seconds:.2} s = {:.0} callbacks/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        sorted.len(),
        sorted.len() as f64 / seconds,
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        percentile(&sorted, 1.0)
    );
}
