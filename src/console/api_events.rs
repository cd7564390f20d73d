//! Interaction events other systems report (`POST /v1/events`): push opens, in-app and
//! content-card interactions, conversions, webhooks received. Checked as a whole (one wrong
//! event refuses the call, nothing written), resolved to their profile, counted once by
//! their id.

use serde::Serialize;

use super::Console;
use super::api_campaigns::namespace_column;
use super::api_trigger::TriggerError;
use crate::model::api::{INGESTED_KINDS, IngestedEvent, MAX_EVENTS};
use crate::store::{self, StoreError};

/// What came of an ingestion call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    /// Events written now.
    pub accepted: u64,
    /// Events whose id was reported before (not counted again).
    pub duplicates: u64,
    /// The positions of events whose recipient no profile is (not written).
    pub not_found: Vec<usize>,
}

impl Console {
    /// Writes the reported events; see the module documentation.
    pub fn ingest_events(&self, events: &[IngestedEvent]) -> Result<IngestReport, TriggerError> {
        let invalid = |pointer: String, message: String| TriggerError::Invalid { pointer, message };
        if events.is_empty() || events.len() > MAX_EVENTS {
            return Err(invalid(
                "/events".into(),
                format!("send 1 to {MAX_EVENTS} events (this call has {})", events.len()),
            ));
        }
        let model = store::data_model::load(&self.workspace.conn())?;
        let now = self.now();
        let mut resolved = Vec::with_capacity(events.len());
        let mut report = IngestReport::default();
        {
            let conn = self.workspace.conn();
            for (i, e) in events.iter().enumerate() {
                let at = |field: &str| format!("/events/{i}/{field}");
                let id = e.event_id.trim();
                if id.is_empty() || id.chars().count() > 200 {
                    return Err(invalid(at("event_id"), "give each event an id of 1 to 200 characters".into()));
                }
                if !INGESTED_KINDS.contains(&e.kind.as_str()) {
                    return Err(invalid(
                        at("kind"),
                        format!("\u{201c}{}\u{201d} is not one of: {}", e.kind, INGESTED_KINDS.join(", ")),
                    ));
                }
                if e.kind == "conversion" && e.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
                    return Err(invalid(at("name"), "a conversion needs its name (\u{201c}purchase\u{201d})".into()));
                }
                match store::campaigns::get(&conn, e.campaign_id) {
                    Ok(_) => {}
                    Err(StoreError::NotFound { .. }) => {
                        return Err(invalid(at("campaign_id"), format!("no campaign has the id {}", e.campaign_id)));
                    }
                    Err(other) => return Err(other.into()),
                }
                let (profile, column) =
                    namespace_column(&model, &e.namespace).map_err(|why| invalid(at("namespace"), why.to_string()))?;
                match store::api::find_profile(&conn, &profile.name, &profile.primary_key, column, e.id.trim())? {
                    Some(key) => resolved.push((i, key)),
                    None => report.not_found.push(i),
                }
            }
        }
        let details: Vec<String> = resolved
            .iter()
            .map(|(i, _)| {
                let e = &events[*i];
                serde_json::json!({
                    "source": "api",
                    "namespace": e.namespace,
                    "id": e.id,
                    "message": e.message,
                    "link_alias": e.link_alias,
                    "name": e.name,
                })
                .to_string()
            })
            .collect();
        let rows: Vec<store::api::ReportedEvent<'_>> = resolved
            .iter()
            .zip(&details)
            .map(|((i, key), detail)| {
                let e = &events[*i];
                store::api::ReportedEvent {
                    event_id: e.event_id.trim(),
                    kind: &e.kind,
                    at: e.at.unwrap_or(now),
                    campaign_id: e.campaign_id,
                    profile: Some(key),
                    detail_json: detail,
                }
            })
            .collect();
        report.accepted = store::api::record_events(&mut self.workspace.conn(), &rows)?;
        report.duplicates = rows.len() as u64 - report.accepted;
        Ok(report)
    }
}
