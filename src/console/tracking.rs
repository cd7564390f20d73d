//! The workspace's tracking key and which deliveries are tracked (the core the sends and the
//! server's tracking share). The key is made at random the first time an email is tracked and
//! kept in the keychain; the workspace holds only where (`tracking_key_ref`). A server
//! deployment may give it instead (`CAMPAIGN_CONSOLE_SECRET_TRACKING_KEY`, or that file in
//! `$CREDENTIALS_DIRECTORY`), the same on every machine serving the workspace.

use std::sync::Arc;

use super::{Console, ConsoleError};
use crate::delivery::tracking::{Tracking, TrackingKey};
use crate::model::{Channel, Credential, SecretRef};
use crate::store;

/// The workspace setting naming where the key is in the keychain.
const KEY_REF: &str = "tracking_key_ref";

/// The deployment's name of the key (its variable is `CAMPAIGN_CONSOLE_SECRET_TRACKING_KEY`).
const DEPLOYMENT_NAME: &str = "tracking key";

impl Console {
    /// The workspace's tracking key: the deployment's, else the keychain's, made there the
    /// first time.
    pub(crate) fn tracking_key(&self) -> Result<Arc<TrackingKey>, ConsoleError> {
        let mut cached = self.tracking_key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = cached.as_ref() {
            return Ok(Arc::clone(key));
        }
        let key = Arc::new(self.load_tracking_key()?);
        *cached = Some(Arc::clone(&key));
        Ok(key)
    }

    fn load_tracking_key(&self) -> Result<TrackingKey, ConsoleError> {
        let unusable = |what: &str| {
            ConsoleError::CannotRun(format!(
                "the email tracking key {what} is not one (it needs at least 16 bytes, as base64url): give another, or turn tracking off in the email credential"
            ))
        };
        if let Some(given) = crate::secrets::deployment_secret(DEPLOYMENT_NAME) {
            return TrackingKey::from_secret(&given)
                .ok_or_else(|| unusable(&format!("in {}", crate::secrets::deployment_variable(DEPLOYMENT_NAME))));
        }
        let kept = store::customer_data::meta(&self.workspace.conn(), KEY_REF)?;
        if let Some(r) = kept.clone() {
            let secret = self.secrets.get(&SecretRef(r))?.ok_or_else(|| {
                ConsoleError::CannotRun(
                    "the email tracking key is missing from the keychain (it may have been removed, or this is another computer): tracked links sent before cannot be followed; send again to make a new key"
                        .into(),
                )
            });
            match secret {
                Ok(secret) => return TrackingKey::from_secret(&secret).ok_or_else(|| unusable("in the keychain")),
                // A key the keychain lost is replaced, so that new emails can be tracked.
                Err(e) => tracing::warn!("{e}"),
            }
        }
        let secret = TrackingKey::random_secret()
            .ok_or_else(|| ConsoleError::CannotRun("the system gave no random numbers to make a key with".into()))?;
        let r = SecretRef(format!("tracking/{}", uuid::Uuid::new_v4()));
        self.secrets.set(&r, &secret)?;
        // Another process (the window and `serve`) may have made one meanwhile: the first kept wins.
        let winner =
            store::customer_data::set_meta_unless_changed(&self.workspace.conn(), KEY_REF, kept.as_deref(), &r.0)?;
        if winner != r.0 {
            self.secrets.delete(&r)?;
            let theirs = self.secrets.get(&SecretRef(winner))?.unwrap_or_default();
            return TrackingKey::from_secret(&theirs).ok_or_else(|| unusable("in the keychain"));
        }
        TrackingKey::from_secret(&secret).ok_or_else(|| unusable("made"))
    }

    /// Where a delivery of `channel` through `credential` (`None`: the built-in Sandbox) sends
    /// its tracked links: the server's public URL when it is an email whose credential tracks,
    /// else `None`. (The key is read when the delivery sends, before its first message: this
    /// is called inside the transaction that writes the ledger.)
    pub(crate) fn tracking_base(
        &self,
        channel: Channel,
        credential: Option<&Credential>,
    ) -> Result<Option<String>, ConsoleError> {
        let tracks = channel == Channel::Email && credential.is_none_or(|c| c.settings.tracks_email());
        if !tracks {
            return Ok(None);
        }
        Ok(Some(self.server_settings()?.public_base()))
    }

    /// How a delivery kept with `base` is tracked.
    pub(crate) fn tracking_of(&self, base: Option<&str>) -> Result<Option<Tracking>, ConsoleError> {
        base.map(|b| Ok(Tracking::new(b, self.tracking_key()?))).transpose()
    }
}
