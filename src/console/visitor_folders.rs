//! Visitor folders: listed with their visitors and the services landing there; created;
//! renamed (the visitors and the services' setting with them, at once); deleted when empty.

use super::{Console, ConsoleError, Event, FolderCommand, UserError};
use crate::channels::x;
use crate::model::ProviderSettings;
use crate::store::{self, visitor_folders::Folder};

/// A folder name's longest.
const NAME_CHARS: usize = 100;

impl Console {
    /// Every visitor folder, by name.
    pub fn visitor_folders(&self) -> Result<Vec<Folder>, ConsoleError> {
        let services: Vec<(String, String)> =
            self.credentials()?.iter().filter_map(|c| x::service(c).map(|s| (c.name.clone(), s.folder))).collect();
        Ok(store::visitor_folders::list(&self.workspace.conn(), &services)?)
    }

    /// Creates the empty folder `name`.
    pub fn create_visitor_folder(&self, name: &str) -> Result<(), ConsoleError> {
        let name = checked_name(name)?;
        if self.visitor_folders()?.iter().any(|f| f.name.eq_ignore_ascii_case(name)) {
            return Err(ConsoleError::Invalid(format!("there is a folder \u{201c}{name}\u{201d} already")));
        }
        Ok(store::visitor_folders::create(&self.workspace.conn(), name)?)
    }

    /// Renames folder `from` to `to`: its visitors, and the services landing there, move with
    /// it in one transaction. Returns how many visitors moved.
    pub fn rename_visitor_folder(&self, from: &str, to: &str) -> Result<u64, ConsoleError> {
        let to = checked_name(to)?;
        let folders = self.visitor_folders()?;
        let Some(folder) = folders.iter().find(|f| f.name.eq_ignore_ascii_case(from.trim())) else {
            return Err(ConsoleError::Invalid(format!("there is no folder \u{201c}{}\u{201d}", from.trim())));
        };
        if folders.iter().any(|f| f.name.eq_ignore_ascii_case(to) && !f.name.eq_ignore_ascii_case(from.trim())) {
            return Err(ConsoleError::Invalid(format!(
                "there is a folder \u{201c}{to}\u{201d} already: a folder's visitors cannot be merged into another"
            )));
        }
        let credentials = self.credentials()?;
        let landing: Vec<_> = credentials
            .iter()
            .filter(|c| x::service(c).is_some_and(|s| s.folder.eq_ignore_ascii_case(&folder.name)))
            .collect();
        if let Some(sandbox) = landing.iter().find(|c| !matches!(c.settings, ProviderSettings::XApi(_))) {
            return Err(ConsoleError::Invalid(format!(
                "the followers of \u{201c}{}\u{201d} (the Sandbox X account) always land in \u{201c}{}\u{201d}: this folder keeps its name",
                sandbox.name, folder.name
            )));
        }
        let conn = self.workspace.conn();
        let tx = conn.unchecked_transaction().map_err(store::StoreError::from)?;
        let moved = store::visitor_folders::rename(&tx, &folder.name, to)?;
        for c in landing {
            let mut c = c.clone();
            if let ProviderSettings::XApi(s) = &mut c.settings {
                s.visitor_folder = to.to_owned();
            }
            store::credentials::update(&tx, &c)?;
        }
        tx.commit().map_err(store::StoreError::from)?;
        Ok(moved)
    }

    /// Deletes the folder `name`, when no visitor is in it and no service lands there.
    pub fn delete_visitor_folder(&self, name: &str) -> Result<(), ConsoleError> {
        let folders = self.visitor_folders()?;
        let Some(folder) = folders.iter().find(|f| f.name.eq_ignore_ascii_case(name.trim())) else {
            return Err(ConsoleError::Invalid(format!("there is no folder \u{201c}{}\u{201d}", name.trim())));
        };
        if folder.visitors > 0 {
            return Err(ConsoleError::Invalid(format!(
                "\u{201c}{}\u{201d} holds {} visitors: only an empty folder is deleted",
                folder.name, folder.visitors
            )));
        }
        if let Some(service) = folder.services.first() {
            return Err(ConsoleError::Invalid(format!(
                "the followers of \u{201c}{service}\u{201d} land in \u{201c}{}\u{201d}: give the service another folder first",
                folder.name
            )));
        }
        Ok(store::visitor_folders::delete(&self.workspace.conn(), &folder.name)?)
    }

    pub(super) fn folder_command(&self, command: FolderCommand) -> Vec<Event> {
        let done = match command {
            FolderCommand::List => Ok(()),
            FolderCommand::Create { name } => self.create_visitor_folder(&name),
            FolderCommand::Rename { from, to } => self.rename_visitor_folder(&from, &to).map(drop),
            FolderCommand::Delete { name } => self.delete_visitor_folder(&name),
        };
        let mut events = Vec::new();
        if let Err(e) = done {
            events.push(Event::Failed(UserError::new("The folder was not changed", &e)));
        }
        events.push(Event::Folders(
            self.visitor_folders().map_err(|e| UserError::new("Could not read the visitor folders", &e)),
        ));
        events
    }
}

/// A folder name as typed, trimmed, or why it cannot be one.
fn checked_name(name: &str) -> Result<&str, ConsoleError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ConsoleError::Invalid("type the folder's name".into()));
    }
    if name.chars().count() > NAME_CHARS {
        return Err(ConsoleError::Invalid(format!("a folder's name has at most {NAME_CHARS} characters")));
    }
    Ok(name)
}
