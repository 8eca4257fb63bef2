//! Spark's `decimal(p, s)` values: [`Dec<P, S>`] holds the unscaled integer (`1.50` in a
//! `decimal(5,2)` is `Dec::<5, 2>(150)`), so the type carries the precision and scale that
//! printing, arithmetic and casts need. Arithmetic is exact and rounds HALF_UP to the result
//! type the compiler computed with Spark's rules (`DecimalPrecision`, precision loss allowed);
//! a value that does not fit its precision fails the batch (ANSI) with Spark's
//! `NUMERIC_VALUE_OUT_OF_RANGE`. Products and quotients that overflow 128 bits are computed in
//! 256 bits.

use super::cast::CastFailure;
use super::json::Json;
use super::row::Cell;
use crate::error::Error;
use crate::fmt::{SparkFmt, ToJson};
use crate::persist::Persist;

/// A `decimal(P, S)`: the unscaled value (see the module's docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dec<const P: u8, const S: u8>(pub i128);

const fn pow10_table() -> [u128; 39] {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
}

const POW10: [u128; 39] = pow10_table();

/// `10^k` (k ≤ 38).
#[inline]
fn pow10(k: u32) -> u128 {
    POW10[k as usize]
}

/// Whether the unscaled `v` has at most `p` digits.
#[inline]
fn fits(v: i128, p: u8) -> bool {
    v.unsigned_abs() < pow10(u32::from(p))
}

/// `v` (unscaled, scale `s`) as plain text: `-1.50`.
pub fn plain(v: i128, s: u8, out: &mut String) {
    let digits = v.unsigned_abs().to_string();
    if v < 0 {
        out.push('-');
    }
    let s = usize::from(s);
    if s == 0 {
        out.push_str(&digits);
    } else if digits.len() > s {
        out.push_str(&digits[..digits.len() - s]);
        out.push('.');
        out.push_str(&digits[digits.len() - s..]);
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', s - digits.len()));
        out.push_str(&digits);
    }
}

fn out_of_range(v: &str, p: u8, s: u8) -> String {
    format!(
        "[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION]  {v} cannot be represented as Decimal({p}, {s}). If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error, and return NULL instead. SQLSTATE: 22003"
    )
}

/// The unscaled `v` as a `Dec<P, S>` if it fits `P`; otherwise Spark's overflow is recorded
/// (`text` is the value as Spark prints it in the message) and the result is NULL.
#[inline]
fn checked<const P: u8, const S: u8>(
    v: Option<i128>,
    text: impl FnOnce() -> String,
    f: Option<&CastFailure>,
) -> Option<Dec<P, S>> {
    match v {
        Some(v) if fits(v, P) => Some(Dec(v)),
        _ => {
            if let Some(f) = f {
                f.record(&out_of_range(&text(), P, S));
            }
            None
        }
    }
}

/// Divides `v` by `10^k`, rounding HALF_UP (away from zero at a half).
#[inline]
fn round_div_pow10(v: i128, k: u32) -> i128 {
    if k == 0 {
        return v;
    }
    if k > 38 {
        return 0;
    }
    let d = pow10(k);
    let (q, r) = (v.unsigned_abs() / d, v.unsigned_abs() % d);
    let q = (q + u128::from(r >= d - r)) as i128;
    if v < 0 { -q } else { q }
}

/// Divides `v` by `10^k`, rounding HALF_EVEN (a half goes to the even neighbour).
fn round_half_even(v: i128, k: u32) -> i128 {
    if k == 0 {
        return v;
    }
    let d = pow10(k);
    let (q, r) = (v.unsigned_abs() / d, v.unsigned_abs() % d);
    let up = r > d - r || (r == d - r && q % 2 == 1);
    let q = (q + u128::from(up)) as i128;
    if v < 0 { -q } else { q }
}

/// `v` at scale `from` rescaled to scale `to` (HALF_UP when digits are dropped); None when it
/// overflows 128 bits.
#[inline]
pub fn rescale(v: i128, from: u8, to: u8) -> Option<i128> {
    if to >= from {
        let k = u32::from(to - from);
        if k > 38 {
            return (v == 0).then_some(0);
        }
        v.checked_mul(pow10(k) as i128)
    } else {
        Some(round_div_pow10(v, u32::from(from - to)))
    }
}

