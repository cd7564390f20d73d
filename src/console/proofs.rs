//! A channel activity's message as one recipient of the last count gets it (the preview), and
//! proofs of it sent to typed addresses.

use super::{CanvasEvent, Console, ConsoleError, Event, ProofCommand, Refresh, UserError};
use crate::audience::{self, Dialect};
use std::sync::Arc;

use crate::model::{ActivityKind, Canvas, Channel};
use crate::store::{self, StoreError};

/// A channel activity's message as one recipient would get it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessagePreview {
    /// Which recipient (0-based) of how many at the last count.
    pub index: u64,
    pub total: u64,
    /// The profile's key and, for one message per row, the row's.
    pub recipient: String,
    pub profile_key: i64,
    pub address: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Direct mail: the extraction file's columns for this recipient.
    pub fields: Vec<(String, String)>,
}

/// Where a proof goes: the provider, the addresses, the credential it goes through.
type ProofRoute = (Arc<dyn crate::channels::Provider>, Vec<String>, Option<i64>);

/// A refusal in the user's words.
fn refused(why: impl std::fmt::Display) -> ConsoleError {
    ConsoleError::CannotRun(why.to_string())
}

impl Console {
    /// A channel activity's message rendered for the `index`-th recipient (by key) of the last
    /// count of the campaign being edited; a plain message when it cannot be.
    pub fn preview_message(
        &self,
        campaign_id: i64,
        canvas: &Canvas,
        activity: &str,
        index: u64,
    ) -> Result<MessagePreview, ConsoleError> {
        let a = canvas.activity(activity).ok_or_else(|| refused("the activity is gone"))?;
        let ActivityKind::Channel { channel, per, message, .. } = &a.kind else {
            return Err(refused("only channel activities have a message"));
        };
        let t = canvas
            .transitions
            .iter()
            .find(|t| t.to == activity)
            .ok_or_else(|| refused("connect a population to this activity first"))?;
        let model = store::data_model::load(&self.workspace.conn())?;
        let (_, options) = self.compile_options(Dialect::Sqlite, canvas)?;
        let send = audience::compile_with(canvas, &model, &options)
            .ok()
            .and_then(|run| run.sends.into_iter().find(|s| s.activity == activity))
            .ok_or_else(|| refused("fix the problems of the canvas first"))?;
        // An X post has no recipient; an X direct message goes to a visitor.
        let post = *channel == crate::model::Channel::X;
        let visitor = *channel == crate::model::Channel::XDm;
        let dimension = model.entity(&send.dimension).ok_or_else(|| refused("unknown entity"))?;
        let profile = match post {
            true => dimension,
            false => model
                .recipient_entity(*channel)
                .and_then(|p| model.entity(p))
                .ok_or_else(|| refused("no profile entity"))?,
        };
        let guard = self.counter.session.lock().unwrap_or_else(|p| p.into_inner());
        let Some((_, session)) = guard.as_ref().filter(|(id, _)| *id == campaign_id) else {
            return Err(refused("count the canvas first"));
        };
        let total = session.transition_count(&t.id).unwrap_or(0);
        if total == 0 && !post {
            return Err(refused("nobody reaches this activity at the last count"));
        }
        let index = index.min(total.saturating_sub(1));
        let (columns, rows) = session.rows_page(&t.id, index, 1)?;
        let row = rows.first().filter(|_| !post);
        let value_of = |name: &str| columns.iter().position(|c| c == name).and_then(|i| row?.get(i));
        let key = match value_of("key") {
            Some(rusqlite::types::Value::Integer(key)) => *key,
            _ if post => 0,
            _ => return Err(refused("the recipient is gone: count again")),
        };
        let conn = session.connection();
        let profile_key = if dimension.name == profile.name || post {
            key
        } else {
            let fk = model
                .links
                .iter()
                .find(|l| l.child == dimension.name && l.parent == profile.name)
                .map(|l| l.foreign_key.clone())
                .ok_or_else(|| refused("this population is not linked to profiles"))?;
            let row = crate::delivery::entity_row(conn, dimension, key).map_err(refused)?;
            row.get(&fk).and_then(|v| v.as_i64()).ok_or_else(|| refused("the row has no profile"))?
        };
        let mut values = crate::personalize::Values { visitor, ..Default::default() };
        if !post {
            values.profile = crate::delivery::entity_row(conn, profile, profile_key).map_err(refused)?;
        }
        let secondary = *per == crate::model::Recipient::SecondaryEntity && dimension.name != profile.name && !post;
        if secondary {
            values.secondary =
                Some((dimension.name.clone(), crate::delivery::entity_row(conn, dimension, key).map_err(refused)?));
        }
        for c in send.columns.iter().filter(|_| !post) {
            let v = match value_of(c) {
                Some(rusqlite::types::Value::Integer(x)) => minijinja::Value::from(*x),
                Some(rusqlite::types::Value::Real(x)) => minijinja::Value::from(*x),
                Some(rusqlite::types::Value::Text(x)) => minijinja::Value::from(x.clone()),
                _ => minijinja::Value::from(()),
            };
            values.enrichment.insert(c.clone(), v);
        }
        let columns_of = |e: &crate::model::Entity| e.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        let scope = if post {
            crate::personalize::Scope::default()
        } else {
            crate::personalize::Scope {
                profile: columns_of(profile),
                secondary: secondary.then(|| (dimension.name.clone(), columns_of(dimension))),
                enrichment: send.columns.clone(),
                context: false,
                visitor,
                trigger: false,
            }
        };
        let templates = crate::delivery::templates(message, &scope, *channel)?;
        let crate::delivery::Rendered { subject, text, html, fields, .. } =
            templates.render(&values).map_err(refused)?;
        let (recipient, address) =
            described(&model, *channel, &values, (profile_key, key), secondary.then_some(dimension));
        Ok(MessagePreview { index, total, recipient, profile_key, address, subject, text, html, fields })
    }

