//! Campaign reports: the ledger's numbers and the rolled-up events of a campaign, put together
//! per channel activity and for the campaign, with the events hour by hour.

use std::collections::HashMap;

use std::sync::Arc;

use super::connectors::pending_figures;
use super::jobs::write_atomically;
use super::{Console, ConsoleError, Event, ReportCommand, ReportOf, UserError};
use crate::model::CampaignKind;
use crate::model::report::{ActivityReport, CampaignReport, HourCount, Numbers, merge};
use crate::store;

impl Console {
    pub(super) fn report_command(self: &Arc<Self>, command: ReportCommand) {
        match command {
            ReportCommand::Campaign { id } => self.spawn(move |console| {
                let report = console
                    .campaign_report(id)
                    .map(Box::new)
                    .map_err(|e| UserError::new("The report could not be made", &e));
                vec![Event::Report { campaign_id: id, report }]
            }),
            ReportCommand::Global { first_day, last_day } => self.spawn(move |console| {
                vec![Event::GlobalReport(
                    console
                        .global_report(first_day, last_day)
                        .map(Box::new)
                        .map_err(|e| UserError::new("The global report could not be made", &e)),
                )]
            }),
            ReportCommand::ExportCsv { report, path } => {
                self.start_file_job(path, "report lines", move |console, path, _| {
                    let lines = match report {
                        ReportOf::Campaign(id) => console.campaign_report(id)?.csv(),
                        ReportOf::Global { first_day, last_day } => console.global_report(first_day, last_day)?.csv(),
                    };
                    write_atomically(path, |out| {
                        let mut w = csv::Writer::from_writer(out);
                        for line in &lines {
                            w.write_record(line)
                                .map_err(|e| ConsoleError::Invalid(format!("the CSV could not be written: {e}")))?;
                        }
                        w.flush().map_err(|source| ConsoleError::File { path: path.to_owned(), source })?;
                        // The header is not a line of the report.
                        Ok(lines.len().saturating_sub(1) as u64)
                    })
                });
            }
            ReportCommand::SavePng { width, height, rgba, path } => {
                self.start_file_job(path, "pictures", move |_, path, _| {
                    let picture = image::RgbaImage::from_raw(width, height, rgba).ok_or_else(|| {
                        ConsoleError::Invalid(format!("the picture of {width}×{height} pixels came incomplete"))
                    })?;
                    let mut png = std::io::Cursor::new(Vec::new());
                    picture
                        .write_to(&mut png, image::ImageFormat::Png)
                        .map_err(|e| ConsoleError::Invalid(format!("the picture could not be made a PNG: {e}")))?;
                    write_atomically(path, |mut out| {
                        std::io::Write::write_all(&mut out, png.get_ref())
                            .and_then(|()| std::io::Write::flush(&mut out))
                            .map_err(|source| ConsoleError::File { path: path.to_owned(), source })?;
                        Ok(1)
                    })
                });
            }
        }
    }

    /// The report of campaign `campaign_id`, as the workspace holds it now.
    /// The Sandbox's simulated events that are due are written first.
    pub fn campaign_report(&self, campaign_id: i64) -> Result<CampaignReport, ConsoleError> {
        self.simulate_sandbox_events()?;
        // One read transaction, on a connection of its own: the numbers are of one moment, and
        // the trigger API's short reads do not wait behind it.
        let (campaign, rows, hourly, api, pending) = self.workspace.read_apart(|conn| {
            let campaign = store::campaigns::get_bare(conn, campaign_id)?;
            let api = match campaign.kind {
                CampaignKind::ApiTriggered => Some(store::reports::api_figures(conn, campaign_id)?),
                _ => None,
            };
            let pending = match campaign.kind {
                CampaignKind::ActionTriggered => Some(store::connectors::counts(conn, Some(campaign_id))?),
                _ => None,
            };
            Ok((campaign, Rows::read(conn, &[campaign_id])?, store::reports::hourly(conn, campaign_id)?, api, pending))
        })?;
        let mut made = rows.assemble().remove(&campaign_id).unwrap_or_default();
        let labels = self.activity_labels(&campaign);
        for a in &mut made.activities {
            if let Some(label) = labels.get(&a.activity) {
                a.label.clone_from(label);
            }
        }
        Ok(CampaignReport {
            campaign_id,
            campaign: campaign.name,
            activities: made.activities,
            total: made.total,
            control_group: made.control_group,
            other_events: made.other_events,
            hourly: hourly.into_iter().map(|(hour, kind, events)| HourCount { hour, kind, events }).collect(),
            api,
            connector: pending.map(pending_figures),
        })
    }
}

/// The rolled-up rows of some campaigns' reports.
pub(super) struct Rows {
    ledger: Vec<store::reports::LedgerTotal>,
    events: Vec<store::reports::EventTotal>,
    uniques: Vec<store::reports::UniqueCount>,
}

/// A campaign's numbers put together from its rows.
#[derive(Default)]
pub(super) struct Made {
    pub activities: Vec<ActivityReport>,
    pub total: Numbers,
    pub control_group: u64,
    pub other_events: Vec<(String, u64)>,
}

impl Rows {
    pub(super) fn read(conn: &rusqlite::Connection, campaigns: &[i64]) -> Result<Self, store::StoreError> {
        Ok(Self {
            ledger: store::reports::ledger_totals(conn, campaigns)?,
            events: store::reports::event_totals(conn, campaigns)?,
            uniques: store::reports::unique_counts(conn, campaigns)?,
        })
    }

    /// Each campaign's numbers, per channel activity and in total.
    pub(super) fn assemble(self) -> HashMap<i64, Made> {
        let mut made: HashMap<i64, Made> = HashMap::new();
        for row in &self.ledger {
            let n = numbers_of(&mut made.entry(row.campaign_id).or_default().activities, &row.activity, &row.channel);
            n.targeted += row.rows;
            match row.status.as_str() {
                "excluded" => merge(&mut n.excluded, &[(reason(&row.code), row.rows)]),
                "failed" => merge(&mut n.failed, &[(reason(&row.code), row.rows)]),
                "sent" => n.sent += row.rows,
                _ => n.pending += row.rows,
            }
        }
        for e in &self.events {
            let m = made.entry(e.campaign_id).or_default();
            let kind = e.kind.as_str();
            match kind {
                // The ledger says what was sent and what failed.
                "sent" | "failed" => {}
                store::interactions::CONTROL_GROUP => m.control_group += e.events,
                "delivered" | "bounced" | "opened" | "clicked" | "unsubscribed" if !e.channel.is_empty() => {
                    let n = numbers_of(&mut m.activities, &e.activity, &e.channel);
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
                    merge(&mut m.other_events, &[(name, e.events)]);
                }
            }
        }
        for u in &self.uniques {
            let Some(m) = made.get_mut(&u.campaign_id) else { continue };
            for a in m.activities.iter_mut().filter(|a| a.activity == u.activity) {
                match u.kind.as_str() {
                    "opened" => a.numbers.opened_unique = u.profiles,
                    "clicked" => a.numbers.clicked_unique = u.profiles,
                    _ => {}
                }
            }
        }
        for m in made.values_mut() {
            for a in &m.activities {
                m.total.add(&a.numbers);
            }
        }
        made
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
