//! Delivery throughput through the Sandbox: N personalized SMS (1,000,000 unless BENCH_MESSAGES
//! says otherwise) sent by `Console::run_campaign` (ledger written first, batches claimed and
//! committed, rendered, sent, recorded with their events), against a bare loop that renders the
//! same messages and hands them to the same Sandbox with no ledger. Reports messages per second
//! for both, their ratio, and the process's peak RSS.
//!
//!     cargo bench --profile perf --bench delivery
//!
//! The Sandbox stores each message in the workspace; the HTTP providers (and the issue's
//! Sandbox-over-HTTP figure) are not built yet.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark: a panic is the report.

use std::path::PathBuf;
use std::time::Instant;

use campaign_console::channels::{Outgoing, Provider, sandbox::Sandbox};
use campaign_console::model::{
    Activity, ActivityKind, CampaignKind, Canvas, Channel, Message, Recipient, Rule, Transition,
};
use campaign_console::personalize::{Escape, Renderer, Scope, Values};
use campaign_console::store;
use campaign_console::ui::testing;

const TEXT: &str = "Hi {{ profile.first_name }}, your summer code is {{ profile.id }}. Reply STOP to opt out.";

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

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
    let c = console.create_campaign("Bench SMS", CampaignKind::Orchestrated).unwrap();
    let a = |id: &str, kind| Activity { id: id.into(), label: id.into(), kind, position: [0.0, 0.0] };
    let canvas = Canvas {
        version: campaign_console::model::CANVAS_VERSION,
        activities: vec![
            a(
                "everyone",
                ActivityKind::BuildAudience {
                    dimension: "profiles".into(),
                    rule: Rule::everyone(),
                    emit_when_empty: false,
                },
            ),
            a(
                "sms",
                ActivityKind::Channel {
                    channel: Channel::Sms,
                    credential: None,
                    per: Recipient::Profile,
                    message: Message { text: TEXT.into(), ..Message::default() },
                },
            ),
        ],
        transitions: vec![Transition {
            id: "t".into(),
            from: "everyone".into(),
            output: "out".into(),
            to: "sms".into(),
            input: "in".into(),
        }],
    };
    console.save_canvas(c.id, &canvas).unwrap();

    // The pipeline: count, ledger, send.
    let started = Instant::now();
    let mut ledger_ready = None;
    let summary = console
        .run_campaign(
            "Bench SMS",
            false,
            None,
            &mut |_, _| {
                ledger_ready.get_or_insert_with(Instant::now);
            },
            &|| false,
        )
        .unwrap();
    let total = started.elapsed();
    let ledger_ready = ledger_ready.unwrap_or(started);
    let sending = ledger_ready.elapsed();
    let sent: u64 = summary.deliveries.iter().map(|d| d.count("sent")).sum();
    assert_eq!(sent, n, "every message sent");

    // The bare loop: the same rendering and the same Sandbox, no ledger.
    let model = { store::data_model::load(&rusqlite::Connection::open(console.database_path()).unwrap()).unwrap() };
    let profile = model.entity("profiles").unwrap();
    let scope = Scope { profile: profile.columns.iter().map(|c| c.name.clone()).collect(), ..Scope::default() };
    let renderer = Renderer::new(TEXT, Escape::None, &scope).unwrap();
    let sandbox = Sandbox::new(store::open_connection(&console.database_path()).unwrap());
    let conn = store::open_connection(&console.database_path()).unwrap();
    let bare_started = Instant::now();
    {
        let mut stmt = conn.prepare("SELECT * FROM profiles ORDER BY id").unwrap();
        let names: Vec<String> = stmt.column_names().iter().map(|s| (*s).to_owned()).collect();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let mut values = Values::default();
            for (i, name) in names.iter().enumerate() {
                let v = match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Integer(x) => minijinja::Value::from(x),
                    rusqlite::types::ValueRef::Real(x) => minijinja::Value::from(x),
                    rusqlite::types::ValueRef::Text(t) => {
                        minijinja::Value::from(String::from_utf8_lossy(t).into_owned())
                    }
                    _ => minijinja::Value::from(()),
                };
                values.profile.insert(name.clone(), v);
            }
            let id: i64 = r.get("id").unwrap();
            let phone: String = r.get("phone").unwrap();
            let text = renderer.render(&values).unwrap();
            sandbox
                .send(&Outgoing {
                    idempotency_key: format!("bare:{id}"),
                    channel: Channel::Sms,
                    address: phone,
                    subject: String::new(),
                    text,
                    html: String::new(),
                })
                .unwrap();
        }
    }
    let bare = bare_started.elapsed();

    let rate = |count: u64, d: std::time::Duration| count as f64 / d.as_secs_f64();
    println!("delivery through the Sandbox, {n} personalized SMS, one worker");
    println!("  whole run (count + ledger + send)  {:8.1} s", total.as_secs_f64());
    println!("  ledger written after               {:8.1} s", (ledger_ready - started).as_secs_f64());
    println!("  sending                            {:8.1} s   {:9.0} msg/s", sending.as_secs_f64(), rate(n, sending));
    println!("  bare loop (render + Sandbox)       {:8.1} s   {:9.0} msg/s", bare.as_secs_f64(), rate(n, bare));
    println!("  pipeline / bare                    {:8.2}", rate(n, sending) / rate(n, bare));
    println!("  peak RSS                           {:8.0} MB", peak_rss_mb());
}
