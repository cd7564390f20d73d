//! The command line: one file per subcommand, each with its arguments and what it does
//! through the `Console`. `main.rs` parses, sets up logging and calls [`run`].

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use campaign_console::console::{Console, ConsoleOptions, SecretsChoice};
use clap::{Parser, Subcommand};

/// `println!` that returns the error instead of panicking when standard output is closed early
/// (`campaign-console sql … | head`); `main` then exits quietly.
macro_rules! say {
    () => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock())?
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod apikey;
mod audiences;
mod campaign_file;
mod campaigns;
mod count;
mod data;
mod deliveries;
mod demo;
mod email;
mod import_data;
mod keychain;
mod pending;
mod report;
mod run;
mod schedule;
mod scheduler;
mod serve;
mod sms;
mod sms_configuration;
mod sql;
mod visitors;
mod window;
mod x;

/// Campaign Console: design orchestrated campaigns over your customer data, see exact counts
/// on every step, and send by email, SMS, push, direct mail, X and webhooks.
///
/// With no command, opens the window. The first start with no workspace creates a demo
/// workspace with 10,000 profiles.
#[derive(Parser)]
#[command(name = "campaign-console", version, about, long_about)]
pub struct Cli {
    /// A campaign file (`.campaign.json`) to open: the window imports it as a draft (as a
    /// double click on one does, once the app is installed).
    #[arg(value_name = "FILE", value_parser = campaign_file_path)]
    file: Option<PathBuf>,

    /// The workspace folder (holds workspace.sqlite). Default: the OS data folder.
    #[arg(long, global = true, value_name = "DIR")]
    workspace: Option<PathBuf>,

    /// Keep secrets in memory for this session only, never in the keychain.
    #[arg(long, global = true)]
    ephemeral_secrets: bool,

