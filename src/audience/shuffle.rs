//! A reproducible shuffle: a seeded hash of a row's key that SQLite and PostgreSQL compute
//! alike, so a Control group or a random pick takes the same rows for the same seed.

use sea_query::{Expr, ExprTrait};

/// A seeded 32-bit hash of a key, in plain integer arithmetic that SQLite and PostgreSQL
/// evaluate alike (no XOR, no overflow: every product stays below 2^63). Ordering rows by it is
/// a reproducible shuffle: the same seed picks the same rows. [`mix`] computes the same value.
pub(crate) fn mix_expr(key: Expr, seed: u64) -> Expr {
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
