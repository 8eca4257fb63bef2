//! The code of a stage, apart from the batch loop that drives it: each materialized stream's
//! batch (`finalize`), the loops that hand its elements to the operators fused after it
//! (`apply`), and, for stages that end in pre-aggregated keyed tables, the split of that work
//! into a partial over a part of the batch and the merge of the partials ([`Split`]). How the
//! parts are scheduled (today threads of the runtime's `parallel::Parts`) is the driver's
//! business (`mod.rs`), so another scheduler can run the same stage code.

use crate::dstream::ops::emit::{Gen, Names};
use crate::dstream::plan::{Plan, StreamId};
use crate::physical::{Fused, is_element_fed};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// Whether stream `id` has a batch at the current time: always, or (windows and what follows
/// them) when the batch time is a multiple of its slide.
pub(super) fn active(plan: &Plan, id: StreamId, input: &Ident) -> Option<TokenStream> {
    let interval = plan.app.interval_ms();
    let slide = plan.streams[id.0].slide_ms;
    (slide != 0 && slide != interval).then(|| quote!(#input.is_multiple_of(#slide)))
}

/// A stream's own checkpoint interval.
pub(super) fn stream_interval(s: &crate::dstream::plan::Stream) -> u64 {
    s.checkpoint_ms.map_or_else(|| (s.op.def().codegen.checkpoint_every)(s.slide_ms.max(1)), |(ms, _)| ms)
}

/// One materialized stream's stage: the loops over its batch, and the same work split over
/// parts of the batch when its shape allows.
pub(super) struct StageCode {
    /// The loops over the whole batch, into the batch's own tables and buffers.
    pub sequential: TokenStream,
    pub split: Option<Split>,
}

/// A stage's work as a pure partial over one part of a source's lines and a merge of the
/// partials, in part order (two-phase aggregation: the result is the one `sequential` computes).
pub(super) struct Split {
    /// The name of the part (the runtime's `Lines`) in `partial`.
    pub part: Ident,
    /// The body of a function of `part`: binds the stage's functions and tables again, runs the
    /// stage over the part, and returns the tuple of its keyed tables.
    pub partial: TokenStream,
    /// Statements that merge one partial, named `p`, into the batch's tables.
    pub merge: TokenStream,
}

/// The stage of materialized stream `id`.
pub(super) fn stage_code(
    plan: &Plan,
    phys: &Fused,
    names: &Names,
    stream_binds: &[TokenStream],
    id: StreamId,
    input: &Ident,
    share: bool,
) -> StageCode {
    let (i, s) = (id.0, &plan.streams[id.0]);
    let element_readers: Vec<StreamId> =
        phys.consumers[i].iter().copied().filter(|c| is_element_fed(&plan.streams[c.0].op)).collect();
    let whole_readers = phys.consumers[i].len() - element_readers.len();
    let n = element_readers.len();
    let mut loops = TokenStream::new();
    // A source read in shares (`placement::split_ends`): this process's lines of the batch.
    let lines = names.ident("share", id);
    if share {
        let t = names.ident("text", id);
        loops.extend(quote!(let #lines = #input.share(#t);));
    }
    for (k, &c) in element_readers.iter().enumerate() {
        let x = names.ident("x", id);
        let t = names.ident("text", id);
        let v = names.ident("v", id);
        let iter = if share {
            quote!(::core::clone::Clone::clone(&#lines))
        } else if s.op.is_source() {
            quote!(#t.lines())
        } else if k + 1 == n && phys.outputs_of[i].is_empty() && whole_readers == 0 && !is_borrowed(plan, id) {
            quote!(#v.drain(..))
        } else {
            quote!(#v.iter().cloned())
        };
        let body = apply(plan, phys, names, c, quote!(#x), input);
        loops.extend(quote!(for #x in #iter { #body }));
    }
    let split = parallel_stage(plan, phys, id).map(|stage| split(plan, phys, names, stream_binds, id, &stage, input));
    StageCode { sequential: loops, split }
}

/// The input collection of a whole-collection reader: moved out when nothing else reads it,
/// cloned otherwise.
pub(super) fn take_input(plan: &Plan, phys: &Fused, names: &Names, from: StreamId) -> TokenStream {
    let v = names.ident("v", from);
    let t = names.ident("text", from);
    if plan.streams[from.0].op.is_source() {
        return quote!(#t.lines().collect::<::std::vec::Vec<_>>());
    }
    if is_borrowed(plan, from) {
        quote!(#v.to_vec())
    } else if phys.consumers[from.0].len() == 1 && phys.outputs_of[from.0].is_empty() {
        quote!(::core::mem::take(&mut #v))
    } else {
        quote!(#v.clone())
    }
}

/// Whether the collection `v_<id>` is a slice borrowed from the operator's state rather than a
/// `Vec` (its `borrows`): the window of `reduce_by_key_and_window`, and every key's state of
/// `update_state_by_key`, are kept whole from batch to batch, so outputs read them in place and
/// only consumers that take elements by value clone them.
pub(super) fn is_borrowed(plan: &Plan, id: StreamId) -> bool {
    let s = &plan.streams[id.0];
    (s.op.def().codegen.borrows)(s)
}

/// Makes the collection `v_<id>` of a materialized stream once its inputs are complete.
pub(super) fn finalize(plan: &Plan, phys: &Fused, names: &Names, id: StreamId, input: &Ident) -> TokenStream {
    (plan.streams[id.0].op.def().codegen.finish)(&stream_gen(plan, phys, names, id, input, Span::call_site()))
}

/// Code that hands `value`, an element of `c`'s input, to operator `c`.
fn apply(plan: &Plan, phys: &Fused, names: &Names, c: StreamId, value: TokenStream, input: &Ident) -> TokenStream {
    let next = |val: TokenStream| sink(plan, phys, names, c, val, input);
    (plan.streams[c.0].op.def().codegen.apply)(
        &stream_gen(plan, phys, names, c, input, Span::call_site()),
        value,
        &next,
    )
}

/// What stream `id`'s code generation pieces see.
pub(super) fn stream_gen<'a>(
    plan: &'a Plan,
    phys: &Fused,
    names: &'a Names,
    id: StreamId,
    input: &'a Ident,
    span: Span,
) -> Gen<'a> {
    let s = &plan.streams[id.0];
    Gen {
        plan,
        names,
        id,
        stream: s,
        span,
        input,
        active: active(plan, id, input),
        input_active: s.inputs.first().and_then(|&first| active(plan, first, input)),
        taken: s.inputs.iter().map(|&from| take_input(plan, phys, names, from)).collect(),
        has_outputs: !phys.outputs_of[id.0].is_empty(),
        checkpoint_every: stream_interval(s),
    }
}

/// Whether stream `id`'s rows are counted as they pass (`rows_<id>`, for the UI's rows per
/// operator): a fused stream's, which no collection holds. A materialized stream's are its
/// collection's length.
pub(super) fn counted(plan: &Plan, phys: &Fused, id: StreamId) -> bool {
    !phys.materialized[id.0] && !plan.streams[id.0].op.is_source()
}

/// Code run for each element `value` of stream `s`: buffer it, or count it and hand it to the
/// fused consumer.
fn sink(plan: &Plan, phys: &Fused, names: &Names, s: StreamId, value: TokenStream, input: &Ident) -> TokenStream {
    if phys.materialized[s.0] {
        let v = names.ident("v", s);
        return quote!(#v.push(#value););
    }
    let rt = crate::dstream::ops::emit::rt();
    let n = names.ident("rows", s);
    let count = quote!(if #rt::ROW_COUNTS { #n += 1; });
    match phys.fused_consumer(s) {
        Some(c) => {
            let next = apply(plan, phys, names, c, value, input);
            quote!(#count #next)
        }
        None => quote!(#count let _ = #value;),
    }
}

/// The streams a source's lines flow through, fused, when they can be split over workers: only
/// narrow operators, ending in per-batch keyed tables (`reduce_by_key`, `count_by_value`, and
/// the pane of `reduce_by_key_and_window`), merged afterwards in line order. `None`
/// for any other shape, and for `stream!` pipelines that did not opt in with `parallel()` (their
/// closures may capture state that cannot be shared between threads).
pub(super) fn parallel_stage(plan: &Plan, phys: &Fused, source: StreamId) -> Option<Vec<StreamId>> {
    if !plan.streams[source.0].op.is_source() || !(plan.app.frontend == crate::program::Frontend::Yaml || plan.parallel)
    {
        return None;
    }
    // Workers split a batch's text by lines; a Kafka batch is read as records.
    if matches!(plan.streams[source.0].op, crate::dstream::plan::Op::KafkaDirectStream { .. }) {
        return None;
    }
    let mut stage = Vec::new();
    let mut pending: Vec<StreamId> = phys.consumers[source.0].clone();
    let mut terminal = false;
    while let Some(c) = pending.pop() {
        let s = &plan.streams[c.0];
        if s.inputs.len() != 1 {
            return None;
        }
        match &s.op {
            // A per-batch keyed table that workers pre-aggregate ends the stage.
            op if op.def().codegen.merge.is_some() && phys.materialized[c.0] => terminal = true,
            op if (op.def().codegen.in_workers)(s, &plan.streams[s.inputs[0].0].ty) && !phys.materialized[c.0] => {
                pending.extend(phys.fused_consumer(c));
            }
            _ => return None,
        }
        stage.push(c);
    }
    terminal.then_some(stage)
}

/// The partial and the merge of a parallel stage (see [`parallel_stage`]).
fn split(
    plan: &Plan,
    phys: &Fused,
    names: &Names,
    stream_binds: &[TokenStream],
    source: StreamId,
    stage: &[StreamId],
    input: &Ident,
) -> Split {
    let x = names.ident("x", source);
    let part = Ident::new("part", Span::mixed_site());
    let mut worker_binds = TokenStream::new();
    let mut ordered: Vec<StreamId> = stage.to_vec();
    ordered.sort_by_key(|s| s.0);
    for s in &ordered {
        worker_binds.extend(stream_binds[s.0].clone());
    }
    let mut bodies = TokenStream::new();
    for &c in &phys.consumers[source.0] {
        let body = apply(plan, phys, names, c, quote!(#x), input);
        bodies.extend(quote!(for #x in ::core::clone::Clone::clone(&#part) { #body }));
    }
    // The per-batch keyed tables of the stage and how two values of a key combine.
    let tables: Vec<(StreamId, TokenStream)> = ordered
        .iter()
        .filter_map(|&s| {
            let merge = plan.streams[s.0].op.def().codegen.merge?;
            Some((s, merge(&stream_gen(plan, phys, names, s, input, Span::call_site()))))
        })
        .collect();
    // The runtime's partial traits (`Shipped`, `Partition`) take tuples of up to 12: more
    // tables go in a tuple of such tuples.
    let chunks: Vec<&[(StreamId, TokenStream)]> = tables.chunks(12).collect();
    let groups: Vec<TokenStream> = chunks
        .iter()
        .map(|chunk| {
            let states = chunk.iter().map(|(s, _)| names.ident("state", *s));
            quote!((#(#states,)*))
        })
        .collect();
    let mut absorbs = TokenStream::new();
    for (g, chunk) in chunks.iter().enumerate() {
        let g = syn::Index::from(g);
        for (k, (s, f)) in chunk.iter().enumerate() {
            let (st, k) = (names.ident("state", *s), syn::Index::from(k));
            absorbs.extend(quote!(#st.absorb(p.#g.#k, #f);));
        }
    }
    // The rows each part counted in its fused streams, added up.
    let counters: Vec<Ident> =
        ordered.iter().filter(|&&s| counted(plan, phys, s)).map(|&s| names.ident("rows", s)).collect();
    let (counted_groups, adds) = counted_groups(&counters);
    Split {
        part,
        partial: quote! {
            #worker_binds
            #bodies
            ((#(#groups,)*), #counted_groups)
        },
        merge: quote! {
            let (p, counted) = p;
            #absorbs
            #adds
        },
    }
}

/// The rows counted in a partial's fused streams as a value it returns (a tuple of tuples of
/// at most 12: the runtime's partial traits take tuples of up to 12), and the statements that
/// add one such value, named `counted`, to the batch's counters.
pub(super) fn counted_groups(counters: &[Ident]) -> (TokenStream, TokenStream) {
    let (mut groups, mut adds) = (Vec::new(), TokenStream::new());
    for (g, chunk) in counters.chunks(12).enumerate() {
        groups.push(quote!((#(#chunk,)*)));
        let g = syn::Index::from(g);
        for (k, c) in chunk.iter().enumerate() {
            let k = syn::Index::from(k);
            adds.extend(quote!(#c += counted.#g.#k;));
        }
    }
    (quote!((#(#groups,)*)), adds)
}
