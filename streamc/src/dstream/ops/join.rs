//! The operators over two or more streams: `union`, the four joins and `cogroup`.

use super::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use crate::dstream::plan::{JoinKind, Op};

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
        lower: Some(match kind {
            JoinKind::Inner => (|_: Args| one(Some(Op::Join(JoinKind::Inner)))) as fn(Args) -> Option<Vec<Op>>,
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
};
