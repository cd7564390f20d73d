//! Action-triggered campaigns (campaign connectors): the interactions with another live
//! campaign that trigger them, their delay and exception events, who stays eligible, what they
//! send, and the pending sends they wait on.

use serde::{Deserialize, Serialize};

use super::{Channel, Message, Rule};

/// The channels a connector sends on.
pub const CONNECTOR_CHANNELS: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Push];

/// The interactions a connector can be triggered by (or cancelled by), as the seed lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interaction {
    InAppViewed,
    InAppClicked,
    InAppButtonClicked,
    EmailClicked,
    EmailAliasClicked,
    EmailOpened,
    PushOpenedDirectly,
    PushButtonClicked,
    PushStoryPageClicked,
    ConversionPerformed,
    EmailReceived,
    SmsReceived,
    SmsLinkClicked,
    PushReceived,
    WebhookReceived,
    EnrolledInControlGroup,
    ContentCardViewed,
    ContentCardClicked,
    ContentCardDismissed,
}

impl Interaction {
    pub const ALL: [Self; 19] = [
        Self::InAppViewed,
        Self::InAppClicked,
        Self::InAppButtonClicked,
        Self::EmailClicked,
        Self::EmailAliasClicked,
        Self::EmailOpened,
        Self::PushOpenedDirectly,
        Self::PushButtonClicked,
        Self::PushStoryPageClicked,
        Self::ConversionPerformed,
        Self::EmailReceived,
        Self::SmsReceived,
        Self::SmsLinkClicked,
        Self::PushReceived,
        Self::WebhookReceived,
        Self::EnrolledInControlGroup,
        Self::ContentCardViewed,
        Self::ContentCardClicked,
        Self::ContentCardDismissed,
    ];

    /// The name a marketer reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::InAppViewed => "in-app message viewed",
            Self::InAppClicked => "in-app message clicked",
            Self::InAppButtonClicked => "in-app button clicked",
            Self::EmailClicked => "email clicked",
            Self::EmailAliasClicked => "email alias clicked",
            Self::EmailOpened => "email opened",
            Self::PushOpenedDirectly => "push opened directly",
            Self::PushButtonClicked => "push button clicked",
            Self::PushStoryPageClicked => "push story page clicked",
            Self::ConversionPerformed => "conversion event performed",
            Self::EmailReceived => "email received",
            Self::SmsReceived => "SMS received",
            Self::SmsLinkClicked => "shortened SMS link clicked",
            Self::PushReceived => "push received",
            Self::WebhookReceived => "webhook received",
            Self::EnrolledInControlGroup => "enrolled in control group",
            Self::ContentCardViewed => "content card viewed",
            Self::ContentCardClicked => "content card clicked",
            Self::ContentCardDismissed => "content card dismissed",
        }
    }

    /// How the interaction is written in the workspace's events: each kind it may have, with
    /// the channel of the delivery it happened to when the kind alone does not say (a click on
    /// an email, not on an SMS's short link). A push opened is reported by the app (`POST
    /// /v1/events`), or simulated by the Sandbox on a push it sent.
    pub fn stored(self) -> &'static [(&'static str, Option<Channel>)] {
        match self {
            Self::InAppViewed => &[("in_app_viewed", None)],
            Self::InAppClicked => &[("in_app_clicked", None)],
            Self::InAppButtonClicked => &[("in_app_button_clicked", None)],
            Self::EmailClicked | Self::EmailAliasClicked => &[("clicked", Some(Channel::Email))],
            Self::EmailOpened => &[("opened", Some(Channel::Email))],
            Self::PushOpenedDirectly => &[("push_opened", None), ("opened", Some(Channel::Push))],
            Self::PushButtonClicked => &[("push_button_clicked", None)],
            Self::PushStoryPageClicked => &[("push_story_page_clicked", None)],
            Self::ConversionPerformed => &[("conversion", None)],
            Self::EmailReceived => &[("delivered", Some(Channel::Email))],
            Self::SmsReceived => &[("delivered", Some(Channel::Sms))],
            Self::SmsLinkClicked => &[("clicked", Some(Channel::Sms))],
            Self::PushReceived => &[("delivered", Some(Channel::Push))],
            Self::WebhookReceived => &[("webhook_received", None), ("delivered", Some(Channel::Webhook))],
            Self::EnrolledInControlGroup => &[("enrolled_in_control_group", None)],
            Self::ContentCardViewed => &[("content_card_viewed", None)],
            Self::ContentCardClicked => &[("content_card_clicked", None)],
            Self::ContentCardDismissed => &[("content_card_dismissed", None)],
        }
    }

    /// The interaction an event of `kind` on a delivery of `channel` is, when one is.
    pub fn of_event(kind: &str, channel: Option<Channel>) -> Option<Self> {
        let all = Self::ALL.into_iter().filter(|i| *i != Self::EmailAliasClicked);
        let exact = |i: &Self| i.stored().iter().any(|(k, c)| *k == kind && *c == channel);
        let loose = |i: &Self| i.stored().iter().any(|(k, c)| *k == kind && c.is_none());
        all.clone().find(exact).or_else(|| all.clone().find(loose))
    }

    /// Whether the interaction names a link alias (and may be narrowed to one).
    pub fn has_alias(self) -> bool {
        self == Self::EmailAliasClicked
    }

    /// Whether the interaction is a conversion, named ("purchase").
    pub fn is_conversion(self) -> bool {
        self == Self::ConversionPerformed
    }
}

