//! `campaign-console campaigns`: lists the campaigns.

use super::local;
use campaign_console::console::Console;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args {} = args;
    say!("{:>5}  {:<32} {:<17} {:<10} {:<17} last run", "id", "name", "kind", "status", "modified");
    for c in console.campaigns()? {
        let last = c.last_run.as_ref().map_or_else(
            || "never".to_owned(),
            |r| {
                let what = r.outcome.clone().unwrap_or_else(|| "running".into());
                format!("{}: {}{what}", local(r.started_at), if r.failed { "failed: " } else { "" })
            },
        );
        say!(
            "{:>5}  {:<32} {:<17} {:<10} {:<17} {last}",
            c.id,
            c.name,
            c.kind.label(),
            c.status.label(),
            local(c.modified_at)
        );
    }
    Ok(())
}
