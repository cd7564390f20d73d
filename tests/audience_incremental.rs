//! Recounting after an edit reruns only what is downstream of it; a cancelled count reports
//! what it finished; work tables never outlive their session.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use std::cell::Cell;

use campaign_console::audience::{self, CompileOptions, CountSession, Dialect};
use campaign_console::model::{ActivityKind as K, Canvas, Limit, Op, Operand, Pick, Rule, Subset};
use support::fixture::*;

fn flow(percent: f64) -> Canvas {
    canvas(
        vec![
            build("all", "customers", Rule::everyone()),
            activity(
                "dedup",
                K::Deduplication {
                    columns: vec!["email".into()],
                    keep: 1,
                    method: campaign_console::model::DedupMethod::KeepBy { column: "joined".into(), largest: true },
                    output_removed: false,
                },
            ),
            activity(
                "split",
                K::Split {
                    subsets: vec![Subset {
                        label: "Sample".into(),
                        filter: Rule::Column { column: "score".into(), op: Op::IsNotEmpty, value: Operand::None },
                        limit: Some(Limit::Percent(percent)),
                        pick: Pick::Random { seed: 2 },
                    }],
                    complement: true,
                    skip_empty: false,
                    allow_overlap: false,
                },
            ),
            activity("end", K::End),
        ],
        vec![
            wire("t_all", "all", "out", "dedup"),
            wire("t_dedup", "dedup", "out", "split"),
            wire("t_sample", "split", "subset_1", "end"),
            wire("t_rest", "split", "complement", "end"),
        ],
    )
}

fn compiled(c: &Canvas, data_version: i64) -> audience::CompiledRun {
    audience::compile_with(c, &model(), &CompileOptions::new(Dialect::Sqlite, now(), data_version)).unwrap()
}

fn reused(r: &audience::CountReport) -> Vec<(&str, bool)> {
    r.activities.iter().map(|a| (a.activity.as_str(), a.reused)).collect()
}

#[test]
fn an_edit_recomputes_only_downstream() {
    let (_d, ws) = workspace();
    let mut session = CountSession::new(ws.connect().unwrap());
    let first = session.count(&compiled(&flow(50.0), 1), &|| false).unwrap();
    assert_eq!(reused(&first), [("all", false), ("dedup", false), ("split", false)]);

    let again = session.count(&compiled(&flow(50.0), 1), &|| false).unwrap();
    assert_eq!(reused(&again), [("all", true), ("dedup", true), ("split", true)]);
    assert_eq!(again.transitions, first.transitions);

    let edited = session.count(&compiled(&flow(25.0), 1), &|| false).unwrap();
    assert_eq!(reused(&edited), [("all", true), ("dedup", true), ("split", false)]);
    // The same counts as a fresh run of the edited canvas.
    let fresh = count(&ws, &flow(25.0));
    assert_eq!(edited.transitions, fresh.transitions);
    // 6 unique customers by email, 4 of them with a score → 25 % of 4 = 1.
    assert_eq!(edited.count_of("t_dedup"), Some(6));
    assert_eq!(edited.count_of("t_sample"), Some(1));
    assert_eq!(edited.count_of("t_rest"), Some(5));
    // The previous split's outputs were dropped; kept: two for all/dedup, the split's match
    // table and the sample's ranking (filters and pick did not change, so both were reused),
    // and the split's two new outputs.
    assert_eq!(session.table_count(), 6);

    // New data: nothing is reused.
    let newer = session.count(&compiled(&flow(25.0), 2), &|| false).unwrap();
    assert_eq!(reused(&newer), [("all", false), ("dedup", false), ("split", false)]);
}

#[test]
fn a_cancelled_count_reports_what_it_finished_and_resumes() {
    let (_d, ws) = workspace();
    let run = compiled(&flow(50.0), 1);
    let mut session = CountSession::new(ws.connect().unwrap());
    // Allow the first step's statements (create + insert), then cancel.
    let checks = Cell::new(0);
    let report = session
        .count(&run, &|| {
            checks.set(checks.get() + 1);
            checks.get() > 2
        })
        .unwrap();
    assert!(!report.complete);
    assert_eq!(reused(&report), [("all", false)]);
    assert_eq!(report.count_of("t_all"), Some(7));
    assert_eq!(report.count_of("t_dedup"), None);
    assert_eq!(report.count_of("t_sample"), None);
    assert_eq!(session.table_count(), 1, "the half-done step left no table behind");

    let resumed = session.count(&run, &|| false).unwrap();
    assert!(resumed.complete);
    assert_eq!(reused(&resumed), [("all", true), ("dedup", false), ("split", false)]);
    assert_eq!(resumed.count_of("t_sample").unwrap() + resumed.count_of("t_rest").unwrap(), 6);
}

