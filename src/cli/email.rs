//! `campaign-console email`: adds an SMTP credential (its password to the keychain) or
//! verifies one.

use campaign_console::console::Console;
use campaign_console::model;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum EmailCmd {
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
pub enum EmailProvider {
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
        /// Default: this app's server's, with one-click unsubscribe.
        #[arg(long)]
        unsubscribe: Option<String>,
        /// Track opens and clicks: links and an open image through this app's server.
        #[arg(long, default_value = "on", value_parser = ["on", "off"])]
        tracking: String,
        /// At most this many messages per second.
        #[arg(long, allow_negative_numbers = true)]
        rate: Option<f64>,
    },
}

pub fn run(console: &Console, action: EmailCmd) -> anyhow::Result<()> {
    match action {
        EmailCmd::Add { provider } => add(console, provider),
        EmailCmd::Verify { credential } => verify(console, &credential),
    }
}

fn add(console: &Console, provider: EmailProvider) -> anyhow::Result<()> {
    let EmailProvider::Smtp { name, host, port, tls, username, from, reply_to, unsubscribe, tracking, rate } = provider;
    let settings = model::ProviderSettings::Smtp(model::settings::Smtp {
        host,
        port: port.map(f64::from),
        tls,
        username: username.clone().unwrap_or_default(),
        from,
        reply_to: reply_to.unwrap_or_default(),
        unsubscribe: unsubscribe.unwrap_or_default(),
        tracking,
        timeout_seconds: None,
        pace: model::settings::Pace { rate_per_second: rate, ..Default::default() },
    });
    // A server's deployment may give the password at each use instead (read only).
    let deployed = campaign_console::secrets::deployment_secret(&name).is_some();
    if username.is_some() {
        super::keeps_secrets(console, "the password", deployed)?;
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
    let c = console.add_credential(model::Channel::Email, &name, settings, password.as_deref())?;
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

fn verify(console: &Console, credential: &str) -> anyhow::Result<()> {
    let c = console
        .credentials()?
        .into_iter()
        .find(|c| c.channel == model::Channel::Email && c.name.eq_ignore_ascii_case(credential))
        .ok_or_else(|| anyhow::anyhow!("there is no email credential called \u{201c}{credential}\u{201d}"))?;
    match console.verify_credential(Some(c.id), &c.settings, None) {
        Ok(what) => {
            say!("Verified: {what}");
            Ok(())
        }
        Err(why) => anyhow::bail!("{} could not be verified: {why}", c.name),
    }
}
