//! No secret value is ever written to the workspace files.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use campaign_console::model::{Channel, ProviderKind, ProviderSettings};
use campaign_console::ui::testing;

fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

#[test]
fn a_saved_credential_keeps_its_secret_out_of_the_workspace_files() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "auth-token-7f3c9a1e5b2d-DO-NOT-STORE";
    let name = "Twilio marketing line";
    {
        let console = testing::console(dir.path()).unwrap();
        let credential = console
            .add_credential(
                Channel::Sms,
                name,
                ProviderSettings::from_json(
                    ProviderKind::Twilio,
                    serde_json::json!({ "account_sid": "AC0123456789abcdef0123456789abcdef", "from": "+14155550100" }),
                )
                .unwrap(),
                Some(secret),
            )
            .unwrap();
        // The secret is retrievable through the secret store…
        assert_eq!(console.credential_secret(&credential).unwrap().as_deref(), Some(secret));
        // …the workspace holds only a reference to it.
        assert!(credential.secrets.contains_key(campaign_console::model::SECRET_SLOT));
        assert_eq!(console.credentials().unwrap()[0].secrets, credential.secrets);

        // While open (data may sit in the WAL file) and…
        assert!(!files_containing(dir.path(), name.as_bytes()).is_empty(), "the scan must see what was saved");
        assert_eq!(files_containing(dir.path(), secret.as_bytes()), Vec::<String>::new());
    }
    // …after closing (the WAL is checkpointed into the database file).
    assert!(!files_containing(dir.path(), name.as_bytes()).is_empty());
    assert_eq!(files_containing(dir.path(), secret.as_bytes()), Vec::<String>::new());
}

#[test]
fn a_refused_credential_leaves_no_secret_behind_and_delete_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let settings = ProviderSettings::from_json(
        ProviderKind::Smtp,
        serde_json::json!({ "host": "smtp.example.com", "from": "news@example.com" }),
    )
    .unwrap();
    let first = console.add_credential(Channel::Email, "Mail", settings.clone(), Some("pw-1")).unwrap();
    let err = console.add_credential(Channel::Email, "Mail", settings, Some("pw-2")).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(console.credentials().unwrap().len(), 1);

    console.delete_credential(first.id).unwrap();
    assert!(console.credentials().unwrap().is_empty());
    assert_eq!(console.credential_secret(&first).unwrap(), None, "the secret went with its credential");
}

/// A credential may keep several secrets (named slots, as an X service needs four): each goes
/// to the keychain under its own reference, a change replaces only the slots typed, and delete
/// removes them all. None is written to the workspace.
#[test]
fn a_credential_keeps_several_named_secrets_each_in_the_keychain() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let settings = ProviderSettings::from_json(
        ProviderKind::Http,
        serde_json::json!({ "url": "https://hooks.example.com/x", "secret_header": "Authorization" }),
    )
    .unwrap();
    let typed = |pairs: &[(&str, &str)]| -> campaign_console::console::SecretValues {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    let c = console
        .add_credential_with(
            Channel::Webhook,
            "X account",
            settings.clone(),
            &typed(&[("secret", "bearer-ONE-secret"), ("api_key_secret", "key-TWO-secret")]),
        )
        .unwrap();
    assert_eq!(c.secrets.len(), 2);
    assert_ne!(c.secrets["secret"], c.secrets["api_key_secret"], "one keychain entry per slot");
    let kept = console.credential_secrets(&c).unwrap();
    assert_eq!(kept["secret"], "bearer-ONE-secret");
    assert_eq!(kept["api_key_secret"], "key-TWO-secret");
    // A change of one slot keeps the other.
    let c = console
        .update_credential_with(c.id, "X account", settings, &typed(&[("api_key_secret", "key-THREE-secret")]))
        .unwrap();
    let kept = console.credential_secrets(&c).unwrap();
    assert_eq!((kept["secret"].as_str(), kept["api_key_secret"].as_str()), ("bearer-ONE-secret", "key-THREE-secret"));
    for secret in ["bearer-ONE-secret", "key-TWO-secret", "key-THREE-secret"] {
        assert_eq!(files_containing(dir.path(), secret.as_bytes()), Vec::<String>::new(), "{secret} is on disk");
    }
    console.delete_credential(c.id).unwrap();
    assert!(console.credential_secrets(&c).unwrap().is_empty(), "both secrets went with their credential");
}

/// A workspace from before named slots keeps its credentials' secrets: the upgrade moves each
/// keychain reference to the slot `secret`, and the secret is found there.
#[test]
fn an_older_workspace_keeps_its_secret_references_through_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut conn = rusqlite::Connection::open(dir.path().join(campaign_console::store::DATABASE_FILE)).unwrap();
        campaign_console::store::migrations::MIGRATIONS.to_version(&mut conn, 7).unwrap();
        conn.execute_batch(
            "INSERT INTO cc_credentials (channel, provider, name, settings_json, secret_ref, created_at, is_default)
             VALUES ('email', 'smtp', 'Old relay', '{\"host\": \"smtp.example.com\", \"from\": \"a@example.com\"}',
                     'credential/old-ref', '2026-01-01T00:00:00Z', 1),
                    ('sms', 'sandbox', 'Old sandbox', '{}', NULL, '2026-01-01T00:00:00Z', 1);",
        )
        .unwrap();
    }
    let console = testing::console(dir.path()).unwrap();
    let list = console.credentials().unwrap();
    let relay = list.iter().find(|c| c.name == "Old relay").unwrap();
    assert_eq!(
        relay.secrets.get(campaign_console::model::SECRET_SLOT),
        Some(&campaign_console::model::SecretRef("credential/old-ref".into()))
    );
    let sandbox = list.iter().find(|c| c.name == "Old sandbox").unwrap();
    assert!(sandbox.secrets.is_empty(), "no secret, no slot");
}
