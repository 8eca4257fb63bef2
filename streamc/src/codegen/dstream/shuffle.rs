//! A stage that ends in a keyed state (`update_state_by_key`, `map_with_state`), split over a
//! cluster's processes: each process runs the source's fused narrow operators over its share
//! of the batch, collecting the pairs bound for the state; every pair goes to the process that
//! owns its key (`BatchInput::shuffle_by_key`), which feeds the pairs it received, in process
//! order (so each key's values in batch order), to its part of the state. Outside a cluster the
//! stage runs as it always does.

use super::stage::{counted, counted_groups, stream_gen};
use crate::dstream::ops::Kind;
use crate::dstream::ops::emit::Names;
use crate::dstream::plan::{Plan, StreamId};
use crate::physical::Fused;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// The shuffle stage of `source`: the fused narrow streams from it, and the keyed state that
/// ends them; `None` unless the source's one reader starts such a chain.
pub(super) fn shuffle_stage(plan: &Plan, phys: &Fused, source: StreamId) -> Option<(Vec<StreamId>, StreamId)> {
    let s = &plan.streams[source.0];
    if !s.op.is_source() || plan.app.frontend != crate::program::Frontend::Yaml {
        return None;
    }
    // Workers and processes split a batch's text by lines; a Kafka batch is read as records.
    if matches!(s.op, crate::dstream::plan::Op::KafkaDirectStream { .. }) || phys.consumers[source.0].len() != 1 {
        return None;
    }
    let mut chain = Vec::new();
    let mut c = phys.consumers[source.0][0];
    loop {
        let s = &plan.streams[c.0];
        if s.inputs.len() != 1 {
            return None;
        }
        let def = s.op.def();
        if def.kind == Kind::Stateful && def.codegen.partitions && def.pairs {
            return Some((chain, c));
        }
        if phys.materialized[c.0] || !(def.codegen.in_workers)(s, &plan.streams[s.inputs[0].0].ty) {
            return None;
        }
        chain.push(c);
        c = phys.fused_consumer(c)?;
    }
}

/// The source's stage as a shuffle in a cluster, `sequential` otherwise.
pub(super) fn code(
    plan: &Plan,
    phys: &Fused,
    names: &Names,
    stream_binds: &[TokenStream],
    source: StreamId,
    input: &Ident,
    sequential: TokenStream,
) -> Option<TokenStream> {
    let (chain, terminal) = shuffle_stage(plan, phys, source)?;
    let (t, x) = (names.ident("text", source), names.ident("x", source));
    let part = Ident::new("part", Span::mixed_site());
    let shuffled = Ident::new("shuffled", Span::mixed_site());
    let pair = Ident::new("pair", Span::mixed_site());
    let mut ordered = chain.clone();
    ordered.sort_by_key(|s| s.0);
    let mut binds = TokenStream::new();
    for s in &ordered {
        binds.extend(stream_binds[s.0].clone());
    }
    let first = phys.consumers[source.0][0];
    let body = apply_into(plan, phys, names, first, quote!(#x), input, terminal, &shuffled);
    let counters: Vec<Ident> =
        ordered.iter().filter(|&&s| counted(plan, phys, s)).map(|&s| names.ident("rows", s)).collect();
    let (groups, adds) = counted_groups(&counters);
    let feed = apply_terminal(plan, phys, names, terminal, quote!(#pair), input);
    Some(quote! {
        match #input.shuffle_by_key(#t, |#part| {
            #binds
            let mut #shuffled = ::std::vec::Vec::new();
            for #x in ::core::clone::Clone::clone(&#part) { #body }
            (#shuffled, #groups)
        })? {
            ::core::option::Option::Some(parts) => {
                for (pairs, counted) in parts {
                    #adds
                    for #pair in pairs { #feed }
                }
            }
            ::core::option::Option::None => {
                #sequential
            }
        }
    })
}

/// Code that hands `value` to operator `c` of the chain, and what it makes on; the terminal
/// state's input goes into `out` instead.
#[allow(clippy::too_many_arguments)]
fn apply_into(
    plan: &Plan,
    phys: &Fused,
    names: &Names,
    c: StreamId,
    value: TokenStream,
    input: &Ident,
    terminal: StreamId,
    out: &Ident,
) -> TokenStream {
    if c == terminal {
        return quote!(#out.push(#value););
    }
    let next = |val: TokenStream| {
        let rt = crate::dstream::ops::emit::rt();
        let n = names.ident("rows", c);
        let count = quote!(if #rt::ROW_COUNTS { #n += 1; });
        match phys.fused_consumer(c) {
            Some(d) => {
                let next = apply_into(plan, phys, names, d, val, input, terminal, out);
                quote!(#count #next)
            }
            None => quote!(#count let _ = #val;),
        }
    };
    (plan.streams[c.0].op.def().codegen.apply)(
        &stream_gen(plan, phys, names, c, input, Span::call_site()),
        value,
        &next,
    )
}

/// The terminal state's own code for one received pair.
fn apply_terminal(
    plan: &Plan,
    phys: &Fused,
    names: &Names,
    terminal: StreamId,
    value: TokenStream,
    input: &Ident,
) -> TokenStream {
    let v = names.ident("v", terminal);
    let next = |val: TokenStream| quote!(#v.push(#val););
    (plan.streams[terminal.0].op.def().codegen.apply)(
        &stream_gen(plan, phys, names, terminal, input, Span::call_site()),
        value,
        &next,
    )
}
