use serde::{Deserialize, Serialize};

/// The type of a column of a customer table, as the audience engine and editors see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Integer,
    Decimal,
    Text,
    Boolean,
    /// A calendar date stored as `YYYY-MM-DD`.
    Date,
    /// An instant stored as RFC 3339 in UTC (`YYYY-MM-DDTHH:MM:SSZ`).
    Timestamp,
}

impl ColumnType {
    pub const ALL: [Self; 6] = [Self::Integer, Self::Decimal, Self::Text, Self::Boolean, Self::Date, Self::Timestamp];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Integer => "integer",
            Self::Decimal => "decimal",
            Self::Text => "text",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Timestamp => "timestamp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The SQLite column type used when creating a customer table of this type.
    pub fn sqlite_type(self) -> &'static str {
        match self {
            Self::Integer | Self::Boolean => "INTEGER",
            Self::Decimal => "REAL",
            Self::Text | Self::Date | Self::Timestamp => "TEXT",
        }
    }
}

/// A column of an entity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Its name in the table, also what canvases and templates refer to: it never changes.
    pub name: String,
    /// What marketers pick it by (changed freely: canvases keep working).
    pub label: String,
    pub column_type: ColumnType,
    /// Not offered to marketers in the canvas's pickers (a canvas that already uses it keeps
    /// working, and it still shows there).
    #[serde(default)]
    pub hidden: bool,
    /// What it holds, in a sentence, shown where it is picked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl Column {
    /// A shown column with no description.
    pub fn new(name: impl Into<String>, label: impl Into<String>, column_type: ColumnType) -> Self {
        Self { name: name.into(), label: label.into(), column_type, hidden: false, description: String::new() }
    }
}

/// What marketers see of a column, as the Data screen edits it.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnLook {
    pub name: String,
    pub label: String,
    pub hidden: bool,
    pub description: String,
}

/// A customer table (profiles, bookings, …) with a single integer primary key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// The table name, also the entity's identifier in canvases and templates.
    pub name: String,
    pub label: String,
    pub primary_key: String,
    pub columns: Vec<Column>,
}

impl Entity {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A 1:N link: each row of `child` points to at most one row of `parent` through
/// `child.foreign_key = parent.primary_key`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The name used from the child side (`booking.profile`).
    pub name: String,
    pub child: String,
    pub foreign_key: String,
    pub parent: String,
}

impl Link {
    /// The name a link through `foreign_key` takes: the column without its `_id`
    /// (`profile_id` → `profile`).
    pub fn name_for(foreign_key: &str) -> String {
        foreign_key.strip_suffix("_id").unwrap_or(foreign_key).to_owned()
    }
}

/// Maps an identity kind (email, phone, crm_id) to a column of the profile entity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdentityNamespace {
    pub name: String,
    pub entity: String,
    pub column: String,
}

/// Everything the workspace declares about its customer data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataModel {
    pub entities: Vec<Entity>,
    pub links: Vec<Link>,
    pub identity_namespaces: Vec<IdentityNamespace>,
}

/// The entity the followers of the X services are kept in (made by their first
/// synchronization): what an X direct message goes to.
pub const VISITORS: &str = "visitors";

impl DataModel {
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.name == name)
    }

    /// The entity `channel`'s messages go to: the visitors for an X direct message, else the
    /// profiles.
    pub fn recipient_entity(&self, channel: super::Channel) -> Option<&str> {
        match channel {
            super::Channel::XDm => self.entity(VISITORS).map(|e| e.name.as_str()),
            _ => self.profile_entity(),
        }
    }

    /// The entity messages are addressed to: the one the identity namespaces point at.
    pub fn profile_entity(&self) -> Option<&str> {
        self.identity_namespaces.first().map(|n| n.entity.as_str())
    }

    /// The links in which `entity` takes part, on either side.
    pub fn links_of<'a>(&'a self, entity: &'a str) -> impl Iterator<Item = &'a Link> + 'a {
        self.links.iter().filter(move |l| l.child == entity || l.parent == entity)
    }
}

/// An entity with the number of rows its table holds now, for the Data screen.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityOverview {
    pub entity: Entity,
    /// `None` when the declared table does not exist in the workspace.
    pub row_count: Option<u64>,
}

/// The whole data model with row counts, as the Data screen shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataOverview {
    pub entities: Vec<EntityOverview>,
    pub links: Vec<Link>,
    /// For each link (same order), the child rows whose key points at no parent row
    /// (`None` where a table is missing). Such rows never join a population.
    pub dangling: Vec<Option<u64>>,
    pub identity_namespaces: Vec<IdentityNamespace>,
    /// The workspace holds the demo data (which can be removed to start on one's own).
    pub demo: bool,
}

impl DataOverview {
    /// The data model it shows.
    pub fn model(&self) -> DataModel {
        DataModel {
            entities: self.entities.iter().map(|e| e.entity.clone()).collect(),
            links: self.links.clone(),
            identity_namespaces: self.identity_namespaces.clone(),
        }
    }
}

/// One value of a customer-table row, as loaders hand it to the store.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
}

impl From<i64> for Cell<'_> {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<f64> for Cell<'_> {
    fn from(v: f64) -> Self {
        Self::Real(v)
    }
}

impl From<bool> for Cell<'_> {
    fn from(v: bool) -> Self {
        Self::Int(i64::from(v))
    }
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(v: &'a str) -> Self {
        Self::Text(v)
    }
}

impl<'a> From<&'a String> for Cell<'a> {
    fn from(v: &'a String) -> Self {
        Self::Text(v)
    }
}

impl<'a, T: Into<Cell<'a>>> From<Option<T>> for Cell<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// An index on a customer table, leading with its first column.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexSpec {
    pub entity: &'static str,
    pub columns: &'static [&'static str],
}
