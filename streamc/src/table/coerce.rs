//! Spark 4's implicit casts (ANSI mode) between the column types streamc has: where an operator
//! or a function gets types it does not take, the checker inserts [`Expr::Cast`]s where Spark
//! would, and refuses with Spark's error where Spark refuses.
//!
//! - numbers widen to the wider of two: `tinyint` < `smallint` < `int` < `bigint` < `float` <
//!   `double`;
//! - comparisons (and `IN`, `BETWEEN`, which lower to them): a string meeting an integral type
//!   is cast to `bigint`, meeting `float` or `double` to `double` (and the other side widens to
//!   it), meeting a boolean, date or timestamp to that type; a date meets a timestamp as a
//!   timestamp (its midnight, UTC);
//! - arithmetic: as comparisons, on numbers; `/` divides doubles;
//! - `AND`, `OR`, `NOT`: a string is cast to boolean;
//! - function arguments: a function that takes strings takes any scalar, as its string form.
//!
//! A string literal cast to a number is folded here, so a malformed one (`n > 'abc'`) is a
//! compile error with Spark's `CAST_INVALID_INPUT` message (Spark fails the query's first batch
//! with it); a malformed column value fails its batch at run time with the same message.

use super::expr::{BinOp, Expr};
use super::ty::ColTy;

/// `e` (of type `from`) as type `to`: the expression itself when the types agree, a folded
/// literal where the cast of a literal can be done here, otherwise a cast node. Errs with
/// Spark's message for a literal that does not cast.
pub fn cast(e: Expr, from: ColTy, to: ColTy) -> Result<Expr, String> {
    if from == to {
        return Ok(e);
    }
    Ok(match (e, to) {
        // A bare NULL becomes a NULL of the type it meets.
        (Expr::Null, to) => Expr::Cast(Box::new(Expr::Null), to, to),
        (Expr::Str(s), ColTy::Long) => match parse_long(&s) {
            Some(i) => Expr::Int(i),
            None => return Err(invalid_input(&s, "BIGINT")),
        },
        (Expr::Str(s), ColTy::Double) => match parse_double(&s) {
            Some(x) if x.is_finite() => Expr::Float(x),
            // `'NaN'`, `'-Infinity'`, `'1e400'`: the runtime's cast gives them.
            Some(_) => Expr::Cast(Box::new(Expr::Str(s)), ColTy::String, ColTy::Double),
            None => return Err(invalid_input(&s, "DOUBLE")),
        },
        (Expr::Int(i), ColTy::Double) => Expr::Float(i as f64),
        // A decimal literal (`1.5`) meeting a double is that double.
        (Expr::Cast(x, ColTy::String, ColTy::Decimal(..)), ColTy::Double) if matches!(&*x, Expr::Str(t) if t.parse::<f64>().is_ok()) =>
        {
            let Expr::Str(t) = *x else { unreachable!("matched a string") };
            Expr::Float(t.parse().unwrap_or_default())
        }
        // An integer literal that does not fit the integral type it meets fails as Spark's
        // cast of it would.
        (Expr::Int(i), to) if to.integral() && narrow(i, to).is_none() => return Err(overflow(i, from, to)),
        (Expr::Int(i), ColTy::String) => Expr::Str(i.to_string()),
        (Expr::Bool(b), ColTy::String) => Expr::Str(b.to_string()),
        (e, to) => Expr::Cast(Box::new(e), from, to),
    })
}

/// `i` if it fits the integral type `to`.
fn narrow(i: i64, to: ColTy) -> Option<i64> {
    let fits = match to {
        ColTy::Byte => i8::try_from(i).is_ok(),
        ColTy::Short => i16::try_from(i).is_ok(),
        ColTy::Int => i32::try_from(i).is_ok(),
        _ => true,
    };
    fits.then_some(i)
}

/// Spark's `CAST_OVERFLOW` for an integer literal that does not fit `to`.
fn overflow(i: i64, from: ColTy, to: ColTy) -> String {
    let suffix = match from {
        ColTy::Long => "L",
        ColTy::Short => "S",
        ColTy::Byte => "Y",
        _ => "",
    };
    let (from, to) = (from.sql().to_ascii_uppercase(), to.sql().to_ascii_uppercase());
    format!(
        "[CAST_OVERFLOW] The value {i}{suffix} of the type \"{from}\" cannot be cast to \"{to}\" due to an overflow. Use `try_cast` to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003"
    )
}

