//! Browsing customer data (Data → an entity → Browse): pages of rows matching a search and a
//! filter in a chosen order, how many match, one row with everything linked to it, and the
//! matching rows exported to CSV.

use std::path::Path;
use std::sync::Arc;

use super::{BrowseCommand, Console, ConsoleError, DataEvent, Event, UserError, jobs};
use crate::audience::BrowseSql;
use crate::model::browse::{BrowsePage, BrowseQuery, PageStart, RowDetail};
use crate::store;

/// Rows in a page of the browser.
pub const BROWSE_PAGE: u64 = 200;

/// Linked rows, messages and events shown per kind in a row's detail.
pub const DETAIL_ROWS: u64 = 50;

impl Console {
    /// At most [`BROWSE_PAGE`] rows of `query` from `start`.
    pub fn browse_page(&self, query: &BrowseQuery, start: &PageStart) -> Result<BrowsePage, ConsoleError> {
        let conn = self.workspace.connect()?;
        let model = store::data_model::load(&conn)?;
        let sql = self.browse_sql(&model, query)?;
        Ok(store::browse::page(&conn, &sql, start, BROWSE_PAGE)?)
    }

    /// How many rows `query` matches.
    pub fn browse_count(&self, query: &BrowseQuery) -> Result<u64, ConsoleError> {
        let conn = self.workspace.connect()?;
        let model = store::data_model::load(&conn)?;
        let sql = self.browse_sql(&model, query)?;
        Ok(store::browse::count(&conn, &sql)?)
    }

    /// Row `key` of `entity` with its linked rows, and the messages and events of a profile.
    pub fn row_detail(&self, entity: &str, key: i64) -> Result<RowDetail, ConsoleError> {
        let conn = self.workspace.connect()?;
        let model = store::data_model::load(&conn)?;
        let e = model.entity(entity).ok_or_else(|| no_entity(entity))?;
        let is_profile = model.profile_entity() == Some(entity);
        Ok(store::browse::detail(&conn, &model, e, key, is_profile, DETAIL_ROWS)?)
    }

    /// Writes the rows `query` matches, in its order, to `path` as CSV (through a temporary
    /// file: a cancelled or failed export leaves nothing). Returns how many rows.
    pub fn export_rows(
        &self,
        query: &BrowseQuery,
        path: &Path,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<u64, ConsoleError> {
        let conn = self.workspace.connect()?;
        let model = store::data_model::load(&conn)?;
        let sql = self.browse_sql(&model, query)?;
        jobs::write_atomically(path, |out| {
            store::browse::export_csv(&conn, &sql, out, cancelled)?
                .ok_or_else(|| ConsoleError::CannotRun("the export was cancelled: no file was written".into()))
        })
    }

    fn browse_sql<'m>(
        &self,
        model: &'m crate::model::DataModel,
        query: &BrowseQuery,
    ) -> Result<BrowseSql<'m>, ConsoleError> {
        if model.entity(&query.entity).is_none() {
            return Err(no_entity(&query.entity));
        }
        BrowseSql::new(model, query, self.now())
            .map_err(|e| ConsoleError::Invalid(format!("The filter cannot be used: {e}.")))
    }

    pub(super) fn browse_command(self: &Arc<Self>, command: BrowseCommand) {
        match command {
            BrowseCommand::Page { query, start } => self.spawn(move |console| {
                let page =
                    console.browse_page(&query, &start).map_err(|e| UserError::new("The rows could not be read", &e));
                vec![DataEvent::BrowsePage { query, start, page }.into()]
            }),
            BrowseCommand::Count { query } => self.spawn(move |console| {
                let count =
                    console.browse_count(&query).map_err(|e| UserError::new("The rows could not be counted", &e));
                vec![DataEvent::BrowseCount { query, count }.into()]
            }),
            BrowseCommand::Detail { entity, key } => self.spawn(move |console| {
                vec![match console.row_detail(&entity, key) {
                    Ok(d) => DataEvent::RowDetail(Box::new(d)).into(),
                    Err(e) => Event::Failed(UserError::new("The row could not be read", &e)),
                }]
            }),
            BrowseCommand::Export { query, path } => {
                self.start_file_job(path, "rows", move |c, path, cancelled| c.export_rows(&query, path, cancelled));
            }
        }
    }
}

fn no_entity(name: &str) -> ConsoleError {
    ConsoleError::Invalid(format!("there is no entity called \u{201c}{name}\u{201d}"))
}
