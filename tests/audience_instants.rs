//! Instants stored as UTC text to the second (`YYYY-MM-DDTHH:MM:SSZ`, as the demo and imports
//! write them) are compared and sorted as stored once the workspace has found that fact, not
//! normalized row by row: every comparison, order and limit must select the very rows it
//! selects with the values normalized, at the edges of days, seconds and milliseconds.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use campaign_console::audience::{self, CompileOptions, Dialect};
use campaign_console::model::{
    Activity, ActivityKind as K, Canvas, Cell, Column, ColumnType, DataModel, DedupMethod, Entity, Limit, Link,
    LinkedCondition, Op, Operand, PeriodUnit, Pick, Rule, Subset, Transition,
};
use campaign_console::store::{self, Workspace, column_facts, customer_data};

/// "Now" with milliseconds, so that "in the last N days" has bounds between two seconds.
fn now() -> jiff::Timestamp {
    "2025-06-15T12:00:00.250Z".parse().unwrap()
}

fn model() -> DataModel {
    let col = |n: &str, t| Column::new(n, n, t);
    use ColumnType::*;
    DataModel {
        entities: vec![
            Entity {
                name: "people".into(),
                label: "People".into(),
                primary_key: "id".into(),
                columns: vec![col("id", Integer), col("created_at", Timestamp)],
            },
            Entity {
                name: "visits".into(),
                label: "Visits".into(),
                primary_key: "id".into(),
                columns: vec![col("id", Integer), col("person_id", Integer), col("visited_at", Timestamp)],
            },
        ],
        links: vec![Link {
            name: "person".into(),
            child: "visits".into(),
            foreign_key: "person_id".into(),
            parent: "people".into(),
        }],
        identity_namespaces: Vec::new(),
    }
}

/// Stored instants at the edges: a day's first and last second, the seconds around "now"
/// and "now" minus 30 days, the same second twice, and none.
const CREATED: [Option<&str>; 12] = [
    Some("2025-03-01T00:00:00Z"),
    Some("2025-02-28T23:59:59Z"),
    Some("2025-03-31T23:59:59Z"),
    Some("2025-04-01T00:00:00Z"),
    Some("2025-05-16T12:00:00Z"),
    Some("2025-05-16T12:00:01Z"),
    Some("2025-06-15T12:00:00Z"),
    Some("2025-06-15T12:00:01Z"),
    None,
    Some("2025-03-15T08:00:00Z"),
    Some("2025-03-15T08:00:00Z"),
    Some("1999-12-31T23:59:59Z"),
];

