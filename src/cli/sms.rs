//! `campaign-console sms`: adds a Twilio credential (its Auth Token to the keychain), lists and
//! removes SMS credentials, and verifies one with a real message; `sms configuration` is in
//! `sms_configuration.rs`.

use campaign_console::console::Console;
use campaign_console::model::{self, Channel, ProviderSettings};
use clap::Subcommand;

use super::local;

#[derive(Subcommand)]
pub enum SmsCmd {
    /// Add an SMS credential. Its secret is read from standard input (or the variable the
    /// provider names), never from an argument; it goes to the keychain.
    Add {
        #[command(subcommand)]
        provider: SmsProvider,
    },
    /// List the SMS credentials (no secret is printed) and the configurations.
    List,
    /// Add, change or remove an SMS configuration: what an SMS activity picks (a credential,
    /// the sender, the keywords people reply with and the replies, short links).
    Configuration {
        #[command(subcommand)]
        action: super::sms_configuration::ConfigurationCmd,
    },
    /// Print the two URLs a custom credential gives its provider (inbound messages, delivery
    /// feedback), with the credential's token.
    Webhooks {
        /// The credential's name.
        credential: String,
        /// Where this app's server is reachable from the provider; default: the workspace's
        /// (Settings → Server).
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
    },
    /// Remove an SMS credential and its keychain entries (refused while a live campaign sends
    /// through it).
    Remove {
        /// The credential's name.
        credential: String,
    },
    /// Send one real message through a credential; prints the provider's message id, or exits
    /// with the provider's code and words.
    Verify {
        /// The credential's name.
        credential: String,
        /// The number to send to, in international form (+33612345678).
        #[arg(long)]
        to: String,
        /// The message.
        #[arg(long)]
        body: String,
    },
}

#[derive(Subcommand)]
pub enum SmsProvider {
    /// Twilio: the Auth Token is read from standard input or TWILIO_AUTH_TOKEN.
    Twilio(Box<TwilioArgs>),
    /// Any HTTP SMS or RCS API: the payload template (JSON with {{to}}, {{from}}, {{body}},
    /// {{message_id}}, {{profile.*}}) is read from a file; the password, token, key or OAuth2
    /// client secret from standard input or CUSTOM_SMS_SECRET.
    Custom(Box<CustomArgs>),
}

#[derive(clap::Args)]
pub struct TwilioArgs {
    /// The credential's name (unique).
    #[arg(long)]
    name: String,
    /// AC followed by 32 hexadecimal digits.
    #[arg(long)]
    account_sid: String,
    /// MG followed by 32 hexadecimal digits (else give --from).
    #[arg(long, required_unless_present = "from")]
    messaging_service_sid: Option<String>,
    /// The sender's number (+14155550100), when there is no Messaging Service.
    #[arg(long)]
    from: Option<String>,
    /// The number people reply to.
    #[arg(long)]
    inbound_number: Option<String>,
    /// Where Twilio's API is (a local fake); default https://api.twilio.com.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Where this app's server is reachable, for delivery reports.
    #[arg(long, value_name = "URL")]
    status_callback_base: Option<String>,
    /// At most this many messages per second.
    #[arg(long, allow_negative_numbers = true)]
    rate: Option<f64>,
    /// Make it the SMS default: what SMS activities that name no credential send with.
    #[arg(long)]
    default: bool,
}

#[derive(clap::Args)]
pub struct CustomArgs {
    /// The credential's name (unique).
    #[arg(long)]
    name: String,
    /// The provider as people name it; default: the credential's name.
    #[arg(long)]
    provider_name: Option<String>,
    /// Where messages are sent.
    #[arg(long)]
    url: String,
    /// The payload template's file.
    #[arg(long, value_name = "FILE")]
    payload: std::path::PathBuf,
    /// none, basic, bearer, header:NAME (an API key in header NAME) or oauth2.
    #[arg(long, default_value = "none")]
    auth: String,
    /// The user (basic) or client ID (oauth2).
    #[arg(long)]
    user: Option<String>,
    /// The OAuth2 token URL.
    #[arg(long, value_name = "URL")]
    token_url: Option<String>,
    /// An extra header, "Name: value" (again for more).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The sender ({{from}}).
    #[arg(long)]
    from: Option<String>,
    /// A JSON pointer to the message id in the provider's answer.
    #[arg(long, value_name = "POINTER")]
    message_id_at: Option<String>,
    /// A JSON pointer to the error code in a refusal.
    #[arg(long, value_name = "POINTER")]
    error_at: Option<String>,
    /// At most this many messages per second.
    #[arg(long, allow_negative_numbers = true)]
    rate: Option<f64>,
    /// Make it the SMS default.
    #[arg(long)]
    default: bool,
}

