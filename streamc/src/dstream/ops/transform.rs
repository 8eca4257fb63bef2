//! `transform`: a function over a whole batch (Spark's `transform(rdd => ...)`).

use super::def::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use super::emit::{Bind, Codegen};
use super::rules::{Infer, check_arity};
use crate::diag::Diagnostics;
use crate::dstream::plan::{Func, Op};
use crate::dstream::ty::Ty;
use proc_macro2::TokenStream;
use quote::quote;

pub static TRANSFORM: OperatorDef = OperatorDef {
    name: "transform",
    spark: "transform",
    kind: Kind::WholeBatch,
    inputs: Inputs::One,
    feed: Feed::Collection,
    pairs: false,
    stateful: never,
    params: Params::Func { builtins: &[] },
    yaml: "closure over the whole batch `\\|batch: Vec<T>\\| …` returning an iterable",
    types: "`T → U`",
    doc: "applies a function to each batch as a whole",
    example: "let sorted = counts.transform(|mut b: Vec<(String, i64)>| { b.sort(); b });",
    lower: Some(|a: Args| one(a.func.map(Op::Transform))),
    ty: ty_transform,
    codegen: Codegen {
        bind: |g| {
            let Some(func) = g.func() else { return Bind::unbuffered(TokenStream::new()) };
            Bind::unbuffered(g.bind_fn("transform", &g.ident("f"), &g.ident("ty"), &g.input_ident("ty", 0), func))
        },
        finish: |g| {
            let (v, f) = (g.ident("v"), g.ident("f"));
            let a = g.taken.first().cloned().unwrap_or_default();
            quote!(let mut #v: ::std::vec::Vec<_> = ::std::iter::IntoIterator::into_iter(#f(#a)).collect();)
        },
        ..Codegen::NONE
    },
};

pub(super) fn ty_transform(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, op_name, .. } = i;
    let Op::Transform(f) = &s.op else { return Ty::Unknown };
    if let Func::Closure(c) = f {
        check_arity(plan, *c, op_name, 1, diags);
    }
    Ty::Unknown
}
