//! The value formats App Connect's core uses inside a body: durations, the
//! date/time at the user's offset (moment.js tokens), and the call journey.
//!
//! Each function mirrors the JavaScript it stands in for, quirks included
//! (a leg without a duration reads "undefined second"), because bodies must
//! match App Connect byte for byte.

use std::fmt::{Display, Write};

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Timelike, Utc};

use super::error::ComposeError;
use super::host_zone::HostZone;
use crate::interface::{
    CallDuration, Direction, Leg, Party, StartReading, StartTime, TimezoneOffset,
};

/// `secondsToHoursMinutesSeconds`: "1 hour, 1 minute, 1 second", "0 seconds";
/// a word such as "pending" passes through.
pub fn duration(value: &CallDuration) -> String {
    match value {
        CallDuration::Seconds(seconds) => whole_seconds(*seconds),
        CallDuration::Text(text) => match js_number(text) {
            Some(seconds) => fractional_seconds(seconds),
            None => text.clone(),
        },
    }
}

fn whole_seconds(seconds: u64) -> String {
    spell([
        (seconds / 3600, "hour"),
        ((seconds % 3600) / 60, "minute"),
        (seconds % 60, "second"),
    ])
}

/// The same arithmetic on a JavaScript number, for durations that arrive as
/// numeric strings (JavaScript coerces them; so must we).
fn fractional_seconds(seconds: f64) -> String {
    spell([
        ((seconds / 3600.0).floor(), "hour"),
        (((seconds % 3600.0) / 60.0).floor(), "minute"),
        (seconds % 60.0, "second"),
    ])
}

/// The non-zero parts, singular for one, joined by ", "; "0 seconds" when
/// none is left.
fn spell<T: Copy + PartialOrd + Display + From<u8>>(parts: [(T, &str); 3]) -> String {
    let mut out = String::new();
    for (count, unit) in parts {
        if count > T::from(0) {
            if !out.is_empty() {
                out.push_str(", ");
            }
            // Writing to a String cannot fail.
            let _ = write!(out, "{count} {unit}");
            if count > T::from(1) {
                out.push('s');
            }
        }
    }
    if out.is_empty() {
        out.push_str("0 seconds");
    }
    out
}

/// `Number(text)` for the decimal forms a duration takes; `None` is NaN.
fn js_number(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Some(0.0);
    }
    let looks_numeric = trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    trimmed
        .parse::<f64>()
        .ok()
        .filter(|n| looks_numeric && n.is_finite())
}

/// The start time as App Connect's core reads it (`startTime || …`): absent,
/// empty and epoch 0 mean there is no date/time to show. A time written
/// without an offset is wall-clock time in the host's zone, as moment reads
/// it.
pub fn start_instant(
    start: Option<&StartTime>,
    host_zone: &HostZone,
) -> Result<Option<DateTime<Utc>>, ComposeError> {
    match start {
        None | Some(StartTime::EpochMillis(0)) => Ok(None),
        Some(StartTime::Iso(text)) if text.is_empty() => Ok(None),
        Some(start) => match start.read().map_err(ComposeError::StartTime)? {
            StartReading::Instant(instant) => Ok(Some(instant)),
            StartReading::Local(naive) => Ok(Some(host_zone.instant_of_local(naive))),
        },
    }
}

/// Where the date/time is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownAt {
    /// At this many seconds east of UTC.
    Offset(i32),
    /// In the host's own zone, at whatever offset it has at that instant.
    Host,
}

