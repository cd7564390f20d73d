//! The Twilio provider: SMS through Twilio's REST API 2010-04-01 (`POST
//! {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP Basic with the
//! Account SID and the Auth Token), as Twilio's OpenAPI description says (`tests/fixtures/twilio`
//! holds it, and a test holds the requests built here to it).
//!
//! Errors are classified the way the pipeline retries them: Twilio's codes for a bad sign-in, a
//! number that cannot receive, an unsubscribed recipient are final; 20429, HTTP 429 (with
//! Retry-After), 5xx and timeouts pass. A message left `sending` by a crash is looked up by its
//! recipient, day and body. Webhooks Twilio sends back are signed: [`signature`] computes
//! `X-Twilio-Signature` (HMAC-SHA1 of the URL and the sorted parameters, base64).

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::registry::{Entry, Parts};
use super::{Answer, Capabilities, ChannelError, Outgoing, Pace, Provider, SendError};
use crate::model::address::{AddressKind, valid_address};
use crate::model::provider::{FieldKind, field};
use crate::model::settings::{self, ProviderSettings};
use crate::model::{Channel, ProviderKind, SECRET_SLOT};

/// Where Twilio's API is unless a credential says otherwise.
pub const API_BASE: &str = "https://api.twilio.com";
/// The longest body Twilio takes (characters).
pub const MAX_BODY: usize = crate::personalize::SMS_MAX_CHARACTERS;
/// The path of the status callbacks on this app's server.
pub const STATUS_PATH: &str = "/webhooks/twilio/status";
/// The path of the inbound messages on this app's server.
pub const INBOUND_PATH: &str = "/webhooks/twilio/inbound";

/// The Twilio provider in the registry: SMS only, first in the SMS list.
pub const ENTRY: Entry = Entry {
    kind: ProviderKind::Twilio,
    channels: &[Channel::Sms],
    first_on: &[Channel::Sms],
    fields: &[
        field("account_sid", "Account SID", FieldKind::Text, "AC followed by 32 hexadecimal digits"),
        field("secret", "Auth Token", FieldKind::Secret, "kept in the keychain only").required(),
        field("messaging_service_sid", "Messaging Service SID", FieldKind::Text, "MG…; optional, else a From number"),
        field("from", "From number", FieldKind::Text, "+14155550100, when there is no Messaging Service"),
        field("inbound_number", "Inbound number", FieldKind::Text, "the number people reply to, +14155550100"),
        field(
            "status_callback_base",
            "Status callback base URL",
            FieldKind::Text,
            "where this app's server is reachable; empty: no delivery reports",
        ),
        field("base_url", "API base URL", FieldKind::Text, "empty: https://api.twilio.com"),
        field("timeout_seconds", "Timeout (s)", FieldKind::Number, "empty: 10"),
    ],
    paced: true,
    problems: |settings| match settings {
        ProviderSettings::Twilio(s) => TwilioSettings::problems(s),
        _ => Vec::new(),
    },
    build: |parts: Parts<'_>| match parts.settings {
        ProviderSettings::Twilio(s) => {
            let token =
                parts.secret(SECRET_SLOT).ok_or("the Auth Token is missing: type it on the credential's form")?;
            let in_flight = Pace::of(Some(&s.pace), 8).max_in_flight;
            Ok((Arc::new(Twilio::new(TwilioSettings::read(s)?, token, in_flight)?), 8))
        }
        other => Err(ChannelError::mismatch(ProviderKind::Twilio, other)),
    },
};

/// Who the messages are from: a Messaging Service, or a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sender {
    Service(String),
    Number(String),
}

/// A Twilio credential's settings, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwilioSettings {
    pub account_sid: String,
    pub sender: Sender,
    pub inbound_number: Option<String>,
    pub base: reqwest::Url,
    /// Where Twilio posts delivery reports, when the credential asks for them.
    pub status_callback: Option<reqwest::Url>,
    pub timeout: Duration,
}

