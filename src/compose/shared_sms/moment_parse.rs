//! `moment(string)` in moment 2.30.1, for the strings moment reads itself:
//! ASP.NET's `/Date(ms)/` and ISO 8601 (`configFromISO`). moment picks a
//! format by regular expressions, then reads the string token by token
//! with each token's own unanchored expression (`configFromStringAndFormat`),
//! so odd strings read oddly (`+002025-10` is year 20): both steps are
//! reproduced here, for the calendar and ordinal forms.
//!
//! A string moment hands on to JavaScript's own `Date` parser (anything
//! else, RFC 2822 included) or reads as an ISO week date is refused: what
//! that gives depends on the JavaScript engine, and App Connect's clients
//! never send one. Pure: no clock (a parsed string always names its year).

use chrono::{Duration, NaiveDate, NaiveDateTime};

use crate::compose::host_zone::HostZone;
use crate::compose::values::offset_from_string;
use crate::js::is_space;

/// What moment makes of a string it reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parsed {
    /// A time value (`Date`'s milliseconds since the epoch).
    Time(f64),
    /// A string moment read as a date that is not one (`2025-02-30`).
    Invalid,
}

/// Why a string is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unread {
    /// moment would fall back to JavaScript's `Date` parser.
    NotIso,
    /// An ISO week date (`2025-W41-3`).
    WeekDate,
    /// A year JavaScript holds but this calendar does not (beyond ±262,143).
    OutOfRange,
}

/// The largest time value JavaScript's `Date` holds, either side of 1970.
pub const MAX_TIME: f64 = 8.64e15;

/// `new Date(ms)`'s TimeClip: NaN out of range, else whole milliseconds.
pub fn time_clip(ms: f64) -> f64 {
    if !ms.is_finite() || ms.abs() > MAX_TIME {
        return f64::NAN;
    }
    // Truncation; + 0.0 turns -0 into 0.
    ms.trunc() + 0.0
}

pub fn parse(text: &str, host: &HostZone) -> Result<Parsed, Unread> {
    if let Some(millis) = asp_net(text) {
        return Ok(Parsed::Time(millis));
    }
    let iso = iso_match(text, true)
        .or_else(|| iso_match(text, false))
        .ok_or(Unread::NotIso)?;
    let date_part = &text[iso.date.clone()];
    let (date_tokens, allow_time) = ISO_DATES
        .iter()
        .find(|(pattern, _, _)| contains(date_part.as_bytes(), pattern.as_bytes()))
        .map(|(_, tokens, allow_time)| (*tokens, *allow_time))
        .ok_or(Unread::NotIso)?;
    let Some(date_tokens) = date_tokens else {
        return Err(Unread::WeekDate);
    };
    let mut tokens: Vec<Token> = date_tokens.to_vec();
    if let Some(time) = iso.time.clone() {
        let time_tokens = ISO_TIMES
            .iter()
            .find(|(pattern, _)| contains(text[time.clone()].as_bytes(), pattern.as_bytes()))
            .map(|(_, tokens)| *tokens)
            .ok_or(Unread::NotIso)?;
        if !allow_time {
            return Err(Unread::NotIso);
        }
        tokens.push(Token::Literal(iso.separator));
        tokens.extend_from_slice(time_tokens);
    }
    if iso.zone {
        tokens.push(Token::Zone);
    }
    from_tokens(text, &tokens, host)
}

