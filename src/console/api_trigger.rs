//! The execution API's work once a call is accepted (`api_intake.rs`): its recipients
//! resolved one by one (created when missing and allowed), its ledger written with the
//! execution's resolution in one grouped write, each message made with the call's context and
//! sent at once. The context lives in memory only: never in the workspace, the ledger included.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::api_campaigns::{api_scope, namespace_column};
use super::api_intake::Queued;
use super::{Console, ConsoleError};
use crate::channels::{Outgoing, SendError};
use crate::model::Channel;
use crate::model::api::{Execution, RecipientStatus, TriggerRequest};
use crate::store::deliveries::{self as ledger, AddressKind, LedgerStatus, Outcome};
use crate::store::{self, StoreError};

/// Why a call was refused (nothing was written) or could not be done.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// No such campaign, or not one the API triggers: 404.
    #[error("{0}")]
    NotFound(String),
    /// The campaign is not live, or cannot send as it is: 409.
    #[error("{0}")]
    NotLive(String),
    /// Before its start or after its end: 422.
    #[error("{0}")]
    OutsideWindow(String),
    /// A field of the body is wrong: 422, with a JSON pointer to it.
    #[error("{pointer}: {message}")]
    Invalid { pointer: String, message: String },
    /// Too many accepted calls wait to be sent: 503, try again shortly.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Console(#[from] ConsoleError),
}

impl From<StoreError> for TriggerError {
    fn from(e: StoreError) -> Self {
        Self::Console(ConsoleError::Store(e))
    }
}

/// One recipient of an execution as kept (its namespace's id and profile; never its context).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Entry {
    namespace: String,
    id: String,
    /// Its ledger row, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    #[serde(default)]
    created: bool,
}

impl Entry {
    /// A recipient as a call names it, before it is resolved.
    pub(super) fn named(namespace: &str, id: &str) -> Self {
        Self { namespace: namespace.to_owned(), id: id.to_owned(), key: None, profile: None, created: false }
    }
}

/// Why none of a campaign's accepted calls can be sent, in words.
#[derive(Debug)]
struct CannotSend(String);

/// A message made for one recipient, waiting to be sent.
struct Made {
    row: i64,
    profile: String,
    message: Result<Outgoing, NotMade>,
}

/// What the calls of one campaign share, worked out once for the calls taken together.
struct Prepared {
    campaign_id: i64,
    form: crate::model::api::ApiCampaign,
    profile: crate::model::Entity,
    /// The namespace's column.
    column: String,
    address: Option<String>,
    opt_in: Option<String>,
    templates: crate::delivery::Templates,
    route: super::routes::Route,
    credential: Option<i64>,
    configuration: Option<i64>,
    short_links: Option<String>,
    tracking_base: Option<String>,
    tracking: Option<crate::delivery::tracking::Tracking>,
    message_json: String,
}

/// How many calls share one grouped write: a few, so that calls arriving meanwhile wait for
/// little.
const CALLS_PER_WRITE: usize = 4;

impl Console {
    /// Resolves and sends accepted calls (the executions' thread calls it): the calls of a
    /// campaign share what they can, a few calls go in each grouped write.
    pub(super) fn execute_accepted(&self, turn: Vec<Queued>) {
        let mut groups: Vec<(i64, Vec<Queued>)> = Vec::new();
        for call in turn {
            match groups.iter_mut().find(|(c, _)| *c == call.campaign_id) {
                Some((_, calls)) => calls.push(call),
                None => groups.push((call.campaign_id, vec![call])),
            }
        }
        for (campaign_id, calls) in groups {
            let prepared = match self.prepare_calls(campaign_id) {
                Ok(p) => Arc::new(p),
                Err(why) => {
                    for call in &calls {
                        self.fail_call(&call.execution_id, &why.0);
                    }
                    continue;
                }
            };
            let mut calls = calls.into_iter().peekable();
            while calls.peek().is_some() {
                let answers: Vec<_> = calls
                    .by_ref()
                    .take(CALLS_PER_WRITE)
                    .map(|call| {
                        let (p, id, now) = (Arc::clone(&prepared), call.execution_id.clone(), self.now());
                        (id, self.writer.submit_background(move |conn| resolve_call(conn, &p, &call, now)))
                    })
                    .collect();
                for (id, answer) in answers {
                    match answer.blocking_recv() {
                        Ok(Ok((delivery, made))) => {
                            self.spawn_send(campaign_id, delivery, prepared.route.clone(), made)
                        }
                        Ok(Err(e)) => self.fail_call(&id, &format!("its messages could not be made: {e}")),
                        Err(_) => self.fail_call(&id, "its messages could not be made: the work stopped"),
                    }
                }
            }
        }
    }