fn workspace(created: &[Option<&str>]) -> (tempfile::TempDir, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open(dir.path()).unwrap();
    {
        let mut conn = ws.conn();
        let tx = conn.transaction().unwrap();
        let m = model();
        store::data_model::save(&tx, &m).unwrap();
        customer_data::create_tables(&tx, &m).unwrap();
        {
            let mut load = customer_data::Loader::new(&tx, &m).unwrap();
            for (i, at) in created.iter().enumerate() {
                let at = Cell::from(*at);
                load.insert(0, &[(i as i64 + 1).into(), at]).unwrap();
                // Each person's visits: at its creation, and at another person's.
                load.insert(1, &[(2 * i as i64 + 1).into(), (i as i64 + 1).into(), at]).unwrap();
                let later = Cell::from(created[(i + 3) % created.len()]);
                load.insert(1, &[(2 * i as i64 + 2).into(), (i as i64 + 1).into(), later]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    (dir, ws)
}

fn activity(id: &str, kind: K) -> Activity {
    Activity { id: id.into(), label: format!("{id} label"), kind, position: [0.0, 0.0] }
}

fn wire(id: &str, from: &str, output: &str, to: &str) -> Transition {
    Transition { id: id.into(), from: from.into(), output: output.into(), to: to.into(), input: "in".into() }
}

/// people → `then` (with `outputs`) → end.
fn canvas(rule: Rule, then: Option<(K, &[&str])>) -> Canvas {
    let mut activities =
        vec![activity("a", K::BuildAudience { dimension: "people".into(), rule, emit_when_empty: false })];
    let mut transitions = vec![wire("t1", "a", "out", "b")];
    match then {
        Some((kind, outputs)) => {
            activities.push(activity("b", kind));
            for (i, o) in outputs.iter().enumerate() {
                transitions.push(wire(&format!("t{}", i + 2), "b", o, "end"));
            }
        }
        None => transitions[0].to = "end".into(),
    }
    activities.push(activity("end", K::End));
    Canvas { version: campaign_console::model::CANVAS_VERSION, activities, transitions }
}

/// The rows of every transition of `c`, counted with `options`, and the SQL it ran.
fn rows(ws: &Workspace, c: &Canvas, options: &CompileOptions) -> (Vec<Vec<Vec<rusqlite::types::Value>>>, String) {
    let run = audience::compile_with(c, &model(), options).unwrap_or_else(|e| panic!("{e}"));
    let sql = run.steps.iter().flat_map(|s| s.statements.iter().map(|s| s.display.clone())).collect();
    let mut session = audience::CountSession::new(ws.connect().unwrap());
    let report = session.count(&run, &|| false).unwrap();
    let rows = report
        .transitions
        .iter()
        .filter(|t| t.count.is_some())
        .map(|t| session.rows(&t.transition, 1000).unwrap().1)
        .collect();
    (rows, sql)
}

/// The options without facts, and with the facts the workspace finds for `c`.
fn both(ws: &Workspace, c: &Canvas) -> (CompileOptions, CompileOptions) {
    let plain = CompileOptions::new(Dialect::Sqlite, now(), 1);
    let conn = ws.connect().unwrap();
    let mut found = CompileOptions::new(Dialect::Sqlite, now(), customer_data::data_version(&conn).unwrap());
    column_facts::find_for(&conn, c, &model(), &mut found).unwrap();
    (plain, found)
}

fn column(op: Op, value: Operand) -> Rule {
    Rule::Column { column: "created_at".into(), op, value }
}

fn at(s: &str) -> Operand {
    Operand::Date(s.into())
}

/// Every operator, with days, instants on a stored second, between two seconds (with
/// milliseconds), with offsets, before year 0 and at the end of year 9999.
fn rules() -> Vec<Rule> {
    let values = [
        "2025-03-15",
        "2025-03-31",
        "2025-03-15T08:00:00Z",
        "2025-03-15T08:00:00.001Z",
        "2025-03-15T07:59:59.999Z",
        "2025-03-15T10:00:00+02:00",
        "2025-04-01T01:00:00.500+01:00",
        "2025-06-15T12:00:00",
        "-000001-01-01T00:00:00Z",
        "9999-12-30T21:59:59.999Z",
    ];
    let mut rules = Vec::new();
    for v in values {
        for op in [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Before, Op::After] {
            rules.push(column(op, at(v)));
        }
        rules.push(column(Op::In, Operand::List(vec![at(v), at("2025-02-28")])));
        rules.push(column(Op::NotIn, Operand::List(vec![at(v)])));
        rules.push(column(Op::Between, Operand::Range(Box::new(at(v)), Box::new(at("2025-05-16T12:00:00.500Z")))));
    }
    for amount in [0, 1, 30, 90] {
        for unit in [PeriodUnit::Days, PeriodUnit::Months] {
            rules.push(column(Op::InLast, Operand::Period { amount, unit }));
            rules.push(column(Op::InNext, Operand::Period { amount, unit }));
        }
    }
    rules.push(column(Op::IsEmpty, Operand::None));
    rules.push(column(Op::IsNotEmpty, Operand::None));
    // On the linked rows: a visit in a window, the most recent visit's instant.
    rules.push(Rule::Linked {
        entity: "visits".into(),
        condition: LinkedCondition::Exists {
            rule: Box::new(Rule::Column {
                column: "visited_at".into(),
                op: Op::InLast,
                value: Operand::Period { amount: 30, unit: PeriodUnit::Days },
            }),
        },
    });
    rules.push(Rule::Linked {
        entity: "visits".into(),
        condition: LinkedCondition::MostRecent {
            order_by: "visited_at".into(),
            column: "visited_at".into(),
            op: Op::Ge,
            value: at("2025-03-31"),
        },
    });
    rules
}

#[test]
fn instants_stored_to_the_second_select_the_same_rows_as_stored_as_normalized() {
    let (_d, ws) = workspace(&CREATED);
    for rule in rules() {
        let c = canvas(rule.clone(), None);
        let (plain, found) = both(&ws, &c);
        assert!(
            found.canonical_instants.contains(&("people".into(), "created_at".into()))
                || !serde_json::to_string(&c).unwrap().contains("created_at"),
            "the fact is found: {:?}",
            found.canonical_instants
        );
        let (expected, _) = rows(&ws, &c, &plain);
        let (got, sql) = rows(&ws, &c, &found);
        assert_eq!(got, expected, "{rule:?}\n{sql}");
        if !matches!(rule, Rule::Linked { .. }) {
            assert!(!sql.contains("strftime"), "compared as stored: {sql}");
        }
    }
}

#[test]
fn orders_by_stored_instants_keep_the_same_rows() {
    let (_d, ws) = workspace(&CREATED);
    let sorted = |descending| Pick::Sorted { column: "created_at".into(), descending };
    let split = |limit, pick| K::Split {
        subsets: vec![Subset { label: "first".into(), filter: Rule::everyone(), limit: Some(limit), pick }],
        complement: true,
        skip_empty: false,
        allow_overlap: false,
    };
    let kinds = [
        split(Limit::Count(4), sorted(false)),
        split(Limit::Count(3), sorted(true)),
        split(Limit::Percent(50.0), sorted(true)),
        K::Deduplication {
            columns: vec!["created_at".into()],
            keep: 1,
            method: DedupMethod::KeepBy { column: "created_at".into(), largest: true },
            output_removed: true,
        },
    ];
    for kind in kinds {
        let outputs: &[&str] =
            if matches!(kind, K::Split { .. }) { &["subset_1", "complement"] } else { &["out", "removed"] };
        let c = canvas(Rule::everyone(), Some((kind.clone(), outputs)));
        let (plain, found) = both(&ws, &c);
        assert_eq!(found.canonical_instants, [("people".to_owned(), "created_at".to_owned())]);
        let (expected, _) = rows(&ws, &c, &plain);
        let (got, sql) = rows(&ws, &c, &found);
        assert_eq!(got, expected, "{kind:?}\n{sql}");
    }
}

#[test]
fn one_value_in_another_form_and_instants_are_normalized_again() {
    for other in ["2025-03-15 08:00:00", "2025-03-15T10:00:00+02:00", "2025-03-15T08:00:00.500Z", "", "2025-03-15"] {
        let mut created = CREATED.to_vec();
        created.push(Some(other));
        let (_d, ws) = workspace(&created);
        let c = canvas(column(Op::Ge, at("2025-03-15")), None);
        let (plain, found) = both(&ws, &c);
        assert!(found.canonical_instants.is_empty(), "{other:?} is not UTC text to the second");
        let (expected, _) = rows(&ws, &c, &plain);
        let (got, sql) = rows(&ws, &c, &found);
        assert_eq!(got, expected);
        assert!(sql.contains("strftime"), "normalized: {sql}");
    }
    // A number where an instant is expected: not text, so not as stored either.
    let (_d, ws) = workspace(&CREATED);
    ws.conn().execute("UPDATE people SET created_at = 20250315 WHERE id = 1", []).unwrap();
    customer_data::bump_data_version(&ws.conn()).unwrap();
    let c = canvas(column(Op::Ge, at("2025-03-15")), None);
    assert!(both(&ws, &c).1.canonical_instants.is_empty());
}
