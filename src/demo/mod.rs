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
    IdentityNamespace, IndexSpec, Link, ProviderKind,
};
use crate::store::customer_data::{self, Loader};

mod canvas;
use crate::store::{self, StoreError};
pub use canvas::summer_canvas;

/// The seed used unless another is asked for.
pub const DEFAULT_SEED: u64 = 0x00C0_FFEE;

/// Profiles created on the first start of the app.
pub const FIRST_START_PROFILES: u64 = 10_000;

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

/// A small, fast, deterministic generator (SplitMix64). Not for anything secret.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn range(&mut self, lo: i64, hi_inclusive: i64) -> i64 {
        lo + self.below((hi_inclusive - lo + 1) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        // Every list below is a non-empty constant.
        &items[self.below(items.len() as u64) as usize]
    }

    /// A count from 0 to `max` skewed towards small values (most customers do little).
    fn skewed(&mut self, max: u64) -> u64 {
        let a = self.below(max + 1);
        let b = self.below(max + 1);
        a.min(b)
    }
}

const FIRST_NAMES: &[&str] = &[
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Leo", "Sofia", "Hugo", "Chloé", "Mateo", "Léa", "Elias",
    "Hana", "Jonas", "Zoé", "Louis", "Anna", "Ben", "Clara", "Felix", "Julia", "Paul", "Sara", "Marco", "Giulia",
    "Pablo", "Lucía", "Minjun", "Seoyeon", "Haruto", "Yui", "James", "Grace", "Oliver", "Amelia", "Ethan", "Isla",
    "Daniel",
];
const LAST_NAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Müller",
    "Schmidt",
    "Schneider",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "García",
    "Fernández",
    "López",
    "Rossi",
    "Russo",
    "Ferrari",
    "Kim",
    "Lee",
    "Park",
    "Sato",
    "Suzuki",
    "Takahashi",
    "Johnson",
    "Williams",
    "Miller",
    "Davis",
    "Wilson",
    "Moreau",
    "Laurent",
    "Fischer",
    "Weber",
    "Romano",
    "Colombo",
    "Choi",
    "Tanaka",
    "Evans",
    "Walker",
    "Petit",
    "Durand",
    "Hoffmann",
];

/// Country code, phone prefix, number of national digits after the prefix, cities.
const COUNTRIES: &[(&str, &str, u32, &[&str])] = &[
    ("FR", "+336", 8, &["Paris", "Lyon", "Marseille", "Bordeaux", "Lille", "Nantes"]),
    ("DE", "+49151", 8, &["Berlin", "Munich", "Hamburg", "Cologne", "Frankfurt"]),
    ("GB", "+447", 9, &["London", "Manchester", "Edinburgh", "Bristol", "Leeds"]),
    ("US", "+1", 10, &["New York", "Chicago", "San Francisco", "Austin", "Seattle", "Boston"]),
    ("ES", "+346", 8, &["Madrid", "Barcelona", "Valencia", "Seville"]),
    ("IT", "+393", 9, &["Rome", "Milan", "Turin", "Naples", "Florence"]),
    ("KR", "+8210", 8, &["Seoul", "Busan", "Incheon", "Daegu"]),
    ("JP", "+8190", 8, &["Tokyo", "Osaka", "Kyoto", "Yokohama", "Sapporo"]),
];
const US_AREA_CODES: &[u32] = &[212, 312, 415, 512, 206, 617, 646, 773];
const EMAIL_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];
const TIERS: &[(&str, u64)] = &[("none", 55), ("silver", 25), ("gold", 15), ("platinum", 5)];
const STREETS: &[&str] = &[
    "Main Street",
    "Station Road",
    "Rue de la Paix",
    "Hauptstraße",
    "Via Roma",
    "Calle Mayor",
    "Park Avenue",
    "High Street",
    "Lindenweg",
    "Rue Victor Hugo",
];
const ADDRESS_KINDS: &[&str] = &["home", "work", "billing"];
const HOTEL_BRANDS: &[&str] = &["Azure", "Harbor", "Summit", "Garden", "Riverside", "Grand"];
const HOTEL_KINDS: &[&str] = &["Hotel", "Suites", "Resort", "Inn"];
const PLANS: &[&str] = &["newsletter", "weekly_deals", "loyalty_news", "sms_alerts"];
const EVENT_KINDS: &[&str] = &["email_open", "email_open", "email_click", "push_open", "purchase"];
const HOTELS: u64 = 240;

