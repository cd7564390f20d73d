//! Secrets (passwords, tokens, API secrets) live only in a [`SecretStore`]: the OS keychain in
//! normal use, or memory for tests and `--ephemeral-secrets`. The workspace keeps only a
//! [`SecretRef`]. Nothing here ever writes a secret to a file or a log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::model::SecretRef;

/// The keychain service name under which every secret of the app is filed.
pub const SERVICE: &str = "campaign-console";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the keychain refused access: {0}")]
    Access(String),
    #[error("the secret is too long or has a form the keychain does not accept: {0}")]
    Rejected(String),
    #[error("the keychain failed: {0}")]
    Platform(String),
}

/// A secret the user typed, on its way to the keychain or a connection check: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Typed(pub String);

impl std::fmt::Debug for Typed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Typed(***)")
    }
}

/// Where secrets are kept.
pub trait SecretStore: Send + Sync {
    fn set(&self, key: &SecretRef, secret: &str) -> Result<(), SecretError>;
    /// The secret, or `None` when nothing is stored under `key`.
    fn get(&self, key: &SecretRef) -> Result<Option<String>, SecretError>;
    /// Removes the secret; removing a missing one is not an error.
    fn delete(&self, key: &SecretRef) -> Result<(), SecretError>;
}

/// Which store the app uses, and what the user should know about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeychainStatus {
    /// The platform keychain (Secret Service, macOS Keychain, Windows Credential Manager).
    Platform,
    /// The Linux kernel keyring: no Secret Service was reachable. Secrets last until logout.
    KernelKeyring { why_not_platform: String },
    /// No keychain was reachable: secrets are kept in memory and forgotten when the app exits.
    MemoryFallback { reason: String },
    /// Memory only, by choice (`--ephemeral-secrets`, tests).
    Ephemeral,
}

impl KeychainStatus {
    /// One or two sentences for Settings, in plain words.
    pub fn describe(&self) -> String {
        match self {
            Self::Platform => "Secrets are stored in the system keychain.".into(),
            Self::KernelKeyring { .. } => {
                "No keychain service was found, so secrets are stored in the Linux kernel keyring; they last until you log out.".into()
            }
            Self::MemoryFallback { .. } => "No keychain is reachable. Secrets you enter are kept in memory for this session only and are never written to disk: enter them again after a restart, or start a keychain service (for example GNOME Keyring or KWallet).".into(),
            Self::Ephemeral => "Secrets are kept in memory for this session only (ephemeral mode).".into(),
        }
    }

    /// The technical reason the system keychain was not used, for the "details" toggle and
    /// the log.
    pub fn technical_reason(&self) -> Option<&str> {
        match self {
            Self::KernelKeyring { why_not_platform: r } | Self::MemoryFallback { reason: r } => Some(r),
            Self::Platform | Self::Ephemeral => None,
        }
    }

    /// Whether secrets survive a restart of the app.
    pub fn is_persistent(&self) -> bool {
        matches!(self, Self::Platform | Self::KernelKeyring { .. })
    }
}

/// The environment variable in which a deployment may give a credential's secret:
/// `CAMPAIGN_CONSOLE_SECRET_` and the credential's name in upper case, every other character
/// than a letter or a digit as `_` ("My relay" → `CAMPAIGN_CONSOLE_SECRET_MY_RELAY`). A file of
/// that name in systemd's `$CREDENTIALS_DIRECTORY` works too.
pub fn deployment_variable(credential: &str) -> String {
    let name: String = credential
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
        .collect();
    format!("CAMPAIGN_CONSOLE_SECRET_{name}")
}

/// A credential's secret as the deployment gives it (a server's service manager, a container):
/// the environment variable [`deployment_variable`] names, else the file of that name in
/// `$CREDENTIALS_DIRECTORY` (systemd's `LoadCredential=`). Read only, never written anywhere.
pub fn deployment_secret(credential: &str) -> Option<String> {
    deployment_slot_secret(credential, crate::model::SECRET_SLOT)
}

/// The variable (or `$CREDENTIALS_DIRECTORY` file) giving slot `slot` of a credential's
/// secrets: [`deployment_variable`] for the one secret (`secret`), with `_<SLOT>` after it for
/// the others (`CAMPAIGN_CONSOLE_SECRET_X_ACCOUNT_API_KEY`).
pub fn deployment_slot_variable(credential: &str, slot: &str) -> String {
    let base = deployment_variable(credential);
    if slot == crate::model::SECRET_SLOT {
        return base;
    }
    let slot: String =
        slot.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("{base}_{slot}")
}

/// Slot `slot` of a credential's secrets as the deployment gives it (see [`deployment_secret`]).
pub fn deployment_slot_secret(credential: &str, slot: &str) -> Option<String> {
    let variable = deployment_slot_variable(credential, slot);
    if let Ok(value) = std::env::var(&variable)
        && !value.is_empty()
    {
        return Some(value);
    }
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    let value = std::fs::read_to_string(std::path::Path::new(&dir).join(&variable)).ok()?;
    let value = value.trim_end_matches(['\r', '\n']).to_owned();
    (!value.is_empty()).then_some(value)
}

