//! ANSI arithmetic, as Spark 4 computes it with `spark.sql.ansi.enabled` (the default): a long
//! `+`, `-`, `*`, unary `-` or `abs` that overflows, and a division or remainder by zero (of
//! longs or doubles: `/`, `%`, `pmod`), fail the batch with Spark's error. Generated code calls
//! these with the query's [`CastFailure`], which records the first failure; the batch fails
//! after its rows (as a failed cast does). A failing operation yields NULL meanwhile.

use super::cast::CastFailure;

const DIVIDE_BY_ZERO: &str = "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012";
const REMAINDER_BY_ZERO: &str = "[REMAINDER_BY_ZERO] Remainder by zero. Use `try_mod` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012";
const OVERFLOW_ADD: &str = "[ARITHMETIC_OVERFLOW] overflow. Use 'try_add' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003";
const OVERFLOW_SUBTRACT: &str = "[ARITHMETIC_OVERFLOW] overflow. Use 'try_subtract' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003";
const OVERFLOW_MULTIPLY: &str = "[ARITHMETIC_OVERFLOW] overflow. Use 'try_multiply' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003";
const OVERFLOW_DIVIDE: &str = "[ARITHMETIC_OVERFLOW] Overflow in integral divide. Use 'try_divide' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003";
const OVERFLOW: &str = "[ARITHMETIC_OVERFLOW] overflow. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003";

#[inline]
fn fail<T>(f: &CastFailure, message: &str) -> Option<T> {
    f.record(message);
    None
}

/// Spark's integral types (`tinyint`, `smallint`, `int`, `bigint`): checked arithmetic.
pub trait Integral: Copy + PartialOrd + Default {
    fn checked_add(self, b: Self) -> Option<Self>;
    fn checked_sub(self, b: Self) -> Option<Self>;
    fn checked_mul(self, b: Self) -> Option<Self>;
    fn checked_neg(self) -> Option<Self>;
    fn checked_abs(self) -> Option<Self>;
    fn wrapping_rem(self, b: Self) -> Self;
    fn wrapping_add(self, b: Self) -> Self;
}

macro_rules! integral {
    ($($t:ty)*) => {$(
        impl Integral for $t {
            #[inline]
            fn checked_add(self, b: Self) -> Option<Self> { <$t>::checked_add(self, b) }
            #[inline]
            fn checked_sub(self, b: Self) -> Option<Self> { <$t>::checked_sub(self, b) }
            #[inline]
            fn checked_mul(self, b: Self) -> Option<Self> { <$t>::checked_mul(self, b) }
            #[inline]
            fn checked_neg(self) -> Option<Self> { <$t>::checked_neg(self) }
            #[inline]
            fn checked_abs(self) -> Option<Self> { <$t>::checked_abs(self) }
            #[inline]
            fn wrapping_rem(self, b: Self) -> Self { <$t>::wrapping_rem(self, b) }
            #[inline]
            fn wrapping_add(self, b: Self) -> Self { <$t>::wrapping_add(self, b) }
        }
    )*};
}

integral!(i8 i16 i32 i64);

/// `a + b` of integers of one type.
#[inline]
pub fn add<T: Integral>(a: T, b: T, f: &CastFailure) -> Option<T> {
    a.checked_add(b).or_else(|| fail(f, OVERFLOW_ADD))
}

/// `a - b` of integers of one type.
#[inline]
pub fn sub<T: Integral>(a: T, b: T, f: &CastFailure) -> Option<T> {
    a.checked_sub(b).or_else(|| fail(f, OVERFLOW_SUBTRACT))
}

/// `a * b` of integers of one type.
#[inline]
pub fn mul<T: Integral>(a: T, b: T, f: &CastFailure) -> Option<T> {
    a.checked_mul(b).or_else(|| fail(f, OVERFLOW_MULTIPLY))
}

/// `-a` of an integer.
#[inline]
pub fn neg<T: Integral>(a: T, f: &CastFailure) -> Option<T> {
    a.checked_neg().or_else(|| fail(f, OVERFLOW))
}

/// `abs(a)` of an integer.
#[inline]
pub fn abs<T: Integral>(a: T, f: &CastFailure) -> Option<T> {
    a.checked_abs().or_else(|| fail(f, OVERFLOW))
}

/// `a / b`: always a double division in Spark SQL (longs are converted); by zero fails.
#[inline]
pub fn div(a: f64, b: f64, f: &CastFailure) -> Option<f64> {
    if b == 0.0 { fail(f, DIVIDE_BY_ZERO) } else { Some(a / b) }
}

/// `a % b` of integers: the sign of `a` (Java's); by zero fails. `i64::MIN % -1` is 0.
#[inline]
pub fn rem<T: Integral>(a: T, b: T, f: &CastFailure) -> Option<T> {
    if b == T::default() { fail(f, REMAINDER_BY_ZERO) } else { Some(a.wrapping_rem(b)) }
}

/// `a div b`: integral division (truncated); by zero fails, as does the one quotient past
/// `i64::MAX` (`i64::MIN div -1`).
#[inline]
pub fn int_div(a: i64, b: i64, f: &CastFailure) -> Option<i64> {
    if b == 0 {
        return fail(f, DIVIDE_BY_ZERO);
    }
    a.checked_div(b).or_else(|| fail(f, OVERFLOW_DIVIDE))
}

