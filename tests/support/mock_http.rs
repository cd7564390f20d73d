//! A small HTTP/1.1 server on loopback for provider tests and benchmarks: it logs every request
//! (idempotency key, time) and answers as a rule says: a status with headers after an optional
//! delay, or a connection closed without an answer (a reset, as the client sees it).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn key(&self) -> String {
        self.header("idempotency-key").unwrap_or_default().to_owned()
    }
}

/// How to answer.
#[derive(Clone, Debug)]
pub enum Reply {
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
        delay: Duration,
    },
    /// Answer 200 with bytes of this content type (a picture).
    Bytes {
        content_type: String,
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    Drop,
    /// Answer 200 with a body cut short (the connection closes before the promised length).
    Truncated,
}

impl Reply {
    pub fn ok(body: &str) -> Self {
        Self::Status { status: 200, headers: Vec::new(), body: body.to_owned(), delay: Duration::ZERO }
    }

    pub fn status(status: u16) -> Self {
        Self::Status { status, headers: Vec::new(), body: String::new(), delay: Duration::ZERO }
    }
}

type Rule = dyn Fn(&Received, usize) -> Reply + Send + Sync;

/// A running mock: its address and what it received.
pub struct MockHttp {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Requests answered (kept or not).
    pub answered: Arc<std::sync::atomic::AtomicU64>,
    _runtime: Option<tokio::runtime::Runtime>,
}

impl MockHttp {
    /// Starts a server on its own runtime (two threads). `rule` gets each request and how many
    /// times its idempotency key came before (0 the first time).
    pub fn start(rule: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static) -> Self {
        Self::with(rule, true)
    }

    /// A server that only counts what it answers (benchmarks: a million requests kept would
    /// weigh more than the sender being measured).
    pub fn quiet(rule: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static) -> Self {
        Self::with(rule, false)
    }

    fn with(rule: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static, keep: bool) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let answered = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (url, received) = runtime.block_on(Self::serve(Arc::new(rule), keep, Arc::clone(&answered)));
        Self { url, received, answered, _runtime: Some(runtime) }
    }

    async fn serve(
        rule: Arc<Rule>,
        keep: bool,
        answered: Arc<std::sync::atomic::AtomicU64>,
    ) -> (String, Arc<Mutex<Vec<Received>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/messages", listener.local_addr().unwrap());
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen: Arc<Mutex<std::collections::HashMap<String, usize>>> = Arc::default();
        let log = Arc::clone(&received);
        let state = Arc::new(State { keep, answered });
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { continue };
                let (rule, log, seen, state) =
                    (Arc::clone(&rule), Arc::clone(&log), Arc::clone(&seen), Arc::clone(&state));
                tokio::spawn(async move {
                    let _ = connection(socket, &*rule, &log, &seen, &state).await;
                });
            }
        });
        (url, received)
    }

    /// The keys received, in order (one per request).
    pub fn keys(&self) -> Vec<String> {
        self.received.lock().unwrap().iter().map(Received::key).collect()
    }
}

struct State {
    keep: bool,
    answered: Arc<std::sync::atomic::AtomicU64>,
}

async fn connection(
    mut socket: tokio::net::TcpStream,
    rule: &Rule,
    log: &Mutex<Vec<Received>>,
    seen: &Mutex<std::collections::HashMap<String, usize>>,
    state: &State,
) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let mut buffer = Vec::with_capacity(4096);
    loop {
        // Head.
        let head_end = loop {
            if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 4096];
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let (method, path) = (first.next().unwrap_or_default().to_owned(), first.next().unwrap_or_default().to_owned());
        let headers: Vec<(String, String)> =
            lines.filter_map(|l| l.split_once(':').map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))).collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let body_start = head_end + 4;
        while buffer.len() < body_start + length {
            let mut chunk = [0u8; 4096];
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buffer[body_start..body_start + length]).into_owned();
        buffer.drain(..body_start + length);
        let request = Received { method, path, headers, body, at: Instant::now() };
        let before = if state.keep {
            let mut seen = seen.lock().unwrap();
            let n = seen.entry(request.key()).or_insert(0);
            *n += 1;
            *n - 1
        } else {
            0
        };
        let reply = rule(&request, before);
        state.answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if state.keep {
            log.lock().unwrap().push(request);
        }
        match reply {
            Reply::Drop => return Ok(()),
            Reply::Bytes { content_type, body } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: {content_type}\r\n\r\n",
                    body.len()
                );
                socket.write_all(head.as_bytes()).await?;
                socket.write_all(&body).await?;
            }
            Reply::Truncated => {
                socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\ncontent-type: application/json\r\n\r\n{\"id\"",
                    )
                    .await?;
                return Ok(());
            }
            Reply::Status { status, headers, body, delay } => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let mut out = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\ncontent-type: application/json\r\n",
                    body.len()
                );
                for (n, v) in headers {
                    out.push_str(&format!("{n}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&body);
                socket.write_all(out.as_bytes()).await?;
            }
        }
    }
}
