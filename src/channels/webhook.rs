//! The webhook provider: one HTTP request per message (method, URL, headers, a JSON body). The
//! body is the channel activity's message text, personalized, when it has one; otherwise a JSON
//! object with the message's parts. Every request carries an `Idempotency-Key` header.
//!
//! Errors are classified the way the pipeline retries them: timeouts, refused or reset
//! connections, 408, 429 (honouring Retry-After) and 5xx pass; any other answer is final.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::registry::{Entry, Parts};
use super::{Answer, Capabilities, ChannelError, Outgoing, Pace, Provider, SendError};
use crate::model::provider::{FieldKind, field};
use crate::model::settings::{self, ProviderSettings};
use crate::model::{Channel, ProviderKind, SECRET_SLOT};

/// A webhook credential's settings, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookSettings {
    pub method: reqwest::Method,
    pub url: reqwest::Url,
    /// Non-secret headers, in order.
    pub headers: Vec<(String, String)>,
    /// The header that carries the keychain's secret (e.g. `Authorization`), if any.
    pub secret_header: String,
    pub timeout: Duration,
}

/// The webhook provider in the registry: any HTTP API, on every channel but X.
pub const ENTRY: Entry = Entry {
    kind: ProviderKind::Http,
    channels: &[Channel::Email, Channel::Sms, Channel::Push, Channel::Webhook],
    first_on: &[Channel::Webhook],
    fields: &[
        field("method", "Method", FieldKind::Choice(&[("POST", "POST"), ("PUT", "PUT"), ("PATCH", "PATCH")]), ""),
        field("url", "URL", FieldKind::Text, "https://hooks.example.com/messages"),
        field("headers", "Headers", FieldKind::Lines, "one per line: Name: value"),
        field("secret_header", "Secret header", FieldKind::Text, "e.g. Authorization; its value is the secret below"),
        field("secret", "Secret header value", FieldKind::Secret, ""),
        field("timeout_seconds", "Timeout (s)", FieldKind::Number, "empty: 10"),
    ],
    paced: true,
    problems: |settings| match settings {
        ProviderSettings::Http(s) => WebhookSettings::read(s).err().map(|e| ("", e.to_string())).into_iter().collect(),
        _ => Vec::new(),
    },
    build: |parts: Parts<'_>| match parts.settings {
        ProviderSettings::Http(s) => {
            let in_flight = Pace::of(Some(&s.pace), 8).max_in_flight;
            Ok((Arc::new(Webhook::new(WebhookSettings::read(s)?, parts.secret(SECRET_SLOT).as_deref(), in_flight)?), 8))
        }
        other => Err(ChannelError::mismatch(ProviderKind::Http, other)),
    },
};

impl WebhookSettings {
    /// Reads and checks the settings of a credential; the message says what to fix.
    pub fn read(settings: &settings::Webhook) -> Result<Self, ChannelError> {
        let method_text = settings.method.trim().to_ascii_uppercase();
        let method = match method_text.as_str() {
            "" | "POST" => reqwest::Method::POST,
            "PUT" => reqwest::Method::PUT,
            "PATCH" => reqwest::Method::PATCH,
            other => {
                return Err(format!("{other} is not a method a webhook can send with (POST, PUT or PATCH)").into());
            }
        };
        let url = super::web_url(&settings.url, "the webhook's URL")?;
        let mut headers = Vec::new();
        for (name, value) in &settings.headers {
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("\u{201c}{name}\u{201d} is not a header name"))?;
            HeaderValue::from_str(value)
                .map_err(|_| format!("the value of header {name} has characters a header cannot carry"))?;
            headers.push((name.clone(), value.clone()));
        }
        let secret_header = settings.secret_header.trim().to_owned();
        if !secret_header.is_empty() {
            HeaderName::from_bytes(secret_header.as_bytes())
                .map_err(|_| format!("\u{201c}{secret_header}\u{201d} is not a header name"))?;
        }
        let timeout = settings.timeout_seconds.filter(|t| t.is_finite()).unwrap_or(10.0).clamp(0.1, 300.0);
        Ok(Self { method, url, headers, secret_header, timeout: Duration::from_secs_f64(timeout) })
    }
}

