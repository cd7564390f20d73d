//! Checks of addresses kept with the data. Whether a phone number is valid in its country's
//! numbering plan takes some 12 µs (libphonenumber's metadata), and a channel activity checks
//! its recipients' numbers on every count: 0.6 s for the demo's SMS at a million profiles.
//! A count reads the checks kept in the workspace (`cc_address_checks`, by the phone parser
//! that made them and the number's text) and checks the numbers not kept there, which it
//! then keeps (`run.rs`, after each step). A check read is the one computed, by the same
//! function: what is kept changes how fast a count is, never what it counts. SQLite only.

use super::*;
use crate::model::address::{ADDRESS_CHECKER, AddressKind, VALID_ADDRESS_FUNCTION};

/// The workspace's table of kept checks.
pub(crate) const TABLE: &str = "cc_address_checks";

/// Whether a count keeps and reads its checks of `kind` addresses: phone numbers, when facts
/// are kept (an email address is checked about as fast as a kept check is read).
pub(super) fn kept(kind: AddressKind, options: &CompileOptions) -> bool {
    kind == AddressKind::Phone && options.kept_facts && options.dialect == Dialect::Sqlite
}

/// Whether `address` (a text expression) is one `kind` can be sent to: the kept check when
/// `kept` and there is one, else the check itself.
pub(super) fn valid(kind: AddressKind, address: Expr, kept: bool) -> Expr {
    let checked = || -> Expr {
        Func::cust(Alias::new(VALID_ADDRESS_FUNCTION)).args([Expr::val(kind.as_str()), address.clone()]).into()
    };
    if !kept {
        return checked();
    }
    Func::coalesce([Expr::from(kept_check(kind, address.clone(), "ac")), checked()]).into()
}

/// `SELECT alias.valid FROM cc_address_checks alias` for `address`, checked by this app.
fn kept_check(kind: AddressKind, address: Expr, alias: &str) -> SelectStatement {
    let mut q = Query::select();
    q.expr(col(alias, "valid"))
        .from_as((Alias::new("main"), Alias::new(TABLE)), Alias::new(alias))
        .and_where(col(alias, "checker").eq(ADDRESS_CHECKER))
        .and_where(col(alias, "kind").eq(kind.as_str()))
        .and_where(col(alias, "address").eq(address));
    q
}
