//! Provider credentials: adding, changing, deleting them (secrets to the keychain, only
//! references in the workspace), the channel's default, Verify and a test message.

use std::collections::BTreeMap;

use super::{ChannelCommand, ChannelEvent, Console, ConsoleError, Event, SecretValues, UserError};
use crate::model::{Channel, Credential, ProviderSettings, SECRET_SLOT, SecretRef, Verification};
use crate::secrets::Typed;
use crate::store;

impl Console {
    /// Saves a provider credential with its one secret (a password, a token), if any. See
    /// [`Console::add_credential_with`].
    pub fn add_credential(
        &self,
        channel: Channel,
        name: &str,
        settings: ProviderSettings,
        secret: Option<&str>,
    ) -> Result<Credential, ConsoleError> {
        self.add_credential_with(channel, name, settings, &one_secret(secret))
    }

    /// Saves a provider credential: each secret (by slot) goes to the secret store first, the
    /// workspace keeps only their references. If the workspace refuses the credential, the
    /// secrets are removed again so nothing is left behind.
    pub fn add_credential_with(
        &self,
        channel: Channel,
        name: &str,
        settings: ProviderSettings,
        secrets: &SecretValues,
    ) -> Result<Credential, ConsoleError> {
        crate::channels::check_settings(&settings)?;
        self.account_checked(&settings, secrets)?;
        let mut secrets = secrets.clone();
        if settings.kind() == crate::model::ProviderKind::CustomSms {
            // What the provider's webhooks to this app must carry: made here, kept in the keychain.
            let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
            secrets.entry(crate::channels::custom_sms::WEBHOOK_SECRET_SLOT.to_owned()).or_insert(token);
        }
        let mut stored = BTreeMap::new();
        for (slot, value) in &secrets {
            let r = SecretRef(format!("credential/{}", uuid::Uuid::new_v4()));
            if let Err(e) = self.secrets.set(&r, value) {
                self.forget_secrets(stored.values(), "a refused credential");
                return Err(e.into());
            }
            stored.insert(slot.clone(), r);
        }
        let mut credential = Credential {
            id: 0,
            channel,
            name: name.trim().to_owned(),
            settings,
            secrets: stored,
            created_at: self.now(),
            is_default: false,
            verified: None,
        };
        let conn = self.workspace.conn();
        match store::credentials::insert(&conn, &credential) {
            Ok(id) => credential.id = id,
            Err(e) => {
                self.forget_secrets(credential.secrets.values(), "a refused credential");
                return Err(e.into());
            }
        }
        store::audit::record(&conn, self.now(), "admin", "add credential", &credential.name, channel.as_str())?;
        Ok(credential)
    }

    /// An X service is saved only with the keys of the account it names: X is asked who they
    /// belong to (`GET /2/users/me`) first, and a mismatch, refused keys or no answer refuse
    /// the save with the reason. Other providers are not called.
    fn account_checked(&self, settings: &ProviderSettings, secrets: &SecretValues) -> Result<(), ConsoleError> {
        if settings.kind() != crate::model::ProviderKind::XApi {
            return Ok(());
        }
        let (provider, _) = self.build_provider(settings, secrets)?;
        self.runtime
            .block_on(provider.verify())
            .map(|_| ())
            .map_err(|e| ConsoleError::Invalid(format!("The X service was not saved: {}", e.message())))
    }

