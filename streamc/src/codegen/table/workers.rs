//! A Structured query's loop split over worker threads (`--workers N`), like the DStream keyed
//! stages: the engine cuts a large batch at line boundaries (`BatchInput::run_partials_first`);
//! the batch thread runs the query's loop over the first part straight into the query's state
//! (the `first` closure), while each other worker runs it over its part into a partial
//! aggregation state of its own (starting empty with the room the last batch's parts took; late
//! input checked against the same watermark); then the partials are merged into the query's
//! state in part order (`StreamingAgg::absorb` with the aggregates' merge), with the event times
//! observed, the late groups and the counters. The first part, then the others merged in order,
//! keep the keys' first-seen order and combine accumulators as one pass would, so the output is
//! the one worker's. Which queries qualify is `placement.rs`'s `parallel_query`. The partials
//! can cross a process boundary, so a cluster splits the batch over its processes the same way:
//! with grouping keys, each partial is cut by key and each process merges the pieces that hold
//! its keys (`run_partials_partitioned`, the runtime's `partition`), so the state is
//! partitioned; without (one group), every process merges every partial
//! (`run_partials_shipped`); in a cluster every part, the first too, is a partial, since
//! partials cross processes. Session windows split in a cluster only (`shuffle_by_key`): a
//! partial holds its part's events per key, and each process merges them into sessions of its
//! keys when the batch ends.
//!
//! On one machine, a query whose partials cannot be merged exactly (an aggregate of doubles)
//! and whose steps are projections, filters and the watermark hands rows off instead
//! (`hand_off`, the runtime's `handoff`): workers run the loop up to the aggregation over chunks
//! of the batch and push the columns the aggregation reads; the batch thread applies those rows
//! to the query's state in line order (or runs the whole loop over a chunk no worker has
//! ready), so nothing is merged and the state sees one pass's order.

use crate::codegen::emit::rt;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// What the loop of a query keeps per batch, for a worker's own copy and the merge.
pub(super) struct PartState<'a> {
    pub agg: &'a Ident,
    /// The aggregates' merge (`terminal::merge_fn`).
    pub merge: TokenStream,
    /// The watermark, when the query has one.
    pub wm: Option<&'a Ident>,
    /// The set of late groups, when the query counts them.
    pub late: Option<&'a Ident>,
    pub dropped: &'a Ident,
    pub malformed: &'a Ident,
    /// Row counters of the loop's graph nodes.
    pub counters: &'a [Ident],
    /// Whether a cluster partitions the state by key (`mod.rs`'s `partitioned`): each process
    /// merges the pieces of every partial that hold its keys, rather than every partial.
    pub partitioned: bool,
    /// Whether the state is session windows (`SessionAgg`, whose partials hold the events of
    /// their part per key): split in a cluster only (`shuffle_by_key`).
    pub sessions: bool,
}

