//! `campaign-console keychain`: says where secrets are kept on this machine.

use campaign_console::secrets::{self, KeychainStatus};

use super::KEEP_SECRETS_HINT;

pub fn run(ephemeral_secrets: bool) -> anyhow::Result<()> {
    let keychain = if ephemeral_secrets { KeychainStatus::Ephemeral } else { secrets::open_system_store().1 };
    say!("{}", keychain.describe());
    if let Some(why) = keychain.technical_reason() {
        say!("(the system keychain was not used: {why})");
    }
    if !keychain.is_persistent() {
        say!("{KEEP_SECRETS_HINT}");
    }
    Ok(())
}
