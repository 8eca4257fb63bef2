//! The windowed operators with a plan operator of their own: `window` and
//! `reduce_by_key_and_window` (the composites built on them are in `window_composite.rs`).

use super::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use crate::dstream::plan::Op;

pub static WINDOW: OperatorDef = OperatorDef {
    name: "window",
    spark: "window",
    kind: Kind::Windowed,
    inputs: Inputs::One,
    feed: Feed::Collection,
    pairs: false,
    stateful: never,
    params: Params::Windowed { min: 0, max: 0, fields: &["length", "slide"] },
    yaml: "`{ length, slide }`",
    types: "`T → T`",
    doc: "the elements of the batches in the last `length`, every `slide`",
    example: "let recent = lines.window(Seconds(30), Seconds(10));",
    lower: Some(|a: Args| {
        let (len_ms, slide_ms) = a.window?;
        one(Some(Op::Window { len_ms, slide_ms }))
    }),
};

pub static REDUCE_BY_KEY_AND_WINDOW: OperatorDef = OperatorDef {
    name: "reduce_by_key_and_window",
    spark: "reduceByKeyAndWindow",
    kind: Kind::Windowed,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: true,
    // With an inverse, the window's running totals are state that outlives a batch.
    stateful: |op| matches!(op, Op::ReduceByKeyAndWindow { inverse: Some(_), .. }),
    params: Params::Windowed { min: 1, max: 3, fields: &["func", "inverse", "filter", "length", "slide"] },
    yaml: "`{ func, inverse?, filter?, length, slide }` (`inverse: subtract`, `filter: non_zero` built in)",
    types: "`(K, V) → (K, V)`",
    doc: "folds the values of each key over a window, incrementally when given an inverse",
    example: "let counts = pairs.reduce_by_key_and_window(|a, b| a + b, |a, b| a - b, Seconds(30), Seconds(10));",
    lower: Some(|a: Args| {
        let (len_ms, slide_ms) = a.window?;
        let Args { func, inverse, filter, .. } = a;
        one(Some(Op::ReduceByKeyAndWindow { func: func?, inverse, filter, len_ms, slide_ms }))
    }),
};
