//! Sending a delivery from its ledger: claim a batch (committed as `sending` before any call),
//! render each message for its recipient, call the provider, record the outcomes in one
//! transaction; retries with exponential backoff for transient errors; recovery of rows a crash
//! left in `sending` (looked up at the provider when it can tell, else `unconfirmed`).

mod daily;
pub mod html_links;
pub mod links;
mod recover;
mod rows;
pub mod tracking;

pub use daily::DailyLimit;
use daily::wait_for_the_day;
pub use rows::{entity_row, read_row};

use std::collections::BTreeMap;
use std::time::Duration;

use minijinja::Value;
use rusqlite::Connection;

use std::sync::Arc;

use crate::channels::{Outgoing, Pace, Provider, SendError};
use crate::model::{Channel, DataModel, Message};
use crate::personalize::{Escape, Renderer, Scope, Values};
use crate::store::deliveries::{self, Claimed, Outcome};
use crate::store::{StoreError, quote_ident};

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The message cannot be personalized (checked before the first send).
    #[error("{0}")]
    Message(String),
}

/// Why one recipient's message could not be made (the row is failed with it, never sent).
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    #[error("recipient key {0} is not a number")]
    BadKey(String),
    #[error("row {0} no longer exists")]
    Gone(i64),
    #[error("the row could not be read: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the row's enrichment values are unreadable: {0}")]
    Enrichment(serde_json::Error),
    #[error(transparent)]
    Render(#[from] crate::personalize::RenderError),
}

/// How a delivery is sent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SendOptions {
    /// Rows claimed (and recorded) together, at most.
    pub batch: usize,
    /// Attempts before a transient error becomes a failure.
    pub max_attempts: u32,
    /// The first retry waits this long, doubling each time (with jitter).
    pub backoff: Duration,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self { batch: 500, max_attempts: 5, backoff: Duration::from_secs(30) }
    }
}

/// A credential's pace, shared by every delivery sending with it: a rate limit (governor,
/// evenly spaced, no bursts) and a bound on the calls waiting for an answer.
pub struct Throttle {
    pace: Pace,
    limiter: Option<governor::DefaultDirectRateLimiter>,
    in_flight: tokio::sync::Semaphore,
}

impl Throttle {
    pub fn new(pace: Pace) -> Self {
        let limiter = pace
            .rate_per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .and_then(|r| governor::Quota::with_period(Duration::from_secs_f64(1.0 / r)))
            .map(|q| governor::RateLimiter::direct(q.allow_burst(std::num::NonZeroU32::MIN)));
        Self { pace, limiter, in_flight: tokio::sync::Semaphore::new(pace.max_in_flight.max(1)) }
    }

    pub fn pace(&self) -> Pace {
        self.pace
    }

    /// Rows worth claiming at once: enough to keep every slot busy, few enough that a pause or
    /// cancel is heard within about a second at a slow rate.
    fn batch(&self, most: usize) -> usize {
        let by_rate = self.pace.rate_per_second.map_or(usize::MAX, |r| (r.ceil() as usize).max(1));
        most.min(by_rate.max(self.pace.max_in_flight * 2)).max(1)
    }
}

pub use crate::model::delivery::Progress;

/// Where delivery `delivery` stands now, from its ledger.
pub fn read_progress(conn: &Connection, delivery: i64) -> Result<Progress, DeliveryError> {
    let mut p = Progress { delivery, ..Progress::default() };
    for (status, n) in deliveries::status_counts(conn, delivery)? {
        p.add(status, n);
    }
    Ok(p)
}

/// What a delivery's recipients look like: enough to personalize its messages.
pub struct Recipients<'a> {
    pub model: &'a DataModel,
    pub profile: String,
    /// The secondary entity of a multi-level send.
    pub secondary: Option<String>,
    /// Enrichment columns kept with the ledger rows.
    pub enrichment: Vec<String>,
    /// The provider writes the profile's values itself: each message carries its row.
    pub profile_values: bool,
    /// The recipients are visitors (`profile` is their entity): their row is `visitor`.
    pub visitor: bool,
    /// The rows' values are what triggered each message (`trigger.*`, action-triggered
    /// campaigns), not enrichment columns.
    pub trigger: bool,
}

