//! Spark SQL's string and math functions beyond the core: `replace`, `lpad`/`rpad`, `instr`,
//! `locate`, `initcap`, `reverse`, `repeat`, `left`/`right`, `sqrt`, `exp`, `ln`, `log10`,
//! `sign`, `pow`, `greatest`/`least`, `pmod`, `bround`, `log`, `concat_ws`: one [`ScalarFn`]
//! each.

use super::library::{entry, rt, same};
use super::scalar::ScalarFn;
use super::types::{Args, Nulls, SigError};
use crate::table::ty::ColTy;
use proc_macro2::TokenStream;
use quote::quote;

/// The query's failure slot (`cast_failure`, declared by the query's code when an expression
/// can fail the batch): ANSI arithmetic records Spark's error in it.
fn failure() -> proc_macro2::Ident {
    proc_macro2::Ident::new("cast_failure", proc_macro2::Span::mixed_site())
}

/// `(s, len[, pad])` → string, for `lpad` and `rpad`.
fn pad_sig(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::String), (_, ColTy::Long)] | [(_, ColTy::String), (_, ColTy::Long), (_, ColTy::String)] => {
            Ok(ColTy::String)
        }
        _ => Err(None),
    }
}

fn pad_code(a: &[TokenStream], left: bool) -> TokenStream {
    let rt = rt();
    let (s, n) = (&a[0], &a[1]);
    let p = a
        .get(2)
        .cloned()
        .unwrap_or_else(|| quote!(::core::option::Option::Some(::std::borrow::Cow::<str>::Borrowed(" "))));
    quote!(match (#s, #n, #p) {
        (::core::option::Option::Some(s), ::core::option::Option::Some(n), ::core::option::Option::Some(p)) => ::core::option::Option::Some(::std::borrow::Cow::<str>::Owned(#rt::scalar::pad(&s, n, &p, #left))),
        _ => ::core::option::Option::None,
    })
}

/// `(number)` → double.
fn to_double(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, t)] if t.numeric() => Ok(ColTy::Double),
        _ => Err(None),
    }
}

