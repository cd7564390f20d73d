//! Property: random rule trees over the demo data count exactly what a naive evaluation of
//! the same rule over all rows loaded in memory counts (with SQL's three-valued logic: an
//! unknown comparison is neither true nor false).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use std::sync::OnceLock;

use campaign_console::audience::{self, CompileOptions, Dialect};
use campaign_console::model::{Aggregate, Canvas, LinkedCondition, Op, Operand, PeriodUnit, Rule};
use campaign_console::ui::testing;
use proptest::prelude::*;

struct Profile {
    id: i64,
    tier: Option<String>,
    country: Option<String>,
    phone: Option<String>,
    email_opt_in: Option<i64>,
    birth_date: Option<String>,
    created_at: Option<String>,
}

struct Booking {
    profile_id: i64,
    status: Option<String>,
    amount: Option<f64>,
}

struct Data {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    profiles: Vec<Profile>,
    bookings: Vec<Booking>,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let console = testing::console(dir.path()).unwrap();
        console.generate_demo(400, 21, false, &mut |_| true).unwrap();
        let db = console.database_path();
        let conn = rusqlite::Connection::open(&db).unwrap();
        let profiles = conn
            .prepare("SELECT id, loyalty_tier, country, phone, email_opt_in, birth_date, created_at FROM profiles")
            .unwrap()
            .query_map([], |r| {
                Ok(Profile {
                    id: r.get(0)?,
                    tier: r.get(1)?,
                    country: r.get(2)?,
                    phone: r.get(3)?,
                    email_opt_in: r.get(4)?,
                    birth_date: r.get(5)?,
                    created_at: r.get(6)?,
                })
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let bookings = conn
            .prepare("SELECT profile_id, status, amount FROM bookings")
            .unwrap()
            .query_map([], |r| Ok(Booking { profile_id: r.get(0)?, status: r.get(1)?, amount: r.get(2)? }))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        Data { _dir: dir, db, profiles, bookings }
    })
}

fn col(column: &str, op: Op, value: Operand) -> Rule {
    Rule::Column { column: column.into(), op, value }
}

fn text(s: &str) -> Operand {
    Operand::Text(s.into())
}

fn profile_leaf() -> impl Strategy<Value = Rule> {
    let tiers = prop::sample::select(vec!["none", "silver", "gold", "platinum", "diamond"]);
    let countries = prop::sample::select(vec!["FR", "DE", "US", "KR", "XX"]);
    prop_oneof![
        (tiers.clone(), prop::sample::select(vec![Op::Eq, Op::Ne])).prop_map(|(t, op)| col(
            "loyalty_tier",
            op,
            text(t)
        )),
        prop::collection::vec(tiers.clone(), 1..3).prop_map(|ts| col(
            "loyalty_tier",
            Op::In,
            Operand::List(ts.into_iter().map(text).collect())
        )),
        prop::collection::vec(countries.clone(), 1..3).prop_map(|cs| col(
            "country",
            Op::NotIn,
            Operand::List(cs.into_iter().map(text).collect())
        )),
        prop::sample::select(vec!["ol", "L", "pla", "x"]).prop_map(|s| col("loyalty_tier", Op::Contains, text(s))),
        prop::sample::select(vec!["g", "S", "n"]).prop_map(|s| col("loyalty_tier", Op::StartsWith, text(s))),
        prop::sample::select(vec![Op::IsEmpty, Op::IsNotEmpty]).prop_map(|op| col("phone", op, Operand::None)),
        prop::sample::select(vec![Op::IsTrue, Op::IsFalse]).prop_map(|op| col("email_opt_in", op, Operand::None)),
        (1950i16..2008, prop::sample::select(vec![Op::Before, Op::After])).prop_map(|(y, op)| col(
            "birth_date",
            op,
            Operand::Date(format!("{y}-06-15"))
        )),
        (1i64..1500).prop_map(|n| col("created_at", Op::InLast, Operand::Period { amount: n, unit: PeriodUnit::Days })),
        booking_condition(),
    ]
}

fn booking_filter() -> impl Strategy<Value = Rule> {
    prop_oneof![
        Just(Rule::everyone()),
        prop::sample::select(vec!["completed", "cancelled", "confirmed", "no_show"]).prop_map(|s| col(
            "status",
            Op::Eq,
            text(s)
        )),
        (0i64..30).prop_map(|n| col("amount", Op::Gt, Operand::Real(n as f64 * 100.0 + 0.5))),
    ]
}

