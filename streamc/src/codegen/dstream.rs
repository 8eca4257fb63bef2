//! DStream code generation: a checked [`Plan`] and its [`Fused`] plan become Rust tokens that call
//! only the runtime's public API. Each stage is one loop nest; user closures are bound once per
//! batch through the runtime's type witnesses (`ops::map(ty, closure)`), which give rustc the
//! closure's expected signature, then called inline in the loop.

use super::emit::{rt, source_limits};
use crate::dstream::plan::{Builtin, Func, Initial, JoinKind, Literal, Op, OutputKind, Plan, StreamId};
use crate::physical::{Fused, is_element_fed};
use crate::span::SpanTable;
use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::quote;

struct Names {
    base: Vec<String>,
}

impl Names {
    fn new(plan: &Plan) -> Names {
        let mut base: Vec<String> = Vec::new();
        for (i, s) in plan.streams.iter().enumerate() {
            let mut b: String = s
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '_' })
                .collect();
            if b.is_empty() || base.contains(&b) {
                b = format!("{b}_{i}");
            }
            base.push(b);
        }
        Names { base }
    }

    fn ident(&self, prefix: &str, id: StreamId) -> Ident {
        // Mixed-site hygiene: user closures cannot see (or be shadowed by) these locals.
        Ident::new(&format!("{prefix}_{}", self.base[id.0]), Span::mixed_site())
    }
}

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
        .filter(|s| s.op.is_stateful() || matches!(s.op, Op::Window { .. } | Op::ReduceByKeyAndWindow { .. }))
        .map(stream_interval)
        .reduce(gcd)
        .unwrap_or(interval.max(1))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A stream's own checkpoint interval.
fn stream_interval(s: &crate::dstream::plan::Stream) -> u64 {
    s.checkpoint_ms.map_or_else(|| stream_checkpoint_interval(s.slide_ms.max(1), &s.op), |(ms, _)| ms)
}

