//! The one factory that builds the app for UI tests: a temporary or given workspace,
//! secrets in memory, and a fixed clock. Tests wrap it in an `egui_kittest::Harness`.

use std::path::Path;
use std::sync::Arc;

use super::{App, SavedState};
use crate::console::{Console, ConsoleError, ConsoleOptions, SecretsChoice};

/// The instant every test console believes it is.
pub fn fixed_now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_780_000_000).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// A Console on `workspace_dir` with in-memory secrets and the fixed clock.
pub fn console(workspace_dir: &Path) -> Result<Arc<Console>, ConsoleError> {
    Ok(Arc::new(Console::open(ConsoleOptions {
        workspace_dir: workspace_dir.to_owned(),
        secrets: SecretsChoice::Ephemeral,
        clock: Some(Arc::new(fixed_now)),
        log_dir: None,
    })?))
}

/// The app on `workspace_dir`, as a fresh start shows it (Campaigns screen, system theme).
pub fn app(workspace_dir: &Path) -> Result<App, ConsoleError> {
    Ok(App::new(console(workspace_dir)?, SavedState::default()))
}
