//! Scalar functions of Spark SQL whose rules are more than one line of generated code:
//! `round` (HALF_UP on the decimal form), `substring` (1-based, negative from the end), `LIKE`,
//! and the calendar parts of dates and timestamps. Generated code calls these on values that are
//! not NULL (NULL in, NULL out is the caller's `Option` plumbing).

use super::time::{Date, Timestamp, civil_from_days};
use std::borrow::Cow;

/// Spark's `round(x, scale)` of a double: HALF_UP on the shortest decimal form of `x` (what
/// Scala's `BigDecimal(x)` sees), so `round(2.675, 2)` is 2.68; NaN and infinities as they are.
///
/// ```
/// use streamc_runtime::structured::scalar::round_double;
/// assert_eq!(round_double(2.5, 0), 3.0);
/// assert_eq!(round_double(-2.5, 0), -3.0);
/// assert_eq!(round_double(2.675, 2), 2.68);
/// assert_eq!(round_double(1234.5, -2), 1200.0);
/// ```
pub fn round_double(x: f64, scale: i64) -> f64 {
    round_decimal(x, scale, false)
}

/// Spark's `bround(x, scale)` of a `double`: [`round_double`] with HALF_EVEN (a tie goes to the
/// even digit).
///
/// ```
/// use streamc_runtime::structured::scalar::bround_double;
/// assert_eq!((bround_double(2.5, 0), bround_double(3.5, 0), bround_double(-2.5, 0)), (2.0, 4.0, -2.0));
/// assert_eq!(bround_double(2.675, 2), 2.68);
/// assert_eq!(bround_double(-0.0, 0), 0.0);
/// assert_eq!((bround_double(1e300, 0), bround_double(-1.5e20, 2)), (1e300, -1.5e20));
/// ```
pub fn bround_double(x: f64, scale: i64) -> f64 {
    round_decimal(x, scale, true)
}

/// `x` rounded to `scale` decimals through its shortest decimal text (as Spark's `BigDecimal`
/// of a double): HALF_UP, or HALF_EVEN with `half_even`.
fn round_decimal(x: f64, scale: i64, half_even: bool) -> f64 {
    if !x.is_finite() {
        return x;
    }
    // `{:e}` is the shortest digits that read back as `x`, in scientific form: `d.ddde±x`.
    let text = format!("{:e}", x.abs());
    let (mantissa, exp) = text.split_once('e').expect("`{:e}` has an exponent");
    let exp: i64 = exp.parse().expect("an integer exponent");
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    // digits[i] has weight 10^(exp - i); keep those with weight >= 10^-scale.
    let keep = exp + scale + 1;
    // A result of zero is 0.0, never -0.0 (a BigDecimal has no sign for zero).
    if keep < 0 {
        return 0.0;
    }
    let keep = keep as usize;
    // No digit below the scale: nothing to round (and no integer of the kept digits to build,
    // which for 1e300 would not fit).
    if keep >= digits.len() {
        return if x == 0.0 { 0.0 } else { x };
    }
    let mut kept: Vec<u8> = digits.iter().copied().take(keep).collect();
    kept.resize(keep, 0);
    let round_up = match digits.get(keep) {
        Some(&d) if half_even && d == 5 => {
            // A tie only when no digit follows: then to the even neighbour.
            digits[keep + 1..].iter().any(|&d| d != 0) || kept.last().is_some_and(|&d| d % 2 == 1)
        }
        Some(&d) => d >= 5,
        None => false,
    };
    // The kept digits as an integer (in units of 10^-scale), plus one when rounding up.
    let mut units: u128 = 0;
    for d in &kept {
        units = units.saturating_mul(10).saturating_add(u128::from(*d));
    }
    if round_up {
        units += 1;
    }
    let value = if scale >= 0 {
        // Exact through the decimal text (10^-scale is not a double).
        format!("{units}e-{scale}").parse::<f64>().unwrap_or(f64::INFINITY)
    } else {
        units as f64 * 10f64.powi((-scale) as i32)
    };
    if value == 0.0 { 0.0 } else { value.copysign(x) }
}

/// Spark's `round(n, scale)` of a `bigint`: unchanged for `scale >= 0`, else HALF_UP to a
/// multiple of `10^-scale`; None where that overflows.
pub fn round_long(n: i64, scale: i64) -> Option<i64> {
    round_long_to(n, scale, false)
}

