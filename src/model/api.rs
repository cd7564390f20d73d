//! API-triggered campaigns: their form (channel, message, identity namespace, context
//! attributes), the API keys that call them, the trigger requests and executions of the
//! execution API, and the interaction events other systems report.

use serde::{Deserialize, Serialize};

use super::{Channel, Message};

/// The context attribute no request may set (the seed reserves it).
pub const RESERVED_CONTEXT: &str = "system";

/// Recipients one trigger call may name, at most.
pub const MAX_RECIPIENTS: usize = 100;

/// Events one ingestion call may carry, at most.
pub const MAX_EVENTS: usize = 1000;

/// The channels an API-triggered campaign sends on.
pub const API_CHANNELS: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Push];

/// The form of an API-triggered campaign (its dates and status are the campaign's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiCampaign {
    pub channel: Channel,
    /// The credential it sends with (`None`: the channel's default).
    pub credential: Option<String>,
    /// The SMS configuration (credential and sender) of an SMS campaign, when it names one.
    pub configuration: Option<String>,
    pub description: String,
    pub message: Message,
    /// The identity namespace a request names its recipients in (email, phone, crm_id).
    pub namespace: String,
    /// A recipient no profile has is created from the namespace's value (else `not_found`).
    pub create_missing: bool,
    /// Sent even without the channel's marketing opt-in, never counted against the frequency
    /// cap (a password reset, a receipt).
    pub transactional: bool,
    /// The context attributes the message uses, with whether a request must give them and a
    /// sample value for the preview.
    pub context: Vec<ContextAttribute>,
}

impl Default for ApiCampaign {
    fn default() -> Self {
        Self {
            channel: Channel::Email,
            credential: None,
            configuration: None,
            description: String::new(),
            message: Message::default(),
            namespace: "email".into(),
            create_missing: true,
            transactional: true,
            context: Vec::new(),
        }
    }
}

/// One `{{context.<name>}}` of the message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContextAttribute {
    pub name: String,
    pub required: bool,
    /// The value the preview and a proof use.
    pub sample: String,
}

impl ApiCampaign {
    /// The attribute `name`, when the form lists it.
    pub fn attribute(&self, name: &str) -> Option<&ContextAttribute> {
        self.context.iter().find(|a| a.name == name)
    }

    /// The form's attributes made to match the names the message uses (`used`, in order):
    /// kept ones keep their settings, new ones are optional with no sample, unused ones go.
    pub fn with_context(mut self, used: &[String]) -> Self {
        let old = std::mem::take(&mut self.context);
        self.context = used
            .iter()
            .map(|name| {
                old.iter()
                    .find(|a| &a.name == name)
                    .cloned()
                    .unwrap_or_else(|| ContextAttribute { name: name.clone(), ..ContextAttribute::default() })
            })
            .collect();
        self
    }
}

/// What an API key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiScope {
    /// Trigger API-triggered campaigns and read their executions.
    Trigger,
    /// Report interaction events.
    Events,
}

impl ApiScope {
    pub const ALL: [Self; 2] = [Self::Trigger, Self::Events];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trigger => "trigger",
            Self::Events => "events",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// An API key as the workspace keeps it: its hash only, never the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The key's first characters, to tell keys apart ("cc_live_3f9a…").
    pub prefix: String,
    pub scopes: Vec<ApiScope>,
    pub created_at: jiff::Timestamp,
    pub last_used_at: Option<jiff::Timestamp>,
    pub revoked_at: Option<jiff::Timestamp>,
}

/// A trigger call's body.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct TriggerRequest {
    /// The caller's id of this call: the same id again sends nothing new.
    pub request_id: String,
    pub recipients: Vec<TriggerRecipient>,
}

/// One recipient of a trigger call.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct TriggerRecipient {
    pub namespace: String,
    pub id: String,
    /// Values for `{{context.<name>}}`; strings only (checked by the Console, which points at
    /// the offending field).
    #[serde(default)]
    pub context: serde_json::Map<String, serde_json::Value>,
}

/// Where one recipient of an execution stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientStatus {
    pub namespace: String,
    pub id: String,
    /// `queued`, `sending`, `sent`, `delivered`, `failed`, `not_found` or `excluded`.
    pub status: String,
    /// Why it failed or was excluded, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The profile it resolved to (or was created as).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
}

/// An execution of an API-triggered campaign: one trigger call and its recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    pub execution_id: String,
    pub campaign_id: i64,
    pub request_id: String,
    pub created_at: jiff::Timestamp,
    pub recipients: Vec<RecipientStatus>,
}

/// The interactions another system reports through `POST /v1/events` (those the app sees
/// itself — email opens and clicks, SMS delivery — come from tracking and providers).
pub const INGESTED_KINDS: [&str; 11] = [
    "push_opened",
    "push_button_clicked",
    "push_story_page_clicked",
    "in_app_viewed",
    "in_app_clicked",
    "in_app_button_clicked",
    "content_card_viewed",
    "content_card_clicked",
    "content_card_dismissed",
    "conversion",
    "webhook_received",
];

/// One reported interaction.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct IngestedEvent {
    /// The caller's id of the event: the same id again is not counted twice.
    pub event_id: String,
    /// One of [`INGESTED_KINDS`].
    pub kind: String,
    pub namespace: String,
    pub id: String,
    pub campaign_id: i64,
    /// When it happened (default: when it is received).
    #[serde(default)]
    pub at: Option<jiff::Timestamp>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub link_alias: Option<String>,
    /// A conversion's name ("purchase").
    #[serde(default)]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_list_follows_the_message() {
        let form = ApiCampaign {
            context: vec![ContextAttribute { name: "reset_url".into(), required: true, sample: "https://x".into() }],
            ..ApiCampaign::default()
        };
        let form = form.with_context(&["code".into(), "reset_url".into()]);
        assert_eq!(form.context.len(), 2);
        assert_eq!(form.context[0], ContextAttribute { name: "code".into(), ..ContextAttribute::default() });
        assert!(form.attribute("reset_url").is_some_and(|a| a.required && a.sample == "https://x"));
        assert!(form.with_context(&[]).context.is_empty());
    }

    #[test]
    fn scopes_read_in_any_case() {
        assert_eq!(ApiScope::parse(" Trigger "), Some(ApiScope::Trigger));
        assert_eq!(ApiScope::parse("admin"), None);
    }
}
