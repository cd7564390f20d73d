//! The workspace store: one SQLite file per workspace folder, opened in WAL mode with foreign
//! keys on, its schema changed only through the numbered migrations in [`migrations`].
//!
//! Application tables are prefixed `cc_`; customer tables (profiles, bookings, …) live beside
//! them without a prefix, declared in the data model. No secret value is ever written here:
//! credentials keep only a [`crate::model::SecretRef`].

pub mod api;
pub mod audiences;
pub mod audit;
pub mod browse;
pub mod campaigns;
pub mod column_facts;
pub mod connectors;
pub mod count_cache;
pub mod credentials;
pub mod customer_data;
pub mod data_model;
pub mod deliveries;
pub mod group_commit;
pub mod import;
pub mod inbound;
pub mod interactions;
pub mod launches;
pub mod ledger;
mod ledger_fill;
pub mod migrations;
pub mod reports;
pub mod sandbox;
pub mod short_links;
pub mod sms_configurations;
pub mod tracking;
pub mod visitor_folders;
pub mod visitors;
pub mod workflows;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

/// The database file inside a workspace folder.
pub const DATABASE_FILE: &str = "workspace.sqlite";

/// Errors of the workspace store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use the workspace folder {path}: {source}")]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("the workspace database could not be read or written: {0}")]
    Sqlite(rusqlite::Error),
    #[error(
        "the workspace is busy: another Campaign Console (a window, a run or a command) is writing to it; wait until it has finished, or close it, and try again"
    )]
    Busy,
    #[error("{} is not a Campaign Console workspace database: it is damaged, or another kind of file", DATABASE_FILE)]
    NotADatabase,
    #[error("the workspace cannot be written: the folder or {} is read-only for you", DATABASE_FILE)]
    ReadOnly,
    #[error("the workspace could not be upgraded to this version of Campaign Console: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("{what} was not found (it may have been deleted)")]
    NotFound { what: String },
    #[error("{0}")]
    Invalid(String),
    #[error("stored data is damaged: {0}")]
    Damaged(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => Self::Busy,
            Some(rusqlite::ErrorCode::NotADatabase) => Self::NotADatabase,
            Some(rusqlite::ErrorCode::ReadOnly) => Self::ReadOnly,
            _ => Self::Sqlite(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Runs `work` inside a savepoint named `name`: all of it is kept, or none of it when it fails
/// (works inside a caller's transaction too).
pub(crate) fn in_savepoint<T>(conn: &Connection, name: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    // Cached: a grouped write opens a savepoint per piece of work, thousands a second.
    conn.prepare_cached(&format!("SAVEPOINT {name}"))?.execute([])?;
    match work() {
        Ok(v) => {
            conn.prepare_cached(&format!("RELEASE {name}"))?.execute([])?;
            Ok(v)
        }
        Err(e) => {
            // The original error matters more than a failure to roll back.
            let _ = conn.execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"));
            Err(e)
        }
    }
}

/// Runs `read` in one read transaction: one snapshot, one lock taken.
fn in_read_transaction<T>(conn: &Connection, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    conn.execute_batch("BEGIN DEFERRED")?;
    let done = read(conn);
    conn.execute_batch("COMMIT")?;
    done
}

/// An open workspace: its folder and one shared connection. Long jobs open their own
/// connection with [`Workspace::connect`] so that they do not hold the shared one.
pub struct Workspace {
    dir: PathBuf,
    conn: Mutex<Connection>,
    /// A connection for short reads that must not wait behind the shared one's writes
    /// (opened when first needed).
    reader: Mutex<Option<Connection>>,
}

impl Workspace {
    /// Opens the workspace in `dir`, creating the folder and the database when missing, and
    /// brings the schema to the latest version.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder { path: dir.to_owned(), source })?;
        let mut conn = open_connection(&dir.join(DATABASE_FILE))?;
        migrations::migrate(&mut conn)?;
        Ok(Self { dir: dir.to_owned(), conn: Mutex::new(conn), reader: Mutex::new(None) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn database_path(&self) -> PathBuf {
        self.dir.join(DATABASE_FILE)
    }

    /// The shared connection. Callers keep the guard for one short unit of work.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable: SQLite rolls back an
        // unfinished transaction when the next one begins, so a poisoned lock is recovered.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs a short read on the reader connection: it sees what is committed, and never
    /// waits for the shared connection (WAL readers do not wait for writers).
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut reader = self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let conn = match &mut *reader {
            Some(conn) => conn,
            empty @ None => empty.insert(self.connect()?),
        };
        in_read_transaction(conn, read)
    }

    /// Runs a longer read (a report) on a connection of its own, so that the short reads of
    /// [`Workspace::read`] never wait behind it; one snapshot for all of it.
    pub fn read_apart<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        in_read_transaction(&self.connect()?, read)
    }

    /// A new connection to the same database, for long jobs (demo generation, counts).
    pub fn connect(&self) -> Result<Connection> {
        open_connection(&self.database_path())
    }
}

/// Opens a connection with the settings every connection of a workspace uses.
pub fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -262144;
         PRAGMA mmap_size = 4294967296;",
    )?;
    Ok(conn)
}

