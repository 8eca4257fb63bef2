//! `reduce` and `count`: each batch folded into at most one element.

use super::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use crate::dstream::plan::Op;

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
};
