//! The `campaign-console` binary: parses the command line, sets up logging, and runs the
//! command (`src/cli/`, one file per subcommand) or opens the window.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let dirs = directories::ProjectDirs::from("com", "Campaign Console", "Campaign Console");
    let data_dir = dirs.as_ref().map(|d| d.data_dir().to_owned()).unwrap_or_else(|| PathBuf::from("."));
    // The window logs its start-up on stderr; commands keep stderr for their progress and errors.
    let stderr_level = if cli.command.is_none() { "info" } else { "warn" };
    let (log_dir, _log_guard) = init_logging(&data_dir.join("logs"), stderr_level);
    match cli::run(cli, &data_dir, log_dir) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head`): what it wanted was written.
        Err(err) if cli::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Said once, on stderr; the log file gets it through the command's own warnings.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr and to a daily rolling file. Returns the log folder when it could be set up.
fn init_logging(
    dir: &Path,
    stderr_level: &str,
) -> (Option<PathBuf>, Option<tracing_appender::non_blocking::WorkerGuard>) {
    use tracing_subscriber::prelude::*;
    let filter = |level: &str| {
        tracing_subscriber::EnvFilter::try_from_env("CAMPAIGN_CONSOLE_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(format!("{level},wgpu=warn,eframe=warn,egui_glow=warn,zbus=warn"))
        })
    };
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter(stderr_level));
    let appender = std::fs::create_dir_all(dir).ok().and_then(|()| {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("campaign-console")
            .filename_suffix("log")
            .max_log_files(14)
            .build(dir)
            .ok()
    });
    match appender {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file =
                tracing_subscriber::fmt::layer().with_ansi(false).with_writer(writer).with_filter(filter("info"));
            tracing_subscriber::registry().with(stderr).with(file).init();
            (Some(dir.to_owned()), Some(guard))
        }
        None => {
            tracing_subscriber::registry().with(stderr).init();
            tracing::warn!("no log file: cannot write to {}", dir.display());
            (None, None)
        }
    }
}
