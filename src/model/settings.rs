//! A credential's settings, typed per provider: what its form holds, as the workspace keeps it
//! (`cc_credentials.settings_json` holds one provider's object, the provider its own column).
//!
//! These are the settings as the admin gave them: text as typed (trimmed by the provider) and
//! numbers as numbers, without their range checked. The provider (`channels/`) reads them into
//! its checked settings and says, in words, what to fix; a form never meets a parse error of
//! serde's. Secrets are never here: the credential keeps keychain references by slot.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ProviderKind;

/// A number as the admin typed it: a whole one written without a decimal point (a port stays
/// `587`, not `587.0`).
#[expect(clippy::ref_option, reason = "serde's serialize_with hands the field by reference")]
fn number<S: serde::Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match *value {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => serializer.serialize_i64(x as i64),
        Some(x) => serializer.serialize_f64(x),
        None => serializer.serialize_none(),
    }
}

/// How fast a credential that sends often goes, and how it retries: every paced provider's
/// settings end with these (the form's last fields).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pace {
    /// Messages per second; none: as fast as the provider answers.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub rate_per_second: Option<f64>,
    /// Calls waiting for an answer at once; none: the provider's own number.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub max_in_flight: Option<f64>,
    /// Tries of a message that fails for a reason that may pass; none: the pipeline's.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub max_attempts: Option<f64>,
    /// The first retry's wait in seconds (doubling after); none: the pipeline's.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub retry_backoff_seconds: Option<f64>,
}

/// The Sandbox: how it pretends the world answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sandbox {
    /// Seconds between a message and its delivered / bounced event.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub delay_seconds: Option<f64>,
    /// 0 to 1; the rest bounce.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub delivered_rate: Option<f64>,
    /// 0 to 1, of delivered emails and pushes.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub open_rate: Option<f64>,
    /// 0 to 1, of opened ones.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub click_rate: Option<f64>,
    /// The X channel's only: how many followers the Sandbox X account has (what the follower
    /// synchronization brings in as visitors).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub x_followers: Option<f64>,
    /// Email only: `on` (empty: the same) or `off`, see [`ProviderSettings::tracks_email`].
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tracking: String,
    #[serde(flatten)]
    pub pace: Pace,
}

impl Sandbox {
    /// The Sandbox X account's followers (none unless set).
    pub fn x_followers(&self) -> u64 {
        self.x_followers.filter(|n| n.is_finite() && *n >= 0.0).map_or(0, |n| n as u64)
    }
}

/// Email through your own SMTP server (the password is the `secret` slot).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Smtp {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// None: the encryption's usual port.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub port: Option<f64>,
    /// `starttls` (empty: the same), `implicit` or `none`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tls: String,
    /// Empty: no sign-in.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reply_to: String,
    /// The List-Unsubscribe target; `{key}` is the message's idempotency key.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub unsubscribe: String,
    /// `on` (empty: the same) or `off`, see [`ProviderSettings::tracks_email`].
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tracking: String,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub timeout_seconds: Option<f64>,
    #[serde(flatten)]
    pub pace: Pace,
}

/// Any HTTP API: one request per message (the `secret` slot is the secret header's value).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Webhook {
    /// POST (empty: the same), PUT or PATCH.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub method: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// Headers that are not secret, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The header whose value is the keychain's secret (e.g. `Authorization`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub secret_header: String,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub timeout_seconds: Option<f64>,
    #[serde(flatten)]
    pub pace: Pace,
}

/// Direct mail: extraction files for a printer, in a folder.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DirectMail {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub folder: String,
}

/// Twilio's SMS API (the Auth Token is the `secret` slot).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Twilio {
    /// `AC` and 32 hexadecimal digits.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account_sid: String,
    /// `MG` and 32 hexadecimal digits; empty: `from` sends.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub messaging_service_sid: String,
    /// The sender's number (E.164) when there is no Messaging Service.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// The number people reply to (E.164): inbound messages to it are this credential's.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub inbound_number: String,
    /// Where Twilio's API is; empty: `https://api.twilio.com` (a local fake in tests).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub base_url: String,
    /// Where this app's server is reachable from Twilio; empty: no delivery reports asked for.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status_callback_base: String,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub timeout_seconds: Option<f64>,
    #[serde(flatten)]
    pub pace: Pace,
}

