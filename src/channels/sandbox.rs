//! The Sandbox provider: "sends" by storing each message in the workspace
//! (`cc_sandbox_messages`), so a campaign runs end to end with no account anywhere. It can
//! look a message up by its idempotency key, which makes crash recovery exact.

use std::sync::Arc;

use super::registry::{Entry, Parts};
use super::{Answer, Capabilities, ChannelError, Outgoing, Provider, SendError, check_number};
use crate::model::provider::{FieldKind, SandboxRates, field};
use crate::model::settings::{self, ProviderSettings};
use crate::model::{Channel, ProviderKind};

/// The Sandbox in the provider registry: every channel, no account.
pub const ENTRY: Entry = Entry {
    kind: ProviderKind::Sandbox,
    channels: &Channel::ALL,
    first_on: &[],
    fields: &[
        field(
            "delay_seconds",
            "Delay before events (s)",
            FieldKind::Number,
            "delivered or bounced this long after sending",
        ),
        field("delivered_rate", "Delivered rate", FieldKind::Number, "0 to 1; the rest bounce").with_default("0.97"),
        field("open_rate", "Open rate", FieldKind::Number, "0 to 1, of delivered emails and pushes")
            .with_default("0.45"),
        field("click_rate", "Click rate", FieldKind::Number, "0 to 1, of opened ones").with_default("0.25"),
        field(
            "x_followers",
            "X followers",
            FieldKind::Number,
            "X only: the followers of the Sandbox X account, brought in as visitors by the synchronization",
        ),
        field(
            "tracking",
            "Open and click tracking",
            FieldKind::Choice(crate::model::provider::TRACKING_CHOICES),
            "email only: links and an open image through this app's server",
        )
        .with_default("on"),
    ],
    paced: true,
    problems: |settings| match settings {
        ProviderSettings::Sandbox(s) => problems(s),
        _ => Vec::new(),
    },
    // Messages kept at once share a transaction (the outbox groups them): many at once.
    build: |parts: Parts<'_>| Ok((Arc::new(Sandbox::new((parts.outbox)()?)), KEPT_AT_ONCE)),
};

/// The Sandbox's simulated events, from its credential's settings, with plausible defaults.
pub fn rates(settings: &settings::Sandbox) -> SandboxRates {
    let rate = |value: Option<f64>, default: f64| value.filter(|x| (0.0..=1.0).contains(x)).unwrap_or(default);
    let delay = settings.delay_seconds.filter(|x| *x >= 0.0 && x.is_finite()).unwrap_or(2.0);
    SandboxRates {
        delay: std::time::Duration::from_secs_f64(delay),
        delivered: rate(settings.delivered_rate, 0.97),
        opened: rate(settings.open_rate, 0.4),
        clicked: rate(settings.click_rate, 0.25),
    }
}

/// What is wrong with the Sandbox's simulation settings.
fn problems(settings: &settings::Sandbox) -> Vec<(&'static str, String)> {
    [
        ("delay_seconds", settings.delay_seconds, "The delay before events", 86_400.0),
        ("delivered_rate", settings.delivered_rate, "The delivered rate", 1.0),
        ("open_rate", settings.open_rate, "The open rate", 1.0),
        ("click_rate", settings.click_rate, "The click rate", 1.0),
        ("x_followers", settings.x_followers, "The number of X followers", super::x::sandbox::MAX_FOLLOWERS as f64),
    ]
    .into_iter()
    .filter_map(|(key, value, label, high)| check_number(value, label, 0.0, high).err().map(|e| (key, e.to_string())))
    .collect()
}

/// How many messages the Sandbox keeps at once (unless its credential's pace says).
const KEPT_AT_ONCE: usize = 64;

/// A message being kept: its id, once it is.
pub type Kept<'a> = std::pin::Pin<Box<dyn Future<Output = Result<String, ChannelError>> + Send + 'a>>;

/// Where the Sandbox keeps its messages: the workspace, given by the Console (a provider reads
/// no workspace itself). An error is one the workspace may get over (busy, unwritable).
pub trait Outbox: Send + Sync {
    /// Keeps a message; its id, once it is kept.
    fn keep<'a>(&'a self, message: &'a Outgoing) -> Kept<'a>;
    /// The id of the message kept with `idempotency_key`, if any.
    fn find(&self, idempotency_key: &str) -> Result<Option<String>, ChannelError>;
}

pub struct Sandbox {
    outbox: Box<dyn Outbox>,
}

impl Sandbox {
    /// A Sandbox keeping its messages in `outbox`.
    pub fn new(outbox: Box<dyn Outbox>) -> Self {
        Self { outbox }
    }

    fn outbox_error(e: ChannelError) -> SendError {
        // The workspace being busy or unwritable may pass: try again later.
        SendError::Transient { code: "sandbox_store".into(), message: e.to_string(), retry_after: None }
    }
}

impl Provider for Sandbox {
    fn name(&self) -> &str {
        "Sandbox"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { lookup: true, ..Capabilities::default() }
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Answer<'a, String> {
        Box::pin(async move { self.outbox.keep(m).await.map_err(Self::outbox_error) })
    }

    fn lookup<'a>(&'a self, message: &'a Outgoing, _since: jiff::Timestamp) -> Answer<'a, Option<String>> {
        Box::pin(async move { self.outbox.find(&message.idempotency_key).map_err(Self::outbox_error) })
    }
}
