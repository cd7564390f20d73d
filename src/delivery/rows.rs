//! Reading one row of a customer table as template values (a recipient's profile, the row a
//! message is about).

use std::collections::BTreeMap;

use minijinja::Value;
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::RowError;

/// One row of a customer table by key, as template values (`sql` selects `*` by key).
pub fn read_row(conn: &Connection, sql: &str, key: &str) -> Result<BTreeMap<String, Value>, RowError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let names: Vec<String> = stmt.column_names().iter().map(|s| (*s).to_owned()).collect();
    let key: i64 = key.parse().map_err(|_| RowError::BadKey(key.to_owned()))?;
    let mut rows = stmt.query([key])?;
    let Some(r) = rows.next()? else {
        return Err(RowError::Gone(key));
    };
    let mut out = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let v = match r.get_ref(i)? {
            ValueRef::Null => Value::from(()),
            ValueRef::Integer(n) => Value::from(n),
            ValueRef::Real(x) => Value::from(x),
            ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(_) => Value::from(()),
        };
        out.insert(name.clone(), v);
    }
    Ok(out)
}

/// One row of `entity` by its primary key, as template values.
pub fn entity_row(
    conn: &Connection,
    entity: &crate::model::Entity,
    key: i64,
) -> Result<BTreeMap<String, Value>, RowError> {
    let sql = format!(
        "SELECT * FROM {} WHERE {} = ?1",
        crate::store::quote_ident(&entity.name)?,
        crate::store::quote_ident(&entity.primary_key)?
    );
    read_row(conn, &sql, &key.to_string())
}
