//! `campaign-console visitors`: how many visitors the follower synchronization keeps.

use campaign_console::console::Console;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum VisitorsCmd {
    /// How many visitors (of a service, in a folder), and how many still follow.
    Count {
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        folder: Option<String>,
    },
}

pub fn run(console: &Console, action: VisitorsCmd) -> anyhow::Result<()> {
    match action {
        VisitorsCmd::Count { service, folder } => {
            let (all, following) = console.visitor_count(service.as_deref(), folder.as_deref())?;
            say!("{all} visitors, {following} still following");
            Ok(())
        }
    }
}