// ---- 256-bit helpers (magnitudes), for products and quotients beyond 128 bits ----

/// `a * b` as (high, low) 128-bit halves.
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = (a >> 64, a & u128::from(u64::MAX));
    let (b1, b0) = (b >> 64, b & u128::from(u64::MAX));
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 64) + (p01 & u128::from(u64::MAX)) + (p10 & u128::from(u64::MAX));
    let lo = (p00 & u128::from(u64::MAX)) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// `(hi, lo) / d` and the remainder, when the quotient fits 128 bits (else None).
fn div_wide(hi: u128, lo: u128, d: u128) -> Option<(u128, u128)> {
    if d == 0 || hi >= d {
        return None;
    }
    // Bit-by-bit long division: the remainder stays below `d`.
    let (mut r, mut q) = (hi, 0u128);
    for i in (0..128).rev() {
        let carry = r >> 127;
        r = (r << 1) | ((lo >> i) & 1);
        q <<= 1;
        if carry == 1 || r >= d {
            r = r.wrapping_sub(d);
            q |= 1;
        }
    }
    Some((q, r))
}

/// `|n| * 10^k / |d|` rounded HALF_UP, with the sign of `n * d`; None when it overflows.
fn scaled_quotient(n: i128, k: u32, d: i128) -> Option<i128> {
    let negative = (n < 0) != (d < 0);
    let (n, d) = (n.unsigned_abs(), d.unsigned_abs());
    let scale = *POW10.get(k as usize)?;
    // Within 128 bits (the usual case) one division; beyond, the 256-bit long division.
    let (q, r) = match n.checked_mul(scale) {
        Some(x) if d != 0 => (x / d, x % d),
        _ => {
            let (hi, lo) = mul_wide(n, scale);
            div_wide(hi, lo, d)?
        }
    };
    let q = q.checked_add(u128::from(r >= d - r))?;
    let q = i128::try_from(q).ok()?;
    Some(if negative { -q } else { q })
}

/// `a * b / 10^k` rounded HALF_UP; None when it overflows.
fn scaled_product(a: i128, b: i128, k: u32) -> Option<i128> {
    if let Some(p) = a.checked_mul(b) {
        return Some(round_div_pow10(p, k));
    }
    let negative = (a < 0) != (b < 0);
    let (hi, lo) = mul_wide(a.unsigned_abs(), b.unsigned_abs());
    let d = *POW10.get(k as usize)?;
    let (q, r) = div_wide(hi, lo, d)?;
    let q = q.checked_add(u128::from(r >= d - r))?;
    let q = i128::try_from(q).ok()?;
    Some(if negative { -q } else { q })
}

fn text_of(v: i128, s: u8) -> String {
    let mut t = String::new();
    plain(v, s, &mut t);
    t
}

const DIVIDE_BY_ZERO: &str = "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012";
const REMAINDER_BY_ZERO: &str = "[REMAINDER_BY_ZERO] Remainder by zero. Use `try_mod` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012";

/// `a + b` as `decimal(P, S)` (`S` is the larger of the two scales).
#[inline]
pub fn add<const P: u8, const S: u8, const P1: u8, const S1: u8, const P2: u8, const S2: u8>(
    a: Dec<P1, S1>,
    b: Dec<P2, S2>,
    f: &CastFailure,
) -> Option<Dec<P, S>> {
    let v = rescale(a.0, S1, S).zip(rescale(b.0, S2, S)).and_then(|(x, y)| x.checked_add(y));
    checked(v, || text_of(v.unwrap_or_default(), S), Some(f))
}

/// `a - b` as `decimal(P, S)`.
#[inline]
pub fn sub<const P: u8, const S: u8, const P1: u8, const S1: u8, const P2: u8, const S2: u8>(
    a: Dec<P1, S1>,
    b: Dec<P2, S2>,
    f: &CastFailure,
) -> Option<Dec<P, S>> {
    let v = rescale(a.0, S1, S).zip(rescale(b.0, S2, S)).and_then(|(x, y)| x.checked_sub(y));
    checked(v, || text_of(v.unwrap_or_default(), S), Some(f))
}

