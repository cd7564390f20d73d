//! A campaign's report: per channel activity and for the campaign, what was targeted,
//! excluded (by reason), sent, delivered, failed (by error code), bounced, opened and clicked
//! (total and unique), unsubscribed and held out in a control group, with the rates on their
//! right base; and the events hour by hour.

use serde::Serialize;

/// The numbers of one channel activity (or, summed, of the campaign).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Numbers {
    /// Every recipient the ledger holds (excluded ones included).
    pub targeted: u64,
    /// Excluded before sending, by reason code.
    pub excluded: Vec<(String, u64)>,
    pub sent: u64,
    /// Still on their way (queued, being sent, to be tried again, not confirmed).
    pub pending: u64,
    /// Failed, by error code.
    pub failed: Vec<(String, u64)>,
    pub delivered: u64,
    pub bounced: u64,
    pub opened: u64,
    pub opened_unique: u64,
    pub clicked: u64,
    pub clicked_unique: u64,
    pub unsubscribed: u64,
    /// Clicks by link alias ("" for links without one).
    pub clicks_by_alias: Vec<(String, u64)>,
}

impl Numbers {
    pub fn excluded_total(&self) -> u64 {
        self.excluded.iter().map(|(_, n)| n).sum()
    }

    pub fn failed_total(&self) -> u64 {
        self.failed.iter().map(|(_, n)| n).sum()
    }

    /// Delivered of sent.
    pub fn delivery_rate(&self) -> Option<f64> {
        rate(self.delivered, self.sent)
    }

    /// Unique opens of delivered.
    pub fn open_rate(&self) -> Option<f64> {
        rate(self.opened_unique, self.delivered)
    }

    /// Unique clicks of delivered.
    pub fn click_rate(&self) -> Option<f64> {
        rate(self.clicked_unique, self.delivered)
    }

    /// Unique clicks of unique opens.
    pub fn click_to_open_rate(&self) -> Option<f64> {
        rate(self.clicked_unique, self.opened_unique)
    }

    /// Bounced of sent.
    pub fn bounce_rate(&self) -> Option<f64> {
        rate(self.bounced, self.sent)
    }

    /// Unsubscribed of delivered.
    pub fn unsubscribe_rate(&self) -> Option<f64> {
        rate(self.unsubscribed, self.delivered)
    }

    /// Adds `other`'s numbers to these (lists merged by key).
    pub fn add(&mut self, other: &Self) {
        self.targeted += other.targeted;
        self.sent += other.sent;
        self.pending += other.pending;
        self.delivered += other.delivered;
        self.bounced += other.bounced;
        self.opened += other.opened;
        self.opened_unique += other.opened_unique;
        self.clicked += other.clicked;
        self.clicked_unique += other.clicked_unique;
        self.unsubscribed += other.unsubscribed;
        merge(&mut self.excluded, &other.excluded);
        merge(&mut self.failed, &other.failed);
        merge(&mut self.clicks_by_alias, &other.clicks_by_alias);
    }
}

/// Adds `more` into `into`, by key, largest first.
pub fn merge(into: &mut Vec<(String, u64)>, more: &[(String, u64)]) {
    for (k, n) in more {
        match into.iter_mut().find(|(key, _)| key == k) {
            Some((_, m)) => *m += n,
            None => into.push((k.clone(), *n)),
        }
    }
    into.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

/// A rate as reports show it: "33.7 %", or "–" without a base.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

/// `part` of `base` as a fraction, when there is a base.
pub fn rate(part: u64, base: u64) -> Option<f64> {
    (base > 0).then(|| part as f64 / base as f64)
}

/// A channel activity's numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActivityReport {
    /// The canvas activity's id ("api" for an API-triggered campaign's calls, "connector" for
    /// an action-triggered campaign's follow-ups).
    pub activity: String,
    /// Its name as the canvas shows it.
    pub label: String,
    pub channel: String,
    pub numbers: Numbers,
}

/// Events of one kind in one hour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HourCount {
    /// The hour's start (UTC).
    pub hour: jiff::Timestamp,
    pub kind: String,
    pub events: u64,
}