/// `n` rounded to a multiple of `10^-scale` (unchanged for `scale >= 0`): a tie goes up (away
/// from zero), or with `half_even` to the even multiple; None where that overflows.
fn round_long_to(n: i64, scale: i64, half_even: bool) -> Option<i64> {
    if scale >= 0 {
        return Some(n);
    }
    if scale < -18 {
        return Some(0);
    }
    let unit = 10i64.pow((-scale) as u32);
    let rem = n % unit;
    let down = n - rem;
    let twice = rem.abs() * 2;
    let up = twice > unit || (twice == unit && (!half_even || (down / unit) % 2 != 0));
    if up { down.checked_add(unit * rem.signum()) } else { Some(down) }
}

/// Spark's `concat_ws(sep, s...)`: the non-NULL strings joined by `sep` (NULLs skipped).
///
/// ```
/// use streamc_runtime::structured::scalar::concat_ws;
/// assert_eq!(concat_ws("-", &[Some("a"), None, Some("b")]), "a-b");
/// assert_eq!(concat_ws("-", &[None]), "");
/// ```
pub fn concat_ws(sep: &str, parts: &[Option<&str>]) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().flatten().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(p);
    }
    out
}

/// Spark's `bround(n, scale)` of a `bigint`: [`round_long`] with HALF_EVEN.
///
/// ```
/// use streamc_runtime::structured::scalar::bround_long;
/// assert_eq!((bround_long(25, -1), bround_long(35, -1), bround_long(-25, -1), bround_long(7, -1)), (Some(20), Some(40), Some(-20), Some(10)));
/// ```
pub fn bround_long(n: i64, scale: i64) -> Option<i64> {
    round_long_to(n, scale, true)
}

/// Spark's `length` of a string: its characters (code points), counted as the bytes that do
/// not continue a character (a UTF-8 continuation byte is `0b10xx_xxxx`): one pass the compiler
/// vectorizes, where `chars().count()` takes a byte-by-byte path for short strings.
///
/// ```
/// use streamc_runtime::structured::scalar::char_length;
/// assert_eq!(char_length("Spark"), 5);
/// assert_eq!(char_length("Größe ☃ 𝄞"), 9);
/// assert_eq!(char_length(""), 0);
/// ```
#[inline]
pub fn char_length(s: &str) -> i32 {
    s.bytes().filter(|&b| (b as i8) >= -0x40).count() as i32
}

/// Spark's `substring(s, pos[, len])` on characters: `pos` is 1-based, 0 is the start, a
/// negative `pos` counts from the end; a length runs to the end when absent. Borrows `s`.
///
/// ```
/// use streamc_runtime::structured::scalar::substring;
/// assert_eq!(substring("Spark SQL", 5, None), "k SQL");
/// assert_eq!(substring("Spark SQL", -3, None), "SQL");
/// assert_eq!(substring("Spark SQL", 5, Some(1)), "k");
/// assert_eq!(substring("abc", -5, Some(3)), "a");
/// assert_eq!(substring("abc", 0, Some(2)), "ab");
/// assert_eq!(substring("abc", 2, Some(-1)), "");
/// ```
pub fn substring(s: &str, pos: i64, len: Option<i64>) -> &str {
    let chars = s.chars().count() as i64;
    let start = if pos > 0 {
        pos - 1
    } else if pos < 0 {
        chars + pos
    } else {
        0
    };
    let end = match len {
        Some(l) => start.saturating_add(l),
        None => i64::MAX,
    };
    let (from, to) = (start.max(0), end.min(chars));
    if to <= from {
        return "";
    }
    let byte = |c: i64| s.char_indices().nth(c as usize).map_or(s.len(), |(i, _)| i);
    &s[byte(from)..byte(to)]
}

/// `lpad` (`left`) or `rpad`: `s` padded with repetitions of `pad` to `len` characters, or cut
/// to its first `len`; `s` as it is (cut) when `pad` is empty; `''` for a negative `len`.
///
/// ```
/// use streamc_runtime::structured::scalar::pad;
/// assert_eq!(pad("hi", 5, "ab", true), "abahi");
/// assert_eq!(pad("hi", 5, "ab", false), "hiaba");
/// assert_eq!(pad("hello", 3, "x", true), "hel");
/// assert_eq!(pad("hi", 5, "", true), "hi");
/// ```
pub fn pad(s: &str, len: i64, pad: &str, left: bool) -> String {
    let len = len.max(0) as usize;
    let n = s.chars().count();
    if len <= n {
        return s.chars().take(len).collect();
    }
    if pad.is_empty() {
        return s.to_owned();
    }
    let fill: String = pad.chars().cycle().take(len - n).collect();
    if left { fill + s } else { s.to_owned() + &fill }
}