/// Whether `text` is `prefix` followed by 32 hexadecimal digits (Twilio's SIDs).
pub fn is_sid(text: &str, prefix: &str) -> bool {
    text.len() == 34 && text.strip_prefix(prefix).is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl TwilioSettings {
    /// Every problem with the settings, with the key of its field.
    pub fn problems(s: &settings::Twilio) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let sid = s.account_sid.trim();
        if sid.is_empty() {
            out.push((
                "account_sid",
                "the Account SID is missing (it is on the Twilio Console's home page)".to_owned(),
            ));
        } else if !is_sid(sid, "AC") {
            out.push((
                "account_sid",
                format!("\u{201c}{sid}\u{201d} is not an Account SID: AC followed by 32 hexadecimal digits ({} characters typed of 34)", sid.chars().count()),
            ));
        }
        let service = s.messaging_service_sid.trim();
        let from = s.from.trim();
        if !service.is_empty() && !is_sid(service, "MG") {
            out.push((
                "messaging_service_sid",
                format!(
                    "\u{201c}{service}\u{201d} is not a Messaging Service SID: MG followed by 32 hexadecimal digits"
                ),
            ));
        }
        if service.is_empty() && from.is_empty() {
            out.push(("from", "give a From number or a Messaging Service SID: messages need a sender".to_owned()));
        }
        for (key, text, what) in
            [("from", from, "From number"), ("inbound_number", s.inbound_number.trim(), "inbound number")]
        {
            if !text.is_empty() && !valid_address(AddressKind::Phone, text) {
                out.push((key, format!("the {what} \u{201c}{text}\u{201d} is not a phone number in international form (+ and the country code)")));
            }
        }
        if !s.base_url.trim().is_empty()
            && let Err(e) = super::web_url(&s.base_url, "the API base URL")
        {
            out.push(("base_url", e.to_string()));
        }
        if !s.status_callback_base.trim().is_empty() {
            match reqwest::Url::parse(s.status_callback_base.trim()) {
                Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => {}
                _ => out.push((
                    "status_callback_base",
                    format!("\u{201c}{}\u{201d} is not a web address (https://…)", s.status_callback_base.trim()),
                )),
            }
        }
        if let Err(e) = super::check_number(s.timeout_seconds, "The timeout (s)", 0.1, 300.0) {
            out.push(("timeout_seconds", e.to_string()));
        }
        out
    }

    /// Reads and checks the settings; the message says what to fix (the first problem).
    pub fn read(s: &settings::Twilio) -> Result<Self, ChannelError> {
        if let Some((_, first)) = Self::problems(s).into_iter().next() {
            return Err(ChannelError::Settings(first));
        }
        let service = s.messaging_service_sid.trim();
        let sender = if service.is_empty() {
            Sender::Number(s.from.trim().to_owned())
        } else {
            Sender::Service(service.to_owned())
        };
        let base_text = if s.base_url.trim().is_empty() { API_BASE } else { s.base_url.trim() };
        let base = super::web_url(base_text, "the API base URL")?;
        let status_callback = match s.status_callback_base.trim().trim_end_matches('/') {
            "" => None,
            b => Some(
                reqwest::Url::parse(&format!("{b}{STATUS_PATH}"))
                    .map_err(|e| format!("the status callback base URL cannot be used ({e})"))?,
            ),
        };
        let timeout = s.timeout_seconds.filter(|t| t.is_finite()).unwrap_or(10.0).clamp(0.1, 300.0);
        Ok(Self {
            account_sid: s.account_sid.trim().to_owned(),
            sender,
            inbound_number: Some(s.inbound_number.trim().to_owned()).filter(|n| !n.is_empty()),
            base,
            status_callback,
            timeout: Duration::from_secs_f64(timeout),
        })
    }

    /// The Messages resource of the account.
    fn messages_url(&self) -> Result<reqwest::Url, SendError> {
        let base = self.base.as_str().trim_end_matches('/');
        reqwest::Url::parse(&format!("{base}/2010-04-01/Accounts/{}/Messages.json", self.account_sid))
            .map_err(|e| SendError::permanent("bad_request", e.to_string()))
    }
}

/// The form Twilio's Create Message takes for one message (`CreateMessageRequest`).
pub fn message_form(settings: &TwilioSettings, m: &Outgoing) -> Vec<(&'static str, String)> {
    let mut form = vec![("To", m.address.trim().to_owned()), ("Body", m.text.clone())];
    match &settings.sender {
        Sender::Service(sid) => form.push(("MessagingServiceSid", sid.clone())),
        Sender::Number(n) => form.push(("From", n.clone())),
    }
    if let Some(url) = &settings.status_callback {
        form.push(("StatusCallback", url.to_string()));
    }
    form
}

