//! The application service: every user action is a method here. The UI, the CLI and (later)
//! the HTTP server call it; none of them touch SQL, the keychain or the runtime directly.
//!
//! Two ways in:
//! - blocking methods (`campaigns()`, `create_campaign()`, …) for the CLI, the server and tests;
//! - [`Console::send`] with a [`Command`] for the UI: the work runs on the Console's tokio
//!   runtime and its results come back as [`Event`]s through a bounded channel, read with
//!   [`Console::poll_event`] once per frame. After each event the repaint hook is called.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::audience::{self, AudienceError, CompileOptions, CompiledRun, CountReport, Dialect};
use crate::demo::{self, DemoError, DemoOptions, DemoSummary};
use crate::model::{
    Campaign, CampaignKind, Canvas, Channel, Credential, DataModel, DataOverview, ProviderKind, SavedAudience,
    SecretRef,
};
use crate::secrets::{self, KeychainStatus, MemoryStore, SecretError, SecretStore};
use crate::store::{self, StoreError, Workspace};

mod scheduling;
pub use scheduling::{LaunchReport, LifeAction, SCHEDULER_TICK, scheduler_plan};

/// How many events may wait for the UI before senders wait (progress updates are dropped
/// instead, since a newer one always follows).
const EVENT_CAPACITY: usize = 256;

/// The current time. Tests give a fixed one.
pub type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

/// Identifies a background job.
pub type JobId = u64;

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
    /// The campaign cannot run as it is; the message says why in the user's words.
    #[error("{0}")]
    CannotRun(String),
}

/// A channel activity's message as one recipient would get it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessagePreview {
    /// Which recipient (0-based) of how many at the last count.
    pub index: u64,
    pub total: u64,
    /// The profile's key and, for one message per row, the row's.
    pub recipient: String,
    pub profile_key: i64,
    pub address: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Direct mail: the extraction file's columns for this recipient.
    pub fields: Vec<(String, String)>,
}

/// What a campaign run did.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    pub campaign: Campaign,
    /// Unfinished deliveries of an earlier run were carried on instead of starting a new run.
    pub resumed: bool,
    /// Every delivery of the campaign, newest first.
    pub deliveries: Vec<store::deliveries::Delivery>,
    /// The deliveries this run sent (or carried on).
    pub this_run: Vec<i64>,
}

impl RunSummary {
    /// The deliveries this run sent (or carried on).
    pub fn of_this_run(&self) -> impl Iterator<Item = &store::deliveries::Delivery> {
        self.deliveries.iter().filter(|d| self.this_run.contains(&d.id))
    }

    /// Whether every message of this run has an outcome (it was not paused or cancelled).
    pub fn finished(&self) -> bool {
        self.of_this_run().all(|d| !d.is_unfinished())
    }

    /// What this run did, in a sentence: "4,210 sent, 12 failed, 3,000 excluded".
    pub fn outcome(&self) -> String {
        use store::deliveries::status;
        let sum = |s: &str| self.of_this_run().map(|d| d.count(s)).sum::<u64>();
        let mut parts = vec![format!("{} sent", sum(status::SENT))];
        for (s, word) in
            [(status::FAILED, "failed"), (status::EXCLUDED, "excluded"), (status::UNCONFIRMED, "unconfirmed")]
        {
            let n = sum(s);
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        let left = sum(status::QUEUED) + sum(status::SENDING) + sum(status::RETRY);
        if left > 0 {
            parts.push(format!("{left} not sent yet"));
        }
        parts.join(", ")
    }
}

/// Sets up a connection that walks through a delivery (a row at a time, never twice): a small
/// page cache and no memory map, so sending a million messages does not hold the whole
/// workspace in memory.
fn streaming(conn: &rusqlite::Connection) -> Result<(), StoreError> {
    conn.execute_batch("PRAGMA cache_size = -16384; PRAGMA mmap_size = 0;")?;
    Ok(())
}

/// What a channel activity sends with: its credential's provider, throttle (shared by every
/// delivery on the credential) and retry settings.
type Route = (Arc<dyn crate::channels::Provider>, Arc<crate::delivery::Throttle>, crate::delivery::SendOptions);

/// Which credential a send uses: the one a channel activity names (its channel's default
/// when it names none), or the one a delivery was started with.
#[derive(Clone, Copy, Debug)]
enum CredentialChoice<'a> {
    Named(Option<&'a str>),
    Id(i64),
}

/// An error as the user sees it: one sentence, with the technical chain behind "details".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserError {
    pub message: String,
    pub details: String,
}

impl UserError {
    fn new(context: &str, err: &ConsoleError) -> Self {
        let message = match err {
            ConsoleError::Store(StoreError::Invalid(msg)) => msg.clone(),
            ConsoleError::Store(StoreError::NotFound { what }) => format!("{context}: {what} was not found."),
            _ => format!("{context}: {err}"),
        };
        Self { message, details: format!("{err:#?}") }
    }
}

/// Where secrets go for this Console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretsChoice {
    /// The OS keychain, with the fallbacks of [`secrets::open_system_store`].
    System,
    /// Memory only (`--ephemeral-secrets`, tests).
    Ephemeral,
}

/// How to open a Console.
pub struct ConsoleOptions {
    pub workspace_dir: PathBuf,
    pub secrets: SecretsChoice,
    /// `None`: the system clock.
    pub clock: Option<Clock>,
    /// The folder of the log files, to show it in Settings.
    pub log_dir: Option<PathBuf>,
}

/// What the UI asks for. Each is answered by one or more [`Event`]s.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// → [`Event::Campaigns`].
    RefreshCampaigns,
    /// → [`Event::CampaignCreated`] and [`Event::Campaigns`], or [`Event::Failed`].
    CreateCampaign { name: String, kind: CampaignKind },
    /// → [`Event::Campaigns`], or [`Event::Failed`].
    RenameCampaign { id: i64, name: String },
    /// → [`Event::Campaigns`], or [`Event::Failed`].
    DuplicateCampaign { id: i64 },
    /// → [`Event::Campaigns`], or [`Event::Failed`].
    DeleteCampaign { id: i64 },
    /// Publishes, pauses, resumes or stops a scheduled campaign.
    /// → [`Event::CampaignChanged`] and [`Event::Campaigns`], or [`Event::Failed`].
    ChangeLife { campaign_id: i64, action: LifeAction },
    /// → [`Event::DataOverview`].
    RefreshData,
    /// A background job → [`Event::JobStarted`], [`Event::JobProgress`]…, [`Event::JobFinished`].
    GenerateDemo { profiles: u64, replace: bool },
    /// Asks a running job to stop; it ends with [`Event::JobFinished`].
    CancelJob(JobId),
    /// → [`Event::CanvasOpened`], or [`Event::Failed`].
    OpenCanvas { campaign_id: i64 },
    /// The values a text column takes, to offer them as choices. → [`Event::DistinctValues`].
    DistinctValues { entity: String, column: String },
    /// → [`Event::CanvasSaved`], or [`Event::Failed`].
    SaveCanvas { campaign_id: i64, canvas: Canvas },
    /// Counts every transition of `canvas` (count mode), reusing the work tables of the
    /// previous count of the same campaign that are still valid; a newer request (or
    /// [`Command::CancelCount`]) stops it. `fresh` recomputes everything (the Count button:
    /// a full test run). → [`Event::CountProgress`]…, [`Event::CanvasCounted`].
    CountCanvas { campaign_id: i64, canvas: Canvas, generation: u64, fresh: bool },
    /// Stops the running count, which then reports what it finished. `generation` comes from
    /// the same rising sequence as the counts' (every editor of the window shares it), so
    /// that it supersedes them.
    CancelCount { generation: u64 },
    /// A page of a transition's rows from the last count of the canvas being edited.
    /// → [`Event::TransitionRows`], or [`Event::Failed`].
    InspectTransition { campaign_id: i64, transition: String, offset: u64 },
    /// Runs a campaign (count, ledgers, send) in the background, or carries on its unfinished
    /// run. → [`Event::RunProgress`]…, [`Event::RunFinished`] and [`Event::Deliveries`].
    RunCampaign { campaign_id: i64, again: bool },
    /// Stops the running send of a campaign between batches; `cancel` also settles what was not
    /// sent (`failed`, code `cancelled`), else it stays to be resumed.
    StopRun { campaign_id: i64, cancel: bool },
    /// → [`Event::Deliveries`].
    RefreshDeliveries,
    /// Settles a delivery's `unconfirmed` rows as the user found them at the provider.
    /// → [`Event::Deliveries`], or [`Event::Failed`].
    ResolveUnconfirmed { delivery: i64, sent: bool },
    /// A page of a delivery's ledger, of one status or all. → [`Event::LedgerPage`].
    LedgerPage { delivery: i64, status: Option<String>, offset: u64 },
    /// The message of a channel activity rendered for the `index`-th recipient of the last count
    /// of `canvas`. → [`Event::MessagePreview`].
    PreviewMessage { campaign_id: i64, canvas: Canvas, activity: String, index: u64 },
    /// Sends a proof of a channel activity's message (personalized for recipient `index`) to
    /// typed addresses. → [`Event::ProofSent`].
    SendProof { campaign_id: i64, canvas: Canvas, activity: String, index: u64, addresses: Vec<String> },
    /// Writes a delivery's whole ledger to a CSV file. A job.
    ExportLedger { delivery: i64, path: PathBuf },
    /// Writes every row of a transition (last count) to a CSV file (the UI asks where first,
    /// on its own thread as macOS requires). A job: → [`Event::JobStarted`] …
    /// [`Event::JobFinished`].
    ExportTransition { campaign_id: i64, transition: String, path: PathBuf },
    /// → [`Event::FrequencyCap`].
    RefreshFrequencyCap,
    /// Sets (`None`: removes) the cap on marketing messages per profile in 24 hours.
    /// → [`Event::FrequencyCap`], or [`Event::Failed`].
    SetFrequencyCap { cap: Option<u32> },
    /// → [`Event::Credentials`].
    RefreshCredentials,
    /// Adds (`id` `None`) or changes a credential; a typed secret goes to the keychain.
    /// → [`Event::CredentialSaved`] and [`Event::Credentials`].
    SaveCredential {
        id: Option<i64>,
        channel: Channel,
        provider: ProviderKind,
        name: String,
        settings: serde_json::Value,
        secret: Option<secrets::Typed>,
    },
    /// → [`Event::Credentials`], or [`Event::Failed`].
    DeleteCredential { id: i64 },
    /// Makes a credential its channel's default. → [`Event::Credentials`], or [`Event::Failed`].
    MakeDefaultCredential { id: i64 },
    /// Sends one test message with a credential's settings. → [`Event::CredentialVerified`].
    SendTestMessage {
        id: Option<i64>,
        channel: Channel,
        provider: ProviderKind,
        settings: serde_json::Value,
        secret: Option<secrets::Typed>,
        to: String,
    },
    /// Connects with a credential's settings without sending; a typed secret is used instead of
    /// the stored one. → [`Event::CredentialVerified`].
    VerifyCredential {
        id: Option<i64>,
        provider: ProviderKind,
        settings: serde_json::Value,
        secret: Option<secrets::Typed>,
    },
}