/// `a * b` as `decimal(P, S)`: the exact product (scale `S1 + S2`) rounded HALF_UP to `S`.
#[inline]
pub fn mul<const P: u8, const S: u8, const P1: u8, const S1: u8, const P2: u8, const S2: u8>(
    a: Dec<P1, S1>,
    b: Dec<P2, S2>,
    f: &CastFailure,
) -> Option<Dec<P, S>> {
    let exact = u32::from(S1) + u32::from(S2);
    let v = if exact >= u32::from(S) {
        scaled_product(a.0, b.0, exact - u32::from(S))
    } else {
        a.0.checked_mul(b.0).and_then(|p| rescale(p, exact as u8, S))
    };
    checked(v, || text_of(v.unwrap_or_default(), S), Some(f))
}

/// `a / b` as `decimal(P, S)`, rounded HALF_UP; by zero fails.
#[inline]
pub fn div<const P: u8, const S: u8, const P1: u8, const S1: u8, const P2: u8, const S2: u8>(
    a: Dec<P1, S1>,
    b: Dec<P2, S2>,
    f: &CastFailure,
) -> Option<Dec<P, S>> {
    if b.0 == 0 {
        f.record(DIVIDE_BY_ZERO);
        return None;
    }
    // a/10^S1 / (b/10^S2) * 10^S = a * 10^(S + S2 - S1) / b.
    let k = i32::from(S) + i32::from(S2) - i32::from(S1);
    let v = if k >= 0 {
        scaled_quotient(a.0, k as u32, b.0)
    } else {
        b.0.checked_mul(pow10(k.unsigned_abs()) as i128).and_then(|d| scaled_quotient(a.0, 0, d))
    };
    checked(v, || text_of(v.unwrap_or_default(), S), Some(f))
}

/// `a % b` as `decimal(P, S)` (the sign of `a`); by zero fails.
#[inline]
pub fn rem<const P: u8, const S: u8, const P1: u8, const S1: u8, const P2: u8, const S2: u8>(
    a: Dec<P1, S1>,
    b: Dec<P2, S2>,
    f: &CastFailure,
) -> Option<Dec<P, S>> {
    if b.0 == 0 {
        f.record(REMAINDER_BY_ZERO);
        return None;
    }
    let scale = S1.max(S2);
    let v = rescale(a.0, S1, scale).zip(rescale(b.0, S2, scale)).map(|(x, y)| x % y).and_then(|r| rescale(r, scale, S));
    checked(v, || text_of(v.unwrap_or_default(), S), Some(f))
}

/// `-a`.
#[inline]
pub fn neg<const P: u8, const S: u8>(a: Dec<P, S>) -> Dec<P, S> {
    Dec(-a.0)
}

/// `abs(a)`.
#[inline]
pub fn abs<const P: u8, const S: u8>(a: Dec<P, S>) -> Dec<P, S> {
    Dec(a.0.abs())
}

/// `floor(a)` (`up` false) or `ceil(a)` of a `decimal(P1, S1)` as a `decimal(P, 0)`.
#[inline]
pub fn floor_ceil<const P: u8, const P1: u8, const S1: u8>(a: Dec<P1, S1>, up: bool) -> Dec<P, 0> {
    let d = pow10(u32::from(S1)) as i128;
    let (q, r) = (a.0 / d, a.0 % d);
    let q = if r != 0 && (r > 0) == up { q + if up { 1 } else { -1 } } else { q };
    Dec(q)
}

/// A decimal of another precision and scale (`CAST`, and the implicit casts that line up the
/// sides of a comparison): HALF_UP, and out of range fails (or is NULL for `try_cast`).
#[inline]
pub fn to_decimal<const P: u8, const S: u8, const P1: u8, const S1: u8>(
    v: Option<Dec<P1, S1>>,
    f: Option<&CastFailure>,
) -> Option<Dec<P, S>> {
    let a = v?;
    let r = rescale(a.0, S1, S);
    checked(r, || text_of(a.0, S1), f)
}

/// An integer as a `decimal(P, S)`.
#[inline]
pub fn from_long<const P: u8, const S: u8>(v: Option<i64>, f: Option<&CastFailure>) -> Option<Dec<P, S>> {
    let x = v?;
    checked(rescale(i128::from(x), 0, S), || x.to_string(), f)
}

