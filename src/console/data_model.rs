//! The data model editor (the Data screen): what marketers see of an entity (labels, hidden
//! columns, descriptions), the links between entities, the identity namespaces, and deleting
//! an entity. Names never change — canvases and templates refer to them — and nothing a
//! campaign uses can be removed (the campaigns are named).

use std::sync::Arc;

use super::{Console, ConsoleError, Event, ModelEdit, Refresh, UserError};
use crate::model::{ColumnLook, ColumnType, DataModel, IdentityNamespace, Link};
use crate::store;

impl Console {
    /// Changes what marketers see of `entity`: its label, and by column name its columns'
    /// labels, whether they are hidden from the canvas's pickers, and their descriptions.
    pub fn set_presentation(&self, entity: &str, label: &str, columns: &[ColumnLook]) -> Result<(), ConsoleError> {
        if label.trim().is_empty() || columns.iter().any(|c| c.label.trim().is_empty()) {
            return Err(ConsoleError::Invalid(
                "a label cannot be empty: marketers pick entities and columns by it".into(),
            ));
        }
        let trimmed: Vec<ColumnLook> = columns
            .iter()
            .map(|c| ColumnLook {
                name: c.name.clone(),
                label: c.label.trim().to_owned(),
                hidden: c.hidden,
                description: c.description.trim().to_owned(),
            })
            .collect();
        let conn = self.workspace.conn();
        store::data_model::set_presentation(&conn, entity, label.trim(), &trimmed)?;
        store::audit::record(&conn, self.now(), "admin", "change labels", entity, "")?;
        Ok(())
    }

