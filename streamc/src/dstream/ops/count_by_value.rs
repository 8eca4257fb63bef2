//! `count_by_value`: how often each distinct element occurs in a batch.

use super::def::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use super::emit::{Bind, Codegen, keyed_table, rt};
use super::reduce_by_key;
use super::rules::Infer;
use crate::diag::Diagnostics;
use crate::dstream::plan::Op;
use crate::dstream::ty::Ty;
use quote::quote;

pub static COUNT_BY_VALUE: OperatorDef = OperatorDef {
    name: "count_by_value",
    spark: "countByValue",
    kind: Kind::BatchAggregate,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: false,
    stateful: never,
    params: Params::Nothing,
    yaml: "`{}`",
    types: "`T → (T, i64)`",
    doc: "pairs each distinct element of a batch with the number of times it occurs",
    example: "let counts = words.count_by_value();",
    lower: Some(|_: Args| one(Some(Op::CountByValue))),
    ty: ty_count_by_value,
    codegen: Codegen {
        bind: |g| {
            let (rt, ty, in_ty, st, cap) =
                (rt(), g.ident("ty"), g.input_ident("ty", 0), g.ident("state"), g.ident("cap"));
            let mut t = g.at(quote!(let #ty = #rt::ops::count_by_value_ty(#in_ty);));
            let table = keyed_table(g.input_ty().map(|k| (k, &Ty::Int("i64"))));
            t.extend(g.at(quote!(let mut #st = #rt::ops::#table(#ty, #cap);)));
            Bind::unbuffered(t)
        },
        apply: |g, value, _| {
            let st = g.ident("state");
            quote!(#st.merge(#value, 1i64, &mut |a: i64, b: i64| a + b);)
        },
        finish: reduce_by_key::finish_table,
        merge: Some(|_| quote!(&mut |a: i64, b: i64| a + b)),
        ..Codegen::NONE
    },
};

pub(super) fn ty_count_by_value(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, input, .. } = i;
    if input.is_known() && !input.hashable() {
        diags.error(s.op_span, format!("`count_by_value` needs elements that can be hashed, found `{input}`"));
    }
    Ty::Tuple(vec![input, Ty::Int("i64")])
}
