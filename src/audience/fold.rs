//! Text matched in any case, the same in both dialects: Unicode lower case (what PostgreSQL's
//! `lower()` does; SQLite's own `lower()` and `LIKE` fold ASCII only), the SQLite functions
//! that do it (`cc_fold` for rules, `cc_search` for the browser's search) and LIKE patterns.

/// The SQLite function that folds text for case-insensitive matching (every letter, not just
/// ASCII as SQLite's own `lower()` and `LIKE` do); registered by `run::register_functions`.
pub(crate) const FOLD_FUNCTION: &str = "cc_fold";

/// How both dialects fold text for case-insensitive matching: Unicode lower case, which is
/// what PostgreSQL's `lower()` does and what `cc_fold` does in SQLite.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// The SQLite function a browser's search calls: `cc_search(needle, text, text, …)` is 1 when
/// one of the texts, folded, contains the needle (already folded); registered by
/// `run::register_functions`. One call per row, whatever the number of columns.
pub(crate) const SEARCH_FUNCTION: &str = "cc_search";

/// Whether `haystack`, folded, contains `needle` (folded already): what `cc_fold(h) LIKE
/// '%needle%'` says, without folding a copy of every ASCII text.
pub fn contains_folded(haystack: &[u8], needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.is_ascii() {
        // An ASCII text folds to ASCII: it cannot hold another letter.
        return needle.is_ascii() && haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()));
    }
    fold(&String::from_utf8_lossy(haystack)).contains(needle)
}

/// `s` with LIKE's wildcards and its escape character escaped (by `\\`).
pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{contains_folded, fold};

    #[test]
    fn a_search_folds_as_the_rules_do() {
        let texts = ["MÜLLER", "Müller", "Mueller", "STRASSE", "Straße", "ǅemal", "\u{212a}elvin", "", "abc"];
        let needles = ["müller", "ller", "strasse", "straße", "ǆ", "kelvin", "", "b", "é"];
        for t in texts {
            for n in needles {
                let n = fold(n);
                assert_eq!(contains_folded(t.as_bytes(), &n), fold(t).contains(&n), "{t:?} / {n:?}");
            }
        }
    }
}
