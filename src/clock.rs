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

/// A clock that starts at `at` now and runs on with the wall clock (`--clock`: try a delay
/// of a week without waiting a week).
pub fn starting_at(at: jiff::Timestamp) -> Clock {
    let started = wall();
    Arc::new(move || at.checked_add(wall().duration_since(started)).unwrap_or(at))
}

/// A time as `--clock` takes it: an instant with its offset (`2026-01-01T09:00:00Z`,
/// `2026-01-01T09:00+01:00`), or a date and time in this computer's time zone
/// (`2026-01-01T09:00`, `2026-01-01 09:00`).
pub fn parse_instant(text: &str) -> Result<jiff::Timestamp, NotATime> {
    let text = text.trim();
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::system()).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| NotATime(text.to_owned()))
}

/// A text [`parse_instant`] cannot read as a time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "\u{201c}{0}\u{201d} is not a date and time: write it as 2026-01-01T09:00:00Z, or 2026-01-01T09:00 in this computer's time zone"
)]
pub struct NotATime(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_set_runs_on_from_the_time_given() {
        let at: jiff::Timestamp = "2030-01-01T09:00:00Z".parse().unwrap();
        let clock = starting_at(at);
        let first = clock();
        assert!(first >= at && first.duration_since(at) < jiff::SignedDuration::from_secs(5));
        assert_eq!(parse_instant(" 2030-01-01T09:00:00Z "), Ok(at));
        assert_eq!(parse_instant("2030-01-01T10:00:00+01:00"), Ok(at));
        assert!(parse_instant("2030-01-01T09:00").is_ok());
        let refused = parse_instant("next tuesday").unwrap_err().to_string();
        assert!(refused.contains("not a date and time"), "{refused}");
    }
}
