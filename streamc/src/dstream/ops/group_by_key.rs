//! `group_by_key`: each batch's values collected per key.

use super::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use crate::dstream::plan::Op;

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
};
