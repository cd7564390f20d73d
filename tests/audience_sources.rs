//! Golden tests for the activities that read from outside the customer tables: Save audience
//! → Read audience, and Reconciliation of a CSV file, on the hand-made dataset.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use campaign_console::audience::{self, CompileOptions, CountSession, Dialect};
use campaign_console::model::{ActivityKind as K, Op, Operand, ReconcileRule, Rule};
use campaign_console::store;
use rusqlite::types::Value as V;
use support::fixture::*;

fn gold_or_silver() -> Rule {
    Rule::Column {
        column: "tier".into(),
        op: Op::In,
        value: Operand::List(vec![Operand::Text("gold".into()), Operand::Text("silver".into())]),
    }
}

fn options(ws: &store::Workspace) -> CompileOptions {
    let mut o = CompileOptions::new(Dialect::Sqlite, now(), 1);
    o.audiences = store::audiences::list(&ws.conn()).unwrap();
    o
}

#[test]
fn save_then_read_an_audience() {
    let (_d, ws) = workspace();
    let saver = canvas(
        vec![
            build("a", "customers", gold_or_silver()),
            activity("save", K::SaveAudience { audience: "Tiered customers".into() }),
            activity("end", K::End),
        ],
        vec![wire("t_a", "a", "out", "save"), wire("t_saved", "save", "out", "end")],
    );
    let run = audience::compile_with(&saver, &model(), &options(&ws)).unwrap();
    let mut session = CountSession::new(ws.connect().unwrap());
    let report = session.count(&run, &|| false).unwrap();
    // Count mode: the population passes through, nothing is written.
    assert_eq!(report.count_of("t_saved"), Some(4));
    assert!(store::audiences::list(&ws.conn()).unwrap().is_empty(), "a count saves nothing");

    let saved = session.save_audiences(&run, None, now()).unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(
        (saved[0].name.as_str(), saved[0].dimension.as_str(), saved[0].row_count),
        ("Tiered customers", "customers", 4)
    );
    drop(session);

    // Another canvas reads it (the name in any case), and combines it with a fresh audience.
    let reader = canvas(
        vec![
            activity("read", K::ReadAudience { audience: "tiered CUSTOMERS".into() }),
            build("vip", "customers", Rule::Column { column: "vip".into(), op: Op::IsTrue, value: Operand::None }),
            activity(
                "both",
                K::Combine {
                    mode: campaign_console::model::CombineMode::Intersection,
                    primary: None,
                    complement: false,
                },
            ),
            activity("end", K::End),
        ],
        vec![
            wire("t_read", "read", "out", "both"),
            wire("t_vip", "vip", "out", "both"),
            wire("t_both", "both", "out", "end"),
        ],
    );
    let run = audience::compile_with(&reader, &model(), &options(&ws)).unwrap();
    let mut session = CountSession::new(ws.connect().unwrap());
    session.count(&run, &|| false).unwrap();
    let k = |t: &str| session.rows(t, 100).unwrap().1.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    // Tiers gold or silver: 1, 2, 4, 5; of those only Ann (1) is a VIP.
    assert_eq!(k("t_read"), [V::Integer(1), V::Integer(2), V::Integer(4), V::Integer(5)]);
    assert_eq!(k("t_both"), [V::Integer(1)]);
    let first_key = run.steps[0].key.clone();
    drop(session);

    // Replacing the audience bumps its version, so a reader's cached table is not reused;
    // a deleted customer drops out of what is read.
    ws.conn().execute("DELETE FROM customers WHERE id = 2", []).unwrap();
    let run = audience::compile_with(&saver, &model(), &options(&ws)).unwrap();
    let mut session = CountSession::new(ws.connect().unwrap());
    session.count(&run, &|| false).unwrap();
    let again = session.save_audiences(&run, None, now()).unwrap();
    assert_eq!((again[0].row_count, again[0].version, again[0].id), (3, 2, saved[0].id));
    drop(session);
    let run = audience::compile_with(&reader, &model(), &options(&ws)).unwrap();
    assert_ne!(run.steps[0].key, first_key, "a new version of the audience means a new work table");
    let report = audience::run_count(ws.connect().unwrap(), &run, &|| false).unwrap();
    assert_eq!(report.count_of("t_read"), Some(3));

    // An audience of one entity cannot be replaced by keys of another.
    let orders = canvas(
        vec![
            build("o", "orders", Rule::All { rules: Vec::new() }),
            activity("save", K::SaveAudience { audience: "Tiered customers".into() }),
        ],
        vec![wire("t_o", "o", "out", "save")],
    );
    let run = audience::compile_with(&orders, &model(), &options(&ws)).unwrap();
    let mut session = CountSession::new(ws.connect().unwrap());
    session.count(&run, &|| false).unwrap();
    let err = session.save_audiences(&run, None, now()).unwrap_err().to_string();
    assert!(err.contains("holds customers, not orders"), "{err}");
    assert_eq!(store::audiences::find(&ws.conn(), "Tiered customers").unwrap().unwrap().row_count, 3, "unchanged");
}

