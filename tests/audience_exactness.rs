//! Counts recomputed by hand on data that is hard on an engine: instants with offsets and
//! days at the edge of a range, accented names, foreign keys that point nowhere, NULLs where
//! an order is taken, percentages with decimals, and channel activities whose recipients
//! cannot all be reached. Each test failed before its fix.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use campaign_console::audience::{self, CompileOptions, CountReport, Dialect};
use campaign_console::model::{
    Activity, ActivityKind as K, Aggregate, Canvas, Cell, Channel, Column, ColumnType, DataModel, EnrichColumn,
    EnrichSource, Entity, IdentityNamespace, Limit, Link, LinkedCondition, Message, Op, Operand, Pick, Recipient, Rule,
    Schedule, Subset, Transition,
};
use campaign_console::store::{self, Workspace, customer_data};

fn now() -> jiff::Timestamp {
    "2025-06-15T12:00:00Z".parse().unwrap()
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
                columns: vec![
                    col("id", Integer),
                    col("name", Text),
                    col("email", Text),
                    col("email_opt_in", Boolean),
                    col("created_at", Timestamp),
                ],
            },
            Entity {
                name: "visits".into(),
                label: "Visits".into(),
                primary_key: "id".into(),
                columns: vec![
                    col("id", Integer),
                    col("person_id", Integer),
                    col("visited_at", Timestamp),
                    col("spent", Decimal),
                ],
            },
        ],
        links: vec![Link {
            name: "person".into(),
            child: "visits".into(),
            foreign_key: "person_id".into(),
            parent: "people".into(),
        }],
        identity_namespaces: vec![IdentityNamespace {
            name: "email".into(),
            entity: "people".into(),
            column: "email".into(),
        }],
    }
}