/// A campaign's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CampaignReport {
    pub campaign_id: i64,
    pub campaign: String,
    pub activities: Vec<ActivityReport>,
    /// The activities' numbers summed.
    pub total: Numbers,
    /// Profiles held out in a control group.
    pub control_group: u64,
    /// Events of other kinds (conversions, push and in-app interactions…), by kind.
    pub other_events: Vec<(String, u64)>,
    /// Every event hour by hour, oldest first.
    pub hourly: Vec<HourCount>,
    /// An API-triggered campaign's calls.
    pub api: Option<ApiFigures>,
    /// An action-triggered campaign's follow-ups.
    pub connector: Option<ConnectorFigures>,
}

/// What an API-triggered campaign was asked: its calls and their recipients.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ApiFigures {
    pub calls: u64,
    /// Accepted, their recipients not resolved yet.
    pub calls_waiting: u64,
    /// Whose messages could not be made (the server stopped first).
    pub calls_failed: u64,
    pub recipients: u64,
    /// Recipients no profile matched (and none was created).
    pub not_found: u64,
    /// Profiles created for recipients.
    pub created: u64,
}

/// What an action-triggered campaign's rules caught: each trigger waits, then is fired or
/// cancelled (by reason, in words).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConnectorFigures {
    pub triggers: u64,
    pub waiting: u64,
    pub fired: u64,
    pub cancelled: Vec<(String, u64)>,
}

impl ConnectorFigures {
    pub fn cancelled_total(&self) -> u64 {
        self.cancelled.iter().map(|(_, n)| n).sum()
    }
}

/// A campaign's line in the global report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CampaignLine {
    pub campaign_id: i64,
    pub campaign: String,
    /// Its kind, in words ("Orchestrated", "API-triggered", "Action-triggered").
    pub kind: String,
    /// Its numbers to date.
    pub numbers: Numbers,
    /// Messages sent each day of the period, the first day first.
    pub sent_by_day: Vec<u64>,
}

/// Every campaign with events in a period, with its numbers to date and its sends day by day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GlobalReport {
    /// The period's first day and last day (UTC), both included.
    pub first_day: jiff::civil::Date,
    pub last_day: jiff::civil::Date,
    pub lines: Vec<CampaignLine>,
    /// The lines' numbers summed.
    pub total: Numbers,
}

/// The numbers' columns in a report's CSV, after the columns naming the line.
pub const NUMBER_COLUMNS: [&str; 15] = [
    "targeted",
    "excluded",
    "sent",
    "on_their_way",
    "failed",
    "delivered",
    "bounced",
    "opened_unique",
    "opened_total",
    "clicked_unique",
    "clicked_total",
    "unsubscribed",
    "delivered_of_sent_percent",
    "opened_of_delivered_percent",
    "clicked_of_delivered_percent",
];

impl Numbers {
    /// The numbers as a CSV line's fields, in [`NUMBER_COLUMNS`]' order (a rate without a
    /// base is left empty).
    pub fn csv_fields(&self) -> Vec<String> {
        let pct = |r: Option<f64>| r.map_or_else(String::new, |r| format!("{:.1}", r * 100.0));
        let mut fields: Vec<String> = [
            self.targeted,
            self.excluded_total(),
            self.sent,
            self.pending,
            self.failed_total(),
            self.delivered,
            self.bounced,
            self.opened_unique,
            self.opened,
            self.clicked_unique,
            self.clicked,
            self.unsubscribed,
        ]
        .iter()
        .map(u64::to_string)
        .collect();
        fields.extend([pct(self.delivery_rate()), pct(self.open_rate()), pct(self.click_rate())]);
        fields
    }
}

impl CampaignReport {
    /// The report as CSV lines, the header first: a line per channel activity, then the
    /// campaign's.
    pub fn csv(&self) -> Vec<Vec<String>> {
        let mut lines =
            vec![["campaign", "activity", "channel"].into_iter().chain(NUMBER_COLUMNS).map(str::to_owned).collect()];
        for a in &self.activities {
            let mut line = vec![self.campaign.clone(), a.label.clone(), a.channel.clone()];
            line.extend(a.numbers.csv_fields());
            lines.push(line);
        }
        let mut total = vec![self.campaign.clone(), "(campaign)".to_owned(), String::new()];
        total.extend(self.total.csv_fields());
        lines.push(total);
        lines
    }
}

