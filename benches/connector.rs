//! Campaign connectors under load: 10 live connectors (each following up on "push opened
//! directly" of its own source campaign, every time, after an hour), 100,000 interaction events
//! reported through `POST /v1/events` (serve's router on loopback, 1,000 events a call, four
//! calls at once), each making its pending send in the event's transaction; then, an hour and
//! more later, one scheduler pass firing the 100,000 due sends through the ledger and the
//! Sandbox. Reports events per second, the pending sends made, sends per second, and checks
//! that every send went once.
//!
//!     cargo bench --profile perf --bench connector
//!
//! BENCH_EVENTS sets the number of events (100,000).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

use std::sync::Arc;
use std::time::Instant;

#[path = "../tests/support/mod.rs"]
mod support;

use campaign_console::console::{Console, ConsoleOptions, SecretsChoice};
use campaign_console::model::api::ApiScope;
use campaign_console::model::connector::{ConnectorForm, Delay, Interaction, Reeligibility, TriggerRule};
use campaign_console::model::{CampaignKind, Channel, Message};
use campaign_console::ui::testing;

const PROFILES: u64 = 20_000;
const CONNECTORS: usize = 10;

fn main() {
    let events = std::env::var("BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000usize);
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(PROFILES, 7, false, &mut |_| true).unwrap();
    let db = support::sqlite(dir.path());
    db.execute_batch("UPDATE profiles SET email = 'p' || id || '@example.com', push_opt_in = 1").unwrap();
    let sources = live_connectors(&console);
    let (key, _) = console.create_api_key("Load", &[ApiScope::Events]).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = campaign_console::server::Server::new(Arc::clone(&console), url.clone());
    runtime.spawn(campaign_console::server::serve(server, listener, std::future::pending()));

    let client = reqwest::Client::new();
    let gate = Arc::new(tokio::sync::Semaphore::new(4));
    let started = Instant::now();
    let accepted: u64 = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for call in 0..events.div_ceil(1000) {
            let (client, gate, key, url, sources) =
                (client.clone(), Arc::clone(&gate), key.clone(), url.clone(), sources.clone());
            tasks.spawn(async move {
                let _slot = gate.acquire().await;
                let batch: Vec<_> = (call * 1000..((call + 1) * 1000).min(events))
                    .map(|n| {
                        serde_json::json!({ "event_id": format!("e{n}"), "kind": "push_opened", "namespace": "email",
                                            "id": format!("p{}@example.com", n as u64 % PROFILES + 1),
                                            "campaign_id": sources[n % CONNECTORS] })
                    })
                    .collect();
                let r = client
                    .post(format!("{url}/v1/events"))
                    .bearer_auth(key)
                    .json(&serde_json::json!({ "events": batch }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 202, "{}", r.text().await.unwrap());
                let body: serde_json::Value = r.json().await.unwrap();
                body["accepted"].as_u64().unwrap()
            });
        }
        let mut n = 0;
        while let Some(r) = tasks.join_next().await {
            n += r.unwrap();
        }
        n
    });
    let ingest = started.elapsed().as_secs_f64();
    let made = support::one(&db, "SELECT COUNT(*) FROM cc_pending_sends WHERE state = 'waiting'");
    println!(
        "{events} events through POST /v1/events with {CONNECTORS} live connectors: {accepted} accepted in {ingest:.2} s ({:.0} events/s); {made} pending sends made",
        accepted as f64 / ingest
    );
    assert_eq!(made as u64, accepted, "one pending send per event");

    // An hour and more later, one scheduler pass.
    let later = console.now().checked_add(jiff::SignedDuration::from_hours(2)).unwrap();
    drop(runtime);
    drop(console);
    let firing = Console::open(ConsoleOptions {
        workspace_dir: dir.path().to_owned(),
        secrets: SecretsChoice::Ephemeral,
        clock: Some(campaign_console::clock::fixed(later)),
        log_dir: None,
    })
    .unwrap();
    let started = Instant::now();
    let reports = firing.fire_due_connectors("bench", &|| false).unwrap();
    let fire = started.elapsed().as_secs_f64();
    let sent = support::one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages WHERE channel = 'push'");
    let distinct =
        support::one(&db, "SELECT COUNT(DISTINCT idempotency_key) FROM cc_sandbox_messages WHERE channel = 'push'");
    println!(
        "one scheduler pass: {} connectors, {sent} follow-ups sent through the Sandbox in {fire:.2} s ({:.0} sends/s); {} sent twice",
        reports.len(),
        sent as f64 / fire,
        sent - distinct
    );
    assert_eq!(sent, made, "every pending send sent");
    assert_eq!(sent, distinct, "none twice");
}

/// The live connectors, each on its own source campaign: the sources' ids.
fn live_connectors(console: &Console) -> Vec<i64> {
    let mut sources = Vec::new();
    for i in 0..CONNECTORS {
        let source = console.create_campaign(&format!("Promo {i}"), CampaignKind::Orchestrated).unwrap().id;
        let id = console.create_campaign(&format!("Follow-up {i}"), CampaignKind::ActionTriggered).unwrap().id;
        let form = ConnectorForm {
            triggers: vec![TriggerRule {
                interaction: Interaction::PushOpenedDirectly,
                campaign: Some(source),
                ..TriggerRule::default()
            }],
            delay: Delay::Hours(1),
            reeligibility: Reeligibility::EveryTime,
            channel: Channel::Push,
            message: Message {
                subject: "15% off".into(),
                text: "{{ profile.first_name }}: 15% off".into(),
                ..Message::default()
            },
            ..ConnectorForm::default()
        };
        console.save_connector(id, "", form, (None, None)).unwrap();
        console.publish_connector(id).unwrap();
        sources.push(source);
    }
    sources
}