    /// What the calls of campaign `campaign_id` share; else why none of them can be sent.
    fn prepare_calls(&self, campaign_id: i64) -> Result<Prepared, CannotSend> {
        let (campaign, form) = self.api_campaign(campaign_id).map_err(|e| CannotSend(e.to_string()))?;
        let cannot =
            |e: &dyn std::fmt::Display| CannotSend(format!("\u{201c}{}\u{201d} cannot send: {e}", campaign.name));
        let model = store::data_model::load(&self.workspace.conn()).map_err(|e| cannot(&e))?;
        let templates =
            crate::delivery::templates(&form.message, &api_scope(&model), form.channel).map_err(|e| cannot(&e))?;
        let (route, credential, configuration) = self.api_route(&form).map_err(|e| cannot(&e))?;
        let (profile, column) = namespace_column(&model, &form.namespace).map_err(|e| cannot(&e))?;
        let address = crate::audience::address_namespace(form.channel)
            .and_then(|ns| model.identity_namespaces.iter().find(|n| n.name == ns && n.entity == profile.name))
            .map(|n| n.column.clone());
        let opt_in = format!("{}_opt_in", form.channel.as_str());
        let opt_in = profile.column(&opt_in).filter(|_| !form.transactional).map(|c| c.name.clone());
        let extras = || -> Result<_, ConsoleError> {
            let short_links = configuration
                .as_ref()
                .filter(|c| c.shorten_links && form.channel == Channel::Sms)
                .map(|_| self.server_settings().map(|s| s.public_base()))
                .transpose()?;
            let through = credential.map(|_| self.credentials()).transpose()?;
            let through = through.as_deref().and_then(|list| list.iter().find(|c| Some(c.id) == credential));
            let tracking_base = self.tracking_base(form.channel, through)?;
            let tracking = self.tracking_of(tracking_base.as_deref())?;
            let message_json = serde_json::to_string(&form.message)
                .map_err(|source| ConsoleError::Json { what: "the message", source })?;
            Ok((short_links, tracking_base, tracking, message_json))
        };
        let (short_links, tracking_base, tracking, message_json) = extras().map_err(|e| cannot(&e))?;
        Ok(Prepared {
            campaign_id,
            profile: profile.clone(),
            column: column.to_owned(),
            address,
            opt_in,
            templates,
            route,
            credential,
            configuration: configuration.as_ref().map(|c| c.id),
            short_links,
            tracking_base,
            tracking,
            message_json,
            form,
        })
    }

    /// Notes that call `id`'s messages could not be made, and why (its recipients fail).
    fn fail_call(&self, id: &str, why: &str) {
        tracing::warn!("API call {id}: {why}");
        let (id, why, now) = (id.to_owned(), why.to_owned(), self.now());
        let done =
            self.writer.submit_background(move |conn| store::api::fail_execution(conn, &id, &why, now)).blocking_recv();
        if !matches!(done, Ok(Ok(()))) {
            tracing::error!("an API call's failure could not be noted: it stays queued until the server starts again");
        }
    }

    /// Sends an execution's messages on the runtime, then records their outcomes.
    fn spawn_send(
        &self,
        campaign_id: i64,
        delivery: i64,
        (provider, throttle, options): super::routes::Route,
        made: Vec<Made>,
    ) {
        let writer = self.writer.clone();
        let max_attempts = options.max_attempts.max(1);
        let backoff = options.backoff.min(std::time::Duration::from_secs(30));
        self.runtime.spawn(async move {
            let outcomes = send(provider, throttle, made, max_attempts, backoff).await;
            // Through the grouped writer, as background work: it gives way to the calls being
            // answered, and never holds the workspace's connection against them.
            let recorded = writer
                .submit_background(move |conn| -> Result<(), StoreError> {
                    let now = crate::clock::wall();
                    ledger::record_within(conn, Some(campaign_id), delivery, &outcomes, now)?;
                    ledger::finish(conn, delivery, ledger::delivery_status::DONE, now)
                })
                .await;
            match recorded {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("the outcomes of API delivery {delivery} could not be recorded: {e}"),
                Err(_) => tracing::error!("the outcomes of API delivery {delivery} were lost: the writer stopped"),
            }
        });
    }

