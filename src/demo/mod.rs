//! The demo workspace: a deterministic generator of realistic customer data (profiles with
//! addresses, bookings at hotels, subscriptions and behavioural events), its data model, the
//! identity namespaces, Sandbox credentials for every channel, and one sample campaign of each
//! kind. Same seed and same `today` → the same rows.
//!
//! Everything is written in one transaction: a cancelled or failed generation leaves the
//! workspace as it was.

use rusqlite::Connection;

use crate::model::{
    Campaign, CampaignKind, CampaignStatus, Channel, Column, ColumnType, Credential, DataModel, Entity,
    IdentityNamespace, IndexSpec, Link, ProviderSettings, settings,
};
use crate::store::customer_data::{self, Loader};

mod canvas;
mod model;
mod rows;
use crate::store::{self, StoreError};
pub use canvas::summer_canvas;
pub use model::{INDEXES, data_model};
use rows::insert_rows;
#[cfg(test)]
use rows::{Rng, ascii_lower};

/// The names of the sample campaigns the demo writes.
/// The demo's SMS configuration, on the SMS Sandbox credential: the sample SMS sends with it.
pub const SMS_CONFIGURATION: &str = "Sandbox SMS";

pub const SAMPLE_CAMPAIGNS: [&str; 3] = ["Summer getaway", "Summer reminder", "Password reset"];

/// Sample campaigns of earlier demos, removed with the demo too.
const EARLIER_SAMPLES: [&str; 1] = ["Thanks for reading"];

/// The workspace setting that says the demo data is there (its seed).
const DEMO_SEED: &str = "demo_seed";

/// The seed used unless another is asked for.
pub const DEFAULT_SEED: u64 = 0x00C0_FFEE;

/// Profiles created on the first start of the app.
pub const FIRST_START_PROFILES: u64 = 10_000;

/// The followers of the Sandbox X account in a new demo (visitors once synchronized).
pub const DEFAULT_VISITORS: u64 = 5_000;

/// The largest demo the generator accepts.
pub const MAX_PROFILES: u64 = 50_000_000;

#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub profiles: u64,
    pub seed: u64,
    /// The day the data is generated "as of": bookings are placed around it.
    pub today: jiff::civil::Date,
    /// Replace existing demo tables and campaigns instead of refusing.
    pub replace: bool,
}

/// What was generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSummary {
    pub profiles: u64,
    pub addresses: u64,
    pub hotels: u64,
    pub bookings: u64,
    pub subscriptions: u64,
    pub events: u64,
}

impl DemoSummary {
    pub fn total_rows(&self) -> u64 {
        self.profiles + self.addresses + self.hotels + self.bookings + self.subscriptions + self.events
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the demo was cancelled; the workspace was left as it was")]
    Cancelled,
    #[error("this workspace already holds data ({0}); choose an empty folder, or replace the demo data with --replace")]
    NotEmpty(String),
    #[error("the number of profiles must be between 1 and {MAX_PROFILES}")]
    BadSize,
    #[error("this workspace holds no demo data")]
    NoDemo,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for DemoError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(StoreError::Sqlite(e))
    }
}

// Positions of the entities in `data_model()`.
const PROFILES: usize = 0;
const ADDRESSES: usize = 1;
const HOTEL_TABLE: usize = 2;
const BOOKINGS: usize = 3;
const SUBSCRIPTIONS: usize = 4;
const EVENTS: usize = 5;

/// Writes the demo into the workspace database. `progress` gets the fraction done and returns
/// `false` to cancel. `now` stamps the sample campaigns and credentials.
/// The workspace flag set while the first start's demo generation has not completed (a
/// window closed meanwhile leaves it set, so the next start generates again).
pub const FIRST_START_PENDING: &str = "first_start_demo_pending";