/// `f(v)` of a number as a double (`v` bound to the value as `f64`).
fn unary_double(a: &[TokenStream], body: TokenStream) -> TokenStream {
    let x = &a[0];
    quote!((#x).map(|v| { let v = v as f64; #body }))
}

/// `greatest` (`>`) or `least` (`<`): the best of the non-NULL arguments.
fn extreme_of(a: &[TokenStream], better: TokenStream) -> TokenStream {
    let mut code = quote!(::core::option::Option::None);
    for x in a {
        code = quote!(match (#code, #x) {
            (::core::option::Option::Some(b), ::core::option::Option::Some(v)) => ::core::option::Option::Some(if v #better b { v } else { b }),
            (b, v) => b.or(v),
        });
    }
    code
}

/// `left(s, n)` (`first`) or `right(s, n)`: `n` characters from one end, borrowed from `s`
/// when it borrows; `''` for `n <= 0`.
fn end_chars(a: &[TokenStream], first: bool) -> TokenStream {
    let rt = rt();
    let (s, n) = (&a[0], &a[1]);
    let pos = if first { quote!(1) } else { quote!(-n) };
    quote!(match (#s, #n) {
        (::core::option::Option::Some(s), ::core::option::Option::Some(n)) => ::core::option::Option::Some(if n <= 0 {
            ::std::borrow::Cow::Borrowed("")
        } else {
            #rt::scalar::narrow(s, |t| #rt::scalar::substring(t, #pos, ::core::option::Option::Some(n)))
        }),
        _ => ::core::option::Option::None,
    })
}

/// `ln` or `log10` (the `f64` method): NULL at or below 0, as Spark.
fn logarithm(a: &[TokenStream], method: TokenStream) -> TokenStream {
    let x = &a[0];
    quote!((#x).and_then(|v| { let v = v as f64; (v > 0.0).then(|| v.#method()) }))
}

/// The functions of this file, in the order the reference lists them.
/// `format_string(pattern, args...)`: the pattern a literal that the runtime formats, each
/// argument of a type its conversions take (Java's `IllegalFormatConversionException` becomes a
/// compile error).
fn format_sig(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    let Some(((pattern, pt), rest)) = args.split_first() else { return Err(None) };
    let crate::table::expr::Expr::Str(p) = pattern else {
        return if *pt == ColTy::String {
            Err(Some(SigError::new("streamc takes the pattern of `format_string` as a string literal")))
        } else {
            Err(None)
        };
    };
    let uses = streamc_format_check(p).map_err(|e| Some(SigError::new(e)))?;
    if uses.len() > rest.len() {
        return Err(Some(SigError::new(format!(
            "'{p}' formats {} arguments, and `format_string` has {}",
            uses.len(),
            rest.len()
        ))));
    }
    for (k, convs) in uses.iter().enumerate() {
        let (x, t) = rest[k];
        for &c in convs {
            let ok = match c {
                's' | 'S' | 'b' => !t.nested(),
                // Spark passes a timestamp as its microseconds, a date as its days.
                'd' | 'x' | 'X' | 'o' => matches!(t, ColTy::Long | ColTy::Timestamp | ColTy::Date),
                'f' | 'e' | 'E' => t == ColTy::Double,
                // `%c` takes Java's `Integer`, which streamc's columns (`bigint`) are not.
                _ => false,
            };
            if !ok {
                return Err(Some(SigError::new(format!(
                    "`%{c}` in '{p}' does not format `{x}` of type {} (Java's IllegalFormatConversionException)",
                    t.sql()
                ))));
            }
        }
    }
    Ok(ColTy::String)
}

/// The runtime's pattern check, here at compile time (the same parser; `streamc` does not link
/// the runtime, so this is a copy of its grammar's outline: conversions and `n$` indices).
fn streamc_format_check(p: &str) -> Result<Vec<Vec<char>>, String> {
    let mut uses: Vec<Vec<char>> = Vec::new();
    let mut next = 0;
    let mut rest = p;
    while let Some(at) = rest.find('%') {
        let spec = &rest[at + 1..];
        let end = spec
            .find(|c: char| c.is_ascii_alphabetic() || c == '%')
            .ok_or_else(|| format!("'{p}' ends inside a conversion"))?;
        let conv = spec[end..].chars().next().unwrap_or('%');
        rest = &spec[end + conv.len_utf8()..];
        if conv == '%' || conv == 'n' {
            continue;
        }
        if !"sSdxXofeEb".contains(conv) {
            return Err(format!("the conversion `%{conv}` in '{p}' is not supported by streamc yet"));
        }
        let flags = &spec[..end];
        let k = match flags.split_once('$') {
            Some((n, _)) => {
                n.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| format!("bad argument index in '{p}'"))? - 1
            }
            None => {
                next += 1;
                next - 1
            }
        };
        if !flags.chars().all(|c| c.is_ascii_digit() || "$-0+ ,.".contains(c)) {
            return Err(format!("the flags `{flags}` in '{p}' are not supported by streamc yet"));
        }
        if uses.len() <= k {
            uses.resize(k + 1, Vec::new());
        }
        uses[k].push(conv);
    }
    Ok(uses)
}

fn format_code(a: &[TokenStream], t: &[Option<ColTy>]) -> TokenStream {
    let rt = rt();
    let Some((pattern, args)) = a.split_first() else { return quote!(::core::option::Option::None) };
    let mut binds = TokenStream::new();
    let mut items = Vec::new();
    for (k, (x, ty)) in args.iter().zip(&t[1..]).enumerate() {
        let v = proc_macro2::Ident::new(&format!("fmt_arg{k}"), proc_macro2::Span::mixed_site());
        let arg = quote!(#rt::format::Arg);
        let (bind, item) = match ty {
            Some(ColTy::String) => (
                quote!(let #v = #x;),
                quote!(match &#v { ::core::option::Option::Some(s) => #arg::Str(s), ::core::option::Option::None => #arg::Null }),
            ),
            Some(ColTy::Long) => (quote!(let #v = #x;), quote!(#v.map_or(#arg::Null, #arg::Long))),
            Some(ColTy::Double) => (quote!(let #v = #x;), quote!(#v.map_or(#arg::Null, #arg::Double))),
            Some(ColTy::Bool) => (quote!(let #v = #x;), quote!(#v.map_or(#arg::Null, #arg::Bool))),
            // Spark passes a timestamp as its microseconds and a date as its days.
            Some(ColTy::Timestamp) => (quote!(let #v = #x;), quote!(#v.map_or(#arg::Null, |t| #arg::Long(t.0)))),
            Some(ColTy::Date) => (quote!(let #v = #x;), quote!(#v.map_or(#arg::Null, |d| #arg::Long(i64::from(d.0))))),
            _ => (quote!(let #v = ::core::option::Option::None::<()>;), quote!(#arg::Null)),
        };
        binds.extend(bind);
        items.push(item);
    }
    // The pattern is a literal (`format_sig`): parsed once per process.
    quote!({
        #binds
        static PATTERN: ::std::sync::OnceLock<::core::option::Option<#rt::format::Pattern>> = ::std::sync::OnceLock::new();
        PATTERN
            .get_or_init(|| (#pattern).and_then(|p| #rt::format::Pattern::parse(&p)))
            .as_ref()
            .and_then(|p| p.format(&[#(#items),*]).map(::std::borrow::Cow::<'_, str>::Owned))
    })
}

pub static STRINGS_MATH: &[ScalarFn] = &[
    entry(
        &["format_string", "printf"],
        format_sig,
        format_code,
        "string",
        Nulls::Handled,
        "Java's `String.format` of the arguments (`%s %d %x %o %f %e %b %%`, flags `-0+ ,`, widths, precisions, `n$`); a NULL argument prints `null`; a timestamp is its microseconds and a date its days, as Spark passes them",
        "format_string('%s has %05d', word, n)",
    ),
    entry(
        &["replace"],
        |args| match args {
            [(_, ColTy::String), (_, ColTy::String)] | [(_, ColTy::String), (_, ColTy::String), (_, ColTy::String)] => {
                Ok(ColTy::String)
            }
            _ => Err(None),
        },
        |a, _| {
            let (s, f) = (&a[0], &a[1]);
            let r = a
                .get(2)
                .cloned()
                .unwrap_or_else(|| quote!(::core::option::Option::Some(::std::borrow::Cow::<str>::Borrowed(""))));
            quote!(match (#s, #f, #r) {
                (::core::option::Option::Some(s), ::core::option::Option::Some(f), ::core::option::Option::Some(r)) => ::core::option::Option::Some(if f.is_empty() { s } else { ::std::borrow::Cow::<str>::Owned(s.replace(&*f, &r)) }),
                _ => ::core::option::Option::None,
            })
        },
        "string",
        Nulls::Strict,
        "`replace(s, search[, replacement])`: every occurrence of `search` replaced (removed without a replacement)",
        "replace(word, 'a', 'A')",
    ),
    entry(
        &["lpad"],
        pad_sig,
        |a, _| pad_code(a, true),
        "string",
        Nulls::Strict,
        "`lpad(s, len[, pad])`: `s` padded on the left with `pad` (a space by default) to `len` characters, or cut to them",
        "lpad(word, 8, '.')",
    ),
    entry(
        &["rpad"],
        pad_sig,
        |a, _| pad_code(a, false),
        "string",
        Nulls::Strict,
        "`rpad(s, len[, pad])`: `s` padded on the right to `len` characters, or cut to them",
        "rpad(word, 8)",
    ),
    entry(
        &["instr"],
        |args| match args {
            [(_, ColTy::String), (_, ColTy::String)] => Ok(ColTy::Int),
            _ => Err(None),
        },
        |a, _| {
            let rt = rt();
            let (s, f) = (&a[0], &a[1]);
            quote!(match (#s, #f) {
                (::core::option::Option::Some(s), ::core::option::Option::Some(f)) => ::core::option::Option::Some(#rt::scalar::locate(&f, &s, 1) as i32),
                _ => ::core::option::Option::None,
            })
        },
        "int",
        Nulls::Strict,
        "`instr(s, sub)`: the 1-based character position of the first `sub` in `s`, 0 if none",
        "instr(word, 'o')",
    ),
    entry(
        &["locate", "position"],
        |args| match args {
            [(_, ColTy::String), (_, ColTy::String)] | [(_, ColTy::String), (_, ColTy::String), (_, ColTy::Long)] => {
                Ok(ColTy::Int)
            }
            _ => Err(None),
        },
        |a, _| {
            let rt = rt();
            let (f, s) = (&a[0], &a[1]);
            let p = a.get(2).cloned().unwrap_or_else(|| quote!(::core::option::Option::Some(1i64)));
            quote!(match (#f, #s, #p) {
                (::core::option::Option::Some(f), ::core::option::Option::Some(s), ::core::option::Option::Some(p)) => ::core::option::Option::Some(#rt::scalar::locate(&f, &s, p) as i32),
                _ => ::core::option::Option::None,
            })
        },
        "int",
        Nulls::Strict,
        "`locate(sub, s[, pos])`: the 1-based position of the first `sub` in `s` from `pos`, 0 if none",
        "locate('o', word)",
    ),
    entry(
        &["initcap"],
        |args| match args {
            [(_, ColTy::String)] => Ok(ColTy::String),
            _ => Err(None),
        },
        |a, _| {
            let rt = rt();
            let s = &a[0];
            quote!((#s).map(|s| ::std::borrow::Cow::<str>::Owned(#rt::scalar::initcap(&s))))
        },
        "string",
        Nulls::Strict,
        "each word (after a space) with its first letter in upper case and the rest in lower case",
        "initcap(word)",
    ),
    entry(
        &["reverse"],
        |args| match args {
            [(_, ColTy::String)] => Ok(ColTy::String),
            _ => Err(None),
        },
        |a, _| {
            let s = &a[0];
            quote!((#s).map(|s| ::std::borrow::Cow::<str>::Owned(s.chars().rev().collect())))
        },
        "string",
        Nulls::Strict,
        "the characters of a string in reverse order",
        "reverse(word)",
    ),
    entry(
        &["repeat"],
        |args| match args {
            [(_, ColTy::String), (_, ColTy::Long)] => Ok(ColTy::String),
            _ => Err(None),
        },
        |a, _| {
            let (s, n) = (&a[0], &a[1]);
            quote!(match (#s, #n) {
                (::core::option::Option::Some(s), ::core::option::Option::Some(n)) => ::core::option::Option::Some(::std::borrow::Cow::<str>::Owned(s.repeat(n.clamp(0, 1 << 20) as usize))),
                _ => ::core::option::Option::None,
            })
        },
        "string",
        Nulls::Strict,
        "`repeat(s, n)`: `s` repeated `n` times",
        "repeat(word, 2)",
    ),
    entry(
        &["left"],
        |args| match args {
            [(_, ColTy::String), (_, ColTy::Long)] => Ok(ColTy::String),
            _ => Err(None),
        },
        |a, _| end_chars(a, true),
        "string",
        Nulls::Strict,
        "`left(s, n)`: the first `n` characters",
        "left(word, 2)",
    ),
    entry(
        &["right"],
        |args| match args {
            [(_, ColTy::String), (_, ColTy::Long)] => Ok(ColTy::String),
            _ => Err(None),
        },
        |a, _| end_chars(a, false),
        "string",
        Nulls::Strict,
        "`right(s, n)`: the last `n` characters",
        "right(word, 2)",
    ),
    entry(
        &["sqrt"],
        to_double,
        |a, _| unary_double(a, quote!(v.sqrt())),
        "double",
        Nulls::Strict,
        "the square root (NaN below 0)",
        "sqrt(d)",
    ),
    entry(
        &["exp"],
        to_double,
        |a, _| unary_double(a, quote!(v.exp())),
        "double",
        Nulls::Strict,
        "e to the power of the number",
        "exp(d)",
    ),
    entry(
        &["ln"],
        to_double,
        |a, _| logarithm(a, quote!(ln)),
        "double",
        Nulls::Strict,
        "the natural logarithm (NULL at or below 0)",
        "ln(d)",
    ),
    entry(
        &["log10"],
        to_double,
        |a, _| logarithm(a, quote!(log10)),
        "double",
        Nulls::Strict,
        "the base-10 logarithm (NULL at or below 0)",
        "log10(d)",
    ),
    entry(
        &["sign", "signum"],
        to_double,
        |a, _| {
            unary_double(
                a,
                quote!(if v > 0.0 {
                    1.0
                } else if v < 0.0 {
                    -1.0
                } else {
                    0.0
                }),
            )
        },
        "double",
        Nulls::Strict,
        "-1.0, 0.0 or 1.0 by the number's sign",
        "sign(n)",
    ),
    entry(
        &["pow", "power"],
        |args| match args {
            [(_, a), (_, b)] if a.numeric() && b.numeric() => Ok(ColTy::Double),
            _ => Err(None),
        },
        |a, _| {
            let (x, y) = (&a[0], &a[1]);
            quote!(match (#x, #y) {
                (::core::option::Option::Some(x), ::core::option::Option::Some(y)) => ::core::option::Option::Some((x as f64).powf(y as f64)),
                _ => ::core::option::Option::None,
            })
        },
        "double",
        Nulls::Strict,
        "`pow(x, y)`: `x` to the power `y`",
        "pow(n, 2)",
    ),
    entry(
        &["pmod"],
        |args| match args {
            [(_, ColTy::Long), (_, ColTy::Long)] => Ok(ColTy::Long),
            [(_, a), (_, b)] if a.numeric() && b.numeric() => Ok(ColTy::Double),
            _ => Err(None),
        },
        |a, t| {
            let (rt, f, x, y) = (rt(), failure(), &a[0], &a[1]);
            let call = if t[0] == Some(ColTy::Long) && t[1] == Some(ColTy::Long) {
                quote!(#rt::arith::pmod(x, y, &#f))
            } else {
                quote!(#rt::arith::pmod_f64(x as f64, y as f64, &#f))
            };
            quote!(match (#x, #y) {
                (::core::option::Option::Some(x), ::core::option::Option::Some(y)) => #call,
                _ => ::core::option::Option::None,
            })
        },
        "bigint for two bigints, else double",
        Nulls::Strict,
        "`pmod(x, y)`: the positive remainder (`x % y`, plus `y` when negative); by zero fails the batch (ANSI)",
        "pmod(n, 7)",
    ),
    entry(
        &["div"],
        |args| match args {
            [(_, a), (_, b)] if a.integral() && b.integral() => Ok(ColTy::Long),
            [(_, a), (_, b)]
                if (a.integral() || matches!(a, ColTy::Decimal(..)))
                    && (b.integral() || matches!(b, ColTy::Decimal(..))) =>
            {
                Ok(ColTy::Long)
            }
            _ => Err(None),
        },
        |a, t| {
            let (rt, f, x, y) = (rt(), failure(), &a[0], &a[1]);
            if t.iter().any(|t| matches!(t, Some(ColTy::Decimal(..)))) {
                // A decimal side: its unscaled value and scale; an integer's scale is 0.
                let side = |t: Option<ColTy>, v: proc_macro2::TokenStream| match t {
                    Some(ColTy::Decimal(_, s)) => quote!(#v.0, #s),
                    _ => quote!(#v as i128, 0u8),
                };
                let (xs, ys) = (side(t[0], quote!(x)), side(t[1], quote!(y)));
                return quote!(match (#x, #y) {
                    (::core::option::Option::Some(x), ::core::option::Option::Some(y)) => #rt::arith::dec_div(#xs, #ys, &#f),
                    _ => ::core::option::Option::None,
                });
            }
            quote!(match (#x, #y) {
                (::core::option::Option::Some(x), ::core::option::Option::Some(y)) => #rt::arith::int_div(x as i64, y as i64, &#f),
                _ => ::core::option::Option::None,
            })
        },
        "bigint",
        Nulls::Strict,
        "`div(x, y)` (SQL's `x DIV y`): integral division of integers or decimals, truncated, as a bigint (a decimal quotient beyond a bigint keeps its low 64 bits, as Spark's); by zero fails the batch (ANSI)",
        "div(n, 2)",
    ),
    entry(
        &["bround"],
        |args| match args {
            [(_, t)] if t.numeric() => Ok(*t),
            [(_, t), (_, ColTy::Long)] if t.numeric() => Ok(*t),
            // A decimal as `round` types it (`codegen::table::expr` generates it).
            [(_, ColTy::Decimal(..)), ..] => super::library::round_decimal_sig(args),
            _ => Err(None),
        },
        |a, t| {
            let rt = rt();
            let x = &a[0];
            let scale = a.get(1).cloned().unwrap_or_else(|| quote!(::core::option::Option::Some(0i64)));
            let call = match t[0] {
                Some(ColTy::Long) => quote!(#rt::scalar::bround_long(v, s)),
                _ => quote!(::core::option::Option::Some(#rt::scalar::bround_double(v, s))),
            };
            quote!(match (#x, #scale) {
                (::core::option::Option::Some(v), ::core::option::Option::Some(s)) => #call,
                _ => ::core::option::Option::None,
            })
        },
        "the argument's type",
        Nulls::Strict,
        "`bround(x[, scale])`: rounded half to even (banker's rounding) to `scale` decimals",
        "bround(d, 1)",
    ),
    entry(
        &["log"],
        |args| match args {
            [(_, t)] if t.numeric() => Ok(ColTy::Double),
            [(_, b), (_, t)] if b.numeric() && t.numeric() => Ok(ColTy::Double),
            _ => Err(None),
        },
        |a, _| match a {
            [x] => logarithm(std::slice::from_ref(x), quote!(ln)),
            _ => {
                let (b, x) = (&a[0], &a[1]);
                quote!(match (#b, #x) {
                    (::core::option::Option::Some(b), ::core::option::Option::Some(x)) if (b as f64) > 0.0 && (x as f64) > 0.0 => ::core::option::Option::Some((x as f64).ln() / (b as f64).ln()),
                    _ => ::core::option::Option::None,
                })
            }
        },
        "double",
        Nulls::Strict,
        "`log(base, x)`: the logarithm of `x` to `base`; `log(x)`: the natural logarithm (NULL at or below 0)",
        "log(2, n)",
    ),
    entry(
        &["concat_ws"],
        |args| match args {
            [(_, ColTy::String), rest @ ..] if rest.iter().all(|(_, t)| *t == ColTy::String) => Ok(ColTy::String),
            _ => Err(None),
        },
        |a, _| {
            let rt = rt();
            let (sep, parts) = (&a[0], &a[1..]);
            let vars: Vec<proc_macro2::Ident> = (0..parts.len())
                .map(|i| proc_macro2::Ident::new(&format!("part{i}"), proc_macro2::Span::mixed_site()))
                .collect();
            quote!(match #sep {
                ::core::option::Option::Some(sep) => {
                    #( let #vars = #parts; )*
                    ::core::option::Option::Some(::std::borrow::Cow::<str>::Owned(#rt::scalar::concat_ws(&sep, &[#(#vars.as_deref()),*])))
                }
                ::core::option::Option::None => ::core::option::Option::None,
            })
        },
        "string",
        Nulls::Skipped,
        "`concat_ws(sep, s...)`: the strings joined by `sep`, NULLs skipped (NULL when `sep` is)",
        "concat_ws('-', word, 'x')",
    ),
    entry(
        &["greatest"],
        |args| if args.len() >= 2 { same(args).filter(|t| *t != ColTy::Bool).ok_or(None) } else { Err(None) },
        |a, _| extreme_of(a, quote!(>)),
        "the arguments' type",
        Nulls::Skipped,
        "the largest argument, NULLs skipped (NULL if all are)",
        "greatest(n, 3)",
    ),
    entry(
        &["least"],
        |args| if args.len() >= 2 { same(args).filter(|t| *t != ColTy::Bool).ok_or(None) } else { Err(None) },
        |a, _| extreme_of(a, quote!(<)),
        "the arguments' type",
        Nulls::Skipped,
        "the smallest argument, NULLs skipped (NULL if all are)",
        "least(n, 3)",
    ),
    try_entry(
        &["try_add"],
        "`try_add(x, y)`: `x + y`, NULL where it overflows (integers of one type keep it)",
        "try_add(n, 1)",
        |a, t| try_arith(a, t, quote!(checked_add), quote!(+)),
    ),
    try_entry(
        &["try_subtract"],
        "`try_subtract(x, y)`: `x - y`, NULL where it overflows",
        "try_subtract(n, 1)",
        |a, t| try_arith(a, t, quote!(checked_sub), quote!(-)),
    ),
    try_entry(
        &["try_multiply"],
        "`try_multiply(x, y)`: `x * y`, NULL where it overflows",
        "try_multiply(n, 2)",
        |a, t| try_arith(a, t, quote!(checked_mul), quote!(*)),
    ),
    entry(
        &["try_divide"],
        |args| match args {
            [(_, ColTy::Double), (_, ColTy::Double)] => Ok(ColTy::Double),
            _ => Err(None),
        },
        |a, _| {
            let (x, y) = (&a[0], &a[1]);
            quote!(match (#x, #y) {
                (::core::option::Option::Some(x), ::core::option::Option::Some(y)) if y != 0.0 => ::core::option::Option::Some(x / y),
                _ => ::core::option::Option::None,
            })
        },
        "double",
        Nulls::Strict,
        "`try_divide(x, y)`: `x / y` as a double, NULL when `y` is 0",
        "try_divide(n, 2)",
    ),
];

/// `try_add`, `try_subtract`, `try_multiply`: `(x, y)` of one integer type (that type, NULL on
/// overflow, as Spark's) or of doubles or floats.
const fn try_entry(
    names: &'static [&'static str],
    doc: &'static str,
    example: &'static str,
    codegen: super::scalar::Codegen,
) -> ScalarFn {
    entry(
        names,
        |args| match args {
            [(_, a), (_, b)] if a == b && (a.integral() || matches!(a, ColTy::Float | ColTy::Double)) => Ok(*a),
            _ => Err(None),
        },
        codegen,
        "the arguments' type, when it is one",
        Nulls::Strict,
        doc,
        example,
    )
}

/// `x op y` of the arguments' type: checked for integers (NULL on overflow), plain for floats.
fn try_arith(a: &[TokenStream], t: &[Option<ColTy>], checked: TokenStream, plain: TokenStream) -> TokenStream {
    let (x, y) = (&a[0], &a[1]);
    let ty = t[0].unwrap_or(ColTy::Long);
    let rust = super::types::rust_ty(ty);
    let op =
        if ty.integral() { quote!(<#rust>::#checked(x, y)) } else { quote!(::core::option::Option::Some(x #plain y)) };
    quote!(match (#x, #y) {
        (::core::option::Option::Some(x), ::core::option::Option::Some(y)) => #op,
        _ => ::core::option::Option::None,
    })
}
