//! The execution API's work: a trigger call resolved recipient by recipient (created when
//! missing and allowed), its ledger written in one transaction with the execution (one per
//! campaign and request id: a retry sends nothing new), each message made with the call's
//! context and sent at once. The context lives in memory only: never in the workspace, the
//! ledger included.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::api_campaigns::{api_scope, namespace_column};
use super::{Console, ConsoleError};
use crate::channels::{Outgoing, SendError};
use crate::model::api::{Execution, MAX_RECIPIENTS, RESERVED_CONTEXT, RecipientStatus, TriggerRequest};
use crate::model::{CampaignKind, CampaignStatus, Channel};
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
    #[error(transparent)]
    Console(#[from] ConsoleError),
}

impl From<StoreError> for TriggerError {
    fn from(e: StoreError) -> Self {
        Self::Console(ConsoleError::Store(e))
    }
}

fn invalid(pointer: String, message: impl Into<String>) -> TriggerError {
    TriggerError::Invalid { pointer, message: message.into() }
}

/// One recipient of an execution as kept (its namespace's id and profile; never its context).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
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

/// A message made for one recipient, waiting to be sent.
struct Made {
    row: i64,
    profile: String,
    message: Result<Outgoing, NotMade>,
}

impl Console {
    /// Triggers API campaign `campaign_id` for the request's recipients: the execution (and
    /// whether it is new: `false` for a request id seen before, which sends nothing).
    pub fn trigger_campaign(
        &self,
        campaign_id: i64,
        api_key: Option<i64>,
        request: &TriggerRequest,
    ) -> Result<(Execution, bool), TriggerError> {
        let now = self.now();
        let campaign = self.live_campaign(campaign_id, now)?;
        let (_, form) = self.api_campaign(campaign_id)?;
        check_request(request, &form)?;
        // (Read first: the connection is free again before the execution is read.)
        let seen = store::api::execution_by_request(&self.workspace.conn(), campaign_id, &request.request_id)?;
        if let Some(e) = seen {
            return Ok((self.execution_of(e)?, false));
        }
        let cannot = |e: &dyn std::fmt::Display| {
            TriggerError::NotLive(format!("\u{201c}{}\u{201d} cannot send: {e}", campaign.name))
        };
        let model = store::data_model::load(&self.workspace.conn())?;
        let templates =
            crate::delivery::templates(&form.message, &api_scope(&model), form.channel).map_err(|e| cannot(&e))?;
        let ((provider, throttle, options), credential, configuration) =
            self.api_route(&form).map_err(|e| cannot(&e))?;
        let (profile, column) = namespace_column(&model, &form.namespace).map_err(|e| cannot(&e))?;
        let address_column = crate::audience::address_namespace(form.channel)
            .and_then(|ns| model.identity_namespaces.iter().find(|n| n.name == ns && n.entity == profile.name))
            .map(|n| n.column.clone());
        let opt_in = format!("{}_opt_in", form.channel.as_str());
        let opt_in = profile.column(&opt_in).filter(|_| !form.transactional).map(|c| c.name.clone());
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

        // The ledger and the execution, in one transaction.
        let execution_id = uuid::Uuid::new_v4().simple().to_string();
        let mut conn = self.workspace.conn();
        let cap = if form.transactional { None } else { store::customer_data::frequency_cap(&conn)? };
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(StoreError::from)?;
        if let Some(e) = store::api::execution_by_request(&tx, campaign_id, &request.request_id)? {
            drop(tx);
            drop(conn);
            return Ok((self.execution_of(e)?, false));
        }
        let delivery = ledger::create(&tx, Some(campaign_id), "api", form.channel.as_str(), &message_json, now)?;
        let route = ledger::Route {
            credential,
            configuration: configuration.as_ref().map(|c| c.id),
            short_links_base: short_links.as_deref(),
            tracking_base: tracking_base.as_deref(),
        };
        ledger::set_route(&tx, delivery, &route)?;
        store::api::begin_delivery(&tx, delivery, form.transactional, now)?;
        let since = now.checked_sub(jiff::SignedDuration::from_hours(24)).unwrap_or(now);
        let reach = Reach {
            profile,
            column,
            address: address_column.as_deref(),
            opt_in: opt_in.as_deref(),
            channel: form.channel,
            create_missing: form.create_missing,
            cap: cap.map(|c| (c, since)),
        };
        let (entries, rows) = resolve(&tx, &reach, request, &execution_id)?;
        let api_rows: Vec<store::api::ApiRow<'_>> = rows
            .iter()
            .map(|r| store::api::ApiRow {
                idempotency_key: &r.ledger_key,
                profile: &r.profile,
                address: &r.address,
                excluded: r.excluded.as_ref().map(|(c, w)| (*c, w.as_str())),
            })
            .collect();
        let ids = store::api::insert_rows(&tx, delivery, &api_rows, now)?;
        let recipients_json =
            serde_json::to_string(&entries).map_err(|source| ConsoleError::Json { what: "the execution", source })?;
        let stored = store::api::StoredExecution {
            id: execution_id,
            campaign_id,
            request_id: request.request_id.clone(),
            delivery_id: Some(delivery),
            recipients_json,
            created_at: now,
        };
        store::api::insert_execution(&tx, &stored, api_key)?;
        if entries.iter().any(|e| e.created) {
            store::customer_data::bump_data_version(&tx)?;
        }
        tx.commit().map_err(StoreError::from)?;

        // Each message made with its recipient's context, then sent.
        let mut made = make(&conn, profile, &templates, &form, request, &rows, &ids);
        let messages = made.iter_mut().filter_map(|m| m.message.as_mut().ok());
        crate::delivery::links::prepare(&conn, short_links.as_deref(), tracking.as_ref(), messages)
            .map_err(ConsoleError::from)?;
        let stored_again = store::api::execution(&conn, &stored.id)?.unwrap_or(stored);
        drop(conn);
        self.spawn_send(campaign_id, delivery, (provider, throttle, options), made);
        Ok((self.execution_of(stored_again)?, true))
    }

