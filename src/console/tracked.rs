//! What the server's tracking routes ask of the workspace: what a token stands for (read with
//! the workspace's key, no database), the opens and clicks to write (after the reader was
//! answered), and unsubscribing the recipient of a message.

use super::{Console, ConsoleError};
use crate::model::Channel;
use crate::model::tracking::Tracked;
use crate::store::tracking::{Recipient, TrackedEvent};
use crate::store::{self, StoreError};

/// What an unsubscribe link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsubscribed {
    pub recipient: Recipient,
    /// The profile's email opt-in was turned off (or was off already); `false` when the data
    /// model has no `email_opt_in` column to turn off (the request is recorded all the same).
    pub opted_out: bool,
}

impl Console {
    /// What `token` stands for, when the workspace's key signed it; `None` for a forged or
    /// damaged one.
    pub fn read_tracking_token(&self, token: &str) -> Result<Option<Tracked>, ConsoleError> {
        Ok(self.tracking_key()?.read(token.trim()))
    }

    /// Writes the opens and clicks of tracked messages, each at its time; returns how many
    /// were about a message the workspace still has.
    pub fn record_tracked(&self, events: &[(Tracked, jiff::Timestamp)]) -> Result<usize, ConsoleError> {
        let events: Vec<TrackedEvent> = events
            .iter()
            .filter_map(|(what, at)| {
                let (kind, detail) = match what {
                    // The link without its query: what it carried (a reset token, an API
                    // call's context) is the recipient's, not the workspace's.
                    Tracked::Click { url, alias, .. } => {
                        ("clicked", serde_json::json!({ "url": without_query(url), "alias": alias }))
                    }
                    Tracked::Open { .. } => ("opened", serde_json::json!({})),
                    Tracked::Unsubscribe { .. } => return None,
                };
                Some(TrackedEvent {
                    kind,
                    message: what.message().to_owned(),
                    detail_json: detail.to_string(),
                    at: *at,
                })
            })
            .collect();
        let conn = self.workspace.conn();
        let tx = conn.unchecked_transaction().map_err(StoreError::from)?;
        let written = store::tracking::record(&tx, &events)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(written)
    }

    /// Who the message with ledger key `message` went to (for the unsubscribe page).
    pub fn tracked_recipient(&self, message: &str) -> Result<Option<Recipient>, ConsoleError> {
        Ok(store::tracking::recipient(&self.workspace.conn(), message)?)
    }

    /// Unsubscribes the recipient of message `message` from email: their profile's
    /// `email_opt_in` turned off and an `unsubscribed` event written, together. `None` when the
    /// workspace no longer has the message.
    pub fn unsubscribe_recipient(&self, message: &str) -> Result<Option<Unsubscribed>, ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        let conn = self.workspace.conn();
        let Some(recipient) = store::tracking::recipient(&conn, message)? else { return Ok(None) };
        let column = format!("{}_opt_in", Channel::Email.as_str());
        let profile = model
            .recipient_entity(Channel::Email)
            .and_then(|p| model.entity(p))
            .filter(|p| p.column(&column).is_some());
        let tx = conn.unchecked_transaction().map_err(StoreError::from)?;
        if let Some(p) = profile {
            let changed = store::customer_data::set_opt_in(
                &tx,
                &p.name,
                &p.primary_key,
                &column,
                &p.primary_key,
                &[recipient.profile_key.as_str()],
                false,
            )?;
            if !changed.is_empty() {
                store::customer_data::bump_data_version(&tx)?;
            }
        } else {
            tracing::warn!("an unsubscribe request was recorded, but the profiles have no {column} column to turn off");
        }
        let event = TrackedEvent {
            kind: "unsubscribed",
            message: message.to_owned(),
            detail_json: serde_json::json!({ "channel": "email" }).to_string(),
            at: self.now(),
        };
        store::tracking::record(&tx, &[event])?;
        tx.commit().map_err(StoreError::from)?;
        Ok(Some(Unsubscribed { recipient, opted_out: profile.is_some() }))
    }
}

/// `url` without its query and fragment.
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}