impl Recipients<'_> {
    /// What their messages may use.
    fn scope(&self) -> Scope {
        let columns = |e: &str| -> Vec<String> {
            self.model.entity(e).map(|e| e.columns.iter().map(|c| c.name.clone()).collect()).unwrap_or_default()
        };
        Scope {
            profile: columns(&self.profile),
            secondary: self.secondary.as_ref().map(|s| (s.clone(), columns(s))),
            enrichment: self.enrichment.clone(),
            context: false,
            visitor: self.visitor,
            trigger: self.trigger,
        }
    }
}

/// The compiled templates of a message.
pub struct Templates {
    subject: Option<Renderer>,
    text: Option<Renderer>,
    html: Option<Renderer>,
    /// The columns of a direct-mail extraction: name and value.
    columns: Vec<(String, Renderer)>,
}

/// Checks and compiles the parts of `message` for recipients described by `scope`, as
/// `channel` sends them (HTML escaped in email HTML, values as JSON in a webhook's body).
pub fn templates(message: &Message, scope: &Scope, channel: Channel) -> Result<Templates, DeliveryError> {
    let one = |source: &str, escape, part: &str| -> Result<Option<Renderer>, DeliveryError> {
        if source.trim().is_empty() {
            return Ok(None);
        }
        Renderer::new(source, escape, scope).map(Some).map_err(|problems| {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            DeliveryError::Message(format!("the message {part} cannot be personalized: {}", list.join("; ")))
        })
    };
    let mut columns = Vec::new();
    for column in &message.columns {
        let source = format!("{{{{ {column} }}}}");
        if let Some(r) = one(&source, Escape::None, &format!("column {column}"))? {
            columns.push((column.clone(), r));
        }
    }
    Ok(Templates {
        subject: one(&message.subject, Escape::None, "subject")?,
        text: one(&message.text, if channel == Channel::Webhook { Escape::Json } else { Escape::None }, "text")?,
        html: one(&message.html, Escape::Html, "HTML")?,
        columns,
    })
}

/// Who sends a delivery, and how.
pub struct Sender<'a> {
    pub channel: Channel,
    pub provider: Arc<dyn Provider>,
    pub throttle: Arc<Throttle>,
    pub options: SendOptions,
    /// The Console's runtime: the provider calls run there, up to the throttle's concurrency.
    pub runtime: &'a tokio::runtime::Handle,
    /// SMS sent with a configuration that shortens links: the server's public URL the short
    /// links point at.
    pub short_links: Option<String>,
    /// Emails of a tracked delivery: their links, open image and unsubscribe link lead through
    /// the server.
    pub tracking: Option<tracking::Tracking>,
    /// At most this many messages of the channel through the credential in any 24 hours
    /// (X direct messages); the rest wait.
    pub daily: Option<DailyLimit>,
}

impl Sender<'_> {
    /// A message made again (to look it up at the provider) as it was sent: its links
    /// shortened and tracked the same way.
    fn made_again(&self, o: Outgoing) -> Outgoing {
        let mut o = links::made_again(o, self.short_links.as_deref());
        if let Some(t) = &self.tracking {
            t.apply(&mut o);
        }
        o
    }

    /// The links of messages about to be sent, shortened and tracked as this sender says.
    fn prepare_links(&self, conn: &Connection, outgoing: &mut [(usize, Outgoing)]) -> Result<(), DeliveryError> {
        let messages = outgoing.iter_mut().map(|(_, o)| o);
        links::prepare(conn, self.short_links.as_deref(), self.tracking.as_ref(), messages)
    }
}

