//! Condition values containing quotes, `;`, `--`, NUL, LIKE wildcards and SQL keywords are
//! matched literally: they are bound parameters, never SQL.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use campaign_console::model::{Op, Operand, Rule};
use support::fixture::*;

fn name(op: Op, s: &str) -> Rule {
    Rule::Column { column: "name".into(), op, value: Operand::Text(s.into()) }
}

#[test]
fn hostile_values_are_counted_literally() {
    let (_d, ws) = workspace();
    let k = |rule| audience_keys(&ws, "customers", rule);
    assert_eq!(k(name(Op::Eq, NASTY_NAME)), [6]);
    assert_eq!(k(name(Op::Contains, "\"; drop table")), [6]);
    assert_eq!(k(name(Op::StartsWith, "o'hara")), [6]);
    assert_eq!(k(name(Op::Eq, "nul\0byte")), [7]);
    assert_eq!(k(name(Op::Eq, "nul")), Vec::<i64>::new(), "NUL is not a terminator");
    assert_eq!(k(name(Op::Eq, "' OR '1'='1")), Vec::<i64>::new());
    assert_eq!(k(name(Op::Eq, "Ann' --")), Vec::<i64>::new());
    assert_eq!(k(name(Op::Contains, "%")), Vec::<i64>::new(), "% is not a wildcard here");
    assert_eq!(k(name(Op::Contains, "_")), Vec::<i64>::new(), "_ is not a wildcard here");
    assert_eq!(k(name(Op::Contains, "\\")), Vec::<i64>::new());
}

#[test]
fn the_tables_survive_and_no_value_is_spliced_into_the_sql() {
    let (_d, ws) = workspace();
    let c = canvas(vec![build("a", "customers", name(Op::Eq, NASTY_NAME))], vec![]);
    let run = compile(&c).unwrap();
    for step in &run.steps {
        for s in &step.statements {
            assert!(!s.sql.contains("DROP TABLE customers"), "value spliced into: {}", s.sql);
        }
    }
    let report = count(&ws, &c);
    assert_eq!(report.activities.len(), 1);
    let n: i64 = ws.conn().query_row("SELECT COUNT(*) FROM customers", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 7);
}
