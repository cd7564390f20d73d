//! Provider credentials: non-secret settings and keychain references (one per secret slot).
//! The secrets themselves are stored by [`crate::secrets`], never here.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError, parse_ts, ts};
use crate::model::{Channel, Credential, ProviderKind, ProviderSettings, SecretRef, Verification};

/// Inserts a credential and returns its id. `credential.id` is ignored.
pub fn insert(conn: &Connection, credential: &Credential) -> Result<i64> {
    let name = credential.name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid("A credential needs a name.".into()));
    }
    let exists: Option<i64> = conn
        .query_row(
            "SELECT id FROM cc_credentials WHERE channel = ?1 AND name = ?2 COLLATE NOCASE",
            params![credential.channel.as_str(), name],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_some() {
        return Err(StoreError::Invalid(format!(
            "A {} credential named \u{201c}{name}\u{201d} already exists.",
            credential.channel.label()
        )));
    }
    // The channel's first credential is its default.
    conn.execute(
        "INSERT INTO cc_credentials (channel, provider, name, settings_json, secret_refs_json, created_at, is_default)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NOT EXISTS (SELECT 1 FROM cc_credentials WHERE channel = ?1))",
        params![
            credential.channel.as_str(),
            credential.provider().as_str(),
            name,
            credential.settings.to_json().to_string(),
            refs_json(credential)?,
            ts(credential.created_at),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A credential's settings as the workspace keeps them: the provider's column and its object.
fn stored_settings(id: i64, provider: &str, settings: &str) -> Result<ProviderSettings> {
    let kind = ProviderKind::parse(provider).ok_or_else(|| StoreError::Damaged(format!("provider {provider:?}")))?;
    let json = serde_json::from_str(settings).map_err(|e| StoreError::Damaged(format!("settings of {id}: {e}")))?;
    ProviderSettings::from_json(kind, json).map_err(|e| StoreError::Damaged(format!("settings of {id}: {e}")))
}

/// All credentials, by channel then name.
pub fn list(conn: &Connection) -> Result<Vec<Credential>> {
    let mut stmt = conn.prepare(
        "SELECT id, channel, provider, name, settings_json, secret_refs_json, created_at, is_default, verified_json
         FROM cc_credentials ORDER BY channel, name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, bool>(7)?,
            r.get::<_, Option<String>>(8)?,
        ))
    })?;
    rows.map(|r| {
        let (id, channel, provider, name, settings, refs, created, is_default, verified) = r?;
        Ok(Credential {
            id,
            channel: Channel::parse(&channel).ok_or_else(|| StoreError::Damaged(format!("channel {channel:?}")))?,
            name,
            settings: stored_settings(id, &provider, &settings)?,
            secrets: serde_json::from_str(&refs)
                .map_err(|e| StoreError::Damaged(format!("secret references of {id}: {e}")))?,
            created_at: parse_ts(&created)?,
            is_default,
            // A damaged note of the last check is no reason to lose the credential.
            verified: verified.and_then(|v| serde_json::from_str(&v).ok()),
        })
    })
    .collect()
}

/// Keeps what the provider answered when credential `id` was last verified.
pub fn set_verified(conn: &Connection, id: i64, verified: &Verification) -> Result<()> {
    let json = serde_json::to_string(verified).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let n = conn.execute("UPDATE cc_credentials SET verified_json = ?2 WHERE id = ?1", params![id, json])?;
    if n == 0 {
        return Err(StoreError::NotFound { what: format!("Credential {id}") });
    }
    Ok(())
}

/// Makes credential `id` its channel's default (and no other).
pub fn set_default(conn: &Connection, id: i64) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    let n = tx.execute(
        "UPDATE cc_credentials SET is_default = (id = ?1)
          WHERE channel = (SELECT channel FROM cc_credentials WHERE id = ?1)",
        [id],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound { what: format!("Credential {id}") });
    }
    tx.commit()?;
    Ok(())
}

/// Deletes a credential; returns the keychain references of its secrets, to delete them too.
pub fn delete(conn: &Connection, id: i64) -> Result<Vec<SecretRef>> {
    let refs: Option<String> =
        conn.query_row("SELECT secret_refs_json FROM cc_credentials WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    let Some(refs) = refs else {
        return Err(StoreError::NotFound { what: format!("Credential {id}") });
    };
    let tx = conn.unchecked_transaction()?;
    let channel: String = tx.query_row("SELECT channel FROM cc_credentials WHERE id = ?1", [id], |r| r.get(0))?;
    tx.execute("DELETE FROM cc_credentials WHERE id = ?1", [id])?;
    // A channel that had its default deleted falls back to its oldest credential, said so.
    tx.execute(
        "UPDATE cc_credentials SET is_default = 1
          WHERE id = (SELECT MIN(id) FROM cc_credentials WHERE channel = ?1)
            AND NOT EXISTS (SELECT 1 FROM cc_credentials WHERE channel = ?1 AND is_default)",
        [&channel],
    )?;
    tx.commit()?;
    let refs: std::collections::BTreeMap<String, SecretRef> =
        serde_json::from_str(&refs).map_err(|e| StoreError::Damaged(format!("secret references of {id}: {e}")))?;
    Ok(refs.into_values().collect())
}

/// Deletes the Sandbox credentials (replacing the demo). Sandbox credentials have no secret.
pub fn delete_sandbox(conn: &Connection) -> Result<()> {
    conn.execute("DELETE FROM cc_credentials WHERE provider = 'sandbox'", [])?;
    Ok(())
}

/// Changes a credential's name, settings and secret reference (its channel and provider stay).
pub fn update(conn: &Connection, credential: &Credential) -> Result<()> {
    let name = credential.name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid("A credential needs a name.".into()));
    }
    let clash: Option<i64> = conn
        .query_row(
            "SELECT id FROM cc_credentials WHERE channel = ?1 AND name = ?2 COLLATE NOCASE AND id <> ?3",
            params![credential.channel.as_str(), name, credential.id],
            |r| r.get(0),
        )
        .optional()?;
    if clash.is_some() {
        return Err(StoreError::Invalid(format!(
            "A {} credential named \u{201c}{name}\u{201d} already exists.",
            credential.channel.label()
        )));
    }
    let n = conn.execute(
        "UPDATE cc_credentials SET name = ?2, settings_json = ?3, secret_refs_json = ?4 WHERE id = ?1",
        params![credential.id, name, credential.settings.to_json().to_string(), refs_json(credential)?],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound { what: format!("Credential {}", credential.id) });
    }
    Ok(())
}

/// A credential's keychain references as stored: a JSON object by slot.
fn refs_json(credential: &Credential) -> Result<String> {
    serde_json::to_string(&credential.secrets)
        .map_err(|e| StoreError::Invalid(format!("the secret references could not be written: {e}")))
}
