//! The connectors' part of the scheduler: the Sandbox's due events written (they may trigger
//! or cancel follow-ups), local due times worked out, a delivery a stop left unfinished
//! carried on, then each live connector's due sends fired through the ledger — exceptions,
//! the audience filter and re-eligibility checked again now, each message queued with the
//! idempotency key connector + trigger event in the transaction that marks its send fired —
//! and sent. Only the process holding the scheduler's lease fires.

use super::{Console, ConsoleError, LaunchReport};
use crate::model::connector::{ConnectorForm, Delay, Reeligibility};
use crate::model::{Campaign, CampaignKind, CampaignStatus, Channel, DataModel, Rule};
use crate::store::{self, StoreError, connectors, launches};

/// Due sends written to the ledger per transaction.
const FIRE_BATCH: usize = 2_000;

/// How long the scheduler's lease is held without being renewed.
const LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);

/// What one connector's pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FireReport {
    pub connector: String,
    /// Sends whose message went to the ledger.
    pub fired: u64,
    /// Sends cancelled now (an exception, the filter, re-eligibility, the end date).
    pub cancelled: u64,
    pub sent: u64,
    pub failed: u64,
}

impl FireReport {
    fn did_nothing(&self) -> bool {
        self.fired + self.cancelled + self.sent + self.failed == 0
    }

    fn words(&self) -> String {
        format!(
            "{} follow-ups fired ({} sent, {} failed), {} cancelled",
            self.fired, self.sent, self.failed, self.cancelled
        )
    }
}

/// What a batch needs to know to queue messages: where they go and who may get one.
struct Reach<'m> {
    profile: &'m crate::model::Entity,
    address: Option<String>,
    opt_in: Option<String>,
    channel: Channel,
    /// The frequency cap, and since when it counts.
    cap: Option<(u32, jiff::Timestamp)>,
    filter: crate::audience::BrowseSql<'m>,
    filtered: bool,
    /// Where a new delivery of the connector sends (see [`Console::connector_delivery_route`]).
    route: DeliveryRoute,
}

/// A delivery's credential, SMS configuration, and where its short and tracked links lead.
type DeliveryRoute = (Option<i64>, Option<i64>, Option<String>, Option<String>);