#[test]
fn reading_an_unknown_audience_is_named() {
    let (_d, ws) = workspace();
    let c = canvas(
        vec![activity("read", K::ReadAudience { audience: "Nobody".into() }), activity("end", K::End)],
        vec![wire("t", "read", "out", "end")],
    );
    let err = audience::compile_with(&c, &model(), &options(&ws)).unwrap_err();
    let p = &err.problems()[0];
    assert_eq!((p.activity.as_deref(), p.parameter.as_deref()), (Some("read"), Some("audience")));
    assert!(p.message.contains("no saved audience called \u{201c}Nobody\u{201d}"), "{}", p.message);
}

fn reconcile_canvas(file: &std::path::Path, rules: Vec<ReconcileRule>) -> campaign_console::model::Canvas {
    canvas(
        vec![
            activity(
                "rec",
                K::Reconciliation {
                    file: file.display().to_string(),
                    entity: "customers".into(),
                    rules,
                    keep_unreconciled: true,
                },
            ),
            activity("end", K::End),
        ],
        vec![wire("t_found", "rec", "out", "end"), wire("t_lost", "rec", "unreconciled", "end")],
    )
}

fn rule(file_column: &str, entity_column: &str) -> ReconcileRule {
    ReconcileRule { file_column: file_column.into(), entity_column: entity_column.into() }
}

#[test]
fn reconciliation_matches_file_lines_to_customers() {
    let (dir, ws) = workspace();
    let file = dir.path().join("fair visitors.csv");
    // A semicolon file with a BOM, quotes, spaces, a duplicate, a blank cell, an unknown
    // address and a value full of SQL.
    std::fs::write(
        &file,
        "\u{feff}E-mail;Stand visited;Name\n\
         ann@x.org;B12;Ann\n\
         \"cat@x.org\" ; A1;Cat\n\
         ann@x.org;C3;Ann again\n\
         ;D4;No address\n\
         zed@x.org;E5;Zed\n\
         x' OR '1'='1;F6;\"Robert'); DROP TABLE customers; --\"\n",
    )
    .unwrap();
    let c = reconcile_canvas(&file, vec![rule("e-mail", "email")]);
    let run = compile(&c).unwrap();
    let mut session = CountSession::new(ws.connect().unwrap());
    let report = session.count(&run, &|| false).unwrap();
    // Ann (1 and 5 share ann@x.org) and Cat match; ann's second line adds nothing.
    assert_eq!(report.count_of("t_found"), Some(3));
    let (names, rows) = session.rows("t_found", 10).unwrap();
    assert_eq!(names, ["key", "seg", "file_e_mail", "file_stand_visited", "file_name"]);
    let stands: Vec<(V, V)> = rows.iter().map(|r| (r[0].clone(), r[3].clone())).collect();
    assert_eq!(
        stands,
        [
            (V::Integer(1), V::Text("B12".into())),
            (V::Integer(3), V::Text("A1".into())),
            (V::Integer(5), V::Text("B12".into()))
        ],
        "the first line naming a customer wins"
    );
    // The blank address, zed and the SQL-looking line are not found.
    assert_eq!(report.count_of("t_lost"), Some(3));
    let lost: Vec<V> = session.rows("t_lost", 10).unwrap().1.into_iter().map(|r| r[4].clone()).collect();
    assert_eq!(
        lost,
        [V::Text("No address".into()), V::Text("Zed".into()), V::Text("Robert'); DROP TABLE customers; --".into())]
    );
    assert_eq!(ws.conn().query_row("SELECT COUNT(*) FROM customers", [], |r| r.get::<_, i64>(0)).unwrap(), 7);

    // Two rules: both must hold; a numeric column matches the file's text.
    std::fs::write(&file, "id,name\n1,Ann\n2,Robert\n5,Ann2\n").unwrap();
    let c = reconcile_canvas(&file, vec![rule("id", "id"), rule("NAME", "name")]);
    let report = count(&ws, &c);
    assert_eq!((report.count_of("t_found"), report.count_of("t_lost")), (Some(2), Some(1)));
}

