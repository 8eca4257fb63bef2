//! A nested key column with a float, double or map inside (grouping, deduplication, a join's
//! keys) in generated code: its value normalized as Spark groups it, part by part (NaN one
//! value, `-0.0` as `0.0`, a map's entries in key order, a map's NULL value of a primitive type
//! as its zero), made into the runtime's
//! `structured::nested_key::NestedKey`, which compares and hashes the normalized value's bytes.
//! A nested type without either ([`ColTy::hashable`]) is a key as it is.

use crate::codegen::emit::rt;
use crate::table::ColTy;
use crate::table::functions::{rust_ty, struct_fields};
use proc_macro2::TokenStream;
use quote::quote;

/// Whether a key column of type `ty` is a `NestedKey` rather than its own value.
pub(super) fn needs_key(ty: ColTy) -> bool {
    ty.nested() && !ty.hashable()
}

/// The key's Rust type (without the `Option`).
pub(super) fn key_ty(ty: ColTy) -> TokenStream {
    let (rt, t) = (rt(), rust_ty(ty));
    quote!(#rt::structured::nested_key::NestedKey<#t>)
}

/// The key of `var` (a variable holding an `Option` of the value in its owned form), as a probe
/// of keyed state (`NestedKey::probe`): the normalized value's bytes written part by part from
/// the value itself into a buffer the thread reuses, so that a key already in the state costs no
/// allocation. Only a map inside is copied to be normalized (its entries sorted), then written.
pub(super) fn key(var: TokenStream, ty: ColTy) -> TokenStream {
    let (rt, t) = (rt(), rust_ty(ty));
    let write = write_normal(quote!(v), ty);
    quote!((#var).as_ref().map(|v: &#t| #rt::structured::nested_key::NestedKey::<#t>::probe(|out| { #write })))
}

/// Statements writing `x` (a `&` of a value of type `ty`) into `out` as the `Persist` bytes of
/// its normalized value: the layout of `Persist` for a `Vec` (its length, then each element),
/// an `Option` (its tag, then the value) and a struct (its fields in order).
fn write_normal(x: TokenStream, ty: ColTy) -> TokenStream {
    let rt = rt();
    let nk = quote!(#rt::structured::nested_key);
    let persist = quote!(#rt::persist::Persist);
    let option = |x: TokenStream, ty: ColTy| {
        let inner = write_normal(quote!(x), ty);
        quote!(match #x {
            ::core::option::Option::Some(x) => { #nk::write_tag(true, out); #inner }
            ::core::option::Option::None => #nk::write_tag(false, out),
        })
    };
    match ty {
        t if t.hashable() => quote!(#persist::write(#x, out);),
        ColTy::Double => quote!(#persist::write(&#nk::normal_double(*#x), out);),
        ColTy::Float => quote!(#persist::write(&#nk::normal_float(*#x), out);),
        ColTy::Array(e) => {
            let each = option(quote!(x), *e);
            quote!(#nk::write_len(#x.len(), out); for x in #x.iter() { #each })
        }
        ColTy::Struct(fields) => {
            let ids = struct_fields(fields);
            let parts = fields.iter().zip(&ids).map(|(f, id)| option(quote!(&#x.#id), f.ty));
            quote!(#(#parts)*)
        }
        // A map's entries go in key order: a normalized copy, written whole.
        _ => {
            let normal = normal(quote!(::core::option::Option::Some(::core::clone::Clone::clone(#x))), ty);
            quote!(if let ::core::option::Option::Some(m) = #normal { #persist::write(&m, out); })
        }
    }
}

/// `code` (an `Option` of a value of type `ty`, owned) normalized as Spark groups it.
fn normal(code: TokenStream, ty: ColTy) -> TokenStream {
    if ty.hashable() {
        return code;
    }
    let rt = rt();
    let nk = quote!(#rt::structured::nested_key);
    let t = rust_ty(ty);
    match ty {
        ColTy::Double => quote!((#code).map(#nk::normal_double)),
        ColTy::Float => quote!((#code).map(#nk::normal_float)),
        ColTy::Array(e) => {
            let each = normal(quote!(x), *e);
            quote!((#code).map(|v: #t| v.into_iter().map(|x| #each).collect::<#t>()))
        }
        ColTy::Struct(fields) => {
            let ids = struct_fields(fields);
            let parts: Vec<TokenStream> = fields.iter().zip(&ids).map(|(f, id)| normal(quote!(v.#id), f.ty)).collect();
            quote!((#code).map(|v: #t| #t { #(#ids: #parts),* }))
        }
        ColTy::Map((k, x)) => {
            let key = normal(quote!(::core::option::Option::Some(k)), *k);
            let mut value = normal(quote!(x), *x);
            // Spark's streaming aggregation groups a map whose values are of a primitive type
            // with a NULL value read as the type's zero (its sorted copy of the values keeps
            // their slots, not their NULL bits): `{a -> NULL}` is the key `{a -> 0}`.
            if primitive(*x) {
                value = quote!(::core::option::Option::Some((#value).unwrap_or_default()));
            }
            // Scalar keys (and arrays of them) sort in their own order, as Spark's; struct keys
            // by their bytes.
            let sort = if orderable(*k) { quote!(#nk::sort_entries) } else { quote!(#nk::sort_entries_by_bytes) };
            quote!((#code).map(|v: #t| {
                let mut entries: ::std::vec::Vec<_> =
                    v.0.into_iter().map(|(k, x)| ((#key).unwrap_or_default(), #value)).collect();
                #sort(&mut entries);
                #rt::structured::nested::SqlMap(entries)
            }))
        }
        _ => code,
    }
}

/// Whether `ty` is one of Spark's primitive types (held in an array as a Java primitive):
/// boolean, the integers, float, double, date, timestamp; not a decimal, string or binary.
fn primitive(ty: ColTy) -> bool {
    matches!(
        ty,
        ColTy::Bool
            | ColTy::Byte
            | ColTy::Short
            | ColTy::Int
            | ColTy::Long
            | ColTy::Float
            | ColTy::Double
            | ColTy::Date
            | ColTy::Timestamp
    )
}

/// Whether values of `ty` have a Rust `PartialOrd` (no struct or map inside).
fn orderable(ty: ColTy) -> bool {
    match ty {
        ColTy::Struct(_) | ColTy::Map(_) => false,
        ColTy::Array(e) => orderable(*e),
        _ => true,
    }
}
