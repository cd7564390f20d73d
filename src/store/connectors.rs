//! Campaign connectors: their form, what a published one listens to, and their pending sends.
//! The pending sends are made by the events table's trigger (migration 18), in the transaction
//! of the event that causes them; here they are dated, listed, cancelled and fired.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Result, parse_ts, ts};

/// The form of connector `campaign_id`, when it was saved.
pub fn settings(conn: &Connection, campaign_id: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT settings_json FROM cc_connectors WHERE campaign_id = ?1", [campaign_id], |r| r.get(0))
        .optional()?)
}

/// Keeps the form of connector `campaign_id`.
pub fn save_settings(conn: &Connection, campaign_id: i64, json: &str, now: jiff::Timestamp) -> Result<()> {
    conn.execute(
        "INSERT INTO cc_connectors (campaign_id, settings_json, modified_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (campaign_id) DO UPDATE SET settings_json = excluded.settings_json, modified_at = excluded.modified_at",
        params![campaign_id, json, ts(now)],
    )?;
    conn.execute("UPDATE cc_campaigns SET modified_at = ?2 WHERE id = ?1", params![campaign_id, ts(now)])?;
    Ok(())
}

/// Which campaign an exception event must be on: any, the trigger's source, or one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnCampaign {
    Any,
    /// The campaign of the event that triggered the pending send.
    Source,
    Id(i64),
}

/// One trigger or exception of a published connector, as the events' trigger matches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenRule {
    pub exception: bool,
    /// The interaction's name (for the pending send and the cancellation's reason).
    pub interaction: String,
    /// The event kind it matches.
    pub kind: String,
    /// The channel of the event's delivery, when it must be one.
    pub channel: Option<String>,
    pub campaign: OnCampaign,
    pub message: Option<String>,
    pub alias: Option<String>,
    /// A conversion's name (any case).
    pub name: Option<String>,
    /// Triggers: the delay (`None`: the profile's local time, dated later).
    pub delay_seconds: Option<i64>,
}

/// Replaces what connector `connector` listens to (nothing: it listens to nothing).
pub fn set_rules(tx: &Transaction<'_>, connector: i64, rules: &[ListenRule]) -> Result<()> {
    tx.execute("DELETE FROM cc_connector_rules WHERE connector_id = ?1", [connector])?;
    let mut stmt = tx.prepare(
        "INSERT INTO cc_connector_rules (connector_id, role, interaction, kind, channel, campaign_id, message, alias,
                                         name, delay_seconds)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for r in rules {
        let campaign = match r.campaign {
            OnCampaign::Any => None,
            OnCampaign::Source => Some(0),
            OnCampaign::Id(id) => Some(id),
        };
        let role = if r.exception { "exception" } else { "trigger" };
        stmt.execute(params![
            connector,
            role,
            r.interaction,
            r.kind,
            r.channel,
            campaign,
            r.message,
            r.alias,
            r.name,
            r.delay_seconds
        ])?;
    }
    Ok(())
}

/// Cancels the waiting sends of `connector` with `reason` (its words are the console's).
/// With `due_after`, only those due after that time (a connector's end). Returns how many.
pub fn cancel_waiting(
    conn: &Connection,
    connector: i64,
    reason: &str,
    due_after: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
) -> Result<u64> {
    let n = conn.execute(
        "UPDATE cc_pending_sends SET state = 'cancelled', reason = ?2, settled_at = ?3
          WHERE connector_id = ?1 AND state = 'waiting' AND (?4 IS NULL OR due_at > ?4)",
        params![connector, reason, ts(now), due_after.map(jiff::Timestamp::as_second)],
    )?;
    Ok(n as u64)
}

/// A waiting send whose due time is the profile's local time, not worked out yet.
pub struct Undated {
    pub id: i64,
    pub connector: i64,
    pub profile: String,
    pub trigger_at: jiff::Timestamp,
}

/// Up to `limit` waiting sends with no due time yet.
pub fn undated(conn: &Connection, limit: usize) -> Result<Vec<Undated>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, connector_id, profile_key, trigger_at FROM cc_pending_sends
          WHERE state = 'waiting' AND due_at IS NULL ORDER BY id LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, connector, profile, at)| Ok(Undated { id, connector, profile, trigger_at: parse_ts(&at)? }))
        .collect()
}

/// Dates a waiting send.
pub fn set_due(conn: &Connection, id: i64, due: jiff::Timestamp) -> Result<()> {
    conn.execute("UPDATE cc_pending_sends SET due_at = ?2 WHERE id = ?1", params![id, due.as_second()])?;
    Ok(())
}

