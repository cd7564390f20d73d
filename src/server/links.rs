//! Short links (`GET /s/{code}`): the click is written against the message it was sent in,
//! and the reader is sent on to the link (302). A code no message has is a small page, not an
//! error in JSON: people open these in a phone's browser.

use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::tracking::{not_known, on_workspace, unavailable};
use super::{RequestId, Server};

pub async fn follow(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    Path(code): Path<String>,
) -> Response {
    let found = on_workspace(&server.console, &id, "following a short link", move |c| c.follow_short_link(&code));
    match found.await {
        Some(Some(url)) => match reqwest::Url::parse(&url) {
            Ok(u) => (StatusCode::FOUND, [(header::LOCATION, u.as_str().to_owned())]).into_response(),
            Err(e) => {
                tracing::warn!(request_id = %id.0, "a short link leads to {url:?}, which is not a URL: {e}");
                super::page(StatusCode::NOT_FOUND, "Link not found", "<p>This link is damaged.</p>")
            }
        },
        Some(None) => not_known(),
        None => unavailable(),
    }
}
