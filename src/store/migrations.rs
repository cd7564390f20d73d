//! Numbered schema migrations. Never edit a released migration: add the next one.

use std::sync::LazyLock;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

mod reports;

/// The schema steps: version N is the state after the N-th step.
const STEPS: &[&str] = &[
    // 1: data model, campaigns and canvases, audit log.
    "CREATE TABLE cc_workspace_meta (
                 key TEXT PRIMARY KEY,
                 value TEXT NOT NULL
             );
             CREATE TABLE cc_entities (
                 name TEXT PRIMARY KEY,
                 label TEXT NOT NULL,
                 primary_key TEXT NOT NULL,
                 position INTEGER NOT NULL
             );
             CREATE TABLE cc_columns (
                 entity TEXT NOT NULL REFERENCES cc_entities(name) ON DELETE CASCADE,
                 name TEXT NOT NULL,
                 label TEXT NOT NULL,
                 column_type TEXT NOT NULL
                     CHECK (column_type IN ('integer','decimal','text','boolean','date','timestamp')),
                 position INTEGER NOT NULL,
                 PRIMARY KEY (entity, name)
             );
             CREATE TABLE cc_links (
                 name TEXT NOT NULL,
                 child TEXT NOT NULL REFERENCES cc_entities(name) ON DELETE CASCADE,
                 foreign_key TEXT NOT NULL,
                 parent TEXT NOT NULL REFERENCES cc_entities(name) ON DELETE CASCADE,
                 PRIMARY KEY (child, name)
             );
             CREATE TABLE cc_identity_namespaces (
                 name TEXT PRIMARY KEY,
                 entity TEXT NOT NULL REFERENCES cc_entities(name) ON DELETE CASCADE,
                 column_name TEXT NOT NULL
             );
             CREATE TABLE cc_campaigns (
                 id INTEGER PRIMARY KEY,
                 name TEXT NOT NULL,
                 kind TEXT NOT NULL CHECK (kind IN ('orchestrated','action_triggered','api_triggered')),
                 status TEXT NOT NULL CHECK (status IN ('draft','live','paused','stopped','completed')),
                 starts_at TEXT,
                 ends_at TEXT,
                 published_at TEXT,
                 created_at TEXT NOT NULL,
                 modified_at TEXT NOT NULL
             );
             CREATE UNIQUE INDEX cc_campaigns_name ON cc_campaigns(name COLLATE NOCASE);
             CREATE TABLE cc_canvases (
                 campaign_id INTEGER PRIMARY KEY REFERENCES cc_campaigns(id) ON DELETE CASCADE,
                 canvas_json TEXT NOT NULL,
                 modified_at TEXT NOT NULL
             );
             CREATE TABLE cc_audit_log (
                 id INTEGER PRIMARY KEY,
                 at TEXT NOT NULL,
                 actor TEXT NOT NULL,
                 action TEXT NOT NULL,
                 subject TEXT NOT NULL,
                 detail TEXT NOT NULL DEFAULT ''
             );",
    // 2: channels and sending: credentials, X services, visitors, deliveries, the send
    // ledger, interaction events, API keys.
    "CREATE TABLE cc_credentials (
                 id INTEGER PRIMARY KEY,
                 channel TEXT NOT NULL,
                 provider TEXT NOT NULL,
                 name TEXT NOT NULL,
                 settings_json TEXT NOT NULL DEFAULT '{}',
                 secret_ref TEXT,
                 created_at TEXT NOT NULL,
                 UNIQUE (channel, name)
             );
             CREATE TABLE cc_x_services (
                 id INTEGER PRIMARY KEY,
                 label TEXT NOT NULL,
                 internal_name TEXT NOT NULL UNIQUE,
                 visitor_folder TEXT NOT NULL,
                 sync_subscriptions INTEGER NOT NULL DEFAULT 0,
                 secret_ref TEXT NOT NULL,
                 sync_schedule TEXT NOT NULL DEFAULT '0 30 7 * * THU',
                 last_sync_at TEXT,
                 created_at TEXT NOT NULL
             );
             CREATE TABLE cc_visitors (
                 id INTEGER PRIMARY KEY,
                 origin TEXT NOT NULL,
                 external_id TEXT NOT NULL,
                 username TEXT NOT NULL,
                 full_name TEXT NOT NULL,
                 followers_count INTEGER NOT NULL DEFAULT 0,
                 verified INTEGER NOT NULL DEFAULT 0,
                 folder TEXT NOT NULL,
                 x_service_id INTEGER REFERENCES cc_x_services(id) ON DELETE SET NULL,
                 synced_at TEXT NOT NULL,
                 UNIQUE (origin, external_id)
             );
             CREATE TABLE cc_deliveries (
                 id INTEGER PRIMARY KEY,
                 campaign_id INTEGER REFERENCES cc_campaigns(id) ON DELETE SET NULL,
                 activity_id TEXT,
                 channel TEXT NOT NULL,
                 credential_id INTEGER REFERENCES cc_credentials(id) ON DELETE SET NULL,
                 status TEXT NOT NULL,
                 is_proof INTEGER NOT NULL DEFAULT 0,
                 created_at TEXT NOT NULL,
                 started_at TEXT,
                 finished_at TEXT
             );
             CREATE TABLE cc_ledger (
                 id INTEGER PRIMARY KEY,
                 delivery_id INTEGER NOT NULL REFERENCES cc_deliveries(id) ON DELETE CASCADE,
                 idempotency_key TEXT NOT NULL UNIQUE,
                 recipient_key TEXT NOT NULL,
                 secondary_key TEXT NOT NULL DEFAULT '',
                 address TEXT NOT NULL,
                 status TEXT NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0,
                 next_attempt_at TEXT,
                 provider_message_id TEXT,
                 error_code TEXT,
                 error_message TEXT,
                 updated_at TEXT NOT NULL
             );
             CREATE INDEX cc_ledger_delivery_status ON cc_ledger(delivery_id, status);
             CREATE TABLE cc_interactions (
                 id INTEGER PRIMARY KEY,
                 kind TEXT NOT NULL,
                 at TEXT NOT NULL,
                 campaign_id INTEGER,
                 delivery_id INTEGER,
                 ledger_id INTEGER,
                 profile_key TEXT,
                 detail_json TEXT NOT NULL DEFAULT '{}'
             );
             CREATE INDEX cc_interactions_campaign ON cc_interactions(campaign_id, kind, at);
             CREATE TABLE cc_api_keys (
                 id INTEGER PRIMARY KEY,
                 name TEXT NOT NULL,
                 prefix TEXT NOT NULL,
                 key_hash TEXT NOT NULL UNIQUE,
                 created_at TEXT NOT NULL,
                 revoked_at TEXT
             );",
    // 3: saved audiences (written by Save audience, read by Read audience).
    "CREATE TABLE cc_audiences (
                 id INTEGER PRIMARY KEY,
                 name TEXT NOT NULL,
                 dimension TEXT NOT NULL,
                 row_count INTEGER NOT NULL,
                 campaign_id INTEGER REFERENCES cc_campaigns(id) ON DELETE SET NULL,
                 version INTEGER NOT NULL,
                 created_at TEXT NOT NULL,
                 modified_at TEXT NOT NULL
             );
             CREATE UNIQUE INDEX cc_audiences_name ON cc_audiences(name COLLATE NOCASE);
             CREATE TABLE cc_audience_members (
                 audience_id INTEGER NOT NULL REFERENCES cc_audiences(id) ON DELETE CASCADE,
                 key INTEGER NOT NULL,
                 PRIMARY KEY (audience_id, key)
             ) WITHOUT ROWID;",
    // 4: what a delivery sends, each ledger row's personalization values, the Sandbox's outbox
    // (not unique by key on purpose: a message sent twice would show).
    "ALTER TABLE cc_deliveries ADD COLUMN message_json TEXT NOT NULL DEFAULT '{}';
             ALTER TABLE cc_ledger ADD COLUMN vars_json TEXT;
             CREATE TABLE cc_sandbox_messages (
                 id INTEGER PRIMARY KEY,
                 idempotency_key TEXT NOT NULL,
                 channel TEXT NOT NULL,
                 address TEXT NOT NULL,
                 subject TEXT NOT NULL DEFAULT '',
                 body TEXT NOT NULL DEFAULT '',
                 html TEXT NOT NULL DEFAULT '',
                 created_at TEXT NOT NULL,
                 -- When its simulated events (delivered, opened, …) were written.
                 events_at TEXT
             );
             CREATE INDEX cc_sandbox_messages_key ON cc_sandbox_messages(idempotency_key);
             CREATE INDEX cc_sandbox_messages_pending ON cc_sandbox_messages(events_at, created_at);
             CREATE INDEX cc_interactions_delivery ON cc_interactions(delivery_id, kind);",
    // 5: each channel's default credential, chosen by the user (until then, its oldest).
    "ALTER TABLE cc_credentials ADD COLUMN is_default INTEGER NOT NULL DEFAULT 0;
             UPDATE cc_credentials SET is_default = 1
              WHERE id IN (SELECT MIN(id) FROM cc_credentials GROUP BY channel);",
    // 6: scheduled launches (the last one handled per campaign, a lease so that one process
    // launches at a time) and the record of every run.
    "ALTER TABLE cc_campaigns ADD COLUMN last_launch_at TEXT;
             CREATE TABLE cc_leases (
                 name TEXT PRIMARY KEY,
                 holder TEXT NOT NULL,
                 expires_at INTEGER NOT NULL
             );
             CREATE TABLE cc_campaign_runs (
                 id INTEGER PRIMARY KEY,
                 campaign_id INTEGER NOT NULL REFERENCES cc_campaigns(id) ON DELETE CASCADE,
                 trigger TEXT NOT NULL CHECK (trigger IN ('manual', 'scheduled')),
                 scheduled_for TEXT,
                 missed INTEGER NOT NULL DEFAULT 0,
                 started_at TEXT NOT NULL,
                 finished_at TEXT,
                 outcome TEXT,
                 failed INTEGER NOT NULL DEFAULT 0
             );
             CREATE INDEX cc_campaign_runs_campaign ON cc_campaign_runs(campaign_id, id);",
    // 7: the last counts of each canvas, shown at once when it is opened again.
    "CREATE TABLE cc_count_cache (
                 campaign_id INTEGER PRIMARY KEY REFERENCES cc_campaigns(id) ON DELETE CASCADE,
                 canvas_key TEXT NOT NULL,
                 data_version INTEGER NOT NULL,
                 day TEXT NOT NULL,
                 report_json TEXT NOT NULL,
                 problems_json TEXT NOT NULL,
                 counted_at TEXT NOT NULL
             );",
    // 8: a credential may hold several secrets (named slots), each a keychain reference.
    "ALTER TABLE cc_credentials ADD COLUMN secret_refs_json TEXT NOT NULL DEFAULT '{}';
     UPDATE cc_credentials SET secret_refs_json = json_object('secret', secret_ref), secret_ref = NULL
      WHERE secret_ref IS NOT NULL;",
    // 9: import mappings saved by name, for the next load of the same kind of file.
    "CREATE TABLE cc_import_mappings (
                 name TEXT PRIMARY KEY COLLATE NOCASE,
                 mapping_json TEXT NOT NULL,
                 saved_at TEXT NOT NULL
             );",
    // 10: a row's messages and events, found by its key (the profile browser's detail pane).
    "CREATE INDEX cc_ledger_recipient ON cc_ledger(recipient_key);
     CREATE INDEX cc_interactions_profile ON cc_interactions(profile_key);",
    // 11: columns hidden from marketers' pickers, and what a column holds in a sentence.
    "ALTER TABLE cc_columns ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE cc_columns ADD COLUMN description TEXT NOT NULL DEFAULT '';",
    // 12: SMS: a credential's last verification, what the provider later said of a message
    // (delivered, undelivered), and the messages people send back.
    "ALTER TABLE cc_credentials ADD COLUMN verified_json TEXT;
     ALTER TABLE cc_ledger ADD COLUMN provider_status TEXT;
     CREATE INDEX cc_ledger_provider_message ON cc_ledger(provider_message_id);
     CREATE TABLE cc_inbound_messages (
         id INTEGER PRIMARY KEY,
         credential_id INTEGER REFERENCES cc_credentials(id) ON DELETE SET NULL,
         provider_message_id TEXT NOT NULL,
         from_address TEXT NOT NULL,
         to_address TEXT NOT NULL,
         body TEXT NOT NULL,
         keyword TEXT NOT NULL DEFAULT '',
         profile_key TEXT,
         received_at TEXT NOT NULL,
         UNIQUE (credential_id, provider_message_id)
     );
     CREATE INDEX cc_inbound_received ON cc_inbound_messages(received_at);
     CREATE TABLE cc_pending_reports (
         message_id TEXT PRIMARY KEY,
         status TEXT NOT NULL,
         error_code TEXT,
         reported_at TEXT NOT NULL
     );",
    // 13: SMS configurations (what an SMS activity picks), the one a delivery started with, and
    // the short links of the messages sent with one that shortens them.
    "CREATE TABLE cc_sms_configurations (
         id INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE COLLATE NOCASE,
         credential_id INTEGER NOT NULL REFERENCES cc_credentials(id) ON DELETE CASCADE,
         sender TEXT NOT NULL DEFAULT '',
         keywords_json TEXT NOT NULL,
         shorten_links INTEGER NOT NULL DEFAULT 0,
         created_at TEXT NOT NULL
     );
     ALTER TABLE cc_deliveries ADD COLUMN configuration_id INTEGER;
     ALTER TABLE cc_deliveries ADD COLUMN short_links_base TEXT;
     CREATE TABLE cc_short_links (
         code TEXT PRIMARY KEY,
         url TEXT NOT NULL,
         ledger_key TEXT NOT NULL,
         created_at TEXT NOT NULL
     ) WITHOUT ROWID;",
    // 14: the runs of the follower synchronization of X services, resumable page by page.
    "CREATE TABLE cc_sync_runs (
         id INTEGER PRIMARY KEY,
         service_id INTEGER NOT NULL REFERENCES cc_credentials(id) ON DELETE CASCADE,
         started_at TEXT NOT NULL,
         status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
         next_token TEXT,
         pages INTEGER NOT NULL DEFAULT 0,
         visitors INTEGER NOT NULL DEFAULT 0,
         unfollowed INTEGER NOT NULL DEFAULT 0,
         finished_at TEXT,
         outcome TEXT NOT NULL DEFAULT ''
     );
     CREATE INDEX cc_sync_runs_service ON cc_sync_runs(service_id, id);",
    // 15: technical workflows (the X follower synchronization): started or not, their schedule,
    // their last launch.
    "CREATE TABLE cc_technical_workflows (
         key TEXT PRIMARY KEY,
         started INTEGER NOT NULL DEFAULT 0,
         schedule_json TEXT NOT NULL,
         timezone TEXT,
         started_at TEXT,
         last_launch_at TEXT
     );",
    // 16: API-triggered campaigns: their form, the executions of the trigger API (one a request
    // id), keys with scopes and last use, transactional deliveries (outside the frequency cap),
    // and reported events counted once by their id.
    "CREATE TABLE cc_api_campaigns (
         campaign_id INTEGER PRIMARY KEY REFERENCES cc_campaigns(id) ON DELETE CASCADE,
         settings_json TEXT NOT NULL,
         modified_at TEXT NOT NULL
     );
     CREATE TABLE cc_api_executions (
         id TEXT PRIMARY KEY,
         campaign_id INTEGER NOT NULL REFERENCES cc_campaigns(id) ON DELETE CASCADE,
         request_id TEXT NOT NULL,
         delivery_id INTEGER REFERENCES cc_deliveries(id) ON DELETE SET NULL,
         api_key_id INTEGER,
         recipients_json TEXT NOT NULL,
         created_at TEXT NOT NULL,
         UNIQUE (campaign_id, request_id)
     );
     ALTER TABLE cc_api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'trigger,events';
     ALTER TABLE cc_api_keys ADD COLUMN last_used_at TEXT;
     ALTER TABLE cc_deliveries ADD COLUMN transactional INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE cc_interactions ADD COLUMN event_id TEXT;
     CREATE UNIQUE INDEX cc_interactions_event ON cc_interactions(event_id) WHERE event_id IS NOT NULL;",
    // 17: email tracking: where a tracked delivery's links lead (kept, so that a message made
    // again is the same), and the unsubscribe link of each Sandbox email.
    "ALTER TABLE cc_deliveries ADD COLUMN tracking_base TEXT;
     ALTER TABLE cc_sandbox_messages ADD COLUMN unsubscribe TEXT NOT NULL DEFAULT '';
     CREATE INDEX cc_interactions_ledger ON cc_interactions(ledger_id, kind);",
    // 18: campaign connectors: their form; what a published one listens to (its triggers and
    // exception events, written when it is published); the pending sends, made by a trigger on
    // the events table in the same transaction as the event that causes them (whichever code
    // writes it), at most once per connector and event; an exception event cancels a waiting
    // one of its profile only if it happens after the trigger.
    "CREATE TABLE cc_connectors (
         campaign_id INTEGER PRIMARY KEY REFERENCES cc_campaigns(id) ON DELETE CASCADE,
         settings_json TEXT NOT NULL,
         modified_at TEXT NOT NULL
     );
     CREATE TABLE cc_connector_rules (
         connector_id INTEGER NOT NULL REFERENCES cc_campaigns(id) ON DELETE CASCADE,
         role TEXT NOT NULL CHECK (role IN ('trigger', 'exception')),
         interaction TEXT NOT NULL,
         kind TEXT NOT NULL,
         channel TEXT,
         campaign_id INTEGER,
         message TEXT,
         alias TEXT,
         name TEXT,
         delay_seconds INTEGER
     );
     CREATE INDEX cc_connector_rules_kind ON cc_connector_rules(kind, role);
     CREATE TABLE cc_pending_sends (
         id INTEGER PRIMARY KEY,
         connector_id INTEGER NOT NULL REFERENCES cc_campaigns(id) ON DELETE CASCADE,
         profile_key TEXT NOT NULL,
         event_id INTEGER NOT NULL,
         interaction TEXT NOT NULL,
         source_campaign_id INTEGER,
         trigger_at TEXT NOT NULL,
         due_at INTEGER,
         state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'fired', 'cancelled')),
         reason TEXT,
         reason_detail TEXT,
         ledger_id INTEGER,
         settled_at TEXT,
         UNIQUE (connector_id, event_id)
     );
     CREATE INDEX cc_pending_due ON cc_pending_sends(state, due_at);
     CREATE INDEX cc_pending_profile ON cc_pending_sends(profile_key, state);
     CREATE INDEX cc_pending_connector ON cc_pending_sends(connector_id, state, profile_key);
     CREATE TRIGGER cc_interactions_connect AFTER INSERT ON cc_interactions
     WHEN NEW.profile_key IS NOT NULL AND EXISTS (SELECT 1 FROM cc_connector_rules r WHERE r.kind = NEW.kind)
     BEGIN
         UPDATE cc_pending_sends
            SET state = 'cancelled', reason = 'exception', reason_detail = (
                    SELECT r.interaction FROM cc_connector_rules r
                     WHERE r.connector_id = cc_pending_sends.connector_id AND r.role = 'exception' AND r.kind = NEW.kind
                     LIMIT 1),
                settled_at = NEW.at
          WHERE state = 'waiting' AND profile_key = NEW.profile_key
            AND julianday(NEW.at) >= julianday(trigger_at) AND event_id <> NEW.id
            AND connector_id IN (
                SELECT r.connector_id FROM cc_connector_rules r
                 WHERE r.role = 'exception' AND r.kind = NEW.kind
                   AND (r.campaign_id IS NULL OR r.campaign_id = NEW.campaign_id
                        OR (r.campaign_id = 0 AND NEW.campaign_id = cc_pending_sends.source_campaign_id))
                   AND (r.channel IS NULL OR r.channel = (SELECT d.channel FROM cc_deliveries d WHERE d.id = NEW.delivery_id))
                   AND (r.alias IS NULL OR r.alias = COALESCE(json_extract(NEW.detail_json, '$.alias'), json_extract(NEW.detail_json, '$.link_alias')))
                   AND (r.name IS NULL OR lower(r.name) = lower(json_extract(NEW.detail_json, '$.name')))
                   AND (r.message IS NULL OR r.message = json_extract(NEW.detail_json, '$.message')
                        OR r.message = (SELECT d.activity_id FROM cc_deliveries d WHERE d.id = NEW.delivery_id)));
         INSERT OR IGNORE INTO cc_pending_sends
                (connector_id, profile_key, event_id, interaction, source_campaign_id, trigger_at, due_at)
         SELECT r.connector_id, NEW.profile_key, NEW.id, MIN(r.interaction), NEW.campaign_id, NEW.at,
                unixepoch(NEW.at) + MIN(r.delay_seconds)
           FROM cc_connector_rules r JOIN cc_campaigns c ON c.id = r.connector_id
          WHERE r.role = 'trigger' AND r.kind = NEW.kind AND r.campaign_id = NEW.campaign_id
            AND c.status = 'live' AND c.published_at IS NOT NULL
            AND julianday(NEW.at) >= julianday(c.published_at)
            AND (c.starts_at IS NULL OR julianday(NEW.at) >= julianday(c.starts_at))
            AND (c.ends_at IS NULL OR julianday(NEW.at) <= julianday(c.ends_at))
            AND (r.channel IS NULL OR r.channel = (SELECT d.channel FROM cc_deliveries d WHERE d.id = NEW.delivery_id))
            AND (r.alias IS NULL OR r.alias = COALESCE(json_extract(NEW.detail_json, '$.alias'), json_extract(NEW.detail_json, '$.link_alias')))
            AND (r.name IS NULL OR lower(r.name) = lower(json_extract(NEW.detail_json, '$.name')))
            AND (r.message IS NULL OR r.message = json_extract(NEW.detail_json, '$.message')
                 OR r.message = (SELECT d.activity_id FROM cc_deliveries d WHERE d.id = NEW.delivery_id))
          GROUP BY r.connector_id;
     END;",
    // 19: a trigger call is kept as soon as it is accepted (its answer waits for nothing
    // else); its recipients are resolved, and its ledger written, just after: until then it
    // has no resolution time. A call whose messages could not be made says why.
    "ALTER TABLE cc_api_executions ADD COLUMN resolved_at TEXT;
     ALTER TABLE cc_api_executions ADD COLUMN failure TEXT;
     UPDATE cc_api_executions SET resolved_at = created_at;
     CREATE INDEX cc_api_executions_unresolved ON cc_api_executions(created_at) WHERE resolved_at IS NULL;",
    // 20: reports: each event counted as it is written (see `reports::EVENTS`).
    reports::EVENTS,
    // 21: reports: the ledger counted by delivery, status and code as it changes.
    reports::LEDGER,
    // 22: what the data guarantees (`column_facts.rs`): whether an entity's columns hold
    // distinct values, with the data version that was found at.
    "CREATE TABLE cc_column_facts (
         entity TEXT NOT NULL,
         columns TEXT NOT NULL,
         data_version INTEGER NOT NULL,
         is_distinct INTEGER NOT NULL,
         PRIMARY KEY (entity, columns)
     ) WITHOUT ROWID;",
    // 23: what the data guarantees (`column_facts.rs`): whether a timestamp column holds UTC
    // text to the second only, with the data version that was found at.
    "CREATE TABLE cc_instant_facts (
         entity TEXT NOT NULL,
         column_name TEXT NOT NULL,
         data_version INTEGER NOT NULL,
         canonical INTEGER NOT NULL,
         PRIMARY KEY (entity, column_name)
     ) WITHOUT ROWID;",
    // 24: the checks of addresses that counts keep (`audience/compile/address_checks.rs`):
    // whether a channel can send to an address, as `checker` (the phone parser and its
    // numbering plans, `model::address::ADDRESS_CHECKER`) found.
    "CREATE TABLE cc_address_checks (
         checker TEXT NOT NULL,
         kind TEXT NOT NULL,
         address TEXT NOT NULL,
         valid INTEGER NOT NULL,
         PRIMARY KEY (checker, kind, address)
     ) WITHOUT ROWID;",
];

