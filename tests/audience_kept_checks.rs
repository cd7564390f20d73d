//! What counts keep in the workspace to be faster the next time changes how fast they are,
//! never what they count: the demo's SMS counted with its phone numbers' checks kept (first
//! checked and kept, then read) reaches and excludes the very recipients it does with every
//! number checked again.

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

    // What is kept is what is read: with every kept check turned over, the numbers found
    // invalid are others.
    let invalid = |r: &CountReport| {
        let sms = r.sends.iter().find(|s| s.activity == "sms").unwrap();
        sms.excluded.iter().find(|(code, _)| code == "invalid_address").map_or(0, |(_, n)| *n)
    };
    conn.execute("UPDATE cc_address_checks SET valid = 1 - valid", []).unwrap();
    let (_, _, turned) = console.count_campaign("Summer getaway", &|| false).unwrap();
    assert_ne!(invalid(&turned), invalid(&reference));
    conn.execute("UPDATE cc_address_checks SET valid = 1 - valid", []).unwrap();
    let (_, _, again) = console.count_campaign("Summer getaway", &|| false).unwrap();
    assert_eq!(again.sends, reference.sends);

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
