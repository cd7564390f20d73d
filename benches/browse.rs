//! The row browser at scale: how long a page of profiles takes to come back on a demo
//! workspace (1,000,000 profiles unless BENCH_PROFILES says otherwise, generated once under
//! target/ and shared with the `audience` and `reopen` benches). Median of 7 runs each: the
//! first page; a page 90 % of the way down read by keyset (after the page before it) and
//! jumped to by offset; the count of every row; a search (count and first page); a sort on a
//! column with no index (first page, next page); a filter with a linked condition (count); one
//! row's detail. Then the same on the visitors (BENCH_VISITORS followers of the Sandbox X
//! account, 1,000,000 unless it says, synchronized once into the same workspace): the first
//! page, a jump to the middle, a sort by followers, a search as typed.
//!
//!     cargo bench --profile perf --bench browse

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

#[path = "support/demo_workspace.rs"]
mod demo_workspace;

use std::time::{Duration, Instant};

use campaign_console::model::browse::{BrowseQuery, PageStart, Sort};
use campaign_console::model::{LinkedCondition, Op, Operand, Rule};

fn median(mut f: impl FnMut()) -> Duration {
    let mut runs: Vec<Duration> = (0..7)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    runs.sort();
    runs[runs.len() / 2]
}

fn report(what: &str, d: Duration) {
    println!("{what:<48} {:>9.1} ms", d.as_secs_f64() * 1e3);
}

fn main() {
    let (profiles, console) = demo_workspace::demo_console();
    println!("profiles {profiles}");
    let all = BrowseQuery::new("profiles");
    let deep = profiles * 9 / 10;
    report("first page (200 rows, by key)", median(|| drop(console.browse_page(&all, &PageStart::Offset(0)))));
    report(
        &format!("jump to row {deep} (offset)"),
        median(|| drop(console.browse_page(&all, &PageStart::Offset(deep)))),
    );
    let cursor = console.browse_page(&all, &PageStart::Offset(deep)).unwrap().next.unwrap();
    report("the page after it (keyset)", median(|| drop(console.browse_page(&all, &PageStart::After(cursor.clone())))));
    report("count of every row", median(|| drop(console.browse_count(&all))));

    let mut search = BrowseQuery::new("profiles");
    search.search = "müller".into();
    let found = console.browse_count(&search).unwrap();
    report(&format!("search \u{201c}müller\u{201d}: count ({found})"), median(|| drop(console.browse_count(&search))));
    report("search: first page", median(|| drop(console.browse_page(&search, &PageStart::Offset(0)))));

    let mut by_city = BrowseQuery::new("profiles");
    by_city.sort = Some(Sort { column: "city".into(), descending: true });
    report(
        "sort by city (no index): first page",
        median(|| drop(console.browse_page(&by_city, &PageStart::Offset(0)))),
    );
    let next = console.browse_page(&by_city, &PageStart::Offset(0)).unwrap().next.unwrap();
    report(
        "sort by city: next page (keyset)",
        median(|| drop(console.browse_page(&by_city, &PageStart::After(next.clone())))),
    );

    let mut filter = BrowseQuery::new("profiles");
    filter.filter = Rule::All {
        rules: vec![
            Rule::Column { column: "country".into(), op: Op::Eq, value: Operand::Text("FR".into()) },
            Rule::Linked {
                entity: "bookings".into(),
                condition: LinkedCondition::Exists { rule: Box::new(Rule::everyone()) },
            },
        ],
    };
    let n = console.browse_count(&filter).unwrap();
    report(&format!("filter FR with a booking: count ({n})"), median(|| drop(console.browse_count(&filter))));
    report("filter: first page", median(|| drop(console.browse_page(&filter, &PageStart::Offset(0)))));
    report("a profile's detail (linked rows, messages)", median(|| drop(console.row_detail("profiles", 4242))));

    let visitors: u64 = std::env::var("BENCH_VISITORS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    // Synchronized each time (a workspace of an earlier version gets its indexes).
    eprintln!("synchronizing {visitors} followers of the Sandbox X account …");
    console.set_sandbox_followers(visitors).unwrap();
    console.sync_followers(Some("Sandbox"), &mut |_| {}, &|| false).unwrap();
    println!("visitors {visitors}");
    let all = BrowseQuery::new("visitors");
    report("visitors: first page", median(|| drop(console.browse_page(&all, &PageStart::Offset(0)))));
    let middle = visitors / 2;
    report(
        &format!("visitors: jump to row {middle} (offset)"),
        median(|| drop(console.browse_page(&all, &PageStart::Offset(middle)))),
    );
    let mut by_followers = BrowseQuery::new("visitors");
    by_followers.sort = Some(Sort { column: "followers".into(), descending: true });
    report(
        "visitors: sort by followers, first page",
        median(|| drop(console.browse_page(&by_followers, &PageStart::Offset(0)))),
    );
    let mut search = BrowseQuery::new("visitors");
    search.search_by_prefix = campaign_console::console::VISITOR_SEARCH.map(str::to_owned).to_vec();
    for typed in ["e", "emma_4", "emma_42"] {
        search.search = typed.into();
        let found = console.browse_count(&search).unwrap();
        report(
            &format!("visitors: search \u{201c}{typed}\u{201d}: count ({found})"),
            median(|| drop(console.browse_count(&search))),
        );
        report("visitors: search: first page", median(|| drop(console.browse_page(&search, &PageStart::Offset(0)))));
    }
}
