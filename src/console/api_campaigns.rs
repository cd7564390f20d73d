//! An API-triggered campaign's form: what it sends and to whom a request names, checked as a
//! whole by Review to activate (every problem in words), its life (live, paused, stopped), the
//! preview and proofs with the sample context, and the cURL command that triggers it.

use super::routes::{Route, date_problems, message_problems};
use super::{ApiCampaignCommand, ApiCampaignEvent, Console, ConsoleError, Event, LifeAction, Refresh, UserError};
use crate::model::api::{API_CHANNELS, ApiCampaign, RESERVED_CONTEXT};
use crate::model::{Campaign, CampaignKind, CampaignStatus, Channel, DataModel};
use crate::store;

/// What the form shows: the campaign, its form, the choices it offers and the cURL command.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiCampaignPage {
    pub campaign: Campaign,
    pub form: ApiCampaign,
    /// The identity namespaces of the profiles.
    pub namespaces: Vec<String>,
    /// Credential names by channel (the API channels).
    pub credentials: Vec<(Channel, Vec<String>)>,
    /// SMS configuration names.
    pub configurations: Vec<String>,
    /// What Review to activate would refuse now.
    pub problems: Vec<String>,
    pub curl: String,
}

/// The message as a sample recipient gets it with the sample context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiPreview {
    pub recipient: String,
    pub address: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The form of API-triggered `campaign` (a new one's defaults when never saved).
pub(super) fn api_form(conn: &rusqlite::Connection, campaign: &Campaign) -> Result<ApiCampaign, ConsoleError> {
    Ok(match store::api::settings(conn, campaign.id)? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| store::StoreError::Damaged(format!("the form of \u{201c}{}\u{201d}: {e}", campaign.name)))?,
        None => ApiCampaign::default(),
    })
}

/// The key placeholder the cURL command shows.
pub const KEY_PLACEHOLDER: &str = "YOUR_API_KEY";

/// The request id the cURL command sends (the same each time: running it twice sends once).
pub const CURL_REQUEST_ID: &str = "try-1";

fn refused(why: impl std::fmt::Display) -> ConsoleError {
    ConsoleError::CannotRun(why.to_string())
}

