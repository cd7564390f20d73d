//! Technical workflows: work the app does on a schedule that is not a campaign (today the
//! synchronization of the X accounts' followers). One is stopped until a user starts it, and
//! launches at its schedule's times from then on.

use super::Schedule;

/// The synchronization of the X accounts' followers.
pub const X_SYNC: &str = "x_sync";

#[derive(Clone, Debug, PartialEq)]
pub struct TechnicalWorkflow {
    /// What it does ([`X_SYNC`]).
    pub key: String,
    pub started: bool,
    pub schedule: Schedule,
    /// An IANA time zone name; the computer's when absent.
    pub timezone: Option<String>,
    /// When it was last started: launches before are not caught up.
    pub started_at: Option<jiff::Timestamp>,
    /// The launch time of its last scheduled launch.
    pub last_launch_at: Option<jiff::Timestamp>,
}

impl TechnicalWorkflow {
    /// The workflow `key` as it is before anyone changed it: stopped; weekly on Thursday at
    /// 07:30.
    pub fn new(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            started: false,
            schedule: Schedule::Weekly { days: vec!["thu".into()], time: "07:30".into() },
            timezone: None,
            started_at: None,
            last_launch_at: None,
        }
    }

    /// Its name, as the Campaigns screen lists it.
    pub fn label(&self) -> &'static str {
        match self.key.as_str() {
            X_SYNC => "Synchronization of X accounts",
            _ => "Technical workflow",
        }
    }
}
