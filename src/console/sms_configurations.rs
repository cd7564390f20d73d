//! SMS configurations (what an SMS activity picks): saved when they can work, deleted when
//! no live campaign sends with them, and which campaigns use each.

use std::collections::BTreeMap;

use super::{ChannelEvent, Console, ConsoleError, Event, SmsCommand, UserError};
use crate::model::sms::SmsConfiguration;
use crate::model::{CampaignStatus, Channel, ProviderKind};
use crate::store;

impl Console {
    /// Adds (`id` 0) or changes a configuration; returns its id. Refused, with every reason,
    /// when it could not send or answer (a credential of another channel, a sender that is
    /// not a number, a keyword in two lists…).
    pub fn save_sms_configuration(&self, configuration: &SmsConfiguration) -> Result<i64, ConsoleError> {
        let credential =
            self.credentials()?.into_iter().find(|c| c.id == configuration.credential_id && c.channel == Channel::Sms);
        let mut problems =
            configuration.problems(credential.as_ref().is_some_and(|c| c.provider() == ProviderKind::Twilio));
        if credential.is_none() && configuration.credential_id > 0 {
            problems.push(("credential", "its API credential is not an SMS credential of this workspace".to_owned()));
        }
        if !problems.is_empty() {
            let reasons: Vec<String> = problems.into_iter().map(|(_, why)| why).collect();
            return Err(ConsoleError::Invalid(format!("The SMS configuration was not saved: {}.", reasons.join("; "))));
        }
        let mut c = configuration.clone();
        if c.id == 0 {
            c.created_at = self.now();
        }
        let conn = self.workspace.conn();
        let id = store::sms_configurations::save(&conn, &c)?;
        store::audit::record(&conn, self.now(), "admin", "save SMS configuration", &id.to_string(), c.name.trim())?;
        Ok(id)
    }

    /// Deletes a configuration; refused while a live or paused campaign sends with it,
    /// naming them.
    pub fn delete_sms_configuration(&self, id: i64) -> Result<(), ConsoleError> {
        let busy = super::routes::sending(self.campaigns_using_configuration(id)?);
        if !busy.is_empty() {
            return Err(ConsoleError::Invalid(format!(
                "It cannot be deleted while these campaigns send with it: {}. Stop them, or choose another configuration on their SMS activities, first.",
                busy.join(", ")
            )));
        }
        let conn = self.workspace.conn();
        store::sms_configurations::delete(&conn, id)?;
        store::audit::record(&conn, self.now(), "admin", "delete SMS configuration", &id.to_string(), "")?;
        Ok(())
    }

    /// The campaigns whose SMS activities name configuration `id`, with their status.
    pub fn campaigns_using_configuration(&self, id: i64) -> Result<Vec<(String, CampaignStatus)>, ConsoleError> {
        Ok(self.configuration_usage()?.remove(&id).unwrap_or_default())
    }

    /// For each configuration (by id), the campaigns whose SMS activities name it.
    pub(super) fn configuration_usage(&self) -> Result<BTreeMap<i64, Vec<(String, CampaignStatus)>>, ConsoleError> {
        let configurations = self.sms_configurations()?;
        let mut out: BTreeMap<i64, Vec<(String, CampaignStatus)>> =
            configurations.iter().map(|c| (c.id, Vec::new())).collect();
        for campaign in self.campaigns()? {
            let Ok(canvas) = self.canvas(&campaign) else { continue };
            let mut named: Vec<i64> = canvas
                .activities
                .iter()
                .filter_map(|a| match &a.kind {
                    crate::model::ActivityKind::Channel { channel: Channel::Sms, configuration, .. } => {
                        crate::model::sms::configuration_for(&configurations, configuration.as_deref()).ok().flatten()
                    }
                    _ => None,
                })
                .map(|c| c.id)
                .collect();
            named.dedup();
            for id in named {
                out.entry(id).or_default().push((campaign.name.clone(), campaign.status));
            }
        }
        Ok(out)
    }

    pub(super) fn sms_configuration_command(&self, command: SmsCommand) -> Vec<Event> {
        let (outcome, saved) = match command {
            SmsCommand::SaveConfiguration(c) => (self.save_sms_configuration(&c).map(Some), true),
            SmsCommand::DeleteConfiguration { id } => (self.delete_sms_configuration(id).map(|()| None), false),
            _ => return Vec::new(),
        };
        let outcome = outcome.map_err(|e| {
            UserError::new(
                if saved { "Could not save the SMS configuration" } else { "Could not delete the SMS configuration" },
                &e,
            )
        });
        vec![ChannelEvent::SmsConfiguration(outcome).into()]
    }
}