/// "Interacts with campaign": an interaction with a source campaign, optionally narrowed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TriggerRule {
    pub interaction: Interaction,
    /// The source campaign (`None`: not chosen yet; a trigger needs one).
    pub campaign: Option<i64>,
    /// Its message: a channel activity of an orchestrated campaign, or the `message` other
    /// systems report (`None`: any).
    pub message: Option<String>,
    /// The link alias of an "email alias clicked" (`None`: any).
    pub alias: Option<String>,
    /// A conversion's name ("purchase"; `None`: any).
    pub conversion: Option<String>,
}

impl Default for TriggerRule {
    fn default() -> Self {
        Self { interaction: Interaction::EmailReceived, campaign: None, message: None, alias: None, conversion: None }
    }
}

/// An exception event: when it happens while a profile waits, the pending send is cancelled.
/// It is the interaction with the trigger's source campaign, unless it names one (a
/// conversion is any campaign's unless narrowed).
pub type ExceptionRule = TriggerRule;

/// How long after the trigger the message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "unit", content = "amount")]
pub enum Delay {
    /// At once (at the scheduler's next pass).
    None,
    Minutes(u32),
    Hours(u32),
    Days(u32),
    Weeks(u32),
    /// At the next `hour:minute` in the profile's time zone (its `time_zone` column, when the
    /// profiles have one, else this computer's zone).
    NextLocalTime {
        hour: u8,
        minute: u8,
    },
}

impl Default for Delay {
    fn default() -> Self {
        Self::Days(3)
    }
}

impl Delay {
    /// The delay in seconds (`None` for a local time, computed per profile).
    pub fn seconds(self) -> Option<i64> {
        match self {
            Self::None => Some(0),
            Self::Minutes(n) => Some(i64::from(n) * 60),
            Self::Hours(n) => Some(i64::from(n) * 3600),
            Self::Days(n) => Some(i64::from(n) * 86_400),
            Self::Weeks(n) => Some(i64::from(n) * 7 * 86_400),
            Self::NextLocalTime { .. } => None,
        }
    }

