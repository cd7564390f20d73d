//! The one place the time is read (`clippy.toml` bans reading it anywhere else).
//!
//! Two clocks, both read here:
//! - a [`Clock`], injected: what "now" and "today" mean for campaigns, counts, schedules and
//!   records (the Console's; tests give a fixed or moving one);
//! - the wall clock ([`wall`]), for what really happens in real time whatever the campaign
//!   clock says: a retry's wait that is really waited, a provider's Retry-After, the Sandbox's
//!   simulated events, and a date picker's default day.

use std::sync::Arc;

/// The current time as the application sees it. Tests give a fixed one.
pub type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

/// The system clock, as a [`Clock`].
pub fn system() -> Clock {
    Arc::new(wall)
}

/// The wall clock: now, really.
#[allow(clippy::disallowed_methods, reason = "the one place the wall clock is read")]
pub fn wall() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// Today, on the wall clock, in this computer's time zone.
pub fn today() -> jiff::civil::Date {
    wall().to_zoned(jiff::tz::TimeZone::system()).date()
}

/// A clock stopped at `at` (tests, benchmarks).
pub fn fixed(at: jiff::Timestamp) -> Clock {
    Arc::new(move || at)
}
