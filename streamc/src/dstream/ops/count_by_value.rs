//! `count_by_value`: how often each distinct element occurs in a batch.

use super::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use crate::dstream::plan::Op;

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
};
