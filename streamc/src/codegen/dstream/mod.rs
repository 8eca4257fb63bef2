//! DStream code generation: a checked [`Plan`] and its [`Fused`] plan become Rust tokens that call
//! only the runtime's public API. Each stage is one loop nest; user closures are bound once per
//! batch through the runtime's type witnesses (`ops::map(ty, closure)`), which give rustc the
//! closure's expected signature, then called inline in the loop.

mod placement;
mod shuffle;
mod stage;

use super::emit::{rt, source_limits};
use crate::dstream::ops::emit::{Names, at};
use crate::dstream::plan::{Func, OutputKind, Plan, StreamId};
use crate::physical::Fused;
use crate::span::SpanTable;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use stage::{Split, active, stream_gen, stream_interval};

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
    let interval = plan.app.interval_ms();
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

/// The expression that builds the app: `AppBuilder` setup plus the per-batch closure.
pub fn app_expr(plan: &Plan, phys: &Fused, spans: &SpanTable) -> TokenStream {
    let rt = rt();
    let names = Names::new(plan);
    let b = Ident::new("builder", Span::mixed_site());
    let input = Ident::new("input", Span::mixed_site());
    let output = Ident::new("output", Span::mixed_site());
    let app_name = &plan.app.name;
    let interval = plan.app.interval_ms();
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
        persistent.push((id, s.name.clone(), p));
    }

    // The number of keys of each per-batch keyed table in the previous batch: the next batch's
    // table starts with that capacity, so a steady stream never grows (and rehashes) its table.
    for (i, s) in plan.streams.iter().enumerate() {
        if s.op.def().codegen.merge.is_some() {
            let cap = names.ident("cap", StreamId(i));
            setup.extend(quote!(let mut #cap: usize = 0;));
        }
    }

    // Where each batch is in a cluster (`placement`): which split stages exchange their keyed
    // tables by key, where parts are put together, which states are partitioned by key.
    let shipped = plan.app.frontend == crate::program::Frontend::Yaml;
    let stages: Vec<Option<Vec<StreamId>>> =
        (0..plan.streams.len()).map(|s| stage::parallel_stage(plan, phys, StreamId(s))).collect();
    let placement = placement::place(plan, phys, &stages, shipped);
    // A source every reader of which runs over a cluster process's share of the batch (its
    // split stage, its shuffle, or its chains over shares) is read in shares: each process
    // reads only its byte range of a replayed file, or gets only its share of a live source's
    // batch from process 0.
    for (i, s) in plan.streams.iter().enumerate() {
        let id = StreamId(i);
        if shipped
            && s.op.is_source()
            && !plan.outputs.iter().any(|o| o.input == id)
            && (stages[i].is_some() || shuffle::shuffle_stage(plan, phys, id).is_some() || placement.split_source[i])
        {
            let src = names.ident("src", id);
            setup.extend(quote!(#b.read_in_shares(#src);));
        }
    }

    // Per batch: restore state after a restart, bind witnesses and closures, declare buffers.
    let mut binds = TokenStream::new();
    for (id, name, p) in &persistent {
        binds.extend(if placement.keyed_state[id.0] {
            quote!(#input.restore_partitioned(#name, &mut #p)?;)
        } else {
            quote!(#input.restore(#name, &mut #p)?;)
        });
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
        // A fused stream's rows are counted as they pass (only with the UI: `ROW_COUNTS`).
        if stage::counted(plan, phys, id) {
            let n = names.ident("rows", id);
            binds.extend(quote!(let mut #n: u64 = 0;));
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
    for i in 0..plan.streams.len() {
        if !phys.materialized[i] {
            continue;
        }
        let id = StreamId(i);
        drive.extend(stage::finalize(plan, phys, &names, id, &input));
        // Rows per materialized stream, for the UI (a source's are the batch's input rows).
        if !plan.streams[i].op.is_source() {
            let (node, v) = (crate::explain::node_id(i), names.ident("v", id));
            drive.extend(guarded(active(plan, id, &input), quote!(#output.report_rows(#node, #v.len());)));
        }
        if placement.gather[i] {
            drive.extend(gather_whole(plan, &names, id, &input));
        } else if placement.exchange[i] {
            // Pairs in parts, sent by key for the keyed operators after them.
            let v = names.ident("v", id);
            let call = quote!(#input.exchange_by_key(#v)?);
            drive.extend(match active(plan, id, &input) {
                Some(c) => quote!(let mut #v = if #c { #call } else { #v };),
                None => quote!(let mut #v = #call;),
            });
        }
        let code = stage::stage_code(plan, phys, &names, &stream_binds, id, &input, placement.split_source[i]);
        let loops = match code.split {
            Some(split) => {
                let exchange = match (shipped, placement.keyed_stage[i]) {
                    (true, true) => Exchange::ByKey,
                    (true, false) => Exchange::ToAll,
                    (false, _) => Exchange::None,
                };
                on_workers(&names, id, &input, split, code.sequential, exchange)
            }
            None if shipped => {
                let sequential = code.sequential.clone();
                shuffle::code(plan, phys, &names, &stream_binds, id, &input, sequential).unwrap_or(code.sequential)
            }
            None => code.sequential,
        };
        drive.extend(guarded(active(plan, id, &input), loops));
    }
    // Rows of the fused streams, counted in their loops.
    let mut counts = TokenStream::new();
    for i in 0..plan.streams.len() {
        let id = StreamId(i);
        if stage::counted(plan, phys, id) {
            let (node, n) = (crate::explain::node_id(i), names.ident("rows", id));
            counts.extend(guarded(active(plan, id, &input), quote!(#output.report_rows(#node, #n);)));
        }
    }
    if !counts.is_empty() {
        drive.extend(quote!(if #rt::ROW_COUNTS { #counts }));
    }
    // Each stateful stream's state, for the progress line and the UI (after the outputs, which
    // may read a state's result in place).
    let mut states = TokenStream::new();
    for (i, s) in plan.streams.iter().enumerate() {
        if s.op.def().codegen.keep.is_some() {
            let (node, op, keep) = (crate::explain::node_id(i), s.op.name(), names.ident("keep", StreamId(i)));
            states.extend(quote!(#output.report_operator_state(#node, #op, &#keep, 0u64, 0u64);));
        }
    }
    let mut emits = TokenStream::new();
    // A batch in parts is put together on process 0 for the outputs (once per stream).
    for (i, gathered) in placement.gather_out.iter().enumerate() {
        if *gathered {
            let id = StreamId(i);
            let (v, g) = (names.ident("v", id), names.ident("out", id));
            let part = if stage::is_borrowed(plan, id) { quote!(#v.to_vec()) } else { quote!(#v) };
            // The outputs that read it, which say how many of its records they need.
            let outs: Option<Vec<Ident>> = plan
                .outputs
                .iter()
                .enumerate()
                .filter(|(_, o)| o.input == id)
                .map(|(k, o)| (!matches!(o.kind, OutputKind::ForeachBatch(_))).then(|| out_ident(k)))
                .collect();
            let call = match outs {
                Some(outs) => quote!(#input.gather_output(#output, &[#(#outs),*], #part)?),
                None => quote!(#input.gather(#part, false)?),
            };
            emits.extend(match active(plan, id, &input) {
                Some(c) => quote!(let #g = if #c { #call } else { ::std::vec::Vec::new() };),
                None => quote!(let #g = #call;),
            });
        }
    }
    for (k, o) in plan.outputs.iter().enumerate() {
        let out = out_ident(k);
        let span = spans.token_span(o.span);
        let v = if placement.gather_out[o.input.0] { names.ident("out", o.input) } else { names.ident("v", o.input) };
        let stmt = match &o.kind {
            OutputKind::ForeachBatch(_) => {
                // Once per batch, as Spark's driver runs it: on process 0 of a cluster.
                let fo = Ident::new(&format!("foreach_{k}"), Span::mixed_site());
                at(quote!(if #input.is_leader() { #fo(#input.time_ms(), &#v); }), span)
            }
            _ => at(quote!(#output.emit(#out, &#v)?;), span),
        };
        emits.extend(guarded(active(plan, o.input, &input), stmt));
    }
    let mut saves = TokenStream::new();
    for (id, name, p) in &persistent {
        saves.extend(if placement.keyed_state[id.0] {
            quote!(#input.save_partitioned(#output, #name, &#p);)
        } else {
            quote!(#output.save_state(#name, &#p);)
        });
    }
    if !persistent.is_empty() {
        saves = quote!(if #input.is_checkpoint_batch() { #saves });
    }
    let plan_dot = crate::explain::dot_dstream(plan, phys);
    let plan_text = crate::explain::explain_dstream(plan, phys);
    quote! {
        {
            let mut #b = #rt::AppBuilder::new(#app_name, ::core::time::Duration::from_millis(#interval));
            #b.plan(#plan_text, #plan_dot);
            #setup
            #b.build(move |#input: &#rt::BatchInput, #output: &mut #rt::BatchOutput| -> ::core::result::Result<(), #rt::Error> {
                #[allow(unused_mut, unused_variables, clippy::all)]
                let result = {
                    #binds
                    #drive
                    #emits
                    #states
                    #saves
                    ::core::result::Result::Ok(())
                };
                result
            })
        }
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

/// How a split stage's partials cross a cluster's processes.
enum Exchange {
    /// They do not (`stream!` closures' partials may hold any type): each process runs the
    /// whole batch.
    None,
    /// Every process gets every partial and merges the whole batch.
    ToAll,
    /// Each partial is cut by key, and each process merges the keys it owns (`placement`).
    ByKey,
}

/// Hands a stage's partials to the engine (`BatchInput::run_partials`, which decides whether and
/// how to split the batch) and merges them in part order; the sequential loops when the engine
/// runs the stage in one piece. A YAML pipeline's partials hold only built-in types, so they
/// may also cross a cluster's processes (`run_partials_shipped`, `run_partials_partitioned`).
fn on_workers(
    names: &Names,
    source: StreamId,
    input: &Ident,
    split: Split,
    sequential: TokenStream,
    exchange: Exchange,
) -> TokenStream {
    let t = names.ident("text", source);
    let Split { part, partial, merge } = split;
    let run = match exchange {
        Exchange::ByKey => quote!(#input.run_partials_partitioned(#t, |#part| { #partial })?),
        Exchange::ToAll => quote!(#input.run_partials_shipped(#t, |#part| { #partial })?),
        Exchange::None => quote!(#input.run_partials(#t, |#part| { #partial })),
    };
    quote! {
        match #run {
            ::core::option::Option::Some(partials) => {
                for p in partials {
                    #merge
                }
            }
            ::core::option::Option::None => {
                #sequential
            }
        }
    }
}

/// Puts the batch of stream `id`, in parts over a cluster's processes, together on every
/// process (when the stream has a batch now), in place of its parts.
fn gather_whole(plan: &Plan, names: &Names, id: StreamId, input: &Ident) -> TokenStream {
    let v = names.ident("v", id);
    let cond = active(plan, id, input);
    if stage::is_borrowed(plan, id) {
        let g = names.ident("whole", id);
        let call = quote!(#input.gather(#v.to_vec(), true)?);
        let value = match cond {
            Some(c) => quote!(if #c { #call } else { ::std::vec::Vec::new() }),
            None => call,
        };
        quote!(let #g = #value; let #v: &[_] = &#g;)
    } else {
        let call = quote!(#input.gather(#v, true)?);
        let value = match cond {
            Some(c) => quote!(if #c { #call } else { #v }),
            None => call,
        };
        quote!(let mut #v = #value;)
    }
}
