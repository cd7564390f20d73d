use serde::{Deserialize, Serialize};

/// How a campaign is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignKind {
    /// A canvas of activities run once or on a schedule over the customer data.
    Orchestrated,
    /// Sent in reaction to an interaction with another campaign (campaign connector).
    ActionTriggered,
    /// Sent when an external system calls the REST execution API.
    ApiTriggered,
}

impl CampaignKind {
    pub const ALL: [Self; 3] = [Self::Orchestrated, Self::ActionTriggered, Self::ApiTriggered];

    /// The value stored in the workspace.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orchestrated => "orchestrated",
            Self::ActionTriggered => "action_triggered",
            Self::ApiTriggered => "api_triggered",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The name a marketer reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::Orchestrated => "Orchestrated",
            Self::ActionTriggered => "Action-triggered",
            Self::ApiTriggered => "API-triggered",
        }
    }

    /// One line that says what the kind is for, shown when choosing it.
    pub fn description(self) -> &'static str {
        match self {
            Self::Orchestrated => "A canvas of audience and channel activities, run once or on a schedule.",
            Self::ActionTriggered => "Follows up on an interaction with another campaign (opened, clicked, …).",
            Self::ApiTriggered => "Transactional messages sent when another system calls the REST API.",
        }
    }
}

/// Where a campaign is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Draft,
    Live,
    Paused,
    Stopped,
    Completed,
}

impl CampaignStatus {
    pub const ALL: [Self; 5] = [Self::Draft, Self::Live, Self::Paused, Self::Stopped, Self::Completed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Live => "live",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
            Self::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Live => "Live",
            Self::Paused => "Paused",
            Self::Stopped => "Stopped",
            Self::Completed => "Completed",
        }
    }
}

/// A campaign as stored in the workspace. Dates are RFC 3339 timestamps (UTC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub kind: CampaignKind,
    pub status: CampaignStatus,
    pub starts_at: Option<jiff::Timestamp>,
    pub ends_at: Option<jiff::Timestamp>,
    pub published_at: Option<jiff::Timestamp>,
    pub created_at: jiff::Timestamp,
    pub modified_at: jiff::Timestamp,
    /// Its latest run, when it ran.
    #[serde(default)]
    pub last_run: Option<LastRun>,
}

/// A campaign's latest run, as the Campaigns list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    pub started_at: jiff::Timestamp,
    pub finished_at: Option<jiff::Timestamp>,
    /// What came of it ("4,210 sent, 12 failed"), or why it failed.
    pub outcome: Option<String>,
    pub failed: bool,
}

/// A named set of keys of one entity, written by a campaign's Save audience activity and read
/// back by Read audience.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedAudience {
    pub id: i64,
    pub name: String,
    /// The entity the keys belong to (profiles, bookings, …).
    pub dimension: String,
    pub row_count: u64,
    /// The campaign that last wrote it.
    pub campaign_id: Option<i64>,
    /// Goes up each time the audience is replaced (so cached counts of readers are redone).
    pub version: i64,
    pub created_at: jiff::Timestamp,
    pub modified_at: jiff::Timestamp,
}
