//! The application service: every user action is a method here. The UI, the CLI and (later)
//! the HTTP server call it; none of them touch SQL, the keychain or the runtime directly.
//!
//! Two ways in:
//! - blocking methods (`campaigns()`, `create_campaign()`, …) for the CLI, the server and tests;
//! - [`Console::send_as`] with a [`Command`] for the UI: the work runs on the Console's tokio
//!   runtime and its results come back as [`Event`]s through a bounded channel, each with the
//!   request it answers, read with [`Console::poll_answer`] once per frame. After each event
//!   the repaint hook is called.
//!
//! One file per capability, each an `impl Console` answering its own sub-enum of [`Command`]:
//! `campaigns`, `data` (with `data_model`, the model editor, and `browse`, the row browser),
//! `counting`, `proofs`, `runs` (with `scheduling`), `credentials`, `sms` (what SMS providers send
//! back) and `imports`.
//! They call only this file and the core beside it (`jobs`: the background-job runner;
//! `routes`: which provider a send goes through; `error`, `command`, `event`) and the modules
//! below the Console, never each other (`tests/architecture.rs` checks it). No SQL here: the
//! store owns it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::mpsc;

use crate::audience::{CompileOptions, Dialect};
use crate::model::{Campaign, CampaignKind, Canvas, Credential, DataModel};
use crate::secrets::{self, KeychainStatus, MemoryStore, SecretStore};
use crate::store::{self, Workspace};

mod api_campaigns;
mod api_events;
mod api_intake;
mod api_keys;
mod api_trigger;
mod browse;
mod campaign_files;
mod campaigns;
mod command;
mod connector_fire;
mod connectors;
mod counting;
mod credentials;
mod data;
mod data_model;
mod error;
mod event;
mod global_report;
mod imports;
mod jobs;
mod lease;
mod proofs;
mod reports;
mod routes;
mod runs;
mod scheduler;
mod scheduling;
mod sent_messages;
mod server;
mod sms;
mod sms_configurations;
mod tracked;
mod tracking;
mod visitor_folders;
mod x_account;
mod x_sync;
mod x_workflow;

pub use crate::clock::Clock;
pub use crate::store::visitor_folders::Folder;
pub use api_campaigns::{ApiCampaignPage, ApiPreview, CURL_REQUEST_ID, KEY_PLACEHOLDER};
pub use api_events::IngestReport;
pub use api_keys::{AuthError, KEY_PREFIX};
pub use api_trigger::TriggerError;
pub use browse::{BROWSE_PAGE, DETAIL_ROWS};
pub use campaign_files::ImportedCampaign;
pub use command::{ApiCampaignCommand, ApiKeyCommand, ConnectorCommand, FolderCommand, ReportCommand, ReportOf};
pub use command::{
    BrowseCommand, CampaignCommand, CanvasCommand, ChannelCommand, Command, DataCommand, ImportCommand, JobCommand,
    ModelEdit, ProofCommand, RunCommand, ServerCommand, SmsCommand, XAccountCommand, XCommand,
};
pub use connectors::{ConnectorPage, PENDING_SHOWN, PendingCounts, SourceCampaign, reason_words};
pub use counting::{MAX_CHOICES, ROWS_PAGE, RowsPage};
pub use error::{ConsoleError, UserError};
pub use event::{
    ApiCampaignEvent, CampaignEvent, CampaignFileDone, CanvasContext, CanvasEvent, ChannelEvent, ConnectorEvent,
    CountOutcome, DataEvent, Event, ImportEvent, JobEvent, KeptCounts, RunEvent,
};
pub use imports::{ImportReport, REJECTS_KEPT};
pub use proofs::MessagePreview;
pub use routes::{provider_form, providers_for};
pub use runs::{LEDGER_PAGE, RunSummary};
pub use scheduler::SCHEDULER_TICK;
pub use scheduling::{LaunchReport, LifeAction, scheduler_plan};
pub use sms::{INBOUND_KEPT, Inbound, Reported, SmsOverview, WebhookError, WebhookRequest};
pub use tracked::Unsubscribed;
pub use x_account::{Avatar, XAccountPage};
pub use x_sync::{SyncProgress, VISITOR_SEARCH, XOverview};
pub use x_workflow::{WorkflowChange, workflow_plan};

