//! `campaign-console x`: adds an X service (its four keys read from standard input or the
//! environment, never an argument, checked with X, kept in the keychain), lists, checks and
//! removes them.

use campaign_console::channels::x;
use campaign_console::console::{Console, SecretValues};
use campaign_console::model::settings::XService;
use campaign_console::model::{Channel, ProviderSettings};
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum XCmd {
    /// Add an X service. Its keys are read from standard input as KEY=VALUE lines
    /// (consumer_key, consumer_secret, access_token, access_token_secret) or from
    /// X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET; X is asked
    /// whose they are before anything is kept.
    Add(Box<AddArgs>),
    /// List the X services (no secret is printed).
    List,
    /// Ask X whose keys a service has (GET /2/users/me).
    Check {
        /// The service's label.
        service: String,
    },
    /// Synchronize the followers of the services with Synchronize subscriptions on (or of one)
    /// into the visitors; progress on stderr; an interrupted run carries on where it stopped.
    Sync {
        /// Only this service (whatever its Synchronize subscriptions).
        service: Option<String>,
    },
    /// Remove a service and its keychain entries.
    Remove {
        /// The service's label.
        service: String,
    },
}

#[derive(Args)]
pub struct AddArgs {
    /// The service's label ("Brand account").
    #[arg(long)]
    label: String,
    /// The account's X handle (without @): the keys must be its.
    #[arg(long)]
    internal_name: String,
    /// Where its followers land (default Visitors).
    #[arg(long)]
    folder: Option<String>,
    /// A protected account that proofs go to.
    #[arg(long)]
    test_account: bool,
    /// Do not synchronize its followers.
    #[arg(long)]
    no_sync: bool,
    /// Where the X API is (default https://api.x.com).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Seconds between two direct messages (default 2; 0.1 to 3600).
    #[arg(long, value_name = "S")]
    dm_seconds_between: Option<f64>,
    /// Direct messages in 24 hours, at most (default 1000; 1 to 100000).
    #[arg(long, value_name = "N")]
    dm_per_day: Option<f64>,
}

pub fn run(console: &Console, action: XCmd) -> anyhow::Result<()> {
    match action {
        XCmd::Add(args) => add(console, *args),
        XCmd::List => list(console),
        XCmd::Check { service } => {
            let c = find(console, &service)?;
            let said = console.verify_credential_with(Some(c.id), &c.settings, SecretValues::new())?;
            say!("{said}");
            Ok(())
        }
        XCmd::Sync { service } => sync(console, service.as_deref()),
        XCmd::Remove { service } => {
            let c = find(console, &service)?;
            console.delete_credential(c.id)?;
            say!("Removed the X service \u{201c}{}\u{201d} and its keychain entries.", c.name);
            Ok(())
        }
    }
}

fn services(console: &Console) -> anyhow::Result<Vec<campaign_console::model::Credential>> {
    Ok(console.credentials()?.into_iter().filter(|c| x::service(c).is_some()).collect())
}

fn find(console: &Console, label: &str) -> anyhow::Result<campaign_console::model::Credential> {
    services(console)?
        .into_iter()
        .find(|c| c.name.eq_ignore_ascii_case(label.trim()))
        .ok_or_else(|| anyhow::anyhow!("there is no X service called \u{201c}{label}\u{201d} (`x list` lists them)"))
}

fn add(console: &Console, args: AddArgs) -> anyhow::Result<()> {
    let settings = ProviderSettings::XApi(XService {
        internal_name: args.internal_name.trim().trim_start_matches('@').to_owned(),
        visitor_folder: args.folder.unwrap_or_default(),
        sync_subscriptions: if args.no_sync { "off".into() } else { "on".into() },
        test_account: if args.test_account { "yes".into() } else { "no".into() },
        base_url: args.base_url.unwrap_or_default(),
        dm_seconds_between: args.dm_seconds_between,
        dm_per_day: args.dm_per_day,
        ..XService::default()
    });
    if let Err(e) = campaign_console::channels::check_settings(&settings) {
        anyhow::bail!("nothing was added: {e}");
    }
    super::keeps_secrets(console, "the service's keys", false)?;
    let keychain = console.keychain_status();
    let keys = read_keys()?;
    let c = console.add_credential_with(Channel::X, &args.label, settings, &keys)?;
    let said = console.verify_credential_with(Some(c.id), &c.settings, SecretValues::new())?;
    say!("Added the X service \u{201c}{}\u{201d}: {said}. {}", c.name, keychain.describe());
    Ok(())
}

