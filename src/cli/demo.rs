//! `campaign-console demo`: writes the demo data into the workspace.

use super::count_parser;
use anyhow::Context as _;
use campaign_console::channels::x;
use campaign_console::console::Console;
use campaign_console::demo;
use std::io::Write as _;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// How many profiles to generate (10,000 unless given).
    #[arg(long, allow_negative_numbers = true, value_parser = count_parser(1, demo::MAX_PROFILES))]
    profiles: Option<u64>,
    /// How many followers the Sandbox X account has (5,000 unless given): the follower
    /// synchronization brings them in as visitors. On a workspace that already holds the demo,
    /// only this changes.
    #[arg(long, allow_negative_numbers = true, value_parser = count_parser(0, x::sandbox::MAX_FOLLOWERS))]
    visitors: Option<u64>,
    /// The random seed: the same seed gives the same data.
    #[arg(long, allow_negative_numbers = true, default_value_t = demo::DEFAULT_SEED)]
    seed: u64,
    /// Replace the demo tables and campaigns of a workspace that already has some.
    #[arg(long)]
    replace: bool,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args { profiles, visitors, seed, replace } = args;
    if let (Some(n), None, false) = (visitors, profiles, replace)
        && console.has_demo()?
    {
        let service = console.set_sandbox_followers(n)?;
        say!(
            "The Sandbox X account now has {n} followers: bring them in as visitors with \
             `campaign-console x sync {service}` (or Visitors \u{2192} Synchronize now)."
        );
        return Ok(());
    }
    let profiles = profiles.unwrap_or(demo::FIRST_START_PROFILES);
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
    let followers = match visitors {
        Some(n) => {
            console.set_sandbox_followers(n)?;
            n
        }
        None => demo::DEFAULT_VISITORS,
    };
    say!(
        "  the Sandbox X account has {followers} followers: `campaign-console x sync Sandbox` brings them in as visitors"
    );
    Ok(())
}
