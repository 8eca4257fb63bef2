//! `reduce` and `count`: each batch folded into at most one element.

use super::def::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use super::emit::{Bind, Codegen, rt};
use super::rules::{Infer, check_reduce_fn};
use crate::diag::Diagnostics;
use crate::dstream::plan::Op;
use crate::dstream::ty::Ty;
use proc_macro2::TokenStream;
use quote::quote;

pub static REDUCE: OperatorDef = OperatorDef {
    name: "reduce",
    spark: "reduce",
    kind: Kind::BatchAggregate,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: false,
    stateful: never,
    params: Params::Func { builtins: &["sum", "min", "max"] },
    yaml: "closure `\\|a, b\\| …`, or `sum`/`min`/`max`",
    types: "`T → T` (0 or 1 element per batch)",
    doc: "folds each batch's elements with an associative function",
    example: "let total = counts.reduce(|a: i64, b: i64| a + b);",
    lower: Some(|a: Args| one(a.func.map(Op::Reduce))),
    ty: ty_reduce,
    codegen: Codegen {
        bind: |g| {
            let Some(func) = g.func() else { return Bind::unbuffered(TokenStream::new()) };
            let (f, ty, st) = (g.ident("f"), g.ident("ty"), g.ident("state"));
            let mut t = g.bind_fn("reduce", &f, &ty, &g.input_ident("ty", 0), func);
            t.extend(quote!(let mut #st = ::core::option::Option::None;));
            Bind::unbuffered(t)
        },
        apply: |g, value, _| {
            let (f, st) = (g.ident("f"), g.ident("state"));
            quote! {
                #st = ::core::option::Option::Some(match #st.take() {
                    ::core::option::Option::Some(acc) => #f(acc, #value),
                    ::core::option::Option::None => #value,
                });
            }
        },
        finish: |g| {
            let (v, st) = (g.ident("v"), g.ident("state"));
            quote!(let mut #v: ::std::vec::Vec<_> = #st.into_iter().collect();)
        },
        ..Codegen::NONE
    },
};

pub static COUNT: OperatorDef = OperatorDef {
    name: "count",
    spark: "count",
    kind: Kind::BatchAggregate,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: false,
    stateful: never,
    params: Params::Nothing,
    yaml: "`{}`",
    types: "`T → i64` (exactly 1 element per batch)",
    doc: "the number of elements of each batch",
    example: "let n = lines.count();",
    lower: Some(|_: Args| one(Some(Op::Count))),
    ty: ty_count,
    codegen: Codegen {
        bind: |g| {
            let (rt, ty, in_ty, st) = (rt(), g.ident("ty"), g.input_ident("ty", 0), g.ident("state"));
            let mut t = g.at(quote!(let #ty = #rt::ops::count(#in_ty);));
            t.extend(quote!(let mut #st: i64 = 0;));
            Bind::unbuffered(t)
        },
        apply: |g, value, _| {
            let st = g.ident("state");
            quote!(let _ = #value; #st += 1;)
        },
        finish: |g| {
            let (v, st) = (g.ident("v"), g.ident("state"));
            quote!(let mut #v = ::std::vec![#st];)
        },
        ..Codegen::NONE
    },
};

pub(super) fn ty_reduce(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, input, input_name, op_name, .. } = i;
    let Op::Reduce(f) = &s.op else { return Ty::Unknown };
    check_reduce_fn(plan, f, op_name, &input, &input_name, diags);
    input
}

pub(super) fn ty_count(_: Infer, _: &mut Diagnostics) -> Ty {
    Ty::Int("i64")
}
