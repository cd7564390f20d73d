//! The custom SMS provider (RCS and any HTTP SMS API, as AJO's "custom SMS provider"): one
//! request per message whose JSON body is the credential's payload template rendered for the
//! recipient (`{{to}}`, `{{from}}`, `{{body}}`, `{{message_id}}`, `{{profile.*}}`, each value
//! written as JSON, so a rich card's title or a suggested reply can carry any text), with the
//! authentication the provider wants (none, basic, bearer token, an API key in a named header,
//! OAuth2 client credentials). The provider's answer is read with JSON pointers: its message id,
//! and its error code when it refuses. Errors are retried like the webhook provider's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::registry::{Entry, Parts};
use super::{Answer, Capabilities, ChannelError, Outgoing, Pace, Provider, SendError};
use crate::model::provider::{FieldKind, field};
use crate::model::settings::{self, ProviderSettings};
use crate::model::{Channel, ProviderKind, SECRET_SLOT};

/// The slot of the secret this app's webhooks for the credential expect.
pub const WEBHOOK_SECRET_SLOT: &str = "webhook_secret";

/// What a new credential's payload starts with: a plain SMS.
pub const DEFAULT_PAYLOAD: &str =
    "{\n  \"to\": {{to}},\n  \"from\": {{from}},\n  \"text\": {{body}},\n  \"reference\": {{message_id}}\n}";

const AUTH_CHOICES: &[(&str, &str)] = &[
    ("none", "None"),
    ("basic", "Basic (user and password)"),
    ("bearer", "Bearer token"),
    ("header", "API key in a header"),
    ("oauth2", "OAuth2 client credentials"),
];

/// The custom provider in the registry: SMS (and RCS) only.
pub const ENTRY: Entry = Entry {
    kind: ProviderKind::CustomSms,
    channels: &[Channel::Sms],
    first_on: &[],
    fields: &[
        field("provider_name", "Provider name", FieldKind::Text, "e.g. Acme RCS"),
        field("url", "Base URL", FieldKind::Text, "https://api.example.com/v1/messages"),
        field("method", "Method", FieldKind::Choice(&[("POST", "POST"), ("PUT", "PUT"), ("PATCH", "PATCH")]), ""),
        field("auth", "Authentication", FieldKind::Choice(AUTH_CHOICES), ""),
        field("username", "User or client ID", FieldKind::Text, "basic: the user; OAuth2: the client ID"),
        field("auth_header", "API key header", FieldKind::Text, "e.g. X-Api-Key"),
        field("token_url", "OAuth2 token URL", FieldKind::Text, "https://auth.example.com/oauth/token"),
        field("scope", "OAuth2 scope", FieldKind::Text, "optional"),
        field("secret", "Password, token or key", FieldKind::Secret, "kept in the keychain only"),
        field("headers", "Extra headers", FieldKind::Lines, "one per line: Name: value"),
        field("from", "Sender", FieldKind::Text, "the sender ID or number ({{from}})"),
        field("payload", "Payload template", FieldKind::Template, "").with_default(DEFAULT_PAYLOAD),
        field("message_id_pointer", "Message id at", FieldKind::Text, "JSON pointer in the answer; empty: /id"),
        field("error_pointer", "Error code at", FieldKind::Text, "JSON pointer in a refusal, e.g. /error/code"),
        field("inbound_from_pointer", "Inbound: sender at", FieldKind::Text, "empty: /from"),
        field("inbound_text_pointer", "Inbound: text at", FieldKind::Text, "empty: /text"),
        field("feedback_id_pointer", "Feedback: message id at", FieldKind::Text, "empty: /message_id"),
        field("feedback_status_pointer", "Feedback: status at", FieldKind::Text, "empty: /status"),
        field("timeout_seconds", "Timeout (s)", FieldKind::Number, "empty: 10"),
    ],
    paced: true,
    problems: |settings| match settings {
        ProviderSettings::CustomSms(s) => CustomSettings::problems(s),
        _ => Vec::new(),
    },
    build: |parts: Parts<'_>| match parts.settings {
        ProviderSettings::CustomSms(s) => {
            let in_flight = Pace::of(Some(&s.pace), 8).max_in_flight;
            let custom = CustomSms::new(CustomSettings::read(s)?, parts.secret(SECRET_SLOT), in_flight)?;
            Ok((Arc::new(custom), 8))
        }
        other => Err(ChannelError::mismatch(ProviderKind::CustomSms, other)),
    },
};