/// `user.timezoneOffset` read the way core and moment read it: a falsy
/// offset (absent, `""`, `0`) leaves moment in the host's local zone; a
/// string with `:` is an offset such as `+05:30` (one moment cannot read is
/// ignored, leaving the host's zone too); another number is hours when its
/// magnitude is under 16, else minutes.
pub fn shown_at(offset: Option<&TimezoneOffset>) -> Result<ShownAt, ComposeError> {
    let minutes = match offset {
        None => return Ok(ShownAt::Host),
        Some(TimezoneOffset::Number(n)) if *n == 0.0 || n.is_nan() => return Ok(ShownAt::Host),
        Some(TimezoneOffset::Number(n)) => hours_or_minutes(*n),
        Some(TimezoneOffset::Text(text)) if text.is_empty() => return Ok(ShownAt::Host),
        Some(TimezoneOffset::Text(text)) if text.contains(':') => {
            return Ok(offset_from_string(text).map_or(ShownAt::Host, |m| ShownAt::Offset(m * 60)));
        }
        Some(TimezoneOffset::Text(text)) => match js_number(text) {
            Some(n) => hours_or_minutes(n),
            None => return Err(ComposeError::TimezoneOffset(text.clone())),
        },
    };
    let seconds = (minutes * 60.0).round();
    // Real offsets are within ±18 hours; anything else is a typo, not a zone.
    if seconds.abs() > 18.0 * 3600.0 {
        let shown = match offset {
            Some(TimezoneOffset::Text(text)) => text.clone(),
            _ => minutes.to_string(),
        };
        return Err(ComposeError::TimezoneOffset(shown));
    }
    Ok(ShownAt::Offset(seconds as i32))
}

fn hours_or_minutes(n: f64) -> f64 {
    if n.abs() < 16.0 {
        n * 60.0
    } else {
        n
    }
}

/// moment's `offsetFromString`: the last `Z` or `±HH[:]MM` in the text.
pub fn offset_from_string(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    let mut found = None;
    let mut i = 0;
    while i < bytes.len() {
        let digits = |at: usize, n: usize| {
            bytes
                .get(at..at + n)
                .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
        };
        let two = |at: usize| -> i32 {
            bytes
                .get(at..at + 2)
                .map_or(0, |s| i32::from(s[0] - b'0') * 10 + i32::from(s[1] - b'0'))
        };
        match bytes[i] {
            b'Z' | b'z' => {
                found = Some(0);
                i += 1;
            }
            sign @ (b'+' | b'-') if digits(i + 1, 2) => {
                let hours = two(i + 1);
                let (minutes, len) = if bytes.get(i + 3) == Some(&b':') && digits(i + 4, 2) {
                    (two(i + 4), 6)
                } else if digits(i + 3, 2) {
                    (two(i + 3), 5)
                } else {
                    (0, 3)
                };
                let total = hours * 60 + minutes;
                found = Some(if sign == b'-' { -total } else { total });
                i += len;
            }
            _ => i += 1,
        }
    }
    found
}

/// `moment(start).utcOffset(offset).format(pattern)` for the tokens App
/// Connect's date formats use (and the common others). Text in `[...]` is
/// literal; any other character is copied.
pub fn format_date_time(instant: DateTime<Utc>, offset_seconds: i32, pattern: &str) -> String {
    // Only at the calendar's last day can the sum overflow; UTC then.
    let local = instant
        .naive_utc()
        .checked_add_signed(Duration::seconds(i64::from(offset_seconds)))
        .unwrap_or(instant.naive_utc());
    format_wall_clock(&local, offset_seconds, instant.timestamp_millis(), pattern)
}

/// `format(pattern)` of a moment whose clock reads `local`, `offset_seconds`
/// east of UTC, at `epoch_millis`. moment takes any offset (a shift of 30
/// hours is still a clock reading), so this takes the reading itself rather
/// than a zone.
pub fn format_wall_clock(
    local: &NaiveDateTime,
    offset_seconds: i32,
    epoch_millis: i64,
    pattern: &str,
) -> String {
    let clock = Clock {
        local,
        offset_seconds,
        epoch_millis,
    };
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            if let Some(end) = inner.find(']') {
                out.push_str(&inner[..end]);
                rest = &inner[end + 1..];
                continue;
            }
        }
        let (text, len) = date_token(&clock, rest);
        out.push_str(&text);
        rest = &rest[len..];
    }
    out
}

/// What a moment's `format` reads: its clock, offset and instant.
struct Clock<'a> {
    local: &'a NaiveDateTime,
    offset_seconds: i32,
    epoch_millis: i64,
}

