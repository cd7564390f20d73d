//! Browsing customer data: which rows of an entity to show (a search, a rule, a sort), a page
//! of them, and everything known about one row (its linked rows, the messages sent to it and
//! what it did with them).

use super::{Operand, Rule};

/// Which rows of an entity to show, and in what order.
#[derive(Clone, Debug, PartialEq)]
pub struct BrowseQuery {
    pub entity: String,
    /// Words looked for in every text column (any case), or a key.
    pub search: String,
    /// The rows must match this (an empty `all`: every row).
    pub filter: Rule,
    /// `None`: by key.
    pub sort: Option<Sort>,
    /// When given, the search looks for these text columns *starting with* the words (ASCII
    /// letters in any case), through their index, instead of every text column containing them:
    /// as fast on a million rows as on a hundred (the visitors: username, full name).
    pub search_by_prefix: Vec<String>,
}

impl BrowseQuery {
    /// Every row of `entity`, by key.
    pub fn new(entity: &str) -> Self {
        Self {
            entity: entity.to_owned(),
            search: String::new(),
            filter: Rule::everyone(),
            sort: None,
            search_by_prefix: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sort {
    pub column: String,
    pub descending: bool,
}

/// Where a page starts: just after the row with this sort value (`Operand::None` when it has
/// none) and this key.
#[derive(Clone, Debug, PartialEq)]
pub struct Cursor {
    pub value: Operand,
    pub key: i64,
}

/// Where a page starts.
#[derive(Clone, Debug, PartialEq)]
pub enum PageStart {
    /// After the last row of the page before (keyset: as fast deep down as on top).
    After(Cursor),
    /// At this many rows from the top (a jump to rows never shown: the row is found once,
    /// the pages after it are keyset again).
    Offset(u64),
}

/// One row as people read it: its key and its values in the entity's column order (empty for
/// no value, yes / no for booleans).
#[derive(Clone, Debug, PartialEq)]
pub struct BrowseRow {
    pub key: i64,
    pub cells: Vec<String>,
}

/// A page of rows and where the next one starts (`None`: this was the last).
#[derive(Clone, Debug, PartialEq)]
pub struct BrowsePage {
    pub rows: Vec<BrowseRow>,
    pub next: Option<Cursor>,
}

/// The rows of another entity linked to one row.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkedRows {
    /// The other entity's name.
    pub entity: String,
    /// Its column labels, in order.
    pub columns: Vec<String>,
    /// Which of them is its key.
    pub key_column: usize,
    pub rows: Vec<BrowseRow>,
    /// How many there are in all (more than `rows` holds when there are many).
    pub total: u64,
}

/// A message the ledger holds for a row (of the profile entity).
#[derive(Clone, Debug, PartialEq)]
pub struct SentMessage {
    pub campaign: Option<String>,
    pub channel: String,
    pub address: String,
    pub status: String,
    /// Why it was not sent, when it was not.
    pub reason: Option<String>,
    pub at: String,
    pub proof: bool,
}

/// An interaction event of a row (sent, delivered, opened, clicked, …).
#[derive(Clone, Debug, PartialEq)]
pub struct RowEvent {
    pub kind: String,
    pub at: String,
    pub campaign: Option<String>,
}

/// Everything known about one row.
#[derive(Clone, Debug, PartialEq)]
pub struct RowDetail {
    pub entity: String,
    pub key: i64,
    /// (column label, value) in column order; empty when the row is gone.
    pub fields: Vec<(String, String)>,
    /// The linked rows of each link, in the data model's order: children (many) and the
    /// parent (one).
    pub linked: Vec<LinkedRows>,
    /// The newest messages first (the profile entity only).
    pub messages: Vec<SentMessage>,
    pub messages_total: u64,
    /// The newest events first (the profile entity only).
    pub events: Vec<RowEvent>,
    pub events_total: u64,
}