    /// In words ("3 days", "at the next 09:00 in the profile's time zone").
    pub fn words(self) -> String {
        let n = |n: u32, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
        match self {
            Self::None => "no delay".into(),
            Self::Minutes(m) => n(m, "minute"),
            Self::Hours(h) => n(h, "hour"),
            Self::Days(d) => n(d, "day"),
            Self::Weeks(w) => n(w, "week"),
            Self::NextLocalTime { hour, minute } => {
                format!("at the next {hour:02}:{minute:02} in the profile's time zone")
            }
        }
    }
}

/// Whether a profile may get the follow-up again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule", content = "days")]
pub enum Reeligibility {
    /// Once ever.
    #[default]
    Once,
    /// Again once `N` days have passed since the last one.
    AfterDays(u32),
    /// Every time it is triggered.
    EveryTime,
}

/// The form of an action-triggered campaign (its dates, status and publication are the
/// campaign's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectorForm {
    pub description: String,
    /// OR-ed: any of them triggers.
    pub triggers: Vec<TriggerRule>,
    pub delay: Delay,
    pub exceptions: Vec<ExceptionRule>,
    /// Who gets it, checked when it is sent (an empty `all`: every profile).
    pub filter: Rule,
    pub reeligibility: Reeligibility,
    pub channel: Channel,
    /// The credential it sends with (`None`: the channel's default).
    pub credential: Option<String>,
    /// The SMS configuration of an SMS follow-up, when it names one.
    pub configuration: Option<String>,
    pub message: Message,
}

impl Default for ConnectorForm {
    fn default() -> Self {
        Self {
            description: String::new(),
            triggers: vec![TriggerRule::default()],
            delay: Delay::default(),
            exceptions: Vec::new(),
            filter: Rule::everyone(),
            reeligibility: Reeligibility::default(),
            channel: Channel::Email,
            credential: None,
            configuration: None,
            message: Message::default(),
        }
    }
}

/// What the message may use of its trigger: `{{trigger.campaign}}` (the source campaign's
/// name), `{{trigger.interaction}}`, `{{trigger.alias}}` (the link alias, when one), and
/// `{{trigger.at}}` (when it happened, RFC 3339).
pub const TRIGGER_FIELDS: [&str; 4] = ["campaign", "interaction", "alias", "at"];

/// Where a pending send is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingState {
    /// Waiting for its due time.
    Waiting,
    /// Its message is in the ledger (sent, or being sent).
    Fired,
    /// It will not be sent; the reason says why.
    Cancelled,
}

impl PendingState {
    pub const ALL: [Self; 3] = [Self::Waiting, Self::Fired, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Fired => "fired",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A profile waiting for (or having had) a connector's message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PendingSend {
    pub id: i64,
    pub connector_id: i64,
    pub connector: String,
    pub profile: String,
    /// The trigger event: what it was, on which campaign, when.
    pub trigger: String,
    pub trigger_event: i64,
    pub trigger_at: jiff::Timestamp,
    /// `None` until the profile's local time is worked out.
    pub due_at: Option<jiff::Timestamp>,
    pub state: PendingState,
    /// Why it was cancelled, in words.
    pub reason: Option<String>,
    /// Its ledger row, once fired.
    pub ledger_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interaction_is_read_back_from_its_event() {
        for i in Interaction::ALL.into_iter().filter(|i| *i != Interaction::EmailAliasClicked) {
            for (kind, channel) in i.stored() {
                assert_eq!(Interaction::of_event(kind, *channel), Some(i), "{i:?}");
            }
        }
        assert_eq!(Interaction::of_event("push_opened", Some(Channel::Push)), Some(Interaction::PushOpenedDirectly));
        assert_eq!(Interaction::of_event("sent", Some(Channel::Email)), None);
    }

    #[test]
    fn delays_in_seconds_and_words() {
        assert_eq!(Delay::Weeks(1).seconds(), Some(604_800));
        assert_eq!(Delay::NextLocalTime { hour: 9, minute: 0 }.seconds(), None);
        assert_eq!(Delay::Days(1).words(), "1 day");
        assert_eq!(Delay::Hours(3).words(), "3 hours");
    }
}
