//! `campaign-console run`: runs a campaign headless.

use super::print_deliveries;
use campaign_console::console::Console;
use campaign_console::model;

#[derive(clap::Args)]
pub struct Args {
    /// The campaign's name or id.
    campaign: String,
    /// Run a campaign that already ran once more (a new send to everyone).
    #[arg(long)]
    again: bool,
    /// At most this many messages per second (overrides the credential's limit).
    #[arg(long, allow_negative_numbers = true)]
    rate: Option<f64>,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args { campaign, again, rate } = args;
    if let Some(r) = rate
        && !(r.is_finite() && r > 0.0)
    {
        anyhow::bail!("--rate must be a number of messages per second above 0");
    }
    let mut last_line = std::time::Instant::now() - std::time::Duration::from_secs(1);
    let mut progress = |c: &model::Campaign, p: &campaign_console::delivery::Progress| {
        if last_line.elapsed() >= std::time::Duration::from_millis(500) || p.remaining == 0 {
            last_line = std::time::Instant::now();
            eprintln!(
                "{} · delivery {}: {:>5.1} %  sent {}  failed {}  excluded {}  remaining {}",
                c.name,
                p.delivery,
                p.fraction() * 100.0,
                p.sent,
                p.failed,
                p.excluded,
                p.remaining
            );
            if let Some(until) = p.waiting_until {
                eprintln!(
                    "{} · delivery {}: the day's direct messages are sent; the rest wait until {} (Ctrl+C stops; `run` carries on later)",
                    c.name,
                    p.delivery,
                    super::local(until)
                );
            }
        }
    };
    let summary = console.run_campaign(&campaign, again, rate, &mut progress, &|| false)?;
    if summary.resumed {
        say!("Carried on the unfinished run of \u{201c}{}\u{201d}.", summary.campaign.name);
    }
    print_deliveries(&summary.deliveries)?;
    Ok(())
}
