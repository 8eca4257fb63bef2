//! DStream code generation: a checked [`Plan`] and its [`Fused`] plan become Rust tokens that call
//! only the runtime's public API. Each stage is one loop nest; user closures are bound once per
//! batch through the runtime's type witnesses (`ops::map(ty, closure)`), which give rustc the
//! closure's expected signature, then called inline in the loop.

use super::emit::{rt, source_limits};
use crate::dstream::ops::emit::{Gen, Names, at};
use crate::dstream::plan::{Func, Op, OutputKind, Plan, StreamId};
use crate::physical::{Fused, is_element_fed};
use crate::span::SpanTable;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// Whether stream `id` has a batch at the current time: always, or (windows and what follows
/// them) when the batch time is a multiple of its slide.
fn active(plan: &Plan, id: StreamId, input: &Ident) -> Option<TokenStream> {
    let interval = plan.app.batch_interval_ms.map_or(1000, |(ms, _)| ms);
    let slide = plan.streams[id.0].slide_ms;
    (slide != 0 && slide != interval).then(|| quote!(#input.is_multiple_of(#slide)))
}

fn guarded(cond: Option<TokenStream>, body: TokenStream) -> TokenStream {
    match cond {
        Some(c) => quote!(if #c { #body }),
        None => body,
    }
}

/// The app's checkpoint interval: a checkpoint is written whenever one of its stateful streams
/// is due (each at its own interval: set with `checkpoint(interval)`, or Spark's default:
/// `map_with_state` 10 × slide, others the smallest multiple of the slide ≥ 10 s), so the app
/// interval is their greatest common divisor.
pub fn checkpoint_interval_ms(plan: &Plan) -> u64 {
    let interval = plan.app.batch_interval_ms.map_or(1000, |(ms, _)| ms);
    plan.streams
        .iter()
        .filter(|s| s.op.def().codegen.keep.is_some())
        .map(stream_interval)
        .reduce(gcd)
        .unwrap_or(interval.max(1))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A stream's own checkpoint interval.
fn stream_interval(s: &crate::dstream::plan::Stream) -> u64 {
    s.checkpoint_ms.map_or_else(|| (s.op.def().codegen.checkpoint_every)(s.slide_ms.max(1)), |(ms, _)| ms)
}

/// The expression that builds the app: `AppBuilder` setup plus the per-batch closure.
pub fn app_expr(plan: &Plan, phys: &Fused, spans: &SpanTable) -> TokenStream {
    let rt = rt();
    let names = Names::new(plan);
    let b = Ident::new("builder", Span::mixed_site());
    let input = Ident::new("input", Span::mixed_site());
    let output = Ident::new("output", Span::mixed_site());
    let app_name = &plan.app.name;
    let interval = plan.app.batch_interval_ms.map(|(ms, _)| ms).unwrap_or(1000);
    let mut setup = TokenStream::new();
    if let Some((dir, _)) = &plan.app.checkpoint_dir {
        let every = checkpoint_interval_ms(plan);
        setup.extend(quote!(#b.checkpoint(#dir, #every);));
    }
    setup.extend(source_limits(&plan.app, &b));
    for (i, s) in plan.streams.iter().enumerate() {
        if let Some(source) = s.op.def().codegen.setup {
            setup.extend(source(&stream_gen(plan, phys, &names, StreamId(i), &input, Span::call_site()), &b));
        }
    }
    let out_ident = |k: usize| Ident::new(&format!("out_{k}"), Span::mixed_site());
    for (k, o) in plan.outputs.iter().enumerate() {
        let out = out_ident(k);
        let stream_name = &plan.streams[o.input.0].name;
        match &o.kind {
            OutputKind::Print { num } => setup.extend(quote!(let #out = #b.print(#stream_name, #num);)),
            OutputKind::SaveAsTextFiles { prefix, suffix } => {
                setup.extend(quote!(let #out = #b.save_as_text_files(#stream_name, #prefix, #suffix);))
            }
            OutputKind::ForeachBatch(_) => {}
        }
    }

    // State that lives across batches: declared once, moved into the batch closure.
    let mut persistent = Vec::new();
    for (i, s) in plan.streams.iter().enumerate() {
        let id = StreamId(i);
        let p = names.ident("keep", id);
        let Some(keep) = s.op.def().codegen.keep else { continue };
        let decl = keep(&stream_gen(plan, phys, &names, id, &input, Span::call_site()));
        setup.extend(decl);
        let description = state_description(plan, s);
        let name = &s.name;
        setup.extend(quote!(#b.describe_state(#name, #description);));
        persistent.push((s.name.clone(), p));
    }

    // The number of keys of each per-batch keyed table in the previous batch: the next batch's
    // table starts with that capacity, so a steady stream never grows (and rehashes) its table.
    for (i, s) in plan.streams.iter().enumerate() {
        if s.op.def().codegen.merge.is_some() {
            let cap = names.ident("cap", StreamId(i));
            setup.extend(quote!(let mut #cap: usize = 0;));
        }
    }

    // Per batch: restore state after a restart, bind witnesses and closures, declare buffers.
    let mut binds = TokenStream::new();
    for (name, p) in &persistent {
        binds.extend(quote!(#input.restore(#name, &mut #p)?;));
    }
    // Each stream's own bindings too, for the workers of a parallel stage (which bind again).
    let mut stream_binds: Vec<TokenStream> = Vec::with_capacity(plan.streams.len());
    let mut outer_binds = std::mem::take(&mut binds);
    for (i, s) in plan.streams.iter().enumerate() {
        let mut binds = TokenStream::new();
        let id = StreamId(i);
        let span = spans.token_span(s.op_span);
        let ty = names.ident("ty", id);
        let v = names.ident("v", id);
        let bind = (s.op.def().codegen.bind)(&stream_gen(plan, phys, &names, id, &input, span));
        binds.extend(bind.tokens);
        if bind.buffer && phys.materialized[i] {
            binds.extend(quote!(let mut #v = #rt::ops::vec(#ty);));
        }
        // Elements read more than once (several operators, or operators and outputs) are cloned.
        let readers = phys.consumers[i].len() + usize::from(!phys.outputs_of[i].is_empty());
        if readers > 1 && !s.op.is_source() && !phys.consumers[i].is_empty() {
            binds.extend(at(quote!(let _ = #rt::ops::cloneable(#ty);), spans.token_span(s.name_span)));
        }
        outer_binds.extend(binds.clone());
        stream_binds.push(binds);
    }
    let mut binds = outer_binds;
    for (k, o) in plan.outputs.iter().enumerate() {
        if let OutputKind::ForeachBatch(c) = &o.kind {
            let fo = Ident::new(&format!("foreach_{k}"), Span::mixed_site());
            let ty = names.ident("ty", o.input);
            let c = plan.closures[c.0].tokens.clone();
            let head = at(quote!(let mut #fo = #rt::ops::foreach_batch), spans.token_span(o.span));
            let arg = at(quote!(#ty,), spans.token_span(o.span));
            binds.extend(quote!(#head(#arg #c);));
        }
    }

    // Drive: each materialized collection, in dependency order, feeds its consumers.
    let mut drive = TokenStream::new();
    for (i, s) in plan.streams.iter().enumerate() {
        if !phys.materialized[i] {
            continue;
        }
        let id = StreamId(i);
        drive.extend(finalize(plan, phys, &names, id, &input));
        let element_readers: Vec<StreamId> =
            phys.consumers[i].iter().copied().filter(|c| is_element_fed(&plan.streams[c.0].op)).collect();
        let whole_readers = phys.consumers[i].len() - element_readers.len();
        let n = element_readers.len();
        let mut loops = TokenStream::new();
        for (k, &c) in element_readers.iter().enumerate() {
            let x = names.ident("x", id);
            let t = names.ident("text", id);
            let v = names.ident("v", id);
            let iter = if s.op.is_source() {
                quote!(#t.lines())
            } else if k + 1 == n && phys.outputs_of[i].is_empty() && whole_readers == 0 && !is_borrowed(plan, id) {
                quote!(#v.drain(..))
            } else {
                quote!(#v.iter().cloned())
            };
            let body = apply(plan, phys, &names, c, quote!(#x), &input);
            loops.extend(quote!(for #x in #iter { #body }));
        }
        if let Some(stage) = parallel_stage(plan, phys, id) {
            loops = parallel_loops(plan, phys, &names, &stream_binds, id, &stage, loops, &input);
        }
        drive.extend(guarded(active(plan, id, &input), loops));
    }
    let mut emits = TokenStream::new();
    for (k, o) in plan.outputs.iter().enumerate() {
        let out = out_ident(k);
        let span = spans.token_span(o.span);
        let v = names.ident("v", o.input);
        let stmt = match &o.kind {
            OutputKind::ForeachBatch(_) => {
                let fo = Ident::new(&format!("foreach_{k}"), Span::mixed_site());
                at(quote!(#fo(#input.time_ms(), &#v);), span)
            }
            _ => at(quote!(#output.emit(#out, &#v)?;), span),
        };
        emits.extend(guarded(active(plan, o.input, &input), stmt));
    }
    let mut saves = TokenStream::new();
    for (name, p) in &persistent {
        saves.extend(quote!(#output.save_state(#name, &#p);));
    }
    if !persistent.is_empty() {
        saves = quote!(if #input.is_checkpoint_batch() { #saves });
    }
    quote! {
        {
            let mut #b = #rt::AppBuilder::new(#app_name, ::core::time::Duration::from_millis(#interval));
            #setup
            #b.build(move |#input: &#rt::BatchInput, #output: &mut #rt::BatchOutput| -> ::core::result::Result<(), #rt::Error> {
                #[allow(unused_mut, unused_variables, clippy::all)]
                let result = {
                    #binds
                    #drive
                    #emits
                    #saves
                    ::core::result::Result::Ok(())
                };
                result
            })
        }
    }
}

/// The input collection of a whole-collection reader: moved out when nothing else reads it,
/// cloned otherwise.
fn take_input(plan: &Plan, phys: &Fused, names: &Names, from: StreamId) -> TokenStream {
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
/// `Vec`: the window of `reduce_by_key_and_window` with an inverse function is kept whole from
/// slide to slide, so outputs read it in place and only consumers that take elements by value
/// clone them.
fn is_borrowed(plan: &Plan, id: StreamId) -> bool {
    let s = &plan.streams[id.0];
    (s.op.def().codegen.borrows)(s)
}

/// Makes the collection `v_<id>` of a materialized stream once its inputs are complete.
fn finalize(plan: &Plan, phys: &Fused, names: &Names, id: StreamId, input: &Ident) -> TokenStream {
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
fn stream_gen<'a>(
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

/// Code run for each element `value` of stream `s`: buffer it, or hand it to the fused consumer.
fn sink(plan: &Plan, phys: &Fused, names: &Names, s: StreamId, value: TokenStream, input: &Ident) -> TokenStream {
    if phys.materialized[s.0] {
        let v = names.ident("v", s);
        return quote!(#v.push(#value););
    }
    match phys.fused_consumer(s) {
        Some(c) => apply(plan, phys, names, c, value, input),
        None => quote!(let _ = #value;),
    }
}

/// Where each user closure sits in a generated `main.rs`: the 1-based line range of the
/// statement that binds it, and the closure's span in the spec. Lets the CLI report rustc's
/// errors inside YAML closures at the YAML line.
pub fn closure_sites(plan: &Plan, main_rs: &str) -> Vec<(std::ops::RangeInclusive<usize>, crate::span::SpanId)> {
    let names = Names::new(plan);
    let lines: Vec<&str> = main_rs.lines().collect();
    let mut sites = Vec::new();
    for (i, s) in plan.streams.iter().enumerate() {
        let Some(Func::Closure(closure)) = s.op.func() else { continue };
        let needle = format!("let (mut {}, ", names.ident("f", StreamId(i)));
        let Some(start) = lines.iter().position(|l| l.trim_start().starts_with(&needle)) else { continue };
        let indent = lines[start].len() - lines[start].trim_start().len();
        // The statement ends at the first later line, at the same indentation, that ends with `;`.
        let end = (start..lines.len())
            .find(|&j| lines[j].ends_with(';') && lines[j].len() - lines[j].trim_start().len() == indent)
            .unwrap_or(start);
        sites.push((start + 1..=end + 1, plan.closures[closure.0].span));
    }
    sites
}

/// What a stateful stream keeps, for checkpoints (the runtime's `AppBuilder::describe_state`):
/// its operator, window and the element type it reads, so that a restart with a changed
/// pipeline is refused.
fn state_description(plan: &Plan, s: &crate::dstream::plan::Stream) -> String {
    let input = s.inputs.first().map_or_else(|| "?".to_owned(), |i| plan.streams[i.0].ty.to_string());
    (s.op.def().codegen.describe)(s, &input)
}

/// The streams a source's lines flow through, fused, when they can be split over workers: only
/// narrow operators, ending in per-batch keyed tables (`reduce_by_key`, `count_by_value`, and
/// the pane of `reduce_by_key_and_window`), merged afterwards in line order. `None`
/// for any other shape, and for `stream!` pipelines that did not opt in with `parallel()` (their
/// closures may capture state that cannot be shared between threads).
fn parallel_stage(plan: &Plan, phys: &Fused, source: StreamId) -> Option<Vec<StreamId>> {
    if !plan.streams[source.0].op.is_source() || !(plan.app.frontend == crate::program::Frontend::Yaml || plan.parallel)
    {
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
            Op::Map(_) | Op::FlatMap(_) | Op::Filter(_) | Op::MapValues(_) | Op::FlatMapValues(_)
                if !phys.materialized[c.0] =>
            {
                pending.extend(phys.fused_consumer(c));
            }
            _ => return None,
        }
        stage.push(c);
    }
    terminal.then_some(stage)
}

/// The loops over a source's lines (`sequential`), and a parallel version for large batches:
/// each worker binds the stage's functions and tables again, runs the same loop body over its
/// share of the lines, and returns its tables, which are merged into the batch's in line order.
#[allow(clippy::too_many_arguments)]
fn parallel_loops(
    plan: &Plan,
    phys: &Fused,
    names: &Names,
    stream_binds: &[TokenStream],
    source: StreamId,
    stage: &[StreamId],
    sequential: TokenStream,
    input: &Ident,
) -> TokenStream {
    let rt = rt();
    let t = names.ident("text", source);
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
    let states: Vec<Ident> = tables.iter().map(|(s, _)| names.ident("state", *s)).collect();
    let fs: Vec<&TokenStream> = tables.iter().map(|(_, f)| f).collect();
    let idx: Vec<syn::Index> = (0..tables.len()).map(syn::Index::from).collect();
    quote! {
        let workers = #input.workers_for(#t);
        if workers > 1 {
            let partials = #rt::parallel::Parts::new(#t.split_lines(workers), |#part| {
                #worker_binds
                #bodies
                (#(#states,)*)
            })
            .run();
            for p in partials {
                #( #states.absorb(p.#idx, #fs); )*
            }
        } else {
            #sequential
        }
    }
}