    /// Sends a channel activity's message, personalized for the `index`-th recipient of the last
    /// count, to addresses the user typed: a delivery marked as a proof, with its own ledger.
    /// Returns how many were sent.
    pub fn send_proof(
        &self,
        campaign_id: i64,
        canvas: &Canvas,
        activity: &str,
        index: u64,
        addresses: &[String],
    ) -> Result<u64, ConsoleError> {
        use store::deliveries as ledger;
        let a = canvas.activity(activity).ok_or_else(|| refused("the activity is gone"))?;
        let ActivityKind::Channel { channel, credential, configuration, message, .. } = &a.kind else {
            return Err(refused("only channel activities send proofs"));
        };
        let x = matches!(channel, Channel::X | Channel::XDm);
        let addresses: Vec<String> = addresses.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        if addresses.is_empty() && !x {
            return Err(refused("type at least one address to send the proof to"));
        }
        let kind = ledger::AddressKind::of(*channel);
        if let Some(kind) = kind
            && let Some(bad) = addresses.iter().find(|a| !ledger::valid_address(kind, a))
        {
            return Err(refused(match kind {
                ledger::AddressKind::Email => format!("\u{201c}{bad}\u{201d} is not an email address"),
                ledger::AddressKind::Phone => {
                    format!("\u{201c}{bad}\u{201d} is not a phone number in international form (+33612345678)")
                }
            }));
        }
        let preview = self.preview_message(campaign_id, canvas, activity, index)?;
        let (choice, configuration) = self.activity_route(*channel, credential.as_deref(), configuration.as_deref())?;
        let sender = configuration.as_ref().and_then(|c| c.sender());
        let (provider, addresses, credential_id) = if x {
            self.x_test_account(*channel, credential.as_deref())?
        } else {
            let id = match choice {
                super::routes::CredentialChoice::Id(id) => Some(id),
                super::routes::CredentialChoice::Named(name) => {
                    crate::model::credential_for(&self.credentials()?, *channel, name)
                        .map_err(|e| ConsoleError::CannotRun(e.to_string()))?
                        .map(|c| c.id)
                }
            };
            (self.provider_for(*channel, choice, sender)?.0, addresses, id)
        };
        let mut conn = self.workspace.connect()?;
        let now = self.now();
        let message_json =
            serde_json::to_string(message).map_err(|source| ConsoleError::Json { what: "the message", source })?;
        let delivery = {
            let tx = conn.transaction().map_err(StoreError::from)?;
            let id = ledger::create(&tx, Some(campaign_id), activity, channel.as_str(), &message_json, now)?;
            // The proof says what it went through, as a run's deliveries do.
            ledger::set_route(
                &tx,
                id,
                &ledger::Route {
                    credential: credential_id,
                    configuration: configuration.as_ref().map(|c| c.id),
                    ..Default::default()
                },
            )?;
            ledger::mark_proof(&tx, id, &preview.profile_key.to_string(), &addresses, now)?;
            tx.commit().map_err(StoreError::from)?;
            id
        };
        self.send_proof_rows(
            &mut conn,
            (campaign_id, delivery),
            (*channel, addresses.len()),
            provider.as_ref(),
            (&preview.subject, &preview.text, &preview.html),
        )
    }