/// A decimal as an integer, truncated toward zero (Spark's cast); `None` when it does not fit
/// the target, whose SQL name is `to` (ANSI `CAST_OVERFLOW`).
#[inline]
pub fn to_long<const P: u8, const S: u8, T: TryFrom<i128>>(
    v: Option<Dec<P, S>>,
    to: &str,
    f: Option<&CastFailure>,
) -> Option<T> {
    let a = v?;
    let t = a.0 / pow10(u32::from(S)) as i128;
    match T::try_from(t) {
        Ok(x) => Some(x),
        Err(_) => {
            if let Some(f) = f {
                let mut text = text_of(a.0, S);
                text.push_str("BD");
                f.overflow(&text, &format!("DECIMAL({P},{S})"), to);
            }
            None
        }
    }
}

/// A decimal as a timestamp by Spark's `CAST` (ANSI or not, and `to_timestamp(d)`): seconds
/// since the epoch, truncated toward zero to the microsecond, and, as Java's
/// `BigDecimal.longValue`, the low 64 bits of microseconds beyond a `bigint` (it never fails:
/// `92233720368547.75808` is 10·2⁶³ microseconds, which wraps to the epoch).
///
/// ```
/// use streamc_runtime::structured::{decimal::{Dec, to_timestamp}, time::Timestamp};
/// assert_eq!(to_timestamp(Some(Dec::<10, 7>(-9))), Some(Timestamp(0)));
/// assert_eq!(to_timestamp(Some(Dec::<20, 5>(9_223_372_036_854_775_808))), Some(Timestamp(0)));
/// ```
#[inline]
pub fn to_timestamp<const P: u8, const S: u8>(v: Option<Dec<P, S>>) -> Option<super::time::Timestamp> {
    let a = v?;
    let micros = if S <= 6 {
        // Wrapping in 128 bits keeps the low 64 bits exact.
        a.0.wrapping_mul(pow10(u32::from(6 - S)) as i128)
    } else {
        a.0 / pow10(u32::from(S - 6)) as i128
    };
    Some(super::time::Timestamp(micros as i64))
}

/// A decimal as a double: correctly rounded, as Java's `BigDecimal.doubleValue`.
#[inline]
pub fn to_double<const P: u8, const S: u8>(v: Option<Dec<P, S>>) -> Option<f64> {
    let a = v?;
    if a.0.unsigned_abs() < (1u128 << 53) && S <= 22 {
        // Both exact doubles: IEEE division rounds once, correctly.
        return Some(a.0 as f64 / 10f64.powi(i32::from(S)));
    }
    text_of(a.0, S).parse().ok()
}

