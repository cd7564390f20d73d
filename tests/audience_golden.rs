//! One golden test per activity kind on the small hand-made dataset of `support::fixture`,
//! where the right answer is known by hand.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use campaign_console::audience::mix;
use campaign_console::model::{
    ActivityKind as K, Aggregate, Channel, CombineMode, DedupMethod, EnrichColumn, EnrichSource, Limit,
    LinkedCondition, Op, Operand, PeriodUnit, Recipient, Rule,
};
use rusqlite::types::Value as V;
use support::fixture::*;

fn c(column: &str, op: Op, value: Operand) -> Rule {
    Rule::Column { column: column.into(), op, value }
}
fn text(s: &str) -> Operand {
    Operand::Text(s.into())
}
fn date(s: &str) -> Operand {
    Operand::Date(s.into())
}
fn orders(condition: LinkedCondition) -> Rule {
    Rule::Linked { entity: "orders".into(), condition }
}
fn all(rules: Vec<Rule>) -> Rule {
    Rule::All { rules }
}

#[test]
fn build_audience_column_operators() {
    let (_d, ws) = workspace();
    let k = |rule| audience_keys(&ws, "customers", rule);
    assert_eq!(k(c("tier", Op::Eq, text("gold"))), [1, 4]);
    assert_eq!(k(c("tier", Op::Ne, text("gold"))), [2, 5, 7], "NULL is neither equal nor different");
    assert_eq!(k(c("tier", Op::IsEmpty, Operand::None)), [3, 6, 7], "NULL and '' are empty");
    assert_eq!(k(c("tier", Op::IsNotEmpty, Operand::None)), [1, 2, 4, 5]);
    assert_eq!(
        k(c("score", Op::Between, Operand::Range(Box::new(Operand::Int(5)), Box::new(Operand::Int(20))))),
        [1, 2, 4]
    );
    assert_eq!(k(c("score", Op::Gt, Operand::Int(10))), [2, 5]);
    assert_eq!(k(c("score", Op::Le, Operand::Int(5))), [4, 6]);
    assert_eq!(k(c("tier", Op::In, Operand::List(vec![text("gold"), text("silver")]))), [1, 2, 4, 5]);
    assert_eq!(k(c("tier", Op::NotIn, Operand::List(vec![text("gold")]))), [2, 5, 7]);
    assert_eq!(k(c("name", Op::Contains, text("AN"))), [1, 4, 5], "contains ignores case");
    assert_eq!(k(c("name", Op::StartsWith, text("a"))), [1, 5]);
    assert_eq!(k(c("vip", Op::IsTrue, Operand::None)), [1, 3, 6]);
    assert_eq!(k(c("vip", Op::IsFalse, Operand::None)), [2, 4, 5]);
    assert_eq!(k(c("joined", Op::InLast, Operand::Period { amount: 30, unit: PeriodUnit::Days })), [1, 3]);
    assert_eq!(k(c("joined", Op::InNext, Operand::Period { amount: 1, unit: PeriodUnit::Weeks })), Vec::<i64>::new());
    assert_eq!(k(c("joined", Op::InLast, Operand::Period { amount: 6, unit: PeriodUnit::Months })), [1, 3, 5, 6]);
    assert_eq!(k(c("joined", Op::Before, date("2025-06-01"))), [2, 4]);
    assert_eq!(k(c("joined", Op::After, date("2026-05-20"))), [3]);
    assert_eq!(k(c("joined", Op::IsEmpty, Operand::None)), [7]);
}