/// The migrations built from [`STEPS`].
pub static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::new(STEPS.iter().map(|sql| M::up(sql)).collect()));

/// The number of migration steps: a fully upgraded workspace has this `user_version`.
pub fn latest_version() -> usize {
    STEPS.len()
}

/// Brings the database to the latest schema.
pub fn migrate(conn: &mut Connection) -> Result<(), rusqlite_migration::Error> {
    MIGRATIONS.to_latest(conn)
}

/// The schema version the database is at.
pub fn current_version(conn: &Connection) -> Result<usize, rusqlite_migration::Error> {
    Ok(usize::from(MIGRATIONS.current_version(conn)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    /// A database left at every earlier version (empty included) opens as a workspace at the
    /// latest version, keeping what it held.
    #[test]
    fn upgrades_from_every_earlier_version() {
        for version in 0..=latest_version() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(crate::store::DATABASE_FILE);
            {
                let mut conn = Connection::open(&path).unwrap();
                MIGRATIONS.to_version(&mut conn, version).unwrap();
                assert_eq!(current_version(&conn).unwrap(), version);
                if version >= 1 {
                    conn.execute(
                        "INSERT INTO cc_campaigns (name, kind, status, created_at, modified_at)
                         VALUES ('Kept', 'orchestrated', 'draft', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                        [],
                    )
                    .unwrap();
                }
            }
            let ws = crate::store::Workspace::open(dir.path()).unwrap();
            let conn = ws.conn();
            assert_eq!(current_version(&conn).unwrap(), latest_version(), "from version {version}");
            let kept: i64 =
                conn.query_row("SELECT COUNT(*) FROM cc_campaigns WHERE name = 'Kept'", [], |r| r.get(0)).unwrap();
            assert_eq!(kept, i64::from(version >= 1), "from version {version}");
            // Every table of the latest schema is there.
            for table in ["cc_entities", "cc_campaigns", "cc_credentials", "cc_ledger", "cc_api_keys"] {
                let n: i64 = conn
                    .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = ?1", [table], |r| r.get(0))
                    .unwrap();
                assert_eq!(n, 1, "{table} missing after upgrading from version {version}");
            }
        }
    }

    #[test]
    fn opens_in_wal_mode_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let ws = crate::store::Workspace::open(dir.path()).unwrap();
        let conn = ws.conn();
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
    }
}
