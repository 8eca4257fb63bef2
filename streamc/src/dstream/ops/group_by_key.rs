//! `group_by_key`: each batch's values collected per key.

use super::def::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use super::emit::{Bind, Codegen, Gen, rt};
use super::rules::{Infer, check_key, pair_parts, vec_of};
use crate::diag::Diagnostics;
use crate::dstream::plan::Op;
use crate::dstream::ty::Ty;
use proc_macro2::TokenStream;
use quote::quote;

pub static GROUP_BY_KEY: OperatorDef = OperatorDef {
    name: "group_by_key",
    spark: "groupByKey",
    kind: Kind::BatchAggregate,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: true,
    stateful: never,
    params: Params::Nothing,
    yaml: "`{}`",
    types: "`(K, V) → (K, Vec<V>)` (prints as `CompactBuffer(…)`)",
    doc: "collects the values of each key of a batch",
    example: "let groups = pairs.group_by_key();",
    lower: Some(|_: Args| one(Some(Op::GroupByKey))),
    ty: ty_group_by_key,
    codegen: Codegen {
        bind: |g| {
            let (rt, ty, in_ty, st) = (rt(), g.ident("ty"), g.input_ident("ty", 0), g.ident("state"));
            let mut t = g.at(quote!(let #ty = #rt::ops::group_by_key_ty(#in_ty);));
            t.extend(quote!(let mut #st = #rt::state::KeyedGroup::new();));
            Bind::unbuffered(t)
        },
        apply: push_pair,
        finish: |g| {
            let (v, st) = (g.ident("v"), g.ident("state"));
            quote!(let mut #v = #st.into_vec();)
        },
        ..Codegen::NONE
    },
};

/// Collects a pair's value under its key in the batch's `KeyedGroup`.
pub(super) fn push_pair(g: &Gen, value: TokenStream, _: &dyn Fn(TokenStream) -> TokenStream) -> TokenStream {
    let st = g.ident("state");
    quote!({ let (k, v) = #value; #st.push(k, v); })
}

pub(super) fn ty_group_by_key(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { plan, id, input, input_name, .. } = i;
    let (key, value) = pair_parts(plan, id, &input, &input_name, diags);
    check_key(plan, id, &key, diags);
    Ty::Tuple(vec![key, vec_of(&value)])
}
