//! The narrow operators: one element at a time, fused into their input's loop.

use super::def::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use super::emit::{Bind, Codegen, Gen, rt};
use super::rules::{Infer, check_arity, check_closure, closure_result, internal, literal_ty, pair_parts};
use crate::diag::Diagnostics;
use crate::dstream::plan::{Builtin, Func, Op};
use crate::dstream::ty::Ty;
use proc_macro2::TokenStream;
use quote::quote;

pub static MAP: OperatorDef = OperatorDef {
    name: "map",
    spark: "map",
    kind: Kind::Narrow,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: false,
    stateful: never,
    params: Params::Func { builtins: &["pair_with"] },
    yaml: "closure `\\|x\\| …`, or `{ pair_with: CONST }`",
    types: "`T → U`",
    doc: "applies a function to each element",
    example: "let pairs = words.map(|w: &str| (w.to_string(), 1));",
    lower: Some(|a: Args| one(a.func.map(Op::Map))),
    ty: ty_map,
    codegen: Codegen { bind: |g| bind(g, "map"), apply: apply_map, in_workers: |_, _| true, ..Codegen::NONE },
};

pub static FLAT_MAP: OperatorDef = OperatorDef {
    name: "flat_map",
    spark: "flatMap",
    kind: Kind::Narrow,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: false,
    stateful: never,
    params: Params::Func { builtins: &["split"] },
    yaml: "closure returning an iterator, or `{ split: DELIM }`",
    types: "`T → U…`",
    doc: "applies a function returning an iterable to each element and flattens the results",
    example: "let words = lines.flat_map(|l: &str| l.split(' '));",
    lower: Some(|a: Args| one(a.func.map(Op::FlatMap))),
    ty: ty_flat_map,
    codegen: Codegen {
        setup: Some(|g, _| match split_of_owned(g) {
            Some(_) => {
                let (rt, scratch) = (rt(), g.ident("scratch"));
                quote!(let mut #scratch = #rt::scratch::Scratch::new();)
            }
            None => TokenStream::new(),
        }),
        bind: bind_flat_map,
        apply: apply_flat_map,
        // A split of owned strings borrows the pieces from the app's scratch, which one thread
        // uses at a time.
        in_workers: |s, input| !matches!((&s.op, input), (Op::FlatMap(Func::Builtin(Builtin::Split(_))), Ty::String)),
        ..Codegen::NONE
    },
};

pub static FILTER: OperatorDef = OperatorDef {
    name: "filter",
    spark: "filter",
    kind: Kind::Narrow,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: false,
    stateful: never,
    params: Params::Func { builtins: &[] },
    yaml: "closure `\\|x: &T\\| bool`",
    types: "`T → T`",
    doc: "keeps the elements for which a predicate holds",
    example: "let long = words.filter(|w: &&str| w.len() > 3);",
    lower: Some(|a: Args| one(a.func.map(Op::Filter))),
    ty: ty_filter,
    codegen: Codegen { bind: |g| bind(g, "filter"), apply: apply_filter, in_workers: |_, _| true, ..Codegen::NONE },
};

pub static MAP_VALUES: OperatorDef = OperatorDef {
    name: "map_values",
    spark: "mapValues",
    kind: Kind::Narrow,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: true,
    stateful: never,
    params: Params::Func { builtins: &[] },
    yaml: "closure on the value",
    types: "`(K, V) → (K, U)`",
    doc: "applies a function to the value of each pair",
    example: "let doubled = counts.map_values(|v: i64| v * 2);",
    lower: Some(|a: Args| one(a.func.map(Op::MapValues))),
    ty: ty_map_values,
    codegen: Codegen {
        bind: |g| bind(g, "map_values"),
        apply: apply_map_values,
        in_workers: |_, _| true,
        ..Codegen::NONE
    },
};

pub static FLAT_MAP_VALUES: OperatorDef = OperatorDef {
    name: "flat_map_values",
    spark: "flatMapValues",
    kind: Kind::Narrow,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: true,
    stateful: never,
    params: Params::Func { builtins: &[] },
    yaml: "closure on the value, returning an iterator",
    types: "`(K, V) → (K, U)`",
    doc: "applies a function returning an iterable to each value, pairing each result with the key",
    example: "let each = lists.flat_map_values(|v: Vec<i64>| v);",
    lower: Some(|a: Args| one(a.func.map(Op::FlatMapValues))),
    ty: ty_map_values,
    codegen: Codegen {
        bind: |g| bind(g, "flat_map_values"),
        apply: apply_flat_map_values,
        in_workers: |_, _| true,
        ..Codegen::NONE
    },
};

pub static REPARTITION: OperatorDef = OperatorDef {
    name: "repartition",
    spark: "repartition",
    kind: Kind::Narrow,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: false,
    stateful: never,
    params: Params::Partitions,
    yaml: "a number (records pass through: one process)",
    types: "`T → T`",
    doc: "spreads records over partitions in Spark; one process here, so records pass through",
    example: "let spread = lines.repartition(4);",
    lower: Some(|a: Args| one(Some(Op::Repartition(a.partitions)))),
    ty: ty_repartition,
    codegen: Codegen { bind: |g| pass(g), apply: |_, value, next| next(value), ..Codegen::NONE },
};

/// Binds the operator's function with the runtime's witness `ops::<op>`.
fn bind(g: &Gen, op: &str) -> Bind {
    let Some(func) = g.func() else { return Bind::buffered(TokenStream::new()) };
    Bind::buffered(g.bind_fn(op, &g.ident("f"), &g.ident("ty"), &g.input_ident("ty", 0), func))
}

/// The delimiter of a `flat_map: { split }` over owned strings.
fn split_of_owned<'a>(g: &Gen<'a>) -> Option<&'a str> {
    match (&g.stream.op, g.input_ty()) {
        (Op::FlatMap(Func::Builtin(Builtin::Split(d))), Some(Ty::String)) => Some(d),
        _ => None,
    }
}

