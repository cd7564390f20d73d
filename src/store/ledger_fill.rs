//! Writing a delivery's ledger before anything is sent: from the audience's work table in one
//! statement (addresses checked, opt-ins, the frequency cap), or a proof's typed addresses.

use rusqlite::{Connection, Transaction, params};

use super::deliveries::{AddressKind, VALID_ADDRESS_FUNCTION, delivery_status, status, valid_address};
use super::{Result, quote_ident, ts};

/// How the ledger rows of a delivery are read off a work table.
pub struct LedgerSource<'a> {
    /// The work table (visible to `conn`), keyed by `dimension`'s key.
    pub table: &'a str,
    pub dimension: &'a str,
    pub dimension_key: &'a str,
    /// The profile entity and its key.
    pub profile: &'a str,
    pub profile_key: &'a str,
    /// The column of `dimension` pointing at the profile, when `dimension` is not the profile.
    pub profile_fk: Option<&'a str>,
    /// One message per row of `dimension` (multi-level), else one per profile.
    pub per_row: bool,
    /// The profile's address column for the channel (`None`: the channel needs no address).
    pub address: Option<&'a str>,
    /// How that address must look.
    pub address_kind: Option<AddressKind>,
    /// The profile's opt-in column for the channel, when the data has one (marketing sends).
    pub opt_in: Option<&'a str>,
    /// Enrichment columns of the work table, kept with each row for personalization.
    pub columns: &'a [String],
    /// At most this many messages per profile in 24 hours, counting earlier deliveries (not
    /// proofs); a profile at the cap is excluded.
    pub frequency_cap: Option<u32>,
    /// The recipients are visitors (an X direct message; `profile` is their entity), sent to
    /// through the X service named here: those no longer following it, or following another
    /// service, are excluded.
    pub visitors: Option<Option<&'a str>>,
}

/// Makes [`valid_address`] callable from the ledger's SQL as `cc_valid_address(kind, address)`.
fn register_address_check(conn: &Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        VALID_ADDRESS_FUNCTION,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let kind = AddressKind::parse(ctx.get_raw(0).as_str().unwrap_or(""));
            Ok(valid_address(kind, ctx.get_raw(1).as_str().unwrap_or("")))
        },
    )?;
    Ok(())
}

/// Makes `delivery` an X post: one queued row, the post on the service's account `account`
/// (one per run, whoever the population).
pub fn single_post(tx: &Transaction<'_>, delivery: i64, account: &str, now: jiff::Timestamp) -> Result<()> {
    tx.execute(
        "INSERT INTO cc_ledger (delivery_id, idempotency_key, recipient_key, secondary_key, address, status, vars_json,
                                updated_at)
         VALUES (?1, ?1 || ':post', '', '', ?2, 'queued', '{}', ?3)",
        params![delivery, account, ts(now)],
    )?;
    tx.execute(
        "UPDATE cc_deliveries SET status = ?2, started_at = ?3 WHERE id = ?1",
        params![delivery, delivery_status::SENDING, ts(now)],
    )?;
    Ok(())
}

/// Makes `delivery` a proof: one queued row per typed address, personalized as `recipient`.
pub fn mark_proof(
    tx: &Transaction<'_>,
    delivery: i64,
    recipient: &str,
    addresses: &[String],
    now: jiff::Timestamp,
) -> Result<()> {
    tx.execute(
        "UPDATE cc_deliveries SET is_proof = 1, status = ?2, started_at = ?3 WHERE id = ?1",
        params![delivery, delivery_status::SENDING, ts(now)],
    )?;
    for (i, address) in addresses.iter().enumerate() {
        tx.execute(
            "INSERT INTO cc_ledger (delivery_id, idempotency_key, recipient_key, secondary_key, address, status, vars_json,
                                    updated_at)
             VALUES (?1, ?1 || ':proof:' || ?2, ?3, '', ?4, 'queued', '{}', ?5)",
            params![delivery, i as i64, recipient, address, ts(now)],
        )?;
    }
    Ok(())
}