    /// Fails what a stopped server left of API executions: messages being sent more than 15
    /// minutes ago (a send and its retries take less), and calls accepted more than a minute
    /// ago and never resolved, when this process has none waiting (those are its own). Their
    /// context is gone, so their messages cannot be made again. `serve` and the window's
    /// server call it as they start. Returns how many messages and calls.
    pub fn fail_interrupted_api_sends(&self) -> Result<(u64, u64), ConsoleError> {
        // The Console's clock, as the rows were written with it.
        let now = self.now();
        let rows_before = now.checked_sub(jiff::SignedDuration::from_mins(15)).unwrap_or(now);
        let calls_before =
            self.executions.is_empty().then(|| now.checked_sub(jiff::SignedDuration::from_mins(1)).unwrap_or(now));
        Ok(store::api::fail_interrupted(&self.workspace.conn(), rows_before, calls_before, now)?)
    }

    /// Execution `id` with where each recipient stands, when there is one.
    pub fn execution(&self, id: &str) -> Result<Option<Execution>, ConsoleError> {
        let conn = self.workspace.conn();
        let stored = store::api::execution(&conn, id)?;
        stored.map(|s| execution_of(&conn, s)).transpose()
    }
}

/// A call just accepted: every recipient queued.
pub(super) fn accepted(stored: &store::api::StoredExecution, request: &TriggerRequest) -> Execution {
    let recipients = request
        .recipients
        .iter()
        .map(|r| RecipientStatus {
            namespace: r.namespace.clone(),
            id: r.id.trim().to_owned(),
            status: "queued".to_owned(),
            reason: None,
            profile: None,
            created: false,
        })
        .collect();
    Execution {
        execution_id: stored.id.clone(),
        campaign_id: stored.campaign_id,
        request_id: stored.request_id.clone(),
        created_at: stored.created_at,
        recipients,
    }
}

/// Where each recipient of `stored` stands: queued until the call is resolved; failed, all,
/// when its messages could not be made; else by its ledger row.
pub(super) fn execution_of(
    conn: &rusqlite::Connection,
    stored: store::api::StoredExecution,
) -> Result<Execution, ConsoleError> {
    let entries: Vec<Entry> = serde_json::from_str(&stored.recipients_json)
        .map_err(|e| StoreError::Damaged(format!("execution {}: {e}", stored.id)))?;
    let states: BTreeMap<String, (LedgerStatus, Option<String>, bool)> = match stored.delivery_id {
        Some(d) => {
            store::api::row_states(conn, d)?.into_iter().map(|(k, s, e, delivered)| (k, (s, e, delivered))).collect()
        }
        None => BTreeMap::new(),
    };
    let unresolved = stored.resolved_at.is_none();
    let failure = stored.failure.clone();
    let recipients = entries
        .into_iter()
        .map(|e| {
            let (status, reason) = match e.key.as_ref().and_then(|k| states.get(k)) {
                _ if unresolved => ("queued".to_owned(), None),
                _ if failure.is_some() => ("failed".to_owned(), failure.clone()),
                None if e.key.is_none() => {
                    ("not_found".to_owned(), Some(format!("no profile has {} {}", e.namespace, e.id)))
                }
                None => ("unknown".to_owned(), Some("its delivery was deleted".to_owned())),
                Some((_, _, true)) => ("delivered".to_owned(), None),
                Some((s, why, false)) => (
                    match s {
                        LedgerStatus::Retry => "queued".to_owned(),
                        other => other.as_str().to_owned(),
                    },
                    why.clone(),
                ),
            };
            RecipientStatus { namespace: e.namespace, id: e.id, status, reason, profile: e.profile, created: e.created }
        })
        .collect();
    Ok(Execution {
        execution_id: stored.id,
        campaign_id: stored.campaign_id,
        request_id: stored.request_id,
        created_at: stored.created_at,
        recipients,
    })
}

