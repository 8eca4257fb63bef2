//! Spark SQL's conditional, NULL, math, string and calendar functions: one [`ScalarFn`] each
//! (the forms `CASE`, `IS [NOT] NULL` and `LIKE` of the SQL front end lower to `case`,
//! `isnull`/`isnotnull` and `like`; `CAST` is typed by the checker itself).

use super::patterns::{parse_with, pattern_ok, regex_code, regex_ok};
use super::scalar::{Form, ScalarFn};
use super::types::{Args, Nulls, SigError};
use crate::table::expr::{Expr, UnOp};
use crate::table::ty::ColTy;
use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn rt() -> TokenStream {
    quote!(::streamc_runtime::structured)
}

/// An integer literal (`2`, `-1`), also as the checker typed it (`CAST(2 AS BIGINT)`).
pub(super) fn literal_int(e: &Expr) -> Option<i64> {
    match e {
        Expr::Int(i) => Some(*i),
        Expr::Unary(UnOp::Neg, x) => literal_int(x).map(|i| -i),
        Expr::Cast(x, _, _) => literal_int(x),
        _ => None,
    }
}

/// `round`'s and `bround`'s rule for a decimal: `(decimal[, scale literal])`.
pub(super) fn round_decimal_sig(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::Decimal(p, s))] => Ok(round_decimal(*p, *s, 0)),
        [(_, ColTy::Decimal(p, s)), (d, ColTy::Long)] => match literal_int(d) {
            Some(d) => Ok(round_decimal(*p, *s, d)),
            None => Err(Some(SigError::new("the scale of `round` is an integer literal"))),
        },
        _ => Err(None),
    }
}

/// The type of `round(decimal(p, s), d)` (Spark's `RoundBase`).
fn round_decimal(p: u8, s: u8, d: i64) -> ColTy {
    let int = i64::from(p - s) + 1;
    if d < 0 {
        ColTy::Decimal(int.max(1 - d).min(38) as u8, 0)
    } else {
        let scale = i64::from(s).min(d);
        ColTy::Decimal((int + scale).min(38) as u8, scale as u8)
    }
}

/// Every argument of one type (the checker's implicit casts have unified them).
pub(super) fn same(args: Args<'_>) -> Option<ColTy> {
    let t = args.first()?.1;
    (args.iter().all(|(_, u)| *u == t)).then_some(t)
}

/// `(x)` → bool, for any scalar `x`.
fn any_to_bool(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [_] => Ok(ColTy::Bool),
        _ => Err(None),
    }
}

/// `floor`/`ceil`'s type: a bigint, or of a decimal `decimal(p - s + 1, 0)` (Spark's).
fn floor_ceil_sig(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::Decimal(p, s))] if *s > 0 => Ok(ColTy::Decimal((p - s + 1).min(38), 0)),
        [(_, t @ ColTy::Decimal(..))] => Ok(*t),
        args => numeric_to_long(args),
    }
}

/// `floor` (`up` false) or `ceil` of a decimal into its type of scale 0.
fn decimal_floor_ceil(x: &TokenStream, from: ColTy, up: bool) -> TokenStream {
    let ColTy::Decimal(p, s) = from else { return quote!(::core::option::Option::None) };
    let to = if s > 0 { (p - s + 1).min(38) } else { p };
    let [p, s, to] = [p, s, to].map(proc_macro2::Literal::u8_unsuffixed);
    quote!((#x).map(|v| ::streamc_runtime::structured::decimal::floor_ceil::<#to, #p, #s>(v, #up)))
}

fn numeric_same(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, t)] if t.numeric() => Ok(*t),
        _ => Err(None),
    }
}

fn numeric_to_long(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, t)] if t.numeric() => Ok(ColTy::Long),
        _ => Err(None),
    }
}

/// A calendar part of a date or timestamp.
fn of_date(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::Date | ColTy::Timestamp)] => Ok(ColTy::Int),
        _ => Err(None),
    }
}

fn of_timestamp(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::Timestamp)] => Ok(ColTy::Int),
        _ => Err(None),
    }
}