/// Whether `CAST(x AS to)` of an `x` of type `from` is allowed (Spark 4's ANSI rules,
/// `Cast.canAnsiCast`, for the types streamc has): anything to and from strings, between numbers
/// and booleans, numbers and timestamps, dates and timestamps; not dates to or from numbers or
/// booleans. A nested value casts part by part: an array's elements, a map's keys and values, a
/// struct's fields by position (the names are the target's; the counts must agree). A bare
/// `NULL` casts to anything.
pub fn can_cast(from: ColTy, to: ColTy) -> bool {
    use ColTy::*;
    match (from, to) {
        (x, y) if x == y => true,
        (Void, _) => true,
        // A nested value casts to its text (Spark's `[a, null]`, `{1, x}`, `{k -> v}`).
        (x, String) if x.nested() => true,
        (Array(a), Array(b)) => can_cast(*a, *b),
        (Map((k1, v1)), Map((k2, v2))) => can_cast(*k1, *k2) && can_cast(*v1, *v2),
        (Struct(a), Struct(b)) => a.len() == b.len() && a.iter().zip(b.iter()).all(|(f, g)| can_cast(f.ty, g.ty)),
        (x, y) if x.nested() || y.nested() => false,
        (String, _) | (_, String) => true,
        (Binary, _) | (_, Binary) => false,
        (x, y) if (x.number() || x == Bool) && (y.number() || y == Bool) => true,
        // Spark takes a timestamp to a decimal too (through a double); streamc not yet.
        (Timestamp, Decimal(..)) => false,
        (x, Timestamp) | (Timestamp, x) if x.number() => true,
        (Date, Timestamp) | (Timestamp, Date) => true,
        _ => false,
    }
}

/// Whether `TRY_CAST(x AS to)` is allowed (Spark's `Cast.canTryCast`): a scalar as for `CAST`;
/// a nested value by Spark's legacy rule (`Cast.canCast`) for its parts, which takes more pairs
/// than ANSI's (a date to a number gives NULL) and refuses a map key that could become NULL.
pub fn can_try_cast(from: ColTy, to: ColTy) -> bool {
    if from.nested() && to.nested() { legacy_cast(from, to) } else { can_cast(from, to) }
}

/// Spark's legacy `Cast.canCast` for the types streamc has: the ANSI pairs, and a date or
/// timestamp to a boolean, a boolean to a timestamp, a date to a number, an integer to binary;
/// a map's key must not become NULL ([`force_nullable`]).
fn legacy_cast(from: ColTy, to: ColTy) -> bool {
    use ColTy::*;
    match (from, to) {
        (Array(a), Array(b)) => legacy_cast(*a, *b),
        (Map((k1, v1)), Map((k2, v2))) => legacy_cast(*k1, *k2) && !force_nullable(*k1, *k2) && legacy_cast(*v1, *v2),
        (Struct(a), Struct(b)) => a.len() == b.len() && a.iter().zip(b.iter()).all(|(f, g)| legacy_cast(f.ty, g.ty)),
        (Date | Timestamp, Bool) | (Bool, Timestamp) => true,
        (Date, y) if y.number() => true,
        (x, Binary) if x.integral() => true,
        _ => can_cast(from, to),
    }
}

/// Whether a cast from `from` to `to` can give NULL for a value that is not NULL (Spark's
/// `Cast.forceNullable`): parsing a string, a fraction to an integer, a timestamp to a narrow
/// integer, anything to a decimal that cannot hold it.
pub(crate) fn force_nullable(from: ColTy, to: ColTy) -> bool {
    use ColTy::*;
    match (from, to) {
        (Void, _) => false,
        (x, y) if x == y => false,
        (String, Binary) => false,
        (String, _) => true,
        (_, String) => false,
        (Timestamp, Byte | Short | Int) => true,
        (Float | Double, Timestamp) => true,
        (Timestamp, Date) => false,
        (_, Date) => true,
        (Date, Timestamp) => false,
        (Date, _) => true,
        (_, Decimal(..)) if !null_safe_to_decimal(from, to) => true,
        (Float | Double | Decimal(..), y) if y.integral() => true,
        _ => false,
    }
}