/// A waiting send that is due.
#[derive(Clone, Debug)]
pub struct Due {
    pub id: i64,
    pub profile: String,
    pub event_id: i64,
    pub interaction: String,
    pub source_campaign: Option<i64>,
    pub source_name: Option<String>,
    pub trigger_at: jiff::Timestamp,
    /// The link alias of the trigger event, when it has one.
    pub alias: Option<String>,
}

/// Up to `limit` waiting sends of `connector` due at `now`, oldest due first.
pub fn due(conn: &Connection, connector: i64, now: jiff::Timestamp, limit: usize) -> Result<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.profile_key, p.event_id, p.interaction, p.source_campaign_id, c.name, p.trigger_at,
                COALESCE(json_extract(i.detail_json, '$.alias'), json_extract(i.detail_json, '$.link_alias'))
           FROM cc_pending_sends p
           LEFT JOIN cc_campaigns c ON c.id = p.source_campaign_id
           LEFT JOIN cc_interactions i ON i.id = p.event_id
          WHERE p.connector_id = ?1 AND p.state = 'waiting' AND p.due_at <= ?2
          ORDER BY p.due_at, p.id LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![connector, now.as_second(), i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, profile, event_id, interaction, source_campaign, source_name, at, alias)| {
            Ok(Due {
                id,
                profile,
                event_id,
                interaction,
                source_campaign,
                source_name,
                trigger_at: parse_ts(&at)?,
                alias,
            })
        })
        .collect()
}

/// The exception event that cancels waiting send `id` (one of its connector's exceptions,
/// on the right campaign, after the trigger), when one happened: its interaction's name.
pub fn exception_of(conn: &Connection, id: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT r.interaction
               FROM cc_pending_sends p
               JOIN cc_connector_rules r ON r.connector_id = p.connector_id AND r.role = 'exception'
               JOIN cc_interactions i ON i.profile_key = p.profile_key AND i.kind = r.kind
              WHERE p.id = ?1 AND i.id <> p.event_id
                AND (julianday(i.at) > julianday(p.trigger_at)
                     OR (julianday(i.at) = julianday(p.trigger_at) AND i.id > p.event_id))
                AND (r.campaign_id IS NULL OR r.campaign_id = i.campaign_id
                     OR (r.campaign_id = 0 AND i.campaign_id = p.source_campaign_id))
                AND (r.channel IS NULL OR r.channel = (SELECT d.channel FROM cc_deliveries d WHERE d.id = i.delivery_id))
                AND (r.alias IS NULL OR r.alias = COALESCE(json_extract(i.detail_json, '$.alias'),
                                                           json_extract(i.detail_json, '$.link_alias')))
                AND (r.name IS NULL OR lower(r.name) = lower(json_extract(i.detail_json, '$.name')))
                AND (r.message IS NULL OR r.message = json_extract(i.detail_json, '$.message')
                     OR r.message = (SELECT d.activity_id FROM cc_deliveries d WHERE d.id = i.delivery_id))
              LIMIT 1",
            [id],
            |r| r.get(0),
        )
        .optional()?)
}

/// When `connector` last fired for `profile`, if it did.
pub fn last_fired(conn: &Connection, connector: i64, profile: &str) -> Result<Option<jiff::Timestamp>> {
    let at: Option<String> = conn.query_row(
        "SELECT MAX(settled_at) FROM cc_pending_sends WHERE connector_id = ?1 AND state = 'fired' AND profile_key = ?2",
        params![connector, profile],
        |r| r.get(0),
    )?;
    at.as_deref().map(parse_ts).transpose()
}

/// A pending send's message, queued in the ledger of `delivery` (or excluded with its reason),
/// and the send marked fired with it, in `tx`. Returns the ledger row.
pub struct Fired<'a> {
    pub pending: i64,
    pub idempotency_key: &'a str,
    pub profile: &'a str,
    pub address: &'a str,
    /// `None`: queued; else the reason's code and words.
    pub excluded: Option<(&'a str, &'a str)>,
    /// What the message may use of its trigger (`trigger.*`).
    pub vars_json: &'a str,
}