    /// Start the app's clock at this time (2026-01-01T09:00:00Z, or 2026-01-01T09:00 in this
    /// computer's time zone); it runs on from there. Campaigns, schedules and records use it
    /// (waits for real events, such as a provider's retry, do not). The status bar shows it.
    #[arg(long, global = true, value_name = "TIME", value_parser = campaign_console::clock::parse_instant)]
    clock: Option<jiff::Timestamp>,

    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// A campaign file named on the command line: a `.json` file (anything else is a mistyped
/// command, said as such).
fn campaign_file_path(value: &str) -> Result<PathBuf, String> {
    if value.to_lowercase().ends_with(".json") {
        Ok(PathBuf::from(value))
    } else {
        Err(format!(
            "\u{201c}{value}\u{201d} is not a command, nor a campaign file (.campaign.json); `campaign-console --help` lists the commands"
        ))
    }
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Write the demo data (profiles, addresses, hotels, bookings, subscriptions, events), its
    /// data model, Sandbox credentials and three sample campaigns into the workspace.
    Demo(demo::Args),
    /// List the campaigns of the workspace.
    Campaigns(campaigns::Args),
    /// Count every transition of an orchestrated campaign's canvas (a test run: nothing is
    /// saved or sent), with each activity's time.
    Count(count::Args),
    /// List the saved audiences (written by Save audience activities), or delete one.
    Audiences(audiences::Args),
    /// Print the SQL an orchestrated campaign's canvas compiles to, activity by activity.
    Sql(sql::Args),
    /// Show the data model: entities with row counts, links and identity namespaces.
    Data(data::Args),
    /// Import a CSV or TSV file into an entity (new or existing): columns and types guessed
    /// from the file, changed by the options; every row checked, refused rows listed with their
    /// line and reason, the good ones written in one transaction.
    ImportData(import_data::Args),
    /// Run an orchestrated campaign headless: count, write each channel's ledger, send (through
    /// the Sandbox unless a credential says otherwise). Carries on an unfinished earlier run.
    Run(run::Args),
    /// List the deliveries with their messages by status.
    Deliveries(deliveries::Args),
    /// Write a campaign (its canvas or form, its messages; no secret, no customer data) to a
    /// campaign file.
    Export(campaign_file::ExportArgs),
    /// Import a campaign file as a draft campaign, listing what this workspace lacks for it.
    Import(campaign_file::ImportArgs),
    /// List the action-triggered campaigns' pending sends: state, due time, why one was
    /// cancelled.
    Pending(pending::Args),
    /// A campaign's report: targeted, excluded, sent, delivered, failed, bounced, opened and
    /// clicked (unique and total), unsubscribed; per channel activity and in total.
    Report(report::Args),
    /// Email credentials: add an SMTP server, verify one.
    Email {
        #[command(subcommand)]
        action: email::EmailCmd,
    },
    /// SMS credentials: add a Twilio or custom one, list, remove, verify with a real message.
    Sms {
        #[command(subcommand)]
        action: sms::SmsCmd,
    },
    /// X services: add one (its keys checked with X), list, check, synchronize the followers,
    /// remove.
    X {
        #[command(subcommand)]
        action: x::XCmd,
    },
    /// The visitors (the followers of X services): how many, a search, an export to CSV.
    Visitors {
        #[command(subcommand)]
        action: visitors::VisitorsCmd,
    },
    /// API keys for the execution API (`serve`'s /v1): create (printed once), list, revoke.
    Apikey {
        #[command(subcommand)]
        action: apikey::ApiKeyCmd,
    },
    /// Launch the published campaigns at their Scheduler's times, until stopped (Ctrl+C). The
    /// window does the same while it is open; only one process launches at a time.
    Scheduler(scheduler::Args),
    /// Run the HTTP server headless: provider webhooks (Twilio's status callbacks and inbound
    /// messages, signed), the execution API (/v1) and the scheduler, until Ctrl+C or SIGTERM.
    Serve(serve::Args),
    /// Say where secrets (passwords, tokens) are kept on this machine: the system keychain,
    /// the kernel keyring, or memory only (then they are lost when the program ends).
    Keychain,
    /// Preview the next launch times of an orchestrated campaign's Scheduler activities.
    Schedule(schedule::Args),
}

pub fn run(cli: Cli, data_dir: &Path, log_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let workspace_dir = cli.workspace.unwrap_or_else(|| data_dir.join("workspace"));
    let fresh = !Console::holds_workspace(&workspace_dir);
    // Commands that read or write secrets use the same store as the window; the others do not
    // reach for the keychain at all (looking for one can take seconds on a machine without).
    let needs_secrets = matches!(
        cli.command,
        None | Some(
            Cmd::Run(_)
                | Cmd::Email { .. }
                | Cmd::Sms { .. }
                | Cmd::X { .. }
                | Cmd::Keychain
                | Cmd::Scheduler(_)
                | Cmd::Serve(_)
        )
    );
    let secrets =
        if cli.ephemeral_secrets || !needs_secrets { SecretsChoice::Ephemeral } else { SecretsChoice::System };
    let Some(command) = cli.command else {
        return window::run(&workspace_dir, fresh, (secrets, cli.clock), log_dir, cli.file);
    };
    if let Some(file) = &cli.file {
        anyhow::bail!(
            "{} is opened by the window (campaign-console FILE), not with a command: to import it here, use `campaign-console import {}`",
            file.display(),
            file.display()
        );
    }
    if workspace_dir.exists() && !workspace_dir.is_dir() {
        anyhow::bail!("{} is a file, not a folder: give --workspace a folder", workspace_dir.display());
    }
    // Only the window and `demo` make a workspace where there is none (and `keychain` needs
    // none): a mistyped --workspace must not quietly become an empty one.
    let may_be_fresh = matches!(command, Cmd::Demo(_) | Cmd::Keychain | Cmd::ImportData(_));
    if fresh && !may_be_fresh {
        anyhow::bail!(
            "there is no workspace at {} (check --workspace; `campaign-console demo --workspace {}` creates one with demo data)",
            workspace_dir.display(),
            workspace_dir.display()
        );
    }
    let open = || {
        let clock = cli.clock.map(campaign_console::clock::starting_at);
        Console::open(ConsoleOptions { workspace_dir: workspace_dir.clone(), secrets, clock, log_dir })
            .with_context(|| format!("cannot open the workspace at {}", workspace_dir.display()))
    };
    match command {
        Cmd::Keychain => keychain::run(cli.ephemeral_secrets),
        Cmd::Demo(args) => demo::run(&open()?, args),
        Cmd::Campaigns(args) => campaigns::run(&open()?, args),
        Cmd::Count(args) => count::run(&open()?, args),
        Cmd::Audiences(args) => audiences::run(&open()?, args),
        Cmd::Sql(args) => sql::run(&open()?, args),
        Cmd::Data(args) => data::run(&open()?, args),
        Cmd::ImportData(args) => import_data::run(&open()?, args),
        Cmd::Run(args) => run::run(&open()?, args),
        Cmd::Deliveries(args) => deliveries::run(&open()?, args),
        Cmd::Pending(args) => pending::run(&open()?, args),
        Cmd::Report(args) => report::run(&open()?, args),
        Cmd::Export(args) => campaign_file::export(&open()?, args),
        Cmd::Import(args) => campaign_file::import(&open()?, args),
        Cmd::Email { action } => email::run(&open()?, action),
        Cmd::Scheduler(args) => scheduler::run(&open()?, args),
        Cmd::Serve(args) => serve::run(open()?, args),
        Cmd::Sms { action } => sms::run(&open()?, action),
        Cmd::X { action } => x::run(&open()?, action),
        Cmd::Visitors { action } => visitors::run(&open()?, action),
        Cmd::Apikey { action } => apikey::run(&open()?, action),
        Cmd::Schedule(args) => schedule::run(&open()?, args),
    }
}

/// A whole number between `min` and `max`, with a plain message for anything else (a
/// negative number included).
fn count_parser(min: u64, max: u64) -> impl Fn(&str) -> Result<u64, String> + Clone {
    move |s: &str| match s.trim().parse::<i128>() {
        Ok(n) if n >= i128::from(min) && n <= i128::from(max) => Ok(n as u64),
        Ok(_) => Err(format!("it must be a whole number from {min} to {max}")),
        Err(_) => Err(format!("{s:?} is not a whole number (from {min} to {max})")),
    }
}

/// Refuses to add a credential whose `secrets` ("the Auth Token") could not be kept: the
/// keychain does not outlive this process, and the deployment does not give them either.
fn keeps_secrets(console: &campaign_console::console::Console, secrets: &str, deployed: bool) -> anyhow::Result<()> {
    let keychain = console.keychain_status();
    if !keychain.is_persistent() && !deployed {
        anyhow::bail!(
            "{secrets} could not be kept, so nothing was added. {} {}",
            keychain.describe(),
            KEEP_SECRETS_HINT
        );
    }
    Ok(())
}

/// An instant as a person reads it: in this computer's time zone, to the minute.
fn local(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M").to_string()
}

pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}