    /// Removes secrets that nothing will refer to (the cleanup of a refused change).
    fn forget_secrets<'r>(&self, refs: impl Iterator<Item = &'r SecretRef>, of: &str) {
        for r in refs {
            if let Err(cleanup) = self.secrets.delete(r) {
                tracing::warn!("could not remove a secret of {of}: {cleanup:#}");
            }
        }
    }

    fn credentials_event(&self) -> Event {
        match self.credentials() {
            Ok(list) => ChannelEvent::Credentials(list).into(),
            Err(e) => Event::Failed(UserError::new("Could not list the credentials", &e)),
        }
    }

    /// Changes a saved credential: name and settings, and its one secret when `secret` is
    /// given. See [`Console::update_credential_with`].
    pub fn update_credential(
        &self,
        id: i64,
        name: &str,
        settings: ProviderSettings,
        secret: Option<&str>,
    ) -> Result<Credential, ConsoleError> {
        self.update_credential_with(id, name, settings, &one_secret(secret))
    }

    /// Changes a saved credential: name and settings, and the secrets typed (by slot; stored
    /// in the keychain first, the workspace keeps only their references). Slots not typed keep
    /// their secret.
    pub fn update_credential_with(
        &self,
        id: i64,
        name: &str,
        settings: ProviderSettings,
        secrets: &SecretValues,
    ) -> Result<Credential, ConsoleError> {
        let mut credential = self
            .credentials()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| store::StoreError::NotFound { what: format!("Credential {id}") })?;
        if settings.kind() != credential.provider() {
            return Err(ConsoleError::Invalid(format!(
                "\u{201c}{}\u{201d} sends through {}: its provider cannot change (add another credential)",
                credential.name,
                credential.provider().label()
            )));
        }
        crate::channels::check_settings(&settings)?;
        self.account_checked(&settings, &self.typed_or_stored_secrets(secrets.clone(), Some(id))?)?;
        let mut new_refs = Vec::new();
        for (slot, value) in secrets {
            let r = credential
                .secrets
                .get(slot)
                .cloned()
                .unwrap_or_else(|| SecretRef(format!("credential/{}", uuid::Uuid::new_v4())));
            if let Err(e) = self.secrets.set(&r, value) {
                self.forget_secrets(new_refs.iter(), "a refused change");
                return Err(e.into());
            }
            if !credential.secrets.contains_key(slot) {
                new_refs.push(r.clone());
            }
            credential.secrets.insert(slot.clone(), r);
        }
        credential.name = name.trim().to_owned();
        credential.settings = settings;
        let conn = self.workspace.conn();
        if let Err(e) = store::credentials::update(&conn, &credential) {
            self.forget_secrets(new_refs.iter(), "a refused change");
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

    /// A custom SMS provider's payload template rendered for a sample recipient (as sent),
    /// or what is wrong with it (its line, or where the rendered JSON breaks).
    pub fn payload_sample(payload: &str, from: &str) -> Result<String, ConsoleError> {
        Ok(crate::channels::custom_sms::sample(payload, from)?)
    }

    /// Every problem with a credential's settings, each with the key of its field ("" for the
    /// whole form), so that a form can show them all at once.
    pub fn credential_problems(settings: &ProviderSettings) -> Vec<(&'static str, String)> {
        crate::channels::field_problems(settings)
    }

    /// Makes credential `id` its channel's default: what activities that name no credential
    /// send with from now on.
    pub fn make_default_credential(&self, id: i64) -> Result<(), ConsoleError> {
        let conn = self.workspace.conn();
        store::credentials::set_default(&conn, id)?;
        store::audit::record(&conn, self.now(), "admin", "make default credential", &id.to_string(), "")?;
        Ok(())
    }

    /// Deletes a credential and its secrets; refused while a live or paused campaign sends
    /// through it (naming them).
    pub fn delete_credential(&self, id: i64) -> Result<(), ConsoleError> {
        let busy = super::routes::sending(self.campaigns_using_credential(id)?);
        if !busy.is_empty() {
            return Err(ConsoleError::Invalid(format!(
                "It cannot be deleted while these campaigns send through it: {}. Stop them, or choose another credential on their channel activities, first.",
                busy.join(", ")
            )));
        }
        let configurations: Vec<String> = self
            .sms_configurations()?
            .into_iter()
            .filter(|c| c.credential_id == id)
            .map(|c| format!("\u{201c}{}\u{201d}", c.name))
            .collect();
        if !configurations.is_empty() {
            return Err(ConsoleError::Invalid(format!(
                "It cannot be deleted while SMS configurations use it: {}. Delete them, or give them another credential, first.",
                configurations.join(", ")
            )));
        }
        let conn = self.workspace.conn();
        for r in store::credentials::delete(&conn, id)? {
            self.secrets.delete(&r)?;
        }
        store::audit::record(&conn, self.now(), "admin", "delete credential", &id.to_string(), "")?;
        Ok(())
    }

    /// The secrets a form typed, and the keychain's for the slots it did not type of the saved
    /// credential `existing`.
    fn typed_or_stored_secrets(
        &self,
        typed: SecretValues,
        existing: Option<i64>,
    ) -> Result<SecretValues, ConsoleError> {
        let mut out = match existing.and_then(|id| self.credentials().ok()?.into_iter().find(|c| c.id == id)) {
            Some(c) => self.credential_secrets(&c)?,
            None => SecretValues::new(),
        };
        out.extend(typed);
        Ok(out)
    }

    /// Sends one test message with a credential's settings (a typed secret instead of the
    /// stored one, as for Verify) to `to`. Says what the provider answered.
    pub fn send_test_message(
        &self,
        existing: Option<i64>,
        channel: Channel,
        settings: &ProviderSettings,
        typed: SecretValues,
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
        let secrets = self.typed_or_stored_secrets(typed, existing)?;
        let (provider, _) = self.build_provider(settings, &secrets)?;
        let m = crate::channels::Outgoing {
            idempotency_key: format!("test:{}", uuid::Uuid::new_v4()),
            channel,
            address: to.to_owned(),
            subject: "Campaign Console test message".into(),
            text: "This is a test message from Campaign Console: the credential works.".into(),
            html: "<p>This is a test message from <strong>Campaign Console</strong>: the credential works.</p>".into(),
            ..Default::default()
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
        settings: &ProviderSettings,
        secret: Option<String>,
    ) -> Result<String, ConsoleError> {
        self.verify_credential_with(existing, settings, one_secret(secret.as_deref()))
    }

    /// [`Console::verify_credential`] with the secrets typed by slot.
    pub fn verify_credential_with(
        &self,
        existing: Option<i64>,
        settings: &ProviderSettings,
        typed: SecretValues,
    ) -> Result<String, ConsoleError> {
        let secrets = self.typed_or_stored_secrets(typed, existing)?;
        let (provider, _) = self.build_provider(settings, &secrets)?;
        self.runtime.block_on(provider.verify()).map_err(|e| ConsoleError::CannotRun(e.message().to_owned()))
    }

    /// "Verify SMS connection": sends one real message through saved credential `id` to `to`,
    /// and keeps what the provider answered (its message id and status, or its error in words
    /// with its code) on the credential, with the time. A number or message that cannot be
    /// sent is refused before anything goes out, and is not kept.
    pub fn verify_sms(&self, id: i64, to: &str, body: &str) -> Result<Verification, ConsoleError> {
        use crate::model::address::{AddressKind, valid_address};
        let to = to.trim();
        if !valid_address(AddressKind::Phone, to) {
            return Err(ConsoleError::Invalid(format!(
                "\u{201c}{to}\u{201d} is not a phone number in international form (+ and the country code, e.g. +33612345678)"
            )));
        }
        let length = body.chars().count();
        if body.trim().is_empty() {
            return Err(ConsoleError::Invalid("type the message to send".into()));
        } else if length > crate::personalize::SMS_MAX_CHARACTERS {
            return Err(ConsoleError::Invalid(format!(
                "the message has {length} characters: at most {} can be sent",
                crate::personalize::SMS_MAX_CHARACTERS
            )));
        }
        let credential = self
            .credentials()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| store::StoreError::NotFound { what: format!("Credential {id}") })?;
        let secrets = self.credential_secrets(&credential)?;
        let (provider, _) = self.build_provider(&credential.settings, &secrets)?;
        let m = crate::channels::Outgoing {
            idempotency_key: format!("verify:{}", uuid::Uuid::new_v4()),
            channel: credential.channel,
            address: to.to_owned(),
            text: body.to_owned(),
            ..Default::default()
        };
        let verification = match self.runtime.block_on(provider.send_checked(&m)) {
            Ok((message_id, status)) => Verification {
                at: self.now(),
                ok: true,
                summary: format!("{} took the message for {to}: {message_id} ({status})", provider.name()),
                code: String::new(),
                detail: String::new(),
            },
            Err(e) => {
                let (words, raw) = crate::channels::twilio::words_and_raw(e.message());
                Verification {
                    at: self.now(),
                    ok: false,
                    summary: words.to_owned(),
                    code: e.code().to_owned(),
                    detail: raw.unwrap_or(words).to_owned(),
                }
            }
        };
        let conn = self.workspace.conn();
        store::credentials::set_verified(&conn, id, &verification)?;
        let outcome = if verification.ok { "worked" } else { "failed" };
        store::audit::record(&conn, self.now(), "admin", "verify credential", &credential.name, outcome)?;
        Ok(verification)
    }

    pub(super) fn channel_command(&self, command: ChannelCommand) -> Vec<Event> {
        match command {
            ChannelCommand::Refresh => vec![self.credentials_event()],
            ChannelCommand::Save { id, channel, name, settings, secrets } => {
                let secrets = typed_values(secrets);
                let saved = match id {
                    Some(id) => self.update_credential_with(id, &name, settings, &secrets),
                    None => self.add_credential_with(channel, &name, settings, &secrets),
                };
                let saved = saved.map(Box::new).map_err(|e| UserError::new("The credential was not saved", &e));
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
            ChannelCommand::SendTest { id, channel, settings, secrets, to } => {
                let sent = self.send_test_message(id, channel, &settings, typed_values(secrets), &to);
                vec![ChannelEvent::Verified(sent.map_err(|e| UserError::of(&e))).into()]
            }
            ChannelCommand::VerifySms { id, to, body } => {
                let verified = self.verify_sms(id, &to, &body).map_err(|e| UserError::of(&e));
                vec![ChannelEvent::SmsVerified(verified).into(), self.credentials_event()]
            }
            ChannelCommand::Verify { id, settings, secrets } => {
                let verified = self.verify_credential_with(id, &settings, typed_values(secrets));
                vec![ChannelEvent::Verified(verified.map_err(|e| UserError::of(&e))).into()]
            }
        }
    }
}

/// A provider's one secret as a slot map.
fn one_secret(secret: Option<&str>) -> SecretValues {
    secret.map(|s| (SECRET_SLOT.to_owned(), s.to_owned())).into_iter().collect()
}

/// Secrets a form typed, by slot (an empty field is no secret typed).
fn typed_values(typed: BTreeMap<String, Typed>) -> SecretValues {
    typed.into_iter().filter(|(_, v)| !v.0.is_empty()).map(|(k, v)| (k, v.0)).collect()
}