/// How the provider is signed in to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic { user: String },
    Bearer,
    Header(String),
    OAuth2 { client_id: String, token_url: reqwest::Url, scope: String },
}

/// A custom credential's settings, checked.
#[derive(Clone, Debug)]
pub struct CustomSettings {
    pub name: String,
    pub method: reqwest::Method,
    pub url: reqwest::Url,
    pub auth: Auth,
    pub headers: Vec<(String, String)>,
    pub from: String,
    pub payload: String,
    pub message_id_pointer: String,
    pub error_pointer: String,
    pub timeout: Duration,
}

/// A JSON pointer as typed: empty, or starting with `/`.
fn pointer_problem(key: &'static str, text: &str) -> Option<(&'static str, String)> {
    let t = text.trim();
    (!t.is_empty() && !t.starts_with('/'))
        .then(|| (key, format!("\u{201c}{t}\u{201d} is not a JSON pointer: it starts with / (e.g. /data/id)")))
}

impl CustomSettings {
    /// Every problem with the settings, with the key of its field.
    pub fn problems(s: &settings::CustomSms) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if s.provider_name.trim().is_empty() {
            out.push(("provider_name", "the provider's name is missing".to_owned()));
        }
        if let Err(e) = super::web_url(&s.url, "the base URL") {
            out.push(("url", e.to_string()));
        }
        if !matches!(s.method.trim().to_ascii_uppercase().as_str(), "" | "POST" | "PUT" | "PATCH") {
            out.push(("method", format!("{} is not a method (POST, PUT or PATCH)", s.method.trim())));
        }
        match s.auth.trim() {
            "" | "none" | "bearer" => {}
            "basic" if s.username.trim().is_empty() => {
                out.push(("username", "basic authentication needs a user".to_owned()));
            }
            "basic" => {}
            "header" => match s.auth_header.trim() {
                "" => out.push(("auth_header", "name the header that carries the API key".to_owned())),
                h if HeaderName::from_bytes(h.as_bytes()).is_err() => {
                    out.push(("auth_header", format!("\u{201c}{h}\u{201d} is not a header name")));
                }
                _ => {}
            },
            "oauth2" => {
                if s.username.trim().is_empty() {
                    out.push(("username", "OAuth2 needs the client ID".to_owned()));
                }
                if let Err(e) = super::web_url(&s.token_url, "the OAuth2 token URL") {
                    out.push(("token_url", e.to_string()));
                }
            }
            other => out.push(("auth", format!("\u{201c}{other}\u{201d} is not an authentication this app knows"))),
        }
        for (name, value) in &s.headers {
            if HeaderName::from_bytes(name.as_bytes()).is_err() || HeaderValue::from_str(value).is_err() {
                out.push(("headers", format!("the header \u{201c}{name}\u{201d} cannot be sent as it is")));
            }
        }
        if s.payload.trim().is_empty() {
            out.push(("payload", "the payload template is missing".to_owned()));
        } else if let Err(e) = sample(&s.payload, &s.from) {
            out.push(("payload", e.to_string()));
        }
        for (key, text) in [
            ("message_id_pointer", &s.message_id_pointer),
            ("error_pointer", &s.error_pointer),
            ("inbound_from_pointer", &s.inbound_from_pointer),
            ("inbound_text_pointer", &s.inbound_text_pointer),
            ("feedback_id_pointer", &s.feedback_id_pointer),
            ("feedback_status_pointer", &s.feedback_status_pointer),
        ] {
            out.extend(pointer_problem(key, text));
        }
        if let Err(e) = super::check_number(s.timeout_seconds, "The timeout (s)", 0.1, 300.0) {
            out.push(("timeout_seconds", e.to_string()));
        }
        out
    }

    /// Reads and checks the settings; the message says what to fix (the first problem).
    pub fn read(s: &settings::CustomSms) -> Result<Self, ChannelError> {
        if let Some((_, first)) = Self::problems(s).into_iter().next() {
            return Err(ChannelError::Settings(first));
        }
        let method = match s.method.trim().to_ascii_uppercase().as_str() {
            "PUT" => reqwest::Method::PUT,
            "PATCH" => reqwest::Method::PATCH,
            _ => reqwest::Method::POST,
        };
        let auth = match s.auth.trim() {
            "basic" => Auth::Basic { user: s.username.trim().to_owned() },
            "bearer" => Auth::Bearer,
            "header" => Auth::Header(s.auth_header.trim().to_owned()),
            "oauth2" => Auth::OAuth2 {
                client_id: s.username.trim().to_owned(),
                token_url: super::web_url(&s.token_url, "the OAuth2 token URL")?,
                scope: s.scope.trim().to_owned(),
            },
            _ => Auth::None,
        };
        let timeout = s.timeout_seconds.filter(|t| t.is_finite()).unwrap_or(10.0).clamp(0.1, 300.0);
        Ok(Self {
            name: s.provider_name.trim().to_owned(),
            method,
            url: super::web_url(&s.url, "the base URL")?,
            auth,
            headers: s.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            from: s.from.trim().to_owned(),
            payload: s.payload.clone(),
            message_id_pointer: s.message_id_pointer.trim().to_owned(),
            error_pointer: s.error_pointer.trim().to_owned(),
            timeout: Duration::from_secs_f64(timeout),
        })
    }
}

