//! Spark SQL's functions of `binary` values, of types and of floating-point special values:
//! `hex`, `unhex`, `base64`, `unbase64`, `to_binary`, `try_to_binary`, `octet_length`,
//! `bit_length`, `typeof`, `isnan`: one [`ScalarFn`] each.

use super::library::{entry, rt};
use super::scalar::ScalarFn;
use super::types::{Args, Nulls, SigError};
use crate::table::expr::Expr;
use crate::table::ty::ColTy;
use quote::quote;

pub static BINARY: &[ScalarFn] = &[
    entry(
        &["hex"],
        |args| match args {
            [(_, ColTy::Long | ColTy::String | ColTy::Binary)] => Ok(ColTy::String),
            _ => Err(None),
        },
        |a, t| {
            let (rt, x) = (rt(), &a[0]);
            match t[0] {
                // A bigint as Java's `Long.toHexString`, uppercase (two's complement when
                // negative).
                Some(ColTy::Long) => quote!((#x).map(|v: i64| ::std::borrow::Cow::Owned(::std::format!("{:X}", v)))),
                Some(ColTy::Binary) => quote!((#x).map(|b| ::std::borrow::Cow::Owned(b.hex()))),
                _ => quote!((#x).map(|s| ::std::borrow::Cow::Owned(#rt::binary::Binary::of_str(&s).hex()))),
            }
        },
        "string",
        Nulls::Strict,
        "`hex(x)`: a bigint's hex digits, or a string's or binary's bytes as hex, uppercase",
        "hex(n)",
    ),
    entry(
        &["base64"],
        |args| match args {
            [(_, ColTy::Binary | ColTy::String)] => Ok(ColTy::String),
            _ => Err(None),
        },
        |a, t| {
            let (rt, x) = (rt(), &a[0]);
            match t[0] {
                Some(ColTy::Binary) => quote!((#x).map(|b| ::std::borrow::Cow::Owned(b.base64()))),
                _ => quote!((#x).map(|s| ::std::borrow::Cow::Owned(#rt::binary::Binary::of_str(&s).base64()))),
            }
        },
        "string",
        Nulls::Strict,
        "`base64(b)`: the bytes of a binary (or a string's UTF-8) as base64 with padding",
        "base64(word)",
    ),
    entry(
        &["unbase64"],
        |args| match args {
            [(_, ColTy::String)] => Ok(ColTy::Binary),
            _ => Err(None),
        },
        |a, _| {
            let (rt, x) = (rt(), &a[0]);
            let f = proc_macro2::Ident::new("cast_failure", proc_macro2::Span::mixed_site());
            quote!((#x).and_then(|s| #rt::binary::unbase64_or_fail(&s, &#f)))
        },
        "binary",
        Nulls::Strict,
        "`unbase64(s)`: base64 text as a binary (Java's MIME decoder: other characters skipped, padding optional); a malformed last unit fails the batch",
        "unbase64(word)",
    ),
    entry(
        &["unhex"],
        |args| match args {
            [(_, ColTy::String)] => Ok(ColTy::Binary),
            _ => Err(None),
        },
        |a, _| {
            let (rt, x) = (rt(), &a[0]);
            quote!((#x).and_then(|s| #rt::binary::unhex(&s)))
        },
        "binary",
        Nulls::Strict,
        "`unhex(s)`: hex digits as bytes (an odd count reads as if it began with `0`); NULL if a character is not a hex digit. SQL's `X'4869'` is `unhex('4869')`",
        "unhex('4869')",
    ),
    entry(
        &["to_binary"],
        |args| to_binary_sig(args, false),
        |a, _| to_binary_code(a, true),
        "binary",
        Nulls::Strict,
        "`to_binary(s[, format])`: text as bytes by `format`, `'hex'` (the default), `'utf-8'` or `'base64'`; malformed text fails the batch (Spark's CONVERSION_INVALID_INPUT)",
        "to_binary(word, 'utf-8')",
    ),
    entry(
        &["try_to_binary"],
        |args| to_binary_sig(args, true),
        |a, _| to_binary_code(a, false),
        "binary",
        Nulls::Strict,
        "`try_to_binary(s[, format])`: `to_binary`, NULL where it would fail (and for an unknown format)",
        "try_to_binary(word, 'hex')",
    ),
    entry(
        &["encode"],
        |args| charset_sig(args, "encode", ColTy::String, ColTy::Binary),
        |a, _| charset_code(a, quote!(encode), quote!(&x), false),
        "binary",
        Nulls::Strict,
        "`encode(s, charset)`: text as bytes in one of Spark's charsets (`utf-8`, `utf-16`, `utf-16be`, `utf-16le`, `utf-32`, `iso-8859-1`, `us-ascii`); a character the charset lacks fails the batch (MALFORMED_CHARACTER_CODING)",
        "encode(word, 'utf-16le')",
    ),
    entry(
        &["decode"],
        |args| charset_sig(args, "decode", ColTy::Binary, ColTy::String),
        |a, t| match t[0] {
            Some(ColTy::Binary) => charset_code(a, quote!(decode), quote!(&x.0), true),
            _ => charset_code(a, quote!(decode), quote!(x.as_bytes()), true),
        },
        "string",
        Nulls::Strict,
        "`decode(b, charset)`: bytes as text in one of `encode`'s charsets (a byte-order mark read for `utf-16` and `utf-32`); bytes that are not text in it fail the batch. `decode(x, search, result, ..., default)` is Spark's other `decode`: the result of the first search equal to `x` (NULL matching NULL)",
        "decode(encode(word, 'utf-16'), 'utf-16')",
    ),
    entry(
        &["octet_length"],
        byte_length_sig,
        |a, t| byte_length(a, t, 1),
        "int",
        Nulls::Strict,
        "`octet_length(x)`: the number of bytes of a string (UTF-8) or binary",
        "octet_length(word)",
    ),
    entry(
        &["bit_length"],
        byte_length_sig,
        |a, t| byte_length(a, t, 8),
        "int",
        Nulls::Strict,
        "`bit_length(x)`: the number of bits of a string (UTF-8) or binary",
        "bit_length(word)",
    ),
    entry(
        &["typeof"],
        |args| match args {
            [_] => Ok(ColTy::String),
            _ => Err(None),
        },
        |_, t| {
            let name = t[0].map_or("void", ColTy::sql);
            quote!(::core::option::Option::Some(::std::borrow::Cow::Borrowed(#name)))
        },
        "string",
        Nulls::Handled,
        "`typeof(x)`: the SQL type of `x` as Spark names it (`int`, `array<string>`); never NULL",
        "typeof(n + 1)",
    ),
    entry(
        &["isnan"],
        |args| match args {
            [(_, ColTy::Double)] => Ok(ColTy::Bool),
            _ => Err(None),
        },
        |a, _| {
            let x = &a[0];
            // Spark's `isnan` is false for NULL, never NULL.
            quote!(::core::option::Option::Some((#x).is_some_and(|v: f64| v.is_nan())))
        },
        "boolean",
        Nulls::Handled,
        "`isnan(x)`: whether a double (or float) is NaN; false for NULL",
        "isnan(d)",
    ),
];

/// `to_binary(s[, format])`: the format a string literal of Spark's; with `lenient`
/// (`try_to_binary`) an unknown format is NULL rather than an error.
fn to_binary_sig(args: Args<'_>, lenient: bool) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::String)] => Ok(ColTy::Binary),
        [(_, ColTy::String), (Expr::Str(f), _)] => {
            let known = matches!(f.to_ascii_lowercase().as_str(), "hex" | "utf-8" | "utf8" | "base64");
            if known || lenient {
                Ok(ColTy::Binary)
            } else {
                Err(Some(SigError::new(format!(
                    "[DATATYPE_MISMATCH.INVALID_ARG_VALUE] The fmt value must to be a case-insensitive \"STRING\" literal of 'hex', 'utf-8', 'utf8', or 'base64', but got '{f}'."
                ))))
            }
        }
        [(_, ColTy::String), (_, ColTy::String)] => {
            Err(Some(SigError::new("the format of `to_binary` is a string literal: 'hex', 'utf-8' or 'base64'")))
        }
        _ => Err(None),
    }
}

/// `to_binary` (`strict`: malformed text fails the batch) or `try_to_binary`.
fn to_binary_code(a: &[proc_macro2::TokenStream], strict: bool) -> proc_macro2::TokenStream {
    let (rt, x) = (rt(), &a[0]);
    let failure = if strict {
        let f = proc_macro2::Ident::new("cast_failure", proc_macro2::Span::mixed_site());
        quote!(::core::option::Option::Some(&#f))
    } else {
        quote!(::core::option::Option::None)
    };
    let format = match a.get(1) {
        Some(f) => quote!(#f),
        None => quote!(::core::option::Option::Some("hex")),
    };
    quote!({
        let format = #format;
        match (#x, format) {
            (::core::option::Option::Some(s), ::core::option::Option::Some(f)) => #rt::binary::to_binary(&s, &f, #failure),
            _ => ::core::option::Option::None,
        }
    })
}

/// `octet_length` and `bit_length`: of a string or a binary, an int.
fn byte_length_sig(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::String | ColTy::Binary)] => Ok(ColTy::Int),
        _ => Err(None),
    }
}

/// The length of a string's UTF-8 or a binary's bytes, times `unit`.
fn byte_length(a: &[proc_macro2::TokenStream], t: &[Option<ColTy>], unit: i32) -> proc_macro2::TokenStream {
    let x = &a[0];
    if t.first() == Some(&Some(ColTy::Binary)) {
        quote!((#x).map(|b| b.0.len() as i32 * #unit))
    } else {
        quote!((#x).map(|s| s.len() as i32 * #unit))
    }
}

/// Spark's charsets for `encode` and `decode`, as its message lists them (the runtime's
/// `structured::charset::CHARSETS` again: the compiler does not depend on the runtime).
const CHARSETS: &[&str] = &["iso-8859-1", "us-ascii", "utf-16", "utf-16be", "utf-16le", "utf-32", "utf-8"];

/// `encode(s, charset)` / `decode(b, charset)`: `input` (a string also for `decode`, whose
/// bytes are its UTF-8, as Spark casts it) and a charset, a literal of [`CHARSETS`] or a string
/// checked per row.
fn charset_sig(args: Args<'_>, function: &str, input: ColTy, out: ColTy) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, t), (c, ColTy::String)] if *t == input || *t == ColTy::String => match c {
            Expr::Str(name) if !CHARSETS.contains(&name.to_ascii_lowercase().as_str()) => {
                Err(Some(SigError::new(format!(
                    "[INVALID_PARAMETER_VALUE.CHARSET] The value of parameter(s) `charset` in `{function}` is invalid: expects one of the {}, but got {name}.",
                    CHARSETS.join(", ")
                ))))
            }
            _ => Ok(out),
        },
        _ => Err(None),
    }
}

/// Calls the runtime's `charset::function(input, c, failure)` (`input` made of `x`, the first
/// argument's value) when neither argument is NULL, its string made a `Cow` when `text`; a
/// failure fails the batch.
fn charset_code(
    a: &[proc_macro2::TokenStream],
    function: proc_macro2::TokenStream,
    input: proc_macro2::TokenStream,
    text: bool,
) -> proc_macro2::TokenStream {
    let (rt, x, c) = (rt(), &a[0], &a[1]);
    let failure = proc_macro2::Ident::new("cast_failure", proc_macro2::Span::mixed_site());
    let out = if text { quote!(.map(::std::borrow::Cow::<'_, str>::Owned)) } else { quote!() };
    quote!(match (#x, #c) {
        (::core::option::Option::Some(x), ::core::option::Option::Some(c)) => #rt::charset::#function(#input, &c, &#failure)#out,
        _ => ::core::option::Option::None,
    })
}
