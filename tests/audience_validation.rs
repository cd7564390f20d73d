//! Every validation error is provoked once, and its message names the activity (and the
//! parameter) in words a marketer understands.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use campaign_console::audience::{AudienceError, CompileOptions, Dialect, Problem};
use campaign_console::model::{
    ActivityKind as K, Canvas, Channel, CombineMode, DedupMethod, LinkedCondition, Op, Operand, PeriodUnit, Recipient,
    Rule, Transition,
};
use support::fixture::*;

fn problems(c: &Canvas) -> Vec<Problem> {
    match compile(c) {
        Err(AudienceError::Invalid(p)) => p,
        Err(other) => panic!("not a validation error: {other}"),
        Ok(_) => panic!("the canvas was accepted"),
    }
}

/// The one problem of `c`: it names `activity`, and its text contains `words`.
fn expect(c: &Canvas, activity: Option<&str>, words: &str) -> Problem {
    let p = problems(c);
    let hit = p.iter().find(|p| p.activity.as_deref() == activity && p.message.contains(words));
    let Some(hit) = hit else { panic!("no problem on {activity:?} saying {words:?}: {p:#?}") };
    if let Some(id) = activity {
        let text = hit.to_string();
        assert!(text.contains(id) && text.contains(&format!("{id} label")), "{text}");
    }
    hit.clone()
}

fn c(column: &str, op: Op, value: Operand) -> Rule {
    Rule::Column { column: column.into(), op, value }
}

fn gold() -> Rule {
    c("tier", Op::Eq, Operand::Text("gold".into()))
}

fn chain(kind: K) -> Canvas {
    canvas(
        vec![build("a", "customers", gold()), activity("x", kind), activity("end", K::End)],
        vec![wire("t1", "a", "out", "x"), wire("t2", "x", "out", "end")],
    )
}

#[test]
fn a_loop_is_refused() {
    let cv = canvas(
        vec![
            build("a", "customers", gold()),
            activity("e", K::Enrichment { columns: vec![] }),
            activity(
                "d",
                K::Deduplication {
                    columns: vec!["email".into()],
                    keep: 1,
                    method: DedupMethod::Random { seed: 1 },
                    output_removed: false,
                },
            ),
        ],
        vec![
            wire("t1", "a", "out", "e"),
            wire("t2", "e", "out", "d"),
            Transition { id: "t3".into(), from: "d".into(), output: "out".into(), to: "e".into(), input: "in".into() },
        ],
    );
    let p = problems(&cv);
    assert!(p.iter().any(|p| p.activity.as_deref() == Some("e") && p.message.contains("loop")), "{p:#?}");
    assert!(p.iter().any(|p| p.activity.as_deref() == Some("d") && p.message.contains("loop")), "{p:#?}");
}

#[test]
fn a_required_input_left_empty() {
    let cv = canvas(vec![activity("lonely", K::Enrichment { columns: vec![] })], vec![]);
    expect(&cv, Some("lonely"), "nothing is connected");
}

#[test]
fn the_same_output_connected_twice_to_an_input() {
    let cv = canvas(
        vec![
            build("a", "customers", gold()),
            activity("u", K::Combine { mode: CombineMode::Union, primary: None, complement: false }),
        ],
        vec![wire("t1", "a", "out", "u"), wire("t2", "a", "out", "u")],
    );
    expect(&cv, Some("u"), "connected to it twice");
}

#[test]
fn a_second_wire_into_a_single_input() {
    let cv = canvas(
        vec![
            build("a", "customers", gold()),
            build("b", "customers", gold()),
            activity("e", K::End),
            activity("w", K::Wait { wait: campaign_console::model::WaitFor::Duration { minutes: 1 } }),
        ],
        vec![wire("t1", "a", "out", "w"), wire("t2", "b", "out", "w"), wire("t3", "w", "out", "e")],
    );
    expect(&cv, Some("w"), "takes one transition only");
}

