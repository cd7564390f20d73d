//! `campaign-console export` and `import`: a campaign to and from a campaign file.

use std::path::PathBuf;

use campaign_console::console::Console;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The campaign (name or id).
    campaign: String,
    /// The file to write (`.campaign.json`); replaced if it is there.
    file: PathBuf,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// A campaign file (`.campaign.json`).
    file: PathBuf,
}

pub fn export(console: &Console, args: ExportArgs) -> anyhow::Result<()> {
    let ExportArgs { campaign, file } = args;
    let written = console.export_campaign(&campaign, &file)?;
    say!("Exported \u{201c}{}\u{201d} ({}) to {}", written.name, written.kind.label(), file.display());
    Ok(())
}

pub fn import(console: &Console, args: ImportArgs) -> anyhow::Result<()> {
    let ImportArgs { file } = args;
    let imported = console.import_campaign(&file)?;
    let c = &imported.campaign;
    say!("Imported \u{201c}{}\u{201d} ({}, id {}) as a draft", c.name, c.kind.label(), c.id);
    if !imported.missing.is_empty() {
        say!("What this workspace lacks for it (fix it before it runs):");
        for m in &imported.missing {
            say!("  - {m}");
        }
    }
    Ok(())
}
