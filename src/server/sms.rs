//! A custom SMS provider's webhooks (`/webhooks/sms/{credential}/inbound` and `/feedback`):
//! JSON bodies, authenticated by the credential's webhook token (the `X-Webhook-Token` header,
//! or `?token=` in the URL). A missing or wrong token is a 403 and changes nothing.

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::{RequestId, Server};
use crate::console::{Console, WebhookError};

#[derive(serde::Deserialize)]
pub struct Token {
    token: Option<String>,
}

/// The token the request carries: its header first, else the URL's.
fn token(headers: &HeaderMap, query: Token) -> Option<String> {
    headers.get("x-webhook-token").and_then(|v| v.to_str().ok()).map(str::to_owned).or(query.token)
}

/// What a webhook of this kind does with the credential's id, the token it carried and its
/// body; the answer is written as `{"result": …}`.
type Work = fn(&Console, i64, Option<&str>, &[u8]) -> Result<serde_json::Value, WebhookError>;

/// A custom credential's webhook: the Console's `work`, off the async threads.
async fn answer(
    server: Server,
    id: &RequestId,
    credential: i64,
    token: Option<String>,
    body: Bytes,
    work: Work,
) -> Response {
    let console = server.console;
    let done = tokio::task::spawn_blocking(move || work(&console, credential, token.as_deref(), &body)).await;
    super::webhook_answer(id, done, |value| axum::Json(serde_json::json!({ "result": value })).into_response())
}

pub async fn inbound(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    Path(credential): Path<i64>,
    Query(query): Query<Token>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = token(&headers, query);
    answer(server, &id, credential, token, body, |console, credential, token, body| {
        console.custom_sms_inbound(credential, token, body).map(|i| {
            serde_json::json!({ "keyword": i.keyword.map(|k| k.as_str()), "changed": i.changed.len(), "repeated": i.repeated })
        })
    })
    .await
}

pub async fn feedback(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    Path(credential): Path<i64>,
    Query(query): Query<Token>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = token(&headers, query);
    answer(server, &id, credential, token, body, |console, credential, token, body| {
        console.custom_sms_feedback(credential, token, body).map(|r| serde_json::Value::from(format!("{r:?}")))
    })
    .await
}