/// Sends what is due in `delivery` until nothing is left (or `cancelled` says stop, between
/// batches). Each batch is claimed (committed as `sending`), rendered, sent with up to the
/// credential's concurrency at its rate, and recorded in one transaction. Returns the
/// delivery's progress at the end.
pub fn send(
    conn: &mut Connection,
    delivery: i64,
    message: &Message,
    recipients: &Recipients<'_>,
    sender: &Sender<'_>,
    progress: &mut dyn FnMut(&Progress),
    cancelled: &dyn Fn() -> bool,
) -> Result<Progress, DeliveryError> {
    let model = recipients.model;
    let templates = templates(message, &recipients.scope(), sender.channel)?;
    let campaign = deliveries::campaign_of(conn, delivery)?;
    let row_of = |entity: &str| -> Result<String, DeliveryError> {
        let e = model.entity(entity).ok_or_else(|| DeliveryError::Message(format!("no entity {entity}")))?;
        Ok(format!("SELECT * FROM {} WHERE {} = ?1", quote_ident(&e.name)?, quote_ident(&e.primary_key)?))
    };
    let profile_sql = row_of(&recipients.profile)?;
    let secondary_sql = recipients.secondary.as_deref().map(row_of).transpose()?;
    let made = |conn: &Connection, row: &Claimed| {
        render(conn, &templates, row, &profile_sql, secondary_sql.as_deref(), recipients)
            .map(|r| sender.made_again(outgoing(row, sender.channel, r)))
    };
    let (found, queued, unconfirmed) = recover::recover(conn, delivery, campaign, &made, sender)?;
    if found + queued + unconfirmed > 0 {
        tracing::info!(
            "delivery {delivery}: of the messages a stop left being sent, {found} were sent, {queued} are sent again, {unconfirmed} cannot be told"
        );
    }
    let options = &sender.options;
    let mut batch = sender.throttle.batch(options.batch);
    if !sender.provider.capabilities().lookup {
        // What a crash leaves in `sending` becomes `unconfirmed` when the provider cannot be
        // asked: claim little at a time, so that is a few rows, not a whole batch.
        batch = batch.min(sender.throttle.pace().max_in_flight * 4);
    }
    let mut last = read_progress(conn, delivery)?;
    progress(&last);
    // Two batches overlap: while one is with the provider (on the runtime's threads), the next
    // is claimed and rendered here. At most two batches are ever `sending`.
    let mut in_flight: Option<Batch> = None;
    loop {
        let mut next = None;
        let (room, free_at) = match &sender.daily {
            Some(d) => d.room(conn, sender.channel)?,
            None => (usize::MAX, None),
        };
        if !cancelled() && room > 0 {
            last.waiting_until = None;
            let claimed = deliveries::claim(conn, delivery, batch.min(room), crate::clock::wall())?;
            if !claimed.is_empty() {
                let (outcomes, mut outgoing) = prepare(
                    conn,
                    &templates,
                    &claimed,
                    &profile_sql,
                    secondary_sql.as_deref(),
                    recipients,
                    sender.channel,
                );
                sender.prepare_links(conn, &mut outgoing)?;
                let answers = sender.runtime.spawn(send_all(
                    Arc::clone(&sender.provider),
                    Arc::clone(&sender.throttle),
                    outgoing,
                ));
                next = Some(Batch { claimed, outcomes, answers });
            }
        }
        match in_flight.take() {
            Some(done) => {
                let outcomes = settle(done, sender, options);
                deliveries::record(conn, campaign, delivery, &outcomes, crate::clock::wall())?;
                opt_out_unsubscribed(conn, &outcomes, recipients, sender)?;
                crate::store::inbound::apply_pending(conn, crate::clock::wall())?;
                // Counted from the outcomes: reading the ledger's counts each batch would cost a
                // scan of the whole delivery every time.
                for (_, _, outcome) in &outcomes {
                    match outcome {
                        Outcome::Sent { .. } => last.sent += 1,
                        Outcome::Failed { .. } => last.failed += 1,
                        Outcome::Retry { .. } => continue,
                    }
                    last.remaining = last.remaining.saturating_sub(1);
                }
                progress(&last);
            }
            None if next.is_none() => {
                if cancelled() {
                    return Ok(last);
                }
                if room == 0 && last.remaining > 0 {
                    wait_for_the_day(&mut last, free_at, progress);
                    continue;
                }
                match deliveries::next_retry(conn, delivery)? {
                    Some(at) => {
                        // Wait for the next retry, a second at a time so a cancel is heard.
                        // (Already due: a moment, then claimed at the next turn.)
                        let wait = Duration::try_from(at.duration_since(crate::clock::wall()))
                            .unwrap_or_default()
                            .min(Duration::from_secs(1));
                        std::thread::sleep(wait.max(Duration::from_millis(10)));
                        continue;
                    }
                    None => break,
                }
            }
            None => {}
        }
        in_flight = next;
    }
    last = read_progress(conn, delivery)?;
    progress(&last);
    if last.remaining == 0 {
        deliveries::finish(conn, delivery, deliveries::delivery_status::DONE, crate::clock::wall())?;
    }
    Ok(last)
}

