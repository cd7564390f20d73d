//! Campaign runs: counting in run mode, writing each channel activity's ledger before
//! anything is sent, sending (or carrying on an unfinished run, never sending twice), stopping,
//! and the deliveries with their ledgers.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::routes::CredentialChoice;
use super::{CampaignEvent, Console, ConsoleError, Event, Refresh, RunCommand, RunEvent, UserError, jobs};
use crate::audience::{self, Dialect};
use crate::model::{Campaign, Canvas, Channel, DataModel, ProviderSettings};
use crate::store::{self, StoreError};

/// Ledger rows shown per page.
pub const LEDGER_PAGE: u64 = 100;

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
        use crate::model::delivery::{Delivery, LedgerStatus, status};
        let sum = |s: LedgerStatus| self.of_this_run().map(|d| d.count(s)).sum::<u64>();
        let mut parts = vec![format!("{} sent", sum(status::SENT))];
        for (s, word) in
            [(status::FAILED, "failed"), (status::EXCLUDED, "excluded"), (status::UNCONFIRMED, "unconfirmed")]
        {
            let n = sum(s);
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        let left: u64 = self.of_this_run().map(Delivery::remaining).sum();
        if left > 0 {
            parts.push(format!("{left} not sent yet"));
        }
        parts.join(", ")
    }
}

impl Console {
    /// Runs an orchestrated campaign: counts its canvas, saves its audiences and control groups,
    /// writes the ledger of each channel activity (before anything is sent), then sends. When an
    /// earlier run left deliveries unfinished (stopped, crashed), those are carried on instead:
    /// rows left in `sending` are looked up at the provider, and nothing is sent twice. (Whether
    /// a campaign that already ran may run again is decided before: `refuse_rerun`.)
    pub(super) fn run_deliveries(
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
        store::streaming(&conn)?;
        let deliveries = self.with_labels(ledger::list(&conn, Some(campaign.id))?);
        Ok(RunSummary { campaign, resumed, deliveries, this_run: ids })
    }

    /// Takes the campaign's sending lease for this run: while one process (or window) sends a
    /// campaign, another refuses to, so that two runs started at once never write two sets of
    /// deliveries.
    pub(super) fn sending_lease(&self, campaign: &Campaign) -> Result<super::lease::Lease, ConsoleError> {
        self.hold_lease(&format!("send:{}", campaign.id), || {
            format!(
                "\u{201c}{}\u{201d} is being sent by another window or process now (or by one that stopped less than a minute ago): it carries on there, nothing was started here",
                campaign.name
            )
        })
    }

