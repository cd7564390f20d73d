//! The global report: every campaign with events in a period, each with its numbers to date
//! (from the same rollups as a campaign's report) and its sends day by day in the period.

use super::reports::Rows;
use super::{Console, ConsoleError};
use crate::model::report::{CampaignLine, GlobalReport, Numbers};
use crate::store;

/// The longest period a global report covers, in days.
pub const MOST_DAYS: i32 = 366;

impl Console {
    /// The campaigns with events from `first_day` to `last_day` (UTC days, both included).
    pub fn global_report(
        &self,
        first_day: jiff::civil::Date,
        last_day: jiff::civil::Date,
    ) -> Result<GlobalReport, ConsoleError> {
        let days = (last_day - first_day).get_days() + 1;
        if days < 1 {
            return Err(ConsoleError::Invalid(format!(
                "the period ends ({last_day}) before it starts ({first_day}): pick a last day on or after the first"
            )));
        }
        if days > MOST_DAYS {
            return Err(ConsoleError::Invalid(format!(
                "a period of {days} days is longer than a report covers ({MOST_DAYS} days): pick a shorter one"
            )));
        }
        let since = day_start(first_day)?;
        let until = day_start(last_day)?
            .checked_add(jiff::SignedDuration::from_hours(23))
            .map_err(|e| ConsoleError::Invalid(format!("the day {last_day} cannot be placed in time: {e}")))?;
        self.simulate_sandbox_events()?;
        let (campaigns, rows, sent) = self.workspace.read_apart(|conn| {
            let ids = store::reports::active_campaigns(conn, since, until)?;
            let campaigns =
                ids.iter().map(|id| store::campaigns::get_bare(conn, *id)).collect::<Result<Vec<_>, _>>()?;
            Ok((campaigns, Rows::read(conn, &ids)?, store::reports::daily(conn, &ids, "sent", since, until)?))
        })?;
        let mut made = rows.assemble();
        let mut lines: Vec<CampaignLine> = campaigns
            .into_iter()
            .map(|c| CampaignLine {
                campaign_id: c.id,
                numbers: made.remove(&c.id).map(|m| m.total).unwrap_or_default(),
                campaign: c.name,
                kind: c.kind.label().to_owned(),
                sent_by_day: vec![0; days as usize],
            })
            .collect();
        for (campaign, day, n) in sent {
            let Ok(day) = day.parse::<jiff::civil::Date>() else { continue };
            let i = (day - first_day).get_days();
            if let Some(line) = lines.iter_mut().find(|l| l.campaign_id == campaign)
                && let Some(slot) = usize::try_from(i).ok().and_then(|i| line.sent_by_day.get_mut(i))
            {
                *slot += n;
            }
        }
        let mut total = Numbers::default();
        for line in &lines {
            total.add(&line.numbers);
        }
        Ok(GlobalReport { first_day, last_day, lines, total })
    }
}

/// Midnight UTC of `day`.
fn day_start(day: jiff::civil::Date) -> Result<jiff::Timestamp, ConsoleError> {
    day.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|e| ConsoleError::Invalid(format!("the day {day} cannot be placed in time: {e}")))
}
