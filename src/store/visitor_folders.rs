//! Visitor folders: where the followers of X services land (a visitor's `folder`). A folder
//! exists while visitors are in it, while a service lands its followers there, or once it is
//! created (kept, empty, until deleted).

use rusqlite::{Connection, params};

use super::{Result, StoreError, customer_data};

/// The folders created (the workspace setting holding their names, as JSON).
const CREATED: &str = "visitor_folders";

/// A folder: its name, its visitors, the services that land their followers there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Folder {
    pub name: String,
    pub visitors: u64,
    pub services: Vec<String>,
}

fn created(conn: &Connection) -> Result<Vec<String>> {
    match customer_data::meta(conn, CREATED)? {
        None => Ok(Vec::new()),
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Damaged(format!("the visitor folders are unreadable ({e})"))),
    }
}

fn keep(conn: &Connection, names: &[String]) -> Result<()> {
    let json = serde_json::to_string(names).map_err(|e| StoreError::Invalid(e.to_string()))?;
    customer_data::set_meta(conn, CREATED, &json)
}

/// Whether the workspace has the visitors' table yet.
fn has_visitors(conn: &Connection) -> Result<bool> {
    let n: i64 =
        conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'visitors'", [], |r| {
            r.get(0)
        })?;
    Ok(n > 0)
}

/// Every folder, by name (any case): those created, those holding visitors, those the
/// services (`(service, folder)`) land in.
pub fn list(conn: &Connection, services: &[(String, String)]) -> Result<Vec<Folder>> {
    let mut out: Vec<Folder> = Vec::new();
    let mut add = |name: &str, visitors: u64, service: Option<&str>| {
        let at = match out.iter().position(|f| f.name.eq_ignore_ascii_case(name)) {
            Some(i) => i,
            None => {
                out.push(Folder { name: name.to_owned(), ..Folder::default() });
                out.len() - 1
            }
        };
        out[at].visitors += visitors;
        if let Some(s) = service {
            out[at].services.push(s.to_owned());
        }
    };
    for name in created(conn)? {
        add(&name, 0, None);
    }
    if has_visitors(conn)? {
        let mut stmt = conn.prepare("SELECT COALESCE(folder, ''), COUNT(*) FROM visitors GROUP BY 1 COLLATE NOCASE")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (name, n) = row?;
            add(&name, n.max(0) as u64, None);
        }
    }
    for (service, folder) in services {
        add(folder, 0, Some(service));
    }
    out.sort_by_key(|f| f.name.to_lowercase());
    Ok(out)
}

/// Creates the empty folder `name` (checked by the caller).
pub fn create(conn: &Connection, name: &str) -> Result<()> {
    let mut names = created(conn)?;
    names.push(name.to_owned());
    keep(conn, &names)
}

/// Renames folder `from` to `to` (any case): its visitors move with it. Returns how many.
pub fn rename(conn: &Connection, from: &str, to: &str) -> Result<u64> {
    let mut names = created(conn)?;
    for n in names.iter_mut().filter(|n| n.eq_ignore_ascii_case(from)) {
        to.clone_into(n);
    }
    keep(conn, &names)?;
    if !has_visitors(conn)? {
        return Ok(0);
    }
    let n = conn.execute("UPDATE visitors SET folder = ?2 WHERE folder = ?1 COLLATE NOCASE", params![from, to])?;
    Ok(n as u64)
}

/// Forgets the created folder `name` (any case).
pub fn delete(conn: &Connection, name: &str) -> Result<()> {
    let names: Vec<String> = created(conn)?.into_iter().filter(|n| !n.eq_ignore_ascii_case(name)).collect();
    keep(conn, &names)
}
