//! Provider credentials: adding, changing, deleting them (secrets to the keychain, only
//! references in the workspace), the channel's default, Verify and a test message.

use super::{ChannelCommand, ChannelEvent, Console, ConsoleError, Event, UserError};
use crate::model::{Channel, Credential, ProviderKind, SecretRef};
use crate::store;

impl Console {
    /// Saves a provider credential: the secret (if any) goes to the secret store first, the
    /// workspace keeps only its reference. If the workspace refuses the credential, the secret
    /// is removed again so nothing is left behind.
    pub fn add_credential(
        &self,
        channel: Channel,
        provider: ProviderKind,
        name: &str,
        settings: serde_json::Value,
        secret: Option<&str>,
    ) -> Result<Credential, ConsoleError> {
        crate::channels::check_settings(provider, &settings).map_err(ConsoleError::Invalid)?;
        let secret_ref = match secret {
            Some(value) => {
                let r = SecretRef(format!("credential/{}", uuid::Uuid::new_v4()));
                self.secrets.set(&r, value)?;
                Some(r)
            }
            None => None,
        };
        let mut credential = Credential {
            id: 0,
            channel,
            provider,
            name: name.trim().to_owned(),
            settings,
            secret_ref,
            created_at: self.now(),
            is_default: false,
        };
        let conn = self.workspace.conn();
        match store::credentials::insert(&conn, &credential) {
            Ok(id) => credential.id = id,
            Err(e) => {
                if let Some(r) = &credential.secret_ref
                    && let Err(cleanup) = self.secrets.delete(r)
                {
                    tracing::warn!("could not remove the secret of a refused credential: {cleanup:#}");
                }
                return Err(e.into());
            }
        }
        store::audit::record(&conn, self.now(), "admin", "add credential", &credential.name, channel.as_str())?;
        Ok(credential)
    }

    fn credentials_event(&self) -> Event {
        match self.credentials() {
            Ok(list) => ChannelEvent::Credentials(list).into(),
            Err(e) => Event::Failed(UserError::new("Could not list the credentials", &e)),
        }
    }