/// Generates the demo data (see the module documentation).
pub fn generate(
    conn: &mut Connection,
    opts: &DemoOptions,
    now: jiff::Timestamp,
    progress: &mut dyn FnMut(f32) -> bool,
) -> Result<DemoSummary, DemoError> {
    if opts.profiles == 0 || opts.profiles > MAX_PROFILES {
        return Err(DemoError::BadSize);
    }
    if !opts.replace
        && let Some(what) = customer_data::occupancy(conn)?
    {
        return Err(DemoError::NotEmpty(what));
    }
    let model = data_model();
    let tx = conn.transaction()?;
    if opts.replace {
        customer_data::drop_tables(&tx, &model)?;
        store::campaigns::delete_all(&tx)?;
        store::credentials::delete_sandbox(&tx)?;
    }
    store::data_model::save(&tx, &model)?;
    customer_data::create_tables(&tx, &model)?;
    let started = std::time::Instant::now();
    let summary = insert_rows(&mut Loader::new(&tx, &model)?, opts, progress)?;
    tracing::info!("demo: {} rows inserted in {:.1} s", summary.total_rows(), started.elapsed().as_secs_f64());
    if !progress(0.96) {
        return Err(DemoError::Cancelled);
    }
    let started = std::time::Instant::now();
    customer_data::create_indexes(&tx, &model, INDEXES)?;
    tracing::info!("demo: indexes and statistics built in {:.1} s", started.elapsed().as_secs_f64());
    insert_samples(&tx, opts.today, now)?;
    customer_data::set_meta(&tx, DEMO_SEED, &opts.seed.to_string())?;
    customer_data::set_meta(&tx, "demo_profiles", &opts.profiles.to_string())?;
    // A first-start generation that was interrupted is redone until it has been done once.
    customer_data::delete_meta(&tx, FIRST_START_PENDING)?;
    customer_data::bump_data_version(&tx)?;
    store::audit::record(&tx, now, "demo", "generate demo", "workspace", &format!("{} profiles", opts.profiles))?;
    tx.commit()?;
    progress(1.0);
    Ok(summary)
}

/// Whether the workspace holds the demo data.
pub fn is_present(conn: &Connection) -> Result<bool, DemoError> {
    Ok(customer_data::meta(conn, DEMO_SEED)?.is_some())
}

/// What removing the demo data takes away, for the user to confirm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoRemoval {
    /// The demo's entities still in the workspace.
    pub entities: Vec<String>,
    /// The sample campaigns still in the workspace.
    pub campaigns: Vec<String>,
}

/// Removes the demo data in one transaction: its entities with their rows, links and
/// identities, and its sample campaigns (their deliveries stay, with no campaign). Sandbox
/// credentials stay: they send the workspace's own data as well. Returns what went.
pub fn remove(conn: &mut Connection, now: jiff::Timestamp) -> Result<DemoRemoval, DemoError> {
    if !is_present(conn)? {
        return Err(DemoError::NoDemo);
    }
    let tx = conn.transaction()?;
    let declared = store::data_model::load(&tx)?;
    let mut removed = DemoRemoval { entities: Vec::new(), campaigns: Vec::new() };
    for e in data_model().entities.iter().rev() {
        if declared.entity(&e.name).is_some() {
            store::data_model::drop_entity(&tx, &e.name)?;
            removed.entities.push(e.name.clone());
        }
    }
    for c in store::campaigns::list(&tx)? {
        if SAMPLE_CAMPAIGNS.contains(&c.name.as_str()) || EARLIER_SAMPLES.contains(&c.name.as_str()) {
            store::campaigns::delete(&tx, c.id)?;
            removed.campaigns.push(c.name);
        }
    }
    customer_data::delete_meta(&tx, DEMO_SEED)?;
    customer_data::delete_meta(&tx, "demo_profiles")?;
    customer_data::bump_data_version(&tx)?;
    store::audit::record(&tx, now, "admin", "remove demo", "workspace", "")?;
    tx.commit()?;
    Ok(removed)
}