/// The data model of the demo: six entities and their links.
pub fn data_model() -> DataModel {
    fn col(name: &str, label: &str, column_type: ColumnType) -> Column {
        Column { name: name.into(), label: label.into(), column_type }
    }
    fn entity(name: &str, label: &str, columns: Vec<Column>) -> Entity {
        Entity { name: name.into(), label: label.into(), primary_key: "id".into(), columns }
    }
    use ColumnType::{Boolean as B, Date as D, Decimal as N, Integer as I, Text as T, Timestamp as Ts};
    DataModel {
        entities: vec![
            entity(
                "profiles",
                "Profiles",
                vec![
                    col("id", "Profile id", I),
                    col("email", "Email", T),
                    col("phone", "Mobile phone", T),
                    col("first_name", "First name", T),
                    col("last_name", "Last name", T),
                    col("country", "Country", T),
                    col("city", "City", T),
                    col("birth_date", "Birth date", D),
                    col("loyalty_tier", "Loyalty tier", T),
                    col("created_at", "Created", Ts),
                    col("email_opt_in", "Email opt-in", B),
                    col("sms_opt_in", "SMS opt-in", B),
                    col("push_opt_in", "Push opt-in", B),
                    col("crm_id", "CRM id", T),
                ],
            ),
            entity(
                "addresses",
                "Addresses",
                vec![
                    col("id", "Address id", I),
                    col("profile_id", "Profile", I),
                    col("kind", "Kind", T),
                    col("line1", "Street", T),
                    col("postcode", "Postcode", T),
                    col("city", "City", T),
                    col("country", "Country", T),
                    col("is_primary", "Primary address", B),
                ],
            ),
            entity(
                "hotels",
                "Hotels",
                vec![
                    col("id", "Hotel id", I),
                    col("name", "Name", T),
                    col("brand", "Brand", T),
                    col("city", "City", T),
                    col("country", "Country", T),
                    col("stars", "Stars", I),
                ],
            ),
            entity(
                "bookings",
                "Bookings",
                vec![
                    col("id", "Booking id", I),
                    col("profile_id", "Profile", I),
                    col("hotel_id", "Hotel", I),
                    col("amount", "Amount (EUR)", N),
                    col("status", "Status", T),
                    col("booked_at", "Booked", Ts),
                    col("check_in_date", "Check-in date", D),
                    col("nights", "Nights", I),
                ],
            ),
            entity(
                "subscriptions",
                "Subscriptions",
                vec![
                    col("id", "Subscription id", I),
                    col("profile_id", "Profile", I),
                    col("plan", "Plan", T),
                    col("status", "Status", T),
                    col("started_at", "Started", Ts),
                    col("ended_at", "Ended", Ts),
                ],
            ),
            entity(
                "events",
                "Events",
                vec![
                    col("id", "Event id", I),
                    col("profile_id", "Profile", I),
                    col("kind", "Kind", T),
                    col("occurred_at", "Occurred", Ts),
                    col("value", "Value (EUR)", N),
                ],
            ),
        ],
        links: vec![
            link("profile", "addresses", "profile_id", "profiles"),
            link("profile", "bookings", "profile_id", "profiles"),
            link("hotel", "bookings", "hotel_id", "hotels"),
            link("profile", "subscriptions", "profile_id", "profiles"),
            link("profile", "events", "profile_id", "profiles"),
        ],
        identity_namespaces: vec![
            namespace("email", "email"),
            namespace("phone", "phone"),
            namespace("crm_id", "crm_id"),
        ],
    }
}

