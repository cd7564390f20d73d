//! The demo generator: deterministic, realistic, complete.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use campaign_console::demo::{self, DemoOptions};
use campaign_console::model::{CampaignKind, Channel};
use campaign_console::store::{self, Workspace};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 6, 1)
}

fn make(profiles: u64, seed: u64) -> (tempfile::TempDir, Workspace, demo::DemoSummary) {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open(dir.path()).unwrap();
    let mut conn = ws.connect().unwrap();
    let opts = DemoOptions { profiles, seed, today: today(), replace: false };
    let summary = demo::generate(&mut conn, &opts, "2026-06-01T08:00:00Z".parse().unwrap(), &mut |_| true).unwrap();
    (dir, ws, summary)
}

/// A digest of a sample of every customer table, value by value.
fn checksum(conn: &Connection) -> String {
    let mut h = Sha256::new();
    for table in ["profiles", "addresses", "hotels", "bookings", "subscriptions", "events"] {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table} WHERE id % 17 = 3 ORDER BY id")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i).unwrap();
                h.update(format!("{v:?}|").as_bytes());
            }
        }
    }
    format!("{:x}", h.finalize())
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let (_a, wa, sa) = make(1_500, 42);
    let (_b, wb, sb) = make(1_500, 42);
    let (_c, wc, sc) = make(1_500, 43);
    assert_eq!(sa, sb);
    assert_eq!(checksum(&wa.conn()), checksum(&wb.conn()));
    assert_ne!(checksum(&wa.conn()), checksum(&wc.conn()));
    assert_eq!(sc.profiles, 1_500);
}

#[test]
fn data_is_realistic_and_complete() {
    let (_d, ws, s) = make(2_000, demo::DEFAULT_SEED);
    let conn = ws.conn();
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM profiles"), 2_000);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM bookings") as u64, s.bookings);
    assert!(s.bookings > 2_000 && s.events > 2_000 && s.addresses > 500 && s.subscriptions > 500, "{s:?}");

    // Phones are E.164 (or absent), emails unique and well-formed, dates ISO.
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM profiles WHERE phone IS NOT NULL AND (phone NOT GLOB '+[1-9]*' OR phone GLOB '*[^0-9+]*' OR length(phone) NOT BETWEEN 9 AND 16)"
        ),
        0
    );
    assert!(count(&conn, "SELECT COUNT(*) FROM profiles WHERE phone IS NULL") > 0, "some profiles have no phone");
    assert_eq!(count(&conn, "SELECT COUNT(DISTINCT email) FROM profiles WHERE email LIKE '%_@example.___'"), 2_000);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM profiles WHERE birth_date NOT GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'"
        ),
        0
    );

    // Per-profile counts stay within their ranges.
    assert!(count(&conn, "SELECT MAX(n) FROM (SELECT COUNT(*) n FROM bookings GROUP BY profile_id)") <= 8);
    assert!(count(&conn, "SELECT MAX(n) FROM (SELECT COUNT(*) n FROM addresses GROUP BY profile_id)") <= 3);
    // Check-in dates from two years back to 120 days ahead, with some in the future.
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM bookings WHERE check_in_date < '2024-06-01' OR check_in_date > '2026-09-29'"
        ),
        0
    );
    assert!(count(&conn, "SELECT COUNT(*) FROM bookings WHERE check_in_date > '2026-06-01'") > 0);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM bookings b LEFT JOIN hotels h ON h.id = b.hotel_id WHERE h.id IS NULL"),
        0
    );
    assert_eq!(count(&conn, "SELECT COUNT(DISTINCT kind) FROM events"), 4);

    // The data model, identities, credentials and campaigns.
    let model = store::data_model::load(&conn).unwrap();
    let names: Vec<_> = model.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["profiles", "addresses", "hotels", "bookings", "subscriptions", "events"]);
    assert_eq!(model.links.len(), 5);
    let ns: Vec<_> = model.identity_namespaces.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(ns, ["crm_id", "email", "phone", "x_handle"]);
    // One profile in four has the X handle of a follower of the Sandbox X account.
    assert_eq!(count(&conn, "SELECT COUNT(x_handle) FROM profiles"), 500);
    let creds = store::credentials::list(&conn).unwrap();
    for channel in Channel::ALL {
        assert!(creds.iter().any(|c| c.channel == channel), "no Sandbox for {channel:?}");
    }
    let campaigns = store::campaigns::list(&conn).unwrap();
    for kind in CampaignKind::ALL {
        assert_eq!(campaigns.iter().filter(|c| c.kind == kind).count(), 1, "{kind:?}");
    }
    // Indexes for every link's foreign key exist and the planner uses them.
    let plan: String = conn
        .query_row("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM bookings WHERE profile_id = 5", [], |r| r.get(3))
        .unwrap();
    assert!(plan.contains("bookings_by_profile_id"), "{plan}");
}

#[test]
fn the_demo_is_removed_for_a_teams_own_data_and_comes_back_on_demand() {
    let (_dir, ws, _) = make(300, 9);
    let mut conn = ws.connect().unwrap();
    // A table of the team's own, beside the demo, linked to its profiles.
    conn.execute_batch(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, profile_id INTEGER, text TEXT);
         INSERT INTO notes VALUES (1, 1, 'hello');",
    )
    .unwrap();
    let mut model = store::data_model::load(&conn).unwrap();
    model.entities.push(campaign_console::model::Entity {
        name: "notes".into(),
        label: "Notes".into(),
        primary_key: "id".into(),
        columns: vec![
            campaign_console::model::Column::new("id", "Id", campaign_console::model::ColumnType::Integer),
            campaign_console::model::Column::new("profile_id", "Profile", campaign_console::model::ColumnType::Integer),
            campaign_console::model::Column::new("text", "Text", campaign_console::model::ColumnType::Text),
        ],
    });
    store::data_model::save(&conn, &model).unwrap();
    assert!(demo::is_present(&conn).unwrap());

    let now = "2026-06-02T08:00:00Z".parse().unwrap();
    let removed = demo::remove(&mut conn, now).unwrap();
    assert_eq!(removed.entities.len(), 6);
    let mut campaigns = removed.campaigns.clone();
    campaigns.sort();
    assert_eq!(campaigns, ["Password reset", "Summer getaway", "Summer reminder"]);
    let model = store::data_model::load(&conn).unwrap();
    let names: Vec<&str> = model.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["notes"], "the team's own entity stays");
    assert!(model.identity_namespaces.is_empty() && model.links.is_empty());
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'profiles'"), 0);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM cc_campaigns"), 0);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM cc_credentials WHERE provider = 'sandbox'"), 6, "Sandbox stays");
    assert!(!demo::is_present(&conn).unwrap());
    assert!(matches!(demo::remove(&mut conn, now), Err(demo::DemoError::NoDemo)));

    // Back on demand (beside the team's table), its Sandbox credentials not doubled.
    conn.execute_batch("DROP TABLE notes; DELETE FROM cc_columns; DELETE FROM cc_entities;").unwrap();
    let opts = DemoOptions { profiles: 100, seed: 9, today: today(), replace: false };
    demo::generate(&mut conn, &opts, now, &mut |_| true).unwrap();
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM profiles"), 100);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM cc_credentials"), 6);
}