fn insert_samples(tx: &Connection, today: jiff::civil::Date, now: jiff::Timestamp) -> Result<(), DemoError> {
    let day = |offset: i64| -> Result<jiff::Timestamp, DemoError> {
        today
            .checked_add(jiff::Span::new().days(offset))
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
            .map(|z| z.timestamp())
            .map_err(|e| DemoError::Store(StoreError::Invalid(format!("demo date: {e}"))))
    };
    let [summer, thanks, reset] = SAMPLE_CAMPAIGNS;
    let samples = [
        Campaign {
            id: 0,
            name: summer.into(),
            kind: CampaignKind::Orchestrated,
            status: CampaignStatus::Draft,
            starts_at: None,
            ends_at: None,
            published_at: None,
            created_at: now,
            modified_at: now,
            last_run: None,
        },
        Campaign {
            id: 0,
            name: thanks.into(),
            kind: CampaignKind::ActionTriggered,
            status: CampaignStatus::Draft,
            starts_at: None,
            ends_at: None,
            published_at: None,
            created_at: now,
            modified_at: now,
            last_run: None,
        },
        Campaign {
            id: 0,
            name: reset.into(),
            kind: CampaignKind::ApiTriggered,
            status: CampaignStatus::Live,
            starts_at: Some(day(-30)?),
            ends_at: Some(day(335)?),
            published_at: Some(day(-30)?),
            created_at: now,
            modified_at: now,
            last_run: None,
        },
    ];
    let mut summer_id = None;
    for c in &samples {
        let id = store::campaigns::insert(tx, c)?;
        summer_id = summer_id.or((c.kind == CampaignKind::Orchestrated).then_some(id));
        write_form(tx, c.kind, id, summer_id, now)?;
    }
    // The Sandbox credentials a removed demo left stay as they are.
    let kept = store::credentials::list(tx)?;
    for channel in Channel::ALL.into_iter().filter(|c| !kept.iter().any(|k| k.channel == *c && k.name == "Sandbox")) {
        let credential = Credential {
            id: 0,
            channel,
            name: "Sandbox".into(),
            // Events a few seconds after each message: most delivered, some opened and clicked.
            settings: ProviderSettings::Sandbox(settings::Sandbox {
                delay_seconds: Some(2.0),
                delivered_rate: Some(0.97),
                open_rate: Some(0.45),
                click_rate: Some(0.25),
                x_followers: (channel == Channel::X).then_some(DEFAULT_VISITORS as f64),
                tracking: if channel == Channel::Email { "on".into() } else { String::new() },
                pace: settings::Pace::default(),
            }),
            secrets: Default::default(),
            created_at: now,
            is_default: false,
            verified: None,
        };
        store::credentials::insert(tx, &credential)?;
    }
    let sms_sandbox = store::credentials::list(tx)?
        .into_iter()
        .find(|c| c.channel == Channel::Sms && c.name == "Sandbox")
        .map(|c| c.id);
    let configured = store::sms_configurations::list(tx)?.iter().any(|c| c.name == SMS_CONFIGURATION);
    if let (Some(credential_id), false) = (sms_sandbox, configured) {
        let configuration = crate::model::sms::SmsConfiguration {
            id: 0,
            name: SMS_CONFIGURATION.into(),
            credential_id,
            sender: "+14155550100".into(),
            keywords: crate::model::sms::Keywords::default(),
            shorten_links: false,
            created_at: now,
        };
        store::sms_configurations::save(tx, &configuration)?;
    }
    Ok(())
}

/// The sample API-triggered campaign: a password reset by email, sent to whoever asks
/// (transactional), with the link the website gives in the call's context.
/// What sample campaign `id` of `kind` is made of: the summer canvas, the reminder's form (on
/// the summer campaign), the reset form.
fn write_form(
    tx: &Connection,
    kind: CampaignKind,
    id: i64,
    summer: Option<i64>,
    now: jiff::Timestamp,
) -> Result<(), DemoError> {
    let json = |value: serde_json::Result<String>, what: &str| {
        value.map_err(|e| DemoError::Store(StoreError::Invalid(format!("demo {what}: {e}"))))
    };
    match kind {
        CampaignKind::Orchestrated => {
            store::campaigns::save_canvas(tx, id, &json(serde_json::to_string(&summer_canvas()), "canvas")?, now)?;
        }
        CampaignKind::ActionTriggered => {
            let form = json(serde_json::to_string(&reminder_form(summer)), "connector")?;
            store::connectors::save_settings(tx, id, &form, now)?;
        }
        CampaignKind::ApiTriggered => {
            store::api::save_settings(tx, id, &json(serde_json::to_string(&reset_form()), "API campaign")?, now)?;
        }
    }
    Ok(())
}

