//! Reports against a naive count: a generated event log (kinds, hours, profiles, link aliases,
//! failure codes, a proof, events of another campaign) written into the events table, then the
//! report read from the rollups the events' trigger keeps, compared with counts made here
//! from the log itself.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use std::collections::{BTreeMap, BTreeSet};

use campaign_console::ui::testing;

mod support;
use support::sqlite;

/// A small deterministic generator (xorshift).
struct Dice(u64);

impl Dice {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

struct Event {
    delivery: i64,
    kind: &'static str,
    hour: u32,
    profile: Option<String>,
    detail: String,
}

const KINDS: [&str; 8] = ["delivered", "bounced", "opened", "clicked", "unsubscribed", "sent", "failed", "conversion"];

#[test]
fn the_report_counts_what_a_naive_count_of_the_event_log_counts() {
    let (_dir, console, db) = workspace();
    let (ledger, events) = write_log(&db);

    let report = console.campaign_report(900).unwrap();
    assert_eq!(report.campaign, "Report me");
    // The naive count: campaign 900's deliveries 1 (email1) and 2 (sms1); 3 is a proof.
    for (delivery, activity) in [(1, "email1"), (2, "sms1")] {
        let a = report.activities.iter().find(|a| a.activity == activity).unwrap();
        let n = &a.numbers;
        let rows: Vec<_> = ledger.iter().filter(|(d, _, _)| *d == delivery).collect();
        assert_eq!(n.targeted, rows.len() as u64, "{activity} targeted");
        assert_eq!(n.sent, rows.iter().filter(|(_, s, _)| *s == "sent").count() as u64, "{activity} sent");
        assert_eq!(n.pending, rows.iter().filter(|(_, s, _)| *s == "sending").count() as u64);
        let by_code = |status: &str| -> BTreeMap<String, u64> {
            let mut m = BTreeMap::new();
            for (_, s, c) in &rows {
                if *s == status {
                    *m.entry((*c).to_owned()).or_default() += 1;
                }
            }
            m
        };
        assert_eq!(n.failed.iter().cloned().collect::<BTreeMap<_, _>>(), by_code("failed"), "{activity} failed");
        assert_eq!(n.excluded.iter().cloned().collect::<BTreeMap<_, _>>(), by_code("excluded"), "{activity} excluded");
        let mine: Vec<&Event> = events.iter().filter(|e| e.delivery == delivery).collect();
        let total = |kind: &str| mine.iter().filter(|e| e.kind == kind).count() as u64;
        let unique = |kind: &str| {
            mine.iter().filter(|e| e.kind == kind).filter_map(|e| e.profile.clone()).collect::<BTreeSet<_>>().len()
                as u64
        };
        assert_eq!(n.delivered, total("delivered"), "{activity} delivered");
        assert_eq!(n.bounced, total("bounced"));
        assert_eq!((n.opened, n.opened_unique), (total("opened"), unique("opened")), "{activity} opened");
        assert_eq!((n.clicked, n.clicked_unique), (total("clicked"), unique("clicked")), "{activity} clicked");
        assert_eq!(n.unsubscribed, total("unsubscribed"));
        let mut aliases: BTreeMap<String, u64> = BTreeMap::new();
        for e in mine.iter().filter(|e| e.kind == "clicked") {
            *aliases.entry(e.detail.clone()).or_default() += 1;
        }
        assert_eq!(n.clicks_by_alias.iter().cloned().collect::<BTreeMap<_, _>>(), aliases, "{activity} by alias");
    }
    assert_eq!(report.activities.len(), 2, "the proof and the other campaign are left out");
    // Hour by hour, every kind.
    let mut hourly: BTreeMap<(u32, &str), u64> = BTreeMap::new();
    for e in events.iter().filter(|e| e.delivery == 1 || e.delivery == 2) {
        *hourly.entry((e.hour, e.kind)).or_default() += 1;
    }
    let got: BTreeMap<(u32, &str), u64> = report
        .hourly
        .iter()
        .map(|h| (((h.hour.as_second() - 1_764_547_200) / 3600) as u32, h.kind.as_str()))
        .zip(report.hourly.iter().map(|h| h.events))
        .collect();
    assert_eq!(got, hourly, "hour by hour");
    let conversions = events.iter().filter(|e| (e.delivery == 1 || e.delivery == 2) && e.kind == "conversion").count();
    assert_eq!(report.other_events, vec![("conversion: purchase".to_owned(), conversions as u64)]);
    // The totals are the activities' sums.
    let sum: u64 = report.activities.iter().map(|a| a.numbers.clicked).sum();
    assert_eq!(report.total.clicked, sum);
}

/// A workspace with three campaigns: 900 sent by deliveries 1 (email), 2 (SMS) and 3 (a proof
/// by email), 901 by delivery 4, 902 nothing.
fn workspace() -> (tempfile::TempDir, std::sync::Arc<campaign_console::console::Console>, rusqlite::Connection) {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let db = sqlite(dir.path());
    db.execute_batch(
        "INSERT INTO cc_campaigns (id, name, kind, status, created_at, modified_at)
              VALUES (900, 'Report me', 'orchestrated', 'live', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z'),
                     (901, 'Someone else', 'orchestrated', 'live', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z'),
                     (902, 'Quiet one', 'orchestrated', 'live', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z');
         INSERT INTO cc_deliveries (id, campaign_id, activity_id, channel, status, is_proof, created_at)
              VALUES (1, 900, 'email1', 'email', 'done', 0, '2026-11-01T00:00:00Z'),
                     (2, 900, 'sms1', 'sms', 'done', 0, '2026-11-01T00:00:00Z'),
                     (3, 900, 'email1', 'email', 'done', 1, '2026-11-01T00:00:00Z'),
                     (4, 901, 'email1', 'email', 'done', 0, '2026-11-01T00:00:00Z');",
    )
    .unwrap();
    (dir, console, db)
}

type LedgerRow = (i64, &'static str, &'static str);

/// Writes a ledger of 600 rows and 6,000 events at random over four deliveries; returns them.
fn write_log(db: &rusqlite::Connection) -> (Vec<LedgerRow>, Vec<Event>) {
    // The ledger: statuses and codes at random.
    let mut dice = Dice(0x5eed);
    let statuses = ["sent", "sent", "sent", "failed", "excluded", "sending"];
    let mut ledger = Vec::new();
    for row in 0..600 {
        let delivery = 1 + dice.next(4) as i64;
        let status = statuses[dice.next(statuses.len() as u64) as usize];
        let code = match status {
            "failed" => ["timeout", "bad_address"][dice.next(2) as usize],
            "excluded" => ["no_address", "not_opted_in", "frequency_cap"][dice.next(3) as usize],
            _ => "",
        };
        db.execute(
            "INSERT INTO cc_ledger (delivery_id, idempotency_key, recipient_key, address, status, error_code, updated_at)
             VALUES (?1, ?2, ?3, 'a@example.com', ?4, NULLIF(?5, ''), '2026-11-01T00:00:00Z')",
            rusqlite::params![delivery, format!("k{row}"), row.to_string(), status, code],
        )
        .unwrap();
        ledger.push((delivery, status, code));
    }
    // The events, in three batches (the trigger counts each as it is written).
    let mut events = Vec::new();
    for _ in 0..6_000 {
        let kind = KINDS[dice.next(KINDS.len() as u64) as usize];
        let detail = match kind {
            "clicked" => ["book", "unsubscribe", ""][dice.next(3) as usize].to_owned(),
            "failed" => ["timeout", "bad_address"][dice.next(2) as usize].to_owned(),
            "conversion" => "purchase".to_owned(),
            _ => String::new(),
        };
        let profile = (dice.next(10) > 0).then(|| dice.next(250).to_string());
        events.push(Event { delivery: 1 + dice.next(4) as i64, kind, hour: dice.next(72) as u32, profile, detail });
    }
    for chunk in events.chunks(2_000) {
        let tx = db.unchecked_transaction().unwrap();
        for e in chunk {
            let at = jiff::Timestamp::from_second(1_764_547_200 + i64::from(e.hour) * 3600 + 59).unwrap();
            let detail = match e.kind {
                "clicked" if !e.detail.is_empty() => serde_json::json!({ "alias": e.detail }),
                "failed" => serde_json::json!({ "code": e.detail }),
                "conversion" => serde_json::json!({ "name": e.detail }),
                _ => serde_json::json!({}),
            };
            tx.execute(
                "INSERT INTO cc_interactions (kind, at, campaign_id, delivery_id, profile_key, detail_json)
                 VALUES (?1, ?2, (SELECT campaign_id FROM cc_deliveries WHERE id = ?3), ?3, ?4, ?5)",
                rusqlite::params![e.kind, at.to_string(), e.delivery, e.profile, detail.to_string()],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }

    (ledger, events)
}

/// The ledger's rollup against the ledger itself, after rows change status and code, and
/// after rows and a whole delivery are deleted.
#[test]
fn the_ledger_rollup_follows_every_change_of_the_ledger() {
    let (_dir, console, db) = workspace();
    write_log(&db);
    let rollup_is_the_ledger = |when: &str| {
        let read = |sql: &str| -> BTreeMap<(i64, String, String), i64> {
            let mut stmt = db.prepare(sql).unwrap();
            stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let ledger = read(
            "SELECT delivery_id, status, CASE WHEN status IN ('failed', 'excluded') THEN COALESCE(error_code, '') ELSE '' END,
                    COUNT(*) FROM cc_ledger GROUP BY 1, 2, 3",
        );
        let rollup = read("SELECT delivery_id, status, code, rows FROM cc_report_ledger WHERE rows <> 0");
        assert_eq!(rollup, ledger, "{when}");
    };
    rollup_is_the_ledger("as written");
    db.execute_batch(
        "UPDATE cc_ledger SET status = 'sent' WHERE status = 'sending' AND id % 2 = 0;
         UPDATE cc_ledger SET status = 'failed', error_code = 'timeout' WHERE status = 'sent' AND id % 7 = 0;
         UPDATE cc_ledger SET error_code = 'bad_address' WHERE status = 'failed' AND id % 3 = 0;
         UPDATE cc_ledger SET error_code = 'noise' WHERE status = 'sent' AND id % 5 = 0;
         UPDATE cc_ledger SET attempts = attempts + 1;",
    )
    .unwrap();
    rollup_is_the_ledger("after status and code changes");
    db.execute_batch("DELETE FROM cc_ledger WHERE id % 11 = 0; DELETE FROM cc_deliveries WHERE id = 4;").unwrap();
    rollup_is_the_ledger("after deletes");
    // And the report reads it: sent as the ledger says.
    let sent = support::one(
        &db,
        "SELECT COUNT(*) FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id
          WHERE d.campaign_id = 900 AND d.is_proof = 0 AND l.status = 'sent'",
    );
    assert_eq!(console.campaign_report(900).unwrap().total.sent, sent as u64);
}

/// The global report of a period: the campaigns with events in it, each with its report's
/// numbers and its sends day by day as the log has them; none for a period without events.
#[test]
fn the_global_report_has_each_campaign_with_events_in_the_period() {
    let (_dir, console, db) = workspace();
    let (_, events) = write_log(&db);
    // The log's hours start on 2025-12-01 and run three days.
    let day = |d: i8| jiff::civil::date(2025, 12, d);
    let global = console.global_report(day(1), day(3)).unwrap();
    let ids: Vec<i64> = global.lines.iter().map(|l| l.campaign_id).collect();
    assert_eq!(ids, vec![900, 901], "the campaign without events is not listed");
    for (line, deliveries) in global.lines.iter().zip([[1, 2], [4, 4]]) {
        assert_eq!(line.numbers, console.campaign_report(line.campaign_id).unwrap().total);
        let mut by_day = vec![0u64; 3];
        for e in events.iter().filter(|e| e.kind == "sent" && deliveries.contains(&e.delivery)) {
            by_day[(e.hour / 24) as usize] += 1;
        }
        assert_eq!(line.sent_by_day, by_day, "{}", line.campaign);
    }
    let mut total = global.lines[0].numbers.clone();
    total.add(&global.lines[1].numbers);
    assert_eq!(global.total, total);
    // One day only: its sends alone.
    let second = console.global_report(day(2), day(2)).unwrap();
    assert_eq!(second.lines[0].sent_by_day, vec![global.lines[0].sent_by_day[1]]);
    assert!(console.global_report(day(10), day(20)).unwrap().lines.is_empty());
    // A deleted campaign is left out (its events stay in the rollups).
    db.execute_batch("DELETE FROM cc_deliveries WHERE campaign_id = 901; DELETE FROM cc_campaigns WHERE id = 901;")
        .unwrap();
    let ids: Vec<i64> = console.global_report(day(1), day(3)).unwrap().lines.iter().map(|l| l.campaign_id).collect();
    assert_eq!(ids, vec![900]);
    let backwards = console.global_report(day(3), day(1)).unwrap_err().to_string();
    assert!(backwards.contains("before it starts"), "{backwards}");
}
