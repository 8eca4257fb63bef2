//! Spark's calendar functions over dates and timestamps (UTC, the session time zone streamc
//! assumes): `date_trunc`, `trunc`, `quarter`, `last_day`, `add_months`.

use super::time::{Date, MICROS_PER_DAY, Timestamp, civil_from_days, days_from_civil, days_in_month};

/// A truncation unit of `date_trunc` and `trunc`, finest first (Spark's trunc levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// Spark's names of the units (case-insensitive); `None` for any other text.
fn unit(name: &str) -> Option<Unit> {
    Some(match name.to_ascii_uppercase().as_str() {
        "MICROSECOND" => Unit::Microsecond,
        "MILLISECOND" => Unit::Millisecond,
        "SECOND" => Unit::Second,
        "MINUTE" => Unit::Minute,
        "HOUR" => Unit::Hour,
        "DAY" | "DD" => Unit::Day,
        "WEEK" => Unit::Week,
        "MON" | "MONTH" | "MM" => Unit::Month,
        "QUARTER" => Unit::Quarter,
        "YEAR" | "YYYY" | "YY" => Unit::Year,
        _ => return None,
    })
}

/// The first day of `unit` (week or coarser) that holds day `d` (days since the epoch).
fn start_day(d: i64, unit: Unit) -> i64 {
    let (y, m, _) = civil_from_days(d);
    match unit {
        // Weeks start on Monday; 1970-01-01 was a Thursday.
        Unit::Week => d - (d + 3).rem_euclid(7),
        Unit::Month => days_from_civil(y, m, 1),
        Unit::Quarter => days_from_civil(y, (m - 1) / 3 * 3 + 1, 1),
        Unit::Year => days_from_civil(y, 1, 1),
        _ => d,
    }
}

/// `date_trunc(unit, ts)`: the timestamp truncated to the start of its `unit`; NULL for an
/// unknown unit.
///
/// ```
/// use streamc_runtime::structured::calendar::date_trunc;
/// use streamc_runtime::structured::time::parse_timestamp;
/// let t = parse_timestamp("2024-05-15 13:47:21.123456").unwrap();
/// let at = |s| parse_timestamp(s);
/// assert_eq!(date_trunc("HOUR", t), at("2024-05-15 13:00:00"));
/// assert_eq!(date_trunc("week", t), at("2024-05-13 00:00:00"));
/// assert_eq!(date_trunc("QUARTER", t), at("2024-04-01 00:00:00"));
/// assert_eq!(date_trunc("MILLISECOND", t), at("2024-05-15 13:47:21.123"));
/// assert_eq!(date_trunc("fortnight", t), None);
/// ```
pub fn date_trunc(unit_name: &str, t: Timestamp) -> Option<Timestamp> {
    let unit = unit(unit_name)?;
    let floor = |step: i64| Some(Timestamp(t.0 - t.0.rem_euclid(step)));
    match unit {
        Unit::Microsecond => Some(t),
        Unit::Millisecond => floor(1_000),
        Unit::Second => floor(1_000_000),
        Unit::Minute => floor(60_000_000),
        Unit::Hour => floor(3_600_000_000),
        Unit::Day => floor(MICROS_PER_DAY),
        _ => start_day(t.0.div_euclid(MICROS_PER_DAY), unit).checked_mul(MICROS_PER_DAY).map(Timestamp),
    }
}

/// `trunc(date, unit)`: the date truncated to the start of its week, month, quarter or year;
/// NULL for a finer or unknown unit.
///
/// ```
/// use streamc_runtime::structured::calendar::trunc;
/// use streamc_runtime::structured::time::parse_date;
/// let d = parse_date("2024-05-15").unwrap();
/// assert_eq!(trunc(d, "MM"), parse_date("2024-05-01"));
/// assert_eq!(trunc(d, "year"), parse_date("2024-01-01"));
/// assert_eq!(trunc(d, "DAY"), None);
/// ```
pub fn trunc(d: Date, unit_name: &str) -> Option<Date> {
    let unit = unit(unit_name).filter(|u| *u >= Unit::Week)?;
    i32::try_from(start_day(i64::from(d.0), unit)).ok().map(Date)
}

/// `quarter(d)`: 1 to 4.
pub fn quarter(d: Date) -> i64 {
    let (_, m, _) = civil_from_days(i64::from(d.0));
    i64::from((m - 1) / 3 + 1)
}

/// `last_day(d)`: the last day of the date's month.
pub fn last_day(d: Date) -> Date {
    let (y, m, _) = civil_from_days(i64::from(d.0));
    Date(days_from_civil(y, m, days_in_month(y, m)) as i32)
}

/// `add_months(d, n)`: the date `n` months later (earlier for negative `n`), its day clamped to
/// the last day of the month it lands in (`2024-01-31` + 1 month = `2024-02-29`).
///
/// ```
/// use streamc_runtime::structured::calendar::add_months;
/// use streamc_runtime::structured::time::parse_date;
/// let d = |s| parse_date(s).unwrap();
/// assert_eq!(add_months(d("2024-01-31"), 1), Some(d("2024-02-29")));
/// assert_eq!(add_months(d("2024-03-15"), -14), Some(d("2023-01-15")));
/// ```
pub fn add_months(d: Date, n: i64) -> Option<Date> {
    let (y, m, day) = civil_from_days(i64::from(d.0));
    let months = y.checked_mul(12)?.checked_add(i64::from(m) - 1)?.checked_add(n)?;
    let (y, m) = (months.div_euclid(12), (months.rem_euclid(12) + 1) as u32);
    let day = day.min(days_in_month(y, m));
    i32::try_from(days_from_civil(y, m, day)).ok().map(Date)
}

/// `t + INTERVAL n MONTHS`: the date moved by [`add_months`], the time of day kept (UTC).
///
/// ```
/// use streamc_runtime::structured::{calendar::add_months_to_timestamp, time::parse_timestamp};
/// let t = parse_timestamp("2024-01-31 10:30:00").unwrap();
/// assert_eq!(add_months_to_timestamp(t, 1), parse_timestamp("2024-02-29 10:30:00"));
/// ```
pub fn add_months_to_timestamp(t: Timestamp, n: i64) -> Option<Timestamp> {
    const DAY: i64 = 86_400_000_000;
    let (days, time) = (t.0.div_euclid(DAY), t.0.rem_euclid(DAY));
    let d = add_months(Date(i32::try_from(days).ok()?), n)?;
    i64::from(d.0).checked_mul(DAY)?.checked_add(time).map(Timestamp)
}
