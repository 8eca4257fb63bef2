//! `CAST` and `TRY_CAST` in generated code: between scalar types by Spark's ANSI rules, and of
//! nested values part by part (an array's elements, a map's keys and values, a struct's fields
//! by position), each part cast as a scalar would be. Where a cast fails, ANSI records Spark's
//! message in the query's `cast_failure` (the batch fails after its rows); `TRY_CAST` gives
//! NULL for that part alone, as Spark does, and casts the parts Spark's legacy rules take there
//! (a date to a number is NULL, an integer to binary its bytes).

use super::nested::lift;
use crate::table::expr::{BinOp, Expr, UnOp};
use crate::table::functions::{self, lower, struct_fields};
use crate::table::{Checked, ColTy, TStep};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// The cast of `code` (an expression of type `from`) to `to`; `literal`: the text of a string
/// literal, parsed once per process.
pub(super) fn cast(code: TokenStream, literal: Option<&str>, from: ColTy, to: ColTy, try_cast: bool) -> TokenStream {
    let rt = quote!(::streamc_runtime::structured);
    let failure = cast_failure();
    let fails =
        if try_cast { quote!(::core::option::Option::None) } else { quote!(::core::option::Option::Some(&#failure)) };
    match (from, to) {
        // The pairs only Spark's legacy rules take, which it follows for the parts of a nested
        // value under `TRY_CAST` (the checker lets them through nowhere else): a date to a
        // number or a boolean is NULL, a timestamp to a boolean whether it is the epoch, a
        // boolean to a timestamp one microsecond or none, an integer to binary its big-endian
        // bytes.
        (ColTy::Date, to) if to.number() || to == ColTy::Bool => {
            let t = functions::rust_ty(to);
            quote!({
                let _ = #code;
                ::core::option::Option::None::<#t>
            })
        }
        (ColTy::Timestamp, ColTy::Bool) => quote!((#code).map(|t: #rt::time::Timestamp| t.0 != 0)),
        (ColTy::Bool, ColTy::Timestamp) => quote!((#code).map(|b: bool| #rt::time::Timestamp(i64::from(b)))),
        (from, ColTy::Binary) if from.integral() => {
            let t = functions::rust_ty(from);
            quote!((#code).map(|v: #t| #rt::binary::Binary(v.to_be_bytes().to_vec())))
        }
        (ColTy::String, ColTy::Binary) => {
            quote!((#code).map(|s| #rt::binary::Binary::of_str(&s)))
        }
        (ColTy::Binary, ColTy::String) => {
            quote!((#code).map(|b| ::std::borrow::Cow::<'_, str>::Owned(b.into_text())))
        }
        // A decimal literal (`1.5`) is parsed once per process.
        (ColTy::String, ColTy::Decimal(..)) if literal.is_some() => {
            let ty = functions::rust_ty(to);
            let parse = decimal_cast(code, from, to, &quote!(::core::option::Option::None));
            quote!({
                static LITERAL: ::std::sync::OnceLock<::core::option::Option<#ty>> = ::std::sync::OnceLock::new();
                *LITERAL.get_or_init(|| #parse)
            })
        }
        (ColTy::String, ColTy::Decimal(..)) => decimal_cast(code, from, to, &fails),
        (ColTy::String, to) if try_cast => {
            let parse = match to {
                ColTy::Byte => quote!(#rt::cast::parse_byte),
                ColTy::Short => quote!(#rt::cast::parse_short),
                ColTy::Int => quote!(#rt::cast::parse_int),
                ColTy::Long => quote!(#rt::cast::parse_long),
                ColTy::Float => quote!(#rt::cast::parse_float),
                ColTy::Double => quote!(#rt::cast::parse_double),
                ColTy::Bool => quote!(#rt::cast::parse_bool),
                ColTy::Timestamp => quote!(#rt::time::parse_timestamp),
                ColTy::Date => quote!(#rt::time::parse_date),
                _ => return code,
            };
            quote!((#code).and_then(|s| #parse(&s)))
        }
        (ColTy::String, to) => {
            let (f, spark) = match to {
                ColTy::Byte => (quote!(string_to_byte), "TINYINT"),
                ColTy::Short => (quote!(string_to_short), "SMALLINT"),
                ColTy::Int => (quote!(string_to_int), "INT"),
                ColTy::Long => (quote!(string_to_long), "BIGINT"),
                ColTy::Float => (quote!(string_to_float), "FLOAT"),
                ColTy::Double => (quote!(string_to_double), "DOUBLE"),
                ColTy::Bool => (quote!(string_to_bool), "BOOLEAN"),
                ColTy::Timestamp => (quote!(string_to_timestamp), "TIMESTAMP"),
                ColTy::Date => (quote!(string_to_date), "DATE"),
                _ => return code,
            };
            let ty = functions::rust_ty(to);
            match literal {
                Some(s) => quote!({
                    static LITERAL: ::std::sync::OnceLock<::core::option::Option<#ty>> = ::std::sync::OnceLock::new();
                    match *LITERAL.get_or_init(|| #rt::cast::#f(::core::option::Option::Some(::std::borrow::Cow::Borrowed(#s)), &#rt::cast::CastFailure::new())) {
                        ::core::option::Option::Some(v) => ::core::option::Option::Some(v),
                        ::core::option::Option::None => { #failure.invalid(#s, #spark); ::core::option::Option::None }
                    }
                }),
                _ => quote!(#rt::cast::#f(#code, &#failure)),
            }
        }
        (ColTy::Decimal(..), ColTy::Timestamp) => quote!(#rt::decimal::to_timestamp(#code)),
        (ColTy::Double, ColTy::Long) => quote!(#rt::cast::double_to_long(#code, #fails)),
        (from, to) if matches!(from, ColTy::Decimal(..)) || matches!(to, ColTy::Decimal(..)) => {
            decimal_cast(code, from, to, &fails)
        }
        (from, to) if from.number() && to.number() => numeric_cast(code, from, to, &fails),
        (from, ColTy::Bool) if from.number() => {
            let (t, zero) = (functions::rust_ty(from), zero(from));
            quote!((#code).map(|v: #t| v != #zero))
        }
        (ColTy::Bool, to) if to.integral() => {
            let t = functions::rust_ty(to);
            quote!((#code).map(#t::from))
        }
        (ColTy::Bool, ColTy::Float) => quote!((#code).map(|v: bool| if v { 1.0f32 } else { 0.0f32 })),
        (ColTy::Bool, ColTy::Double) => quote!((#code).map(|v: bool| if v { 1.0f64 } else { 0.0f64 })),
        (ColTy::Timestamp, ColTy::Long) => quote!(#rt::cast::timestamp_to_long(#code)),
        (ColTy::Timestamp, to) if to.integral() => {
            let seconds = quote!(#rt::cast::timestamp_to_long(#code));
            numeric_cast(seconds, ColTy::Long, to, &fails)
        }
        (ColTy::Timestamp, ColTy::Double) => quote!(#rt::cast::timestamp_to_double(#code)),
        (ColTy::Timestamp, ColTy::Float) => quote!(#rt::cast::timestamp_to_double(#code).map(|v| v as f32)),
        (from, ColTy::Timestamp) if from.integral() => {
            let t = functions::rust_ty(from);
            quote!(#rt::cast::seconds_to_timestamp((#code).map(|v: #t| v as i64)))
        }
        (ColTy::Double, ColTy::Timestamp) => quote!(#rt::cast::double_to_timestamp(#code, #fails)),
        (ColTy::Float, ColTy::Timestamp) => quote!(#rt::cast::double_to_timestamp((#code).map(f64::from), #fails)),
        (ColTy::Timestamp, ColTy::Date) => quote!(#rt::cast::timestamp_to_date(#code)),
        (ColTy::Date, ColTy::Timestamp) => quote!(#rt::cast::date_to_timestamp(#code)),
        (from, ColTy::String) if from.nested() => quote!(#rt::nested::cast_to_string(#code)),
        (from, to) if from.nested() && to.nested() => nested(code, from, to, try_cast),
        (_, ColTy::String) => quote!(#rt::cast::to_string(#code)),
        _ => code,
    }
}

/// A nested value (`Option` of its owned form) cast to another nested type, part by part.
fn nested(code: TokenStream, from: ColTy, to: ColTy, try_cast: bool) -> TokenStream {
    let (tf, tt) = (functions::rust_ty(from), functions::rust_ty(to));
    let body = match (from, to) {
        (ColTy::Array(a), ColTy::Array(b)) => {
            let e = part(quote!(e), *a, *b, try_cast);
            quote!(v.into_iter().map(|e| #e).collect::<#tt>())
        }
        // A key that does not cast fails the batch (ANSI); under `TRY_CAST` the checker has let
        // through only keys that cannot become NULL but by overflow, where Spark reads the NULL
        // key as its type's zero.
        (ColTy::Map((k1, v1)), ColTy::Map((k2, v2))) => {
            let k = part(quote!(::core::option::Option::Some(k)), *k1, *k2, try_cast);
            let x = part(quote!(x), *v1, *v2, try_cast);
            quote!(::streamc_runtime::structured::nested::SqlMap(
                v.0.into_iter().map(|(k, x)| ((#k).unwrap_or_default(), #x)).collect()
            ))
        }
        (ColTy::Struct(a), ColTy::Struct(b)) => {
            let (fa, fb) = (struct_fields(a), struct_fields(b));
            let parts: Vec<TokenStream> =
                a.iter().zip(b.iter()).zip(&fa).map(|((f, g), id)| part(quote!(v.#id), f.ty, g.ty, try_cast)).collect();
            quote!(#tt { #(#fb: #parts),* })
        }
        _ => return quote!(::core::option::Option::None::<#tt>),
    };
    quote!((#code).map(|v: #tf| #body))
}

/// One part of a nested value (`Option` of its owned form) cast to `to` (the same form).
fn part(code: TokenStream, from: ColTy, to: ColTy, try_cast: bool) -> TokenStream {
    if from == to {
        return code;
    }
    if from == ColTy::Void {
        let t = functions::rust_ty(to);
        return quote!({
            let _ = #code;
            ::core::option::Option::None::<#t>
        });
    }
    if from.nested() && to.nested() {
        return nested(code, from, to, try_cast);
    }
    lower(to, &cast(lift(from, code), None, from, to, try_cast))
}

/// A decimal type's precision and scale as const generic arguments.
pub(super) fn dec_params(t: ColTy) -> [Literal; 2] {
    let (p, s) = t.as_decimal().unwrap_or((38, 0));
    [Literal::u8_unsuffixed(p), Literal::u8_unsuffixed(s)]
}

/// A cast to or from a decimal (`runtime::structured::decimal`): HALF_UP to the target scale;
/// a value beyond the target's range fails the batch (ANSI), or is NULL for `try_cast`.
fn decimal_cast(code: TokenStream, from: ColTy, to: ColTy, fails: &TokenStream) -> TokenStream {
    let dec = quote!(::streamc_runtime::structured::decimal);
    let [p, s] = dec_params(to);
    let [p1, s1] = dec_params(from);
    match (from, to) {
        (ColTy::Decimal(..), ColTy::Decimal(..)) => quote!(#dec::to_decimal::<#p, #s, #p1, #s1>(#code, #fails)),
        (ColTy::String, _) => quote!(#dec::from_str::<#p, #s>(#code, #fails)),
        (ColTy::Bool, _) => quote!(#dec::from_long::<#p, #s>((#code).map(i64::from), #fails)),
        (f, _) if f.integral() => {
            let t = functions::rust_ty(f);
            quote!(#dec::from_long::<#p, #s>((#code).map(|v: #t| v as i64), #fails))
        }
        (ColTy::Float | ColTy::Double, _) => {
            let t = functions::rust_ty(from);
            quote!(#dec::from_double::<#p, #s>((#code).map(|v: #t| v as f64), #fails))
        }
        (_, ColTy::Bool) => quote!((#code).map(|v: #dec::Dec<#p1, #s1>| v.0 != 0)),
        (_, t) if t.integral() => {
            let (rt, name) = (functions::rust_ty(t), t.sql().to_ascii_uppercase());
            quote!(#dec::to_long::<#p1, #s1, #rt>(#code, #name, #fails))
        }
        (_, ColTy::Double) => quote!(#dec::to_double::<#p1, #s1>(#code)),
        (_, ColTy::Float) => quote!(#dec::to_double::<#p1, #s1>(#code).map(|v| v as f32)),
        (_, ColTy::String) => quote!(::streamc_runtime::structured::cast::to_string(#code)),
        _ => code,
    }
}

/// A number's zero in its Rust type.
fn zero(t: ColTy) -> TokenStream {
    match t {
        ColTy::Float => quote!(0.0f32),
        ColTy::Double => quote!(0.0f64),
        t => {
            let t = functions::rust_ty(t);
            quote!((0 as #t))
        }
    }
}

/// The cast between two number types: widening with `as` (exact, or rounding to the nearest
/// float as Java does); narrowing an integer, or a float or double to an integer, checked
/// (ANSI: `CAST_OVERFLOW` fails the batch; `fails` is None for `try_cast`, giving NULL).
fn numeric_cast(code: TokenStream, from: ColTy, to: ColTy, fails: &TokenStream) -> TokenStream {
    let rt = quote!(::streamc_runtime::structured);
    let (tf, tt) = (functions::rust_ty(from), functions::rust_ty(to));
    let (from_name, to_name) = (from.sql().to_ascii_uppercase(), to.sql().to_ascii_uppercase());
    let fractional = |t: ColTy| matches!(t, ColTy::Float | ColTy::Double);
    let bounds = match to {
        ColTy::Byte => quote!((-128.0f64, 127.0f64)),
        ColTy::Short => quote!((-32768.0f64, 32767.0f64)),
        ColTy::Int => quote!((-2147483648.0f64, 2147483647.0f64)),
        _ => quote!((-9223372036854775808.0f64, 9223372036854775807.0f64)),
    };
    if from == to {
        code
    } else if fractional(to) || (from.integral() && crate::table::coerce::wider(from, to) == to) {
        quote!((#code).map(|v: #tf| v as #tt))
    } else if from.integral() {
        quote!(#rt::cast::narrow::<#tt>((#code).map(|v: #tf| v as i64), #from_name, #to_name, #fails))
    } else {
        quote!(#rt::cast::fractional_to_integral::<#tt>((#code).map(|v: #tf| v as f64), #bounds, #from_name, #to_name, #fails))
    }
}

/// The variable in which a query's batch records its first failed cast (declared by
/// `query_body`).
pub(super) fn cast_failure() -> proc_macro2::Ident {
    proc_macro2::Ident::new("cast_failure", proc_macro2::Span::mixed_site())
}

/// Whether any expression of `q` can fail the batch: a cast of a string (a malformed value),
/// parsing with a pattern, or ANSI arithmetic (division by zero, long overflow).
pub(super) fn fallible_casts(q: &Checked) -> bool {
    fn any(e: &Expr) -> bool {
        match e {
            Expr::Cast(x, from, to) => crate::table::coerce::can_fail(*from, *to) || any(x),
            Expr::TryCast(x, _, _) => any(x),
            // Parsing with a pattern fails the batch on text that does not match (ANSI).
            Expr::Call(f, args) if (f == "to_timestamp" || f == "to_date") && args.len() == 2 => true,
            // ANSI arithmetic can fail: division or remainder by zero, long overflow.
            Expr::Call(f, _) if matches!(f.as_str(), "pmod" | "abs" | "floor" | "ceil" | "ceiling" | "unbase64") => {
                true
            }
            // ANSI: an array index out of bounds fails the batch.
            Expr::Call(f, _) if f == "[]" || f == "element_at" || f == "map" => true,
            Expr::Call(_, args) => args.iter().any(any),
            Expr::Unary(UnOp::Neg, _) => true,
            Expr::Unary(_, x) => any(x),
            Expr::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod, _, _) => true,
            Expr::Binary(_, a, b) => any(a) || any(b),
            _ => false,
        }
    }
    let in_steps = q.steps.iter().any(|s| match s {
        TStep::Project(items) => items.iter().any(|(_, e, _)| any(e)),
        TStep::Explode { array, others, .. } => any(array) || others.iter().any(|(_, e, _)| any(e)),
        TStep::Filter(e) => any(e),
        _ => false,
    });
    let in_agg = q.agg.as_ref().is_some_and(|a| {
        a.keys.iter().any(|(_, e, _)| any(e)) || a.aggs.iter().any(|(_, _, e, _)| e.as_ref().is_some_and(any))
    });
    in_steps || in_agg || q.having.as_ref().is_some_and(any)
}
