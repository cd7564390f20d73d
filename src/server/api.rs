//! The execution API (`/v1`): trigger an API campaign, read an execution, report events, and
//! the OpenAPI document. Every call but the document's needs `Authorization: Bearer <key>`
//! with the scope it uses (401 without or with a bad key, 403 without the scope), and each
//! key has a rate limit (429 with `Retry-After`).

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{RequestId, Server, failure};
use crate::console::{AuthError, TriggerError};
use crate::model::api::{ApiKey, ApiScope, IngestedEvent, TriggerRequest};

/// A rate limit per API key: `per_second` calls on average, `burst` at once.
pub struct RateLimits {
    limiter: governor::DefaultKeyedRateLimiter<i64>,
}

impl RateLimits {
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = governor::Quota::per_second(per_second).allow_burst(burst);
        Self { limiter: governor::RateLimiter::keyed(quota) }
    }

    /// `Err(seconds to wait)` when key `id` is over its limit.
    fn check(&self, id: i64) -> Result<(), u64> {
        use governor::clock::Clock as _;
        self.limiter.check_key(&id).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

impl Default for RateLimits {
    /// 200 calls a second per key on average, 2,000 at once.
    fn default() -> Self {
        Self::new(NonZeroU32::new(200).unwrap_or(NonZeroU32::MIN), NonZeroU32::new(2000).unwrap_or(NonZeroU32::MIN))
    }
}

/// A refusal with the field it is about.
fn refusal(status: StatusCode, message: &str, pointer: Option<&str>, id: &RequestId) -> Response {
    let mut body = serde_json::json!({ "error": message, "request_id": id.0 });
    if let Some(p) = pointer {
        body["pointer"] = serde_json::Value::String(p.to_owned());
    }
    (status, axum::Json(body)).into_response()
}

/// The key of a call, if it may use `scope` and is within its rate; else the answer.
async fn authorized(
    server: &Server,
    headers: &HeaderMap,
    scope: ApiScope,
    id: &RequestId,
) -> Result<ApiKey, Box<Response>> {
    let bearer = bearer(headers);
    let console = Arc::clone(&server.console);
    let checked = tokio::task::spawn_blocking(move || console.authenticate(bearer.as_deref(), scope)).await;
    let key = checked.unwrap_or_else(|e| {
        tracing::error!(request_id = %id.0, "an API key's check stopped: {e}");
        Err(AuthError::Console(crate::console::ConsoleError::Invalid("the check stopped".into())))
    });
    within_rate(server, key, id)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::to_owned)
}

/// The key, if the check let it through and it is within its rate; else the answer.
/// (The refusal boxed: a response is large.)
fn within_rate(server: &Server, key: Result<ApiKey, AuthError>, id: &RequestId) -> Result<ApiKey, Box<Response>> {
    let key = match key {
        Ok(key) => key,
        Err(AuthError::Unauthorized(why)) => {
            let mut r = refusal(StatusCode::UNAUTHORIZED, &why, None, id);
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return Err(Box::new(r));
        }
        Err(AuthError::Forbidden(why)) => return Err(Box::new(refusal(StatusCode::FORBIDDEN, &why, None, id))),
        Err(AuthError::Console(e)) => {
            tracing::error!(request_id = %id.0, "an API key could not be checked: {e:#}");
            return Err(Box::new(failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the key could not be checked; try again",
                Some(id),
            )));
        }
    };
    if let Err(wait) = server.limits.check(key.id) {
        let mut r = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("too many calls with the key \u{201c}{}\u{201d}: try again in {wait} s", key.name),
            None,
            id,
        );
        if let Ok(v) = HeaderValue::from_str(&wait.max(1).to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Err(Box::new(r));
    }
    Ok(key)
}