/// The grouped write of one accepted call: its recipients resolved, its delivery and ledger
/// written and the call marked resolved; then its messages made. Its delivery and messages.
fn resolve_call(
    conn: &rusqlite::Connection,
    p: &Prepared,
    call: &Queued,
    now: jiff::Timestamp,
) -> Result<(i64, Vec<Made>), TriggerError> {
    let cap = if p.form.transactional { None } else { store::customer_data::frequency_cap(conn)? };
    let delivery = ledger::create(conn, Some(p.campaign_id), "api", p.form.channel.as_str(), &p.message_json, now)?;
    let route = ledger::Route {
        credential: p.credential,
        configuration: p.configuration,
        short_links_base: p.short_links.as_deref(),
        tracking_base: p.tracking_base.as_deref(),
    };
    ledger::set_route(conn, delivery, &route)?;
    store::api::begin_delivery(conn, delivery, p.form.transactional, now)?;
    let since = now.checked_sub(jiff::SignedDuration::from_hours(24)).unwrap_or(now);
    let reach = Reach {
        profile: &p.profile,
        column: &p.column,
        address: p.address.as_deref(),
        opt_in: p.opt_in.as_deref(),
        channel: p.form.channel,
        create_missing: p.form.create_missing,
        cap: cap.map(|c| (c, since)),
    };
    let (entries, rows) = resolve(conn, &reach, &call.request, &call.execution_id)?;
    let api_rows: Vec<store::api::ApiRow<'_>> = rows
        .iter()
        .map(|r| store::api::ApiRow {
            idempotency_key: &r.ledger_key,
            profile: &r.profile,
            address: &r.address,
            excluded: r.excluded.as_ref().map(|(c, w)| (*c, w.as_str())),
        })
        .collect();
    let ids = store::api::insert_rows(conn, delivery, &api_rows, now)?;
    let recipients_json =
        serde_json::to_string(&entries).map_err(|source| ConsoleError::Json { what: "the execution", source })?;
    if !store::api::resolve_execution(conn, &call.execution_id, delivery, &recipients_json, now)? {
        return Err(ConsoleError::Invalid("a restarted server gave this call up already".into()).into());
    }
    if entries.iter().any(|e| e.created) {
        store::customer_data::bump_data_version(conn)?;
    }
    // Each message made with its recipient's context.
    let mut made = make(conn, &p.profile, &p.templates, &p.form, &call.request, &rows, &ids);
    let messages = made.iter_mut().filter_map(|m| m.message.as_mut().ok());
    crate::delivery::links::prepare(conn, p.short_links.as_deref(), p.tracking.as_ref(), messages)
        .map_err(ConsoleError::from)?;
    Ok((delivery, made))
}

/// What a trigger needs to know of the profiles to resolve its recipients.
struct Reach<'m> {
    profile: &'m crate::model::Entity,
    /// The namespace's column.
    column: &'m str,
    /// The channel's address column, when it has one.
    address: Option<&'m str>,
    /// The opt-in column a marketing (not transactional) message needs.
    opt_in: Option<&'m str>,
    channel: Channel,
    create_missing: bool,
    /// The frequency cap, and since when it counts (marketing messages).
    cap: Option<(u32, jiff::Timestamp)>,
}

