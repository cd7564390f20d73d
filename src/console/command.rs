//! What the UI asks the Console for: one sub-enum per capability, each answered by one or more
//! [`Event`](super::Event)s of the same capability (or [`Event::Failed`](super::Event::Failed)).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{JobId, LifeAction};
use crate::model::delivery::LedgerStatus;
use crate::model::{CampaignKind, Canvas, Channel, ProviderSettings};
use crate::{import, secrets};

/// What the UI asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Campaign(CampaignCommand),
    Data(DataCommand),
    Canvas(CanvasCommand),
    Proof(ProofCommand),
    ApiCampaign(ApiCampaignCommand),
    Connector(ConnectorCommand),
    ApiKey(ApiKeyCommand),
    Run(RunCommand),
    Channel(ChannelCommand),
    Sms(SmsCommand),
    Server(ServerCommand),
    X(XCommand),
    XAccount(XAccountCommand),
    Folder(FolderCommand),
    Import(ImportCommand),
    Browse(BrowseCommand),
    Job(JobCommand),
    Report(ReportCommand),
}

/// Reports.
#[derive(Clone, Debug, PartialEq)]
pub enum ReportCommand {
    /// A campaign's report as it stands. → [`Event::Report`](super::Event::Report).
    Campaign { id: i64 },
    /// Every campaign with events from `first_day` to `last_day` (UTC, both included).
    /// → [`Event::GlobalReport`](super::Event::GlobalReport).
    Global { first_day: jiff::civil::Date, last_day: jiff::civil::Date },
    /// A report written to a CSV file, as it stands. A job.
    ExportCsv { report: ReportOf, path: PathBuf },
    /// A picture of a report's plots (RGBA pixels, row by row) written to a PNG file. A job.
    SavePng { width: u32, height: u32, rgba: Vec<u8>, path: PathBuf },
}

/// Which report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportOf {
    Campaign(i64),
    Global { first_day: jiff::civil::Date, last_day: jiff::civil::Date },
}

/// The campaign list.
#[derive(Clone, Debug, PartialEq)]
pub enum CampaignCommand {
    /// → [`CampaignEvent::List`](super::CampaignEvent::List).
    Refresh,
    /// → `Created` and `List`, or `Failed`.
    Create { name: String, kind: CampaignKind },
    /// → `List`, or `Failed`.
    Rename { id: i64, name: String },
    /// → `List`, or `Failed`.
    Duplicate { id: i64 },
    /// → `List`, or `Failed`.
    Delete { id: i64 },
    /// Writes a campaign file. → `File`.
    Export { id: i64, path: PathBuf },
    /// Imports a campaign file as a draft. → `File` and `List`.
    Import { path: PathBuf },
}

/// The workspace's data and settings.
#[derive(Clone, Debug, PartialEq)]
pub enum DataCommand {
    /// → [`DataEvent::Overview`](super::DataEvent::Overview).
    RefreshOverview,
    /// A background job → `JobEvent::Started`, `Progress`…, `Finished`.
    GenerateDemo { profiles: u64, replace: bool },
    /// → `FrequencyCap`.
    RefreshFrequencyCap,
    /// Sets (`None`: removes) the cap on marketing messages per profile in 24 hours.
    /// → `FrequencyCap`, or `Failed`.
    SetFrequencyCap { cap: Option<u32> },
    /// Writes every row of an entity to a CSV file. A job.
    ExportEntity { entity: String, path: PathBuf },
    /// A change to the data model's declaration. → `Overview` (and `Failed` when refused).
    Model(ModelEdit),
    /// Removes the demo's entities and sample campaigns. → `Overview` and the campaign list.
    RemoveDemo,
}

/// A change to the data model's declaration (the Data screen).
#[derive(Clone, Debug, PartialEq)]
pub enum ModelEdit {
    /// What marketers see of an entity: its label, and its columns' labels, hidden flags and
    /// descriptions (by name).
    Presentation {
        entity: String,
        label: String,
        columns: Vec<crate::model::ColumnLook>,
    },
    /// Removes an entity and its rows, refused while a campaign uses it.
    DropEntity {
        entity: String,
    },
    AddLink {
        child: String,
        foreign_key: String,
        parent: String,
    },
    /// Refused while a campaign uses it.
    RemoveLink {
        child: String,
        foreign_key: String,
    },
    AddIdentity {
        name: String,
        entity: String,
        column: String,
    },
    /// Refused while a campaign uses it.
    RemoveIdentity {
        name: String,
    },
}

