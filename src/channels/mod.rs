//! Providers: what sends a message on a channel. Each is behind [`Provider`]; the delivery
//! workers call it for one ledger row at a time, several at once on the Console's runtime.

pub mod custom_sms;
pub mod direct_mail;
pub mod registry;
pub mod sandbox;
pub mod smtp;
pub mod twilio;
pub mod webhook;
pub mod x;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::model::ProviderSettings;
use crate::model::settings;

/// A message ready to go: rendered for one recipient.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outgoing {
    /// Unique per delivery, recipient and secondary row; a provider that supports idempotency
    /// keys gets it, and crash recovery looks messages up by it.
    pub idempotency_key: String,
    pub channel: crate::model::Channel,
    pub address: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Named values of the recipient a provider writes as they are (the columns of a direct-mail
    /// extraction), in order.
    pub fields: Vec<(String, String)>,
    /// The recipient's profile row (column → value), for providers that ask for it
    /// ([`Capabilities::profile_values`]); `Null` otherwise.
    pub profile: serde_json::Value,
    /// The app's own unsubscribe link for this message (`<server>/u/<token>`) when its emails
    /// are tracked; a provider's own List-Unsubscribe setting comes first.
    pub unsubscribe: String,
}

/// Why a credential's settings cannot work, or a provider cannot be built, in words for the
/// admin (what to fix).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// A setting is missing or cannot work.
    #[error("{0}")]
    Settings(String),
    /// This version cannot send through the provider.
    #[error("sending through {0} is not available in this version yet; use a Sandbox credential")]
    Unavailable(&'static str),
    /// Where the Sandbox keeps its messages could not be used (it may pass: a busy workspace).
    #[error("the Sandbox's outbox: {0}")]
    Outbox(String),
}

impl ChannelError {
    /// Settings of another provider given to `kind` (a caller's mistake, said plainly).
    pub fn mismatch(kind: crate::model::ProviderKind, settings: &crate::model::ProviderSettings) -> Self {
        Self::Settings(format!("{} settings cannot build a {} provider", settings.kind().label(), kind.label()))
    }
}

impl From<String> for ChannelError {
    fn from(why: String) -> Self {
        Self::Settings(why)
    }
}

impl From<&str> for ChannelError {
    fn from(why: &str) -> Self {
        Self::Settings(why.to_owned())
    }
}

/// Why a message was not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another try later (a timeout, a reset connection, 429, 5xx, SMTP 4xx).
    #[error("{code}: {message}")]
    Transient { code: String, message: String, retry_after: Option<Duration> },
    /// Never retried (invalid address, unsubscribed, SMTP 5xx, a code the provider marks final).
    #[error("{code}: {message}")]
    Permanent { code: String, message: String },
}

impl SendError {
    pub fn transient(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Transient { code: code.into(), message: message.into(), retry_after: None }
    }

    pub fn permanent(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Permanent { code: code.into(), message: message.into() }
    }

    /// The provider's code.
    pub fn code(&self) -> &str {
        match self {
            Self::Transient { code, .. } | Self::Permanent { code, .. } => code,
        }
    }

    /// The explanation, without the code.
    pub fn message(&self) -> &str {
        match self {
            Self::Transient { message, .. } | Self::Permanent { message, .. } => message,
        }
    }
}

/// What a provider can do besides sending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// It can tell whether a message was sent (crash recovery).
    pub lookup: bool,
    /// It writes the recipient's profile values itself (a custom provider's payload):
    /// [`Outgoing::profile`] is filled for it.
    pub profile_values: bool,
}

/// What a provider's call gives back, later.
pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, SendError>> + Send + 'a>>;

/// Sends messages on a channel. Calls run on the Console's tokio runtime, several at once (up
/// to the credential's concurrency), so a provider is shared between tasks.
pub trait Provider: Send + Sync {
    fn name(&self) -> &str;

    fn capabilities(&self) -> Capabilities;

    /// Sends one message; returns the provider's id for it.
    fn send<'a>(&'a self, message: &'a Outgoing) -> Answer<'a, String>;

