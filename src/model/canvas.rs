//! The orchestrated-campaign canvas: activities joined by transitions. Stored as versioned
//! JSON with the campaign. Every transition that carries a population has a work table whose
//! rows are keys of the current targeting dimension.

use serde::{Deserialize, Serialize};

use super::Channel;

/// The JSON format version written by this build.
pub const CANVAS_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Canvas {
    pub version: u32,
    pub activities: Vec<Activity>,
    pub transitions: Vec<Transition>,
}

impl Default for Canvas {
    fn default() -> Self {
        Self { version: CANVAS_VERSION, activities: Vec::new(), transitions: Vec::new() }
    }
}

impl Canvas {
    pub fn activity(&self, id: &str) -> Option<&Activity> {
        self.activities.iter().find(|a| a.id == id)
    }

    /// Transitions arriving at `activity`.
    pub fn inbound<'a>(&'a self, activity: &'a str) -> impl Iterator<Item = &'a Transition> + 'a {
        self.transitions.iter().filter(move |t| t.to == activity)
    }

    /// Transitions leaving `activity`.
    pub fn outbound<'a>(&'a self, activity: &'a str) -> impl Iterator<Item = &'a Transition> + 'a {
        self.transitions.iter().filter(move |t| t.from == activity)
    }

    /// This canvas without the activities in `ids` and everything downstream of them.
    pub fn without_downstream_of(&self, ids: &std::collections::HashSet<String>) -> Canvas {
        let mut gone = ids.clone();
        loop {
            let more: Vec<String> = self
                .transitions
                .iter()
                .filter(|t| gone.contains(&t.from) && !gone.contains(&t.to))
                .map(|t| t.to.clone())
                .collect();
            if more.is_empty() {
                break;
            }
            gone.extend(more);
        }
        Canvas {
            version: self.version,
            activities: self.activities.iter().filter(|a| !gone.contains(&a.id)).cloned().collect(),
            transitions: self
                .transitions
                .iter()
                .filter(|t| !gone.contains(&t.from) && !gone.contains(&t.to))
                .cloned()
                .collect(),
        }
    }
}

/// One node of the canvas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Unique within the canvas; error messages and work tables refer to it.
    pub id: String,
    /// What the marketer calls it (shown on the node).
    pub label: String,
    pub kind: ActivityKind,
    /// Position on the canvas (graph space).
    #[serde(default)]
    pub position: [f32; 2],
}

/// A wire from an activity's output to another activity's input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub id: String,
    pub from: String,
    pub output: String,
    pub to: String,
    pub input: String,
}

/// An activity and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActivityKind {
    BuildAudience {
        /// The entity targeted (profiles, bookings, …).
        dimension: String,
        rule: Rule,
        /// Emit the outbound transition even when nobody matches.
        #[serde(default)]
        emit_when_empty: bool,
    },
    ReadAudience {
        audience: String,
    },
    SaveAudience {
        audience: String,
    },
    Combine {
        mode: CombineMode,
        /// For exclusion: the transition id whose population the others are removed from.
        #[serde(default)]
        primary: Option<String>,
        #[serde(default)]
        complement: bool,
    },
    Enrichment {
        columns: Vec<EnrichColumn>,
    },
    Split {
        subsets: Vec<Subset>,
        #[serde(default)]
        complement: bool,
        #[serde(default)]
        skip_empty: bool,
        /// Off: a row goes to the first subset it matches.
        #[serde(default)]
        allow_overlap: bool,
    },
    Deduplication {
        /// Rows with equal values in these columns (of the dimension) are duplicates.
        columns: Vec<String>,
        /// How many of each group to keep.
        #[serde(default = "one")]
        keep: u32,
        method: DedupMethod,
        #[serde(default)]
        output_removed: bool,
    },
    ChangeDimension {
        /// The entity to switch to; a link must join it to the current dimension.
        to: String,
    },
    Reconciliation {
        file: String,
        entity: String,
        rules: Vec<ReconcileRule>,
        #[serde(default)]
        keep_unreconciled: bool,
    },
    ControlGroup {
        size: Limit,
        seed: u64,
    },
    Test {
        conditions: Vec<TestCondition>,
    },
    Fork {
        outputs: Vec<String>,
    },
    AndJoin {
        /// The transition whose population continues.
        primary: Option<String>,
    },
    Wait {
        wait: WaitFor,
    },
    Scheduler {
        schedule: Schedule,
        /// First day launches may happen, `YYYY-MM-DD`; open when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        valid_from: Option<String>,
        /// Last day launches may happen, `YYYY-MM-DD` (inclusive); open when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        valid_until: Option<String>,
        /// IANA time zone of the times ("Europe/Paris"); the computer's when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timezone: Option<String>,
    },
    End,
    Channel {
        channel: Channel,
        /// The credential name to send with (the workspace's default when empty).
        #[serde(default)]
        credential: Option<String>,
        /// SMS: the configuration to send with (its credential, sender and keywords); when it
        /// names one, `credential` is not used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        configuration: Option<String>,
        #[serde(default)]
        per: Recipient,
        /// What is sent (personalized per recipient).
        #[serde(default)]
        message: Message,
    },
}

