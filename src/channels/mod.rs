//! Providers: what sends a message on a channel. Each is behind [`Provider`]; the delivery
//! workers call it for one ledger row at a time.

pub mod sandbox;

/// A message ready to go: rendered for one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Unique per delivery, recipient and secondary row; a provider that supports idempotency
    /// keys gets it, and crash recovery looks messages up by it.
    pub idempotency_key: String,
    pub channel: crate::model::Channel,
    pub address: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a message was not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another try later (a timeout, a reset connection, 429, 5xx, SMTP 4xx).
    #[error("{code}: {message}")]
    Transient { code: String, message: String, retry_after: Option<std::time::Duration> },
    /// Never retried (invalid address, unsubscribed, SMTP 5xx, a code the provider marks final).
    #[error("{code}: {message}")]
    Permanent { code: String, message: String },
}

/// What a provider can do besides sending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// It can tell whether a message with a given idempotency key was sent (crash recovery).
    pub lookup: bool,
}

/// Sends messages on a channel.
pub trait Provider: Send + Sync {
    fn name(&self) -> &str;

    fn capabilities(&self) -> Capabilities;

    /// Sends one message; returns the provider's id for it.
    fn send(&self, message: &Outgoing) -> Result<String, SendError>;

    /// The provider's id of the message sent with `idempotency_key`, if it was sent; only
    /// called when [`Capabilities::lookup`] is set.
    fn lookup(&self, idempotency_key: &str) -> Result<Option<String>, SendError> {
        let _ = idempotency_key;
        Ok(None)
    }
}