    /// Sends one message an admin sends to check a credential; returns the provider's id for
    /// it and the status the provider gave it ("queued", "accepted").
    fn send_checked<'a>(&'a self, message: &'a Outgoing) -> Answer<'a, (String, String)> {
        Box::pin(async move { Ok((self.send(message).await?, "accepted".to_owned())) })
    }

    /// The provider's id of `message` if it was sent (it was claimed at `since`, then the app
    /// stopped); only called when [`Capabilities::lookup`] is set.
    fn lookup<'a>(&'a self, message: &'a Outgoing, since: jiff::Timestamp) -> Answer<'a, Option<String>> {
        let _ = (message, since);
        Box::pin(async { Ok(None) })
    }

    /// Whether a failure with `code` means the recipient unsubscribed at the provider (the
    /// pipeline then turns their opt-in for the channel off).
    fn means_unsubscribed(&self, code: &str) -> bool {
        let _ = code;
        false
    }

    /// Connects (and authenticates) without sending anything; says what was checked.
    fn verify(&self) -> Answer<'_, String> {
        Box::pin(async { Ok("nothing to connect to: this provider works locally".to_owned()) })
    }
}

/// How fast and how many at once a credential sends, from its settings' pace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pace {
    /// At most this many messages per second; `None`: as fast as the provider answers.
    pub rate_per_second: Option<f64>,
    /// Calls waiting for an answer at the same time.
    pub max_in_flight: usize,
}

impl Pace {
    /// The pace of `settings` (none given: as fast as the provider answers, `default_in_flight`
    /// at once).
    pub fn of(settings: Option<&settings::Pace>, default_in_flight: usize) -> Self {
        Self {
            rate_per_second: settings.and_then(|s| s.rate_per_second).filter(|r| *r > 0.0),
            max_in_flight: settings
                .and_then(|s| s.max_in_flight)
                .filter(|n| *n >= 1.0)
                .map_or(default_in_flight, |n| n.clamp(1.0, 256.0) as usize),
        }
    }
}

/// How a credential retries a transient failure, from its settings' pace; `None`: the
/// pipeline's default.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Retries {
    pub max_attempts: Option<u32>,
    /// The first retry's wait (doubling after).
    pub backoff: Option<Duration>,
}

impl Retries {
    pub fn of(settings: Option<&settings::Pace>) -> Self {
        Self {
            max_attempts: settings
                .and_then(|s| s.max_attempts)
                .filter(|n| *n >= 0.0)
                .map(|n| n.clamp(1.0, 20.0) as u32),
            backoff: settings
                .and_then(|s| s.retry_backoff_seconds)
                .filter(|s| s.is_finite())
                .map(|s| Duration::from_secs_f64(s.clamp(0.01, 3_600.0))),
        }
    }
}

/// Whether `host` names this machine (where unencrypted connections are allowed).
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A web address a provider calls: `https://`, or `http://` to this machine only; `what`
/// names it in the message ("the webhook's URL").
pub(crate) fn web_url(text: &str, what: &str) -> Result<reqwest::Url, ChannelError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{what} is missing").into());
    }
    let url = reqwest::Url::parse(text).map_err(|e| format!("\u{201c}{text}\u{201d} is not a URL ({e})"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(url.host_str().unwrap_or("")) => Ok(url),
        "http" => Err(format!(
            "messages would cross the network unencrypted: use https:// for {}",
            url.host_str().unwrap_or("")
        )
        .into()),
        other => Err(format!("{other}:// is not a web address: use https://").into()),
    }
}

