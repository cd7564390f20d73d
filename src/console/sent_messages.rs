//! The messages the Sandbox "sent", read back: to see what a recipient got and to try its
//! links (tracked ones lead through the server).

use super::{Console, ConsoleError};
use crate::model::delivery::{SentLink, SentMessage};
use crate::model::tracking::Tracked;
use crate::store;

impl Console {
    /// The message of ledger row `ledger_id` as the Sandbox kept it; `None` when it was not
    /// sent through the Sandbox (a real provider's messages are with their recipients).
    pub fn sent_message(&self, ledger_id: i64) -> Result<Option<SentMessage>, ConsoleError> {
        let kept = store::sandbox::sandbox_message(&self.workspace.conn(), ledger_id)?;
        // Where a tracked link leads, read from its token (`None` when it is not one of ours).
        let leads_to = |url: &str| {
            let token = url.split_once(crate::delivery::tracking::CLICK_PATH)?.1;
            match self.tracking_key().ok()?.read(token)? {
                Tracked::Click { url, .. } => Some(url),
                _ => None,
            }
        };
        Ok(kept.map(|[channel, address, subject, text, html, unsubscribe]| SentMessage {
            ledger_id,
            links: crate::delivery::html_links::anchors(&html)
                .into_iter()
                .map(|a| SentLink { leads_to: leads_to(&a.url), alias: a.alias, url: a.url })
                .collect(),
            channel,
            address,
            subject,
            text,
            html,
            unsubscribe,
        }))
    }
}