/// Whether every value of `from` fits the decimal type `to` (Spark's
/// `Cast.canNullSafeCastToDecimal`).
fn null_safe_to_decimal(from: ColTy, to: ColTy) -> bool {
    let Some((p, s)) = to.as_decimal() else { return false };
    // Spark's `DecimalType.isWiderThan`: as many integral digits and as much scale.
    let wider = |(p1, s1): (u8, u8)| p - s >= p1 - s1 && s >= s1;
    match from {
        ColTy::Bool => wider((1, 0)),
        ColTy::Decimal(p1, s1) => p - s > p1 - s1,
        f => f.as_decimal().is_some_and(wider),
    }
}

/// Whether a cast from `from` to `to` can fail the batch (under ANSI): parsing a string, a
/// number that does not fit a narrower type, seconds that overflow a timestamp; for a nested
/// value, the cast of one of its parts.
pub fn can_fail(from: ColTy, to: ColTy) -> bool {
    match (from, to) {
        (ColTy::Array(a), ColTy::Array(b)) => return can_fail(*a, *b),
        (ColTy::Map((k1, v1)), ColTy::Map((k2, v2))) => return can_fail(*k1, *k2) || can_fail(*v1, *v2),
        (ColTy::Struct(a), ColTy::Struct(b)) => return a.iter().zip(b.iter()).any(|(f, g)| can_fail(f.ty, g.ty)),
        _ => {}
    }
    (from == ColTy::String && to != ColTy::Binary)
        || (to.integral() && from.number() && rank(from) > rank(to))
        || matches!(to, ColTy::Decimal(..))
        || (from.integral() && to == ColTy::Timestamp)
}

/// Spark's order of the number types (`tinyint` first), for widening.
fn rank(t: ColTy) -> u8 {
    match t {
        ColTy::Byte => 1,
        ColTy::Short => 2,
        ColTy::Int => 3,
        ColTy::Long => 4,
        ColTy::Decimal(..) => 5,
        ColTy::Float => 6,
        ColTy::Double => 7,
        _ => 0,
    }
}

/// The wider of two number types: a decimal meeting an integral type or another decimal is
/// a decimal wide enough for both (Spark's `widerDecimalType`); meeting a float or double, a
/// double.
pub fn wider(a: ColTy, b: ColTy) -> ColTy {
    match (a, b) {
        (ColTy::Void, x) | (x, ColTy::Void) => x,
        (ColTy::Decimal(..), _) | (_, ColTy::Decimal(..)) => match (a.as_decimal(), b.as_decimal()) {
            (Some((p1, s1)), Some((p2, s2))) => {
                let scale = s1.max(s2);
                let int = (p1 - s1).max(p2 - s2);
                ColTy::Decimal((int + scale).min(38), scale.min(38))
            }
            _ => ColTy::Double,
        },
        // ANSI: an integer meeting a float is a double (a float cannot hold every int).
        (ColTy::Float, x) | (x, ColTy::Float) if x.integral() => ColTy::Double,
        _ if rank(a) >= rank(b) => a,
        _ => b,
    }
}

/// Spark's `DecimalType.adjustPrecisionScale` (precision loss allowed): a result wider than 38
/// digits keeps its integral digits and as much scale as fits, at least 6 (or its own).
fn bounded(p: u32, s: u32) -> ColTy {
    if p <= 38 {
        return ColTy::Decimal(p as u8, s as u8);
    }
    let int = p - s;
    let scale = (38u32.saturating_sub(int)).max(s.min(6));
    ColTy::Decimal(38, scale as u8)
}

