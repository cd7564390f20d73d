//! Plain domain types of the product. No I/O here: the store reads and writes them, the
//! UI and the CLI show them.

pub mod address;
pub mod browse;
mod campaign;
mod canvas;
mod channel;
mod data_model;
pub mod delivery;
pub mod provider;
pub mod settings;

pub use campaign::{Campaign, CampaignKind, CampaignStatus, LastRun, SavedAudience};
pub use canvas::*;
pub use channel::{
    Channel, Credential, NoSuchCredential, ProviderKind, SECRET_SLOT, SecretRef, credential_for, default_credential,
};
pub use data_model::{
    Cell, Column, ColumnLook, ColumnType, DataModel, DataOverview, Entity, EntityOverview, IdentityNamespace,
    IndexSpec, Link,
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