/// (id, name, email, opted in, created_at)
type Person = (i64, &'static str, Option<&'static str>, Option<bool>, Option<&'static str>);

const PEOPLE: [Person; 8] = [
    (1, "Léa", Some("lea@example.com"), Some(true), Some("2025-03-01T00:00:00Z")),
    (2, "LÉA", Some("lea2@example.com"), Some(false), Some("2025-03-31T23:59:59Z")),
    // 2025-03-31T22:30:00Z: still March 31st in UTC, April 1st in Paris.
    (3, "Müller", Some("not an address"), Some(true), Some("2025-04-01T00:30:00+02:00")),
    (4, "Muller", None, Some(true), Some("2025-04-01T00:00:00Z")),
    (5, "Zoë", Some("zoe@example.com"), None, Some("2025-02-28T23:59:59Z")),
    (6, "Ann", Some("ann@example.com"), Some(true), None),
    (7, "mÜnch", Some("m@example.com"), Some(true), Some("2025-03-15")),
    (8, "Bob", Some("bob@example.com"), Some(true), Some("2025-03-15 08:00:00")),
];

/// (id, person_id, visited_at, spent); person 99 does not exist.
const VISITS: [(i64, i64, Option<&str>, f64); 7] = [
    (1, 1, Some("2025-05-01T10:00:00Z"), 100.0),
    (2, 1, None, 5.0),
    (3, 2, Some("2025-05-31T23:00:00Z"), 300.0),
    (4, 3, Some("2025-06-01T01:00:00+02:00"), 50.0),
    (5, 99, Some("2025-05-02T00:00:00Z"), 70.0),
    (6, 99, Some("2025-05-03T00:00:00Z"), 80.0),
    (7, 8, Some("2025-05-20T00:00:00Z"), 200.0),
];

fn workspace() -> (tempfile::TempDir, Workspace) {
    workspace_with(PEOPLE.len())
}

/// The people above, then plain ones up to `people` in all.
fn workspace_with(people: usize) -> (tempfile::TempDir, Workspace) {
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
            for (id, name, email, opt_in, created) in PEOPLE {
                load.insert(0, &[id.into(), name.into(), email.into(), opt_in.into(), created.into()]).unwrap();
            }
            for id in PEOPLE.len() as i64 + 1..=people as i64 {
                load.insert(0, &[id.into(), "x".into(), Cell::Null, Cell::Null, Cell::Null]).unwrap();
            }
            for (id, person, at, spent) in VISITS {
                load.insert(1, &[id.into(), person.into(), at.into(), spent.into()]).unwrap();
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

fn build(id: &str, dimension: &str, rule: Rule) -> Activity {
    activity(id, K::BuildAudience { dimension: dimension.into(), rule, emit_when_empty: false })
}

fn canvas(activities: Vec<Activity>, transitions: Vec<Transition>) -> Canvas {
    Canvas { version: campaign_console::model::CANVAS_VERSION, activities, transitions }
}

fn options() -> CompileOptions {
    CompileOptions::new(Dialect::Sqlite, now(), 1)
}

fn session(ws: &Workspace, c: &Canvas) -> (audience::CountSession, CountReport) {
    let counted = |options: &CompileOptions| {
        let run = audience::compile_with(c, &model(), options).unwrap_or_else(|e| panic!("{e}"));
        let mut s = audience::CountSession::new(ws.connect().unwrap());
        let report = s.count(&run, &|| false).unwrap();
        (s, report)
    };
    let (s, report) = counted(&options());
    // With what the data guarantees found, and the aggregates of linked rows kept as facts
    // (filled, then read): the same rows, the same recipients reached and excluded.
    let mut facts = options();
    facts.kept_facts = true;
    store::column_facts::find_for(&ws.connect().unwrap(), c, &model(), &mut facts).unwrap();
    for pass in ["filled", "read"] {
        let (f, with_facts) = counted(&facts);
        assert_eq!(with_facts.sends, report.sends, "the sends differ with the facts ({pass})");
        for t in report.transitions.iter().filter(|t| t.count.is_some()) {
            let rows = |s: &audience::CountSession| s.rows(&t.transition, 100_000).unwrap();
            assert_eq!(rows(&f), rows(&s), "{} differs with the facts ({pass})", t.transition);
        }
    }
    (s, report)
}

/// The keys on transition `t`.
fn keys_on(ws: &Workspace, c: &Canvas, t: &str) -> Vec<i64> {
    let (s, _) = session(ws, c);
    s.rows(t, 1000)
        .unwrap()
        .1
        .iter()
        .map(|r| match r[0] {
            rusqlite::types::Value::Integer(k) => k,
            ref other => panic!("key {other:?}"),
        })
        .collect()
}

fn people_where(ws: &Workspace, rule: Rule) -> Vec<i64> {
    let c = canvas(vec![build("a", "people", rule), activity("end", K::End)], vec![wire("t", "a", "out", "end")]);
    keys_on(ws, &c, "t")
}

fn column(name: &str, op: Op, value: Operand) -> Rule {
    Rule::Column { column: name.into(), op, value }
}

fn day(s: &str) -> Operand {
    Operand::Date(s.into())
}

#[test]
fn a_day_on_a_timestamp_is_the_whole_day() {
    let (_d, ws) = workspace();
    let between = Operand::Range(Box::new(day("2025-03-01")), Box::new(day("2025-03-31")));
    assert_eq!(
        people_where(&ws, column("created_at", Op::Between, between)),
        [1, 2, 3, 7, 8],
        "the last day of the range counts whole; an instant with an offset is compared as an instant"
    );
    assert_eq!(people_where(&ws, column("created_at", Op::Eq, day("2025-03-15"))), [7, 8], "= a day");
    assert_eq!(people_where(&ws, column("created_at", Op::Ne, day("2025-03-15"))), [1, 2, 3, 4, 5]);
    assert_eq!(
        people_where(&ws, column("created_at", Op::In, Operand::List(vec![day("2025-03-31"), day("2025-02-28")]))),
        [2, 3, 5]
    );
    assert_eq!(people_where(&ws, column("created_at", Op::Le, day("2025-03-01"))), [1, 5]);
    assert_eq!(people_where(&ws, column("created_at", Op::Gt, day("2025-03-31"))), [4]);
    assert_eq!(people_where(&ws, column("created_at", Op::Lt, day("2025-03-01"))), [5]);
    assert_eq!(people_where(&ws, column("created_at", Op::Ge, day("2025-04-01"))), [4]);
    assert_eq!(people_where(&ws, column("created_at", Op::After, day("2025-03-31"))), [4]);
    assert_eq!(people_where(&ws, column("created_at", Op::Before, day("2025-03-01"))), [5]);
    // An instant typed with its offset is that instant.
    assert_eq!(
        people_where(&ws, column("created_at", Op::Eq, day("2025-04-01T00:30:00+02:00"))),
        [3],
        "the same instant written another way"
    );
    assert_eq!(people_where(&ws, column("created_at", Op::Lt, day("2025-03-31T22:30:00Z"))), [1, 5, 7, 8]);
    assert_eq!(people_where(&ws, column("created_at", Op::IsEmpty, Operand::None)), [6]);
}

#[test]
fn a_day_is_the_day_in_the_campaigns_time_zone() {
    let (_d, ws) = workspace();
    let scheduler = activity(
        "s",
        K::Scheduler {
            schedule: Schedule::Daily { times: vec!["09:00".into()] },
            valid_from: None,
            valid_until: None,
            timezone: Some("Europe/Paris".into()),
        },
    );
    let c = canvas(
        vec![scheduler, build("a", "people", column("created_at", Op::Eq, day("2025-04-01"))), activity("end", K::End)],
        vec![
            Transition {
                id: "t0".into(),
                from: "s".into(),
                output: "out".into(),
                to: "a".into(),
                input: "start".into(),
            },
            wire("t", "a", "out", "end"),
        ],
    );
    // In Paris (UTC+2), April 1st runs from 2025-03-31T22:00:00Z to 2025-04-01T22:00:00Z.
    assert_eq!(keys_on(&ws, &c, "t"), [2, 3, 4]);
}

#[test]
fn aggregates_and_most_recent_over_timestamps() {
    let (_d, ws) = workspace();
    let last_visit = |op, value| Rule::Linked {
        entity: "visits".into(),
        condition: LinkedCondition::Aggregate {
            function: Aggregate::Max,
            column: Some("visited_at".into()),
            filter: Box::new(Rule::everyone()),
            op,
            value,
        },
    };
    // Person 3's last visit is 2025-05-31T23:00:00Z once its offset is applied.
    assert_eq!(people_where(&ws, last_visit(Op::Le, day("2025-05-31"))), [1, 2, 3, 8]);
    assert_eq!(people_where(&ws, last_visit(Op::Eq, day("2025-05-31"))), [2, 3]);
    // The most recent visit by date: a visit with no date never wins (person 1's is empty).
    let recent = Rule::Linked {
        entity: "visits".into(),
        condition: LinkedCondition::MostRecent {
            order_by: "visited_at".into(),
            column: "spent".into(),
            op: Op::Eq,
            value: Operand::Real(100.0),
        },
    };
    assert_eq!(people_where(&ws, recent), [1]);
}

#[test]
fn most_recent_puts_empty_dates_last_in_postgresql_too() {
    let rule = Rule::Linked {
        entity: "visits".into(),
        condition: LinkedCondition::MostRecent {
            order_by: "visited_at".into(),
            column: "spent".into(),
            op: Op::Eq,
            value: Operand::Real(100.0),
        },
    };
    let c = canvas(vec![build("a", "people", rule), activity("end", K::End)], vec![wire("t", "a", "out", "end")]);
    let run = audience::compile_with(&c, &model(), &CompileOptions::new(Dialect::Postgres, now(), 1)).unwrap();
    let sql: String = run.steps.iter().flat_map(|s| s.statements.iter().map(|s| s.sql.clone())).collect();
    assert!(sql.contains(r#""visited_at" IS NULL ASC"#), "{sql}");
}

#[test]
fn case_insensitive_matching_folds_every_letter() {
    let (_d, ws) = workspace();
    assert_eq!(people_where(&ws, column("name", Op::Contains, Operand::Text("LÉA".into()))), [1, 2]);
    assert_eq!(people_where(&ws, column("name", Op::Contains, Operand::Text("léa".into()))), [1, 2]);
    assert_eq!(people_where(&ws, column("name", Op::StartsWith, Operand::Text("MÜ".into()))), [3, 7]);
    assert_eq!(people_where(&ws, column("name", Op::StartsWith, Operand::Text("zo".into()))), [5]);
}

#[test]
fn populations_never_hold_rows_that_do_not_exist() {
    let (_d, ws) = workspace();
    let c = canvas(
        vec![
            build("v", "visits", Rule::everyone()),
            activity("p", K::ChangeDimension { to: "people".into() }),
            activity(
                "e",
                K::Enrichment {
                    columns: vec![EnrichColumn {
                        alias: "visits".into(),
                        source: EnrichSource::Aggregate {
                            entity: "visits".into(),
                            function: Aggregate::Count,
                            column: None,
                            filter: Rule::everyone(),
                        },
                    }],
                },
            ),
            activity("end", K::End),
        ],
        vec![wire("t1", "v", "out", "p"), wire("t2", "p", "out", "e"), wire("t3", "e", "out", "end")],
    );
    let (_, report) = session(&ws, &c);
    assert_eq!(report.count_of("t2"), Some(4), "people 1, 2, 3 and 8; not the missing 99");
    assert_eq!(report.count_of("t3"), report.count_of("t2"), "an enrichment keeps every row");
    // The Data screen says how many rows point nowhere.
    let dangling = store::data_model::dangling_links(&ws.conn(), &model()).unwrap();
    assert_eq!(dangling, [Some(2)]);
}

#[test]
fn a_percentage_is_applied_exactly() {
    let (_d, ws) = workspace_with(10_000);
    let c = canvas(
        vec![
            build("a", "people", Rule::everyone()),
            activity("g", K::ControlGroup { size: Limit::Percent(12.3456), seed: 7 }),
            activity("end", K::End),
        ],
        vec![wire("t", "a", "out", "g"), wire("held", "g", "control", "end"), wire("rest", "g", "out", "end")],
    );
    let (_, report) = session(&ws, &c);
    assert_eq!(report.count_of("held"), Some(1_234), "12.3456 % of 10,000 is 1,234.56: 1,234 rows");
    assert_eq!(report.count_of("rest"), Some(8_766));
    // More decimals than the field takes are refused, not rounded.
    let mut five = c.clone();
    five.activities[1].kind = K::ControlGroup { size: Limit::Percent(12.34567), seed: 7 };
    let err = audience::compile_with(&five, &model(), &options()).unwrap_err().to_string();
    assert!(err.contains("at most 4 decimals"), "{err}");
}

fn spent() -> Activity {
    activity(
        "e",
        K::Enrichment {
            columns: vec![EnrichColumn {
                alias: "total_spent".into(),
                source: EnrichSource::Aggregate {
                    entity: "visits".into(),
                    function: Aggregate::Sum,
                    column: Some("spent".into()),
                    filter: Rule::everyone(),
                },
            }],
        },
    )
}

#[test]
fn a_split_sorts_and_filters_on_enrichment_columns() {
    let (_d, ws) = workspace();
    let split = activity(
        "s",
        K::Split {
            subsets: vec![
                Subset {
                    label: "Top 2 spenders".into(),
                    filter: Rule::everyone(),
                    limit: Some(Limit::Count(2)),
                    pick: Pick::Sorted { column: "total_spent".into(), descending: true },
                },
                Subset {
                    label: "Spent something".into(),
                    filter: column("total_spent", Op::Gt, Operand::Int(0)),
                    limit: None,
                    pick: Pick::default(),
                },
            ],
            complement: true,
            skip_empty: false,
            allow_overlap: false,
        },
    );
    let c = canvas(
        vec![build("a", "people", Rule::everyone()), spent(), split, activity("end", K::End)],
        vec![
            wire("t1", "a", "out", "e"),
            wire("t2", "e", "out", "s"),
            wire("top", "s", "subset_1", "end"),
            wire("some", "s", "subset_2", "end"),
            wire("rest", "s", "complement", "end"),
        ],
    );
    // The report says which enrichment columns reach the split (its form offers them).
    let (_, report) = session(&ws, &c);
    let into_split = report.transitions.iter().find(|t| t.transition == "t2").unwrap();
    assert_eq!(into_split.columns.iter().map(|w| w.alias.as_str()).collect::<Vec<_>>(), ["total_spent"]);
    assert_eq!(keys_on(&ws, &c, "top"), [2, 8], "300 and 200 spent");
    assert_eq!(keys_on(&ws, &c, "some"), [1, 3], "105 and 50 spent");
    assert_eq!(keys_on(&ws, &c, "rest"), [4, 5, 6, 7]);
}

#[test]
fn one_end_takes_populations_of_any_kind() {
    let (_d, ws) = workspace();
    let c = canvas(
        vec![build("p", "people", Rule::everyone()), build("v", "visits", Rule::everyone()), activity("end", K::End)],
        vec![wire("t1", "p", "out", "end"), wire("t2", "v", "out", "end")],
    );
    let (_, report) = session(&ws, &c);
    assert_eq!((report.count_of("t1"), report.count_of("t2")), (Some(8), Some(7)));
}

fn email(per: Recipient, message: Message) -> Activity {
    activity("mail", K::Channel { channel: Channel::Email, credential: None, configuration: None, per, message })
}

fn a_message() -> Message {
    Message { subject: "Hello".into(), text: "Hi {{ profile.name }}".into(), ..Message::default() }
}

#[test]
fn a_channel_counts_the_recipients_it_can_reach() {
    let (_d, ws) = workspace();
    let c = canvas(
        vec![build("a", "people", Rule::everyone()), email(Recipient::Profile, a_message()), activity("end", K::End)],
        vec![wire("t1", "a", "out", "mail"), wire("t2", "mail", "out", "end")],
    );
    let (_, report) = session(&ws, &c);
    // 1, 6, 7, 8 can be reached; 2 opted out, 3's address is not one, 4 has none, 5 never
    // opted in.
    assert_eq!(report.count_of("t2"), Some(4));
    let send = report.sends.iter().find(|s| s.activity == "mail").unwrap();
    assert_eq!(send.reachable, Some(4));
    let mut excluded = send.excluded.clone();
    excluded.sort();
    assert_eq!(
        excluded,
        [("invalid_address".to_owned(), 1), ("no_address".to_owned(), 1), ("not_opted_in".to_owned(), 2)]
    );

    // One message per visit: a visit whose person does not exist cannot be sent.
    let c = canvas(
        vec![build("v", "visits", Rule::everyone()), email(Recipient::SecondaryEntity, a_message())],
        vec![wire("t1", "v", "out", "mail")],
    );
    let (_, report) = session(&ws, &c);
    let send = &report.sends[0];
    // Visits 1, 2 (person 1) and 7 (person 8) reach someone.
    assert_eq!(send.reachable, Some(3));
    let mut excluded = send.excluded.clone();
    excluded.sort();
    assert_eq!(
        excluded,
        [("invalid_address".to_owned(), 1), ("no_profile".to_owned(), 2), ("not_opted_in".to_owned(), 1)]
    );
}

#[test]
fn a_message_that_cannot_be_sent_is_a_problem_but_the_audience_is_still_counted() {
    let c = canvas(
        vec![build("a", "people", Rule::everyone()), email(Recipient::Profile, Message::default())],
        vec![wire("t1", "a", "out", "mail")],
    );
    let problems = audience::message_problems(&c);
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 2, "{text:?}");
    assert!(text[0].contains("a subject") && text[1].contains("a text or HTML part"), "{text:?}");
    assert!(audience::compile_with(&c, &model(), &options()).is_ok(), "counting does not need the message");
    let written = canvas(
        vec![build("a", "people", Rule::everyone()), email(Recipient::Profile, a_message())],
        vec![wire("t1", "a", "out", "mail")],
    );
    assert!(audience::message_problems(&written).is_empty());
    // An SMS longer than any provider takes is refused before anything is sent.
    let sms = |text: String| {
        canvas(
            vec![
                build("a", "people", Rule::everyone()),
                activity(
                    "text",
                    K::Channel {
                        channel: Channel::Sms,
                        credential: None,
                        configuration: None,
                        per: Recipient::Profile,
                        message: Message { text, ..Message::default() },
                    },
                ),
            ],
            vec![wire("t1", "a", "out", "text")],
        )
    };
    let too_long = audience::message_problems(&sms("é".repeat(1_601)));
    assert_eq!(too_long.len(), 1);
    assert!(too_long[0].to_string().contains("1601 characters before personalization: at most 1600"), "{too_long:?}");
    assert!(audience::message_problems(&sms("é".repeat(1_600))).is_empty());

    // An X post as X counts it: 140 CJK characters are 280, one more is too many.
    let post = |text: String| {
        let mut c = sms(text);
        if let K::Channel { channel, .. } = &mut c.activities[1].kind {
            *channel = Channel::X;
        }
        c
    };
    assert!(audience::message_problems(&post("字".repeat(140))).is_empty());
    let too_long = audience::message_problems(&post("字".repeat(141)));
    assert!(too_long[0].to_string().contains("the post is 282 characters long as X counts them"), "{too_long:?}");
    let link = format!("{} https://example.com/{}", "a".repeat(256), "long-path/".repeat(30));
    assert!(audience::message_problems(&post(link)).is_empty(), "a link is 23 whatever its length");
}

#[test]
fn rows_show_the_dimensions_columns_then_enrichments_then_the_key() {
    let (_d, ws) = workspace();
    let c = canvas(
        vec![build("a", "people", column("id", Op::Eq, Operand::Int(2))), spent(), activity("end", K::End)],
        vec![wire("t1", "a", "out", "e"), wire("t2", "e", "out", "end")],
    );
    let (s, _) = session(&ws, &c);
    let (names, rows) = s.readable_page("t2", &model(), 0, 10).unwrap();
    assert_eq!(names, ["name", "email", "email_opt_in", "created_at", "total_spent", "id"]);
    let row: Vec<String> = rows[0].iter().map(audience::display_value).collect();
    assert_eq!(row, ["LÉA", "lea2@example.com", "0", "2025-03-31T23:59:59Z", "300", "2"]);
}