/// moment's `zeroFill(number, width)`: the sign, then the digits padded to
/// `width` after it: `-0005` for -5, where Rust's `{:04}` writes `-005`.
fn zero_fill(number: i64, width: usize) -> String {
    let sign = if number < 0 { "-" } else { "" };
    format!("{sign}{:0width$}", number.unsigned_abs())
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Tokens longest first, so that `YYYY` wins over `YY` and `MMMM` over `MM`.
const DATE_TOKENS: [&str; 33] = [
    "YYYY", "YY", "MMMM", "MMM", "MM", "Mo", "M", "DDDD", "DDD", "DD", "Do", "D", "dddd", "ddd",
    "dd", "d", "HH", "H", "hh", "h", "mm", "m", "ss", "s", "SSS", "SS", "S", "A", "a", "ZZ", "Z",
    "X", "x",
];

/// The longest token at the start of `rest` and its expansion; any other
/// character stands for itself.
fn date_token(clock: &Clock<'_>, rest: &str) -> (String, usize) {
    let Some(token) = DATE_TOKENS.iter().find(|token| rest.starts_with(**token)) else {
        let first = rest.chars().next().map_or(1, char::len_utf8);
        return (rest[..first].to_owned(), first);
    };
    let time = clock.local;
    let hour12 = match time.hour() % 12 {
        0 => 12,
        h => h,
    };
    let month = time.month0() as usize;
    let weekday = time.weekday().num_days_from_sunday() as usize;
    let millis = time.nanosecond() / 1_000_000 % 1000;
    let offset = |separator: &str| {
        let minutes = clock.offset_seconds / 60;
        let sign = if minutes < 0 { '-' } else { '+' };
        let (h, m) = (minutes.abs() / 60, minutes.abs() % 60);
        format!("{sign}{h:02}{separator}{m:02}")
    };
    let text = match *token {
        "YYYY" => zero_fill(i64::from(time.year()), 4),
        // JavaScript's `%` keeps the dividend's sign.
        "YY" => zero_fill(i64::from(time.year() % 100), 2),
        "MMMM" => MONTHS[month].to_owned(),
        "MMM" => MONTHS[month][..3].to_owned(),
        "MM" => format!("{:02}", time.month()),
        "Mo" => ordinal(time.month()),
        "M" => time.month().to_string(),
        "DDDD" => format!("{:03}", time.ordinal()),
        "DDD" => time.ordinal().to_string(),
        "DD" => format!("{:02}", time.day()),
        "Do" => ordinal(time.day()),
        "D" => time.day().to_string(),
        "dddd" => WEEKDAYS[weekday].to_owned(),
        "ddd" => WEEKDAYS[weekday][..3].to_owned(),
        "dd" => WEEKDAYS[weekday][..2].to_owned(),
        "d" => weekday.to_string(),
        "HH" => format!("{:02}", time.hour()),
        "H" => time.hour().to_string(),
        "hh" => format!("{hour12:02}"),
        "h" => hour12.to_string(),
        "mm" => format!("{:02}", time.minute()),
        "m" => time.minute().to_string(),
        "ss" => format!("{:02}", time.second()),
        "s" => time.second().to_string(),
        "SSS" => format!("{millis:03}"),
        "SS" => format!("{:02}", millis / 10),
        "S" => (millis / 100).to_string(),
        "A" => if time.hour() < 12 { "AM" } else { "PM" }.to_owned(),
        "a" => if time.hour() < 12 { "am" } else { "pm" }.to_owned(),
        "ZZ" => offset(""),
        "Z" => offset(":"),
        "X" => clock.epoch_millis.div_euclid(1000).to_string(),
        _ => clock.epoch_millis.to_string(),
    };
    (text, token.len())
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The call journey, one line per leg: where the call started, then each
/// transfer with its duration.
pub fn call_journey(legs: &[Leg]) -> String {
    let lines: Vec<String> = legs
        .iter()
        .enumerate()
        .map(|(index, leg)| {
            let outbound = leg.direction == Some(Direction::Outbound);
            if index == 0 {
                return if outbound {
                    format!("Made call from {}", party(leg.from.as_ref()))
                } else {
                    format!("Received call at {}", party(leg.to.as_ref()))
                };
            }
            let to_side = !outbound || leg.leg_type.as_deref() == Some("PstnToSip");
            let who = if to_side { &leg.to } else { &leg.from };
            format!(
                "Transferred to {}, duration: {}",
                party(who.as_ref()),
                leg_duration(leg.duration.as_ref())
            )
        })
        .collect();
    lines.join("\n")
}

/// `${leg.duration} second${leg.duration > 1 ? 's' : ''}`, coercions and all.
fn leg_duration(duration: Option<&CallDuration>) -> String {
    let (text, plural) = match duration {
        None => ("undefined".to_owned(), false),
        Some(CallDuration::Seconds(seconds)) => (seconds.to_string(), *seconds > 1),
        Some(CallDuration::Text(text)) => (text.clone(), js_number(text).is_some_and(|n| n > 1.0)),
    };
    format!("{text} second{}", if plural { "s" } else { "" })
}

/// "<name>, <number>", where number is "<phone>, ext <ext>", "<phone>" or
/// "ext <ext>"; empty when the party has neither.
fn party(party: Option<&Party>) -> String {
    let Some(party) = party else {
        return String::new();
    };
    let phone = party.phone_number.as_deref().filter(|s| !s.is_empty());
    let extension = party.extension_number.as_deref().filter(|s| !s.is_empty());
    let number = match (phone, extension) {
        (None, None) => return String::new(),
        (Some(phone), Some(extension)) => format!("{phone}, ext {extension}"),
        (Some(phone), None) => phone.to_owned(),
        (None, Some(extension)) => format!("ext {extension}"),
    };
    match party.name.as_deref().filter(|s| !s.is_empty()) {
        Some(name) => format!("{name}, {number}"),
        None => number,
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

    #[test]
    fn durations_read_as_app_connect_writes_them() {
        let cases = [
            (0, "0 seconds"),
            (1, "1 second"),
            (59, "59 seconds"),
            (60, "1 minute"),
            (125, "2 minutes, 5 seconds"),
            (3600, "1 hour"),
            (3661, "1 hour, 1 minute, 1 second"),
            (86400, "24 hours"),
            (90061, "25 hours, 1 minute, 1 second"),
        ];
        for (seconds, text) in cases {
            assert_eq!(duration(&CallDuration::Seconds(seconds)), text);
        }
        assert_eq!(duration(&CallDuration::Text("pending".into())), "pending");
        assert_eq!(
            duration(&CallDuration::Text("125".into())),
            "2 minutes, 5 seconds"
        );
        assert_eq!(
            duration(&CallDuration::Text("90.5".into())),
            "1 minute, 30.5 seconds"
        );
    }

    #[test]
    fn offsets_follow_moment() {
        let text = |s: &str| Some(TimezoneOffset::Text(s.into()));
        let number = |n: f64| Some(TimezoneOffset::Number(n));
        let at = |offset: Option<TimezoneOffset>| shown_at(offset.as_ref()).ok();
        let fixed = |seconds| Some(ShownAt::Offset(seconds));
        assert_eq!(at(None), Some(ShownAt::Host));
        assert_eq!(at(text("")), Some(ShownAt::Host));
        assert_eq!(at(text("+05:30")), fixed(19800));
        assert_eq!(at(text("-05:00")), fixed(-18000));
        assert_eq!(at(text("-4")), fixed(-14400));
        assert_eq!(at(text("330")), fixed(19800));
        assert_eq!(at(number(5.5)), fixed(19800));
        assert_eq!(at(number(-300.0)), fixed(-18000));
        assert_eq!(at(text("UTC+01:00")), fixed(3600));
        assert!(shown_at(text("Europe/Paris").as_ref()).is_err());
        assert!(shown_at(number(5000.0).as_ref()).is_err());
    }

    #[test]
    fn a_falsy_offset_leaves_the_host_zone_and_a_truthy_zero_is_utc() {
        // JavaScript truthiness: the number 0 is falsy, the string "0" is not.
        let at = |offset: TimezoneOffset| shown_at(Some(&offset)).ok();
        assert_eq!(at(TimezoneOffset::Number(0.0)), Some(ShownAt::Host));
        assert_eq!(
            at(TimezoneOffset::Text("0".into())),
            Some(ShownAt::Offset(0))
        );
        // moment ignores an offset string it cannot read.
        assert_eq!(
            at(TimezoneOffset::Text("at 10:00".into())),
            Some(ShownAt::Host)
        );
    }

    #[test]
    fn a_start_without_offset_is_wall_clock_time_on_the_host() {
        let zone = HostZone::named("America/New_York").expect("a known zone");
        let naive = StartTime::Iso("2024-01-15T10:30:00".into());
        assert_eq!(
            start_instant(Some(&naive), &zone).ok().flatten(),
            Some(at("2024-01-15T15:30:00Z"))
        );
        let utc = StartTime::Iso("2024-01-15T10:30:00Z".into());
        assert_eq!(
            start_instant(Some(&utc), &zone).ok().flatten(),
            Some(at("2024-01-15T10:30:00Z"))
        );
    }

    #[test]
    fn the_six_date_formats() {
        let time = at("2024-03-21T21:58:18Z");
        let cases = [
            ("YYYY-MM-DD HH:mm:ss", "2024-03-22 03:28:18"),
            ("YYYY-MM-DD hh:mm:ss A", "2024-03-22 03:28:18 AM"),
            ("MM/DD/YYYY hh:mm:ss A", "03/22/2024 03:28:18 AM"),
            ("MM/DD/YYYY HH:mm:ss", "03/22/2024 03:28:18"),
            ("DD/MM/YYYY HH:mm:ss", "22/03/2024 03:28:18"),
            ("DD/MM/YYYY hh:mm:ss A", "22/03/2024 03:28:18 AM"),
        ];
        for (pattern, expected) in cases {
            assert_eq!(
                format_date_time(time, 19800, pattern),
                expected,
                "{pattern}"
            );
        }
        assert_eq!(
            format_date_time(at("2024-05-06T12:13:28Z"), 0, "hh:mm A [at] Do MMM"),
            "12:13 PM at 6th May"
        );
        assert_eq!(
            format_date_time(at("2024-05-06T00:13:28Z"), 0, "hh A"),
            "12 AM"
        );
    }

    #[test]
    fn any_offset_is_a_clock_reading_and_years_pad_after_their_sign() {
        // moment().utcOffset(-1800) is 30 hours behind; moment pads -5 as -0005.
        assert_eq!(
            format_date_time(at("2024-05-06T12:13:28Z"), -30 * 3600, "YYYY-MM-DD HH:mm Z"),
            "2024-05-05 06:13 -30:00"
        );
        let early = NaiveDateTime::parse_from_str("-0005-03-01 10:00", "%Y-%m-%d %H:%M")
            .expect("a valid proleptic date");
        assert_eq!(format_wall_clock(&early, 0, 0, "YYYY YY"), "-0005 -05");
    }

    #[test]
    fn journey_lines() {
        let leg = |direction, from: Party, to: Party, duration: Option<u64>| Leg {
            direction: Some(direction),
            from: Some(from),
            to: Some(to),
            duration: duration.map(CallDuration::Seconds),
            ..Leg::default()
        };
        let phone = |p: &str| Party {
            phone_number: Some(p.into()),
            ..Party::default()
        };
        let named = |name: &str, ext: &str| Party {
            name: Some(name.into()),
            extension_number: Some(ext.into()),
            ..Party::default()
        };
        let legs = [
            leg(Direction::Inbound, phone("+1"), phone("+2"), Some(10)),
            leg(Direction::Inbound, phone("+3"), named("Ann", "12"), Some(1)),
            leg(Direction::Outbound, named("Bo", "7"), phone("+4"), None),
        ];
        assert_eq!(
            call_journey(&legs),
            "Received call at +2\nTransferred to Ann, ext 12, duration: 1 second\nTransferred to Bo, ext 7, duration: undefined second"
        );
    }
}
