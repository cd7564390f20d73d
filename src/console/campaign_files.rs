//! Campaign files: a campaign exported to `name.campaign.json` (its kind, dates, canvas or form
//! and messages — never a secret, never customer data) and imported into a workspace as a
//! draft, in one transaction, with what the workspace lacks for it listed (a credential, an SMS
//! configuration, a saved audience, a column, a campaign a follow-up names): nothing is refused
//! silently, nothing is half written.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Console, ConsoleError, jobs};
use crate::model::campaign_file::{CAMPAIGN_FILE_FORMAT, CAMPAIGN_FILE_VERSION, CampaignFile};
use crate::model::{ActivityKind, Campaign, CampaignKind, Canvas, Channel};
use crate::store;

/// What an import made: the campaign (a draft), and what it names that this workspace lacks.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedCampaign {
    pub campaign: Campaign,
    /// In words, one per missing reference ("the activity “Summer SMS” sends with the SMS
    /// credential “Twilio EU”, which this workspace does not have").
    pub missing: Vec<String>,
}

fn damaged(what: &str, name: &str, e: &serde_json::Error) -> ConsoleError {
    ConsoleError::Store(store::StoreError::Damaged(format!("the {what} of \u{201c}{name}\u{201d}: {e}")))
}

impl Console {
    /// Campaign `name_or_id` as a campaign file.
    pub fn campaign_file(&self, name_or_id: &str) -> Result<CampaignFile, ConsoleError> {
        let campaign = self.campaign(name_or_id)?;
        let mut file = CampaignFile {
            format: CAMPAIGN_FILE_FORMAT.into(),
            version: CAMPAIGN_FILE_VERSION,
            name: campaign.name.clone(),
            kind: campaign.kind,
            starts_at: campaign.starts_at,
            ends_at: campaign.ends_at,
            canvas: None,
            api: None,
            connector: None,
            campaign_names: BTreeMap::new(),
        };
        let conn = self.workspace.conn();
        match campaign.kind {
            CampaignKind::Orchestrated => {
                drop(conn);
                file.canvas = Some(self.canvas(&campaign)?);
            }
            CampaignKind::ApiTriggered => {
                let json = store::api::settings(&conn, campaign.id)?;
                file.api = Some(match json {
                    Some(j) => serde_json::from_str(&j).map_err(|e| damaged("form", &campaign.name, &e))?,
                    None => crate::model::api::ApiCampaign::default(),
                });
            }
            CampaignKind::ActionTriggered => {
                let json = store::connectors::settings(&conn, campaign.id)?;
                let form: crate::model::connector::ConnectorForm = match json {
                    Some(j) => serde_json::from_str(&j).map_err(|e| damaged("form", &campaign.name, &e))?,
                    None => crate::model::connector::ConnectorForm::default(),
                };
                drop(conn);
                let all = self.campaigns()?;
                for id in form.triggers.iter().chain(&form.exceptions).filter_map(|r| r.campaign) {
                    if let Some(c) = all.iter().find(|c| c.id == id) {
                        file.campaign_names.insert(id.to_string(), c.name.clone());
                    }
                }
                file.connector = Some(form);
            }
        }
        Ok(file)
    }

    /// Writes campaign `name_or_id` to `path` (through a temporary file: a failed export leaves
    /// nothing).
    pub fn export_campaign(&self, name_or_id: &str, path: &Path) -> Result<CampaignFile, ConsoleError> {
        let file = self.campaign_file(name_or_id)?;
        let text = file.write();
        jobs::write_atomically(path, |mut out| {
            std::io::Write::write_all(&mut out, text.as_bytes())
                .and_then(|()| std::io::Write::flush(&mut out))
                .map_err(|source| ConsoleError::File { path: path.to_owned(), source })?;
            Ok(text.len() as u64)
        })?;
        Ok(file)
    }

