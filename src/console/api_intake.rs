//! The trigger API's intake. A call is checked (its key, its campaign: live and within its
//! dates, its body against the form) and kept in one grouped write with the calls that arrive
//! with it; its answer (202, every recipient queued) waits for that commit only. The call then
//! goes to the executions' thread, which resolves its recipients, writes its ledger and sends
//! (see `api_trigger.rs`). The context stays in memory all along.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use super::api_trigger::{TriggerError, accepted, execution_of};
use super::{Console, ConsoleError};
use crate::model::api::{ApiCampaign, Execution, MAX_RECIPIENTS, RESERVED_CONTEXT, TriggerRequest};
use crate::model::{Campaign, CampaignKind, CampaignStatus};
use crate::store::deliveries::{self as ledger, AddressKind};
use crate::store::{self, StoreError};

/// The most accepted calls waiting for their recipients to be resolved; a call beyond is
/// refused (503) until the executions catch up.
pub const MOST_QUEUED: usize = 20_000;

/// How many accepted calls the executions' thread takes at once.
const MOST_PER_TURN: usize = 200;

/// An accepted call waiting for its recipients to be resolved.
pub(super) struct Queued {
    pub execution_id: String,
    pub campaign_id: i64,
    pub request: TriggerRequest,
}

/// The intake's state: the accepted calls not yet resolved, whether the thread resolving them
/// runs, and the forms calls are checked against.
#[derive(Default)]
pub(super) struct Executions {
    queue: Mutex<VecDeque<Queued>>,
    /// The forms the intake checks calls against.
    forms: Forms,
    wake: Condvar,
    started: AtomicBool,
}

