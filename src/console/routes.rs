//! Which provider a send goes through (core, used by runs, proofs and credentials): a
//! channel activity's credential (its channel's default when it names none, the built-in
//! Sandbox when there is none), built with its secret, with the throttle every delivery on
//! that credential shares; and sending the few rows of a delivery at once (a proof, a post
//! now).

use std::sync::Arc;

use super::{Console, ConsoleError, SecretValues};
use crate::channels::{ChannelError, registry};
use crate::model::provider::Field;
use crate::model::sms::SmsConfiguration;
use crate::model::{Channel, Credential, ProviderKind, ProviderSettings, SECRET_SLOT};
use crate::{secrets, store};

/// What a channel activity sends with: its credential's provider, throttle (shared by every
/// delivery on the credential) and retry settings.
pub(super) type Route =
    (Arc<dyn crate::channels::Provider>, Arc<crate::delivery::Throttle>, crate::delivery::SendOptions);

/// Which credential a send uses: the one a channel activity names (its channel's default
/// when it names none), or the one a delivery was started with.
#[derive(Clone, Copy, Debug)]
pub(super) enum CredentialChoice<'a> {
    Named(Option<&'a str>),
    Id(i64),
}

impl Console {
    /// A credential's one secret (a password, a token), if it has one. See
    /// [`Console::credential_secrets`].
    pub fn credential_secret(&self, credential: &Credential) -> Result<Option<String>, ConsoleError> {
        Ok(self.credential_secrets(credential)?.remove(SECRET_SLOT))
    }

    /// A credential's secrets by slot: what the deployment gives (a server's environment, read
    /// only) first, else the keychain's.
    pub fn credential_secrets(&self, credential: &Credential) -> Result<SecretValues, ConsoleError> {
        let mut slots: Vec<&str> = registry::secret_slots(credential.provider());
        slots.extend(credential.secrets.keys().map(String::as_str));
        let mut out = SecretValues::new();
        for slot in slots {
            if out.contains_key(slot) {
                continue;
            }
            if let Some(value) = secrets::deployment_slot_secret(&credential.name, slot) {
                out.insert(slot.to_owned(), value);
            } else if let Some(r) = credential.secrets.get(slot)
                && let Some(value) = self.secrets.get(r)?
            {
                out.insert(slot.to_owned(), value);
            }
        }
        Ok(out)
    }

    /// The campaigns whose channel activities send through credential `id` (naming it or an
    /// SMS configuration on it, or naming none on its channel while it is the default), with
    /// their status.
    pub fn campaigns_using_credential(
        &self,
        id: i64,
    ) -> Result<Vec<(String, crate::model::CampaignStatus)>, ConsoleError> {
        let credentials = self.credentials()?;
        let Some(credential) = credentials.iter().find(|c| c.id == id) else {
            return Ok(Vec::new());
        };
        let configurations = self.sms_configurations()?;
        let mut out = Vec::new();
        for campaign in self.campaigns()? {
            let Ok(canvas) = self.canvas(&campaign) else { continue };
            let uses = canvas.activities.iter().any(|a| match &a.kind {
                crate::model::ActivityKind::Channel { channel, credential: named, configuration, .. } => {
                    *channel == credential.channel
                        && crate::model::sms::send_with(
                            &credentials,
                            &configurations,
                            *channel,
                            named.as_deref(),
                            configuration.as_deref(),
                        )
                        .is_ok_and(|(_, c)| c.is_some_and(|c| c.id == id))
                }
                _ => false,
            });
            if uses {
                out.push((campaign.name.clone(), campaign.status));
            }
        }
        Ok(out)
    }

    /// The SMS configurations, by name.
    pub fn sms_configurations(&self) -> Result<Vec<SmsConfiguration>, ConsoleError> {
        Ok(store::sms_configurations::list(&self.workspace.conn())?)
    }