/// The profile browser (Data → an entity → Browse).
#[derive(Clone, Debug, PartialEq)]
pub enum BrowseCommand {
    /// → `DataEvent::BrowsePage`.
    Page { query: crate::model::browse::BrowseQuery, start: crate::model::browse::PageStart },
    /// → `DataEvent::BrowseCount`.
    Count { query: crate::model::browse::BrowseQuery },
    /// → `DataEvent::RowDetail`.
    Detail { entity: String, key: i64 },
    /// Writes the matching rows to a CSV file. A job.
    Export { query: crate::model::browse::BrowseQuery, path: PathBuf },
}

/// The canvas being edited: opening and saving it, its counts and rows.
#[derive(Clone, Debug, PartialEq)]
pub enum CanvasCommand {
    /// → `Opened`, or `Failed`.
    Open { campaign_id: i64 },
    /// → `Saved` (and `Failed` when it was not saved).
    Save { campaign_id: i64, canvas: Canvas },
    /// The values a text column takes, to offer them as choices. → `DistinctValues`.
    DistinctValues { entity: String, column: String },
    /// Counts every transition of `canvas` (count mode), reusing the work tables of the
    /// previous count of the same campaign that are still valid; a newer request (or
    /// [`CanvasCommand::CancelCount`]) stops it. `fresh` recomputes everything (the Count
    /// button: a full test run). → `CountProgress`…, `Counted`.
    Count { campaign_id: i64, canvas: Canvas, generation: u64, fresh: bool },
    /// Stops the running count, which then reports what it finished. `generation` comes from
    /// the same rising sequence as the counts' (every editor of the window shares it), so
    /// that it supersedes them.
    CancelCount { generation: u64 },
    /// A page of a transition's rows from the last count of the canvas being edited.
    /// → `TransitionRows`, or `Failed`.
    Inspect { campaign_id: i64, transition: String, offset: u64 },
    /// Writes every row of a transition (last count) to a CSV file (the UI asks where first,
    /// on its own thread as macOS requires). A job: → `JobEvent::Started` … `Finished`.
    Export { campaign_id: i64, transition: String, path: PathBuf },
}

/// Previews and proofs of a channel activity's message (answered by `CanvasEvent`s).
#[derive(Clone, Debug, PartialEq)]
pub enum ProofCommand {
    /// The message of a channel activity rendered for the `index`-th recipient of the last
    /// count of `canvas`. → `MessagePreview`.
    Preview { campaign_id: i64, canvas: Canvas, activity: String, index: u64 },
    /// Sends a proof of a channel activity's message (personalized for recipient `index`) to
    /// typed addresses. → `ProofSent`.
    Send { campaign_id: i64, canvas: Canvas, activity: String, index: u64, addresses: Vec<String> },
}

/// Campaign runs, their life and their deliveries.
#[derive(Clone, Debug, PartialEq)]
pub enum RunCommand {
    /// Runs a campaign (count, ledgers, send) in the background, or carries on its unfinished
    /// run. → `Progress`…, `Finished` and `Deliveries`.
    Start { campaign_id: i64, again: bool },
    /// Stops the running send of a campaign between batches; `cancel` also settles what was
    /// not sent (`failed`, code `cancelled`), else it stays to be resumed.
    Stop { campaign_id: i64, cancel: bool },
    /// Publishes, pauses, resumes or stops a scheduled campaign.
    /// → `CampaignEvent::Changed` and `List`, or `Failed`.
    ChangeLife { campaign_id: i64, action: LifeAction },
    /// → `Deliveries`.
    RefreshDeliveries,
    /// Settles a delivery's `unconfirmed` rows as the user found them at the provider.
    /// → `Deliveries`, or `Failed`.
    ResolveUnconfirmed { delivery: i64, sent: bool },
    /// A page of a delivery's ledger, of one status or all. → `LedgerPage`.
    LedgerPage { delivery: i64, status: Option<LedgerStatus>, offset: u64 },
    /// Writes a delivery's whole ledger to a CSV file. A job.
    ExportLedger { delivery: i64, path: PathBuf },
    /// The message of a ledger row as the Sandbox kept it. → `SentMessage`, or `Failed`.
    SentMessage { ledger_id: i64 },
}

