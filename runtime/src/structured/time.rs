//! Event time: Spark's `TimestampType` (microseconds since the Unix epoch, UTC), parsed from and
//! printed as Spark prints it (`2024-01-01 12:02:00`, `2024-01-01 12:02:00.123`).
//!
//! The calendar is the proleptic Gregorian one (Spark 3+), computed here with Howard Hinnant's
//! `days_from_civil`/`civil_from_days` algorithms, which are exact for every `i64` day count the
//! timestamps below can reach. streamc's session time zone is UTC: a timestamp without an offset
//! is read as UTC, and timestamps are printed in UTC.

use std::fmt::Write as _;

use crate::error::Error;
use crate::fmt::{SparkFmt, ToJson};
use crate::persist::Persist;

/// Microseconds in a second.
pub const MICROS_PER_SECOND: i64 = 1_000_000;
/// Microseconds in a minute.
pub const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
/// Microseconds in a day.
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// The largest year (either side of year 0) that [`Timestamp::from_civil`] accepts; an `i64` of
/// microseconds reaches about ±292 000 years.
const MAX_YEAR: i64 = 290_000;

/// An instant: microseconds since 1970-01-01 00:00:00 UTC (negative before it), as Spark's
/// `TimestampType` stores it. Ordered by time.
///
/// ```
/// use streamc_runtime::structured::time::{Timestamp, parse_timestamp};
/// use streamc_runtime::fmt::spark_string;
/// let t = parse_timestamp("2024-01-01T12:02:00.250+01:00").unwrap();
/// assert_eq!(spark_string(&t), "2024-01-01 11:02:00.25");
/// assert_eq!(Timestamp::from_millis(0), Timestamp::EPOCH);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

crate::impl_into_owned_identity!(Timestamp);

impl Timestamp {
    /// 1970-01-01 00:00:00 UTC, the watermark before any event was seen.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// The instant `ms` milliseconds after the epoch (saturating at the ends of the range).
    #[inline]
    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms.saturating_mul(1000))
    }

    /// The instant `s` seconds after the epoch (saturating at the ends of the range).
    #[inline]
    pub fn from_secs(s: i64) -> Self {
        Timestamp(s.saturating_mul(MICROS_PER_SECOND))
    }

    /// Milliseconds since the epoch, rounded down (towards the past).
    #[inline]
    pub fn as_millis(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// The instant of a UTC civil date and time; `None` if a field is out of range (month
    /// 1–12, day within the month, hour 0–23, minute and second 0–59, micros below 1 000 000)
    /// or the instant does not fit an `i64`.
    pub fn from_civil(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        micros: u32,
    ) -> Option<Self> {
        if !(-MAX_YEAR..=MAX_YEAR).contains(&year)
            || !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
            || micros >= 1_000_000
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
        days.checked_mul(MICROS_PER_DAY)?.checked_add(secs * MICROS_PER_SECOND + i64::from(micros)).map(Timestamp)
    }

    /// The UTC civil date and time: `(year, month, day, hour, minute, second, micros)`.
    pub fn to_civil(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(MICROS_PER_DAY);
        let rem = self.0.rem_euclid(MICROS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let secs = rem / MICROS_PER_SECOND;
        (y, m, d, (secs / 3600) as u32, (secs / 60 % 60) as u32, (secs % 60) as u32, (rem % MICROS_PER_SECOND) as u32)
    }

    /// `self + us` microseconds, saturating.
    #[inline]
    pub fn plus_micros(self, us: i64) -> Self {
        Timestamp(self.0.saturating_add(us))
    }
}

/// Whether `year` is a leap year of the proleptic Gregorian calendar.
pub const fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days of `month` (1–12) of `year`.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    month_length(month, is_leap_year(year))
}

