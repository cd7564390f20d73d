//! `campaign-console report`: a campaign's report (per channel activity and in total), the
//! numbers the Report screen shows, for scripts and for checking it against the ledger; with
//! `--all`, the global report of a period (every campaign with events in it).

use anyhow::{Context, bail};
use campaign_console::console::Console;
use campaign_console::model::report::{CampaignReport, GlobalReport, Numbers, percent};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["campaign", "all"])))]
pub struct Args {
    /// The campaign (name or id).
    campaign: Option<String>,
    /// Every campaign with events in a period (the last 30 days unless told).
    #[arg(long)]
    all: bool,
    /// With --all: the last N days, today included.
    #[arg(long, value_name = "N", conflicts_with_all = ["from", "to"])]
    days: Option<i64>,
    /// With --all: the period's first day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DAY", requires = "to")]
    from: Option<String>,
    /// With --all: the period's last day (YYYY-MM-DD, UTC), included.
    #[arg(long, value_name = "DAY", requires = "from")]
    to: Option<String>,
    /// As one JSON object, for scripts.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// As CSV lines (a header first), as the Report screens export them.
    #[arg(long)]
    csv: bool,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Some(name) = &args.campaign else {
        let (first_day, last_day) = period(&args)?;
        let report = console.global_report(first_day, last_day)?;
        return match (args.json, args.csv) {
            (true, _) => print_json(&report),
            (_, true) => print_csv(&report.csv()),
            _ => print_global(&report),
        };
    };
    if args.all || args.days.is_some() || args.from.is_some() {
        bail!("a period goes with --all, not with a campaign: leave out the campaign's name, or the period");
    }
    let campaign = console.campaign(name)?;
    let report = console.campaign_report(campaign.id)?;
    match (args.json, args.csv) {
        (true, _) => print_json(&report),
        (_, true) => print_csv(&report.csv()),
        _ => print(&report),
    }
}

/// The period asked for: --from/--to, or the last --days days (30) up to today (UTC).
fn period(args: &Args) -> anyhow::Result<(jiff::civil::Date, jiff::civil::Date)> {
    let day = |s: &str, which: &str| {
        s.trim()
            .parse::<jiff::civil::Date>()
            .with_context(|| format!("the {which} day \u{201c}{s}\u{201d} is not a date like 2026-11-30"))
    };
    if let (Some(from), Some(to)) = (&args.from, &args.to) {
        return Ok((day(from, "first")?, day(to, "last")?));
    }
    let days = args.days.unwrap_or(30);
    if days < 1 {
        bail!("--days {days}: a period has at least one day");
    }
    // Events are dated by the wall clock, whatever the campaign clock (--clock) says.
    let today = campaign_console::clock::wall().to_zoned(jiff::tz::TimeZone::UTC).date();
    let first = today.checked_sub(jiff::Span::new().days(days - 1)).context("--days reaches too far back")?;
    Ok((first, today))
}

fn print_json(report: &impl serde::Serialize) -> anyhow::Result<()> {
    say!("{}", serde_json::to_string_pretty(report)?);
    Ok(())
}

fn print_csv(lines: &[Vec<String>]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    for line in lines {
        w.write_record(line)?;
    }
    w.flush()?;
    Ok(())
}

fn print_global(report: &GlobalReport) -> anyhow::Result<()> {
    say!("Campaigns with events from {} to {} (UTC), their numbers to date", report.first_day, report.last_day);
    if report.lines.is_empty() {
        say!("No campaign had an event in this period.");
        return Ok(());
    }
    say!(
        "{:<32} {:>9} {:>9} {:>9} {:>8} {:>9} {:>8} {:>8}",
        "campaign",
        "targeted",
        "sent",
        "delivered",
        "",
        "opened",
        "",
        "clicked"
    );
    let row = |name: &str, n: &Numbers| {
        format!(
            "{:<32} {:>9} {:>9} {:>9} {:>8} {:>9} {:>8} {:>8}",
            name.chars().take(32).collect::<String>(),
            n.targeted,
            n.sent,
            n.delivered,
            percent(n.delivery_rate()),
            n.opened_unique,
            percent(n.open_rate()),
            n.clicked_unique
        )
    };
    for l in &report.lines {
        say!("{}", row(&l.campaign, &l.numbers));
    }
    say!("{}", row("Total", &report.total));
    Ok(())
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
    if let Some(api) = &report.api {
        say!();
        say!("API calls: {} ({} waiting, {} failed)", api.calls, api.calls_waiting, api.calls_failed);
        say!("  {} recipients, {} not found, {} profiles created", api.recipients, api.not_found, api.created);
    }
    if let Some(c) = &report.connector {
        say!();
        say!("Triggers: {} ({} waiting, {} fired, {} cancelled)", c.triggers, c.waiting, c.fired, c.cancelled_total());
        for (why, k) in &c.cancelled {
            say!("  {k:>10}  {why}");
        }
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
