//! The Sandbox provider: "sends" by storing each message in the workspace
//! (`cc_sandbox_messages`), so a campaign runs end to end with no account anywhere. It can
//! look a message up by its idempotency key, which makes crash recovery exact.

use std::sync::Mutex;

use rusqlite::Connection;

use super::{Answer, Capabilities, Outgoing, Provider, SendError};
use crate::store;

pub struct Sandbox {
    conn: Mutex<Connection>,
}

impl Sandbox {
    /// A Sandbox writing through its own connection to the workspace database.
    pub fn new(conn: Connection) -> Self {
        Self { conn: Mutex::new(conn) }
    }

    fn store_error(e: &store::StoreError) -> SendError {
        // The workspace being busy or unwritable may pass: try again later.
        SendError::Transient { code: "sandbox_store".into(), message: e.to_string(), retry_after: None }
    }
}

impl Provider for Sandbox {
    fn name(&self) -> &str {
        "Sandbox"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { lookup: true }
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Answer<'a, String> {
        Box::pin(async move { self.store(m) })
    }

    fn lookup<'a>(&'a self, idempotency_key: &'a str) -> Answer<'a, Option<String>> {
        Box::pin(async move {
            let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            store::deliveries::sandbox_lookup(&conn, idempotency_key).map_err(|e| Self::store_error(&e))
        })
    }
}

impl Sandbox {
    fn store(&self, m: &Outgoing) -> Result<String, SendError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        store::deliveries::sandbox_insert(
            &conn,
            &store::deliveries::SandboxMessage {
                idempotency_key: &m.idempotency_key,
                channel: m.channel.as_str(),
                address: &m.address,
                subject: &m.subject,
                body: &m.text,
                html: &m.html,
            },
            jiff::Timestamp::now(),
        )
        .map_err(|e| Self::store_error(&e))
    }
}