/// A Message resource as Twilio returns it (`api.v2010.account.message`), what this app reads.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct MessageResource {
    pub sid: Option<String>,
    pub status: Option<String>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub body: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub date_created: Option<String>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
}

/// A page of the Messages list (`ListMessageResponse`).
#[derive(Clone, Debug, Default, Deserialize)]
struct MessagePage {
    #[serde(default)]
    messages: Vec<MessageResource>,
    next_page_uri: Option<String>,
}

/// Twilio's error body.
#[derive(Clone, Debug, Default, Deserialize)]
struct ApiError {
    code: Option<i64>,
    message: Option<String>,
}

/// What a Twilio error code means, in words for the admin (`None`: no explanation known).
pub fn explain(code: i64) -> Option<&'static str> {
    Some(match code {
        20003 => "Twilio refused the Account SID and Auth Token: check both on the Twilio Console",
        20404 => "Twilio does not know this account or resource: check the Account SID",
        20429 => "Twilio asks to slow down (too many requests): the message is tried again",
        21211 => "the number is not a valid phone number for Twilio",
        21408 => "this account may not send SMS to that country (Messaging → Geo permissions on the Twilio Console)",
        21606 => "the From number cannot send SMS: choose one of the account's SMS-capable numbers",
        21608 => {
            "a trial account can only send to numbers verified on it: verify the number on the Twilio Console or upgrade the account"
        }
        21610 => "the recipient replied STOP to this sender: Twilio will not send to them until they reply START",
        21612 => "Twilio cannot send between these two numbers",
        21614 => "the number is not a mobile number: it cannot receive SMS",
        21617 => "the message is too long (at most 1,600 characters)",
        30003 => "the phone is unreachable (switched off or out of coverage)",
        30004 => "the recipient blocked the message",
        30005 => "the number is unknown or no longer in service",
        30006 => "the number cannot receive SMS (a landline, or the carrier does not deliver)",
        30007 => "the carrier filtered the message as spam",
        30008 => "the carrier gave no reason for not delivering",
        _ => return None,
    })
}

/// The code of "the recipient unsubscribed": the pipeline then turns their SMS opt-in off.
pub const UNSUBSCRIBED: &str = "21610";

/// An error's message split into the explanation and Twilio's own words, when it has both
/// (Verify shows the first, and the second behind "Details").
pub fn words_and_raw(message: &str) -> (&str, Option<&str>) {
    match message.find(" (Twilio said: ") {
        Some(i) if message.ends_with(')') => {
            (&message[..i], Some(&message[i + " (Twilio said: ".len()..message.len() - 1]))
        }
        _ => (message, None),
    }
}

/// A Twilio answer that is not a success, as the pipeline sees it.
fn classify(status: reqwest::StatusCode, text: &str, retry_after: Option<Duration>) -> SendError {
    let api: ApiError = serde_json::from_str(text).unwrap_or_default();
    let said = api.message.clone().unwrap_or_else(|| text.chars().take(300).collect());
    let code = api.code.map_or_else(|| format!("http_{}", status.as_u16()), |c| c.to_string());
    let words = api.code.and_then(explain).map_or_else(
        || {
            if said.trim().is_empty() {
                status.canonical_reason().unwrap_or("no explanation").to_owned()
            } else {
                said.clone()
            }
        },
        |w| if said.trim().is_empty() { w.to_owned() } else { format!("{w} (Twilio said: {said})") },
    );
    let transient = api.code == Some(20429) || status.as_u16() == 429 || status.is_server_error();
    if transient {
        SendError::Transient { code, message: words, retry_after }
    } else {
        // Any other refusal (a bad sign-in, a number that cannot receive, an unsubscribed
        // recipient, any 4xx) would be refused again as it is.
        SendError::Permanent { code, message: words }
    }
}

pub struct Twilio {
    settings: TwilioSettings,
    token: String,
    client: reqwest::Client,
}

impl Twilio {
    pub fn new(settings: TwilioSettings, token: String, max_in_flight: usize) -> Result<Self, ChannelError> {
        if token.trim().is_empty() {
            return Err("the Auth Token is missing: type it on the credential's form".into());
        }
        let client = super::http_client(settings.timeout, max_in_flight)?;
        Ok(Self { settings, token, client })
    }

    pub fn settings(&self) -> &TwilioSettings {
        &self.settings
    }

