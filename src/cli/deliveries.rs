//! `campaign-console deliveries`: lists the deliveries.

use super::print_deliveries;
use campaign_console::console::Console;

#[derive(clap::Args)]
pub struct Args {
    /// Only this campaign's (name or id).
    #[arg(long)]
    campaign: Option<String>,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args { campaign } = args;
    let list = console.deliveries(campaign.as_deref())?;
    if list.is_empty() {
        say!("No delivery yet: `campaign-console run <campaign>` sends one.");
    } else {
        print_deliveries(&list)?;
    }
    Ok(())
}
