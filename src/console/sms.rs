//! What SMS providers send back to the server: delivery reports (Twilio's status callbacks)
//! and the messages people reply with (keywords that opt them out or in, and help), each
//! checked against the credential's signature before anything changes; and the Inbound list.

use std::collections::BTreeMap;

use super::{ChannelEvent, Console, ConsoleError, Event, SmsCommand, UserError};
use crate::channels::{custom_sms, twilio};
use crate::model::sms::{InboundMessage, KeywordKind, Keywords};
use crate::model::{CampaignStatus, Channel, Credential, ProviderSettings, settings};
use crate::store;

pub use crate::store::inbound::Reported;

/// A provider's webhook as the server received it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookRequest {
    /// The URLs the provider may have called (this server's public URL, a credential's
    /// callback base), each with the request's path and query: a signature must match one.
    pub urls: Vec<String>,
    /// The form's parameters, in the order they came.
    pub params: Vec<(String, String)>,
    /// `X-Twilio-Signature`, when the request had one.
    pub signature: Option<String>,
}

impl WebhookRequest {
    /// The first value of parameter `name` (empty when it is missing).
    pub fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
}

/// Why a webhook was refused: nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The signature is missing or wrong, or no credential has the account (403).
    #[error("{0}")]
    Forbidden(String),
    /// A parameter the webhook needs is missing (400).
    #[error("{0}")]
    BadRequest(String),
    /// The workspace could not record it (500: the provider tries again later).
    #[error(transparent)]
    Console(#[from] ConsoleError),
}

impl From<crate::channels::ChannelError> for WebhookError {
    fn from(e: crate::channels::ChannelError) -> Self {
        Self::Console(e.into())
    }
}

impl From<store::StoreError> for WebhookError {
    fn from(e: store::StoreError) -> Self {
        Self::Console(e.into())
    }
}

/// The inbound messages the SMS screen shows, at most.
pub const INBOUND_KEPT: usize = 200;

/// What the SMS screen shows beside the credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmsOverview {
    /// The campaigns sending through each SMS credential (by id), with their status.
    pub usage: BTreeMap<i64, Vec<(String, CampaignStatus)>>,
    /// The configurations, by name.
    pub configurations: Vec<crate::model::sms::SmsConfiguration>,
    /// The campaigns whose SMS activities name each configuration (by id).
    pub configuration_usage: BTreeMap<i64, Vec<(String, CampaignStatus)>>,
    /// The server's public URL as set (empty: none), where short links point.
    pub public_url: String,
    /// The newest first.
    pub inbound: Vec<InboundMessage>,
}

/// What an inbound message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    pub keyword: Option<KeywordKind>,
    /// The profiles whose SMS opt-in it changed.
    pub changed: Vec<String>,
    /// The reply to send back, when the keyword has one.
    pub reply: Option<String>,
    /// The provider sent this message before (a retry): nothing changed again.
    pub repeated: bool,
}