#[test]
fn populations_of_different_dimensions_are_not_combined() {
    let cv = canvas(
        vec![
            build("people", "customers", gold()),
            build("sales", "orders", Rule::everyone()),
            activity("u", K::Combine { mode: CombineMode::Union, primary: None, complement: false }),
        ],
        vec![wire("t1", "people", "out", "u"), wire("t2", "sales", "out", "u")],
    );
    expect(&cv, Some("u"), "different kinds (customers and orders)");
}

#[test]
fn missing_and_ill_typed_parameters() {
    let p = expect(
        &chain(K::Deduplication {
            columns: vec![],
            keep: 1,
            method: DedupMethod::Random { seed: 1 },
            output_removed: false,
        }),
        Some("x"),
        "choose the columns",
    );
    assert_eq!(p.parameter.as_deref(), Some("columns"));
    expect(
        &chain(K::Deduplication {
            columns: vec!["email".into()],
            keep: 0,
            method: DedupMethod::Random { seed: 1 },
            output_removed: false,
        }),
        Some("x"),
        "at least one row",
    );
    let fork = canvas(
        vec![build("a", "customers", gold()), activity("x", K::Fork { outputs: vec![] })],
        vec![wire("t1", "a", "out", "x")],
    );
    expect(&fork, Some("x"), "at least one output");
    expect(
        &chain(K::ControlGroup { size: campaign_console::model::Limit::Percent(150.0), seed: 1 }),
        Some("x"),
        "at most 100",
    );
    let open =
        |kind| canvas(vec![build("a", "customers", gold()), activity("x", kind)], vec![wire("t1", "a", "out", "x")]);
    expect(
        &open(K::Split { subsets: vec![], complement: false, skip_empty: false, allow_overlap: false }),
        Some("x"),
        "at least one subset",
    );
    expect(&chain(K::Enrichment { columns: vec![] }), Some("x"), "at least one column");

    let rule = |r| canvas(vec![build("a", "customers", r)], vec![]);
    let p = expect(&rule(c("score", Op::Contains, Operand::Text("1".into()))), Some("a"), "only applies to text");
    assert_eq!(p.parameter.as_deref(), Some("rule"));
    expect(&rule(c("tier", Op::Gt, Operand::Int(5))), Some("a"), "needs a text value");
    expect(&rule(c("joined", Op::InLast, Operand::Text("soon".into()))), Some("a"), "number of days");
    expect(&rule(c("joined", Op::Before, Operand::Date("2026-13-45".into()))), Some("a"), "is not a date");
    expect(&rule(c("tier", Op::IsTrue, Operand::None)), Some("a"), "yes/no");
    expect(&rule(c("tier", Op::In, Operand::List(vec![]))), Some("a"), "at least one value");
    expect(
        &rule(c("joined", Op::InLast, Operand::Period { amount: -3, unit: PeriodUnit::Days })),
        Some("a"),
        "cannot be negative",
    );
}

#[test]
fn columns_and_links_the_data_model_lacks() {
    let rule = |r| canvas(vec![build("a", "customers", r)], vec![]);
    expect(&rule(c("shoe_size", Op::Eq, Operand::Int(42))), Some("a"), "no column \u{201c}shoe_size\u{201d}");
    let unlinked = Rule::Linked {
        entity: "hotels".into(),
        condition: LinkedCondition::Exists { rule: Box::new(Rule::everyone()) },
    };
    expect(&rule(unlinked), Some("a"), "not linked");
    let p = expect(&canvas(vec![build("a", "planets", Rule::everyone())], vec![]), Some("a"), "no entity");
    assert_eq!(p.parameter.as_deref(), Some("dimension"));
    expect(&chain(K::ChangeDimension { to: "hotels".into() }), Some("x"), "not linked");
    let agg_on_parent = Rule::Linked {
        entity: "customers".into(),
        condition: LinkedCondition::Aggregate {
            function: campaign_console::model::Aggregate::Sum,
            column: Some("score".into()),
            filter: Box::new(Rule::everyone()),
            op: Op::Gt,
            value: Operand::Int(1),
        },
    };
    expect(&canvas(vec![build("o", "orders", agg_on_parent)], vec![]), Some("o"), "needs many");
}

