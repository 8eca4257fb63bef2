//! Spark's casts under ANSI mode (Spark 4's default), for the casts the compiler inserts where
//! Spark coerces types implicitly (`timestamp >= '2024-03-01 09:20:00'`, `n > '3'`,
//! `length(n)`). A value that cannot be cast fails the batch with Spark's `CAST_INVALID_INPUT`
//! message: the generated code records the first failure in a [`CastFailure`] and the query
//! returns it as [`Error::Query`](crate::Error::Query) after the batch's rows, before any
//! output or state is committed.

use super::row::Cell;
use super::time::{Date, Timestamp, parse_date, parse_timestamp};
use std::borrow::Cow;
use std::cell::RefCell;

/// The first cast of a batch that failed (shared by every expression of one query's batch).
#[derive(Debug, Default)]
pub struct CastFailure(RefCell<Option<String>>);

impl CastFailure {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records Spark's message for `value` not castable to `target` (a Spark type name such as
    /// `BIGINT`), unless a failure is recorded already.
    #[cold]
    pub fn invalid(&self, value: &str, target: &str) {
        let mut slot = self.0.borrow_mut();
        if slot.is_none() {
            *slot = Some(invalid_input(value, target));
        }
    }

    /// Records Spark's overflow message for `value` (as Spark prints it, e.g. `1.0E20D`) of
    /// type `from` not fitting `to`, unless a failure is recorded already.
    #[cold]
    pub fn overflow(&self, value: &str, from: &str, to: &str) {
        let mut slot = self.0.borrow_mut();
        if slot.is_none() {
            *slot = Some(format!(
                "[CAST_OVERFLOW] The value {value} of the type \"{from}\" cannot be cast to \"{to}\" due to an overflow. Use `try_cast` to tolerate overflow and return NULL instead. SQLSTATE: 22003"
            ));
        }
    }

    /// Records Spark's message for a text that does not match a datetime pattern (`to_timestamp`,
    /// `to_date` with a pattern), unless a failure is recorded already.
    #[cold]
    pub fn unparsable(&self, value: &str, pattern: &str) {
        let mut slot = self.0.borrow_mut();
        if slot.is_none() {
            *slot = Some(format!(
                "[CANNOT_PARSE_TIMESTAMP] Text '{value}' could not be parsed with the pattern '{pattern}'. Use `try_to_timestamp` to tolerate invalid input string and return NULL instead. SQLSTATE: 22007"
            ));
        }
    }

    /// Records `message` (Spark's, for an arithmetic failure: see
    /// [`arith`](super::arith)), unless a failure is recorded already.
    #[cold]
    pub fn record(&self, message: &str) {
        let mut slot = self.0.borrow_mut();
        if slot.is_none() {
            *slot = Some(message.to_owned());
        }
    }

    /// The recorded failure, if any.
    pub fn take(&self) -> Option<String> {
        self.0.borrow_mut().take()
    }
}

/// Spark's message for a string that does not parse as `target`.
///
/// ```
/// let m = streamc_runtime::structured::cast::invalid_input("abc", "BIGINT");
/// assert!(m.starts_with("[CAST_INVALID_INPUT] The value 'abc' of the type \"STRING\" cannot be cast to \"BIGINT\""));
/// ```
pub fn invalid_input(value: &str, target: &str) -> String {
    format!(
        "[CAST_INVALID_INPUT] The value '{value}' of the type \"STRING\" cannot be cast to \"{target}\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead. SQLSTATE: 22018"
    )
}

/// Spark trims ASCII whitespace and control characters around a string before casting it.
fn trimmed(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// A string as a `bigint`: an optional sign and decimal digits, surrounding whitespace
/// trimmed. Spark 4 (ANSI) refuses a fractional part (`'1.9'`), as it refuses any other text.
pub fn parse_long(s: &str) -> Option<i64> {
    let t = trimmed(s);
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.strip_prefix('+').unwrap_or(t).parse().ok()
}

/// A string as a `double` (Java's `Double.parseDouble` forms, `Infinity` and `NaN` included).
pub fn parse_double(s: &str) -> Option<f64> {
    match java_float(s)? {
        Ok(x) => Some(x),
        Err(t) => t.parse().ok(),
    }
}

/// Java's floating-point text (trimmed, an `f`/`d` suffix dropped): `Ok` the value of the
/// `Infinity` and `NaN` forms, `Err` the digits to parse (as a double or a float: one rounding
/// either way), None where it is not a number.
fn java_float(s: &str) -> Option<Result<f64, &str>> {
    let t = trimmed(s);
    // Java's `Infinity` and `NaN` (with a sign), and Spark's special literals in any case
    // (`Cast.processFloatingPointSpecialLiterals`: `inf`, `+infinity`, `-INF`, `nan`).
    let is = |names: &[&str]| names.iter().any(|n| t.eq_ignore_ascii_case(n));
    if is(&["inf", "+inf", "infinity", "+infinity"]) {
        return Some(Ok(f64::INFINITY));
    }
    if is(&["-inf", "-infinity"]) {
        return Some(Ok(f64::NEG_INFINITY));
    }
    if is(&["nan", "+nan", "-nan"]) {
        return Some(Ok(f64::NAN));
    }
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    if t.bytes().any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) {
        return None;
    }
    Some(Err(t))
}

