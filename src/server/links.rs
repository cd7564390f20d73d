//! Short links (`GET /s/{code}`): the click is written against the message it was sent in,
//! and the reader is sent on to the link (302). A code no message has is a small page, not an
//! error in JSON: people open these in a phone's browser.

use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{RequestId, Server};

pub async fn follow(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    Path(code): Path<String>,
) -> Response {
    let console = server.console;
    let done = tokio::task::spawn_blocking(move || console.follow_short_link(&code)).await;
    let page = |status: StatusCode, text: &str| super::page(status, "Link", &format!("<p>{text}</p>"));
    match done {
        Ok(Ok(Some(url))) => match reqwest::Url::parse(&url) {
            Ok(u) => (StatusCode::FOUND, [(header::LOCATION, u.as_str().to_owned())]).into_response(),
            Err(e) => {
                tracing::warn!(request_id = %id.0, "a short link leads to {url:?}, which is not a URL: {e}");
                page(StatusCode::NOT_FOUND, "This link is damaged.")
            }
        },
        Ok(Ok(None)) => page(StatusCode::NOT_FOUND, "This link is not known here. It may have been mistyped."),
        Ok(Err(e)) => {
            tracing::error!(request_id = %id.0, "a short link could not be followed: {e:#}");
            page(StatusCode::SERVICE_UNAVAILABLE, "This link cannot be opened right now. Try again in a moment.")
        }
        Err(e) => {
            tracing::error!(request_id = %id.0, "a short link's work stopped: {e}");
            page(StatusCode::SERVICE_UNAVAILABLE, "This link cannot be opened right now. Try again in a moment.")
        }
    }
}