/// The demo's follow-up: the summer email sent again, three days after it was received, to
/// those who did not open it.
fn reminder_form(summer: Option<i64>) -> crate::model::connector::ConnectorForm {
    use crate::model::connector::{ConnectorForm, Delay, Interaction, TriggerRule};
    ConnectorForm {
        description: "The summer offer again, for those who did not open it within three days.".into(),
        triggers: vec![TriggerRule { interaction: Interaction::EmailReceived, campaign: summer, ..TriggerRule::default() }],
        delay: Delay::Days(3),
        exceptions: vec![TriggerRule { interaction: Interaction::EmailOpened, campaign: None, ..TriggerRule::default() }],
        channel: Channel::Email,
        message: crate::model::Message {
            subject: "Still thinking about summer, {{ profile.first_name | default(\"there\") }}?".into(),
            text: "Hello {{ profile.first_name | default(\"there\") }},\n\nOur summer offer is still on: https://example.com/summer\n\n(You got \u{201c}{{ trigger.campaign }}\u{201d} on {{ trigger.at[:10] }}.)".into(),
            html: "<p>Hello {{ profile.first_name | default(\"there\") }},</p><p>Our summer offer is still on: <a href=\"https://example.com/summer\" data-alias=\"Book now\">book now</a>.</p>".into(),
            ..Default::default()
        },
        ..ConnectorForm::default()
    }
}

fn reset_form() -> crate::model::api::ApiCampaign {
    use crate::model::api::{ApiCampaign, ContextAttribute};
    ApiCampaign {
        channel: Channel::Email,
        description: "Sent by the website when someone asks to reset their password.".into(),
        message: crate::model::Message {
            subject: "Reset your password".into(),
            text: "Hello {{ profile.first_name | default(\"there\") }},\n\nReset your password here: {{ context.reset_url }}\nThe link works for one hour. If you did not ask, ignore this message.".into(),
            html: "<p>Hello {{ profile.first_name | default(\"there\") }},</p><p><a href=\"{{ context.reset_url }}\">Reset your password</a> (the link works for one hour).</p><p>If you did not ask, ignore this message.</p>".into(),
            ..Default::default()
        },
        namespace: "email".into(),
        create_missing: false,
        transactional: true,
        context: vec![ContextAttribute {
            name: "reset_url".into(),
            required: true,
            sample: "https://example.com/reset?token=abc123".into(),
        }],
        ..ApiCampaign::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_email_addresses_lose_their_accents_not_their_letters() {
        assert_eq!(ascii_lower("López"), "lopez");
        assert_eq!(ascii_lower("Fernández"), "fernandez");
        assert_eq!(ascii_lower("Müller"), "muller");
        assert_eq!(ascii_lower("Chloé"), "chloe");
        assert_eq!(ascii_lower("Strauß"), "strauss");
        assert_eq!(ascii_lower("O'Brien"), "obrien");
    }

    fn opts(profiles: u64, seed: u64) -> DemoOptions {
        DemoOptions { profiles, seed, today: jiff::civil::date(2026, 6, 1), replace: false }
    }

    #[test]
    fn rng_is_uniform_enough_and_bounded() {
        let mut r = Rng(1);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[r.below(10) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_000..11_000).contains(&c)), "{counts:?}");
        assert!((0..1000).all(|_| r.skewed(8) <= 8));
    }

    #[test]
    fn refuses_a_workspace_with_data_and_rolls_back_on_cancel() {
        let dir = tempfile::tempdir().unwrap();
        let ws = store::Workspace::open(dir.path()).unwrap();
        let mut conn = ws.connect().unwrap();
        let now = jiff::Timestamp::UNIX_EPOCH;

        // Cancel half-way: nothing remains.
        let mut calls = 0;
        let err = generate(&mut conn, &opts(5_000, 1), now, &mut |_| {
            calls += 1;
            calls < 3
        })
        .unwrap_err();
        assert!(matches!(err, DemoError::Cancelled));
        assert!(customer_data::occupancy(&conn).unwrap().is_none(), "a cancelled demo left data behind");

        generate(&mut conn, &opts(100, 1), now, &mut |_| true).unwrap();
        let err = generate(&mut conn, &opts(100, 1), now, &mut |_| true).unwrap_err();
        assert!(matches!(err, DemoError::NotEmpty(_)), "{err}");
        let replaced = generate(&mut conn, &DemoOptions { replace: true, ..opts(50, 2) }, now, &mut |_| true).unwrap();
        assert_eq!(replaced.profiles, 50);
        assert_eq!(store::campaigns::list(&conn).unwrap().len(), 3);
        assert!(matches!(generate(&mut conn, &opts(0, 1), now, &mut |_| true), Err(DemoError::BadSize)));
    }
}