/// The date of a date or timestamp argument, as code of type `Option<Date>`.
fn date_arg(a: &TokenStream, t: Option<ColTy>) -> TokenStream {
    let rt = rt();
    match t {
        Some(ColTy::Timestamp) => quote!((#a).map(#rt::scalar::date_of)),
        _ => quote!(#a),
    }
}

/// A timestamp or date argument as code of type `Option<Timestamp>` (a date's midnight).
fn as_timestamp(a: &TokenStream, t: Option<ColTy>) -> TokenStream {
    let rt = rt();
    match t {
        Some(ColTy::Date) => quote!(#rt::cast::date_to_timestamp(#a)),
        _ => quote!(#a),
    }
}

fn ymd_part(a: &[TokenStream], t: &[Option<ColTy>], part: TokenStream) -> TokenStream {
    let rt = rt();
    let d = date_arg(&a[0], t[0]);
    quote!((#d).map(|d| { let (y, m, day) = #rt::scalar::ymd(d); let _ = (y, m, day); (#part) as i32 }))
}

fn hms_part(a: &[TokenStream], part: TokenStream) -> TokenStream {
    let rt = rt();
    let x = &a[0];
    quote!((#x).map(|t| { let (h, mi, s) = #rt::scalar::hms(t); let _ = (h, mi, s); (#part) as i32 }))
}

pub(super) const fn entry(
    names: &'static [&'static str],
    signature: super::scalar::Signature,
    codegen: super::scalar::Codegen,
    returns: &'static str,
    nulls: Nulls,
    doc: &'static str,
    example: &'static str,
) -> ScalarFn {
    ScalarFn { names, form: Form::Ordinary { signature, codegen }, returns, nulls, doc, example }
}

/// `(date | timestamp, days)` → date, for `date_add` and `date_sub`. Spark takes the days as an
/// `INT` (or a narrower integer), and refuses a `BIGINT` column.
fn date_and_days(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::Date | ColTy::Timestamp), (_, ColTy::Int | ColTy::Short | ColTy::Byte)] => Ok(ColTy::Date),
        [(_, ColTy::Date | ColTy::Timestamp), (n, ColTy::Long)] if literal_int(n).is_some() => Ok(ColTy::Date),
        [(_, ColTy::Date | ColTy::Timestamp), (n, ColTy::Long)] => Err(Some(SigError::new(format!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] the days of a date function are an INT, and `{n}` is a BIGINT"
        )).help("write the number of days as a literal"))),
        _ => Err(None),
    }
}

fn shifted(a: &[TokenStream], t: &[Option<ColTy>], negate: bool) -> TokenStream {
    let rt = rt();
    let d = date_arg(&a[0], t[0]);
    let n = &a[1];
    let n = quote!((#n).map(|v| v as i64));
    let n = if negate { quote!((#n).and_then(i64::checked_neg)) } else { n };
    quote!(match (#d, #n) {
        (::core::option::Option::Some(d), ::core::option::Option::Some(n)) => #rt::scalar::date_add(d, n),
        _ => ::core::option::Option::None,
    })
}

/// The functions of this file, in the order the reference lists them.
pub static LIBRARY: &[ScalarFn] = &[
    entry(
        &["case"],
        |args| {
            let n = args.len();
            if n < 2 {
                return Err(None);
            }
            let conds_ok = args.chunks(2).filter(|p| p.len() == 2).all(|p| p[0].1 == ColTy::Bool);
            let values: Vec<ColTy> = args
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == 1 || (n % 2 == 1 && *i == n - 1))
                .map(|(_, a)| a.1)
                .collect();
            let t = values[0];
            if !conds_ok {
                return Err(Some(SigError::new("the conditions of `CASE WHEN` must be boolean")));
            }
            if values.iter().any(|v| *v != t) {
                return Err(None);
            }
            Ok(t)
        },
        |a, _| {
            let n = a.len();
            let mut code = if n % 2 == 1 { a[n - 1].clone() } else { quote!(::core::option::Option::None) };
            for pair in a.chunks(2).rev().filter(|p| p.len() == 2) {
                let (c, v) = (&pair[0], &pair[1]);
                code = quote!(if (#c) == ::core::option::Option::Some(true) { #v } else { #code });
            }
            code
        },
        "the values' type",
        Nulls::Handled,
        "SQL's `CASE WHEN c THEN v ... [ELSE e] END` (and `CASE x WHEN a THEN v ...`): the value of the first true condition, else `e` (NULL without ELSE)",
        "CASE WHEN n > 2 THEN 'big' ELSE 'small' END",
    ),
    entry(
        &["if"],
        |args| match args {
            [(_, ColTy::Bool), (_, a), (_, b)] if a == b => Ok(*a),
            _ => Err(None),
        },
        |a, _| {
            let (c, x, y) = (&a[0], &a[1], &a[2]);
            quote!(if (#c) == ::core::option::Option::Some(true) { #x } else { #y })
        },
        "the values' type",
        Nulls::Handled,
        "`if(c, a, b)`: `a` where `c` is true, else `b` (also where `c` is NULL)",
        "if(n > 2, word, 'small')",
    ),
    entry(
        &["coalesce"],
        |args| same(args).ok_or(None),
        |a, _| {
            let mut code = a[a.len() - 1].clone();
            for x in a[..a.len() - 1].iter().rev() {
                code = quote!(match #x { ::core::option::Option::Some(v) => ::core::option::Option::Some(v), ::core::option::Option::None => #code });
            }
            code
        },
        "the arguments' type",
        Nulls::Handled,
        "the first argument that is not NULL (NULL if all are)",
        "coalesce(d, 0.0)",
    ),
    entry(
        &["nvl", "ifnull"],
        |args| match args {
            [_, _] => same(args).ok_or(None),
            _ => Err(None),
        },
        |a, _| {
            let (x, y) = (&a[0], &a[1]);
            quote!(match #x { ::core::option::Option::Some(v) => ::core::option::Option::Some(v), ::core::option::Option::None => #y })
        },
        "the arguments' type",
        Nulls::Handled,
        "`nvl(a, b)`: `a`, or `b` where `a` is NULL",
        "nvl(word, 'none')",
    ),
    entry(
        &["nullif"],
        |args| match args {
            [_, _] => same(args).ok_or(None),
            _ => Err(None),
        },
        |a, _| {
            let (x, y) = (&a[0], &a[1]);
            quote!(match (#x, #y) {
                (::core::option::Option::Some(a), ::core::option::Option::Some(b)) if a == b => ::core::option::Option::None,
                (a, _) => a,
            })
        },
        "the first argument's type",
        Nulls::Handled,
        "`nullif(a, b)`: NULL where `a = b`, else `a`",
        "nullif(word, '')",
    ),
    entry(
        &["isnull"],
        any_to_bool,
        |a, _| {
            let x = &a[0];
            quote!(::core::option::Option::Some((#x).is_none()))
        },
        "boolean",
        Nulls::Handled,
        "whether the value is NULL (SQL: `x IS NULL`); never NULL",
        "d IS NULL",
    ),
    entry(
        &["isnotnull"],
        any_to_bool,
        |a, _| {
            let x = &a[0];
            quote!(::core::option::Option::Some((#x).is_some()))
        },
        "boolean",
        Nulls::Handled,
        "whether the value is not NULL (SQL: `x IS NOT NULL`); never NULL",
        "d IS NOT NULL",
    ),
    entry(
        &["like"],
        |args| match args {
            [(_, ColTy::String), (p, ColTy::String)] => match p {
                Expr::Str(p) if p.ends_with('\\') && p.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1 => {
                    Err(Some(SigError::new(format!(
                        "[INVALID_FORMAT.ESC_AT_THE_END] The format is invalid: '{p}'. The escape character is not allowed to end with."
                    ))))
                }
                _ => Ok(ColTy::Bool),
            },
            _ => Err(None),
        },
        |a, _| {
            let rt = rt();
            let (s, p) = (&a[0], &a[1]);
            quote!(match (#s, #p) {
                (::core::option::Option::Some(s), ::core::option::Option::Some(p)) => #rt::scalar::like(&s, &p).ok(),
                _ => ::core::option::Option::None,
            })
        },
        "boolean",
        Nulls::Strict,
        "SQL `s LIKE pattern`: `%` matches any characters, `_` one, `\\` escapes",
        "word LIKE 'st%'",
    ),
    entry(
        &["rlike", "regexp", "regexp_like"],
        |args| match args {
            [(_, ColTy::String), (p, ColTy::String)] => regex_ok(p).map(|_| ColTy::Bool),
            _ => Err(None),
        },
        |a, _| {
            let rt = rt();
            let (s, re) = (&a[0], regex_code(&a[1]));
            quote!((#s).map(|s| #rt::regexp::rlike(&s, #re)))
        },
        "boolean",
        Nulls::Strict,
        "SQL `s RLIKE pattern`: whether the regular expression matches anywhere in `s` (runtime feature `regex`)",
        "word RLIKE '^st.*m$'",
    ),
    entry(
        &["regexp_extract"],
        |args| match args {
            [(_, ColTy::String), (p, ColTy::String), (i, ColTy::Long)] => {
                let groups = regex_ok(p)?;
                match literal_int(i) {
                    Some(i) if i >= 0 && (i as usize) <= groups => Ok(ColTy::String),
                    Some(i) => Err(Some(SigError::new(format!(
                        "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] The value of parameter(s) `idx` in `regexp_extract` is invalid: Expects group index between 0 and {groups}, but got {i}."
                    )))),
                    _ => Err(Some(SigError::new("the group index of `regexp_extract` is an integer literal"))),
                }
            }
            [(_, ColTy::String), (p, ColTy::String)] => match regex_ok(p)? {
                0 => Err(Some(SigError::new(
                    "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] `regexp_extract` takes group 1 by default, and the pattern has no group",
                ))),
                _ => Ok(ColTy::String),
            },
            _ => Err(None),
        },
        |a, _| {
            let rt = rt();
            let (s, re) = (&a[0], regex_code(&a[1]));
            let idx = a.get(2).cloned().unwrap_or_else(|| quote!(::core::option::Option::Some(1i64)));
            quote!(match (#s, #idx) {
                (::core::option::Option::Some(s), ::core::option::Option::Some(i)) => #rt::regexp::regexp_extract(&s, #re, i).ok().map(|x| ::std::borrow::Cow::<str>::Owned(x.into_owned())),
                _ => ::core::option::Option::None,
            })
        },
        "string",
        Nulls::Strict,
        "`regexp_extract(s, pattern[, group])`: the group (default 1; 0 the whole match) of the first match, `''` if none (runtime feature `regex`)",
        "regexp_extract(word, '(s)t', 1)",
    ),
    entry(
        &["regexp_replace"],
        |args| match args {
            [(_, ColTy::String), (p, ColTy::String), (_, ColTy::String)] => regex_ok(p).map(|_| ColTy::String),
            _ => Err(None),
        },
        |a, _| {
            let rt = rt();
            let (s, re, r) = (&a[0], regex_code(&a[1]), &a[2]);
            quote!(match (#s, #r) {
                (::core::option::Option::Some(s), ::core::option::Option::Some(r)) => ::core::option::Option::Some(::std::borrow::Cow::<str>::Owned(#rt::regexp::regexp_replace(&s, #re, &r).into_owned())),
                _ => ::core::option::Option::None,
            })
        },
        "string",
        Nulls::Strict,
        "`regexp_replace(s, pattern, replacement)`: every match replaced (`$1` is a group; runtime feature `regex`)",
        "regexp_replace(word, '[aeiou]', '_')",
    ),
    entry(
        &["abs"],
        |args| match args {
            [(_, t @ ColTy::Decimal(..))] => Ok(*t),
            args => numeric_same(args),
        },
        |a, t| {
            let x = &a[0];
            if let Some(ColTy::Decimal(..)) = t[0] {
                quote!((#x).map(::streamc_runtime::structured::decimal::abs))
            } else if t[0] == Some(ColTy::Long) {
                // ANSI: `abs` of the smallest long overflows (fails the batch).
                let (rt, f) = (rt(), proc_macro2::Ident::new("cast_failure", proc_macro2::Span::mixed_site()));
                quote!((#x).and_then(|v: i64| #rt::arith::abs(v, &#f)))
            } else {
                quote!((#x).map(|v| v.abs()))
            }
        },
        "the argument's type",
        Nulls::Strict,
        "the absolute value",
        "abs(d)",
    ),
    entry(
        &["round"],
        |args| match args {
            [(_, t)] if t.numeric() => Ok(*t),
            [(_, t), (d, ColTy::Long)] if t.numeric() && literal_int(d).is_some() => Ok(*t),
            // A decimal keeps `min(s, scale)` digits of scale and gains one integral digit
            // (Spark's `RoundBase`): `codegen::table::expr` generates it.
            [(_, ColTy::Decimal(..)), ..] => round_decimal_sig(args),
            [(_, t), _] if t.numeric() => Err(Some(SigError::new("the scale of `round` is an integer literal"))),
            _ => Err(None),
        },
        |a, t| {
            let rt = rt();
            let x = &a[0];
            let scale = a.get(1).cloned().unwrap_or_else(|| quote!(::core::option::Option::Some(0i64)));
            match t[0] {
                Some(ColTy::Long) => {
                    quote!(match (#x, #scale) { (::core::option::Option::Some(v), ::core::option::Option::Some(s)) => #rt::scalar::round_long(v, s), _ => ::core::option::Option::None })
                }
                _ => {
                    quote!(match (#x, #scale) { (::core::option::Option::Some(v), ::core::option::Option::Some(s)) => ::core::option::Option::Some(#rt::scalar::round_double(v, s)), _ => ::core::option::Option::None })
                }
            }
        },
        "the argument's type",
        Nulls::Strict,
        "`round(x[, scale])`: rounded half up to `scale` decimals (0 by default; negative: tens, hundreds, ...)",
        "round(d, 1)",
    ),
    entry(
        &["floor"],
        floor_ceil_sig,
        |a, t| {
            let x = &a[0];
            match t[0] {
                Some(ColTy::Long) => quote!(#x),
                // A decimal stays one, of scale 0 (Spark: `decimal(p - s + 1, 0)`).
                Some(from @ ColTy::Decimal(..)) => decimal_floor_ceil(x, from, false),
                // ANSI: beyond a bigint's range fails the batch with `ARITHMETIC_OVERFLOW`.
                _ => {
                    let (rt, f) = (rt(), proc_macro2::Ident::new("cast_failure", proc_macro2::Span::mixed_site()));
                    quote!((#x).and_then(|v: f64| #rt::arith::to_long_exact(v.floor(), &#f)))
                }
            }
        },
        "bigint",
        Nulls::Strict,
        "the largest integer not above the number",
        "floor(d)",
    ),
    entry(
        &["ceil", "ceiling"],
        floor_ceil_sig,
        |a, t| {
            let x = &a[0];
            match t[0] {
                Some(ColTy::Long) => quote!(#x),
                // A decimal stays one, of scale 0 (Spark: `decimal(p - s + 1, 0)`).
                Some(from @ ColTy::Decimal(..)) => decimal_floor_ceil(x, from, true),
                // ANSI: beyond a bigint's range fails the batch with `ARITHMETIC_OVERFLOW`.
                _ => {
                    let (rt, f) = (rt(), proc_macro2::Ident::new("cast_failure", proc_macro2::Span::mixed_site()));
                    quote!((#x).and_then(|v: f64| #rt::arith::to_long_exact(v.ceil(), &#f)))
                }
            }
        },
        "bigint",
        Nulls::Strict,
        "the smallest integer not below the number",
        "ceil(d)",
    ),
    entry(
        &["concat"],
        |args| match args {
            [] => Err(None),
            _ if args.iter().all(|(_, t)| *t == ColTy::String) => Ok(ColTy::String),
            _ => Err(None),
        },
        |a, _| {
            let rt = rt();
            let vars: Vec<proc_macro2::Ident> = (0..a.len())
                .map(|i| proc_macro2::Ident::new(&format!("part{i}"), proc_macro2::Span::mixed_site()))
                .collect();
            quote!(match (#(#a,)*) {
                (#(::core::option::Option::Some(#vars),)*) => ::core::option::Option::Some(#rt::scalar::concat(&[#(&*#vars),*])),
                _ => ::core::option::Option::None,
            })
        },
        "string",
        Nulls::Strict,
        "the strings joined (NULL if any is NULL); other types as their string form",
        "concat(word, '-', n)",
    ),
    entry(
        &["substring", "substr"],
        |args| match args {
            [(_, ColTy::String), (_, ColTy::Long)] | [(_, ColTy::String), (_, ColTy::Long), (_, ColTy::Long)] => {
                Ok(ColTy::String)
            }
            _ => Err(None),
        },
        |a, _| {
            let rt = rt();
            let (s, pos) = (&a[0], &a[1]);
            match a.get(2) {
                Some(len) => quote!(match (#s, #pos, #len) {
                    (::core::option::Option::Some(s), ::core::option::Option::Some(p), ::core::option::Option::Some(l)) => ::core::option::Option::Some(#rt::scalar::narrow(s, |t| #rt::scalar::substring(t, p, ::core::option::Option::Some(l)))),
                    _ => ::core::option::Option::None,
                }),
                None => quote!(match (#s, #pos) {
                    (::core::option::Option::Some(s), ::core::option::Option::Some(p)) => ::core::option::Option::Some(#rt::scalar::narrow(s, |t| #rt::scalar::substring(t, p, ::core::option::Option::None))),
                    _ => ::core::option::Option::None,
                }),
            }
        },
        "string",
        Nulls::Strict,
        "`substring(s, pos[, len])`: the characters from `pos` (1-based; negative: from the end), `len` of them or to the end",
        "substring(word, 2, 3)",
    ),
    entry(
        &["year"],
        of_date,
        |a, t| ymd_part(a, t, quote!(y)),
        "int",
        Nulls::Strict,
        "the year of a date or timestamp (UTC)",
        "year(timestamp)",
    ),
    entry(
        &["month"],
        of_date,
        |a, t| ymd_part(a, t, quote!(m)),
        "int",
        Nulls::Strict,
        "the month (1–12) of a date or timestamp",
        "month(timestamp)",
    ),
    entry(
        &["dayofmonth", "day"],
        of_date,
        |a, t| ymd_part(a, t, quote!(day)),
        "int",
        Nulls::Strict,
        "the day of the month of a date or timestamp",
        "dayofmonth(timestamp)",
    ),
    entry(
        &["dayofweek"],
        of_date,
        |a, t| {
            let d = date_arg(&a[0], t[0]);
            // 1 = Sunday ... 7 = Saturday; 1970-01-01 was a Thursday (5).
            quote!((#d).map(|d| ((i64::from(d.0) + 4).rem_euclid(7) + 1) as i32))
        },
        "int",
        Nulls::Strict,
        "the day of the week of a date or timestamp, 1 = Sunday to 7 = Saturday",
        "dayofweek(timestamp)",
    ),
    entry(
        &["date_add"],
        date_and_days,
        |a, t| shifted(a, t, false),
        "date",
        Nulls::Strict,
        "the date `n` days after a date (or a timestamp's date)",
        "date_add(day, 7)",
    ),
    entry(
        &["date_sub"],
        date_and_days,
        |a, t| shifted(a, t, true),
        "date",
        Nulls::Strict,
        "the date `n` days before a date (or a timestamp's date)",
        "date_sub(day, 1)",
    ),
    entry(
        &["datediff"],
        |args| match args {
            [(_, ColTy::Date | ColTy::Timestamp), (_, ColTy::Date | ColTy::Timestamp)] => Ok(ColTy::Int),
            _ => Err(None),
        },
        |a, t| {
            let rt = rt();
            let (x, y) = (date_arg(&a[0], t[0]), date_arg(&a[1], t[1]));
            quote!(match (#x, #y) {
                (::core::option::Option::Some(x), ::core::option::Option::Some(y)) => ::core::option::Option::Some(#rt::scalar::datediff(x, y) as i32),
                _ => ::core::option::Option::None,
            })
        },
        "int",
        Nulls::Strict,
        "`datediff(end, start)`: the days from `start` to `end`",
        "datediff(to_date(timestamp), day)",
    ),
    entry(
        &["date_format"],
        |args| match args {
            [(_, ColTy::Timestamp | ColTy::Date), (p, ColTy::String)] => pattern_ok(p).map(|()| ColTy::String),
            _ => Err(None),
        },
        |a, t| {
            let rt = rt();
            let x = as_timestamp(&a[0], t[0]);
            let p = &a[1];
            quote!(match (#x, #p) {
                (::core::option::Option::Some(t), ::core::option::Option::Some(p)) => #rt::scalar::format_timestamp(t, &p).ok().map(::std::borrow::Cow::<str>::Owned),
                _ => ::core::option::Option::None,
            })
        },
        "string",
        Nulls::Strict,
        "a timestamp (or date) as text in a Java `DateTimeFormatter` pattern (letters y M d D Q H h k K m s S a E)",
        "date_format(timestamp, 'yyyy-MM-dd HH:mm')",
    ),
    entry(
        &["from_unixtime"],
        |args| match args {
            [(_, ColTy::Long)] => Ok(ColTy::String),
            [(_, ColTy::Long), (p, ColTy::String)] => pattern_ok(p).map(|()| ColTy::String),
            _ => Err(None),
        },
        |a, _| {
            let rt = rt();
            let n = &a[0];
            let p = a.get(1).cloned().unwrap_or_else(|| {
                quote!(::core::option::Option::Some(::std::borrow::Cow::<str>::Borrowed("yyyy-MM-dd HH:mm:ss")))
            });
            quote!(match (#rt::cast::long_to_timestamp(#n, ::core::option::Option::None), #p) {
                (::core::option::Option::Some(t), ::core::option::Option::Some(p)) => #rt::scalar::format_timestamp(t, &p).ok().map(::std::borrow::Cow::<str>::Owned),
                _ => ::core::option::Option::None,
            })
        },
        "string",
        Nulls::Strict,
        "seconds since the epoch as text, `yyyy-MM-dd HH:mm:ss` or a given pattern (UTC)",
        "from_unixtime(n)",
    ),
    entry(
        &["to_timestamp"],
        |args| match args {
            [(_, ColTy::String | ColTy::Timestamp | ColTy::Date)] => Ok(ColTy::Timestamp),
            [(_, ColTy::String), (p, ColTy::String)] => pattern_ok(p).map(|()| ColTy::Timestamp),
            _ => Err(None),
        },
        // One argument: the checker casts (`to_timestamp(s)` is `CAST(s AS TIMESTAMP)`).
        |a, _| match a {
            [s, p] => parse_with(s, p),
            [x] => quote!(#x),
            _ => quote!(::core::option::Option::None),
        },
        "timestamp",
        Nulls::Strict,
        "a string as a timestamp: as a cast, or `to_timestamp(s, pattern)` with a Java pattern; text that does not parse fails the batch (ANSI); a number is cast (seconds since the epoch), a boolean parsed as its text, a date or timestamp taken as it is (with any pattern)",
        "to_timestamp(word, 'dd/MM/yyyy HH:mm')",
    ),
    entry(
        &["unix_timestamp"],
        |args| match args {
            [(_, ColTy::Timestamp | ColTy::Date)] => Ok(ColTy::Long),
            _ => Err(None),
        },
        |a, t| {
            let rt = rt();
            let x = as_timestamp(&a[0], t[0]);
            quote!(#rt::cast::timestamp_to_long(#x))
        },
        "bigint",
        Nulls::Strict,
        "a timestamp (or a date's midnight) as whole seconds since the epoch",
        "unix_timestamp(timestamp)",
    ),
    entry(
        &["hour"],
        of_timestamp,
        |a, _| hms_part(a, quote!(h)),
        "int",
        Nulls::Strict,
        "the hour (0–23, UTC) of a timestamp",
        "hour(timestamp)",
    ),
    entry(
        &["minute"],
        of_timestamp,
        |a, _| hms_part(a, quote!(mi)),
        "int",
        Nulls::Strict,
        "the minute of a timestamp",
        "minute(timestamp)",
    ),
    entry(
        &["second"],
        of_timestamp,
        |a, _| hms_part(a, quote!(s)),
        "int",
        Nulls::Strict,
        "the second of a timestamp",
        "second(timestamp)",
    ),
];
