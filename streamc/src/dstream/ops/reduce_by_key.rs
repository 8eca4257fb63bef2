//! `reduce_by_key`: each batch's values folded per key.

use super::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use crate::dstream::plan::Op;

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
};
