//! `campaign-console deliveries`: lists the deliveries.

use super::print_deliveries;
use campaign_console::console::Console;

#[derive(clap::Args)]
pub struct Args {
    /// Only this campaign's (name or id).
    #[arg(long)]
    campaign: Option<String>,
    /// Prints the message of this ledger row as the Sandbox kept it (its links included).
    #[arg(long, value_name = "ROW", conflicts_with = "campaign", allow_negative_numbers = true)]
    message: Option<i64>,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args { campaign, message } = args;
    if let Some(row) = message {
        return print_message(console, row);
    }
    let list = console.deliveries(campaign.as_deref())?;
    if list.is_empty() {
        say!("No delivery yet: `campaign-console run <campaign>` sends one.");
    } else {
        print_deliveries(&list)?;
    }
    Ok(())
}

/// The message of ledger row `row`, as the Sandbox kept it.
fn print_message(console: &Console, row: i64) -> anyhow::Result<()> {
    let Some(m) = console.sent_message(row)? else {
        anyhow::bail!(
            "the Sandbox kept no message of ledger row {row}: no such row, or it was not sent through the Sandbox (see `campaign-console deliveries` and the Deliveries screen for rows)"
        );
    };
    say!("To: {} ({})", m.address, m.channel);
    if !m.subject.is_empty() {
        say!("Subject: {}", m.subject);
    }
    if !m.unsubscribe.is_empty() {
        say!("List-Unsubscribe: {}", m.unsubscribe);
    }
    for link in &m.links {
        let alias = link.alias.as_deref().unwrap_or("(no text)");
        match &link.leads_to {
            Some(to) => say!("Link {alias} (tracked, leads to {to}): {}", link.url),
            None => say!("Link {alias}: {}", link.url),
        }
    }
    say!();
    say!("{}", m.text);
    Ok(())
}
