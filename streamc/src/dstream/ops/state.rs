//! The operators with per-key state across batches: `update_state_by_key`, `map_with_state`,
//! and `state_snapshots` of a `map_with_state` stream.

use super::def::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use super::emit::{Bind, Codegen, Gen, owned_literal, rt};
use super::group_by_key;
use super::rules::{Infer, check_closure, check_key, closure_ret, internal, pair_parts};
use crate::diag::Diagnostics;
use crate::dstream::plan::{Builtin, Func, Initial, Op};
use crate::dstream::ty::Ty;
use proc_macro2::TokenStream;
use quote::quote;

pub static UPDATE_STATE_BY_KEY: OperatorDef = OperatorDef {
    name: "update_state_by_key",
    spark: "updateStateByKey",
    kind: Kind::Stateful,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: true,
    stateful: |_| true,
    params: Params::Func { builtins: &["sum"] },
    yaml: "closure `\\|values: &[V], state: Option<S>\\| -> Option<S>`, or `sum`",
    types: "`(K, V) → (K, S)`",
    doc: "updates each key's state with the key's values of the batch, every batch",
    example: "let totals = pairs.update_state_by_key(|vs: &[i64], s: Option<i64>| Some(s.unwrap_or(0) + vs.iter().sum::<i64>()));",
    lower: Some(|a: Args| one(a.func.map(Op::UpdateStateByKey))),
    ty: ty_update_state_by_key,
    codegen: Codegen {
        partitions: true,
        keep: Some(|g| {
            let (rt, p) = (rt(), g.ident("keep"));
            quote!(let mut #p = #rt::state::UpdateState::new();)
        }),
        bind: |g| {
            let Some(func) = g.func() else { return Bind::unbuffered(TokenStream::new()) };
            let (rt, f, ty, in_ty, st) = (rt(), g.ident("f"), g.ident("ty"), g.input_ident("ty", 0), g.ident("state"));
            let mut t = g.bind_fn("update_state_by_key", &f, &ty, &in_ty, func);
            t.extend(quote!(let mut #st = #rt::state::KeyedGroup::new();));
            Bind::unbuffered(t)
        },
        apply: group_by_key::push_pair,
        // Every key's state every batch, read in place from the state: only consumers that
        // take elements by value clone them.
        borrows: |_| true,
        finish: |g| {
            let (v, keep, st, f) = (g.ident("v"), g.ident("keep"), g.ident("state"), g.ident("f"));
            let update = quote!(#keep.update(#st, &mut #f));
            let result = match &g.active {
                Some(c) => quote!(if #c { #update } else { &[] }),
                None => update,
            };
            quote!(let #v: &[_] = #result;)
        },
        ..Codegen::NONE
    },
};

pub static MAP_WITH_STATE: OperatorDef = OperatorDef {
    name: "map_with_state",
    spark: "mapWithState",
    kind: Kind::Stateful,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: true,
    stateful: |_| true,
    params: Params::StateSpec { fields: &["function", "timeout", "initial_state", "num_partitions"] },
    yaml: "`{ function, timeout?, initial_state?: [[k, s], …] }`; `function` is a closure `\\|key: &K, value: Option<V>, state: &mut State<S>\\| …`, or `running_sum`",
    types: "`(K, V) → R`",
    doc: "maps each record with access to its key's state, which may time out",
    example: "let running = pairs.map_with_state(StateSpec::function(f).timeout(Seconds(60)));",
    lower: Some(|a: Args| {
        let Args { func, timeout_ms, initial, .. } = a;
        one(Some(Op::MapWithState { func: func?, timeout_ms, initial }))
    }),
    ty: ty_map_with_state,
    codegen: Codegen {
        partitions: true,
        keep: Some(keep_map_with_state),
        checkpoint_every: |slide| 10 * slide,
        bind: |g| {
            let Some(func) = g.func() else { return Bind::buffered(TokenStream::new()) };
            Bind::buffered(g.bind_fn("map_with_state", &g.ident("f"), &g.ident("ty"), &g.input_ident("ty", 0), func))
        },
        apply: |g, value, _| {
            let (x, v, keep, f, input) = (g.ident("x"), g.ident("v"), g.ident("keep"), g.ident("f"), g.input);
            quote! {
                let (k, v) = #value;
                let #x = #keep.call(k, v, #input.time_ms(), &mut #f);
                #v.push(#x);
            }
        },
        finish: |g| {
            // Spark times idle keys out when it checkpoints this stream's state (a full scan).
            let (v, keep, f, input, every) = (g.ident("v"), g.ident("keep"), g.ident("f"), g.input, g.checkpoint_every);
            quote! {
                if #input.is_checkpoint_batch() && #input.is_multiple_of(#every) {
                    #keep.time_out(#input.time_ms(), &mut #f, &mut #v);
                }
            }
        },
        ..Codegen::NONE
    },
};

pub static STATE_SNAPSHOTS: OperatorDef = OperatorDef {
    name: "state_snapshots",
    spark: "stateSnapshots",
    kind: Kind::Stateful,
    inputs: Inputs::One,
    feed: Feed::Nothing,
    pairs: false,
    stateful: never,
    params: Params::Nothing,
    yaml: "`{}` on a `map_with_state` stream",
    types: "`→ (K, S)`",
    doc: "the per-key state of a `map_with_state` stream after each batch",
    example: "let states = running.state_snapshots();",
    lower: Some(|_: Args| one(Some(Op::StateSnapshots))),
    ty: ty_state_snapshots,
    codegen: Codegen {
        bind: |g| {
            let (rt, ty, src) = (rt(), g.ident("ty"), g.input_ident("keep", 0));
            Bind::unbuffered(g.at(quote!(let #ty = #rt::ops::snapshots_ty(&#src);)))
        },
        finish: |g| {
            let (v, src) = (g.ident("v"), g.input_ident("keep", 0));
            let result = g.when(quote!(#src.snapshots()));
            quote!(let mut #v = #result;)
        },
        ..Codegen::NONE
    },
};

/// The per-key states, with their timeout and initial states.
fn keep_map_with_state(g: &Gen) -> TokenStream {
    let (rt, p) = (rt(), g.ident("keep"));
    let Op::MapWithState { timeout_ms, initial, .. } = &g.stream.op else { return TokenStream::new() };
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
            let e = &g.plan.closures[c.0].tokens;
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

pub(super) fn ty_update_state_by_key(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, id, input, input_name, op_name } = i;
    let Op::UpdateStateByKey(f) = &s.op else { return Ty::Unknown };
    let (key, value) = pair_parts(plan, id, &input, &input_name, diags);
    check_key(plan, id, &key, diags);
    let state = match f {
        Func::Builtin(Builtin::RunningSum) => value,
        Func::Closure(c) => {
            // `|values: &[V], state: Option<S>| -> Option<S>`: the values are the stream's, and
            // the state argument is what the closure returns.
            let ret = closure_ret(plan, f);
            let values = if value.is_known() { Ty::rust(&format!("&[{value}]")) } else { Ty::Unknown };
            let state_arg = if ret.is_known() { ret.clone() } else { Ty::Unknown };
            check_closure(plan, *c, op_name, 2, &[values, state_arg], &input_name, diags);
            match ret {
                Ty::Rust(r) if r.starts_with("Option<") => Ty::Unknown,
                other => other,
            }
        }
        Func::Builtin(b) => internal(diags, s.op_span, op_name, b),
    };
    Ty::Tuple(vec![key.owned(), state])
}

pub(super) fn ty_map_with_state(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, id, input, input_name, op_name } = i;
    let Op::MapWithState { func, .. } = &s.op else { return Ty::Unknown };
    let (key, value) = pair_parts(plan, id, &input, &input_name, diags);
    check_key(plan, id, &key, diags);
    match func {
        Func::Builtin(Builtin::RunningSumMapped) => Ty::Tuple(vec![key.owned(), value]),
        Func::Closure(c) => {
            let closure = &plan.closures[c.0];
            if let Some(n) = closure.arity
                && n != 3
            {
                diags
                    .error(closure.span, format!("the function of `map_with_state` takes 3 arguments (key, value, state), found {n}"))
                    .help("write `|key, value: Option<V>, state: &mut State<S>| ...` (Spark's `(K, Option[V], State[S]) => T`)");
            }
            closure_ret(plan, func)
        }
        Func::Builtin(b) => internal(diags, s.op_span, op_name, b),
    }
}

pub(super) fn ty_state_snapshots(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, input, input_name, .. } = i;
    match s.inputs.first().map(|i| &plan.streams[i.0].op) {
        Some(Op::MapWithState { func, .. }) => match (func, &input) {
            (Func::Builtin(Builtin::RunningSumMapped), Ty::Tuple(parts)) => Ty::Tuple(parts.clone()),
            _ => Ty::Unknown,
        },
        _ => {
            diags
                .error(
                    s.op_span,
                    format!(
                        "`state_snapshots` reads the state of a `map_with_state` stream, but `{input_name}` is not one"
                    ),
                )
                .help("call `state_snapshots` on the stream that `map_with_state` returns");
            Ty::Unknown
        }
    }
}
