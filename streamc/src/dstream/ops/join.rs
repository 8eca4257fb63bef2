//! The operators over two or more streams: `union`, the four joins and `cogroup`.

use super::def::{Args, Feed, Inputs, Kind, Lowering, OperatorDef, Params, never, one};
use super::emit::{Bind, Codegen, Gen, rt};
use super::rules::{Infer, check_key, option_of, pair_parts, vec_of};
use crate::diag::Diagnostics;
use crate::dstream::plan::{JoinKind, Op};
use crate::dstream::ty::Ty;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

pub static UNION: OperatorDef = OperatorDef {
    name: "union",
    spark: "union",
    kind: Kind::WholeBatch,
    inputs: Inputs::TwoOrMore,
    feed: Feed::Element,
    pairs: false,
    stateful: never,
    params: Params::Others { many: true },
    yaml: "the other stream(s): `union: other` or `[a, b]`",
    types: "`T, T → T`",
    doc: "the elements of both streams' batches",
    example: "let both = left.union(right);",
    lower: Some(|_: Args| one(Some(Op::Union))),
    ty: ty_union,
    codegen: Codegen {
        bind: super::narrow::pass,
        apply: |g, value, _| {
            let v = g.ident("v");
            quote!(#v.push(#value);)
        },
        ..Codegen::NONE
    },
};

/// A join of two pair streams.
const fn join(name: &'static str, spark: &'static str, types: &'static str, kind: JoinKind) -> OperatorDef {
    OperatorDef {
        name,
        spark,
        kind: Kind::WholeBatch,
        inputs: Inputs::Two,
        feed: Feed::Collection,
        pairs: true,
        stateful: never,
        params: Params::Others { many: false },
        yaml: "the other stream",
        types,
        doc: match kind {
            JoinKind::Inner => "pairs the values of each key present in both batches",
            JoinKind::LeftOuter => "pairs the values of each key of the first batch with those of the second, if any",
            JoinKind::RightOuter => "pairs the values of each key of the second batch with those of the first, if any",
            JoinKind::FullOuter => "pairs the values of each key of either batch with those of the other, if any",
        },
        example: "let joined = clicks.join(views);",
        ty: ty_join,
        codegen: match kind {
            JoinKind::Inner => JOIN_CODEGEN,
            JoinKind::LeftOuter => Codegen {
                bind: |g| bind_two(g, "left_outer_join_ty"),
                finish: |g| finish_two(g, "left_outer_join"),
                ..Codegen::NONE
            },
            JoinKind::RightOuter => Codegen {
                bind: |g| bind_two(g, "right_outer_join_ty"),
                finish: |g| finish_two(g, "right_outer_join"),
                ..Codegen::NONE
            },
            JoinKind::FullOuter => Codegen {
                bind: |g| bind_two(g, "full_outer_join_ty"),
                finish: |g| finish_two(g, "full_outer_join"),
                ..Codegen::NONE
            },
        },
        lower: Some(match kind {
            JoinKind::Inner => (|_: Args| one(Some(Op::Join(JoinKind::Inner)))) as Lowering,
            JoinKind::LeftOuter => |_: Args| one(Some(Op::Join(JoinKind::LeftOuter))),
            JoinKind::RightOuter => |_: Args| one(Some(Op::Join(JoinKind::RightOuter))),
            JoinKind::FullOuter => |_: Args| one(Some(Op::Join(JoinKind::FullOuter))),
        }),
    }
}

pub static JOIN: OperatorDef = join("join", "join", "`(K, V), (K, W) → (K, (V, W))`", JoinKind::Inner);
pub static LEFT_OUTER_JOIN: OperatorDef =
    join("left_outer_join", "leftOuterJoin", "`(K, V), (K, W) → (K, (V, Option<W>))`", JoinKind::LeftOuter);
pub static RIGHT_OUTER_JOIN: OperatorDef =
    join("right_outer_join", "rightOuterJoin", "`(K, V), (K, W) → (K, (Option<V>, W))`", JoinKind::RightOuter);
pub static FULL_OUTER_JOIN: OperatorDef =
    join("full_outer_join", "fullOuterJoin", "`(K, V), (K, W) → (K, (Option<V>, Option<W>))`", JoinKind::FullOuter);

pub static COGROUP: OperatorDef = OperatorDef {
    name: "cogroup",
    spark: "cogroup",
    kind: Kind::WholeBatch,
    inputs: Inputs::Two,
    feed: Feed::Collection,
    pairs: true,
    stateful: never,
    params: Params::Others { many: false },
    yaml: "the other stream",
    types: "`(K, V), (K, W) → (K, (Vec<V>, Vec<W>))`",
    doc: "collects the values of each key of either batch, one list per stream",
    example: "let grouped = clicks.cogroup(views);",
    lower: Some(|_: Args| one(Some(Op::Cogroup))),
    ty: ty_join,
    codegen: Codegen { bind: |g| bind_two(g, "cogroup_ty"), finish: |g| finish_two(g, "cogroup"), ..Codegen::NONE },
};

const JOIN_CODEGEN: Codegen =
    Codegen { bind: |g| bind_two(g, "join_ty"), finish: |g| finish_two(g, "join"), ..Codegen::NONE };

/// The element type witness `ops::<witness>(ty_<left>, ty_<right>)` of an operator over two
/// streams, at the operator's span.
fn bind_two(g: &Gen, witness: &str) -> Bind {
    let (rt, ty, a, b) = (rt(), g.ident("ty"), g.input_ident("ty", 0), g.input_ident("ty", 1));
    let w = Ident::new(witness, g.span);
    Bind::unbuffered(g.at(quote!(let #ty = #rt::ops::#w(#a, #b);)))
}

/// The batch is `join::<func>` of both inputs' batches.
fn finish_two(g: &Gen, func: &str) -> TokenStream {
    let (rt, v) = (rt(), g.ident("v"));
    let (a, b) = (g.taken.first().cloned().unwrap_or_default(), g.taken.get(1).cloned().unwrap_or_default());
    let func = Ident::new(func, Span::call_site());
    quote!(let mut #v = #rt::join::#func(#a, #b);)
}

pub(super) fn ty_union(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, input, input_name, .. } = i;
    for other in &s.inputs[1..] {
        let o = &plan.streams[other.0];
        if !o.ty.compatible(&input) {
            diags
                .error(
                    s.op_span,
                    format!(
                        "`union` of streams with different element types: `{input_name}` has `{input}`, `{}` has `{}`",
                        o.name, o.ty
                    ),
                )
                .help("map the streams to the same element type first");
        }
    }
    input
}

pub(super) fn ty_join(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, id, input, input_name, op_name } = i;
    let (k, v) = pair_parts(plan, id, &input, &input_name, diags);
    let (other_ty, other_name) = match s.inputs.get(1) {
        Some(o) => (plan.streams[o.0].ty.clone(), plan.streams[o.0].name.clone()),
        None => (Ty::Unknown, String::new()),
    };
    let (k2, w) = pair_parts(plan, id, &other_ty, &other_name, diags);
    if !k.compatible(&k2) {
        diags
            .error(s.op_span, format!("`{op_name}` of streams whose key types differ: `{input_name}` has keys of type `{k}`, `{other_name}` has `{k2}`"))
            .help("map both streams to the same key type first");
    }
    check_key(plan, id, &k, diags);
    Ty::Tuple(vec![
        k,
        match &s.op {
            Op::Join(JoinKind::Inner) => Ty::Tuple(vec![v, w]),
            Op::Join(JoinKind::LeftOuter) => Ty::Tuple(vec![v, option_of(&w)]),
            Op::Join(JoinKind::RightOuter) => Ty::Tuple(vec![option_of(&v), w]),
            Op::Join(JoinKind::FullOuter) => Ty::Tuple(vec![option_of(&v), option_of(&w)]),
            _ => Ty::Tuple(vec![vec_of(&v), vec_of(&w)]),
        },
    ])
}
