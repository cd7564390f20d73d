//! The server's settings as the workspace keeps them: where it listens, where providers reach
//! it, and whether the window runs it.

use serde::{Deserialize, Serialize};

/// Where the server listens unless the workspace says otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSettings {
    /// The address and port it listens on ("127.0.0.1:8080").
    pub bind: String,
    /// Where providers reach it ("https://hooks.example.com"); empty: `http://<bind>`.
    pub public_url: String,
    /// The window runs it while it is open.
    pub run_in_window: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self { bind: DEFAULT_BIND.to_owned(), public_url: String::new(), run_in_window: false }
    }
}

impl ServerSettings {
    /// The URL providers reach the server at, without a trailing slash.
    pub fn public_base(&self) -> String {
        let given = self.public_url.trim().trim_end_matches('/');
        if given.is_empty() { format!("http://{}", self.bind.trim()) } else { given.to_owned() }
    }
}