/// Decimal text (`-12.5e3`, `.5`, `7.`) as an unscaled value at scale `s` (HALF_UP), or None
/// where it is not a number or overflows 128 bits.
pub fn parse(text: &str, s: u8) -> Option<i128> {
    let t = text.trim_matches(|c: char| c <= ' ');
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i32>().ok()?),
        None => (t, 0),
    };
    let (negative, m) = match mantissa.as_bytes().first()? {
        b'-' => (true, &mantissa[1..]),
        b'+' => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The digits (leading zeros skipped) as an integer at scale `frac.len() - exp`, then
    // rescaled to `s`; read in place, without copying the text.
    let all = || int.bytes().chain(frac.bytes());
    let lead = all().take_while(|b| *b == b'0').count();
    let count = (int.len() + frac.len() - lead) as i32;
    let scale = frac.len() as i32 - exp;
    let target = i32::from(s);
    let mut v: i128 = 0;
    let mut kept = count;
    if scale > target {
        // Digits beyond the target scale are dropped, the first of them rounds.
        kept -= scale - target;
    }
    if kept < 0 {
        return Some(0);
    }
    for b in all().skip(lead).take(kept as usize) {
        v = v.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    if scale > target {
        if all().nth(lead + kept as usize).is_some_and(|b| b >= b'5') {
            v = v.checked_add(1)?;
        }
    } else {
        let k = (target - scale) as u32;
        v = v.checked_mul(*POW10.get(k as usize)? as i128)?;
    }
    Some(if negative { -v } else { v })
}

/// A finite double's shortest round-trip text (`{:?}`: `0.1`, `1e21`), written on the stack:
/// reading a double into a decimal allocates nothing.
struct ShortText {
    buf: [u8; 40],
    len: usize,
}

impl ShortText {
    fn of(x: f64) -> ShortText {
        use std::fmt::Write as _;
        let mut t = ShortText { buf: [0; 40], len: 0 };
        let _ = write!(t, "{x:?}");
        t
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for ShortText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A string as a `decimal(P, S)`: malformed text fails with `CAST_INVALID_INPUT`, a value
/// beyond the precision with `NUMERIC_VALUE_OUT_OF_RANGE` (NULL for `try_cast`).
pub fn from_str<const P: u8, const S: u8>(
    v: Option<std::borrow::Cow<'_, str>>,
    f: Option<&CastFailure>,
) -> Option<Dec<P, S>> {
    let s = v?;
    if !is_number(&s) {
        if let Some(f) = f {
            f.invalid(&s, &format!("DECIMAL({P},{S})"));
        }
        return None;
    }
    checked(parse(&s, S), || s.trim().to_string(), f)
}

fn is_number(s: &str) -> bool {
    let t = s.trim_matches(|c: char| c <= ' ');
    let m = t.split(['e', 'E']).next().unwrap_or("");
    let m = m.strip_prefix(['+', '-']).unwrap_or(m);
    !m.is_empty()
        && m != "."
        && m.bytes().filter(|b| *b == b'.').count() <= 1
        && m.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && {
            let e: Vec<&str> = t.splitn(2, ['e', 'E']).collect();
            e.len() == 1
                || e[1].strip_prefix(['+', '-']).unwrap_or(e[1]).bytes().all(|b| b.is_ascii_digit()) && !e[1].is_empty()
        }
}

/// A double as a `decimal(P, S)`: its shortest decimal form (as Spark's `BigDecimal(d)`),
/// rounded HALF_UP; NaN, infinities and values beyond the precision fail.
pub fn from_double<const P: u8, const S: u8>(v: Option<f64>, f: Option<&CastFailure>) -> Option<Dec<P, S>> {
    let x = v?;
    let r = if x.is_finite() { parse(ShortText::of(x).as_str(), S) } else { None };
    match r {
        Some(r) if fits(r, P) => Some(Dec(r)),
        _ => {
            if let Some(f) = f {
                let mut t = String::new();
                SparkFmt::spark_fmt(&x, &mut t);
                t.push('D');
                f.overflow(&t, "DOUBLE", &format!("DECIMAL({P},{S})"));
            }
            None
        }
    }
}

/// `round(a, d)` (HALF_UP; `bround`: HALF_EVEN) as `decimal(P, S)`, `S` being `min(d, S1)`
/// (Spark's type).
#[inline]
pub fn round<const P: u8, const S: u8, const P1: u8, const S1: u8>(
    a: Dec<P1, S1>,
    digits: i64,
    half_even: bool,
) -> Option<Dec<P, S>> {
    let d = digits.clamp(-38, 38) as i32;
    let v = if d < i32::from(S1) {
        let drop = (i32::from(S1) - d) as u32;
        let r = if half_even { round_half_even(a.0, drop.min(38)) } else { round_div_pow10(a.0, drop.min(39)) };
        // Back to scale S (d may be negative: zeros below the decimal point).
        if d >= 0 {
            rescale(r, d as u8, S)?
        } else {
            r.checked_mul(pow10(d.unsigned_abs()) as i128)?.checked_mul(pow10(u32::from(S)) as i128)?
        }
    } else {
        rescale(a.0, S1, S)?
    };
    fits(v, P).then_some(Dec(v))
}

/// A `decimal` column read from JSON: a number (its digits as written, exactly) or numeric
/// text, rounded HALF_UP to the scale; beyond the precision, or not a number, it is a value of
/// the wrong type.
#[allow(clippy::result_unit_err)]
pub fn conv<const P: u8, const S: u8>(v: Json<'_>) -> Result<Option<Dec<P, S>>, ()> {
    let r = match v {
        Json::Missing | Json::Null => return Ok(None),
        Json::Int(i) => rescale(i128::from(i), 0, S),
        // The digits as written; a number without its text (from a CSV field) by its double.
        Json::Float(_, Some(text)) => parse(text, S),
        Json::Float(x, None) if x.is_finite() => parse(ShortText::of(x).as_str(), S),
        // Spark's reader takes numeric text as it is (`" 1.5"` is not a number).
        Json::Str(s) if !s.starts_with(char::is_whitespace) && !s.ends_with(char::is_whitespace) && is_number(&s) => {
            parse(&s, S)
        }
        _ => None,
    };
    match r {
        Some(r) if fits(r, P) => Ok(Some(Dec(r))),
        _ => Err(()),
    }
}

/// The accumulator of `avg` finished into the mean: doubles divide; a decimal sum (unscaled,
/// at the argument's scale) divides into the result's scale, 4 digits more, HALF_UP.
pub trait AvgFinish<R> {
    fn finish(self) -> Option<R>;
}

impl AvgFinish<f64> for (f64, i64) {
    #[inline]
    fn finish(self) -> Option<f64> {
        (self.1 != 0).then(|| self.0 / self.1 as f64)
    }
}

impl<const P: u8, const S: u8> AvgFinish<Dec<P, S>> for (i128, i64) {
    #[inline]
    fn finish(self) -> Option<Dec<P, S>> {
        if self.1 == 0 {
            return None;
        }
        scaled_quotient(self.0, 4, i128::from(self.1)).filter(|v| fits(*v, P)).map(Dec)
    }
}

impl<const P: u8, const S: u8> std::ops::Add<Dec<P, S>> for Dec<P, S> {
    type Output = Dec<P, S>;
    #[inline]
    fn add(self, b: Dec<P, S>) -> Dec<P, S> {
        Dec(self.0 + b.0)
    }
}

/// `sum`'s accumulator (`decimal(P + 10, S)`) plus a value of the column (`decimal(P1, S)`).
#[inline]
pub fn sum_add<const P: u8, const S: u8, const P1: u8>(acc: Option<Dec<P, S>>, x: Dec<P1, S>) -> Option<Dec<P, S>> {
    Some(Dec(acc.map_or(0, |a| a.0).saturating_add(x.0)))
}

impl<const P: u8, const S: u8> Cell for Dec<P, S> {
    fn cell(&self, out: &mut String) {
        plain(self.0, S, out)
    }
}

impl<const P: u8, const S: u8> SparkFmt for Dec<P, S> {
    fn spark_fmt(&self, out: &mut String) {
        plain(self.0, S, out)
    }
}

impl<const P: u8, const S: u8> ToJson for Dec<P, S> {
    fn to_json(&self, out: &mut String) {
        plain(self.0, S, out)
    }
}

impl<const P: u8, const S: u8> Persist for Dec<P, S> {
    fn write(&self, out: &mut Vec<u8>) {
        self.0.write(out)
    }
    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        i128::read(input).map(Dec)
    }
}

impl<const P: u8, const S: u8> crate::owned::IntoOwned for Dec<P, S> {
    type Owned = Dec<P, S>;
    #[inline(always)]
    fn into_owned(self) -> Dec<P, S> {
        self
    }
    #[inline(always)]
    fn eq_owned(&self, o: &Dec<P, S>) -> bool {
        self == o
    }
}

impl<const P: u8, const S: u8> super::nested::SqlJson for Dec<P, S> {
    fn sql_json(&self, out: &mut String) {
        plain(self.0, S, out)
    }
}

impl<const P: u8, const S: u8> super::nested::SqlText for Dec<P, S> {
    fn sql_text(&self, out: &mut String) {
        plain(self.0, S, out)
    }
}

impl<const P: u8, const S: u8> super::hll::SparkHash for Dec<P, S> {
    /// Spark hashes a decimal of precision ≤ 18 as its unscaled long; wider ones as the bytes
    /// of Java's `BigInteger.toByteArray` (big-endian two's complement, shortest).
    fn spark_hash(&self) -> u64 {
        if P <= 18 {
            return (self.0 as i64).spark_hash();
        }
        let bytes = self.0.to_be_bytes();
        let mut start = 0;
        while start < 15 {
            let (b, next) = (bytes[start], bytes[start + 1]);
            if (b == 0 && next < 0x80) || (b == 0xff && next >= 0x80) {
                start += 1;
            } else {
                break;
            }
        }
        twox_hash::XxHash64::oneshot(42, &bytes[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d<const P: u8, const S: u8>(text: &str) -> Dec<P, S> {
        Dec(parse(text, S).unwrap())
    }

    fn show<const P: u8, const S: u8>(v: Option<Dec<P, S>>) -> String {
        v.map_or_else(|| "NULL".into(), |v| text_of(v.0, S))
    }

    #[test]
    fn text_parses_and_prints_with_the_scale() {
        assert_eq!(parse("1.5", 2), Some(150));
        assert_eq!(parse("-0.125", 2), Some(-13));
        assert_eq!(parse("1.2e2", 1), Some(1200));
        assert_eq!(parse(".5", 0), Some(1));
        assert_eq!(parse("abc", 0), None);
        assert_eq!(text_of(-5, 3), "-0.005");
        assert_eq!(text_of(150, 2), "1.50");
        assert_eq!(text_of(7, 0), "7");
    }

    #[test]
    fn arithmetic_rounds_half_up_to_the_result_type() {
        let f = CastFailure::new();
        let (a, b) = (d::<5, 2>("1.25"), d::<3, 1>("0.5"));
        assert_eq!(show(add::<7, 2, 5, 2, 3, 1>(a, b, &f)), "1.75");
        assert_eq!(show(mul::<9, 3, 5, 2, 3, 1>(a, b, &f)), "0.625");
        assert_eq!(show(mul::<9, 2, 5, 2, 3, 1>(a, b, &f)), "0.63");
        assert_eq!(show(div::<12, 8, 5, 2, 3, 1>(a, b, &f)), "2.50000000");
        assert_eq!(show(div::<10, 6, 1, 0, 1, 0>(Dec(1), Dec(3), &f)), "0.333333");
        assert_eq!(show(div::<10, 6, 1, 0, 1, 0>(Dec(2), Dec(3), &f)), "0.666667");
        assert_eq!(show(rem::<3, 2, 5, 2, 3, 1>(a, b, &f)), "0.25");
        assert_eq!(f.take(), None);
        assert_eq!(show(add::<3, 2, 5, 2, 3, 1>(d("9.99"), d("0.5"), &f)), "NULL");
        assert!(f.take().unwrap().contains("10.49 cannot be represented as Decimal(3, 2)"));
        // Beyond 128 bits in between.
        let big = d::<38, 0>("99999999999999999999999999999999999999");
        assert_eq!(show(div::<38, 6, 38, 0, 38, 0>(big, big, &f)), "1.000000");
        assert_eq!(show(mul::<38, 0, 38, 0, 1, 0>(big, Dec(1), &f)), "99999999999999999999999999999999999999");
    }

    #[test]
    fn casts_follow_spark() {
        let f = CastFailure::new();
        assert_eq!(show(to_decimal::<3, 1, 5, 2>(Some(d("1.25")), Some(&f))), "1.3");
        assert_eq!(show(to_decimal::<3, 1, 5, 2>(Some(d("-1.25")), Some(&f))), "-1.3");
        assert_eq!(show(from_double::<5, 2>(Some(0.125), Some(&f))), "0.13");
        assert_eq!(to_double(Some(d::<5, 2>("0.10"))), Some(0.1));
        assert_eq!(to_long::<5, 2, i32>(Some(d("-1.99")), "INT", Some(&f)), Some(-1));
        assert_eq!(round::<4, 1, 5, 2>(d("1.25"), 1, false).map(|v| v.0), Some(13));
        assert_eq!(round::<4, 1, 5, 2>(d("1.25"), 1, true).map(|v| v.0), Some(12));
        assert_eq!(round::<4, 1, 5, 2>(d("-1.35"), 1, true).map(|v| v.0), Some(-14));
        assert_eq!(f.take(), None);
        let x = d::<5, 2>("-1.25");
        assert_eq!((floor_ceil::<4, 5, 2>(x, false).0, floor_ceil::<4, 5, 2>(x, true).0), (-2, -1));
        assert_eq!(floor_ceil::<4, 5, 2>(d("1.25"), true).0, 2);
        assert_eq!(floor_ceil::<4, 5, 2>(d("2.00"), true).0, 2);
    }
}