    /// What a channel activity sends with: the SMS configuration an SMS activity names (its
    /// credential and sender), else the credential it names. Naming a configuration that is
    /// gone is refused.
    pub(super) fn activity_route<'k>(
        &self,
        channel: Channel,
        credential: Option<&'k str>,
        configuration: Option<&str>,
    ) -> Result<(CredentialChoice<'k>, Option<SmsConfiguration>), ConsoleError> {
        let configuration = configuration.filter(|_| channel == Channel::Sms);
        let configurations = self.sms_configurations()?;
        match crate::model::sms::configuration_for(&configurations, configuration)
            .map_err(|e| ConsoleError::CannotRun(format!("{e}: choose one on the SMS activity")))?
        {
            Some(c) => Ok((CredentialChoice::Id(c.credential_id), Some(c.clone()))),
            None => Ok((CredentialChoice::Named(credential), None)),
        }
    }

    /// The credential a campaign's form (API-triggered, action-triggered) sends with: its
    /// provider and throttle, the credential's id, and the SMS configuration (sender, link
    /// shortening) when it names one.
    pub(super) fn form_route(
        &self,
        channel: Channel,
        credential: Option<&str>,
        configuration: Option<&str>,
    ) -> Result<(Route, Option<i64>, Option<SmsConfiguration>), ConsoleError> {
        let (choice, configuration) = self.activity_route(channel, credential, configuration)?;
        let id = match choice {
            CredentialChoice::Id(id) => Some(id),
            CredentialChoice::Named(name) => crate::model::credential_for(&self.credentials()?, channel, name)
                .map_err(|e| ConsoleError::CannotRun(e.to_string()))?
                .map(|c| c.id),
        };
        let sender = configuration.as_ref().and_then(|c| c.sender());
        Ok((self.provider_for(channel, choice, sender)?, id, configuration))
    }

    /// The provider and throttle for a channel activity's credential (the channel's default,
    /// or the built-in Sandbox, when it names none). Settings that cannot work are refused here,
    /// with what to fix, before anything is written.
    pub(super) fn provider_for(
        &self,
        channel: Channel,
        credential: CredentialChoice<'_>,
        sender: Option<&str>,
    ) -> Result<Route, ConsoleError> {
        use crate::channels::Pace;
        let credentials = self.credentials()?;
        let chosen = match credential {
            CredentialChoice::Named(name) => crate::model::credential_for(&credentials, channel, name)
                .map_err(|e| ConsoleError::CannotRun(e.to_string()))?,
            CredentialChoice::Id(id) => Some(credentials.iter().find(|c| c.id == id).ok_or_else(|| {
                ConsoleError::CannotRun(format!(
                    "the {} credential this delivery started with (id {id}) has been deleted: add it again to carry on",
                    channel.label()
                ))
            })?),
        };
        let mut settings = chosen.map(|c| c.settings.clone()).unwrap_or_default();
        if let Some(sender) = sender {
            settings.use_sender(sender);
        }
        let refused = |why: String| {
            ConsoleError::CannotRun(format!(
                "the {} credential \u{201c}{}\u{201d} cannot send: {why}",
                channel.label(),
                chosen.map_or("", |c| c.name.as_str())
            ))
        };
        let secrets = match chosen {
            Some(c) => {
                let found = self.credential_secrets(c)?;
                // A secret the credential keeps that is not in the keychain: entered in another
                // session (an ephemeral keychain), or removed from it.
                if let Some(slot) = c.secrets.keys().find(|slot| !found.contains_key(*slot)) {
                    return Err(refused(format!(
                        "its secret is not in the keychain (it may have been entered in another session): enter it again in Channels, or give it in {}",
                        secrets::deployment_slot_variable(&c.name, slot)
                    )));
                }
                found
            }
            None => SecretValues::new(),
        };
        let (provider, default_in_flight) =
            self.build_provider(&settings, &secrets).map_err(|e| refused(e.to_string()))?;
        let mut pace = Pace::of(settings.pace(), default_in_flight);
        if let (Channel::XDm, ProviderSettings::XApi(x)) = (channel, &settings) {
            // X's limits on direct messages: one at a time, evenly spaced.
            pace = Pace { rate_per_second: Some(1.0 / x.dm_interval()), max_in_flight: 1 };
        }
        let key = format!("{}:{}", channel.as_str(), chosen.map_or(0, |c| c.id));
        let mut throttles = self.throttles.lock().unwrap_or_else(|p| p.into_inner());
        let throttle = match throttles.get(&key) {
            Some(t) if t.pace() == pace => Arc::clone(t),
            _ => {
                let t = Arc::new(crate::delivery::Throttle::new(pace));
                throttles.insert(key, Arc::clone(&t));
                t
            }
        };
        let mut options = crate::delivery::SendOptions::default();
        let retries = crate::channels::Retries::of(settings.pace());
        options.max_attempts = retries.max_attempts.unwrap_or(options.max_attempts);
        options.backoff = retries.backoff.unwrap_or(options.backoff);
        Ok((provider, throttle, options))
    }

    /// The X account an X service (`about`, of `credential`) reads and writes: X through the
    /// service's keys from the keychain, or the Sandbox X account.
    pub(super) fn x_account(
        &self,
        credential: &Credential,
        about: &crate::channels::x::Service,
    ) -> Result<crate::channels::x::Account, ConsoleError> {
        use crate::channels::x::{self, oauth1};
        Ok(match (&credential.settings, about.sandbox_followers) {
            (ProviderSettings::XApi(settings), _) => {
                let secrets = self.credential_secrets(credential)?;
                let key = |slot: &str| secrets.get(slot).cloned().unwrap_or_default();
                let keys = oauth1::Keys {
                    consumer_key: key(x::CONSUMER_KEY),
                    consumer_secret: key(x::CONSUMER_SECRET),
                    access_token: key(x::ACCESS_TOKEN),
                    access_token_secret: key(x::ACCESS_TOKEN_SECRET),
                };
                x::Account::Api(Box::new(x::XApi::new(settings, keys, 1)?))
            }
            (_, followers) => x::Account::Sandbox { followers: followers.unwrap_or(0) },
        })
    }

    /// Sends the queued rows (at most `rows`) of the small delivery `delivery` at once through
    /// `provider`, each as `message` makes it; records every outcome (a failure under
    /// `failure_code`, else the provider's code) and finishes the delivery. Returns what the
    /// provider answered for each row, in order.
    pub(super) fn send_at_once(
        &self,
        conn: &mut rusqlite::Connection,
        (campaign_id, delivery): (Option<i64>, i64),
        rows: usize,
        provider: &dyn crate::channels::Provider,
        message: &dyn Fn(&store::deliveries::Claimed) -> crate::channels::Outgoing,
        failure_code: Option<&str>,
    ) -> Result<Vec<Result<String, crate::channels::SendError>>, ConsoleError> {
        use store::deliveries::{self as ledger, Outcome};
        let claimed = ledger::claim(conn, delivery, rows, crate::clock::wall())?;
        let mut answers = Vec::with_capacity(claimed.len());
        let mut outcomes = Vec::with_capacity(claimed.len());
        for row in &claimed {
            let answer = self.runtime.block_on(provider.send(&message(row)));
            let outcome = match &answer {
                Ok(id) => Outcome::Sent { provider_message_id: id.clone() },
                Err(e) => match failure_code {
                    Some(code) => Outcome::Failed { code: code.to_owned(), message: e.to_string() },
                    None => Outcome::Failed { code: e.code().to_owned(), message: e.message().to_owned() },
                },
            };
            outcomes.push((row.id, row.recipient_key.clone(), outcome));
            answers.push(answer);
        }
        ledger::record(conn, campaign_id, delivery, &outcomes, crate::clock::wall())?;
        ledger::finish(conn, delivery, ledger::delivery_status::DONE, crate::clock::wall())?;
        Ok(answers)
    }

    /// Sends a proof (subject, text, HTML as rendered) to each queued row of proof delivery
    /// `delivery` (one per typed address) through `provider`, the subject marked "[Proof]".
    /// Returns how many were sent; refused, saying why, when any was not.
    pub(super) fn send_proof_rows(
        &self,
        conn: &mut rusqlite::Connection,
        (campaign_id, delivery): (i64, i64),
        (channel, addresses): (Channel, usize),
        provider: &dyn crate::channels::Provider,
        (subject, text, html): (&str, &str, &str),
    ) -> Result<u64, ConsoleError> {
        let marked = if subject.is_empty() { String::new() } else { format!("[Proof] {subject}") };
        let message = |row: &store::deliveries::Claimed| crate::channels::Outgoing {
            idempotency_key: row.idempotency_key.clone(),
            channel,
            address: row.address.clone(),
            subject: marked.clone(),
            text: text.to_owned(),
            html: html.to_owned(),
            ..Default::default()
        };
        let answers =
            self.send_at_once(conn, (Some(campaign_id), delivery), addresses, provider, &message, Some("proof"))?;
        let sent = answers.iter().filter(|a| a.is_ok()).count() as u64;
        if sent < addresses as u64 {
            let why = answers.iter().find_map(|a| a.as_ref().err().map(ToString::to_string)).unwrap_or_default();
            return Err(ConsoleError::CannotRun(format!("{sent} of {addresses} proofs sent: {why}")));
        }
        Ok(sent)
    }

    /// A provider from a credential's settings and secret (through the provider registry),
    /// and how many calls it takes at once unless the settings say; the message says what to fix.
    pub(super) fn build_provider(
        &self,
        settings: &ProviderSettings,
        secrets: &SecretValues,
    ) -> Result<registry::Built, ConsoleError> {
        let outbox = || -> Result<Box<dyn crate::channels::sandbox::Outbox>, ChannelError> {
            Ok(Box::new(WorkspaceOutbox { workspace: Arc::clone(&self.workspace), writer: self.writer.clone() }))
        };
        Ok(registry::build(registry::Parts { settings, secrets, outbox: &outbox })?)
    }
}

