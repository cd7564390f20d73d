//! A small hand-made dataset whose right answers are known by hand: six customers and five
//! orders, "today" being 2026-06-01.

use campaign_console::audience::{self, CompileOptions, CountReport, Dialect};
use campaign_console::model::{
    Activity, ActivityKind, Canvas, Cell, Column, ColumnType, DataModel, Entity, IdentityNamespace, Link, Rule,
    Transition,
};
use campaign_console::store::{self, Workspace, customer_data};

pub fn now() -> jiff::Timestamp {
    "2026-06-01T12:00:00Z".parse().unwrap()
}

pub fn model() -> DataModel {
    let col = |n: &str, t| Column::new(n, n, t);
    use ColumnType::*;
    DataModel {
        entities: vec![
            Entity {
                name: "customers".into(),
                label: "Customers".into(),
                primary_key: "id".into(),
                columns: vec![
                    col("id", Integer),
                    col("email", Text),
                    col("name", Text),
                    col("tier", Text),
                    col("joined", Date),
                    col("vip", Boolean),
                    col("score", Integer),
                ],
            },
            Entity {
                name: "orders".into(),
                label: "Orders".into(),
                primary_key: "id".into(),
                columns: vec![
                    col("id", Integer),
                    col("customer_id", Integer),
                    col("amount", Decimal),
                    col("status", Text),
                    col("placed", Date),
                ],
            },
        ],
        links: vec![Link {
            name: "customer".into(),
            child: "orders".into(),
            foreign_key: "customer_id".into(),
            parent: "customers".into(),
        }],
        identity_namespaces: vec![IdentityNamespace {
            name: "email".into(),
            entity: "customers".into(),
            column: "email".into(),
        }],
    }
}

pub const NASTY_NAME: &str = "O'Hara\"; DROP TABLE customers; --";