/// The result type of `a op b` of two decimals (an integral side as its decimal form), by
/// Spark's `DecimalPrecision` rules; None when neither side is a decimal.
pub fn decimal_result(op: BinOp, a: ColTy, b: ColTy) -> Option<ColTy> {
    if !matches!(a, ColTy::Decimal(..)) && !matches!(b, ColTy::Decimal(..)) {
        return None;
    }
    let ((p1, s1), (p2, s2)) = (a.as_decimal()?, b.as_decimal()?);
    let (p1, s1, p2, s2) = (u32::from(p1), u32::from(s1), u32::from(p2), u32::from(s2));
    Some(match op {
        BinOp::Add | BinOp::Sub => {
            let s = s1.max(s2);
            bounded((p1 - s1).max(p2 - s2) + s + 1, s)
        }
        BinOp::Mul => bounded(p1 + p2 + 1, s1 + s2),
        BinOp::Div => {
            let s = 6.max(s1 + p2 + 1);
            bounded(p1 - s1 + s2 + s, s)
        }
        BinOp::Mod => {
            let s = s1.max(s2);
            bounded((p1 - s1).min(p2 - s2) + s, s)
        }
        _ => return None,
    })
}

/// The type a string meeting a number is cast to (Spark's ANSI `findWiderTypeForString`):
/// `bigint` for an integral type, `double` for a fractional one.
pub fn string_with(x: ColTy) -> ColTy {
    if x.integral() { ColTy::Long } else { ColTy::Double }
}

/// For the functions whose values may be a NULL literal (`CASE`, `if`, `coalesce`, `nvl`,
/// `ifnull`, `nullif`): which argument positions are values (of `n` arguments), so that a NULL
/// there takes the type of another value.
pub fn takes_null(f: &str) -> Option<fn(usize, usize) -> bool> {
    Some(match f {
        // conditions at even positions, values at odd ones, an ELSE value last when `n` is odd.
        "case" => |i, n| i % 2 == 1 || (n % 2 == 1 && i == n - 1),
        "if" => |i, _| i > 0,
        "coalesce" | "nvl" | "ifnull" | "nullif" => |_, _| true,
        _ => return None,
    })
}

/// The type both sides of a comparison are cast to, or None where Spark refuses.
pub fn comparison(a: ColTy, b: ColTy) -> Option<ColTy> {
    use ColTy::*;
    Some(match (a, b) {
        (ColTy::Void, x) | (x, ColTy::Void) => x,
        (x, y) if x.nested() || y.nested() => return None,
        (x, y) if x == y => x,
        (x, y) if x.number() && y.number() => wider(x, y),
        (String, x) | (x, String) if x.number() => string_with(x),
        (String, x) | (x, String) => x,
        (Date, Timestamp) | (Timestamp, Date) => Timestamp,
        _ => return None,
    })
}

/// The type both sides of `+ - * / %` are cast to (`/` then gives a double), or None.
pub fn arithmetic(a: ColTy, b: ColTy) -> Option<ColTy> {
    use ColTy::*;
    Some(match (a, b) {
        (x, y) if x.number() && y.number() => wider(x, y),
        (String, x) | (x, String) if x.number() => string_with(x),
        _ => return None,
    })
}

/// Spark's error for an operator whose sides have types it cannot reconcile.
pub fn diff_types(op: BinOp, a: &Expr, b: &Expr, ta: ColTy, tb: ColTy) -> String {
    format!(
        "[DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES] Cannot resolve \"({a} {} {b})\" due to data type mismatch: the left and right operands of the binary operator have incompatible types (\"{}\" and \"{}\")",
        op.symbol(),
        ta.sql().to_ascii_uppercase(),
        tb.sql().to_ascii_uppercase()
    )
}

/// Spark's message for a string that does not cast (the runtime's `cast::invalid_input` says
/// the same for column values).
fn invalid_input(value: &str, target: &str) -> String {
    format!(
        "[CAST_INVALID_INPUT] The value '{value}' of the type \"STRING\" cannot be cast to \"{target}\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead. SQLSTATE: 22018"
    )
}