/// The Sandbox's messages, kept in the workspace by its group-committing writer: messages
/// kept at once share a transaction (and wait on no lock of SQLite's between connections).
struct WorkspaceOutbox {
    workspace: Arc<store::Workspace>,
    writer: store::group_commit::GroupCommit,
}

impl crate::channels::sandbox::Outbox for WorkspaceOutbox {
    fn keep<'a>(&'a self, m: &'a crate::channels::Outgoing) -> crate::channels::sandbox::Kept<'a> {
        let m = m.clone();
        // A send: it gives way to the calls someone is waiting on.
        let kept = self.writer.submit_background(move |conn| {
            let message = store::sandbox::SandboxMessage {
                idempotency_key: &m.idempotency_key,
                channel: m.channel.as_str(),
                address: &m.address,
                subject: &m.subject,
                body: &m.text,
                html: &m.html,
                unsubscribe: &m.unsubscribe,
            };
            // Real time, as the Sandbox's simulated events are due by it.
            store::sandbox::sandbox_insert(conn, &message, crate::clock::wall())
        });
        Box::pin(async move {
            match kept.await {
                Ok(done) => done.map_err(|e| ChannelError::Outbox(e.to_string())),
                Err(_) => Err(ChannelError::Outbox("the workspace's writer stopped".into())),
            }
        })
    }

