//! `campaign-console audiences`: lists or deletes saved audiences.

use super::local;
use campaign_console::console::Console;

#[derive(clap::Args)]
pub struct Args {
    /// Delete the saved audience of this name.
    #[arg(long, value_name = "NAME")]
    delete: Option<String>,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args { delete } = args;
    if let Some(name) = delete {
        if console.delete_audience(&name)? {
            say!("deleted the audience \u{201c}{}\u{201d}", name.trim());
            return Ok(());
        }
        anyhow::bail!("there is no saved audience called \u{201c}{}\u{201d}", name.trim());
    }
    let list = console.audiences()?;
    if list.is_empty() {
        say!("No saved audience yet: a campaign's Save audience activity creates one when it runs.");
    } else {
        say!("{:<32} {:<14} {:>10}  modified", "name", "dimension", "rows");
        for a in list {
            say!("{:<32} {:<14} {:>10}  {}", a.name, a.dimension, a.row_count, local(a.modified_at));
        }
    }
    Ok(())
}