/// Spark trims ASCII whitespace and control characters before casting a string.
fn trimmed(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// A string as a `bigint` (as the runtime's `cast::parse_long`: a sign and digits; no
/// fraction under ANSI).
fn parse_long(s: &str) -> Option<i64> {
    let t = trimmed(s);
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.strip_prefix('+').unwrap_or(t).parse().ok()
}

/// A string as a `double` (Java's forms; `Infinity` and `NaN` cannot be Rust literals here, so
/// they stay casts).
fn parse_double(s: &str) -> Option<f64> {
    let t = trimmed(s);
    // Spark's special literals in any case (`NaN`, `inf`, `-Infinity`): not folded (NaN stands
    // for all of them here), the runtime's `cast::parse_double` reads them.
    let is = |names: &[&str]| names.iter().any(|n| t.eq_ignore_ascii_case(n));
    if is(&["inf", "+inf", "infinity", "+infinity", "-inf", "-infinity", "nan", "+nan", "-nan"]) {
        return Some(f64::NAN);
    }
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    if t.bytes().any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_fold_and_malformed_ones_fail() {
        assert_eq!(cast(Expr::Str(" 3 ".into()), ColTy::String, ColTy::Long), Ok(Expr::Int(3)));
        assert!(cast(Expr::Str("1.9".into()), ColTy::String, ColTy::Long).is_err());
        assert_eq!(cast(Expr::Str("2.5".into()), ColTy::String, ColTy::Double), Ok(Expr::Float(2.5)));
        assert!(cast(Expr::Str("abc".into()), ColTy::String, ColTy::Long).unwrap_err().contains("'abc'"));
        assert!(cast(Expr::Str("".into()), ColTy::String, ColTy::Long).is_err());
        let ts = cast(Expr::Str("2024-03-01".into()), ColTy::String, ColTy::Timestamp).unwrap();
        assert!(matches!(ts, Expr::Cast(_, ColTy::String, ColTy::Timestamp)));
    }

    #[test]
    fn spark_reconciles_these_types_and_refuses_the_rest() {
        use ColTy::*;
        assert_eq!(comparison(Timestamp, String), Some(Timestamp));
        assert_eq!(comparison(Date, Timestamp), Some(Timestamp));
        assert_eq!(comparison(Long, Double), Some(Double));
        assert_eq!(comparison(Bool, String), Some(Bool));
        assert_eq!(comparison(Bool, Long), None);
        assert_eq!(comparison(Timestamp, Long), None);
        assert_eq!(arithmetic(String, Long), Some(Long));
        assert_eq!(arithmetic(Double, String), Some(Double));
        assert_eq!(arithmetic(Timestamp, Long), None);
        assert_eq!(arithmetic(String, String), None);
    }

    #[test]
    fn nested_values_cast_part_by_part_as_spark_allows() {
        use ColTy::*;
        let p = |t: &str| ColTy::parse(t).unwrap();
        assert!(can_cast(p("array<string>"), p("array<int>")));
        assert!(can_cast(p("map<string,string>"), p("map<int,bigint>")));
        assert!(can_cast(p("struct<x:string,y:bigint>"), p("struct<a:int,b:string>")));
        assert!(!can_cast(p("struct<x:string,y:bigint>"), p("struct<a:string>")));
        assert!(!can_cast(p("array<int>"), p("struct<a:int>")));
        assert!(!can_cast(p("map<int,int>"), p("array<int>")));
        assert!(!can_cast(p("array<date>"), p("array<int>")));
        assert!(can_cast(Void, p("array<int>")));
        // TRY_CAST: no map key that could become NULL; Spark's legacy pairs inside.
        assert!(!can_try_cast(p("map<string,string>"), p("map<int,string>")));
        assert!(!can_try_cast(p("map<double,string>"), p("map<bigint,string>")));
        assert!(!can_try_cast(p("map<int,string>"), p("map<decimal(2,0),string>")));
        assert!(can_try_cast(p("map<int,string>"), p("map<decimal(12,0),string>")));
        assert!(can_try_cast(p("map<bigint,string>"), p("map<int,string>")));
        assert!(can_try_cast(p("map<string,string>"), p("map<string,int>")));
        assert!(can_try_cast(p("array<date>"), p("array<int>")));
        assert!(can_try_cast(p("map<string,bigint>"), p("map<string,binary>")));
        assert!(can_try_cast(p("struct<a:boolean,b:timestamp>"), p("struct<a:timestamp,b:boolean>")));
        assert!(!can_try_cast(p("map<date,string>"), p("map<int,string>")));
        assert!(!can_try_cast(p("array<double>"), p("array<binary>")));
        assert!(!can_try_cast(p("array<int>"), p("array<date>")));
    }
}