fn one() -> u32 {
    1
}

impl ActivityKind {
    /// The name shown in palettes and messages.
    pub fn label(&self) -> &'static str {
        match self {
            Self::BuildAudience { .. } => "Build audience",
            Self::ReadAudience { .. } => "Read audience",
            Self::SaveAudience { .. } => "Save audience",
            Self::Combine { .. } => "Combine",
            Self::Enrichment { .. } => "Enrichment",
            Self::Split { .. } => "Split",
            Self::Deduplication { .. } => "Deduplication",
            Self::ChangeDimension { .. } => "Change dimension",
            Self::Reconciliation { .. } => "Reconciliation",
            Self::ControlGroup { .. } => "Control group",
            Self::Test { .. } => "Test",
            Self::Fork { .. } => "Fork",
            Self::AndJoin { .. } => "And-join",
            Self::Wait { .. } => "Wait",
            Self::Scheduler { .. } => "Scheduler",
            Self::End => "End",
            Self::Channel { channel, .. } => match channel {
                Channel::Email => "Email",
                Channel::Sms => "SMS",
                Channel::Push => "Push",
                Channel::DirectMail => "Direct mail",
                Channel::X => "X post",
                Channel::Webhook => "Webhook",
                Channel::XDm => "X direct message",
            },
        }
    }
}

/// A tree of conditions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Rule {
    /// Every child holds (an empty `all` holds for every row).
    All {
        rules: Vec<Rule>,
    },
    /// At least one child holds (an empty `any` holds for none).
    Any {
        rules: Vec<Rule>,
    },
    Not {
        rule: Box<Rule>,
    },
    /// A condition on a column of the current entity.
    Column {
        column: String,
        op: Op,
        #[serde(default)]
        value: Operand,
    },
    /// A condition on the rows of a linked entity (1:N from this entity, or N:1 to a parent).
    Linked {
        entity: String,
        condition: LinkedCondition,
    },
}

impl Rule {
    /// The rule that every row satisfies.
    pub fn everyone() -> Self {
        Self::All { rules: Vec::new() }
    }
}

/// A condition on linked rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LinkedCondition {
    /// At least one linked row satisfies `rule`.
    Exists { rule: Box<Rule> },
    /// No linked row satisfies `rule`.
    NotExists { rule: Box<Rule> },
    /// An aggregate over the linked rows that satisfy `filter`, compared to a value.
    Aggregate {
        function: Aggregate,
        #[serde(default)]
        column: Option<String>,
        filter: Box<Rule>,
        op: Op,
        value: Operand,
    },
    /// The linked row with the greatest `order_by`: its `column` compared to a value.
    MostRecent { order_by: String, column: String, op: Op, value: Operand },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Between,
    In,
    NotIn,
    Contains,
    StartsWith,
    IsEmpty,
    IsNotEmpty,
    IsTrue,
    IsFalse,
    /// Dates: within the last N units (up to now / today).
    InLast,
    /// Dates: within the next N units (from now / today).
    InNext,
    Before,
    After,
}