/// The workspace setting that holds the server's settings (JSON).
const SERVER_SETTINGS_KEY: &str = "server_settings";

/// How many events may wait for the UI before senders wait (progress updates are dropped
/// instead, since a newer one always follows).
const EVENT_CAPACITY: usize = 256;

/// Secrets by slot (a provider's form names its slots: `secret`, `api_key`, …).
pub type SecretValues = std::collections::BTreeMap<String, String>;

/// Identifies a command the UI sent: the events that answer it carry it back, so the screen
/// that asked knows its answer (no flag to guess with).
pub type RequestId = u64;

/// An event, with the request it answers (`None`: news nobody asked for, or progress).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub request: Option<RequestId>,
    pub event: Event,
}

static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

/// A new request id, unique in this process.
pub fn next_request() -> RequestId {
    NEXT_REQUEST.fetch_add(1, Ordering::Relaxed)
}

thread_local! {
    /// The request being dispatched on this thread (`send_as`), for `spawn` to tag its answers.
    static DISPATCHING: std::cell::Cell<Option<RequestId>> = const { std::cell::Cell::new(None) };
}

/// Identifies a background job.
pub type JobId = u64;

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

/// A list that a change elsewhere makes stale.
#[derive(Clone, Copy, Debug)]
enum Refresh {
    Campaigns,
    Data,
    Deliveries,
}

type Repaint = Arc<dyn Fn() + Send + Sync>;

/// Sends events to the UI and wakes it.
#[derive(Clone)]
struct Outbox {
    tx: mpsc::Sender<Answer>,
    repaint: Arc<RwLock<Option<Repaint>>>,
}

impl Outbox {
    fn wake(&self) {
        if let Some(f) = self.repaint.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            f();
        }
    }

    /// Waits for room (called off the runtime's async threads, from blocking tasks).
    fn send(&self, event: impl Into<Event>) {
        self.answer(None, event);
    }

    /// Sends an event answering `request`, waiting for room.
    fn answer(&self, request: Option<RequestId>, event: impl Into<Event>) {
        if self.tx.blocking_send(Answer { request, event: event.into() }).is_err() {
            tracing::debug!("event dropped: the receiver is gone");
        }
        self.wake();
    }

    /// Drops the event when the queue is full: for progress, which a newer one replaces.
    fn offer(&self, event: impl Into<Event>) {
        if self.tx.try_send(Answer { request: None, event: event.into() }).is_ok() {
            self.wake();
        }
    }
}

