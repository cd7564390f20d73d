//! Email tracking on the server: a tracked link (`GET /t/c/{token}`) is redirected at once and
//! its click written afterwards, so a busy workspace never holds a reader up; the open image
//! (`GET /t/o/{token}`) is answered the same way; the unsubscribe link shows a page with a
//! button (`GET /u/{token}`), and the button or a mail app's one-click request (`POST`, RFC
//! 8058) turns the recipient's email opt-in off. A token the workspace's key did not sign is a
//! 404 and writes nothing.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{RequestId, Server, escape_markup, page};
use crate::console::Console;
use crate::model::tracking::Tracked;

/// A transparent 1×1 GIF.
const PIXEL: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// Tries to write a click or an open this many times (the workspace may be busy a while).
const ATTEMPTS: u32 = 6;

const NOT_KNOWN: &str = "This link is not known here. It may have been mistyped or cut.";
const UNAVAILABLE: &str = "This link cannot be opened right now. Try again in a moment.";

/// Runs `work` on the workspace, off the server's async threads; a failure is logged (with
/// `what` was being done) and is `None`.
pub(super) async fn on_workspace<T: Send + 'static>(
    console: &Arc<Console>,
    id: &RequestId,
    what: &str,
    work: impl FnOnce(&Console) -> Result<T, crate::console::ConsoleError> + Send + 'static,
) -> Option<T> {
    let console = Arc::clone(console);
    match tokio::task::spawn_blocking(move || work(&console)).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(e)) => {
            tracing::error!(request_id = %id.0, "{what} failed: {e:#}");
            None
        }
        Err(e) => {
            tracing::error!(request_id = %id.0, "{what} stopped: {e}");
            None
        }
    }
}

pub(super) fn unavailable() -> Response {
    page(StatusCode::SERVICE_UNAVAILABLE, "Try again", &format!("<p>{UNAVAILABLE}</p>"))
}

pub(super) fn not_known() -> Response {
    page(StatusCode::NOT_FOUND, "Link not found", &format!("<p>{NOT_KNOWN}</p>"))
}

/// What a token stands for, or the page saying why there is nothing.
async fn read(console: &Arc<Console>, id: &RequestId, token: String) -> Result<Tracked, Response> {
    match on_workspace(console, id, "reading a tracking token", move |c| c.read_tracking_token(&token)).await {
        Some(Some(what)) => Ok(what),
        Some(None) => {
            tracing::info!(request_id = %id.0, "a tracking token that this workspace did not sign was refused");
            Err(not_known())
        }
        None => Err(unavailable()),
    }
}

