//! The declared data model (entities, columns, links, identity namespaces) and customer-table
//! facts such as row counts.

use rusqlite::{Connection, params};

use super::{Result, StoreError, quote_ident};
use crate::model::{
    Column, ColumnLook, ColumnType, DataModel, Entity, EntityOverview, IdentityNamespace, Link, is_identifier,
};

/// Reads the data model declared in the workspace.
pub fn load(conn: &Connection) -> Result<DataModel> {
    let mut entities = Vec::new();
    {
        let mut stmt = conn.prepare("SELECT name, label, primary_key FROM cc_entities ORDER BY position, name")?;
        let mut cols = conn.prepare(
            "SELECT name, label, column_type, hidden, description FROM cc_columns WHERE entity = ?1
             ORDER BY position, name",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))?;
        for row in rows {
            let (name, label, primary_key) = row?;
            let columns = cols
                .query_map([&name], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?))
                })?
                .map(|r| {
                    let (name, label, ty, hidden, description) = r?;
                    let column_type = ColumnType::parse(&ty)
                        .ok_or_else(|| StoreError::Damaged(format!("column type {ty:?} of {name}")))?;
                    Ok(Column { name, label, column_type, hidden, description })
                })
                .collect::<Result<Vec<_>>>()?;
            entities.push(Entity { name, label, primary_key, columns });
        }
    }
    let links = conn
        .prepare("SELECT name, child, foreign_key, parent FROM cc_links ORDER BY child, name")?
        .query_map([], |r| Ok(Link { name: r.get(0)?, child: r.get(1)?, foreign_key: r.get(2)?, parent: r.get(3)? }))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let identity_namespaces = conn
        .prepare("SELECT name, entity, column_name FROM cc_identity_namespaces ORDER BY name")?
        .query_map([], |r| Ok(IdentityNamespace { name: r.get(0)?, entity: r.get(1)?, column: r.get(2)? }))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(DataModel { entities, links, identity_namespaces })
}

/// Checks that a data model is consistent: valid names, every link and namespace pointing at
/// declared entities and columns.
pub fn validate(model: &DataModel) -> Result<()> {
    let invalid = |msg: String| Err(StoreError::Invalid(msg));
    for e in &model.entities {
        if !is_identifier(&e.name) || e.name.starts_with("cc_") {
            return invalid(format!("\u{201c}{}\u{201d} cannot be used as a table name.", e.name));
        }
        if e.column(&e.primary_key).is_none() {
            return invalid(format!("The key column {} is not a column of {}.", e.primary_key, e.name));
        }
        for c in &e.columns {
            if !is_identifier(&c.name) {
                return invalid(format!("\u{201c}{}\u{201d} cannot be used as a column name of {}.", c.name, e.name));
            }
        }
    }
    for l in &model.links {
        let child = model.entity(&l.child);
        let parent = model.entity(&l.parent);
        match (child, parent) {
            (Some(child), Some(_)) if child.column(&l.foreign_key).is_some() => {}
            _ => {
                return invalid(format!(
                    "The link {} ({}.{} → {}) names a table or column that does not exist.",
                    l.name, l.child, l.foreign_key, l.parent
                ));
            }
        }
    }
    for ns in &model.identity_namespaces {
        if model.entity(&ns.entity).and_then(|e| e.column(&ns.column)).is_none() {
            return invalid(format!(
                "The identity {} points at {}.{}, which does not exist.",
                ns.name, ns.entity, ns.column
            ));
        }
    }
    Ok(())
}

/// Replaces the declared data model with `model`, all or nothing. Works inside a caller's
/// transaction too (it uses a savepoint).
pub fn save(conn: &Connection, model: &DataModel) -> Result<()> {
    validate(model)?;
    super::in_savepoint(conn, "save_data_model", || replace_rows(conn, model))
}

fn replace_rows(conn: &Connection, model: &DataModel) -> Result<()> {
    conn.execute_batch(
        "DELETE FROM cc_identity_namespaces; DELETE FROM cc_links; DELETE FROM cc_columns; DELETE FROM cc_entities;",
    )?;
    let mut ent =
        conn.prepare("INSERT INTO cc_entities (name, label, primary_key, position) VALUES (?1, ?2, ?3, ?4)")?;
    let mut col = conn.prepare(
        "INSERT INTO cc_columns (entity, name, label, column_type, position, hidden, description)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (i, e) in model.entities.iter().enumerate() {
        ent.execute(params![e.name, e.label, e.primary_key, i as i64])?;
        for (j, c) in e.columns.iter().enumerate() {
            col.execute(params![e.name, c.name, c.label, c.column_type.as_str(), j as i64, c.hidden, c.description])?;
        }
    }
    let mut link = conn.prepare("INSERT INTO cc_links (name, child, foreign_key, parent) VALUES (?1, ?2, ?3, ?4)")?;
    for l in &model.links {
        link.execute(params![l.name, l.child, l.foreign_key, l.parent])?;
    }
    let mut ns = conn.prepare("INSERT INTO cc_identity_namespaces (name, entity, column_name) VALUES (?1, ?2, ?3)")?;
    for n in &model.identity_namespaces {
        ns.execute(params![n.name, n.entity, n.column])?;
    }
    Ok(())
}

/// Changes what marketers see of an entity: its label, and its columns' labels, whether they
/// are hidden and their descriptions, by column name (names, which canvases refer to, stay as
/// they are). All or nothing.
pub fn set_presentation(conn: &Connection, entity: &str, label: &str, columns: &[ColumnLook]) -> Result<()> {
    super::in_savepoint(conn, "set_presentation", || {
        let n = conn.execute("UPDATE cc_entities SET label = ?2 WHERE name = ?1", params![entity, label])?;
        if n == 0 {
            return Err(StoreError::NotFound { what: format!("The entity {entity}") });
        }
        let mut stmt = conn.prepare(
            "UPDATE cc_columns SET label = ?3, hidden = ?4, description = ?5 WHERE entity = ?1 AND name = ?2",
        )?;
        for c in columns {
            if stmt.execute(params![entity, c.name, c.label, c.hidden, c.description])? == 0 {
                return Err(StoreError::NotFound { what: format!("The column {entity}.{}", c.name) });
            }
        }
        Ok(())
    })
}

