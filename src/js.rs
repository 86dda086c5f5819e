//! The few JavaScript semantics mockcrm must share with App Connect's
//! JavaScript, over JSON values: `String(value)`, truthiness,
//! `String.prototype.trim` and `\s`, `Number(text)`, and moment's
//! `toISOString()`. The proxy engine and the composer both lean on them
//! (dot paths are in `proxy/path.rs`).
//!
//! Pure functions only. `undefined` is `None` throughout; a JSON `null` is
//! `Some(Value::Null)`. Inherited JavaScript properties (`toString`,
//! `constructor`, `__proto__` of a plain object) read as `undefined` here,
//! where JavaScript would find functions: no config means them.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

/// `\s` in a JavaScript regular expression, and what `trim()` removes.
/// Not Rust's `char::is_whitespace`: JavaScript counts U+FEFF and not U+0085.
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{d}'
            | ' '
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
            | '\u{feff}'
    )
}

/// `String.prototype.trim`.
pub fn trim(text: &str) -> &str {
    text.trim_matches(is_space)
}

/// JavaScript truthiness of a possibly undefined value.
pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0 && !n.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

/// `String(value)` for a JSON value: numbers as JavaScript prints them,
/// arrays joined with commas (a `null` element prints as nothing), objects
/// as `[object Object]`.
pub fn to_string(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_to_string(number_f64(n)),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Null => String::new(),
                other => to_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// `String(value)`, with `undefined` printing as `undefined` (a template
/// literal's `${value}`).
pub fn to_string_or_undefined(value: Option<&Value>) -> String {
    value.map_or_else(|| "undefined".into(), to_string)
}

/// What a user reads in a message: `the string "x"`, `an object`, …
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// A JSON number as the double JavaScript's `JSON.parse` would make of it.
pub fn number_f64(n: &serde_json::Number) -> f64 {
    if let Some(u) = n.as_u64() {
        u as f64
    } else if let Some(i) = n.as_i64() {
        i as f64
    } else {
        n.as_f64().unwrap_or(f64::NAN)
    }
}

/// `Number.prototype.toString()` (ECMA-262 Number::toString with radix 10):
/// the shortest digits that round-trip, in plain notation from 1e-7 up to
/// 1e21 and in exponent notation (`1e+21`, `1.5e-7`) outside it.
pub fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        // Also -0, which JavaScript prints as "0".
        return "0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Rust's `{:e}` prints the shortest round-trip digits, as JavaScript does.
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i32;
    let n = exponent + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e_sign = if e < 0 { '-' } else { '+' };
        if k == 1 {
            format!("{digits}e{e_sign}{}", e.abs())
        } else {
            format!("{}.{}e{e_sign}{}", &digits[..1], &digits[1..], e.abs())
        }
    };
    format!("{sign}{body}")
}

/// `Number(text)`: JavaScript's string-to-number conversion (whitespace
/// trimmed, empty is 0, `0x`/`0o`/`0b` prefixes, `Infinity`); `None` is NaN.
pub fn string_to_number(text: &str) -> Option<f64> {
    let text = trim(text);
    if text.is_empty() {
        return Some(0.0);
    }
    let radix = |prefix: [&str; 2], radix: u32| {
        prefix
            .iter()
            .find_map(|p| text.strip_prefix(p))
            .map(|digits| {
                if digits.is_empty() {
                    return None;
                }
                digits.chars().try_fold(0f64, |acc, c| {
                    c.to_digit(radix)
                        .map(|d| acc * f64::from(radix) + f64::from(d))
                })
            })
    };
    for (prefix, r) in [(["0x", "0X"], 16), (["0o", "0O"], 8), (["0b", "0B"], 2)] {
        if let Some(parsed) = radix(prefix, r) {
            return parsed;
        }
    }
    match text {
        "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    // Rust also reads "inf" and "nan", which JavaScript does not.
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    text.parse::<f64>().ok()
}

/// `+value`: the number JavaScript's unary plus makes of a JSON value.
pub fn to_number(value: Option<&Value>) -> Option<f64> {
    match value {
        None => None,
        Some(Value::Null) => Some(0.0),
        Some(Value::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
        Some(Value::Number(n)) => Some(number_f64(n)),
        Some(Value::String(s)) => string_to_number(s),
        Some(array @ Value::Array(_)) => string_to_number(&to_string(array)),
        Some(Value::Object(_)) => None,
    }
}

/// The index an array key names in JavaScript (`"0"`, `"12"`; not `"01"`).
pub fn array_index(key: &str) -> Option<usize> {
    if key.is_empty() || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u32>()
        .ok()
        .filter(|&i| i < u32::MAX)
        .map(|i| i as usize)
}

/// What a start time says: an instant, or a wall-clock time without an
/// offset (which App Connect's core, through moment, reads in its host's
/// zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartReading {
    Instant(DateTime<Utc>),
    Local(NaiveDateTime),
}

/// An ISO 8601 time as RingCentral and App Connect write them: with an
/// offset (an instant), or without one (a wall-clock time, which moment
/// reads in its host's zone and RingCentral means as UTC).
pub fn read_iso_time(text: &str) -> Option<StartReading> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(StartReading::Instant(time.with_timezone(&Utc)));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .map(StartReading::Local)
}

