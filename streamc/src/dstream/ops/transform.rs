//! `transform`: a function over a whole batch (Spark's `transform(rdd => ...)`).

use super::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use crate::dstream::plan::Op;

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
};
