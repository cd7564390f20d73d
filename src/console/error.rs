//! The Console's errors, and the one shape in which the user sees any of them.

use std::path::PathBuf;

use crate::audience::AudienceError;
use crate::demo::DemoError;
use crate::secrets::SecretError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the secret could not be stored: {0}")]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Demo(#[from] DemoError),
    #[error("could not start the background runtime: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Audience(#[from] AudienceError),
    #[error("\u{201c}{campaign}\u{201d} has no canvas: {why}")]
    NoCanvas { campaign: String, why: String },
    #[error(transparent)]
    Delivery(#[from] crate::delivery::DeliveryError),
    /// A credential's settings cannot work, or its provider cannot be built: what to fix.
    #[error(transparent)]
    Channel(#[from] crate::channels::ChannelError),
    /// The action cannot be done as things are; the message says why in the user's words.
    #[error("{0}")]
    CannotRun(String),
    /// What the user asked for is not there or not valid (a column a model lacks, …).
    #[error("{0}")]
    Invalid(String),
    #[error("{} could not be written: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    /// A file cannot be imported as it is (a row that cannot is a reject, not this).
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    /// Something could not be written as JSON (a canvas, a message): nothing was stored.
    #[error("{what} could not be written as JSON: {source}")]
    Json { what: &'static str, source: serde_json::Error },
}

/// An error as the user sees it: one sentence, with the technical chain behind "details".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserError {
    pub message: String,
    pub details: String,
}

impl UserError {
    /// "`context`: what went wrong" (a refusal in the user's words stands alone).
    pub fn new(context: &str, err: &ConsoleError) -> Self {
        let message = match err {
            ConsoleError::Store(StoreError::Invalid(msg)) | ConsoleError::Invalid(msg) => msg.clone(),
            ConsoleError::Channel(crate::channels::ChannelError::Settings(msg)) => msg.clone(),
            ConsoleError::Store(StoreError::NotFound { what }) => format!("{context}: {what} was not found."),
            _ => format!("{context}: {err}"),
        };
        Self { message, details: format!("{err:#?}") }
    }

    /// The error's own sentence, with no context before it.
    pub fn of(err: &ConsoleError) -> Self {
        Self { message: err.to_string(), details: format!("{err:#?}") }
    }

    /// A sentence that is the whole story (what a form found wrong before asking anything).
    pub fn plain(message: impl Into<String>) -> Self {
        Self { message: message.into(), details: String::new() }
    }
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}
