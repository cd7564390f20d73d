//! Checks of addresses kept with the data. Whether a phone number is valid in its country's
//! numbering plan takes some 12 µs (libphonenumber's metadata), and a channel activity checks
//! its recipients' numbers on every count: 0.6 s for the demo's SMS at a million profiles.
//! A count keeps the checks of the numbers it meets in the workspace (`cc_address_checks`, by
//! the version of the app that checked them and the number's text) and reads them there the
//! next time. A check read is the one computed, by the same function, and a number not kept
//! is checked then: what is kept changes how fast a count is, never what it counts. SQLite
//! only.

use super::*;
use crate::model::address::{ADDRESS_CHECKER, AddressKind, VALID_ADDRESS_FUNCTION};

/// The workspace's table of kept checks, and the temporary one a count checks new ones in.
const TABLE: &str = "cc_address_checks";
const NEW: &str = "cc_address_checks_new";

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

impl Compiler<'_> {
    /// The statements that check the addresses `from` gives (`address`, over its FROM and
    /// joins) that are not kept yet, and keep them: checked apart in a temporary table of the
    /// count's connection, then copied in, so that the workspace's write lock is held for
    /// the copy only.
    pub(super) fn keep_address_checks(
        &self,
        kind: AddressKind,
        mut from: SelectStatement,
        address: Expr,
        out: &mut Statements,
    ) -> Result<(), RuleError> {
        let statement = |sql: String| SqlStatement { display: sql.clone(), sql, values: Vec::new() };
        out.push(statement(format!("DROP TABLE IF EXISTS temp.\"{NEW}\"")));
        let mut create = Table::create();
        create
            .table(Alias::new(NEW))
            .temporary()
            .col(ColumnDef::new(Alias::new("address")).custom(Alias::new("TEXT")).primary_key())
            .col(ColumnDef::new(Alias::new("valid")).custom(Alias::new("INTEGER")));
        out.push(self.create(&create));
        from.expr(address.clone())
            .expr(valid(kind, address.clone(), false))
            .and_where(address.clone().ne(""))
            .and_where(Expr::exists(kept_check(kind, address, "k")).not());
        let mut check = Query::insert();
        check
            .into_table(Alias::new(NEW))
            .columns([Alias::new("address"), Alias::new("valid")])
            .on_conflict(sea_query::OnConflict::column(Alias::new("address")).do_nothing().to_owned());
        check.select_from(from).map_err(|e| RuleError::Sql(e.to_string()))?;
        out.push(self.insert(&check));
        let mut copy = Query::select();
        copy.expr(Expr::val(ADDRESS_CHECKER))
            .expr(Expr::val(kind.as_str()))
            .expr(col("n", "address"))
            .expr(col("n", "valid"))
            .from_as(Alias::new(NEW), Alias::new("n"))
            // A WHERE, for SQLite to read the ON CONFLICT after a SELECT.
            .and_where(Expr::cust("1 = 1"));
        let mut keep = Query::insert();
        keep.into_table((Alias::new("main"), Alias::new(TABLE)))
            .columns([Alias::new("checker"), Alias::new("kind"), Alias::new("address"), Alias::new("valid")])
            .on_conflict(
                sea_query::OnConflict::columns([Alias::new("checker"), Alias::new("kind"), Alias::new("address")])
                    .do_nothing()
                    .to_owned(),
            );
        keep.select_from(copy).map_err(|e| RuleError::Sql(e.to_string()))?;
        out.push(self.insert(&keep));
        out.push(statement(format!("DROP TABLE IF EXISTS temp.\"{NEW}\"")));
        Ok(())
    }
}