    /// Refuses to run again a campaign that already ran to the end, unless `again` (a run left
    /// unfinished is carried on instead, which is always allowed).
    pub(super) fn refuse_rerun(&self, campaign: &Campaign, again: bool) -> Result<(), ConsoleError> {
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

    /// The limit of messages a day of a delivery sent through credential `credential_id`: an
    /// X service's direct messages.
    fn daily_limit(
        &self,
        channel: Channel,
        credential_id: Option<i64>,
    ) -> Result<Option<crate::delivery::DailyLimit>, ConsoleError> {
        let Some(id) = credential_id.filter(|_| channel == Channel::XDm) else { return Ok(None) };
        Ok(self.credentials()?.into_iter().find(|c| c.id == id).and_then(|c| match &c.settings {
            ProviderSettings::XApi(x) => {
                Some(crate::delivery::DailyLimit { credential_id: id, per_day: x.dm_day_limit() })
            }
            _ => None,
        }))
    }

    /// Refuses a run whose channel activities cannot send (a credential gone, settings that
    /// cannot work), before anything is written.
    fn check_routes(&self, canvas: &Canvas, run: &audience::CompiledRun) -> Result<(), ConsoleError> {
        for send in &run.sends {
            let Some(a) = canvas.activity(&send.activity) else { continue };
            let crate::model::ActivityKind::Channel { channel, credential, configuration, .. } = &a.kind else {
                continue;
            };
            let (choice, configuration) =
                self.activity_route(*channel, credential.as_deref(), configuration.as_deref())?;
            self.provider_for(*channel, choice, configuration.as_ref().and_then(|c| c.sender()))?;
        }
        Ok(())
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
        let (_, options) = self.compile_options(Dialect::Sqlite, canvas)?;
        let run = audience::compile_with(canvas, model, &options)?;
        // Everything a send needs is checked before anything is written.
        let profiles = audience::profile_entity(model).and_then(|p| model.entity(p));
        let no_profiles = || ConsoleError::CannotRun("the data model names no profile entity".into());
        if let Some(p) = audience::message_problems(canvas).into_iter().next() {
            return Err(ConsoleError::CannotRun(p.to_string()));
        }
        self.check_routes(canvas, &run)?;
        let credentials = self.credentials()?;
        let conn = self.workspace.connect()?;
        store::counting_once(&conn)?;
        let mut session = audience::CountSession::new(conn);
        let report = session.count(&run, cancelled)?;
        if !report.complete {
            return Err(audience::AudienceError::Cancelled.into());
        }
        session.save_audiences(&run, Some(campaign.id), self.now())?;
        session.record_control_groups(&run, campaign.id, self.now())?;
        let frequency_cap = store::customer_data::frequency_cap(&self.workspace.conn())?;
        // All the ledgers in one transaction: a crash leaves every delivery of the run, or none.
        let conn = session.connection();
        let tx = conn.unchecked_transaction().map_err(StoreError::from)?;
        let mut ids = Vec::new();
        for send in &run.sends {
            let Some(a) = canvas.activity(&send.activity) else { continue };
            let crate::model::ActivityKind::Channel { channel, per, message, credential, configuration } = &a.kind
            else {
                continue;
            };
            // The delivery keeps the credential and configuration it starts with: a resumed run
            // sends through them even if the channel's default changes meanwhile.
            let (choice, configuration) =
                self.activity_route(*channel, credential.as_deref(), configuration.as_deref())?;
            let credential_id = match choice {
                CredentialChoice::Id(id) => Some(id),
                CredentialChoice::Named(name) => crate::model::credential_for(&credentials, *channel, name)
                    .map_err(|e| ConsoleError::CannotRun(e.to_string()))?
                    .map(|c| c.id),
            };
            let message_json =
                serde_json::to_string(message).map_err(|source| ConsoleError::Json { what: "the message", source })?;
            let id = ledger::create(&tx, Some(campaign.id), &a.id, channel.as_str(), &message_json, self.now())?;
            let service = credential_id.and_then(|cid| credentials.iter().find(|c| c.id == cid));
            if *channel == Channel::X {
                write_post(&tx, id, credential_id, service, self.now())?;
                ids.push(id);
                continue;
            }
            let dimension = model
                .entity(&send.dimension)
                .ok_or_else(|| ConsoleError::CannotRun(format!("the data model has no entity {}", send.dimension)))?;
            // Who messages go to: the profiles, or the visitors (an X direct message).
            let visitors = *channel == Channel::XDm;
            let profile = if visitors { dimension } else { profiles.ok_or_else(no_profiles)? };
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
            let opt_in = profile.column(&opt_in_name).map(|c| c.name.as_str()).filter(|_| !visitors);
            let source = ledger::LedgerSource {
                table: &send.table,
                dimension: &dimension.name,
                dimension_key: &dimension.primary_key,
                profile: &profile.name,
                profile_key: &profile.primary_key,
                profile_fk,
                per_row: *per == crate::model::Recipient::SecondaryEntity && profile_fk.is_some(),
                address: if visitors { Some("external_id") } else { address },
                address_kind: ledger::AddressKind::of(*channel),
                opt_in,
                columns: &send.columns,
                // The cap counts messages by profile; direct messages have the service's pace.
                frequency_cap: frequency_cap.filter(|_| !visitors),
                visitors: visitors.then(|| service.map(|c| c.name.as_str()).or(options.default_x_service.as_deref())),
            };
            // Short links point at the server's public URL as it is when the run starts, kept with
            // the delivery: a message made again (a resumed run, a lookup) is the same text.
            let short_links = match configuration.as_ref().filter(|c| c.shorten_links) {
                Some(_) => Some(self.server_settings()?.public_base()),
                None => None,
            };
            let (tracking, configuration) = (self.tracking_base(*channel, service)?, configuration.map(|c| c.id));
            let (short_links_base, tracking_base) = (short_links.as_deref(), tracking.as_deref());
            let route = ledger::Route { credential: credential_id, configuration, short_links_base, tracking_base };
            ledger::set_route(&tx, id, &route)?;
            ledger::fill_ledger(&tx, id, &source, self.now())?;
            ids.push(id);
        }
        tx.commit().map_err(StoreError::from)?;
        Ok(ids)
    }

    /// Sends (or carries on sending) one delivery of `campaign`.
    #[allow(
        clippy::too_many_arguments,
        reason = "one delivery of a run: what it sends, at what pace, reporting and stoppable"
    )]
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
        let store::deliveries::StoredSend {
            activity,
            message_json,
            credential_id,
            configuration_id,
            short_links_base,
            tracking_base,
            ..
        } = store::deliveries::stored_send(&conn, id)?;
        // A damaged message is never sent as an empty one.
        let message: crate::model::Message = serde_json::from_str(&message_json).map_err(|e| {
            ConsoleError::CannotRun(format!(
                "the message of delivery {id} is damaged in the workspace ({e}): nothing more of it was sent"
            ))
        })?;
        let a = canvas.activity(&activity).ok_or_else(|| {
            ConsoleError::CannotRun(format!(
                "delivery {id} belongs to an activity the canvas no longer has ({activity})"
            ))
        })?;
        let crate::model::ActivityKind::Channel { channel, credential, per, .. } = &a.kind else {
            return Err(ConsoleError::CannotRun(format!("{} is not a channel activity", a.label)));
        };
        let choice = credential_id.map_or(CredentialChoice::Named(credential.as_deref()), CredentialChoice::Id);
        let configuration = match configuration_id {
            None => None,
            Some(cid) => Some(self.sms_configurations()?.into_iter().find(|c| c.id == cid).ok_or_else(|| {
                ConsoleError::CannotRun(format!(
                    "the SMS configuration this delivery started with (id {cid}) has been deleted: nothing more of delivery {id} is sent from another sender; add the configuration again to carry on"
                ))
            })?),
        };
        let sender = configuration.as_ref().and_then(|c| c.sender());
        let (provider, mut throttle, send_options) = self.provider_for(*channel, choice, sender)?;
        store::streaming(&conn)?;
        if let Some(rate) = rate_override {
            let pace = crate::channels::Pace { rate_per_second: Some(rate), ..throttle.pace() };
            throttle = Arc::new(crate::delivery::Throttle::new(pace));
        }
        // What the recipients carry: the compiled run says which entity and columns arrive.
        let (_, options) = self.compile_options(Dialect::Sqlite, canvas)?;
        let send = audience::compile_with(canvas, model, &options)?.sends.into_iter().find(|s| s.activity == activity);
        let profile = model.recipient_entity(*channel).unwrap_or_default().to_owned();
        let recipients = crate::delivery::Recipients {
            model,
            secondary: send
                .as_ref()
                .filter(|s| *per == crate::model::Recipient::SecondaryEntity && s.dimension != profile)
                .map(|s| s.dimension.clone()),
            enrichment: send.map(|s| s.columns).unwrap_or_default(),
            profile,
            profile_values: provider.capabilities().profile_values,
            visitor: *channel == Channel::XDm,
            trigger: false,
        };
        let sender = crate::delivery::Sender {
            channel: *channel,
            provider,
            throttle,
            options: send_options,
            runtime: self.runtime.handle(),
            short_links: short_links_base,
            tracking: self.tracking_of(tracking_base.as_deref())?,
            daily: self.daily_limit(*channel, credential_id)?,
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
                    outbox.offer(RunEvent::Progress { campaign_id, progress: *p });
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
            let mut events = vec![RunEvent::Finished { campaign_id, outcome }.into()];
            // Its status (Completed after a one-shot run) and last run changed.
            if let Ok(c) = store::campaigns::get(&console.workspace.conn(), campaign_id) {
                events.push(CampaignEvent::Changed(c).into());
            }
            events.push(console.refreshed(Refresh::Campaigns));
            events.push(console.refreshed(Refresh::Deliveries));
            events
        });
    }

    /// Whether a campaign is sending now.
    pub fn is_running(&self, campaign_id: i64) -> bool {
        self.runs.lock().unwrap_or_else(|p| p.into_inner()).contains_key(&campaign_id)
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
            d.activity_label = match of_canvas.get(&d.activity_id) {
                Some(label) => label.clone(),
                // An action-triggered campaign's pass (it has no canvas).
                None if d.activity_id == "connector" => "Follow-up".into(),
                None => String::new(),
            };
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
            let settings = credentials.iter().find_map(|c| match &c.settings {
                ProviderSettings::Sandbox(s) if c.channel == channel => Some(s.clone()),
                _ => None,
            });
            let rates = crate::channels::sandbox::rates(&settings.unwrap_or_default());
            // Real time, as the Sandbox stamps its messages.
            n += store::sandbox::sandbox_events(&conn, channel.as_str(), &rates, crate::clock::wall(), 100_000)?;
        }
        Ok(n)
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

    /// A delivery's whole ledger to `path` as CSV, through a temporary file renamed at the end.
    pub fn export_ledger(&self, delivery: i64, path: &Path, cancelled: &dyn Fn() -> bool) -> Result<u64, ConsoleError> {
        let conn = self.workspace.connect()?;
        jobs::write_atomically(path, |file| Ok(store::ledger::export_csv(&conn, delivery, file, cancelled)?))
    }

    pub(super) fn deliveries_event(&self) -> Event {
        match self.deliveries(None) {
            Ok(list) => RunEvent::Deliveries(list).into(),
            Err(e) => Event::Failed(UserError::new("Could not list the deliveries", &e)),
        }
    }

    pub(super) fn run_command(self: &Arc<Self>, command: RunCommand) {
        match command {
            RunCommand::Start { campaign_id, again } => self.start_run(campaign_id, again),
            RunCommand::Stop { campaign_id, cancel } => {
                if let Some(flag) = self.runs.lock().unwrap_or_else(|p| p.into_inner()).get(&campaign_id) {
                    flag.store(if cancel { 2 } else { 1 }, Ordering::SeqCst);
                }
            }
            RunCommand::ExportLedger { delivery, path } => {
                self.start_file_job(path, "ledger rows", move |c, path, cancelled| {
                    c.export_ledger(delivery, path, cancelled)
                });
            }
            RunCommand::ChangeLife { campaign_id, action } => {
                self.spawn(move |console| match console.change_life(campaign_id, action) {
                    Ok(c) => vec![CampaignEvent::Changed(c).into(), console.refreshed(Refresh::Campaigns)],
                    Err(e) => vec![Event::Failed(UserError::new(action.failure(), &e))],
                })
            }
            RunCommand::RefreshDeliveries => self.spawn(|console| vec![console.refreshed(Refresh::Deliveries)]),
            RunCommand::ResolveUnconfirmed { delivery, sent } => self.spawn(move |console| {
                let mut events = Vec::new();
                if let Err(e) = console.resolve_unconfirmed(delivery, sent) {
                    events.push(Event::Failed(UserError::new("Could not settle the unconfirmed messages", &e)));
                }
                events.push(console.refreshed(Refresh::Deliveries));
                events
            }),
            RunCommand::LedgerPage { delivery, status, offset } => self.spawn(move |console| {
                let conn = console.workspace.conn();
                vec![match store::ledger::page(&conn, delivery, status, offset, LEDGER_PAGE) {
                    Ok(page) => RunEvent::LedgerPage { delivery, status, offset, page }.into(),
                    Err(e) => Event::Failed(UserError::new("Could not read the ledger", &e.into())),
                }]
            }),
            RunCommand::SentMessage { ledger_id } => self.spawn(move |console| {
                vec![match console.sent_message(ledger_id) {
                    Ok(m) => RunEvent::SentMessage { ledger_id, message: m.map(Box::new) }.into(),
                    Err(e) => Event::Failed(UserError::new("Could not read the message", &e)),
                }]
            }),
        }
    }
}

/// An X post's delivery: one row, the post on the service's account (one per run, whoever the
/// population).
fn write_post(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    credential_id: Option<i64>,
    service: Option<&crate::model::Credential>,
    now: jiff::Timestamp,
) -> Result<(), ConsoleError> {
    let account = service
        .and_then(crate::channels::x::service)
        .map_or_else(|| "the built-in Sandbox".to_owned(), |s| format!("@{}", s.handle));
    store::deliveries::set_route(
        tx,
        id,
        &store::deliveries::Route { credential: credential_id, ..Default::default() },
    )?;
    store::deliveries::single_post(tx, id, &account, now)?;
    Ok(())
}