/// A string as a `boolean`: `t`, `true`, `y`, `yes`, `1` and `f`, `false`, `n`, `no`, `0`, in
/// any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    match trimmed(s).to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Casts a string column value, recording a failure (and giving NULL) where Spark would fail.
macro_rules! from_string {
    ($($name:ident -> $t:ty, $parse:path, $spark:literal;)*) => {$(
        #[doc = concat!("A string as `", $spark, "`, or a recorded failure.")]
        #[inline]
        pub fn $name(v: Option<Cow<'_, str>>, failure: &CastFailure) -> Option<$t> {
            let s = v?;
            match $parse(&s) {
                Some(x) => Some(x),
                None => {
                    failure.invalid(&s, $spark);
                    None
                }
            }
        }
    )*};
}

/// A string as an `int` (as [`parse_long`], in range).
pub fn parse_int(s: &str) -> Option<i32> {
    parse_long(s).and_then(|v| v.try_into().ok())
}

/// A string as a `smallint`.
pub fn parse_short(s: &str) -> Option<i16> {
    parse_long(s).and_then(|v| v.try_into().ok())
}

/// A string as a `tinyint`.
pub fn parse_byte(s: &str) -> Option<i8> {
    parse_long(s).and_then(|v| v.try_into().ok())
}

/// A string as a `float`: parsed as a float (one rounding), Java's forms as [`parse_double`].
pub fn parse_float(s: &str) -> Option<f32> {
    match java_float(s)? {
        Ok(x) => Some(x as f32),
        Err(t) => t.parse().ok(),
    }
}

from_string! {
    string_to_byte -> i8, parse_byte, "TINYINT";
    string_to_short -> i16, parse_short, "SMALLINT";
    string_to_int -> i32, parse_int, "INT";
    string_to_float -> f32, parse_float, "FLOAT";
    string_to_long -> i64, parse_long, "BIGINT";
    string_to_double -> f64, parse_double, "DOUBLE";
    string_to_bool -> bool, parse_bool, "BOOLEAN";
    string_to_timestamp -> Timestamp, parse_timestamp, "TIMESTAMP";
    string_to_date -> Date, parse_date, "DATE";
}

/// Any value as Spark's string form of it (`CAST(x AS STRING)`: what `show()` prints).
pub fn to_string<'a, T: Cell>(v: Option<T>) -> Option<Cow<'a, str>> {
    v.map(|x| {
        let mut s = String::new();
        x.cell(&mut s);
        Cow::Owned(s)
    })
}

/// A date as the timestamp of its midnight (UTC, the session time zone).
pub fn date_to_timestamp(v: Option<Date>) -> Option<Timestamp> {
    v.map(|d| Timestamp(d.0 as i64 * 86_400_000_000))
}

/// A double as a `bigint`, truncated toward zero; NaN, infinities and values out of range are
/// Spark's `CAST_OVERFLOW` (recorded) or, with `failure` None (`try_cast`), NULL.
pub fn double_to_long(v: Option<f64>, failure: Option<&CastFailure>) -> Option<i64> {
    let x = v?;
    let t = x.trunc();
    // i64::MAX as f64 rounds up to 2^63, which does not fit.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&t) {
        return Some(t as i64);
    }
    if let Some(f) = failure {
        let mut text = String::new();
        crate::fmt::SparkFmt::spark_fmt(&x, &mut text);
        text.push('D');
        f.overflow(&text, "DOUBLE", "BIGINT");
    }
    None
}