/// `locate(sub, s, pos)`: the 1-based character position of the first `sub` in `s` at or
/// after `pos`; 0 if none or `pos < 1` (`instr(s, sub)` is `locate(sub, s, 1)`).
///
/// ```
/// use streamc_runtime::structured::scalar::locate;
/// assert_eq!(locate("o", "storm", 1), 3);
/// assert_eq!(locate("o", "storm", 4), 0);
/// assert_eq!(locate("", "storm", 2), 2);
/// assert_eq!(locate("m", "ämm", 1), 2);
/// ```
pub fn locate(sub: &str, s: &str, pos: i64) -> i64 {
    if pos < 1 {
        return 0;
    }
    let Some((start, _)) =
        s.char_indices().nth(pos as usize - 1).or((pos as usize - 1 == s.chars().count()).then_some((s.len(), ' ')))
    else {
        return 0;
    };
    match s[start..].find(sub) {
        Some(i) => pos + s[start..start + i].chars().count() as i64,
        None => 0,
    }
}

/// `initcap`: the string in lower case with the first letter after each space (and at the
/// start) in upper case.
pub fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = c == ' ';
    }
    out
}

/// `f`'s slice of `s`, borrowed from `s` when `s` borrows (from the batch's text): the
/// substring functions allocate only for a string that is already owned.
///
/// ```
/// use std::borrow::Cow;
/// use streamc_runtime::structured::scalar::{narrow, substring};
/// assert!(matches!(narrow(Cow::Borrowed("storm"), |t| substring(t, 2, Some(3))), Cow::Borrowed("tor")));
/// ```
pub fn narrow<'a>(s: Cow<'a, str>, f: impl FnOnce(&str) -> &str) -> Cow<'a, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(f(b)),
        Cow::Owned(o) => Cow::Owned(f(&o).to_owned()),
    }
}

/// `concat` of strings (the caller passes only non-NULL ones).
pub fn concat<'a>(parts: &[&str]) -> Cow<'a, str> {
    Cow::Owned(parts.concat())
}

/// SQL `s LIKE pattern` with `\` as the escape: `%` matches any characters, `_` one; Err with
/// Spark's message for a pattern that ends in the escape character.
///
/// ```
/// use streamc_runtime::structured::scalar::like;
/// assert_eq!(like("storm", "st%"), Ok(true));
/// assert_eq!(like("storm", "_torm"), Ok(true));
/// assert_eq!(like("50%", "50\\%"), Ok(true));
/// assert_eq!(like("505", "50\\%"), Ok(false));
/// assert!(like("a", "a\\").is_err());
/// ```
pub fn like(s: &str, pattern: &str) -> Result<bool, String> {
    enum Tok {
        Any,
        One,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        toks.push(match c {
            '\\' => match it.next() {
                Some(e) => Tok::Char(e),
                None => {
                    return Err(format!(
                        "[INVALID_FORMAT.ESC_AT_THE_END] The format is invalid: '{pattern}'. The escape character is not allowed to end with."
                    ));
                }
            },
            '%' => Tok::Any,
            '_' => Tok::One,
            c => Tok::Char(c),
        });
    }
    let text: Vec<char> = s.chars().collect();
    // reach[j]: the pattern's first i tokens can match the first j characters.
    let mut reach = vec![false; text.len() + 1];
    reach[0] = true;
    for t in &toks {
        let mut next = vec![false; text.len() + 1];
        match t {
            Tok::Any => {
                let mut any = false;
                for j in 0..=text.len() {
                    any |= reach[j];
                    next[j] = any;
                }
            }
            Tok::One => {
                next[1..].copy_from_slice(&reach[..text.len()]);
            }
            Tok::Char(c) => {
                for j in 0..text.len() {
                    next[j + 1] = reach[j] && text[j] == *c;
                }
            }
        }
        reach = next;
    }
    Ok(reach[text.len()])
}

/// The calendar year, month and day of a date.
pub fn ymd(d: Date) -> (i64, u32, u32) {
    civil_from_days(i64::from(d.0))
}

