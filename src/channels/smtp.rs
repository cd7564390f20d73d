//! The SMTP provider (lettre, async, pooled): multipart text + HTML, Reply-To, List-Unsubscribe,
//! TLS implicit / STARTTLS required / none (this machine only). The password comes from the
//! keychain; the settings hold everything else.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::registry::{Entry, Parts};
use super::{Answer, Capabilities, ChannelError, Outgoing, Provider, SendError, is_loopback};
use crate::model::provider::{FieldKind, field};
use crate::model::settings::{self, ProviderSettings};
use crate::model::{Channel, ProviderKind, SECRET_SLOT};

/// How the connection is encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (port 465).
    Implicit,
    /// STARTTLS, and refuse to go on without it (port 587).
    StartTls,
    /// Unencrypted: only to a server on this machine (a local relay, a test sink).
    None,
}

impl TlsMode {
    pub const ALL: [Self; 3] = [Self::StartTls, Self::Implicit, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Implicit => "implicit",
            Self::StartTls => "starttls",
            Self::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Implicit => "TLS from the first byte (implicit)",
            Self::StartTls => "STARTTLS, required",
            Self::None => "None (this machine only)",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Self::Implicit => 465,
            Self::StartTls => 587,
            Self::None => 25,
        }
    }
}

/// SMTP in the provider registry: email through your own server.
pub const ENTRY: Entry = Entry {
    kind: ProviderKind::Smtp,
    channels: &[Channel::Email],
    first_on: &[],
    fields: &[
        field("host", "Server", FieldKind::Text, "smtp.example.com"),
        field("port", "Port", FieldKind::Number, "empty: 587 for STARTTLS, 465 for TLS"),
        field("tls", "Encryption", FieldKind::Choice(&TLS_CHOICES), ""),
        field("username", "User name", FieldKind::Text, "empty: no sign-in"),
        field("secret", "Password", FieldKind::Secret, ""),
        field("from", "From", FieldKind::Text, "Travel Co <news@example.com>"),
        field("reply_to", "Reply-To", FieldKind::Text, "optional"),
        field(
            "unsubscribe",
            "Unsubscribe link",
            FieldKind::Text,
            "empty: this app's server's; or https://example.com/unsub/{key} or mailto:…",
        ),
        field(
            "tracking",
            "Open and click tracking",
            FieldKind::Choice(crate::model::provider::TRACKING_CHOICES),
            "links and an open image through this app's server",
        )
        .with_default("on"),
    ],
    paced: true,
    problems: |settings| match settings {
        ProviderSettings::Smtp(s) => SmtpSettings::problems(s),
        _ => Vec::new(),
    },
    build: |parts: Parts<'_>| match parts.settings {
        ProviderSettings::Smtp(s) => Ok((Arc::new(Smtp::new(SmtpSettings::read(s)?, parts.secret(SECRET_SLOT))), 4)),
        other => Err(ChannelError::mismatch(ProviderKind::Smtp, other)),
    },
};

/// The TLS modes as the form offers them.
const TLS_CHOICES: [(&str, &str); 3] = [
    ("starttls", "STARTTLS, required"),
    ("implicit", "TLS from the first byte (implicit)"),
    ("none", "None (this machine only)"),
];

/// An SMTP credential's settings, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    /// The List-Unsubscribe target (`https://…` or `mailto:…`); `{key}` is replaced by the
    /// message's idempotency key.
    pub unsubscribe: String,
    pub timeout: Duration,
    pub pool: u32,
}