impl Op {
    pub fn label(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "≠",
            Self::Lt => "<",
            Self::Le => "≤",
            Self::Gt => ">",
            Self::Ge => "≥",
            Self::Between => "between",
            Self::In => "in",
            Self::NotIn => "not in",
            Self::Contains => "contains",
            Self::StartsWith => "starts with",
            Self::IsEmpty => "is empty",
            Self::IsNotEmpty => "is not empty",
            Self::IsTrue => "is true",
            Self::IsFalse => "is false",
            Self::InLast => "in the last",
            Self::InNext => "in the next",
            Self::Before => "before",
            Self::After => "after",
        }
    }
}

/// The right-hand side of a condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Operand {
    #[default]
    None,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
    /// `YYYY-MM-DD` (or an RFC 3339 instant for timestamps).
    Date(String),
    List(Vec<Operand>),
    Range(Box<Operand>, Box<Operand>),
    /// For "in the last / next".
    Period {
        amount: i64,
        unit: PeriodUnit,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    Days,
    Weeks,
    Months,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CombineMode {
    Union,
    Intersection,
    Exclusion,
}

/// A column added by an enrichment, usable as `{{enrichment.<alias>}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnrichColumn {
    pub alias: String,
    pub source: EnrichSource,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EnrichSource {
    /// A column of the dimension itself, or of a parent reached through an N:1 link.
    Attribute { entity: String, column: String },
    /// An aggregate over the linked rows (1:N) that satisfy `filter`.
    Aggregate {
        entity: String,
        function: Aggregate,
        #[serde(default)]
        column: Option<String>,
        filter: Rule,
    },
    /// `column` of the `rank`-th most recent linked row by `order_by` (rank 1 = latest).
    MostRecent {
        entity: String,
        order_by: String,
        column: String,
        #[serde(default = "one")]
        rank: u32,
    },
}

/// One subset of a split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Subset {
    pub label: String,
    pub filter: Rule,
    #[serde(default)]
    pub limit: Option<Limit>,
    /// How the limit picks rows.
    #[serde(default)]
    pub pick: Pick,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Limit {
    Count(u64),
    Percent(f64),
}

/// How limited subsets choose their rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Pick {
    /// Seeded random sampling: the same seed picks the same rows.
    Random { seed: u64 },
    /// The first rows by a column of the dimension.
    Sorted { column: String, descending: bool },
}

impl Default for Pick {
    fn default() -> Self {
        Self::Random { seed: 1 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DedupMethod {
    /// Keep the rows with the smallest (or largest) value of a column.
    KeepBy {
        column: String,
        largest: bool,
    },
    /// Keep the rows where `column` is not empty first.
    FirstNonEmpty {
        column: String,
    },
    Random {
        seed: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconcileRule {
    pub file_column: String,
    pub entity_column: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestCondition {
    pub label: String,
    pub check: TestCheck,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TestCheck {
    /// The inbound population's count compared to a number.
    Count {
        op: Op,
        value: u64,
    },
    Flag {
        value: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WaitFor {
    Duration { minutes: u64 },
    Until { at: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Schedule {
    /// Once, at `YYYY-MM-DD HH:MM`.
    Once { at: String },
    /// Every day at each of `times` (`HH:MM`): once or several times a day.
    Daily { times: Vec<String> },
    /// On each of `days` (mon … sun) at `time`.
    Weekly { days: Vec<String>, time: String },
    /// On `day` (1–31; the last day in shorter months) at `time`.
    Monthly { day: u8, time: String },
    /// A five-field cron expression (minute hour day-of-month month day-of-week).
    Cron { expression: String },
}

/// The content of a channel activity: templates personalized per recipient
/// (`{{profile.first_name}}`, …; see `personalize`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Email subject, push title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
    /// SMS and push text, the email's text part, the X post, the webhook's JSON body.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// The email's HTML part (values are HTML-escaped).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub html: String,
    /// Direct mail: the columns of the extraction file, as variables (`profile.last_name`,
    /// `enrichment.stays`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

/// Who a channel activity sends to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// One message per profile, whatever the dimension.
    #[default]
    Profile,
    /// One message per row of the dimension (per booking, per address, …).
    SecondaryEntity,
}