/// What to do when secrets cannot be kept, for commands that store them.
const KEEP_SECRETS_HINT: &str = "To keep secrets, run without --ephemeral-secrets where a keychain service runs: \
on a desktop, GNOME Keyring or KWallet; on a server, start a Secret Service in a D-Bus session \
(`dbus-run-session -- sh -c 'echo -n PASSWORD | gnome-keyring-daemon --unlock --components=secrets; campaign-console …'`), \
or give each credential's secret to the commands in CAMPAIGN_CONSOLE_SECRET_<NAME> (or a file of that name in \
systemd's $CREDENTIALS_DIRECTORY): it is read at each use and never stored.";

fn print_deliveries(list: &[campaign_console::model::delivery::Delivery]) -> std::io::Result<()> {
    use campaign_console::model::delivery::TALLY;
    let tally = |cells: [String; 6]| {
        let [total, sent, failed, excluded, unconfirmed, remaining] = cells;
        format!("{total:>8} {sent:>8} {failed:>8} {excluded:>9} {unconfirmed:>11} {remaining:>9}")
    };
    say!(
        "{:>5}  {:<24} {:<8} {:<10} {}  through",
        "id",
        "activity",
        "channel",
        "status",
        tally(TALLY.map(str::to_owned))
    );
    for d in list {
        say!(
            "{:>5}  {:<24} {:<8} {:<10} {}  {}",
            d.id,
            d.activity_name(),
            d.channel,
            d.status,
            tally(d.tally().map(|n| n.to_string())),
            d.credential.as_deref().unwrap_or("the built-in Sandbox")
        );
    }
    Ok(())
}