/// Any HTTP SMS or RCS provider (AJO's "custom SMS provider"): a request per message whose
/// JSON body is the payload template rendered for the recipient. Secrets: `secret` (the
/// password, bearer token, API key or OAuth2 client secret) and `webhook_secret` (what this
/// app's webhooks for the credential expect; made when it is saved).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomSms {
    /// The provider as people name it ("Acme RCS").
    #[serde(skip_serializing_if = "String::is_empty")]
    pub provider_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// POST (empty: the same), PUT or PATCH.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub method: String,
    /// `none` (empty: the same), `basic`, `bearer`, `header` (an API key in `auth_header`) or
    /// `oauth2` (client credentials at `token_url`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth: String,
    /// The user (basic) or the client id (OAuth2).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth_header: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// Headers that are not secret, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The sender (`{{from}}`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// The JSON body: `{{to}}`, `{{from}}`, `{{body}}`, `{{message_id}}`, `{{profile.*}}`,
    /// each written as JSON.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub payload: String,
    /// A JSON pointer to the provider's message id in its answer (empty: `/id`, `/message_id`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message_id_pointer: String,
    /// A JSON pointer to the provider's error code in a refusal.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error_pointer: String,
    /// JSON pointers into the provider's inbound webhook: who sent it, what it says, its id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub inbound_from_pointer: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub inbound_text_pointer: String,
    /// JSON pointers into the provider's delivery feedback: the message's id and status.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub feedback_id_pointer: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub feedback_status_pointer: String,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub timeout_seconds: Option<f64>,
    #[serde(flatten)]
    pub pace: Pace,
}

/// An X service: one X account, called with OAuth 1.0a user context. Secrets (four slots):
/// `consumer_key`, `consumer_secret`, `access_token`, `access_token_secret`. The credential's
/// name is the service's label.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct XService {
    /// The account's handle (without @): the keys must be its.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub internal_name: String,
    /// Where its followers land as visitors (empty: "Visitors").
    #[serde(skip_serializing_if = "String::is_empty")]
    pub visitor_folder: String,
    /// `on` (empty: the same) or `off`: its followers are synchronized.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sync_subscriptions: String,
    /// `yes`: a protected account proofs go to (empty: `no`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub test_account: String,
    /// Where the X API is; empty: `https://api.x.com` (a local fake in tests).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub base_url: String,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub timeout_seconds: Option<f64>,
    /// Seconds between two direct messages (empty: 2).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub dm_seconds_between: Option<f64>,
    /// Direct messages in 24 hours, at most (empty: 1,000); more wait for the next day.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub dm_per_day: Option<f64>,
    #[serde(flatten)]
    pub pace: Pace,
}

/// Seconds between two direct messages of an X service unless it says.
pub const DM_SECONDS_BETWEEN: f64 = 2.0;
/// Direct messages of an X service in 24 hours unless it says.
pub const DM_PER_DAY: u32 = 1000;

impl XService {
    /// Seconds between two direct messages.
    pub fn dm_interval(&self) -> f64 {
        self.dm_seconds_between.filter(|s| s.is_finite() && *s > 0.0).unwrap_or(DM_SECONDS_BETWEEN)
    }

    /// Direct messages in 24 hours, at most.
    pub fn dm_day_limit(&self) -> u32 {
        self.dm_per_day.filter(|n| n.is_finite() && *n >= 1.0).map_or(DM_PER_DAY, |n| n as u32)
    }

    /// The handle as typed, without a leading @ and spaces.
    pub fn handle(&self) -> &str {
        self.internal_name.trim().trim_start_matches('@')
    }

    pub fn folder(&self) -> &str {
        match self.visitor_folder.trim() {
            "" => "Visitors",
            f => f,
        }
    }

    pub fn synchronized(&self) -> bool {
        self.sync_subscriptions.trim() != "off"
    }

    pub fn is_test_account(&self) -> bool {
        self.test_account.trim() == "yes"
    }
}

/// The enum of every provider's settings and what it needs, from one list (a new provider is
/// one line here beside its struct).
macro_rules! provider_settings {
    ($($variant:ident($settings:ty) $($paced:ident)?),* $(,)?) => {
        /// A credential's settings for its provider. Serialised with the provider as a tag,
        /// the way a credential row keeps them apart (`provider`, `settings`).
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "provider", content = "settings", rename_all = "snake_case")]
        pub enum ProviderSettings {
            $($variant($settings)),*
        }

        impl ProviderSettings {
            /// Whose settings these are.
            pub fn kind(&self) -> ProviderKind {
                match self {
                    $(Self::$variant(_) => ProviderKind::$variant),*
                }
            }

            /// `kind`'s settings from the object a form or the workspace holds (keys as the
            /// provider's form names them; keys it does not know are dropped).
            pub fn from_json(kind: ProviderKind, settings: serde_json::Value) -> Result<Self, SettingsError> {
                let shape = |source| SettingsError::Shape { provider: kind.label(), source };
                match kind {
                    $(ProviderKind::$variant => Ok(Self::$variant(serde_json::from_value(settings).map_err(shape)?)),)*
                    #[allow(unreachable_patterns, reason = "every provider kind may one day have settings")]
                    _ => Err(SettingsError::Unknown(kind.label())),
                }
            }

            /// The settings as one object, keyed as the provider's form names its fields (what
            /// the workspace keeps beside the provider, and what a form edits).
            pub fn to_json(&self) -> serde_json::Value {
                let value = match self {
                    $(Self::$variant(s) => serde_json::to_value(s)),*
                };
                // Plain structs of strings, numbers and a string map always serialise.
                value.unwrap_or_else(|_| serde_json::Value::Object(serde_json::Map::new()))
            }

            /// The pace and retries, for a provider that takes them.
            pub fn pace(&self) -> Option<&Pace> {
                match self {
                    $(Self::$variant(_s) => provider_settings!(@pace _s $($paced)?)),*
                }
            }
        }
    };
    (@pace $s:ident paced) => { Some(&$s.pace) };
    (@pace $s:ident) => { None };
}

