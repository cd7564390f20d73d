//! `campaign-console sms configuration`: adds, changes and removes the SMS configurations SMS
//! activities pick (a credential, a sender, keywords and replies, short links), for a server
//! run without the window.

use campaign_console::console::Console;
use campaign_console::model::sms::{Keywords, SmsConfiguration, parse_keywords};
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum ConfigurationCmd {
    /// Add a configuration, or change the one of that name (what is not given is kept).
    Set(Box<SetArgs>),
    /// Remove a configuration (refused while a live campaign sends with it).
    Remove {
        /// The configuration's name.
        name: String,
    },
}

#[derive(Args)]
pub struct SetArgs {
    /// The configuration's name.
    name: String,
    /// The SMS credential it sends through (needed for a new one).
    #[arg(long)]
    credential: Option<String>,
    /// The sender: a phone number in international form, or a Twilio Messaging Service SID
    /// (MG…); "" for the credential's own.
    #[arg(long, allow_hyphen_values = true)]
    sender: Option<String>,
    /// Opt-out keywords, separated by commas (default STOP, STOPALL, UNSUBSCRIBE, CANCEL, END,
    /// QUIT).
    #[arg(long, value_name = "WORDS")]
    opt_out: Option<String>,
    #[arg(long, value_name = "TEXT")]
    opt_out_reply: Option<String>,
    /// Opt-in keywords (default START, YES, UNSTOP).
    #[arg(long, value_name = "WORDS")]
    opt_in: Option<String>,
    #[arg(long, value_name = "TEXT")]
    opt_in_reply: Option<String>,
    /// Help keywords (default HELP, INFO).
    #[arg(long, value_name = "WORDS")]
    help_keywords: Option<String>,
    #[arg(long, value_name = "TEXT")]
    help_reply: Option<String>,
    /// Shorten the links of its messages through this app's server (`--shorten-links false`
    /// turns it off).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    shorten_links: Option<bool>,
}

pub fn run(console: &Console, action: ConfigurationCmd) -> anyhow::Result<()> {
    match action {
        ConfigurationCmd::Set(args) => set(console, *args),
        ConfigurationCmd::Remove { name } => {
            let c = find(console, &name)?.ok_or_else(|| {
                anyhow::anyhow!("there is no SMS configuration called \u{201c}{name}\u{201d} (`sms list` lists them)")
            })?;
            console.delete_sms_configuration(c.id)?;
            say!("Removed the SMS configuration \u{201c}{}\u{201d}.", c.name);
            Ok(())
        }
    }
}

fn find(console: &Console, name: &str) -> anyhow::Result<Option<SmsConfiguration>> {
    Ok(console.sms_configurations()?.into_iter().find(|c| c.name.eq_ignore_ascii_case(name.trim())))
}

fn set(console: &Console, args: SetArgs) -> anyhow::Result<()> {
    let existing = find(console, &args.name)?;
    let mut c = existing.clone().unwrap_or(SmsConfiguration {
        id: 0,
        name: args.name.trim().to_owned(),
        credential_id: 0,
        sender: String::new(),
        keywords: Keywords::default(),
        shorten_links: false,
        created_at: jiff::Timestamp::UNIX_EPOCH,
    });
    match args.credential.as_deref() {
        Some(name) => c.credential_id = super::sms::find(console, name)?.id,
        None if existing.is_none() => {
            anyhow::bail!(
                "a new configuration needs --credential: the SMS credential it sends through (`sms list` lists them)"
            )
        }
        None => {}
    }
    let k = &mut c.keywords;
    for (given, words) in
        [(args.opt_out, &mut k.opt_out), (args.opt_in, &mut k.opt_in), (args.help_keywords, &mut k.help)]
    {
        if let Some(text) = given {
            *words = parse_keywords(&text);
        }
    }
    for (given, reply) in [
        (args.opt_out_reply, &mut k.opt_out_reply),
        (args.opt_in_reply, &mut k.opt_in_reply),
        (args.help_reply, &mut k.help_reply),
    ] {
        if let Some(text) = given {
            *reply = text.trim().to_owned();
        }
    }
    if let Some(sender) = args.sender {
        c.sender = sender.trim().to_owned();
    }
    if let Some(on) = args.shorten_links {
        c.shorten_links = on;
    }
    console.save_sms_configuration(&c)?;
    let verb = if existing.is_some() { "Changed" } else { "Added" };
    say!(
        "{verb} the SMS configuration \u{201c}{}\u{201d}: sends as {}, opt-out {}{}.",
        c.name,
        c.sender().unwrap_or("the credential's own sender"),
        c.keywords.opt_out.join(", "),
        if c.shorten_links {
            format!("; links shortened at {}/s/", console.server_settings()?.public_base())
        } else {
            String::new()
        }
    );
    Ok(())
}
