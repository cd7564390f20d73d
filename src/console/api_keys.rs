//! API keys: made at random, shown once, kept as a SHA-256 hash (a stolen workspace holds no
//! usable key), revocable; every `/v1` call is authenticated here and its use noted.

use base64::Engine as _;

use super::{ApiKeyCommand, Console, ConsoleError, Event, UserError};
use crate::model::api::{ApiKey, ApiScope};
use crate::store;

/// What every key starts with (so a key found in a log or a repository is recognised).
pub const KEY_PREFIX: &str = "cc_";

/// Why a call was refused before it did anything.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No key, or one the workspace does not know (or has revoked): 401.
    #[error("{0}")]
    Unauthorized(String),
    /// A known key without the scope the call needs: 403.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Console(#[from] ConsoleError),
}

fn hash(key: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl Console {
    /// Makes a key named `name` with `scopes`; returns it (the only time it is shown) and how
    /// it is kept.
    pub fn create_api_key(&self, name: &str, scopes: &[ApiScope]) -> Result<(String, ApiKey), ConsoleError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err(ConsoleError::Invalid(
                "name the key in a few words (at most 60 characters), e.g. \u{201c}Website\u{201d}".into(),
            ));
        }
        if scopes.is_empty() {
            return Err(ConsoleError::Invalid("give the key at least one scope: trigger, events".into()));
        }
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes)
            .map_err(|_| ConsoleError::CannotRun("the system gave no random numbers to make a key with".into()))?;
        let key = format!("{KEY_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
        let prefix: String = key.chars().take(KEY_PREFIX.len() + 6).collect();
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let conn = self.workspace.conn();
        let kept = store::api::create_key(&conn, name, &prefix, &hash(&key), &scopes, self.now())?;
        store::audit::record(&conn, self.now(), "admin", "create API key", name, &prefix)?;
        Ok((key, kept))
    }

    /// Every API key (in use first).
    pub fn api_keys(&self) -> Result<Vec<ApiKey>, ConsoleError> {
        Ok(store::api::list_keys(&self.workspace.conn())?)
    }

    /// Revokes the key in use named `name`: calls with it are refused from now on.
    pub fn revoke_api_key(&self, name: &str) -> Result<(), ConsoleError> {
        let conn = self.workspace.conn();
        if !store::api::revoke_key(&conn, name, self.now())? {
            return Err(ConsoleError::Invalid(format!("no API key in use is named \u{201c}{}\u{201d}", name.trim())));
        }
        store::audit::record(&conn, self.now(), "admin", "revoke API key", name.trim(), "")?;
        Ok(())
    }

    /// The key a call gives (`Authorization: Bearer <key>`), if it may do what needs `scope`;
    /// its last use is noted (to the minute).
    pub fn authenticate(&self, bearer: Option<&str>, scope: ApiScope) -> Result<ApiKey, AuthError> {
        let key = self.check_key(bearer, scope)?;
        store::api::touch_key(&self.workspace.conn(), key.id, self.now()).map_err(ConsoleError::from)?;
        Ok(key)
    }

    /// The API key `bearer` names, if it may use `scope`. Read on a connection of its own, so
    /// that a call is never kept waiting behind the writes of others.
    pub fn check_key(&self, bearer: Option<&str>, scope: ApiScope) -> Result<ApiKey, AuthError> {
        let given = bearer.map(str::trim).filter(|k| !k.is_empty()).ok_or_else(|| {
            AuthError::Unauthorized("an API key is needed: send it as Authorization: Bearer <key>".into())
        })?;
        let hash = hash(given);
        let key = self
            .workspace
            .read(|conn| store::api::key_by_hash(conn, &hash))
            .map_err(ConsoleError::from)?
            .filter(|k| k.revoked_at.is_none())
            .ok_or_else(|| AuthError::Unauthorized("this API key is not known here, or it was revoked".into()))?;
        if !key.scopes.contains(&scope) {
            return Err(AuthError::Forbidden(format!(
                "the API key \u{201c}{}\u{201d} may not do this: it needs the {} scope",
                key.name,
                scope.as_str()
            )));
        }
        Ok(key)
    }

    pub(super) fn api_key_command(&self, command: ApiKeyCommand) -> Vec<Event> {
        let (done, created) = match command {
            ApiKeyCommand::Refresh => (Ok(()), None),
            ApiKeyCommand::Create { name, scopes } => match self.create_api_key(&name, &scopes) {
                Ok((key, _)) => (Ok(()), Some(key)),
                Err(e) => (Err(("The API key was not made", e)), None),
            },
            ApiKeyCommand::Revoke { name } => {
                (self.revoke_api_key(&name).map_err(|e| ("The key was not revoked", e)), None)
            }
        };
        let mut events = Vec::new();
        if let Err((context, e)) = done {
            events.push(Event::Failed(UserError::new(context, &e)));
        }
        match self.api_keys() {
            Ok(list) => events.push(Event::ApiKeys { list, created }),
            Err(e) => events.push(Event::Failed(UserError::new("The API keys could not be read", &e))),
        }
        events
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_is_kept_as_its_sha256() {
        assert_eq!(super::hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
