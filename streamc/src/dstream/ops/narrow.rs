//! The narrow operators: one element at a time, fused into their input's loop.

use super::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use crate::dstream::plan::Op;

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
};
