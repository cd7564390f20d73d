//! Sending a delivery from its ledger: claim a batch (committed as `sending` before any call),
//! render each message for its recipient, call the provider, record the outcomes in one
//! transaction; retries with exponential backoff for transient errors; recovery of rows a crash
//! left in `sending` (looked up at the provider when it can tell, else `unconfirmed`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use minijinja::Value;
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::channels::{Outgoing, Provider, SendError};
use crate::model::{Channel, DataModel, Message};
use crate::personalize::{Escape, Renderer, Scope, Values};
use crate::store::deliveries::{self, Claimed, Outcome, status};
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

/// How a delivery is sent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SendOptions {
    /// Rows claimed (and recorded) together.
    pub batch: usize,
    /// At most this many messages per second (the credential's limit), `None`: as fast as the
    /// provider answers.
    pub rate_per_second: Option<f64>,
    /// Attempts before a transient error becomes a failure.
    pub max_attempts: u32,
    /// The first retry waits this long, doubling each time (with jitter).
    pub backoff: Duration,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self { batch: 500, rate_per_second: None, max_attempts: 5, backoff: Duration::from_secs(30) }
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub delivery: i64,
    pub total: u64,
    pub sent: u64,
    pub failed: u64,
    pub excluded: u64,
    pub unconfirmed: u64,
    /// Queued, sending or waiting to retry.
    pub remaining: u64,
}

impl Progress {
    fn read(conn: &Connection, delivery: i64) -> Result<Self, DeliveryError> {
        let mut p = Progress { delivery, ..Self::default() };
        let mut stmt =
            conn.prepare_cached("SELECT status, COUNT(*) FROM cc_ledger WHERE delivery_id = ?1 GROUP BY status")?;
        let rows = stmt.query_map([delivery], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
        for row in rows {
            let (s, n) = row?;
            p.total += n;
            match s.as_str() {
                status::SENT => p.sent += n,
                status::FAILED => p.failed += n,
                status::EXCLUDED => p.excluded += n,
                status::UNCONFIRMED => p.unconfirmed += n,
                _ => p.remaining += n,
            }
        }
        Ok(p)
    }

    /// Done, as a fraction of the rows.
    pub fn fraction(&self) -> f32 {
        if self.total == 0 { 1.0 } else { (self.total - self.remaining) as f32 / self.total as f32 }
    }
}

/// What a delivery's recipients look like: enough to personalize its messages.
pub struct Recipients<'a> {
    pub model: &'a DataModel,
    pub profile: String,
    /// The secondary entity of a multi-level send.
    pub secondary: Option<String>,
    /// Enrichment columns kept with the ledger rows.
    pub enrichment: Vec<String>,
}

/// The compiled templates of a message.
pub struct Templates {
    subject: Option<Renderer>,
    text: Option<Renderer>,
    html: Option<Renderer>,
}

/// Checks and compiles the parts of `message` for recipients described by `scope`.
pub fn templates(message: &Message, scope: &Scope) -> Result<Templates, DeliveryError> {
    let one = |source: &str, escape, part: &str| -> Result<Option<Renderer>, DeliveryError> {
        if source.trim().is_empty() {
            return Ok(None);
        }
        Renderer::new(source, escape, scope).map(Some).map_err(|problems| {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            DeliveryError::Message(format!("the message {part} cannot be personalized: {}", list.join("; ")))
        })
    };
    Ok(Templates {
        subject: one(&message.subject, Escape::None, "subject")?,
        text: one(&message.text, Escape::None, "text")?,
        html: one(&message.html, Escape::Html, "HTML")?,
    })
}