/// The HTTP client of a provider that calls a web API: `timeout` per call, at most
/// `max_in_flight` connections kept, this app's user agent.
pub(crate) fn http_client(timeout: Duration, max_in_flight: usize) -> Result<reqwest::Client, ChannelError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .pool_max_idle_per_host(max_in_flight.max(1))
        .user_agent(concat!("campaign-console/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ChannelError::Settings(format!("the HTTP client cannot start: {e}")))
}

/// A web API's refusal as the pipeline sees it: 408, 429 (waiting as Retry-After says) and 5xx
/// pass, any other answer is final; `code` is the provider's own when it gave one, else
/// `http_<status>`; the message is what it said (its first 300 characters), else the status's
/// reason.
pub(crate) fn refusal(
    status: reqwest::StatusCode,
    code: Option<String>,
    said: &str,
    retry_after: Option<Duration>,
) -> SendError {
    let code = code.unwrap_or_else(|| format!("http_{}", status.as_u16()));
    let said: String = said.chars().take(300).collect();
    let message =
        if said.trim().is_empty() { status.canonical_reason().unwrap_or("no explanation").to_owned() } else { said };
    if status.as_u16() == 429 || status.as_u16() == 408 || status.is_server_error() {
        SendError::Transient { code, message, retry_after }
    } else {
        SendError::Permanent { code, message }
    }
}

/// How long a 429 or 503 asks to wait: seconds, or an HTTP date.
pub fn retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(seconds) = v.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)));
    }
    let at = jiff::fmt::rfc2822::parse(v).ok()?.timestamp();
    let wait = at.duration_since(crate::clock::wall());
    Some(Duration::try_from(wait).unwrap_or_default())
}

/// A transport error as the pipeline sees it.
pub(crate) fn classify_error(e: &reqwest::Error) -> SendError {
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why = format!("{why}: {s}");
        source = s.source();
    }
    if e.is_builder() {
        SendError::permanent("bad_request", why)
    } else if e.is_timeout() {
        SendError::transient("timeout", why)
    } else if e.is_connect() {
        SendError::transient("connection", why)
    } else {
        SendError::transient("network", why)
    }
}

/// How long an answer's `Retry-After` header asks to wait, when it has one.
pub(crate) fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers.get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry_after)
}

/// Whether `host` can be a host: a DNS name (letters, digits and hyphens in dot-separated
/// labels) or an IPv4 / IPv6 address (brackets allowed).
pub fn is_host(host: &str) -> bool {
    let h = host.trim();
    if h.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let label = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let name = h.strip_suffix('.').unwrap_or(h);
    !name.is_empty() && name.len() <= 253 && name.split('.').all(label)
}

/// Every problem with a credential's settings, each with the key of the field it is about
/// ("" when it is about the whole form), so that a form can show them all at once.
pub fn field_problems(settings: &ProviderSettings) -> Vec<(&'static str, String)> {
    let mut out = registry::entry(settings.kind()).map_or_else(Vec::new, |e| (e.problems)(settings));
    if let Some(pace) = settings.pace() {
        out.extend(pace_problems(pace));
    }
    out
}

/// Checks a credential's settings for its provider before they are saved; the message says
/// what to fix (the first problem), in words for the admin.
pub fn check_settings(settings: &ProviderSettings) -> Result<(), ChannelError> {
    match field_problems(settings).into_iter().next() {
        Some((_, first)) => Err(ChannelError::Settings(first)),
        None => Ok(()),
    }
}

/// A number setting between `low` and `high`, when it is given.
pub(crate) fn check_number(value: Option<f64>, label: &str, low: f64, high: f64) -> Result<(), ChannelError> {
    match value {
        Some(x) if !(low..=high).contains(&x) => {
            Err(ChannelError::Settings(format!("{label} must be a number from {low} to {high}")))
        }
        _ => Ok(()),
    }
}

/// What is wrong with the pace and retry numbers, each with its field's key.
fn pace_problems(pace: &settings::Pace) -> Vec<(&'static str, String)> {
    [
        ("rate_per_second", pace.rate_per_second, "The rate (messages per second)", 0.001, 100_000.0),
        ("max_in_flight", pace.max_in_flight, "Messages at once", 1.0, 256.0),
        ("max_attempts", pace.max_attempts, "Attempts", 1.0, 20.0),
        ("retry_backoff_seconds", pace.retry_backoff_seconds, "The first retry's wait (s)", 0.01, 3_600.0),
    ]
    .into_iter()
    .filter_map(|(key, value, label, low, high)| {
        check_number(value, label, low, high).err().map(|e| (key, e.to_string()))
    })
    .collect()
}
