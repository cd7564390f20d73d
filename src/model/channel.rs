use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A way of reaching a recipient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Email,
    Sms,
    Push,
    DirectMail,
    /// An X post: one per run, on the service's account.
    X,
    Webhook,
    /// An X direct message to each visitor, through the X service they follow (its
    /// credentials are the X channel's).
    XDm,
}

impl Channel {
    /// The channels credentials are kept for (an X direct message sends with an X service).
    pub const ALL: [Self; 6] = [Self::Email, Self::Sms, Self::Push, Self::DirectMail, Self::X, Self::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Push => "push",
            Self::DirectMail => "direct_mail",
            Self::X => "x",
            Self::Webhook => "webhook",
            Self::XDm => "x_dm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().chain([Self::XDm]).find(|c| c.as_str() == s)
    }

    /// The channel whose credentials it sends with (an X direct message: the X services).
    pub fn credential_channel(self) -> Self {
        match self {
            Self::XDm => Self::X,
            other => other,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Email => "Email",
            Self::Sms => "SMS",
            Self::Push => "Push",
            Self::DirectMail => "Direct mail",
            Self::X => "X (Twitter)",
            Self::Webhook => "Webhook",
            Self::XDm => "X direct message",
        }
    }
}

/// Which provider implementation a credential is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Records messages in the workspace and simulates delivery events: no account needed.
    Sandbox,
    Smtp,
    Twilio,
    CustomSms,
    Fcm,
    Http,
    FileExport,
    XApi,
}

impl ProviderKind {
    pub const ALL: [Self; 8] =
        [Self::Sandbox, Self::Smtp, Self::Twilio, Self::CustomSms, Self::Fcm, Self::Http, Self::FileExport, Self::XApi];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Smtp => "smtp",
            Self::Twilio => "twilio",
            Self::CustomSms => "custom_sms",
            Self::Fcm => "fcm",
            Self::Http => "http",
            Self::FileExport => "file_export",
            Self::XApi => "x_api",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Sandbox => "Sandbox",
            Self::Smtp => "SMTP",
            Self::Twilio => "Twilio",
            Self::CustomSms => "Custom SMS (RCS)",
            Self::Fcm => "Firebase (push)",
            Self::Http => "Webhook (HTTP)",
            Self::FileExport => "Extraction file",
            Self::XApi => "X API",
        }
    }
}

/// The slot of a provider's one secret (a password, a token).
pub const SECRET_SLOT: &str = "secret";

/// The name under which a secret is kept in the secret store (the OS keychain). Only this
/// reference is written to the workspace, never the secret itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SecretRef(pub String);

/// A named provider credential: the non-secret settings, plus references to its secrets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    pub id: i64,
    pub channel: Channel,
    pub name: String,
    /// The provider's non-secret settings (host, account SID, sender, rate limit, …): which
    /// provider it sends through is theirs to say.
    pub settings: super::ProviderSettings,
    /// Where each of its secrets lives in the keychain, by slot (the provider's form names
    /// them: `secret` for a password or a token, more for providers that need several).
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretRef>,
    pub created_at: jiff::Timestamp,
    /// The channel's default: what an activity that names no credential sends with.
    #[serde(default)]
    pub is_default: bool,
    /// The last time an admin checked it with a real message (Verify SMS connection).
    #[serde(default)]
    pub verified: Option<Verification>,
}

/// What the provider answered the last time a credential was verified with a real message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub at: jiff::Timestamp,
    pub ok: bool,
    /// In words: "message SM… queued" or the provider's error explained.
    pub summary: String,
    /// The provider's own code, for "Details" (empty when it worked).
    #[serde(default)]
    pub code: String,
    /// The provider's raw words behind the code.
    #[serde(default)]
    pub detail: String,
}

impl Credential {
    /// The provider it sends through.
    pub fn provider(&self) -> ProviderKind {
        self.settings.kind()
    }

    /// The name and provider, as people read them: "My relay (SMTP)".
    pub fn display_name(&self) -> String {
        format!("{} ({})", self.name, self.provider().label())
    }
}

/// The credential a channel sends with when an activity names none: the one the user made
/// the default (the first one added is, until another is chosen), else the oldest.
pub fn default_credential(credentials: &[Credential], channel: Channel) -> Option<&Credential> {
    let channel = channel.credential_channel();
    let of_channel = || credentials.iter().filter(|c| c.channel == channel);
    of_channel().find(|c| c.is_default).or_else(|| of_channel().min_by_key(|c| c.id))
}

/// An activity names a credential its channel does not have (deleted or renamed since).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("there is no {} credential called \u{201c}{name}\u{201d}", channel.label())]
pub struct NoSuchCredential {
    pub channel: Channel,
    pub name: String,
}

/// The credential a channel activity sends with: the one it names (any case), else the
/// channel's default; `Ok(None)` means the built-in Sandbox. Naming one that does not exist
/// is an error saying so.
pub fn credential_for<'c>(
    credentials: &'c [Credential],
    channel: Channel,
    name: Option<&str>,
) -> Result<Option<&'c Credential>, NoSuchCredential> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => credentials
            .iter()
            .find(|c| c.channel == channel.credential_channel() && c.name.eq_ignore_ascii_case(name))
            .map(Some)
            .ok_or_else(|| NoSuchCredential { channel: channel.credential_channel(), name: name.to_owned() }),
        None => Ok(default_credential(credentials, channel)),
    }
}