impl Executions {
    fn len(&self) -> usize {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no accepted call waits (the sweep of calls a stopped server left only runs
    /// then: it cannot mistake one of this process's for one of theirs).
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Console {
    /// Accepts a trigger call of API campaign `campaign_id` with key `api_key`: the execution,
    /// every recipient queued (or, for a request id seen before, where it stands: nothing new
    /// is sent), and whether it is new. A refusal writes nothing.
    pub async fn accept_trigger(
        self: &Arc<Self>,
        campaign_id: i64,
        api_key: i64,
        request: TriggerRequest,
    ) -> Result<(Execution, bool), TriggerError> {
        let waiting = self.executions.len();
        if waiting >= MOST_QUEUED {
            return Err(TriggerError::Busy(format!(
                "{waiting} calls are waiting to be sent: try again in a few seconds"
            )));
        }
        self.start_executions()?;
        let now = self.now();
        // Read and checked on the reader connection: only the keeping is written.
        let checked =
            self.workspace.read(|conn| Ok(checked_call(conn, &self.executions.forms, now, campaign_id, &request)));
        checked.map_err(TriggerError::from)??;
        let request_id = request.request_id.clone();
        let entries: Vec<super::api_trigger::Entry> =
            request.recipients.iter().map(|r| super::api_trigger::Entry::named(&r.namespace, r.id.trim())).collect();
        let recipients_json =
            serde_json::to_string(&entries).map_err(|source| ConsoleError::Json { what: "the execution", source })?;
        let stored = store::api::StoredExecution {
            id: uuid::Uuid::new_v4().simple().to_string(),
            campaign_id,
            request_id,
            delivery_id: None,
            recipients_json,
            created_at: now,
            resolved_at: None,
            failure: None,
        };
        let answer = self.writer.submit(move |conn| keep_call(conn, api_key, stored));
        let kept = answer.await.map_err(|_| {
            TriggerError::Console(ConsoleError::Invalid("the workspace's writer stopped before answering".into()))
        })??;
        match kept {
            Kept::New(stored) => {
                let execution = accepted(&stored, &request);
                self.executions.queue.lock().unwrap_or_else(|p| p.into_inner()).push_back(Queued {
                    execution_id: stored.id,
                    campaign_id,
                    request,
                });
                self.executions.wake.notify_one();
                Ok((execution, true))
            }
            Kept::Seen(stored) => {
                let execution = self.workspace.read(|conn| Ok(execution_of(conn, stored)));
                Ok((execution.map_err(TriggerError::from)??, false))
            }
        }
    }

    /// Starts the executions' thread unless it runs. It holds the Console weakly: it stops
    /// once the Console is gone and nothing waits.
    fn start_executions(self: &Arc<Self>) -> Result<(), TriggerError> {
        if self.executions.started.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let console = Arc::downgrade(self);
        let shared = Arc::clone(&self.executions);
        let started = std::thread::Builder::new()
            .name("cc-api-executions".into())
            .spawn(move || run_executions(&console, &shared));
        if let Err(e) = started {
            self.executions.started.store(false, Ordering::SeqCst);
            return Err(TriggerError::Console(ConsoleError::Runtime(e)));
        }
        Ok(())
    }
}

/// Takes the accepted calls in turn and resolves them, until the Console is gone.
fn run_executions(console: &Weak<Console>, shared: &Executions) {
    loop {
        let turn: Vec<Queued> = {
            let mut q = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
            while q.is_empty() {
                if console.strong_count() == 0 {
                    return;
                }
                q = shared.wake.wait_timeout(q, Duration::from_secs(1)).unwrap_or_else(|p| p.into_inner()).0;
            }
            let n = q.len().min(MOST_PER_TURN);
            q.drain(..n).collect()
        };
        // (Dropped here, on this thread, if it is the last: never on the Console's runtime.)
        let Some(console) = console.upgrade() else {
            tracing::error!("{} accepted API calls are left unsent: the app is closing", turn.len());
            return;
        };
        console.execute_accepted(turn);
    }
}

/// Whether campaign `campaign_id` takes `request` now: live, within its dates, the body right
/// for its form.
fn checked_call(
    conn: &rusqlite::Connection,
    forms: &Forms,
    now: jiff::Timestamp,
    campaign_id: i64,
    request: &TriggerRequest,
) -> Result<(), TriggerError> {
    let campaign = live_campaign(conn, campaign_id, now)?;
    let form = forms.form(conn, &campaign)?;
    check_request(request, &form)
}

/// The forms of API campaigns as last read, by campaign: a form read again is parsed again
/// only when its text changed.
#[derive(Default)]
pub(super) struct Forms(Mutex<std::collections::HashMap<i64, (String, Arc<ApiCampaign>)>>);

impl Forms {
    fn form(&self, conn: &rusqlite::Connection, campaign: &Campaign) -> Result<Arc<ApiCampaign>, ConsoleError> {
        let Some(json) = store::api::settings(conn, campaign.id)? else {
            return Ok(Arc::new(ApiCampaign::default()));
        };
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((text, form)) = kept.get(&campaign.id)
            && *text == json
        {
            return Ok(Arc::clone(form));
        }
        let form: ApiCampaign = serde_json::from_str(&json)
            .map_err(|e| StoreError::Damaged(format!("the form of \u{201c}{}\u{201d}: {e}", campaign.name)))?;
        let form = Arc::new(form);
        kept.insert(campaign.id, (json, Arc::clone(&form)));
        Ok(form)
    }
}

/// A call kept, or the one kept before with its request id.
enum Kept {
    New(store::api::StoredExecution),
    Seen(store::api::StoredExecution),
}

/// The grouped write of one call: kept, unless its request id was seen before.
fn keep_call(
    conn: &rusqlite::Connection,
    api_key: i64,
    stored: store::api::StoredExecution,
) -> Result<Kept, TriggerError> {
    if let Some(seen) = store::api::execution_by_request(conn, stored.campaign_id, &stored.request_id)? {
        return Ok(Kept::Seen(seen));
    }
    store::api::touch_key(conn, api_key, stored.created_at)?;
    store::api::insert_execution(conn, &stored, Some(api_key))?;
    Ok(Kept::New(stored))
}

/// API campaign `campaign_id`, if it takes calls now: live, within its dates.
fn live_campaign(
    conn: &rusqlite::Connection,
    campaign_id: i64,
    now: jiff::Timestamp,
) -> Result<crate::model::Campaign, TriggerError> {
    let found = store::campaigns::get_bare(conn, campaign_id);
    let campaign = match found {
        Ok(c) if c.kind == CampaignKind::ApiTriggered => c,
        Ok(c) => {
            return Err(TriggerError::NotFound(format!(
                "campaign {campaign_id} (\u{201c}{}\u{201d}) is not API-triggered",
                c.name
            )));
        }
        Err(StoreError::NotFound { .. }) => {
            return Err(TriggerError::NotFound(format!("no campaign has the id {campaign_id}")));
        }
        Err(e) => return Err(e.into()),
    };
    if campaign.status != CampaignStatus::Live {
        return Err(TriggerError::NotLive(format!(
            "\u{201c}{}\u{201d} is {}: it takes calls only while live (Review to activate)",
            campaign.name,
            campaign.status.label().to_lowercase()
        )));
    }
    let window = || {
        let day = |t: Option<jiff::Timestamp>| t.map_or_else(|| "any time".to_owned(), |t| t.to_string());
        format!("from {} to {}", day(campaign.starts_at), day(campaign.ends_at))
    };
    if campaign.starts_at.is_some_and(|s| now < s) || campaign.ends_at.is_some_and(|e| now > e) {
        return Err(TriggerError::OutsideWindow(format!(
            "\u{201c}{}\u{201d} takes calls {} (UTC); it is {now} now",
            campaign.name,
            window()
        )));
    }
    Ok(campaign)
}

/// Checks a call's body against the campaign's form; the first wrong field, with its pointer.
fn check_request(request: &TriggerRequest, form: &crate::model::api::ApiCampaign) -> Result<(), TriggerError> {
    let rid = request.request_id.trim();
    if rid.is_empty() || rid.chars().count() > 200 || rid != request.request_id {
        return Err(invalid(
            "/request_id".into(),
            "give a request id of 1 to 200 characters, without spaces around it",
        ));
    }
    let n = request.recipients.len();
    if n == 0 || n > MAX_RECIPIENTS {
        return Err(invalid(
            "/recipients".into(),
            format!("name 1 to {MAX_RECIPIENTS} recipients (this call names {n})"),
        ));
    }
    for (i, r) in request.recipients.iter().enumerate() {
        let at = |field: &str| format!("/recipients/{i}/{field}");
        if r.namespace != form.namespace {
            return Err(invalid(
                at("namespace"),
                format!("this campaign names recipients by {}, not \u{201c}{}\u{201d}", form.namespace, r.namespace),
            ));
        }
        let id = r.id.trim();
        let kind = match form.namespace.as_str() {
            "email" => Some(AddressKind::Email),
            "phone" => Some(AddressKind::Phone),
            _ => None,
        };
        let bad = id.is_empty() || id.chars().count() > 320 || kind.is_some_and(|k| !ledger::valid_address(k, id));
        if bad {
            let what = match kind {
                Some(AddressKind::Email) => "an email address",
                Some(AddressKind::Phone) => "a phone number in international form (+33612345678)",
                None => "an id of 1 to 320 characters",
            };
            return Err(invalid(at("id"), format!("\u{201c}{id}\u{201d} is not {what}")));
        }
        for (name, value) in &r.context {
            let pointer = format!("/recipients/{i}/context/{}", name.replace('~', "~0").replace('/', "~1"));
            if name == RESERVED_CONTEXT {
                return Err(invalid(pointer, format!("context.{RESERVED_CONTEXT} is reserved for the system")));
            }
            if !value.is_string() {
                return Err(invalid(pointer, format!("context values are strings, not {}", json_kind(value))));
            }
        }
        if let Some(missing) = form.context.iter().find(|a| a.required && !r.context.contains_key(&a.name)) {
            return Err(invalid(
                format!("/recipients/{i}/context/{}", missing.name),
                format!("context.{} is required by this campaign", missing.name),
            ));
        }
    }
    Ok(())
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

fn invalid(pointer: String, message: impl Into<String>) -> TriggerError {
    TriggerError::Invalid { pointer, message: message.into() }
}
