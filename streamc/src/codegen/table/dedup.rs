//! A Structured deduplication partitioned by its key over a cluster's processes. The query's
//! loop runs in two phases: each process runs the steps before the deduplication over its share
//! of the batch (observing the watermark on its own copy) and pushes each row that reaches the
//! deduplication, as the columns the rest of the query reads, to the process that owns the
//! row's key (`ByKey`, the runtime's `partition`; `BatchInput::shuffle_by_key`); each process
//! then runs the deduplication and the steps after it over the rows it received, in process
//! order (so each key's rows come in batch order), against its part of the state. The event
//! times observed go to every process (each computes the same watermark), the counters of the
//! steps before to process 0; the rows kept, with the counters after, are put together on
//! process 0 for the sinks (`BatchInput::gather_counted`). Outside a cluster `shuffle_by_key`
//! gives `None` and the query's one loop runs as it always has.

use super::scope::{Scope, ident};
use super::steps::{node_rows, scope_after, scope_before, step, steps};
use super::tuple::nest;
use crate::codegen::emit::rt;
use crate::table::{Checked, ColTy, Malformed, Sink, TStep, TablePlan};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use std::collections::HashSet;

/// The step index of the deduplication that a cluster partitions by key, if `q` has one: the
/// first stage of a query of one input whose rows go straight to its sinks, with exactly one
/// deduplication and no other state (no aggregation, `*_groups_with_state` or stream join),
/// no watermark observed after it, no step that can end the batch from a row (fail-fast
/// parsing, a cast that fails), no `foreach_batch` sink (its closure would run on every
/// process) and columns that cross a process boundary as they are (strings, numbers, booleans,
/// timestamps, dates). Any other deduplication runs whole on every process.
pub(super) fn partitioned(table: &TablePlan, q: &Checked) -> Option<usize> {
    let mut dedups = q.steps.iter().enumerate().filter(|(_, s)| matches!(s, TStep::Dedup { .. }));
    let (at, _) = dedups.next()?;
    let shippable = |t: ColTy| {
        matches!(
            t,
            ColTy::String
                | ColTy::Bool
                | ColTy::Byte
                | ColTy::Short
                | ColTy::Int
                | ColTy::Long
                | ColTy::Float
                | ColTy::Double
                | ColTy::Timestamp
                | ColTy::Date
        )
    };
    let ok = dedups.next().is_none()
        && q.stage == 0
        && q.then.is_none()
        && q.agg.is_none()
        && q.having.is_none()
        && q.inputs.len() == 1
        && q.steps.iter().all(|s| !matches!(s, TStep::GroupsWithState(_) | TStep::StreamJoin(_)))
        && q.steps[at..].iter().all(|s| !matches!(s, TStep::Watermark { .. }))
        && q.inputs.iter().all(|i| !matches!(table.sources[i.source].malformed, Malformed::FailFast))
        && !super::cast::fallible_casts(q)
        && q.sinks.iter().all(|s| !matches!(s, Sink::ForeachBatch { .. }))
        && scope_before(q, at).values().all(|(_, t)| shippable(*t))
        && q.output.iter().all(|c| shippable(c.ty));
    ok.then_some(at)
}

/// The two phases of the loop of a query whose deduplication (step `at`) is partitioned.
pub(super) struct Phases {
    /// The steps before the deduplication, ending in the push of each row to its key's owner
    /// (`routed`): for the loop over this process's share of the batch.
    pub route: TokenStream,
    /// The deduplication and the steps after it, over one received row (its columns bound as
    /// `pattern`), ending in the push of the output row's values to `kept`.
    pub rest: TokenStream,
    pub pattern: TokenStream,
}

/// The rows on their way to their keys' owners, and the output rows kept on a process.
fn routed() -> Ident {
    Ident::new("routed", Span::mixed_site())
}

fn kept() -> Ident {
    Ident::new("kept", Span::mixed_site())
}

