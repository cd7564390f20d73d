//! `campaign-console report`: a campaign's report (per channel activity and in total), the
//! numbers the Report screen shows, for scripts and for checking it against the ledger.

use campaign_console::console::Console;
use campaign_console::model::report::{CampaignReport, Numbers, percent};

#[derive(clap::Args)]
pub struct Args {
    /// The campaign (name or id).
    campaign: String,
    /// As one JSON object, for scripts.
    #[arg(long)]
    json: bool,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let campaign = console.campaign(&args.campaign)?;
    let report = console.campaign_report(campaign.id)?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print(&report)
}

fn print(report: &CampaignReport) -> anyhow::Result<()> {
    say!("Report of \u{201c}{}\u{201d} (campaign {})", report.campaign, report.campaign_id);
    if report.activities.is_empty() && report.control_group == 0 && report.other_events.is_empty() {
        say!("Nothing sent yet: the report fills as the campaign sends.");
        return Ok(());
    }
    for a in &report.activities {
        say!();
        say!("{} ({})", a.label, a.channel);
        numbers(&a.numbers)?;
    }
    if report.activities.len() > 1 {
        say!();
        say!("Total");
        numbers(&report.total)?;
    }
    if report.control_group > 0 {
        say!();
        say!("Control group: {} profiles held out", report.control_group);
    }
    if !report.other_events.is_empty() {
        say!();
        say!("Other events:");
        for (kind, n) in &report.other_events {
            say!("  {n:>10}  {kind}");
        }
    }
    Ok(())
}

fn numbers(n: &Numbers) -> anyhow::Result<()> {
    say!("  {:>10}  targeted", n.targeted);
    say!("  {:>10}  excluded", n.excluded_total());
    for (why, k) in &n.excluded {
        say!("  {k:>14}  {why}");
    }
    say!("  {:>10}  sent", n.sent);
    if n.pending > 0 {
        say!("  {:>10}  on their way", n.pending);
    }
    say!("  {:>10}  failed", n.failed_total());
    for (code, k) in &n.failed {
        say!("  {k:>14}  {code}");
    }
    say!("  {:>10}  delivered ({} of sent)", n.delivered, percent(n.delivery_rate()));
    say!("  {:>10}  bounced ({} of sent)", n.bounced, percent(n.bounce_rate()));
    say!("  {:>10}  opened, {} unique ({} of delivered)", n.opened, n.opened_unique, percent(n.open_rate()));
    say!(
        "  {:>10}  clicked, {} unique ({} of delivered, {} of unique opens)",
        n.clicked,
        n.clicked_unique,
        percent(n.click_rate()),
        percent(n.click_to_open_rate())
    );
    for (alias, k) in &n.clicks_by_alias {
        say!("  {k:>14}  {}", if alias.is_empty() { "(link without alias)" } else { alias });
    }
    say!("  {:>10}  unsubscribed ({} of delivered)", n.unsubscribed, percent(n.unsubscribe_rate()));
    Ok(())
}
