//! Plain domain types of the product. No I/O here: the store reads and writes them, the
//! UI and the CLI show them.

pub mod address;
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
    Cell, Column, ColumnType, DataModel, DataOverview, Entity, EntityOverview, IdentityNamespace, IndexSpec, Link,
};
pub use settings::ProviderSettings;

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
