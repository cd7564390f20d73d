//! What comes back to the UI: one sub-enum per capability, and one error shape
//! ([`UserError`]) for everything that failed.

use super::{JobId, UserError};
use crate::audience::{self, CountReport};
use crate::model::browse::{BrowsePage, BrowseQuery, PageStart, RowDetail};
use crate::model::delivery::{Delivery, LedgerPage, LedgerStatus};
use crate::model::{Campaign, Canvas, Credential, DataModel, DataOverview, SavedAudience};

/// What comes back to the UI.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// An action failed; show it to the user.
    Failed(UserError),
    Campaign(CampaignEvent),
    Data(DataEvent),
    Canvas(CanvasEvent),
    Run(RunEvent),
    Channel(ChannelEvent),
    /// The server's settings, as kept.
    Server(crate::model::server::ServerSettings),
    Import(ImportEvent),
    Job(JobEvent),
    /// The X services, their synchronization's last runs and the visitors' counts.
    X(Result<super::x_sync::XOverview, UserError>),
    /// An X service's account as X describes it (its page).
    XAccount {
        service: i64,
        result: Result<super::x_account::XAccountPage, UserError>,
    },
    /// A post on an X service's account: X's id for it, or why it was not posted.
    XPosted {
        service: i64,
        result: Result<String, UserError>,
    },
    /// The picture at `url`, or why it cannot be shown.
    Avatar {
        url: String,
        avatar: Option<super::x_account::Avatar>,
        note: Option<String>,
    },
    /// The visitor folders, by name.
    Folders(Result<Vec<crate::store::visitor_folders::Folder>, UserError>),
    ApiCampaign(ApiCampaignEvent),
    Connector(ConnectorEvent),
    /// The API keys; `created` is a key just made, shown this once.
    ApiKeys {
        list: Vec<crate::model::api::ApiKey>,
        created: Option<String>,
    },
    /// A campaign's report, or why it could not be made.
    Report {
        campaign_id: i64,
        report: Result<Box<crate::model::report::CampaignReport>, UserError>,
    },
    /// The global report asked for, or why it could not be made.
    GlobalReport(Result<Box<crate::model::report::GlobalReport>, UserError>),
}

/// Answers about an API-triggered campaign's form.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiCampaignEvent {
    Page(Box<super::api_campaigns::ApiCampaignPage>),
    Saved {
        campaign_id: i64,
    },
    Preview(Result<super::api_campaigns::ApiPreview, UserError>),
    /// How many proofs were sent.
    ProofSent(Result<u64, UserError>),
}

/// Answers about an action-triggered campaign's form.
#[derive(Clone, Debug, PartialEq)]
pub enum ConnectorEvent {
    Page(Box<super::connectors::ConnectorPage>),
    Saved { campaign_id: i64 },
}

impl From<ConnectorEvent> for Event {
    fn from(e: ConnectorEvent) -> Self {
        Self::Connector(e)
    }
}

impl From<ApiCampaignEvent> for Event {
    fn from(e: ApiCampaignEvent) -> Self {
        Self::ApiCampaign(e)
    }
}