#[test]
fn channels_need_an_address_and_a_profile() {
    let cv = chain(K::Channel {
        channel: Channel::Sms,
        credential: None,
        configuration: None,
        per: Recipient::Profile,
        message: Default::default(),
    });
    expect(&cv, Some("x"), "phone");
    let cv = chain(K::Channel {
        channel: Channel::Email,
        credential: None,
        configuration: None,
        per: Recipient::SecondaryEntity,
        message: Default::default(),
    });
    expect(&cv, Some("x"), "Change dimension");
}

#[test]
fn too_many_activities_or_channels() {
    let mut activities = vec![build("a", "customers", gold())];
    let mut transitions = vec![];
    for i in 0..11 {
        activities.push(activity(
            &format!("mail{i}"),
            K::Channel {
                channel: Channel::Email,
                credential: None,
                configuration: None,
                per: Recipient::Profile,
                message: Default::default(),
            },
        ));
        transitions.push(wire(&format!("t{i}"), "a", "out", &format!("mail{i}")));
    }
    let p = expect(&canvas(activities, transitions), None, "at most 10 channel activities");
    assert!(p.to_string().starts_with("The canvas"));

    let many: Vec<_> = (0..501).map(|i| build(&format!("b{i}"), "customers", gold())).collect();
    expect(&canvas(many, vec![]), None, "at most 500 activities");
}

#[test]
fn unknown_ports_and_formats() {
    let cv =
        canvas(vec![build("a", "customers", gold()), activity("e", K::End)], vec![wire("t1", "a", "subset_9", "e")]);
    expect(&cv, Some("a"), "no output \u{201c}subset_9\u{201d}");
    let mut cv = canvas(vec![build("a", "customers", gold())], vec![]);
    cv.version = 99;
    expect(&cv, None, "format 99");
    let cv = canvas(vec![build("a", "customers", gold()), build("a", "customers", gold())], vec![]);
    expect(&cv, Some("a"), "two activities have this id");
}

#[test]
fn every_problem_is_listed_at_once() {
    let cv = canvas(
        vec![
            build("a", "customers", c("nope", Op::Eq, Operand::Int(1))),
            build("b", "customers", c("tier", Op::Gt, Operand::Int(1))),
        ],
        vec![],
    );
    let p = problems(&cv);
    assert_eq!(p.len(), 2, "{p:#?}");
    let text = AudienceError::Invalid(p).to_string();
    assert!(text.starts_with("2 problems:"), "{text}");
}

#[test]
fn a_scheduler_too_fast_or_malformed() {
    let scheduled = |schedule: campaign_console::model::Schedule| {
        canvas(
            vec![
                activity(
                    "sched",
                    K::Scheduler { schedule, valid_from: None, valid_until: None, timezone: Some("UTC".into()) },
                ),
                build("a", "customers", gold()),
                activity("end", K::End),
            ],
            vec![
                campaign_console::model::Transition {
                    id: "t_go".into(),
                    from: "sched".into(),
                    output: "out".into(),
                    to: "a".into(),
                    input: "start".into(),
                },
                wire("t_a", "a", "out", "end"),
            ],
        )
    };
    use campaign_console::model::Schedule;
    let p = expect(&scheduled(Schedule::Cron { expression: "*/10 * * * *".into() }), Some("sched"), "every 15 minutes");
    assert_eq!(p.parameter.as_deref(), Some("schedule"));
    let p = expect(&scheduled(Schedule::Weekly { days: vec!["mon".into()], time: "9h".into() }), Some("sched"), "9h");
    assert_eq!(p.parameter.as_deref(), Some("time"));
    // A valid one starts the audience; its transition carries no population.
    let report = count(&workspace().1, &scheduled(Schedule::Daily { times: vec!["09:00".into(), "17:30".into()] }));
    assert_eq!((report.count_of("t_go"), report.count_of("t_a")), (None, Some(2)));
}

