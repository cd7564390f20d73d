//! Campaign reports: the ledger's numbers and the rolled-up events of a campaign, put together
//! per channel activity and for the campaign, with the events hour by hour.

use std::collections::HashMap;

use super::{Console, ConsoleError, Event, ReportCommand, UserError};
use crate::model::report::{ActivityReport, CampaignReport, HourCount, Numbers, merge};
use crate::store;

impl Console {
    pub(super) fn report_command(&self, command: ReportCommand) -> Vec<Event> {
        match command {
            ReportCommand::Campaign { id } => {
                let report = self
                    .campaign_report(id)
                    .map(Box::new)
                    .map_err(|e| UserError::new("The report could not be made", &e));
                vec![Event::Report { campaign_id: id, report }]
            }
        }
    }

    /// The report of campaign `campaign_id`, as the workspace holds it now.
    /// The Sandbox's simulated events that are due are written first.
    pub fn campaign_report(&self, campaign_id: i64) -> Result<CampaignReport, ConsoleError> {
        self.simulate_sandbox_events()?;
        // One read transaction, on a connection of its own: the numbers are of one moment, and
        // the trigger API's short reads do not wait behind it.
        let (campaign, ledger, events, uniques, hourly) = self.workspace.read_apart(|conn| {
            Ok((
                store::campaigns::get_bare(conn, campaign_id)?,
                store::reports::ledger_totals(conn, campaign_id)?,
                store::reports::event_totals(conn, campaign_id)?,
                store::reports::unique_counts(conn, campaign_id)?,
                store::reports::hourly(conn, campaign_id)?,
            ))
        })?;
        let mut activities: Vec<ActivityReport> = Vec::new();
        for row in &ledger {
            let n = numbers_of(&mut activities, &row.activity, &row.channel);
            n.targeted += row.rows;
            match row.status.as_str() {
                "excluded" => merge(&mut n.excluded, &[(reason(&row.code), row.rows)]),
                "failed" => merge(&mut n.failed, &[(reason(&row.code), row.rows)]),
                "sent" => n.sent += row.rows,
                _ => n.pending += row.rows,
            }
        }
        let mut control_group = 0;
        let mut other_events: Vec<(String, u64)> = Vec::new();
        for e in &events {
            let kind = e.kind.as_str();
            match kind {
                // The ledger says what was sent and what failed.
                "sent" | "failed" => {}
                store::interactions::CONTROL_GROUP => control_group += e.events,
                "delivered" | "bounced" | "opened" | "clicked" | "unsubscribed" if !e.channel.is_empty() => {
                    let n = numbers_of(&mut activities, &e.activity, &e.channel);
                    match kind {
                        "delivered" => n.delivered += e.events,
                        "bounced" => n.bounced += e.events,
                        "opened" => n.opened += e.events,
                        "clicked" => {
                            n.clicked += e.events;
                            merge(&mut n.clicks_by_alias, &[(e.detail.clone(), e.events)]);
                        }
                        _ => n.unsubscribed += e.events,
                    }
                }
                _ => {
                    let name = if e.detail.is_empty() { kind.to_owned() } else { format!("{kind}: {}", e.detail) };
                    merge(&mut other_events, &[(name, e.events)]);
                }
            }
        }
        for (activity, kind, profiles) in &uniques {
            for a in activities.iter_mut().filter(|a| a.activity == *activity) {
                match kind.as_str() {
                    "opened" => a.numbers.opened_unique = *profiles,
                    "clicked" => a.numbers.clicked_unique = *profiles,
                    _ => {}
                }
            }
        }
        let labels = self.activity_labels(&campaign);
        for a in &mut activities {
            if let Some(label) = labels.get(&a.activity) {
                a.label.clone_from(label);
            }
        }
        let mut total = Numbers::default();
        for a in &activities {
            total.add(&a.numbers);
        }
        Ok(CampaignReport {
            campaign_id,
            campaign: campaign.name,
            activities,
            total,
            control_group,
            other_events,
            hourly: hourly.into_iter().map(|(hour, kind, events)| HourCount { hour, kind, events }).collect(),
        })
    }
}

/// The numbers of `activity` on `channel`, added to `activities` when first met.
fn numbers_of<'a>(activities: &'a mut Vec<ActivityReport>, activity: &str, channel: &str) -> &'a mut Numbers {
    let i = match activities.iter().position(|a| a.activity == activity && a.channel == channel) {
        Some(i) => i,
        None => {
            activities.push(ActivityReport {
                activity: activity.to_owned(),
                label: default_label(activity),
                channel: channel.to_owned(),
                numbers: Numbers::default(),
            });
            activities.len() - 1
        }
    };
    &mut activities[i].numbers
}

/// An activity's name when its campaign has no canvas to name it.
fn default_label(activity: &str) -> String {
    match activity {
        "api" => "API calls".to_owned(),
        "connector" => "Follow-up".to_owned(),
        other => other.to_owned(),
    }
}

/// A reason or error code as a report shows it.
fn reason(code: &str) -> String {
    if code.is_empty() { "(no code)".to_owned() } else { code.to_owned() }
}

impl Console {
    /// The labels of `campaign`'s canvas activities, by id (none for a campaign without one).
    fn activity_labels(&self, campaign: &crate::model::Campaign) -> HashMap<String, String> {
        if campaign.kind != crate::model::CampaignKind::Orchestrated {
            return HashMap::new();
        }
        self.canvas(campaign)
            .map(|canvas| canvas.activities.into_iter().map(|a| (a.id, a.label)).collect())
            .unwrap_or_default()
    }
}
