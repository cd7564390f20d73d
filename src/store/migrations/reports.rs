//! The schema steps of reports: rollups kept up to date by triggers as events and ledger rows
//! are written, so that a report reads counts, never the events or the ledger themselves.
//! Never edit a released step: add the next one.

/// Step 20. Each event, as it is written (whichever code writes it), is counted in an
/// hourly rollup by campaign, activity, channel, kind and detail (a failure's code, a
/// click's link alias), and its profile in the set of those who did that kind at least once
/// (with its count kept beside it); proofs are left out. A report reads these, never the
/// events themselves.
/// What is there already is counted once here.
pub(super) const EVENTS: &str = "CREATE TABLE cc_report_hourly (
         campaign_id INTEGER NOT NULL,
         activity TEXT NOT NULL,
         channel TEXT NOT NULL,
         hour TEXT NOT NULL,
         kind TEXT NOT NULL,
         detail TEXT NOT NULL,
         events INTEGER NOT NULL,
         PRIMARY KEY (campaign_id, hour, activity, channel, kind, detail)
     ) WITHOUT ROWID;
     CREATE TABLE cc_report_uniques (
         campaign_id INTEGER NOT NULL,
         activity TEXT NOT NULL,
         kind TEXT NOT NULL,
         profile_key TEXT NOT NULL,
         PRIMARY KEY (campaign_id, activity, kind, profile_key)
     ) WITHOUT ROWID;
     CREATE TABLE cc_report_unique_counts (
         campaign_id INTEGER NOT NULL,
         activity TEXT NOT NULL,
         kind TEXT NOT NULL,
         profiles INTEGER NOT NULL,
         PRIMARY KEY (campaign_id, activity, kind)
     ) WITHOUT ROWID;
     CREATE VIEW cc_report_events AS
     SELECT i.campaign_id AS campaign_id,
            COALESCE(d.activity_id, json_extract(i.detail_json, '$.activity'), '') AS activity,
            COALESCE(d.channel, '') AS channel,
            strftime('%Y-%m-%dT%H:00:00Z', i.at) AS hour,
            i.kind AS kind,
            CASE WHEN i.kind = 'failed' THEN COALESCE(json_extract(i.detail_json, '$.code'), '')
                 WHEN i.kind = 'clicked' THEN COALESCE(json_extract(i.detail_json, '$.alias'),
                                                       json_extract(i.detail_json, '$.link_alias'), '')
                 WHEN i.kind = 'conversion' THEN COALESCE(json_extract(i.detail_json, '$.name'), '')
                 ELSE '' END AS detail,
            i.profile_key AS profile_key,
            i.id AS event_id,
            COALESCE(d.is_proof, 0) AS proof
       FROM cc_interactions i LEFT JOIN cc_deliveries d ON d.id = i.delivery_id;
     INSERT INTO cc_report_hourly (campaign_id, activity, channel, hour, kind, detail, events)
     SELECT campaign_id, activity, channel, hour, kind, detail, COUNT(*) FROM cc_report_events
      WHERE campaign_id IS NOT NULL AND hour IS NOT NULL AND proof = 0
      GROUP BY campaign_id, hour, activity, channel, kind, detail;
     INSERT INTO cc_report_uniques (campaign_id, activity, kind, profile_key)
     SELECT DISTINCT campaign_id, activity, kind, profile_key FROM cc_report_events
      WHERE campaign_id IS NOT NULL AND profile_key IS NOT NULL AND proof = 0;
     INSERT INTO cc_report_unique_counts (campaign_id, activity, kind, profiles)
     SELECT campaign_id, activity, kind, COUNT(*) FROM cc_report_uniques GROUP BY campaign_id, activity, kind;
     DROP VIEW cc_report_events;
     CREATE TRIGGER cc_interactions_report AFTER INSERT ON cc_interactions
     WHEN NEW.campaign_id IS NOT NULL
      AND COALESCE((SELECT d.is_proof FROM cc_deliveries d WHERE d.id = NEW.delivery_id), 0) = 0
     BEGIN
         INSERT INTO cc_report_hourly (campaign_id, activity, channel, hour, kind, detail, events)
         SELECT NEW.campaign_id, COALESCE((SELECT d.activity_id FROM cc_deliveries d WHERE d.id = NEW.delivery_id), json_extract(NEW.detail_json, '$.activity'), ''),
                COALESCE((SELECT d.channel FROM cc_deliveries d WHERE d.id = NEW.delivery_id), ''),
                strftime('%Y-%m-%dT%H:00:00Z', NEW.at), NEW.kind,
                CASE WHEN NEW.kind = 'failed' THEN COALESCE(json_extract(NEW.detail_json, '$.code'), '')
                     WHEN NEW.kind = 'clicked' THEN COALESCE(json_extract(NEW.detail_json, '$.alias'),
                                                             json_extract(NEW.detail_json, '$.link_alias'), '')
                     WHEN NEW.kind = 'conversion' THEN COALESCE(json_extract(NEW.detail_json, '$.name'), '')
                     ELSE '' END,
                1
          WHERE strftime('%Y-%m-%dT%H:00:00Z', NEW.at) IS NOT NULL
         ON CONFLICT (campaign_id, hour, activity, channel, kind, detail) DO UPDATE SET events = events + 1;
         INSERT OR IGNORE INTO cc_report_unique_counts (campaign_id, activity, kind, profiles)
         SELECT NEW.campaign_id, COALESCE((SELECT d.activity_id FROM cc_deliveries d WHERE d.id = NEW.delivery_id), json_extract(NEW.detail_json, '$.activity'), ''), NEW.kind, 0 WHERE NEW.profile_key IS NOT NULL;
         UPDATE cc_report_unique_counts SET profiles = profiles + 1
          WHERE campaign_id = NEW.campaign_id AND activity = COALESCE((SELECT d.activity_id FROM cc_deliveries d WHERE d.id = NEW.delivery_id), json_extract(NEW.detail_json, '$.activity'), '') AND kind = NEW.kind AND NEW.profile_key IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM cc_report_uniques u
                             WHERE u.campaign_id = NEW.campaign_id AND u.activity = COALESCE((SELECT d.activity_id FROM cc_deliveries d WHERE d.id = NEW.delivery_id), json_extract(NEW.detail_json, '$.activity'), '')
                               AND u.kind = NEW.kind AND u.profile_key = NEW.profile_key);
         INSERT OR IGNORE INTO cc_report_uniques (campaign_id, activity, kind, profile_key)
         SELECT NEW.campaign_id, COALESCE((SELECT d.activity_id FROM cc_deliveries d WHERE d.id = NEW.delivery_id), json_extract(NEW.detail_json, '$.activity'), ''), NEW.kind, NEW.profile_key WHERE NEW.profile_key IS NOT NULL;
     END;";

