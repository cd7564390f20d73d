//! The functions compiled SQL calls, registered on each connection that runs it: `cc_fold`
//! (text without case or accents), `cc_search` (the browser's search), `cc_mix` (the seeded
//! shuffle's hash) and `cc_valid_address` (whether a channel can send to an address; a
//! connection remembers its phone numbers' checks, and a count session's lists those it made,
//! to keep them in the workspace).

/// The phone numbers a connection checked (not remembered from before), with their check:
/// what a count keeps in the workspace after each step (`run.rs`).
pub(crate) type NewChecks = std::sync::Arc<std::sync::Mutex<Vec<(Box<str>, bool)>>>;

/// Registers on a SQLite connection the functions compiled SQL calls (`cc_fold`, `cc_search`,
/// `cc_mix`, `cc_valid_address`).
pub fn register_functions(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    register(conn, None)
}

/// [`register_functions`], the phone numbers it checks from now on listed in the answer.
pub(crate) fn register_recording(conn: &rusqlite::Connection) -> rusqlite::Result<NewChecks> {
    let checks = NewChecks::default();
    register(conn, Some(checks.clone()))?;
    Ok(checks)
}

fn register(conn: &rusqlite::Connection, record: Option<NewChecks>) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        super::fold::FOLD_FUNCTION,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            Ok(match ctx.get_raw(0) {
                rusqlite::types::ValueRef::Text(t) => Some(super::fold::fold(&String::from_utf8_lossy(t))),
                rusqlite::types::ValueRef::Null => None,
                // Numbers have no case: their text, as SQLite would give it.
                rusqlite::types::ValueRef::Integer(i) => Some(i.to_string()),
                rusqlite::types::ValueRef::Real(f) => Some(f.to_string()),
                rusqlite::types::ValueRef::Blob(_) => None,
            })
        },
    )?;
    // Whether one of the texts after the first contains it (the browser's search).
    conn.create_scalar_function(
        super::fold::SEARCH_FUNCTION,
        -1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            let needle = ctx.get_raw(0).as_str().unwrap_or("");
            Ok((1..ctx.len()).any(|i| match ctx.get_raw(i) {
                rusqlite::types::ValueRef::Text(t) => super::fold::contains_folded(t, needle),
                _ => false,
            }))
        },
    )?;
    // The seeded shuffle's hash of a key (`shuffle::mix`).
    conn.create_scalar_function(
        super::shuffle::MIX_FUNCTION,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            Ok(match (ctx.get_raw(0), ctx.get_raw(1)) {
                (rusqlite::types::ValueRef::Integer(key), rusqlite::types::ValueRef::Integer(seed)) => {
                    Some(super::shuffle::mix(key, seed as u64))
                }
                _ => None,
            })
        },
    )?;
    // Whether an address can be sent to, for the reachable recipients of channel activities;
    // phone numbers' checks remembered by the connection.
    let phones: std::cell::RefCell<std::collections::HashMap<Box<str>, bool>> = std::cell::RefCell::default();
    conn.create_scalar_function(
        crate::model::address::VALID_ADDRESS_FUNCTION,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            use crate::model::address::{AddressKind, valid_address};
            let kind = AddressKind::parse(ctx.get_raw(0).as_str().unwrap_or(""));
            let address = ctx.get_raw(1).as_str().unwrap_or("");
            if kind != AddressKind::Phone {
                return Ok(valid_address(kind, address));
            }
            if let Some(known) = phones.borrow().get(address) {
                return Ok(*known);
            }
            let valid = valid_address(kind, address);
            if let Some(record) = &record {
                // A poisoned list only means a panic elsewhere: the checks are still true.
                record.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((address.into(), valid));
            }
            let mut remembered = phones.borrow_mut();
            if remembered.len() >= PHONES_REMEMBERED {
                remembered.clear();
            }
            remembered.insert(address.into(), valid);
            Ok(valid)
        },
    )
}

/// How many phone numbers a connection remembers the check of (some 16 MB at most): checking
/// one against its country's numbering plan takes about 17 µs, and a recount in the same
/// session checks the same numbers again.
const PHONES_REMEMBERED: usize = 1 << 18;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::address::{AddressKind, valid_address};

    /// The remembered checks answer as the check itself, the second time as the first.
    #[test]
    fn remembered_phone_checks_answer_as_the_check() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        let phones =
            ["+33612345678", "+1 415", "+14155550123", "0612345678", "+999123", "+33612345678", "", "+447911123456"];
        for round in 0..2 {
            for p in phones {
                let got: bool = conn.query_row("SELECT cc_valid_address('phone', ?1)", [p], |r| r.get(0)).unwrap();
                assert_eq!(got, valid_address(AddressKind::Phone, p), "{p:?}, round {round}");
            }
        }
    }
}