#[test]
fn a_message_may_use_only_what_reaches_it() {
    let email = |text: &str, per| K::Channel {
        channel: Channel::Email,
        credential: None,
        configuration: None,
        per,
        message: campaign_console::model::Message {
            subject: "Hello {{ profile.name }}".into(),
            text: text.into(),
            html: String::new(),
            columns: Vec::new(),
        },
    };
    // A misspelt column: named, with the activity and the part of the message.
    let p = expect(&chain(email("{{ profile.nmae }}", Recipient::Profile)), Some("x"), "profile has no nmae");
    assert_eq!(p.parameter.as_deref(), Some("message text"));
    assert!(p.message.starts_with("{{profile.nmae}}"), "{}", p.message);
    // Enrichment columns exist only after an enrichment…
    expect(&chain(email("{{ enrichment.spent }}", Recipient::Profile)), Some("x"), "enrichment has no spent");
    let enriched = canvas(
        vec![
            build("a", "customers", gold()),
            activity(
                "e",
                K::Enrichment {
                    columns: vec![campaign_console::model::EnrichColumn {
                        alias: "spent".into(),
                        source: campaign_console::model::EnrichSource::Aggregate {
                            entity: "orders".into(),
                            function: campaign_console::model::Aggregate::Sum,
                            column: Some("amount".into()),
                            filter: Rule::everyone(),
                        },
                    }],
                },
            ),
            activity("x", email("{{ enrichment.spent | default(0) }} {{ profile.tier | upper }}", Recipient::Profile)),
        ],
        vec![wire("t1", "a", "out", "e"), wire("t2", "e", "out", "x")],
    );
    if let Err(e) = compile(&enriched) {
        panic!("refused: {e}");
    }
    // …and a secondary entity's columns only in a multi-level send.
    let per_order = |per| {
        canvas(
            vec![
                build("a", "customers", gold()),
                activity("d", K::ChangeDimension { to: "orders".into() }),
                activity("x", email("{{ orders.amount }} for {{ profile.name }}", per)),
            ],
            vec![wire("t1", "a", "out", "d"), wire("t2", "d", "out", "x")],
        )
    };
    if let Err(e) = compile(&per_order(Recipient::SecondaryEntity)) {
        panic!("refused: {e}");
    }
    expect(&per_order(Recipient::Profile), Some("x"), "unknown variable");
    // A broken template says where.
    expect(&chain(email("{% if %}", Recipient::Profile)), Some("x"), "line 1");
}

/// A wire is refused by the engine with a typed reason, worded for a marketer: to itself, onto
/// an input that is taken, into a loop, or bringing a population of another kind.
#[test]
fn a_wire_is_refused_with_a_typed_reason() {
    use campaign_console::audience::{WireProblem, WireRefusal, check_wire};
    let cv = canvas(
        vec![
            build("people", "customers", gold()),
            build("sales", "orders", Rule::everyone()),
            activity("u", K::Combine { mode: CombineMode::Union, primary: None, complement: false }),
            activity("w", K::Wait { wait: campaign_console::model::WaitFor::Duration { minutes: 1 } }),
        ],
        vec![wire("t1", "people", "out", "u"), wire("t2", "u", "out", "w")],
    );
    let options = CompileOptions::new(Dialect::Sqlite, now(), 1);
    let check = |from: &str, to: &str| check_wire(&cv, &wire("new", from, "out", to), &model(), &options);
    assert_eq!(check("w", "w"), Err(WireRefusal::ToItself { activity: "w label".into() }));
    assert!(matches!(check("people", "w"), Err(WireRefusal::InputTaken { .. })));
    assert!(matches!(check("w", "u"), Err(WireRefusal::Loop { .. })));
    let refused = check("sales", "u").unwrap_err();
    assert_eq!(
        refused,
        WireRefusal::Populations {
            target: "u label".into(),
            problem: WireProblem::MixedDimensions { first: "customers".into(), second: "orders".into() },
        }
    );
    assert!(refused.to_string().contains("different kinds (customers and orders)"), "{refused}");
    // The same wire again, or one the engine accepts, is not refused.
    assert_eq!(check("people", "u"), Ok(()));
}
