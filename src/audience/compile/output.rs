//! What compiling a canvas gives: its steps (SQL statements per activity), where each
//! transition's population is, and the work a run does besides counting.

use sea_query::Value;

use super::super::Dialect;
use super::super::reconcile::CsvLoad;
use super::super::validate::Flow;

/// One SQL statement, with `?`/`$n` placeholders and the values to bind.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlStatement {
    pub sql: String,
    pub values: Vec<Value>,
    /// The same statement with the values written in, for people to read.
    pub display: String,
}

/// The statements of one activity, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledStep {
    pub activity: String,
    /// A hash of everything the result depends on (parameters, inputs, data version, clock):
    /// equal keys, equal work tables, so a recount can reuse them.
    pub key: String,
    /// The work tables this step creates.
    pub tables: Vec<String>,
    pub statements: Vec<SqlStatement>,
    /// A file to load once the statements ran (a Reconciliation's CSV file).
    pub load: Option<CsvLoad>,
    /// A limited subset's table, which can be remade from the same subset's at another limit.
    pub slice: Option<super::RankedSlice>,
    /// A ranking the count makes itself once the statements ran.
    pub shuffle: Option<Shuffle>,
}

/// A ranking in a seeded random order that a count makes itself (SQLite): the keys `keys`
/// selects, ordered by their [`crate::audience::mix`] with `seed` then by key, inserted in that
/// order into `table` (`(r INTEGER PRIMARY KEY, key)`, empty), so that row r is rank r. The
/// order `ORDER BY cc_mix(key, seed), key` gives, sorted in memory: SQLite's sorter takes
/// 1.3 µs a row at 658k rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Shuffle {
    pub table: String,
    pub keys: SqlStatement,
    pub seed: u64,
}

/// A Save audience activity's work, done when the campaign runs (never in count mode).
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledSave {
    pub activity: String,
    pub audience: String,
    pub dimension: String,
    /// The work table holding the keys to save (`None` when nothing reaches the activity).
    pub table: Option<String>,
}

/// Where a transition's population is.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledTransition {
    pub transition: String,
    /// The work table, `None` for a transition that only starts an activity.
    pub table: Option<String>,
    pub flow: Flow,
}

/// A canvas ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledRun {
    pub dialect: Dialect,
    pub steps: Vec<CompiledStep>,
    pub transitions: Vec<CompiledTransition>,
    /// Every work table created (dropped when the run ends).
    pub tables: Vec<String>,
    /// The audiences to save when the campaign runs.
    pub saves: Vec<CompiledSave>,
    /// The control groups to record when the campaign runs.
    pub control_groups: Vec<CompiledControl>,
    /// The channel activities: what each sends to when the campaign runs.
    pub sends: Vec<CompiledSend>,
    /// Whether a count keeps in the workspace the checks of addresses it computes
    /// (`CompileOptions::kept_facts`, SQLite only), for the next to read them.
    pub keeps_checks: bool,
    /// Work tables whose row count follows from other tables' counts.
    pub counted_as: Vec<CountedAs>,
}

/// A work table whose row count is `whole`'s less those of `parts`, known before it (the
/// table holds every row of `whole` that no part holds; the parts share no row, and each
/// holds rows of `whole` only): a count does not read its rows.
#[derive(Clone, Debug, PartialEq)]
pub struct CountedAs {
    pub table: String,
    pub whole: String,
    pub parts: Vec<String>,
}

/// A channel activity's population: the work table arriving on its input.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledSend {
    pub activity: String,
    /// The entity of the work table's keys.
    pub dimension: String,
    pub table: String,
    /// The enrichment columns the table carries.
    pub columns: Vec<String>,
    /// The work table of the recipients a message can reach (its output).
    pub reachable: String,
    /// The work table of the recipients it cannot reach, with the reason's code (`no_address`,
    /// `invalid_address`, `not_opted_in`, `no_profile`) as their segment; `None` when the
    /// channel excludes nobody.
    pub excluded: Option<String>,
}

impl CompiledSend {
    /// The send of `activity` to every row of work table `table` (of `entity`, carrying
    /// `flow`'s columns): no one is excluded.
    pub(super) fn everyone(activity: &str, entity: &crate::model::Entity, table: &str, flow: &super::Flow) -> Self {
        Self {
            activity: activity.to_owned(),
            dimension: entity.name.clone(),
            table: table.to_owned(),
            columns: flow.columns.iter().map(|c| c.alias.clone()).collect(),
            reachable: table.to_owned(),
            excluded: None,
        }
    }
}

/// A Control group activity's held-out rows, recorded as "enrolled in control group"
/// interaction events when the campaign runs (never in count mode).
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledControl {
    pub activity: String,
    pub dimension: String,
    /// The dimension is the profiles entity (the key is then the profile's).
    pub is_profile: bool,
    pub table: String,
}