fn link(name: &str, child: &str, fk: &str, parent: &str) -> Link {
    Link { name: name.into(), child: child.into(), foreign_key: fk.into(), parent: parent.into() }
}

fn namespace(name: &str, column: &str) -> IdentityNamespace {
    IdentityNamespace { name: name.into(), entity: "profiles".into(), column: column.into() }
}

/// Indexes created after loading: every link's foreign key leads an index that also covers the
/// columns audiences filter on, so that linked conditions and aggregates read only the index.
/// (The store indexes the identity columns itself.)
pub const INDEXES: &[IndexSpec] = &[
    IndexSpec { entity: "addresses", columns: &["profile_id", "kind", "country"] },
    IndexSpec { entity: "bookings", columns: &["profile_id", "check_in_date", "status", "amount", "hotel_id"] },
    IndexSpec { entity: "bookings", columns: &["hotel_id"] },
    IndexSpec { entity: "subscriptions", columns: &["profile_id", "plan", "status"] },
    IndexSpec { entity: "events", columns: &["profile_id", "kind", "occurred_at", "value"] },
];

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
    customer_data::set_meta(&tx, "demo_seed", &opts.seed.to_string())?;
    customer_data::set_meta(&tx, "demo_profiles", &opts.profiles.to_string())?;
    // A first-start generation that was interrupted is redone until it has been done once.
    customer_data::delete_meta(&tx, FIRST_START_PENDING)?;
    customer_data::bump_data_version(&tx)?;
    store::audit::record(&tx, now, "demo", "generate demo", "workspace", &format!("{} profiles", opts.profiles))?;
    tx.commit()?;
    progress(1.0);
    Ok(summary)
}

/// Text forms of every day the generator can produce, so rows do not format dates.
struct Days {
    first: jiff::civil::Date,
    text: Vec<String>,
}

impl Days {
    fn new(today: jiff::civil::Date) -> Result<Self, DemoError> {
        let bad = |e: jiff::Error| DemoError::Store(StoreError::Invalid(format!("demo date: {e}")));
        let first = today.checked_sub(jiff::Span::new().years(80)).map_err(bad)?;
        let last = today.checked_add(jiff::Span::new().days(200)).map_err(bad)?;
        let text = first.series(jiff::Span::new().days(1)).take_while(|d| *d <= last).map(|d| d.to_string()).collect();
        Ok(Self { first, text })
    }

    fn offset_of(&self, d: jiff::civil::Date) -> i64 {
        // `d` is within the 80-year range by construction.
        i64::from((d - self.first).get_days())
    }

    /// The date `days` after the first day, clamped to the table.
    fn at(&self, days: i64) -> &str {
        let i = days.clamp(0, self.text.len() as i64 - 1) as usize;
        &self.text[i]
    }

    fn timestamp(&self, days: i64, rng: &mut Rng) -> String {
        let s = rng.below(86_400);
        format!("{}T{:02}:{:02}:{:02}Z", self.at(days), s / 3600, s / 60 % 60, s % 60)
    }
}