/// Every `profile.*` value of a sample: "Sample <name>".
#[derive(Debug)]
struct SampleProfile;

impl minijinja::value::Object for SampleProfile {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Value::from(format!("Sample {key}")))
    }
}

/// Every `profile.*` value of a message with no profile (a proof): null.
#[derive(Debug)]
struct NoProfile;

impl minijinja::value::Object for NoProfile {
    fn get_value(self: &Arc<Self>, _key: &Value) -> Option<Value> {
        Some(Value::from(()))
    }
}

/// The environment a payload renders in: values written as JSON, unknown names refused.
fn environment(payload: &str) -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Json);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(100_000));
    env.add_template_owned("payload", payload.to_owned())?;
    Ok(env)
}

/// A template error in words, with its line.
fn template_error(e: &minijinja::Error) -> String {
    let line = e.line().map(|l| format!(" (line {l})")).unwrap_or_default();
    format!("the payload template cannot be rendered{line}: {}", e.detail().unwrap_or(&e.kind().to_string()))
}

/// Renders `payload` for one message: its text, checked to be JSON, and the JSON read.
fn render(
    env: &Environment<'_>,
    m: &Outgoing,
    from: &str,
    profile: Value,
) -> Result<(String, serde_json::Value), ChannelError> {
    let template = env.get_template("payload").map_err(|e| ChannelError::Settings(template_error(&e)))?;
    let text = template
        .render(minijinja::context! {
            to => m.address.trim(),
            from => from,
            body => m.text.as_str(),
            message_id => m.idempotency_key.as_str(),
            profile => profile,
        })
        .map_err(|e| ChannelError::Settings(template_error(&e)))?;
    let value = serde_json::from_str(&text).map_err(|e| {
        ChannelError::Settings(format!(
            "the payload is not JSON once rendered: {} at line {}, column {}",
            e.to_string().split(" at line").next().unwrap_or_default(),
            e.line(),
            e.column()
        ))
    })?;
    Ok((text, value))
}

/// The payload rendered for a sample recipient (a French mobile, a message with quotes and a
/// line break, "Sample <column>" for every profile value), as the provider gets it; or what is
/// wrong: the template's error, or where the rendered JSON breaks.
pub fn sample(payload: &str, from: &str) -> Result<String, ChannelError> {
    let env = environment(payload).map_err(|e| ChannelError::Settings(template_error(&e)))?;
    let m = Outgoing {
        idempotency_key: "12:345:".into(),
        channel: Channel::Sms,
        address: "+33612345678".into(),
        text: "Hello L\u{e9}a, \"summer\" is here!\nReply STOP to opt out.".into(),
        ..Outgoing::default()
    };
    let from = if from.trim().is_empty() { "SENDER" } else { from.trim() };
    Ok(render(&env, &m, from, Value::from_object(SampleProfile))?.0)
}