impl Console {
    /// One pass for the connectors, when this process (`holder`) has the scheduler's lease.
    pub fn fire_due_connectors(
        &self,
        holder: &str,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Vec<LaunchReport>, ConsoleError> {
        let now = self.now();
        let until = now.checked_add(LEASE).unwrap_or(now);
        if !launches::acquire_lease(&self.workspace.conn(), launches::SCHEDULER_LEASE, holder, now, until)?
            && !self.take_dead_lease(launches::SCHEDULER_LEASE, holder, until)?
        {
            return Ok(Vec::new());
        }
        let connectors: Vec<Campaign> = self
            .campaigns()?
            .into_iter()
            .filter(|c| c.kind == CampaignKind::ActionTriggered)
            .filter(|c| matches!(c.status, CampaignStatus::Live | CampaignStatus::Paused))
            .collect();
        if connectors.is_empty() {
            return Ok(Vec::new());
        }
        self.simulate_sandbox_events()?;
        self.date_local_times()?;
        let model = store::data_model::load(&self.workspace.conn())?;
        let mut reports = Vec::new();
        for campaign in connectors {
            if cancelled() {
                break;
            }
            let report = match self.fire_connector(&campaign, &model, cancelled) {
                Ok(r) if r.did_nothing() => continue,
                Ok(r) => LaunchReport {
                    campaign: campaign.name.clone(),
                    scheduled_for: now,
                    missed: 0,
                    outcome: r.words(),
                    failed: false,
                },
                Err(e) => LaunchReport {
                    campaign: campaign.name.clone(),
                    scheduled_for: now,
                    missed: 0,
                    outcome: e.to_string(),
                    failed: true,
                },
            };
            reports.push(report);
        }
        Ok(reports)
    }

    /// Carries on its unfinished deliveries, then fires what is due (when live).
    fn fire_connector(
        &self,
        campaign: &Campaign,
        model: &DataModel,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<FireReport, ConsoleError> {
        let mut report = FireReport { connector: campaign.name.clone(), ..FireReport::default() };
        let now = self.now();
        if let Some(end) = campaign.ends_at {
            let n = connectors::cancel_waiting(&self.workspace.conn(), campaign.id, "outside_dates", Some(end), now)?;
            report.cancelled += n;
        }
        // (Read first: the shared connection is free again while they are sent, as the Sandbox
        // writes through it.)
        let unfinished = connectors::unfinished_deliveries(&self.workspace.conn(), campaign.id)?;
        for delivery in unfinished {
            self.send_connector_delivery(model, delivery, &mut report, cancelled)?;
        }
        if campaign.status != CampaignStatus::Live || cancelled() {
            return Ok(report);
        }
        let mut due = connectors::due(&self.workspace.conn(), campaign.id, now, FIRE_BATCH)?;
        if due.is_empty() {
            return Ok(report);
        }
        // Made once a pass that has something to fire.
        let (_, form) = self.connector(campaign.id)?;
        let reach = self.reach_of(&form, model)?;
        let mut delivery = None;
        while !due.is_empty() && !cancelled() {
            self.fire_batch(campaign, &form, &reach, &due, &mut delivery, &mut report)?;
            due = connectors::due(&self.workspace.conn(), campaign.id, now, FIRE_BATCH)?;
        }
        if let Some(d) = delivery {
            self.send_connector_delivery(model, d, &mut report, cancelled)?;
        }
        Ok(report)
    }

    fn reach_of<'m>(&self, form: &ConnectorForm, model: &'m DataModel) -> Result<Reach<'m>, ConsoleError> {
        let profile = model
            .profile_entity()
            .and_then(|p| model.entity(p))
            .ok_or_else(|| ConsoleError::CannotRun("the data has no profiles".into()))?;
        let address = crate::audience::address_namespace(form.channel)
            .and_then(|ns| model.identity_namespaces.iter().find(|n| n.name == ns && n.entity == profile.name))
            .map(|n| n.column.clone());
        let opt_in = profile.column(&format!("{}_opt_in", form.channel.as_str())).map(|c| c.name.clone());
        let cap = store::customer_data::frequency_cap(&self.workspace.conn())?;
        let since = self.now().checked_sub(jiff::SignedDuration::from_hours(24)).unwrap_or(self.now());
        let query = crate::model::browse::BrowseQuery {
            filter: form.filter.clone(),
            ..crate::model::browse::BrowseQuery::new(&profile.name)
        };
        let filter = crate::audience::BrowseSql::new(model, &query, self.now())
            .map_err(|e| ConsoleError::CannotRun(format!("the audience filter cannot be used: {e}")))?;
        Ok(Reach {
            profile,
            address,
            opt_in,
            channel: form.channel,
            cap: cap.map(|c| (c, since)),
            filter,
            filtered: form.filter != Rule::everyone(),
            route: self.connector_delivery_route(form)?,
        })
    }

    /// Writes one batch of due sends: each cancelled with its reason, or fired with its
    /// message queued (or excluded, with why) in the connector's delivery, in one transaction.
    fn fire_batch(
        &self,
        campaign: &Campaign,
        form: &ConnectorForm,
        reach: &Reach<'_>,
        due: &[connectors::Due],
        delivery: &mut Option<i64>,
        report: &mut FireReport,
    ) -> Result<(), ConsoleError> {
        let now = self.now();
        let keys: Vec<i64> = due.iter().filter_map(|d| d.profile.parse().ok()).collect();
        let matching = store::browse::keys_among(&self.workspace.conn(), &reach.filter, &keys)?;
        let (credential, configuration, short_links, tracking) = &reach.route;
        let mut conn = self.workspace.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(StoreError::from)?;
        let d = match *delivery {
            Some(d) => d,
            None => {
                let message_json = serde_json::to_string(&form.message)
                    .map_err(|source| ConsoleError::Json { what: "the message", source })?;
                let d = store::deliveries::create(
                    &tx,
                    Some(campaign.id),
                    "connector",
                    form.channel.as_str(),
                    &message_json,
                    now,
                )?;
                let route = store::deliveries::Route {
                    credential: *credential,
                    configuration: *configuration,
                    short_links_base: short_links.as_deref(),
                    tracking_base: tracking.as_deref(),
                };
                store::deliveries::set_route(&tx, d, &route)?;
                store::api::begin_delivery(&tx, d, false, now)?;
                d
            }
        };
        for row in due {
            let key = row.profile.parse::<i64>().ok().filter(|k| matching.contains(k));
            let cancel = if let Some(exception) = connectors::exception_of(&tx, row.id)? {
                Some(("exception", Some(exception)))
            } else if key.is_none() {
                Some((if reach.filtered { "filter" } else { "no_profile" }, None))
            } else if !eligible(&tx, form.reeligibility, campaign.id, &row.profile, now)? {
                Some(("not_reeligible", None))
            } else {
                None
            };
            if let Some((reason, detail)) = cancel {
                connectors::cancel(&tx, row.id, reason, detail.as_deref(), now)?;
                report.cancelled += 1;
                continue;
            }
            let (address, excluded) = exclusion(&tx, reach, &row.profile)?;
            let interaction = super::connectors::interaction_words(&row.interaction);
            let vars = serde_json::json!({
                "campaign": row.source_name.clone().unwrap_or_default(),
                "interaction": interaction,
                "alias": row.alias.clone().unwrap_or_default(),
                "at": row.trigger_at.to_string(),
            })
            .to_string();
            let key = format!("connector:{}:{}", campaign.id, row.event_id);
            let fired = connectors::Fired {
                pending: row.id,
                idempotency_key: &key,
                profile: &row.profile,
                address: &address,
                excluded: excluded.as_ref().map(|(c, w)| (*c, w.as_str())),
                vars_json: &vars,
            };
            connectors::fire(&tx, d, &fired, now)?;
            report.fired += 1;
        }
        tx.commit().map_err(StoreError::from)?;
        *delivery = Some(d);
        Ok(())
    }