/// A recipient with a profile: its ledger row.
struct Row {
    /// Its place in the call.
    index: usize,
    ledger_key: String,
    profile: String,
    address: String,
    /// Why it gets no message (code, words).
    excluded: Option<(&'static str, String)>,
}

/// Why one recipient's message could not be made (it fails, never sent).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
struct NotMade(String);

fn key_of(profile: &str) -> Result<i64, NotMade> {
    profile.parse().map_err(|_| NotMade("the profile's key is not a number".to_owned()))
}

/// Each recipient of the call: found (or created) and checked, in the transaction.
fn resolve(
    tx: &rusqlite::Connection,
    reach: &Reach<'_>,
    request: &TriggerRequest,
    execution_id: &str,
) -> Result<(Vec<Entry>, Vec<Row>), TriggerError> {
    let profile = reach.profile;
    let mut entries = Vec::with_capacity(request.recipients.len());
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for (i, r) in request.recipients.iter().enumerate() {
        let id = r.id.trim();
        let mut entry =
            Entry { namespace: r.namespace.clone(), id: id.to_owned(), key: None, profile: None, created: false };
        let key = match store::api::find_profile(tx, &profile.name, &profile.primary_key, reach.column, id)? {
            Some(k) => k,
            None if reach.create_missing => {
                entry.created = true;
                store::api::create_profile(tx, &profile.name, reach.column, id)?
            }
            None => {
                entries.push(entry);
                continue;
            }
        };
        let (address, opted) =
            store::api::reach(tx, &profile.name, &profile.primary_key, &key, reach.address, reach.opt_in)?;
        let capped = |(cap, since): (u32, jiff::Timestamp)| {
            store::api::messages_since(tx, &key, since).is_ok_and(|n| n >= u64::from(cap))
        };
        let excluded = if !seen.insert(key.clone()) {
            Some(("duplicate", "the call names this profile twice: it gets one message".to_owned()))
        } else if reach.address.is_some() && address.is_empty() {
            Some(("no_address", format!("the profile has no address for {}", reach.channel.label())))
        } else if let Some(kind) = AddressKind::of(reach.channel).filter(|k| !ledger::valid_address(*k, &address)) {
            Some(("invalid_address", format!("\u{201c}{address}\u{201d} is not a valid {} address", kind.as_str())))
        } else if !opted {
            let channel = reach.channel.label();
            Some((
                "not_opted_in",
                format!("the profile has not opted in to {channel} (the campaign is not transactional)"),
            ))
        } else {
            reach.cap.filter(|c| capped(*c)).map(|(cap, _)| {
                (
                    "frequency_cap",
                    format!("the profile already has {cap} messages in the last 24 hours (the workspace's cap)"),
                )
            })
        };
        let ledger_key = format!("api:{execution_id}:{i}");
        entry.key = Some(ledger_key.clone());
        entry.profile = Some(key.clone());
        rows.push(Row { index: i, ledger_key, profile: key, address, excluded });
        entries.push(entry);
    }
    Ok((entries, rows))
}

/// The message of each row that is sent, made with its recipient's context.
fn make(
    conn: &rusqlite::Connection,
    profile: &crate::model::Entity,
    templates: &crate::delivery::Templates,
    form: &crate::model::api::ApiCampaign,
    request: &TriggerRequest,
    rows: &[Row],
    ids: &[i64],
) -> Vec<Made> {
    let context = |i: usize| -> BTreeMap<String, String> {
        let mut values: BTreeMap<String, String> =
            form.context.iter().map(|a| (a.name.clone(), String::new())).collect();
        for (k, v) in &request.recipients[i].context {
            if let Some(s) = v.as_str() {
                values.insert(k.clone(), s.to_owned());
            }
        }
        values
    };
    let mut made = Vec::new();
    for (row, id) in rows.iter().zip(ids).filter(|(r, _)| r.excluded.is_none()) {
        let message = key_of(&row.profile)
            .and_then(|k| crate::delivery::entity_row(conn, profile, k).map_err(|e| NotMade(e.to_string())))
            .and_then(|values| {
                let values =
                    crate::personalize::Values { profile: values, context: context(row.index), ..Default::default() };
                templates.render(&values).map_err(|e| NotMade(e.to_string()))
            })
            .map(|r| Outgoing {
                idempotency_key: row.ledger_key.clone(),
                channel: form.channel,
                address: row.address.clone(),
                subject: r.subject,
                text: r.text,
                html: r.html,
                ..Default::default()
            });
        made.push(Made { row: *id, profile: row.profile.clone(), message });
    }
    made
}

/// Sends the made messages (those that could not be made fail at once), trying a transient
/// failure again after `backoff` (doubling) up to `max_attempts` times; the outcome of each.
async fn send(
    provider: Arc<dyn crate::channels::Provider>,
    throttle: Arc<crate::delivery::Throttle>,
    made: Vec<Made>,
    max_attempts: u32,
    backoff: std::time::Duration,
) -> Vec<(i64, String, Outcome)> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; made.len()];
    let mut pending = Vec::new();
    for (i, m) in made.iter().enumerate() {
        match &m.message {
            Ok(o) => pending.push((i, o.clone())),
            Err(why) => {
                outcomes[i] = Some(Outcome::Failed { code: "personalization".into(), message: why.to_string() })
            }
        }
    }
    let mut attempt = 1;
    while !pending.is_empty() {
        let answers = crate::delivery::send_prepared(Arc::clone(&provider), Arc::clone(&throttle), pending).await;
        let mut again = Vec::new();
        for (i, answer) in answers {
            outcomes[i] = Some(match answer {
                Ok(id) => Outcome::Sent { provider_message_id: id },
                Err(SendError::Permanent { code, message }) => Outcome::Failed { code, message },
                Err(SendError::Transient { code, message, .. }) if attempt >= max_attempts => {
                    Outcome::Failed { code, message: format!("{message} (gave up after {attempt} attempts)") }
                }
                Err(SendError::Transient { .. }) => {
                    if let Ok(o) = &made[i].message {
                        again.push((i, o.clone()));
                    }
                    continue;
                }
            });
        }
        if !again.is_empty() {
            tokio::time::sleep(backoff.saturating_mul(1 << (attempt - 1).min(6))).await;
        }
        attempt += 1;
        pending = again;
    }
    made.iter()
        .zip(outcomes)
        .map(|(m, o)| {
            let o = o.unwrap_or(Outcome::Failed { code: "internal".into(), message: "no answer was recorded".into() });
            (m.row, m.profile.clone(), o)
        })
        .collect()
}