/// Step 21. The ledger's rows counted by delivery, status and code (a failed or excluded
/// row's error code; "" otherwise) as they are written, change status and are deleted
/// (deleting a delivery deletes its rows, and their counts); proofs are counted too (a report
/// leaves them out by their delivery). What is there already is counted once here.
pub(super) const LEDGER: &str = "CREATE TABLE cc_report_ledger (
         delivery_id INTEGER NOT NULL,
         status TEXT NOT NULL,
         code TEXT NOT NULL,
         rows INTEGER NOT NULL,
         PRIMARY KEY (delivery_id, status, code)
     ) WITHOUT ROWID;
     INSERT INTO cc_report_ledger (delivery_id, status, code, rows)
     SELECT delivery_id, status, CASE WHEN status IN ('failed', 'excluded') THEN COALESCE(error_code, '') ELSE '' END, COUNT(*)
       FROM cc_ledger GROUP BY 1, 2, 3;
     CREATE TRIGGER cc_ledger_report_insert AFTER INSERT ON cc_ledger
     BEGIN
         INSERT INTO cc_report_ledger (delivery_id, status, code, rows)
         VALUES (NEW.delivery_id, NEW.status,
                 CASE WHEN NEW.status IN ('failed', 'excluded') THEN COALESCE(NEW.error_code, '') ELSE '' END, 1)
         ON CONFLICT (delivery_id, status, code) DO UPDATE SET rows = rows + 1;
     END;
     CREATE TRIGGER cc_ledger_report_update AFTER UPDATE OF delivery_id, status, error_code ON cc_ledger
     WHEN OLD.delivery_id IS NOT NEW.delivery_id OR OLD.status IS NOT NEW.status
       OR (CASE WHEN OLD.status IN ('failed', 'excluded') THEN COALESCE(OLD.error_code, '') ELSE '' END)
          IS NOT (CASE WHEN NEW.status IN ('failed', 'excluded') THEN COALESCE(NEW.error_code, '') ELSE '' END)
     BEGIN
         UPDATE cc_report_ledger SET rows = rows - 1
          WHERE delivery_id = OLD.delivery_id AND status = OLD.status
            AND code = CASE WHEN OLD.status IN ('failed', 'excluded') THEN COALESCE(OLD.error_code, '') ELSE '' END;
         INSERT INTO cc_report_ledger (delivery_id, status, code, rows)
         VALUES (NEW.delivery_id, NEW.status,
                 CASE WHEN NEW.status IN ('failed', 'excluded') THEN COALESCE(NEW.error_code, '') ELSE '' END, 1)
         ON CONFLICT (delivery_id, status, code) DO UPDATE SET rows = rows + 1;
     END;
     CREATE TRIGGER cc_ledger_report_delete AFTER DELETE ON cc_ledger
     BEGIN
         UPDATE cc_report_ledger SET rows = rows - 1
          WHERE delivery_id = OLD.delivery_id AND status = OLD.status
            AND code = CASE WHEN OLD.status IN ('failed', 'excluded') THEN COALESCE(OLD.error_code, '') ELSE '' END;
     END;
     CREATE INDEX cc_deliveries_campaign ON cc_deliveries(campaign_id);";