#[test]
fn build_audience_rule_trees() {
    let (_d, ws) = workspace();
    let k = |rule| audience_keys(&ws, "customers", rule);
    assert_eq!(k(Rule::everyone()), [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(k(Rule::Any { rules: vec![] }), Vec::<i64>::new());
    assert_eq!(k(Rule::Not { rule: Box::new(c("tier", Op::Eq, text("gold"))) }), [2, 5, 7]);
    assert_eq!(
        k(Rule::Not { rule: Box::new(c("vip", Op::IsTrue, Operand::None)) }),
        [2, 4, 5],
        "unknown stays unknown"
    );
    assert_eq!(
        k(Rule::Any { rules: vec![c("tier", Op::Eq, text("gold")), c("score", Op::Gt, Operand::Int(25))] }),
        [1, 4, 5]
    );
    assert_eq!(k(all(vec![c("vip", Op::IsTrue, Operand::None), c("score", Op::Ge, Operand::Int(1))])), [1, 6]);
}

#[test]
fn build_audience_linked_conditions() {
    let (_d, ws) = workspace();
    let k = |rule| audience_keys(&ws, "customers", rule);
    let paid = || Box::new(c("status", Op::Eq, text("paid")));
    assert_eq!(k(orders(LinkedCondition::Exists { rule: paid() })), [1, 3, 5]);
    assert_eq!(k(orders(LinkedCondition::NotExists { rule: Box::new(Rule::everyone()) })), [4, 6, 7]);
    let agg = |function, column: Option<&str>, filter: Box<Rule>, op, value| {
        orders(LinkedCondition::Aggregate { function, column: column.map(str::to_owned), filter, op, value })
    };
    let every = || Box::new(Rule::everyone());
    assert_eq!(k(agg(Aggregate::Count, None, every(), Op::Ge, Operand::Int(2))), [1]);
    assert_eq!(k(agg(Aggregate::Sum, Some("amount"), paid(), Op::Gt, Operand::Real(100.0))), [1, 3]);
    assert_eq!(
        k(agg(Aggregate::Sum, Some("amount"), paid(), Op::Lt, Operand::Int(15))),
        [2, 4, 5, 6, 7],
        "no rows sum to 0"
    );
    assert_eq!(k(agg(Aggregate::Avg, Some("amount"), every(), Op::Gt, Operand::Int(50))), [1, 3]);
    assert_eq!(k(agg(Aggregate::Max, Some("placed"), every(), Op::After, date("2026-05-26"))), [5]);
    assert_eq!(k(agg(Aggregate::Min, Some("amount"), every(), Op::Le, Operand::Int(20))), [2, 5]);
    let recent = |column: &str, op, value| {
        orders(LinkedCondition::MostRecent { order_by: "placed".into(), column: column.into(), op, value })
    };
    assert_eq!(k(recent("status", Op::Eq, text("paid"))), [1, 3, 5]);
    assert_eq!(k(recent("amount", Op::Gt, Operand::Int(40))), [1, 3]);
    // From the many side to the one side (N:1).
    let gold_customer = Rule::Linked {
        entity: "customers".into(),
        condition: LinkedCondition::Exists { rule: Box::new(c("tier", Op::Eq, text("gold"))) },
    };
    assert_eq!(audience_keys(&ws, "orders", gold_customer), [1, 2]);
}

fn two_audiences(kind: K) -> campaign_console::model::Canvas {
    canvas(
        vec![
            build("gold", "customers", c("tier", Op::Eq, text("gold"))),
            build("vip", "customers", c("vip", Op::IsTrue, Operand::None)),
            activity("combine", kind),
            activity("end", K::End),
        ],
        vec![
            wire("t_gold", "gold", "out", "combine"),
            wire("t_vip", "vip", "out", "combine"),
            wire("t_out", "combine", "out", "end"),
            wire("t_complement", "combine", "complement", "end"),
        ],
    )
}

#[test]
fn combine_union_intersection_exclusion() {
    let (_d, ws) = workspace();
    let union = canvas(
        vec![
            build("gold", "customers", c("tier", Op::Eq, text("gold"))),
            build("vip", "customers", c("vip", Op::IsTrue, Operand::None)),
            activity("combine", K::Combine { mode: CombineMode::Union, primary: None, complement: false }),
            activity("end", K::End),
        ],
        vec![
            wire("t_gold", "gold", "out", "combine"),
            wire("t_vip", "vip", "out", "combine"),
            wire("t_out", "combine", "out", "end"),
        ],
    );
    assert_eq!(keys(&ws, &union, &["t_out"]), [vec![1, 3, 4, 6]]);
    let inter = two_audiences(K::Combine { mode: CombineMode::Intersection, primary: None, complement: true });
    assert_eq!(keys(&ws, &inter, &["t_out", "t_complement"]), [vec![1], vec![3, 4, 6]]);
    let excl =
        two_audiences(K::Combine { mode: CombineMode::Exclusion, primary: Some("t_gold".into()), complement: true });
    assert_eq!(keys(&ws, &excl, &["t_out", "t_complement"]), [vec![4], vec![1]]);
    let excl_vip =
        two_audiences(K::Combine { mode: CombineMode::Exclusion, primary: Some("t_vip".into()), complement: true });
    assert_eq!(keys(&ws, &excl_vip, &["t_out", "t_complement"]), [vec![3, 6], vec![1]]);
}

/// The same rows, to the bit, with the enrichment's aggregates kept as facts (filled, then
/// read: `count` compares them), all four in one table.
fn facts_agree(ws: &campaign_console::store::Workspace, cv: &campaign_console::model::Canvas) {
    count(ws, cv);
    let facts: i64 = ws
        .conn()
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'cc_fact_v%'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(facts, 1, "one table holds the enrichment's four linked values");
}

#[test]
fn enrichment_adds_columns_per_key() {
    let (_d, ws) = workspace();
    let enrich = K::Enrichment {
        columns: vec![
            EnrichColumn {
                alias: "tier_now".into(),
                source: EnrichSource::Attribute { entity: "customers".into(), column: "tier".into() },
            },
            EnrichColumn {
                alias: "total_paid".into(),
                source: EnrichSource::Aggregate {
                    entity: "orders".into(),
                    function: Aggregate::Sum,
                    column: Some("amount".into()),
                    filter: c("status", Op::Eq, text("paid")),
                },
            },
            EnrichColumn {
                alias: "orders_n".into(),
                source: EnrichSource::Aggregate {
                    entity: "orders".into(),
                    function: Aggregate::Count,
                    column: None,
                    filter: Rule::everyone(),
                },
            },
            EnrichColumn {
                alias: "last_placed".into(),
                source: EnrichSource::MostRecent {
                    entity: "orders".into(),
                    order_by: "placed".into(),
                    column: "placed".into(),
                    rank: 1,
                },
            },
            EnrichColumn {
                alias: "second_amount".into(),
                source: EnrichSource::MostRecent {
                    entity: "orders".into(),
                    order_by: "placed".into(),
                    column: "amount".into(),
                    rank: 2,
                },
            },
        ],
    };
    let cv = canvas(
        vec![build("all", "customers", Rule::everyone()), activity("enrich", enrich), activity("end", K::End)],
        vec![wire("t_all", "all", "out", "enrich"), wire("t_rich", "enrich", "out", "end")],
    );
    let run = compile(&cv).unwrap();
    let mut tables = campaign_console::audience::CountSession::new(ws.connect().unwrap());
    assert_eq!(tables.count(&run, &|| false).unwrap().count_of("t_rich"), Some(7));
    facts_agree(&ws, &cv);
    let (names, rows) = tables.rows("t_rich", 100).unwrap();
    assert_eq!(names, ["key", "seg", "tier_now", "total_paid", "orders_n", "last_placed", "second_amount"]);
    let t = |s: &str| V::Text(s.into());
    let expect = [
        (1, t("gold"), V::Real(150.0), 2, t("2026-05-25"), V::Real(100.0)),
        (2, t("silver"), V::Integer(0), 1, t("2026-04-01"), V::Null),
        (3, V::Null, V::Real(200.0), 1, t("2025-01-01"), V::Null),
        (4, t("gold"), V::Integer(0), 0, V::Null, V::Null),
        (5, t("silver"), V::Real(10.0), 1, t("2026-05-30"), V::Null),
        (6, V::Null, V::Integer(0), 0, V::Null, V::Null),
        (7, t(""), V::Integer(0), 0, V::Null, V::Null),
    ];
    for (row, (key, tier, total, n, last, second)) in rows.iter().zip(expect) {
        assert_eq!(row[0], V::Integer(key));
        assert_eq!(row[2], tier, "tier of {key}");
        let total_num = match (&row[3], &total) {
            (V::Real(a), V::Real(b)) => a == b,
            (V::Integer(a), V::Integer(b)) => a == b,
            (V::Real(a), V::Integer(b)) | (V::Integer(b), V::Real(a)) => *a == *b as f64,
            _ => false,
        };
        assert!(total_num, "total of {key}: {:?} vs {total:?}", row[3]);
        assert_eq!(row[4], V::Integer(n), "orders of {key}");
        assert_eq!(row[5], last, "last order of {key}");
        assert_eq!(row[6], second, "second most recent amount of {key}");
    }
    // A parent's attribute from the many side (the same session: the old tables go).
    let names_of_buyers = canvas(
        vec![
            build("o", "orders", Rule::everyone()),
            activity(
                "e",
                K::Enrichment {
                    columns: vec![EnrichColumn {
                        alias: "buyer".into(),
                        source: EnrichSource::Attribute { entity: "customers".into(), column: "name".into() },
                    }],
                },
            ),
            activity("end", K::End),
        ],
        vec![wire("t1", "o", "out", "e"), wire("t2", "e", "out", "end")],
    );
    let run = compile(&names_of_buyers).unwrap();
    tables.count(&run, &|| false).unwrap();
    let (_, rows) = tables.rows("t2", 100).unwrap();
    let buyers: Vec<_> = rows.iter().map(|r| r[2].clone()).collect();
    assert_eq!(buyers, [t("Ann"), t("Ann"), t("Bob"), t("Cat"), t("Ann2")]);
}

/// Every customer, deduplicated on `columns` (its removed rows on `t_removed`).
fn dedup_canvas(columns: &[&str], method: DedupMethod, keep: u32) -> campaign_console::model::Canvas {
    canvas(
        vec![
            build("all", "customers", Rule::everyone()),
            activity(
                "dedup",
                K::Deduplication {
                    columns: columns.iter().map(|c| (*c).to_owned()).collect(),
                    keep,
                    method,
                    output_removed: true,
                },
            ),
            activity("end", K::End),
        ],
        vec![
            wire("t_all", "all", "out", "dedup"),
            wire("t_out", "dedup", "out", "end"),
            wire("t_removed", "dedup", "removed", "end"),
        ],
    )
}

#[test]
fn deduplication_keeps_by_rule_and_outputs_removed() {
    let (_d, ws) = workspace();
    let dedup = |method, keep| dedup_canvas(&["email"], method, keep);
    // ann@x.org twice (1 joined 2026-05-20, 5 joined 2026-01-15); 4 has no email and is kept.
    let latest = dedup(DedupMethod::KeepBy { column: "joined".into(), largest: true }, 1);
    assert_eq!(keys(&ws, &latest, &["t_out", "t_removed"]), [vec![1, 2, 3, 4, 6, 7], vec![5]]);
    let best_score = dedup(DedupMethod::KeepBy { column: "score".into(), largest: true }, 1);
    assert_eq!(keys(&ws, &best_score, &["t_out", "t_removed"]), [vec![2, 3, 4, 5, 6, 7], vec![1]]);
    let keep_two = dedup(DedupMethod::KeepBy { column: "score".into(), largest: true }, 2);
    assert_eq!(keys(&ws, &keep_two, &["t_out", "t_removed"]), [vec![1, 2, 3, 4, 5, 6, 7], vec![]]);
    let random = dedup(DedupMethod::Random { seed: 5 }, 1);
    let loser = if (mix(1, 5), 1) < (mix(5, 5), 5) { 5 } else { 1 };
    assert_eq!(keys(&ws, &random, &["t_removed"]), [vec![loser]]);
}

/// A deduplication on columns the data proves distinct (found at the data version) keeps
/// every row and sorts nothing; on columns that are not, it runs as ever. Found again when
/// the data changes.
#[test]
fn deduplication_on_columns_the_data_proves_distinct_is_a_pass_through() {
    let (_d, ws) = workspace();
    let dedup =
        |columns: &[&str]| dedup_canvas(columns, DedupMethod::KeepBy { column: "joined".into(), largest: true }, 1);
    let m = model();
    let customers = m.entity("customers").unwrap();
    let distinct = |columns: &[&str]| {
        let conn = ws.connect().unwrap();
        let version = campaign_console::store::customer_data::data_version(&conn).unwrap();
        let columns: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
        campaign_console::store::column_facts::distinct(&conn, version, customers, &columns).unwrap()
    };
    let sorts = |c: &campaign_console::model::Canvas| {
        compile_with_facts(&ws, c)
            .steps
            .iter()
            .filter(|s| s.activity == "dedup")
            .flat_map(|s| &s.statements)
            .any(|s| s.sql.contains("ROW_NUMBER"))
    };
    // Names all differ; ann@x.org is there twice (customers 1 and 5), but with two tiers.
    for (columns, is_distinct, removed) in
        [(&["name"][..], true, vec![]), (&["email"][..], false, vec![5]), (&["email", "tier"][..], true, vec![])]
    {
        assert_eq!(distinct(columns), is_distinct, "{columns:?}");
        let c = dedup(columns);
        assert_eq!(sorts(&c), !is_distinct, "{columns:?}");
        // `keys` holds the facts known and not to the same keys.
        assert_eq!(keys(&ws, &c, &["t_out", "t_removed"])[1], removed, "{columns:?}");
    }
    // A second Bob (no join date: the one kept is Bob 2): the data version moves on, and the
    // fact is found again.
    {
        let mut conn = ws.connect().unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute("INSERT INTO customers (id, email, name) VALUES (8, 'bob2@x.org', 'Bob')", []).unwrap();
        campaign_console::store::customer_data::bump_data_version(&tx).unwrap();
        tx.commit().unwrap();
    }
    assert!(!distinct(&["name"]));
    let c = dedup(&["name"]);
    assert!(sorts(&c));
    assert_eq!(keys(&ws, &c, &["t_removed"]), [vec![8]]);
}

#[test]
fn change_dimension_both_ways_and_channel_recipients() {
    let (_d, ws) = workspace();
    let to_orders = canvas(
        vec![
            build(
                "ab",
                "customers",
                c("score", Op::Between, Operand::Range(Box::new(Operand::Int(10)), Box::new(Operand::Int(20)))),
            ),
            activity("change", K::ChangeDimension { to: "orders".into() }),
            activity("back", K::ChangeDimension { to: "customers".into() }),
            activity("end", K::End),
        ],
        vec![wire("t1", "ab", "out", "change"), wire("t2", "change", "out", "back"), wire("t3", "back", "out", "end")],
    );
    assert_eq!(keys(&ws, &to_orders, &["t1", "t2", "t3"]), [vec![1, 2], vec![1, 2, 3], vec![1, 2]]);

    // One email per customer from all orders; one SMS… per order when asked.
    let per_profile = canvas(
        vec![
            build("o", "orders", Rule::everyone()),
            activity(
                "mail",
                K::Channel {
                    channel: Channel::Email,
                    credential: None,
                    configuration: None,
                    per: Recipient::Profile,
                    message: Default::default(),
                },
            ),
            activity("end", K::End),
        ],
        vec![wire("t1", "o", "out", "mail"), wire("t2", "mail", "out", "end")],
    );
    assert_eq!(keys(&ws, &per_profile, &["t2"]), [vec![1, 2, 3, 5]]);
    let per_order = canvas(
        vec![
            build("o", "orders", Rule::everyone()),
            activity(
                "hook",
                K::Channel {
                    channel: Channel::Webhook,
                    credential: None,
                    configuration: None,
                    per: Recipient::SecondaryEntity,
                    message: Default::default(),
                },
            ),
            activity("end", K::End),
        ],
        vec![wire("t1", "o", "out", "hook"), wire("t2", "hook", "out", "end")],
    );
    assert_eq!(count(&ws, &per_order).count_of("t2"), Some(5));
}

#[test]
fn control_group_fork_wait_and_join() {
    let (_d, ws) = workspace();
    let cv = canvas(
        vec![
            build("all", "customers", Rule::everyone()),
            activity("hold", K::ControlGroup { size: Limit::Count(2), seed: 3 }),
            activity("fork", K::Fork { outputs: vec!["a".into(), "b".into()] }),
            activity("wait", K::Wait { wait: campaign_console::model::WaitFor::Duration { minutes: 60 } }),
            activity("join", K::AndJoin { primary: Some("t_wait".into()) }),
            activity("end", K::End),
        ],
        vec![
            wire("t_all", "all", "out", "hold"),
            wire("t_control", "hold", "control", "end"),
            wire("t_kept", "hold", "out", "fork"),
            wire("t_a", "fork", "a", "wait"),
            wire("t_b", "fork", "b", "join"),
            wire("t_wait", "wait", "out", "join"),
            wire("t_joined", "join", "out", "end"),
        ],
    );
    let mut order: Vec<i64> = (1..=7).collect();
    order.sort_by_key(|k| (mix(*k, 3), *k));
    let mut control = order[..2].to_vec();
    control.sort_unstable();
    let mut kept = order[2..].to_vec();
    kept.sort_unstable();
    let got = keys(&ws, &cv, &["t_control", "t_kept", "t_a", "t_b", "t_wait", "t_joined"]);
    assert_eq!(got[0], control);
    for k in &got[1..] {
        assert_eq!(*k, kept);
    }
}

#[test]
fn count_report_has_every_transition_activity_time_and_sql() {
    let (_d, ws) = workspace();
    let cv = two_audiences(K::Combine { mode: CombineMode::Intersection, primary: None, complement: true });
    let report = count(&ws, &cv);
    assert_eq!(report.transitions.len(), 4);
    assert_eq!(report.count_of("t_gold"), Some(2));
    assert_eq!(report.count_of("t_vip"), Some(3));
    assert_eq!(report.count_of("t_out"), Some(1));
    assert_eq!(report.count_of("t_complement"), Some(3));
    let ids: Vec<_> = report.activities.iter().map(|a| a.activity.as_str()).collect();
    assert_eq!(ids, ["gold", "vip", "combine"]);
    assert!(report.activities[0].sql.iter().any(|s| s.contains("INSERT INTO") && s.contains("'gold'")));
    // Work tables are gone after the run.
    let conn = ws.connect().unwrap();
    let left: i64 =
        conn.query_row("SELECT COUNT(*) FROM sqlite_temp_master WHERE name LIKE 'wt_%'", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 0);
}

#[test]
fn test_routes_the_population_to_the_first_condition_that_holds() {
    use campaign_console::model::{TestCheck, TestCondition};
    let (_d, ws) = workspace();
    let test = |conditions: Vec<TestCondition>| {
        let kind = K::Test { conditions };
        let mut transitions = vec![wire("t_in", "gold", "out", "test")];
        for o in campaign_console::audience::outputs(&kind) {
            transitions.push(wire(&format!("t_{o}"), "test", &o, "end"));
        }
        canvas(
            vec![
                build("gold", "customers", c("tier", Op::Eq, text("gold"))),
                activity("test", kind),
                activity("end", K::End),
            ],
            transitions,
        )
    };
    let cond = |label: &str, check| TestCondition { label: label.into(), check };
    // Two gold customers: "more than 5" fails, "at least 2" holds, the flag after it is not reached.
    let cv = test(vec![
        cond("Big", TestCheck::Count { op: Op::Gt, value: 5 }),
        cond("Enough", TestCheck::Count { op: Op::Ge, value: 2 }),
        cond("Always", TestCheck::Flag { value: true }),
    ]);
    let r = count(&ws, &cv);
    assert_eq!(
        [r.count_of("t_test_1"), r.count_of("t_test_2"), r.count_of("t_test_3"), r.count_of("t_default")],
        [Some(0), Some(2), Some(0), Some(0)]
    );
    let none = test(vec![
        cond("Never", TestCheck::Flag { value: false }),
        cond("Exactly 3", TestCheck::Count { op: Op::Eq, value: 3 }),
    ]);
    let r = count(&ws, &none);
    assert_eq!([r.count_of("t_test_1"), r.count_of("t_test_2"), r.count_of("t_default")], [Some(0), Some(0), Some(2)]);
}