    /// Changes the labels of `entity` and of its columns (by column name), keeping whether
    /// they are hidden and their descriptions.
    pub fn set_labels(&self, entity: &str, label: &str, columns: &[(String, String)]) -> Result<(), ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        let e = model.entity(entity).ok_or_else(|| no_entity(entity))?;
        let looks = columns
            .iter()
            .map(|(name, label)| {
                let c = e.column(name).ok_or_else(|| no_column(&e.label, name))?;
                Ok(ColumnLook {
                    name: name.clone(),
                    label: label.clone(),
                    hidden: c.hidden,
                    description: c.description.clone(),
                })
            })
            .collect::<Result<Vec<_>, ConsoleError>>()?;
        self.set_presentation(entity, label, &looks)
    }

    /// Declares that `child.foreign_key` points at `parent`'s key (one parent, many children),
    /// and indexes it. Its rows pointing nowhere are counted on the Data screen.
    pub fn add_link(&self, child: &str, foreign_key: &str, parent: &str) -> Result<(), ConsoleError> {
        let conn = self.workspace.conn();
        let mut model = store::data_model::load(&conn)?;
        let c = model.entity(child).ok_or_else(|| no_entity(child))?;
        let p = model.entity(parent).ok_or_else(|| no_entity(parent))?;
        let column = c.column(foreign_key).ok_or_else(|| no_column(&c.label, foreign_key))?;
        if column.column_type != ColumnType::Integer {
            return Err(ConsoleError::Invalid(format!(
                "{} is {}, and a link needs whole numbers: the keys of {}",
                column.label,
                column.column_type.as_str(),
                p.label
            )));
        }
        if foreign_key == c.primary_key {
            return Err(ConsoleError::Invalid(format!(
                "{} is the key of {}: a link goes from another column",
                column.label, c.label
            )));
        }
        if let Some(l) = model.links.iter().find(|l| l.child == child && l.foreign_key == foreign_key) {
            let to = model.entity(&l.parent).map_or(l.parent.as_str(), |e| e.label.as_str());
            return Err(ConsoleError::Invalid(format!(
                "{} already links {} to {to}: remove that link first",
                column.label, c.label
            )));
        }
        model.links.push(Link {
            name: Link::name_for(foreign_key),
            child: child.to_owned(),
            foreign_key: foreign_key.to_owned(),
            parent: parent.to_owned(),
        });
        store::data_model::save(&conn, &model)?;
        store::customer_data::ensure_index(&conn, child, foreign_key)?;
        store::audit::record(&conn, self.now(), "admin", "add link", &format!("{child}.{foreign_key} → {parent}"), "")?;
        Ok(())
    }

    /// Removes the link through `child.foreign_key`, refused while a campaign uses it.
    pub fn remove_link(&self, child: &str, foreign_key: &str) -> Result<(), ConsoleError> {
        let gone = |m: &mut DataModel| m.links.retain(|l| !(l.child == child && l.foreign_key == foreign_key));
        let model = store::data_model::load(&self.workspace.conn())?;
        let Some(link) = model.links.iter().find(|l| l.child == child && l.foreign_key == foreign_key) else {
            return Err(ConsoleError::Invalid(format!("there is no link through {child}.{foreign_key}")));
        };
        let what = format!("The link from {} to {}", label_of(&model, &link.child), label_of(&model, &link.parent));
        self.refuse_if_used(&what, "removed", &gone)?;
        let conn = self.workspace.conn();
        let mut model = store::data_model::load(&conn)?;
        gone(&mut model);
        store::data_model::save(&conn, &model)?;
        store::audit::record(&conn, self.now(), "admin", "remove link", &format!("{child}.{foreign_key}"), "")?;
        Ok(())
    }

    /// Declares that `entity.column` holds the identity `name` (an email address, a phone
    /// number, a CRM id…), and indexes it. Identities all sit on one entity: the one messages
    /// are addressed to.
    pub fn add_identity(&self, name: &str, entity: &str, column: &str) -> Result<(), ConsoleError> {
        let name = name.trim();
        if !crate::model::is_identifier(name) {
            return Err(ConsoleError::Invalid(format!(
                "\u{201c}{name}\u{201d} cannot name an identity: lower-case letters, digits and _, starting with a letter"
            )));
        }
        let conn = self.workspace.conn();
        let mut model = store::data_model::load(&conn)?;
        let e = model.entity(entity).ok_or_else(|| no_entity(entity))?;
        let c = e.column(column).ok_or_else(|| no_column(&e.label, column))?;
        if matches!(name, "email" | "phone" | "x_handle") && c.column_type != ColumnType::Text {
            return Err(ConsoleError::Invalid(format!(
                "{} is {}: an {name} identity needs a text column",
                c.label,
                c.column_type.as_str()
            )));
        }
        if let Some(profiles) = model.profile_entity().filter(|p| *p != entity) {
            return Err(ConsoleError::Invalid(format!(
                "identities all sit on the entity messages are addressed to, {}: add this one there",
                label_of(&model, profiles)
            )));
        }
        if let Some(ns) = model.identity_namespaces.iter().find(|n| n.name == name) {
            return Err(ConsoleError::Invalid(format!(
                "the identity {name} is already {}.{}: remove it first",
                ns.entity, ns.column
            )));
        }
        model.identity_namespaces.push(IdentityNamespace {
            name: name.to_owned(),
            entity: entity.to_owned(),
            column: column.to_owned(),
        });
        model.identity_namespaces.sort_by(|a, b| a.name.cmp(&b.name));
        store::data_model::save(&conn, &model)?;
        store::customer_data::ensure_index(&conn, entity, column)?;
        store::audit::record(&conn, self.now(), "admin", "add identity", &format!("{name} = {entity}.{column}"), "")?;
        Ok(())
    }

    /// Removes the identity `name`, refused while a campaign uses it (an email activity needs
    /// the email identity).
    pub fn remove_identity(&self, name: &str) -> Result<(), ConsoleError> {
        let gone = |m: &mut DataModel| m.identity_namespaces.retain(|n| n.name != name);
        let model = store::data_model::load(&self.workspace.conn())?;
        if !model.identity_namespaces.iter().any(|n| n.name == name) {
            return Err(ConsoleError::Invalid(format!("there is no identity called {name}")));
        }
        self.refuse_if_used(&format!("The {name} identity"), "removed", &gone)?;
        let conn = self.workspace.conn();
        let mut model = store::data_model::load(&conn)?;
        gone(&mut model);
        store::data_model::save(&conn, &model)?;
        store::audit::record(&conn, self.now(), "admin", "remove identity", name, "")?;
        Ok(())
    }

    /// The campaigns whose canvas uses `entity`: those a check finds more wrong with once the
    /// entity (and the links naming it) is gone.
    pub fn campaigns_using(&self, entity: &str) -> Result<Vec<String>, ConsoleError> {
        self.campaigns_broken_by(&|m: &mut DataModel| without_entity(m, entity))
    }

    /// The campaigns a check finds more wrong with once `change` is made to the data model.
    fn campaigns_broken_by(&self, change: &dyn Fn(&mut DataModel)) -> Result<Vec<String>, ConsoleError> {
        let mut out = Vec::new();
        for campaign in self.campaigns()? {
            let Ok(canvas) = self.canvas(&campaign) else { continue };
            let (model, options) = self.validation_options(crate::audience::Dialect::Sqlite, &canvas)?;
            let mut changed = model.clone();
            change(&mut changed);
            let problems = |m: &DataModel| crate::audience::validate(&canvas, m, &options).err().map_or(0, |p| p.len());
            if problems(&changed) > problems(&model) {
                out.push(campaign.name.clone());
            }
        }
        Ok(out)
    }

    /// Refuses `what`'s removal when `change` breaks a campaign, naming them: "`what` cannot
    /// be `done`: the campaign “…” uses it".
    fn refuse_if_used(&self, what: &str, done: &str, change: &dyn Fn(&mut DataModel)) -> Result<(), ConsoleError> {
        let users = self.campaigns_broken_by(change)?;
        if users.is_empty() {
            return Ok(());
        }
        let quoted: Vec<String> = users.iter().map(|n| format!("\u{201c}{n}\u{201d}")).collect();
        let (who, it, verb) =
            if users.len() == 1 { ("the campaign", "it", "uses") } else { ("the campaigns", "them", "use") };
        Err(ConsoleError::Invalid(format!(
            "{what} cannot be {done}: {who} {} {verb} it. Change {it} first.",
            quoted.join(", ")
        )))
    }

    /// Removes `entity` with its rows, refused while a campaign uses it (naming them).
    pub fn drop_entity(&self, entity: &str) -> Result<(), ConsoleError> {
        let model = store::data_model::load(&self.workspace.conn())?;
        self.refuse_if_used(label_of(&model, entity), "deleted", &|m: &mut DataModel| without_entity(m, entity))?;
        let conn = self.workspace.conn();
        store::data_model::drop_entity(&conn, entity)?;
        store::audit::record(&conn, self.now(), "admin", "drop entity", entity, "")?;
        Ok(())
    }

    pub(super) fn model_edit(self: &Arc<Self>, edit: ModelEdit) {
        self.spawn(move |console| {
            let (failure, outcome) = match &edit {
                ModelEdit::Presentation { entity, label, columns } => {
                    ("The changes were not saved", console.set_presentation(entity, label, columns))
                }
                ModelEdit::DropEntity { entity } => ("It was not deleted", console.drop_entity(entity)),
                ModelEdit::AddLink { child, foreign_key, parent } => {
                    ("The link was not added", console.add_link(child, foreign_key, parent))
                }
                ModelEdit::RemoveLink { child, foreign_key } => {
                    ("The link was not removed", console.remove_link(child, foreign_key))
                }
                ModelEdit::AddIdentity { name, entity, column } => {
                    ("The identity was not added", console.add_identity(name, entity, column))
                }
                ModelEdit::RemoveIdentity { name } => ("The identity was not removed", console.remove_identity(name)),
            };
            let mut events = Vec::new();
            if let Err(e) = outcome {
                events.push(Event::Failed(UserError::new(failure, &e)));
            }
            events.push(console.refreshed(Refresh::Data));
            events
        });
    }
}

fn without_entity(m: &mut DataModel, entity: &str) {
    m.entities.retain(|e| e.name != entity);
    m.links.retain(|l| l.child != entity && l.parent != entity);
    m.identity_namespaces.retain(|n| n.entity != entity);
}

fn label_of<'m>(model: &'m DataModel, entity: &'m str) -> &'m str {
    model.entity(entity).map_or(entity, |e| e.label.as_str())
}

fn no_entity(name: &str) -> ConsoleError {
    ConsoleError::Invalid(format!("there is no entity called \u{201c}{name}\u{201d}"))
}

fn no_column(entity: &str, column: &str) -> ConsoleError {
    ConsoleError::Invalid(format!("{entity} has no column \u{201c}{column}\u{201d}"))
}