/// Writes the ledger of `delivery` from a work table in one statement (streamed by SQLite,
/// never the audience in memory): idempotency key, recipient, secondary key, address, status
/// (`excluded` with a reason when the address is missing or the profile has not opted in),
/// and the enrichment values. Returns the rows written.
pub fn fill_ledger(tx: &Transaction<'_>, delivery: i64, s: &LedgerSource<'_>, now: jiff::Timestamp) -> Result<u64> {
    let pk = quote_ident(s.profile_key)?;
    let address = match s.address {
        Some(c) => format!("COALESCE(TRIM(CAST(p.{} AS TEXT)), '')", quote_ident(c)?),
        None => "''".to_owned(),
    };
    let reasons = exclusions(tx, s, &address, delivery, now)?;
    let vars = if s.columns.is_empty() {
        "'{}'".to_owned()
    } else {
        let pairs = s
            .columns
            .iter()
            .map(|c| Ok(format!("'{c}', w.{}", quote_ident(c)?)))
            .collect::<Result<Vec<String>>>()?
            .join(", ");
        format!("json_object({pairs})")
    };
    let (from, secondary) = rows_of(s)?;
    let (status, code, message) = if reasons.is_empty() {
        (format!("'{}'", status::QUEUED), "NULL".to_owned(), "NULL".to_owned())
    } else {
        let case = |then: &dyn Fn(&(String, &str, String)) -> String| {
            let whens: String = reasons.iter().map(|r| format!(" WHEN {} THEN {}", r.0, then(r))).collect();
            format!("CASE{whens} END")
        };
        let any = reasons.iter().map(|r| format!("({})", r.0)).collect::<Vec<_>>().join(" OR ");
        (
            format!("CASE WHEN {any} THEN '{}' ELSE '{}' END", status::EXCLUDED, status::QUEUED),
            case(&|r| format!("'{}'", r.1)),
            case(&|r| r.2.clone()),
        )
    };
    let sql = format!(
        "INSERT INTO cc_ledger (delivery_id, idempotency_key, recipient_key, secondary_key, address, status, \
                                error_code, error_message, vars_json, updated_at)
         SELECT ?1, ?1 || ':' || p.{pk} || ':' || {secondary}, CAST(p.{pk} AS TEXT), {secondary}, {address},
                {status}, {code}, {message}, {vars}, ?2
         FROM {from}
         ORDER BY p.{pk}, w.key",
    );
    let n = tx.execute(&sql, params![delivery, ts(now)])?;
    if s.frequency_cap.is_some() {
        tx.execute_batch("DROP TABLE IF EXISTS temp.cc_capped")?;
    }
    tx.execute(
        "UPDATE cc_deliveries SET status = ?2, started_at = ?3 WHERE id = ?1",
        params![delivery, delivery_status::SENDING, ts(now)],
    )?;
    Ok(n as u64)
}