impl SmtpSettings {
    /// Every problem with `settings`, each with the key of the field it is about.
    pub fn problems(settings: &settings::Smtp) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let host = settings.host.trim();
        if host.is_empty() {
            out.push(("host", "the SMTP server's host name is missing".to_owned()));
        } else if !super::is_host(host) {
            out.push(("host", format!("\u{201c}{host}\u{201d} is not a host name or an IP address")));
        }
        let tls_text = settings.tls.trim();
        let tls = if tls_text.is_empty() { Some(TlsMode::StartTls) } else { TlsMode::parse(tls_text) };
        match tls {
            None => out.push(("tls", format!("\u{201c}{tls_text}\u{201d} is not a TLS mode"))),
            Some(TlsMode::None) if super::is_host(host) && !is_loopback(host) => out.push((
                "tls",
                format!(
                    "an unencrypted connection is only allowed to this machine, not to {host}: choose STARTTLS or implicit TLS"
                ),
            )),
            Some(_) => {}
        }
        if let Some(p) = settings.port
            && port_number(p).is_none()
        {
            out.push(("port", format!("{p} is not a port number (1 to 65535)")));
        }
        for (key, text, what, required) in
            [("from", &settings.from, "sender", true), ("reply_to", &settings.reply_to, "reply-to address", false)]
        {
            let text = text.trim();
            if text.is_empty() {
                if required {
                    out.push((key, "the sender address (From) is missing".to_owned()));
                }
            } else if let Err(e) = text.parse::<Mailbox>() {
                out.push((key, format!("the {what} \u{201c}{text}\u{201d} is not an email address ({e})")));
            }
        }
        let unsubscribe = settings.unsubscribe.trim();
        if !unsubscribe.is_empty() && !unsubscribe.starts_with("https://") && !unsubscribe.starts_with("mailto:") {
            out.push(("unsubscribe", "the unsubscribe link must start with https:// or mailto:".to_owned()));
        }
        out
    }

    /// Reads and checks the settings of a credential; the message says what to fix (the
    /// first of [`SmtpSettings::problems`]).
    pub fn read(settings: &settings::Smtp) -> Result<Self, ChannelError> {
        if let Some((_, first)) = Self::problems(settings).into_iter().next() {
            return Err(ChannelError::Settings(first));
        }
        let mailbox = |text: &str| text.trim().parse::<Mailbox>().ok();
        let tls = TlsMode::parse(settings.tls.trim()).unwrap_or(TlsMode::StartTls);
        Ok(Self {
            host: settings.host.trim().to_owned(),
            port: settings.port.and_then(port_number).unwrap_or(tls.default_port()),
            tls,
            username: settings.username.trim().to_owned(),
            from: mailbox(&settings.from).ok_or_else(|| ChannelError::from("the sender address (From) is missing"))?,
            reply_to: mailbox(&settings.reply_to),
            unsubscribe: settings.unsubscribe.trim().to_owned(),
            timeout: Duration::from_secs_f64(settings.timeout_seconds.unwrap_or(30.0).clamp(1.0, 600.0)),
            pool: settings.pace.max_in_flight.map_or(4, |n| n.clamp(1.0, 64.0) as u32),
        })
    }
}

/// A port number as typed: a whole number from 1 to 65535.
fn port_number(p: f64) -> Option<u16> {
    (p.fract() == 0.0 && (1.0..=65_535.0).contains(&p)).then_some(p as u16)
}

pub struct Smtp {
    settings: SmtpSettings,
    password: Option<String>,
    /// Built on first use, inside the runtime (the pool starts a task), with that runtime:
    /// dropping the pool starts a task too.
    transport: tokio::sync::OnceCell<(AsyncSmtpTransport<Tokio1Executor>, tokio::runtime::Handle)>,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        if let Some((transport, runtime)) = self.transport.take() {
            let _inside = runtime.enter();
            drop(transport);
        }
    }
}

impl Smtp {
    /// `password` is the keychain's secret for the credential, when it has one.
    pub fn new(settings: SmtpSettings, password: Option<String>) -> Self {
        Self { settings, password, transport: tokio::sync::OnceCell::new() }
    }