/// Puts back rows a crash left in `sending`: sent when the provider has them, queued again when
/// it says it never got them, `unconfirmed` when it cannot say. Returns (sent, queued,
/// unconfirmed).
pub fn recover(
    conn: &mut Connection,
    delivery: i64,
    provider: &dyn Provider,
) -> Result<(u64, u64, u64), DeliveryError> {
    let mut counts = (0, 0, 0);
    let now = jiff::Timestamp::now();
    let campaign: Option<i64> =
        conn.query_row("SELECT campaign_id FROM cc_deliveries WHERE id = ?1", [delivery], |r| r.get(0))?;
    for (id, key) in deliveries::in_flight(conn, delivery)? {
        if !provider.capabilities().lookup {
            deliveries::set_recovered(conn, id, status::UNCONFIRMED, now)?;
            counts.2 += 1;
            continue;
        }
        match provider.lookup(&key) {
            Ok(Some(message_id)) => {
                let recipient: String =
                    conn.query_row("SELECT recipient_key FROM cc_ledger WHERE id = ?1", [id], |r| r.get(0))?;
                deliveries::record(
                    conn,
                    campaign,
                    delivery,
                    &[(id, recipient, Outcome::Sent { provider_message_id: message_id })],
                    now,
                )?;
                counts.0 += 1;
            }
            Ok(None) => {
                deliveries::set_recovered(conn, id, status::QUEUED, now)?;
                counts.1 += 1;
            }
            Err(e) => {
                // Cannot tell now: leave it for the next start rather than guess.
                tracing::warn!("could not look up message {key}: {e}");
            }
        }
    }
    Ok(counts)
}

/// Sends what is due in `delivery` until nothing is left (or `cancelled` says stop, between
/// batches). Returns the delivery's progress at the end.
#[allow(clippy::too_many_arguments)]
pub fn send(
    conn: &mut Connection,
    delivery: i64,
    channel: Channel,
    message: &Message,
    recipients: &Recipients<'_>,
    provider: &dyn Provider,
    options: &SendOptions,
    progress: &mut dyn FnMut(&Progress),
    cancelled: &dyn Fn() -> bool,
) -> Result<Progress, DeliveryError> {
    let model = recipients.model;
    let columns = |e: &str| -> Vec<String> {
        model.entity(e).map(|e| e.columns.iter().map(|c| c.name.clone()).collect()).unwrap_or_default()
    };
    let scope = Scope {
        profile: columns(&recipients.profile),
        secondary: recipients.secondary.as_ref().map(|s| (s.clone(), columns(s))),
        enrichment: recipients.enrichment.clone(),
        context: false,
    };
    let templates = templates(message, &scope)?;
    let campaign: Option<i64> =
        conn.query_row("SELECT campaign_id FROM cc_deliveries WHERE id = ?1", [delivery], |r| r.get(0))?;
    let row_of = |entity: &str| -> Result<String, DeliveryError> {
        let e = model.entity(entity).ok_or_else(|| DeliveryError::Message(format!("no entity {entity}")))?;
        Ok(format!("SELECT * FROM {} WHERE {} = ?1", quote_ident(&e.name)?, quote_ident(&e.primary_key)?))
    };
    let profile_sql = row_of(&recipients.profile)?;
    let secondary_sql = recipients.secondary.as_deref().map(row_of).transpose()?;
    let pace = options.rate_per_second.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r));
    let mut next_slot = Instant::now();
    let mut last = Progress::read(conn, delivery)?;
    progress(&last);
    loop {
        if cancelled() {
            return Ok(last);
        }
        let now = jiff::Timestamp::now();
        let claimed = deliveries::claim(conn, delivery, options.batch.max(1), now)?;
        if claimed.is_empty() {
            match deliveries::next_retry(conn, delivery)? {
                Some(at) => {
                    // Wait for the next retry, a second at a time so a cancel is heard.
                    let wait = at.duration_since(jiff::Timestamp::now()).unsigned_abs().min(Duration::from_secs(1));
                    std::thread::sleep(wait.max(Duration::from_millis(10)));
                    continue;
                }
                None => break,
            }
        }
        let mut outcomes = Vec::with_capacity(claimed.len());
        for row in &claimed {
            if let Some(step) = pace {
                let now = Instant::now();
                if next_slot > now {
                    std::thread::sleep(next_slot - now);
                }
                next_slot = next_slot.max(now) + step;
            }
            let outcome = match render(conn, &templates, row, &profile_sql, secondary_sql.as_deref(), recipients) {
                Err(why) => Outcome::Failed { code: "personalization".into(), message: why },
                Ok((subject, text, html)) => {
                    let m = Outgoing {
                        idempotency_key: row.idempotency_key.clone(),
                        channel,
                        address: row.address.clone(),
                        subject,
                        text,
                        html,
                    };
                    match provider.send(&m) {
                        Ok(id) => Outcome::Sent { provider_message_id: id },
                        Err(SendError::Permanent { code, message }) => Outcome::Failed { code, message },
                        Err(SendError::Transient { code, message, retry_after }) => {
                            if row.attempts >= options.max_attempts {
                                Outcome::Failed {
                                    code,
                                    message: format!("{message} (gave up after {} attempts)", row.attempts),
                                }
                            } else {
                                let wait =
                                    retry_after.unwrap_or_else(|| backoff(options.backoff, row.attempts, row.id));
                                let at = jiff::Timestamp::now()
                                    .checked_add(jiff::SignedDuration::try_from(wait).unwrap_or_default())
                                    .unwrap_or_else(|_| jiff::Timestamp::now());
                                Outcome::Retry { at, code, message }
                            }
                        }
                    }
                }
            };
            outcomes.push((row.id, row.recipient_key.clone(), outcome));
        }
        deliveries::record(conn, campaign, delivery, &outcomes, jiff::Timestamp::now())?;
        // Counted from the outcomes: reading the ledger's counts each batch would cost a scan
        // of the whole delivery every time.
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
    last = Progress::read(conn, delivery)?;
    progress(&last);
    if last.remaining == 0 {
        deliveries::finish(conn, delivery, deliveries::delivery_status::DONE, jiff::Timestamp::now())?;
    }
    Ok(last)
}