/// The hour, minute and second (UTC) of a timestamp.
pub fn hms(t: Timestamp) -> (i64, i64, i64) {
    let secs = t.0.div_euclid(1_000_000).rem_euclid(86_400);
    (secs / 3600, secs / 60 % 60, secs % 60)
}

/// A timestamp's date (UTC).
pub fn date_of(t: Timestamp) -> Date {
    Date(t.0.div_euclid(86_400_000_000) as i32)
}

/// Spark's `date_format(ts, pattern)` (and `from_unixtime(n, pattern)`) for the pattern letters
/// of Java's `DateTimeFormatter` that streams use: `y` (`yy`: two digits), `M` (`MMM` `Jan`,
/// `MMMM` `January`), `d`, `D` (day of year), `H`, `h`, `m`, `s`, `S` (fraction), `a` (AM/PM),
/// `E` (`Mon`, `EEEE` `Monday`), `Q` (quarter; `QQQ` `Q1`), text in single quotes, and any other non-letter as itself;
/// Err with the letter for what it does not support.
///
/// ```
/// use streamc_runtime::structured::scalar::format_timestamp;
/// use streamc_runtime::structured::time::parse_timestamp;
/// let t = parse_timestamp("2024-03-01 09:05:07.25").unwrap();
/// assert_eq!(format_timestamp(t, "yyyy-MM-dd HH:mm:ss").unwrap(), "2024-03-01 09:05:07");
/// assert_eq!(format_timestamp(t, "dd MMM yy, h a, SSS 'ms'").unwrap(), "01 Mar 24, 9 AM, 250 ms");
/// assert_eq!(format_timestamp(t, "EEEE").unwrap(), "Friday");
/// ```
pub fn format_timestamp(t: Timestamp, pattern: &str) -> Result<String, char> {
    use std::fmt::Write as _;
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
    const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    let (y, mo, d, h, mi, sec, us) = t.to_civil();
    let days = t.0.div_euclid(86_400_000_000);
    let weekday = (days + 3).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
    let day_of_year = days - super::time::days_from_civil(y, 1, 1) + 1;
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let num = |out: &mut String, v: i64, width: usize| {
            let _ = write!(out, "{v:0width$}");
        };
        match c {
            '\'' => {
                // `''` is a quote; otherwise text up to the closing quote (`''` inside is one).
                if chars.get(i + 1) == Some(&'\'') {
                    out.push('\'');
                    i += 2;
                    continue;
                }
                let mut j = i + 1;
                while j < chars.len() {
                    if chars[j] == '\'' {
                        if chars.get(j + 1) == Some(&'\'') {
                            out.push('\'');
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    out.push(chars[j]);
                    j += 1;
                }
                i = j + 1;
                continue;
            }
            'y' | 'u' => {
                if n == 2 {
                    num(&mut out, y.rem_euclid(100), 2);
                } else {
                    num(&mut out, y, n);
                }
            }
            'M' | 'L' => match n {
                1 | 2 => num(&mut out, i64::from(mo), n),
                3 => out.push_str(&MONTHS[mo as usize - 1][..3]),
                _ => out.push_str(MONTHS[mo as usize - 1]),
            },
            'd' => num(&mut out, i64::from(d), n),
            'Q' | 'q' => {
                let q = i64::from((mo - 1) / 3 + 1);
                if n >= 3 {
                    let _ = write!(out, "Q{q}");
                } else {
                    num(&mut out, q, n);
                }
            }
            'D' => num(&mut out, day_of_year, n),
            'H' => num(&mut out, i64::from(h), n),
            'h' => num(&mut out, i64::from((h + 11) % 12 + 1), n),
            'k' => num(&mut out, i64::from(if h == 0 { 24 } else { h }), n),
            'K' => num(&mut out, i64::from(h % 12), n),
            'm' => num(&mut out, i64::from(mi), n),
            's' => num(&mut out, i64::from(sec), n),
            'S' => {
                let frac = format!("{us:06}");
                let mut f: String = frac.chars().take(n).collect();
                while f.len() < n {
                    f.push('0');
                }
                out.push_str(&f);
            }
            'a' => out.push_str(if h < 12 { "AM" } else { "PM" }),
            'E' => {
                if n >= 4 {
                    out.push_str(DAYS[weekday]);
                } else {
                    out.push_str(&DAYS[weekday][..3]);
                }
            }
            c if c.is_ascii_alphabetic() => return Err(c),
            c => {
                for _ in 0..n {
                    out.push(c);
                }
            }
        }
        i += n;
    }
    Ok(out)
}

/// Parses `s` with a Java `DateTimeFormatter` pattern as Spark's `to_timestamp(s, pattern)`:
/// the letters of [`format_timestamp`] (month and day names case-insensitive), the whole text
/// consumed; fields not in the pattern default to 1970-01-01 00:00:00. None if `s` does not
/// match.
///
/// ```
/// use streamc_runtime::structured::scalar::parse_with_pattern;
/// use streamc_runtime::structured::time::parse_timestamp;
/// let t = |s| parse_timestamp(s).unwrap();
/// assert_eq!(parse_with_pattern("01/03/2024 9:05", "dd/MM/yyyy H:mm"), Some(t("2024-03-01 09:05:00")));
/// assert_eq!(parse_with_pattern("1 mar 2024, 9 PM", "d MMM yyyy, h a"), Some(t("2024-03-01 21:00:00")));
/// assert_eq!(parse_with_pattern("2024-03-01T09:05:07.25", "yyyy-MM-dd'T'HH:mm:ss.SS"), Some(t("2024-03-01 09:05:07.25")));
/// assert_eq!(parse_with_pattern("2024-03-01 x", "yyyy-MM-dd"), None);
/// ```
pub fn parse_with_pattern(s: &str, pattern: &str) -> Option<Timestamp> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let text: Vec<char> = s.chars().collect();
    let pat: Vec<char> = pattern.chars().collect();
    let (mut at, mut i) = (0usize, 0usize);
    let (mut year, mut month, mut day, mut hour, mut minute, mut second, mut micros) =
        (1970i64, 1u32, 1u32, 0u32, 0u32, 0u32, 0u32);
    let mut pm: Option<bool> = None;
    let mut twelve = false;
    // Up to `max` digits (at least `min`), as a number.
    let digits = |at: &mut usize, min: usize, max: usize| -> Option<(i64, usize)> {
        let start = *at;
        while *at < text.len() && *at - start < max && text[*at].is_ascii_digit() {
            *at += 1;
        }
        let n = *at - start;
        if n < min {
            return None;
        }
        let v: String = text[start..*at].iter().collect();
        v.parse().ok().map(|v| (v, n))
    };
    while i < pat.len() {
        let c = pat[i];
        let mut n = 1;
        while i + n < pat.len() && pat[i + n] == c {
            n += 1;
        }
        // A field is variable width when its letter run is one letter, or when the next pattern
        // character is not a digit field (Java's adjacent-value parsing is not needed here).
        let (min, max) = if n == 1 { (1, 9) } else { (n, n) };
        match c {
            '\'' => {
                let mut j = i + 1;
                if pat.get(j) == Some(&'\'') {
                    if text.get(at) != Some(&'\'') {
                        return None;
                    }
                    at += 1;
                    i += 2;
                    continue;
                }
                while j < pat.len() && pat[j] != '\'' {
                    if text.get(at) != Some(&pat[j]) {
                        return None;
                    }
                    at += 1;
                    j += 1;
                }
                i = j + 1;
                continue;
            }
            'y' | 'u' => {
                let (v, _) = if n == 2 { digits(&mut at, 2, 2)? } else { digits(&mut at, n.max(1), 9)? };
                year = if n == 2 { 2000 + v } else { v };
            }
            'M' | 'L' if n >= 3 => {
                let rest: String = text[at..].iter().collect::<String>().to_lowercase();
                let (k, name) = MONTHS.iter().enumerate().find_map(|(k, m)| {
                    let name = if n == 3 { &m[..3] } else { m };
                    rest.starts_with(name).then_some((k, name))
                })?;
                month = k as u32 + 1;
                at += name.chars().count();
            }
            'M' | 'L' => month = digits(&mut at, min, max.min(2))?.0 as u32,
            'd' => day = digits(&mut at, min, max.min(2))?.0 as u32,
            'H' => hour = digits(&mut at, min, max.min(2))?.0 as u32,
            'h' => {
                hour = digits(&mut at, min, max.min(2))?.0 as u32;
                twelve = true;
            }
            'm' => minute = digits(&mut at, min, max.min(2))?.0 as u32,
            's' => second = digits(&mut at, min, max.min(2))?.0 as u32,
            'S' => {
                let (v, k) = digits(&mut at, n, n)?;
                micros =
                    if k <= 6 { (v * 10i64.pow(6 - k as u32)) as u32 } else { (v / 10i64.pow(k as u32 - 6)) as u32 };
            }
            'a' => {
                let rest: String = text[at..].iter().take(2).collect::<String>().to_ascii_uppercase();
                pm = Some(match rest.as_str() {
                    "AM" => false,
                    "PM" => true,
                    _ => return None,
                });
                at += 2;
            }
            'E' => {
                const DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
                let rest: String = text[at..].iter().collect::<String>().to_lowercase();
                let name = DAYS.iter().find_map(|d| {
                    let name = if n >= 4 { *d } else { &d[..3] };
                    rest.starts_with(name).then_some(name)
                })?;
                at += name.chars().count();
            }
            c if c.is_ascii_alphabetic() => return None,
            c => {
                for _ in 0..n {
                    if text.get(at) != Some(&c) {
                        return None;
                    }
                    at += 1;
                }
            }
        }
        i += n;
    }
    if at != text.len() {
        return None;
    }
    if twelve || pm.is_some() {
        if !(1..=12).contains(&hour) && twelve {
            return None;
        }
        hour %= 12;
        if pm == Some(true) {
            hour += 12;
        }
    }
    Timestamp::from_civil(year, month, day, hour, minute, second, micros)
}

