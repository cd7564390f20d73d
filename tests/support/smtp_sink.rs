//! An SMTP server on loopback that accepts every message and keeps it: enough of RFC 5321 for
//! lettre (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT). A wrong password gets 535.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A message as received.
#[derive(Clone, Debug, Default)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (dot-unstuffed).
    pub data: String,
    /// The user who signed in, if any.
    pub user: Option<String>,
}

pub struct SmtpSink {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<Mail>>>,
    _runtime: tokio::runtime::Runtime,
}

impl SmtpSink {
    /// Accepts `user` / `password` for AUTH PLAIN (and no sign-in at all).
    pub fn start(user: &str, password: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let expected = format!("\0{user}\0{password}");
        let log = Arc::clone(&mails);
        let port = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            tokio::spawn(async move {
                loop {
                    let Ok((socket, _)) = listener.accept().await else { continue };
                    let (log, expected) = (Arc::clone(&log), expected.clone());
                    tokio::spawn(async move {
                        let _ = session(socket, &log, &expected).await;
                    });
                }
            });
            port
        });
        Self { port, mails, _runtime: runtime }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let Some(v) = ALPHABET.iter().position(|a| *a == c) else { continue };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

async fn session(socket: tokio::net::TcpStream, log: &Mutex<Vec<Mail>>, expected: &str) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let mut mail = Mail::default();
    let mut user = None;
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250-sink\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n".into()
        } else if upper.starts_with("AUTH PLAIN") {
            let given = line.split_whitespace().nth(2).unwrap_or_default().to_owned();
            let decoded = String::from_utf8_lossy(&decode_base64(&given)).into_owned();
            if decoded == expected {
                user = decoded.split('\0').nth(1).map(str::to_owned);
                "235 2.7.0 Authentication successful\r\n".into()
            } else {
                "535 5.7.8 Authentication credentials invalid\r\n".into()
            }
        } else if upper.starts_with("MAIL FROM:") {
            mail = Mail { from: line[10..].trim().to_owned(), user: user.clone(), ..Mail::default() };
            "250 2.1.0 Ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(line[8..].trim().to_owned());
            "250 2.1.5 Ok\r\n".into()
        } else if upper == "DATA" {
            write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = String::new();
            while let Some(l) = lines.next_line().await? {
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
                data.push('\n');
            }
            mail.data = data;
            let n = {
                let mut log = log.lock().unwrap();
                log.push(std::mem::take(&mut mail));
                log.len()
            };
            format!("250 2.0.0 Ok: queued as SINK{n}\r\n")
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            "250 2.0.0 Ok\r\n".into()
        } else {
            "502 5.5.2 Command not recognized\r\n".into()
        };
        write.write_all(reply.as_bytes()).await?;
    }
    Ok(())
}