impl Templates {
    /// The subject, text and HTML for one recipient.
    pub fn render(&self, values: &Values) -> Result<(String, String, String), String> {
        let part = |r: &Option<Renderer>| r.as_ref().map_or(Ok(String::new()), |r| r.render(values));
        Ok((part(&self.subject)?, part(&self.text)?, part(&self.html)?))
    }
}

/// Exponential backoff with jitter: base × 2^(attempt-1), ± a quarter, from the row id (no
/// randomness source needed, and rows spread out).
fn backoff(base: Duration, attempt: u32, id: i64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(10));
    let jitter = (crate::audience::mix(id, u64::from(attempt)).rem_euclid(1000)) as f64 / 1000.0; // 0..1
    exp.mul_f64(0.75 + jitter / 2.0)
}

/// The rendered subject, text and HTML of one row's message.
fn render(
    conn: &Connection,
    t: &Templates,
    row: &Claimed,
    profile_sql: &str,
    secondary_sql: Option<&str>,
    recipients: &Recipients<'_>,
) -> Result<(String, String, String), String> {
    let mut values = Values { profile: read_row(conn, profile_sql, &row.recipient_key)?, ..Values::default() };
    if let (Some(sql), Some(entity)) = (secondary_sql, recipients.secondary.as_ref())
        && !row.secondary_key.is_empty()
    {
        values.secondary = Some((entity.clone(), read_row(conn, sql, &row.secondary_key)?));
    }
    let vars: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&row.vars_json).map_err(|e| format!("the row's enrichment values are unreadable: {e}"))?;
    values.enrichment = vars.into_iter().map(|(k, v)| (k, Value::from_serialize(&v))).collect();
    let part = |r: &Option<Renderer>| r.as_ref().map_or(Ok(String::new()), |r| r.render(&values));
    Ok((part(&t.subject)?, part(&t.text)?, part(&t.html)?))
}

/// One row of a customer table by key, as template values (`sql` selects `*` by key).
pub fn read_row(conn: &Connection, sql: &str, key: &str) -> Result<BTreeMap<String, Value>, String> {
    let mut stmt = conn.prepare_cached(sql).map_err(|e| e.to_string())?;
    let names: Vec<String> = stmt.column_names().iter().map(|s| (*s).to_owned()).collect();
    let key: i64 = key.parse().map_err(|_| format!("recipient key {key} is not a number"))?;
    let mut rows = stmt.query([key]).map_err(|e| e.to_string())?;
    let Some(r) = rows.next().map_err(|e| e.to_string())? else {
        return Err(format!("row {key} no longer exists"));
    };
    let mut out = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let v = match r.get_ref(i).map_err(|e| e.to_string())? {
            ValueRef::Null => Value::from(()),
            ValueRef::Integer(n) => Value::from(n),
            ValueRef::Real(x) => Value::from(x),
            ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(_) => Value::from(()),
        };
        out.insert(name.clone(), v);
    }
    Ok(out)
}
