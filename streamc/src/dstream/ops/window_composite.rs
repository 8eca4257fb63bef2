//! Spark's windowed shorthands, lowered to chains of plan operators as Spark defines them:
//! `count_by_window`, `reduce_by_window` and `count_by_value_and_window`. They generate no code
//! of their own: the operators they lower to do.

use super::def::{Args, Feed, Inputs, Kind, OperatorDef, Params, never};
use super::emit::Codegen;
use crate::dstream::plan::{Builtin, Func, Op};

pub static COUNT_BY_WINDOW: OperatorDef = OperatorDef {
    name: "count_by_window",
    spark: "countByWindow",
    kind: Kind::Composite,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: false,
    stateful: never,
    params: Params::Windowed { min: 0, max: 0, fields: &["length", "slide"] },
    yaml: "`{ length, slide }`",
    types: "`T → i64`",
    doc: "the number of elements in a window, counted incrementally",
    example: "let n = lines.count_by_window(Seconds(30), Seconds(10));",
    lower: Some(|a: Args| {
        let (len_ms, slide_ms) = a.window?;
        Some(vec![
            Op::Map(Func::Builtin(Builtin::UnitOne)),
            Op::ReduceByKeyAndWindow {
                func: Func::Builtin(Builtin::Sum),
                inverse: Some(Func::Builtin(Builtin::Subtract)),
                filter: None,
                len_ms,
                slide_ms,
            },
            Op::Map(Func::Builtin(Builtin::Second)),
        ])
    }),
    ty: super::rules::unknown,
    codegen: Codegen::NONE,
};

pub static REDUCE_BY_WINDOW: OperatorDef = OperatorDef {
    name: "reduce_by_window",
    spark: "reduceByWindow",
    kind: Kind::Composite,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: false,
    stateful: never,
    params: Params::Windowed { min: 1, max: 2, fields: &["func", "inverse", "length", "slide"] },
    yaml: "`{ func, inverse?, length, slide }`",
    types: "`T → T`",
    doc: "folds the elements of a window, incrementally when given an inverse",
    example: "let total = counts.reduce_by_window(|a, b| a + b, Seconds(30), Seconds(10));",
    lower: Some(|a: Args| {
        let (len_ms, slide_ms) = a.window?;
        let func = a.func?;
        Some(match a.inverse {
            // Spark reduces each batch, windows, and reduces again; with one function that must
            // take both borrowed and owned elements, which a Rust closure cannot: reduce the
            // window's (owned) elements once instead (the same result, `func` being associative).
            None => vec![Op::Window { len_ms, slide_ms }, Op::Reduce(func)],
            Some(inv) => vec![
                Op::Map(Func::Builtin(Builtin::UnitKey)),
                Op::ReduceByKeyAndWindow { func, inverse: Some(inv), filter: None, len_ms, slide_ms },
                Op::Map(Func::Builtin(Builtin::Second)),
            ],
        })
    }),
    ty: super::rules::unknown,
    codegen: Codegen::NONE,
};

pub static COUNT_BY_VALUE_AND_WINDOW: OperatorDef = OperatorDef {
    name: "count_by_value_and_window",
    spark: "countByValueAndWindow",
    kind: Kind::Composite,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: false,
    stateful: never,
    params: Params::Windowed { min: 0, max: 0, fields: &["length", "slide"] },
    yaml: "`{ length, slide }`",
    types: "`T → (T, i64)`",
    doc: "pairs each distinct element of a window with the number of times it occurs",
    example: "let counts = words.count_by_value_and_window(Seconds(30), Seconds(10));",
    lower: Some(|a: Args| {
        let (len_ms, slide_ms) = a.window?;
        Some(vec![
            Op::Map(Func::Builtin(Builtin::PairOne)),
            Op::ReduceByKeyAndWindow {
                func: Func::Builtin(Builtin::Sum),
                inverse: Some(Func::Builtin(Builtin::Subtract)),
                filter: Some(Func::Builtin(Builtin::NonZero)),
                len_ms,
                slide_ms,
            },
        ])
    }),
    ty: super::rules::unknown,
    codegen: Codegen::NONE,
};