/// The number of days of `month` (1–12; 0 for another number) of a leap or common year.
#[inline(always)]
fn month_length(month: u32, leap: bool) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`); the month
/// is 1–12 and the day 1–31. Exact for years within ±2^50.
pub const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = ((month + 9) % 12) as i64; // March = 0
    let doy = (153 * mp + 2) / 5 + day as i64 - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a day count since 1970-01-01 (Hinnant's
/// `civil_from_days`), for any day count a [`Timestamp`] can reach.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses a timestamp as Spark's `CAST(string AS TIMESTAMP)` and its JSON reader do for the
/// usual forms: `yyyy`, `yyyy-[m]m` or `yyyy-[m]m-[d]d`, then (after a day) optionally a space
/// or `T` and `[h]h[:[m]m[:[s]s]]`, then optionally `.` and up to 9 fraction digits (digits
/// after the sixth, below a microsecond, are dropped), then optionally a zone: `Z`, `UTC`, `GMT` or an offset `±[h]h[:mm]` / `±hhmm`
/// (allowed after a space too). Without a zone the time is UTC (the session time zone).
/// Surrounding whitespace is ignored. Anything else is `None` (Spark's `NULL`).
///
/// ```
/// use streamc_runtime::structured::time::{Timestamp, parse_timestamp};
/// assert_eq!(parse_timestamp("1970-01-01 00:00:01"), Some(Timestamp(1_000_000)));
/// assert_eq!(parse_timestamp("1970-01-01T01:00:00+01:00"), Some(Timestamp(0)));
/// assert_eq!(parse_timestamp("2024-02-30 00:00:00"), None);
/// ```
#[inline]
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    // The common shape first, `yyyy-MM-dd HH:mm:ss` (or with `T`): the same result as the
    // general parse below, without its cursor. Inlined into a source's loop, the general parse
    // out of line.
    if let Some(t) = civil_seconds(s.as_bytes()) {
        return t;
    }
    parse_timestamp_general(s)
}

#[inline(never)]
fn parse_timestamp_general(s: &str) -> Option<Timestamp> {
    let mut c = Cursor { b: s.trim().as_bytes(), i: 0 };
    let year = c.digits(4, 4)? as i64;
    // Spark takes the year alone and the year and month too (`2024`, `2024-03`): their first
    // day's midnight.
    if c.i == c.b.len() {
        return Timestamp::from_civil(year, 1, 1, 0, 0, 0, 0);
    }
    c.eat(b'-')?;
    let month = c.digits(1, 2)?;
    if c.i == c.b.len() {
        return Timestamp::from_civil(year, month, 1, 0, 0, 0, 0);
    }
    c.eat(b'-')?;
    let day = c.digits(1, 2)?;
    let (mut hour, mut minute, mut second, mut micros) = (0, 0, 0, 0);
    if c.i < c.b.len() && matches!(c.peek(), Some(b' ' | b'T')) && matches!(c.b.get(c.i + 1), Some(b'0'..=b'9')) {
        c.i += 1;
        hour = c.digits(1, 2)?;
        // Spark takes the hour alone too (`2024-12-31T10`), and the minutes without seconds.
        let with_minutes = c.peek() == Some(b':');
        if with_minutes {
            c.i += 1;
            minute = c.digits(1, 2)?;
        }
        if with_minutes && c.peek() == Some(b':') {
            c.i += 1;
            second = c.digits(1, 2)?;
            if c.peek() == Some(b'.') {
                c.i += 1;
                // A dot without digits is a fraction of zero, as Spark reads it.
                if matches!(c.peek(), Some(b'0'..=b'9')) {
                    let start = c.i;
                    let f = c.digits(1, 9)?;
                    let n = c.i - start;
                    micros = if n <= 6 { f * 10u32.pow((6 - n) as u32) } else { f / 10u32.pow((n - 6) as u32) };
                }
            }
        }
    }
    let t = Timestamp::from_civil(year, month, day, hour, minute, second, micros)?;
    let offset_us = c.zone()?;
    if c.i != c.b.len() {
        return None;
    }
    t.0.checked_sub(offset_us).map(Timestamp)
}