fn booking_condition() -> impl Strategy<Value = Rule> {
    let linked = |condition| Rule::Linked { entity: "bookings".into(), condition };
    prop_oneof![
        booking_filter().prop_map(move |r| linked(LinkedCondition::Exists { rule: Box::new(r) })),
        booking_filter().prop_map(move |r| linked(LinkedCondition::NotExists { rule: Box::new(r) })),
        (booking_filter(), 0i64..5).prop_map(move |(r, n)| linked(LinkedCondition::Aggregate {
            function: Aggregate::Count,
            column: None,
            filter: Box::new(r),
            op: Op::Ge,
            value: Operand::Int(n),
        })),
        (booking_filter(), 0i64..40).prop_map(move |(r, n)| linked(LinkedCondition::Aggregate {
            function: Aggregate::Sum,
            column: Some("amount".into()),
            filter: Box::new(r),
            op: Op::Gt,
            value: Operand::Real(n as f64 * 100.0 + 0.5),
        })),
    ]
}

fn rule_tree() -> impl Strategy<Value = Rule> {
    profile_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|rules| Rule::All { rules }),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|rules| Rule::Any { rules }),
            inner.prop_map(|r| Rule::Not { rule: Box::new(r) }),
        ]
    })
}

// ---- The naive evaluation. ----

type Truth = Option<bool>;