/// Turns the channel's opt-in off for the recipients the provider said unsubscribed there (a
/// profile's `<channel>_opt_in` column, when the model has one), so that the next run excludes
/// them.
fn opt_out_unsubscribed(
    conn: &Connection,
    outcomes: &[(i64, String, Outcome)],
    recipients: &Recipients<'_>,
    sender: &Sender<'_>,
) -> Result<(), DeliveryError> {
    let keys: Vec<&str> = outcomes
        .iter()
        .filter(|(_, _, o)| matches!(o, Outcome::Failed { code, .. } if sender.provider.means_unsubscribed(code)))
        .map(|(_, key, _)| key.as_str())
        .collect();
    let Some(profile) = recipients.model.entity(&recipients.profile).filter(|_| !keys.is_empty()) else {
        return Ok(());
    };
    let column = format!("{}_opt_in", sender.channel.as_str());
    if profile.column(&column).is_some() {
        let changed = crate::store::customer_data::set_opt_in(
            conn,
            &profile.name,
            &profile.primary_key,
            &column,
            &profile.primary_key,
            &keys,
            false,
        )?;
        tracing::info!("{} recipients unsubscribed at the provider: {column} turned off", changed.len());
    }
    Ok(())
}

/// A batch with the provider: its rows, what is known of them already (messages that could
/// not be personalized), and the answers to come.
struct Batch {
    claimed: Vec<Claimed>,
    outcomes: Vec<Option<Outcome>>,
    answers: tokio::task::JoinHandle<Vec<(usize, Result<String, SendError>)>>,
}

/// Renders the claimed rows: the messages to send (by position), and failures for those that
/// cannot be personalized.
fn prepare(
    conn: &Connection,
    templates: &Templates,
    claimed: &[Claimed],
    profile_sql: &str,
    secondary_sql: Option<&str>,
    recipients: &Recipients<'_>,
    channel: Channel,
) -> (Vec<Option<Outcome>>, Vec<(usize, Outgoing)>) {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; claimed.len()];
    let mut out = Vec::with_capacity(claimed.len());
    for (i, row) in claimed.iter().enumerate() {
        match render(conn, templates, row, profile_sql, secondary_sql, recipients) {
            Err(why) => {
                outcomes[i] = Some(Outcome::Failed { code: "personalization".into(), message: why.to_string() });
            }
            Ok(r) => out.push((i, outgoing(row, channel, r))),
        }
    }
    (outcomes, out)
}

/// The message of a claimed row, rendered.
fn outgoing(row: &Claimed, channel: Channel, r: Rendered) -> Outgoing {
    Outgoing {
        idempotency_key: row.idempotency_key.clone(),
        channel,
        address: row.address.clone(),
        subject: r.subject,
        text: r.text,
        html: r.html,
        fields: r.fields,
        profile: r.profile,
        unsubscribe: String::new(),
    }
}

/// Waits for a batch's answers and turns them into outcomes: sent, failed (permanent, or
/// transient too many times), or retried later (Retry-After, else backoff with jitter).
fn settle(batch: Batch, sender: &Sender<'_>, options: &SendOptions) -> Vec<(i64, String, Outcome)> {
    let Batch { claimed, mut outcomes, answers } = batch;
    let answers = sender.runtime.block_on(answers).unwrap_or_else(|e| {
        // The batch's task itself failed: what became of its messages is unknown, so none is
        // retried blindly.
        (0..claimed.len()).map(|i| (i, Err(SendError::permanent("provider_panic", e.to_string())))).collect()
    });
    for (i, answer) in answers {
        let Some(row) = claimed.get(i) else { continue };
        if outcomes[i].is_some() {
            continue;
        }
        outcomes[i] = Some(match answer {
            Ok(id) => Outcome::Sent { provider_message_id: id },
            Err(SendError::Permanent { code, message }) => Outcome::Failed { code, message },
            Err(SendError::Transient { code, message, retry_after }) => {
                if row.attempts >= options.max_attempts {
                    Outcome::Failed { code, message: format!("{message} (gave up after {} attempts)", row.attempts) }
                } else {
                    let wait = retry_after.unwrap_or_else(|| backoff(options.backoff, row.attempts, row.id));
                    let at = crate::clock::wall()
                        .checked_add(jiff::SignedDuration::try_from(wait).unwrap_or_default())
                        .unwrap_or_else(|_| crate::clock::wall());
                    Outcome::Retry { at, code, message }
                }
            }
        });
    }
    claimed
        .iter()
        .zip(outcomes)
        .map(|(row, o)| {
            let o = o.unwrap_or(Outcome::Failed { code: "internal".into(), message: "no answer was recorded".into() });
            (row.id, row.recipient_key.clone(), o)
        })
        .collect()
}

