//! `campaign-console scheduler`: launches the published campaigns and the started technical
//! workflows at their times.

use super::local;
use campaign_console::console::Console;

#[derive(clap::Args)]
pub struct Args {
    /// Launch what is due now, then exit (for cron or a systemd timer).
    #[arg(long)]
    once: bool,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args { once } = args;
    let holder = format!("scheduler-{}-{}", std::process::id(), uuid::Uuid::new_v4());
    if !once {
        eprintln!("Launching scheduled campaigns at their times; Ctrl+C stops.");
    }
    loop {
        for r in console.launch_all_due(&holder, &|| false)? {
            let missed = if r.missed > 0 { format!(", {} missed launches caught up", r.missed) } else { String::new() };
            say!(
                "{} launched \u{201c}{}\u{201d} (due {}{missed}): {}{}",
                local(console.now()),
                r.campaign,
                local(r.scheduled_for),
                if r.failed { "failed: " } else { "" },
                r.outcome
            );
        }
        if once {
            return Ok(());
        }
        std::thread::sleep(campaign_console::console::SCHEDULER_TICK);
    }
}