/// The code of both phases around the deduplication at step `at`; `lead` steps ran before the
/// watermark observation, as in the query's one loop.
pub(super) fn phases(q: &Checked, at: usize, lead: usize, scope: Scope, wm: &Ident, nodes: &[usize]) -> Phases {
    let (routed, kept) = (routed(), kept());
    // The output row's values, as the query's terminal moves them into its row.
    let joined = q.steps.iter().any(|s| matches!(s, TStep::Join { .. }));
    let after = scope_after(q);
    let values: Vec<TokenStream> = q
        .output
        .iter()
        .map(|c| {
            let (v, ty) = &after[&c.name];
            match ty {
                ColTy::String if joined => quote!(::core::clone::Clone::clone(&#v)),
                _ => quote!(#v),
            }
        })
        .collect();
    let values = nest(values);
    let at_dedup = scope_before(q, at);
    let rest = step(q, at, at_dedup.clone(), quote!(#kept.push(#values);), wm, nodes);
    // The columns the rest reads: they travel with the row.
    let mut named = HashSet::new();
    super::scope::idents(&rest, &mut named);
    let mut carried: Vec<&Ident> =
        at_dedup.values().map(|(v, _)| v).filter(|v| named.contains(&v.to_string())).collect();
    carried.sort_by_key(|v| v.to_string());
    carried.dedup();
    let pattern = nest(carried.iter().map(|v| quote!(#v)).collect());
    let TStep::Dedup { cols, .. } = &q.steps[at] else { unreachable!("step {at} is a deduplication") };
    // The key as the deduplication probes its state (see `steps.rs`).
    let key = nest(cols.iter().map(|(n, t)| super::scope::borrowed(&at_dedup[n].0, *t)).collect());
    let mut head = q.clone();
    head.steps.truncate(at);
    let route = steps(
        &head,
        lead,
        scope,
        {
            let rt = rt();
            quote!(#routed.push(#rt::partition::key_hash(&#key), #pattern);)
        },
        wm,
        nodes,
    );
    Phases { route, rest, pattern }
}

/// What the loop over one input keeps per batch, for the two phases.
pub(super) struct Loop<'a> {
    pub input: &'a Ident,
    pub text: &'a Ident,
    pub line: &'a Ident,
    /// The first phase's code per line (parsing, the watermark, `Phases::route`).
    pub route_body: TokenStream,
    pub phases: Phases,
    /// The query's one loop, outside a cluster.
    pub sequential: TokenStream,
    pub wm: Option<&'a Ident>,
    pub malformed: &'a Ident,
    pub rows: &'a Ident,
    /// The output row built from the values `Phases::rest` keeps, bound as `row_values`.
    pub build: TokenStream,
    pub row_values: TokenStream,
    /// Row counters of the loop's graph nodes: those of the inputs and the steps before the
    /// deduplication count in the first phase, the others (`after`) in the second.
    pub counters: Vec<Ident>,
    pub after: Vec<Ident>,
}

/// The loop over one input of a query whose deduplication is partitioned (see the module doc).
pub(super) fn on_processes(l: Loop<'_>) -> TokenStream {
    let rt = rt();
    let line_state = super::record::line_state();
    let Loop {
        input,
        text,
        line,
        route_body,
        phases,
        sequential,
        wm,
        malformed,
        rows,
        build,
        row_values,
        counters,
        after,
    } = l;
    let Phases { rest, pattern, .. } = phases;
    let (routed, kept) = (routed(), kept());
    let cidx: Vec<syn::Index> = (0..counters.len()).map(syn::Index::from).collect();
    let aidx = 0..after.len();
    let (wm_part, wm_ret, wm_merge) = match wm {
        Some(wm) => (quote!(let mut #wm = #wm.for_part();), quote!(#wm), quote!(#wm.absorb(&p.1);)),
        None => (quote!(), quote!(()), quote!()),
    };
    quote! {
        match #input.shuffle_by_key(#text, |part| {
            #wm_part
            let mut #malformed: u64 = 0;
            #( let mut #counters: u64 = 0; )*
            let mut #routed = #rt::partition::ByKey::new();
            #line_state for #line in part {
                #route_body
            }
            (#routed, #wm_ret, #malformed, (#(#counters,)*))
        })? {
            ::core::option::Option::Some(parts) => {
                let mut #kept = ::std::vec::Vec::new();
                for p in parts {
                    #wm_merge
                    #malformed += p.2;
                    #( #counters += (p.3).#cidx; )*
                    for #pattern in p.0.into_rows() {
                        #rest
                    }
                }
                let (#kept, counts) = #input.gather_counted(#kept, [#(#after),*])?;
                #( #after = counts[#aidx]; )*
                #rows.extend(#kept.into_iter().map(|#row_values| #build));
            }
            ::core::option::Option::None => {
                #sequential
            }
        }
    }
}

/// The counters of the rows the deduplication at `at` and the steps after it put out.
pub(super) fn counted_after(at: usize, nodes: &[usize]) -> Vec<Ident> {
    nodes[at..].iter().map(|&n| node_rows(n)).collect()
}

/// The names of the output row's values in the second phase's `kept`, and their tuple pattern.
pub(super) fn row_values(q: &Checked) -> (Vec<TokenStream>, TokenStream) {
    let names: Vec<TokenStream> = (0..q.output.len())
        .map(|i| {
            let v = ident("kept", &i.to_string());
            quote!(#v)
        })
        .collect();
    let pattern = nest(names.clone());
    (names, pattern)
}