fn and(values: impl Iterator<Item = Truth>) -> Truth {
    let mut unknown = false;
    for v in values {
        match v {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    if unknown { None } else { Some(true) }
}

fn or(values: impl Iterator<Item = Truth>) -> Truth {
    let mut unknown = false;
    for v in values {
        match v {
            Some(true) => return Some(true),
            None => unknown = true,
            Some(false) => {}
        }
    }
    if unknown { None } else { Some(false) }
}

fn text_of(o: &Operand) -> &str {
    match o {
        Operand::Text(s) | Operand::Date(s) => s,
        _ => panic!("not text: {o:?}"),
    }
}

fn compare_text(v: Option<&str>, op: Op, value: &Operand) -> Truth {
    match op {
        Op::IsEmpty => return Some(v.is_none_or(str::is_empty)),
        Op::IsNotEmpty => return Some(!v.is_none_or(str::is_empty)),
        _ => {}
    }
    let v = v?;
    Some(match op {
        Op::Eq => v == text_of(value),
        Op::Ne => v != text_of(value),
        Op::Before => v < text_of(value),
        Op::After => v > text_of(value),
        Op::In | Op::NotIn => {
            let Operand::List(items) = value else { panic!() };
            items.iter().any(|i| text_of(i) == v) == (op == Op::In)
        }
        Op::Contains => v.to_ascii_lowercase().contains(&text_of(value).to_ascii_lowercase()),
        Op::StartsWith => v.to_ascii_lowercase().starts_with(&text_of(value).to_ascii_lowercase()),
        other => panic!("not generated for text: {other:?}"),
    })
}

fn eval_booking(rule: &Rule, b: &Booking) -> Truth {
    match rule {
        Rule::All { rules } => and(rules.iter().map(|r| eval_booking(r, b))),
        Rule::Column { column, op, value } if column == "status" => compare_text(b.status.as_deref(), *op, value),
        Rule::Column { column, value: Operand::Real(x), .. } if column == "amount" => Some(b.amount? > *x),
        other => panic!("not generated for bookings: {other:?}"),
    }
}

fn eval(rule: &Rule, p: &Profile, bookings: &[&Booking], since: &str) -> Truth {
    match rule {
        Rule::All { rules } => and(rules.iter().map(|r| eval(r, p, bookings, since))),
        Rule::Any { rules } => or(rules.iter().map(|r| eval(r, p, bookings, since))),
        Rule::Not { rule } => eval(rule, p, bookings, since).map(|b| !b),
        Rule::Column { column, op, value } => match column.as_str() {
            "loyalty_tier" => compare_text(p.tier.as_deref(), *op, value),
            "country" => compare_text(p.country.as_deref(), *op, value),
            "phone" => compare_text(p.phone.as_deref(), *op, value),
            "birth_date" => compare_text(p.birth_date.as_deref(), *op, value),
            "email_opt_in" => Some((p.email_opt_in? == 1) == (*op == Op::IsTrue)),
            "created_at" => {
                let c = p.created_at.as_deref()?;
                Some(c >= since && c <= "2026-05-28T20:26:40Z")
            }
            other => panic!("not generated: {other}"),
        },
        Rule::Linked { condition, .. } => {
            let matching = |r: &Rule| bookings.iter().filter(|b| eval_booking(r, b) == Some(true)).collect::<Vec<_>>();
            match condition {
                LinkedCondition::Exists { rule } => Some(!matching(rule).is_empty()),
                LinkedCondition::NotExists { rule } => Some(matching(rule).is_empty()),
                LinkedCondition::Aggregate { function: Aggregate::Count, filter, value: Operand::Int(n), .. } => {
                    Some(matching(filter).len() as i64 >= *n)
                }
                LinkedCondition::Aggregate { function: Aggregate::Sum, filter, value: Operand::Real(x), .. } => {
                    Some(matching(filter).iter().filter_map(|b| b.amount).sum::<f64>() > *x)
                }
                other => panic!("not generated: {other:?}"),
            }
        }
    }
}

fn engine_count(rule: &Rule) -> u64 {
    let d = data();
    let canvas = Canvas {
        version: campaign_console::model::CANVAS_VERSION,
        activities: vec![campaign_console::model::Activity {
            id: "a".into(),
            label: "A".into(),
            kind: campaign_console::model::ActivityKind::BuildAudience {
                dimension: "profiles".into(),
                rule: rule.clone(),
                emit_when_empty: false,
            },
            position: [0.0, 0.0],
        }],
        transitions: vec![],
    };
    let count = |found: bool| {
        let conn = campaign_console::store::open_connection(&d.db).unwrap();
        let model = campaign_console::store::data_model::load(&conn).unwrap();
        let data_version = campaign_console::store::customer_data::data_version(&conn).unwrap();
        let mut options = CompileOptions::new(Dialect::Sqlite, testing::fixed_now(), data_version);
        if found {
            // What the data guarantees, as the app finds it (its instants are UTC text to the
            // second: compared as stored), and the linked conditions read from facts kept in
            // the workspace.
            campaign_console::store::column_facts::find_for(&conn, &canvas, &model, &mut options).unwrap();
            options.kept_facts = true;
        }
        let run = audience::compile_with(&canvas, &model, &options).unwrap_or_else(|e| panic!("{e}"));
        let mut session = audience::CountSession::new(conn);
        session.count(&run, &|| false).unwrap();
        session.rows_count(&run.tables[0])
    };
    let plain = count(false);
    assert_eq!(count(true), plain, "the count differs with the data's facts known: {rule:?}");
    plain
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_rules_count_like_a_naive_evaluation(rule in rule_tree()) {
        let d = data();
        let since_for = |rule: &Rule| -> String {
            fn find(r: &Rule) -> Option<i64> {
                match r {
                    Rule::Column { column, value: Operand::Period { amount, .. }, .. } if column == "created_at" => Some(*amount),
                    Rule::All { rules } | Rule::Any { rules } => rules.iter().find_map(find),
                    Rule::Not { rule } => find(rule),
                    _ => None,
                }
            }
            let n = find(rule).unwrap_or(1);
            let t = testing::fixed_now().to_zoned(jiff::tz::TimeZone::UTC).checked_sub(jiff::Span::new().days(n)).unwrap();
            t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
        };
        // Every "in the last" leaf of one tree must use the same N for the single `since`.
        let mut rule = rule;
        unify_periods(&mut rule);
        let since = since_for(&rule);
        let mut by_profile: std::collections::HashMap<i64, Vec<&Booking>> = std::collections::HashMap::new();
        for b in &d.bookings {
            by_profile.entry(b.profile_id).or_default().push(b);
        }
        let empty = Vec::new();
        let naive = d
            .profiles
            .iter()
            .filter(|p| eval(&rule, p, by_profile.get(&p.id).unwrap_or(&empty), &since) == Some(true))
            .count() as u64;
        prop_assert_eq!(engine_count(&rule), naive, "rule: {:?}", rule);
    }
}

/// Gives every "created in the last N days" leaf the first such leaf's N.
fn unify_periods(rule: &mut Rule) {
    fn first(r: &Rule) -> Option<i64> {
        match r {
            Rule::Column { value: Operand::Period { amount, .. }, .. } => Some(*amount),
            Rule::All { rules } | Rule::Any { rules } => rules.iter().find_map(first),
            Rule::Not { rule } => first(rule),
            _ => None,
        }
    }
    fn set(r: &mut Rule, n: i64) {
        match r {
            Rule::Column { value: Operand::Period { amount, .. }, .. } => *amount = n,
            Rule::All { rules } | Rule::Any { rules } => rules.iter_mut().for_each(|r| set(r, n)),
            Rule::Not { rule } => set(rule, n),
            _ => {}
        }
    }
    if let Some(n) = first(rule) {
        set(rule, n);
    }
}
