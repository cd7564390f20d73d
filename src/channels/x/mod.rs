//! The X provider: one X account (a "service"), called through the X API v2 with OAuth 1.0a
//! user context ([`oauth1`]): `GET /2/users/me` to check that the keys are the account's the
//! service names, `POST /2/tweets` for a post. The base URL is the service's (a local fake in
//! tests, a proxy).
//!
//! Errors are classified as the pipeline retries them: 401 (the keys are refused) and 403 (not
//! allowed, a duplicate post) are final; 429 waits until `x-rate-limit-reset`; 5xx and
//! timeouts pass.

pub mod oauth1;
pub mod sandbox;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::registry::{Entry, Parts};
use super::{Answer, Capabilities, ChannelError, Outgoing, Pace, Provider, SendError};
use crate::model::provider::{FieldKind, field};
use crate::model::settings::{self, ProviderSettings};
use crate::model::{Channel, ProviderKind};

/// Where the X API is unless a service says otherwise.
pub const API_BASE: &str = "https://api.x.com";
/// The four secret slots of a service.
pub const CONSUMER_KEY: &str = "consumer_key";
pub const CONSUMER_SECRET: &str = "consumer_secret";
pub const ACCESS_TOKEN: &str = "access_token";
pub const ACCESS_TOKEN_SECRET: &str = "access_token_secret";
/// The user fields asked for whenever X describes an account.
pub const USER_FIELDS: &str = "username,name,verified,public_metrics,description,profile_image_url,location,created_at";

const ON_OFF: &[(&str, &str)] = &[("on", "On"), ("off", "Off")];
const YES_NO: &[(&str, &str)] = &[("no", "No"), ("yes", "Yes")];

/// The X provider in the registry: the X channel, first there.
pub const ENTRY: Entry = Entry {
    kind: ProviderKind::XApi,
    channels: &[Channel::X],
    first_on: &[Channel::X],
    fields: &[
        field(
            "internal_name",
            "Internal name (X handle)",
            FieldKind::Text,
            "the account's handle, without @: checked with X",
        ),
        field("visitor_folder", "Visitor folder", FieldKind::Text, "where its followers land").with_default("Visitors"),
        field(
            "sync_subscriptions",
            "Synchronize subscriptions",
            FieldKind::Choice(ON_OFF),
            "its followers are synchronized weekly",
        )
        .with_default("on"),
        field(
            "test_account",
            "Test account",
            FieldKind::Choice(YES_NO),
            "a protected account for proofs; it needs its own X app",
        )
        .with_default("no"),
        field(CONSUMER_KEY, "Consumer key", FieldKind::Secret, "the X app's API key; kept in the keychain only")
            .required(),
        field(CONSUMER_SECRET, "Consumer secret", FieldKind::Secret, "kept in the keychain only").required(),
        field(
            ACCESS_TOKEN,
            "Access token",
            FieldKind::Secret,
            "the account's, for this app; kept in the keychain only",
        )
        .required(),
        field(ACCESS_TOKEN_SECRET, "Access token secret", FieldKind::Secret, "kept in the keychain only").required(),
        field("dm_seconds_between", "Seconds between direct messages", FieldKind::Number, "empty: 2, as X allows"),
        field("dm_per_day", "Direct messages a day", FieldKind::Number, "empty: 1000; more wait for the next day"),
        field("base_url", "API base URL", FieldKind::Text, "empty: https://api.x.com"),
        field("timeout_seconds", "Timeout (s)", FieldKind::Number, "empty: 10"),
    ],
    paced: true,
    problems: |settings| match settings {
        ProviderSettings::XApi(s) => problems(s),
        _ => Vec::new(),
    },
    build: |parts: Parts<'_>| match parts.settings {
        ProviderSettings::XApi(s) => {
            let secret = |slot: &str, what: &str| {
                parts.secret(slot).ok_or_else(|| {
                    ChannelError::Settings(format!("the {what} is missing: type it on the service's form"))
                })
            };
            let keys = oauth1::Keys {
                consumer_key: secret(CONSUMER_KEY, "consumer key")?,
                consumer_secret: secret(CONSUMER_SECRET, "consumer secret")?,
                access_token: secret(ACCESS_TOKEN, "access token")?,
                access_token_secret: secret(ACCESS_TOKEN_SECRET, "access token secret")?,
            };
            let in_flight = Pace::of(Some(&s.pace), 2).max_in_flight;
            Ok((Arc::new(XApi::new(s, keys, in_flight)?), 2))
        }
        other => Err(ChannelError::mismatch(ProviderKind::XApi, other)),
    },
};

