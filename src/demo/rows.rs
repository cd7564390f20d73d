//! The generated rows: a deterministic random source, the word lists it draws from, and the
//! insertion of every demo table.

use super::*;

/// A small, fast, deterministic generator (SplitMix64). Not for anything secret.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    pub(super) fn range(&mut self, lo: i64, hi_inclusive: i64) -> i64 {
        lo + self.below((hi_inclusive - lo + 1) as u64) as i64
    }

    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        // Every list below is a non-empty constant.
        &items[self.below(items.len() as u64) as usize]
    }

    /// A count from 0 to `max` skewed towards small values (most customers do little).
    pub(super) fn skewed(&mut self, max: u64) -> u64 {
        let a = self.below(max + 1);
        let b = self.below(max + 1);
        a.min(b)
    }
}

pub(super) const FIRST_NAMES: &[&str] = &[
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Leo", "Sofia", "Hugo", "Chloé", "Mateo", "Léa", "Elias",
    "Hana", "Jonas", "Zoé", "Louis", "Anna", "Ben", "Clara", "Felix", "Julia", "Paul", "Sara", "Marco", "Giulia",
    "Pablo", "Lucía", "Minjun", "Seoyeon", "Haruto", "Yui", "James", "Grace", "Oliver", "Amelia", "Ethan", "Isla",
    "Daniel",
];
pub(super) const LAST_NAMES: &[&str] = &[
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
pub(super) const COUNTRIES: &[(&str, &str, u32, &[&str])] = &[
    ("FR", "+336", 8, &["Paris", "Lyon", "Marseille", "Bordeaux", "Lille", "Nantes"]),
    ("DE", "+49151", 8, &["Berlin", "Munich", "Hamburg", "Cologne", "Frankfurt"]),
    ("GB", "+447", 9, &["London", "Manchester", "Edinburgh", "Bristol", "Leeds"]),
    ("US", "+1", 10, &["New York", "Chicago", "San Francisco", "Austin", "Seattle", "Boston"]),
    ("ES", "+346", 8, &["Madrid", "Barcelona", "Valencia", "Seville"]),
    ("IT", "+393", 9, &["Rome", "Milan", "Turin", "Naples", "Florence"]),
    ("KR", "+8210", 8, &["Seoul", "Busan", "Incheon", "Daegu"]),
    ("JP", "+8190", 8, &["Tokyo", "Osaka", "Kyoto", "Yokohama", "Sapporo"]),
];
pub(super) const US_AREA_CODES: &[u32] = &[212, 312, 415, 512, 206, 617, 646, 773];
pub(super) const EMAIL_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];
pub(super) const TIERS: &[(&str, u64)] = &[("none", 55), ("silver", 25), ("gold", 15), ("platinum", 5)];
pub(super) const STREETS: &[&str] = &[
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
pub(super) const ADDRESS_KINDS: &[&str] = &["home", "work", "billing"];
pub(super) const HOTEL_BRANDS: &[&str] = &["Azure", "Harbor", "Summit", "Garden", "Riverside", "Grand"];
pub(super) const HOTEL_KINDS: &[&str] = &["Hotel", "Suites", "Resort", "Inn"];
pub(super) const PLANS: &[&str] = &["newsletter", "weekly_deals", "loyalty_news", "sms_alerts"];
pub(super) const EVENT_KINDS: &[&str] = &["email_open", "email_open", "email_click", "push_open", "purchase"];
pub(super) const HOTELS: u64 = 240;

/// Text forms of every day the generator can produce, so rows do not format dates.
pub(super) struct Days {
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

pub(super) fn insert_rows(
    load: &mut Loader<'_>,
    opts: &DemoOptions,
    progress: &mut dyn FnMut(f32) -> bool,
) -> Result<DemoSummary, DemoError> {
    let mut rng = Rng(opts.seed);
    let days = Days::new(opts.today)?;
    let today = days.offset_of(opts.today);
    let mut s = DemoSummary { profiles: 0, addresses: 0, hotels: 0, bookings: 0, subscriptions: 0, events: 0 };

    insert_hotels(load, &mut rng, &mut s)?;

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
        demo_phone(&mut rng, &mut phone, country, prefix, *digits);
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
        // One profile in four follows the Sandbox X account: its handle is one of the
        // account's followers (no draw: the other columns stay as they were).
        let x_handle = (id % 4 == 0).then(|| crate::channels::x::sandbox::follower(id as u64 / 4 - 1).username);
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
                x_handle.as_deref().into(),
                (&crm_id).into(),
            ],
        )?;
        s.profiles += 1;

        insert_belongings(load, &mut rng, &mut s, &days, today, (id, country, city, created_day))?;
    }
    Ok(s)
}

/// The hotels of the demo.
fn insert_hotels(load: &mut Loader<'_>, rng: &mut Rng, s: &mut DemoSummary) -> Result<(), DemoError> {
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
    Ok(())
}

/// A phone number the numbering plan has, for a profile of `country` (`prefix` then `digits`
/// digits), into `phone`.
fn demo_phone(rng: &mut Rng, phone: &mut String, country: &str, prefix: &str, digits: u32) {
    phone.clear();
    phone.push_str(prefix);
    if country == "US" {
        phone.push_str(&format!("{}{}", rng.pick(US_AREA_CODES), rng.range(2_000_000, 9_999_999)));
    } else {
        let n = rng.below(10u64.pow(digits));
        phone.push_str(&format!("{n:0width$}", width = digits as usize));
    }
    // A number the numbering plan has (a demo should not look full of bad data): when the
    // draw is not one, change its digits after the prefix one by one, from the first,
    // without another draw, so the rest of the data stays the same.
    let valid = |p: &str| crate::store::deliveries::valid_address(crate::store::deliveries::AddressKind::Phone, p);
    if !valid(phone) {
        let original = phone.clone();
        'fix: for position in prefix.len()..original.len() {
            for step in 1..10u8 {
                let mut bytes = original.clone().into_bytes();
                bytes[position] = b'0' + (bytes[position] - b'0' + step) % 10;
                let candidate = String::from_utf8(bytes).unwrap_or_default();
                if valid(&candidate) {
                    *phone = candidate;
                    break 'fix;
                }
            }
        }
    }
}

/// A profile's addresses, bookings, subscriptions and events: `profile` is its id, country,
/// city and the day it was created.
fn insert_belongings(
    load: &mut Loader<'_>,
    rng: &mut Rng,
    s: &mut DemoSummary,
    days: &Days,
    today: i64,
    (id, country, city, created_day): (i64, &str, &str, i64),
) -> Result<(), DemoError> {
    for k in 0..rng.skewed(3) {
        s.addresses += 1;
        let (a_country, a_city) = if rng.chance(85) {
            (country, city)
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
        let booked_at = days.timestamp(booked.min(today), rng);
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
        let ended = (!active).then(|| days.timestamp(start + rng.range(30, 400), rng));
        let started_at = days.timestamp(start.min(today), rng);
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
        let at = days.timestamp(today - rng.range(0, 365), rng);
        load.insert(EVENTS, &[(s.events as i64).into(), id.into(), (*kind).into(), (&at).into(), value.into()])?;
    }
    Ok(())
}

/// A name as it goes into an email address: lower case, accents taken off (López → lopez),
/// anything else that is not a letter or a digit left out.
pub(super) fn ascii_lower(name: &str) -> String {
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
