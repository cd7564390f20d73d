//! Deliveries as the screens and reports read them: a delivery's status, its ledger's counts
//! by [`LedgerStatus`], a page of its ledger, and where a running one stands.

use std::fmt;

/// Where one message (a ledger row) stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LedgerStatus {
    Queued,
    Sending,
    /// Waiting to be tried again after a transient error.
    Retry,
    Sent,
    Failed,
    Excluded,
    /// Left in `sending` by a crash with a provider that cannot say whether it went out.
    Unconfirmed,
}

impl LedgerStatus {
    /// Every status, in the order reports show them.
    pub const ALL: [Self; 7] =
        [Self::Queued, Self::Sending, Self::Retry, Self::Sent, Self::Failed, Self::Excluded, Self::Unconfirmed];
    /// Statuses a row never leaves.
    pub const TERMINAL: [Self; 4] = [Self::Sent, Self::Failed, Self::Excluded, Self::Unconfirmed];

    /// As stored in the workspace.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Retry => "retry",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Excluded => "excluded",
            Self::Unconfirmed => "unconfirmed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Not sent yet, and still to be: queued, sending or waiting to retry.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Queued | Self::Sending | Self::Retry)
    }
}

impl fmt::Display for LedgerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for LedgerStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The ledger statuses by their old names (`status::SENT`).
pub mod status {
    use super::LedgerStatus;
    pub const QUEUED: LedgerStatus = LedgerStatus::Queued;
    pub const SENDING: LedgerStatus = LedgerStatus::Sending;
    pub const SENT: LedgerStatus = LedgerStatus::Sent;
    pub const FAILED: LedgerStatus = LedgerStatus::Failed;
    pub const RETRY: LedgerStatus = LedgerStatus::Retry;
    pub const EXCLUDED: LedgerStatus = LedgerStatus::Excluded;
    pub const UNCONFIRMED: LedgerStatus = LedgerStatus::Unconfirmed;
    pub const ALL: [LedgerStatus; 7] = LedgerStatus::ALL;
    pub const TERMINAL: [LedgerStatus; 4] = LedgerStatus::TERMINAL;
}

/// Where a delivery (a channel activity's run) stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Its ledger is being written.
    Preparing,
    Sending,
    Done,
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: [Self; 4] = [Self::Preparing, Self::Sending, Self::Done, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preparing => "preparing",
            Self::Sending => "sending",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for DeliveryStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A delivery's statuses by their old names (`delivery_status::DONE`).
pub mod delivery_status {
    use super::DeliveryStatus;
    pub const PREPARING: DeliveryStatus = DeliveryStatus::Preparing;
    pub const SENDING: DeliveryStatus = DeliveryStatus::Sending;
    pub const DONE: DeliveryStatus = DeliveryStatus::Done;
    pub const CANCELLED: DeliveryStatus = DeliveryStatus::Cancelled;
}

/// The columns of [`Delivery::tally`], as lists of deliveries title them.
pub const TALLY: [&str; 6] = ["total", "sent", "failed", "excluded", "unconfirmed", "remaining"];

/// One delivery (a channel activity's run) with its ledger counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub campaign_id: Option<i64>,
    /// The campaign's name (empty when it was deleted).
    pub campaign: String,
    /// Sent to typed addresses to check the message, not to the audience.
    pub is_proof: bool,
    pub activity_id: String,
    /// The activity's label on its canvas (filled in by the Console; empty when unknown).
    pub activity_label: String,
    pub channel: String,
    pub status: DeliveryStatus,
    pub created_at: jiff::Timestamp,
    pub finished_at: Option<jiff::Timestamp>,
    /// The credential it sends with, "Name (Provider)", after its SMS configuration's name
    /// when it has one ("US marketing: Twilio US (Twilio)"); `None` for the built-in Sandbox
    /// (or a credential deleted since).
    pub credential: Option<String>,
    /// (ledger status, rows), for every status present.
    pub counts: Vec<(LedgerStatus, u64)>,
    /// (interaction kind, events): sent, delivered, bounced, opened, clicked, …
    pub events: Vec<(String, u64)>,
}