    /// Creates one message; Twilio's resource for it.
    pub async fn create(&self, m: &Outgoing) -> Result<MessageResource, SendError> {
        let length = m.text.chars().count();
        if length > MAX_BODY {
            return Err(SendError::permanent(
                "too_long",
                format!("the message has {length} characters: Twilio takes at most {MAX_BODY}"),
            ));
        }
        if m.text.trim().is_empty() {
            return Err(SendError::permanent("empty", "the message is empty"));
        }
        let response = self
            .client
            .post(self.settings.messages_url()?)
            .basic_auth(&self.settings.account_sid, Some(&self.token))
            .form(&message_form(&self.settings, m))
            .send()
            .await
            .map_err(|e| super::classify_error(&e))?;
        let status = response.status();
        let wait = super::retry_after_header(response.headers());
        let text = response.text().await.map_err(|e| super::classify_error(&e))?;
        if !status.is_success() {
            return Err(classify(status, &text, wait));
        }
        let resource: MessageResource = serde_json::from_str(&text).map_err(|e| {
            // Accepted, but the answer cannot be read: it went, so it is never sent again.
            SendError::permanent(
                "unreadable_answer",
                format!("Twilio accepted the message but its answer is unreadable ({e})"),
            )
        })?;
        Ok(resource)
    }

    /// A resource of the account, signed in: its text, or Twilio's refusal.
    async fn get(&self, url: reqwest::Url) -> Result<String, SendError> {
        let response = self
            .client
            .get(url)
            .basic_auth(&self.settings.account_sid, Some(&self.token))
            .send()
            .await
            .map_err(|e| super::classify_error(&e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| super::classify_error(&e))?;
        if status.is_success() { Ok(text) } else { Err(classify(status, &text, None)) }
    }

    /// The messages sent to `to` since the start of `since`'s day (UTC), newest first, every
    /// page of them.
    async fn sent_to(&self, to: &str, since: jiff::Timestamp) -> Result<Vec<MessageResource>, SendError> {
        let day = since.strftime("%Y-%m-%d").to_string();
        let mut url = self.settings.messages_url()?;
        url.query_pairs_mut().append_pair("To", to).append_pair("DateSent>", &day).append_pair("PageSize", "100");
        let mut out = Vec::new();
        for _ in 0..20 {
            let text = self.get(url.clone()).await?;
            let page: MessagePage = serde_json::from_str(&text)
                .map_err(|e| SendError::transient("unreadable_answer", format!("Twilio's list is unreadable ({e})")))?;
            out.extend(page.messages);
            match page.next_page_uri.filter(|u| !u.is_empty()) {
                Some(next) => {
                    let base = self.settings.base.as_str().trim_end_matches('/');
                    url = reqwest::Url::parse(&format!("{base}{next}"))
                        .map_err(|e| SendError::transient("unreadable_answer", e.to_string()))?;
                }
                None => break,
            }
        }
        Ok(out)
    }
}

impl Provider for Twilio {
    fn name(&self) -> &str {
        "Twilio"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { lookup: true, ..Capabilities::default() }
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Answer<'a, String> {
        Box::pin(async move {
            let r = self.create(m).await?;
            Ok(r.sid.unwrap_or_else(|| m.idempotency_key.clone()))
        })
    }

    fn send_checked<'a>(&'a self, m: &'a Outgoing) -> Answer<'a, (String, String)> {
        Box::pin(async move {
            let r = self.create(m).await?;
            Ok((r.sid.unwrap_or_default(), r.status.unwrap_or_else(|| "accepted".into())))
        })
    }

    fn lookup<'a>(&'a self, m: &'a Outgoing, since: jiff::Timestamp) -> Answer<'a, Option<String>> {
        Box::pin(async move {
            let sent = self.sent_to(m.address.trim(), since).await?;
            let from_us = |r: &MessageResource| match &self.settings.sender {
                Sender::Service(sid) => r.messaging_service_sid.as_deref().is_none_or(|s| s == sid),
                Sender::Number(n) => r.from.as_deref().is_none_or(|f| f == n),
            };
            Ok(sent.into_iter().find(|r| r.body.as_deref() == Some(m.text.as_str()) && from_us(r)).and_then(|r| r.sid))
        })
    }

    fn means_unsubscribed(&self, code: &str) -> bool {
        code == UNSUBSCRIBED
    }

