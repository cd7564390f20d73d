//! The audience engine: a canvas of activities becomes SQL over the workspace's customer data,
//! and every transition gets an exact count.
//!
//! [`validate`] checks a canvas against the data model and works out what flows on each
//! transition; [`compile`] turns it into SQL statements (sea-query, dialect chosen at run
//! time, user values always bound); [`run_count`] executes them on a connection, one keyed
//! work table per transition, and counts each. Nothing here knows about the UI or the runtime.

mod browse;
mod compile;
mod enrich_sql;
mod expr;
mod fold;
mod functions;
mod instants;
mod linked_facts;
mod options;
mod ports;
pub mod reconcile;
mod run;
mod session_rows;
mod shuffle;
mod validate;
mod wiring;

pub use browse::BrowseSql;
pub use compile::{
    CompileOptions, CompiledControl, CompiledRun, CompiledSave, CompiledSend, CompiledStep, CompiledTransition,
    CountedAs, FACT_PREFIX, RankedSlice, Shuffle, SqlStatement, compile_with,
};
pub use fold::fold;
pub use functions::register_functions;
pub use ports::{InputPort, inputs, open_transition, outputs, with_open_outputs};
pub use run::{
    ActivityReport, CountReport, CountSession, SendCount, TransitionCount, exclusion_label, run_count, sqlite_value,
};
pub use session_rows::display_value;
pub use shuffle::{mix, rank};
pub use validate::{
    Analysis, Flow, PERCENT_DECIMALS, WorkColumn, address_namespace, campaign_time_zone, message_problems,
    profile_entity, validate,
};
pub use wiring::{WireProblem, WireRefusal, check_wire};

use std::fmt;

/// The SQL dialect to emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// What a canvas's counts depend on in the canvas itself, hashed: everything but where its
/// activities sit on screen. Equal keys (with the same data version), equal counts. `None`
/// when the canvas cannot be written out (then nothing is cached for it).
pub fn count_key(canvas: &crate::model::Canvas) -> Option<String> {
    use sha2::{Digest, Sha256};
    // The same canvas whatever the order its activities and transitions are listed in.
    let mut placed = canvas.clone();
    for a in &mut placed.activities {
        a.position = [0.0, 0.0];
    }
    placed.activities.sort_by(|a, b| a.id.cmp(&b.id));
    placed.transitions.sort_by(|a, b| a.id.cmp(&b.id));
    let json = serde_json::to_string(&placed).ok()?;
    Some(Sha256::digest(json.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect())
}

/// At most this many activities on one canvas.
pub const MAX_ACTIVITIES: usize = 500;
/// At most this many channel activities on one canvas.
pub const MAX_CHANNELS: usize = 10;

/// Something wrong with a canvas, tied to the activity and parameter it concerns.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// The activity's id, when the problem belongs to one.
    pub activity: Option<String>,
    /// The activity's label as the marketer named it.
    pub label: Option<String>,
    /// The parameter concerned (`rule`, `columns[2]`, …).
    pub parameter: Option<String>,
    pub message: String,
    /// Set when the problem is about the populations a transition brings (see
    /// [`wiring::check_wire`]).
    #[serde(default)]
    pub wiring: Option<WireProblem>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.activity, &self.label) {
            (Some(id), Some(label)) => write!(f, "\u{201c}{label}\u{201d} ({id})")?,
            (Some(id), None) => write!(f, "{id}")?,
            _ => write!(f, "The canvas")?,
        }
        if let Some(p) = &self.parameter {
            write!(f, ", {p}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A [`RuleError::Unfit`] with a message made as `format!` makes it.
macro_rules! unfit {
    ($($arg:tt)*) => {
        $crate::audience::RuleError::Unfit(format!($($arg)*))
    };
}
pub(crate) use unfit;

/// Why a rule or an activity cannot become SQL: in a marketer's words what the canvas asks
/// that cannot work, or (never the user's doing) SQL the engine could not build. The compiler
/// and the checks turn it into a [`Problem`] of the activity.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// An unknown entity or column, a value of the wrong type, entities that are not linked….
    #[error("{0}")]
    Unfit(String),
    #[error("internal error while building SQL: {0}")]
    Sql(String),
}

impl From<String> for RuleError {
    fn from(why: String) -> Self {
        Self::Unfit(why)
    }
}

impl From<&str> for RuleError {
    fn from(why: &str) -> Self {
        Self::Unfit(why.to_owned())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AudienceError {
    #[error("{}", list(.0))]
    Invalid(Vec<Problem>),
    #[error("the count was cancelled")]
    Cancelled,
    #[error("the workspace database failed while counting: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A Reconciliation's file could not be read while loading it.
    #[error(transparent)]
    File(#[from] reconcile::FileError),
    /// Rows were asked of a transition the last count did not reach.
    #[error("this transition has not been counted yet")]
    NotCounted,
    /// An export could not be written (a full disk, a closed pipe).
    #[error("the file could not be written: {0}")]
    Write(String),
    #[error("the audience could not be saved: {0}")]
    Save(String),
}

impl AudienceError {
    /// The problems of an invalid canvas (empty for other errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid(p) => p,
            _ => &[],
        }
    }
}

fn list(problems: &[Problem]) -> String {
    match problems {
        [one] => one.to_string(),
        many => {
            let mut s = format!("{} problems:", many.len());
            for p in many {
                s.push_str("\n- ");
                s.push_str(&p.to_string());
            }
            s
        }
    }
}
