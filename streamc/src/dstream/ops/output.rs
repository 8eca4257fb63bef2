//! The output operations: `print`, `save_as_text_files` and `foreach_batch`.

use super::def::{Feed, Inputs, Kind, OperatorDef, Params, never};
use super::emit::Codegen;

pub static PRINT: OperatorDef = OperatorDef {
    name: "print",
    spark: "print",
    kind: Kind::Output,
    inputs: Inputs::One,
    feed: Feed::Collection,
    pairs: false,
    stateful: never,
    params: Params::Output { fields: &["from", "num"] },
    yaml: "a stream name, or `{ from, num }`",
    types: "`T →`",
    doc: "prints the first `num` (10) elements of each batch",
    example: "counts.print();",
    lower: None,
    ty: super::rules::unknown,
    codegen: Codegen::NONE,
};

pub static SAVE_AS_TEXT_FILES: OperatorDef = OperatorDef {
    name: "save_as_text_files",
    spark: "saveAsTextFiles",
    kind: Kind::Output,
    inputs: Inputs::One,
    feed: Feed::Collection,
    pairs: false,
    stateful: never,
    params: Params::Output { fields: &["from", "prefix", "suffix"] },
    yaml: "`{ from, prefix, suffix? }`",
    types: "`T →`",
    doc: "writes each batch to the directory `prefix-TIME.suffix`",
    example: r#"counts.save_as_text_files("out/counts", "txt");"#,
    lower: None,
    ty: super::rules::unknown,
    codegen: Codegen::NONE,
};

pub static FOREACH_BATCH: OperatorDef = OperatorDef {
    name: "foreach_batch",
    spark: "foreachRDD",
    kind: Kind::Output,
    inputs: Inputs::One,
    feed: Feed::Collection,
    pairs: false,
    stateful: never,
    params: Params::Output { fields: &["from", "func"] },
    yaml: "`{ from, func }`",
    types: "`T →`",
    doc: "calls a closure with each batch's time and records",
    example: "counts.foreach_batch(|time_ms: i64, records| println!(\"{time_ms}: {}\", records.len()));",
    lower: None,
    ty: super::rules::unknown,
    codegen: Codegen::NONE,
};
