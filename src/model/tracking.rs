//! What a tracking token stands for: a link, the open image or the unsubscribe link of one
//! message (see `delivery/tracking.rs`, which signs them, and `server/tracking.rs`).

use serde::{Deserialize, Serialize};

/// What a token stands for. The message is its idempotency key (the ledger's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum Tracked {
    /// A link of the message: where it leads and its alias.
    #[serde(rename = "c")]
    Click {
        #[serde(rename = "m")]
        message: String,
        #[serde(rename = "u")]
        url: String,
        #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
        alias: Option<String>,
    },
    /// The message's open image.
    #[serde(rename = "o")]
    Open {
        #[serde(rename = "m")]
        message: String,
    },
    /// The message's unsubscribe link.
    #[serde(rename = "u")]
    Unsubscribe {
        #[serde(rename = "m")]
        message: String,
    },
}

impl Tracked {
    /// The message (ledger idempotency key) it is about.
    pub fn message(&self) -> &str {
        match self {
            Self::Click { message, .. } | Self::Open { message } | Self::Unsubscribe { message } => message,
        }
    }
}