impl Console {
    /// The Twilio credentials of `account_sid` whose Auth Token signed `request`; refused
    /// when none did.
    fn signed_by(&self, request: &WebhookRequest) -> Result<Vec<Credential>, WebhookError> {
        let account = request.param("AccountSid");
        if account.is_empty() {
            return Err(WebhookError::BadRequest("AccountSid is missing".into()));
        }
        let Some(signature) = request.signature.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Err(WebhookError::Forbidden("the request is not signed (X-Twilio-Signature is missing)".into()));
        };
        let of_account: Vec<Credential> = self
            .credentials()?
            .into_iter()
            .filter(|c| matches!(&c.settings, ProviderSettings::Twilio(s) if s.account_sid.trim() == account))
            .collect();
        if of_account.is_empty() {
            return Err(WebhookError::Forbidden(format!("no Twilio credential has the account {account}")));
        }
        let mut signed = Vec::new();
        for c in of_account {
            let Some(token) = self.credential_secret(&c)? else { continue };
            let mut urls = request.urls.clone();
            if let ProviderSettings::Twilio(s) = &c.settings
                && !s.status_callback_base.trim().is_empty()
            {
                let base = s.status_callback_base.trim().trim_end_matches('/');
                urls.extend(request.urls.iter().filter_map(|u| path_of(u).map(|p| format!("{base}{p}"))));
            }
            if urls.iter().any(|u| twilio::signature_matches(&token, u, &request.params, signature)) {
                signed.push(c);
            }
        }
        if signed.is_empty() {
            return Err(WebhookError::Forbidden("the signature does not match (X-Twilio-Signature)".into()));
        }
        Ok(signed)
    }

    /// Twilio's status callback: the message's status at Twilio is noted on its ledger row,
    /// and a final one (delivered, undelivered, failed) writes its event once.
    pub fn twilio_status(&self, request: &WebhookRequest) -> Result<Reported, WebhookError> {
        self.signed_by(request)?;
        let sid = Some(request.param("MessageSid")).filter(|s| !s.is_empty()).unwrap_or(request.param("SmsSid"));
        let status =
            Some(request.param("MessageStatus")).filter(|s| !s.is_empty()).unwrap_or(request.param("SmsStatus"));
        if sid.is_empty() || status.is_empty() {
            return Err(WebhookError::BadRequest("MessageSid and MessageStatus are needed".into()));
        }
        let code = Some(request.param("ErrorCode")).filter(|c| !c.is_empty());
        let reported = store::inbound::report(&self.workspace.conn(), sid, status, code, self.now())?;
        if reported == Reported::Unknown {
            tracing::info!("a Twilio status for a message the workspace does not know yet ({sid}: {status})");
        }
        Ok(reported)
    }

    /// A message someone sent to a Twilio number of the workspace: kept in the Inbound list;
    /// an opt-out or opt-in keyword changes the SMS opt-in of the profiles with that phone
    /// number; a keyword with a reply gets it.
    pub fn twilio_inbound(&self, request: &WebhookRequest) -> Result<Inbound, WebhookError> {
        let signed = self.signed_by(request)?;
        let (sid, from, to, body) =
            (request.param("MessageSid"), request.param("From"), request.param("To"), request.param("Body"));
        let sid = if sid.is_empty() { request.param("SmsSid") } else { sid };
        if sid.is_empty() || from.is_empty() {
            return Err(WebhookError::BadRequest("MessageSid and From are needed".into()));
        }
        let configurations = self.sms_configurations()?;
        let number = |c: &&Credential| {
            configurations.iter().any(|s| s.credential_id == c.id && s.sender() == Some(to))
                || matches!(&c.settings, ProviderSettings::Twilio(s) if s.inbound_number.trim() == to || s.from.trim() == to)
        };
        let credential = signed.iter().find(number).unwrap_or(&signed[0]);
        self.take_inbound(credential, sid, from, to, body)
    }

    /// Keeps a message someone sent to `credential`'s number; an opt-out or opt-in keyword
    /// changes the SMS opt-in of the profiles with that phone number. The keywords and replies
    /// are those of the configuration sending as `to` on the credential (else its first one,
    /// else the standard ones). A message the provider sent before changes nothing again.
    fn take_inbound(
        &self,
        credential: &Credential,
        sid: &str,
        from: &str,
        to: &str,
        body: &str,
    ) -> Result<Inbound, WebhookError> {
        let configurations = self.sms_configurations()?;
        let on_credential: Vec<_> = configurations.iter().filter(|c| c.credential_id == credential.id).collect();
        let keywords = on_credential
            .iter()
            .find(|c| c.sender() == Some(to.trim()))
            .or(on_credential.first())
            .map_or_else(Keywords::default, |c| c.keywords.clone());
        let keyword = keywords.of(body);
        let reply = keyword.and_then(|k| keywords.reply(k)).map(str::to_owned);
        let conn = self.workspace.conn();
        if store::inbound::exists(&conn, credential.id, sid)? {
            return Ok(Inbound { keyword, changed: Vec::new(), reply, repeated: true });
        }
        let model = store::data_model::load(&conn)?;
        let profile = model.profile_entity().and_then(|p| model.entity(p));
        let phone = profile.and_then(|p| {
            model
                .identity_namespaces
                .iter()
                .find(|n| n.name == "phone" && n.entity == p.name)
                .map(|n| n.column.as_str())
                .or_else(|| p.column("phone").map(|c| c.name.as_str()))
        });
        let opt_in = format!("{}_opt_in", Channel::Sms.as_str());
        let mut changed = Vec::new();
        let mut profile_key = None;
        if let (Some(p), Some(phone)) = (profile, phone) {
            store::customer_data::ensure_index(&conn, &p.name, phone)?;
            profile_key =
                store::customer_data::keys_where(&conn, &p.name, &p.primary_key, phone, from)?.into_iter().next();
            let on = match keyword {
                Some(KeywordKind::OptOut) => Some(false),
                Some(KeywordKind::OptIn) => Some(true),
                _ => None,
            };
            if let (Some(on), Some(_)) = (on, p.column(&opt_in)) {
                changed =
                    store::customer_data::set_opt_in(&conn, &p.name, &p.primary_key, &opt_in, phone, &[from], on)?;
            }
        }
        let message = InboundMessage {
            id: 0,
            credential: Some(credential.name.clone()),
            provider_message_id: sid.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            body: body.to_owned(),
            keyword,
            profile_key,
            received_at: self.now(),
        };
        store::inbound::insert(&conn, Some(credential.id), &message)?;
        if let Some(k) = keyword {
            tracing::info!("an SMS from {from} {} ({} profiles changed)", k.label(), changed.len());
        }
        Ok(Inbound { keyword, changed, reply, repeated: false })
    }

    /// The custom SMS credential `id` whose webhook secret is `token`; refused (nothing
    /// changes) when there is none or the token is not its.
    fn custom_credential(
        &self,
        id: i64,
        token: Option<&str>,
    ) -> Result<(Credential, settings::CustomSms), WebhookError> {
        let refused = || WebhookError::Forbidden("the webhook's token is missing or wrong".into());
        let credential = self.credentials()?.into_iter().find(|c| c.id == id).ok_or_else(refused)?;
        let ProviderSettings::CustomSms(s) = credential.settings.clone() else { return Err(refused()) };
        let expected =
            self.credential_secrets(&credential)?.remove(custom_sms::WEBHOOK_SECRET_SLOT).ok_or_else(refused)?;
        let given = token.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(refused)?;
        if aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), given.as_bytes()).is_err() {
            return Err(refused());
        }
        Ok((credential, *s))
    }

    /// A custom provider's inbound webhook (JSON): the sender and text are read with the
    /// credential's pointers, kept like Twilio's, and a keyword's reply is sent back through
    /// the credential.
    pub fn custom_sms_inbound(&self, id: i64, token: Option<&str>, body: &[u8]) -> Result<Inbound, WebhookError> {
        let (credential, s) = self.custom_credential(id, token)?;
        let json: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| WebhookError::BadRequest(format!("the body is not JSON ({e})")))?;
        let at = |pointer: &str, default: &str| {
            custom_sms::text_at(&json, if pointer.trim().is_empty() { default } else { pointer.trim() })
        };
        let from = at(&s.inbound_from_pointer, "/from").ok_or_else(|| {
            WebhookError::BadRequest("the sender is missing (see the credential's Inbound: sender at)".into())
        })?;
        let text = at(&s.inbound_text_pointer, "/text").unwrap_or_default();
        let sid = at("", "/id")
            .or_else(|| at("", "/message_id"))
            .unwrap_or_else(|| format!("{}:{}", from, uuid::Uuid::new_v4().simple()));
        let inbound = self.take_inbound(&credential, &sid, &from, &s.from, &text)?;
        if let (Some(reply), false) = (&inbound.reply, inbound.repeated) {
            let secrets = self.credential_secrets(&credential)?;
            let sent =
                self.build_provider(&credential.settings, &secrets).map_err(WebhookError::from).and_then(|(p, _)| {
                    let m = crate::channels::Outgoing {
                        idempotency_key: format!("reply:{}", uuid::Uuid::new_v4()),
                        channel: Channel::Sms,
                        address: from.clone(),
                        text: reply.clone(),
                        ..Default::default()
                    };
                    self.runtime
                        .block_on(p.send(&m))
                        .map_err(|e| WebhookError::Console(ConsoleError::CannotRun(e.to_string())))
                });
            if let Err(e) = sent {
                tracing::warn!("the reply to {from} through {} was not sent: {e}", credential.name);
            }
        }
        Ok(inbound)
    }

    /// A custom provider's delivery feedback (JSON): the message's id and status are read with
    /// the credential's pointers; delivered (or read) and failed (undelivered, rejected,
    /// expired) are final, each written once.
    pub fn custom_sms_feedback(&self, id: i64, token: Option<&str>, body: &[u8]) -> Result<Reported, WebhookError> {
        let (_, s) = self.custom_credential(id, token)?;
        let json: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| WebhookError::BadRequest(format!("the body is not JSON ({e})")))?;
        let at = |pointer: &str, default: &str| {
            custom_sms::text_at(&json, if pointer.trim().is_empty() { default } else { pointer.trim() })
        };
        let message = at(&s.feedback_id_pointer, "/message_id").ok_or_else(|| {
            WebhookError::BadRequest("the message id is missing (see Feedback: message id at)".into())
        })?;
        let status = at(&s.feedback_status_pointer, "/status")
            .ok_or_else(|| WebhookError::BadRequest("the status is missing (see Feedback: status at)".into()))?
            .to_ascii_lowercase();
        let status = match status.as_str() {
            "delivered" | "read" | "displayed" => "delivered",
            "failed" | "undelivered" | "rejected" | "expired" | "error" => "undelivered",
            other => other,
        };
        Ok(store::inbound::report(&self.workspace.conn(), &message, status, None, self.now())?)
    }

    /// The two URLs a custom SMS credential gives its provider (inbound messages, delivery
    /// feedback) on this app's server at `public_url`, each with the credential's token.
    pub fn sms_webhook_urls(&self, id: i64, public_url: &str) -> Result<(String, String), ConsoleError> {
        let credential = self
            .credentials()?
            .into_iter()
            .find(|c| c.id == id && c.provider() == crate::model::ProviderKind::CustomSms)
            .ok_or_else(|| ConsoleError::Invalid(format!("there is no custom SMS credential {id}")))?;
        let token = self.credential_secrets(&credential)?.remove(custom_sms::WEBHOOK_SECRET_SLOT).ok_or_else(|| {
            ConsoleError::CannotRun(format!(
                "the webhook token of \u{201c}{}\u{201d} is not in the keychain: save the credential again to make one",
                credential.name
            ))
        })?;
        let base = public_url.trim().trim_end_matches('/');
        let url = |what: &str| format!("{base}/webhooks/sms/{id}/{what}?token={token}");
        Ok((url("inbound"), url("feedback")))
    }

    /// Which campaigns send through each SMS credential (by id), the configurations and the
    /// campaigns using each, and the newest inbound messages.
    pub fn sms_overview(&self) -> Result<SmsOverview, ConsoleError> {
        let mut usage = BTreeMap::new();
        for c in self.credentials()?.into_iter().filter(|c| c.channel == Channel::Sms) {
            usage.insert(c.id, self.campaigns_using_credential(c.id)?);
        }
        Ok(SmsOverview {
            usage,
            configurations: self.sms_configurations()?,
            configuration_usage: self.configuration_usage()?,
            public_url: self.server_settings()?.public_url,
            inbound: self.inbound_messages(INBOUND_KEPT)?,
        })
    }

    pub(super) fn sms_command(&self, command: SmsCommand) -> Vec<Event> {
        match command {
            SmsCommand::Overview => {
                let overview = self.sms_overview().map_err(|e| UserError::new("Could not read the SMS overview", &e));
                vec![ChannelEvent::SmsOverview(overview).into()]
            }
            SmsCommand::WebhookUrls { id } => {
                let urls = self
                    .server_settings()
                    .and_then(|s| self.sms_webhook_urls(id, &s.public_base()))
                    .map_err(|e| UserError::of(&e));
                vec![ChannelEvent::WebhookUrls { id, urls }.into()]
            }
            SmsCommand::SaveConfiguration(_) | SmsCommand::DeleteConfiguration { .. } => {
                let mut events = self.sms_configuration_command(command);
                let overview = self.sms_overview().map_err(|e| UserError::new("Could not read the SMS overview", &e));
                events.push(ChannelEvent::SmsOverview(overview).into());
                events
            }
        }
    }

    /// Where short link `code` leads, once its click is written against the message it was
    /// sent in; `None` for a code no message has.
    pub fn follow_short_link(&self, code: &str) -> Result<Option<String>, ConsoleError> {
        Ok(store::short_links::follow(&self.workspace.conn(), code.trim(), self.now())?)
    }

    /// The newest messages people sent to the workspace's numbers, at most `limit`.
    pub fn inbound_messages(&self, limit: usize) -> Result<Vec<InboundMessage>, ConsoleError> {
        Ok(store::inbound::list(&self.workspace.conn(), limit)?)
    }
}

/// The path and query of a URL ("/webhooks/twilio/status?x=1").
fn path_of(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    Some(match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    })
}