/// `Some(result)` when `b` is exactly `dddd-dd-dd dd:dd:dd` (or `T` between date and time);
/// `None` for any other shape. Always inlined: left to `#[inline]`, the compiler kept it out of
/// line, a call per event from each source loop (the structured bench on 2 workers: 159–167 ms
/// out of line, 144–156 ms inlined; 1 worker unchanged).
#[inline(always)]
fn civil_seconds(b: &[u8]) -> Option<Option<Timestamp>> {
    let b: &[u8; 19] = b.try_into().ok()?;
    // Three overlapping words: bytes 0–7 `dddd-dd-`, 8–15 `dd dd:dd` (or `T`), 11–18 `dd:dd:dd`.
    let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let (w0, w1, w2) = (word(0), word(8), word(11));
    // Each byte of `mask` a digit: high nibble 3, low nibble at most 9 (adding 6 does not carry).
    let digits = |w: u64, mask: u64| {
        const LOW: u64 = 0x0f0f_0f0f_0f0f_0f0f;
        w & 0xf0f0_f0f0_f0f0_f0f0 & mask == 0x3030_3030_3030_3030 & mask
            && ((w & LOW) + 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010 & mask == 0
    };
    // Little-endian: the first byte is the lowest.
    const YEAR_MONTH: u64 = 0x00ff_ff00_ffff_ffff; // dddd-dd-
    const PAIRS: u64 = 0xffff_00ff_ff00_ffff; // dd?dd?dd
    let shape = digits(w0, YEAR_MONTH)
        && digits(w1, PAIRS)
        && digits(w2, PAIRS)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b' ' || b[10] == b'T')
        && b[13] == b':'
        && b[16] == b':';
    if !shape {
        return None;
    }
    // Two digits' value in each byte at once: byte `k` of `pairs(w)` is `10 * d[k] + d[k + 1]`
    // of `w`'s digits `d` (at most 9; a separator's low nibble at most 15), no byte carrying.
    let pairs = |w: u64| {
        let d = w & 0x0f0f_0f0f_0f0f_0f0f;
        d * 10 + (d >> 8)
    };
    let (p0, p1, p2) = (pairs(w0), pairs(w1), pairs(w2));
    let at = |p: u64, byte: u32| ((p >> (8 * byte)) & 0xff) as u32;
    let (year, month, day) = (at(p0, 0) * 100 + at(p0, 2), at(p0, 5), at(p1, 0));
    let (hour, minute, second) = (at(p1, 3), at(p2, 3), at(p2, 6));
    let Some(days) = table_days(year, month, day) else {
        // A year outside the table's, or a date that does not exist.
        return Some(Timestamp::from_civil(i64::from(year), month, day, hour, minute, second, 0));
    };
    if hour > 23 || minute > 59 || second > 59 {
        return Some(None);
    }
    let secs = i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    Some(Some(Timestamp(days * MICROS_PER_DAY + secs * MICROS_PER_SECOND)))
}

/// The first year of [`YEAR_DAYS`].
const TABLE_FROM: u32 = 1900;

/// For each year from [`TABLE_FROM`], 256 years: the day count since 1970-01-01 of its January
/// 1st, shifted left by one, and 1 in the low bit for a leap year.
static YEAR_DAYS: [i32; 256] = {
    let mut t = [0i32; 256];
    let mut i = 0;
    while i < 256 {
        let year = TABLE_FROM as i64 + i as i64;
        t[i] = ((days_from_civil(year, 1, 1) as i32) << 1) | is_leap_year(year) as i32;
        i += 1;
    }
    t
};

/// The days of a common year before each month (1-based; index 0 unused).
const MONTH_DAYS_BEFORE: [u16; 13] = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/// The day count since 1970-01-01 of a date whose year is in [`YEAR_DAYS`]; `None` for another
/// year or a date that does not exist (the caller's general path decides).
#[inline(always)]
fn table_days(year: u32, month: u32, day: u32) -> Option<i64> {
    let i = year.wrapping_sub(TABLE_FROM) as usize;
    if i >= YEAR_DAYS.len() || !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let entry = YEAR_DAYS[i];
    let leap = entry & 1 == 1;
    if day > month_length(month, leap) {
        return None;
    }
    let before = i64::from(MONTH_DAYS_BEFORE[month as usize]) + i64::from(leap && month > 2);
    Some(i64::from(entry >> 1) + before + i64::from(day) - 1)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek() == Some(c)).then(|| self.i += 1)
    }

    /// `min..=max` decimal digits (no more: a longer run is an error).
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        let mut v = 0u32;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            if self.i - start == max {
                return None;
            }
            v = v * 10 + u32::from(d - b'0');
            self.i += 1;
        }
        (self.i - start >= min).then_some(v)
    }

    /// An optional zone at the end; its offset from UTC in microseconds.
    fn zone(&mut self) -> Option<i64> {
        if self.i == self.b.len() {
            return Some(0);
        }
        if self.peek() == Some(b' ') {
            self.i += 1;
        }
        let rest = &self.b[self.i..];
        if rest == b"Z" || rest == b"UTC" || rest == b"GMT" {
            self.i = self.b.len();
            return Some(0);
        }
        let sign = match self.peek()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.i += 1;
        let start = self.i;
        let first = self.digits(1, 4)?;
        let (h, m) = match self.i - start {
            1 | 2 if self.peek() == Some(b':') => {
                self.i += 1;
                (first, self.digits(2, 2)?)
            }
            1 | 2 => (first, 0),
            4 => (first / 100, first % 100),
            _ => return None,
        };
        if h > 18 || m > 59 {
            return None;
        }
        Some(sign * (i64::from(h) * 3600 + i64::from(m) * 60) * MICROS_PER_SECOND)
    }
}

