//! A campaign file (`name.campaign.json`): one campaign as it is designed — its kind, dates,
//! canvas or form and messages — to carry it to another workspace. Never a secret, never
//! customer data, never its runs. Versioned: every earlier version is read.

use serde::{Deserialize, Serialize};

use super::api::ApiCampaign;
use super::connector::ConnectorForm;
use super::{CampaignKind, Canvas};

/// What the `format` field says of a campaign file.
pub const CAMPAIGN_FILE_FORMAT: &str = "campaign-console/campaign";

/// The version this build writes.
pub const CAMPAIGN_FILE_VERSION: u32 = 1;

/// The file name extension, and the MIME type installers register for it.
pub const CAMPAIGN_FILE_EXTENSION: &str = "campaign.json";
pub const CAMPAIGN_FILE_MIME: &str = "application/x-campaign+json";

/// A campaign as written in a campaign file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignFile {
    pub format: String,
    pub version: u32,
    pub name: String,
    pub kind: CampaignKind,
    #[serde(default)]
    pub starts_at: Option<jiff::Timestamp>,
    #[serde(default)]
    pub ends_at: Option<jiff::Timestamp>,
    /// An orchestrated campaign's canvas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canvas: Option<Canvas>,
    /// An API-triggered campaign's form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiCampaign>,
    /// An action-triggered campaign's form. Its triggers and exceptions name their campaigns
    /// by [`Self::campaign_names`], as ids mean nothing in another workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector: Option<ConnectorForm>,
    /// The names of the campaigns the form's ids stand for (id as text → name).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub campaign_names: std::collections::BTreeMap<String, String>,
}

/// Why a file is not a campaign file this build can read, in words.
#[derive(Debug, thiserror::Error)]
pub enum CampaignFileError {
    #[error("it is not JSON: {0}")]
    NotJson(String),
    #[error(
        "it is not a Campaign Console campaign file (no \u{201c}format\u{201d}: \u{201c}{CAMPAIGN_FILE_FORMAT}\u{201d})"
    )]
    NotACampaignFile,
    #[error(
        "it was written by a newer Campaign Console (campaign file version {0}; this one reads up to {CAMPAIGN_FILE_VERSION}): update the app"
    )]
    Newer(u32),
    #[error("it is damaged: {0}")]
    Damaged(String),
}

impl CampaignFile {
    /// Reads a campaign file of any version up to this build's.
    pub fn read(text: &str) -> Result<Self, CampaignFileError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| CampaignFileError::NotJson(e.to_string()))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(CAMPAIGN_FILE_FORMAT) {
            return Err(CampaignFileError::NotACampaignFile);
        }
        let version = value.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
        let version = u32::try_from(version).unwrap_or(u32::MAX);
        if version > CAMPAIGN_FILE_VERSION {
            return Err(CampaignFileError::Newer(version));
        }
        // Version 1 is the first; a later one upgrades earlier ones here, step by step.
        let file: Self = serde_json::from_value(value).map_err(|e| CampaignFileError::Damaged(e.to_string()))?;
        let expected = match file.kind {
            CampaignKind::Orchestrated => file.canvas.is_some(),
            CampaignKind::ApiTriggered => file.api.is_some(),
            CampaignKind::ActionTriggered => file.connector.is_some(),
        };
        if !expected {
            return Err(CampaignFileError::Damaged(format!(
                "an {} campaign without its {}",
                file.kind.label(),
                if file.kind == CampaignKind::Orchestrated { "canvas" } else { "form" }
            )));
        }
        Ok(file)
    }

    /// The file's text (pretty JSON, a line at the end).
    pub fn write(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// A file name for a campaign: its name with what a file name cannot hold replaced.
    pub fn file_name(campaign: &str) -> String {
        let safe: String = campaign
            .chars()
            .map(|c| if c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.') { c } else { '_' })
            .collect();
        let safe = safe.trim().trim_matches('.');
        format!("{}.{CAMPAIGN_FILE_EXTENSION}", if safe.is_empty() { "campaign" } else { safe })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_it_cannot_read_in_words() {
        assert!(matches!(CampaignFile::read("nope"), Err(CampaignFileError::NotJson(_))));
        assert!(matches!(CampaignFile::read("{}"), Err(CampaignFileError::NotACampaignFile)));
        let newer = format!(r#"{{"format":"{CAMPAIGN_FILE_FORMAT}","version":99}}"#);
        let e = CampaignFile::read(&newer).unwrap_err();
        assert!(e.to_string().contains("newer Campaign Console"), "{e}");
        let no_form = format!(r#"{{"format":"{CAMPAIGN_FILE_FORMAT}","version":1,"name":"x","kind":"api_triggered"}}"#);
        assert!(CampaignFile::read(&no_form).unwrap_err().to_string().contains("without its form"));
        assert_eq!(CampaignFile::file_name("Summer / 2026?"), "Summer _ 2026_.campaign.json");
    }
}