/// Current time as stored text.
pub(crate) fn ts(t: jiff::Timestamp) -> String {
    t.to_string()
}

/// Parses a stored timestamp; a damaged value is reported rather than guessed.
pub(crate) fn parse_ts(s: &str) -> Result<jiff::Timestamp> {
    s.parse().map_err(|e| StoreError::Damaged(format!("timestamp {s:?}: {e}")))
}

pub(crate) fn parse_opt_ts(s: Option<String>) -> Result<Option<jiff::Timestamp>> {
    s.as_deref().map(parse_ts).transpose()
}

/// Quotes a customer-table identifier after checking it is one.
pub(crate) fn quote_ident(name: &str) -> Result<String> {
    if crate::model::is_identifier(name) {
        Ok(format!("\"{name}\""))
    } else {
        Err(StoreError::Invalid(format!("{name:?} is not a valid table or column name")))
    }
}

/// Sets up a connection that walks through a delivery (a row at a time, never twice): a small
/// page cache and no memory map, so sending a million messages does not hold the whole
/// workspace in memory.
pub fn streaming(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("PRAGMA cache_size = -16384; PRAGMA mmap_size = 0;")?;
    Ok(())
}

/// Sets up a connection for a campaign run's count: it counts once and moves on, so a modest
/// page cache and no memory map keep its memory down (the canvas editor's counts keep the
/// large ones, for speed while editing).
pub fn counting_once(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("PRAGMA cache_size = -65536; PRAGMA mmap_size = 0;")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two writers at once: the second is told the workspace is busy, in plain words.
    #[test]
    fn a_locked_workspace_is_busy_in_plain_words() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        let first = ws.connect().unwrap();
        first.execute_batch("BEGIN IMMEDIATE; INSERT INTO cc_workspace_meta (key, value) VALUES ('x', '1');").unwrap();
        let second = ws.connect().unwrap();
        second.busy_timeout(std::time::Duration::from_millis(50)).unwrap();
        let err: StoreError =
            second.execute("INSERT INTO cc_workspace_meta (key, value) VALUES ('y', '1')", []).unwrap_err().into();
        assert!(matches!(err, StoreError::Busy), "{err}");
        assert!(err.to_string().contains("another Campaign Console"), "{err}");
        first.execute_batch("ROLLBACK").unwrap();
    }

    #[test]
    fn a_file_that_is_not_a_database_says_so() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DATABASE_FILE), b"not a database at all, just text".repeat(200)).unwrap();
        let err = Workspace::open(dir.path()).err().unwrap();
        assert!(err.to_string().contains("is not a Campaign Console workspace database"), "{err}");
    }
}