/// The value at `pointer` as text (a string as it is, a number written out).
pub fn text_at(value: &serde_json::Value, pointer: &str) -> Option<String> {
    match value.pointer(pointer)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub struct CustomSms {
    settings: CustomSettings,
    secret: Option<String>,
    env: Environment<'static>,
    client: reqwest::Client,
    headers: HeaderMap,
    /// The OAuth2 access token and when it stops being good.
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
}

impl CustomSms {
    pub fn new(settings: CustomSettings, secret: Option<String>, max_in_flight: usize) -> Result<Self, ChannelError> {
        if !matches!(settings.auth, Auth::None) && secret.as_deref().is_none_or(str::is_empty) {
            return Err("the provider's password, token or key is missing: type it on the credential's form".into());
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &settings.headers {
            let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) else {
                return Err(format!("header {name} cannot be sent").into());
            };
            headers.insert(n, v);
        }
        let env = environment(&settings.payload).map_err(|e| ChannelError::Settings(template_error(&e)))?;
        let client = super::http_client(settings.timeout, max_in_flight)?;
        Ok(Self { settings, secret, env, client, headers, token: tokio::sync::Mutex::new(None) })
    }

    /// An OAuth2 access token: the one kept while it is good, else a new one.
    async fn access_token(&self, fresh: bool) -> Result<String, SendError> {
        let Auth::OAuth2 { client_id, token_url, scope } = &self.settings.auth else {
            return Ok(String::new());
        };
        let mut kept = self.token.lock().await;
        if let Some((token, until)) = kept.as_ref()
            && !fresh
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let mut form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", client_id.clone()),
            ("client_secret", self.secret.clone().unwrap_or_default()),
        ];
        if !scope.is_empty() {
            form.push(("scope", scope.clone()));
        }
        let response =
            self.client.post(token_url.clone()).form(&form).send().await.map_err(|e| super::classify_error(&e))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let Some(token) = body.get("access_token").and_then(|t| t.as_str()).filter(|_| status.is_success()) else {
            let why = body.get("error_description").or_else(|| body.get("error")).and_then(|e| e.as_str());
            let message =
                format!("the OAuth2 token URL refused the client ID and secret ({})", why.unwrap_or(status.as_str()));
            return Err(if status.is_server_error() {
                SendError::transient("oauth2", message)
            } else {
                SendError::permanent("oauth2", message)
            });
        };
        let lasts = body.get("expires_in").and_then(serde_json::Value::as_f64).unwrap_or(3_600.0);
        // Renewed a minute early, so that no request carries a token about to end.
        let until = Instant::now() + Duration::from_secs_f64((lasts - 60.0).max(1.0));
        *kept = Some((token.to_owned(), until));
        Ok(token.to_owned())
    }

    /// Sends the rendered payload as it is (JSON, checked), signed in as the settings say.
    async fn post(&self, body: &str, key: &str, fresh_token: bool) -> Result<reqwest::Response, SendError> {
        let mut request = self
            .client
            .request(self.settings.method.clone(), self.settings.url.clone())
            .headers(self.headers.clone())
            .header("Idempotency-Key", key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        let secret = self.secret.clone().unwrap_or_default();
        request = match &self.settings.auth {
            Auth::None => request,
            Auth::Basic { user } => request.basic_auth(user, Some(secret)),
            Auth::Bearer => request.bearer_auth(secret),
            Auth::Header(name) => request.header(name.as_str(), secret),
            Auth::OAuth2 { .. } => request.bearer_auth(self.access_token(fresh_token).await?),
        };
        request.send().await.map_err(|e| super::classify_error(&e))
    }
}

impl Provider for CustomSms {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { profile_values: true, ..Capabilities::default() }
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Answer<'a, String> {
        Box::pin(async move {
            let profile = match &m.profile {
                serde_json::Value::Null => Value::from_object(NoProfile),
                p => Value::from_serialize(p),
            };
            let (body, _) = render(&self.env, m, &self.settings.from, profile)
                .map_err(|why| SendError::permanent("personalization", why.to_string()))?;
            let mut response = self.post(&body, &m.idempotency_key, false).await?;
            if response.status() == reqwest::StatusCode::UNAUTHORIZED
                && matches!(self.settings.auth, Auth::OAuth2 { .. })
            {
                // The token may have ended early: once more with a new one.
                response = self.post(&body, &m.idempotency_key, true).await?;
            }
            let status = response.status();
            let wait = super::retry_after_header(response.headers());
            let text = match response.text().await {
                Ok(text) => text,
                Err(_) if status.is_success() => String::new(),
                Err(e) => return Err(super::classify_error(&e)),
            };
            let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            if status.is_success() {
                let mapped = Some(self.settings.message_id_pointer.as_str())
                    .filter(|p| !p.is_empty())
                    .and_then(|p| text_at(&answer, p));
                let id = mapped
                    .or_else(|| ["/id", "/message_id", "/messageId", "/sid"].iter().find_map(|p| text_at(&answer, p)));
                return Ok(id.unwrap_or_else(|| m.idempotency_key.clone()));
            }
            let code =
                Some(self.settings.error_pointer.as_str()).filter(|p| !p.is_empty()).and_then(|p| text_at(&answer, p));
            Err(super::refusal(status, code, &text, wait))
        })
    }

    fn verify(&self) -> Answer<'_, String> {
        Box::pin(async move {
            if matches!(self.settings.auth, Auth::OAuth2 { .. }) {
                self.access_token(true).await?;
                return Ok(format!("{} gave an OAuth2 access token for the client ID", self.settings.name));
            }
            let response = self
                .client
                .head(self.settings.url.clone())
                .headers(self.headers.clone())
                .send()
                .await
                .map_err(|e| super::classify_error(&e))?;
            Ok(format!("{} answered (HTTP {})", self.settings.url, response.status().as_u16()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_rendered_as_json_with_every_value_escaped_or_says_where_it_breaks() {
        let rcs = r#"{"to": {{to}}, "card": {"title": {{ "Hi " ~ profile.first_name }}, "media": "https://cdn.example.com/summer.jpg",
            "suggestions": [{"reply": "Book now", "postback": {{message_id}}}]}, "text": {{body}}}"#;
        let shown = sample(rcs, "").unwrap();
        let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(v["card"]["title"], "Hi Sample first_name");
        assert_eq!(
            v["text"], "Hello L\u{e9}a, \"summer\" is here!\nReply STOP to opt out.",
            "quotes and breaks stay text"
        );
        let broken = sample("{\"to\": {{to}}, \"text\": {{body}}", "").unwrap_err().to_string();
        assert!(broken.contains("not JSON once rendered") && broken.contains("line 1, column"), "{broken}");
        let quoted = sample("{\"to\": \"{{to}}\"}", "").unwrap_err().to_string();
        assert!(quoted.contains("not JSON"), "a value is already quoted JSON: {quoted}");
        let unclosed = sample("{\"to\": {{to}\n}", "").unwrap_err().to_string();
        assert!(unclosed.contains("cannot be rendered (line"), "{unclosed}");
    }

    #[test]
    fn settings_say_what_each_authentication_needs() {
        let base = settings::CustomSms {
            provider_name: "Acme RCS".into(),
            url: "https://api.example.com/messages".into(),
            payload: DEFAULT_PAYLOAD.into(),
            ..Default::default()
        };
        assert!(CustomSettings::problems(&base).is_empty(), "{:?}", CustomSettings::problems(&base));
        let keys =
            |s: &settings::CustomSms| CustomSettings::problems(s).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(keys(&settings::CustomSms { auth: "basic".into(), ..base.clone() }), ["username"]);
        assert_eq!(keys(&settings::CustomSms { auth: "header".into(), ..base.clone() }), ["auth_header"]);
        assert_eq!(keys(&settings::CustomSms { auth: "oauth2".into(), ..base.clone() }), ["username", "token_url"]);
        assert_eq!(
            keys(&settings::CustomSms { message_id_pointer: "data.id".into(), ..base.clone() }),
            ["message_id_pointer"]
        );
        assert_eq!(keys(&settings::CustomSms { url: "http://api.example.com".into(), ..base }), ["url"]);
    }
}
