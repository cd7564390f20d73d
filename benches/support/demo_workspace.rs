//! The demo workspace the benchmarks share: BENCH_PROFILES profiles (1,000,000 unless it
//! says), generated once under target/ and reused while it holds that many.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use campaign_console::console::Console;
use campaign_console::ui::testing;

/// The number of profiles asked for, and a Console on a demo workspace that holds them.
pub fn demo_console() -> (u64, Arc<Console>) {
    let profiles: u64 = std::env::var("BENCH_PROFILES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-workspace-{profiles}"));
    let console = testing::console(&dir).unwrap();
    let have = console
        .data_overview()
        .ok()
        .and_then(|o| o.entities.into_iter().find(|e| e.entity.name == "profiles"))
        .and_then(|e| e.row_count)
        .unwrap_or(0);
    if have != profiles {
        eprintln!("generating a {profiles}-profile demo workspace in {} …", dir.display());
        let t = Instant::now();
        console.generate_demo(profiles, campaign_console::demo::DEFAULT_SEED, true, &mut |_| true).unwrap();
        eprintln!("  done in {:.1} s", t.elapsed().as_secs_f64());
    }
    (profiles, console)
}