/// Sends messages made already (an API call's): each in its own task, within the
/// credential's throttle; answers by position.
pub async fn send_prepared(
    provider: Arc<dyn Provider>,
    throttle: Arc<Throttle>,
    outgoing: Vec<(usize, Outgoing)>,
) -> Vec<(usize, Result<String, SendError>)> {
    send_all(provider, throttle, outgoing).await
}

/// Sends a batch: each message in its own task, at most the throttle's concurrency waiting for
/// an answer, started no faster than its rate. Answers come back by position.
async fn send_all(
    provider: Arc<dyn Provider>,
    throttle: Arc<Throttle>,
    outgoing: Vec<(usize, Outgoing)>,
) -> Vec<(usize, Result<String, SendError>)> {
    let mut tasks = tokio::task::JoinSet::new();
    let mut answers = Vec::with_capacity(outgoing.len());
    let mut keys = BTreeMap::new();
    for (i, m) in outgoing {
        let provider = Arc::clone(&provider);
        let throttle = Arc::clone(&throttle);
        let handle = tasks.spawn(async move {
            let _slot = throttle.in_flight.acquire().await;
            if let Some(limiter) = &throttle.limiter {
                limiter.until_ready().await;
            }
            (i, provider.send(&m).await)
        });
        keys.insert(handle.id(), i);
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((_, answer)) => answers.push(answer),
            Err(e) => {
                // A provider that panicked: that message's fate is unknown, so it is not
                // retried blindly.
                if let Some(i) = keys.get(&e.id()) {
                    answers.push((*i, Err(SendError::permanent("provider_panic", e.to_string()))));
                }
            }
        }
    }
    answers
}

/// A message personalized for one recipient.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The direct-mail columns, by name.
    pub fields: Vec<(String, String)>,
    /// The profile's row, for a provider that writes its values itself (else `Null`).
    pub profile: serde_json::Value,
}

impl Templates {
    /// The message for one recipient.
    pub fn render(&self, values: &Values) -> Result<Rendered, RowError> {
        let part = |r: &Option<Renderer>| r.as_ref().map_or(Ok(String::new()), |r| r.render(values));
        let fields = self
            .columns
            .iter()
            .map(|(name, r)| Ok((name.clone(), r.render(values)?)))
            .collect::<Result<_, crate::personalize::RenderError>>()?;
        Ok(Rendered {
            subject: part(&self.subject)?,
            text: part(&self.text)?,
            html: part(&self.html)?,
            fields,
            profile: serde_json::Value::Null,
        })
    }
}

/// Exponential backoff with jitter: base × 2^(attempt-1), ± a quarter, from the row id (no
/// randomness source needed, and rows spread out).
fn backoff(base: Duration, attempt: u32, id: i64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(10));
    let jitter = (crate::audience::mix(id, u64::from(attempt)).rem_euclid(1000)) as f64 / 1000.0; // 0..1
    exp.mul_f64(0.75 + jitter / 2.0)
}

/// One row's message.
fn render(
    conn: &Connection,
    t: &Templates,
    row: &Claimed,
    profile_sql: &str,
    secondary_sql: Option<&str>,
    recipients: &Recipients<'_>,
) -> Result<Rendered, RowError> {
    // A row for nobody in particular (an X post) has no values.
    let profile =
        if row.recipient_key.is_empty() { BTreeMap::new() } else { read_row(conn, profile_sql, &row.recipient_key)? };
    let mut values = Values { profile, visitor: recipients.visitor, ..Values::default() };
    if let (Some(sql), Some(entity)) = (secondary_sql, recipients.secondary.as_ref())
        && !row.secondary_key.is_empty()
    {
        values.secondary = Some((entity.clone(), read_row(conn, sql, &row.secondary_key)?));
    }
    let vars: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&row.vars_json).map_err(RowError::Enrichment)?;
    if recipients.trigger {
        values.trigger =
            vars.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect();
    } else {
        values.enrichment = vars.into_iter().map(|(k, v)| (k, Value::from_serialize(&v))).collect();
    }
    let mut rendered = t.render(&values)?;
    if recipients.profile_values {
        rendered.profile = serde_json::to_value(&values.profile).unwrap_or_default();
    }
    Ok(rendered)
}