#[test]
fn an_interrupt_stops_a_running_statement() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let console = campaign_console::ui::testing::console(dir.path()).unwrap();
    console.generate_demo(20_000, 3, false, &mut |_| true).unwrap();
    let (_, _, run) = console.compile_campaign("Summer getaway", Dialect::Sqlite).unwrap();
    let mut session = CountSession::new(rusqlite::Connection::open(console.database_path()).unwrap());
    let handle = session.interrupt_handle();
    let done = Arc::new(AtomicBool::new(false));
    let hammer = {
        let done = Arc::clone(&done);
        std::thread::Builder::new()
            .name("interrupter".into())
            .spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    handle.interrupt();
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            })
            .unwrap()
    };
    // Only the interrupt can stop it: the callback never says "cancelled".
    let report = session.count(&run, &|| false);
    done.store(true, Ordering::SeqCst);
    hammer.join().unwrap();
    let report = report.unwrap();
    assert!(!report.complete, "the count ran to its end despite the interrupts");
    // The session is still usable afterwards and finishes the job.
    let again = session.count(&run, &|| false).unwrap();
    assert!(again.complete);
    assert!(again.count_of("t_email").unwrap() > 0);
}

#[test]
fn a_new_limit_remakes_the_subset_from_the_last_one() {
    let dir = tempfile::tempdir().unwrap();
    let console = campaign_console::ui::testing::console(dir.path()).unwrap();
    console.generate_demo(3_000, 3, false, &mut |_| true).unwrap();
    let (_, canvas, _) = console.compile_campaign("Summer getaway", Dialect::Sqlite).unwrap();
    let conn = rusqlite::Connection::open(console.database_path()).unwrap();
    let model = campaign_console::store::data_model::load(&conn).unwrap();
    let version = campaign_console::store::customer_data::data_version(&conn).unwrap();
    let mut options = CompileOptions::new(Dialect::Sqlite, campaign_console::ui::testing::fixed_now(), version);
    options.kept_facts = true;
    let with_sample = |limit: Limit| {
        let mut c = canvas.clone();
        for a in &mut c.activities {
            if let K::Split { subsets, .. } = &mut a.kind {
                subsets[2].limit = Some(limit);
            }
        }
        audience::compile_with(&c, &model, &options).unwrap()
    };
    let rows = |s: &CountSession, r: &audience::CountReport| -> Vec<_> {
        r.transitions.iter().filter(|t| t.count.is_some()).map(|t| s.rows(&t.transition, 10_000).unwrap()).collect()
    };
    let mut session = CountSession::new(rusqlite::Connection::open(console.database_path()).unwrap());
    session.count(&with_sample(Limit::Percent(20.0)), &|| false).unwrap();
    // Larger, smaller, a number, more than there are, all, and back.
    for limit in [
        Limit::Percent(25.0),
        Limit::Percent(10.0),
        Limit::Count(100),
        Limit::Count(100_000),
        Limit::Percent(100.0),
        Limit::Percent(20.0),
    ] {
        let run = with_sample(limit);
        let recounted = session.count(&run, &|| false).unwrap();
        let split = recounted.activities.iter().find(|a| a.activity == "split").unwrap();
        assert!(split.sql.iter().any(|s| s.starts_with("ALTER TABLE")), "{limit:?}: not remade: {:#?}", split.sql);
        // The same rows, counts and sends as a count from nothing.
        let mut fresh_session = CountSession::new(rusqlite::Connection::open(console.database_path()).unwrap());
        let fresh = fresh_session.count(&run, &|| false).unwrap();
        assert_eq!(recounted.transitions, fresh.transitions, "{limit:?}");
        assert_eq!(recounted.sends, fresh.sends, "{limit:?}");
        assert_eq!(rows(&session, &recounted), rows(&fresh_session, &fresh), "{limit:?}");
    }
}