/// Whether `handle` can be an X handle: 1 to 15 letters, digits or underscores.
pub fn is_handle(handle: &str) -> bool {
    (1..=15).contains(&handle.len()) && handle.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// What is wrong with a service's settings, by field.
pub fn problems(s: &settings::XService) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let handle = s.handle();
    if handle.is_empty() {
        out.push(("internal_name", "the internal name is missing: it is the account's X handle".to_owned()));
    } else if !is_handle(handle) {
        out.push((
            "internal_name",
            format!("\u{201c}{handle}\u{201d} is not an X handle: 1 to 15 letters, digits or underscores"),
        ));
    }
    if s.visitor_folder.trim().chars().count() > 100 {
        out.push(("visitor_folder", "a folder name has at most 100 characters".to_owned()));
    }
    if !s.base_url.trim().is_empty()
        && let Err(e) = super::web_url(&s.base_url, "the API base URL")
    {
        out.push(("base_url", e.to_string()));
    }
    if let Err(e) = super::check_number(s.timeout_seconds, "The timeout (s)", 0.1, 300.0) {
        out.push(("timeout_seconds", e.to_string()));
    }
    if let Err(e) = super::check_number(s.dm_seconds_between, "The seconds between direct messages", 0.1, 3_600.0) {
        out.push(("dm_seconds_between", e.to_string()));
    }
    if let Err(e) = super::check_number(s.dm_per_day, "The direct messages a day", 1.0, 100_000.0) {
        out.push(("dm_per_day", e.to_string()));
    }
    out
}

