//! A credential's limit of messages a day on a channel (an X service's direct messages): how
//! many more may go now, and the wait until one more may when none can.

use std::time::Duration;

use rusqlite::Connection;

use super::{DeliveryError, Progress};
use crate::model::Channel;
use crate::store::deliveries;

/// A credential's limit of messages a day on a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DailyLimit {
    pub credential_id: i64,
    pub per_day: u32,
}

impl DailyLimit {
    /// How many more may go now, and when one more may go if none can.
    pub(super) fn room(
        &self,
        conn: &Connection,
        channel: Channel,
    ) -> Result<(usize, Option<jiff::Timestamp>), DeliveryError> {
        let now = crate::clock::wall();
        let day = jiff::SignedDuration::from_hours(24);
        let since = now.checked_sub(day).unwrap_or(now);
        let (sent, oldest) = deliveries::sent_since(conn, self.credential_id, channel.as_str(), since, self.per_day)?;
        let left = u64::from(self.per_day).saturating_sub(sent);
        Ok((usize::try_from(left).unwrap_or(usize::MAX), oldest.and_then(|t| t.checked_add(day).ok())))
    }
}

/// The day's messages are sent: the rest wait until one more may go (`free_at`), said once,
/// a second at a time so that a cancel is heard.
pub(super) fn wait_for_the_day(
    last: &mut Progress,
    free_at: Option<jiff::Timestamp>,
    progress: &mut dyn FnMut(&Progress),
) {
    let until = free_at.unwrap_or_else(crate::clock::wall);
    if last.waiting_until != Some(until) {
        last.waiting_until = Some(until);
        progress(last);
    }
    let wait = Duration::try_from(until.duration_since(crate::clock::wall())).unwrap_or_default();
    std::thread::sleep(wait.clamp(Duration::from_millis(10), Duration::from_secs(1)));
}