/// Answers about imports.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportEvent {
    /// A file's first rows and the mapping suggested for it, or why it cannot be read.
    Sampled {
        path: std::path::PathBuf,
        sampled: Result<Box<(crate::import::Sample, crate::import::Mapping)>, UserError>,
    },
    Guessed(Box<crate::import::Mapping>),
    /// What a check or an import found (or why it could not run).
    Report(Result<super::imports::ImportReport, UserError>),
    /// The saved mappings, by name.
    Mappings(Vec<(String, crate::import::Mapping)>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum CampaignEvent {
    List(Vec<Campaign>),
    Created(Campaign),
    /// A campaign's status changed (published, paused, …).
    Changed(Campaign),
    /// What came of an export or an import of a campaign file.
    File(Result<CampaignFileDone, UserError>),
}

/// A campaign file written, or imported.
#[derive(Clone, Debug, PartialEq)]
pub enum CampaignFileDone {
    Exported { name: String, path: std::path::PathBuf },
    Imported(super::ImportedCampaign),
}

#[derive(Clone, Debug, PartialEq)]
pub enum DataEvent {
    Overview(DataOverview),
    /// The workspace's frequency cap (messages per profile in 24 hours), if any.
    FrequencyCap(Option<u32>),
    /// A page of the browser, for the query and start asked.
    BrowsePage {
        query: BrowseQuery,
        start: PageStart,
        page: Result<BrowsePage, UserError>,
    },
    /// How many rows a browser's query matches.
    BrowseCount {
        query: BrowseQuery,
        count: Result<u64, UserError>,
    },
    /// One row with everything linked to it.
    RowDetail(Box<RowDetail>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum CanvasEvent {
    /// A campaign's canvas with what editing it needs.
    Opened {
        campaign: Campaign,
        canvas: Canvas,
        context: Box<CanvasContext>,
    },
    /// `Ok` with when it was saved.
    Saved {
        campaign_id: i64,
        outcome: Result<jiff::Timestamp, UserError>,
    },
    /// The distinct values of a column, or `None` when it has too many to be a list of
    /// choices (or they could not be read).
    DistinctValues {
        entity: String,
        column: String,
        values: Option<Vec<String>>,
    },
    /// How far count `generation` has got: `done` of `total` steps to compute.
    CountProgress {
        campaign_id: i64,
        generation: u64,
        done: usize,
        total: usize,
    },
    /// The outcome of count number `generation`.
    Counted {
        campaign_id: i64,
        generation: u64,
        outcome: CountOutcome,
    },
    TransitionRows {
        campaign_id: i64,
        transition: String,
        offset: u64,
        /// Rows on the transition in all.
        total: u64,
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    MessagePreview {
        campaign_id: i64,
        activity: String,
        index: u64,
        result: Result<super::MessagePreview, UserError>,
    },
    ProofSent {
        campaign_id: i64,
        activity: String,
        result: Result<u64, UserError>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum RunEvent {
    /// A delivery of a running campaign moved on.
    Progress {
        campaign_id: i64,
        progress: crate::delivery::Progress,
    },
    /// A campaign run ended (finished, stopped or failed).
    Finished {
        campaign_id: i64,
        outcome: Result<String, UserError>,
    },
    Deliveries(Vec<Delivery>),
    LedgerPage {
        delivery: i64,
        status: Option<LedgerStatus>,
        offset: u64,
        page: LedgerPage,
    },
    /// The message of a ledger row as the Sandbox kept it (`None`: it kept nothing of it).
    SentMessage {
        ledger_id: i64,
        message: Option<Box<crate::model::delivery::SentMessage>>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChannelEvent {
    Credentials(Vec<Credential>),
    /// The credential as saved, or why it was not.
    Saved(Result<Box<Credential>, UserError>),
    /// What "Verify" (or "Send a test message") found: what was checked, or what went wrong.
    Verified(Result<String, UserError>),
    /// What the provider answered a Verify SMS connection (kept on the credential), or why
    /// nothing was sent.
    SmsVerified(Result<crate::model::Verification, UserError>),
    /// Which campaigns send through each SMS credential, and the newest inbound messages.
    SmsOverview(Result<super::sms::SmsOverview, UserError>),
    /// An SMS configuration saved (its id) or deleted (`None`), or why not.
    SmsConfiguration(Result<Option<i64>, UserError>),
    /// The URLs a custom credential gives its provider (inbound, feedback), or why there are none.
    WebhookUrls {
        id: i64,
        urls: Result<(String, String), UserError>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum JobEvent {
    Started {
        id: JobId,
        label: String,
    },
    Progress {
        id: JobId,
        fraction: f32,
        /// Rows handled so far, for jobs that count rows (the status bar shows rows per second).
        rows: Option<u64>,
    },
    /// `Ok` carries a one-line summary.
    Finished {
        id: JobId,
        outcome: Result<String, UserError>,
    },
}

/// What editing a canvas needs besides the canvas: the data model, the saved audiences
/// (Read audience) and the credentials (channel activities; no secrets).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CanvasContext {
    pub model: DataModel,
    pub audiences: Vec<SavedAudience>,
    pub credentials: Vec<Credential>,
    /// What an SMS activity can pick.
    pub sms_configurations: Vec<crate::model::sms::SmsConfiguration>,
    /// The canvas's last counts, shown at once when it opens.
    pub kept: Option<KeptCounts>,
}

/// The last counts of a canvas, as kept in the workspace.
#[derive(Clone, Debug, PartialEq)]
pub struct KeptCounts {
    pub report: CountReport,
    pub problems: Vec<audience::Problem>,
    pub counted_at: jiff::Timestamp,
    /// Counted on this very canvas and data, today: nothing to count again.
    pub current: bool,
}

/// What a count of a canvas being edited gave.
#[derive(Clone, Debug, PartialEq)]
pub enum CountOutcome {
    /// Every transition counted (or, when `complete` is false, what was finished before
    /// the count was stopped).
    Counted(CountReport),
    /// The canvas has problems (per activity): the rest of it, without the activities that
    /// have a problem and what follows them, was counted into `partial` when it could be.
    Invalid {
        problems: Vec<audience::Problem>,
        partial: Option<CountReport>,
    },
    /// The count failed (or was superseded by a newer one, which needs no message).
    Failed(UserError),
    Superseded,
}

impl From<CampaignEvent> for Event {
    fn from(e: CampaignEvent) -> Self {
        Self::Campaign(e)
    }
}
impl From<DataEvent> for Event {
    fn from(e: DataEvent) -> Self {
        Self::Data(e)
    }
}
impl From<CanvasEvent> for Event {
    fn from(e: CanvasEvent) -> Self {
        Self::Canvas(e)
    }
}
impl From<RunEvent> for Event {
    fn from(e: RunEvent) -> Self {
        Self::Run(e)
    }
}
impl From<ChannelEvent> for Event {
    fn from(e: ChannelEvent) -> Self {
        Self::Channel(e)
    }
}
impl From<ImportEvent> for Event {
    fn from(e: ImportEvent) -> Self {
        Self::Import(e)
    }
}
impl From<JobEvent> for Event {
    fn from(e: JobEvent) -> Self {
        Self::Job(e)
    }
}