/// Queues `fired`'s message and marks its pending send fired (see [`Fired`]).
pub fn fire(tx: &Transaction<'_>, delivery: i64, fired: &Fired<'_>, now: jiff::Timestamp) -> Result<i64> {
    let (state, code, why) = match fired.excluded {
        None => ("queued", None, None),
        Some((code, why)) => ("excluded", Some(code), Some(why)),
    };
    let mut insert = tx.prepare_cached(
        "INSERT INTO cc_ledger (delivery_id, idempotency_key, recipient_key, address, status, error_code, error_message,
                                vars_json, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    insert.execute(params![
        delivery,
        fired.idempotency_key,
        fired.profile,
        fired.address,
        state,
        code,
        why,
        fired.vars_json,
        ts(now)
    ])?;
    let ledger = tx.last_insert_rowid();
    tx.prepare_cached("UPDATE cc_pending_sends SET state = 'fired', ledger_id = ?2, settled_at = ?3 WHERE id = ?1")?
        .execute(params![fired.pending, ledger, ts(now)])?;
    Ok(ledger)
}

/// Cancels waiting send `id` with `reason` (and what it was, for an exception).
pub fn cancel(conn: &Connection, id: i64, reason: &str, detail: Option<&str>, now: jiff::Timestamp) -> Result<()> {
    conn.prepare_cached(
        "UPDATE cc_pending_sends SET state = 'cancelled', reason = ?2, reason_detail = ?3, settled_at = ?4
          WHERE id = ?1 AND state = 'waiting'",
    )?
    .execute(params![id, reason, detail, ts(now)])?;
    Ok(())
}

/// The deliveries of `connector` not finished (a stop came while they were sent).
pub fn unfinished_deliveries(conn: &Connection, connector: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM cc_deliveries WHERE campaign_id = ?1 AND activity_id = 'connector' AND is_proof = 0
            AND status IN ('preparing', 'sending') ORDER BY id",
    )?;
    let ids = stmt.query_map([connector], |r| r.get(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids)
}

/// A pending send as listed: id, connector id and name, profile, event id, interaction,
/// source campaign's name, trigger time, due time, state, reason, reason's detail, ledger row.
pub struct Listed {
    pub id: i64,
    pub connector_id: i64,
    pub connector: String,
    pub profile: String,
    pub event_id: i64,
    pub interaction: String,
    pub source: Option<String>,
    pub trigger_at: jiff::Timestamp,
    pub due_at: Option<jiff::Timestamp>,
    pub state: String,
    pub reason: Option<String>,
    pub reason_detail: Option<String>,
    pub ledger_id: Option<i64>,
}

/// The pending sends (of one connector when given; in one state when given), due first, at
/// most `limit`.
pub fn list(conn: &Connection, connector: Option<i64>, state: Option<&str>, limit: usize) -> Result<Vec<Listed>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.connector_id, c.name, p.profile_key, p.event_id, p.interaction, s.name, p.trigger_at, p.due_at,
                p.state, p.reason, p.reason_detail, p.ledger_id
           FROM cc_pending_sends p JOIN cc_campaigns c ON c.id = p.connector_id
           LEFT JOIN cc_campaigns s ON s.id = p.source_campaign_id
          WHERE (?1 IS NULL OR p.connector_id = ?1) AND (?2 IS NULL OR p.state = ?2)
          ORDER BY p.state = 'waiting' DESC, p.due_at, p.id LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![connector, state, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((
                (r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?),
                (r.get::<_, i64>(4)?, r.get::<_, String>(5)?, r.get::<_, Option<String>>(6)?),
                (r.get::<_, String>(7)?, r.get::<_, Option<i64>>(8)?, r.get::<_, String>(9)?),
                (r.get::<_, Option<String>>(10)?, r.get::<_, Option<String>>(11)?, r.get::<_, Option<i64>>(12)?),
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(
            |(
                (id, connector_id, connector, profile),
                (event_id, interaction, source),
                (trigger_at, due, state),
                (reason, reason_detail, ledger_id),
            )| {
                Ok(Listed {
                    id,
                    connector_id,
                    connector,
                    profile,
                    event_id,
                    interaction,
                    source,
                    trigger_at: parse_ts(&trigger_at)?,
                    due_at: due.and_then(|s| jiff::Timestamp::from_second(s).ok()),
                    state,
                    reason,
                    reason_detail,
                    ledger_id,
                })
            },
        )
        .collect()
}

/// How many pending sends (of one connector when given) are in each state, with each
/// cancellation reason (and its detail: the exception's interaction) apart: (state, reason,
/// detail, count).
pub fn counts(conn: &Connection, connector: Option<i64>) -> Result<Vec<Counted>> {
    let mut stmt = conn.prepare_cached(
        "SELECT state, CASE WHEN state = 'cancelled' THEN reason END AS why,
                CASE WHEN state = 'cancelled' THEN reason_detail END AS detail, COUNT(*)
           FROM cc_pending_sends WHERE ?1 IS NULL OR connector_id = ?1
          GROUP BY state, why, detail ORDER BY state, why, detail",
    )?;
    let rows = stmt
        .query_map(params![connector], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0)))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A count of pending sends: state, reason, its detail, how many.
pub type Counted = (String, Option<String>, Option<String>, u64);
