//! What to do with a file: which entity it fills, each file column's target column and type,
//! the key, links to other entities, identity namespaces, and the mode. Guessed from the file
//! and the data model, edited by the user, saved by name for the next load; checked before
//! anything is read, and turned into the data model the import leaves behind.

use serde::{Deserialize, Serialize};

use super::source::Sample;
use super::values::{DateFormat, guess};
use crate::model::{Column, ColumnType, DataModel, Entity, IdentityNamespace, Link, is_identifier};

/// What happens to the rows already in the entity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Add the file's rows; a key that exists already is refused with its line.
    #[default]
    Insert,
    /// Add new keys, change the rows of keys that exist.
    Upsert,
    /// The file's rows replace all the entity's rows.
    Replace,
}

impl Mode {
    pub const ALL: [Self; 3] = [Self::Insert, Self::Upsert, Self::Replace];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Upsert => "upsert",
            Self::Replace => "replace",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Insert => "Add new rows",
            Self::Upsert => "Add new rows, update existing ones (by key)",
            Self::Replace => "Replace all rows",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s.trim().to_ascii_lowercase())
    }
}

/// The identity namespaces a column can be: how the app finds a person's address.
pub const NAMESPACES: [(&str, &str); 4] =
    [("email", "Email address"), ("phone", "Phone number"), ("crm_id", "CRM id"), ("x_handle", "X handle")];

/// One file column: where it goes and as what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnMapping {
    /// The file's name for it (its header, or `column_3`).
    pub source: String,
    /// The entity's column it fills; `None`: skipped.
    pub target: Option<String>,
    /// What marketers see (a new column's label).
    pub label: String,
    pub column_type: ColumnType,
    /// How dates and times are written (dates and timestamps only).
    #[serde(default)]
    pub date_format: DateFormat,
    /// The entity this column points to (a foreign key to its key), if any.
    #[serde(default)]
    pub link: Option<String>,
    /// The identity namespace this column holds (email, phone, crm_id, x_handle), if any.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// The key of the entity's rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Key {
    /// A file column (its target) holds whole numbers, one per row.
    Column(String),
    /// The rows are numbered (after the largest key already there), in a column of this name.
    Numbered(String),
}

impl Key {
    /// The entity's key column.
    pub fn column(&self) -> &str {
        match self {
            Self::Column(c) | Self::Numbered(c) => c,
        }
    }
}

/// How a file goes into the workspace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// The entity filled (an existing one, or a new one by this name).
    pub entity: String,
    /// A new entity's label.
    pub entity_label: String,
    pub columns: Vec<ColumnMapping>,
    pub key: Key,
    pub mode: Mode,
    /// With update: an empty cell clears the value (else it keeps what is there).
    #[serde(default)]
    pub clear_empty: bool,
    /// The country of phone numbers written without `+` (ISO code: FR, US, GB…).
    #[serde(default = "default_country")]
    pub default_country: String,
}

fn default_country() -> String {
    "FR".to_owned()
}

/// A name as a table or column name: lower-case letters, digits and `_`, starting with a letter.
pub fn identifier(name: &str) -> String {
    let mut s: String = name
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        s.insert_str(0, "c_");
    }
    s.truncate(63);
    s
}

/// A label from a name: `first_name` → "First name".
pub fn label(name: &str) -> String {
    let words = name.trim().replace(['_', '-'], " ");
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// The namespace a column's name suggests.
fn namespace_of(name: &str) -> Option<&'static str> {
    match name {
        "email" | "e_mail" | "mail" | "email_address" => Some("email"),
        "phone" | "mobile" | "phone_number" | "mobile_phone" | "telephone" | "tel" | "cell" => Some("phone"),
        "crm_id" => Some("crm_id"),
        "x_handle" | "twitter" | "twitter_handle" => Some("x_handle"),
        _ => None,
    }
}

