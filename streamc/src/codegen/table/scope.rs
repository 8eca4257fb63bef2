//! What the generated per-row code of a query names: column variables and their scope, and
//! keys borrowed from them.

use crate::codegen::emit::rt;
use crate::table::ColTy;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use std::collections::HashMap;

/// The variable `<prefix>_<name>` of generated code (a column, a sink, a state).
/// A name that is not a plain identifier (`(i * 2)`, `Word`) gets a hash of itself appended, so
/// that names differing only in their other characters (`(i / 2)`) stay apart.
pub(super) fn ident(prefix: &str, name: &str) -> Ident {
    let base: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '_' })
        .collect();
    if base == name {
        return Ident::new(&format!("{prefix}_{base}"), Span::mixed_site());
    }
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    Ident::new(&format!("{prefix}_{base}_{h:08x}"), Span::mixed_site())
}

/// Column variables in scope: name → (variable, type).
pub(super) type Scope = HashMap<String, (Ident, ColTy)>;

/// A column variable as a key that probes keyed state without copying: strings borrowed
/// (`Option<&str>`), doubles as `DoubleKey`s (hashable, normalized as Spark groups them), a
/// nested value with a float or a map inside as a `NestedKey` (`nested_key`), other values as
/// they are; the state copies a key only when it is new.
pub(super) fn borrowed(v: &Ident, ty: ColTy) -> TokenStream {
    match ty {
        ColTy::String => quote!(#v.as_deref()),
        ColTy::Double => {
            let rt = rt();
            quote!(#v.map(#rt::structured::double_key::DoubleKey::new))
        }
        ColTy::Float => {
            let rt = rt();
            quote!(#v.map(#rt::structured::double_key::FloatKey::new))
        }
        ColTy::Binary => quote!(#v.clone()),
        t if super::nested_key::needs_key(t) => super::nested_key::key(quote!(#v), t),
        t if t.nested() => quote!(#v.clone()),
        _ => quote!(#v),
    }
}

/// A column variable as a key of a Structured aggregation's state: as [`borrowed`], but a
/// string probes as a `KeyStr`, so that the state keeps it as a `CompactString` (inline when
/// short: no allocation for a new key, no second read to compare one; see the runtime's
/// `structured::str_key`). [`unkeyed`] moves it into the output row.
pub(super) fn agg_key(v: &Ident, ty: ColTy) -> TokenStream {
    match ty {
        ColTy::String => {
            let rt = rt();
            quote!(#v.as_deref().map(#rt::structured::str_key::KeyStr))
        }
        _ => borrowed(v, ty),
    }
}

/// The hashable Rust type of a key column's value (see [`borrowed`]): a double as a
/// `DoubleKey`, a float as a `FloatKey`, other values as their own type.
pub(super) fn key_rust_ty(ty: ColTy) -> TokenStream {
    let rt = rt();
    match ty {
        ColTy::Double => quote!(#rt::structured::double_key::DoubleKey),
        ColTy::Float => quote!(#rt::structured::double_key::FloatKey),
        t if super::nested_key::needs_key(t) => super::nested_key::key_ty(t),
        t => crate::table::functions::rust_ty(t),
    }
}

/// A key column's value in the output row, from its part of an aggregation's key (see
/// [`agg_key`]).
pub(super) fn unkeyed(part: TokenStream, ty: ColTy) -> TokenStream {
    match ty {
        ColTy::Double | ColTy::Float => quote!(#part.map(|k| k.get())),
        t if super::nested_key::needs_key(t) => quote!(#part.map(|k| k.get())),
        ColTy::String => quote!(#part.map(::core::convert::Into::into)),
        _ => part,
    }
}

/// Every identifier in `tokens`, nested groups too.
pub(super) fn idents(tokens: &TokenStream, out: &mut std::collections::HashSet<String>) {
    for t in tokens.clone() {
        match t {
            proc_macro2::TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            proc_macro2::TokenTree::Group(g) => idents(&g.stream(), out),
            _ => {}
        }
    }
}