    /// Changes a saved credential: name and settings, and the secret when `secret` is given
    /// (stored in the keychain first; the workspace keeps only its reference).
    pub fn update_credential(
        &self,
        id: i64,
        name: &str,
        settings: serde_json::Value,
        secret: Option<&str>,
    ) -> Result<Credential, ConsoleError> {
        let mut credential = self
            .credentials()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| store::StoreError::NotFound { what: format!("Credential {id}") })?;
        crate::channels::check_settings(credential.provider, &settings).map_err(ConsoleError::Invalid)?;
        let mut new_ref = None;
        if let Some(value) = secret {
            let r = credential
                .secret_ref
                .clone()
                .unwrap_or_else(|| SecretRef(format!("credential/{}", uuid::Uuid::new_v4())));
            self.secrets.set(&r, value)?;
            if credential.secret_ref.is_none() {
                new_ref = Some(r.clone());
            }
            credential.secret_ref = Some(r);
        }
        credential.name = name.trim().to_owned();
        credential.settings = settings;
        let conn = self.workspace.conn();
        if let Err(e) = store::credentials::update(&conn, &credential) {
            if let Some(r) = &new_ref
                && let Err(cleanup) = self.secrets.delete(r)
            {
                tracing::warn!("could not remove the secret of a refused change: {cleanup:#}");
            }
            return Err(e.into());
        }
        store::audit::record(
            &conn,
            self.now(),
            "admin",
            "change credential",
            &credential.name,
            credential.channel.as_str(),
        )?;
        Ok(credential)
    }

    /// Deletes a credential and its secret.
    /// Every problem with a credential's settings, each with the key of its field ("" for the
    /// whole form), so that a form can show them all at once.
    pub fn credential_problems(provider: ProviderKind, settings: &serde_json::Value) -> Vec<(&'static str, String)> {
        crate::channels::field_problems(provider, settings)
    }

    /// Makes credential `id` its channel's default: what activities that name no credential
    /// send with from now on.
    pub fn make_default_credential(&self, id: i64) -> Result<(), ConsoleError> {
        let conn = self.workspace.conn();
        store::credentials::set_default(&conn, id)?;
        store::audit::record(&conn, self.now(), "admin", "make default credential", &id.to_string(), "")?;
        Ok(())
    }

    pub fn delete_credential(&self, id: i64) -> Result<(), ConsoleError> {
        let conn = self.workspace.conn();
        if let Some(r) = store::credentials::delete(&conn, id)? {
            self.secrets.delete(&r)?;
        }
        store::audit::record(&conn, self.now(), "admin", "delete credential", &id.to_string(), "")?;
        Ok(())
    }

    /// The secret a form typed, else the keychain's for the saved credential `existing`.
    fn typed_or_stored_secret(
        &self,
        typed: Option<String>,
        existing: Option<i64>,
    ) -> Result<Option<String>, ConsoleError> {
        match (typed, existing) {
            (Some(s), _) => Ok(Some(s)),
            (None, Some(id)) => match self.credentials()?.iter().find(|c| c.id == id) {
                Some(c) => self.credential_secret(c),
                None => Ok(None),
            },
            (None, None) => Ok(None),
        }
    }

    /// Sends one test message with a credential's settings (a typed secret instead of the
    /// stored one, as for Verify) to `to`. Says what the provider answered.
    pub fn send_test_message(
        &self,
        existing: Option<i64>,
        channel: Channel,
        kind: ProviderKind,
        settings: &serde_json::Value,
        secret: Option<String>,
        to: &str,
    ) -> Result<String, ConsoleError> {
        let to = to.trim();
        if let Some(address_kind) = store::deliveries::AddressKind::of(channel)
            && !store::deliveries::valid_address(address_kind, to)
        {
            return Err(ConsoleError::CannotRun(format!(
                "\u{201c}{to}\u{201d} is not an address this channel can send to"
            )));
        }
        let secret = self.typed_or_stored_secret(secret, existing)?;
        let (provider, _) = self.build_provider(kind, settings, secret)?;
        let m = crate::channels::Outgoing {
            idempotency_key: format!("test:{}", uuid::Uuid::new_v4()),
            channel,
            address: to.to_owned(),
            subject: "Campaign Console test message".into(),
            text: "This is a test message from Campaign Console: the credential works.".into(),
            html: "<p>This is a test message from <strong>Campaign Console</strong>: the credential works.</p>".into(),
            fields: Vec::new(),
        };
        match self.runtime.block_on(provider.send(&m)) {
            Ok(id) => Ok(format!("a test message was sent to {to} (the server's id: {id})")),
            Err(e) => Err(ConsoleError::CannotRun(format!("the test message was not sent: {}", e.message()))),
        }
    }

    /// Checks a credential's settings and connects with them (authenticating, where the
    /// provider signs in) without sending anything. `secret` replaces the stored one (a form not
    /// saved yet); `None` uses the keychain's, for a saved credential. Says what was checked.
    pub fn verify_credential(
        &self,
        existing: Option<i64>,
        kind: ProviderKind,
        settings: &serde_json::Value,
        secret: Option<String>,
    ) -> Result<String, ConsoleError> {
        let secret = self.typed_or_stored_secret(secret, existing)?;
        let (provider, _) = self.build_provider(kind, settings, secret)?;
        self.runtime.block_on(provider.verify()).map_err(|e| ConsoleError::CannotRun(e.message().to_owned()))
    }

    pub(super) fn channel_command(&self, command: ChannelCommand) -> Vec<Event> {
        match command {
            ChannelCommand::Refresh => vec![self.credentials_event()],
            ChannelCommand::Save { id, channel, provider, name, settings, secret } => {
                let secret = secret.as_ref().map(|s| s.0.as_str());
                let saved = match id {
                    Some(id) => self.update_credential(id, &name, settings, secret),
                    None => self.add_credential(channel, provider, &name, settings, secret),
                };
                let saved = saved.map_err(|e| UserError::new("The credential was not saved", &e));
                vec![ChannelEvent::Saved(saved).into(), self.credentials_event()]
            }
            ChannelCommand::Delete { id } => match self.delete_credential(id) {
                Ok(()) => vec![self.credentials_event()],
                Err(e) => vec![Event::Failed(UserError::new("Could not delete the credential", &e))],
            },
            ChannelCommand::MakeDefault { id } => match self.make_default_credential(id) {
                Ok(()) => vec![self.credentials_event()],
                Err(e) => vec![Event::Failed(UserError::new("Could not make the credential the default", &e))],
            },
            ChannelCommand::SendTest { id, channel, provider, settings, secret, to } => {
                let sent = self.send_test_message(id, channel, provider, &settings, secret.map(|s| s.0), &to);
                vec![ChannelEvent::Verified(sent.map_err(|e| UserError::of(&e))).into()]
            }
            ChannelCommand::Verify { id, provider, settings, secret } => {
                let verified = self.verify_credential(id, provider, &settings, secret.map(|s| s.0));
                vec![ChannelEvent::Verified(verified.map_err(|e| UserError::of(&e))).into()]
            }
        }
    }
}
