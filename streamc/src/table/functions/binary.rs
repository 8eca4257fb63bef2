//! Spark SQL's functions of `binary` values, of types and of floating-point special values:
//! `hex`, `base64`, `unbase64`, `typeof`, `isnan`: one [`ScalarFn`] each.

use super::library::{entry, rt};
use super::scalar::ScalarFn;
use super::types::Nulls;
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