/// Provider credentials.
#[derive(Clone, Debug, PartialEq)]
pub enum ChannelCommand {
    /// → [`ChannelEvent::Credentials`](super::ChannelEvent::Credentials).
    Refresh,
    /// Adds (`id` `None`) or changes a credential; the secrets typed (by slot) go to the
    /// keychain, the slots not typed keep theirs.
    /// → `Saved` and `Credentials`.
    Save {
        id: Option<i64>,
        channel: Channel,
        name: String,
        settings: ProviderSettings,
        secrets: BTreeMap<String, secrets::Typed>,
    },
    /// → `Credentials`, or `Failed`.
    Delete { id: i64 },
    /// Makes a credential its channel's default. → `Credentials`, or `Failed`.
    MakeDefault { id: i64 },
    /// Sends one test message with a credential's settings. → `Verified`.
    SendTest {
        id: Option<i64>,
        channel: Channel,
        settings: ProviderSettings,
        secrets: BTreeMap<String, secrets::Typed>,
        to: String,
    },
    /// Connects with a credential's settings without sending; a typed secret is used instead
    /// of the stored ones. → `Verified`.
    Verify { id: Option<i64>, settings: ProviderSettings, secrets: BTreeMap<String, secrets::Typed> },
    /// "Verify SMS connection": one real message through saved credential `id`.
    /// → `SmsVerified` and `Credentials`.
    VerifySms { id: i64, to: String, body: String },
}

/// SMS beyond sending.
#[derive(Clone, Debug, PartialEq)]
pub enum SmsCommand {
    /// → [`ChannelEvent::SmsOverview`](super::ChannelEvent::SmsOverview).
    Overview,
    /// The URLs custom credential `id` gives its provider, at the server's public URL.
    /// → `WebhookUrls`.
    WebhookUrls { id: i64 },
    /// Adds (id 0) or changes an SMS configuration. → `SmsConfiguration`, then `SmsOverview`.
    SaveConfiguration(Box<crate::model::sms::SmsConfiguration>),
    /// → `SmsConfiguration` (`Ok(None)`), then `SmsOverview`.
    DeleteConfiguration { id: i64 },
}

/// The X services' follower synchronization and the visitors.
#[derive(Clone, Debug, PartialEq)]
pub enum XCommand {
    /// → [`Event::X`](super::Event::X).
    Overview,
    /// Synchronizes the followers now (of one service when given): a job (`JobEvent::Started`,
    /// `Progress`…, `Finished`), then `X`.
    Sync { service: Option<String> },
    /// Starts or stops the technical workflow, or changes its schedule. → `X` (then `Failed`
    /// when refused).
    Workflow(super::WorkflowChange),
}

/// An X service's page: its account as X describes it, and a post on it now.
#[derive(Clone, Debug, PartialEq)]
pub enum XAccountCommand {
    /// → [`Event::XAccount`](super::Event::XAccount).
    Describe { service: i64 },
    /// Posts `text` on the service's account now. → `Event::XPosted`, then the deliveries.
    Post { service: i64, text: String },
    /// The picture at `url` (a visitor's avatar): kept in the workspace, else downloaded.
    /// → `Event::Avatar`.
    Avatar { url: String },
}

/// The visitor folders. Each → [`Event::Folders`](super::Event::Folders) (after `Failed` when
/// refused).
#[derive(Clone, Debug, PartialEq)]
pub enum FolderCommand {
    List,
    Create { name: String },
    Rename { from: String, to: String },
    Delete { name: String },
}

/// An API-triggered campaign's form. Each → [`ApiCampaignEvent`](super::ApiCampaignEvent)
/// (after `Failed` when refused).
#[derive(Clone, Debug, PartialEq)]
pub enum ApiCampaignCommand {
    /// → `Page`.
    Open { campaign_id: i64 },
    /// Keeps the form, the title and the dates. → `Saved`, `Page`, the campaigns.
    Save {
        campaign_id: i64,
        title: String,
        form: Box<crate::model::api::ApiCampaign>,
        dates: (Option<jiff::Timestamp>, Option<jiff::Timestamp>),
    },
    /// Review to activate (`Publish`, `Resume`), `Pause`, `Stop`. → `Page`, the campaigns.
    Life { campaign_id: i64, action: super::LifeAction },
    /// The message for a sample recipient (the namespace's value; the first profile when
    /// `None`) with the sample context. → `Preview`.
    Preview { form: Box<crate::model::api::ApiCampaign>, recipient: Option<String> },
    /// → `ProofSent`, the deliveries.
    Proof { campaign_id: i64, form: Box<crate::model::api::ApiCampaign>, addresses: Vec<String> },
}

/// An action-triggered campaign's form. Each → [`ConnectorEvent`](super::ConnectorEvent)
/// (after `Failed` when refused).
#[derive(Clone, Debug, PartialEq)]
pub enum ConnectorCommand {
    /// → `Page` (with its pending sends).
    Open { campaign_id: i64 },
    /// Keeps the form, the title and the dates. → `Saved`, `Page`, the campaigns.
    Save {
        campaign_id: i64,
        title: String,
        form: Box<crate::model::connector::ConnectorForm>,
        dates: (Option<jiff::Timestamp>, Option<jiff::Timestamp>),
    },
    /// Publish, Pause, Resume, Stop. → `Page`, the campaigns.
    Life { campaign_id: i64, action: super::LifeAction },
}