pub struct Webhook {
    settings: WebhookSettings,
    client: reqwest::Client,
    headers: HeaderMap,
}

impl Webhook {
    /// `secret` is the keychain's value for the secret header, when there is one.
    pub fn new(settings: WebhookSettings, secret: Option<&str>, max_in_flight: usize) -> Result<Self, ChannelError> {
        let mut headers = HeaderMap::new();
        for (name, value) in &settings.headers {
            let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) else {
                return Err(format!("header {name} cannot be sent").into());
            };
            headers.insert(n, v);
        }
        if let (false, Some(secret)) = (settings.secret_header.is_empty(), secret) {
            let n = HeaderName::from_bytes(settings.secret_header.as_bytes()).map_err(|e| e.to_string())?;
            let mut v = HeaderValue::from_str(secret).map_err(|_| "the secret has characters a header cannot carry")?;
            v.set_sensitive(true);
            headers.insert(n, v);
        }
        let client = super::http_client(settings.timeout, max_in_flight)?;
        Ok(Self { settings, client, headers })
    }

    /// The JSON body of a message.
    pub fn body(m: &Outgoing) -> Result<serde_json::Value, SendError> {
        if m.channel == crate::model::Channel::Webhook && !m.text.trim().is_empty() {
            return serde_json::from_str(&m.text).map_err(|e| {
                SendError::permanent("body_not_json", format!("the personalized body is not JSON ({e})"))
            });
        }
        let mut body = serde_json::json!({
            "idempotency_key": m.idempotency_key,
            "channel": m.channel.as_str(),
            "to": m.address,
            "text": m.text,
        });
        for (key, value) in [("subject", &m.subject), ("html", &m.html)] {
            if !value.is_empty() {
                body[key] = serde_json::Value::from(value.as_str());
            }
        }
        Ok(body)
    }
}

impl Provider for Webhook {
    fn name(&self) -> &str {
        "Webhook"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { lookup: false, ..Capabilities::default() }
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Answer<'a, String> {
        Box::pin(async move {
            let body = Self::body(m)?;
            let response = self
                .client
                .request(self.settings.method.clone(), self.settings.url.clone())
                .headers(self.headers.clone())
                .header("Idempotency-Key", &m.idempotency_key)
                .json(&body)
                .send()
                .await
                .map_err(|e| super::classify_error(&e))?;
            let status = response.status();
            let wait = super::retry_after_header(response.headers());
            let request_id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let text = match response.text().await {
                Ok(text) => text,
                // Accepted, then the answer's body was cut: the message went, so it is not sent
                // again (its id is then the idempotency key).
                Err(_) if status.is_success() => String::new(),
                Err(e) => return Err(super::classify_error(&e)),
            };
            if status.is_success() {
                let id = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| {
                    ["id", "message_id", "sid"].iter().find_map(|k| match v.get(*k) {
                        Some(serde_json::Value::String(s)) => Some(s.clone()),
                        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    })
                });
                return Ok(id.or(request_id).unwrap_or_else(|| m.idempotency_key.clone()));
            }
            Err(super::refusal(status, None, &text, wait))
        })
    }

    fn verify(&self) -> Answer<'_, String> {
        Box::pin(async move {
            // A HEAD request: reachable (TLS included) and answering, without sending a message.
            let response = self
                .client
                .head(self.settings.url.clone())
                .headers(self.headers.clone())
                .send()
                .await
                .map_err(|e| super::classify_error(&e))?;
            let status = response.status();
            if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
                return Err(SendError::permanent(
                    format!("http_{}", status.as_u16()),
                    "the server refused the credentials (check the secret header)",
                ));
            }
            Ok(format!("{} answered (HTTP {})", self.settings.url, status.as_u16()))
        })
    }
}
