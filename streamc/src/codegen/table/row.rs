//! The output row of a query: a struct generated per query with one typed field per output
//! column (SQL nulls as `Option<T>`), implementing the runtime's `Row` for every sink and
//! handed to `foreach_batch` closures, which read `row.word` rather than `row.2`.
//!
//! Field names come from column names by [`field_names`]' documented mapping.

use super::scope::{Scope, ident};
use crate::codegen::emit::rt;
use crate::table::functions::rust_ty;
use crate::table::{Checked, ColTy, Sink};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

pub use crate::table::field_names;

/// Whether each output column of `q` is nullable: all but what Spark makes NOT NULL (window
/// bounds, `count`).
fn nullable(q: &Checked) -> Vec<bool> {
    let Some(a) = &q.agg else { return vec![true; q.output.len()] };
    let bounds = if a.window.is_some() || a.session.is_some() { 2 } else { 0 };
    let mut out = vec![false; bounds];
    out.extend(a.keys.iter().map(|_| true));
    out.extend(a.aggs.iter().map(|(_, f, _, _)| f.def().nullable));
    out
}

/// Column variables bound from the fields of `row` (a `&Row`), as the expression code reads
/// them (`Option<T>`, strings borrowed): for conditions over output rows (`HAVING`).
pub(super) fn row_scope(q: &Checked, row: &Ident) -> (TokenStream, Scope) {
    let names = field_names(q.output.iter().map(|c| c.name.as_str()));
    let mut binds = TokenStream::new();
    let mut scope = Scope::new();
    for ((c, f), null) in q.output.iter().zip(names).zip(nullable(q)) {
        let v = ident("col", &c.name);
        let f = Ident::new(&f, Span::call_site());
        binds.extend(match (c.ty, null) {
            (ColTy::String, _) => quote!(let #v = #row.#f.as_deref().map(::std::borrow::Cow::Borrowed);),
            (t, true) if t.nested() => quote!(let #v = #row.#f.clone();),
            (_, true) => quote!(let #v = #row.#f;),
            (_, false) => quote!(let #v = ::core::option::Option::Some(#row.#f);),
        });
        scope.insert(c.name.clone(), (v, c.ty));
    }
    (binds, scope)
}

/// The Rust type of each output column of `q`: `Option<T>`, except what Spark makes NOT NULL
/// (window bounds, `count`); a string grouping key is a `CompactString` unless the rows go to
/// a `foreach_batch` closure. A row of a query without aggregation lives for its batch and
/// borrows its strings from the batch (`Option<Cow<'a, str>>`): no copy per row.
fn field_types(q: &Checked) -> Vec<TokenStream> {
    let optional = |t: ColTy| {
        let t = rust_ty(t);
        quote!(::core::option::Option<#t>)
    };
    let Some(a) = &q.agg else {
        return q
            .output
            .iter()
            .map(|c| match c.ty {
                ColTy::String => quote!(::core::option::Option<::std::borrow::Cow<'a, str>>),
                t => optional(t),
            })
            .collect();
    };
    let mut out = Vec::new();
    if a.window.is_some() || a.session.is_some() {
        let ts = rust_ty(ColTy::Timestamp);
        out.push(ts.clone());
        out.push(ts);
    }
    // A string key keeps the state's `CompactString` (moved out of the key: no allocation),
    // unless the rows reach a `foreach_batch` closure, which reads a `String` as documented.
    let rt = rt();
    let to_user = q.sinks.iter().any(|s| matches!(s, Sink::ForeachBatch { .. }));
    out.extend(a.keys.iter().map(|(_, _, t)| match t {
        ColTy::String if !to_user => quote!(::core::option::Option<#rt::structured::str_key::CompactString>),
        t => optional(*t),
    }));
    out.extend(a.aggs.iter().map(|(_, f, _, t)| if f.def().nullable { optional(*t) } else { rust_ty(*t) }));
    out
}

/// The row struct of `q`: its name, and its definition with the runtime's `Row` for it.
pub(super) fn row_struct(q: &Checked) -> (Ident, TokenStream) {
    let rt = rt();
    let name = ident("Row", &q.key());
    let fields: Vec<Ident> = field_names(q.output.iter().map(|c| c.name.as_str()))
        .iter()
        .map(|f| Ident::new(f, Span::call_site()))
        .collect();
    let types = field_types(q);
    let doc = format!("A row of query `{}`'s output.", q.name);
    let borrows = q.agg.is_none() && q.output.iter().any(|c| c.ty == ColTy::String);
    let generics = if borrows { quote!(<'a>) } else { quote!() };
    let def = quote! {
        #rt::row_struct! {
            #[doc = #doc]
            struct #name #generics { #(#fields: #types),* }
        }
    };
    (name, def)
}

/// The expression building `q`'s row from one expression per output column.
pub(super) fn build_row(q: &Checked, name: &Ident, values: &[TokenStream]) -> TokenStream {
    let fields =
        field_names(q.output.iter().map(|c| c.name.as_str())).into_iter().map(|f| Ident::new(&f, Span::call_site()));
    quote!(#name { #(#fields: #values,)* })
}
