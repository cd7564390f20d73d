//! Crash recovery of a delivery: the rows a stop left in `sending` are looked up at the
//! provider before anything else is sent.

use rusqlite::Connection;

use super::{DeliveryError, RowError, Sender};
use crate::channels::Outgoing;
use crate::store::deliveries::{self, Claimed, Outcome, status};

/// Puts back rows a crash left in `sending`: sent when the provider has them, queued again when
/// it says it never got them, `unconfirmed` when it cannot say. Each is made again (rendered) so
/// that the provider can match what it has. Returns (sent, queued, unconfirmed).
pub(super) fn recover(
    conn: &mut Connection,
    delivery: i64,
    campaign: Option<i64>,
    made: &dyn Fn(&Connection, &Claimed) -> Result<Outgoing, RowError>,
    sender: &Sender<'_>,
) -> Result<(u64, u64, u64), DeliveryError> {
    let mut counts = (0, 0, 0);
    let now = crate::clock::wall();
    let lookup = sender.provider.capabilities().lookup;
    for deliveries::InFlight { row, claimed_at } in deliveries::in_flight(conn, delivery)? {
        let made = if lookup { made(conn, &row).ok() } else { None };
        let message = match made {
            Some(m) => m,
            // The provider cannot be asked, or the message cannot be made again to ask.
            None => {
                deliveries::set_recovered(conn, row.id, status::UNCONFIRMED, now)?;
                counts.2 += 1;
                continue;
            }
        };
        match sender.runtime.block_on(sender.provider.lookup(&message, claimed_at)) {
            Ok(Some(message_id)) => {
                deliveries::record(
                    conn,
                    campaign,
                    delivery,
                    &[(row.id, row.recipient_key, Outcome::Sent { provider_message_id: message_id })],
                    now,
                )?;
                counts.0 += 1;
            }
            Ok(None) => {
                deliveries::set_recovered(conn, row.id, status::QUEUED, now)?;
                counts.1 += 1;
            }
            Err(e) => {
                // Cannot tell now: leave it for the next start rather than guess.
                tracing::warn!("could not look up message {}: {e}", row.idempotency_key);
            }
        }
    }
    Ok(counts)
}
