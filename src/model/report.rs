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
}
