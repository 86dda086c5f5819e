//! The moment.js 2.30.1 that `sharedSMSComposer.ts` leans on: `moment(x)`
//! for epoch milliseconds, strings and `undefined`, `utcOffset(offset)`,
//! `format(pattern)` and `diff(other, 'days' | 'hours')`, in the same
//! floating-point steps, so that an odd offset (`"-300"` is thirty hours
//! behind) or an invalid date (`Invalid date`, `NaN d NaN h`) reads as
//! core writes it.
//!
//! Pure: the host's zone and, for `moment(undefined)`, the current time
//! are the caller's.

use chrono::{DateTime, NaiveDateTime};

use super::input::JsTime;
use super::moment_parse::{self, local_clock, time_clip, Parsed, Unread};
use crate::compose::host_zone::HostZone;
use crate::compose::values::{format_wall_clock, offset_from_string};
use crate::interface::TimezoneOffset;

/// A moment: its `Date` (`_d`, NaN when invalid), whether it is valid,
/// and the fixed offset in minutes `utcOffset` put it at (`_offset`, with
/// `_isUTC`), else `None`: the host's local zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moment {
    time: f64,
    valid: bool,
    offset: Option<f64>,
}

/// Why a moment cannot be made or shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MomentError {
    /// `moment(undefined)` is the current time, and no clock was given.
    NeedsNow,
    Unread(Unread),
    /// The offset moves the time out of what `Date` holds.
    OffsetOutOfRange,
}

impl Moment {
    /// `moment(value)`: `None` is `undefined` (the current time, `now`).
    pub fn of(
        value: Option<&JsTime>,
        now: Option<f64>,
        host: &HostZone,
    ) -> Result<Moment, MomentError> {
        let time = match value {
            None => now.ok_or(MomentError::NeedsNow)?,
            Some(JsTime::Null) => return Ok(Moment::invalid()),
            Some(JsTime::Millis(millis)) => time_clip(*millis),
            Some(JsTime::Text(text)) if text.is_empty() => return Ok(Moment::invalid()),
            Some(JsTime::Text(text)) => match moment_parse::parse(text, host) {
                Ok(Parsed::Time(time)) => time,
                Ok(Parsed::Invalid) => return Ok(Moment::invalid()),
                Err(unread) => return Err(MomentError::Unread(unread)),
            },
        };
        Ok(Moment::at(time))
    }

    /// `moment(ms)` for a time value (NaN: invalid).
    pub fn at(time: f64) -> Moment {
        let time = time_clip(time);
        Moment {
            time,
            valid: !time.is_nan(),
            offset: None,
        }
    }

    fn invalid() -> Moment {
        Moment {
            time: f64::NAN,
            valid: false,
            offset: None,
        }
    }

    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// The instant, in milliseconds since the epoch (`valueOf()`).
    pub fn value_of(&self) -> f64 {
        self.time - self.offset.unwrap_or(0.0) * 60_000.0
    }

    /// `utcOffset(offset)` for a truthy offset: a string's last
    /// `Z`/`±hh(:mm)` in minutes (none: unchanged, still the host's zone),
    /// a number under 16 in hours, any other in minutes.
    pub fn with_utc_offset(mut self, offset: &TimezoneOffset) -> Result<Moment, MomentError> {
        if !self.valid {
            return Ok(self);
        }
        let minutes = match offset {
            TimezoneOffset::Text(text) => match offset_from_string(text) {
                Some(minutes) => f64::from(minutes),
                None => return Ok(self),
            },
            TimezoneOffset::Number(n) if n.abs() < 16.0 => n * 60.0,
            TimezoneOffset::Number(n) => *n,
        };
        let previous = self.offset.unwrap_or(0.0);
        self.offset = Some(minutes);
        if previous != minutes {
            self.time = time_clip(self.time + (minutes - previous) * 60_000.0);
            if self.time.is_nan() {
                return Err(MomentError::OffsetOutOfRange);
            }
        }
        Ok(self)
    }

    /// `utcOffset()`: the fixed offset, else the host's at that instant,
    /// rounded to a minute as moment rounds `getTimezoneOffset()`.
    fn utc_offset(&self, host: &HostZone) -> f64 {
        match self.offset {
            Some(minutes) => minutes,
            None => match DateTime::from_timestamp_millis(self.time as i64) {
                Some(instant) if self.time.is_finite() => {
                    let behind = -f64::from(host.offset_at(instant)) / 60.0;
                    -(behind + 0.5).floor()
                }
                _ => f64::NAN,
            },
        }
    }