/// Why a recipient is excluded, in the order the counts give them: (condition on `p`, code,
/// the message as SQL).
fn exclusions(
    tx: &Transaction<'_>,
    s: &LedgerSource<'_>,
    address: &str,
    delivery: i64,
    now: jiff::Timestamp,
) -> Result<Vec<(String, &'static str, String)>> {
    let mut reasons: Vec<(String, &'static str, String)> = Vec::new();
    let who = if s.visitors.is_some() { "visitor" } else { "profile" };
    if s.address.is_some() {
        let what = if s.visitors.is_some() { "no X account id" } else { "no address for this channel" };
        reasons.push((format!("TRIM({address}) = ''"), "no_address", format!("'the {who} has {what}'")));
    }
    if let Some(kind) = s.address_kind {
        register_address_check(tx)?;
        let what = match kind {
            AddressKind::Phone => "phone number (E.164, as +33612345678)",
            AddressKind::Email => "email address",
        };
        reasons.push((
            format!("NOT cc_valid_address('{}', {address})", kind.as_str()),
            "invalid_address",
            format!("'the address is not a valid {what}'"),
        ));
    }
    if let Some(c) = s.opt_in {
        reasons.push((
            format!("NOT (COALESCE(p.{}, 0) = 1)", quote_ident(c)?),
            "not_opted_in",
            "'the profile has not opted in to this channel'".to_owned(),
        ));
    }
    if let Some(service) = s.visitors {
        reasons.push((
            "NOT (COALESCE(p.following, 0) = 1)".to_owned(),
            "not_following",
            "'the visitor no longer follows the X service'".to_owned(),
        ));
        if let Some(service) = service {
            let name = service.trim().to_ascii_lowercase().replace('\'', "''");
            reasons.push((
                format!("LOWER(COALESCE(TRIM(CAST(p.service AS TEXT)), '')) <> '{name}'"),
                "other_service",
                format!(
                    "'the visitor follows ' || COALESCE(p.service, 'no service') || ', not {}'",
                    service.replace('\'', "''")
                ),
            ));
        }
    }
    let capped = capped_condition(tx, s, delivery, now)?;
    if s.frequency_cap.is_some() {
        reasons.push((
            capped,
            "frequency_cap",
            format!(
                "'the profile already has {} messages in the last 24 hours (the workspace''s cap)'",
                s.frequency_cap.unwrap_or(0)
            ),
        ));
    }
    Ok(reasons)
}

/// Where a ledger's rows come from (`w` the work table's row, `p` its profile) and the
/// secondary key of each: one row per profile, or per row of a secondary entity.
fn rows_of(s: &LedgerSource<'_>) -> Result<(String, String)> {
    let table = quote_ident(s.table)?;
    let pk = quote_ident(s.profile_key)?;
    Ok(match (s.profile_fk, s.per_row) {
        (None, _) => (format!("{table} w JOIN {} p ON p.{pk} = w.key", quote_ident(s.profile)?), "''".to_owned()),
        (Some(fk), true) => (
            format!(
                "{table} w JOIN {d} d ON d.{dk} = w.key JOIN {p} p ON p.{pk} = d.{fk}",
                d = quote_ident(s.dimension)?,
                dk = quote_ident(s.dimension_key)?,
                p = quote_ident(s.profile)?,
                fk = quote_ident(fk)?,
            ),
            "CAST(w.key AS TEXT)".to_owned(),
        ),
        (Some(fk), false) => (
            // One row per profile: its first row of the dimension.
            format!(
                "(SELECT d.{fk} AS pid, MIN(w.key) AS k FROM {table} w JOIN {d} d ON d.{dk} = w.key GROUP BY d.{fk}) g \
                 JOIN {table} w ON w.key = g.k JOIN {p} p ON p.{pk} = g.pid",
                d = quote_ident(s.dimension)?,
                dk = quote_ident(s.dimension_key)?,
                p = quote_ident(s.profile)?,
                fk = quote_ident(fk)?,
            ),
            "''".to_owned(),
        ),
    })
}

/// The condition that a profile (`p`) is at the frequency cap; with a cap, the profiles at it
/// are gathered first, from the last 24 hours' deliveries.
fn capped_condition(tx: &Transaction<'_>, s: &LedgerSource<'_>, delivery: i64, now: jiff::Timestamp) -> Result<String> {
    let pk = quote_ident(s.profile_key)?;
    Ok(match s.frequency_cap {
        Some(cap) => {
            // The profiles at the cap, from the last 24 hours' deliveries: one pass over their
            // rows, then a lookup per ledger row. (X posts have no recipient, and X direct
            // messages go to visitors.)
            let since = now.checked_sub(jiff::SignedDuration::from_hours(24)).unwrap_or(now);
            tx.execute_batch("DROP TABLE IF EXISTS temp.cc_capped")?;
            tx.execute(
                "CREATE TEMP TABLE cc_capped AS
                 SELECT l.recipient_key AS recipient_key FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id
                 WHERE d.is_proof = 0 AND d.transactional = 0 AND d.created_at >= ?1 AND l.delivery_id <> ?2 AND d.channel NOT IN ('x', 'x_dm')
                   AND l.status IN ('queued', 'sending', 'retry', 'sent', 'unconfirmed')
                 GROUP BY l.recipient_key HAVING COUNT(*) >= ?3",
                params![ts(since), delivery, cap],
            )?;
            tx.execute_batch("CREATE UNIQUE INDEX temp.cc_capped_key ON cc_capped(recipient_key)")?;
            format!("CAST(p.{pk} AS TEXT) IN (SELECT recipient_key FROM temp.cc_capped)")
        }
        None => "0".to_owned(),
    })
}