/// Keeps secrets in memory only.
#[derive(Default)]
pub struct MemoryStore {
    secrets: Mutex<HashMap<String, String>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A panic elsewhere cannot leave the map half-updated (each call is one insert/remove).
        self.secrets.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SecretStore for MemoryStore {
    fn set(&self, key: &SecretRef, secret: &str) -> Result<(), SecretError> {
        self.map().insert(key.0.clone(), secret.to_owned());
        Ok(())
    }

    fn get(&self, key: &SecretRef) -> Result<Option<String>, SecretError> {
        Ok(self.map().get(&key.0).cloned())
    }

    fn delete(&self, key: &SecretRef) -> Result<(), SecretError> {
        self.map().remove(&key.0);
        Ok(())
    }
}

/// Secrets in the keychain selected as keyring-core's default store at start-up.
pub struct KeychainStore {
    service: String,
}

fn classify(err: keyring_core::Error) -> SecretError {
    use keyring_core::Error as E;
    match err {
        E::NoStorageAccess(e) => SecretError::Access(e.to_string()),
        E::TooLong(what, max) => SecretError::Rejected(format!("{what} is longer than {max}")),
        E::Invalid(what, why) => SecretError::Rejected(format!("{what}: {why}")),
        E::BadEncoding(_) => SecretError::Rejected("stored secret is not text".into()),
        other => SecretError::Platform(other.to_string()),
    }
}

impl KeychainStore {
    fn entry(&self, key: &SecretRef) -> Result<keyring_core::Entry, SecretError> {
        keyring_core::Entry::new(&self.service, &key.0).map_err(classify)
    }
}

impl SecretStore for KeychainStore {
    fn set(&self, key: &SecretRef, secret: &str) -> Result<(), SecretError> {
        self.entry(key)?.set_password(secret).map_err(classify)
    }

    fn get(&self, key: &SecretRef) -> Result<Option<String>, SecretError> {
        match self.entry(key)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    fn delete(&self, key: &SecretRef) -> Result<(), SecretError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}

/// Writes, reads back and deletes a throw-away entry: a store that was constructed may still
/// be unusable (a locked or absent Secret Service).
fn probe(store: &KeychainStore) -> Result<(), SecretError> {
    let key = SecretRef(format!("probe/{}", uuid::Uuid::new_v4()));
    store.set(&key, "probe")?;
    let back = store.get(&key)?;
    store.delete(&key)?;
    if back.as_deref() == Some("probe") {
        Ok(())
    } else {
        Err(SecretError::Platform("it did not return what was stored".into()))
    }
}

/// Chooses the secret store for this run: the platform keychain; on Linux without one, the
/// kernel keyring; else memory, with the reason. Each attempt is bounded in time so that a
/// keychain that never answers cannot hold up the start of the app.
pub fn open_system_store() -> (Arc<dyn SecretStore>, KeychainStatus) {
    let keychain = || Arc::new(KeychainStore { service: SERVICE.into() });

    let platform = with_timeout("keychain-probe", || {
        keyring::Entry::store_status().as_ref().map_err(|e| SecretError::Platform(e.to_string()))?;
        probe(&KeychainStore { service: SERVICE.into() })
    });
    let why_not_platform = match platform {
        Ok(()) => return (keychain(), KeychainStatus::Platform),
        Err(why) => why.to_string(),
    };
    tracing::warn!("system keychain not usable: {why_not_platform}");

    #[cfg(target_os = "linux")]
    {
        let kernel = with_timeout("keyutils-probe", || {
            let store = linux_keyutils_keyring_store::Store::new().map_err(|e| SecretError::Platform(e.to_string()))?;
            keyring_core::set_default_store(store);
            probe(&KeychainStore { service: SERVICE.into() })
        });
        match kernel {
            Ok(()) => return (keychain(), KeychainStatus::KernelKeyring { why_not_platform }),
            Err(why) => {
                keyring_core::unset_default_store();
                tracing::warn!("kernel keyring not usable: {why}");
            }
        }
    }

    let status = KeychainStatus::MemoryFallback { reason: why_not_platform };
    (Arc::new(MemoryStore::new()), status)
}

fn with_timeout(name: &str, f: impl FnOnce() -> Result<(), SecretError> + Send + 'static) -> Result<(), SecretError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new().name(name.into()).spawn(move || {
        // The receiver may have given up already; nothing to do then.
        let _ = tx.send(f());
    });
    if let Err(e) = spawned {
        return Err(SecretError::Platform(format!("could not start a thread: {e}")));
    }
    rx.recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| Err(SecretError::Platform("it did not answer within 5 seconds".into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trip() {
        let s = MemoryStore::new();
        let k = SecretRef("credential/1/password".into());
        assert_eq!(s.get(&k).unwrap(), None);
        s.set(&k, "hunter2").unwrap();
        assert_eq!(s.get(&k).unwrap().as_deref(), Some("hunter2"));
        s.delete(&k).unwrap();
        s.delete(&k).unwrap();
        assert_eq!(s.get(&k).unwrap(), None);
    }

    #[test]
    fn keychain_store_against_mock() {
        keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
        let s = KeychainStore { service: SERVICE.into() };
        let k = SecretRef("credential/7/token".into());
        assert_eq!(s.get(&k).unwrap(), None);
        s.set(&k, "tok").unwrap();
        assert_eq!(s.get(&k).unwrap().as_deref(), Some("tok"));
        s.delete(&k).unwrap();
        assert_eq!(s.get(&k).unwrap(), None);
    }
}
