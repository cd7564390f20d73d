//! With no command: the window, on the workspace given (or on what is wrong with it, from
//! where another can be opened), with the scheduler running while it is open.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use campaign_console::console::{CampaignCommand, Console, ConsoleError, ConsoleOptions, DataCommand, SecretsChoice};
use campaign_console::{demo, ui};

pub fn run(
    workspace_dir: &Path,
    fresh: bool,
    (secrets, clock): (SecretsChoice, Option<jiff::Timestamp>),
    log_dir: Option<PathBuf>,
    file: Option<PathBuf>,
) -> anyhow::Result<()> {
    // One clock for every workspace this window opens: set once, it runs on.
    let clock = clock.map(campaign_console::clock::starting_at);
    // The window says what is wrong with a workspace it cannot open, and offers another.
    let open_at = move |dir: &Path| -> Result<Arc<Console>, ConsoleError> {
        let options =
            ConsoleOptions { workspace_dir: dir.to_owned(), secrets, clock: clock.clone(), log_dir: log_dir.clone() };
        let console = Arc::new(Console::open(options)?);
        tracing::info!("workspace: {}", console.workspace_dir().display());
        // Scheduled campaigns launch while the window is open.
        console.start_scheduler();
        Ok(console)
    };
    let first = if workspace_dir.exists() && !workspace_dir.is_dir() {
        Err(ConsoleError::CannotRun(format!("{} is a file, not a folder", workspace_dir.display())))
    } else {
        open_at(workspace_dir)
    };
    if let Ok(console) = &first
        && console.first_start_demo_due(fresh)?
    {
        console.send(DataCommand::GenerateDemo { profiles: demo::FIRST_START_PROFILES, replace: false });
    }
    // A campaign file given (a double click on one): imported, the Campaigns screen says how.
    if let (Ok(console), Some(path)) = (&first, file) {
        console.send(CampaignCommand::Import { path });
    }
    ui::run_window(Box::new(open_at), workspace_dir, first)
        .map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"))
}
