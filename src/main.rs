//! The `campaign-console` binary: parses the command line, sets up logging, opens the
//! workspace through the `Console`, then opens the window or runs a command.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use campaign_console::console::{Console, ConsoleOptions, SecretsChoice};
use campaign_console::{audience, demo, model, schedule, store, ui};
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

/// Campaign Console: design orchestrated campaigns over your customer data, see exact counts
/// on every step, and send by email, SMS, push, direct mail, X and webhooks.
///
/// With no command, opens the window. The first start with no workspace creates a demo
/// workspace with 10,000 profiles.
#[derive(Parser)]
#[command(name = "campaign-console", version, about, long_about)]
struct Cli {
    /// The workspace folder (holds workspace.sqlite). Default: the OS data folder.
    #[arg(long, global = true, value_name = "DIR")]
    workspace: Option<PathBuf>,

    /// Keep secrets in memory for this session only, never in the keychain.
    #[arg(long, global = true)]
    ephemeral_secrets: bool,

    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write the demo data (profiles, addresses, hotels, bookings, subscriptions, events), its
    /// data model, Sandbox credentials and three sample campaigns into the workspace.
    Demo {
        /// How many profiles to generate.
        #[arg(long, allow_negative_numbers = true, default_value_t = 10_000, value_parser = count_parser(1, demo::MAX_PROFILES))]
        profiles: u64,
        /// The random seed: the same seed gives the same data.
        #[arg(long, allow_negative_numbers = true, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
        /// Replace the demo tables and campaigns of a workspace that already has some.
        #[arg(long)]
        replace: bool,
    },
    /// List the campaigns of the workspace.
    Campaigns,
    /// Count every transition of an orchestrated campaign's canvas (a test run: nothing is
    /// saved or sent), with each activity's time.
    Count {
        /// The campaign's name or id.
        campaign: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Then write the canvas's Save audience activities, as a campaign run does (no
        /// message is sent).
        #[arg(long)]
        save_audiences: bool,
    },
    /// List the saved audiences (written by Save audience activities), or delete one.
    Audiences {
        /// Delete the saved audience of this name.
        #[arg(long, value_name = "NAME")]
        delete: Option<String>,
    },
    /// Print the SQL an orchestrated campaign's canvas compiles to, activity by activity.
    Sql {
        /// The campaign's name or id.
        campaign: String,
        /// Emit PostgreSQL instead of SQLite.
        #[arg(long)]
        postgres: bool,
    },
    /// Show the data model: entities with row counts, links and identity namespaces.
    Data,
    /// Run an orchestrated campaign headless: count, write each channel's ledger, send (through
    /// the Sandbox unless a credential says otherwise). Carries on an unfinished earlier run.
    Run {
        /// The campaign's name or id.
        campaign: String,
        /// Run a campaign that already ran once more (a new send to everyone).
        #[arg(long)]
        again: bool,
        /// At most this many messages per second (overrides the credential's limit).
        #[arg(long, allow_negative_numbers = true)]
        rate: Option<f64>,
    },
    /// List the deliveries with their messages by status.
    Deliveries {
        /// Only this campaign's (name or id).
        #[arg(long)]
        campaign: Option<String>,
    },
    /// Email credentials: add an SMTP server, verify one.
    Email {
        #[command(subcommand)]
        action: EmailCmd,
    },
    /// Launch the published campaigns at their Scheduler's times, until stopped (Ctrl+C). The
    /// window does the same while it is open; only one process launches at a time.
    Scheduler {
        /// Launch what is due now, then exit (for cron or a systemd timer).
        #[arg(long)]
        once: bool,
    },
    /// Say where secrets (passwords, tokens) are kept on this machine: the system keychain,
    /// the kernel keyring, or memory only (then they are lost when the program ends).
    Keychain,
    /// Preview the next launch times of an orchestrated campaign's Scheduler activities.
    Schedule {
        /// The campaign's name or id.
        campaign: String,
        /// How many launches to show.
        #[arg(long, allow_negative_numbers = true, default_value_t = 5, value_parser = count_parser(1, 1000))]
        next: u64,
    },
}

#[derive(Subcommand)]
enum EmailCmd {
    /// Add an SMTP credential. The password is read from standard input, or from SMTP_PASSWORD,
    /// never from an argument (it would show in the process list and the shell's history); it
    /// goes to the keychain.
    Add {
        #[command(subcommand)]
        provider: EmailProvider,
    },
    /// Connect and sign in with a credential without sending anything.
    Verify {
        /// The credential's name.
        credential: String,
    },
}