    /// Reads the campaign file at `path` and imports it (see [`Console::import_campaign_file`]).
    pub fn import_campaign(&self, path: &Path) -> Result<ImportedCampaign, ConsoleError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConsoleError::Invalid(format!("{} could not be read: {e}", path.display())))?;
        let file = CampaignFile::read(&text)
            .map_err(|e| ConsoleError::Invalid(format!("{} cannot be imported: {e}", path.display())))?;
        self.import_campaign_file(file)
    }

    /// Makes `file` a draft campaign of this workspace (its name, or "name (imported)" when
    /// taken), in one transaction; a follow-up's campaigns are found by name. Returns it with
    /// what it names that this workspace lacks.
    pub fn import_campaign_file(&self, mut file: CampaignFile) -> Result<ImportedCampaign, ConsoleError> {
        let all = self.campaigns()?;
        let taken = |n: &str| all.iter().any(|c| c.name.to_lowercase() == n.to_lowercase());
        let name = (1..)
            .map(|i| match i {
                1 => file.name.clone(),
                2 => format!("{} (imported)", file.name),
                i => format!("{} (imported {})", file.name, i - 1),
            })
            .find(|n| !taken(n))
            .unwrap_or_else(|| file.name.clone());
        let mut missing = Vec::new();
        if let Some(form) = &mut file.connector {
            for rule in form.triggers.iter_mut().chain(form.exceptions.iter_mut()) {
                let Some(id) = rule.campaign else { continue };
                let wanted = file.campaign_names.get(&id.to_string());
                rule.campaign = wanted.and_then(|n| all.iter().find(|c| &c.name == n)).map(|c| c.id);
                if rule.campaign.is_none() {
                    missing.push(format!(
                        "the {} of \u{201c}{}\u{201d} is on a campaign this workspace does not have: choose one",
                        rule.interaction.label(),
                        wanted.map_or("(unknown)", String::as_str)
                    ));
                }
            }
        }
        missing.extend(self.missing_for(&file)?);
        let now = self.now();
        let mut conn = self.workspace.conn();
        let tx = conn.transaction().map_err(store::StoreError::from)?;
        let campaign = store::campaigns::create(&tx, &name, file.kind, now)?;
        store::campaigns::set_dates(&tx, campaign.id, file.starts_at, file.ends_at, now)?;
        let json =
            |v: serde_json::Result<String>| v.map_err(|source| ConsoleError::Json { what: "the campaign", source });
        if let Some(canvas) = &file.canvas {
            store::campaigns::save_canvas(&tx, campaign.id, &json(serde_json::to_string(canvas))?, now)?;
        }
        if let Some(form) = &file.api {
            store::api::save_settings(&tx, campaign.id, &json(serde_json::to_string(form))?, now)?;
        }
        if let Some(form) = &file.connector {
            store::connectors::save_settings(&tx, campaign.id, &json(serde_json::to_string(form))?, now)?;
        }
        store::audit::record(&tx, now, "user", "import campaign", &name, &format!("{} missing", missing.len()))?;
        let campaign = store::campaigns::get(&tx, campaign.id)?;
        tx.commit().map_err(store::StoreError::from)?;
        Ok(ImportedCampaign { campaign, missing })
    }

    /// What the file names that this workspace lacks, in words.
    fn missing_for(&self, file: &CampaignFile) -> Result<Vec<String>, ConsoleError> {
        let credentials = self.credentials()?;
        let configurations = self.sms_configurations()?;
        let mut missing = Vec::new();
        let mut route = |what: &str, channel: Channel, credential: Option<&str>, configuration: Option<&str>| {
            if let Some(name) = credential
                && crate::model::credential_for(&credentials, channel, Some(name)).is_err()
            {
                missing.push(format!(
                    "{what} sends with the {} credential \u{201c}{name}\u{201d}, which this workspace does not have",
                    channel.label()
                ));
            }
            if let Some(name) = configuration.filter(|n| !configurations.iter().any(|c| &c.name == n)) {
                missing.push(format!(
                    "{what} sends with the SMS configuration \u{201c}{name}\u{201d}, which this workspace does not have"
                ));
            }
        };
        if let Some(form) = &file.api {
            route("the campaign", form.channel, form.credential.as_deref(), form.configuration.as_deref());
        }
        if let Some(form) = &file.connector {
            route("the follow-up", form.channel, form.credential.as_deref(), form.configuration.as_deref());
        }
        if let Some(canvas) = &file.canvas {
            for a in &canvas.activities {
                if let ActivityKind::Channel { channel, credential, configuration, .. } = &a.kind {
                    route(
                        &format!("the activity \u{201c}{}\u{201d}", a.label),
                        *channel,
                        credential.as_deref(),
                        configuration.as_deref(),
                    );
                }
            }
            missing.extend(self.canvas_gaps(canvas)?);
        }
        Ok(missing)
    }

    /// The saved audiences a canvas reads and the data it uses that this workspace lacks.
    fn canvas_gaps(&self, canvas: &Canvas) -> Result<Vec<String>, ConsoleError> {
        let mut gaps = Vec::new();
        let audiences = store::audiences::list(&self.workspace.conn())?;
        for a in &canvas.activities {
            if let ActivityKind::ReadAudience { audience } = &a.kind
                && !audiences.iter().any(|s| &s.name == audience)
            {
                gaps.push(format!(
                    "the activity \u{201c}{}\u{201d} reads the saved audience \u{201c}{audience}\u{201d}, which this workspace does not have",
                    a.label
                ));
            }
        }
        let (model, options) = self.validation_options(crate::audience::Dialect::Sqlite, canvas)?;
        if let Err(problems) = crate::audience::validate(canvas, &model, &options) {
            for p in problems {
                let at = p.label.map(|l| format!("the activity \u{201c}{l}\u{201d}: ")).unwrap_or_default();
                let gap = format!("{at}{}", p.message);
                if !gaps.iter().any(|g| g.contains(&p.message)) {
                    gaps.push(gap);
                }
            }
        }
        Ok(gaps)
    }
}
