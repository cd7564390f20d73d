//! `campaign-console apikey`: the keys other systems call the execution API with — made
//! (printed once), listed, revoked.

use campaign_console::console::Console;
use campaign_console::model::api::ApiScope;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum ApiKeyCmd {
    /// Makes a key and prints it, once: it is kept only as a hash.
    Create {
        /// What the key is for ("Website"), to tell keys apart.
        #[arg(long)]
        name: String,
        /// What it may do, separated by commas: trigger (campaigns and executions), events.
        #[arg(long, default_value = "trigger,events", value_parser = scopes)]
        scope: Scopes,
    },
    /// The keys: name, first characters, scopes, created, last used, revoked.
    List,
    /// Revokes the key in use named NAME: calls with it are refused from now on.
    Revoke { name: String },
}

#[derive(Clone, Debug)]
pub struct Scopes(Vec<ApiScope>);

fn scopes(s: &str) -> Result<Scopes, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        out.push(
            ApiScope::parse(part).ok_or_else(|| format!("\u{201c}{part}\u{201d} is not a scope: trigger, events"))?,
        );
    }
    if out.is_empty() {
        return Err("give at least one scope: trigger, events".into());
    }
    Ok(Scopes(out))
}

pub fn run(console: &Console, action: ApiKeyCmd) -> anyhow::Result<()> {
    match action {
        ApiKeyCmd::Create { name, scope } => {
            let (key, kept) = console.create_api_key(&name, &scope.0)?;
            eprintln!(
                "API key \u{201c}{}\u{201d} made ({}). Copy it now: it is not shown again.",
                kept.name,
                kept.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            );
            say!("{key}");
        }
        ApiKeyCmd::List => {
            let keys = console.api_keys()?;
            if keys.is_empty() {
                say!("No API keys yet: campaign-console apikey create --name NAME");
            }
            for k in keys {
                let scopes = k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
                let used = k.last_used_at.map_or_else(|| "never used".to_owned(), |t| format!("last used {t}"));
                let state = k.revoked_at.map_or_else(String::new, |t| format!(" \u{b7} revoked {t}"));
                say!("{}\t{}\u{2026}\t{scopes}\tcreated {}\t{used}{state}", k.name, k.prefix, k.created_at);
            }
        }
        ApiKeyCmd::Revoke { name } => {
            console.revoke_api_key(&name)?;
            say!("Revoked \u{201c}{}\u{201d}.", name.trim());
        }
    }
    Ok(())
}