/// A `bigint` as a timestamp: seconds since the epoch (Spark), or an overflow.
/// An integer as Spark writes it in an error message, by its type: `3000000000L` (`BIGINT`),
/// `7` (`INT`), `7S` (`SMALLINT`), `7Y` (`TINYINT`).
fn integral_text(v: i64, from: &str) -> String {
    let suffix = match from {
        "BIGINT" => "L",
        "SMALLINT" => "S",
        "TINYINT" => "Y",
        _ => "",
    };
    format!("{v}{suffix}")
}

/// An integer (widened to `i64`) as a narrower integral type; out of range fails the batch
/// with Spark's `CAST_OVERFLOW` (`from` and `to` are the SQL type names), or is NULL for
/// `try_cast` (`failure` None).
#[inline]
pub fn narrow<T: TryFrom<i64>>(v: Option<i64>, from: &str, to: &str, failure: Option<&CastFailure>) -> Option<T> {
    let x = v?;
    match T::try_from(x) {
        Ok(t) => Some(t),
        Err(_) => {
            if let Some(f) = failure {
                f.overflow(&integral_text(x, from), from, to);
            }
            None
        }
    }
}

/// A `double` or `float` (widened to `f64`) as an integral type whose range is `min..=max`:
/// truncated, as Spark does when `floor(x) <= max && ceil(x) >= min`; otherwise (NaN too)
/// `CAST_OVERFLOW`, or NULL for `try_cast`.
#[inline]
pub fn fractional_to_integral<T: TryFrom<i64>>(
    v: Option<f64>,
    (min, max): (f64, f64),
    from: &str,
    to: &str,
    failure: Option<&CastFailure>,
) -> Option<T> {
    let x = v?;
    if x.floor() <= max
        && x.ceil() >= min
        && let Ok(t) = T::try_from(x.trunc() as i64)
    {
        return Some(t);
    }
    if let Some(f) = failure {
        let mut text = String::new();
        if from == "FLOAT" {
            crate::fmt::SparkFmt::spark_fmt(&(x as f32), &mut text);
        } else {
            crate::fmt::SparkFmt::spark_fmt(&x, &mut text);
            text.push('D');
        }
        f.overflow(&text, from, to);
    }
    None
}

pub fn long_to_timestamp(v: Option<i64>, failure: Option<&CastFailure>) -> Option<Timestamp> {
    let s = v?;
    match s.checked_mul(1_000_000) {
        Some(us) => Some(Timestamp(us)),
        None => {
            if let Some(f) = failure {
                f.overflow(&format!("{s}L"), "BIGINT", "TIMESTAMP");
            }
            None
        }
    }
}

/// An integer as a timestamp by Spark's `CAST` (and `to_timestamp(n)`): seconds since the
/// epoch, saturating at the range's ends as Java's `TimeUnit.SECONDS.toMicros` does, so it
/// never fails (`CAST(9223372036854775807 AS TIMESTAMP)` is `+294247-01-10 04:00:54.775807`).
///
/// ```
/// use streamc_runtime::structured::{cast::seconds_to_timestamp, time::Timestamp};
/// assert_eq!(seconds_to_timestamp(Some(3)), Some(Timestamp(3_000_000)));
/// assert_eq!(seconds_to_timestamp(Some(i64::MIN)), Some(Timestamp(i64::MIN)));
/// ```
pub fn seconds_to_timestamp(v: Option<i64>) -> Option<Timestamp> {
    v.map(|s| Timestamp(s.saturating_mul(1_000_000)))
}

/// A double (or a float, widened) as a timestamp by Spark's ANSI `CAST`: seconds since the
/// epoch, truncated to the microsecond. NaN and the infinities are Spark's `CAST_INVALID_INPUT`
/// (of a `DOUBLE`, a float's too: Spark widens it first), microseconds beyond a `bigint` its
/// `CAST_OVERFLOW` of them as a double to `BIGINT` (`1.0E26D`); with `failure` None
/// (`try_cast`) both are NULL.
pub fn double_to_timestamp(v: Option<f64>, failure: Option<&CastFailure>) -> Option<Timestamp> {
    let x = v?;
    if !x.is_finite() {
        if let Some(f) = failure {
            let mut text = String::new();
            crate::fmt::SparkFmt::spark_fmt(&x, &mut text);
            f.record(&format!(
                "[CAST_INVALID_INPUT] The value {text} of the type \"DOUBLE\" cannot be cast to \"TIMESTAMP\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead. SQLSTATE: 22018"
            ));
        }
        return None;
    }
    double_to_long(Some(x * 1e6), failure).map(Timestamp)
}

/// A timestamp as whole seconds since the epoch (rounded down, as Spark's cast to `bigint`).
pub fn timestamp_to_long(v: Option<Timestamp>) -> Option<i64> {
    v.map(|t| t.0.div_euclid(1_000_000))
}