/// A part's copy of the query's watermark, when it has one: taken before the loop (the batch
/// thread's own part changes the query's), a part's own copy, what the part returns, and the
/// merge of what the part returned as element `at` of its result `p`.
fn part_watermark(wm: Option<&Ident>, at: usize) -> (TokenStream, TokenStream, TokenStream, TokenStream) {
    let at = syn::Index::from(at);
    match wm {
        Some(wm) => (
            quote!(let watermark_for_parts = #wm.for_part();),
            quote!(let mut #wm = watermark_for_parts.clone();),
            quote!(#wm),
            quote!(#wm.absorb(&p.#at);),
        ),
        None => (quote!(), quote!(), quote!(()), quote!()),
    }
}

/// The buffer of rows a hand-off's producer pushes to (`hand_off`'s closure parameter).
pub(super) fn handed_rows() -> Ident {
    Ident::new("handed_rows", proc_macro2::Span::mixed_site())
}

/// The loop over `text`'s lines running `body` per `line`, on workers when the engine splits
/// the batch. Outside a cluster an aggregation's loop runs over the first part (or the whole
/// batch) straight into the query's state; session windows run as `sequential` when the batch
/// is not split.
pub(super) fn on_workers(
    input: &Ident,
    text: &Ident,
    line: &Ident,
    body: &TokenStream,
    sequential: TokenStream,
    s: &PartState,
) -> TokenStream {
    let rt = rt();
    let line_state = super::record::line_state();
    let PartState { agg, merge, wm, late, dropped, malformed, counters, partitioned, sessions } = s;
    // Outside a cluster the batch thread's own part goes straight into the query's state (the
    // `first` closure); sessions and cluster processes build a partial of every part.
    let run = match (sessions, partitioned) {
        (true, _) => quote!(shuffle_by_key),
        (false, true) => quote!(run_partials_partitioned_first),
        (false, false) => quote!(run_partials_shipped_first),
    };
    let state = if *sessions { quote!(session::SessionAgg) } else { quote!(agg::StreamingAgg) };
    let cidx: Vec<syn::Index> = (0..counters.len()).map(syn::Index::from).collect();
    let (wm_before, wm_part, wm_ret, wm_merge) = part_watermark(*wm, 1);
    let (late_part, late_ret, late_merge) = match late {
        Some(l) => (
            quote!(let mut #l = #rt::structured::agg::StreamingAgg::<_, ()>::new();),
            quote!(#l),
            quote!(#l.absorb(p.2, |_, _| {});),
        ),
        None => (quote!(), quote!(()), quote!()),
    };
    // A part's aggregation state starts with the room the last batch's parts took.
    let (room, new_part) = if *sessions {
        (quote!(), quote!(#rt::structured::#state::new()))
    } else {
        (
            quote!(let part_capacity = #agg.part_capacity();),
            quote!(#rt::structured::#state::with_capacity(part_capacity)),
        )
    };
    let header = quote! {
        #room
        #wm_before
    };
    let partial = quote! {
        |part| {
            let mut #agg = #new_part;
            #wm_part
            #late_part
            let mut #dropped: u64 = 0;
            let mut #malformed: u64 = 0;
            #( let mut #counters: u64 = 0; )*
            #line_state for #line in part {
                #body
            }
            (#agg, #wm_ret, #late_ret, #dropped, #malformed, (#(#counters,)*))
        }
    };
    let merge = quote! {
        #agg.absorb(p.0, #merge);
        #wm_merge
        #late_merge
        #dropped += p.3;
        #malformed += p.4;
        #( #counters += (p.5).#cidx; )*
    };
    if !*sessions {
        // The first part (or the whole batch, when it is not split) goes straight into the
        // state.
        return quote! {
            #header
            for p in #input.#run(#text, #partial, |part| {
                #line_state for #line in part {
                    #body
                }
            })? {
                #merge
            }
        };
    }
    quote! {
        #header
        match #input.#run(#text, #partial)? {
            ::core::option::Option::Some(parts) => {
                for p in parts {
                    #merge
                }
            }
            ::core::option::Option::None => {
                #sequential
            }
        }
    }
}

/// The loop of a query that hands rows off (`placement.rs`'s `hands_off`) outside a cluster,
/// and `on_workers`' loop in one: workers run `produce` (the loop up to the aggregation, which
/// pushes the `handed` columns of each row that reaches it) over chunks of the batch, and the
/// batch thread applies their rows to the state in line order with `apply` (the aggregation's
/// update, over the same column names), or runs `body` (the whole loop) over a chunk that is
/// next in order and not buffered yet. What each buffered chunk counted (event times observed,
/// malformed records, row counters) is merged after. In a cluster, `clustered` (the partials).
pub(super) struct HandOff<'a> {
    pub produce: TokenStream,
    pub apply: TokenStream,
    pub handed: &'a [Ident],
    pub clustered: TokenStream,
}

pub(super) fn hand_off(
    input: &Ident,
    text: &Ident,
    line: &Ident,
    body: &TokenStream,
    h: &HandOff,
    s: &PartState,
) -> TokenStream {
    let rt = rt();
    let line_state = super::record::line_state();
    let PartState { wm, dropped, malformed, counters, .. } = s;
    let HandOff { produce, apply, handed, clustered } = h;
    let cidx: Vec<syn::Index> = (0..counters.len()).map(syn::Index::from).collect();
    let rows = handed_rows();
    let (wm_before, wm_part, wm_ret, wm_merge) = part_watermark(*wm, 0);
    quote! {
        if #input.in_cluster() {
            #clustered
        } else {
            #wm_before
            for p in #input.run_handoff(
                #text,
                |part, #rows| {
                    #wm_part
                    let mut #dropped: u64 = 0;
                    let mut #malformed: u64 = 0;
                    #( let mut #counters: u64 = 0; )*
                    #line_state for #line in part {
                        #produce
                    }
                    (#wm_ret, #dropped, #malformed, (#(#counters,)*))
                },
                |work| match work {
                    #rt::handoff::Handoff::Lines(part) => {
                        #line_state for #line in part {
                            #body
                        }
                    }
                    #rt::handoff::Handoff::Rows(#rows) => {
                        for (#(#handed,)*) in #rows.drain(..) {
                            #apply
                        }
                    }
                },
            ) {
                #wm_merge
                #dropped += p.1;
                #malformed += p.2;
                #( #counters += (p.3).#cidx; )*
            }
        }
    }
}
