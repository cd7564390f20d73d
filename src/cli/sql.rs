//! `campaign-console sql`: prints the SQL a canvas compiles to.

use campaign_console::audience;
use campaign_console::console::Console;

#[derive(clap::Args)]
pub struct Args {
    /// The campaign's name or id.
    campaign: String,
    /// Emit PostgreSQL instead of SQLite.
    #[arg(long)]
    postgres: bool,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args { campaign, postgres } = args;
    let dialect = if postgres { audience::Dialect::Postgres } else { audience::Dialect::Sqlite };
    let (campaign, canvas, run) = console.compile_campaign(&campaign, dialect)?;
    say!("-- {}", campaign.name);
    for step in &run.steps {
        let label = canvas.activity(&step.activity).map_or(step.activity.as_str(), |a| a.label.as_str());
        say!("\n-- {label} ({})", step.activity);
        for s in &step.statements {
            say!("{};", s.display);
        }
        if let Some(shuffle) = &step.shuffle {
            say!(
                "-- then the keys of {} are inserted into {} in the order of cc_mix(key, {}), then key",
                shuffle.keys.display,
                shuffle.table,
                shuffle.seed
            );
        }
        if let Some(load) = &step.load {
            say!("-- then the lines of {} are inserted into {}", load.path, load.table);
        }
    }
    Ok(())
}
