//! The sources: `socket_text_stream`, `text_file_stream` and `kafka_direct_stream`.

use super::def::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use super::emit::{Bind, Codegen, Gen, rt};
use super::rules::Infer;
use crate::diag::Diagnostics;
use crate::dstream::plan::Op;
use crate::dstream::ty::Ty;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

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
    ty: ty_socket,
    codegen: Codegen { setup: Some(setup_socket), ..SOURCE },
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
    ty: ty_dir,
    codegen: Codegen { setup: Some(setup_dir), ..SOURCE },
};

pub static KAFKA_DIRECT_STREAM: OperatorDef = OperatorDef {
    name: "kafka_direct_stream",
    spark: "KafkaUtils.createDirectStream",
    kind: Kind::Source,
    inputs: Inputs::None,
    feed: Feed::Nothing,
    pairs: false,
    stateful: never,
    params: Params::Kafka,
    yaml: "Spark's Kafka options: `{ kafka.bootstrap.servers, subscribe, ... }`",
    types: "`→ KafkaRecord` (`topic`, `partition`, `offset`, `timestamp`, `key`, `value`)",
    doc: "the records of Kafka topics (Spark's `ConsumerRecord`), their offsets in the checkpoint",
    example: r#"let records = kafka_direct_stream([("kafka.bootstrap.servers", "host:9092"), ("subscribe", "lines")]);"#,
    lower: Some(|a: Args| one(Some(Op::KafkaDirectStream { options: a.kafka }))),
    ty: |_, _| Ty::Rust(KAFKA_RECORD.to_owned()),
    codegen: Codegen {
        setup: Some(setup_kafka),
        bind: |g| {
            let (src, t, ty, input) = (g.ident("src"), g.ident("text"), g.ident("ty"), g.input);
            Bind::unbuffered(quote!(let #t = #input.kafka_records(#src); let #ty = #t.ty();))
        },
        ..SOURCE
    },
};

/// The element type of `kafka_direct_stream`.
pub const KAFKA_RECORD: &str = "KafkaRecord < '_ >";

fn setup_kafka(g: &Gen, b: &Ident) -> TokenStream {
    let (src, name) = (g.ident("src"), &g.stream.name);
    match &g.stream.op {
        Op::KafkaDirectStream { options } => {
            let (k, v): (Vec<&str>, Vec<&str>) = options.iter().map(|(k, v)| (k.as_str(), v.as_str())).unzip();
            quote!(let #src = #b.kafka_direct_stream(#name, &[#((#k, #v)),*]);)
        }
        _ => TokenStream::new(),
    }
}

/// A source's batch is its text (`text_<id>`), read line by line; a `Vec` only for outputs.
const SOURCE: Codegen = Codegen {
    bind: |g| {
        let (src, t, ty, input) = (g.ident("src"), g.ident("text"), g.ident("ty"), g.input);
        Bind::unbuffered(quote!(let #t = #input.text(#src); let #ty = #t.ty();))
    },
    finish: |g| {
        if !g.has_outputs {
            return TokenStream::new();
        }
        let (rt, v, ty, t) = (rt(), g.ident("v"), g.ident("ty"), g.ident("text"));
        quote!(let mut #v = #rt::ops::vec(#ty); #v.extend(#t.lines());)
    },
    ..Codegen::NONE
};

fn setup_socket(g: &Gen, b: &Ident) -> TokenStream {
    let (src, name) = (g.ident("src"), &g.stream.name);
    match &g.stream.op {
        Op::SocketTextStream { host, port } => quote!(let #src = #b.socket_text_stream(#name, #host, #port);),
        _ => TokenStream::new(),
    }
}

fn setup_dir(g: &Gen, b: &Ident) -> TokenStream {
    let (src, name) = (g.ident("src"), &g.stream.name);
    match &g.stream.op {
        Op::TextFileStream { dir } => quote!(let #src = #b.text_file_stream(#name, #dir);),
        _ => TokenStream::new(),
    }
}

pub(super) fn ty_socket(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, .. } = i;
    let Op::SocketTextStream { host, .. } = &s.op else { return Ty::Unknown };
    if host.is_empty() {
        diags.error(s.op_span, "`socket_text_stream` needs a host name, found an empty string");
    }
    Ty::Str
}

pub(super) fn ty_dir(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, .. } = i;
    let Op::TextFileStream { dir } = &s.op else { return Ty::Unknown };
    if dir.is_empty() {
        diags.error(s.op_span, "`text_file_stream` needs a directory, found an empty string");
    }
    Ty::Str
}
