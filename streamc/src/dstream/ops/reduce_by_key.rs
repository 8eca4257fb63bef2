//! `reduce_by_key`: each batch's values folded per key.

use super::def::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use super::emit::{Bind, Codegen, Gen, keyed_table, pair_types, rt};
use super::rules::{Infer, check_key, check_reduce_fn, pair_parts};
use crate::diag::Diagnostics;
use crate::dstream::plan::Op;
use crate::dstream::ty::Ty;
use proc_macro2::TokenStream;
use quote::quote;

pub static REDUCE_BY_KEY: OperatorDef = OperatorDef {
    name: "reduce_by_key",
    spark: "reduceByKey",
    kind: Kind::BatchAggregate,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: true,
    stateful: never,
    params: Params::Func { builtins: &["sum", "min", "max"] },
    yaml: "closure `\\|a, b\\| …` on values, or `sum`/`min`/`max`",
    types: "`(K, V) → (K, V)`",
    doc: "folds the values of each key of a batch with an associative function",
    example: "let counts = pairs.reduce_by_key(|a: i64, b: i64| a + b);",
    lower: Some(|a: Args| one(a.func.map(Op::ReduceByKey))),
    ty: ty_reduce_by_key,
    codegen: Codegen {
        bind: |g| {
            let Some(func) = g.func() else { return Bind::unbuffered(TokenStream::new()) };
            let (f, ty, in_ty) = (g.ident("f"), g.ident("ty"), g.input_ident("ty", 0));
            let mut t = g.bind_fn("reduce_by_key", &f, &ty, &in_ty, func);
            t.extend(bind_table(g));
            Bind::unbuffered(t)
        },
        apply: apply_pair,
        finish: finish_table,
        merge: Some(|g| {
            let f = g.ident("f");
            quote!(&mut #f)
        }),
        ..Codegen::NONE
    },
};

/// The batch's keyed table `state_<id>` of the input's pairs, sized from the last batch's.
pub(super) fn bind_table(g: &Gen) -> TokenStream {
    let (rt, in_ty, st, cap) = (rt(), g.input_ident("ty", 0), g.ident("state"), g.ident("cap"));
    let table = keyed_table(g.input_ty().and_then(pair_types));
    g.at(quote!(let mut #st = #rt::ops::#table(#in_ty, #cap);))
}

/// Folds a pair into the batch's keyed table.
pub(super) fn apply_pair(g: &Gen, value: TokenStream, _: &dyn Fn(TokenStream) -> TokenStream) -> TokenStream {
    let (rt, x, st, f) = (rt(), g.ident("x"), g.ident("state"), g.ident("f"));
    quote! {
        let #x = #rt::ops::into_pair_reduce_by_key(#value);
        #st.merge(#x.0, #x.1, &mut #f);
    }
}

/// The batch is the keyed table's pairs; its room (`StrReduce::room`: its size, or in a
/// cluster its partials') sizes the next batch's table.
pub(super) fn finish_table(g: &Gen) -> TokenStream {
    let (v, st, cap) = (g.ident("v"), g.ident("state"), g.ident("cap"));
    quote!(#cap = #st.room(); let mut #v = #st.into_vec();)
}

pub(super) fn ty_reduce_by_key(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, id, input, input_name, op_name } = i;
    let Op::ReduceByKey(f) = &s.op else { return Ty::Unknown };
    let (key, value) = pair_parts(plan, id, &input, &input_name, diags);
    check_key(plan, id, &key, diags);
    check_reduce_fn(plan, f, op_name, &value, &input_name, diags);
    Ty::Tuple(vec![key, value])
}