    async fn transport(&self) -> Result<&AsyncSmtpTransport<Tokio1Executor>, SendError> {
        self.transport
            .get_or_try_init(|| async {
                let s = &self.settings;
                let builder = match s.tls {
                    TlsMode::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host),
                    TlsMode::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host),
                    TlsMode::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.as_str())),
                }
                .map_err(|e| SendError::permanent("smtp_tls", format!("TLS cannot be set up for {}: {e}", s.host)))?;
                let mut builder = builder
                    .port(s.port)
                    .timeout(Some(s.timeout))
                    .pool_config(PoolConfig::new().max_size(s.pool).idle_timeout(Duration::from_secs(30)));
                if !s.username.is_empty() {
                    builder = builder
                        .credentials(Credentials::new(s.username.clone(), self.password.clone().unwrap_or_default()));
                }
                Ok((builder.build(), tokio::runtime::Handle::current()))
            })
            .await
            .map(|(transport, _)| transport)
    }

    /// The email for one message.
    pub fn message(&self, m: &Outgoing) -> Result<Message, SendError> {
        let s = &self.settings;
        let to: Mailbox = m.address.trim().parse().map_err(|e| {
            SendError::permanent("invalid_address", format!("{} is not an email address ({e})", m.address))
        })?;
        let mut builder = Message::builder()
            .from(s.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .message_id(Some(format!("<{}@campaign-console>", m.idempotency_key.replace(':', "."))));
        if let Some(r) = &s.reply_to {
            builder = builder.reply_to(r.clone());
        }
        // The credential's own link, else the server's (a tracked email's).
        let target = if s.unsubscribe.is_empty() {
            m.unsubscribe.clone()
        } else {
            s.unsubscribe.replace("{key}", &m.idempotency_key)
        };
        if !target.is_empty() {
            builder = builder.raw_header(HeaderValue::new(name("List-Unsubscribe"), format!("<{target}>")));
            if target.starts_with("https://") || target.starts_with("http://") {
                // RFC 8058 one-click unsubscribe: a POST to the link.
                builder = builder.raw_header(HeaderValue::new(
                    name("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
            }
        }
        let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(m.text.clone());
        let html = SinglePart::builder().header(ContentType::TEXT_HTML).body(m.html.clone());
        let built = match (m.text.trim().is_empty(), m.html.trim().is_empty()) {
            (false, false) => builder.multipart(MultiPart::alternative().singlepart(text).singlepart(html)),
            (true, false) => builder.singlepart(html),
            _ => builder.singlepart(text),
        };
        built.map_err(|e| SendError::permanent("invalid_message", e.to_string()))
    }
}

fn name(n: &'static str) -> HeaderName {
    HeaderName::new_from_ascii_str(n)
}

/// An SMTP error as the pipeline sees it: 4xx and network trouble pass, 5xx does not.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let code = e.status().map(|c| format!("smtp_{c}"));
    let text = e.to_string();
    if e.is_permanent() {
        SendError::permanent(code.unwrap_or_else(|| "smtp_5xx".into()), text)
    } else if e.is_transient() {
        SendError::transient(code.unwrap_or_else(|| "smtp_4xx".into()), text)
    } else if e.is_timeout() {
        SendError::transient("timeout", text)
    } else if e.is_tls() {
        SendError::transient("smtp_tls", text)
    } else {
        SendError::transient("connection", text)
    }
}

impl Provider for Smtp {
    fn name(&self) -> &str {
        "SMTP"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { lookup: false, ..Capabilities::default() }
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Answer<'a, String> {
        Box::pin(async move {
            let email = self.message(m)?;
            let response = self.transport().await?.send(email).await.map_err(|e| classify(&e))?;
            // The server's queue id is usually in its answer ("250 2.0.0 Ok: queued as 4B3C…").
            let said = response.message().collect::<Vec<_>>().join(" ");
            let id = said.rsplit_once("queued as ").map(|(_, id)| id.trim().to_owned());
            Ok(id.filter(|i| !i.is_empty()).unwrap_or_else(|| m.idempotency_key.clone()))
        })
    }

    fn verify(&self) -> Answer<'_, String> {
        Box::pin(async move {
            let s = &self.settings;
            match self.transport().await?.test_connection().await {
                Ok(true) if s.username.is_empty() => {
                    Ok(format!("connected to {}:{} ({})", s.host, s.port, s.tls.label()))
                }
                Ok(true) => Ok(format!("connected to {}:{} and signed in as {}", s.host, s.port, s.username)),
                Ok(false) => Err(SendError::transient("connection", format!("{}:{} did not answer", s.host, s.port))),
                Err(e) => Err(match classify(&e) {
                    SendError::Transient { code, message, retry_after }
                        if code == "connection" || code == "timeout" =>
                    {
                        let message = format!("{}:{} could not be reached ({message})", s.host, s.port);
                        SendError::Transient { code, message, retry_after }
                    }
                    other => other,
                }),
            }
        })
    }
}
