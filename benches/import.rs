//! Import throughput: a profiles CSV (1,000,000 rows unless BENCH_PROFILES says, about 150 MB:
//! key, names, email and phone identities, city, birth date, opt-ins, sign-up time, lifetime
//! value) and a bookings CSV three times as long (key, link to profiles, hotel, date, nights,
//! amount, status), each through `Console::import_file` into a fresh workspace: every row
//! parsed, checked and written in one transaction, indexes built. Reports rows per second for
//! each file and the process's peak RSS (the files are streamed, never whole in memory).
//!
//!     cargo bench --profile perf --bench import

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a panic is the report")]

use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use campaign_console::ui::testing;

#[path = "../tests/support/mod.rs"]
mod support;
use support::peak_rss_mb;

/// A cheap deterministic stream of numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const FIRST: [&str; 12] = ["Ann", "Bob", "Chloé", "Dan", "Eve", "Fay", "Gus", "Hana", "Ivo", "Jon", "Kim", "Léa"];
const LAST: [&str; 10] =
    ["Martin", "Durand", "Petit", "Roux", "Blanc", "Noir", "Moreau", "Simon", "Laurent", "Lefèvre"];
const CITIES: [&str; 8] = ["Paris", "Lyon", "Nantes", "Lille", "Nice", "Bordeaux", "Toulouse", "Rennes"];

fn write_profiles(path: &Path, n: u64) {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    writeln!(
        out,
        "id,first_name,last_name,email,phone,city,birth_date,email_opt_in,sms_opt_in,signed_up_at,lifetime_value"
    )
    .unwrap();
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    for id in 1..=n {
        let first = FIRST[r.below(12) as usize];
        let last = LAST[r.below(10) as usize];
        let phone = if r.below(5) == 0 {
            String::new()
        } else {
            format!("06 {:02} {:02} {:02} {:02}", id / 1_000_000 % 100, id / 10_000 % 100, id / 100 % 100, id % 100)
        };
        writeln!(
            out,
            "{id},{first},{last},user{id}@example.com,{phone},{},{:02}/{:02}/{},{},{},2024-{:02}-{:02}T{:02}:{:02}:00Z,{}.{:02}",
            CITIES[r.below(8) as usize],
            1 + r.below(28),
            1 + r.below(12),
            1950 + r.below(55),
            if r.below(3) == 0 { "no" } else { "yes" },
            r.below(2),
            1 + r.below(12),
            1 + r.below(28),
            r.below(24),
            r.below(60),
            r.below(5000),
            r.below(100),
        )
        .unwrap();
    }
}

fn write_bookings(path: &Path, n: u64, profiles: u64) {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    writeln!(out, "id,profile_id,hotel,check_in_date,nights,amount,status").unwrap();
    let mut r = Rng(0xD1B5_4A32_D192_ED03);
    for id in 1..=n {
        writeln!(
            out,
            "{id},{},Hotel {},2025-{:02}-{:02},{},{}.{:02},{}",
            1 + r.below(profiles),
            r.below(240),
            1 + r.below(12),
            1 + r.below(28),
            1 + r.below(14),
            r.below(3000),
            r.below(100),
            ["completed", "cancelled", "booked"][r.below(3) as usize],
        )
        .unwrap();
    }
}

fn main() {
    // The import's phases (indexes, link check, commit) go to the log: shown here.
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).init();
    let profiles: u64 = std::env::var("BENCH_PROFILES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let files = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (p_csv, b_csv) = (files.path().join("profiles.csv"), files.path().join("bookings.csv"));
    let t = Instant::now();
    write_profiles(&p_csv, profiles);
    write_bookings(&b_csv, profiles * 3, profiles);
    let mb = |p: &Path| std::fs::metadata(p).unwrap().len() as f64 / 1e6;
    eprintln!(
        "files written in {:.1} s: profiles {:.0} MB, bookings {:.0} MB",
        t.elapsed().as_secs_f64(),
        mb(&p_csv),
        mb(&b_csv)
    );

    if std::env::var("BENCH_PARTS").is_ok() {
        let fr = Some(phonenumber::country::Id::FR);
        let t = Instant::now();
        for i in 0..100_000u64 {
            let p =
                format!("06 {:02} {:02} {:02} {:02}", i / 1_000_000 % 100, i / 10_000 % 100, i / 100 % 100, i % 100);
            campaign_console::import::rows::phone(&p, fr).unwrap();
        }
        println!("phone: {:.2} µs each", t.elapsed().as_secs_f64() * 10.0);
        let nums: Vec<String> = (0..100_000u64)
            .map(|i| format!("06{:02}{:02}{:02}{:02}", i / 1_000_000 % 100, i / 10_000 % 100, i / 100 % 100, i % 100))
            .collect();
        let t = Instant::now();
        let parsed: Vec<_> = nums.iter().map(|p| phonenumber::parse(fr, p).unwrap()).collect();
        println!("  parse: {:.2} µs each", t.elapsed().as_secs_f64() * 10.0);
        let t = Instant::now();
        for n in &parsed {
            assert!(phonenumber::is_valid(n));
        }
        println!("  is_valid: {:.2} µs each", t.elapsed().as_secs_f64() * 10.0);
        let t = Instant::now();
        for n in &parsed {
            let _ = n.format().mode(phonenumber::Mode::E164).to_string();
        }
        println!("  format: {:.2} µs each", t.elapsed().as_secs_f64() * 10.0);
        let t = Instant::now();
        for i in 0..100_000u64 {
            let e = format!("user{i}@example.com");
            assert!(campaign_console::model::address::valid_address(
                campaign_console::model::address::AddressKind::Email,
                &e
            ));
        }
        println!("email: {:.2} µs each", t.elapsed().as_secs_f64() * 10.0);
        let t = Instant::now();
        for i in 0..100_000u64 {
            let d = format!("{:02}/{:02}/19{:02}", 1 + i % 28, 1 + i % 12, i % 100);
            campaign_console::import::values::read(
                campaign_console::model::ColumnType::Date,
                campaign_console::import::DateFormat::DayMonthYear,
                &d,
            )
            .unwrap();
            campaign_console::import::values::read(
                campaign_console::model::ColumnType::Timestamp,
                campaign_console::import::DateFormat::Iso,
                "2024-03-05T10:22:00Z",
            )
            .unwrap();
        }
        println!("date + timestamp: {:.2} µs each", t.elapsed().as_secs_f64() * 10.0);
        return;
    }
    let console = testing::console(dir.path()).unwrap();
    for (path, entity) in [(&p_csv, "profiles"), (&b_csv, "bookings")] {
        let sample = console.import_sample(path, None).unwrap();
        let mapping = console.guess_mapping(&sample, entity).unwrap();
        let t = Instant::now();
        let checked =
            console.import_file(path, &sample.format, &mapping, false, None, &mut |_, _| {}, &|| false).unwrap();
        let check_secs = t.elapsed().as_secs_f64();
        println!("{entity}: checking every row alone: {:.0} rows/s", checked.rows as f64 / check_secs);
        let t = Instant::now();
        let report =
            console.import_file(path, &sample.format, &mapping, true, None, &mut |_, _| {}, &|| false).unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(report.refused, 0, "{:?}", report.rejects.first());
        println!(
            "{entity}: {} rows ({:.0} MB) in {secs:.1} s = {:.0} rows/s; peak RSS so far {:.0} MB",
            report.written,
            mb(path),
            report.written as f64 / secs,
            peak_rss_mb()
        );
    }
    println!("peak RSS: {:.0} MB", peak_rss_mb());
}