thread_local! {
    // The text of timestamps this thread formatted lately, by a hash of their value (a batch's
    // rows repeat their windows' bounds): a slot holds one value and its text.
    static FORMATTED: std::cell::RefCell<[(Option<i64>, String); 8]> =
        const { std::cell::RefCell::new([const { (None, String::new()) }; 8]) };
}

/// Spark's console text of a timestamp: `yyyy-MM-dd HH:mm:ss`, then `.` and the fraction of the
/// second only when it is not zero, trailing zeros removed (`12:02:00.5`, `12:02:00.000123`).
/// Years outside 0–9999 are printed with as many digits as they need (and a `-` before 0).
impl SparkFmt for Timestamp {
    fn spark_fmt(&self, out: &mut String) {
        let slot = ((self.0 as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 61) as usize;
        let cached = FORMATTED.try_with(|cache| {
            let (value, text) = &mut cache.borrow_mut()[slot];
            if *value != Some(self.0) {
                text.clear();
                self.format_into(text);
                *value = Some(self.0);
            }
            out.push_str(text);
        });
        // A thread whose slots are already gone (a destructor formatting as the thread ends)
        // computes the text.
        if cached.is_err() {
            self.format_into(out);
        }
    }
}

impl Timestamp {
    /// The [`SparkFmt`] text, computed.
    fn format_into(&self, out: &mut String) {
        let (y, mo, d, h, mi, s, us) = self.to_civil();
        year(y, out);
        let mut text = *b"-00-00 00:00:00.000000";
        for (at, n) in [(1, mo), (4, d), (7, h), (10, mi), (13, s)] {
            text[at] = b'0' + (n / 10) as u8;
            text[at + 1] = b'0' + (n % 10) as u8;
        }
        let mut end = 15;
        if us != 0 {
            let mut u = us;
            for i in (16..22).rev() {
                text[i] = b'0' + (u % 10) as u8;
                u /= 10;
            }
            // The fraction without its trailing zeros.
            end = 22;
            while text[end - 1] == b'0' {
                end -= 1;
            }
        }
        out.push_str(std::str::from_utf8(&text[..end]).expect("ASCII digits"));
    }
}

/// The [`SparkFmt`] text as a JSON string (`"2024-01-01 12:02:00"`): digits, `-`, `+`, `:`, `.`
/// and a space, nothing to escape.
impl ToJson for Timestamp {
    fn to_json(&self, out: &mut String) {
        out.push('"');
        self.spark_fmt(out);
        out.push('"');
    }
}

/// As its `i64` microseconds (in the compact form, their difference from the previous
/// timestamp: a repeated window bound takes one byte).
impl Persist for Timestamp {
    fn write(&self, out: &mut Vec<u8>) {
        self.0.write(out)
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        i64::read(input).map(Timestamp)
    }
    #[inline]
    fn write_after(&self, prev: Option<&Self>, out: &mut Vec<u8>) {
        self.0.write_after(prev.map(|p| &p.0), out)
    }
    #[inline]
    fn read_after(prev: Option<&Self>, input: &mut &[u8]) -> Result<Self, Error> {
        i64::read_after(prev.map(|p| &p.0), input).map(Timestamp)
    }
}

/// A calendar date: days since 1970-01-01, as Spark's `DateType` stores it. Printed
/// `yyyy-MM-dd`.
///
/// ```
/// use streamc_runtime::structured::time::{Date, parse_date};
/// use streamc_runtime::fmt::spark_string;
/// assert_eq!(parse_date("1970-01-02"), Some(Date(1)));
/// assert_eq!(spark_string(&parse_date("2024-02-29").unwrap()), "2024-02-29");
/// assert_eq!(parse_date("2024-01-01 12:00:00"), parse_date("2024-01-01"));
/// assert_eq!(parse_date("2023-02-29"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Date(pub i32);

crate::impl_into_owned_identity!(Date);

/// Parses a date as Spark's `CAST(s AS DATE)` does for the common forms: `yyyy-MM-dd`,
/// optionally followed by a time (`T` or a space, then anything a timestamp accepts), which is
/// dropped. `None` if it is not a valid date.
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let day = s.get(..10)?;
    let rest = &s[10..];
    if !(rest.is_empty() || rest.starts_with(['T', ' '])) {
        return None;
    }
    let b = day.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i64 = day[..4].parse().ok()?;
    let month: u32 = day[5..7].parse().ok()?;
    let d: u32 = day[8..10].parse().ok()?;
    if !(1..=12).contains(&month) || d == 0 || d > days_in_month(year, month) {
        return None;
    }
    i32::try_from(days_from_civil(year, month, d)).ok().map(Date)
}