/// An X account as the API describes it (`data` of `GET /2/users/me`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub verified: bool,
    #[serde(default)]
    pub public_metrics: Metrics,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub profile_image_url: String,
    #[serde(default)]
    pub location: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Metrics {
    #[serde(default)]
    pub followers_count: u64,
    #[serde(default)]
    pub following_count: u64,
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

/// X's answer to a direct message.
#[derive(Deserialize)]
struct DmEvent {
    dm_event_id: String,
}

/// A page of an account's followers (`GET /2/users/{id}/followers`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct FollowerPage {
    /// Absent when the page is empty.
    #[serde(default)]
    pub data: Vec<User>,
    #[serde(default)]
    pub meta: PageMeta,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PageMeta {
    #[serde(default)]
    pub result_count: u64,
    /// The next page's token; absent on the last page.
    #[serde(default)]
    pub next_token: Option<String>,
}

/// Followers asked for per page: X's largest.
pub const FOLLOWERS_PER_PAGE: u32 = 1000;

/// The X API, signed with a service's keys.
pub struct XApi {
    client: reqwest::Client,
    base: reqwest::Url,
    handle: String,
    keys: oauth1::Keys,
}

impl XApi {
    pub fn new(s: &settings::XService, keys: oauth1::Keys, in_flight: usize) -> Result<Self, ChannelError> {
        if let Some((_, first)) = problems(s).into_iter().next() {
            return Err(ChannelError::Settings(first));
        }
        let base = if s.base_url.trim().is_empty() { API_BASE } else { s.base_url.trim() };
        let base = super::web_url(base, "the API base URL")?;
        let timeout = Duration::from_secs_f64(s.timeout_seconds.unwrap_or(10.0));
        Ok(Self { client: super::http_client(timeout, in_flight)?, base, handle: s.handle().to_owned(), keys })
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, SendError> {
        let base = self.base.as_str().trim_end_matches('/');
        reqwest::Url::parse(&format!("{base}{path}")).map_err(|e| SendError::permanent("bad_request", e.to_string()))
    }

    /// A signed call (a JSON body is not signed, as OAuth 1.0a says); the answer's text, or
    /// X's refusal.
    async fn call(
        &self,
        method: reqwest::Method,
        url: reqwest::Url,
        json: Option<&serde_json::Value>,
    ) -> Result<String, SendError> {
        let header = oauth1::authorization(
            &self.keys,
            method.as_str(),
            &url,
            &[],
            &oauth1::nonce(),
            crate::clock::wall().as_second(),
        );
        let mut request = self.client.request(method, url).header(reqwest::header::AUTHORIZATION, header);
        if let Some(body) = json {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| super::classify_error(&e))?;
        let status = response.status();
        let wait = rate_limit_wait(response.headers());
        let text = response.text().await.map_err(|e| super::classify_error(&e))?;
        if status.is_success() { Ok(text) } else { Err(classify(status, &text, wait)) }
    }

    /// The account the keys are for.
    pub async fn me(&self) -> Result<User, SendError> {
        let mut url = self.url("/2/users/me")?;
        url.query_pairs_mut().append_pair("user.fields", USER_FIELDS);
        let text = self.call(reqwest::Method::GET, url, None).await?;
        let me: Data<User> = serde_json::from_str(&text).map_err(|e| {
            SendError::permanent("unreadable_answer", format!("X's description of the account is unreadable ({e})"))
        })?;
        Ok(me.data)
    }

    /// A page of the followers of account `user_id`: the first, or the one `token` names.
    pub async fn followers(&self, user_id: &str, token: Option<&str>) -> Result<FollowerPage, SendError> {
        let mut url = self.url(&format!("/2/users/{}/followers", oauth1::encode(user_id)))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("max_results", &FOLLOWERS_PER_PAGE.to_string()).append_pair("user.fields", USER_FIELDS);
            if let Some(t) = token.filter(|t| !t.is_empty()) {
                q.append_pair("pagination_token", t);
            }
        }
        let text = self.call(reqwest::Method::GET, url, None).await?;
        serde_json::from_str(&text).map_err(|e| {
            SendError::transient("unreadable_answer", format!("X's page of followers is unreadable ({e})"))
        })
    }

    /// Posts `text`; returns the post's id.
    pub async fn post(&self, text: &str) -> Result<String, SendError> {
        if text.trim().is_empty() {
            return Err(SendError::permanent("empty", "the post is empty"));
        }
        let url = self.url("/2/tweets")?;
        let answer = self.call(reqwest::Method::POST, url, Some(&serde_json::json!({ "text": text }))).await?;
        let created: Data<Created> = serde_json::from_str(&answer).map_err(|e| {
            // Posted, but the answer cannot be read: it went, so it is never posted again.
            SendError::permanent("unreadable_answer", format!("X took the post but its answer is unreadable ({e})"))
        })?;
        Ok(created.data.id)
    }

    /// Sends `text` as a direct message to the account `participant_id` (X's id of a
    /// visitor); returns the message's id (`dm_event_id`).
    pub async fn direct_message(&self, participant_id: &str, text: &str) -> Result<String, SendError> {
        if text.trim().is_empty() {
            return Err(SendError::permanent("empty", "the message is empty"));
        }
        if participant_id.is_empty() || !participant_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SendError::permanent(
                "invalid_address",
                format!("\u{201c}{participant_id}\u{201d} is not the id of an X account"),
            ));
        }
        let url = self.url(&format!("/2/dm_conversations/with/{participant_id}/messages"))?;
        let answer = self.call(reqwest::Method::POST, url, Some(&serde_json::json!({ "text": text }))).await?;
        let sent: Data<DmEvent> = serde_json::from_str(&answer).map_err(|e| {
            SendError::permanent("unreadable_answer", format!("X took the message but its answer is unreadable ({e})"))
        })?;
        Ok(sent.data.dm_event_id)
    }
}

