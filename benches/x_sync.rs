//! The follower synchronization of an X service from a local fake X
//! (tests/support/fake_x.rs, which checks every request's OAuth 1.0a signature, on two threads
//! of its own) serving pages of 1,000: the time of a first synchronization (every follower
//! new) and of a second one (every follower known, updated), with no rate-limit wait, and the
//! process's peak RSS (the fake's own list of followers included).
//!
//!     cargo bench --profile perf --bench x_sync
//!
//! BENCH_FOLLOWERS sets the number of followers (1,000,000).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

use std::time::Instant;

#[path = "../tests/support/mod.rs"]
mod support;
use support::fake_x::{self, FakeX, Followers, HANDLE};

use campaign_console::model::settings::XService;
use campaign_console::model::{Channel, ProviderSettings};
use campaign_console::ui::testing;

/// Synchronizes the followers twice (all new, then all known) and says how long each took.
fn twice(console: &campaign_console::console::Console, n: usize, what: &str) {
    for pass in ["first (all new)", "second (all known)"] {
        let started = Instant::now();
        let run = console.sync_followers(None, &mut |_| {}, &|| false).unwrap().remove(0);
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!((run.status.as_str(), run.visitors as usize), ("done", n), "{run:?}");
        println!(
            "{what}{pass}: {n} followers in {} pages: {seconds:.2} s = {:.0} visitors/s",
            run.pages,
            n as f64 / seconds
        );
    }
}

fn main() {
    let n: usize = std::env::var("BENCH_FOLLOWERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let fake = FakeX::start();
    *fake.followers.lock().unwrap() = Followers::fans(n, 1_000);
    let settings = ProviderSettings::XApi(XService {
        internal_name: HANDLE.into(),
        base_url: fake.base.clone(),
        ..XService::default()
    });
    console.add_credential_with(Channel::X, "Brand", settings, &fake_x::slots(&fake_x::keys())).unwrap();
    twice(&console, n, "");
    assert_eq!(fake.unsigned(), 0, "every request signed");
    assert_eq!(console.visitor_count(None, None).unwrap(), (n as u64, n as u64));

    // The same through the Sandbox X account (no HTTP, no JSON): what the workspace's writes take.
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console
        .add_credential_with(Channel::X, "Sandbox", ProviderSettings::Sandbox(Default::default()), &Default::default())
        .unwrap();
    console.set_sandbox_followers(n as u64).unwrap();
    twice(&console, n, "Sandbox X, ");
    println!("peak RSS {:.0} MB (the fake's {n} followers and its request log included)", support::peak_rss_mb());
}
