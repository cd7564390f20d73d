//! The campaign list: create, rename, duplicate and delete; its answers to campaign files.

use super::{CampaignCommand, CampaignEvent, CampaignFileDone, Console, ConsoleError, Event, Refresh, UserError};
use crate::model::{Campaign, CampaignKind};
use crate::store;

impl Console {
    pub fn create_campaign(&self, name: &str, kind: CampaignKind) -> Result<Campaign, ConsoleError> {
        let conn = self.workspace.conn();
        let c = store::campaigns::create(&conn, name, kind, self.now())?;
        store::audit::record(&conn, self.now(), "user", "create campaign", &c.name, kind.as_str())?;
        Ok(c)
    }

    pub fn rename_campaign(&self, id: i64, name: &str) -> Result<Campaign, ConsoleError> {
        let conn = self.workspace.conn();
        let before = store::campaigns::get(&conn, id)?;
        let c = store::campaigns::rename(&conn, id, name, self.now())?;
        store::audit::record(&conn, self.now(), "user", "rename campaign", &c.name, &format!("was {}", before.name))?;
        Ok(c)
    }

    pub fn duplicate_campaign(&self, id: i64) -> Result<Campaign, ConsoleError> {
        let mut conn = self.workspace.conn();
        let c = store::campaigns::duplicate(&mut conn, id, self.now())?;
        store::audit::record(&conn, self.now(), "user", "duplicate campaign", &c.name, &format!("from {id}"))?;
        Ok(c)
    }

    pub fn delete_campaign(&self, id: i64) -> Result<(), ConsoleError> {
        let conn = self.workspace.conn();
        let c = store::campaigns::get(&conn, id)?;
        store::campaigns::delete(&conn, id)?;
        store::audit::record(&conn, self.now(), "user", "delete campaign", &c.name, "")?;
        Ok(())
    }

    pub(super) fn campaigns_event(&self) -> Event {
        match self.campaigns() {
            Ok(list) => CampaignEvent::List(list).into(),
            Err(e) => Event::Failed(UserError::new("Could not list the campaigns", &e)),
        }
    }

    pub(super) fn campaign_command(&self, command: CampaignCommand) -> Vec<Event> {
        let after = |result: Result<(), ConsoleError>, context: &str| match result {
            Ok(()) => vec![self.refreshed(Refresh::Campaigns)],
            Err(e) => vec![Event::Failed(UserError::new(context, &e)), self.refreshed(Refresh::Campaigns)],
        };
        match command {
            CampaignCommand::Refresh => vec![self.refreshed(Refresh::Campaigns)],
            CampaignCommand::Create { name, kind } => match self.create_campaign(&name, kind) {
                Ok(c) => vec![CampaignEvent::Created(c).into(), self.refreshed(Refresh::Campaigns)],
                Err(e) => vec![Event::Failed(UserError::new("Could not create the campaign", &e))],
            },
            CampaignCommand::Rename { id, name } => {
                after(self.rename_campaign(id, &name).map(drop), "Could not rename the campaign")
            }
            CampaignCommand::Duplicate { id } => {
                after(self.duplicate_campaign(id).map(drop), "Could not duplicate the campaign")
            }
            CampaignCommand::Delete { id } => after(self.delete_campaign(id), "Could not delete the campaign"),
            CampaignCommand::Export { id, path } => {
                let done = self
                    .export_campaign(&id.to_string(), &path)
                    .map(|f| CampaignFileDone::Exported { name: f.name, path });
                vec![CampaignEvent::File(done.map_err(|e| UserError::new("The campaign was not exported", &e))).into()]
            }
            CampaignCommand::Import { path } => {
                let done = self.import_campaign(&path).map(CampaignFileDone::Imported);
                vec![
                    CampaignEvent::File(done.map_err(|e| UserError::new("The campaign was not imported", &e))).into(),
                    self.refreshed(Refresh::Campaigns),
                ]
            }
        }
    }
}