pub fn run(console: &Console, action: SmsCmd) -> anyhow::Result<()> {
    match action {
        SmsCmd::Add { provider } => add(console, provider),
        SmsCmd::List => list(console),
        SmsCmd::Configuration { action } => super::sms_configuration::run(console, action),
        SmsCmd::Webhooks { credential, public_url } => {
            let c = find(console, &credential)?;
            let public_url = match public_url {
                Some(u) => u,
                None => console.server_settings()?.public_base(),
            };
            let (inbound, feedback) = console.sms_webhook_urls(c.id, &public_url)?;
            say!("Inbound messages:  {inbound}");
            say!("Delivery feedback: {feedback}");
            Ok(())
        }
        SmsCmd::Remove { credential } => {
            let c = find(console, &credential)?;
            console.delete_credential(c.id)?;
            say!("Removed the SMS credential \u{201c}{}\u{201d} and its keychain entries.", c.name);
            Ok(())
        }
        SmsCmd::Verify { credential, to, body } => {
            let c = find(console, &credential)?;
            let v = console.verify_sms(c.id, &to, &body)?;
            if v.ok {
                say!("Verified: {}", v.summary);
                Ok(())
            } else {
                anyhow::bail!(
                    "{} could not send: {} [code {}; the provider said: {}]",
                    c.name,
                    v.summary,
                    v.code,
                    v.detail
                )
            }
        }
    }
}

pub(super) fn find(console: &Console, name: &str) -> anyhow::Result<model::Credential> {
    console
        .credentials()?
        .into_iter()
        .find(|c| c.channel == Channel::Sms && c.name.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            anyhow::anyhow!("there is no SMS credential called \u{201c}{name}\u{201d} (`sms list` lists them)")
        })
}

fn add(console: &Console, provider: SmsProvider) -> anyhow::Result<()> {
    match provider {
        SmsProvider::Twilio(args) => add_twilio(console, *args),
        SmsProvider::Custom(args) => add_custom(console, *args),
    }
}

fn add_twilio(console: &Console, args: TwilioArgs) -> anyhow::Result<()> {
    let TwilioArgs {
        name,
        account_sid,
        messaging_service_sid,
        from,
        inbound_number,
        base_url,
        status_callback_base,
        rate,
        default,
    } = args;
    let settings = ProviderSettings::Twilio(model::settings::Twilio {
        account_sid,
        messaging_service_sid: messaging_service_sid.unwrap_or_default(),
        from: from.unwrap_or_default(),
        inbound_number: inbound_number.unwrap_or_default(),
        base_url: base_url.unwrap_or_default(),
        status_callback_base: status_callback_base.unwrap_or_default(),
        timeout_seconds: None,
        pace: model::settings::Pace { rate_per_second: rate, ..Default::default() },
    });
    // Settings that cannot work are refused before a token is asked for.
    if let Err(e) = campaign_console::channels::check_settings(&settings) {
        anyhow::bail!("nothing was added: {e}");
    }
    let deployed = campaign_console::secrets::deployment_secret(&name).is_some();
    super::keeps_secrets(console, "the Auth Token", deployed)?;
    let token = if deployed { None } else { Some(read_secret("TWILIO_AUTH_TOKEN", "Auth Token")?) };
    let c = console.add_credential(Channel::Sms, &name, settings, token.as_deref())?;
    if default {
        console.make_default_credential(c.id)?;
    }
    if deployed {
        say!(
            "Added the Twilio credential \u{201c}{}\u{201d}; its Auth Token is read from {} at each use (nothing stored).",
            c.name,
            campaign_console::secrets::deployment_variable(&c.name)
        );
    } else {
        say!("Added the Twilio credential \u{201c}{}\u{201d}. {}", c.name, console.keychain_status().describe());
    }
    if default {
        say!("SMS activities that name no credential now send through it.");
    }
    Ok(())
}

