//! The time zone of App Connect's host: where core formats a date when the
//! user has no `timezoneOffset`, and where moment places a start time
//! written without an offset.
//!
//! It owns only the zone and its arithmetic, with the IANA database
//! compiled in (chrono-tz), so results do not depend on the machine's
//! zoneinfo files. Which zone that is comes from the caller: the command
//! line reads `--host-tz`, `MOCKCRM_HOST_TZ` or `TZ`; nothing here reads the
//! environment.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The host's zone; UTC unless the caller names another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostZone(Tz);

/// A zone name the IANA database does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?}: give an IANA name such as America/New_York, Europe/Paris or UTC")]
pub struct UnknownZone(pub String);

impl HostZone {
    pub const UTC: HostZone = HostZone(Tz::UTC);

    /// The zone with this IANA name (`America/New_York`, `UTC`, …).
    pub fn named(name: &str) -> Result<HostZone, UnknownZone> {
        name.parse::<Tz>()
            .map(HostZone)
            .map_err(|_| UnknownZone(name.to_owned()))
    }

    /// The zone a `TZ` environment value names, read as the C library reads
    /// the IANA forms: `America/New_York`, `:America/New_York`, or a path
    /// into a zoneinfo directory; empty is UTC. POSIX rule strings
    /// (`EST5EDT,M3.2.0,M11.1.0`) are not zone names and are refused.
    pub fn from_tz_value(value: &str) -> Result<HostZone, UnknownZone> {
        let trimmed = value.trim();
        let name = trimmed.strip_prefix(':').unwrap_or(trimmed);
        let name = name.rsplit_once("zoneinfo/").map_or(name, |(_, zone)| zone);
        if name.is_empty() {
            return Ok(HostZone::UTC);
        }
        HostZone::named(name).map_err(|_| UnknownZone(value.to_owned()))
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Seconds east of UTC that the zone is at `instant`.
    pub fn offset_at(&self, instant: DateTime<Utc>) -> i32 {
        self.0
            .offset_from_utc_datetime(&instant.naive_utc())
            .fix()
            .local_minus_utc()
    }

    /// The instant a wall-clock time names here, as JavaScript's `Date`
    /// (and so moment) reads it: a time that occurs twice is the earlier
    /// instant; a time skipped by a clock change is read at the offset in
    /// force before the change, landing that far after it.
    pub fn instant_of_local(&self, naive: NaiveDateTime) -> DateTime<Utc> {
        match self.0.from_local_datetime(&naive) {
            chrono::LocalResult::Single(time) => time.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
            chrono::LocalResult::None => {
                // Clock changes are months apart, so a day before the gap
                // the offset is the one in force just before it.
                let before = self.offset_at((naive - Duration::days(1)).and_utc());
                (naive - Duration::seconds(i64::from(before))).and_utc()
            }
        }
    }
}

impl Default for HostZone {
    fn default() -> Self {
        HostZone::UTC
    }
}

impl FromStr for HostZone {
    type Err = UnknownZone;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        HostZone::named(name)
    }
}

impl fmt::Display for HostZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(iso: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(iso)
            .expect("valid test time")
            .with_timezone(&Utc)
    }

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").expect("valid local time")
    }

    #[test]
    fn names_resolve_and_unknown_ones_are_errors() {
        assert_eq!(HostZone::named("UTC"), Ok(HostZone::UTC));
        assert_eq!(
            HostZone::named("America/New_York").map(|z| z.name()),
            Ok("America/New_York")
        );
        let error = HostZone::named("Mars/Olympus").expect_err("not a zone");
        assert!(error.to_string().contains("Mars/Olympus"), "{error}");
    }

    #[test]
    fn tz_values_read_as_the_c_library_reads_zone_names() {
        let york = HostZone::named("America/New_York").expect("known");
        assert_eq!(HostZone::from_tz_value("America/New_York"), Ok(york));
        assert_eq!(HostZone::from_tz_value(":America/New_York"), Ok(york));
        assert_eq!(
            HostZone::from_tz_value("/usr/share/zoneinfo/America/New_York"),
            Ok(york)
        );
        assert_eq!(HostZone::from_tz_value(""), Ok(HostZone::UTC));
        assert_eq!(
            HostZone::from_tz_value("EST5EDT,M3.2.0,M11.1.0"),
            Err(UnknownZone("EST5EDT,M3.2.0,M11.1.0".into()))
        );
    }

    #[test]
    fn the_offset_follows_daylight_saving_time() {
        let york = HostZone::named("America/New_York").expect("known");
        assert_eq!(york.offset_at(at("2024-01-15T12:00:00Z")), -5 * 3600);
        assert_eq!(york.offset_at(at("2024-07-15T12:00:00Z")), -4 * 3600);
        let kolkata = HostZone::named("Asia/Kolkata").expect("known");
        assert_eq!(kolkata.offset_at(at("2024-07-15T12:00:00Z")), 19800);
    }

    #[test]
    fn wall_clock_times_read_as_javascript_dates_do() {
        let york = HostZone::named("America/New_York").expect("known");
        // new Date(2024, 0, 15, 10, 30) in New York
        assert_eq!(
            york.instant_of_local(local("2024-01-15T10:30")),
            at("2024-01-15T15:30:00Z")
        );
        // 01:30 on 3 Nov 2024 happens twice: the earlier one (EDT) wins.
        assert_eq!(
            york.instant_of_local(local("2024-11-03T01:30")),
            at("2024-11-03T05:30:00Z")
        );
        // 02:30 on 10 Mar 2024 never happens: read at EST, it is 03:30 EDT.
        assert_eq!(
            york.instant_of_local(local("2024-03-10T02:30")),
            at("2024-03-10T07:30:00Z")
        );
    }
}