/// API keys. Each → [`Event::ApiKeys`](super::Event::ApiKeys) (after `Failed` when refused).
#[derive(Clone, Debug, PartialEq)]
pub enum ApiKeyCommand {
    Refresh,
    /// The new key comes back once, in the event.
    Create {
        name: String,
        scopes: Vec<crate::model::api::ApiScope>,
    },
    Revoke {
        name: String,
    },
}

/// The server's settings.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerCommand {
    /// → [`Event::Server`](super::Event::Server).
    Refresh,
    /// Checks and keeps them. → `Server`, or `Failed`.
    Save(crate::model::server::ServerSettings),
}

/// Importing customer data from files.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportCommand {
    /// A file's first rows, as sniffed (`format` `None`) or read with `format`, and the
    /// mapping its name and the data model suggest. → [`ImportEvent::Sampled`](super::ImportEvent::Sampled).
    Sample { path: PathBuf, format: Option<import::Format> },
    /// The mapping the file and the data model suggest for filling `entity`. → `Guessed`.
    Guess { sample: Box<import::Sample>, entity: String },
    /// Reads every row through the mapping, writing nothing. A job, then `Report`.
    Check { path: PathBuf, format: import::Format, mapping: Box<import::Mapping> },
    /// Imports the good rows in one transaction. A job, then `Report`.
    Import { path: PathBuf, format: import::Format, mapping: Box<import::Mapping> },
    /// Writes every refused cell to `to` as CSV. A job.
    WriteRejects { path: PathBuf, format: import::Format, mapping: Box<import::Mapping>, to: PathBuf },
    /// → `Mappings`.
    SaveMapping { name: String, mapping: Box<import::Mapping> },
    /// → `Mappings`.
    RefreshMappings,
}

/// Background jobs.
#[derive(Clone, Debug, PartialEq)]
pub enum JobCommand {
    /// Asks a running job to stop; it ends with `JobEvent::Finished`.
    Cancel(JobId),
}

impl From<ReportCommand> for Command {
    fn from(c: ReportCommand) -> Self {
        Self::Report(c)
    }
}

impl From<CampaignCommand> for Command {
    fn from(c: CampaignCommand) -> Self {
        Self::Campaign(c)
    }
}
impl From<DataCommand> for Command {
    fn from(c: DataCommand) -> Self {
        Self::Data(c)
    }
}
impl From<CanvasCommand> for Command {
    fn from(c: CanvasCommand) -> Self {
        Self::Canvas(c)
    }
}
impl From<ProofCommand> for Command {
    fn from(c: ProofCommand) -> Self {
        Self::Proof(c)
    }
}
impl From<RunCommand> for Command {
    fn from(c: RunCommand) -> Self {
        Self::Run(c)
    }
}
impl From<ChannelCommand> for Command {
    fn from(c: ChannelCommand) -> Self {
        Self::Channel(c)
    }
}
impl From<ImportCommand> for Command {
    fn from(c: ImportCommand) -> Self {
        Self::Import(c)
    }
}
impl From<BrowseCommand> for Command {
    fn from(c: BrowseCommand) -> Self {
        Self::Browse(c)
    }
}
impl From<JobCommand> for Command {
    fn from(c: JobCommand) -> Self {
        Self::Job(c)
    }
}

impl From<XCommand> for Command {
    fn from(c: XCommand) -> Self {
        Self::X(c)
    }
}

impl From<XAccountCommand> for Command {
    fn from(c: XAccountCommand) -> Self {
        Self::XAccount(c)
    }
}

impl From<FolderCommand> for Command {
    fn from(c: FolderCommand) -> Self {
        Self::Folder(c)
    }
}

impl From<SmsCommand> for Command {
    fn from(c: SmsCommand) -> Self {
        Self::Sms(c)
    }
}

impl From<ServerCommand> for Command {
    fn from(c: ServerCommand) -> Self {
        Self::Server(c)
    }
}

impl From<ConnectorCommand> for Command {
    fn from(c: ConnectorCommand) -> Self {
        Self::Connector(c)
    }
}

impl From<ApiCampaignCommand> for Command {
    fn from(c: ApiCampaignCommand) -> Self {
        Self::ApiCampaign(c)
    }
}

impl From<ApiKeyCommand> for Command {
    fn from(c: ApiKeyCommand) -> Self {
        Self::ApiKey(c)
    }
}
