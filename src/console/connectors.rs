//! An action-triggered campaign (campaign connector): its form, checked as a whole when it is
//! published (every problem in words), the delivery rules it shows (only interactions after
//! its publication count), its life (publishing writes what it listens to; stopping cancels
//! the waiting sends), and its pending sends with their counts.

use super::routes::{Route, date_problems, message_problems};
use super::{ConnectorCommand, ConnectorEvent, Console, ConsoleError, Event, LifeAction, Refresh, UserError};
use crate::model::connector::{
    CONNECTOR_CHANNELS, ConnectorForm, Delay, Interaction, PendingSend, PendingState, TriggerRule,
};
use crate::model::report::{ConnectorFigures, merge};
use crate::model::{Campaign, CampaignKind, CampaignStatus, Channel, DataModel};
use crate::store;
use crate::store::connectors::{ListenRule, OnCampaign};

/// The pending sends a page lists, at most.
pub const PENDING_SHOWN: usize = 200;

/// A campaign a trigger may name, with what it is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceCampaign {
    pub id: i64,
    pub name: String,
    pub kind: CampaignKind,
    pub status: CampaignStatus,
    pub published_at: Option<jiff::Timestamp>,
    /// Its messages (an orchestrated campaign's channel activities): id and label.
    pub messages: Vec<(String, String)>,
}

/// How many pending sends are where: waiting, fired, and cancelled by reason (in words).
pub type PendingCounts = ConnectorFigures;

/// Pending sends counted by state and reason, as the form and the report say them.
pub(super) fn pending_figures(counted: Vec<store::connectors::Counted>) -> ConnectorFigures {
    let mut f = ConnectorFigures::default();
    for (state, reason, detail, n) in counted {
        f.triggers += n;
        match PendingState::parse(&state) {
            Some(PendingState::Waiting) => f.waiting += n,
            Some(PendingState::Fired) => f.fired += n,
            _ => {
                merge(&mut f.cancelled, &[(reason_words(reason.as_deref().unwrap_or("unknown"), detail.as_deref()), n)])
            }
        }
    }
    f
}

/// What the form shows.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectorPage {
    pub campaign: Campaign,
    pub form: ConnectorForm,
    /// The campaigns a trigger may name: any other (orchestrated, API-triggered or another
    /// connector; a one-shot campaign is completed once sent, and its messages are still
    /// opened and clicked afterwards).
    pub sources: Vec<SourceCampaign>,
    pub credentials: Vec<(Channel, Vec<String>)>,
    pub configurations: Vec<String>,
    /// What publishing would refuse now.
    pub problems: Vec<String>,
    /// The delivery rules as they stand for this connector: warnings about its sources'
    /// publication.
    pub warnings: Vec<String>,
    pub counts: PendingCounts,
    /// The latest pending sends (at most [`PENDING_SHOWN`]).
    pub pending: Vec<PendingSend>,
    /// The data model (for the audience filter's rule builder).
    pub model: DataModel,
}

fn refused(why: impl std::fmt::Display) -> ConsoleError {
    ConsoleError::CannotRun(why.to_string())
}