#[derive(Subcommand)]
enum EmailProvider {
    Smtp {
        /// The credential's name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        host: String,
        /// Default: 587 for STARTTLS, 465 for TLS.
        #[arg(long, allow_negative_numbers = true)]
        port: Option<u16>,
        /// starttls, implicit, or none (only to this machine).
        #[arg(long, default_value = "starttls")]
        tls: String,
        /// Sign in as this user (a password is then asked for).
        #[arg(long)]
        username: Option<String>,
        /// The sender: "Name <address>" or an address.
        #[arg(long)]
        from: String,
        #[arg(long)]
        reply_to: Option<String>,
        /// The List-Unsubscribe link (https:// or mailto:; {key} is the message's key).
        #[arg(long)]
        unsubscribe: Option<String>,
        /// At most this many messages per second.
        #[arg(long, allow_negative_numbers = true)]
        rate: Option<f64>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let dirs = directories::ProjectDirs::from("com", "Campaign Console", "Campaign Console");
    let data_dir = dirs.as_ref().map(|d| d.data_dir().to_owned()).unwrap_or_else(|| PathBuf::from("."));
    // The window logs its start-up on stderr; commands keep stderr for their progress and errors.
    let stderr_level = if cli.command.is_none() { "info" } else { "warn" };
    let (log_dir, _log_guard) = init_logging(&data_dir.join("logs"), stderr_level);
    match run(cli, &data_dir, log_dir) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head`): what it wanted was written.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Said once, on stderr; the log file gets it through the command's own warnings.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
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

/// An instant as a person reads it: in this computer's time zone, to the minute.
fn local(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M").to_string()
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
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

fn run(cli: Cli, data_dir: &Path, log_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let workspace_dir = cli.workspace.unwrap_or_else(|| data_dir.join("workspace"));
    let fresh = !workspace_dir.join(store::DATABASE_FILE).exists();
    // Commands that read or write secrets use the same store as the window; the others do not
    // reach for the keychain at all (looking for one can take seconds on a machine without).
    let needs_secrets =
        matches!(cli.command, None | Some(Cmd::Run { .. } | Cmd::Email { .. } | Cmd::Keychain | Cmd::Scheduler { .. }));
    let secrets =
        if cli.ephemeral_secrets || !needs_secrets { SecretsChoice::Ephemeral } else { SecretsChoice::System };
    // The window says what is wrong with a workspace it cannot open, and offers another.
    if cli.command.is_none() {
        let log_dir = log_dir.clone();
        let open_at = move |dir: &Path| -> Result<Arc<Console>, campaign_console::console::ConsoleError> {
            let options =
                ConsoleOptions { workspace_dir: dir.to_owned(), secrets, clock: None, log_dir: log_dir.clone() };
            let console = Arc::new(Console::open(options)?);
            tracing::info!("workspace: {}", console.workspace_dir().display());
            // Scheduled campaigns launch while the window is open.
            console.start_scheduler();
            Ok(console)
        };
        let first = if workspace_dir.exists() && !workspace_dir.is_dir() {
            Err(campaign_console::console::ConsoleError::CannotRun(format!(
                "{} is a file, not a folder",
                workspace_dir.display()
            )))
        } else {
            open_at(&workspace_dir)
        };
        if let Ok(console) = &first
            && console.first_start_demo_due(fresh)?
        {
            console
                .send(campaign_console::Command::GenerateDemo { profiles: demo::FIRST_START_PROFILES, replace: false });
        }
        return ui::run_window(Box::new(open_at), &workspace_dir, first)
            .map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"));
    }
    if workspace_dir.exists() && !workspace_dir.is_dir() {
        anyhow::bail!("{} is a file, not a folder: give --workspace a folder", workspace_dir.display());
    }
    // Only the window and `demo` make a workspace where there is none (and `keychain` needs
    // none): a mistyped --workspace must not quietly become an empty one.
    let may_be_fresh = matches!(cli.command, None | Some(Cmd::Demo { .. } | Cmd::Keychain));
    if fresh && !may_be_fresh {
        anyhow::bail!(
            "there is no workspace at {} (check --workspace; `campaign-console demo --workspace {}` creates one with demo data)",
            workspace_dir.display(),
            workspace_dir.display()
        );
    }
    let open = || {
        Console::open(ConsoleOptions { workspace_dir: workspace_dir.clone(), secrets, clock: None, log_dir })
            .with_context(|| format!("cannot open the workspace at {}", workspace_dir.display()))
    };
    match cli.command {
        // The window was opened above.
        None => Ok(()),
        Some(Cmd::Demo { profiles, seed, replace }) => {
            let console = open()?;
            let started = Instant::now();
            let mut last = -1;
            let mut progress = |f: f32| {
                let pct = (f * 100.0) as i32;
                if pct != last {
                    last = pct;
                    eprint!("\rgenerating demo data: {pct:3}%");
                    let _ = std::io::stderr().flush();
                }
                true
            };
            let summary = console.generate_demo(profiles, seed, replace, &mut progress);
            eprintln!();
            let summary = summary.context("the demo data was not generated")?;
            say!(
                "Demo workspace written to {} in {:.1} s:\n  {} profiles, {} addresses, {} hotels, {} bookings, {} subscriptions, {} events ({} rows)",
                console.workspace_dir().display(),
                started.elapsed().as_secs_f64(),
                summary.profiles,
                summary.addresses,
                summary.hotels,
                summary.bookings,
                summary.subscriptions,
                summary.events,
                summary.total_rows(),
            );
            Ok(())
        }
        Some(Cmd::Campaigns) => {
            let console = open()?;
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
        Some(Cmd::Count { campaign, json, save_audiences }) => {
            let console = open()?;
            let (campaign, canvas, report, saved) = if save_audiences {
                console.count_and_save_audiences(&campaign, &|| false)?
            } else {
                let (campaign, canvas, report) = console.count_campaign(&campaign, &|| false)?;
                (campaign, canvas, report, Vec::new())
            };
            let label = |id: &str| canvas.activity(id).map_or_else(|| id.to_owned(), |a| a.label.clone());
            if json {
                let transitions: Vec<_> = canvas
                    .transitions
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "id": t.id, "from": t.from, "output": t.output, "to": t.to,
                            "count": report.count_of(&t.id),
                        })
                    })
                    .collect();
                let activities: Vec<_> = report
                    .activities
                    .iter()
                    .map(|a| serde_json::json!({ "id": a.activity, "label": label(&a.activity), "ms": a.duration.as_secs_f64() * 1e3 }))
                    .collect();
                let saved: Vec<_> = saved
                    .iter()
                    .map(|a| serde_json::json!({ "name": a.name, "dimension": a.dimension, "rows": a.row_count }))
                    .collect();
                let out = serde_json::json!({
                    "campaign": campaign.name, "total_ms": report.total.as_secs_f64() * 1e3,
                    "transitions": transitions, "activities": activities, "saved_audiences": saved,
                });
                say!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                say!("{} — exact counts ({:.1} ms)\n", campaign.name, report.total.as_secs_f64() * 1e3);
                say!("{:<14} {:<46} {:>10}", "transition", "from → to", "count");
                for t in &canvas.transitions {
                    let route = format!("{} [{}] → {}", label(&t.from), t.output, label(&t.to));
                    let count = report.count_of(&t.id).map_or_else(|| "—".to_owned(), |n| n.to_string());
                    say!("{:<14} {:<46} {:>10}", t.id, route, count);
                }
                say!("\n{:<30} {:>10}", "activity", "time");
                for a in &report.activities {
                    say!("{:<30} {:>7.1} ms", label(&a.activity), a.duration.as_secs_f64() * 1e3);
                }
                if save_audiences {
                    if saved.is_empty() {
                        say!("\nThe canvas has no Save audience activity: nothing was saved.");
                    }
                    for a in &saved {
                        say!("\nsaved audience \u{201c}{}\u{201d}: {} {}", a.name, a.row_count, a.dimension);
                    }
                }
            }
            Ok(())
        }
        Some(Cmd::Audiences { delete }) => {
            let console = open()?;
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
        Some(Cmd::Sql { campaign, postgres }) => {
            let console = open()?;
            let dialect = if postgres { audience::Dialect::Postgres } else { audience::Dialect::Sqlite };
            let (campaign, canvas, run) = console.compile_campaign(&campaign, dialect)?;
            say!("-- {}", campaign.name);
            for step in &run.steps {
                let label = canvas.activity(&step.activity).map_or(step.activity.as_str(), |a| a.label.as_str());
                say!("\n-- {label} ({})", step.activity);
                for s in &step.statements {
                    say!("{};", s.display);
                }
                if let Some(load) = &step.load {
                    say!("-- then the lines of {} are inserted into {}", load.path, load.table);
                }
            }
            Ok(())
        }
        Some(Cmd::Run { campaign, again, rate }) => {
            let console = open()?;
            if let Some(r) = rate
                && !(r.is_finite() && r > 0.0)
            {
                anyhow::bail!("--rate must be a number of messages per second above 0");
            }
            let mut last_line = std::time::Instant::now() - std::time::Duration::from_secs(1);
            let mut progress = |c: &model::Campaign, p: &campaign_console::delivery::Progress| {
                if last_line.elapsed() >= std::time::Duration::from_millis(500) || p.remaining == 0 {
                    last_line = std::time::Instant::now();
                    eprintln!(
                        "{} · delivery {}: {:>5.1} %  sent {}  failed {}  excluded {}  remaining {}",
                        c.name,
                        p.delivery,
                        p.fraction() * 100.0,
                        p.sent,
                        p.failed,
                        p.excluded,
                        p.remaining
                    );
                }
            };
            let summary = console.run_campaign(&campaign, again, rate, &mut progress, &|| false)?;
            if summary.resumed {
                say!("Carried on the unfinished run of \u{201c}{}\u{201d}.", summary.campaign.name);
            }
            print_deliveries(&summary.deliveries)?;
            Ok(())
        }
        Some(Cmd::Email { action: EmailCmd::Add { provider } }) => {
            let EmailProvider::Smtp { name, host, port, tls, username, from, reply_to, unsubscribe, rate } = provider;
            let console = open()?;
            let mut settings = serde_json::json!({ "host": host, "tls": tls, "from": from });
            for (key, value) in [("username", &username), ("reply_to", &reply_to), ("unsubscribe", &unsubscribe)] {
                if let Some(v) = value {
                    settings[key] = serde_json::Value::from(v.as_str());
                }
            }
            if let Some(p) = port {
                settings["port"] = serde_json::Value::from(p);
            }
            if let Some(r) = rate {
                settings["rate_per_second"] = serde_json::Value::from(r);
            }
            let keychain = console.keychain_status();
            // A server's deployment may give the password at each use instead (read only).
            let deployed = campaign_console::secrets::deployment_secret(&name).is_some();
            if username.is_some() && !keychain.is_persistent() && !deployed {
                anyhow::bail!(
                    "the password could not be kept, so nothing was added. {} {}",
                    keychain.describe(),
                    KEEP_SECRETS_HINT
                );
            }
            let password = match (&username, std::env::var("SMTP_PASSWORD")) {
                (None, _) => None,
                (Some(_), _) if deployed => None,
                (Some(_), Ok(p)) if !p.is_empty() => Some(p),
                (Some(user), _) => {
                    use std::io::IsTerminal;
                    if std::io::stdin().is_terminal() {
                        eprint!("Password for {user} (input shown; pipe it in or set SMTP_PASSWORD to hide it): ");
                    }
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    let p = line.trim_end_matches(['\r', '\n']).to_owned();
                    if p.is_empty() {
                        anyhow::bail!("no password given: pipe it on standard input or set SMTP_PASSWORD");
                    }
                    Some(p)
                }
            };
            let c = console.add_credential(
                model::Channel::Email,
                model::ProviderKind::Smtp,
                &name,
                settings,
                password.as_deref(),
            )?;
            if deployed {
                say!(
                    "Added the SMTP credential \u{201c}{}\u{201d}; its password is read from {} at each use (nothing stored).",
                    c.name,
                    campaign_console::secrets::deployment_variable(&c.name)
                );
            } else {
                say!("Added the SMTP credential \u{201c}{}\u{201d}. {}", c.name, console.keychain_status().describe());
            }
            Ok(())
        }
        Some(Cmd::Email { action: EmailCmd::Verify { credential } }) => {
            let console = open()?;
            let c = console
                .credentials()?
                .into_iter()
                .find(|c| c.channel == model::Channel::Email && c.name.eq_ignore_ascii_case(&credential))
                .ok_or_else(|| anyhow::anyhow!("there is no email credential called \u{201c}{credential}\u{201d}"))?;
            match console.verify_credential(Some(c.id), c.provider, &c.settings, None) {
                Ok(what) => {
                    say!("Verified: {what}");
                    Ok(())
                }
                Err(why) => anyhow::bail!("{} could not be verified: {why}", c.name),
            }
        }
        Some(Cmd::Scheduler { once }) => {
            let console = open()?;
            let holder = format!("scheduler-{}-{}", std::process::id(), uuid::Uuid::new_v4());
            if !once {
                eprintln!("Launching scheduled campaigns at their times; Ctrl+C stops.");
            }
            loop {
                for r in console.launch_due(&holder, &|| false)? {
                    let missed =
                        if r.missed > 0 { format!(", {} missed launches caught up", r.missed) } else { String::new() };
                    say!(
                        "{} launched \u{201c}{}\u{201d} (due {}{missed}): {}{}",
                        local(console.now()),
                        r.campaign,
                        local(r.scheduled_for),
                        if r.failed { "failed: " } else { "" },
                        r.outcome
                    );
                }
                if once {
                    return Ok(());
                }
                std::thread::sleep(campaign_console::console::SCHEDULER_TICK);
            }
        }
        Some(Cmd::Keychain) => {
            let keychain = if cli.ephemeral_secrets {
                campaign_console::secrets::KeychainStatus::Ephemeral
            } else {
                campaign_console::secrets::open_system_store().1
            };
            say!("{}", keychain.describe());
            if let Some(why) = keychain.technical_reason() {
                say!("(the system keychain was not used: {why})");
            }
            if !keychain.is_persistent() {
                say!("{KEEP_SECRETS_HINT}");
            }
            Ok(())
        }
        Some(Cmd::Deliveries { campaign }) => {
            let console = open()?;
            let list = console.deliveries(campaign.as_deref())?;
            if list.is_empty() {
                say!("No delivery yet: `campaign-console run <campaign>` sends one.");
            } else {
                print_deliveries(&list)?;
            }
            Ok(())
        }
        Some(Cmd::Schedule { campaign, next }) => {
            let console = open()?;
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
                        say!(
                            "{} ({}), times in {}:",
                            a.label,
                            a.id,
                            plan.time_zone().iana_name().unwrap_or("local time")
                        );
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
        Some(Cmd::Data) => {
            let console = open()?;
            let overview = console.data_overview()?;
            for e in &overview.entities {
                let rows = e.row_count.map_or_else(|| "table missing".to_owned(), |n| format!("{n} rows"));
                say!(
                    "{} ({rows}): {}",
                    e.entity.name,
                    e.entity
                        .columns
                        .iter()
                        .map(|c| format!("{} {}", c.name, c.column_type.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            for (l, dangling) in overview.links.iter().zip(&overview.dangling) {
                let nowhere = match dangling {
                    Some(n) if *n > 0 => format!("  ({n} rows point at no {})", l.parent),
                    _ => String::new(),
                };
                say!("link {}.{} → {}{nowhere}", l.child, l.foreign_key, l.parent);
            }
            for n in &overview.identity_namespaces {
                say!("identity {} = {}.{}", n.name, n.entity, n.column);
            }
            Ok(())
        }
    }
}

/// What to do when secrets cannot be kept, for commands that store them.
const KEEP_SECRETS_HINT: &str = "To keep secrets, run without --ephemeral-secrets where a keychain service runs: \
on a desktop, GNOME Keyring or KWallet; on a server, start a Secret Service in a D-Bus session \
(`dbus-run-session -- sh -c 'echo -n PASSWORD | gnome-keyring-daemon --unlock --components=secrets; campaign-console …'`), \
or give each credential's secret to the commands in CAMPAIGN_CONSOLE_SECRET_<NAME> (or a file of that name in \
systemd's $CREDENTIALS_DIRECTORY): it is read at each use and never stored.";

fn print_deliveries(list: &[campaign_console::store::deliveries::Delivery]) -> std::io::Result<()> {
    use campaign_console::store::deliveries::status;
    say!(
        "{:>5}  {:<24} {:<8} {:<10} {:>8} {:>8} {:>8} {:>9} {:>11} {:>9}  {}",
        "id",
        "activity",
        "channel",
        "status",
        "total",
        "sent",
        "failed",
        "excluded",
        "unconfirmed",
        "remaining",
        "through"
    );
    for d in list {
        let remaining = d.count(status::QUEUED) + d.count(status::SENDING) + d.count(status::RETRY);
        say!(
            "{:>5}  {:<24} {:<8} {:<10} {:>8} {:>8} {:>8} {:>9} {:>11} {:>9}  {}",
            d.id,
            d.activity_name(),
            d.channel,
            d.status,
            d.total(),
            d.count(status::SENT),
            d.count(status::FAILED),
            d.count(status::EXCLUDED),
            d.count(status::UNCONFIRMED),
            remaining,
            d.credential.as_deref().unwrap_or("the built-in Sandbox")
        );
    }
    Ok(())
}