/// The answer to a refused or failed call of the execution API.
fn trigger_failure(e: TriggerError, id: &RequestId) -> Response {
    match e {
        TriggerError::NotFound(why) => refusal(StatusCode::NOT_FOUND, &why, None, id),
        TriggerError::NotLive(why) => refusal(StatusCode::CONFLICT, &why, None, id),
        TriggerError::OutsideWindow(why) => refusal(StatusCode::UNPROCESSABLE_ENTITY, &why, None, id),
        TriggerError::Busy(why) => {
            let mut r = refusal(StatusCode::SERVICE_UNAVAILABLE, &why, None, id);
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            r
        }
        TriggerError::Invalid { pointer, message } => {
            refusal(StatusCode::UNPROCESSABLE_ENTITY, &message, Some(&pointer), id)
        }
        TriggerError::Console(e) => {
            tracing::error!(request_id = %id.0, "an API call could not be done: {e:#}");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "it could not be done; try again (nothing was sent)", Some(id))
        }
    }
}

/// A body that is not the JSON the route takes: 422 with serde's words and where.
fn unreadable(e: &serde_json::Error, id: &RequestId) -> Response {
    refusal(StatusCode::UNPROCESSABLE_ENTITY, &format!("the body is not what this call takes: {e}"), Some(""), id)
}

/// `POST /v1/campaigns/{id}/trigger`.
pub async fn trigger(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    Path(campaign): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The key is read on a connection of its own: a short read, done on this thread rather
    // than waiting behind the writes of other calls.
    let checked = server.console.check_key(bearer(&headers).as_deref(), ApiScope::Trigger);
    let key = match within_rate(&server, checked, &id) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let Ok(campaign) = campaign.parse::<i64>() else {
        return refusal(
            StatusCode::NOT_FOUND,
            &format!("no campaign has the id \u{201c}{campaign}\u{201d}"),
            None,
            &id,
        );
    };
    let request: TriggerRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return unreadable(&e, &id),
    };
    match server.console.accept_trigger(campaign, key.id, request).await {
        Ok((execution, new)) => {
            let status_url = format!("{}/v1/executions/{}", server.public_url, execution.execution_id);
            let mut body = serde_json::to_value(&execution).unwrap_or_default();
            body["status_url"] = serde_json::Value::String(status_url);
            let mut r = (StatusCode::ACCEPTED, axum::Json(body)).into_response();
            if !new {
                r.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            r
        }
        Err(e) => trigger_failure(e, &id),
    }
}

/// `GET /v1/executions/{id}`.
pub async fn execution(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    Path(execution): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorized(&server, &headers, ApiScope::Trigger, &id).await {
        return *r;
    }
    let console = Arc::clone(&server.console);
    let wanted = execution.clone();
    match tokio::task::spawn_blocking(move || console.execution(&wanted)).await {
        Ok(Ok(Some(e))) => axum::Json(e).into_response(),
        Ok(Ok(None)) => {
            refusal(StatusCode::NOT_FOUND, &format!("no execution has the id \u{201c}{execution}\u{201d}"), None, &id)
        }
        Ok(Err(e)) => trigger_failure(TriggerError::Console(e), &id),
        Err(e) => {
            tracing::error!(request_id = %id.0, "an execution's reading stopped: {e}");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "it could not be read; try again", Some(&id))
        }
    }
}

/// The body of `POST /v1/events`.
#[derive(serde::Deserialize)]
struct Events {
    events: Vec<IngestedEvent>,
}

/// `POST /v1/events`.
pub async fn events(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorized(&server, &headers, ApiScope::Events, &id).await {
        return *r;
    }
    let Events { events } = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => return unreadable(&e, &id),
    };
    let console = Arc::clone(&server.console);
    match tokio::task::spawn_blocking(move || console.ingest_events(&events)).await {
        Ok(Ok(report)) => (StatusCode::ACCEPTED, axum::Json(report)).into_response(),
        Ok(Err(e)) => trigger_failure(e, &id),
        Err(e) => {
            tracing::error!(request_id = %id.0, "an events call's work stopped: {e}");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "it could not be done; try again", Some(&id))
        }
    }
}

/// `GET /v1/openapi.json`.
pub async fn openapi(State(server): State<Server>) -> Response {
    axum::Json(super::openapi::document(&server.public_url)).into_response()
}