    /// Sends an execution's messages on the runtime, then records their outcomes.
    fn spawn_send(
        &self,
        campaign_id: i64,
        delivery: i64,
        (provider, throttle, options): super::routes::Route,
        made: Vec<Made>,
    ) {
        let workspace = Arc::clone(&self.workspace);
        let max_attempts = options.max_attempts.max(1);
        let backoff = options.backoff.min(std::time::Duration::from_secs(30));
        self.runtime.spawn(async move {
            let outcomes = send(provider, throttle, made, max_attempts, backoff).await;
            let recorded = tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
                let mut conn = workspace.conn();
                ledger::record(&mut conn, Some(campaign_id), delivery, &outcomes, crate::clock::wall())?;
                ledger::finish(&conn, delivery, ledger::delivery_status::DONE, crate::clock::wall())
            })
            .await;
            match recorded {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("the outcomes of API delivery {delivery} could not be recorded: {e}"),
                Err(e) => tracing::error!("the outcomes of API delivery {delivery} were lost: {e}"),
            }
        });
    }

    /// API campaign `campaign_id`, if it takes calls now: live, within its dates.
    fn live_campaign(&self, campaign_id: i64, now: jiff::Timestamp) -> Result<crate::model::Campaign, TriggerError> {
        let found = store::campaigns::get(&self.workspace.conn(), campaign_id);
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

    /// Fails the messages of executions that a stopped server left being sent more than 15
    /// minutes ago (a send and its retries take less): their context is gone, so they cannot
    /// be made again. `serve` calls it as it starts. Returns how many.
    pub fn fail_interrupted_api_sends(&self) -> Result<u64, ConsoleError> {
        // The Console's clock, as the rows were written with it.
        let now = self.now();
        let before = now.checked_sub(jiff::SignedDuration::from_mins(15)).unwrap_or(now);
        Ok(store::api::fail_interrupted(&self.workspace.conn(), before, now)?)
    }

    /// Execution `id` with where each recipient stands, when there is one.
    pub fn execution(&self, id: &str) -> Result<Option<Execution>, ConsoleError> {
        let stored = store::api::execution(&self.workspace.conn(), id)?;
        stored.map(|s| self.execution_of(s)).transpose()
    }

    fn execution_of(&self, stored: store::api::StoredExecution) -> Result<Execution, ConsoleError> {
        let entries: Vec<Entry> = serde_json::from_str(&stored.recipients_json)
            .map_err(|e| StoreError::Damaged(format!("execution {}: {e}", stored.id)))?;
        let states: BTreeMap<String, (LedgerStatus, Option<String>, bool)> = match stored.delivery_id {
            Some(d) => store::api::row_states(&self.workspace.conn(), d)?
                .into_iter()
                .map(|(k, s, e, delivered)| (k, (s, e, delivered)))
                .collect(),
            None => BTreeMap::new(),
        };
        let recipients = entries
            .into_iter()
            .map(|e| {
                let (status, reason) = match e.key.as_ref().and_then(|k| states.get(k)) {
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
                RecipientStatus {
                    namespace: e.namespace,
                    id: e.id,
                    status,
                    reason,
                    profile: e.profile,
                    created: e.created,
                }
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
    tx: &rusqlite::Transaction<'_>,
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
