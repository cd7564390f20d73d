//! A custom SMS provider's webhooks (`/webhooks/sms/{credential}/inbound` and `/feedback`):
//! JSON bodies, authenticated by the credential's webhook token (the `X-Webhook-Token` header,
//! or `?token=` in the URL). A missing or wrong token is a 403 and changes nothing.

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{RequestId, Server, failure};
use crate::console::WebhookError;

#[derive(serde::Deserialize)]
pub struct Token {
    token: Option<String>,
}

/// The token the request carries: its header first, else the URL's.
fn token(headers: &HeaderMap, query: Token) -> Option<String> {
    headers.get("x-webhook-token").and_then(|v| v.to_str().ok()).map(str::to_owned).or(query.token)
}

fn answer<T: serde::Serialize>(
    id: &RequestId,
    done: Result<Result<T, WebhookError>, tokio::task::JoinError>,
) -> Response {
    match done {
        Ok(Ok(value)) => axum::Json(serde_json::json!({ "result": value })).into_response(),
        Ok(Err(WebhookError::Forbidden(why))) => {
            tracing::warn!(request_id = %id.0, "an SMS webhook was refused: {why}");
            failure(StatusCode::FORBIDDEN, &why, Some(id))
        }
        Ok(Err(WebhookError::BadRequest(why))) => failure(StatusCode::BAD_REQUEST, &why, Some(id)),
        Ok(Err(WebhookError::Console(e))) => {
            tracing::error!(request_id = %id.0, "an SMS webhook could not be recorded: {e:#}");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "it could not be recorded; try again", Some(id))
        }
        Err(e) => {
            tracing::error!(request_id = %id.0, "an SMS webhook's work stopped: {e}");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "it could not be recorded; try again", Some(id))
        }
    }
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
    let console = server.console;
    let done = tokio::task::spawn_blocking(move || {
        console.custom_sms_inbound(credential, token.as_deref(), &body).map(|i| {
            serde_json::json!({ "keyword": i.keyword.map(|k| k.as_str()), "changed": i.changed.len(), "repeated": i.repeated })
        })
    })
    .await;
    answer(&id, done)
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
    let console = server.console;
    let done = tokio::task::spawn_blocking(move || {
        console.custom_sms_feedback(credential, token.as_deref(), &body).map(|r| format!("{r:?}"))
    })
    .await;
    answer(&id, done)
}
