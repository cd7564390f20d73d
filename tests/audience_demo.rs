//! The sample canvas of the demo workspace: its counts equal those of SQL written by hand for
//! the same audience, its random sample is the one the seed defines, and its steps use the
//! workspace's indexes.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use campaign_console::audience::{self, Dialect, mix};
use campaign_console::ui::testing;

fn count(conn: &rusqlite::Connection, sql: &str) -> u64 {
    conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

#[test]
fn demo_canvas_counts_match_hand_written_sql() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(4_000, 99, false, &mut |_| true).unwrap();
    let (_, canvas, report) = console.count_campaign("Summer getaway", &|| false).unwrap();

    // The fixed clock: 2026-05-28T20:26:40Z, so "the last 12 months" starts 2025-05-28. The
    // console counts from the start of the current minute (20:26:00), so that recounts within
    // a minute reuse their work tables.
    assert_eq!(testing::fixed_now().to_string(), "2026-05-28T20:26:40Z");
    let conn = rusqlite::Connection::open(console.database_path()).unwrap();
    let audience = "FROM profiles p WHERE p.email_opt_in = 1 AND EXISTS (
            SELECT 1 FROM bookings b WHERE b.profile_id = p.id AND b.status = 'completed'
            AND b.check_in_date >= '2025-05-28' AND b.check_in_date <= '2026-05-28')";
    let reached = count(&conn, &format!("SELECT COUNT(*) {audience}"));
    let unique = count(
        &conn,
        &format!(
            "SELECT (SELECT COUNT(DISTINCT p.email) {audience} AND p.email <> '') + (SELECT COUNT(*) {audience} AND (p.email IS NULL OR p.email = ''))"
        ),
    );
    let vip = count(&conn, &format!("SELECT COUNT(*) {audience} AND p.loyalty_tier IN ('gold', 'platinum')"));
    let new = count(
        &conn,
        &format!(
            "SELECT COUNT(*) {audience} AND p.loyalty_tier NOT IN ('gold', 'platinum')
             AND p.created_at >= '2025-05-28T20:26:00Z' AND p.created_at <= '2026-05-28T20:26:00Z'"
        ),
    );
    let rest = unique - vip - new;
    assert!(reached > 500 && vip > 50 && new > 50 && rest > 100, "a meaningful demo: {reached} {vip} {new} {rest}");

    let expected = [
        ("t_audience", reached),
        ("t_enriched", reached),
        ("t_unique", unique),
        ("t_vip", vip),
        ("t_new", new),
        ("t_sample", rest / 5),
        ("t_rest", rest - rest / 5),
        ("t_rest_saved", rest - rest / 5),
        ("t_email", vip + new),
    ];
    // Every transition but the Scheduler's start signal, which carries no population.
    assert_eq!(canvas.transitions.len(), expected.len() + 1);
    assert_eq!(report.count_of("t_start"), None);
    for (t, n) in expected {
        assert_eq!(report.count_of(t), Some(n), "transition {t}");
    }

    // The 20 % sample is the first fifth of the rest in the seed's order.
    let mut rest_keys: Vec<i64> = conn
        .prepare(&format!(
            "SELECT p.id {audience} AND NOT (p.loyalty_tier IN ('gold', 'platinum'))
             AND NOT (p.created_at >= '2025-05-28T20:26:00Z' AND p.created_at <= '2026-05-28T20:26:00Z')"
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rest_keys.sort_by_key(|k| (mix(*k, 7), *k));
    let mut expected_sample = rest_keys[..rest_keys.len() / 5].to_vec();
    expected_sample.sort_unstable();
    let (_, _, run) = console.compile_campaign("Summer getaway", Dialect::Sqlite).unwrap();
    let mut tables = audience::CountSession::new(rusqlite::Connection::open(console.database_path()).unwrap());
    tables.count(&run, &|| false).unwrap();
    let (_, rows) = tables.rows("t_sample", 100_000).unwrap();
    let sample: Vec<i64> = rows
        .iter()
        .map(|r| match r[0] {
            rusqlite::types::Value::Integer(k) => k,
            _ => panic!("key"),
        })
        .collect();
    assert_eq!(sample, expected_sample);
}

#[test]
fn demo_canvas_steps_use_the_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(2_000, 1, false, &mut |_| true).unwrap();
    let (_, _, run) = console.compile_campaign("Summer getaway", Dialect::Sqlite).unwrap();
    let conn = rusqlite::Connection::open(console.database_path()).unwrap();
    audience::register_functions(&conn).unwrap();
    let mut details = Vec::new();
    let mut explain = |activity: &str, sql: &str, values: &[sea_query::Value]| {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        for (i, v) in values.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, sqlite_value(v)).unwrap();
        }
        let mut rows = stmt.raw_query();
        while let Some(r) = rows.next().unwrap() {
            details.push((activity.to_owned(), r.get::<_, String>(3).unwrap()));
        }
    };
    for step in &run.steps {
        for s in &step.statements {
            if s.sql.starts_with("INSERT") {
                explain(&step.activity, &s.sql, &s.values);
            }
            // Run it too (values written in), so that later steps have their inputs.
            conn.execute_batch(&s.display).unwrap();
        }
        // A work table that is a view: how its rows are read.
        for t in &step.tables {
            let is_view: bool = conn
                .query_row("SELECT type = 'view' FROM temp.sqlite_master WHERE name = ?1", [t], |r| r.get(0))
                .unwrap();
            if is_view {
                explain(&step.activity, &format!("SELECT * FROM \"{t}\""), &[]);
            }
        }
    }
    let text: Vec<String> = details.iter().map(|(a, d)| format!("{a}: {d}")).collect();
    // Linked bookings are always reached through the covering index on profile_id…
    assert!(text.iter().any(|d| d.starts_with("audience") && d.contains("bookings_by_profile_id")), "{text:#?}");
    assert!(text.iter().any(|d| d.starts_with("enrich") && d.contains("bookings_by_profile_id")), "{text:#?}");
    // …and no subquery over a linked table scans it whole (subquery aliases are s1, s2, …).
    for d in &text {
        assert!(!d.contains("SCAN s"), "a linked table is scanned: {d}\n{text:#?}");
    }
    // Profiles are looked up by key from the work tables.
    assert!(
        text.iter().any(|d| d.starts_with("split") && d.contains("SEARCH t USING INTEGER PRIMARY KEY")),
        "{text:#?}"
    );
    // The demo's emails are all different (the workspace knows it): the deduplication on
    // email sorts nothing.
    assert!(run.steps.iter().filter(|s| s.activity == "dedup").all(|s| s.statements.is_empty()), "{text:#?}");
    // A channel checks each address once: its reachable recipients are those not excluded.
    assert!(text.iter().any(|d| d.starts_with("sms") && d.contains("SEARCH x USING INTEGER PRIMARY KEY")), "{text:#?}");
    // Its phone numbers' checks kept in the workspace are read by number.
    assert!(text.iter().any(|d| d.starts_with("sms") && d.contains("SEARCH ac USING PRIMARY KEY")), "{text:#?}");
}

fn sqlite_value(v: &sea_query::Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        sea_query::Value::String(Some(x)) => V::Text(x.clone()),
        sea_query::Value::Bool(Some(b)) => V::Integer(i64::from(*b)),
        sea_query::Value::BigInt(Some(x)) => V::Integer(*x),
        sea_query::Value::BigUnsigned(Some(x)) => V::Integer(i64::try_from(*x).unwrap()),
        sea_query::Value::Int(Some(x)) => V::Integer(i64::from(*x)),
        sea_query::Value::Double(Some(x)) => V::Real(*x),
        sea_query::Value::String(None) => V::Null,
        other => panic!("a value the compiler does not bind: {other:?}"),
    }
}
