//! A reproducible shuffle: a seeded hash of a row's key that SQLite and PostgreSQL compute
//! alike, so a Control group or a random pick takes the same rows for the same seed; and a
//! split's ranking in that order, sorted by the count itself.

use sea_query::{Alias, Expr, ExprTrait, Func};

use super::Dialect;

/// The SQLite function computing [`mix`] (`cc_mix(key, seed)`; NULL for a NULL key).
pub const MIX_FUNCTION: &str = "cc_mix";

/// A seeded 32-bit hash of a key, in plain integer arithmetic that SQLite and PostgreSQL
/// evaluate alike (no XOR, no overflow: every product stays below 2^63). Ordering rows by it is
/// a reproducible shuffle: the same seed picks the same rows. [`mix`] computes the same value.
/// On SQLite it is the registered [`MIX_FUNCTION`]: the expression written out repeats its
/// inner steps (SQL has no names for them), eight times the arithmetic for each row.
pub(crate) fn mix_expr(key: Expr, seed: u64, dialect: Dialect) -> Expr {
    if dialect == Dialect::Sqlite {
        return Func::cust(Alias::new(MIX_FUNCTION)).args([key, Expr::val((seed & 0xFFFF_FFFF) as i64)]).into();
    }
    mix_arithmetic(key, seed)
}

/// [`mix`] as SQL arithmetic.
fn mix_arithmetic(key: Expr, seed: u64) -> Expr {
    const MASK: i64 = 4_294_967_295;
    let s = (seed & 0xFFFF_FFFF) as i64;
    let x0 = key.bit_and(268_435_455).mul(2_654_435_761_i64).add(s).bit_and(MASK);
    let x1 = x0.clone().add(x0.right_shift(15)).mul(73_244_475).bit_and(MASK);
    let x2 = x1.clone().add(x1.right_shift(13)).mul(73_244_475).bit_and(MASK);
    x2.clone().add(x2.right_shift(16))
}

/// The value [`mix_expr`] computes in SQL, for tests and previews.
pub fn mix(key: i64, seed: u64) -> i64 {
    let s = (seed & 0xFFFF_FFFF) as i64;
    let x0 = ((key & 268_435_455) * 2_654_435_761 + s) & 4_294_967_295;
    let x1 = ((x0 + (x0 >> 15)) * 73_244_475) & 4_294_967_295;
    let x2 = ((x1 + (x1 >> 13)) * 73_244_475) & 4_294_967_295;
    x2 + (x2 >> 16)
}

/// Fills the ranking table of `shuffle` (see [`super::Shuffle`]): the keys it selects, in
/// the order of [`mix`] then key. `cancelled` is checked every 65,536 rows.
pub fn rank(
    conn: &rusqlite::Connection,
    shuffle: &super::Shuffle,
    cancelled: &dyn Fn() -> bool,
) -> Result<(), super::AudienceError> {
    const EVERY: usize = 1 << 16;
    let mut select = conn.prepare(&shuffle.keys.sql)?;
    for (i, v) in shuffle.keys.values.iter().enumerate() {
        select.raw_bind_parameter(i + 1, super::sqlite_value(v))?;
    }
    let mut rows = select.raw_query();
    let mut keys: Vec<(i64, i64)> = Vec::new();
    while let Some(row) = rows.next()? {
        let key: i64 = row.get(0)?;
        keys.push((mix(key, shuffle.seed), key));
        if keys.len().is_multiple_of(EVERY) && cancelled() {
            return Err(super::AudienceError::Cancelled);
        }
    }
    keys.sort_unstable();
    // In one transaction of the count's connection (the table is TEMP: the workspace is not
    // written).
    let tx = conn.unchecked_transaction()?;
    {
        let quoted = format!("\"{}\"", shuffle.table.replace('"', "\"\""));
        let mut insert = tx.prepare(&format!("INSERT INTO {quoted} (key) VALUES (?1)"))?;
        for (i, (_, key)) in keys.iter().enumerate() {
            insert.execute([key])?;
            if (i + 1).is_multiple_of(EVERY) && cancelled() {
                return Err(super::AudienceError::Cancelled);
            }
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_query::{Query, SqliteQueryBuilder};

    use super::*;

    /// SQLite's arithmetic (as PostgreSQL runs it), the registered function and [`mix`] agree,
    /// NULL keys included.
    #[test]
    fn the_function_the_arithmetic_and_mix_agree() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        super::super::register_functions(&conn).unwrap();
        conn.execute_batch("CREATE TABLE k (key INTEGER)").unwrap();
        for key in [0_i64, 1, 2, 7, 268_435_455, 268_435_456, 999_983, 1_000_000, i64::from(i32::MAX), i64::MAX] {
            conn.execute("INSERT INTO k VALUES (?1)", [key]).unwrap();
        }
        conn.execute("INSERT INTO k VALUES (NULL)", []).unwrap();
        for seed in [0_u64, 1, 5, 42, 0xFFFF_FFFF, 0x1_0000_0007] {
            let sql = |dialect: Dialect| {
                Query::select()
                    .expr(Expr::col(Alias::new("key")))
                    .expr(if dialect == Dialect::Sqlite {
                        mix_expr(Expr::col(Alias::new("key")), seed, dialect)
                    } else {
                        mix_arithmetic(Expr::col(Alias::new("key")), seed)
                    })
                    .from(Alias::new("k"))
                    .to_string(SqliteQueryBuilder)
            };
            let rows = |sql: String| -> Vec<(Option<i64>, Option<i64>)> {
                let mut stmt = conn.prepare(&sql).unwrap();
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
            };
            let function = rows(sql(Dialect::Sqlite));
            assert_eq!(function, rows(sql(Dialect::Postgres)), "seed {seed}");
            for (key, hash) in function {
                assert_eq!(hash, key.map(|k| mix(k, seed)), "key {key:?}, seed {seed}");
            }
        }
    }
}
