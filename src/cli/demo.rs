//! `campaign-console demo`: writes the demo data into the workspace.

use super::count_parser;
use anyhow::Context as _;
use campaign_console::console::Console;
use campaign_console::demo;
use std::io::Write as _;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// How many profiles to generate.
    #[arg(long, allow_negative_numbers = true, default_value_t = 10_000, value_parser = count_parser(1, demo::MAX_PROFILES))]
    profiles: u64,
    /// The random seed: the same seed gives the same data.
    #[arg(long, allow_negative_numbers = true, default_value_t = demo::DEFAULT_SEED)]
    seed: u64,
    /// Replace the demo tables and campaigns of a workspace that already has some.
    #[arg(long)]
    replace: bool,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args { profiles, seed, replace } = args;
    let started = Instant::now();
    let mut last = -1;
    let mut progress = |f: f32| {
        let pct = (f * 100.0) as i32;
        if pct != last {
            last = pct;
            eprint!("\rgenerating demo data: {pct:3}%");
            let _ = std::io::stderr().flush();
        }
        true
    };
    let summary = console.generate_demo(profiles, seed, replace, &mut progress);
    eprintln!();
    let summary = summary.context("the demo data was not generated")?;
    say!(
        "Demo workspace written to {} in {:.1} s:\n  {} profiles, {} addresses, {} hotels, {} bookings, {} subscriptions, {} events ({} rows)",
        console.workspace_dir().display(),
        started.elapsed().as_secs_f64(),
        summary.profiles,
        summary.addresses,
        summary.hotels,
        summary.bookings,
        summary.subscriptions,
        summary.events,
        summary.total_rows(),
    );
    Ok(())
}