/// Removes an entity from the workspace, all or nothing: its table and rows, its declaration,
/// the links that name it and the identity namespaces on it.
pub fn drop_entity(conn: &Connection, entity: &str) -> Result<()> {
    super::in_savepoint(conn, "drop_entity", || {
        let n = conn.execute("DELETE FROM cc_entities WHERE name = ?1", [entity])?;
        if n == 0 {
            return Err(StoreError::NotFound { what: format!("The entity {entity}") });
        }
        conn.execute("DELETE FROM cc_columns WHERE entity = ?1", [entity])?;
        conn.execute("DELETE FROM cc_links WHERE child = ?1 OR parent = ?1", [entity])?;
        conn.execute("DELETE FROM cc_identity_namespaces WHERE entity = ?1", [entity])?;
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", quote_ident(entity)?))?;
        super::customer_data::bump_data_version(conn)
    })
}

/// The `CREATE TABLE` statement for an entity of the model (customer tables only).
pub fn create_table_sql(entity: &Entity) -> Result<String> {
    let mut cols = Vec::with_capacity(entity.columns.len());
    for c in &entity.columns {
        let pk = if c.name == entity.primary_key { " PRIMARY KEY" } else { "" };
        cols.push(format!("{} {}{pk}", quote_ident(&c.name)?, c.column_type.sqlite_type()));
    }
    Ok(format!("CREATE TABLE {} ({})", quote_ident(&entity.name)?, cols.join(", ")))
}

/// Each entity of the model with its current row count (`None` where its table is missing).
pub fn overview(conn: &Connection) -> Result<Vec<EntityOverview>> {
    let model = load(conn)?;
    let mut out = Vec::with_capacity(model.entities.len());
    for entity in model.entities {
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [&entity.name],
            |r| r.get(0),
        )?;
        let row_count = if exists {
            let n: i64 =
                conn.query_row(&format!("SELECT COUNT(*) FROM {}", quote_ident(&entity.name)?), [], |r| r.get(0))?;
            Some(n.max(0) as u64)
        } else {
            None
        };
        out.push(EntityOverview { entity, row_count });
    }
    Ok(out)
}

/// For each link of the model, how many child rows point at a parent that does not exist
/// (a foreign key with a value but no row behind it); `None` where a table is missing.
pub fn dangling_links(conn: &Connection, model: &DataModel) -> Result<Vec<Option<u64>>> {
    let table_exists = |name: &str| -> Result<bool> {
        Ok(conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [name],
            |r| r.get(0),
        )?)
    };
    let mut out = Vec::with_capacity(model.links.len());
    for l in &model.links {
        let Some(parent) = model.entity(&l.parent) else {
            out.push(None);
            continue;
        };
        if !table_exists(&l.child)? || !table_exists(&l.parent)? {
            out.push(None);
            continue;
        }
        let sql = format!(
            "SELECT COUNT(*) FROM {child} c WHERE c.{fk} IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{pk} = c.{fk})",
            child = quote_ident(&l.child)?,
            fk = quote_ident(&l.foreign_key)?,
            parent = quote_ident(&parent.name)?,
            pk = quote_ident(&parent.primary_key)?,
        );
        let n: i64 = conn.query_row(&sql, [], |r| r.get(0))?;
        out.push(Some(n.max(0) as u64));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Workspace;

    fn small_model() -> DataModel {
        let col = |n: &str, t| Column::new(n, n, t);
        DataModel {
            entities: vec![
                Entity {
                    name: "people".into(),
                    label: "People".into(),
                    primary_key: "id".into(),
                    columns: vec![col("id", ColumnType::Integer), col("email", ColumnType::Text)],
                },
                Entity {
                    name: "orders".into(),
                    label: "Orders".into(),
                    primary_key: "id".into(),
                    columns: vec![col("id", ColumnType::Integer), col("person_id", ColumnType::Integer)],
                },
            ],
            links: vec![Link {
                name: "person".into(),
                child: "orders".into(),
                foreign_key: "person_id".into(),
                parent: "people".into(),
            }],
            identity_namespaces: vec![IdentityNamespace {
                name: "email".into(),
                entity: "people".into(),
                column: "email".into(),
            }],
        }
    }

    #[test]
    fn save_load_and_overview() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        let conn = ws.conn();
        let model = small_model();
        save(&conn, &model).unwrap();
        assert_eq!(load(&conn).unwrap(), model);

        conn.execute_batch(&create_table_sql(&model.entities[0]).unwrap()).unwrap();
        conn.execute_batch("INSERT INTO people (id, email) VALUES (1, 'a@x.org'), (2, 'b@x.org')").unwrap();
        let o = overview(&conn).unwrap();
        assert_eq!(o[0].row_count, Some(2));
        assert_eq!(o[1].row_count, None, "orders table was never created");
    }

    #[test]
    fn rejects_inconsistent_models() {
        let mut m = small_model();
        m.links[0].foreign_key = "nope".into();
        assert!(validate(&m).is_err());
        let mut m = small_model();
        m.entities[0].name = "cc_people".into();
        assert!(validate(&m).is_err());
        let mut m = small_model();
        m.entities[1].columns[1].name = "x; DROP TABLE people".into();
        assert!(validate(&m).is_err());
    }
}