impl Delivery {
    pub fn count(&self, status: LedgerStatus) -> u64 {
        self.counts.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n)
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    /// What became of its messages, in the order of [`TALLY`]: total, sent, failed, excluded,
    /// unconfirmed, remaining.
    pub fn tally(&self) -> [u64; 6] {
        [
            self.total(),
            self.count(LedgerStatus::Sent),
            self.count(LedgerStatus::Failed),
            self.count(LedgerStatus::Excluded),
            self.count(LedgerStatus::Unconfirmed),
            self.remaining(),
        ]
    }

    /// Messages not sent yet that still will be (queued, sending, waiting to retry).
    pub fn remaining(&self) -> u64 {
        self.counts.iter().filter(|(s, _)| s.is_pending()).map(|(_, n)| n).sum()
    }

    /// Left sending or preparing by a run that was paused or interrupted: it can be resumed.
    pub fn is_unfinished(&self) -> bool {
        matches!(self.status, DeliveryStatus::Sending | DeliveryStatus::Preparing)
    }

    /// The activity as people know it: its label, else its id.
    pub fn activity_name(&self) -> &str {
        if self.activity_label.is_empty() { &self.activity_id } else { &self.activity_label }
    }

    /// `part` of `whole` events as a percentage ("97.0 %"), or "—" when there is no whole.
    pub fn rate(&self, part: &str, whole: &str) -> String {
        let whole = self.events_of(whole);
        if whole == 0 {
            return "\u{2014}".to_owned();
        }
        format!("{:.1} %", self.events_of(part) as f64 * 100.0 / whole as f64)
    }

    pub fn events_of(&self, kind: &str) -> u64 {
        self.events.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| *n)
    }
}

/// A page of a delivery's ledger, with the errors grouped by code.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LedgerPage {
    /// Rows of the chosen status (all when none) in all.
    pub total: u64,
    pub rows: Vec<LedgerRow>,
    /// (error code, rows, one of the messages), most frequent first, over the whole delivery.
    pub errors: Vec<(String, u64, String)>,
}

/// A message as the Sandbox kept it ("sent"), to read and to try its links.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SentMessage {
    pub ledger_id: i64,
    pub channel: String,
    pub address: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The HTML body's links, in order.
    pub links: Vec<SentLink>,
    /// Its List-Unsubscribe link (empty: none).
    pub unsubscribe: String,
}

/// A link of a sent message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SentLink {
    /// Its alias (`data-alias`, else its text).
    pub alias: Option<String>,
    /// The link as it is in the message (the server's, when tracked).
    pub url: String,
    /// Where a tracked link leads after the server (`None`: not tracked).
    pub leads_to: Option<String>,
}

/// One ledger row as the Deliveries screen shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerRow {
    pub id: i64,
    pub recipient_key: String,
    pub secondary_key: String,
    pub address: String,
    pub status: LedgerStatus,
    pub attempts: u32,
    pub provider_message_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub updated_at: String,
}

/// Where a delivery stands while it sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub delivery: i64,
    pub total: u64,
    pub sent: u64,
    pub failed: u64,
    pub excluded: u64,
    pub unconfirmed: u64,
    /// Queued, sending or waiting to retry.
    pub remaining: u64,
    /// The credential's daily limit is reached: the rest wait until then.
    pub waiting_until: Option<jiff::Timestamp>,
}

impl Progress {
    /// Adds `n` rows of `status`.
    pub fn add(&mut self, status: LedgerStatus, n: u64) {
        self.total += n;
        match status {
            LedgerStatus::Sent => self.sent += n,
            LedgerStatus::Failed => self.failed += n,
            LedgerStatus::Excluded => self.excluded += n,
            LedgerStatus::Unconfirmed => self.unconfirmed += n,
            LedgerStatus::Queued | LedgerStatus::Sending | LedgerStatus::Retry => self.remaining += n,
        }
    }

    /// Done, as a fraction of the rows.
    pub fn fraction(&self) -> f32 {
        if self.total == 0 { 1.0 } else { (self.total - self.remaining) as f32 / self.total as f32 }
    }
}