    /// Where a new connector delivery sends: credential, SMS configuration, and where its
    /// short and tracked links lead.
    fn connector_delivery_route(&self, form: &ConnectorForm) -> Result<DeliveryRoute, ConsoleError> {
        let (_, credential, configuration) = self.connector_route(form)?;
        let short_links = match configuration.as_ref().filter(|c| c.shorten_links && form.channel == Channel::Sms) {
            Some(_) => Some(self.server_settings()?.public_base()),
            None => None,
        };
        let credentials = self.credentials()?;
        let through = credential.and_then(|id| credentials.iter().find(|c| c.id == id));
        let tracking = self.tracking_base(form.channel, through)?;
        Ok((credential, configuration.map(|c| c.id), short_links, tracking))
    }

    /// Sends (or carries on sending) a connector's delivery as it was started.
    fn send_connector_delivery(
        &self,
        model: &DataModel,
        delivery: i64,
        report: &mut FireReport,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(), ConsoleError> {
        let mut conn = self.workspace.connect()?;
        let stored = store::deliveries::stored_send(&conn, delivery)?;
        let message: crate::model::Message = serde_json::from_str(&stored.message_json).map_err(|e| {
            ConsoleError::CannotRun(format!(
                "the message of delivery {delivery} is damaged in the workspace ({e}): nothing more of it was sent"
            ))
        })?;
        let channel = Channel::parse(&stored.channel)
            .ok_or_else(|| ConsoleError::CannotRun(format!("delivery {delivery} has no channel it can send on")))?;
        let configuration = match stored.configuration_id {
            None => None,
            Some(cid) => Some(self.sms_configurations()?.into_iter().find(|c| c.id == cid).ok_or_else(|| {
                ConsoleError::CannotRun(format!(
                    "the SMS configuration delivery {delivery} started with has been deleted: nothing more of it is sent"
                ))
            })?),
        };
        let choice = stored
            .credential_id
            .map_or(super::routes::CredentialChoice::Named(None), super::routes::CredentialChoice::Id);
        let (provider, throttle, options) =
            self.provider_for(channel, choice, configuration.as_ref().and_then(|c| c.sender()))?;
        let recipients = crate::delivery::Recipients {
            model,
            profile: model.recipient_entity(channel).unwrap_or_default().to_owned(),
            secondary: None,
            enrichment: Vec::new(),
            profile_values: provider.capabilities().profile_values,
            visitor: false,
            trigger: true,
        };
        let sender = crate::delivery::Sender {
            channel,
            provider,
            throttle,
            options,
            runtime: self.runtime.handle(),
            short_links: stored.short_links_base,
            tracking: self.tracking_of(stored.tracking_base.as_deref())?,
            daily: None,
        };
        let before = crate::delivery::read_progress(&conn, delivery)?;
        let after = crate::delivery::send(&mut conn, delivery, &message, &recipients, &sender, &mut |_| {}, cancelled)?;
        report.sent += after.sent.saturating_sub(before.sent);
        report.failed += after.failed.saturating_sub(before.failed);
        Ok(())
    }

    /// Works out the due time of sends waiting for the profile's local time: the next
    /// `hour:minute` after the trigger in its `time_zone` (when the profiles have that column
    /// and it names a zone), else in this computer's zone.
    fn date_local_times(&self) -> Result<(), ConsoleError> {
        let undated = connectors::undated(&self.workspace.conn(), 100_000)?;
        if undated.is_empty() {
            return Ok(());
        }
        let conn = self.workspace.conn();
        let model = store::data_model::load(&conn)?;
        let profile = model.profile_entity().and_then(|p| model.entity(p));
        let mut forms = std::collections::HashMap::new();
        for u in undated {
            let form = match forms.entry(u.connector) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let json = connectors::settings(&conn, u.connector)?.unwrap_or_default();
                    e.insert(serde_json::from_str::<ConnectorForm>(&json).unwrap_or_default())
                }
            };
            let Delay::NextLocalTime { hour, minute } = form.delay else {
                // Its delay changed since: counted from the trigger as it is now.
                let seconds = form.delay.seconds().unwrap_or(0);
                let due = u.trigger_at.checked_add(jiff::SignedDuration::from_secs(seconds)).unwrap_or(u.trigger_at);
                connectors::set_due(&conn, u.id, due)?;
                continue;
            };
            let zone = profile
                .filter(|p| p.column("time_zone").is_some())
                .and_then(|p| u.profile.parse::<i64>().ok().map(|k| (p, k)))
                .and_then(|(p, k)| crate::delivery::entity_row(&conn, p, k).ok())
                .and_then(|row| row.get("time_zone").map(ToString::to_string))
                .and_then(|name| jiff::tz::TimeZone::get(name.trim()).ok())
                .unwrap_or_else(jiff::tz::TimeZone::system);
            connectors::set_due(&conn, u.id, next_local(u.trigger_at, &zone, hour, minute))?;
        }
        Ok(())
    }
}

