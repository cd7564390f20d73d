//! Golden tests of the Split on the small hand-made dataset of `support::fixture`, where the
//! right answer is known by hand: exclusive and overlapping subsets, limits by score and by
//! seeded hash, the complement, and a union of a split's outputs.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use campaign_console::audience::mix;
use campaign_console::model::{ActivityKind as K, CombineMode, Limit, Op, Operand, Pick, Rule, Subset};
use rusqlite::types::Value as V;
use support::fixture::*;

fn c(column: &str, op: Op, value: Operand) -> Rule {
    Rule::Column { column: column.into(), op, value }
}

fn text(s: &str) -> Operand {
    Operand::Text(s.into())
}

fn split(kind: K) -> campaign_console::model::Canvas {
    let mut transitions = vec![wire("t_all", "all", "out", "split")];
    for o in campaign_console::audience::outputs(&kind) {
        transitions.push(wire(&format!("t_{o}"), "split", &o, "end"));
    }
    canvas(
        vec![build("all", "customers", Rule::everyone()), activity("split", kind), activity("end", K::End)],
        transitions,
    )
}

fn subset(label: &str, filter: Rule, limit: Option<Limit>, pick: Pick) -> Subset {
    Subset { label: label.into(), filter, limit, pick }
}

#[test]
fn split_exclusive_overlapping_limited_and_complement() {
    let (_d, ws) = workspace();
    let gold = || c("tier", Op::Eq, text("gold"));
    let vip = || c("vip", Op::IsTrue, Operand::None);
    let subsets = vec![subset("Gold", gold(), None, Pick::default()), subset("VIP", vip(), None, Pick::default())];
    let exclusive =
        split(K::Split { subsets: subsets.clone(), complement: true, skip_empty: false, allow_overlap: false });
    assert_eq!(
        keys(&ws, &exclusive, &["t_subset_1", "t_subset_2", "t_complement"]),
        [vec![1, 4], vec![3, 6], vec![2, 5, 7]]
    );
    let overlapping = split(K::Split { subsets, complement: true, skip_empty: false, allow_overlap: true });
    assert_eq!(
        keys(&ws, &overlapping, &["t_subset_1", "t_subset_2", "t_complement"]),
        [vec![1, 4], vec![1, 3, 6], vec![2, 5, 7]]
    );

    // The two highest scores (empty scores last).
    let top = split(K::Split {
        subsets: vec![subset(
            "Top",
            Rule::everyone(),
            Some(Limit::Count(2)),
            Pick::Sorted { column: "score".into(), descending: true },
        )],
        complement: true,
        skip_empty: false,
        allow_overlap: false,
    });
    assert_eq!(keys(&ws, &top, &["t_subset_1", "t_complement"]), [vec![2, 5], vec![1, 3, 4, 6, 7]]);

    // Scores: 5 → 30, 2 → 20, 1 → 10, 4 → 5, 6 → 1, 3 and 7 empty.
    let by_score = || Pick::Sorted { column: "score".into(), descending: true };
    let top_two = |label: &str| subset(label, Rule::everyone(), Some(Limit::Count(2)), by_score());
    // A limited subset after a limited one: the second takes the next two.
    let twice = |allow_overlap| {
        split(K::Split {
            subsets: vec![top_two("First"), top_two("Second")],
            complement: true,
            skip_empty: false,
            allow_overlap,
        })
    };
    let expect = [vec![2, 5], vec![1, 4], vec![3, 6, 7]];
    assert_eq!(keys(&ws, &twice(false), &["t_subset_1", "t_subset_2", "t_complement"]), expect);
    let expect = [vec![2, 5], vec![2, 5], vec![1, 3, 4, 6, 7]];
    assert_eq!(keys(&ws, &twice(true), &["t_subset_1", "t_subset_2", "t_complement"]), expect);
    // A limited subset after an unlimited one ranks only what the first left.
    let after_gold = split(K::Split {
        subsets: vec![subset("Gold", gold(), None, Pick::default()), top_two("Best of the rest")],
        complement: true,
        skip_empty: false,
        allow_overlap: false,
    });
    let expect = [vec![1, 4], vec![2, 5], vec![3, 6, 7]];
    assert_eq!(keys(&ws, &after_gold, &["t_subset_1", "t_subset_2", "t_complement"]), expect);

    // 50 % of 7 rows, by seeded hash: the first 3 in (mix, key) order.
    let half = split(K::Split {
        subsets: vec![subset("Half", Rule::everyone(), Some(Limit::Percent(50.0)), Pick::Random { seed: 11 })],
        complement: false,
        skip_empty: false,
        allow_overlap: false,
    });
    let mut order: Vec<i64> = (1..=7).collect();
    order.sort_by_key(|k| (mix(*k, 11), *k));
    let mut expected = order[..3].to_vec();
    expected.sort_unstable();
    assert_eq!(keys(&ws, &half, &["t_subset_1"]), [expected.clone()]);
    // The same seed picks the same rows every time.
    assert_eq!(keys(&ws, &half, &["t_subset_1"]), [expected]);
    // Labels become the segment code.
    let run = compile(&half).unwrap();
    let mut tables = campaign_console::audience::CountSession::new(ws.connect().unwrap());
    tables.count(&run, &|| false).unwrap();
    let (_, rows) = tables.rows("t_subset_1", 10).unwrap();
    assert!(rows.iter().all(|r| r[1] == V::Text("Half".into())));
}

#[test]
fn a_union_of_a_splits_outputs_holds_each_row_once() {
    let (_d, ws) = workspace();
    let union_of_split = |allow_overlap, outputs: &[&str]| {
        let subsets = vec![
            subset("Gold", c("tier", Op::Eq, text("gold")), None, Pick::default()),
            subset("VIP", c("vip", Op::IsTrue, Operand::None), None, Pick::default()),
        ];
        let mut transitions = vec![wire("t_all", "all", "out", "split"), wire("t_out", "union", "out", "end")];
        for o in outputs {
            transitions.push(wire(&format!("t_{o}"), "split", o, "union"));
        }
        canvas(
            vec![
                build("all", "customers", Rule::everyone()),
                activity("split", K::Split { subsets, complement: true, skip_empty: false, allow_overlap }),
                activity("union", K::Combine { mode: CombineMode::Union, primary: None, complement: false }),
                activity("end", K::End),
            ],
            transitions,
        )
    };
    // Outputs of a split without overlap share no row (concatenated): every row, once.
    let all = union_of_split(false, &["subset_1", "subset_2", "complement"]);
    assert_eq!(keys(&ws, &all, &["t_out"]), [vec![1, 2, 3, 4, 5, 6, 7]]);
    assert!(compile(&all).unwrap().steps.iter().any(|s| s.statements.iter().any(|q| q.sql.contains("UNION ALL"))));
    // With overlap, customer 1 is gold and VIP: merged, not repeated.
    let overlapping = union_of_split(true, &["subset_1", "subset_2"]);
    assert_eq!(keys(&ws, &overlapping, &["t_out"]), [vec![1, 3, 4, 6]]);
    assert!(
        compile(&overlapping).unwrap().steps.iter().all(|s| s.statements.iter().all(|q| !q.sql.contains("UNION ALL")))
    );
}