/// An X service as the follower synchronization and the Visitors screen see it: an X API
/// credential, or the X channel's Sandbox credential (the Sandbox X account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub handle: String,
    pub folder: String,
    pub synchronized: bool,
    /// The Sandbox's followers, for the Sandbox X account; `None` for X itself.
    pub sandbox_followers: Option<u64>,
}

/// `credential` as an X service, if it is one.
pub fn service(credential: &crate::model::Credential) -> Option<Service> {
    match &credential.settings {
        ProviderSettings::XApi(s) => Some(Service {
            handle: s.handle().to_owned(),
            folder: s.folder().to_owned(),
            synchronized: s.synchronized(),
            sandbox_followers: None,
        }),
        ProviderSettings::Sandbox(s) if credential.channel == Channel::X => Some(Service {
            handle: sandbox::HANDLE.to_owned(),
            folder: "Visitors".to_owned(),
            synchronized: true,
            sandbox_followers: Some(s.x_followers()),
        }),
        _ => None,
    }
}

/// The account a follower synchronization reads: X through a service's keys, or the Sandbox
/// X account (the X channel's Sandbox credential) with its made-up followers.
pub enum Account {
    Api(Box<XApi>),
    Sandbox { followers: u64 },
}

impl Account {
    pub async fn me(&self) -> Result<User, SendError> {
        match self {
            Self::Api(api) => api.me().await,
            Self::Sandbox { followers } => Ok(sandbox::me(*followers)),
        }
    }

    pub async fn followers(&self, user_id: &str, token: Option<&str>) -> Result<FollowerPage, SendError> {
        match self {
            Self::Api(api) => api.followers(user_id, token).await,
            Self::Sandbox { followers } => sandbox::followers(*followers, token),
        }
    }
}

/// How long a 429 asks to wait: until `x-rate-limit-reset` (seconds since 1970), else
/// `Retry-After`.
fn rate_limit_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let reset =
        headers.get("x-rate-limit-reset").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    match reset {
        Some(at) => {
            let now = crate::clock::wall().as_second();
            Some(Duration::from_secs(u64::try_from(at.saturating_sub(now)).unwrap_or(0).min(86_400)))
        }
        None => super::retry_after_header(headers),
    }
}

/// X's refusal as the pipeline sees it, in words for the admin.
fn classify(status: reqwest::StatusCode, text: &str, wait: Option<Duration>) -> SendError {
    let said = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            let first = |key: &str| v.get(key).and_then(|d| d.as_str()).map(str::to_owned);
            first("detail")
                .or_else(|| first("title"))
                .or_else(|| v.get("errors")?.get(0)?.get("message")?.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| text.chars().take(300).collect());
    match status.as_u16() {
        401 => SendError::permanent(
            "credentials_rejected",
            format!(
                "X rejected the service's keys (401): check the consumer key and secret and the access token and secret ({said})"
            ),
        ),
        403 => SendError::permanent("forbidden", format!("X refused (403): {said}")),
        _ => super::refusal(status, None, &said, wait),
    }
}

impl Provider for XApi {
    fn name(&self) -> &str {
        "X"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// A direct message to the visitor whose X id is the address, else a post.
    fn send<'a>(&'a self, m: &'a Outgoing) -> Answer<'a, String> {
        Box::pin(async move {
            match m.channel {
                Channel::XDm => self.direct_message(&m.address, &m.text).await,
                _ => self.post(&m.text).await,
            }
        })
    }

    /// Check account: the keys must be those of the account the service names.
    fn verify(&self) -> Answer<'_, String> {
        Box::pin(async move {
            let me = self.me().await?;
            if !me.username.eq_ignore_ascii_case(&self.handle) {
                return Err(SendError::permanent(
                    "account_mismatch",
                    format!(
                        "the keys are those of @{}, not of @{}: give the internal name @{} or the keys of @{}",
                        me.username, self.handle, me.username, self.handle
                    ),
                ));
            }
            Ok(format!(
                "X confirms the keys are @{}'s ({}, {} followers{})",
                me.username,
                if me.name.is_empty() { "no name" } else { &me.name },
                me.public_metrics.followers_count,
                if me.verified { ", verified" } else { "" }
            ))
        })
    }
}
