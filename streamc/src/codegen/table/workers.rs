//! A Structured query's loop split over worker threads (`--workers N`), like the DStream keyed
//! stages: the engine cuts a large batch at line boundaries (`BatchInput::run_leading_*`); the
//! batch thread runs the query's loop over the first part straight into the query's state, while
//! each other worker runs it over its part into a partial aggregation state of its own (starting
//! empty; late input checked against the same watermark); the partials are then merged into the
//! query's state in part order (`StreamingAgg::absorb` with the aggregates' merge), with the
//! event times observed, the late groups and the counters. Merging in order keeps the keys'
//! first-seen order and combines accumulators as one pass would, so the output is the one
//! worker's. Which queries qualify is `mod.rs`'s `parallel_query`. The partials can cross a
//! process boundary, so a cluster splits the batch over its processes the same way (there every
//! part is a partial): with grouping keys, each partial is cut by key and each process merges the
//! pieces that hold its keys (`run_partials_partitioned`, the runtime's `partition`), so the state
//! is partitioned; without (one group), every process merges every partial
//! (`run_partials_shipped`).

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
}

/// The loop over `text`'s lines running `body` per `line`: the batch's first part straight into
/// the query's state on the batch thread, the other parts (when the engine splits the batch) on
/// workers into partials merged after it, in part order.
pub(super) fn on_workers(
    input: &Ident,
    text: &Ident,
    line: &Ident,
    body: &TokenStream,
    s: &PartState,
    query: &str,
) -> TokenStream {
    let rt = rt();
    let PartState { agg, merge, wm, late, dropped, malformed, counters, partitioned } = s;
    let run = if *partitioned { quote!(run_leading_partitioned) } else { quote!(run_leading_shipped) };
    let cidx: Vec<syn::Index> = (0..counters.len()).map(syn::Index::from).collect();
    // A worker's watermark starts as a copy taken before the loop: the first part observes
    // event times into the query's own while the others run.
    let wm_start = Ident::new("watermark_for_parts", proc_macro2::Span::mixed_site());
    let (wm_before, wm_part, wm_ret, wm_merge) = match wm {
        Some(wm) => (
            quote!(let #wm_start = #wm.for_part();),
            quote!(let mut #wm = #wm_start.clone();),
            quote!(#wm),
            quote!(#wm.absorb(&p.1);),
        ),
        None => (quote!(), quote!(), quote!(()), quote!()),
    };
    let (late_part, late_ret, late_merge) = match late {
        Some(l) => (
            quote!(let mut #l = #rt::structured::agg::StreamingAgg::<_, ()>::new();),
            quote!(#l),
            quote!(#l.absorb(p.2, |_, _| {});),
        ),
        None => (quote!(), quote!(()), quote!()),
    };
    // A partitioned state is kept in shards, one per worker, which merge the partials and end
    // the batch at once (`ShardedAgg`); otherwise (one group) the partials merge one by one.
    let (shards, collect, absorb, absorb_all) = if *partitioned {
        (
            quote!(#agg.set_shards(#input.workers());),
            quote!(let mut partials = ::std::vec::Vec::with_capacity(parts.len());),
            quote!(partials.push(p.0);),
            quote!(#agg.absorb_parts(partials, #merge);),
        )
    } else {
        (quote!(), quote!(), quote!(#agg.absorb(p.0, #merge);), quote!())
    };
    quote! {
        #shards
        #wm_before
        let parts = #input.#run(
            #text,
            #query,
            |lines| {
                for #line in lines {
                    #body
                }
            },
            |part| {
                let mut #agg = #rt::structured::agg::StreamingAgg::new();
                #wm_part
                #late_part
                let mut #dropped: u64 = 0;
                let mut #malformed: u64 = 0;
                #( let mut #counters: u64 = 0; )*
                for #line in part {
                    #body
                }
                (#agg, #wm_ret, #late_ret, #dropped, #malformed, (#(#counters,)*))
            },
        )?;
        #collect
        for p in parts {
            #absorb
            #wm_merge
            #late_merge
            #dropped += p.3;
            #malformed += p.4;
            #( #counters += (p.5).#cidx; )*
        }
        #absorb_all
    }
}