/// `a DIV b` with a decimal side, each side an unscaled value and its scale (an integer has
/// scale 0): the quotient truncated, as a bigint of its low 64 bits (Spark's `Decimal.toLong`
/// wraps, as Java's `BigDecimal.longValue`); by zero fails.
pub fn dec_div(a: i128, sa: u8, b: i128, sb: u8, f: &CastFailure) -> Option<i64> {
    if b == 0 {
        return fail(f, DIVIDE_BY_ZERO);
    }
    // Both at the larger scale; a side too large for that (beyond 38 digits) is out of range.
    let up = |v: i128, by: u8| 10i128.checked_pow(u32::from(by)).and_then(|p| v.checked_mul(p));
    let (a, b) = match (up(a, sb.saturating_sub(sa)), up(b, sa.saturating_sub(sb))) {
        (Some(a), Some(b)) => (a, b),
        _ => return fail(f, OVERFLOW_DIVIDE),
    };
    Some((a / b) as i64)
}

/// `a % b` of doubles (Java's `%`, truncated); by zero fails.
#[inline]
pub fn rem_f64(a: f64, b: f64, f: &CastFailure) -> Option<f64> {
    if b == 0.0 { fail(f, REMAINDER_BY_ZERO) } else { Some(a % b) }
}

/// `a % b` of floats (see [`rem_f64`]).
#[inline]
pub fn rem_f32(a: f32, b: f32, f: &CastFailure) -> Option<f32> {
    if b == 0.0 { fail(f, REMAINDER_BY_ZERO) } else { Some(a % b) }
}

/// `pmod(a, b)` of longs, as Spark computes it: `r = a % b`, then `(r + b) % b` when `r < 0`
/// (so a negative `b` can give a negative result); by zero fails.
#[inline]
pub fn pmod(a: i64, b: i64, f: &CastFailure) -> Option<i64> {
    if b == 0 {
        return fail(f, REMAINDER_BY_ZERO);
    }
    let r = a.wrapping_rem(b);
    Some(if r < 0 { r.wrapping_add(b).wrapping_rem(b) } else { r })
}

/// Spark's order of doubles (`SQLOrderingUtil.compareDoubles`): NaN equals NaN and is above
/// every other value; -0.0 equals 0.0.
#[inline]
pub fn float_cmp(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
    }
}

/// An integral double (`floor`, `ceil`) as a bigint; beyond a bigint's range (or NaN) fails.
#[inline]
pub fn to_long_exact(v: f64, f: &CastFailure) -> Option<i64> {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&v) {
        Some(v as i64)
    } else {
        fail(f, OVERFLOW)
    }
}

/// `pmod(a, b)` of doubles (see [`pmod`]).
#[inline]
pub fn pmod_f64(a: f64, b: f64, f: &CastFailure) -> Option<f64> {
    if b == 0.0 {
        return fail(f, REMAINDER_BY_ZERO);
    }
    let r = a % b;
    Some(if r < 0.0 { (r + b) % b } else { r })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Spark said, verbatim (`tests/data/spark/sql/arith_errors.txt`, from
    /// `arith_errors.py`): `expression => first line of the error`.
    const SPARK: &str = include_str!("../../../tests/data/spark/sql/arith_errors.txt");

    fn spark(expr: &str) -> &'static str {
        SPARK
            .lines()
            .find_map(|l| l.strip_prefix(expr).and_then(|r| r.strip_prefix(" => ")))
            .unwrap_or_else(|| panic!("no `{expr}` in arith_errors.txt"))
    }

    fn message(run: impl Fn(&CastFailure) -> bool) -> String {
        let f = CastFailure::new();
        assert!(run(&f), "the operation must yield NULL");
        f.take().expect("a recorded failure")
    }

    #[test]
    fn failures_carry_sparks_messages() {
        assert_eq!(message(|f| div(10.0, 0.0, f).is_none()), spark("10 / z"));
        assert_eq!(message(|f| div(0.0, 0.0, f).is_none()), spark("d / d"));
        assert_eq!(message(|f| rem(5, 0, f).is_none()), spark("n % z"));
        assert_eq!(message(|f| rem_f64(0.0, 0.0, f).is_none()), spark("d % d"));
        assert_eq!(message(|f| pmod(5, 0, f).is_none()), spark("pmod(n, z)"));
        assert_eq!(message(|f| pmod_f64(0.0, 0.0, f).is_none()), spark("pmod(d, d)"));
        assert_eq!(message(|f| add(i64::MAX, 1, f).is_none()), spark("big + 1"));
        assert_eq!(message(|f| mul(i64::MAX, 2, f).is_none()), spark("big * 2"));
        assert_eq!(message(|f| sub(i64::MIN, 1, f).is_none()), spark("small - 1"));
        assert_eq!(message(|f| neg(i64::MIN, f).is_none()), spark("-small"));
        assert_eq!(message(|f| abs(i64::MIN, f).is_none()), spark("abs(small)"));
    }

    #[test]
    fn results_where_spark_has_them() {
        let f = CastFailure::new();
        assert_eq!(
            (rem(7, 3, &f), rem(-7, 3, &f), rem(7, -3, &f), rem(i64::MIN, -1, &f)),
            (Some(1), Some(-1), Some(1), Some(0))
        );
        assert_eq!(
            (pmod(7, 3, &f), pmod(-7, 3, &f), pmod(7, -3, &f), pmod(-7, -3, &f)),
            (Some(1), Some(2), Some(1), Some(-1))
        );
        assert_eq!(
            (pmod_f64(-2.5, 2.0, &f), rem_f64(-0.0, 2.0, &f).map(f64::is_sign_negative)),
            (Some(1.5), Some(true))
        );
        assert_eq!(f.take(), None);
    }
}
