//! Code for arbitrary stateful processing (`TStep::GroupsWithState`, checked in
//! `table::groups`): each row that reaches the step is copied into a generated input struct and
//! grouped by key for the batch (`StreamingAgg<K, Vec<In>>`); after the loops the user's
//! function runs per key through `runtime::structured::group_state::GroupStates::run_batch`, and
//! each result (a tuple of the output columns, or an iterator of them) becomes an output row.

use super::row::{build_row, field_names};
use super::scope::{Scope, borrowed, ident};
use super::tuple::nest;
use crate::codegen::emit::rt;
use crate::table::functions::rust_ty;
use crate::table::{Checked, ColTy, GroupTimeout, TGroups, TStep};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// The step of `q`, if it ends in one.
pub(super) fn find(q: &Checked) -> Option<&TGroups> {
    q.steps.iter().find_map(|s| match s {
        TStep::GroupsWithState(g) => Some(&**g),
        _ => None,
    })
}

/// The state kept across batches, and the batch's groups.
pub(super) fn states(q: &Checked) -> (Ident, Ident) {
    (ident("group_state", &q.key()), ident("group_batch", &q.key()))
}

/// The owned type of a key column (hashable: a double as a `DoubleKey`).
fn key_ty(t: ColTy) -> TokenStream {
    let t = super::scope::key_rust_ty(t);
    quote!(::core::option::Option<#t>)
}

/// The key type: the column's own for one key, a tuple for several.
fn key_type(g: &TGroups) -> TokenStream {
    match &g.keys[..] {
        [(_, t)] => key_ty(*t),
        keys => nest(keys.iter().map(|(_, t)| key_ty(*t)).collect()),
    }
}

/// The input struct's name and definition: one `pub` field per column at the step, owned.
pub(super) fn input_struct(q: &Checked, g: &TGroups) -> (Ident, TokenStream) {
    let name = ident("In", &q.key());
    let fields: Vec<Ident> =
        field_names(g.input.iter().map(|c| c.name.as_str())).iter().map(|f| Ident::new(f, Span::call_site())).collect();
    let types: Vec<TokenStream> = g
        .input
        .iter()
        .map(|c| {
            let t = rust_ty(c.ty);
            quote!(::core::option::Option<#t>)
        })
        .collect();
    let doc = format!("A row of query `{}` as its `map_groups_with_state` function gets it.", q.name);
    let def = quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq)]
        #[allow(non_snake_case, non_camel_case_types, dead_code)]
        struct #name { #(pub #fields: #types),* }
    };
    (name, def)
}

/// Setup: the state, typed, and its checkpoint name.
pub(super) fn setup(q: &Checked, g: &TGroups) -> (TokenStream, Ident) {
    let rt = rt();
    let (state, _) = states(q);
    let k = key_type(g);
    let s: TokenStream = g.state.parse().unwrap_or_else(|_| quote!(compile_error!("the state type does not parse")));
    (
        quote!(let mut #state: #rt::structured::group_state::GroupStates<#k, #s> = #rt::structured::group_state::GroupStates::new();),
        state,
    )
}

/// The per-batch declaration of the groups.
pub(super) fn batch_decl(q: &Checked, g: &TGroups) -> TokenStream {
    let rt = rt();
    let (_, batch) = states(q);
    let (input, _) = input_struct(q, g);
    let k = key_type(g);
    quote!(let mut #batch: #rt::structured::agg::StreamingAgg<#k, ::std::vec::Vec<#input>> = #rt::structured::agg::StreamingAgg::new();)
}

/// The end of the per-row code: late rows dropped (event-time timeout), the row grouped.
pub(super) fn terminal(q: &Checked, g: &TGroups, scope: &Scope, wm: &Ident, dropped: &Ident) -> TokenStream {
    let (_, batch) = states(q);
    let (input, _) = input_struct(q, g);
    let late = match &g.late_column {
        Some(c) => {
            let (v, _) = &scope[c];
            quote!(if #v.is_some_and(|t| t <= #wm.for_late_events()) { #dropped += 1; continue; })
        }
        None => quote!(),
    };
    let parts: Vec<TokenStream> = g.keys.iter().map(|(n, t)| borrowed(&scope[n].0, *t)).collect();
    let key = match &parts[..] {
        [one] => one.clone(),
        _ => nest(parts),
    };
    let fields: Vec<Ident> =
        field_names(g.input.iter().map(|c| c.name.as_str())).iter().map(|f| Ident::new(f, Span::call_site())).collect();
    let values: Vec<TokenStream> = g
        .input
        .iter()
        .map(|c| {
            let (v, _) = &scope[&c.name];
            match c.ty {
                ColTy::String => quote!(#v.as_deref().map(::std::borrow::ToOwned::to_owned)),
                _ => quote!(#v),
            }
        })
        .collect();
    quote! {
        #late
        #batch.update(#key, |rows| rows.push(#input { #(#fields: #values),* }), ::std::vec::Vec::new);
    }
}

/// After the loops: the function over the batch's groups and the timed-out keys, each result
/// an output row (or rows), and the state reported.
pub(super) fn finish(q: &Checked, g: &TGroups, input: &Ident, wm: &Ident, output: &Ident, node: &str) -> TokenStream {
    let rt = rt();
    let rows = &ident("rows", &q.key());
    let row = &super::row::row_struct(q).0;
    let (state, batch) = states(q);
    let f: TokenStream = g
        .function
        .parse()
        .unwrap_or_else(|_| quote!(compile_error!("map_groups_with_state: the function does not parse")));
    let timeout = match g.timeout {
        GroupTimeout::None => quote!(None),
        GroupTimeout::ProcessingTime => quote!(ProcessingTime),
        GroupTimeout::EventTime => quote!(EventTime),
    };
    let wm_ms = if q.watermark.is_some() {
        quote!(::core::option::Option::Some(#wm.current().0.div_euclid(1000)))
    } else {
        quote!(::core::option::Option::None)
    };
    let flat = g.flat;
    let n = q.output.len();
    let vars: Vec<Ident> = (0..n).map(|i| Ident::new(&format!("out_{i}"), Span::mixed_site())).collect();
    let cells: Vec<TokenStream> =
        vars.iter().map(|v| quote!(#rt::structured::group_state::IntoCell::into_cell(#v))).collect();
    let value = build_row(q, row, &cells);
    let bind = if n == 1 {
        let v = &vars[0];
        quote!(let #v = result;)
    } else {
        quote!(let (#(#vars),*) = result;)
    };
    let each = quote!({ #bind #rows.push(#value); });
    let emit = if flat { quote!(|results| for result in results #each) } else { quote!(|result| #each) };
    let what = if flat { "flatMapGroupsWithState" } else { "mapGroupsWithState" };
    quote! {
        let ctx = #rt::structured::group_state::BatchContext {
            timeout: #rt::structured::group_state::Timeout::#timeout,
            batch_time_ms: #input.time_ms(),
            watermark_ms: #wm_ms,
            flat: #flat,
        };
        #state.run_batch(#batch, ctx, #f, #emit);
        #output.report_operator_state(#node, #what, &#state, #state.updated_count() as u64, 0);
        #output.report_rows(#node, #rows.len());
    }
}