impl SparkFmt for Date {
    fn spark_fmt(&self, out: &mut String) {
        let (y, m, d) = civil_from_days(i64::from(self.0));
        year(y, out);
        let mut text = *b"-00-00";
        for (at, n) in [(1, m), (4, d)] {
            text[at] = b'0' + (n / 10) as u8;
            text[at + 1] = b'0' + (n % 10) as u8;
        }
        out.push_str(std::str::from_utf8(&text).expect("ASCII digits"));
    }
}

/// A year as Spark writes it (Java's `yyyy`, sign style `EXCEEDS_PAD`): four digits at least,
/// `-` before a negative year and `+` before one of more than four digits (`+294247`).
fn year(y: i64, out: &mut String) {
    if let Ok(y @ 0..10_000) = u32::try_from(y) {
        let digits = [y / 1000, y / 100 % 10, y / 10 % 10, y % 10].map(|d| b'0' + d as u8);
        out.push_str(std::str::from_utf8(&digits).expect("ASCII digits"));
        return;
    }
    let _ = match y {
        ..0 => write!(out, "-{:04}", -y),
        10_000.. => write!(out, "+{y}"),
        _ => write!(out, "{y:04}"),
    };
}

/// The [`SparkFmt`] text as a JSON string (`"2024-01-01"`): nothing to escape.
impl ToJson for Date {
    fn to_json(&self, out: &mut String) {
        out.push('"');
        self.spark_fmt(out);
        out.push('"');
    }
}