    fn verify(&self) -> Answer<'_, String> {
        Box::pin(async move {
            let base = self.settings.base.as_str().trim_end_matches('/');
            let url = format!("{base}/2010-04-01/Accounts/{}.json", self.settings.account_sid);
            let url = reqwest::Url::parse(&url).map_err(|e| SendError::permanent("bad_request", e.to_string()))?;
            self.get(url).await?;
            Ok(format!("Twilio accepted the Account SID and Auth Token of {}", self.settings.account_sid))
        })
    }
}

/// `X-Twilio-Signature` of a request Twilio sends to `url` with the form `params`: HMAC-SHA1,
/// keyed with the Auth Token, of the URL followed by each parameter's name and value sorted by
/// name, in base64.
pub fn signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    use aws_lc_rs::hmac;
    use base64::Engine as _;
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, token.as_bytes());
    let mut context = hmac::Context::with_key(&key);
    context.update(url.as_bytes());
    for (name, value) in sorted {
        context.update(name.as_bytes());
        context.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(context.sign().as_ref())
}

/// Whether `header` is the signature of the request (compared in constant time).
pub fn signature_matches(token: &str, url: &str, params: &[(String, String)], header: &str) -> bool {
    let expected = signature(token, url, params);
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), header.trim().as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_one_of_twilios_worked_example() {
        // twilio.com/docs/usage/security, "Validating requests": its example request and token.
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(signature("12345", url, &params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(signature_matches("12345", url, &params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(!signature_matches("12346", url, &params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), "another token");
        assert!(!signature_matches(
            "12345",
            "https://mycompany.com/myapp.php",
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let mut changed = params.clone();
        changed[2].1 = "9999".into();
        assert!(!signature_matches("12345", url, &changed, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), "a changed parameter");
        assert!(!signature_matches("12345", url, &params, ""), "no signature");
    }

    #[test]
    fn settings_say_what_to_fix_field_by_field() {
        let mut s = settings::Twilio { account_sid: "AC123".into(), ..Default::default() };
        let keys: Vec<&str> = TwilioSettings::problems(&s).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["account_sid", "from"]);
        s.account_sid = format!("AC{}", "0123456789abcdef".repeat(2));
        s.from = "+33 6 12".into();
        let p = TwilioSettings::problems(&s);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].1.contains("international form"), "{p:?}");
        s.from = "+14155550100".into();
        s.messaging_service_sid = "MGnothex".into();
        assert_eq!(TwilioSettings::problems(&s)[0].0, "messaging_service_sid");
        s.messaging_service_sid = format!("MG{}", "a".repeat(32));
        s.base_url = "http://api.example.com".into();
        assert!(TwilioSettings::problems(&s)[0].1.contains("unencrypted"));
        s.base_url = "http://127.0.0.1:9".into();
        let checked = TwilioSettings::read(&s).unwrap();
        assert_eq!(checked.sender, Sender::Service(s.messaging_service_sid.clone()), "the service wins over a number");
        assert!(is_sid(&checked.account_sid, "AC"));
    }

    #[test]
    fn errors_are_final_or_retried_as_twilio_means_them() {
        let bad = |status: u16, code: i64| {
            classify(
                reqwest::StatusCode::from_u16(status).unwrap(),
                &format!(r#"{{"code": {code}, "message": "raw words", "status": {status}}}"#),
                None,
            )
        };
        for code in [20003, 21211, 21408, 21610, 21614, 21608] {
            let e = bad(400, code);
            assert!(matches!(e, SendError::Permanent { .. }), "{code}: {e:?}");
            assert_eq!(e.code(), code.to_string());
            assert!(e.message().contains("raw words"), "the provider's words stay: {e:?}");
            assert_eq!(words_and_raw(e.message()).1, Some("raw words"));
        }
        assert!(bad(401, 20003).message().starts_with("Twilio refused the Account SID and Auth Token"));
        assert!(matches!(bad(429, 20429), SendError::Transient { .. }));
        assert!(matches!(bad(503, 0), SendError::Transient { .. }));
        let e = classify(reqwest::StatusCode::INTERNAL_SERVER_ERROR, "<html>oops</html>", Some(Duration::from_secs(2)));
        assert!(matches!(e, SendError::Transient { retry_after: Some(_), .. }), "{e:?}");
        assert_eq!(e.code(), "http_500");
    }
}