/// `moment(value).utc().add(seconds, 'seconds').toISOString()`: `Some(text)`,
/// or `None` where moment's invalid date gives `null`. `moment(undefined)`
/// is the current time, which is why `now` is asked for.
pub fn moment_iso(
    value: Option<&Value>,
    add_seconds: Option<&Value>,
    now: DateTime<Utc>,
) -> Option<String> {
    let start_ms: f64 = match value {
        None => now.timestamp_millis() as f64,
        Some(Value::Number(n)) => number_f64(n).trunc(),
        Some(Value::String(text)) => match read_iso_time(text)? {
            StartReading::Instant(instant) => instant,
            StartReading::Local(naive) => naive.and_utc(),
        }
        .timestamp_millis() as f64,
        Some(_) => return None,
    };
    // moment turns anything `+value` reads as a number into seconds, and
    // anything else (a word such as "pending", undefined) into nothing.
    let seconds = match add_seconds {
        None | Some(Value::Object(_)) => 0.0,
        Some(other) => to_number(Some(other)).unwrap_or(0.0),
    };
    let millis = (start_ms + seconds * 1000.0).trunc();
    if !millis.is_finite() || millis.abs() > 8.64e15 {
        return None;
    }
    let instant = DateTime::from_timestamp_millis(millis as i64)?;
    Some(
        instant
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1.5e21, "1.5e+21"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (123.456, "123.456"),
            (2f64.powi(53), "9007199254740992"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.000123, "0.000123"),
            (100.0, "100"),
        ];
        for (x, expected) in cases {
            assert_eq!(number_to_string(*x), *expected, "String({x:e})");
        }
    }

    #[test]
    fn string_of_json_values_matches_javascript() {
        // Each right-hand side was computed by hand from ECMA-262 and checked
        // against what node prints for String(JSON.parse(left)).
        let cases = [
            ("null", "null"),
            ("true", "true"),
            ("false", "false"),
            ("12345678901234567890", "12345678901234567000"),
            ("-0", "0"),
            ("1e21", "1e+21"),
            ("[1, \"a\", null, [2, [3]], true]", "1,a,,2,3,true"),
            ("[]", ""),
            ("[null]", ""),
            ("[{}]", "[object Object]"),
            ("{\"a\": 1}", "[object Object]"),
            ("\"text\"", "text"),
            ("0.1", "0.1"),
        ];
        for (json, expected) in cases {
            let value: Value = serde_json::from_str(json).expect("test JSON");
            assert_eq!(to_string(&value), expected, "String({json})");
        }
    }

    #[test]
    fn javascript_whitespace_is_not_rusts() {
        assert!(is_space('\u{feff}'));
        assert!(!is_space('\u{85}'));
        assert_eq!(trim("\u{feff} x \u{2028}"), "x");
        assert_eq!(trim("\u{85}x"), "\u{85}x");
    }

    #[test]
    fn number_conversion_follows_javascript() {
        assert_eq!(string_to_number(""), Some(0.0));
        assert_eq!(string_to_number("  42 "), Some(42.0));
        assert_eq!(string_to_number("0x1A"), Some(26.0));
        assert_eq!(string_to_number("1e3"), Some(1000.0));
        assert_eq!(string_to_number(".5"), Some(0.5));
        assert_eq!(string_to_number("pending"), None);
        assert_eq!(string_to_number("inf"), None);
        assert_eq!(string_to_number("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(to_number(Some(&json!(true))), Some(1.0));
        assert_eq!(to_number(Some(&json!([7]))), Some(7.0));
    }

    #[test]
    fn moment_iso_strings_match_moment() {
        let now = DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        let iso = |v: Value, d: Option<Value>| moment_iso(Some(&v), d.as_ref(), now);
        assert_eq!(
            iso(json!("2024-01-15T10:30:00-05:00"), Some(json!(125))),
            Some("2024-01-15T15:32:05.000Z".into())
        );
        assert_eq!(
            iso(json!(1705332600000u64), None),
            Some("2024-01-15T15:30:00.000Z".into())
        );
        // moment adds nothing for a word, and 1.5 seconds as 1500 ms.
        assert_eq!(
            iso(json!(1705332600000u64), Some(json!("pending"))),
            Some("2024-01-15T15:30:00.000Z".into())
        );
        assert_eq!(
            iso(json!(1705332600000u64), Some(json!(1.5))),
            Some("2024-01-15T15:30:01.500Z".into())
        );
        assert_eq!(iso(json!("yesterday"), None), None, "invalid is null");
        assert_eq!(iso(Value::Null, None), None, "moment(null) is invalid");
        assert_eq!(
            moment_iso(None, None, now),
            Some("2030-01-01T00:00:00.000Z".into()),
            "moment(undefined) is now"
        );
    }
}