/// Writes `what` after the answer has gone, trying again (with a growing wait) while the
/// workspace is busy. The task holds the Console weakly: a server stopping drops what it had
/// not written yet rather than keep the Console (and its runtime) alive in an async task.
fn write_later(console: &Arc<Console>, id: RequestId, what: Tracked) {
    let at = console.now();
    let console = Arc::downgrade(console);
    tokio::spawn(async move {
        let mut wait = Duration::from_millis(200);
        for attempt in 1..=ATTEMPTS {
            let Some(writer) = console.upgrade() else { return };
            let event = [(what.clone(), at)];
            // The Console is let go of on the blocking thread, never here.
            match tokio::task::spawn_blocking(move || writer.record_tracked(&event)).await {
                Ok(Ok(_)) => return,
                Ok(Err(e)) => {
                    tracing::warn!(request_id = %id.0, "a tracked event was not written (try {attempt}): {e:#}")
                }
                Err(e) => tracing::warn!(request_id = %id.0, "a tracked event's work stopped (try {attempt}): {e}"),
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        tracing::error!(request_id = %id.0, "a tracked event was lost after {ATTEMPTS} tries: {what:?}");
    });
}

/// `GET /t/c/{token}`: to the link (302), then the click is written.
pub async fn click(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    Path(token): Path<String>,
) -> Response {
    let what = match read(&server.console, &id, token).await {
        Ok(what) => what,
        Err(page) => return page,
    };
    let Tracked::Click { url, .. } = &what else {
        return not_known();
    };
    let location = match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.to_string(),
        _ => {
            tracing::warn!(request_id = %id.0, "a tracked link leads to {url:?}, which is not a web address");
            return page(StatusCode::NOT_FOUND, "Link not found", "<p>This link is damaged.</p>");
        }
    };
    write_later(&server.console, id, what);
    (StatusCode::FOUND, [(header::LOCATION, location), (header::CACHE_CONTROL, "no-store".to_owned())]).into_response()
}

/// `GET /t/o/{token}`: the invisible image, then the open is written.
pub async fn open(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    Path(token): Path<String>,
) -> Response {
    let what = match read(&server.console, &id, token).await {
        Ok(what @ Tracked::Open { .. }) => what,
        Ok(_) => return not_known(),
        Err(page) => return page,
    };
    write_later(&server.console, id, what);
    ([(header::CONTENT_TYPE, "image/gif"), (header::CACHE_CONTROL, "no-store, max-age=0")], PIXEL).into_response()
}

/// The message an unsubscribe token is for, or the page saying why there is none.
async fn unsubscribe_message(server: &Server, id: &RequestId, token: String) -> Result<String, Response> {
    match read(&server.console, id, token).await? {
        Tracked::Unsubscribe { message } => Ok(message),
        _ => Err(not_known()),
    }
}

/// `GET /u/{token}`: who would be unsubscribed, and the button that does it (a link opened by
/// a mail scanner changes nothing).
pub async fn unsubscribe_page(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    Path(token): Path<String>,
) -> Response {
    let message = match unsubscribe_message(&server, &id, token).await {
        Ok(m) => m,
        Err(page) => return page,
    };
    let found = on_workspace(&server.console, &id, "an unsubscribe page", move |c| c.tracked_recipient(&message));
    match found.await {
        Some(Some(r)) => page(
            StatusCode::OK,
            "Unsubscribe",
            &format!(
                "<p>Stop the emails{from} to <strong>{address}</strong>?</p>\
                 <form method=post><button type=submit style=\"font-size:1.1em;padding:.4em 1.2em\">Unsubscribe</button></form>",
                from = r
                    .campaign
                    .map(|c| format!(" of \u{201c}{}\u{201d} and the others", escape_markup(&c)))
                    .unwrap_or_default(),
                address = escape_markup(&masked(&r.address)),
            ),
        ),
        Some(None) => gone(),
        None => unavailable(),
    }
}

/// `POST /u/{token}` (the page's button, or a mail app's `List-Unsubscribe=One-Click`): the
/// recipient's email opt-in is off when this answers 200.
pub async fn unsubscribe(
    State(server): State<Server>,
    Extension(id): Extension<RequestId>,
    Path(token): Path<String>,
) -> Response {
    let message = match unsubscribe_message(&server, &id, token).await {
        Ok(m) => m,
        Err(page) => return page,
    };
    let done = on_workspace(&server.console, &id, "an unsubscribe request", move |c| c.unsubscribe_recipient(&message));
    match done.await {
        Some(Some(done)) => {
            tracing::info!(request_id = %id.0, "profile {} unsubscribed from email", done.recipient.profile_key);
            let address = escape_markup(&masked(&done.recipient.address));
            let said = if done.opted_out {
                format!("<p><strong>{address}</strong> will get no more of these emails.</p>")
            } else {
                format!("<p>Your request for <strong>{address}</strong> is recorded: the sender will act on it.</p>")
            };
            page(StatusCode::OK, "You are unsubscribed", &said)
        }
        Some(None) => gone(),
        None => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "<p>Your request could not be recorded right now. Try again in a moment.</p>",
        ),
    }
}

/// The page of a link whose message the workspace no longer has.
fn gone() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Link no longer known",
        "<p>The message this link came with is no longer known here.</p>",
    )
}

/// An address with most of its name hidden ("a•••@example.com"): a forwarded email's page does
/// not show it whole.
fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((name, domain)) => {
            let first: String = name.chars().take(1).collect();
            format!("{first}\u{2022}\u{2022}\u{2022}@{domain}")
        }
        None => address.to_owned(),
    }
}
