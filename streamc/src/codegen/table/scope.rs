//! What the generated per-row code of a query names: column variables and their scope, and
//! keys borrowed from them.

use crate::codegen::emit::rt;
use crate::table::ColTy;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use std::collections::HashMap;

/// The variable `<prefix>_<name>` of generated code (a column, a sink, a state).
pub(super) fn ident(prefix: &str, name: &str) -> Ident {
    let base: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '_' })
        .collect();
    Ident::new(&format!("{prefix}_{base}"), Span::mixed_site())
}

/// Column variables in scope: name → (variable, type).
pub(super) type Scope = HashMap<String, (Ident, ColTy)>;

/// A column variable as a key that probes keyed state without copying: strings borrowed
/// (`Option<&str>`), doubles as `DoubleKey`s (hashable, normalized as Spark groups them), other
/// values as they are; the state copies a key only when it is new.
pub(super) fn borrowed(v: &Ident, ty: ColTy) -> TokenStream {
    match ty {
        ColTy::String => quote!(#v.as_deref()),
        ColTy::Double => {
            let rt = rt();
            quote!(#v.map(#rt::structured::double_key::DoubleKey::new))
        }
        _ => quote!(#v),
    }
}

/// A key column's value in the output row, from its part of the key (see [`borrowed`]).
pub(super) fn unkeyed(part: TokenStream, ty: ColTy) -> TokenStream {
    match ty {
        ColTy::Double => quote!(#part.map(|k| k.get())),
        _ => part,
    }
}