fn insert_rows(
    load: &mut Loader<'_>,
    opts: &DemoOptions,
    progress: &mut dyn FnMut(f32) -> bool,
) -> Result<DemoSummary, DemoError> {
    let mut rng = Rng(opts.seed);
    let days = Days::new(opts.today)?;
    let today = days.offset_of(opts.today);
    let mut s = DemoSummary { profiles: 0, addresses: 0, hotels: 0, bookings: 0, subscriptions: 0, events: 0 };

    for id in 1..=HOTELS as i64 {
        let (country, _, _, cities) = rng.pick(COUNTRIES);
        let city = rng.pick(cities);
        let brand = rng.pick(HOTEL_BRANDS);
        let name = format!("{brand} {} {city}", rng.pick(HOTEL_KINDS));
        let stars = rng.range(2, 5);
        load.insert(
            HOTEL_TABLE,
            &[id.into(), (&name).into(), (*brand).into(), (*city).into(), (*country).into(), stars.into()],
        )?;
        s.hotels += 1;
    }

    let step = (opts.profiles / 200).max(1_000);
    let mut phone = String::with_capacity(16);
    for id in 1..=opts.profiles as i64 {
        if (id as u64).is_multiple_of(step) && !progress(0.95 * id as f32 / opts.profiles as f32) {
            return Err(DemoError::Cancelled);
        }
        let first = rng.pick(FIRST_NAMES);
        let last = rng.pick(LAST_NAMES);
        let (country, prefix, digits, cities) = rng.pick(COUNTRIES);
        let city = rng.pick(cities);
        let email = format!("{}.{}.{id}@{}", ascii_lower(first), ascii_lower(last), rng.pick(EMAIL_DOMAINS));
        phone.clear();
        phone.push_str(prefix);
        if *country == "US" {
            phone.push_str(&format!("{}{}", rng.pick(US_AREA_CODES), rng.range(2_000_000, 9_999_999)));
        } else {
            let n = rng.below(10u64.pow(*digits));
            phone.push_str(&format!("{n:0width$}", width = *digits as usize));
        }
        // A number the numbering plan has (a demo should not look full of bad data): when the
        // draw is not one, change its digits after the prefix one by one, from the first,
        // without another draw, so the rest of the data stays the same.
        let valid = |p: &str| crate::store::deliveries::valid_address(crate::store::deliveries::AddressKind::Phone, p);
        if !valid(&phone) {
            let original = phone.clone();
            'fix: for position in prefix.len()..original.len() {
                for step in 1..10u8 {
                    let mut bytes = original.clone().into_bytes();
                    bytes[position] = b'0' + (bytes[position] - b'0' + step) % 10;
                    let candidate = String::from_utf8(bytes).unwrap_or_default();
                    if valid(&candidate) {
                        phone = candidate;
                        break 'fix;
                    }
                }
            }
        }
        let has_phone = rng.chance(92);
        let birth = days.at(today - rng.range(18 * 365, 75 * 365));
        let roll = rng.below(100);
        let mut acc = 0;
        let tier = TIERS.iter().find(|(_, w)| {
            acc += w;
            roll < acc
        });
        let tier = tier.map_or("none", |(t, _)| t);
        let created_day = today - rng.range(1, 5 * 365);
        let created = days.timestamp(created_day, &mut rng);
        let (email_opt_in, sms_opt_in, push_opt_in) = (rng.chance(80), rng.chance(55), rng.chance(40));
        let crm_id = format!("CRM-{id:08}");
        load.insert(
            PROFILES,
            &[
                id.into(),
                (&email).into(),
                has_phone.then_some(phone.as_str()).into(),
                (*first).into(),
                (*last).into(),
                (*country).into(),
                (*city).into(),
                birth.into(),
                tier.into(),
                (&created).into(),
                email_opt_in.into(),
                sms_opt_in.into(),
                push_opt_in.into(),
                (&crm_id).into(),
            ],
        )?;
        s.profiles += 1;

        for k in 0..rng.skewed(3) {
            s.addresses += 1;
            let (a_country, a_city) = if rng.chance(85) {
                (*country, *city)
            } else {
                let (c, _, _, cities) = rng.pick(COUNTRIES);
                (*c, *rng.pick(cities))
            };
            let line1 = format!("{} {}", rng.range(1, 240), rng.pick(STREETS));
            let postcode = format!("{:05}", rng.below(100_000));
            load.insert(
                ADDRESSES,
                &[
                    (s.addresses as i64).into(),
                    id.into(),
                    ADDRESS_KINDS[k as usize % ADDRESS_KINDS.len()].into(),
                    (&line1).into(),
                    (&postcode).into(),
                    a_city.into(),
                    a_country.into(),
                    (k == 0).into(),
                ],
            )?;
        }

        for _ in 0..rng.skewed(8) {
            s.bookings += 1;
            let hotel_id = rng.range(1, HOTELS as i64);
            let check_in = today + rng.range(-730, 120);
            let booked = check_in - rng.range(1, 180);
            let status = if check_in > today {
                if rng.chance(88) { "confirmed" } else { "cancelled" }
            } else {
                match rng.below(100) {
                    0..=84 => "completed",
                    85..=95 => "cancelled",
                    _ => "no_show",
                }
            };
            let nights = rng.range(1, 10);
            let stars_factor = 60 + (hotel_id % 4) * 40;
            let amount = (nights * (stars_factor + rng.range(0, 120))) as f64 + rng.below(100) as f64 / 100.0;
            let booked_at = days.timestamp(booked.min(today), &mut rng);
            load.insert(
                BOOKINGS,
                &[
                    (s.bookings as i64).into(),
                    id.into(),
                    hotel_id.into(),
                    amount.into(),
                    status.into(),
                    (&booked_at).into(),
                    days.at(check_in).into(),
                    nights.into(),
                ],
            )?;
        }

        let mut plans = PLANS.to_vec();
        for _ in 0..rng.skewed(3) {
            s.subscriptions += 1;
            let plan = plans.swap_remove(rng.below(plans.len() as u64) as usize);
            let start = created_day + rng.range(0, 300);
            let active = rng.chance(75);
            let ended = (!active).then(|| days.timestamp(start + rng.range(30, 400), &mut rng));
            let started_at = days.timestamp(start.min(today), &mut rng);
            load.insert(
                SUBSCRIPTIONS,
                &[
                    (s.subscriptions as i64).into(),
                    id.into(),
                    plan.into(),
                    (if active { "active" } else { "cancelled" }).into(),
                    (&started_at).into(),
                    ended.as_ref().into(),
                ],
            )?;
        }

        for _ in 0..rng.skewed(10) {
            s.events += 1;
            let kind = rng.pick(EVENT_KINDS);
            let value = (*kind == "purchase").then(|| rng.range(500, 50_000) as f64 / 100.0);
            let at = days.timestamp(today - rng.range(0, 365), &mut rng);
            load.insert(EVENTS, &[(s.events as i64).into(), id.into(), (*kind).into(), (&at).into(), value.into()])?;
        }
    }
    Ok(s)
}

