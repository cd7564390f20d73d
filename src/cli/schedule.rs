//! `campaign-console schedule`: previews a campaign's next launch times.

use super::count_parser;
use campaign_console::console::Console;
use campaign_console::{model, schedule};

#[derive(clap::Args)]
pub struct Args {
    /// The campaign's name or id.
    campaign: String,
    /// How many launches to show.
    #[arg(long, allow_negative_numbers = true, default_value_t = 5, value_parser = count_parser(1, 1000))]
    next: u64,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args { campaign, next } = args;
    let campaign = console.campaign(&campaign)?;
    let canvas = console.canvas(&campaign)?;
    let mut any = false;
    for a in &canvas.activities {
        let model::ActivityKind::Scheduler { schedule, valid_from, valid_until, timezone } = &a.kind else {
            continue;
        };
        any = true;
        let params = schedule::SchedulerParams {
            schedule,
            valid_from: valid_from.as_deref(),
            valid_until: valid_until.as_deref(),
            timezone: timezone.as_deref(),
        };
        match schedule::Plan::new(params) {
            Ok(plan) => {
                let launches = plan.next_launches(console.now(), next as usize);
                say!("{} ({}), times in {}:", a.label, a.id, plan.time_zone().iana_name().unwrap_or("local time"));
                if launches.is_empty() {
                    say!("  no launch to come (the schedule or its validity period is over)");
                }
                for z in launches {
                    say!("  {}", z.strftime("%a %Y-%m-%d %H:%M %Z"));
                }
            }
            Err(problems) => {
                say!("{} ({}): the schedule has problems:", a.label, a.id);
                for p in problems {
                    say!("  {}: {}", p.parameter, p.message);
                }
            }
        }
    }
    if !any {
        say!("{} has no Scheduler activity: it starts when someone presses Start.", campaign.name);
    }
    Ok(())
}