/// The four keys: from the environment, else `KEY=VALUE` lines on standard input.
fn read_keys() -> anyhow::Result<SecretValues> {
    let slots = [
        (x::CONSUMER_KEY, "X_CONSUMER_KEY"),
        (x::CONSUMER_SECRET, "X_CONSUMER_SECRET"),
        (x::ACCESS_TOKEN, "X_ACCESS_TOKEN"),
        (x::ACCESS_TOKEN_SECRET, "X_ACCESS_TOKEN_SECRET"),
    ];
    let mut keys = SecretValues::new();
    for (slot, variable) in slots {
        if let Ok(v) = std::env::var(variable)
            && !v.trim().is_empty()
        {
            keys.insert(slot.to_owned(), v.trim().to_owned());
        }
    }
    if keys.len() < slots.len() {
        use std::io::{BufRead, IsTerminal};
        if std::io::stdin().is_terminal() {
            eprintln!(
                "Type the keys as KEY=VALUE lines (consumer_key, consumer_secret, access_token, access_token_secret), then Ctrl+D:"
            );
        }
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                anyhow::bail!("a line of the keys is not KEY=VALUE (the value is not shown); nothing was added");
            };
            let key = key.trim().to_ascii_lowercase();
            if !slots.iter().any(|(slot, _)| *slot == key) {
                anyhow::bail!(
                    "\u{201c}{key}\u{201d} is not one of the keys (consumer_key, consumer_secret, access_token, access_token_secret); nothing was added"
                );
            }
            keys.entry(key).or_insert_with(|| value.trim().to_owned());
        }
    }
    let missing: Vec<&str> =
        slots.iter().map(|(slot, _)| *slot).filter(|s| keys.get(*s).is_none_or(|v| v.is_empty())).collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "missing: {} (as KEY=VALUE lines on standard input, or X_CONSUMER_KEY… in the environment); nothing was added",
            missing.join(", ")
        );
    }
    Ok(keys)
}

fn sync(console: &Console, only: Option<&str>) -> anyhow::Result<()> {
    // Ctrl+C ends the process: each page is kept with the run's progress, so the next sync
    // carries on from there.
    let mut last = std::time::Instant::now();
    let runs = console.sync_followers(
        only,
        &mut |p| {
            let now = std::time::Instant::now();
            if p.waiting_until.is_some() || now.duration_since(last).as_millis() >= 500 {
                last = now;
                match p.waiting_until {
                    Some(until) => {
                        eprintln!("{}: waiting for the X rate limit until {}", p.service, super::local(until))
                    }
                    None => eprintln!("{}: {} pages, {} visitors", p.service, p.pages, p.visitors),
                }
            }
        },
        &|| false,
    )?;
    if runs.is_empty() {
        say!("No X service synchronizes its followers (Synchronize subscriptions is off, or there is none).");
    }
    let services = services(console)?;
    let mut failed = false;
    for r in runs {
        let name = services.iter().find(|c| c.id == r.service_id).map_or("?", |c| c.name.as_str());
        say!("{name}: {} ({})", r.outcome, r.status);
        failed |= r.status == "failed";
    }
    if failed {
        anyhow::bail!("a synchronization failed (above)");
    }
    Ok(())
}

fn list(console: &Console) -> anyhow::Result<()> {
    let list = services(console)?;
    if list.is_empty() {
        say!("No X service: X activities go through the built-in Sandbox.");
        return Ok(());
    }
    let handle = |c: &campaign_console::model::Credential| match x::service(c) {
        Some(x::Service { sandbox_followers: Some(n), handle, .. }) => format!("@{handle} (Sandbox, {n} followers)"),
        Some(s) => format!("@{}", s.handle),
        None => String::new(),
    };
    let width = list.iter().map(|c| handle(c).chars().count()).max().unwrap_or(0).max(17);
    say!("{:<24} {:<width$} {:<16} {:<6} test account", "label", "handle", "folder", "sync");
    for c in list {
        let Some(s) = x::service(&c) else { continue };
        let test = matches!(&c.settings, ProviderSettings::XApi(x) if x.is_test_account());
        say!(
            "{:<24} {:<width$} {:<16} {:<6} {}",
            c.name,
            handle(&c),
            s.folder,
            if s.synchronized { "on" } else { "off" },
            if test { "yes" } else { "no" }
        );
    }
    Ok(())
}