/// A name as it goes into an email address: lower case, accents taken off (López → lopez),
/// anything else that is not a letter or a digit left out.
fn ascii_lower(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ => {}
        }
    }
    out
}

fn insert_samples(tx: &Connection, today: jiff::civil::Date, now: jiff::Timestamp) -> Result<(), DemoError> {
    let day = |offset: i64| -> Result<jiff::Timestamp, DemoError> {
        today
            .checked_add(jiff::Span::new().days(offset))
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
            .map(|z| z.timestamp())
            .map_err(|e| DemoError::Store(StoreError::Invalid(format!("demo date: {e}"))))
    };
    let samples = [
        Campaign {
            id: 0,
            name: "Summer getaway".into(),
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
            name: "Thanks for reading".into(),
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
            name: "Password reset".into(),
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
    for c in &samples {
        let id = store::campaigns::insert(tx, c)?;
        if c.kind == CampaignKind::Orchestrated {
            let json = serde_json::to_string(&summer_canvas())
                .map_err(|e| DemoError::Store(StoreError::Invalid(format!("demo canvas: {e}"))))?;
            store::campaigns::save_canvas(tx, id, &json, now)?;
        }
    }
    for channel in Channel::ALL {
        let credential = Credential {
            id: 0,
            channel,
            provider: ProviderKind::Sandbox,
            name: "Sandbox".into(),
            // Events a few seconds after each message: most delivered, some opened and clicked.
            settings: serde_json::json!({
                "delay_seconds": 2, "delivered_rate": 0.97, "open_rate": 0.45, "click_rate": 0.25
            }),
            secret_ref: None,
            created_at: now,
            is_default: false,
        };
        store::credentials::insert(tx, &credential)?;
    }
    Ok(())
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