/// What an API-triggered campaign's message may use: the profile's columns and the context.
pub(super) fn api_scope(model: &DataModel) -> crate::personalize::Scope {
    let profile = model
        .profile_entity()
        .and_then(|p| model.entity(p))
        .map(|e| e.columns.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    crate::personalize::Scope { profile, context: true, ..Default::default() }
}

/// The parts of a message that are sent on `channel`.
fn parts(form: &ApiCampaign) -> Vec<&str> {
    let m = &form.message;
    match form.channel {
        Channel::Email => vec![m.subject.as_str(), m.text.as_str(), m.html.as_str()],
        Channel::Push => vec![m.subject.as_str(), m.text.as_str()],
        _ => vec![m.text.as_str()],
    }
}

/// A string quoted for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Console {
    /// An API-triggered campaign and its form (a new one's defaults when never saved).
    pub fn api_campaign(&self, id: i64) -> Result<(Campaign, ApiCampaign), ConsoleError> {
        let conn = self.workspace.conn();
        let campaign = store::campaigns::get(&conn, id)?;
        if campaign.kind != CampaignKind::ApiTriggered {
            return Err(ConsoleError::Invalid(format!(
                "\u{201c}{}\u{201d} is not an API-triggered campaign",
                campaign.name
            )));
        }
        let form = api_form(&conn, &campaign)?;
        Ok((campaign, form))
    }

    /// Everything the form shows.
    pub fn api_campaign_page(&self, id: i64) -> Result<ApiCampaignPage, ConsoleError> {
        let (campaign, form) = self.api_campaign(id)?;
        let model = store::data_model::load(&self.workspace.conn())?;
        let credentials = self.credentials()?;
        let problems = self.api_campaign_problems(&campaign, &form)?;
        let curl = self.curl_for(&campaign, &form)?;
        Ok(ApiCampaignPage {
            namespaces: model
                .identity_namespaces
                .iter()
                .filter(|n| Some(n.entity.as_str()) == model.profile_entity())
                .map(|n| n.name.clone())
                .collect(),
            credentials: API_CHANNELS
                .iter()
                .map(|c| (*c, credentials.iter().filter(|k| k.channel == *c).map(|k| k.name.clone()).collect()))
                .collect(),
            configurations: self.sms_configurations()?.into_iter().map(|c| c.name).collect(),
            problems,
            curl,
            campaign,
            form,
        })
    }

    /// Keeps the form (its context list made to match the message), the title and the dates.
    /// Only what cannot be kept is refused here (the reserved context attribute, a title that
    /// is taken); the rest waits for Review to activate. A live campaign's changes apply to the
    /// next call.
    pub fn save_api_campaign(
        &self,
        id: i64,
        title: &str,
        form: ApiCampaign,
        (starts_at, ends_at): (Option<jiff::Timestamp>, Option<jiff::Timestamp>),
    ) -> Result<(Campaign, ApiCampaign), ConsoleError> {
        let (campaign, _) = self.api_campaign(id)?;
        let used = crate::personalize::context_names(&parts(&form));
        if used.iter().any(|n| n == RESERVED_CONTEXT) {
            return Err(ConsoleError::Invalid(format!(
                "{{{{context.{RESERVED_CONTEXT}}}}} is reserved for the system: name the value otherwise (e.g. context.source)"
            )));
        }
        let form = form.with_context(&used);
        let json = serde_json::to_string(&form).map_err(|source| ConsoleError::Json { what: "the form", source })?;
        let now = self.now();
        let conn = self.workspace.conn();
        let title = title.trim();
        if !title.is_empty() && title != campaign.name {
            store::campaigns::rename(&conn, id, title, now)?;
        }
        store::api::save_settings(&conn, id, &json, now)?;
        store::campaigns::set_dates(&conn, id, starts_at, ends_at, now)?;
        Ok((store::campaigns::get(&conn, id)?, form))
    }

    /// What would stop the campaign from sending, in words (empty: it can go live).
    pub fn api_campaign_problems(&self, campaign: &Campaign, form: &ApiCampaign) -> Result<Vec<String>, ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        let mut problems = Vec::new();
        let channel = form.channel;
        if !API_CHANNELS.contains(&channel) {
            problems.push(format!("an API-triggered campaign sends email, SMS or push, not {}", channel.label()));
        }
        let namespaces: Vec<&str> = model
            .identity_namespaces
            .iter()
            .filter(|n| Some(n.entity.as_str()) == model.profile_entity())
            .map(|n| n.name.as_str())
            .collect();
        if !namespaces.contains(&form.namespace.as_str()) {
            problems.push(format!(
                "choose the identity namespace requests name recipients in (one of: {})",
                if namespaces.is_empty() {
                    "none: add one in Data \u{2192} Model".to_owned()
                } else {
                    namespaces.join(", ")
                }
            ));
        }
        if let Some(ns) = crate::audience::address_namespace(channel)
            && !namespaces.contains(&ns)
        {
            problems
                .push(format!("the profiles have no {ns} namespace: {} messages have nowhere to go", channel.label()));
        }
        if let Err(e) = self.api_route(form) {
            problems.push(e.to_string());
        }
        problems.extend(message_problems(channel, &form.message, &api_scope(&model)));
        problems.extend(date_problems(campaign, self.now()));
        Ok(problems)
    }

    /// Review to activate: checks everything and, when nothing is wrong, makes the campaign
    /// live (calls are taken from now). Refused with every problem otherwise.
    pub fn review_api_campaign(&self, id: i64) -> Result<Campaign, ConsoleError> {
        let (campaign, form) = self.api_campaign(id)?;
        let problems = self.api_campaign_problems(&campaign, &form)?;
        if !problems.is_empty() {
            return Err(refused(format!("it cannot go live yet: {}", problems.join("; "))));
        }
        let now = self.now();
        let conn = self.workspace.conn();
        store::launches::set_status(&conn, id, CampaignStatus::Live, Some(now), now)?;
        store::audit::record(&conn, now, "user", "activate API campaign", &campaign.name, "")?;
        Ok(store::campaigns::get(&conn, id)?)
    }

    /// Pauses (calls are refused with 409 until resumed), resumes (reviewed again) or stops it.
    pub fn change_api_life(&self, id: i64, action: LifeAction) -> Result<Campaign, ConsoleError> {
        let (campaign, _) = self.api_campaign(id)?;
        let status = match action {
            LifeAction::Publish | LifeAction::Resume => return self.review_api_campaign(id),
            LifeAction::Pause if campaign.status != CampaignStatus::Live => {
                return Err(refused("only a live campaign can be paused"));
            }
            LifeAction::Pause => CampaignStatus::Paused,
            LifeAction::Stop => CampaignStatus::Stopped,
        };
        let now = self.now();
        let conn = self.workspace.conn();
        store::launches::set_status(&conn, id, status, None, now)?;
        store::audit::record(&conn, now, "user", status.label(), &campaign.name, "")?;
        Ok(store::campaigns::get(&conn, id)?)
    }

    /// The credential an API campaign sends with (see [`Console::form_route`]).
    pub(super) fn api_route(
        &self,
        form: &ApiCampaign,
    ) -> Result<(Route, Option<i64>, Option<crate::model::sms::SmsConfiguration>), ConsoleError> {
        self.form_route(form.channel, form.credential.as_deref(), form.configuration.as_deref())
    }

    /// The message for the profile `recipient` names in the campaign's namespace (the first
    /// profile that has one when `None`), with the sample context.
    pub fn preview_api_message(
        &self,
        form: &ApiCampaign,
        recipient: Option<&str>,
    ) -> Result<(ApiPreview, i64), ConsoleError> {
        let conn = self.workspace.conn();
        let model = store::data_model::load(&conn)?;
        let (profile, column) = namespace_column(&model, &form.namespace)?;
        let key = match recipient.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => store::api::find_profile(&conn, &profile.name, &profile.primary_key, column, r)?
                .ok_or_else(|| refused(format!("no profile has {} {r}", form.namespace)))?,
            None => store::api::first_with(&conn, &profile.name, &profile.primary_key, column)?
                .ok_or_else(|| refused(format!("no profile has an {} yet", form.namespace)))?,
        };
        let key: i64 = key.parse().map_err(|_| refused("the profiles' key is not a number"))?;
        let templates = crate::delivery::templates(&form.message, &api_scope(&model), form.channel)?;
        let mut values = crate::personalize::Values {
            profile: crate::delivery::entity_row(&conn, profile, key).map_err(refused)?,
            ..Default::default()
        };
        values.context = form.context.iter().map(|a| (a.name.clone(), a.sample.clone())).collect();
        let r = templates.render(&values).map_err(refused)?;
        let address = crate::audience::address_namespace(form.channel)
            .and_then(|ns| model.identity_namespaces.iter().find(|n| n.name == ns))
            .and_then(|n| values.profile.get(&n.column))
            .map(ToString::to_string)
            .filter(|a| !a.trim().is_empty() && a != "none")
            .unwrap_or_else(|| "no address for this channel".into());
        let who = values.profile.get(column).map(ToString::to_string).unwrap_or_default();
        Ok((
            ApiPreview {
                recipient: format!("profile {key} ({} {who})", form.namespace),
                address,
                subject: r.subject,
                text: r.text,
                html: r.html,
            },
            key,
        ))
    }

    /// Sends the preview's message to typed addresses: a delivery marked as a proof.
    pub fn send_api_proof(&self, id: i64, form: &ApiCampaign, addresses: &[String]) -> Result<u64, ConsoleError> {
        use store::deliveries as ledger;
        let addresses: Vec<String> = addresses.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        if addresses.is_empty() {
            return Err(refused("type at least one address to send the proof to"));
        }
        if let Some(kind) = ledger::AddressKind::of(form.channel)
            && let Some(bad) = addresses.iter().find(|a| !ledger::valid_address(kind, a))
        {
            return Err(refused(format!("\u{201c}{bad}\u{201d} is not a valid {} address", form.channel.label())));
        }
        let (preview, key) = self.preview_api_message(form, None)?;
        let ((provider, _, _), credential, configuration) = self.api_route(form)?;
        let message_json = serde_json::to_string(&form.message)
            .map_err(|source| ConsoleError::Json { what: "the message", source })?;
        let mut conn = self.workspace.connect()?;
        let now = self.now();
        let delivery = {
            let tx = conn.transaction().map_err(store::StoreError::from)?;
            let d = ledger::create(&tx, Some(id), "api", form.channel.as_str(), &message_json, now)?;
            ledger::set_route(
                &tx,
                d,
                &ledger::Route {
                    credential,
                    configuration: configuration.as_ref().map(|c| c.id),
                    ..Default::default()
                },
            )?;
            ledger::mark_proof(&tx, d, &key.to_string(), &addresses, now)?;
            tx.commit().map_err(store::StoreError::from)?;
            d
        };
        self.send_proof_rows(
            &mut conn,
            (id, delivery),
            (form.channel, addresses.len()),
            provider.as_ref(),
            (&preview.subject, &preview.text, &preview.html),
        )
    }

    /// The command that triggers the campaign from a terminal: the server's public URL, the
    /// campaign's id, a placeholder for the key, and a body with a recipient of the namespace
    /// (a profile's, when one has it) and each context attribute's sample.
    pub fn curl_for(&self, campaign: &Campaign, form: &ApiCampaign) -> Result<String, ConsoleError> {
        let base = self.server_settings()?.public_base();
        let conn = self.workspace.conn();
        let model = store::data_model::load(&conn)?;
        let sample = match namespace_column(&model, &form.namespace) {
            Ok((profile, column)) => store::api::first_with(&conn, &profile.name, &profile.primary_key, column)?
                .and_then(|key| key.parse::<i64>().ok())
                .and_then(|key| crate::delivery::entity_row(&conn, profile, key).ok())
                .and_then(|row| row.get(column).map(ToString::to_string)),
            Err(_) => None,
        };
        let id = sample.unwrap_or_else(|| match form.namespace.as_str() {
            "email" => "ana@example.com".into(),
            "phone" => "+33612345678".into(),
            _ => "12345".into(),
        });
        let context: serde_json::Map<String, serde_json::Value> = form
            .context
            .iter()
            .map(|a| {
                let v = if a.sample.is_empty() { format!("<{}>", a.name) } else { a.sample.clone() };
                (a.name.clone(), serde_json::Value::String(v))
            })
            .collect();
        let body = serde_json::json!({
            "request_id": CURL_REQUEST_ID,
            "recipients": [{ "namespace": form.namespace, "id": id, "context": context }],
        });
        Ok(format!(
            "curl -sS -X POST {} \\\n  -H {} \\\n  -H 'Content-Type: application/json' \\\n  -d {}",
            shell_quote(&format!("{base}/v1/campaigns/{}/trigger", campaign.id)),
            shell_quote(&format!("Authorization: Bearer {KEY_PLACEHOLDER}")),
            shell_quote(&body.to_string()),
        ))
    }

    pub(super) fn api_campaign_command(&self, command: ApiCampaignCommand) -> Vec<Event> {
        let page = |id: i64, events: &mut Vec<Event>| match self.api_campaign_page(id) {
            Ok(p) => events.push(ApiCampaignEvent::Page(Box::new(p)).into()),
            Err(e) => events.push(Event::Failed(UserError::new("The campaign could not be read", &e))),
        };
        let mut events = Vec::new();
        match command {
            ApiCampaignCommand::Open { campaign_id } => page(campaign_id, &mut events),
            ApiCampaignCommand::Save { campaign_id, title, form, dates } => {
                match self.save_api_campaign(campaign_id, &title, *form, dates) {
                    Ok(_) => events.push(ApiCampaignEvent::Saved { campaign_id }.into()),
                    Err(e) => events.push(Event::Failed(UserError::new("The campaign was not saved", &e))),
                }
                page(campaign_id, &mut events);
                events.push(self.refreshed(Refresh::Campaigns));
            }
            ApiCampaignCommand::Life { campaign_id, action } => {
                if let Err(e) = self.change_api_life(campaign_id, action) {
                    events.push(Event::Failed(UserError::new(action.failure(), &e)));
                }
                page(campaign_id, &mut events);
                events.push(self.refreshed(Refresh::Campaigns));
            }
            ApiCampaignCommand::Preview { form, recipient } => {
                let result = self.preview_api_message(&form, recipient.as_deref()).map(|(p, _)| p);
                events.push(ApiCampaignEvent::Preview(result.map_err(|e| UserError::of(&e))).into());
            }
            ApiCampaignCommand::Proof { campaign_id, form, addresses } => {
                let result = self.send_api_proof(campaign_id, &form, &addresses);
                events.push(ApiCampaignEvent::ProofSent(result.map_err(|e| UserError::of(&e))).into());
                events.push(self.refreshed(Refresh::Deliveries));
            }
        }
        events
    }
}

/// The profile entity and the column of identity namespace `namespace`.
pub(super) fn namespace_column<'m>(
    model: &'m DataModel,
    namespace: &str,
) -> Result<(&'m crate::model::Entity, &'m str), ConsoleError> {
    let profile =
        model.profile_entity().and_then(|p| model.entity(p)).ok_or_else(|| refused("the data has no profiles"))?;
    let column = model
        .identity_namespaces
        .iter()
        .find(|n| n.name == namespace && n.entity == profile.name)
        .map(|n| n.column.as_str())
        .ok_or_else(|| refused(format!("the profiles have no identity namespace \u{201c}{namespace}\u{201d}")))?;
    Ok((profile, column))
}