    fn find(&self, idempotency_key: &str) -> Result<Option<String>, ChannelError> {
        // On the reader: what the writer committed, without waiting behind its next group.
        self.workspace
            .read(|conn| store::sandbox::sandbox_lookup(conn, idempotency_key))
            .map_err(|e| ChannelError::Outbox(e.to_string()))
    }
}

/// Of `campaigns` (with their status), those that may send at any time (live or paused), as
/// a refusal names them: "“Summer getaway” (live)".
pub(super) fn sending(campaigns: Vec<(String, crate::model::CampaignStatus)>) -> Vec<String> {
    use crate::model::CampaignStatus;
    campaigns
        .into_iter()
        .filter(|(_, s)| matches!(s, CampaignStatus::Live | CampaignStatus::Paused))
        .map(|(name, s)| format!("\u{201c}{name}\u{201d} ({})", s.label().to_lowercase()))
        .collect()
}

/// The providers this version can send with on `channel`, in the order a form offers them.
pub fn providers_for(channel: Channel) -> Vec<ProviderKind> {
    registry::providers_for(channel)
}

/// The form of a provider's credential: what an admin fills in.
pub fn provider_form(kind: ProviderKind) -> Vec<Field> {
    registry::form(kind)
}

/// What is missing from a campaign form's message on `channel`, or cannot be personalized for
/// `scope`, in words.
pub(super) fn message_problems(
    channel: Channel,
    m: &crate::model::Message,
    scope: &crate::personalize::Scope,
) -> Vec<String> {
    let mut problems = Vec::new();
    let empty = |s: &str| s.trim().is_empty();
    match channel {
        Channel::Email if empty(&m.subject) => problems.push("the email has no subject".into()),
        Channel::Email if empty(&m.text) && empty(&m.html) => problems.push("the email has no text and no HTML".into()),
        Channel::Sms | Channel::Push if empty(&m.text) => problems.push("the message has no text".into()),
        _ => {}
    }
    if let Err(e) = crate::delivery::templates(m, scope, channel) {
        problems.push(e.to_string());
    }
    problems
}

/// What is wrong with a campaign's start and end, at `now`, in words.
pub(super) fn date_problems(campaign: &crate::model::Campaign, now: jiff::Timestamp) -> Vec<String> {
    let mut problems = Vec::new();
    if let (Some(s), Some(e)) = (campaign.starts_at, campaign.ends_at)
        && e <= s
    {
        problems.push("the end date is not after the start date".into());
    }
    if campaign.ends_at.is_some_and(|e| e <= now) {
        problems.push("the end date has passed: move it, or clear it".into());
    }
    problems
}
