//! Plain domain types of the product. No I/O here: the store reads and writes them, the
//! UI and the CLI show them.

pub mod address;
pub mod api;
pub mod browse;
mod campaign;
pub mod campaign_file;
mod canvas;
mod channel;
pub mod connector;
mod data_model;
pub mod delivery;
pub mod provider;
pub mod report;
pub mod server;
pub mod settings;
pub mod sms;
pub mod tracking;
pub mod workflow;

pub use campaign::{Campaign, CampaignKind, CampaignStatus, LastRun, SavedAudience};
pub use canvas::*;
pub use channel::{
    Channel, Credential, NoSuchCredential, ProviderKind, SECRET_SLOT, SecretRef, Verification, credential_for,
    default_credential,
};
pub use data_model::{
    Cell, Column, ColumnLook, ColumnType, DataModel, DataOverview, Entity, EntityOverview, IdentityNamespace,
    IndexSpec, Link, VISITORS,
};
pub use settings::ProviderSettings;

/// Text safe to open in a spreadsheet: a value that starts like a formula (`=`, `+`, `-`, `@`,
/// a tab or a carriage return) gets a leading apostrophe, so a spreadsheet shows it and never
/// runs it (`=cmd|' /C calc'!A0` from an imported file); a signed number or a phone number
/// (`+33612345678`) stays as it is. Every CSV the app writes passes its text through this.
pub fn spreadsheet_safe(text: &str) -> std::borrow::Cow<'_, str> {
    // A sign before a number or a phone number (+33 6 12…, -12.5) computes nothing harmful.
    let signed_number = text.starts_with(['+', '-'])
        && text[1..].chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | ',' | '(' | ')'));
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && !signed_number {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// How a long job goes, after its progress bar: " · 182000 rows/s · about 12 s left" (rows per
/// second when it counts rows and has run half a second; the time left once it is 1 % done and
/// has run a second), or nothing yet.
pub fn pace(elapsed_seconds: f64, fraction: f32, rows: Option<u64>) -> String {
    let mut parts = Vec::new();
    if let Some(rows) = rows.filter(|_| elapsed_seconds >= 0.5) {
        parts.push(format!("{:.0} rows/s", rows as f64 / elapsed_seconds));
    }
    if fraction > 0.01 && fraction < 1.0 && elapsed_seconds >= 1.0 {
        let left = (elapsed_seconds * f64::from(1.0 - fraction) / f64::from(fraction)).round() as u64;
        parts.push(match left {
            0..60 => format!("about {left} s left"),
            60..3600 => format!("about {} min left", left.div_ceil(60)),
            _ => format!("about {} h {} min left", left / 3600, (left % 3600) / 60),
        });
    }
    if parts.is_empty() { String::new() } else { format!(" \u{b7} {}", parts.join(" \u{b7} ")) }
}

/// Whether `name` is a safe SQL identifier for a customer table or column: lower-case ASCII
/// letters, digits and underscores, starting with a letter, at most 63 characters. Names that
/// pass are quoted anyway when used; this check keeps them readable and portable to PostgreSQL.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::is_identifier;

    #[test]
    fn a_jobs_pace_says_rows_per_second_and_time_left_once_it_knows() {
        use super::pace;
        assert_eq!(pace(0.2, 0.5, Some(10)), "");
        assert_eq!(pace(2.0, 0.5, Some(400_000)), " \u{b7} 200000 rows/s \u{b7} about 2 s left");
        assert_eq!(pace(30.0, 0.25, None), " \u{b7} about 2 min left");
        assert_eq!(pace(3600.0, 0.4, None), " \u{b7} about 1 h 30 min left");
        assert_eq!(pace(5.0, 1.0, Some(10)), " \u{b7} 2 rows/s");
    }

    #[test]
    fn formulas_are_defused_and_phone_numbers_kept() {
        use super::spreadsheet_safe as safe;
        assert_eq!(safe("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe("+1+cmd|x"), "'+1+cmd|x");
        assert_eq!(safe("+33612345678"), "+33612345678");
        assert_eq!(safe("-12.5"), "-12.5");
        assert_eq!(safe("Paris"), "Paris");
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("profiles"));
        assert!(is_identifier("check_in_date2"));
        assert!(!is_identifier(""));
        assert!(!is_identifier("2fast"));
        assert!(!is_identifier("Profiles"));
        assert!(!is_identifier("a\"; drop table x; --"));
        assert!(!is_identifier(&"a".repeat(64)));
    }
}