#[test]
fn reconciliation_problems_are_named() {
    let (dir, ws) = workspace();
    let missing = dir.path().join("nowhere.csv");
    let err = compile(&reconcile_canvas(&missing, vec![rule("email", "email")])).unwrap_err();
    let p = &err.problems()[0];
    assert_eq!((p.activity.as_deref(), p.parameter.as_deref()), (Some("rec"), Some("file")));
    assert!(p.message.contains("cannot be opened"), "{}", p.message);

    let file = dir.path().join("list.csv");
    std::fs::write(&file, "email,stand\nann@x.org,B1\n").unwrap();
    let err = compile(&reconcile_canvas(&file, vec![rule("mail", "email"), rule("stand", "booth")])).unwrap_err();
    let messages: Vec<String> = err.problems().iter().map(|p| format!("{:?}: {}", p.parameter, p.message)).collect();
    assert!(messages.iter().any(|m| m.contains("rules[1]") && m.contains("no column \u{201c}mail\u{201d} (its columns: email, stand)")), "{messages:?}");
    assert!(
        messages.iter().any(|m| m.contains("rules[2]") && m.contains("Customers has no column \u{201c}booth\u{201d}")),
        "{messages:?}"
    );

    // A ragged line is reported with its line number when the file is loaded.
    std::fs::write(&file, "email,stand\nann@x.org,B1\nbob@x.org\n").unwrap();
    let run = compile(&reconcile_canvas(&file, vec![rule("email", "email")])).unwrap();
    let err = audience::run_count(ws.connect().unwrap(), &run, &|| false).unwrap_err().to_string();
    assert!(err.contains("line 3") && err.contains("1 values where the first line names 2 columns"), "{err}");
}

#[test]
fn a_run_records_the_control_group_a_count_does_not() {
    use campaign_console::model::Limit;
    let (_d, ws) = workspace();
    let c = canvas(
        vec![
            build("a", "customers", gold_or_silver()),
            activity("hold", K::ControlGroup { size: Limit::Count(2), seed: 3 }),
            activity("end", K::End),
        ],
        vec![
            wire("t_a", "a", "out", "hold"),
            wire("t_rest", "hold", "out", "end"),
            wire("t_held", "hold", "control", "end"),
        ],
    );
    let run = compile(&c).unwrap();
    let mut session = CountSession::new(ws.connect().unwrap());
    session.count(&run, &|| false).unwrap();
    let kind = store::interactions::CONTROL_GROUP;
    assert_eq!(store::interactions::count(&ws.conn(), 42, kind).unwrap(), 0, "a count records nothing");

    assert_eq!(session.record_control_groups(&run, 42, now()).unwrap(), 2);
    let held: Vec<String> = session
        .rows("t_held", 10)
        .unwrap()
        .1
        .iter()
        .map(|r| match &r[0] {
            V::Integer(k) => k.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    let conn = ws.conn();
    let mut stmt = conn
        .prepare("SELECT profile_key, json_extract(detail_json, '$.activity') FROM cc_interactions WHERE campaign_id = 42 AND kind = ?1 ORDER BY id")
        .unwrap();
    let recorded: Vec<(String, String)> =
        stmt.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(recorded.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), held);
    assert!(recorded.iter().all(|(_, a)| a == "hold"));
}