impl Mapping {
    /// What the file and the data model suggest for filling `entity`: columns by name (an
    /// existing column keeps its type), types from the sample, the key, links by `<entity>_id`
    /// names and namespaces by usual names.
    pub fn guess(sample: &Sample, model: &DataModel, entity: &str) -> Self {
        let entity = identifier(entity);
        let existing = model.entity(&entity);
        let mut columns: Vec<ColumnMapping> = Vec::new();
        for (i, source) in sample.columns.iter().enumerate() {
            let values: Vec<&str> = sample.rows.iter().map(|r| r.get(i).map_or("", String::as_str)).collect();
            let mut target = identifier(source);
            let mut n = 2;
            while columns.iter().any(|c| c.target.as_deref() == Some(&target)) {
                target = format!("{}_{n}", identifier(source));
                n += 1;
            }
            let (mut column_type, date_format) = guess(&values);
            if let Some(c) = existing.and_then(|e| e.column(&target)) {
                column_type = c.column_type;
            }
            let link = target
                .strip_suffix("_id")
                .and_then(|stem| {
                    model.entities.iter().find(|e| {
                        e.name != entity
                            && (e.name == stem || e.name == format!("{stem}s") || e.name == format!("{stem}es"))
                    })
                })
                .filter(|_| column_type == ColumnType::Integer)
                .map(|e| e.name.clone());
            let profile = model.identity_namespaces.first().map(|n| n.entity.as_str());
            let namespace = namespace_of(&target)
                .filter(|ns| {
                    profile.is_none_or(|p| p == entity)
                        && !model.identity_namespaces.iter().any(|n| n.name == *ns && n.entity != entity)
                })
                .map(str::to_owned);
            let label = existing.and_then(|e| e.column(&target)).map_or_else(|| label(source), |c| c.label.clone());
            columns.push(ColumnMapping {
                source: source.clone(),
                target: Some(target),
                label,
                column_type,
                date_format,
                link,
                namespace,
            });
        }
        let key = Self::guess_key(existing, &entity, &columns);
        // Rows of an entity that has some are updated by key, when the file has the key.
        let mode = if existing.is_some() && matches!(key, Key::Column(_)) { Mode::Upsert } else { Mode::Insert };
        if let Key::Column(k) = &key
            && let Some(c) = columns.iter_mut().find(|c| c.target.as_deref() == Some(k))
        {
            c.link = None;
        }
        Self {
            entity_label: existing.map_or_else(|| label(&entity), |e| e.label.clone()),
            entity,
            columns,
            key,
            mode,
            clear_empty: false,
            default_country: default_country(),
        }
    }

    /// The existing entity's key when the file has it; else `id` or `<entity>_id` when it
    /// holds whole numbers (a repeated or missing one is refused with its line); else
    /// numbered rows.
    fn guess_key(existing: Option<&Entity>, entity: &str, columns: &[ColumnMapping]) -> Key {
        let whole_numbers = |target: &str| {
            columns.iter().any(|c| c.target.as_deref() == Some(target) && c.column_type == ColumnType::Integer)
        };
        if let Some(e) = existing {
            return if columns.iter().any(|c| c.target.as_deref() == Some(e.primary_key.as_str())) {
                Key::Column(e.primary_key.clone())
            } else {
                Key::Numbered(e.primary_key.clone())
            };
        }
        let singular = entity.strip_suffix('s').unwrap_or(entity);
        for name in ["id".to_owned(), format!("{entity}_id"), format!("{singular}_id")] {
            if whole_numbers(&name) {
                return Key::Column(name);
            }
        }
        let taken = |n: &str| columns.iter().any(|c| c.target.as_deref() == Some(n));
        Key::Numbered(if taken("id") { format!("{singular}_key") } else { "id".to_owned() })
    }

    /// The mapped columns, in file order: (index in the file, mapping).
    pub fn mapped(&self) -> impl Iterator<Item = (usize, &ColumnMapping)> {
        self.columns.iter().enumerate().filter(|(_, c)| c.target.is_some())
    }