/// `flat_map`'s function; a split of owned strings copies each string into the scratch
/// (emptied every batch) and yields pieces borrowed from the copy: no allocation per piece.
fn bind_flat_map(g: &Gen) -> Bind {
    let Some(d) = split_of_owned(g) else { return bind(g, "flat_map") };
    let (rt, f, ty, in_ty, scratch) = (rt(), g.ident("f"), g.ident("ty"), g.input_ident("ty", 0), g.ident("scratch"));
    let closure = quote!(|s: ::std::string::String| #rt::split::java_split(#scratch.keep(&s), #d));
    let mut t = quote!(#scratch.reset(););
    t.extend(super::emit::bind_fn("flat_map", &f, &ty, &in_ty, closure, g.span));
    Bind::buffered(t)
}

/// The element type passes through unchanged.
pub(super) fn pass(g: &Gen) -> Bind {
    let (ty, in_ty) = (g.ident("ty"), g.input_ident("ty", 0));
    Bind::buffered(quote!(let #ty = #in_ty;))
}

fn apply_map(g: &Gen, value: TokenStream, next: &dyn Fn(TokenStream) -> TokenStream) -> TokenStream {
    let (f, x) = (g.ident("f"), g.ident("x"));
    let n = next(quote!(#x));
    quote!(let #x = #f(#value); #n)
}

fn apply_flat_map(g: &Gen, value: TokenStream, next: &dyn Fn(TokenStream) -> TokenStream) -> TokenStream {
    let (f, x) = (g.ident("f"), g.ident("x"));
    let n = next(quote!(#x));
    quote!(for #x in #f(#value) { #n })
}

fn apply_filter(g: &Gen, value: TokenStream, next: &dyn Fn(TokenStream) -> TokenStream) -> TokenStream {
    let (f, x) = (g.ident("f"), g.ident("x"));
    let n = next(quote!(#x));
    quote!(let #x = #value; if #f(&#x) { #n })
}

fn apply_map_values(g: &Gen, value: TokenStream, next: &dyn Fn(TokenStream) -> TokenStream) -> TokenStream {
    let (f, x) = (g.ident("f"), g.ident("x"));
    let n = next(quote!(#x));
    quote!(let #x = { let (k, v) = #value; (k, #f(v)) }; #n)
}

fn apply_flat_map_values(g: &Gen, value: TokenStream, next: &dyn Fn(TokenStream) -> TokenStream) -> TokenStream {
    let (f, x) = (g.ident("f"), g.ident("x"));
    let n = next(quote!((::core::clone::Clone::clone(&k), #x)));
    quote!({ let (k, v) = #value; for #x in #f(v) { #n } })
}

pub(super) fn ty_map(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, id, input, input_name, op_name } = i;
    let Op::Map(f) = &s.op else { return Ty::Unknown };
    match f {
        Func::Builtin(Builtin::PairWith(lit)) => Ty::Tuple(vec![input, literal_ty(lit)]),
        Func::Builtin(Builtin::UnitOne) => Ty::Tuple(vec![Ty::Tuple(vec![]), Ty::Int("i64")]),
        Func::Builtin(Builtin::UnitKey) => Ty::Tuple(vec![Ty::Tuple(vec![]), input]),
        Func::Builtin(Builtin::PairOne) => Ty::Tuple(vec![input, Ty::Int("i64")]),
        Func::Builtin(Builtin::Second) => pair_parts(plan, id, &input, &input_name, diags).1,
        Func::Builtin(b) => internal(diags, s.op_span, op_name, b),
        Func::Closure(c) => {
            check_closure(plan, *c, op_name, 1, std::slice::from_ref(&input), &input_name, diags);
            closure_result(plan, *c, &input)
        }
    }
}

pub(super) fn ty_flat_map(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, input, input_name, op_name, .. } = i;
    let Op::FlatMap(f) = &s.op else { return Ty::Unknown };
    match f {
        Func::Builtin(Builtin::Split(_)) => match input {
            // Owned strings are split from a copy in the batch's scratch.
            Ty::Str | Ty::Unknown | Ty::String => Ty::Str,
            other => {
                diags
                    .error(s.op_span, format!("`split` needs a stream of strings, found `{other}`"))
                    .help(format!("stream `{input_name}` has elements of type `{other}`"));
                Ty::Unknown
            }
        },
        Func::Builtin(b) => internal(diags, s.op_span, op_name, b),
        Func::Closure(c) => {
            check_closure(plan, *c, op_name, 1, std::slice::from_ref(&input), &input_name, diags);
            let closure = &plan.closures[c.0];
            match &closure.body_type {
                Some(crate::dstream::plan::BodyShape::SplitOf(0)) => {
                    match closure.arg_types.first().cloned().flatten().unwrap_or(input) {
                        Ty::Str => Ty::Str,
                        _ => Ty::Unknown,
                    }
                }
                _ => Ty::Unknown,
            }
        }
    }
}

pub(super) fn ty_filter(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, input, op_name, .. } = i;
    let Op::Filter(f) = &s.op else { return Ty::Unknown };
    if let Func::Closure(c) = f {
        // The predicate borrows its element, as `Iterator::filter` does.
        check_arity(plan, *c, op_name, 1, diags);
    }
    input
}

pub(super) fn ty_repartition(i: Infer, _: &mut Diagnostics) -> Ty {
    let Infer { input, .. } = i;
    input
}

pub(super) fn ty_map_values(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, id, input, input_name, op_name } = i;
    let (Op::MapValues(f) | Op::FlatMapValues(f)) = &s.op else { return Ty::Unknown };
    let (k, v) = pair_parts(plan, id, &input, &input_name, diags);
    if let Func::Closure(c) = f {
        check_closure(plan, *c, op_name, 1, std::slice::from_ref(&v), &input_name, diags);
    }
    let out = match (&s.op, f) {
        (Op::MapValues(_), Func::Closure(c)) => closure_result(plan, *c, &v),
        _ => Ty::Unknown,
    };
    Ty::Tuple(vec![k, out])
}
