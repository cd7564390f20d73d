//! `campaign-console serve`: the HTTP server (provider webhooks, liveness) with the scheduler,
//! headless, until Ctrl+C or SIGTERM; then the requests being answered finish.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use campaign_console::console::Console;
use campaign_console::model::server::ServerSettings;
use campaign_console::server;

#[derive(clap::Args)]
pub struct Args {
    /// The address and port to listen on; kept as the workspace's. Default: the workspace's
    /// (Settings → Server), 127.0.0.1:8080 unless changed.
    #[arg(long)]
    bind: Option<SocketAddr>,
    /// Where providers and recipients reach this server (the URL Twilio signs its webhooks
    /// with, where tracked links lead), e.g. https://hooks.example.com; kept as the
    /// workspace's. Default: the workspace's, else http://<bind>.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Answer webhooks only: do not launch scheduled campaigns from this process.
    #[arg(long)]
    no_scheduler: bool,
}

pub fn run(console: Console, args: Args) -> anyhow::Result<()> {
    let Args { bind, public_url, no_scheduler } = args;
    let (bind, public_url) = where_served(&console, bind, public_url)?;
    let (messages, calls) = console.fail_interrupted_api_sends()?;
    if messages > 0 {
        eprintln!(
            "{messages} API-triggered messages a stopped server left unsent are failed (their context is never kept: the callers must trigger them again)."
        );
    }
    if calls > 0 {
        eprintln!(
            "{calls} trigger calls a stopped server accepted but never sent are failed (their context is never kept: the callers must trigger them again)."
        );
    }
    let console = Arc::new(console);
    if !no_scheduler {
        console.start_scheduler();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cc-server")
        .enable_all()
        .build()
        .context("the server's runtime could not start")?;
    // The Console outlives the server's runtime: it owns a runtime of its own, which must not
    // be dropped from inside an async task.
    let state = server::Server::new(Arc::clone(&console), public_url.clone());
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| {
            format!("cannot listen on {bind} (is another server using it? choose another with --bind)")
        })?;
        let local = listener.local_addr()?;
        eprintln!(
            "Serving on http://{local} (public URL {public_url}); Twilio's status callbacks: {public_url}/webhooks/twilio/status, inbound: {public_url}/webhooks/twilio/inbound; the execution API: {public_url}/v1 (its description: {public_url}/v1/openapi.json; keys: campaign-console apikey create). Ctrl+C stops."
        );
        server::serve(state, listener, stopped()).await.context("the server stopped with an error")
    });
    drop(runtime);
    served?;
    eprintln!("Stopped.");
    drop(console);
    Ok(())
}

/// Where this server listens and where it is reached: as given, else as the workspace says.
/// What is given becomes the workspace's, since the links in messages (tracked email links,
/// SMS short links) lead to the workspace's public URL whichever process sends them.
fn where_served(
    console: &Console,
    bind: Option<SocketAddr>,
    public_url: Option<String>,
) -> anyhow::Result<(SocketAddr, String)> {
    let kept = console.server_settings()?;
    let kept_bind: Option<SocketAddr> = kept.bind.trim().parse().ok();
    let bind = bind.or(kept_bind).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let given = public_url.map(|u| reqwest_url(&u).map(|p| p.as_str().trim_end_matches('/').to_owned())).transpose()?;
    let wanted = ServerSettings {
        bind: bind.to_string(),
        public_url: given.unwrap_or_else(|| kept.public_url.trim().trim_end_matches('/').to_owned()),
        ..kept.clone()
    };
    if wanted.bind != kept.bind.trim() || wanted.public_url != kept.public_url.trim() {
        console.set_server_settings(&wanted)?;
        eprintln!(
            "The workspace's server is now at {} (public URL {}): links in new messages lead there.",
            wanted.bind,
            wanted.public_base()
        );
    }
    Ok((bind, wanted.public_base()))
}

/// A public URL as given: http(s) with a host.
fn reqwest_url(text: &str) -> anyhow::Result<server::Url> {
    let u = server::Url::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("--public-url \u{201c}{text}\u{201d} is not a URL ({e})"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        anyhow::bail!("--public-url must be an http:// or https:// address with a host, not \u{201c}{text}\u{201d}");
    }
    Ok(u)
}

/// Completes at Ctrl+C or SIGTERM.
async fn stopped() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    eprintln!("Stopping: the requests being answered finish first.");
}