/// The first `hour:minute` in `zone` after `after`.
fn next_local(after: jiff::Timestamp, zone: &jiff::tz::TimeZone, hour: u8, minute: u8) -> jiff::Timestamp {
    let local = after.to_zoned(zone.clone());
    let time = jiff::civil::Time::new(hour.min(23) as i8, minute.min(59) as i8, 0, 0).unwrap_or_default();
    let mut day = local.date();
    for _ in 0..3 {
        if let Ok(at) = day.to_datetime(time).to_zoned(zone.clone())
            && at.timestamp() > after
        {
            return at.timestamp();
        }
        day = day.tomorrow().unwrap_or(day);
    }
    after
}

/// Whether the profile may get the follow-up again now.
fn eligible(
    conn: &rusqlite::Connection,
    rule: Reeligibility,
    connector: i64,
    profile: &str,
    now: jiff::Timestamp,
) -> Result<bool, StoreError> {
    Ok(match rule {
        Reeligibility::EveryTime => true,
        Reeligibility::Once => connectors::last_fired(conn, connector, profile)?.is_none(),
        Reeligibility::AfterDays(days) => connectors::last_fired(conn, connector, profile)?
            .is_none_or(|last| now.duration_since(last) >= jiff::SignedDuration::from_hours(24 * i64::from(days))),
    })
}

/// Why a profile gets no message: a code and words.
type Exclusion = Option<(&'static str, String)>;

/// The profile's address, and why it gets no message when it gets none (no address, one that
/// cannot be sent to, not opted in, the frequency cap).
fn exclusion(conn: &rusqlite::Connection, reach: &Reach<'_>, profile: &str) -> Result<(String, Exclusion), StoreError> {
    let p = reach.profile;
    let (address, opted) =
        store::api::reach(conn, &p.name, &p.primary_key, profile, reach.address.as_deref(), reach.opt_in.as_deref())?;
    let kind = store::deliveries::AddressKind::of(reach.channel);
    let excluded = if reach.address.is_some() && address.is_empty() {
        Some(("no_address", format!("the profile has no address for {}", reach.channel.label())))
    } else if let Some(kind) = kind.filter(|k| !store::deliveries::valid_address(*k, &address)) {
        Some(("invalid_address", format!("\u{201c}{address}\u{201d} is not a valid {} address", kind.as_str())))
    } else if !opted {
        Some(("not_opted_in", format!("the profile has not opted in to {}", reach.channel.label())))
    } else if let Some((cap, since)) = reach.cap
        && store::api::messages_since(conn, profile, since)? >= u64::from(cap)
    {
        Some((
            "frequency_cap",
            format!("the profile already has {cap} messages in the last 24 hours (the workspace's cap)"),
        ))
    } else {
        None
    };
    Ok((address, excluded))
}
