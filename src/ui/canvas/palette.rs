//! The palette: every activity kind, grouped, with an icon, a one-line description, and the
//! parameters a new one starts with.

use crate::model::{
    ActivityKind as K, Channel, CombineMode, DataModel, DedupMethod, Limit, Pick, Recipient, Rule, Schedule, Subset,
    WaitFor,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Targeting,
    FlowControl,
    Channels,
}

impl Group {
    pub const ALL: [Group; 3] = [Group::Targeting, Group::FlowControl, Group::Channels];

    pub fn label(self) -> &'static str {
        match self {
            Self::Targeting => "Targeting",
            Self::FlowControl => "Flow control",
            Self::Channels => "Channels",
        }
    }
}

/// One palette entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub group: Group,
    pub label: &'static str,
    pub icon: &'static str,
    pub description: &'static str,
}

pub const ENTRIES: &[Entry] = &[
    e(Group::Targeting, "Build audience", "🎯", "Select the people (or bookings, addresses…) who match conditions."),
    e(Group::Targeting, "Read audience", "📂", "Start from an audience saved by another campaign."),
    e(Group::Targeting, "Save audience", "💾", "Save the population as a named audience when the campaign runs."),
    e(Group::Targeting, "Combine", "🔀", "Union, intersection or exclusion of several populations."),
    e(Group::Targeting, "Enrichment", "➕", "Add data: attributes, totals or the latest rows of linked data."),
    e(Group::Targeting, "Split", "✂", "Divide the population into ordered subsets, with limits or samples."),
    e(Group::Targeting, "Deduplication", "🗐", "Keep one row per email (or other columns)."),
    e(Group::Targeting, "Change dimension", "🔁", "Target bookings instead of profiles, or the other way round."),
    e(Group::Targeting, "Reconciliation", "📄", "Match the lines of a CSV file to your data."),
    e(Group::Targeting, "Control group", "⚖", "Hold out a random share that receives nothing."),
    e(Group::FlowControl, "Scheduler", "⏰", "Start the campaign once, daily, weekly, monthly or by cron."),
    e(Group::FlowControl, "Test", "❓", "Take a path depending on the population's size."),
    e(Group::FlowControl, "Fork", "🔱", "Continue on several paths at once."),
    e(Group::FlowControl, "And-join", "⛓", "Wait until every chosen path has arrived."),
    e(Group::FlowControl, "Wait", "⏳", "Pause for a while, or until a date and time."),
    e(Group::FlowControl, "End", "⏹", "Mark the end of a path."),
    e(Group::Channels, "Email", "✉", "Send an email to each recipient."),
    e(Group::Channels, "SMS", "💬", "Send a text message to each recipient."),
    e(Group::Channels, "Push", "🔔", "Send a push notification."),
    e(Group::Channels, "Direct mail", "📮", "Write a file for the printer."),
    e(Group::Channels, "X post", "🐦", "Post once on the X service's account (whoever the population)."),
    e(Group::Channels, "X direct message", "📨", "Send an X direct message to each visitor."),
    e(Group::Channels, "Webhook", "🔗", "Call a web service for each recipient."),
];

const fn e(group: Group, label: &'static str, icon: &'static str, description: &'static str) -> Entry {
    Entry { group, label, icon, description }
}

/// The palette entry of an activity kind.
pub fn entry_of(kind: &K) -> Option<&'static Entry> {
    let label = kind.label();
    ENTRIES.iter().find(|e| e.label == label)
}

/// The parameters a new activity of entry `label` starts with, for this data model.
pub fn new_kind(label: &str, model: &DataModel) -> Option<K> {
    let profiles = model
        .identity_namespaces
        .first()
        .map(|n| n.entity.clone())
        .or_else(|| model.entities.first().map(|e| e.name.clone()))
        .unwrap_or_default();
    let email = model.identity_namespaces.iter().find(|n| n.name == "email").map(|n| n.column.clone());
    let channel = |channel| K::Channel {
        channel,
        credential: None,
        configuration: None,
        per: Recipient::Profile,
        message: Default::default(),
    };
    Some(match label {
        "Build audience" => K::BuildAudience { dimension: profiles, rule: Rule::everyone(), emit_when_empty: false },
        "Read audience" => K::ReadAudience { audience: String::new() },
        "Save audience" => K::SaveAudience { audience: "New audience".into() },
        "Combine" => K::Combine { mode: CombineMode::Union, primary: None, complement: false },
        "Enrichment" => K::Enrichment { columns: Vec::new() },
        "Split" => K::Split {
            subsets: vec![Subset {
                label: "Subset 1".into(),
                filter: Rule::everyone(),
                limit: Some(Limit::Percent(50.0)),
                pick: Pick::default(),
            }],
            complement: true,
            skip_empty: false,
            allow_overlap: false,
        },
        "Deduplication" => K::Deduplication {
            columns: email.into_iter().collect(),
            keep: 1,
            method: DedupMethod::Random { seed: 1 },
            output_removed: false,
        },
        "Change dimension" => K::ChangeDimension { to: String::new() },
        "Reconciliation" => {
            K::Reconciliation { file: String::new(), entity: profiles, rules: Vec::new(), keep_unreconciled: true }
        }
        "Control group" => K::ControlGroup { size: Limit::Percent(10.0), seed: 1 },
        "Scheduler" => K::Scheduler {
            schedule: Schedule::Weekly { days: vec!["mon".into()], time: "09:00".into() },
            valid_from: None,
            valid_until: None,
            timezone: None,
        },
        "Test" => K::Test { conditions: Vec::new() },
        "Fork" => K::Fork { outputs: vec!["path 1".into(), "path 2".into()] },
        "And-join" => K::AndJoin { primary: None },
        "Wait" => K::Wait { wait: WaitFor::Duration { minutes: 60 } },
        "End" => K::End,
        "Email" => channel(Channel::Email),
        "SMS" => channel(Channel::Sms),
        "Push" => channel(Channel::Push),
        "Direct mail" => channel(Channel::DirectMail),
        "X post" => channel(Channel::X),
        "X direct message" => channel(Channel::XDm),
        "Webhook" => channel(Channel::Webhook),
        _ => return None,
    })
}