/// The workspace with the dataset loaded.
pub fn workspace() -> (tempfile::TempDir, Workspace) {
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
            let n = Cell::Null;
            let customers: [[Cell<'_>; 7]; 7] = [
                [
                    1.into(),
                    "ann@x.org".into(),
                    "Ann".into(),
                    "gold".into(),
                    "2026-05-20".into(),
                    true.into(),
                    10.into(),
                ],
                [
                    2.into(),
                    "bob@x.org".into(),
                    "Bob".into(),
                    "silver".into(),
                    "2025-01-01".into(),
                    false.into(),
                    20.into(),
                ],
                [3.into(), "cat@x.org".into(), "Cat".into(), n, "2026-05-31".into(), true.into(), n],
                [4.into(), n, "Dan".into(), "gold".into(), "2024-03-03".into(), false.into(), 5.into()],
                [
                    5.into(),
                    "ann@x.org".into(),
                    "Ann2".into(),
                    "silver".into(),
                    "2026-01-15".into(),
                    false.into(),
                    30.into(),
                ],
                [6.into(), "ohara@x.org".into(), NASTY_NAME.into(), n, "2026-02-02".into(), true.into(), 1.into()],
                [7.into(), "nul@x.org".into(), "nul\0byte".into(), "".into(), n, n, n],
            ];
            for row in &customers {
                load.insert(0, row).unwrap();
            }
            let orders: [[Cell<'_>; 5]; 5] = [
                [1.into(), 1.into(), 100.0.into(), "paid".into(), "2026-05-01".into()],
                [2.into(), 1.into(), 50.0.into(), "paid".into(), "2026-05-25".into()],
                [3.into(), 2.into(), 20.0.into(), "refunded".into(), "2026-04-01".into()],
                [4.into(), 3.into(), 200.0.into(), "paid".into(), "2025-01-01".into()],
                [5.into(), 5.into(), 10.0.into(), "paid".into(), "2026-05-30".into()],
            ];
            for row in &orders {
                load.insert(1, row).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    (dir, ws)
}

pub fn activity(id: &str, kind: ActivityKind) -> Activity {
    Activity { id: id.into(), label: format!("{id} label"), kind, position: [0.0, 0.0] }
}

pub fn wire(id: &str, from: &str, output: &str, to: &str) -> Transition {
    Transition { id: id.into(), from: from.into(), output: output.into(), to: to.into(), input: "in".into() }
}

pub fn build(id: &str, dimension: &str, rule: Rule) -> Activity {
    activity(id, ActivityKind::BuildAudience { dimension: dimension.into(), rule, emit_when_empty: false })
}

pub fn canvas(activities: Vec<Activity>, transitions: Vec<Transition>) -> Canvas {
    Canvas { version: campaign_console::model::CANVAS_VERSION, activities, transitions }
}

pub fn compile(canvas: &Canvas) -> Result<audience::CompiledRun, audience::AudienceError> {
    audience::compile_with(canvas, &model(), &CompileOptions::new(Dialect::Sqlite, now(), 1).with_files(canvas))
}

/// `canvas` compiled with what the workspace's data guarantees (its distinct columns and its
/// instants stored as UTC text to the second, as the app finds them) and with the aggregates
/// of linked rows kept as facts.
pub fn compile_with_facts(ws: &Workspace, canvas: &Canvas) -> audience::CompiledRun {
    let m = model();
    let conn = ws.connect().unwrap();
    let data_version = customer_data::data_version(&conn).unwrap();
    let mut options = CompileOptions::new(Dialect::Sqlite, now(), data_version).with_files(canvas);
    options.kept_facts = true;
    store::column_facts::find_for(&conn, canvas, &m, &mut options).unwrap();
    audience::compile_with(canvas, &m, &options).unwrap_or_else(|e| panic!("{e}"))
}

/// Every transition's count, the facts of the data known and not: both must agree, row for
/// row and column for column (twice with the facts: once filling them, once reading them).
pub fn count(ws: &Workspace, canvas: &Canvas) -> CountReport {
    let run = compile(canvas).unwrap_or_else(|e| panic!("{e}"));
    let (report, rows) = all_rows(ws, &run);
    for pass in ["filled", "read"] {
        let (with_facts, facts_rows) = all_rows(ws, &compile_with_facts(ws, canvas));
        let counts =
            |r: &CountReport| r.transitions.iter().map(|t| (t.transition.clone(), t.count)).collect::<Vec<_>>();
        assert_eq!(counts(&with_facts), counts(&report), "the counts differ with the data's facts known ({pass})");
        assert_eq!(facts_rows, rows, "the rows differ with the data's facts known ({pass})");
        assert_eq!(with_facts.sends, report.sends, "the sends differ with the data's facts known ({pass})");
    }
    report
}

/// The count of `run`, and every row of each transition (all columns, in key order).
fn all_rows(ws: &Workspace, run: &audience::CompiledRun) -> (CountReport, Vec<Vec<Vec<rusqlite::types::Value>>>) {
    let mut session = audience::CountSession::new(ws.connect().unwrap());
    let report = session.count(run, &|| false).unwrap();
    let rows = report
        .transitions
        .iter()
        .filter(|t| t.count.is_some())
        .map(|t| {
            let rows = session.rows(&t.transition, 100_000).unwrap().1;
            assert_eq!(t.count, Some(rows.len() as u64), "{}'s count is not its rows'", t.transition);
            rows
        })
        .collect();
    (report, rows)
}

/// The keys on each of `transitions`, in key order; the same with the data's facts known.
pub fn keys(ws: &Workspace, canvas: &Canvas, transitions: &[&str]) -> Vec<Vec<i64>> {
    let run = compile(canvas).unwrap_or_else(|e| panic!("{e}"));
    let without = keys_of(ws, &run, transitions);
    assert_eq!(
        keys_of(ws, &compile_with_facts(ws, canvas), transitions),
        without,
        "the keys differ with the data's facts known"
    );
    without
}

/// The keys on each of `transitions` of `run`, in key order.
pub fn keys_of(ws: &Workspace, run: &audience::CompiledRun, transitions: &[&str]) -> Vec<Vec<i64>> {
    let mut session = audience::CountSession::new(ws.connect().unwrap());
    let report = session.count(run, &|| false).unwrap();
    let tables = session;
    transitions
        .iter()
        .map(|t| {
            let (_, rows) = tables.rows(t, 1000).unwrap();
            assert_eq!(report.count_of(t), Some(rows.len() as u64), "{t}'s count is not its rows'");
            rows.iter()
                .map(|r| match r[0] {
                    rusqlite::types::Value::Integer(k) => k,
                    ref other => panic!("key {other:?}"),
                })
                .collect()
        })
        .collect()
}

/// The keys a single Build audience on `dimension` selects.
pub fn audience_keys(ws: &Workspace, dimension: &str, rule: Rule) -> Vec<i64> {
    let c = canvas(
        vec![build("a", dimension, rule), activity("end", ActivityKind::End)],
        vec![wire("t", "a", "out", "end")],
    );
    keys(ws, &c, &["t"]).remove(0)
}