fn stream_checkpoint_interval(slide: u64, op: &Op) -> u64 {
    match op {
        Op::MapWithState { .. } => 10 * slide,
        _ => 10_000u64.div_ceil(slide) * slide,
    }
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
        let src = names.ident("src", StreamId(i));
        let name = &s.name;
        match &s.op {
            Op::SocketTextStream { host, port } => {
                setup.extend(quote!(let #src = #b.socket_text_stream(#name, #host, #port);));
            }
            Op::TextFileStream { dir } => {
                setup.extend(quote!(let #src = #b.text_file_stream(#name, #dir);));
            }
            _ => {}
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
        let decl = match &s.op {
            Op::Window { len_ms, .. } => {
                let len = *len_ms as i64;
                quote!(let mut #p = #rt::window::Window::new(#len);)
            }
            Op::ReduceByKeyAndWindow { inverse: None, len_ms, .. } => {
                let len = *len_ms as i64;
                quote!(let mut #p = #rt::window::KeyedWindow::new(#len);)
            }
            Op::ReduceByKeyAndWindow { inverse: Some(_), len_ms, .. } => {
                let (len, slide) = (*len_ms as i64, s.slide_ms as i64);
                quote!(let mut #p = #rt::window::InvKeyedWindow::new(#len, #slide);)
            }
            Op::UpdateStateByKey(_) => quote!(let mut #p = #rt::state::UpdateState::new();),
            Op::MapWithState { timeout_ms, initial, .. } => {
                let timeout = match timeout_ms {
                    Some(t) => {
                        let t = *t as i64;
                        quote!(::core::option::Option::Some(#t))
                    }
                    None => quote!(::core::option::Option::None),
                };
                let init = match initial {
                    None => quote!(),
                    Some(Initial::Expr(c)) => {
                        let e = &plan.closures[c.0].tokens;
                        quote!(.with_initial(::std::iter::IntoIterator::into_iter(#e).collect()))
                    }
                    Some(Initial::Pairs(pairs)) => {
                        let items = pairs.iter().map(|(k, v)| {
                            let (k, v) = (owned_literal(k), owned_literal(v));
                            quote!((#k, #v))
                        });
                        quote!(.with_initial(::std::vec![#(#items),*]))
                    }
                };
                quote!(let mut #p = #rt::state::MapWithState::new(#timeout) #init;)
            }
            _ => continue,
        };
        setup.extend(decl);
        let description = state_description(plan, s);
        let name = &s.name;
        setup.extend(quote!(#b.describe_state(#name, #description);));
        persistent.push((s.name.clone(), p));
    }

    // The number of keys of each per-batch keyed table in the previous batch: the next batch's
    // table starts with that capacity, so a steady stream never grows (and rehashes) its table.
    for (i, s) in plan.streams.iter().enumerate() {
        if has_sized_table(&s.op) {
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
        let f = names.ident("f", id);
        let st = names.ident("state", id);
        let v = names.ident("v", id);
        let keep = names.ident("keep", id);
        let cap = names.ident("cap", id);
        // Sources have no input; their arm below does not use `in_ty`.
        let in_ty = names.ident("ty", s.inputs.first().copied().unwrap_or(id));
        let in_ty2 = names.ident("ty", s.inputs.get(1).copied().unwrap_or(id));
        let in_stream_ty = s.inputs.first().map(|x| &plan.streams[x.0].ty);
        let mut vec_decl = true;
        match &s.op {
            Op::SocketTextStream { .. } | Op::TextFileStream { .. } => {
                let src = names.ident("src", id);
                let t = names.ident("text", id);
                binds.extend(quote!(let #t = #input.text(#src); let #ty = #t.ty();));
                vec_decl = false;
            }
            Op::Map(func) => binds.extend(bind_fn("map", &f, &ty, &in_ty, func_tokens(plan, func, in_stream_ty), span)),
            Op::FlatMap(func) => {
                binds.extend(bind_fn("flat_map", &f, &ty, &in_ty, func_tokens(plan, func, in_stream_ty), span))
            }
            Op::Filter(func) => binds.extend(bind_fn("filter", &f, &ty, &in_ty, func_tokens(plan, func, None), span)),
            Op::MapValues(func) => {
                binds.extend(bind_fn("map_values", &f, &ty, &in_ty, func_tokens(plan, func, None), span))
            }
            Op::FlatMapValues(func) => {
                binds.extend(bind_fn("flat_map_values", &f, &ty, &in_ty, func_tokens(plan, func, None), span))
            }
            Op::Repartition(_) => binds.extend(quote!(let #ty = #in_ty;)),
            Op::Reduce(func) => {
                binds.extend(bind_fn("reduce", &f, &ty, &in_ty, func_tokens(plan, func, None), span));
                binds.extend(quote!(let mut #st = ::core::option::Option::None;));
                vec_decl = false;
            }
            Op::Count => {
                binds.extend(at(quote!(let #ty = #rt::ops::count(#in_ty);), span));
                binds.extend(quote!(let mut #st: i64 = 0;));
                vec_decl = false;
            }
            Op::ReduceByKey(func) => {
                binds.extend(bind_fn("reduce_by_key", &f, &ty, &in_ty, func_tokens(plan, func, None), span));
                let table = keyed_table(in_stream_ty.and_then(pair_types));
                binds.extend(at(quote!(let mut #st = #rt::ops::#table(#in_ty, #cap);), span));
                vec_decl = false;
            }
            Op::CountByValue => {
                binds.extend(at(quote!(let #ty = #rt::ops::count_by_value_ty(#in_ty);), span));
                let table = keyed_table(in_stream_ty.map(|k| (k, &crate::dstream::ty::Ty::Int("i64"))));
                binds.extend(at(quote!(let mut #st = #rt::ops::#table(#ty, #cap);), span));
                vec_decl = false;
            }
            Op::GroupByKey => {
                binds.extend(at(quote!(let #ty = #rt::ops::group_by_key_ty(#in_ty);), span));
                binds.extend(quote!(let mut #st = #rt::state::KeyedGroup::new();));
                vec_decl = false;
            }
            Op::Union => binds.extend(quote!(let #ty = #in_ty;)),
            Op::Join(kind) => {
                let w = Ident::new(
                    match kind {
                        JoinKind::Inner => "join_ty",
                        JoinKind::LeftOuter => "left_outer_join_ty",
                        JoinKind::RightOuter => "right_outer_join_ty",
                        JoinKind::FullOuter => "full_outer_join_ty",
                    },
                    span,
                );
                binds.extend(at(quote!(let #ty = #rt::ops::#w(#in_ty, #in_ty2);), span));
                vec_decl = false;
            }
            Op::Cogroup => {
                binds.extend(at(quote!(let #ty = #rt::ops::cogroup_ty(#in_ty, #in_ty2);), span));
                vec_decl = false;
            }
            Op::Transform(func) => {
                binds.extend(bind_fn("transform", &f, &ty, &in_ty, func_tokens(plan, func, None), span));
                vec_decl = false;
            }
            Op::Window { .. } => {
                binds.extend(at(quote!(let #ty = #rt::ops::owned(#in_ty);), span));
                vec_decl = false;
            }
            Op::ReduceByKeyAndWindow { func, inverse, filter, .. } => {
                let pane = names.ident("pane_ty", id);
                binds.extend(bind_fn("reduce_by_key", &f, &pane, &in_ty, func_tokens(plan, func, None), span));
                binds.extend(at(quote!(let #ty = #rt::ops::owned(#pane);), span));
                let table = keyed_table(in_stream_ty.and_then(pair_types));
                binds.extend(at(quote!(let mut #st = #rt::ops::#table(#in_ty, #cap);), span));
                if let Some(inv) = inverse {
                    let fi = names.ident("inverse", id);
                    let unused = names.ident("unused", id);
                    binds.extend(bind_fn("reduce_by_key", &fi, &unused, &in_ty, func_tokens(plan, inv, None), span));
                }
                let ff = names.ident("keep_if", id);
                let unused = names.ident("unused_filter", id);
                let c = match filter {
                    Some(flt) => func_tokens(plan, flt, None),
                    None => quote!(|_| true),
                };
                binds.extend(bind_fn("filter", &ff, &unused, &ty, c, span));
                vec_decl = false;
            }
            Op::UpdateStateByKey(func) => {
                binds.extend(bind_fn("update_state_by_key", &f, &ty, &in_ty, func_tokens(plan, func, None), span));
                binds.extend(quote!(let mut #st = #rt::state::KeyedGroup::new();));
                vec_decl = false;
            }
            Op::MapWithState { func, .. } => {
                binds.extend(bind_fn("map_with_state", &f, &ty, &in_ty, func_tokens(plan, func, None), span));
            }
            Op::StateSnapshots => {
                let src = names.ident("keep", s.inputs.first().copied().unwrap_or(id));
                binds.extend(at(quote!(let #ty = #rt::ops::snapshots_ty(&#src);), span));
                vec_decl = false;
            }
        }
        let _ = &keep;
        if vec_decl && phys.materialized[i] {
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

/// The key and value types of a stream of pairs, when the checker knows them.
fn pair_types(ty: &crate::dstream::ty::Ty) -> Option<(&crate::dstream::ty::Ty, &crate::dstream::ty::Ty)> {
    match ty {
        crate::dstream::ty::Ty::Tuple(items) if items.len() == 2 => Some((&items[0], &items[1])),
        _ => None,
    }
}

/// The runtime constructor of a per-batch keyed table for these key and value types: the
/// string-keyed table (`StrReduce`, keys compared in the entry) when the key is known to be
/// `&str` and the value a number, the generic `KeyedReduce` otherwise.
fn keyed_table(types: Option<(&crate::dstream::ty::Ty, &crate::dstream::ty::Ty)>) -> Ident {
    use crate::dstream::ty::Ty;
    let name = match types {
        Some((Ty::Str, Ty::Int(_) | Ty::Float(_))) => "str_keyed_reduce_sized",
        _ => "keyed_reduce_sized",
    };
    Ident::new(name, Span::call_site())
}

/// Whether the operator has a per-batch keyed table sized from the previous batch (`cap_<id>`).
fn has_sized_table(op: &Op) -> bool {
    matches!(op, Op::ReduceByKey(_) | Op::CountByValue | Op::ReduceByKeyAndWindow { .. })
}

/// Whether the collection `v_<id>` is a slice borrowed from the operator's state rather than a
/// `Vec`: the window of `reduce_by_key_and_window` with an inverse function is kept whole from
/// slide to slide, so outputs read it in place and only consumers that take elements by value
/// clone them.
fn is_borrowed(plan: &Plan, id: StreamId) -> bool {
    matches!(plan.streams[id.0].op, Op::ReduceByKeyAndWindow { inverse: Some(_), .. })
}

/// Makes the collection `v_<id>` of a materialized stream once its inputs are complete.
fn finalize(plan: &Plan, phys: &Fused, names: &Names, id: StreamId, input: &Ident) -> TokenStream {
    let rt = rt();
    let s = &plan.streams[id.0];
    let v = names.ident("v", id);
    let st = names.ident("state", id);
    let t = names.ident("text", id);
    let ty = names.ident("ty", id);
    let f = names.ident("f", id);
    let keep = names.ident("keep", id);
    let cap = names.ident("cap", id);
    let first = s.inputs.first().copied().unwrap_or(id);
    let second = s.inputs.get(1).copied().unwrap_or(id);
    let when = |body: TokenStream| match active(plan, id, input) {
        Some(c) => quote!(if #c { #body } else { ::std::vec::Vec::new() }),
        None => body,
    };
    match &s.op {
        Op::SocketTextStream { .. } | Op::TextFileStream { .. } => {
            if phys.outputs_of[id.0].is_empty() {
                quote!()
            } else {
                quote!(let mut #v = #rt::ops::vec(#ty); #v.extend(#t.lines());)
            }
        }
        Op::Reduce(_) => quote!(let mut #v: ::std::vec::Vec<_> = #st.into_iter().collect();),
        Op::Count => quote!(let mut #v = ::std::vec![#st];),
        Op::ReduceByKey(_) | Op::CountByValue => quote!(#cap = #st.len(); let mut #v = #st.into_vec();),
        Op::GroupByKey => quote!(let mut #v = #st.into_vec();),
        Op::Join(kind) => {
            let (a, b) = (take_input(plan, phys, names, first), take_input(plan, phys, names, second));
            let func = Ident::new(
                match kind {
                    JoinKind::Inner => "join",
                    JoinKind::LeftOuter => "left_outer_join",
                    JoinKind::RightOuter => "right_outer_join",
                    JoinKind::FullOuter => "full_outer_join",
                },
                Span::call_site(),
            );
            quote!(let mut #v = #rt::join::#func(#a, #b);)
        }
        Op::Cogroup => {
            let (a, b) = (take_input(plan, phys, names, first), take_input(plan, phys, names, second));
            quote!(let mut #v = #rt::join::cogroup(#a, #b);)
        }
        Op::Transform(_) => {
            let a = take_input(plan, phys, names, first);
            quote!(let mut #v: ::std::vec::Vec<_> = ::std::iter::IntoIterator::into_iter(#f(#a)).collect();)
        }
        Op::Window { .. } => {
            let a = take_input(plan, phys, names, first);
            let push = guarded(
                active(plan, first, input),
                quote!(#keep.push(#input.time_ms(), ::std::iter::IntoIterator::into_iter(#a).map(#rt::ops::into_owned).collect());),
            );
            let collect = when(quote!(#keep.collect(#input.time_ms())));
            let _ = &ty;
            quote!(#push let mut #v = #collect;)
        }
        Op::ReduceByKeyAndWindow { inverse, .. } => {
            let pane = quote!(#st.into_vec().into_iter().map(#rt::ops::into_owned).collect());
            let push = guarded(
                active(plan, first, input),
                quote!(#cap = #st.len(); #keep.push_pane(#input.time_ms(), #pane);),
            );
            let fi = names.ident("inverse", id);
            let ff = names.ident("keep_if", id);
            match inverse {
                // The window's pairs, borrowed from its state (see `is_borrowed`).
                Some(_) => {
                    let slide = quote!(#keep.slide(#input.time_ms(), &mut #f, &mut #fi, &mut #ff));
                    let result = match active(plan, id, input) {
                        Some(c) => quote!(if #c { #slide } else { &[] }),
                        None => slide,
                    };
                    quote!(#push let #v: &[_] = #result;)
                }
                None => {
                    let result = when(
                        quote!(#keep.reduce(#input.time_ms(), &mut #f).into_iter().filter(|kv| #ff(kv)).collect()),
                    );
                    quote!(#push let mut #v: ::std::vec::Vec<_> = #result;)
                }
            }
        }
        Op::UpdateStateByKey(_) => {
            let result = when(quote!(#keep.update(#st, &mut #f)));
            quote!(let mut #v = #result;)
        }
        Op::MapWithState { .. } => {
            // Spark times idle keys out when it checkpoints this stream's state (a full scan).
            let every = stream_interval(s);
            quote! {
                if #input.is_checkpoint_batch() && #input.is_multiple_of(#every) {
                    #keep.time_out(#input.time_ms(), &mut #f, &mut #v);
                }
            }
        }
        Op::StateSnapshots => {
            let src = names.ident("keep", first);
            let result = when(quote!(#src.snapshots()));
            quote!(let mut #v = #result;)
        }
        // Narrow and union streams fill their buffer from their inputs' loops.
        _ => quote!(),
    }
}

/// Moves every token of `tokens` to the user's `span` for error reporting, keeping each token's
/// hygiene (`located_at`): rustc then reports a failed operator bound at the user's operator.
fn at(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut n = Group::new(g.delimiter(), at(g.stream(), span));
                n.set_span(g.span().located_at(span));
                TokenTree::Group(n)
            }
            TokenTree::Ident(mut i) => {
                i.set_span(i.span().located_at(span));
                TokenTree::Ident(i)
            }
            TokenTree::Punct(mut p) => {
                p.set_span(p.span().located_at(span));
                TokenTree::Punct(p)
            }
            TokenTree::Literal(mut l) => {
                l.set_span(l.span().located_at(span));
                TokenTree::Literal(l)
            }
        })
        .collect()
}

/// `let (mut f, ty) = runtime::ops::OP(in_ty, closure);` located at the operator's span, with
/// the closure's own tokens (and spans) untouched.
fn bind_fn(op: &str, f: &Ident, ty: &Ident, in_ty: &Ident, closure: TokenStream, span: Span) -> TokenStream {
    let rt = rt();
    let op = Ident::new(op, span);
    let head = at(quote!(let (mut #f, #ty) = #rt::ops::#op), span);
    let arg = at(quote!(#in_ty,), span);
    quote!(#head(#arg #closure);)
}

/// Code that hands `value`, an element of `c`'s input, to operator `c`.
fn apply(plan: &Plan, phys: &Fused, names: &Names, c: StreamId, value: TokenStream, input: &Ident) -> TokenStream {
    let rt = rt();
    let f = names.ident("f", c);
    let st = names.ident("state", c);
    let x = names.ident("x", c);
    let v = names.ident("v", c);
    let keep = names.ident("keep", c);
    let next = |val: TokenStream| sink(plan, phys, names, c, val, input);
    match &plan.streams[c.0].op {
        Op::Map(_) => {
            let n = next(quote!(#x));
            quote!(let #x = #f(#value); #n)
        }
        Op::FlatMap(_) => {
            let n = next(quote!(#x));
            quote!(for #x in #f(#value) { #n })
        }
        Op::Filter(_) => {
            let n = next(quote!(#x));
            quote!(let #x = #value; if #f(&#x) { #n })
        }
        Op::MapValues(_) => {
            let n = next(quote!(#x));
            quote!(let #x = { let (k, v) = #value; (k, #f(v)) }; #n)
        }
        Op::FlatMapValues(_) => {
            let n = next(quote!((::core::clone::Clone::clone(&k), #x)));
            quote!({ let (k, v) = #value; for #x in #f(v) { #n } })
        }
        Op::Repartition(_) => next(value),
        Op::ReduceByKey(_) | Op::ReduceByKeyAndWindow { .. } => quote! {
            let #x = #rt::ops::into_pair_reduce_by_key(#value);
            #st.merge(#x.0, #x.1, &mut #f);
        },
        Op::Reduce(_) => quote! {
            #st = ::core::option::Option::Some(match #st.take() {
                ::core::option::Option::Some(acc) => #f(acc, #value),
                ::core::option::Option::None => #value,
            });
        },
        Op::Count => quote!(let _ = #value; #st += 1;),
        Op::CountByValue => quote!(#st.merge(#value, 1i64, &mut |a: i64, b: i64| a + b);),
        Op::GroupByKey | Op::UpdateStateByKey(_) => quote!({ let (k, v) = #value; #st.push(k, v); }),
        Op::MapWithState { .. } => quote! {
            let (k, v) = #value;
            let #x = #keep.call(k, v, #input.time_ms(), &mut #f);
            #v.push(#x);
        },
        Op::Union => quote!(#v.push(#value);),
        // Whole-collection readers and sources take no single elements.
        _ => quote!(),
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

/// The tokens of an operator's function: the user's closure, or a built-in's closure.
fn func_tokens(plan: &Plan, func: &Func, input: Option<&crate::dstream::ty::Ty>) -> TokenStream {
    let rt = rt();
    match func {
        Func::Closure(c) => plan.closures[c.0].tokens.clone(),
        Func::Builtin(b) => match b {
            Builtin::Split(d) => match input {
                Some(crate::dstream::ty::Ty::String) => {
                    quote!(|s: ::std::string::String| #rt::split::java_split(&s, #d).map(::std::string::String::from).collect::<::std::vec::Vec<_>>())
                }
                _ => quote!(|s| #rt::split::java_split(s, #d)),
            },
            Builtin::PairWith(lit) => {
                let l = literal(lit);
                quote!(|x| (x, #l))
            }
            Builtin::Sum => quote!(|a, b| a + b),
            Builtin::Subtract => quote!(|a, b| a - b),
            Builtin::Min => quote!(|a, b| if b < a { b } else { a }),
            Builtin::Max => quote!(|a, b| if b > a { b } else { a }),
            Builtin::UnitOne => quote!(|_| ((), 1i64)),
            Builtin::UnitKey => quote!(|x| ((), x)),
            Builtin::PairOne => quote!(|x| (x, 1i64)),
            Builtin::Second => quote!(|(_, v)| v),
            Builtin::NonZero => quote!(|kv| kv.1 != 0),
            Builtin::RunningSum => quote!(#rt::state::running_sum),
            Builtin::RunningSumMapped => quote!(#rt::state::running_sum_mapped),
        },
    }
}

/// A constant as a value kept in state: strings are owned.
fn owned_literal(lit: &Literal) -> TokenStream {
    match lit {
        Literal::Str(s) => quote!(::std::string::String::from(#s)),
        other => literal(other),
    }
}

fn literal(lit: &Literal) -> TokenStream {
    match lit {
        Literal::Int(i) => {
            let l = proc_macro2::Literal::i64_suffixed(*i);
            quote!(#l)
        }
        Literal::Float(f) => {
            let l = proc_macro2::Literal::f64_suffixed(*f);
            quote!(#l)
        }
        Literal::Bool(b) => quote!(#b),
        Literal::Str(s) => quote!(#s),
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
        let closure = match &s.op {
            Op::Map(Func::Closure(c))
            | Op::FlatMap(Func::Closure(c))
            | Op::Filter(Func::Closure(c))
            | Op::MapValues(Func::Closure(c))
            | Op::FlatMapValues(Func::Closure(c))
            | Op::Transform(Func::Closure(c))
            | Op::Reduce(Func::Closure(c))
            | Op::ReduceByKey(Func::Closure(c))
            | Op::ReduceByKeyAndWindow { func: Func::Closure(c), .. }
            | Op::UpdateStateByKey(Func::Closure(c))
            | Op::MapWithState { func: Func::Closure(c), .. } => *c,
            _ => continue,
        };
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
    match &s.op {
        Op::Window { len_ms, .. } => format!("window of {len_ms} ms over {input}"),
        Op::ReduceByKeyAndWindow { inverse, len_ms, .. } => format!(
            "reduce_by_key_and_window of {len_ms} ms sliding {} ms{} over {input}",
            s.slide_ms,
            if inverse.is_some() { " with an inverse function" } else { "" }
        ),
        other => format!("{} over {input}", other.name()),
    }
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
            Op::ReduceByKey(_) | Op::CountByValue | Op::ReduceByKeyAndWindow { .. } if phys.materialized[c.0] => {
                terminal = true
            }
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
        .filter_map(|&s| match plan.streams[s.0].op {
            Op::ReduceByKey(_) | Op::ReduceByKeyAndWindow { .. } => {
                let f = names.ident("f", s);
                Some((s, quote!(&mut #f)))
            }
            Op::CountByValue => Some((s, quote!(&mut |a: i64, b: i64| a + b))),
            _ => None,
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
