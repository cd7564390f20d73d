//! `campaign-console pending`: the action-triggered campaigns' pending sends, with their state
//! and due time.

use super::local;
use campaign_console::console::Console;
use campaign_console::model::CampaignKind;
use campaign_console::model::connector::PendingState;

#[derive(clap::Args)]
pub struct Args {
    /// Only this action-triggered campaign's (name or id).
    #[arg(long)]
    campaign: Option<String>,
    /// Only those in this state.
    #[arg(long, value_parser = ["waiting", "fired", "cancelled"])]
    state: Option<String>,
    /// As JSON (one object per pending send), for scripts.
    #[arg(long)]
    json: bool,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args { campaign, state, json } = args;
    let connector = match campaign {
        Some(c) => {
            let found = console.campaign(&c)?;
            if found.kind != CampaignKind::ActionTriggered {
                anyhow::bail!(
                    "\u{201c}{}\u{201d} is an {} campaign: only action-triggered campaigns have pending sends",
                    found.name,
                    found.kind.label().to_lowercase()
                );
            }
            Some(found.id)
        }
        None => None,
    };
    let state = state.as_deref().and_then(PendingState::parse);
    let list = console.pending_sends(connector, state, usize::MAX)?;
    if json {
        for p in &list {
            say!("{}", serde_json::to_string(p)?);
        }
        return Ok(());
    }
    let counts = console.pending_counts(connector)?;
    say!("{} waiting, {} fired, {} cancelled", counts.waiting, counts.fired, counts.cancelled_total());
    for (reason, n) in &counts.cancelled {
        say!("  {n} {reason}");
    }
    if list.is_empty() {
        say!("No pending send: they are made as profiles interact with the source campaign of a live one.");
        return Ok(());
    }
    say!();
    say!(
        "{:<24} {:<10} {:<36} {:<16} {:<16} {:<9} reason",
        "campaign",
        "profile",
        "trigger",
        "happened",
        "due",
        "state"
    );
    for p in &list {
        say!(
            "{:<24} {:<10} {:<36} {:<16} {:<16} {:<9} {}",
            p.connector,
            p.profile,
            p.trigger,
            local(p.trigger_at),
            p.due_at.map_or_else(|| "(local time)".to_owned(), local),
            p.state.as_str(),
            p.reason.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