/// What an action-triggered message may use: the profile's columns and its trigger.
pub(super) fn connector_scope(model: &DataModel) -> crate::personalize::Scope {
    let profile = model
        .profile_entity()
        .and_then(|p| model.entity(p))
        .map(|e| e.columns.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    crate::personalize::Scope { profile, trigger: true, ..Default::default() }
}

/// A cancellation's reason in words.
pub fn reason_words(reason: &str, detail: Option<&str>) -> String {
    let interaction = || detail.map_or_else(|| "an exception event".to_owned(), interaction_words);
    match reason {
        "exception" => format!("exception: {} while waiting", interaction()),
        "filter" => "the audience filter no longer holds".into(),
        "not_reeligible" => "not re-eligible (had it already)".into(),
        "outside_dates" => "due after the campaign's end".into(),
        "stopped" => "the campaign was stopped".into(),
        "no_profile" => "the profile no longer exists".into(),
        other => other.to_owned(),
    }
}

/// The rules a published connector listens to: its triggers (with the delay) and exceptions,
/// one for each way its interaction is written.
fn listen_rules(form: &ConnectorForm) -> Vec<ListenRule> {
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let rules = |r: &TriggerRule, exception: bool| {
        let campaign = match r.campaign {
            Some(id) => OnCampaign::Id(id),
            None if exception && r.interaction.is_conversion() => OnCampaign::Any,
            None if exception => OnCampaign::Source,
            // A trigger without its campaign is refused before it goes live.
            None => OnCampaign::Id(-1),
        };
        let interaction = interaction_name(r.interaction);
        r.interaction
            .stored()
            .iter()
            .map(|(kind, channel)| ListenRule {
                exception,
                interaction: interaction.clone(),
                kind: (*kind).to_owned(),
                channel: channel.map(|c| c.as_str().to_owned()),
                campaign,
                message: text(&r.message),
                alias: text(&r.alias).filter(|_| r.interaction.has_alias()),
                name: text(&r.conversion).filter(|_| r.interaction.is_conversion()),
                delay_seconds: if exception { None } else { form.delay.seconds() },
            })
            .collect::<Vec<_>>()
    };
    form.triggers
        .iter()
        .flat_map(|r| rules(r, false))
        .chain(form.exceptions.iter().flat_map(|r| rules(r, true)))
        .collect()
}

/// The name an interaction is stored by (`email_received`).
fn interaction_name(i: Interaction) -> String {
    serde_json::to_value(i).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The interaction a stored name stands for, in words (the name itself when unknown).
pub(super) fn interaction_words(name: &str) -> String {
    serde_json::from_value::<Interaction>(serde_json::Value::String(name.to_owned()))
        .map_or_else(|_| name.to_owned(), |i| i.label().to_owned())
}

impl Console {
    /// An action-triggered campaign and its form (a new one's defaults when never saved).
    pub fn connector(&self, id: i64) -> Result<(Campaign, ConnectorForm), ConsoleError> {
        let conn = self.workspace.conn();
        let campaign = store::campaigns::get(&conn, id)?;
        if campaign.kind != CampaignKind::ActionTriggered {
            return Err(ConsoleError::Invalid(format!(
                "\u{201c}{}\u{201d} is not an action-triggered campaign",
                campaign.name
            )));
        }
        let form = match store::connectors::settings(&conn, id)? {
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                store::StoreError::Damaged(format!("the form of \u{201c}{}\u{201d}: {e}", campaign.name))
            })?,
            None => ConnectorForm::default(),
        };
        Ok((campaign, form))
    }

    /// Everything the form shows.
    pub fn connector_page(&self, id: i64) -> Result<ConnectorPage, ConsoleError> {
        let (campaign, form) = self.connector(id)?;
        let model = store::data_model::load(&self.workspace.conn())?;
        let credentials = self.credentials()?;
        let sources = self.connector_sources(id)?;
        let problems = self.connector_problems(&campaign, &form)?;
        let warnings = delivery_rules(&campaign, &form, &sources);
        Ok(ConnectorPage {
            credentials: CONNECTOR_CHANNELS
                .iter()
                .map(|c| (*c, credentials.iter().filter(|k| k.channel == *c).map(|k| k.name.clone()).collect()))
                .collect(),
            configurations: self.sms_configurations()?.into_iter().map(|c| c.name).collect(),
            problems,
            warnings,
            counts: self.pending_counts(Some(id))?,
            pending: self.pending_sends(Some(id), None, PENDING_SHOWN)?,
            sources,
            campaign,
            form,
            model,
        })
    }

    /// The campaigns a connector's trigger may name.
    fn connector_sources(&self, id: i64) -> Result<Vec<SourceCampaign>, ConsoleError> {
        let mut sources = Vec::new();
        for c in self.campaigns()? {
            if c.id == id {
                continue;
            }
            let messages = match c.kind {
                CampaignKind::Orchestrated => self
                    .canvas(&c)
                    .map(|canvas| {
                        canvas
                            .activities
                            .into_iter()
                            .filter(|a| matches!(a.kind, crate::model::ActivityKind::Channel { .. }))
                            .map(|a| (a.id, a.label))
                            .collect()
                    })
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            sources.push(SourceCampaign {
                id: c.id,
                name: c.name,
                kind: c.kind,
                status: c.status,
                published_at: c.published_at,
                messages,
            });
        }
        Ok(sources)
    }

    /// Keeps the form, the title and the dates. A live connector listens to the new form from
    /// now on (its waiting sends keep their due time).
    pub fn save_connector(
        &self,
        id: i64,
        title: &str,
        form: ConnectorForm,
        (starts_at, ends_at): (Option<jiff::Timestamp>, Option<jiff::Timestamp>),
    ) -> Result<(Campaign, ConnectorForm), ConsoleError> {
        let (campaign, _) = self.connector(id)?;
        let json = serde_json::to_string(&form).map_err(|source| ConsoleError::Json { what: "the form", source })?;
        let now = self.now();
        let mut conn = self.workspace.conn();
        let tx = conn.transaction().map_err(store::StoreError::from)?;
        let title = title.trim();
        if !title.is_empty() && title != campaign.name {
            store::campaigns::rename(&tx, id, title, now)?;
        }
        store::connectors::save_settings(&tx, id, &json, now)?;
        store::campaigns::set_dates(&tx, id, starts_at, ends_at, now)?;
        if matches!(campaign.status, CampaignStatus::Live | CampaignStatus::Paused) {
            store::connectors::set_rules(&tx, id, &listen_rules(&form))?;
        }
        tx.commit().map_err(store::StoreError::from)?;
        Ok((store::campaigns::get(&conn, id)?, form))
    }

    /// What would stop the connector from going live, in words (empty: it can).
    pub fn connector_problems(&self, campaign: &Campaign, form: &ConnectorForm) -> Result<Vec<String>, ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        let campaigns = self.campaigns()?;
        let mut problems = Vec::new();
        if form.triggers.is_empty() {
            problems.push("add a trigger: the interaction with another campaign it follows up on".into());
        }
        for (i, r) in form.triggers.iter().chain(&form.exceptions).enumerate() {
            let what = if i < form.triggers.len() {
                format!("trigger {}", i + 1)
            } else {
                format!("exception {}", i + 1 - form.triggers.len())
            };
            match r.campaign.map(|id| campaigns.iter().find(|c| c.id == id)) {
                None if i < form.triggers.len() => {
                    problems.push(format!("{what} ({}): choose the campaign", r.interaction.label()));
                }
                None => {}
                Some(None) => problems.push(format!("{what}: its campaign no longer exists")),
                Some(Some(c)) if c.id == campaign.id => {
                    problems.push(format!("{what}: a campaign cannot follow up on itself"));
                }
                Some(Some(_)) => {}
            }
        }
        match form.delay {
            Delay::Minutes(0) | Delay::Hours(0) | Delay::Days(0) | Delay::Weeks(0) => {
                problems.push("a delay of 0: choose No delay, or a number above 0".into());
            }
            Delay::Weeks(n) if n > 52 => problems.push("a delay of over a year".into()),
            Delay::NextLocalTime { hour, minute } if hour > 23 || minute > 59 => {
                problems.push(format!("{hour:02}:{minute:02} is not a time of day"));
            }
            _ => {}
        }
        if let crate::model::connector::Reeligibility::AfterDays(0) = form.reeligibility {
            problems.push("re-eligible after 0 days: choose Every time instead".into());
        }
        if !CONNECTOR_CHANNELS.contains(&form.channel) {
            problems.push(format!("a follow-up sends email, SMS or push, not {}", form.channel.label()));
        }
        if let Err(e) = self.connector_route(form) {
            problems.push(e.to_string());
        }
        problems.extend(message_problems(form.channel, &form.message, &connector_scope(&model)));
        if let Some(profile) = model.profile_entity() {
            let query = crate::model::browse::BrowseQuery {
                filter: form.filter.clone(),
                ..crate::model::browse::BrowseQuery::new(profile)
            };
            if let Err(e) = crate::audience::BrowseSql::new(&model, &query, self.now()) {
                problems.push(format!("the audience filter cannot be used: {e}"));
            }
        } else {
            problems.push("the data has no profiles to send to".into());
        }
        problems.extend(date_problems(campaign, self.now()));
        Ok(problems)
    }

    /// The credential a connector sends with.
    pub(super) fn connector_route(
        &self,
        form: &ConnectorForm,
    ) -> Result<(Route, Option<i64>, Option<crate::model::sms::SmsConfiguration>), ConsoleError> {
        self.form_route(form.channel, form.credential.as_deref(), form.configuration.as_deref())
    }

    /// Publish (or Resume): checks everything and, when nothing is wrong, makes it live and
    /// writes what it listens to, in one transaction. A first publication is the time from
    /// which interactions count; resuming keeps it.
    pub fn publish_connector(&self, id: i64) -> Result<Campaign, ConsoleError> {
        let (campaign, form) = self.connector(id)?;
        let problems = self.connector_problems(&campaign, &form)?;
        if !problems.is_empty() {
            return Err(refused(format!("it cannot go live yet: {}", problems.join("; "))));
        }
        let now = self.now();
        let published = if campaign.status == CampaignStatus::Paused { None } else { Some(now) };
        let mut conn = self.workspace.conn();
        let tx = conn.transaction().map_err(store::StoreError::from)?;
        store::connectors::set_rules(&tx, id, &listen_rules(&form))?;
        store::launches::set_status(&tx, id, CampaignStatus::Live, published, now)?;
        store::audit::record(&tx, now, "user", "publish connector", &campaign.name, "")?;
        tx.commit().map_err(store::StoreError::from)?;
        Ok(store::campaigns::get(&conn, id)?)
    }

    /// Pauses (no new pending sends, the waiting ones wait), resumes (checked again) or stops
    /// it (it listens to nothing more; its waiting sends are cancelled, with the reason).
    pub fn change_connector_life(&self, id: i64, action: LifeAction) -> Result<Campaign, ConsoleError> {
        let (campaign, _) = self.connector(id)?;
        let now = self.now();
        match action {
            LifeAction::Publish | LifeAction::Resume => return self.publish_connector(id),
            LifeAction::Pause if campaign.status != CampaignStatus::Live => {
                return Err(refused("only a live campaign can be paused"));
            }
            LifeAction::Pause => {
                store::launches::set_status(&self.workspace.conn(), id, CampaignStatus::Paused, None, now)?;
            }
            LifeAction::Stop => {
                let mut conn = self.workspace.conn();
                let tx = conn.transaction().map_err(store::StoreError::from)?;
                store::connectors::set_rules(&tx, id, &[])?;
                store::connectors::cancel_waiting(&tx, id, "stopped", None, now)?;
                store::launches::set_status(&tx, id, CampaignStatus::Stopped, None, now)?;
                tx.commit().map_err(store::StoreError::from)?;
            }
        }
        let conn = self.workspace.conn();
        let what = if action == LifeAction::Pause { "pause connector" } else { "stop connector" };
        store::audit::record(&conn, now, "user", what, &campaign.name, "")?;
        Ok(store::campaigns::get(&conn, id)?)
    }

    /// The pending sends (of one connector, in one state, when given), waiting ones first by
    /// due time, at most `limit`.
    pub fn pending_sends(
        &self,
        connector: Option<i64>,
        state: Option<PendingState>,
        limit: usize,
    ) -> Result<Vec<PendingSend>, ConsoleError> {
        let listed =
            store::connectors::list(&self.workspace.conn(), connector, state.map(PendingState::as_str), limit)?;
        Ok(listed
            .into_iter()
            .map(|p| {
                let interaction = interaction_words(&p.interaction);
                let source = p.source.map(|s| format!(" on \u{201c}{s}\u{201d}")).unwrap_or_default();
                PendingSend {
                    id: p.id,
                    connector_id: p.connector_id,
                    connector: p.connector,
                    profile: p.profile,
                    trigger: format!("{interaction}{source}"),
                    trigger_event: p.event_id,
                    trigger_at: p.trigger_at,
                    due_at: p.due_at,
                    state: PendingState::parse(&p.state).unwrap_or(PendingState::Waiting),
                    reason: p.reason.map(|r| reason_words(&r, p.reason_detail.as_deref())),
                    ledger_id: p.ledger_id,
                }
            })
            .collect())
    }

    /// How many pending sends (of one connector when given) are where.
    pub fn pending_counts(&self, connector: Option<i64>) -> Result<PendingCounts, ConsoleError> {
        Ok(pending_figures(store::connectors::counts(&self.workspace.conn(), connector)?))
    }

    pub(super) fn connector_command(&self, command: ConnectorCommand) -> Vec<Event> {
        let page = |id: i64, events: &mut Vec<Event>| match self.connector_page(id) {
            Ok(p) => events.push(ConnectorEvent::Page(Box::new(p)).into()),
            Err(e) => events.push(Event::Failed(UserError::new("The campaign could not be read", &e))),
        };
        let mut events = Vec::new();
        match command {
            ConnectorCommand::Open { campaign_id } => page(campaign_id, &mut events),
            ConnectorCommand::Save { campaign_id, title, form, dates } => {
                match self.save_connector(campaign_id, &title, *form, dates) {
                    Ok(_) => events.push(ConnectorEvent::Saved { campaign_id }.into()),
                    Err(e) => events.push(Event::Failed(UserError::new("The campaign was not saved", &e))),
                }
                page(campaign_id, &mut events);
                events.push(self.refreshed(Refresh::Campaigns));
            }
            ConnectorCommand::Life { campaign_id, action } => {
                if let Err(e) = self.change_connector_life(campaign_id, action) {
                    events.push(Event::Failed(UserError::new(action.failure(), &e)));
                }
                page(campaign_id, &mut events);
                events.push(self.refreshed(Refresh::Campaigns));
            }
        }
        events
    }
}

/// The delivery rules for this connector's sources: only interactions after its publication
/// count, so a source published first has had interactions that will never be followed up.
fn delivery_rules(campaign: &Campaign, form: &ConnectorForm, sources: &[SourceCampaign]) -> Vec<String> {
    let shown = |t: jiff::Timestamp| t.to_zoned(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M").to_string();
    let mut seen = std::collections::HashSet::new();
    let mut warnings = Vec::new();
    for r in &form.triggers {
        let Some(source) = r.campaign.and_then(|id| sources.iter().find(|s| s.id == id)) else { continue };
        if !seen.insert(source.id) {
            continue;
        }
        match (source.published_at, campaign.published_at) {
            (Some(s), Some(mine)) if s < mine => warnings.push(format!(
                "\u{201c}{}\u{201d} was published first ({}): profiles who interacted with it before {} will not get this follow-up",
                source.name,
                shown(s),
                shown(mine)
            )),
            (Some(s), None) if source.status == CampaignStatus::Live => warnings.push(format!(
                "\u{201c}{}\u{201d} is live since {}: profiles who interact with it before this follow-up is published will not get it",
                source.name,
                shown(s)
            )),
            _ => {}
        }
    }
    warnings
}