/// A page of a transition's rows: (rows in all, column names, rows as text).
pub type RowsPage = (u64, Vec<String>, Vec<Vec<String>>);

/// The workspace setting holding the frequency cap.
const FREQUENCY_CAP: &str = "frequency_cap_per_day";

/// Ledger rows shown per page.
pub const LEDGER_PAGE: u64 = 100;

/// Rows shown per page when inspecting a transition.
pub const ROWS_PAGE: u64 = 100;

/// What comes back to the UI.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Campaigns(Vec<Campaign>),
    CampaignCreated(Campaign),
    /// A campaign's status changed (published, paused, …).
    CampaignChanged(Campaign),
    DataOverview(DataOverview),
    JobStarted {
        id: JobId,
        label: String,
    },
    JobProgress {
        id: JobId,
        fraction: f32,
    },
    /// `Ok` carries a one-line summary.
    JobFinished {
        id: JobId,
        outcome: Result<String, UserError>,
    },
    /// An action failed; show it to the user.
    Failed(UserError),
    /// A campaign's canvas with what editing it needs.
    CanvasOpened {
        campaign: Campaign,
        canvas: Canvas,
        context: Box<CanvasContext>,
    },
    /// The distinct values of a column, or `None` when it has too many to be a list of choices
    /// (or they could not be read).
    DistinctValues {
        entity: String,
        column: String,
        values: Option<Vec<String>>,
    },
    /// A delivery of a running campaign moved on.
    RunProgress {
        campaign_id: i64,
        progress: crate::delivery::Progress,
    },
    /// A campaign run ended (finished, stopped or failed).
    RunFinished {
        campaign_id: i64,
        outcome: Result<String, UserError>,
    },
    Deliveries(Vec<store::deliveries::Delivery>),
    Credentials(Vec<Credential>),
    /// The workspace's frequency cap (messages per profile in 24 hours), if any.
    FrequencyCap(Option<u32>),
    /// The credential as saved, or why it was not.
    CredentialSaved(Result<Credential, String>),
    /// What "Verify" found: what was checked, or what went wrong.
    CredentialVerified(Result<String, String>),
    ProofSent {
        campaign_id: i64,
        activity: String,
        result: Result<u64, String>,
    },
    MessagePreview {
        campaign_id: i64,
        activity: String,
        index: u64,
        result: Result<MessagePreview, String>,
    },
    LedgerPage {
        delivery: i64,
        status: Option<String>,
        offset: u64,
        page: store::deliveries::LedgerPage,
    },
    /// How far count `generation` has got: `done` of `total` steps to compute.
    CountProgress {
        campaign_id: i64,
        generation: u64,
        done: usize,
        total: usize,
    },
    /// `Ok` with when it was saved.
    CanvasSaved {
        campaign_id: i64,
        outcome: Result<jiff::Timestamp, UserError>,
    },
    /// The outcome of [`Command::CountCanvas`] number `generation`.
    CanvasCounted {
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
}

/// What editing a canvas needs besides the canvas: the data model, the saved audiences
/// (Read audience) and the credentials (channel activities; no secrets).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CanvasContext {
    pub model: DataModel,
    pub audiences: Vec<SavedAudience>,
    pub credentials: Vec<Credential>,
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

/// A text column with more distinct values than this is not offered as a list of choices.
pub const MAX_CHOICES: usize = 50;

/// How many times a count leaves out activities with problems before giving up.
const MAX_PRUNES: usize = 8;

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

type Repaint = Arc<dyn Fn() + Send + Sync>;

/// Sends events to the UI and wakes it.
#[derive(Clone)]
struct Outbox {
    tx: mpsc::Sender<Event>,
    repaint: Arc<RwLock<Option<Repaint>>>,
}

impl Outbox {
    fn wake(&self) {
        if let Some(f) = self.repaint.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            f();
        }
    }

    /// Waits for room (called off the runtime's async threads, from blocking tasks).
    fn send(&self, event: Event) {
        if self.tx.blocking_send(event).is_err() {
            tracing::debug!("event dropped: the receiver is gone");
        }
        self.wake();
    }

    /// Drops the event when the queue is full: for progress, which a newer one replaces.
    fn offer(&self, event: Event) {
        if self.tx.try_send(event).is_ok() {
            self.wake();
        }
    }
}

/// The application service. See the module documentation.
pub struct Console {
    runtime: tokio::runtime::Runtime,
    workspace: Arc<Workspace>,
    secrets: Arc<dyn SecretStore>,
    keychain: KeychainStatus,
    clock: Clock,
    log_dir: Option<PathBuf>,
    outbox: Outbox,
    inbox: Mutex<mpsc::Receiver<Event>>,
    jobs: Arc<Mutex<HashMap<JobId, Arc<AtomicBool>>>>,
    next_job: AtomicU64,
    in_flight: Arc<AtomicUsize>,
    counter: Arc<CanvasCounter>,
    /// The campaigns sending now, with their stop flag (0 go, 1 pause, 2 cancel).
    runs: Arc<Mutex<HashMap<i64, Arc<std::sync::atomic::AtomicU8>>>>,
    /// Each credential's rate limit and concurrency, shared by every delivery sending with it;
    /// replaced when the credential's pace changes.
    throttles: Mutex<HashMap<String, Arc<crate::delivery::Throttle>>>,
}

/// The count session of the canvas being edited: kept between counts so that a recount after
/// an edit reruns only what changed; one count at a time.
#[derive(Default)]
struct CanvasCounter {
    /// The campaign and its session (work tables of the last count).
    session: Mutex<Option<(i64, audience::CountSession)>>,
    /// The newest requested generation; a running count with an older one stops.
    latest: AtomicU64,
    /// Interrupts the statement running now.
    interrupt: Mutex<Option<rusqlite::InterruptHandle>>,
}