    /// Everything that keeps this mapping from working on `model`, in words; empty when it
    /// can run.
    pub fn problems(&self, model: &DataModel) -> Vec<String> {
        let mut out = Vec::new();
        if !is_identifier(&self.entity) || self.entity.starts_with("cc_") {
            out.push(format!(
                "\u{201c}{}\u{201d} cannot name an entity: use lower-case letters, digits and _, starting with a letter",
                self.entity
            ));
        }
        let existing = model.entity(&self.entity);
        let mut seen = std::collections::HashSet::new();
        for c in &self.columns {
            let Some(t) = &c.target else { continue };
            if !is_identifier(t) {
                out.push(format!(
                    "\u{201c}{t}\u{201d} (from {}) cannot name a column: use lower-case letters, digits and _",
                    c.source
                ));
            }
            if !seen.insert(t.as_str()) {
                out.push(format!("two file columns go to the column {t}: skip one or give it another name"));
            }
            if let Some(have) = existing.and_then(|e| e.column(t))
                && have.column_type != c.column_type
            {
                out.push(format!(
                    "{t} holds {} values in the workspace: read {} as {} too",
                    have.column_type.as_str(),
                    c.source,
                    have.column_type.as_str()
                ));
            }
            if let Some(parent) = &c.link {
                match model.entity(parent) {
                    // A file may link to itself (customers referred by customers).
                    None if *parent != self.entity => {
                        out.push(format!("{t} links to {parent}, which is not an entity of the workspace"));
                    }
                    _ if c.column_type != ColumnType::Integer => {
                        out.push(format!("{t} links to {parent}: it must hold whole numbers (keys)"));
                    }
                    _ => {}
                }
            }
            if let Some(ns) = &c.namespace {
                if !NAMESPACES.iter().any(|(n, _)| n == ns) {
                    out.push(format!("{ns} is not an identity namespace (email, phone, crm_id, x_handle)"));
                } else if let Some(other) =
                    model.identity_namespaces.iter().find(|n| n.name == *ns && n.entity != self.entity)
                {
                    out.push(format!(
                        "the {ns} identity is {}.{} already: people have one profile entity",
                        other.entity, other.column
                    ));
                } else if c.column_type != ColumnType::Text && ns != "crm_id" {
                    out.push(format!("{t} holds {ns}: read it as text"));
                }
            }
        }
        if self.columns.iter().filter(|c| c.target.is_some()).count() == 0 {
            out.push("no file column is imported: choose at least one".to_owned());
        }
        let key = self.key.column();
        match &self.key {
            Key::Column(k) => match self.columns.iter().find(|c| c.target.as_deref() == Some(k)) {
                None => out.push(format!("the key {k} is not a column of the file: choose one, or number the rows")),
                Some(c) if c.column_type != ColumnType::Integer => {
                    out.push(format!("the key {k} must hold whole numbers: choose another, or number the rows"));
                }
                Some(_) => {}
            },
            Key::Numbered(k) => {
                if self.columns.iter().any(|c| c.target.as_deref() == Some(k.as_str())) {
                    out.push(format!("numbered rows need a column {k} of their own: a file column goes there"));
                }
                if self.mode == Mode::Upsert {
                    out.push("updating rows needs a key in the file: numbered rows are always new".to_owned());
                }
            }
        }
        if let Some(e) = existing
            && e.primary_key != key
        {
            out.push(format!("the key of {} is {}: the file's key must go there", e.name, e.primary_key));
        }
        if self.columns.iter().any(|c| c.namespace.as_deref() == Some("phone"))
            && self.default_country.parse::<phonenumber::country::Id>().is_err()
        {
            out.push(format!("{} is not a country code (FR, US, GB…)", self.default_country));
        }
        out
    }

    /// The data model after the import: the entity created or its new columns added, links
    /// and identity namespaces set.
    pub fn applied_to(&self, model: &DataModel) -> DataModel {
        let mut out = model.clone();
        let idx = match out.entities.iter().position(|e| e.name == self.entity) {
            Some(i) => i,
            None => {
                out.entities.push(Entity {
                    name: self.entity.clone(),
                    label: if self.entity_label.trim().is_empty() {
                        label(&self.entity)
                    } else {
                        self.entity_label.trim().to_owned()
                    },
                    primary_key: self.key.column().to_owned(),
                    columns: Vec::new(),
                });
                out.entities.len() - 1
            }
        };
        let entity = &mut out.entities[idx];
        if let Key::Numbered(k) = &self.key
            && entity.column(k).is_none()
        {
            entity.columns.insert(0, Column::new(k.clone(), label(k), ColumnType::Integer));
        }
        for (_, c) in self.mapped() {
            let Some(t) = &c.target else { continue };
            if entity.column(t).is_none() {
                let label = if c.label.trim().is_empty() { label(t) } else { c.label.trim().to_owned() };
                entity.columns.push(Column::new(t.clone(), label, c.column_type));
            }
        }
        for (_, c) in self.mapped() {
            let Some(t) = &c.target else { continue };
            out.links.retain(|l| !(l.child == self.entity && l.foreign_key == *t));
            if let Some(parent) = &c.link {
                out.links.push(Link {
                    name: Link::name_for(t),
                    child: self.entity.clone(),
                    foreign_key: t.clone(),
                    parent: parent.clone(),
                });
            }
            if let Some(ns) = &c.namespace {
                out.identity_namespaces.retain(|n| n.name != *ns);
                out.identity_namespaces.push(IdentityNamespace {
                    name: ns.clone(),
                    entity: self.entity.clone(),
                    column: t.clone(),
                });
            }
        }
        out.identity_namespaces.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}