/// `/^\/?Date\((-?\d+)/i`: `new Date(+digits)`.
fn asp_net(text: &str) -> Option<f64> {
    let rest = text.strip_prefix('/').unwrap_or(text);
    let head = rest.get(..5)?;
    if !head.eq_ignore_ascii_case("date(") {
        return None;
    }
    let rest = &rest[5..];
    let sign_len = usize::from(rest.starts_with('-'));
    let digits = rest[sign_len..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    if digits == 0 {
        return None;
    }
    let number: f64 = rest[..sign_len + digits].parse().ok()?;
    Some(time_clip(number))
}

/// What moment's ISO expressions capture.
struct IsoMatch {
    date: std::ops::Range<usize>,
    separator: u8,
    time: Option<std::ops::Range<usize>>,
    zone: bool,
}

/// `extendedIsoRegex` (or `basicIsoRegex`) over the whole string:
/// `^\s*(DATE)(?:(T| )(TIME)(ZONE)?)?$`, trying each alternative in the
/// order a backtracking matcher would.
fn iso_match(text: &str, extended: bool) -> Option<IsoMatch> {
    let bytes = text.as_bytes();
    let start = text
        .char_indices()
        .find(|&(_, c)| !is_space(c))
        .map_or(text.len(), |(at, _)| at);
    let digits = |at: usize, n: usize| {
        bytes
            .get(at..at + n)
            .is_some_and(|run| run.iter().all(u8::is_ascii_digit))
    };
    let mut years = Vec::new();
    if matches!(bytes.get(start), Some(b'+' | b'-')) && digits(start + 1, 6) {
        years.push(start + 7);
    }
    if digits(start, 4) {
        years.push(start + 4);
    }
    for year_end in years {
        for date_end in date_ends(bytes, year_end, extended) {
            if let Some(found) = after_date(bytes, start, date_end, extended) {
                return Some(found);
            }
        }
    }
    None
}

/// Where the date's alternatives after the year end, in order: extended
/// `-(?:\d\d-\d\d|W\d\d-\d|W\d\d|\d\d\d|\d\d)`, basic
/// `(?:\d\d\d\d|W\d\d\d|W\d\d|\d\d\d|\d\d|)`.
fn date_ends(bytes: &[u8], at: usize, extended: bool) -> Vec<usize> {
    let shapes: &[&str] = if extended {
        &["-##-##", "-W##-#", "-W##", "-###", "-##"]
    } else {
        &["####", "W###", "W##", "###", "##", ""]
    };
    shapes
        .iter()
        .filter(|shape| fits(bytes, at, shape.as_bytes()))
        .map(|shape| at + shape.len())
        .collect()
}

/// The rest of the expression after the date: the optional time group
/// (tried first, greedily), then the end of the string.
fn after_date(bytes: &[u8], start: usize, date_end: usize, extended: bool) -> Option<IsoMatch> {
    let date = start..date_end;
    if let Some(&separator @ (b'T' | b' ')) = bytes.get(date_end) {
        for time_end in time_ends(bytes, date_end + 1, extended) {
            for (zone_end, zone) in zone_ends(bytes, time_end) {
                if zone_end == bytes.len() {
                    return Some(IsoMatch {
                        date,
                        separator,
                        time: Some(date_end + 1..time_end),
                        zone,
                    });
                }
            }
        }
    }
    (date_end == bytes.len()).then_some(IsoMatch {
        date,
        separator: b' ',
        time: None,
        zone: false,
    })
}

/// `\d\d(?::\d\d(?::\d\d(?:[.,]\d+)?)?)?` (basic: without the colons):
/// every way it can end, longest first.
fn time_ends(bytes: &[u8], at: usize, extended: bool) -> Vec<usize> {
    let mut ends = Vec::new();
    if !fits(bytes, at, b"##") {
        return ends;
    }
    let part = if extended { &b":##"[..] } else { &b"##"[..] };
    let minutes = at + 2 + part.len();
    let seconds = minutes + part.len();
    if fits(bytes, at + 2, part) && fits(bytes, minutes, part) {
        if matches!(bytes.get(seconds), Some(b'.' | b',')) {
            let run = bytes[seconds + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            ends.extend((1..=run).rev().map(|n| seconds + 1 + n));
        }
        ends.push(seconds);
    }
    if fits(bytes, at + 2, part) {
        ends.push(minutes);
    }
    ends.push(at + 2);
    ends
}

/// `([+-]\d\d(?::?\d\d)?|\s*Z)?`: where the zone can end (and whether one
/// was taken), greedy first.
fn zone_ends(bytes: &[u8], at: usize) -> Vec<(usize, bool)> {
    let mut ends = Vec::new();
    if matches!(bytes.get(at), Some(b'+' | b'-')) && fits(bytes, at + 1, b"##") {
        if fits(bytes, at + 3, b":##") {
            ends.push((at + 6, true));
        }
        if fits(bytes, at + 3, b"##") {
            ends.push((at + 5, true));
        }
        ends.push((at + 3, true));
    } else {
        let text = std::str::from_utf8(&bytes[at..]).unwrap_or("");
        let spaces: usize = text
            .chars()
            .take_while(|&c| is_space(c))
            .map(char::len_utf8)
            .sum();
        if bytes.get(at + spaces) == Some(&b'Z') {
            ends.push((at + spaces + 1, true));
        }
    }
    ends.push((at, false));
    ends
}

/// Whether `shape` (`#` a digit, anything else itself) stands at `at`.
fn fits(bytes: &[u8], at: usize, shape: &[u8]) -> bool {
    bytes.get(at..at + shape.len()).is_some_and(|run| {
        run.iter().zip(shape).all(|(b, s)| match s {
            b'#' => b.is_ascii_digit(),
            b'~' => matches!(b, b'+' | b'-'),
            _ => b == s,
        })
    })
}

/// Whether `shape` stands anywhere in `bytes` (`*` is `\d+`).
fn contains(bytes: &[u8], shape: &[u8]) -> bool {
    let (fixed, more_digits) = match shape.strip_suffix(b"*") {
        Some(fixed) => (fixed, true),
        None => (shape, false),
    };
    (0..=bytes.len()).any(|at| {
        fits(bytes, at, fixed)
            && (!more_digits || bytes.get(at + fixed.len()).is_some_and(u8::is_ascii_digit))
    })
}

/// A token of the format moment derives, with its parse expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `YYYYYY`: `[+-]?\d{1,6}`.
    SignedYear,
    /// `YYYY`: `\d{1,4}`.
    Year,
    /// `MM`: `\d\d?`.
    Month,
    /// `DD`: `\d\d?`.
    Day,
    /// `DDD`: `\d{1,3}`, the day of the year.
    DayOfYear,
    Hour,
    Minute,
    Second,
    /// `SSSS`: `\d+`, the fraction of a second.
    Fraction,
    /// `Z`: `Z|[+-]\d\d(?::?\d\d)?`, case-insensitive.
    Zone,
    Literal(u8),
}

use Token::*;

/// moment's `isoDates`: the expression that picks the format (`#` a digit,
/// `~` a sign), its tokens (`None`: a week date), and whether a time may
/// follow.
const ISO_DATES: [(&str, Option<&[Token]>, bool); 13] = [
    (
        "~######-##-##",
        Some(&[SignedYear, Literal(b'-'), Month, Literal(b'-'), Day]),
        true,
    ),
    (
        "####-##-##",
        Some(&[Year, Literal(b'-'), Month, Literal(b'-'), Day]),
        true,
    ),
    ("####-W##-#", None, true),
    ("####-W##", None, false),
    ("####-###", Some(&[Year, Literal(b'-'), DayOfYear]), true),
    ("####-##", Some(&[Year, Literal(b'-'), Month]), false),
    ("~##########", Some(&[SignedYear, Month, Day]), true),
    ("########", Some(&[Year, Month, Day]), true),
    ("####W###", None, true),
    ("####W##", None, false),
    ("#######", Some(&[Year, DayOfYear]), true),
    ("######", Some(&[Year, Month]), false),
    ("####", Some(&[Year]), false),
];

/// moment's `isoTimes` (`*`: `\d+`).
const ISO_TIMES: [(&str, &[Token]); 9] = [
    (
        "##:##:##.*",
        &[
            Hour,
            Literal(b':'),
            Minute,
            Literal(b':'),
            Second,
            Literal(b'.'),
            Fraction,
        ],
    ),
    (
        "##:##:##,*",
        &[
            Hour,
            Literal(b':'),
            Minute,
            Literal(b':'),
            Second,
            Literal(b','),
            Fraction,
        ],
    ),
    (
        "##:##:##",
        &[Hour, Literal(b':'), Minute, Literal(b':'), Second],
    ),
    ("##:##", &[Hour, Literal(b':'), Minute]),
    ("######.*", &[Hour, Minute, Second, Literal(b'.'), Fraction]),
    ("######,*", &[Hour, Minute, Second, Literal(b','), Fraction]),
    ("######", &[Hour, Minute, Second]),
    ("####", &[Hour, Minute]),
    ("##", &[Hour]),
];

/// The leftmost match of `token`'s expression in `rest`: (start, end).
fn find_token(rest: &[u8], token: Token) -> Option<(usize, usize)> {
    let digit_run = |at: usize, max: usize| {
        rest[at..]
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    (0..rest.len()).find_map(|at| {
        let len = match token {
            Literal(byte) => usize::from(rest[at] == byte),
            SignedYear => {
                let sign = usize::from(matches!(rest[at], b'+' | b'-'));
                match digit_run(at + sign, 6) {
                    0 => 0,
                    n => sign + n,
                }
            }
            Year => digit_run(at, 4),
            Month | Day | Hour | Minute | Second => digit_run(at, 2),
            DayOfYear => digit_run(at, 3),
            Fraction => digit_run(at, usize::MAX),
            Zone => match rest[at] {
                b'Z' | b'z' => 1,
                b'+' | b'-' if fits(rest, at + 1, b"##") => {
                    if fits(rest, at + 3, b":##") {
                        6
                    } else if fits(rest, at + 3, b"##") {
                        5
                    } else {
                        3
                    }
                }
                _ => 0,
            },
        };
        (len > 0).then_some((at, at + len))
    })
}

/// moment's `toInt`: the number, truncated towards zero.
fn to_int(text: &str) -> f64 {
    crate::js::string_to_number(text)
        .filter(|n| n.is_finite())
        .map_or(0.0, |n| n.trunc() + 0.0)
}

/// The date parts moment's tokens fill in (`config._a`).
#[derive(Default)]
struct Parts {
    year: Option<f64>,
    month: Option<f64>,
    day: Option<f64>,
    day_of_year: Option<f64>,
    hour: Option<f64>,
    minute: Option<f64>,
    second: Option<f64>,
    millisecond: Option<f64>,
    /// Minutes east of UTC from a zone token (`config._tzm`).
    zone: Option<i32>,
}

/// `configFromStringAndFormat` for `tokens`, then `configFromArray` and
/// `checkOverflow`.
fn from_tokens(text: &str, tokens: &[Token], host: &HostZone) -> Result<Parsed, Unread> {
    let mut parts = Parts::default();
    let mut rest = text.as_bytes();
    for &token in tokens {
        let Some((start, end)) = find_token(rest, token) else {
            continue;
        };
        let matched = std::str::from_utf8(&rest[start..end]).unwrap_or("");
        rest = &rest[end..];
        match token {
            SignedYear => parts.year = Some(to_int(matched)),
            Year if matched.len() == 2 => {
                let year = to_int(matched);
                parts.year = Some(year + if year > 68.0 { 1900.0 } else { 2000.0 });
            }
            Year => parts.year = Some(to_int(matched)),
            Month => parts.month = Some(to_int(matched) - 1.0),
            Day => parts.day = Some(to_int(matched)),
            DayOfYear => parts.day_of_year = Some(to_int(matched)),
            Hour => parts.hour = Some(to_int(matched)),
            Minute => parts.minute = Some(to_int(matched)),
            Second => parts.second = Some(to_int(matched)),
            Fraction => {
                let fraction: f64 = format!("0.{matched}").parse().unwrap_or(0.0);
                parts.millisecond = Some((fraction * 1000.0).trunc());
            }
            Zone => parts.zone = Some(offset_from_string(matched).unwrap_or(0)),
            Literal(_) => {}
        }
    }
    parts.build(host)
}

fn is_leap(year: f64) -> bool {
    (year % 4.0 == 0.0 && year % 100.0 != 0.0) || year % 400.0 == 0.0
}

fn days_in_month(year: f64, month0: f64) -> f64 {
    match month0 as i64 {
        1 if is_leap(year) => 29.0,
        1 => 28.0,
        m => 31.0 - ((m % 7) % 2) as f64,
    }
}

impl Parts {
    fn build(self, host: &HostZone) -> Result<Parsed, Unread> {
        // Every ISO form names its year, so `now` is never needed.
        let Some(year) = self.year else {
            return Err(Unread::NotIso);
        };
        // JavaScript's dates end in -271821 and 275760; the calendar here a
        // little earlier, with room for the host's offset.
        if !(-271_821.0..=275_760.0).contains(&year) {
            return Ok(Parsed::Invalid);
        }
        if year.abs() > 262_000.0 {
            return Err(Unread::OutOfRange);
        }
        let (mut month, mut day) = (self.month, self.day);
        if let Some(ordinal) = self.day_of_year {
            let days = if is_leap(year) { 366.0 } else { 365.0 };
            if ordinal == 0.0 || ordinal > days {
                return Ok(Parsed::Invalid);
            }
            let date = calendar_date(year, 1.0)?
                .checked_add_signed(Duration::days(ordinal as i64 - 1))
                .ok_or(Unread::OutOfRange)?;
            month = Some(f64::from(chrono::Datelike::month0(&date)));
            day = Some(f64::from(chrono::Datelike::day(&date)));
        }
        let month = month.unwrap_or(0.0);
        let day = day.unwrap_or(1.0);
        let hour = self.hour.unwrap_or(0.0);
        let minute = self.minute.unwrap_or(0.0);
        let second = self.second.unwrap_or(0.0);
        let millisecond = self.millisecond.unwrap_or(0.0);
        let overflow = !(0.0..=11.0).contains(&month)
            || day < 1.0
            || day > days_in_month(year, month)
            || !(0.0..=24.0).contains(&hour)
            || (hour == 24.0 && (minute != 0.0 || second != 0.0 || millisecond != 0.0))
            || !(0.0..=59.0).contains(&minute)
            || !(0.0..=59.0).contains(&second)
            || !(0.0..=999.0).contains(&millisecond);
        if overflow {
            return Ok(Parsed::Invalid);
        }
        let next_day = hour == 24.0;
        let date = calendar_date(year, month + 1.0)?;
        let date = date
            .checked_add_signed(Duration::days(day as i64 - 1))
            .ok_or(Unread::OutOfRange)?;
        let clock = date
            .and_hms_milli_opt(
                if next_day { 0 } else { hour as u32 },
                minute as u32,
                second as u32,
                millisecond as u32,
            )
            .ok_or(Unread::OutOfRange)?;
        let time = match self.zone {
            Some(minutes) => {
                clock.and_utc().timestamp_millis() as f64 - f64::from(minutes) * 60_000.0
            }
            None => host.instant_of_local(clock).timestamp_millis() as f64,
        };
        let mut time = time_clip(time);
        if time.is_nan() {
            return Ok(Parsed::Invalid);
        }
        if next_day {
            // `add(1, 'd')` on a moment in the host's zone: the same wall
            // clock a calendar day later.
            let local = local_clock(time, host)
                .and_then(|local| local.checked_add_signed(Duration::days(1)))
                .ok_or(Unread::OutOfRange)?;
            time = time_clip(host.instant_of_local(local).timestamp_millis() as f64);
        }
        Ok(if time.is_nan() {
            Parsed::Invalid
        } else {
            Parsed::Time(time)
        })
    }
}

/// The first day of `month` (1-12) of `year`, where the calendar holds it.
fn calendar_date(year: f64, month: f64) -> Result<NaiveDate, Unread> {
    i32::try_from(year as i64)
        .ok()
        .and_then(|year| NaiveDate::from_ymd_opt(year, month as u32, 1))
        .ok_or(Unread::OutOfRange)
}

/// The host's wall clock at time value `time`.
pub fn local_clock(time: f64, host: &HostZone) -> Option<NaiveDateTime> {
    if !time.is_finite() || time.abs() > 8.2e15 {
        // Past year 262,000: beyond what the calendar here holds.
        return None;
    }
    let instant = chrono::DateTime::from_timestamp_millis(time as i64)?;
    instant
        .naive_utc()
        .checked_add_signed(Duration::seconds(i64::from(host.offset_at(instant))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Result<Parsed, Unread> {
        parse(text, &HostZone::UTC)
    }

    fn at(iso: &str) -> Parsed {
        Parsed::Time(
            chrono::DateTime::parse_from_rfc3339(iso)
                .expect("a valid test time")
                .timestamp_millis() as f64,
        )
    }

    #[test]
    fn the_forms_app_connect_sends() {
        assert_eq!(
            utc("2025-10-05T04:11:43.364Z"),
            Ok(at("2025-10-05T04:11:43.364Z"))
        );
        assert_eq!(utc("2025-05-03T10:10:06Z"), Ok(at("2025-05-03T10:10:06Z")));
        assert_eq!(
            utc("2025-05-03T10:10:06+05:30"),
            Ok(at("2025-05-03T04:40:06Z"))
        );
        assert_eq!(utc("/Date(1748980860000)/"), Ok(at("2025-06-03T20:01:00Z")));
    }

    #[test]
    fn odd_strings_read_as_moment_reads_them() {
        // Each was checked against moment 2.30.1 under TZ=UTC.
        assert_eq!(utc("2025-02-30"), Ok(Parsed::Invalid));
        assert_eq!(utc("2025-278"), Ok(at("2025-10-05T00:00:00Z")));
        assert_eq!(utc("20251005T0411"), Ok(at("2025-10-05T04:11:00Z")));
        assert_eq!(utc("2025-10-05T24:00"), Ok(at("2025-10-06T00:00:00Z")));
        assert_eq!(utc("2025-10-05T24:01"), Ok(Parsed::Invalid));
        assert_eq!(
            utc("2025-10-05 04:11:43,9999"),
            Ok(at("2025-10-05T04:11:43.999Z"))
        );
        assert_eq!(utc("  2025-10-05"), Ok(at("2025-10-05T00:00:00Z")));
        assert_eq!(utc("+002025-10"), Ok(at("0020-10-01T00:00:00Z")));
        assert_eq!(utc("2025-10-05T04:11z"), Err(Unread::NotIso));
        assert_eq!(utc("2025-W41-3"), Err(Unread::WeekDate));
        assert_eq!(utc("Sun, 05 Oct 2025 04:11:43 GMT"), Err(Unread::NotIso));
        assert_eq!(utc("1737298100172"), Err(Unread::NotIso));
    }

    #[test]
    fn a_time_without_offset_is_the_hosts_wall_clock() {
        let york = HostZone::named("America/New_York").expect("a known zone");
        assert_eq!(
            parse("2025-01-15T10:30", &york),
            Ok(at("2025-01-15T15:30:00Z"))
        );
    }
}