provider_settings! {
    Sandbox(Sandbox) paced,
    Smtp(Smtp) paced,
    Twilio(Twilio) paced,
    // Boxed: its template and pointers make it several times the size of the others.
    CustomSms(Box<CustomSms>) paced,
    Http(Webhook) paced,
    FileExport(DirectMail),
    XApi(XService) paced,
}

/// Settings that cannot be read as a provider's: the wrong kind of value for a field, or a
/// provider whose settings this version does not know.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("this version keeps no settings for {0} credentials")]
    Unknown(&'static str),
    #[error("the {provider} settings cannot be read: {source}")]
    Shape { provider: &'static str, source: serde_json::Error },
}

impl ProviderSettings {
    /// Whether the emails sent with these settings are tracked (their links, open image and
    /// unsubscribe link through the server): on unless set `off`, for SMTP and the Sandbox.
    pub fn tracks_email(&self) -> bool {
        match self {
            Self::Smtp(s) => s.tracking.trim() != "off",
            Self::Sandbox(s) => s.tracking.trim() != "off",
            _ => false,
        }
    }

    /// A new credential's settings for `kind`: nothing filled in.
    pub fn empty(kind: ProviderKind) -> Result<Self, SettingsError> {
        Self::from_json(kind, serde_json::Value::Object(serde_json::Map::new()))
    }

    /// Sends as `sender` (an SMS configuration's) instead of the credential's own: Twilio
    /// through a Messaging Service (`MG…`) or from a number, a custom provider with it as
    /// `{{from}}`. Other providers have no sender to change.
    pub fn use_sender(&mut self, sender: &str) {
        let sender = sender.trim();
        match self {
            Self::Twilio(t) if sender.starts_with("MG") => {
                t.messaging_service_sid = sender.to_owned();
                t.from.clear();
            }
            Self::Twilio(t) => {
                t.from = sender.to_owned();
                t.messaging_service_sid.clear();
            }
            Self::CustomSms(c) => c.from = sender.to_owned(),
            _ => {}
        }
    }
}

impl Default for ProviderSettings {
    /// The built-in Sandbox's: what a channel with no credential sends with.
    fn default() -> Self {
        Self::Sandbox(Sandbox::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configurations_sender_replaces_the_credentials_one() {
        let service = format!("MG{}", "0".repeat(32));
        let mut s = ProviderSettings::Twilio(Twilio { from: "+14155550100".into(), ..Twilio::default() });
        s.use_sender(&service);
        let ProviderSettings::Twilio(t) = &s else { panic!() };
        assert_eq!((t.messaging_service_sid.as_str(), t.from.as_str()), (service.as_str(), ""));
        s.use_sender(" +33757000000 ");
        let ProviderSettings::Twilio(t) = &s else { panic!() };
        assert_eq!((t.messaging_service_sid.as_str(), t.from.as_str()), ("", "+33757000000"));
        let mut c = ProviderSettings::CustomSms(Box::default());
        c.use_sender("AcmeTravel");
        let ProviderSettings::CustomSms(c) = &c else { panic!() };
        assert_eq!(c.from, "AcmeTravel");
    }

    #[test]
    fn settings_keep_the_keys_their_form_names_and_round_trip() {
        let json = serde_json::json!({
            "host": "smtp.example.com", "port": 587, "tls": "starttls", "from": "news@example.com",
            "rate_per_second": 12.5, "max_in_flight": 4
        });
        let s = ProviderSettings::from_json(ProviderKind::Smtp, json.clone()).unwrap();
        let ProviderSettings::Smtp(smtp) = &s else { panic!("{s:?}") };
        assert_eq!(smtp.host, "smtp.example.com");
        assert_eq!(smtp.port, Some(587.0));
        assert_eq!(smtp.pace.rate_per_second, Some(12.5));
        assert_eq!(s.to_json(), json, "what is kept is what the form gave, nothing added");
        assert_eq!(s.kind(), ProviderKind::Smtp);
    }

    #[test]
    fn a_value_of_the_wrong_kind_or_an_unknown_provider_is_an_error_not_a_default() {
        let e = ProviderSettings::from_json(ProviderKind::Smtp, serde_json::json!({ "port": "twenty-five" }));
        assert!(matches!(e, Err(SettingsError::Shape { provider: "SMTP", .. })), "{e:?}");
        let e = ProviderSettings::from_json(ProviderKind::Fcm, serde_json::json!({}));
        assert!(matches!(e, Err(SettingsError::Unknown(_))), "{e:?}");
        let tagged = serde_json::to_value(ProviderSettings::default()).unwrap();
        assert_eq!(tagged, serde_json::json!({ "provider": "sandbox", "settings": {} }));
        assert!(ProviderSettings::empty(ProviderKind::Smtp).unwrap().pace().is_some(), "SMTP takes a pace");
        assert!(ProviderSettings::empty(ProviderKind::FileExport).unwrap().pace().is_none(), "a file does not");
    }
}