impl GlobalReport {
    /// The days of the period, the first first.
    pub fn days(&self) -> Vec<jiff::civil::Date> {
        self.first_day.series(jiff::Span::new().days(1)).take_while(|d| *d <= self.last_day).collect()
    }

    /// Messages sent each day of the period by all the lines, the first day first.
    pub fn total_sent_by_day(&self) -> Vec<u64> {
        (0..self.days().len())
            .map(|i| self.lines.iter().map(|l| l.sent_by_day.get(i).copied().unwrap_or(0)).sum())
            .collect()
    }

    /// The report as CSV lines, the header first: a line per campaign (its numbers to date,
    /// then its sends each day of the period), then the totals.
    pub fn csv(&self) -> Vec<Vec<String>> {
        let days = self.days();
        let mut header: Vec<String> =
            ["campaign", "kind"].into_iter().chain(NUMBER_COLUMNS).map(str::to_owned).collect();
        header.extend(days.iter().map(|d| format!("sent_{d}")));
        let mut lines = vec![header];
        for l in &self.lines {
            let mut line = vec![l.campaign.clone(), l.kind.clone()];
            line.extend(l.numbers.csv_fields());
            line.extend(l.sent_by_day.iter().map(u64::to_string));
            lines.push(line);
        }
        let mut total = vec!["(total)".to_owned(), String::new()];
        total.extend(self.total.csv_fields());
        total.extend(self.total_sent_by_day().iter().map(u64::to_string));
        lines.push(total);
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_have_their_base_and_none_without_one() {
        let n = Numbers { sent: 200, delivered: 180, opened_unique: 90, clicked_unique: 18, ..Numbers::default() };
        assert_eq!(n.delivery_rate(), Some(0.9));
        assert_eq!(n.open_rate(), Some(0.5));
        assert_eq!(n.click_rate(), Some(0.1));
        assert_eq!(n.click_to_open_rate(), Some(0.2));
        assert_eq!(Numbers::default().open_rate(), None, "nothing delivered: no rate, not 0 %");
        assert_eq!((percent(n.open_rate()), percent(None)), ("50.0 %".to_owned(), "–".to_owned()));
    }

    #[test]
    fn adding_merges_lists_by_key() {
        let mut a = Numbers { failed: vec![("timeout".into(), 2)], ..Numbers::default() };
        let b = Numbers { failed: vec![("timeout".into(), 1), ("bad_address".into(), 5)], ..Numbers::default() };
        a.add(&b);
        assert_eq!(a.failed, vec![("bad_address".to_owned(), 5), ("timeout".to_owned(), 3)]);
        assert_eq!(a.failed_total(), 8);
    }

    #[test]
    fn csv_lines_have_the_header_s_width_and_the_totals_last() {
        let day = |d: i8| jiff::civil::date(2026, 11, d);
        let n = Numbers { targeted: 10, sent: 8, delivered: 6, opened_unique: 3, ..Numbers::default() };
        let line = |id: i64, by_day: Vec<u64>| CampaignLine {
            campaign_id: id,
            campaign: format!("C{id}"),
            kind: "Orchestrated".into(),
            numbers: n.clone(),
            sent_by_day: by_day,
        };
        let mut total = n.clone();
        total.add(&n);
        let global = GlobalReport {
            first_day: day(28),
            last_day: day(30),
            lines: vec![line(1, vec![1, 0, 7]), line(2, vec![0, 8, 0])],
            total,
        };
        let csv = global.csv();
        assert_eq!(csv.len(), 4);
        assert!(csv.iter().all(|l| l.len() == 2 + NUMBER_COLUMNS.len() + 3));
        assert_eq!(csv[0].last().map(String::as_str), Some("sent_2026-11-30"));
        let last = &csv[3];
        assert_eq!((last[0].as_str(), last[2].as_str(), last[4].as_str()), ("(total)", "20", "16"));
        assert_eq!(&last[last.len() - 3..], ["1", "8", "7"]);
        assert_eq!(last[2 + 12], "75.0", "delivered of sent");
        let empty = Numbers::default().csv_fields();
        assert_eq!(empty[12], "", "no base, no rate");
    }
}