    /// Where a proof of an X post or direct message goes: the X service marked Test account
    /// (a post on it; a direct message to it), else, when the activity sends through the
    /// Sandbox, the Sandbox X account. The provider, and the address (a direct message's: the
    /// test account's X id), and the credential it goes through.
    fn x_test_account(&self, channel: Channel, credential: Option<&str>) -> Result<ProofRoute, ConsoleError> {
        use super::routes::CredentialChoice;
        let credentials = self.credentials()?;
        let test = credentials
            .iter()
            .find(|c| matches!(&c.settings, crate::model::ProviderSettings::XApi(s) if s.is_test_account()));
        let Some(test) = test else {
            let route = crate::model::credential_for(&credentials, channel, credential)
                .map_err(|e| ConsoleError::CannotRun(e.to_string()))?;
            if route.is_some_and(|c| c.provider() != crate::model::ProviderKind::Sandbox) {
                return Err(refused(
                    "no X service is marked Test account: add one (Channels \u{2192} X, Test account: Yes, with its own X app) to receive proofs",
                ));
            }
            let (provider, _, _) = self.provider_for(channel, CredentialChoice::Named(credential), None)?;
            return Ok((provider, vec![format!("@{}", crate::channels::x::sandbox::HANDLE)], route.map(|c| c.id)));
        };
        let (provider, _, _) = self.provider_for(Channel::X, CredentialChoice::Id(test.id), None)?;
        let about = crate::channels::x::service(test).ok_or_else(|| refused("the test account is not an X service"))?;
        let address = match channel {
            Channel::XDm => {
                let me = self.runtime.block_on(self.x_account(test, &about)?.me()).map_err(|e| {
                    refused(format!("the test account @{} could not be reached: {}", about.handle, e.message()))
                })?;
                me.id
            }
            _ => format!("@{}", about.handle),
        };
        Ok((provider, vec![address], Some(test.id)))
    }

    pub(super) fn proof_command(&self, command: ProofCommand) -> Vec<Event> {
        match command {
            ProofCommand::Send { campaign_id, canvas, activity, index, addresses } => {
                let result =
                    self.send_proof(campaign_id, &canvas, &activity, index, &addresses).map_err(|e| UserError::of(&e));
                vec![
                    CanvasEvent::ProofSent { campaign_id, activity, result }.into(),
                    self.refreshed(Refresh::Deliveries),
                ]
            }
            ProofCommand::Preview { campaign_id, canvas, activity, index } => {
                let result =
                    self.preview_message(campaign_id, &canvas, &activity, index).map_err(|e| UserError::of(&e));
                vec![CanvasEvent::MessagePreview { campaign_id, activity, index, result }.into()]
            }
        }
    }
}

/// Who a preview's message goes to, and at which address, in words: a post's account, a
/// visitor's @username, a profile's address for the channel.
fn described(
    model: &crate::model::DataModel,
    channel: crate::model::Channel,
    values: &crate::personalize::Values,
    (profile_key, key): (i64, i64),
    secondary: Option<&crate::model::Entity>,
) -> (String, String) {
    use crate::model::Channel;
    let value = |column: &str| {
        values.profile.get(column).filter(|v| !v.is_none() && !v.to_string().trim().is_empty()).map(ToString::to_string)
    };
    match (channel, secondary) {
        (Channel::X, _) => {
            ("nobody in particular (a post)".to_owned(), "the service's account: one post for the whole run".to_owned())
        }
        (Channel::XDm, _) => (
            format!("visitor {profile_key}"),
            value("username").map_or_else(|| "no X account: excluded when sent".to_owned(), |u| format!("@{u}")),
        ),
        (_, d) => (
            d.map_or_else(|| format!("profile {profile_key}"), |d| format!("profile {profile_key}, {} {key}", d.name)),
            audience::address_namespace(channel)
                .and_then(|ns| model.identity_namespaces.iter().find(|n| n.name == ns))
                .and_then(|n| value(&n.column))
                .unwrap_or_else(|| "no address: excluded when sent".to_owned()),
        ),
    }
}