fn add_custom(console: &Console, args: CustomArgs) -> anyhow::Result<()> {
    let CustomArgs {
        name,
        provider_name,
        url,
        payload,
        auth,
        user,
        token_url,
        headers,
        from,
        message_id_at,
        error_at,
        rate,
        default,
    } = args;
    let template = std::fs::read_to_string(&payload)
        .map_err(|e| anyhow::anyhow!("the payload template {} cannot be read: {e}", payload.display()))?;
    let (auth, auth_header) = match auth.split_once(':') {
        Some(("header", name)) => ("header".to_owned(), name.trim().to_owned()),
        _ => (auth.trim().to_owned(), String::new()),
    };
    let mut header_map = std::collections::BTreeMap::new();
    for h in &headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| anyhow::anyhow!("--header \u{201c}{h}\u{201d} needs a colon: \"Name: value\""))?;
        header_map.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    let settings = ProviderSettings::CustomSms(Box::new(model::settings::CustomSms {
        provider_name: provider_name.unwrap_or_else(|| name.clone()),
        url,
        auth: auth.clone(),
        username: user.unwrap_or_default(),
        auth_header,
        token_url: token_url.unwrap_or_default(),
        headers: header_map,
        from: from.unwrap_or_default(),
        payload: template,
        message_id_pointer: message_id_at.unwrap_or_default(),
        error_pointer: error_at.unwrap_or_default(),
        pace: model::settings::Pace { rate_per_second: rate, ..Default::default() },
        ..Default::default()
    }));
    if let Err(e) = campaign_console::channels::check_settings(&settings) {
        anyhow::bail!("nothing was added: {e}");
    }
    super::keeps_secrets(console, "the credential's secrets", false)?;
    let keychain = console.keychain_status();
    let secret = if auth == "none" { None } else { Some(read_secret("CUSTOM_SMS_SECRET", "secret")?) };
    let c = console.add_credential(Channel::Sms, &name, settings, secret.as_deref())?;
    if default {
        console.make_default_credential(c.id)?;
    }
    say!("Added the custom SMS credential \u{201c}{}\u{201d}. {}", c.name, keychain.describe());
    say!("Give its provider these URLs (`sms webhooks` prints them again, for another public URL):");
    let (inbound, feedback) = console.sms_webhook_urls(c.id, &console.server_settings()?.public_base())?;
    say!("  inbound messages:  {inbound}");
    say!("  delivery feedback: {feedback}");
    Ok(())
}

/// A secret from `variable`, else the first line of standard input.
fn read_secret(variable: &str, what: &str) -> anyhow::Result<String> {
    if let Ok(v) = std::env::var(variable)
        && !v.trim().is_empty()
    {
        return Ok(v.trim().to_owned());
    }
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprint!("{what} (input shown; pipe it in or set {variable} to hide it): ");
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let value = line.trim().to_owned();
    if value.is_empty() {
        anyhow::bail!("no {what} given: pipe it on standard input or set {variable}; nothing was added");
    }
    Ok(value)
}

fn list(console: &Console) -> anyhow::Result<()> {
    let credentials: Vec<model::Credential> =
        console.credentials()?.into_iter().filter(|c| c.channel == Channel::Sms).collect();
    if credentials.is_empty() {
        say!("No SMS credential: messages go through the built-in Sandbox.");
        return Ok(());
    }
    say!("{:<24} {:<18} {:<16} {:<22} last verified", "name", "vendor", "inbound number", "sender");
    for c in credentials {
        let (inbound, sender) = match &c.settings {
            ProviderSettings::Twilio(t) => (
                t.inbound_number.clone(),
                if t.messaging_service_sid.is_empty() { t.from.clone() } else { t.messaging_service_sid.clone() },
            ),
            ProviderSettings::CustomSms(s) => (String::new(), s.from.clone()),
            _ => (String::new(), String::new()),
        };
        let verified = c.verified.as_ref().map_or_else(
            || "never".to_owned(),
            |v| format!("{} {}", local(v.at), if v.ok { "worked".to_owned() } else { format!("failed ({})", v.code) }),
        );
        let name = if c.is_default { format!("{} (default)", c.name) } else { c.name.clone() };
        say!(
            "{:<24} {:<18} {:<16} {:<22} {verified}",
            name,
            c.provider().label(),
            if inbound.is_empty() { "—" } else { &inbound },
            if sender.is_empty() { "—" } else { &sender }
        );
    }
    let configurations = console.sms_configurations()?;
    if !configurations.is_empty() {
        say!("");
        say!("{:<24} {:<24} {:<36} {:<8} opt-out keywords", "configuration", "credential", "sender", "links");
        let all = console.credentials()?;
        for s in configurations {
            let credential = all.iter().find(|c| c.id == s.credential_id).map_or("—", |c| c.name.as_str());
            say!(
                "{:<24} {:<24} {:<36} {:<8} {}",
                s.name,
                credential,
                s.sender().unwrap_or("the credential's"),
                if s.shorten_links { "short" } else { "as typed" },
                s.keywords.opt_out.join(",")
            );
        }
    }
    Ok(())
}