/// A timestamp as seconds since the epoch with the microseconds as a fraction.
pub fn timestamp_to_double(v: Option<Timestamp>) -> Option<f64> {
    v.map(|t| t.0 as f64 / 1e6)
}

/// `to_timestamp(s, pattern)`: the text parsed with the pattern, or a recorded failure.
pub fn to_timestamp_with(v: Option<Cow<'_, str>>, pattern: &str, failure: &CastFailure) -> Option<Timestamp> {
    let s = v?;
    let t = super::scalar::parse_with_pattern(&s, pattern);
    if t.is_none() {
        failure.unparsable(&s, pattern);
    }
    t
}

/// A timestamp's date (UTC, the session time zone).
pub fn timestamp_to_date(v: Option<Timestamp>) -> Option<Date> {
    v.map(|t| Date(t.0.div_euclid(86_400_000_000) as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cast_as_spark_casts_them() {
        assert_eq!(parse_long(" 42 "), Some(42));
        assert_eq!(parse_long("-7"), Some(-7));
        assert_eq!(parse_long("1.9"), None);
        assert_eq!(parse_long("abc"), None);
        assert_eq!(parse_long(""), None);
        assert_eq!(parse_long("99999999999999999999"), None);
        assert_eq!(parse_double("2.5"), Some(2.5));
        assert_eq!(parse_double("1e3"), Some(1000.0));
        assert_eq!(parse_double("x"), None);
        assert_eq!(parse_bool("YES"), Some(true));
        assert_eq!(parse_bool("2"), None);
        let f = CastFailure::new();
        assert_eq!(string_to_long(Some(Cow::Borrowed("3")), &f), Some(3));
        assert_eq!(string_to_long(None, &f), None);
        assert!(f.take().is_none());
        assert_eq!(string_to_long(Some(Cow::Borrowed("a")), &f), None);
        assert_eq!(string_to_long(Some(Cow::Borrowed("b")), &f), None);
        assert!(f.take().unwrap().contains("The value 'a'"));
        assert_eq!(to_string(Some(3.0f64)).as_deref(), Some("3.0"));
        assert_eq!(to_string(Some(-1i64)).as_deref(), Some("-1"));
    }

    #[test]
    fn numbers_and_times_cast_as_spark_casts_them() {
        let f = CastFailure::new();
        assert_eq!(double_to_long(Some(-2.9), Some(&f)), Some(-2));
        assert_eq!(double_to_long(Some(9.3e18), Some(&f)), None);
        assert!(f.take().unwrap().starts_with("[CAST_OVERFLOW] The value 9.3E18D of the type \"DOUBLE\""));
        assert_eq!(double_to_long(Some(f64::NAN), None), None);
        assert_eq!(timestamp_to_long(Some(Timestamp(-1))), Some(-1));
        assert_eq!(long_to_timestamp(Some(2), None), Some(Timestamp(2_000_000)));
        assert_eq!(long_to_timestamp(Some(i64::MAX), None), None);
        assert_eq!(timestamp_to_date(Some(Timestamp(-1))), Some(Date(-1)));
        assert_eq!(double_to_timestamp(Some(1.5), Some(&f)), Some(Timestamp(1_500_000)));
        assert_eq!(double_to_timestamp(Some(-1.5e-6), Some(&f)), Some(Timestamp(-1)));
        assert_eq!(f.take(), None);
        assert_eq!(double_to_timestamp(Some(f64::NAN), Some(&f)), None);
        assert!(
            f.take().unwrap().starts_with(
                "[CAST_INVALID_INPUT] The value NaN of the type \"DOUBLE\" cannot be cast to \"TIMESTAMP\""
            )
        );
        assert_eq!(double_to_timestamp(Some(1e20), Some(&f)), None);
        assert!(
            f.take()
                .unwrap()
                .starts_with("[CAST_OVERFLOW] The value 1.0E26D of the type \"DOUBLE\" cannot be cast to \"BIGINT\"")
        );
        assert_eq!(double_to_timestamp(Some(f64::NEG_INFINITY), None), None);
        assert_eq!(seconds_to_timestamp(Some(i64::MAX)), Some(Timestamp(i64::MAX)));
        assert_eq!(parse_double("-INF"), Some(f64::NEG_INFINITY));
        assert!(parse_double(" nan ").is_some_and(f64::is_nan));
        assert_eq!(parse_double("inf"), Some(f64::INFINITY));
    }
}