impl Console {
    /// Opens the workspace (creating and upgrading it as needed) and starts the runtime.
    pub fn open(options: ConsoleOptions) -> Result<Self, ConsoleError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cc-worker")
            .enable_all()
            .build()
            .map_err(ConsoleError::Runtime)?;
        let workspace = Arc::new(Workspace::open(&options.workspace_dir)?);
        let (secrets, keychain): (Arc<dyn SecretStore>, _) = match options.secrets {
            SecretsChoice::System => secrets::open_system_store(),
            SecretsChoice::Ephemeral => (Arc::new(MemoryStore::new()), KeychainStatus::Ephemeral),
        };
        match keychain {
            KeychainStatus::Ephemeral => tracing::debug!("keychain: {}", keychain.describe()),
            _ => tracing::info!(
                "keychain: {} {}",
                keychain.describe(),
                keychain.technical_reason().map(|r| format!("({r})")).unwrap_or_default()
            ),
        }
        let (tx, rx) = mpsc::channel(EVENT_CAPACITY);
        Ok(Self {
            runtime,
            workspace,
            secrets,
            keychain,
            clock: options.clock.unwrap_or_else(|| Arc::new(jiff::Timestamp::now)),
            log_dir: options.log_dir,
            outbox: Outbox { tx, repaint: Arc::new(RwLock::new(None)) },
            inbox: Mutex::new(rx),
            jobs: Arc::new(Mutex::new(HashMap::new())),
            next_job: AtomicU64::new(1),
            in_flight: Arc::new(AtomicUsize::new(0)),
            counter: Arc::new(CanvasCounter::default()),
            runs: Arc::new(Mutex::new(HashMap::new())),
            throttles: Mutex::new(HashMap::new()),
        })
    }

    /// Called after every event is sent, from any thread (the UI passes
    /// `egui::Context::request_repaint`).
    pub fn set_repaint(&self, repaint: impl Fn() + Send + Sync + 'static) {
        *self.outbox.repaint.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(repaint));
    }

    /// The next event waiting for the UI, without blocking.
    pub fn poll_event(&self) -> Option<Event> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner()).try_recv().ok()
    }

    /// Whether no command is still being worked on (tests wait for this).
    pub fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0
    }

    pub fn workspace_dir(&self) -> &Path {
        self.workspace.dir()
    }

    pub fn database_path(&self) -> PathBuf {
        self.workspace.database_path()
    }

    pub fn keychain_status(&self) -> &KeychainStatus {
        &self.keychain
    }

    pub fn log_dir(&self) -> Option<&Path> {
        self.log_dir.as_deref()
    }

    pub fn now(&self) -> jiff::Timestamp {
        (self.clock)()
    }

    // ---- Blocking API (CLI, server, tests; the UI goes through `send`). ----

    pub fn campaigns(&self) -> Result<Vec<Campaign>, ConsoleError> {
        Ok(store::campaigns::list(&self.workspace.conn())?)
    }

    pub fn campaign(&self, name_or_id: &str) -> Result<Campaign, ConsoleError> {
        Ok(store::campaigns::find(&self.workspace.conn(), name_or_id)?)
    }

    pub fn create_campaign(&self, name: &str, kind: CampaignKind) -> Result<Campaign, ConsoleError> {
        let conn = self.workspace.conn();
        let c = store::campaigns::create(&conn, name, kind, self.now())?;
        store::audit::record(&conn, self.now(), "user", "create campaign", &c.name, kind.as_str())?;
        Ok(c)
    }

    pub fn rename_campaign(&self, id: i64, name: &str) -> Result<Campaign, ConsoleError> {
        let conn = self.workspace.conn();
        let before = store::campaigns::get(&conn, id)?;
        let c = store::campaigns::rename(&conn, id, name, self.now())?;
        store::audit::record(&conn, self.now(), "user", "rename campaign", &c.name, &format!("was {}", before.name))?;
        Ok(c)
    }

    pub fn duplicate_campaign(&self, id: i64) -> Result<Campaign, ConsoleError> {
        let mut conn = self.workspace.conn();
        let c = store::campaigns::duplicate(&mut conn, id, self.now())?;
        store::audit::record(&conn, self.now(), "user", "duplicate campaign", &c.name, &format!("from {id}"))?;
        Ok(c)
    }

    pub fn delete_campaign(&self, id: i64) -> Result<(), ConsoleError> {
        let conn = self.workspace.conn();
        let c = store::campaigns::get(&conn, id)?;
        store::campaigns::delete(&conn, id)?;
        store::audit::record(&conn, self.now(), "user", "delete campaign", &c.name, "")?;
        Ok(())
    }

    /// The data model with each entity's current row count.
    pub fn data_overview(&self) -> Result<DataOverview, ConsoleError> {
        let conn = self.workspace.conn();
        let model = store::data_model::load(&conn)?;
        Ok(DataOverview {
            entities: store::data_model::overview(&conn)?,
            dangling: store::data_model::dangling_links(&conn, &model)?,
            links: model.links,
            identity_namespaces: model.identity_namespaces,
        })
    }

    /// The canvas of an orchestrated campaign.
    pub fn canvas(&self, campaign: &Campaign) -> Result<Canvas, ConsoleError> {
        let no_canvas = |why: String| ConsoleError::NoCanvas { campaign: campaign.name.clone(), why };
        if campaign.kind != CampaignKind::Orchestrated {
            return Err(no_canvas(format!(
                "it is an {} campaign. {} Only orchestrated campaigns have a canvas to count, show as SQL or schedule.",
                campaign.kind.label(),
                campaign.kind.description()
            )));
        }
        let json = store::campaigns::canvas_json(&self.workspace.conn(), campaign.id)?;
        match json {
            None => Ok(Canvas::default()),
            Some(json) => {
                serde_json::from_str(&json).map_err(|e| no_canvas(format!("its stored canvas is damaged ({e})")))
            }
        }
    }

    /// Compiles a campaign's canvas for `dialect`, relative dates counted from now.
    pub fn compile_campaign(
        &self,
        name_or_id: &str,
        dialect: Dialect,
    ) -> Result<(Campaign, Canvas, CompiledRun), ConsoleError> {
        let campaign = self.campaign(name_or_id)?;
        let canvas = self.canvas(&campaign)?;
        let (model, options) = self.compile_options(dialect)?;
        let run = audience::compile_with(&canvas, &model, &options)?;
        Ok((campaign, canvas, run))
    }

    /// Counts every transition of a campaign's canvas (count mode: nothing is saved or sent),
    /// on a connection of its own so that the workspace stays usable meanwhile.
    pub fn count_campaign(
        &self,
        name_or_id: &str,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(Campaign, Canvas, CountReport), ConsoleError> {
        let (campaign, canvas, run) = self.compile_campaign(name_or_id, Dialect::Sqlite)?;
        let report = audience::run_count(self.workspace.connect()?, &run, cancelled)?;
        Ok((campaign, canvas, report))
    }

    /// The data model and the options canvases compile with now: the data version, the saved
    /// audiences, and the clock at the start of the current minute (the clock is part of the
    /// work tables' cache key, so recounts within a minute reuse every unchanged one).
    fn compile_options(&self, dialect: Dialect) -> Result<(DataModel, CompileOptions), ConsoleError> {
        let conn = self.workspace.conn();
        let model = store::data_model::load(&conn)?;
        let data_version = store::customer_data::data_version(&conn)?;
        let audiences = store::audiences::list(&conn)?;
        let now = self.now();
        let now = jiff::Timestamp::from_second(now.as_second().div_euclid(60) * 60).unwrap_or(now);
        Ok((model, CompileOptions { dialect, now, data_version, audiences }))
    }

    /// Compiles a canvas being edited for counting. An activity with a problem, and what
    /// follows it, is left out, so the rest is still counted (a new, unconnected activity does
    /// not blank the whole canvas); the problems come back with the run.
    fn compile_for_count(
        &self,
        canvas: &Canvas,
    ) -> Result<(CompiledRun, Option<Vec<audience::Problem>>), CountOutcome> {
        let failed = |e: ConsoleError| CountOutcome::Failed(UserError::new("The canvas could not be counted", &e));
        let (model, options) = self.compile_options(Dialect::Sqlite).map_err(failed)?;
        // A channel activity's message is checked apart: what it lacks is a problem, but
        // its audience is still counted.
        let unsendable = audience::message_problems(canvas);
        let mut problems: Option<Vec<audience::Problem>> = None;
        let mut counted = canvas.clone();
        for _ in 0..MAX_PRUNES {
            match audience::compile_with(&counted, &model, &options) {
                Ok(run) => {
                    if !unsendable.is_empty() {
                        problems.get_or_insert_with(Vec::new).extend(unsendable);
                    }
                    return Ok((run, problems));
                }
                Err(audience::AudienceError::Invalid(found)) => {
                    let bad: HashSet<String> = found.iter().filter_map(|p| p.activity.clone()).collect();
                    let problems = problems.get_or_insert(found);
                    if bad.is_empty() || counted.activities.is_empty() {
                        return Err(CountOutcome::Invalid { problems: problems.clone(), partial: None });
                    }
                    counted = counted.without_downstream_of(&bad);
                }
                Err(e) => return Err(failed(e.into())),
            }
        }
        Err(CountOutcome::Invalid { problems: problems.unwrap_or_default(), partial: None })
    }

    /// Counts a campaign's canvas, then writes its Save audience activities: what a campaign
    /// run does before sending (nothing is sent here). Returns the saved audiences.
    pub fn count_and_save_audiences(
        &self,
        name_or_id: &str,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(Campaign, Canvas, CountReport, Vec<SavedAudience>), ConsoleError> {
        let (campaign, canvas, run) = self.compile_campaign(name_or_id, Dialect::Sqlite)?;
        let mut session = audience::CountSession::new(self.workspace.connect()?);
        let report = session.count(&run, cancelled)?;
        if !report.complete {
            return Err(audience::AudienceError::Cancelled.into());
        }
        let saved = session.save_audiences(&run, Some(campaign.id), self.now())?;
        Ok((campaign, canvas, report, saved))
    }

    /// Runs an orchestrated campaign: counts its canvas, saves its audiences and control groups,
    /// writes the ledger of each channel activity (before anything is sent), then sends. When an
    /// earlier run left deliveries unfinished (stopped, crashed), those are carried on instead:
    /// rows left in `sending` are looked up at the provider, and nothing is sent twice. (Whether
    /// a campaign that already ran may run again is decided before: `refuse_rerun`.)
    fn run_deliveries(
        &self,
        campaign: Campaign,
        rate_override: Option<f64>,
        progress: &mut dyn FnMut(&Campaign, &crate::delivery::Progress),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<RunSummary, ConsoleError> {
        use store::deliveries as ledger;
        let canvas = self.canvas(&campaign)?;
        let model = store::data_model::load(&self.workspace.conn())?;
        // Proofs are not runs.
        let earlier: Vec<_> =
            ledger::list(&self.workspace.conn(), Some(campaign.id))?.into_iter().filter(|d| !d.is_proof).collect();
        let unfinished: Vec<i64> = earlier.iter().filter(|d| d.is_unfinished()).map(|d| d.id).collect();
        let resumed = !unfinished.is_empty();
        let ids = if resumed {
            unfinished
        } else {
            // A campaign that ran already was refused before its run was recorded
            // (`refuse_rerun`) unless it runs again on purpose.
            self.prepare_deliveries(&campaign, &canvas, &model, cancelled)?
        };
        for &id in &ids {
            if cancelled() {
                break;
            }
            self.send_delivery(&campaign, &canvas, &model, id, rate_override, progress, cancelled)?;
        }
        // Counting a large ledger by status reads it through: not through the shared memory map.
        let conn = self.workspace.connect()?;
        streaming(&conn)?;
        let deliveries = self.with_labels(ledger::list(&conn, Some(campaign.id))?);
        Ok(RunSummary { campaign, resumed, deliveries, this_run: ids })
    }

    /// Refuses to run again a campaign that already ran to the end, unless `again` (a run left
    /// unfinished is carried on instead, which is always allowed).
    fn refuse_rerun(&self, campaign: &Campaign, again: bool) -> Result<(), ConsoleError> {
        let earlier: Vec<_> = store::deliveries::list(&self.workspace.conn(), Some(campaign.id))?
            .into_iter()
            .filter(|d| !d.is_proof)
            .collect();
        if again || earlier.is_empty() || earlier.iter().any(store::deliveries::Delivery::is_unfinished) {
            return Ok(());
        }
        Err(ConsoleError::CannotRun(format!(
            "\u{201c}{}\u{201d} has already run ({} deliveries): run it again only on purpose (--again)",
            campaign.name,
            earlier.len()
        )))
    }

    /// The provider and throttle for a channel activity's credential (the channel's default,
    /// or the built-in Sandbox, when it names none). Settings that cannot work are refused here,
    /// with what to fix, before anything is written.
    fn provider_for(&self, channel: Channel, credential: CredentialChoice<'_>) -> Result<Route, ConsoleError> {
        use crate::channels::Pace;
        let credentials = self.credentials()?;
        let chosen = match credential {
            CredentialChoice::Named(name) => {
                crate::model::credential_for(&credentials, channel, name).map_err(ConsoleError::CannotRun)?
            }
            CredentialChoice::Id(id) => Some(credentials.iter().find(|c| c.id == id).ok_or_else(|| {
                ConsoleError::CannotRun(format!(
                    "the {} credential this delivery started with (id {id}) has been deleted: add it again to carry on",
                    channel.label()
                ))
            })?),
        };
        let settings = chosen.map(|c| c.settings.clone()).unwrap_or_default();
        let refused = |why: String| {
            ConsoleError::CannotRun(format!(
                "the {} credential \u{201c}{}\u{201d} cannot send: {why}",
                channel.label(),
                chosen.map_or("", |c| c.name.as_str())
            ))
        };
        let secret = || -> Result<Option<String>, ConsoleError> {
            let Some(c) = chosen else { return Ok(None) };
            match (self.credential_secret(c)?, &c.secret_ref) {
                (Some(s), _) => Ok(Some(s)),
                (None, Some(_)) => Err(refused(format!(
                    "its secret is not in the keychain (it may have been entered in another session): enter it again in Channels, or give it in {}",
                    secrets::deployment_variable(&c.name)
                ))),
                (None, None) => Ok(None),
            }
        };
        let kind = chosen.map_or(ProviderKind::Sandbox, |c| c.provider);
        let secret = match kind {
            ProviderKind::Smtp | ProviderKind::Http => secret()?,
            _ => None,
        };
        let (provider, default_in_flight) = self.build_provider(kind, &settings, secret).map_err(refused)?;
        let pace = Pace::of(&settings, default_in_flight);
        let key = format!("{}:{}", channel.as_str(), chosen.map_or(0, |c| c.id));
        let mut throttles = self.throttles.lock().unwrap_or_else(|p| p.into_inner());
        let throttle = match throttles.get(&key) {
            Some(t) if t.pace() == pace => Arc::clone(t),
            _ => {
                let t = Arc::new(crate::delivery::Throttle::new(pace));
                throttles.insert(key, Arc::clone(&t));
                t
            }
        };
        let mut options = crate::delivery::SendOptions::default();
        if let Some(n) = settings.get("max_attempts").and_then(serde_json::Value::as_u64) {
            options.max_attempts = n.clamp(1, 20) as u32;
        }
        if let Some(s) = settings.get("retry_backoff_seconds").and_then(serde_json::Value::as_f64) {
            options.backoff = Duration::from_secs_f64(s.clamp(0.01, 3_600.0));
        }
        Ok((provider, throttle, options))
    }

    /// A provider from a credential's settings and secret, and how many calls it takes at once
    /// unless the settings say; the message says what to fix.
    fn build_provider(
        &self,
        kind: ProviderKind,
        settings: &serde_json::Value,
        secret: Option<String>,
    ) -> Result<(Arc<dyn crate::channels::Provider>, usize), String> {
        use crate::channels::{Pace, direct_mail, sandbox, smtp, webhook};
        Ok(match kind {
            // One connection to the workspace: more at once would only queue on it.
            ProviderKind::Sandbox => {
                let conn = self.workspace.connect().map_err(|e| e.to_string())?;
                streaming(&conn).map_err(|e| e.to_string())?;
                (Arc::new(sandbox::Sandbox::new(conn)), 1)
            }
            ProviderKind::Smtp => (Arc::new(smtp::Smtp::new(smtp::SmtpSettings::from_json(settings)?, secret)), 4),
            ProviderKind::Http => {
                let s = webhook::WebhookSettings::from_json(settings)?;
                let in_flight = Pace::of(settings, 8).max_in_flight;
                (Arc::new(webhook::Webhook::new(s, secret.as_deref(), in_flight)?), 8)
            }
            ProviderKind::FileExport => (Arc::new(direct_mail::DirectMail::from_json(settings)?), 1),
            other => {
                return Err(format!(
                    "sending through {} is not available in this version yet; use a Sandbox credential",
                    other.as_str()
                ));
            }
        })
    }

    /// The secret a form typed, else the keychain's for the saved credential `existing`.
    fn typed_or_stored_secret(&self, typed: Option<String>, existing: Option<i64>) -> Result<Option<String>, String> {
        match (typed, existing) {
            (Some(s), _) => Ok(Some(s)),
            (None, Some(id)) => match self.credentials().map_err(|e| e.to_string())?.iter().find(|c| c.id == id) {
                Some(c) => self.credential_secret(c).map_err(|e| e.to_string()),
                None => Ok(None),
            },
            (None, None) => Ok(None),
        }
    }

    /// Sends one test message with a credential's settings (a typed secret instead of the
    /// stored one, as for Verify) to `to`. Says what the provider answered.
    pub fn send_test_message(
        &self,
        existing: Option<i64>,
        channel: Channel,
        kind: ProviderKind,
        settings: &serde_json::Value,
        secret: Option<String>,
        to: &str,
    ) -> Result<String, String> {
        let to = to.trim();
        if let Some(address_kind) = store::deliveries::AddressKind::of(channel)
            && !store::deliveries::valid_address(address_kind, to)
        {
            return Err(format!("\u{201c}{to}\u{201d} is not an address this channel can send to"));
        }
        let secret = self.typed_or_stored_secret(secret, existing)?;
        let (provider, _) = self.build_provider(kind, settings, secret)?;
        let m = crate::channels::Outgoing {
            idempotency_key: format!("test:{}", uuid::Uuid::new_v4()),
            channel,
            address: to.to_owned(),
            subject: "Campaign Console test message".into(),
            text: "This is a test message from Campaign Console: the credential works.".into(),
            html: "<p>This is a test message from <strong>Campaign Console</strong>: the credential works.</p>".into(),
            fields: Vec::new(),
        };
        match self.runtime.block_on(provider.send(&m)) {
            Ok(id) => Ok(format!("a test message was sent to {to} (the server's id: {id})")),
            Err(e) => Err(format!("the test message was not sent: {}", e.message())),
        }
    }

    /// Checks a credential's settings and connects with them (authenticating, where the
    /// provider signs in) without sending anything. `secret` replaces the stored one (a form not
    /// saved yet); `None` uses the keychain's, for a saved credential. Says what was checked.
    pub fn verify_credential(
        &self,
        existing: Option<i64>,
        kind: ProviderKind,
        settings: &serde_json::Value,
        secret: Option<String>,
    ) -> Result<String, String> {
        let secret = self.typed_or_stored_secret(secret, existing)?;
        let (provider, _) = self.build_provider(kind, settings, secret)?;
        self.runtime.block_on(provider.verify()).map_err(|e| e.message().to_owned())
    }

    /// Counts the canvas in run mode and writes a delivery with its ledger for each channel
    /// activity (each in one transaction: a crash leaves all of it or none). Returns their ids.
    fn prepare_deliveries(
        &self,
        campaign: &Campaign,
        canvas: &Canvas,
        model: &DataModel,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Vec<i64>, ConsoleError> {
        use store::deliveries as ledger;
        let (_, options) = self.compile_options(Dialect::Sqlite)?;
        let run = audience::compile_with(canvas, model, &options)?;
        // Everything a send needs is checked before anything is written.
        let profile = audience::profile_entity(model)
            .and_then(|p| model.entity(p))
            .ok_or_else(|| ConsoleError::CannotRun("the data model names no profile entity".into()))?;
        if let Some(p) = audience::message_problems(canvas).into_iter().next() {
            return Err(ConsoleError::CannotRun(p.to_string()));
        }
        for send in &run.sends {
            let Some(a) = canvas.activity(&send.activity) else { continue };
            let crate::model::ActivityKind::Channel { channel, credential, .. } = &a.kind else { continue };
            self.provider_for(*channel, CredentialChoice::Named(credential.as_deref()))?;
        }
        let credentials = self.credentials()?;
        // A run counts once and moves on: a modest page cache and no memory map keep its memory
        // down (the canvas editor's counts keep the large ones, for speed while editing).
        let conn = self.workspace.connect()?;
        conn.execute_batch("PRAGMA cache_size = -65536; PRAGMA mmap_size = 0;").map_err(StoreError::from)?;
        let mut session = audience::CountSession::new(conn);
        let report = session.count(&run, cancelled)?;
        if !report.complete {
            return Err(audience::AudienceError::Cancelled.into());
        }
        session.save_audiences(&run, Some(campaign.id), self.now())?;
        session.record_control_groups(&run, campaign.id, self.now())?;
        let frequency_cap = self.frequency_cap()?;
        // All the ledgers in one transaction: a crash leaves every delivery of the run, or none.
        let conn = session.connection();
        let tx = conn.unchecked_transaction().map_err(StoreError::from)?;
        let mut ids = Vec::new();
        for send in &run.sends {
            let Some(a) = canvas.activity(&send.activity) else { continue };
            let crate::model::ActivityKind::Channel { channel, per, message, credential } = &a.kind else { continue };
            // The delivery keeps the credential it starts with: a resumed run sends through it
            // even if the channel's default changes meanwhile.
            let credential_id = crate::model::credential_for(&credentials, *channel, credential.as_deref())
                .map_err(ConsoleError::CannotRun)?
                .map(|c| c.id);
            let dimension = model
                .entity(&send.dimension)
                .ok_or_else(|| ConsoleError::CannotRun(format!("the data model has no entity {}", send.dimension)))?;
            let profile_fk = if dimension.name == profile.name {
                None
            } else {
                model
                    .links
                    .iter()
                    .find(|l| l.child == dimension.name && l.parent == profile.name)
                    .map(|l| l.foreign_key.as_str())
            };
            let address = audience::address_namespace(*channel).and_then(|ns| {
                model
                    .identity_namespaces
                    .iter()
                    .find(|n| n.name == ns && n.entity == profile.name)
                    .map(|n| n.column.as_str())
            });
            let opt_in_name = format!("{}_opt_in", channel.as_str());
            let opt_in = profile.column(&opt_in_name).map(|c| c.name.as_str());
            let source = ledger::LedgerSource {
                table: &send.table,
                dimension: &dimension.name,
                dimension_key: &dimension.primary_key,
                profile: &profile.name,
                profile_key: &profile.primary_key,
                profile_fk,
                per_row: *per == crate::model::Recipient::SecondaryEntity && profile_fk.is_some(),
                address,
                address_kind: ledger::AddressKind::of(*channel),
                opt_in,
                columns: &send.columns,
                frequency_cap,
            };
            let message_json = serde_json::to_string(message).unwrap_or_else(|_| "{}".into());
            let id = ledger::create(&tx, campaign.id, &a.id, channel.as_str(), &message_json, self.now())?;
            ledger::set_credential(&tx, id, credential_id)?;
            ledger::fill_ledger(&tx, id, &source, self.now())?;
            ids.push(id);
        }
        tx.commit().map_err(StoreError::from)?;
        Ok(ids)
    }

    /// Sends (or carries on sending) one delivery of `campaign`.
    #[allow(clippy::too_many_arguments)]
    fn send_delivery(
        &self,
        campaign: &Campaign,
        canvas: &Canvas,
        model: &DataModel,
        id: i64,
        rate_override: Option<f64>,
        progress: &mut dyn FnMut(&Campaign, &crate::delivery::Progress),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<crate::delivery::Progress, ConsoleError> {
        let mut conn = self.workspace.connect()?;
        let (activity, message_json, credential_id): (String, String, Option<i64>) = conn
            .query_row(
                "SELECT COALESCE(activity_id, ''), message_json, credential_id FROM cc_deliveries WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(StoreError::from)?;
        let message: crate::model::Message = serde_json::from_str(&message_json).unwrap_or_default();
        let a = canvas.activity(&activity).ok_or_else(|| {
            ConsoleError::CannotRun(format!(
                "delivery {id} belongs to an activity the canvas no longer has ({activity})"
            ))
        })?;
        let crate::model::ActivityKind::Channel { channel, credential, per, .. } = &a.kind else {
            return Err(ConsoleError::CannotRun(format!("{} is not a channel activity", a.label)));
        };
        let choice = credential_id.map_or(CredentialChoice::Named(credential.as_deref()), CredentialChoice::Id);
        let (provider, mut throttle, send_options) = self.provider_for(*channel, choice)?;
        streaming(&conn)?;
        if let Some(rate) = rate_override {
            let pace = crate::channels::Pace { rate_per_second: Some(rate), ..throttle.pace() };
            throttle = Arc::new(crate::delivery::Throttle::new(pace));
        }
        crate::delivery::recover(&mut conn, id, provider.as_ref(), self.runtime.handle())?;
        // What the recipients carry: the compiled run says which entity and columns arrive.
        let (_, options) = self.compile_options(Dialect::Sqlite)?;
        let send = audience::compile_with(canvas, model, &options)?.sends.into_iter().find(|s| s.activity == activity);
        let profile = audience::profile_entity(model).unwrap_or_default().to_owned();
        let recipients = crate::delivery::Recipients {
            model,
            secondary: send
                .as_ref()
                .filter(|s| *per == crate::model::Recipient::SecondaryEntity && s.dimension != profile)
                .map(|s| s.dimension.clone()),
            enrichment: send.map(|s| s.columns).unwrap_or_default(),
            profile,
        };
        let sender = crate::delivery::Sender {
            channel: *channel,
            provider,
            throttle,
            options: send_options,
            runtime: self.runtime.handle(),
        };
        Ok(crate::delivery::send(
            &mut conn,
            id,
            &message,
            &recipients,
            &sender,
            &mut |p| progress(campaign, p),
            cancelled,
        )?)
    }

    /// A channel activity's message rendered for the `index`-th recipient (by key) of the last
    /// count of the campaign being edited; a plain message when it cannot be.
    pub fn preview_message(
        &self,
        campaign_id: i64,
        canvas: &Canvas,
        activity: &str,
        index: u64,
    ) -> Result<MessagePreview, String> {
        let a = canvas.activity(activity).ok_or("the activity is gone")?;
        let crate::model::ActivityKind::Channel { channel, per, message, .. } = &a.kind else {
            return Err("only channel activities have a message".into());
        };
        let t = canvas
            .transitions
            .iter()
            .find(|t| t.to == activity)
            .ok_or("connect a population to this activity first")?;
        let model = store::data_model::load(&self.workspace.conn()).map_err(|e| e.to_string())?;
        let (_, options) = self.compile_options(Dialect::Sqlite).map_err(|e| e.to_string())?;
        let send = audience::compile_with(canvas, &model, &options)
            .ok()
            .and_then(|run| run.sends.into_iter().find(|s| s.activity == activity))
            .ok_or("fix the problems of the canvas first")?;
        let profile = audience::profile_entity(&model).and_then(|p| model.entity(p)).ok_or("no profile entity")?;
        let guard = self.counter.session.lock().unwrap_or_else(|p| p.into_inner());
        let Some((_, session)) = guard.as_ref().filter(|(id, _)| *id == campaign_id) else {
            return Err("count the canvas first".into());
        };
        let total = session.transition_count(&t.id).unwrap_or(0);
        if total == 0 {
            return Err("nobody reaches this activity at the last count".into());
        }
        let index = index.min(total - 1);
        let (columns, rows) = session.rows_page(&t.id, index, 1).map_err(|e| e.to_string())?;
        let row = rows.first().ok_or("the recipient is gone: count again")?;
        let value_of = |name: &str| columns.iter().position(|c| c == name).and_then(|i| row.get(i));
        let Some(rusqlite::types::Value::Integer(key)) = value_of("key") else {
            return Err("the row has no key".into());
        };
        let conn = session.connection();
        let select = |e: &crate::model::Entity| {
            Ok::<_, String>(format!(
                "SELECT * FROM {} WHERE {} = ?1",
                store::quote_ident(&e.name).map_err(|e| e.to_string())?,
                store::quote_ident(&e.primary_key).map_err(|e| e.to_string())?
            ))
        };
        let dimension = model.entity(&send.dimension).ok_or("unknown entity")?;
        let profile_key = if dimension.name == profile.name {
            *key
        } else {
            let fk = model
                .links
                .iter()
                .find(|l| l.child == dimension.name && l.parent == profile.name)
                .map(|l| l.foreign_key.clone())
                .ok_or("this population is not linked to profiles")?;
            let row = crate::delivery::read_row(conn, &select(dimension)?, &key.to_string())?;
            row.get(&fk).and_then(|v| v.as_i64()).ok_or("the row has no profile")?
        };
        let mut values = crate::personalize::Values {
            profile: crate::delivery::read_row(conn, &select(profile)?, &profile_key.to_string())?,
            ..Default::default()
        };
        let secondary = *per == crate::model::Recipient::SecondaryEntity && dimension.name != profile.name;
        if secondary {
            values.secondary =
                Some((dimension.name.clone(), crate::delivery::read_row(conn, &select(dimension)?, &key.to_string())?));
        }
        for c in &send.columns {
            let v = match value_of(c) {
                Some(rusqlite::types::Value::Integer(x)) => minijinja::Value::from(*x),
                Some(rusqlite::types::Value::Real(x)) => minijinja::Value::from(*x),
                Some(rusqlite::types::Value::Text(x)) => minijinja::Value::from(x.clone()),
                _ => minijinja::Value::from(()),
            };
            values.enrichment.insert(c.clone(), v);
        }
        let columns_of = |e: &crate::model::Entity| e.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        let scope = crate::personalize::Scope {
            profile: columns_of(profile),
            secondary: secondary.then(|| (dimension.name.clone(), columns_of(dimension))),
            enrichment: send.columns.clone(),
            context: false,
        };
        let templates = crate::delivery::templates(message, &scope, *channel).map_err(|e| e.to_string())?;
        let crate::delivery::Rendered { subject, text, html, fields } = templates.render(&values)?;
        let address = audience::address_namespace(*channel)
            .and_then(|ns| model.identity_namespaces.iter().find(|n| n.name == ns))
            .and_then(|n| values.profile.get(&n.column))
            .filter(|v| !v.is_none() && !v.to_string().trim().is_empty())
            .map_or_else(|| "no address: excluded when sent".to_owned(), ToString::to_string);
        let recipient = if secondary {
            format!("profile {profile_key}, {} {key}", dimension.name)
        } else {
            format!("profile {profile_key}")
        };
        Ok(MessagePreview { index, total, recipient, profile_key, address, subject, text, html, fields })
    }

    /// Sends a channel activity's message, personalized for the `index`-th recipient of the last
    /// count, to addresses the user typed: a delivery marked as a proof, with its own ledger.
    /// Returns how many were sent.
    pub fn send_proof(
        &self,
        campaign_id: i64,
        canvas: &Canvas,
        activity: &str,
        index: u64,
        addresses: &[String],
    ) -> Result<u64, String> {
        use store::deliveries::{self as ledger, Outcome};
        let a = canvas.activity(activity).ok_or("the activity is gone")?;
        let crate::model::ActivityKind::Channel { channel, credential, message, .. } = &a.kind else {
            return Err("only channel activities send proofs".into());
        };
        let addresses: Vec<String> = addresses.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        if addresses.is_empty() {
            return Err("type at least one address to send the proof to".into());
        }
        let kind = ledger::AddressKind::of(*channel);
        if let Some(kind) = kind
            && let Some(bad) = addresses.iter().find(|a| !ledger::valid_address(kind, a))
        {
            return Err(match kind {
                ledger::AddressKind::Email => format!("\u{201c}{bad}\u{201d} is not an email address"),
                ledger::AddressKind::Phone => {
                    format!("\u{201c}{bad}\u{201d} is not a phone number in international form (+33612345678)")
                }
            });
        }
        let preview = self.preview_message(campaign_id, canvas, activity, index)?;
        let (provider, _, _) =
            self.provider_for(*channel, CredentialChoice::Named(credential.as_deref())).map_err(|e| e.to_string())?;
        let mut conn = self.workspace.connect().map_err(|e| e.to_string())?;
        let now = self.now();
        let message_json = serde_json::to_string(message).unwrap_or_else(|_| "{}".into());
        let delivery = {
            let tx = conn.transaction().map_err(|e| e.to_string())?;
            let id = ledger::create(&tx, campaign_id, activity, channel.as_str(), &message_json, now)
                .map_err(|e| e.to_string())?;
            ledger::mark_proof(&tx, id, &preview.profile_key.to_string(), &addresses, now)
                .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            id
        };
        let claimed =
            ledger::claim(&mut conn, delivery, addresses.len(), jiff::Timestamp::now()).map_err(|e| e.to_string())?;
        let subject = format!("[Proof] {}", preview.subject);
        let outcomes: Vec<(i64, String, Outcome)> = claimed
            .iter()
            .map(|row| {
                let m = crate::channels::Outgoing {
                    idempotency_key: row.idempotency_key.clone(),
                    channel: *channel,
                    address: row.address.clone(),
                    subject: if preview.subject.is_empty() { String::new() } else { subject.clone() },
                    text: preview.text.clone(),
                    html: preview.html.clone(),
                    fields: Vec::new(),
                };
                let outcome = match self.runtime.block_on(provider.send(&m)) {
                    Ok(id) => Outcome::Sent { provider_message_id: id },
                    Err(e) => Outcome::Failed { code: "proof".into(), message: e.to_string() },
                };
                (row.id, row.recipient_key.clone(), outcome)
            })
            .collect();
        ledger::record(&mut conn, Some(campaign_id), delivery, &outcomes, jiff::Timestamp::now())
            .map_err(|e| e.to_string())?;
        ledger::finish(&conn, delivery, ledger::delivery_status::DONE, jiff::Timestamp::now())
            .map_err(|e| e.to_string())?;
        let sent = outcomes.iter().filter(|(_, _, o)| matches!(o, Outcome::Sent { .. })).count() as u64;
        if sent < addresses.len() as u64 {
            let why = outcomes
                .iter()
                .find_map(
                    |(_, _, o)| if let Outcome::Failed { message, .. } = o { Some(message.clone()) } else { None },
                )
                .unwrap_or_default();
            return Err(format!("{sent} of {} proofs sent: {why}", addresses.len()));
        }
        Ok(sent)
    }

    /// Settles a delivery's `unconfirmed` rows (a crash came while they were with a provider
    /// that cannot be asked) as the user found them at the provider. Returns the rows settled.
    pub fn resolve_unconfirmed(&self, delivery: i64, sent: bool) -> Result<u64, ConsoleError> {
        let conn = self.workspace.conn();
        let n = store::deliveries::resolve_unconfirmed(&conn, delivery, sent, self.now())?;
        let what = if sent { "marked sent" } else { "marked not sent" };
        store::audit::record(
            &conn,
            self.now(),
            "user",
            "resolve unconfirmed",
            &delivery.to_string(),
            &format!("{n} {what}"),
        )?;
        Ok(n)
    }

    /// The deliveries (of one campaign when given), newest first, with their counts by status
    /// and events (the Sandbox's simulated events that are due are written first).
    pub fn deliveries(&self, campaign: Option<&str>) -> Result<Vec<store::deliveries::Delivery>, ConsoleError> {
        self.simulate_sandbox_events()?;
        let id = campaign.map(|c| self.campaign(c)).transpose()?.map(|c| c.id);
        let list = store::deliveries::list(&self.workspace.conn(), id)?;
        Ok(self.with_labels(list))
    }

    /// Deliveries with their activity's label, from their campaign's canvas.
    fn with_labels(&self, mut list: Vec<store::deliveries::Delivery>) -> Vec<store::deliveries::Delivery> {
        let mut labels: HashMap<i64, HashMap<String, String>> = HashMap::new();
        for d in &mut list {
            let Some(campaign_id) = d.campaign_id else { continue };
            let of_canvas = labels.entry(campaign_id).or_insert_with(|| {
                // One statement per lock of the shared connection (`canvas` takes it too).
                let campaign = store::campaigns::get(&self.workspace.conn(), campaign_id);
                campaign
                    .ok()
                    .and_then(|c| self.canvas(&c).ok())
                    .map(|canvas| canvas.activities.into_iter().map(|a| (a.id, a.label)).collect())
                    .unwrap_or_default()
            });
            d.activity_label = of_canvas.get(&d.activity_id).cloned().unwrap_or_default();
        }
        list
    }

    /// Writes the delivered / bounced / opened / clicked events the Sandbox owes for messages
    /// sent long enough ago (per its credential's delay and rates). Returns the messages handled.
    pub fn simulate_sandbox_events(&self) -> Result<u64, ConsoleError> {
        let credentials = self.credentials()?;
        let conn = self.workspace.conn();
        let mut n = 0;
        for channel in Channel::ALL {
            // Messages sent through the channel's Sandbox credential (or the built-in Sandbox).
            let credential = credentials.iter().find(|c| c.channel == channel && c.provider == ProviderKind::Sandbox);
            let settings = credential.map(|c| c.settings.clone()).unwrap_or_default();
            let rates = store::deliveries::SandboxRates::from_settings(&settings);
            // Real time, as the Sandbox stamps its messages.
            n += store::deliveries::sandbox_events(&conn, channel.as_str(), &rates, jiff::Timestamp::now(), 100_000)?;
        }
        Ok(n)
    }

    /// The saved audiences of the workspace.
    pub fn audiences(&self) -> Result<Vec<SavedAudience>, ConsoleError> {
        Ok(store::audiences::list(&self.workspace.conn())?)
    }

    /// Deletes a saved audience; false when there is none of that name.
    pub fn delete_audience(&self, name: &str) -> Result<bool, ConsoleError> {
        let conn = self.workspace.conn();
        let deleted = store::audiences::delete(&conn, name)?;
        if deleted {
            store::audit::record(&conn, self.now(), "user", "delete audience", name.trim(), "")?;
        }
        Ok(deleted)
    }

    /// A campaign's canvas with what it is edited against.
    pub fn open_canvas(&self, campaign_id: i64) -> Result<(Campaign, Canvas, CanvasContext), ConsoleError> {
        let campaign = store::campaigns::get(&self.workspace.conn(), campaign_id)?;
        let canvas = self.canvas(&campaign)?;
        let credentials = self.credentials()?;
        let conn = self.workspace.conn();
        let context = CanvasContext {
            model: store::data_model::load(&conn)?,
            audiences: store::audiences::list(&conn)?,
            credentials,
            kept: self.kept_counts(&conn, campaign_id, &canvas)?,
        };
        Ok((campaign, canvas, context))
    }

    /// The counts kept for a campaign's canvas, and whether they are current (same canvas,
    /// same data, same day). A kept count that cannot be read is left aside: it is a cache.
    fn kept_counts(
        &self,
        conn: &rusqlite::Connection,
        campaign_id: i64,
        canvas: &Canvas,
    ) -> Result<Option<KeptCounts>, ConsoleError> {
        let Some(kept) = store::count_cache::load(conn, campaign_id)? else { return Ok(None) };
        let decoded = serde_json::from_str::<CountReport>(&kept.report_json)
            .and_then(|r| Ok((r, serde_json::from_str::<Vec<audience::Problem>>(&kept.problems_json)?)));
        let (report, problems) = match decoded {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("the kept counts of campaign {campaign_id} could not be read ({e}); counting again");
                return Ok(None);
            }
        };
        let current = audience::count_key(canvas).is_some_and(|k| k == kept.canvas_key)
            && kept.data_version == store::customer_data::data_version(conn)?
            && kept.day == self.now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
        Ok(Some(KeptCounts { report, problems, counted_at: kept.counted_at, current }))
    }

    /// Keeps a canvas's counts for the next time it opens.
    fn keep_counts(&self, campaign_id: i64, canvas: &Canvas, report: &CountReport, problems: &[audience::Problem]) {
        let kept = (|| -> Result<(), ConsoleError> {
            let Some(canvas_key) = audience::count_key(canvas) else { return Ok(()) };
            let conn = self.workspace.conn();
            let (Ok(report_json), Ok(problems_json)) = (serde_json::to_string(report), serde_json::to_string(problems))
            else {
                return Ok(());
            };
            let counts = store::count_cache::CachedCounts {
                canvas_key,
                data_version: store::customer_data::data_version(&conn)?,
                day: self.now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string(),
                report_json,
                problems_json,
                counted_at: self.now(),
            };
            Ok(store::count_cache::save(&conn, campaign_id, &counts)?)
        })();
        // Only the next opening is slower without them.
        if let Err(e) = kept {
            tracing::warn!("the counts of campaign {campaign_id} were not kept: {e:#}");
        }
    }

    /// The distinct values of `entity.column` when there are at most [`MAX_CHOICES`].
    pub fn distinct_values(&self, entity: &str, column: &str) -> Result<Option<Vec<String>>, ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        if model.entity(entity).and_then(|e| e.column(column)).is_none() {
            return Err(ConsoleError::Store(StoreError::Invalid(format!("{entity} has no column {column}"))));
        }
        let conn = self.workspace.connect()?;
        let mut values = store::customer_data::distinct_values(&conn, entity, column, MAX_CHOICES)?;
        // Whatever the case (Léa beside LÉA), folded as the engine's case-insensitive
        // matching folds text.
        if let Some(v) = values.as_mut() {
            v.sort_by_cached_key(|s| (audience::fold(s), s.clone()));
        }
        Ok(values)
    }

    /// Stores a campaign's canvas; returns when.
    pub fn save_canvas(&self, campaign_id: i64, canvas: &Canvas) -> Result<jiff::Timestamp, ConsoleError> {
        let json = serde_json::to_string(canvas).map_err(|e| {
            ConsoleError::Store(StoreError::Invalid(format!("the canvas could not be written as JSON: {e}")))
        })?;
        let now = self.now();
        store::campaigns::save_canvas(&self.workspace.conn(), campaign_id, &json, now)?;
        Ok(now)
    }

    /// Counts a canvas being edited (count mode) in the kept session of its campaign; stops
    /// when a newer generation is requested.
    pub fn count_canvas(&self, campaign_id: i64, canvas: &Canvas, generation: u64, fresh: bool) -> CountOutcome {
        let superseded = || self.counter.latest.load(Ordering::SeqCst) != generation;
        // One count at a time: wait for the previous one (already told to stop).
        let mut guard = self.counter.session.lock().unwrap_or_else(|p| p.into_inner());
        if superseded() {
            return CountOutcome::Superseded;
        }
        let (run, problems) = match self.compile_for_count(canvas) {
            Ok(compiled) => compiled,
            Err(outcome) => return outcome,
        };
        if fresh || guard.as_ref().is_none_or(|(id, _)| *id != campaign_id) {
            *guard = None;
            match self.workspace.connect() {
                Ok(conn) => *guard = Some((campaign_id, audience::CountSession::new(conn))),
                Err(e) => return CountOutcome::Failed(UserError::new("The canvas could not be counted", &e.into())),
            }
        }
        let Some((_, session)) = guard.as_mut() else { return CountOutcome::Superseded };
        *self.counter.interrupt.lock().unwrap_or_else(|p| p.into_inner()) = Some(session.interrupt_handle());
        // A request that came in between the check above and now has interrupted nothing.
        if superseded() {
            return CountOutcome::Superseded;
        }
        let mut progress = |done, total| {
            self.outbox.offer(Event::CountProgress { campaign_id, generation, done, total });
        };
        let result = session.count_with_progress(&run, &superseded, &mut progress);
        *self.counter.interrupt.lock().unwrap_or_else(|p| p.into_inner()) = None;
        match result {
            Ok(report) if !report.complete && superseded() => CountOutcome::Superseded,
            Ok(report) => {
                if report.complete {
                    self.keep_counts(campaign_id, canvas, &report, problems.as_deref().unwrap_or_default());
                }
                match problems {
                    None => CountOutcome::Counted(report),
                    Some(problems) => CountOutcome::Invalid { problems, partial: Some(report) },
                }
            }
            Err(audience::AudienceError::Cancelled) => CountOutcome::Superseded,
            Err(e) => CountOutcome::Failed(UserError::new("The canvas could not be counted", &e.into())),
        }
    }

    /// Rows `offset..offset + limit` of a transition from the last count of the campaign's
    /// canvas, as text: (rows in all, column names, rows).
    pub fn transition_rows(
        &self,
        campaign_id: i64,
        transition: &str,
        offset: u64,
        limit: u64,
    ) -> Result<RowsPage, ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        self.ensure_counted(campaign_id)?;
        let guard = self.counter.session.lock().unwrap_or_else(|p| p.into_inner());
        let Some((_, session)) = guard.as_ref().filter(|(id, _)| *id == campaign_id) else {
            return Ok((0, Vec::new(), Vec::new()));
        };
        let (columns, rows) = session.readable_page(transition, &model, offset, limit)?;
        let rows = rows.iter().map(|r| r.iter().map(audience::display_value).collect()).collect();
        Ok((session.transition_count(transition).unwrap_or(0), columns, rows))
    }

    /// Makes sure the count session holds the campaign's work tables: a canvas opened with its
    /// kept counts and not counted since is counted now (its saved version).
    fn ensure_counted(&self, campaign_id: i64) -> Result<(), ConsoleError> {
        let counted = {
            let guard = self.counter.session.lock().unwrap_or_else(|p| p.into_inner());
            guard.as_ref().is_some_and(|(id, _)| *id == campaign_id)
        };
        if counted {
            return Ok(());
        }
        let campaign = store::campaigns::get(&self.workspace.conn(), campaign_id)?;
        let canvas = self.canvas(&campaign)?;
        let generation = self.counter.latest.load(Ordering::SeqCst);
        match self.count_canvas(campaign_id, &canvas, generation, false) {
            CountOutcome::Failed(e) => Err(ConsoleError::CannotRun(e.message)),
            _ => Ok(()),
        }
    }

    /// Writes a transition's rows (last count of the campaign's canvas) to `path` as CSV,
    /// through a temporary file renamed at the end: a failed or cancelled export leaves no
    /// half-written file. Returns how many rows.
    pub fn export_transition(
        &self,
        campaign_id: i64,
        transition: &str,
        path: &Path,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<u64, ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        self.ensure_counted(campaign_id)?;
        let guard = self.counter.session.lock().unwrap_or_else(|p| p.into_inner());
        let Some((_, session)) = guard.as_ref().filter(|(id, _)| *id == campaign_id) else {
            return Err(AudienceError::File("count the canvas first: there are no rows to export yet".into()).into());
        };
        write_atomically(path, |file| Ok(session.export_csv(transition, &model, file, cancelled)?))
    }

    /// A delivery's whole ledger to `path` as CSV, through a temporary file renamed at the end.
    pub fn export_ledger(&self, delivery: i64, path: &Path, cancelled: &dyn Fn() -> bool) -> Result<u64, ConsoleError> {
        let conn = self.workspace.connect()?;
        write_atomically(path, |file| Ok(store::deliveries::export_csv(&conn, delivery, file, cancelled)?))
    }

    /// Runs `work` as a cancellable job writing to `path`: the status bar shows it, and its
    /// end says how many rows of `what` were written (or why not).
    fn start_file_job(
        self: &Arc<Self>,
        path: PathBuf,
        what: &'static str,
        work: impl FnOnce(&Console, &Path, &dyn Fn() -> bool) -> Result<u64, ConsoleError> + Send + 'static,
    ) {
        let id = self.next_job.fetch_add(1, Ordering::SeqCst);
        let cancel = Arc::new(AtomicBool::new(false));
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).insert(id, Arc::clone(&cancel));
        let jobs = Arc::clone(&self.jobs);
        self.spawn(move |console| {
            console.outbox.offer(Event::JobStarted { id, label: format!("Exporting to {}", path.display()) });
            let outcome = work(console, &path, &|| cancel.load(Ordering::SeqCst))
                .map(|n| format!("Exported {n} {what} to {}", path.display()))
                .map_err(|e| UserError::new(&format!("The {what} were not exported"), &e));
            jobs.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            vec![Event::JobFinished { id, outcome }]
        });
    }

    fn interrupt_count(&self) {
        if let Some(h) = self.counter.interrupt.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            h.interrupt();
        }
    }

    pub fn credentials(&self) -> Result<Vec<Credential>, ConsoleError> {
        Ok(store::credentials::list(&self.workspace.conn())?)
    }

    /// Saves a provider credential: the secret (if any) goes to the secret store first, the
    /// workspace keeps only its reference. If the workspace refuses the credential, the secret
    /// is removed again so nothing is left behind.
    pub fn add_credential(
        &self,
        channel: Channel,
        provider: ProviderKind,
        name: &str,
        settings: serde_json::Value,
        secret: Option<&str>,
    ) -> Result<Credential, ConsoleError> {
        crate::channels::check_settings(provider, &settings).map_err(StoreError::Invalid)?;
        let secret_ref = match secret {
            Some(value) => {
                let r = SecretRef(format!("credential/{}", uuid::Uuid::new_v4()));
                self.secrets.set(&r, value)?;
                Some(r)
            }
            None => None,
        };
        let mut credential = Credential {
            id: 0,
            channel,
            provider,
            name: name.trim().to_owned(),
            settings,
            secret_ref,
            created_at: self.now(),
            is_default: false,
        };
        let conn = self.workspace.conn();
        match store::credentials::insert(&conn, &credential) {
            Ok(id) => credential.id = id,
            Err(e) => {
                if let Some(r) = &credential.secret_ref
                    && let Err(cleanup) = self.secrets.delete(r)
                {
                    tracing::warn!("could not remove the secret of a refused credential: {cleanup:#}");
                }
                return Err(e.into());
            }
        }
        store::audit::record(&conn, self.now(), "admin", "add credential", &credential.name, channel.as_str())?;
        Ok(credential)
    }

    /// The secret of a credential, read from the secret store.
    pub fn credential_secret(&self, credential: &Credential) -> Result<Option<String>, ConsoleError> {
        // What the deployment gives (a server's environment) comes first, read only.
        if let Some(s) = secrets::deployment_secret(&credential.name) {
            return Ok(Some(s));
        }
        match &credential.secret_ref {
            Some(r) => Ok(self.secrets.get(r)?),
            None => Ok(None),
        }
    }

    fn credentials_event(&self) -> Event {
        match self.credentials() {
            Ok(list) => Event::Credentials(list),
            Err(e) => Event::Failed(UserError::new("Could not list the credentials", &e)),
        }
    }

    /// The workspace's cap on marketing messages per profile in 24 hours (all channels), if any.
    pub fn frequency_cap(&self) -> Result<Option<u32>, ConsoleError> {
        let value = store::customer_data::meta(&self.workspace.conn(), FREQUENCY_CAP)?;
        Ok(value.and_then(|v| v.parse().ok()).filter(|n| *n > 0))
    }

    /// Sets (or with `None` removes) the cap on marketing messages per profile in 24 hours.
    pub fn set_frequency_cap(&self, cap: Option<u32>) -> Result<(), ConsoleError> {
        let conn = self.workspace.conn();
        match cap.filter(|n| *n > 0) {
            Some(n) => store::customer_data::set_meta(&conn, FREQUENCY_CAP, &n.to_string())?,
            None => store::customer_data::delete_meta(&conn, FREQUENCY_CAP)?,
        }
        let detail = cap.map_or_else(|| "none".to_owned(), |n| n.to_string());
        store::audit::record(&conn, self.now(), "admin", "frequency cap", &detail, "")?;
        Ok(())
    }

    /// Changes a saved credential: name and settings, and the secret when `secret` is given
    /// (stored in the keychain first; the workspace keeps only its reference).
    pub fn update_credential(
        &self,
        id: i64,
        name: &str,
        settings: serde_json::Value,
        secret: Option<&str>,
    ) -> Result<Credential, ConsoleError> {
        let mut credential = self
            .credentials()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| StoreError::NotFound { what: format!("Credential {id}") })?;
        crate::channels::check_settings(credential.provider, &settings).map_err(StoreError::Invalid)?;
        let mut new_ref = None;
        if let Some(value) = secret {
            let r = credential
                .secret_ref
                .clone()
                .unwrap_or_else(|| SecretRef(format!("credential/{}", uuid::Uuid::new_v4())));
            self.secrets.set(&r, value)?;
            if credential.secret_ref.is_none() {
                new_ref = Some(r.clone());
            }
            credential.secret_ref = Some(r);
        }
        credential.name = name.trim().to_owned();
        credential.settings = settings;
        let conn = self.workspace.conn();
        if let Err(e) = store::credentials::update(&conn, &credential) {
            if let Some(r) = &new_ref
                && let Err(cleanup) = self.secrets.delete(r)
            {
                tracing::warn!("could not remove the secret of a refused change: {cleanup:#}");
            }
            return Err(e.into());
        }
        store::audit::record(
            &conn,
            self.now(),
            "admin",
            "change credential",
            &credential.name,
            credential.channel.as_str(),
        )?;
        Ok(credential)
    }

    /// Deletes a credential and its secret.
    /// Every problem with a credential's settings, each with the key of its field ("" for the
    /// whole form), so that a form can show them all at once.
    pub fn credential_problems(provider: ProviderKind, settings: &serde_json::Value) -> Vec<(&'static str, String)> {
        crate::channels::field_problems(provider, settings)
    }

    /// Makes credential `id` its channel's default: what activities that name no credential
    /// send with from now on.
    pub fn make_default_credential(&self, id: i64) -> Result<(), ConsoleError> {
        let conn = self.workspace.conn();
        store::credentials::set_default(&conn, id)?;
        store::audit::record(&conn, self.now(), "admin", "make default credential", &id.to_string(), "")?;
        Ok(())
    }

    pub fn delete_credential(&self, id: i64) -> Result<(), ConsoleError> {
        let conn = self.workspace.conn();
        if let Some(r) = store::credentials::delete(&conn, id)? {
            self.secrets.delete(&r)?;
        }
        store::audit::record(&conn, self.now(), "admin", "delete credential", &id.to_string(), "")?;
        Ok(())
    }

    /// Whether the window should generate the first start's demo: on a new workspace, and
    /// again on one whose first generation was interrupted (it holds nothing yet).
    pub fn first_start_demo_due(&self, fresh: bool) -> Result<bool, ConsoleError> {
        let conn = self.workspace.conn();
        if fresh {
            store::customer_data::set_meta(&conn, demo::FIRST_START_PENDING, "1")?;
            return Ok(true);
        }
        let pending = store::customer_data::meta(&conn, demo::FIRST_START_PENDING)?.is_some();
        Ok(pending && store::customer_data::occupancy(&conn)?.is_none())
    }

    /// Whether the workspace holds no data at all (no data model, no campaign).
    pub fn is_empty(&self) -> Result<bool, ConsoleError> {
        Ok(store::customer_data::occupancy(&self.workspace.conn())?.is_none())
    }

    /// Writes the demo data into this workspace (blocking). See [`demo::generate`].
    pub fn generate_demo(
        &self,
        profiles: u64,
        seed: u64,
        replace: bool,
        progress: &mut dyn FnMut(f32) -> bool,
    ) -> Result<DemoSummary, ConsoleError> {
        let mut conn = self.workspace.connect()?;
        let options =
            DemoOptions { profiles, seed, today: self.now().to_zoned(jiff::tz::TimeZone::UTC).date(), replace };
        Ok(demo::generate(&mut conn, &options, self.now(), progress)?)
    }

    // ---- Commands from the UI. ----

    /// Starts the work a command asks for; results arrive as events.
    pub fn send(self: &Arc<Self>, command: Command) {
        match command {
            Command::CancelJob(id) => {
                if let Some(flag) = self.jobs.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
                    flag.store(true, Ordering::SeqCst);
                }
            }
            Command::GenerateDemo { profiles, replace } => self.start_demo_job(profiles, replace),
            Command::CountCanvas { campaign_id, canvas, generation, fresh } => {
                self.counter.latest.fetch_max(generation, Ordering::SeqCst);
                self.interrupt_count();
                self.spawn(move |console| {
                    let outcome = console.count_canvas(campaign_id, &canvas, generation, fresh);
                    vec![Event::CanvasCounted { campaign_id, generation, outcome }]
                });
            }
            Command::CancelCount { generation } => {
                self.counter.latest.fetch_max(generation, Ordering::SeqCst);
                self.interrupt_count();
            }
            Command::RunCampaign { campaign_id, again } => self.start_run(campaign_id, again),
            Command::StopRun { campaign_id, cancel } => {
                if let Some(flag) = self.runs.lock().unwrap_or_else(|p| p.into_inner()).get(&campaign_id) {
                    flag.store(if cancel { 2 } else { 1 }, Ordering::SeqCst);
                }
            }
            Command::ExportLedger { delivery, path } => {
                self.start_file_job(path, "ledger rows", move |c, path, cancelled| {
                    c.export_ledger(delivery, path, cancelled)
                });
            }
            Command::ExportTransition { campaign_id, transition, path } => {
                self.start_file_job(path, "rows", move |c, path, cancelled| {
                    c.export_transition(campaign_id, &transition, path, cancelled)
                });
            }
            other => self.spawn(move |console| console.handle(other)),
        }
    }

    fn spawn(self: &Arc<Self>, work: impl FnOnce(&Console) -> Vec<Event> + Send + 'static) {
        let console = Arc::clone(self);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.runtime.spawn_blocking(move || {
            for event in work(&console) {
                console.outbox.send(event);
            }
            console.in_flight.fetch_sub(1, Ordering::SeqCst);
            console.outbox.wake();
        });
    }

    fn handle(&self, command: Command) -> Vec<Event> {
        let refreshed = |console: &Console| match console.campaigns() {
            Ok(list) => Event::Campaigns(list),
            Err(e) => Event::Failed(UserError::new("Could not list the campaigns", &e)),
        };
        let after = |result: Result<(), ConsoleError>, context: &str| match result {
            Ok(()) => vec![refreshed(self)],
            Err(e) => vec![Event::Failed(UserError::new(context, &e)), refreshed(self)],
        };
        match command {
            Command::RefreshCampaigns => vec![refreshed(self)],
            Command::CreateCampaign { name, kind } => match self.create_campaign(&name, kind) {
                Ok(c) => vec![Event::CampaignCreated(c), refreshed(self)],
                Err(e) => vec![Event::Failed(UserError::new("Could not create the campaign", &e))],
            },
            Command::RenameCampaign { id, name } => {
                after(self.rename_campaign(id, &name).map(drop), "Could not rename the campaign")
            }
            Command::DuplicateCampaign { id } => {
                after(self.duplicate_campaign(id).map(drop), "Could not duplicate the campaign")
            }
            Command::DeleteCampaign { id } => after(self.delete_campaign(id), "Could not delete the campaign"),
            Command::ChangeLife { campaign_id, action } => match self.change_life(campaign_id, action) {
                Ok(c) => vec![Event::CampaignChanged(c), refreshed(self)],
                Err(e) => {
                    let what = match action {
                        LifeAction::Publish => "Could not publish the campaign",
                        LifeAction::Pause => "Could not pause the campaign",
                        LifeAction::Resume => "Could not resume the campaign",
                        LifeAction::Stop => "Could not stop the campaign",
                    };
                    vec![Event::Failed(UserError::new(what, &e))]
                }
            },
            Command::RefreshData => match self.data_overview() {
                Ok(o) => vec![Event::DataOverview(o)],
                Err(e) => vec![Event::Failed(UserError::new("Could not read the data model", &e))],
            },
            Command::OpenCanvas { campaign_id } => match self.open_canvas(campaign_id) {
                Ok((campaign, canvas, context)) => {
                    vec![Event::CanvasOpened { campaign, canvas, context: Box::new(context) }]
                }
                Err(e) => vec![Event::Failed(UserError::new("Could not open the canvas", &e))],
            },
            Command::SendProof { campaign_id, canvas, activity, index, addresses } => {
                let result = self.send_proof(campaign_id, &canvas, &activity, index, &addresses);
                let mut events = vec![Event::ProofSent { campaign_id, activity, result }];
                events.extend(self.handle(Command::RefreshDeliveries));
                events
            }
            Command::PreviewMessage { campaign_id, canvas, activity, index } => {
                let result = self.preview_message(campaign_id, &canvas, &activity, index);
                vec![Event::MessagePreview { campaign_id, activity, index, result }]
            }
            Command::RefreshFrequencyCap => match self.frequency_cap() {
                Ok(cap) => vec![Event::FrequencyCap(cap)],
                Err(e) => vec![Event::Failed(UserError::new("Could not read the frequency cap", &e))],
            },
            Command::SetFrequencyCap { cap } => match self.set_frequency_cap(cap).and_then(|()| self.frequency_cap()) {
                Ok(cap) => vec![Event::FrequencyCap(cap)],
                Err(e) => vec![Event::Failed(UserError::new("Could not set the frequency cap", &e))],
            },
            Command::RefreshCredentials => vec![self.credentials_event()],
            Command::SaveCredential { id, channel, provider, name, settings, secret } => {
                let secret = secret.as_ref().map(|s| s.0.as_str());
                let saved = match id {
                    Some(id) => self.update_credential(id, &name, settings, secret),
                    None => self.add_credential(channel, provider, &name, settings, secret),
                };
                vec![Event::CredentialSaved(saved.map_err(|e| e.to_string())), self.credentials_event()]
            }
            Command::DeleteCredential { id } => match self.delete_credential(id) {
                Ok(()) => vec![self.credentials_event()],
                Err(e) => vec![Event::Failed(UserError::new("Could not delete the credential", &e))],
            },
            Command::MakeDefaultCredential { id } => match self.make_default_credential(id) {
                Ok(()) => vec![self.credentials_event()],
                Err(e) => vec![Event::Failed(UserError::new("Could not make the credential the default", &e))],
            },
            Command::SendTestMessage { id, channel, provider, settings, secret, to } => {
                vec![Event::CredentialVerified(self.send_test_message(
                    id,
                    channel,
                    provider,
                    &settings,
                    secret.map(|s| s.0),
                    &to,
                ))]
            }
            Command::VerifyCredential { id, provider, settings, secret } => {
                vec![Event::CredentialVerified(self.verify_credential(id, provider, &settings, secret.map(|s| s.0)))]
            }
            Command::ResolveUnconfirmed { delivery, sent } => {
                let mut events = Vec::new();
                if let Err(e) = self.resolve_unconfirmed(delivery, sent) {
                    events.push(Event::Failed(UserError::new("Could not settle the unconfirmed messages", &e)));
                }
                events.extend(self.handle(Command::RefreshDeliveries));
                events
            }
            Command::RefreshDeliveries => match self.deliveries(None) {
                Ok(list) => vec![Event::Deliveries(list)],
                Err(e) => vec![Event::Failed(UserError::new("Could not list the deliveries", &e))],
            },
            Command::LedgerPage { delivery, status, offset } => {
                match store::deliveries::page(&self.workspace.conn(), delivery, status.as_deref(), offset, LEDGER_PAGE)
                {
                    Ok(page) => vec![Event::LedgerPage { delivery, status, offset, page }],
                    Err(e) => vec![Event::Failed(UserError::new("Could not read the ledger", &e.into()))],
                }
            }
            Command::DistinctValues { entity, column } => {
                let values = self.distinct_values(&entity, &column).unwrap_or_else(|e| {
                    tracing::warn!("could not read the values of {entity}.{column}: {e:#}");
                    None
                });
                vec![Event::DistinctValues { entity, column, values }]
            }
            Command::SaveCanvas { campaign_id, canvas } => {
                let outcome = self
                    .save_canvas(campaign_id, &canvas)
                    .map_err(|e| UserError::new("Could not save the canvas: your changes are kept on screen", &e));
                match &outcome {
                    Ok(_) => vec![Event::CanvasSaved { campaign_id, outcome }],
                    Err(e) => vec![Event::Failed(e.clone()), Event::CanvasSaved { campaign_id, outcome }],
                }
            }
            Command::InspectTransition { campaign_id, transition, offset } => {
                match self.transition_rows(campaign_id, &transition, offset, ROWS_PAGE) {
                    Ok((total, columns, rows)) => {
                        vec![Event::TransitionRows { campaign_id, transition, offset, total, columns, rows }]
                    }
                    Err(e) => vec![Event::Failed(UserError::new("Could not read the rows of this transition", &e))],
                }
            }
            // Handled in `send`.
            Command::GenerateDemo { .. }
            | Command::CancelJob(_)
            | Command::CountCanvas { .. }
            | Command::CancelCount { .. }
            | Command::RunCampaign { .. }
            | Command::StopRun { .. }
            | Command::ExportLedger { .. }
            | Command::ExportTransition { .. } => Vec::new(),
        }
    }

    fn start_run(self: &Arc<Self>, campaign_id: i64, again: bool) {
        let flag = Arc::new(std::sync::atomic::AtomicU8::new(0));
        {
            let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
            if runs.contains_key(&campaign_id) {
                return; // Already sending.
            }
            runs.insert(campaign_id, Arc::clone(&flag));
        }
        let runs = Arc::clone(&self.runs);
        self.spawn(move |console| {
            let outbox = console.outbox.clone();
            let mut last = Instant::now() - Duration::from_secs(1);
            let mut progress = |_: &Campaign, p: &crate::delivery::Progress| {
                if last.elapsed() >= Duration::from_millis(100) || p.remaining == 0 {
                    last = Instant::now();
                    outbox.offer(Event::RunProgress { campaign_id, progress: *p });
                }
            };
            let stop = || flag.load(Ordering::SeqCst) != 0;
            let result = console.run_campaign(&campaign_id.to_string(), again, None, &mut progress, &stop);
            let cancelled = flag.load(Ordering::SeqCst) == 2;
            let outcome = match result {
                Ok(summary) => {
                    let mut settled = Ok(0);
                    if cancelled {
                        settled =
                            store::deliveries::cancel_unfinished(&console.workspace.conn(), campaign_id, console.now());
                    }
                    match settled {
                        Ok(n) if cancelled => Ok(format!("Sending cancelled: {n} messages were not sent")),
                        Ok(_) if stop() => Ok("Sending paused: Resume carries on where it stopped".to_owned()),
                        Ok(_) => {
                            let sent: u64 =
                                summary.deliveries.iter().map(|d| d.count(store::deliveries::status::SENT)).sum();
                            Ok(format!("\u{201c}{}\u{201d} sent: {sent} messages", summary.campaign.name))
                        }
                        Err(e) => Err(UserError::new("The run was stopped but not settled", &e.into())),
                    }
                }
                Err(e) => Err(UserError::new("The campaign did not run", &e)),
            };
            runs.lock().unwrap_or_else(|p| p.into_inner()).remove(&campaign_id);
            let mut events = vec![Event::RunFinished { campaign_id, outcome }];
            // Its status (Completed after a one-shot run) and last run changed.
            if let Ok(c) = store::campaigns::get(&console.workspace.conn(), campaign_id) {
                events.push(Event::CampaignChanged(c));
            }
            events.extend(console.handle(Command::RefreshCampaigns));
            events.extend(console.handle(Command::RefreshDeliveries));
            events
        });
    }

    /// Whether a campaign is sending now.
    pub fn is_running(&self, campaign_id: i64) -> bool {
        self.runs.lock().unwrap_or_else(|p| p.into_inner()).contains_key(&campaign_id)
    }

    fn start_demo_job(self: &Arc<Self>, profiles: u64, replace: bool) {
        let id = self.next_job.fetch_add(1, Ordering::SeqCst);
        let cancel = Arc::new(AtomicBool::new(false));
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).insert(id, Arc::clone(&cancel));
        let label = format!("Generating demo data ({profiles} profiles)");
        self.outbox.offer(Event::JobStarted { id, label });
        let jobs = Arc::clone(&self.jobs);
        self.spawn(move |console| {
            let outbox = console.outbox.clone();
            let mut last = -1.0f32;
            let mut progress = |fraction: f32| {
                if fraction - last >= 0.01 || fraction >= 1.0 {
                    last = fraction;
                    outbox.offer(Event::JobProgress { id, fraction });
                }
                !cancel.load(Ordering::SeqCst)
            };
            let outcome = console
                .generate_demo(profiles, demo::DEFAULT_SEED, replace, &mut progress)
                .map(|s| format!("Demo ready: {} profiles, {} rows in all", s.profiles, s.total_rows()))
                .map_err(|e| UserError::new("The demo data was not generated", &e));
            jobs.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            let mut events = vec![Event::JobFinished { id, outcome }];
            events.extend(console.handle(Command::RefreshData));
            events.extend(console.handle(Command::RefreshCampaigns));
            events
        });
    }
}

/// Writes a file through a temporary one in the same folder, renamed over `path` at the end:
/// a failed or cancelled write leaves no half-written file. `write` returns how many rows.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(std::io::BufWriter<&std::fs::File>) -> Result<u64, ConsoleError>,
) -> Result<u64, ConsoleError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_error = |e: std::io::Error| {
        ConsoleError::Audience(AudienceError::File(format!("{} could not be written: {e}", path.display())))
    };
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(file_error)?;
    let n = write(std::io::BufWriter::new(tmp.as_file()))?;
    tmp.persist(path).map_err(|e| file_error(e.error))?;
    Ok(n)
}