    /// The clock the moment reads: UTC fields of `_d` at a fixed offset,
    /// the host's local fields otherwise.
    fn clock(&self, host: &HostZone) -> Result<(NaiveDateTime, i32), MomentError> {
        let out_of_range = MomentError::Unread(Unread::OutOfRange);
        match self.offset {
            Some(minutes) => DateTime::from_timestamp_millis(self.time as i64)
                .map(|shifted| (shifted.naive_utc(), (minutes * 60.0) as i32))
                .ok_or(out_of_range),
            None => {
                let local = local_clock(self.time, host).ok_or(out_of_range)?;
                let offset = (local
                    - DateTime::from_timestamp_millis(self.time as i64)
                        .ok_or(out_of_range)?
                        .naive_utc())
                .num_seconds() as i32;
                Ok((local, offset))
            }
        }
    }

    /// `format(pattern)`: `Invalid date` for an invalid moment.
    pub fn format(&self, pattern: &str, host: &HostZone) -> Result<String, MomentError> {
        if !self.valid {
            return Ok("Invalid date".into());
        }
        let (local, offset) = self.clock(host)?;
        Ok(format_wall_clock(
            &local,
            offset,
            self.value_of() as i64,
            pattern,
        ))
    }

    /// `this.diff(input, unit)`, truncated towards zero (NaN for an invalid
    /// moment). Days discount a change of the host's offset in between, as
    /// moment does.
    pub fn diff(&self, input: &Moment, unit: DiffUnit, host: &HostZone) -> f64 {
        if !self.valid {
            return f64::NAN;
        }
        // cloneWithOffset: `input` at this moment's offset.
        let that = match self.offset {
            Some(_) => {
                let mut that = *self;
                that.time = time_clip(self.time + (input.value_of() - self.value_of()));
                that
            }
            None => {
                let mut that = *input;
                if let Some(minutes) = that.offset.take() {
                    that.time = time_clip(that.time - minutes * 60_000.0);
                }
                that
            }
        };
        if !that.valid {
            return f64::NAN;
        }
        let zone_delta = (that.utc_offset(host) - self.utc_offset(host)) * 60_000.0;
        let elapsed = self.value_of() - that.value_of();
        let output = match unit {
            DiffUnit::Hours => elapsed / 36e5,
            DiffUnit::Days => (elapsed - zone_delta) / 864e5,
        };
        // absFloor, with -0 as 0.
        if output < 0.0 {
            output.ceil() + 0.0
        } else {
            output.floor()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffUnit {
    Days,
    Hours,
}

/// Whether `timezoneOffset` is truthy, so that core calls `utcOffset`.
pub fn offset_given(offset: Option<&TimezoneOffset>) -> Option<&TimezoneOffset> {
    offset.filter(|offset| match offset {
        TimezoneOffset::Number(n) => *n != 0.0 && !n.is_nan(),
        TimezoneOffset::Text(text) => !text.is_empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(text: &str) -> Moment {
        Moment::of(Some(&JsTime::Text(text.into())), None, &HostZone::UTC).expect("parses")
    }

    #[test]
    fn a_string_offset_takes_its_last_sign_and_two_digits() {
        // moment("2025-10-05T04:11:43.364Z").utcOffset("-300"): -30 hours.
        let shifted = iso("2025-10-05T04:11:43.364Z")
            .with_utc_offset(&TimezoneOffset::Text("-300".into()))
            .expect("in range");
        assert_eq!(
            shifted.format("YYYY-MM-DD hh:mm A", &HostZone::UTC),
            Ok("2025-10-03 10:11 PM".into())
        );
        // "-5" has no two digits: the moment stays in the host's zone.
        let same = iso("2025-10-05T04:11:43.364Z")
            .with_utc_offset(&TimezoneOffset::Text("-5".into()))
            .expect("in range");
        assert_eq!(same, iso("2025-10-05T04:11:43.364Z"));
    }

    #[test]
    fn diff_truncates_towards_zero_and_invalid_is_nan() {
        let start = iso("2025-10-05T04:00:00Z");
        let end = iso("2025-10-06T06:30:00Z");
        assert_eq!(end.diff(&start, DiffUnit::Days, &HostZone::UTC), 1.0);
        assert_eq!(end.diff(&start, DiffUnit::Hours, &HostZone::UTC), 26.0);
        assert_eq!(start.diff(&end, DiffUnit::Hours, &HostZone::UTC), -26.0);
        let invalid =
            Moment::of(Some(&JsTime::Null), None, &HostZone::UTC).expect("null is invalid");
        assert!(end.diff(&invalid, DiffUnit::Days, &HostZone::UTC).is_nan());
        assert_eq!(
            invalid.format("YYYY", &HostZone::UTC),
            Ok("Invalid date".into())
        );
    }

    #[test]
    fn undefined_is_now_only_when_a_clock_is_given() {
        assert_eq!(
            Moment::of(None, None, &HostZone::UTC),
            Err(MomentError::NeedsNow)
        );
        assert_eq!(
            Moment::of(None, Some(5.0), &HostZone::UTC),
            Ok(Moment::at(5.0))
        );
    }
}
