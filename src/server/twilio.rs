//! Twilio's webhooks: status callbacks and inbound messages (form posts signed with
//! `X-Twilio-Signature`). A refused signature is a 403 and changes nothing; an inbound keyword
//! with a reply is answered in TwiML, which Twilio sends back to the person.

use axum::body::Bytes;
use axum::extract::{Extension, OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{RequestId, Server, failure};
use crate::console::{WebhookError, WebhookRequest};

/// The request as the Console checks it: the URLs it may have been sent to, its form, its
/// signature. A body that is not a form is a 400.
fn webhook_request(
    server: &Server,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<WebhookRequest> {
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let path = uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    Some(WebhookRequest {
        urls: vec![format!("{}{path}", server.public_url)],
        params,
        signature: headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).map(str::to_owned),
    })
}

/// Runs `work` with the Console off the async threads, and answers as the Console said.
async fn answer<T: Send + 'static>(
    server: Server,
    id: &RequestId,
    request: Option<WebhookRequest>,
    work: fn(&crate::console::Console, &WebhookRequest) -> Result<T, WebhookError>,
    ok: fn(T) -> Response,
) -> Response {
    let Some(request) = request else {
        return failure(
            StatusCode::BAD_REQUEST,
            "the body is not a form (application/x-www-form-urlencoded)",
            Some(id),
        );
    };
    let console = server.console;
    let done = tokio::task::spawn_blocking(move || work(&console, &request)).await;
    super::webhook_answer(id, done, ok)
}

pub async fn status(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = webhook_request(&server, &uri, &headers, &body);
    answer(server, &id, request, crate::console::Console::twilio_status, |reported| {
        axum::Json(serde_json::json!({ "result": format!("{reported:?}") })).into_response()
    })
    .await
}

pub async fn inbound(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = webhook_request(&server, &uri, &headers, &body);
    answer(server, &id, request, crate::console::Console::twilio_inbound, |inbound| {
        let reply =
            inbound.reply.map(|r| format!("<Message>{}</Message>", super::escape_markup(&r))).unwrap_or_default();
        let twiml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{reply}</Response>");
        ([(axum::http::header::CONTENT_TYPE, "text/xml; charset=utf-8")], twiml).into_response()
    })
    .await
}
