//! The HTTP server (axum): what providers call back (Twilio's status callbacks and inbound
//! messages, signed; a custom SMS provider's inbound messages and delivery feedback, with the
//! credential's token), the short links of SMS (a click counted, then a redirect), email
//! tracking (clicks, opens, one-click unsubscribe: `tracking.rs`), the
//! execution API (`/v1`: API-triggered campaigns, events, its OpenAPI document), and a
//! liveness probe. It runs headless (`campaign-console serve`) on the
//! Console's runtime; every request is answered with its id (`x-request-id`, in the logs too),
//! bodies over 1 MiB are refused (413), unknown routes get a JSON 404.
//!
//! The handlers only translate HTTP to the Console's methods and back: what a webhook does is
//! the Console's (`console/sms.rs`).

mod api;
mod links;
pub mod openapi;
mod sms;
mod tracking;
mod twilio;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::console::Console;

pub use reqwest::Url;

/// The largest request body taken.
pub const BODY_LIMIT: usize = 1024 * 1024;

pub use api::RateLimits;

/// What the handlers share.
#[derive(Clone)]
pub struct Server {
    pub console: Arc<Console>,
    /// Where providers reach this server ("https://hooks.example.com"), without a trailing
    /// slash: the URL they sign is this and the request's path.
    pub public_url: String,
    /// The execution API's rate limit per key.
    pub limits: Arc<RateLimits>,
}

impl Server {
    /// A server with the default rate limits.
    pub fn new(console: Arc<Console>, public_url: impl Into<String>) -> Self {
        Self { console, public_url: public_url.into(), limits: Arc::new(RateLimits::default()) }
    }
}

/// The request's id, as the middleware gave it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Every route of the server.
pub fn router(server: Server) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route(crate::channels::twilio::STATUS_PATH, post(twilio::status))
        .route(crate::channels::twilio::INBOUND_PATH, post(twilio::inbound))
        .route("/webhooks/sms/{credential}/inbound", post(sms::inbound))
        .route("/webhooks/sms/{credential}/feedback", post(sms::feedback))
        .route("/s/{code}", get(links::follow))
        .route("/t/c/{token}", get(tracking::click))
        .route("/t/o/{token}", get(tracking::open))
        .route("/u/{token}", get(tracking::unsubscribe_page).post(tracking::unsubscribe))
        .route("/v1/campaigns/{id}/trigger", post(api::trigger))
        .route("/v1/executions/{id}", get(api::execution))
        .route("/v1/events", post(api::events))
        .route("/v1/openapi.json", get(api::openapi))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(request_id))
        .with_state(server)
}

/// Serves on `listener` until `shutdown` completes; then the requests being answered finish
/// and it returns.
pub async fn serve(
    server: Server,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(server)).with_graceful_shutdown(shutdown).await
}

/// A server running on a thread of its own (the window's): it stops when dropped, letting the
/// requests being answered finish (for at most a few seconds).
pub struct Background {
    pub address: SocketAddr,
    pub public_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Background {
    /// Listens on `bind` (refused at once when the address is taken) and serves there.
    pub fn start(console: Arc<Console>, bind: SocketAddr, public_url: String) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cc-server")
            .enable_all()
            .build()?;
        let std_listener = std::net::TcpListener::bind(bind)?;
        std_listener.set_nonblocking(true)?;
        let address = std_listener.local_addr()?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // As `serve` does when it starts: API messages a stopped server left being sent.
        let checked = Arc::clone(&console);
        runtime.spawn_blocking(move || match checked.fail_interrupted_api_sends() {
            Ok((0, 0)) => {}
            Ok((messages, calls)) => tracing::warn!(
                "{messages} API-triggered messages and {calls} accepted calls a stopped server left unsent are failed (their context is never kept)"
            ),
            Err(e) => tracing::error!("the API messages a stopped server left could not be checked: {e:#}"),
        });
        let server = Server::new(console, public_url.clone());
        runtime.spawn(async move {
            let done = serve(server, listener, async {
                let _ = stopped.await;
            })
            .await;
            if let Err(e) = done {
                tracing::error!("the server stopped: {e}");
            }
        });
        tracing::info!("serving on http://{address} (public URL {public_url})");
        Ok(Self { address, public_url, stop: Some(stop), runtime: Some(runtime) })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(3));
        }
    }
}

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn not_found(request: Request) -> Response {
    let id = request.extensions().get::<RequestId>().cloned();
    failure(StatusCode::NOT_FOUND, &format!("there is nothing at {}", request.uri().path()), id.as_ref())
}

/// The answer to a provider's webhook: `ok`'s when the Console took it; 403 when it refused
/// the request's signature or token, 400 when a parameter is missing, 500 when the workspace
/// could not record it (the provider tries again later).
pub fn webhook_answer<T>(
    id: &RequestId,
    done: Result<Result<T, crate::console::WebhookError>, tokio::task::JoinError>,
    ok: impl FnOnce(T) -> Response,
) -> Response {
    use crate::console::WebhookError;
    match done {
        Ok(Ok(value)) => ok(value),
        Ok(Err(WebhookError::Forbidden(why))) => {
            tracing::warn!(request_id = %id.0, "a webhook was refused: {why}");
            failure(StatusCode::FORBIDDEN, &why, Some(id))
        }
        Ok(Err(WebhookError::BadRequest(why))) => failure(StatusCode::BAD_REQUEST, &why, Some(id)),
        Ok(Err(WebhookError::Console(e))) => {
            tracing::error!(request_id = %id.0, "a webhook could not be recorded: {e:#}");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "it could not be recorded; try again", Some(id))
        }
        Err(e) => {
            tracing::error!(request_id = %id.0, "a webhook's work stopped: {e}");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "it could not be recorded; try again", Some(id))
        }
    }
}

/// Text as HTML or XML character data (or a quoted attribute's value).
pub fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A small HTML page for people (a link opened in a browser), not JSON: `title`, then
/// `body`, which is HTML already.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>{t}</title><body style=\"font-family:system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em\">\
         <h1 style=\"font-size:1.3em\">{t}</h1>{body}</body></html>",
        t = escape_markup(title)
    );
    (status, axum::response::Html(html)).into_response()
}

/// A JSON error: `{"error": "…", "request_id": "…"}`.
pub fn failure(status: StatusCode, message: &str, id: Option<&RequestId>) -> Response {
    let body = serde_json::json!({ "error": message, "request_id": id.map(|i| i.0.as_str()) });
    (status, axum::Json(body)).into_response()
}

/// Gives each request an id (the caller's `x-request-id` when it sends one), logs the request
/// with it and its answer's status and time, and returns it in `x-request-id`.
async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 100)
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    request.extensions_mut().insert(RequestId(id.clone()));
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    let status = response.status().as_u16();
    tracing::info!(request_id = %id, "{method} {path} → {status} in {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
    if status == 413 {
        // Said in JSON like every other refusal.
        let body =
            serde_json::json!({ "error": format!("the request is larger than {BODY_LIMIT} bytes"), "request_id": id });
        response = (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response();
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}