/// As its `i32` days (in the compact form, their difference from the previous date).
impl Persist for Date {
    fn write(&self, out: &mut Vec<u8>) {
        self.0.write(out)
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        i32::read(input).map(Date)
    }
    fn write_after(&self, prev: Option<&Self>, out: &mut Vec<u8>) {
        self.0.write_after(prev.map(|p| &p.0), out)
    }
    fn read_after(prev: Option<&Self>, input: &mut &[u8]) -> Result<Self, Error> {
        i32::read_after(prev.map(|p| &p.0), input).map(Date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_shape_parses_as_the_general_parser_does() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: u64| crate::test_rng::below(&mut seed, n);
        for _ in 0..100_000 {
            // Mostly plausible fields, sometimes out of range (month 13, day 31 of a short
            // month, hour 24); each date a few times in a row, as the last date is remembered.
            let date = format!("{:04}-{:02}-{:02}", next(10_000), next(14), next(33));
            for _ in 0..1 + next(3) {
                let s = format!(
                    "{date}{}{:02}:{:02}:{:02}",
                    if next(2) == 0 { ' ' } else { 'T' },
                    next(26),
                    next(61),
                    next(61)
                );
                assert_eq!(civil_seconds(s.as_bytes()), Some(parse_timestamp_general(&s)), "{s}");
            }
        }
        assert_eq!(civil_seconds(b"2024-01-01 00:00:0x"), None);
        assert_eq!(civil_seconds(b"2024-01-01 00:00:00Z"), None);
    }

    #[test]
    fn every_date_around_the_table_years_parses_as_the_general_parser_does() {
        for year in TABLE_FROM - 5..TABLE_FROM + YEAR_DAYS.len() as u32 + 5 {
            for month in 0..=13 {
                for day in 0..=32 {
                    for time in ["00:00:00", "23:59:59", "12:34:56", "24:00:00", "00:60:00"] {
                        let s = format!("{year:04}-{month:02}-{day:02} {time}");
                        assert_eq!(civil_seconds(s.as_bytes()), Some(parse_timestamp_general(&s)), "{s}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_byte_out_of_place_is_not_the_fast_shape() {
        let good = *b"2024-03-15 12:34:56";
        for i in 0..good.len() {
            // Bytes just outside the digits and separators, and a few others.
            for c in [b'/', b':', b'0' - 1, b'9' + 1, b' ', b'-', b'T', 0x80, b'a', 0, b'0' + 0x10, b'9' + 0x40] {
                let mut b = good;
                b[i] = c;
                let Ok(s) = std::str::from_utf8(&b) else { continue };
                if s == "2024-03-15T12:34:56" || b == good {
                    continue;
                }
                assert_eq!(civil_seconds(&b), None, "{s}");
            }
        }
        assert_eq!(civil_seconds(b"2024-03-15T12:34:56"), Some(parse_timestamp_general("2024-03-15T12:34:56")));
    }

    /// The text as `write!` with padded fields gives it (the formatter before digits were
    /// written by hand).
    fn formatted_by_fmt(t: Timestamp) -> String {
        let (y, mo, d, h, mi, s, us) = t.to_civil();
        let mut out = match y {
            ..0 => format!("-{:04}", -y),
            10_000.. => format!("+{y}"),
            _ => format!("{y:04}"),
        };
        out.push_str(&format!("-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"));
        if us != 0 {
            out.push_str(format!(".{us:06}").trim_end_matches('0'));
        }
        out
    }

    #[test]
    fn timestamps_repeated_in_any_order_are_written_as_computed() {
        // Window bounds (a few values, each formatted many times, more values than the cache
        // has slots), in a scrambled order: every text is the computed one.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let bounds: Vec<i64> = (0..40).map(|k| 1_704_067_200_000_000 + k * 300_000_000).collect();
        for _ in 0..20_000 {
            let t = Timestamp(bounds[(crate::test_rng::xorshift(&mut seed) % bounds.len() as u64) as usize]);
            let mut got = String::from("row,");
            t.spark_fmt(&mut got);
            assert_eq!(got, format!("row,{}", formatted_by_fmt(t)));
        }
    }

    #[test]
    fn timestamps_and_dates_are_written_as_with_padded_fields() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || crate::test_rng::xorshift(&mut seed);
        let edges =
            [0, 1, -1, 999_999, 1_000_000, i64::MAX, i64::MIN, -62_135_596_800_000_000, 253_402_300_800_000_000];
        for k in 0..200_000usize {
            let us = match k {
                k if k < edges.len() => edges[k],
                // Whole seconds, whole milliseconds, any microsecond; years 0001-9999 mostly.
                k if k % 3 == 0 => (next() % 300_000_000_000) as i64 * 1_000_000 - 62_000_000_000_000_000,
                k if k % 3 == 1 => (next() % 300_000_000_000_000) as i64 * 1_000 - 62_000_000_000_000_000,
                _ => next() as i64,
            };
            let t = Timestamp(us);
            let mut got = String::new();
            t.spark_fmt(&mut got);
            assert_eq!(got, formatted_by_fmt(t), "{us} µs");
            let mut json = String::new();
            t.to_json(&mut json);
            assert_eq!(json, format!("\"{got}\""));
            let day = Date(us.div_euclid(MICROS_PER_DAY).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32);
            let mut date = String::new();
            day.spark_fmt(&mut date);
            let at_midnight = formatted_by_fmt(Timestamp(i64::from(day.0).saturating_mul(MICROS_PER_DAY)));
            if i64::from(day.0).checked_mul(MICROS_PER_DAY).is_some() {
                assert_eq!(date, at_midnight[..at_midnight.len() - 9], "day {}", day.0);
            }
        }
    }
}
