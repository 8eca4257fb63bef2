//! The sources: `socket_text_stream` and `text_file_stream`.

use super::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use crate::dstream::plan::Op;

pub static SOCKET_TEXT_STREAM: OperatorDef = OperatorDef {
    name: "socket_text_stream",
    spark: "socketTextStream",
    kind: Kind::Source,
    inputs: Inputs::None,
    feed: Feed::Nothing,
    pairs: false,
    stateful: never,
    params: Params::HostPort,
    yaml: "`{ host, port }`",
    types: "`→ String`",
    doc: "the lines of text received on a TCP connection",
    example: r#"let lines = socket_text_stream("localhost", 9999);"#,
    lower: Some(|a: Args| one(Some(Op::SocketTextStream { host: a.host, port: a.port }))),
};

pub static TEXT_FILE_STREAM: OperatorDef = OperatorDef {
    name: "text_file_stream",
    spark: "textFileStream",
    kind: Kind::Source,
    inputs: Inputs::None,
    feed: Feed::Nothing,
    pairs: false,
    stateful: never,
    params: Params::Dir,
    yaml: "a directory, or `{ dir }`",
    types: "`→ String`",
    doc: "the lines of the files that appear in a directory",
    example: r#"let lines = text_file_stream("in/");"#,
    lower: Some(|a: Args| one(Some(Op::TextFileStream { dir: a.dir }))),
};