/// `date_add(d, n)`: the date `n` days later (None past the calendar's range).
pub fn date_add(d: Date, n: i64) -> Option<Date> {
    i32::try_from(i64::from(d.0).checked_add(n)?).ok().map(Date)
}

/// `datediff(end, start)`: days from `start` to `end`.
pub fn datediff(end: Date, start: Date) -> i64 {
    i64::from(end.0) - i64::from(start.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_is_half_up_on_the_decimal_form() {
        assert_eq!(round_double(0.125, 2), 0.13);
        assert_eq!(round_double(-0.125, 2), -0.13);
        assert_eq!(round_double(1.005, 2), 1.01);
        assert_eq!(round_double(0.004, 2), 0.0);
        assert_eq!(round_double(123.456, 0), 123.0);
        assert_eq!(round_double(9.99, 1), 10.0);
        assert_eq!(round_double(5.0, -1), 10.0);
        assert_eq!(round_double(4.9, -1), 0.0);
        assert!(round_double(-0.4, 0).is_sign_positive());
        assert!(round_double(-4.9, -1).is_sign_positive());
    }

    #[test]
    fn timestamps_format_with_java_patterns() {
        let t = Timestamp::from_civil(2024, 12, 31, 0, 7, 9, 5).unwrap();
        assert_eq!(format_timestamp(t, "D HH h a k K").unwrap(), "366 00 12 AM 24 0");
        assert_eq!(format_timestamp(t, "'at' HH 'o''clock' ''").unwrap(), "at 00 o'clock '");
        assert_eq!(format_timestamp(t, "yyyy/MMMM/d SSSSSS").unwrap(), "2024/December/31 000005");
        assert_eq!(format_timestamp(t, "QQQ G"), Err('G'));
        assert_eq!(date_add(Date(0), -1), Some(Date(-1)));
        assert_eq!(datediff(Date(10), Date(3)), 7);
        assert_eq!(round_double(1e-320, 2), 0.0);
        assert!(round_double(f64::NAN, 1).is_nan());
        assert_eq!(round_long(15, -1), Some(20));
        assert_eq!(round_long(-15, -1), Some(-20));
        assert_eq!(round_long(14, -1), Some(10));
        assert_eq!(round_long(7, 2), Some(7));
        assert_eq!(round_long(i64::MAX, -1), None);
    }

    #[test]
    fn like_matches_as_sql() {
        assert_eq!(like("", "%"), Ok(true));
        assert_eq!(like("", "_"), Ok(false));
        assert_eq!(like("abc", "a%c"), Ok(true));
        assert_eq!(like("abc", "a%b"), Ok(false));
        assert_eq!(like("a_c", "a\\_c"), Ok(true));
        assert_eq!(like("abc", "a\\_c"), Ok(false));
        assert_eq!(like("ça", "_a"), Ok(true));
        assert_eq!(like("a\\b", "a\\\\b"), Ok(true));
    }

    #[test]
    fn calendar_parts() {
        let t = Timestamp::from_civil(2024, 2, 29, 23, 59, 58, 0).unwrap();
        assert_eq!(hms(t), (23, 59, 58));
        assert_eq!(ymd(date_of(t)), (2024, 2, 29));
        assert_eq!(hms(Timestamp(-1)), (23, 59, 59));
    }
}
