//! What counts keep in the workspace to be faster the next time changes how fast they are,
//! never what they count: the demo's SMS counted with its phone numbers' checks and its
//! reasons by profile kept (first checked and kept, then read) reaches and excludes the very
//! recipients it does with every number checked again. And what is kept does not pile up:
//! facts that read the clock go once their day is over, all of them once the data changes.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use campaign_console::audience::{self, CountReport, Dialect};
use campaign_console::ui::testing;

#[test]
fn kept_phone_checks_count_as_the_checks_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(3_000, 5, false, &mut |_| true).unwrap();
    let db = console.database_path();
    let kept = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row("SELECT COUNT(*) FROM cc_address_checks WHERE kind = 'phone'", [], |r| r.get(0)).unwrap()
    };

    // Every number checked again (nothing kept), as the reference.
    let (_, canvas, run) = console.compile_campaign("Summer getaway", Dialect::Sqlite).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let model = campaign_console::store::data_model::load(&conn).unwrap();
    let mut plain = audience::CompileOptions::new(Dialect::Sqlite, testing::fixed_now(), 1);
    plain.kept_facts = false;
    let reference = audience::run_count(
        rusqlite::Connection::open(&db).unwrap(),
        &audience::compile_with(&canvas, &model, &plain).unwrap(),
        &|| false,
    )
    .unwrap();
    assert!(run.steps.iter().any(|s| s.activity == "sms"));
    assert_eq!(kept(&conn), 0);

    // Checked and kept by a first count, read by the next: the same recipients.
    let (_, _, first) = console.count_campaign("Summer getaway", &|| false).unwrap();
    assert_eq!(first.sends, reference.sends);
    let checked = kept(&conn);
    assert!(checked > 0, "the numbers met are kept");
    let (_, _, second) = console.count_campaign("Summer getaway", &|| false).unwrap();
    assert_eq!(second.sends, reference.sends);
    assert_eq!(kept(&conn), checked, "nothing is checked twice");

    // What is kept is what is read. Each profile counted has its reason kept (none: it can
    // be reached): with every reason forgotten, everyone counted so far is reachable.
    let invalid = |r: &CountReport| {
        let sms = r.sends.iter().find(|s| s.activity == "sms").unwrap();
        sms.excluded.iter().find(|(code, _)| code == "invalid_address").map_or(0, |(_, n)| *n)
    };
    let by_profile: String = conn
        .query_row("SELECT name FROM sqlite_master WHERE name LIKE 'cc_fact_v%' AND name GLOB '*_m*'", [], |r| r.get(0))
        .unwrap();
    conn.execute(&format!("UPDATE \"{by_profile}\" SET v1 = NULL"), []).unwrap();
    let (_, _, forgotten) = console.count_campaign("Summer getaway", &|| false).unwrap();
    assert_eq!(forgotten.sends.iter().find(|s| s.activity == "sms").unwrap().excluded_total(), 0);
    // Without them, the numbers' checks: with every kept check turned over, the numbers
    // found invalid are others.
    let forget = || {
        let version = campaign_console::store::customer_data::data_version(&conn).unwrap();
        campaign_console::store::column_facts::drop_stale_facts(&conn, version + 1, jiff::civil::date(2026, 5, 28))
            .unwrap();
    };
    forget();
    conn.execute("UPDATE cc_address_checks SET valid = 1 - valid", []).unwrap();
    let (_, _, turned) = console.count_campaign("Summer getaway", &|| false).unwrap();
    assert_ne!(invalid(&turned), invalid(&reference));
    conn.execute("UPDATE cc_address_checks SET valid = 1 - valid", []).unwrap();
    forget();
    let (_, _, again) = console.count_campaign("Summer getaway", &|| false).unwrap();
    assert_eq!(again.sends, reference.sends);
    let (_, _, from_kept) = console.count_campaign("Summer getaway", &|| false).unwrap();
    assert_eq!(from_kept.sends, reference.sends);

    // Checks kept by another version of the app are dropped before a count.
    conn.execute(
        "INSERT INTO cc_address_checks (checker, kind, address, valid) VALUES ('0.0.0-older', 'phone', '+1', 1)",
        [],
    )
    .unwrap();
    console.count_campaign("Summer getaway", &|| false).unwrap();
    let checker = campaign_console::model::address::ADDRESS_CHECKER;
    let older: i64 =
        conn.query_row("SELECT COUNT(*) FROM cc_address_checks WHERE checker <> ?1", [checker], |r| r.get(0)).unwrap();
    assert_eq!(older, 0);
}

#[test]
fn facts_that_read_the_clock_are_dropped_once_their_day_is_over() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(500, 3, false, &mut |_| true).unwrap();
    console.count_campaign("Summer getaway", &|| false).unwrap();
    let conn = rusqlite::Connection::open(console.database_path()).unwrap();
    let facts = || -> Vec<String> {
        conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'cc_fact_v%' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    // The audience's "a completed booking in the last 12 months" holds on the day of the
    // count (the fixed clock's, 2026-05-28); the enrichment's totals, why the email cannot
    // reach a profile and why the SMS cannot reach those it was counted for, on any day.
    let kept = facts();
    assert_eq!(kept.len(), 4, "{kept:?}");
    assert_eq!(kept.iter().filter(|n| n.contains("_d20260528_")).count(), 1, "{kept:?}");
    let version = campaign_console::store::customer_data::data_version(&conn).unwrap();
    let drop = |day| campaign_console::store::column_facts::drop_stale_facts(&conn, version, day).unwrap();
    assert_eq!(drop(jiff::civil::date(2026, 5, 29)), 0, "yesterday's may still be today somewhere");
    assert_eq!(drop(jiff::civil::date(2026, 5, 30)), 1);
    assert!(facts().iter().all(|n| !n.contains("_d2026")), "{:?}", facts());
    // Newer data: every fact goes.
    assert_eq!(
        campaign_console::store::column_facts::drop_stale_facts(&conn, version + 1, jiff::civil::date(2026, 5, 28))
            .unwrap(),
        3
    );
    assert!(facts().is_empty());
}