/// The application service. See the module documentation.
pub struct Console {
    runtime: tokio::runtime::Runtime,
    workspace: Arc<Workspace>,
    /// Small writes that arrive together, committed together (the trigger API's).
    writer: store::group_commit::GroupCommit,
    /// Trigger calls accepted and not yet resolved.
    executions: Arc<api_intake::Executions>,
    secrets: Arc<dyn SecretStore>,
    keychain: KeychainStatus,
    clock: Clock,
    log_dir: Option<PathBuf>,
    outbox: Outbox,
    inbox: Mutex<mpsc::Receiver<Answer>>,
    jobs: jobs::Jobs,
    in_flight: Arc<AtomicUsize>,
    /// Work ever started (see [`Console::started_work`]).
    started: Arc<AtomicUsize>,
    counter: Arc<counting::CanvasCounter>,
    /// The campaigns sending now, with their stop flag (0 go, 1 pause, 2 cancel).
    runs: Arc<Mutex<HashMap<i64, Arc<std::sync::atomic::AtomicU8>>>>,
    /// Each credential's rate limit and concurrency, shared by every delivery sending with it;
    /// replaced when the credential's pace changes.
    throttles: Mutex<HashMap<String, Arc<crate::delivery::Throttle>>>,
    /// The clock was given (`--clock`, tests), not the system's.
    clock_set: bool,
    /// The workspace's email tracking key, once read.
    tracking_key: Mutex<Option<Arc<crate::delivery::tracking::TrackingKey>>>,
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
        let writer = store::group_commit::GroupCommit::start(Arc::clone(&workspace)).map_err(ConsoleError::Runtime)?;
        Ok(Self {
            runtime,
            workspace,
            writer,
            executions: Arc::default(),
            secrets,
            keychain,
            clock_set: options.clock.is_some(),
            clock: options.clock.unwrap_or_else(crate::clock::system),
            log_dir: options.log_dir,
            outbox: Outbox { tx, repaint: Arc::new(RwLock::new(None)) },
            inbox: Mutex::new(rx),
            jobs: jobs::Jobs::default(),
            in_flight: Arc::new(AtomicUsize::new(0)),
            started: Arc::new(AtomicUsize::new(0)),
            counter: Arc::new(counting::CanvasCounter::default()),
            runs: Arc::new(Mutex::new(HashMap::new())),
            throttles: Mutex::new(HashMap::new()),
            tracking_key: Mutex::new(None),
        })
    }

    /// Called after every event is sent, from any thread (the UI passes
    /// `egui::Context::request_repaint`).
    pub fn set_repaint(&self, repaint: impl Fn() + Send + Sync + 'static) {
        *self.outbox.repaint.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(repaint));
    }

    /// The next event waiting for the UI, without blocking.
    pub fn poll_event(&self) -> Option<Event> {
        self.poll_answer().map(|a| a.event)
    }

    /// The next event waiting for the UI with the request it answers, without blocking.
    pub fn poll_answer(&self) -> Option<Answer> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner()).try_recv().ok()
    }

    /// Whether no command is still being worked on (tests wait for this).
    pub fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0
    }

    /// How many pieces of work the Console has started: with [`Console::is_idle`], a UI test
    /// tells that nothing was asked for (and answered) between two looks.
    pub fn started_work(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }

    pub fn workspace_dir(&self) -> &Path {
        self.workspace.dir()
    }

    /// Whether `dir` holds a workspace already (opening it would not create one).
    pub fn holds_workspace(dir: &Path) -> bool {
        dir.join(store::DATABASE_FILE).exists()
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

    /// Whether the clock was set (`--clock`) rather than the system's: the status bar says so.
    pub fn clock_is_set(&self) -> bool {
        self.clock_set
    }

    // ---- Blocking API (CLI, server, tests; the UI goes through `send`). ----

    pub fn campaigns(&self) -> Result<Vec<Campaign>, ConsoleError> {
        Ok(store::campaigns::list(&self.workspace.conn())?)
    }

    pub fn campaign(&self, name_or_id: &str) -> Result<Campaign, ConsoleError> {
        Ok(store::campaigns::find(&self.workspace.conn(), name_or_id)?)
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

    /// The data model and the options `canvas` compiles with now: the data version, the saved
    /// audiences, the facts of the files it reconciles, and the clock at the start of the
    /// current minute (the clock is part of the work tables' cache key, so recounts within a
    /// minute reuse every unchanged one).
    pub(crate) fn compile_options(
        &self,
        dialect: Dialect,
        canvas: &Canvas,
    ) -> Result<(DataModel, CompileOptions), ConsoleError> {
        let (model, mut options) = self.validation_options(dialect, canvas)?;
        // What the workspace's data guarantees (found once per data version, by a scan at
        // worst: on a connection of its own, not holding the shared one meanwhile).
        if dialect == Dialect::Sqlite {
            let conn = self.workspace.connect()?;
            // The facts of older data versions (and days) are read no more.
            let today = options.now.to_zoned(jiff::tz::TimeZone::UTC).date();
            let dropped = store::column_facts::drop_stale_facts(&conn, options.data_version, today)?;
            if dropped > 0 {
                tracing::info!("{dropped} facts kept for older data were dropped");
            }
            store::column_facts::find_for(&conn, canvas, &model, &mut options)?;
            options.kept_facts = true;
        }
        Ok((model, options))
    }

    /// The options `canvas` is checked with ([`Self::compile_options`] without what the data
    /// guarantees, which only makes counts faster: never looked for, so a check scans no
    /// table). A run compiled with them is for its problems only, not to be counted.
    pub(crate) fn validation_options(
        &self,
        dialect: Dialect,
        canvas: &Canvas,
    ) -> Result<(DataModel, CompileOptions), ConsoleError> {
        let conn = self.workspace.conn();
        let model = store::data_model::load(&conn)?;
        let data_version = store::customer_data::data_version(&conn)?;
        let audiences = store::audiences::list(&conn)?;
        let now = self.now();
        let now = jiff::Timestamp::from_second(now.as_second().div_euclid(60) * 60).unwrap_or(now);
        let credentials = store::credentials::list(&conn)?;
        let default_x_service =
            crate::model::default_credential(&credentials, crate::model::Channel::X).map(|c| c.name.clone());
        let options =
            CompileOptions { audiences, default_x_service, ..CompileOptions::new(dialect, now, data_version) }
                .with_files(canvas);
        Ok((model, options))
    }

    pub fn credentials(&self) -> Result<Vec<Credential>, ConsoleError> {
        Ok(store::credentials::list(&self.workspace.conn())?)
    }

    /// Where the server listens and providers reach it, as the workspace keeps them.
    pub fn server_settings(&self) -> Result<crate::model::server::ServerSettings, ConsoleError> {
        let kept = store::customer_data::meta(&self.workspace.conn(), SERVER_SETTINGS_KEY)?;
        // Settings this version cannot read are the defaults, not a failure to open.
        Ok(kept.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default())
    }

    /// Starts the work a command asks for; results arrive as events. The one dispatcher: each
    /// capability's file answers its own sub-enum.
    pub fn send(self: &Arc<Self>, command: impl Into<Command>) {
        self.dispatch(command.into());
    }

    /// Sends `command` as request `request`: the events that answer it carry the id.
    pub fn send_as(self: &Arc<Self>, request: RequestId, command: impl Into<Command>) {
        DISPATCHING.with(|d| d.set(Some(request)));
        self.dispatch(command.into());
        DISPATCHING.with(|d| d.set(None));
    }

    fn dispatch(self: &Arc<Self>, command: Command) {
        match command {
            Command::Job(JobCommand::Cancel(id)) => self.jobs.cancel(id),
            Command::Campaign(c) => self.spawn(move |console| console.campaign_command(c)),
            Command::Data(c) => self.data_command(c),
            Command::Proof(c) => self.spawn(move |console| console.proof_command(c)),
            Command::Canvas(c) => self.canvas_command(c),
            Command::Run(c) => self.run_command(c),
            Command::Channel(c) => self.spawn(move |console| console.channel_command(c)),
            Command::Sms(c) => self.spawn(move |console| console.sms_command(c)),
            Command::Server(c) => self.spawn(move |console| console.server_command(c)),
            Command::X(c) => self.x_command(c),
            Command::XAccount(c) => self.spawn(move |console| console.x_account_command(c)),
            Command::Folder(c) => self.spawn(move |console| console.folder_command(c)),
            Command::ApiCampaign(c) => self.spawn(move |console| console.api_campaign_command(c)),
            Command::Connector(c) => self.spawn(move |console| console.connector_command(c)),
            Command::ApiKey(c) => self.spawn(move |console| console.api_key_command(c)),
            Command::Import(c) => self.import_command(c),
            Command::Browse(c) => self.browse_command(c),
            Command::Report(c) => self.report_command(c),
        }
    }

    /// The event that brings a list up to date after a change (a capability's answer to
    /// another's work goes through here, never from file to file).
    fn refreshed(&self, what: Refresh) -> Event {
        match what {
            Refresh::Campaigns => self.campaigns_event(),
            Refresh::Data => self.overview_event(),
            Refresh::Deliveries => self.deliveries_event(),
        }
    }

    fn spawn(self: &Arc<Self>, work: impl FnOnce(&Console) -> Vec<Event> + Send + 'static) {
        let console = Arc::clone(self);
        let request = DISPATCHING.with(std::cell::Cell::get);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.started.fetch_add(1, Ordering::SeqCst);
        self.runtime.spawn_blocking(move || {
            for event in work(&console) {
                console.outbox.answer(request, event);
            }
            console.in_flight.fetch_sub(1, Ordering::SeqCst);
            console.outbox.wake();
        });
    }
}
