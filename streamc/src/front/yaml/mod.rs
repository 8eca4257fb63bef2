//! The YAML front end: a spec file becomes a [`Plan`]. The file is first read into a tree of
//! spanned nodes (serde-saphyr gives every node its line and column); the tree is then walked
//! with our own rules so that every mistake becomes a diagnostic at its spot, all at once.

use crate::diag::{Diagnostics, suggest};
use crate::dstream::plan::{
    Builtin, Func, Initial, JoinKind, Literal, OPERATOR_NAMES, Op, Output, OutputKind, Plan, SOURCE_NAMES, Stream,
    StreamId,
};
use crate::dstream::ty::Ty;
use crate::duration;
use crate::front::closure;
use crate::program::Program;
use crate::span::{SpanId, SpanInfo, SpanTable};
use crate::table::{
    ColTy, Column, Format, JoinHow, Malformed, OutputMode, Query, Sink, SourceKind, Step, TablePlan, TableSource,
    Trigger,
};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::collections::HashMap;
use std::fmt;

/// A YAML value with the position of every node.
#[derive(Debug)]
enum Node {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Str(_) => "a string",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a number",
            Node::Bool(_) => "a boolean",
            Node::Null => "nothing (null)",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map(Node::Int).unwrap_or(Node::Float(v as f64)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(x) = a.next_element()? {
            items.push(x);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(k) = a.next_key()? {
            let v = a.next_value()?;
            items.push((k, v));
        }
        Ok(Node::Map(items))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// Parses a YAML spec. Never fails: problems go to `diags`, and the plan holds what was
/// understood.
pub fn parse(src: &str, spans: &mut SpanTable, diags: &mut Diagnostics) -> Program {
    let mut cx = Cx { src, spans, diags, poisoned: Vec::new() };
    let root: Spanned<Node> = match serde_saphyr::from_str(src) {
        Ok(root) => root,
        Err(e) => {
            let span = match e.location() {
                Some(loc) => cx.span_at(loc.line(), loc.column(), 1),
                None => SpanTable::unknown(),
            };
            let msg = e.to_string();
            // serde-saphyr renders its own snippet; keep only its first line, ours follows.
            let first = msg.lines().next().unwrap_or("").trim_start_matches("error: ");
            cx.diags.error(span, format!("invalid YAML: {first}"));
            return Program::DStream(Plan::default());
        }
    };
    cx.plan(&root)
}

struct Cx<'a> {
    src: &'a str,
    spans: &'a mut SpanTable,
    diags: &'a mut Diagnostics,
    /// Streams whose definition had an error already reported: references to them are not
    /// reported again.
    poisoned: Vec<String>,
}

/// A stream entry before names are resolved.
struct RawStream {
    name: String,
    name_span: SpanId,
    from: Option<(String, SpanId)>,
    /// Further input streams (the other side of a join or union).
    others: Vec<(String, SpanId)>,
    /// The operator, lowered: composite Spark operators become a chain (see [`Op`]).
    chain: Vec<Op>,
    op_span: SpanId,
    checkpoint_ms: Option<(u64, SpanId)>,
}

/// An operator entry as parsed: its lowered chain and the other streams it reads.
struct Parsed {
    chain: Vec<Op>,
    others: Vec<(String, SpanId)>,
}

impl From<Op> for Parsed {
    fn from(op: Op) -> Parsed {
        Parsed { chain: vec![op], others: Vec::new() }
    }
}

const TOP_KEYS: &[&str] = &[
    "app",
    "batch_interval",
    "checkpoint",
    "trigger",
    "streams",
    "outputs",
    "sources",
    "queries",
    "max_line_bytes",
    "max_rate",
];

impl Cx<'_> {
    fn span_at(&mut self, line: u64, column: u64, len: usize) -> SpanId {
        // Byte offset of (line, column), counted in characters as serde-saphyr does.
        let mut start = self.src.len();
        if let Some(line_text) = self.src.split_inclusive('\n').nth((line.max(1) - 1) as usize) {
            let line_start = line_text.as_ptr() as usize - self.src.as_ptr() as usize;
            let col = line_text.char_indices().nth((column.max(1) - 1) as usize).map(|(i, _)| i);
            start = line_start + col.unwrap_or(line_text.len());
        }
        self.spans.add(SpanInfo::Text { line: line as u32, column: column as u32, start, len })
    }

    fn span_of<T>(&mut self, node: &Spanned<T>) -> SpanId {
        let loc = node.referenced;
        let len = loc.span().byte_len().unwrap_or(1) as usize;
        self.span_at(loc.line(), loc.column(), len.max(1))
    }

    fn plan(&mut self, root: &Spanned<Node>) -> Program {
        /// A size: a number of bytes, optionally with a unit (`B`, `KiB`, `MiB`, `GiB`, or the
        /// powers of 1000 `KB`, `MB`, `GB`).
        fn parse_size(s: &str) -> Result<u64, String> {
            let t = s.trim();
            let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
            let (num, unit) = t.split_at(digits);
            let n: u64 = num
                .parse()
                .map_err(|_| format!("expected a size such as `64 MiB` for `max_line_bytes`, found `{s}`"))?;
            let scale: u64 = match unit.trim() {
                "" | "B" | "b" => 1,
                "KiB" | "kib" | "K" | "k" => 1 << 10,
                "MiB" | "mib" | "M" | "m" => 1 << 20,
                "GiB" | "gib" | "G" | "g" => 1 << 30,
                "KB" | "kB" | "kb" => 1_000,
                "MB" | "mb" => 1_000_000,
                "GB" | "gb" => 1_000_000_000,
                u => return Err(format!("unknown size unit `{u}` in `max_line_bytes`")),
            };
            n.checked_mul(scale).ok_or_else(|| format!("`max_line_bytes` of `{s}` is too large"))
        }
        let mut plan = Plan::default();
        // A `trigger:` seen before `sources:` (Structured Streaming only).
        let mut table: Option<TablePlan> = None;
        let Node::Map(entries) = &root.value else {
            let span = self.span_of(root);
            self.diags
                .error(span, format!("expected a mapping with `streams:` and `outputs:`, found {}", root.value.kind()));
            return Program::DStream(plan);
        };
        let mut streams_node = None;
        let mut outputs_node = None;
        let mut sources_node = None;
        let mut queries_node = None;
        for (key, value) in entries {
            match key.value.as_str() {
                "app" => {
                    if let Some(s) = self.string(value, "app") {
                        plan.app.name = s;
                    }
                }
                "batch_interval" => {
                    let span = self.span_of(value);
                    if let Some(ms) = self.duration(value, "batch_interval") {
                        plan.app.batch_interval_ms = Some((ms, span));
                    }
                }
                "checkpoint" => {
                    let span = self.span_of(value);
                    if let Some(dir) = self.string(value, "checkpoint") {
                        plan.app.checkpoint_dir = Some((dir, span));
                    }
                }
                "trigger" => {
                    let table = table.get_or_insert_with(TablePlan::default);
                    match &value.value {
                        Node::Str(t) if t == "available_now" => table.trigger = Trigger::AvailableNow,
                        Node::Str(t) if t == "once" => table.trigger = Trigger::Once,
                        Node::Str(t) if t.starts_with("processing_time") => {
                            let span = self.span_of(value);
                            let d = t.trim_start_matches("processing_time").trim();
                            match duration::parse_ms(d) {
                                Ok(ms) => plan.app.batch_interval_ms = Some((ms, span)),
                                Err(e) => {
                                    self.diags.error(span, e).help("write `trigger: processing_time 10s`");
                                }
                            }
                        }
                        other => {
                            let span = self.span_of(value);
                            self.diags
                                .error(
                                    span,
                                    format!(
                                        "unknown trigger {}",
                                        match other {
                                            Node::Str(t) => format!("`{t}`"),
                                            o => o.kind().to_string(),
                                        }
                                    ),
                                )
                                .help("the triggers are `processing_time <duration>`, `once` and `available_now`");
                        }
                    }
                }
                "max_line_bytes" => {
                    let span = self.span_of(value);
                    let bytes = match &value.value {
                        Node::Int(n) => u64::try_from(*n)
                            .map_err(|_| format!("`max_line_bytes` must be at least 1 byte, found `{n}`")),
                        Node::Str(s) => parse_size(s),
                        other => Err(format!(
                            "expected a size such as `64 MiB` for `max_line_bytes`, found {}",
                            other.kind()
                        )),
                    };
                    match bytes {
                        Ok(0) => {
                            self.diags
                                .error(span, "`max_line_bytes` must be at least 1 byte, found `0`")
                                .help("write a size such as `max_line_bytes: 64 MiB`");
                        }
                        Ok(n) => plan.app.max_line_bytes = Some((n, span)),
                        Err(e) => {
                            self.diags.error(span, e).help(
                                "write a number of bytes or a size such as `512 KiB`, `64 MiB` or `1 GiB` (KB, MB, GB are powers of 1000)",
                            );
                        }
                    }
                }
                "max_rate" => {
                    let span = self.span_of(value);
                    match self.int(value, "max_rate") {
                        Some(n) if n > 0 => plan.app.max_rate = Some((n as u64, span)),
                        Some(n) => {
                            self.diags
                                .error(span, format!("`max_rate` must be at least 1 record per second, found `{n}`"))
                                .help("write `max_rate: 10000` (records per second per socket receiver), or leave it out for no limit");
                        }
                        None => {}
                    }
                }
                "sources" => sources_node = Some(value),
                "queries" => queries_node = Some(value),
                "streams" => streams_node = Some(value),
                "outputs" => outputs_node = Some(value),
                other => {
                    let span = self.span_of(key);
                    let d = self.diags.error(span, format!("unknown key `{other}` in the spec"));
                    d.label("unknown key");
                    match suggest(other, TOP_KEYS) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(
                            "the top-level keys are `app`, `batch_interval`, `checkpoint`, `streams` and `outputs`",
                        ),
                    };
                }
            }
        }
        if sources_node.is_some() || queries_node.is_some() {
            if let Some(node) = streams_node.or(outputs_node) {
                let span = self.span_of(node);
                self.diags
                    .error(span, "a spec has either DStreams (`streams:`/`outputs:`) or Structured Streaming queries (`sources:`/`queries:`), not both")
                    .help("split it into two specs");
            }
            let mut table = table.take().unwrap_or_default();
            if let Some(n) = sources_node {
                self.table_sources(n, &mut table);
            }
            match queries_node {
                Some(n) => self.table_queries(n, &mut table),
                None => {
                    let span = self.span_of(root);
                    self.diags
                        .error(span, "the spec has `sources:` but no `queries:`")
                        .help("add `queries:` with at least one query");
                }
            }
            if plan.app.batch_interval_ms.is_none() {
                plan.app.batch_interval_ms = Some((1000, SpanTable::unknown()));
            }
            table.app = plan.app;
            return Program::Table(table);
        }
        if plan.app.batch_interval_ms.is_none() && !entries.iter().any(|(k, _)| k.value == "batch_interval") {
            let span = self.span_of(root);
            self.diags
                .error(span, "the spec has no `batch_interval`")
                .help("add `batch_interval: 1s` (Spark's `Seconds(1)`)");
        }
        let raw = match streams_node {
            Some(node) => self.streams(node, &mut plan),
            None => {
                let span = self.span_of(root);
                self.diags
                    .error(span, "the spec has no `streams:` list")
                    .help("add `streams:` with at least one source");
                Vec::new()
            }
        };
        let names = self.resolve(raw, &mut plan);
        if let Some(node) = outputs_node {
            self.outputs(node, &mut plan, &names);
        }
        Program::DStream(plan)
    }

    fn streams(&mut self, node: &Spanned<Node>, plan: &mut Plan) -> Vec<RawStream> {
        let mut out = Vec::new();
        let Node::Seq(items) = &node.value else {
            let span = self.span_of(node);
            self.diags.error(span, format!("expected a list of streams, found {}", node.value.kind()));
            return out;
        };
        let mut previous: Option<String> = None;
        for item in items {
            if let Some(raw) = self.stream(item, plan, previous.as_deref()) {
                previous = Some(raw.name.clone());
                out.push(raw);
            }
        }
        out
    }

    fn stream(&mut self, item: &Spanned<Node>, plan: &mut Plan, previous: Option<&str>) -> Option<RawStream> {
        let item_span = self.span_of(item);
        let Node::Map(entries) = &item.value else {
            self.diags.error(
                item_span,
                format!("expected a stream (a mapping with `name:` and an operator), found {}", item.value.kind()),
            );
            return None;
        };
        let mut name = None;
        let mut from = None;
        let mut op: Option<(Parsed, SpanId)> = None;
        let mut op_failed = false;
        let mut checkpoint_ms = None;
        for (key, value) in entries {
            let key_span = self.span_of(key);
            match key.value.as_str() {
                "name" => name = self.string(value, "name").map(|n| (n, self.span_of(value))),
                "checkpoint_interval" => {
                    let span = self.span_of(value);
                    checkpoint_ms = self.duration(value, "checkpoint_interval").map(|ms| (ms, span));
                }
                "from" => from = self.string(value, "from").map(|n| (n, self.span_of(value))),
                k => {
                    let Some(parsed) = self.operator(k, key_span, value, plan) else {
                        op_failed = true;
                        continue;
                    };
                    if let Some((first, _)) = &op {
                        self.diags
                            .error(
                                key_span,
                                format!(
                                    "a stream has one operator, but this one also has `{}`",
                                    first.chain.first().map_or("an operator", Op::name)
                                ),
                            )
                            .help("define a new stream for the second operator, with `from:` naming this one");
                        continue;
                    }
                    op = Some((parsed, key_span));
                }
            }
        }
        let Some((name, name_span)) = name else {
            self.diags.error(item_span, "this stream has no `name`").help("add `name: <stream name>`");
            return None;
        };
        let Some((op, op_span)) = op else {
            if op_failed {
                self.poisoned.push(name);
                return None;
            }
            self.diags
                .error(name_span, format!("stream `{name}` has no operator"))
                .help("add a source such as `socket_text_stream:` or an operator such as `map:`");
            return None;
        };
        let Parsed { chain, others } = op;
        let first = chain.first()?.clone();
        if first.is_source() {
            if let Some((_, span)) = from {
                self.diags.error(span, format!("source `{name}` reads no stream, so it takes no `from`"));
            }
            return Some(RawStream { name, name_span, from: None, others, chain, op_span, checkpoint_ms });
        }
        let from = match (from, previous) {
            (Some(f), _) => Some(f),
            (None, Some(p)) => Some((p.to_string(), name_span)),
            (None, None) => {
                self.diags
                    .error(op_span, format!("`{}` in stream `{name}` has no input stream", first.name()))
                    .help("add `from: <stream name>`, or define a source first");
                return None;
            }
        };
        Some(RawStream { name, name_span, from, others, chain, op_span, checkpoint_ms })
    }

    /// Parses one operator entry `key: value` of a stream.
    fn operator(&mut self, key: &str, key_span: SpanId, value: &Spanned<Node>, plan: &mut Plan) -> Option<Parsed> {
        Some(match key {
            "socket_text_stream" => {
                let fields = self.fields(value, key, &["host", "port"])?;
                let host = match fields.get("host") {
                    Some(v) => self.string(v, "host")?,
                    None => "localhost".to_string(),
                };
                let Some(port_node) = fields.get("port") else {
                    self.diags
                        .error(key_span, "`socket_text_stream` needs a `port`")
                        .help("write `socket_text_stream: { host: localhost, port: 9999 }`");
                    return None;
                };
                let port = self.int(port_node, "port")?;
                let Ok(port) = u16::try_from(port) else {
                    let span = self.span_of(port_node);
                    self.diags
                        .error(span, format!("port `{port}` is out of range"))
                        .help("a TCP port is between 0 and 65535");
                    return None;
                };
                Op::SocketTextStream { host, port }.into()
            }
            "text_file_stream" => {
                let dir = match &value.value {
                    Node::Str(s) => s.clone(),
                    _ => {
                        let fields = self.fields(value, key, &["dir"])?;
                        let Some(d) = fields.get("dir") else {
                            self.diags.error(key_span, "`text_file_stream` needs a `dir`");
                            return None;
                        };
                        self.string(d, "dir")?
                    }
                };
                Op::TextFileStream { dir }.into()
            }
            "map" => Op::Map(self.func(value, key, plan, &["pair_with"])?).into(),
            "flat_map" => Op::FlatMap(self.func(value, key, plan, &["split"])?).into(),
            "filter" => Op::Filter(self.func(value, key, plan, &[])?).into(),
            "map_values" => Op::MapValues(self.func(value, key, plan, &[])?).into(),
            "flat_map_values" => Op::FlatMapValues(self.func(value, key, plan, &[])?).into(),
            "transform" => Op::Transform(self.func(value, key, plan, &[])?).into(),
            "reduce" => Op::Reduce(self.func(value, key, plan, &["sum", "min", "max"])?).into(),
            "reduce_by_key" => Op::ReduceByKey(self.func(value, key, plan, &["sum", "min", "max"])?).into(),
            "update_state_by_key" => Op::UpdateStateByKey(self.func(value, key, plan, &["sum"])?).into(),
            "count" | "count_by_value" | "group_by_key" | "state_snapshots" => {
                if !matches!(value.value, Node::Null | Node::Bool(true) | Node::Map(_)) {
                    let span = self.span_of(value);
                    self.diags
                        .error(span, format!("`{key}` takes no argument, found {}", value.value.kind()))
                        .help(format!("write `{key}: {{}}`"));
                }
                match key {
                    "count" => Op::Count,
                    "count_by_value" => Op::CountByValue,
                    "group_by_key" => Op::GroupByKey,
                    _ => Op::StateSnapshots,
                }
                .into()
            }
            "repartition" => {
                let n = self.int(value, "repartition")?;
                if n <= 0 || n > i64::from(u32::MAX) {
                    let span = self.span_of(value);
                    self.diags.error(span, format!("`repartition` needs a positive number of partitions, found `{n}`"));
                    return None;
                }
                Op::Repartition(n as u32).into()
            }
            "union" | "join" | "left_outer_join" | "right_outer_join" | "full_outer_join" | "cogroup" => {
                let others = match &value.value {
                    Node::Str(s) => vec![(s.clone(), self.span_of(value))],
                    Node::Seq(items) if key == "union" => {
                        let mut v = Vec::new();
                        for i in items {
                            let span = self.span_of(i);
                            v.push((self.string(i, "union")?, span));
                        }
                        v
                    }
                    other => {
                        let span = self.span_of(value);
                        self.diags
                            .error(
                                span,
                                format!("expected the name of the other stream for `{key}`, found {}", other.kind()),
                            )
                            .help(format!("write `{key}: <stream name>` (the first input is `from:`)"));
                        return None;
                    }
                };
                let op = match key {
                    "union" => Op::Union,
                    "join" => Op::Join(JoinKind::Inner),
                    "left_outer_join" => Op::Join(JoinKind::LeftOuter),
                    "right_outer_join" => Op::Join(JoinKind::RightOuter),
                    "full_outer_join" => Op::Join(JoinKind::FullOuter),
                    _ => Op::Cogroup,
                };
                Parsed { chain: vec![op], others }
            }
            "window" | "count_by_window" | "count_by_value_and_window" => {
                let f = self.fields(value, key, &["length", "slide"])?;
                let (len_ms, slide_ms) = self.window_durations(&f, key_span, key)?;
                let chain = match key {
                    "window" => vec![Op::Window { len_ms, slide_ms }],
                    "count_by_window" => vec![
                        Op::Map(Func::Builtin(Builtin::UnitOne)),
                        Op::ReduceByKeyAndWindow {
                            func: Func::Builtin(Builtin::Sum),
                            inverse: Some(Func::Builtin(Builtin::Subtract)),
                            filter: None,
                            len_ms,
                            slide_ms,
                        },
                        Op::Map(Func::Builtin(Builtin::Second)),
                    ],
                    _ => vec![
                        Op::Map(Func::Builtin(Builtin::PairOne)),
                        Op::ReduceByKeyAndWindow {
                            func: Func::Builtin(Builtin::Sum),
                            inverse: Some(Func::Builtin(Builtin::Subtract)),
                            filter: Some(Func::Builtin(Builtin::NonZero)),
                            len_ms,
                            slide_ms,
                        },
                    ],
                };
                Parsed { chain, others: vec![] }
            }
            "reduce_by_window" | "reduce_by_key_and_window" => {
                let allowed: &[&str] = if key == "reduce_by_window" {
                    &["func", "inverse", "length", "slide"]
                } else {
                    &["func", "inverse", "filter", "length", "slide"]
                };
                let f = self.fields(value, key, allowed)?;
                let (len_ms, slide_ms) = self.window_durations(&f, key_span, key)?;
                let Some(func_node) = f.get("func") else {
                    self.diags.error(key_span, format!("`{key}` needs `func:` (a closure, or `sum`/`min`/`max`)"));
                    return None;
                };
                let func = self.func(func_node, key, plan, &["sum", "min", "max"])?;
                let inverse = match f.get("inverse") {
                    Some(n) => Some(self.func(n, "inverse", plan, &["subtract"])?),
                    None => None,
                };
                let filter = match f.get("filter") {
                    Some(n) => Some(self.func(n, "filter", plan, &["non_zero"])?),
                    None => None,
                };
                let chain = match (key, inverse) {
                    // One reduce over the window's owned elements (see the `stream!` front end).
                    ("reduce_by_window", None) => vec![Op::Window { len_ms, slide_ms }, Op::Reduce(func)],
                    ("reduce_by_window", Some(inv)) => vec![
                        Op::Map(Func::Builtin(Builtin::UnitKey)),
                        Op::ReduceByKeyAndWindow { func, inverse: Some(inv), filter: None, len_ms, slide_ms },
                        Op::Map(Func::Builtin(Builtin::Second)),
                    ],
                    (_, inverse) => vec![Op::ReduceByKeyAndWindow { func, inverse, filter, len_ms, slide_ms }],
                };
                Parsed { chain, others: vec![] }
            }
            "map_with_state" => {
                let f = match &value.value {
                    Node::Str(_) => {
                        let func = self.func(value, key, plan, &["running_sum"])?;
                        return Some(Op::MapWithState { func, timeout_ms: None, initial: None }.into());
                    }
                    _ => self.fields(value, key, &["function", "timeout", "initial_state", "num_partitions"])?,
                };
                let Some(fnode) = f.get("function") else {
                    self.diags.error(key_span, "`map_with_state` needs `function:` (a closure, or `running_sum`)");
                    return None;
                };
                let func = self.func(fnode, key, plan, &["running_sum"])?;
                let timeout_ms = match f.get("timeout") {
                    Some(t) => Some(self.duration(t, "timeout")?),
                    None => None,
                };
                let initial = match f.get("initial_state") {
                    Some(n) => Some(Initial::Pairs(self.pairs(n)?)),
                    None => None,
                };
                if let Some(n) = f.get("num_partitions") {
                    self.int(n, "num_partitions")?;
                }
                Op::MapWithState { func, timeout_ms, initial }.into()
            }
            other => {
                let d = self.diags.error(key_span, format!("unknown operator or source `{other}`"));
                d.label("not a streamc operator");
                let mut names: Vec<&str> = OPERATOR_NAMES.to_vec();
                names.extend_from_slice(SOURCE_NAMES);
                if let Some(s) = suggest(other, &names) {
                    d.help(format!("did you mean `{s}`?"));
                }
                return None;
            }
        })
    }

    /// A function argument: a Rust closure in a string, or a built-in.
    fn func(&mut self, value: &Spanned<Node>, op: &str, plan: &mut Plan, builtins: &[&str]) -> Option<Func> {
        let span = self.span_of(value);
        match &value.value {
            Node::Str(s) if builtins.contains(&s.as_str()) && !s.starts_with('|') => {
                Some(Func::Builtin(match (op, s.as_str()) {
                    ("update_state_by_key", "sum") => Builtin::RunningSum,
                    (_, "sum") => Builtin::Sum,
                    (_, "min") => Builtin::Min,
                    (_, "max") => Builtin::Max,
                    (_, "subtract") => Builtin::Subtract,
                    (_, "non_zero") => Builtin::NonZero,
                    _ => Builtin::RunningSumMapped,
                }))
            }
            Node::Str(s) => match syn::parse_str::<syn::Expr>(s) {
                Ok(expr) => {
                    let mut c = closure::describe(&expr, span);
                    if c.arity.is_none() && !s.contains("::") {
                        let d = self.diags.error(span, format!("expected a Rust closure for `{op}`, found `{s}`"));
                        if builtins.is_empty() {
                            d.help("write a closure such as `|x: &str| ...`");
                        } else {
                            d.help(format!(
                                "write a closure such as `|x: &str| ...`, or use a built-in: {}",
                                list(builtins)
                            ));
                        }
                        return None;
                    }
                    c.span = span;
                    plan.closures.push(c);
                    Some(Func::Closure(crate::dstream::plan::ClosureId(plan.closures.len() - 1)))
                }
                Err(e) => {
                    self.diags
                        .error(span, format!("the Rust closure of `{op}` does not parse: {e}"))
                        .help("write a Rust closure such as `|line: &str| line.len()`");
                    None
                }
            },
            Node::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                let kspan = self.span_of(k);
                match (k.value.as_str(), op) {
                    ("split", "flat_map") => {
                        let d = self.string(v, "split")?;
                        if d.is_empty() {
                            let vspan = self.span_of(v);
                            self.diags.error(vspan, "`split` needs a non-empty delimiter");
                            return None;
                        }
                        Some(Func::Builtin(Builtin::Split(d)))
                    }
                    ("pair_with", "map") => Some(Func::Builtin(Builtin::PairWith(self.literal(v)?))),
                    (other, _) => {
                        let d = self.diags.error(kspan, format!("`{other}` is not a built-in of `{op}`"));
                        if builtins.is_empty() {
                            d.help(format!("`{op}` takes a Rust closure in a string"));
                        } else {
                            d.help(format!(
                                "the built-ins of `{op}` are {}; or give a Rust closure in a string",
                                list(builtins)
                            ));
                        }
                        None
                    }
                }
            }
            other => {
                let d = self
                    .diags
                    .error(span, format!("expected a Rust closure (a string) for `{op}`, found {}", other.kind()));
                if !builtins.is_empty() {
                    d.help(format!("the built-ins of `{op}` are {}", list(builtins)));
                }
                None
            }
        }
    }

    /// `length:` (required) and `slide:` (optional) of a windowed operator.
    fn window_durations(
        &mut self,
        f: &HashMap<String, &Spanned<Node>>,
        key_span: SpanId,
        key: &str,
    ) -> Option<(u64, Option<u64>)> {
        let Some(len) = f.get("length") else {
            self.diags
                .error(key_span, format!("`{key}` needs a window `length`"))
                .help(format!("write `{key}: {{ length: 30s, slide: 10s }}`"));
            return None;
        };
        let len_ms = self.duration(len, "length")?;
        let slide_ms = match f.get("slide") {
            Some(s) => Some(self.duration(s, "slide")?),
            None => None,
        };
        Some((len_ms, slide_ms))
    }

    /// A list of `[key, value]` pairs of constants.
    fn pairs(&mut self, v: &Spanned<Node>) -> Option<Vec<(Literal, Literal)>> {
        let Node::Seq(items) = &v.value else {
            let span = self.span_of(v);
            self.diags
                .error(span, format!("expected a list of `[key, state]` pairs, found {}", v.value.kind()))
                .help("write `initial_state: [[hello, 1], [world, 1]]`");
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            match &item.value {
                Node::Seq(kv) if kv.len() == 2 => out.push((self.literal(&kv[0])?, self.literal(&kv[1])?)),
                _ => {
                    let span = self.span_of(item);
                    self.diags.error(span, "expected a `[key, state]` pair");
                    return None;
                }
            }
        }
        Some(out)
    }

    fn literal(&mut self, v: &Spanned<Node>) -> Option<Literal> {
        Some(match &v.value {
            Node::Int(i) => Literal::Int(*i),
            Node::Float(f) => Literal::Float(*f),
            Node::Bool(b) => Literal::Bool(*b),
            Node::Str(s) => Literal::Str(s.clone()),
            other => {
                let span = self.span_of(v);
                self.diags
                    .error(span, format!("expected a constant (number, string or boolean), found {}", other.kind()));
                return None;
            }
        })
    }

    /// Names each stream, resolves `from:` (and join/union) references, rejects cycles, and
    /// adds the streams to the plan in dependency order, stable in definition order. Returns the
    /// name → id map for outputs.
    fn resolve(&mut self, raw: Vec<RawStream>, plan: &mut Plan) -> HashMap<String, StreamId> {
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, r) in raw.iter().enumerate() {
            if let Some(&first) = index.get(&r.name) {
                let first_line = match self.spans.get(raw[first].name_span) {
                    SpanInfo::Text { line, .. } => format!(" on line {line}"),
                    _ => String::new(),
                };
                self.diags
                    .error(r.name_span, format!("stream `{}` is defined twice", r.name))
                    .help(format!("the first definition is{first_line}; give this stream another name"));
            } else {
                index.insert(r.name.clone(), i);
            }
        }
        let names: Vec<String> = raw.iter().map(|r| r.name.clone()).collect();
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        // deps[i]: the streams that stream i reads, in order (`from` first).
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); raw.len()];
        let mut broken = vec![false; raw.len()];
        for (i, r) in raw.iter().enumerate() {
            for (from, span) in r.from.iter().chain(&r.others) {
                match index.get(from) {
                    Some(&j) => deps[i].push(j),
                    None if self.poisoned.contains(from) => broken[i] = true,
                    None => {
                        broken[i] = true;
                        let d = self.diags.error(*span, format!("stream `{from}` is not defined"));
                        d.label("no stream has this name");
                        if let Some(s) = suggest(from, &name_refs) {
                            d.help(format!("did you mean `{s}`?"));
                        }
                    }
                }
            }
        }
        // Emit streams whose inputs are all emitted, in definition order, until nothing moves.
        let mut emitted: Vec<Option<StreamId>> = vec![None; raw.len()];
        let mut raw: Vec<Option<RawStream>> = raw.into_iter().map(Some).collect();
        let mut by_name = HashMap::new();
        loop {
            let mut progress = false;
            for i in 0..raw.len() {
                if emitted[i].is_some() || broken[i] {
                    continue;
                }
                if deps[i].iter().any(|&j| broken[j]) {
                    broken[i] = true;
                    progress = true;
                    continue;
                }
                if !deps[i].iter().all(|&j| emitted[j].is_some()) {
                    continue;
                }
                let Some(r) = raw[i].take() else { continue };
                let inputs: Vec<StreamId> = deps[i].iter().filter_map(|&j| emitted[j]).collect();
                let last = r.chain.len() - 1;
                let mut prev: Option<StreamId> = None;
                for (k, op) in r.chain.into_iter().enumerate() {
                    let name = if k == last { r.name.clone() } else { format!("{}#{k}", r.name) };
                    let ins = match prev {
                        None => inputs.clone(),
                        Some(p) => vec![p],
                    };
                    let id = StreamId(plan.streams.len());
                    plan.streams.push(Stream {
                        name,
                        name_span: r.name_span,
                        op,
                        op_span: r.op_span,
                        inputs: ins,
                        ty: Ty::Unknown,
                        slide_ms: 0,
                        checkpoint_ms: r.checkpoint_ms,
                    });
                    prev = Some(id);
                }
                if let Some(id) = prev {
                    by_name.insert(r.name.clone(), id);
                    emitted[i] = Some(id);
                }
                progress = true;
            }
            if !progress {
                break;
            }
        }
        // What is left (neither emitted nor broken) lies on or behind a cycle: report each cycle once.
        let mut reported = vec![false; raw.len()];
        for start in 0..raw.len() {
            if emitted[start].is_some() || broken[start] || reported[start] {
                continue;
            }
            let mut path = vec![start];
            let mut cur = start;
            let cycle = loop {
                let Some(&next) = deps[cur].iter().find(|&&j| emitted[j].is_none() && !broken[j]) else { break None };
                if let Some(pos) = path.iter().position(|&p| p == next) {
                    break Some(path[pos..].to_vec());
                }
                path.push(next);
                cur = next;
            };
            for &p in &path {
                reported[p] = true;
            }
            if let Some(cycle) = cycle {
                let described: Vec<String> = cycle.iter().rev().map(|&c| format!("`{}`", names[c])).collect();
                let first = cycle[0];
                let span = raw[first].as_ref().and_then(|r| r.from.as_ref().map(|(_, s)| *s)).unwrap_or_default();
                self.diags
                    .error(span, format!("the streams {} form a cycle", described.join(" → ")))
                    .help("a pipeline is a DAG: every stream must read only streams that do not depend on it");
            }
        }
        for (i, done) in emitted.iter().enumerate() {
            if done.is_none() {
                self.poisoned.push(names[i].clone());
            }
        }
        by_name
    }

    fn outputs(&mut self, node: &Spanned<Node>, plan: &mut Plan, names: &HashMap<String, StreamId>) {
        let Node::Seq(items) = &node.value else {
            let span = self.span_of(node);
            self.diags.error(span, format!("expected a list of outputs, found {}", node.value.kind()));
            return;
        };
        let known: Vec<&str> = plan.streams.iter().map(|s| s.name.as_str()).collect::<Vec<_>>();
        let known: Vec<String> = known.iter().map(|s| s.to_string()).collect();
        for item in items {
            let item_span = self.span_of(item);
            let Node::Map(entries) = &item.value else {
                self.diags.error(
                    item_span,
                    format!("expected an output such as `print: word_counts`, found {}", item.value.kind()),
                );
                continue;
            };
            for (key, value) in entries {
                plan.outputs_written += 1;
                let key_span = self.span_of(key);
                let (from, kind) = match key.value.as_str() {
                    "print" => {
                        if let Node::Str(s) = &value.value {
                            (Some((s.clone(), self.span_of(value))), Some(OutputKind::Print { num: 10 }))
                        } else {
                            let Some(f) = self.fields(value, "print", &["from", "num"]) else {
                                continue;
                            };
                            let from = self.output_from(&f, key_span, "print");
                            let num = match f.get("num") {
                                Some(n) => match self.int(n, "num") {
                                    Some(v) if v > 0 => v as usize,
                                    Some(v) => {
                                        let s = self.span_of(n);
                                        self.diags.error(s, format!("`num` must be positive, found `{v}`"));
                                        continue;
                                    }
                                    None => continue,
                                },
                                None => 10,
                            };
                            (from, Some(OutputKind::Print { num }))
                        }
                    }
                    "save_as_text_files" => {
                        let Some(f) = self.fields(value, "save_as_text_files", &["from", "prefix", "suffix"]) else {
                            continue;
                        };
                        let from = self.output_from(&f, key_span, "save_as_text_files");
                        let prefix = match f.get("prefix") {
                            Some(p) => self.string(p, "prefix"),
                            None => {
                                self.diags.error(key_span, "`save_as_text_files` needs a `prefix`").help(
                                    "write `save_as_text_files: { from: counts, prefix: out/counts, suffix: txt }`",
                                );
                                None
                            }
                        };
                        let suffix = match f.get("suffix") {
                            Some(s) => self.string(s, "suffix"),
                            None => Some(String::new()),
                        };
                        match (prefix, suffix) {
                            (Some(prefix), Some(suffix)) => {
                                (from, Some(OutputKind::SaveAsTextFiles { prefix, suffix }))
                            }
                            _ => continue,
                        }
                    }
                    "foreach_batch" => {
                        let Some(f) = self.fields(value, "foreach_batch", &["from", "func"]) else { continue };
                        let from = self.output_from(&f, key_span, "foreach_batch");
                        let Some(fnode) = f.get("func") else {
                            self.diags.error(
                                key_span,
                                "`foreach_batch` needs `func:` (a closure `|time_ms: i64, records| ...`)",
                            );
                            continue;
                        };
                        let Some(Func::Closure(c)) = self.func(fnode, "foreach_batch", plan, &[]) else { continue };
                        (from, Some(OutputKind::ForeachBatch(c)))
                    }
                    other => {
                        let d = self.diags.error(key_span, format!("unknown output operator `{other}`"));
                        if let Some(s) = suggest(other, &["print", "save_as_text_files", "foreach_batch"]) {
                            d.help(format!("did you mean `{s}`?"));
                        } else {
                            d.help("the output operators are `print` and `save_as_text_files`");
                        }
                        continue;
                    }
                };
                let (Some((from, from_span)), Some(kind)) = (from, kind) else {
                    continue;
                };
                match names.get(&from) {
                    Some(&input) => plan.outputs.push(Output { kind, input, span: key_span }),
                    None if self.poisoned.contains(&from) => {}
                    None => {
                        let d = self.diags.error(
                            from_span,
                            format!("output `{}` reads stream `{from}`, which is not defined", key.value),
                        );
                        let refs: Vec<&str> = known.iter().map(String::as_str).collect();
                        if let Some(s) = suggest(&from, &refs) {
                            d.help(format!("did you mean `{s}`?"));
                        }
                    }
                }
            }
        }
    }

    fn output_from(
        &mut self,
        f: &HashMap<String, &Spanned<Node>>,
        key_span: SpanId,
        op: &str,
    ) -> Option<(String, SpanId)> {
        match f.get("from") {
            Some(v) => {
                let span = self.span_of(v);
                self.string(v, "from").map(|s| (s, span))
            }
            None => {
                self.diags.error(key_span, format!("`{op}` needs `from: <stream name>`"));
                None
            }
        }
    }

    /// The fields of a mapping, checking that each key is one of `allowed`.
    fn fields<'n>(
        &mut self,
        value: &'n Spanned<Node>,
        what: &str,
        allowed: &[&str],
    ) -> Option<HashMap<String, &'n Spanned<Node>>> {
        let Node::Map(entries) = &value.value else {
            let span = self.span_of(value);
            self.diags
                .error(span, format!("expected a mapping for `{what}`, found {}", value.value.kind()))
                .help(format!("`{what}` takes {}", list(allowed)));
            return None;
        };
        let mut out = HashMap::new();
        for (k, v) in entries {
            if allowed.contains(&k.value.as_str()) {
                out.insert(k.value.clone(), v);
            } else {
                let span = self.span_of(k);
                let d = self.diags.error(span, format!("unknown field `{}` in `{what}`", k.value));
                match suggest(&k.value, allowed) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("`{what}` takes {}", list(allowed))),
                };
            }
        }
        Some(out)
    }

    fn string(&mut self, v: &Spanned<Node>, what: &str) -> Option<String> {
        match &v.value {
            Node::Str(s) => Some(s.clone()),
            other => {
                let span = self.span_of(v);
                self.diags.error(span, format!("expected a string for `{what}`, found {}", other.kind()));
                None
            }
        }
    }

    fn int(&mut self, v: &Spanned<Node>, what: &str) -> Option<i64> {
        match &v.value {
            Node::Int(i) => Some(*i),
            other => {
                let span = self.span_of(v);
                self.diags.error(span, format!("expected an integer for `{what}`, found {}", other.kind()));
                None
            }
        }
    }

    fn duration(&mut self, v: &Spanned<Node>, what: &str) -> Option<u64> {
        let span = self.span_of(v);
        let result = match &v.value {
            Node::Str(s) => duration::parse_ms(s),
            Node::Int(_) | Node::Float(_) => Err(format!("`{what}` needs a unit, such as `1s` or `500ms`")),
            other => Err(format!("expected a duration such as `1s` for `{what}`, found {}", other.kind())),
        };
        match result {
            Ok(ms) => Some(ms),
            Err(msg) => {
                self.diags.error(span, msg).help("durations are written `500ms`, `1s`, `10 seconds` or `2 minutes`");
                None
            }
        }
    }
}

impl Cx<'_> {
    /// `sources:` of a Structured Streaming spec: a list of named sources with a schema.
    fn table_sources(&mut self, node: &Spanned<Node>, table: &mut TablePlan) {
        let Node::Seq(items) = &node.value else {
            let span = self.span_of(node);
            self.diags.error(span, format!("expected a list of sources, found {}", node.value.kind()));
            return;
        };
        for item in items {
            let span = self.span_of(item);
            let Node::Map(entries) = &item.value else {
                self.diags.error(
                    span,
                    format!("expected a source (`name:`, a format and a `schema:`), found {}", item.value.kind()),
                );
                continue;
            };
            let (mut name, mut kind, mut schema, mut malformed) = (None, None, None, Malformed::default());
            for (k, v) in entries {
                let kspan = self.span_of(k);
                match k.value.as_str() {
                    "name" => name = self.string(v, "name"),
                    "socket" => {
                        let Some(f) = self.fields(v, "socket", &["host", "port"]) else { continue };
                        let host = match f.get("host") {
                            Some(h) => self.string(h, "host").unwrap_or_default(),
                            None => "localhost".into(),
                        };
                        let port = f.get("port").and_then(|p| self.int(p, "port")).and_then(|p| u16::try_from(p).ok());
                        match port {
                            Some(port) => kind = Some(SourceKind::Socket { host, port }),
                            None => {
                                self.diags.error(kspan, "`socket` needs a `port` between 0 and 65535");
                            }
                        }
                        schema.get_or_insert_with(|| vec![Column { name: "value".into(), ty: ColTy::String }]);
                    }
                    fmt @ ("json" | "csv" | "text") => {
                        let Some(f) = self.fields(v, fmt, &["path", "max_files_per_trigger", "mode"]) else { continue };
                        let Some(path) = f.get("path").and_then(|p| self.string(p, "path")) else {
                            self.diags.error(kspan, format!("`{fmt}` needs a `path` (a directory)"));
                            continue;
                        };
                        let max_files = match f.get("max_files_per_trigger") {
                            Some(n) => match self.int(n, "max_files_per_trigger") {
                                Some(v) if v > 0 => Some(v as u64),
                                Some(v) => {
                                    let s = self.span_of(n);
                                    self.diags
                                        .error(s, format!("`max_files_per_trigger` must be positive, found `{v}`"));
                                    None
                                }
                                None => None,
                            },
                            None => None,
                        };
                        if let Some(m) = f.get("mode") {
                            match self.string(m, "mode").as_deref() {
                                Some("permissive" | "PERMISSIVE") => malformed = Malformed::Permissive,
                                Some("drop_malformed" | "DROPMALFORMED") => malformed = Malformed::DropMalformed,
                                Some("fail_fast" | "FAILFAST") => malformed = Malformed::FailFast,
                                Some(other) => {
                                    let s = self.span_of(m);
                                    self.diags
                                        .error(s, format!("unknown mode `{other}`"))
                                        .help("the modes are `permissive`, `drop_malformed` and `fail_fast`");
                                }
                                None => {}
                            }
                        }
                        let format = match fmt {
                            "json" => Format::Json,
                            "csv" => Format::Csv,
                            _ => Format::Text,
                        };
                        if format == Format::Text {
                            schema.get_or_insert_with(|| vec![Column { name: "value".into(), ty: ColTy::String }]);
                        }
                        kind = Some(SourceKind::Files { format, path, max_files });
                    }
                    "static" => {
                        let Some(f) = self.fields(v, "static", &["json", "csv"]) else { continue };
                        let found = [("json", Format::Json), ("csv", Format::Csv)]
                            .into_iter()
                            .find_map(|(k, fmt)| f.get(k).map(|p| (p, fmt)));
                        match found {
                            Some((p, format)) => {
                                if let Some(path) = self.string(p, "path") {
                                    kind = Some(SourceKind::Static { format, path });
                                }
                            }
                            None => {
                                self.diags
                                    .error(kspan, "`static` needs the table's file: `json: PATH` or `csv: PATH`")
                                    .help("write `static: { json: data/categories.json }`");
                            }
                        }
                    }
                    "rate" => {
                        let Some(f) = self.fields(v, "rate", &["rows_per_second"]) else { continue };
                        let rows = match f.get("rows_per_second") {
                            Some(n) => match self.int(n, "rows_per_second") {
                                Some(r) if r > 0 => r as u64,
                                Some(r) => {
                                    let s = self.span_of(n);
                                    self.diags.error(s, format!("`rows_per_second` must be positive, found `{r}`"));
                                    continue;
                                }
                                None => continue,
                            },
                            None => 1,
                        };
                        kind = Some(SourceKind::Rate { rows_per_second: rows });
                        schema.get_or_insert_with(|| {
                            vec![
                                Column { name: "timestamp".into(), ty: ColTy::Timestamp },
                                Column { name: "value".into(), ty: ColTy::Long },
                            ]
                        });
                    }
                    "schema" => {
                        let Node::Map(cols) = &v.value else {
                            let s = self.span_of(v);
                            self.diags.error(s, "expected the schema as a mapping `column: type`");
                            continue;
                        };
                        let mut out = Vec::new();
                        for (c, t) in cols {
                            let Some(tn) = self.string(t, "a column type") else { continue };
                            match ColTy::parse(&tn) {
                                Some(ty) => out.push(Column { name: c.value.clone(), ty }),
                                None => {
                                    let s = self.span_of(t);
                                    let d = self.diags.error(s, format!("unknown column type `{tn}`"));
                                    let types = ["string", "boolean", "int", "long", "double", "timestamp", "date"];
                                    match suggest(&tn, &types) {
                                        Some(t) => d.help(format!("did you mean `{t}`?")),
                                        None => d.help(
                                            "the types are string, boolean, int, long, double, timestamp and date",
                                        ),
                                    };
                                }
                            }
                        }
                        schema = Some(out);
                    }
                    other => {
                        let d = self.diags.error(kspan, format!("unknown source setting `{other}`"));
                        match suggest(other, &["name", "socket", "json", "csv", "text", "rate", "static", "schema"]) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help(
                                "a source has `name`, one of `socket`/`json`/`csv`/`text`/`rate`/`static`, and `schema`",
                            ),
                        };
                    }
                }
            }
            let Some(name) = name else {
                self.diags.error(span, "this source has no `name`");
                continue;
            };
            let Some(kind) = kind else {
                self.diags
                    .error(span, format!("source `{name}` has no format"))
                    .help("add `json: { path: DIR }`, `csv:`, `text:` or `socket:`");
                continue;
            };
            let Some(schema) = schema else {
                self.diags
                    .error(span, format!("source `{name}` has no `schema`"))
                    .help("add `schema: { timestamp: timestamp, word: string }`");
                continue;
            };
            table.sources.push(TableSource { name, span, kind, schema, malformed });
        }
    }

    /// `queries:` of a Structured Streaming spec.
    fn table_queries(&mut self, node: &Spanned<Node>, table: &mut TablePlan) {
        let Node::Seq(items) = &node.value else {
            let span = self.span_of(node);
            self.diags.error(span, format!("expected a list of queries, found {}", node.value.kind()));
            return;
        };
        for item in items {
            let span = self.span_of(item);
            let Node::Map(entries) = &item.value else {
                self.diags.error(span, format!("expected a query, found {}", item.value.kind()));
                continue;
            };
            let (mut name, mut from, mut steps, mut mode, mut sinks) = (None, None, Vec::new(), None, Vec::new());
            // `sql:` (instead of `from:` + `steps:`) and the `watermark:` given beside it.
            let (mut sql, mut watermark) = (None, None);
            for (k, v) in entries {
                let kspan = self.span_of(k);
                match k.value.as_str() {
                    "name" => name = self.string(v, "name"),
                    "sql" => {
                        let s = self.span_of(v);
                        sql = self.string(v, "sql").map(|text| (text, s, kspan));
                    }
                    "watermark" => {
                        let s = self.span_of(v);
                        let f = self.fields(v, "watermark", &["column", "delay"]);
                        match f.as_ref().map(|f| (f.get("column"), f.get("delay"))) {
                            Some((Some(c), Some(d))) => {
                                let (column, delay_ms) = (self.string(c, "column"), self.duration(d, "delay"));
                                if let (Some(column), Some(delay_ms)) = (column, delay_ms) {
                                    watermark = Some((Step::WithWatermark { column, delay_ms }, s, kspan));
                                }
                            }
                            Some(_) => {
                                self.diags
                                    .error(s, "`watermark` needs a `column` and a `delay`")
                                    .help("write `watermark: { column: timestamp, delay: 10 minutes }`");
                            }
                            None => {}
                        }
                    }
                    "from" => {
                        let s = self.span_of(v);
                        from = self.string(v, "from").map(|f| (f, s));
                    }
                    "steps" => {
                        if let Node::Seq(list) = &v.value {
                            for st in list {
                                if let Some(step) = self.table_step(st) {
                                    steps.push(step);
                                }
                            }
                        } else {
                            let s = self.span_of(v);
                            self.diags.error(s, "expected a list of steps");
                        }
                    }
                    "output_mode" => {
                        let s = self.span_of(v);
                        mode = match self.string(v, "output_mode").as_deref() {
                            Some("append") => Some((OutputMode::Append, s)),
                            Some("complete") => Some((OutputMode::Complete, s)),
                            Some("update") => Some((OutputMode::Update, s)),
                            Some(other) => {
                                self.diags
                                    .error(s, format!("unknown output mode `{other}`"))
                                    .help("the output modes are `append`, `complete` and `update`");
                                None
                            }
                            None => None,
                        };
                    }
                    "sink" | "sinks" => {
                        let list: Vec<&Spanned<Node>> = match &v.value {
                            Node::Seq(l) => l.iter().collect(),
                            _ => vec![v],
                        };
                        for sn in list {
                            let s = self.span_of(sn);
                            match &sn.value {
                                Node::Str(c) if c == "console" => {
                                    sinks.push((Sink::Console { num_rows: 20, truncate: true }, s))
                                }
                                Node::Str(c) if c == "memory" => sinks.push((Sink::Memory, s)),
                                Node::Map(m) if m.len() == 1 => {
                                    let (sk, sv) = &m[0];
                                    match sk.value.as_str() {
                                        "console" => {
                                            let Some(f) = self.fields(sv, "console", &["num_rows", "truncate"]) else {
                                                continue;
                                            };
                                            let num_rows = f
                                                .get("num_rows")
                                                .and_then(|n| self.int(n, "num_rows"))
                                                .map_or(20, |n| n.max(0) as usize);
                                            let truncate = match f.get("truncate").map(|t| &t.value) {
                                                Some(Node::Bool(b)) => *b,
                                                _ => true,
                                            };
                                            sinks.push((Sink::Console { num_rows, truncate }, s));
                                        }
                                        "json" => {
                                            if let Some(path) = self.string(sv, "json") {
                                                sinks.push((Sink::Json { path }, s));
                                            }
                                        }
                                        "parquet" => {
                                            if let Some(path) = self.string(sv, "parquet") {
                                                sinks.push((Sink::Parquet { path }, s));
                                            }
                                        }
                                        "foreach_batch" => {
                                            let span = self.span_of(sv);
                                            if let Some(closure) = self.string(sv, "foreach_batch") {
                                                if closure.parse::<proc_macro2::TokenStream>().is_err() {
                                                    self.diags.error(span, "`foreach_batch` needs a Rust closure `|batch_id, rows| { ... }`, and this does not parse as Rust tokens");
                                                    continue;
                                                }
                                                sinks.push((Sink::ForeachBatch { closure, span }, s));
                                            }
                                        }
                                        other => {
                                            let sks = self.span_of(sk);
                                            self.diags
                                                .error(sks, format!("unknown sink `{other}`"))
                                                .help("the sinks are `console`, `memory`, `json: DIR`, `parquet: DIR` and `foreach_batch: CLOSURE`");
                                        }
                                    }
                                }
                                other => {
                                    self.diags.error(
                                        s,
                                        format!("expected a sink (`console` or `json: DIR`), found {}", other.kind()),
                                    );
                                }
                            }
                        }
                    }
                    other => {
                        let d = self.diags.error(kspan, format!("unknown query setting `{other}`"));
                        match suggest(other, &["name", "from", "steps", "sql", "watermark", "output_mode", "sink"]) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => {
                                d.help("a query has `name`, `from` and `steps` (or `sql`), `output_mode` and `sink`")
                            }
                        };
                    }
                }
            }
            match (sql, watermark) {
                (Some((text, s, kspan)), watermark) => {
                    if from.is_some() || !steps.is_empty() {
                        self.diags
                            .error(kspan, "a query has either `sql` or `from` and `steps`, not both")
                            .help("move the steps into the SQL, or remove `sql`");
                        continue;
                    }
                    let lowered = match crate::front::sql::lower(&text) {
                        Ok(l) => l,
                        Err(errors) => {
                            for e in errors {
                                let at = crate::front::sql::span_in(self.spans, self.src, s, &text, e.pos);
                                let d = self.diags.error(at, e.message);
                                if let Some(h) = e.help {
                                    d.help(h);
                                }
                            }
                            continue;
                        }
                    };
                    let from_span = crate::front::sql::span_in(self.spans, self.src, s, &text, lowered.from.1);
                    from = Some((lowered.from.0, from_span));
                    steps.extend(watermark.map(|(w, ws, _)| (w, ws)));
                    for (step, pos) in lowered.steps {
                        steps.push((step, crate::front::sql::span_in(self.spans, self.src, s, &text, pos)));
                    }
                }
                (None, Some((_, _, kspan))) => {
                    self.diags
                        .error(kspan, "`watermark` goes with `sql`")
                        .help("with `steps`, write a `with_watermark: { column, delay }` step");
                }
                (None, None) => {}
            }
            let name = name.unwrap_or_else(|| format!("query{}", table.queries.len()));
            let Some(from) = from else {
                self.diags.error(span, format!("query `{name}` has no `from`")).help("add `from: <source name>`");
                continue;
            };
            let mode = mode.unwrap_or((OutputMode::Append, span));
            if sinks.is_empty() {
                self.diags
                    .error(span, format!("query `{name}` has no sink"))
                    .help("add `sink: console` or `sink: { json: DIR }`");
                continue;
            }
            table.queries.push(Query { name, span, from, steps, mode, sinks });
        }
    }

    /// One step of a query.
    fn table_step(&mut self, node: &Spanned<Node>) -> Option<(Step, SpanId)> {
        let span = self.span_of(node);
        let Node::Map(entries) = &node.value else {
            self.diags.error(span, format!("expected a step such as `where: \"...\"`, found {}", node.value.kind()));
            return None;
        };
        let (key, value) = &entries[0];
        let kspan = self.span_of(key);
        let step = match key.value.as_str() {
            "select" => {
                let items = self.expr_list(value, true)?;
                Step::Select(items)
            }
            "where" | "filter" => {
                let s = self.string(value, "where")?;
                let vspan = self.span_of(value);
                Step::Where(self.expr(&s, vspan)?)
            }
            "with_column" => {
                let f = self.fields(value, "with_column", &["name", "expr"])?;
                let name = self.string(f.get("name")?, "name")?;
                let e = f.get("expr")?;
                let vspan = self.span_of(e);
                let text = self.string(e, "expr")?;
                Step::WithColumn(name, self.expr(&text, vspan)?)
            }
            "with_watermark" => {
                let f = self.fields(value, "with_watermark", &["column", "delay"])?;
                let column = self.string(f.get("column")?, "column")?;
                let delay_ms = self.duration(f.get("delay")?, "delay")?;
                Step::WithWatermark { column, delay_ms }
            }
            "drop_duplicates" | "dropDuplicates" => {
                let cols = match &value.value {
                    Node::Null => Vec::new(),
                    Node::Seq(items) => {
                        let mut v = Vec::new();
                        for it in items {
                            v.push(self.string(it, "a column name")?);
                        }
                        v
                    }
                    _ => vec![self.string(value, "a column name")?],
                };
                Step::DropDuplicates(cols)
            }
            "union" => match &value.value {
                Node::Map(_) => {
                    let f = self.fields(value, "union", &["source", "watermark"])?;
                    let source = self.string(f.get("source")?, "source")?;
                    let watermark = match f.get("watermark") {
                        Some(w) => {
                            let wf = self.fields(w, "watermark", &["column", "delay"])?;
                            let column = self.string(wf.get("column")?, "column")?;
                            let delay = self.duration(wf.get("delay")?, "delay")?;
                            Some((column, delay))
                        }
                        None => None,
                    };
                    Step::Union { source, watermark }
                }
                _ => Step::Union { source: self.string(value, "union")?, watermark: None },
            },
            "join" => {
                let f = self.fields(value, "join", &["table", "on", "how"])?;
                let Some(t) = f.get("table") else {
                    self.diags
                        .error(kspan, "`join` needs the static `table` to join")
                        .help("write `join: { table: NAME, on: [col] }`");
                    return None;
                };
                let table = self.string(t, "table")?;
                let on = match f.get("on").map(|o| &o.value) {
                    Some(Node::Seq(items)) => {
                        let mut v = Vec::new();
                        for it in items {
                            v.push(self.string(it, "a column name")?);
                        }
                        v
                    }
                    Some(_) => vec![self.string(f.get("on")?, "on")?],
                    None => Vec::new(),
                };
                let how = match f.get("how") {
                    None => JoinHow::Inner,
                    Some(h) => match self.string(h, "how")?.as_str() {
                        "inner" => JoinHow::Inner,
                        "left" | "left_outer" | "leftouter" => JoinHow::LeftOuter,
                        other => {
                            let hs = self.span_of(h);
                            let d = self.diags.error(hs, format!("unsupported join type `{other}`"));
                            if matches!(other, "right" | "right_outer" | "full" | "full_outer" | "outer") {
                                d.help("a stream-static join keeps stream rows: `inner` or `left_outer` (Spark refuses right/full outer joins with a static table on the right)");
                            } else {
                                d.help("the join types are `inner` and `left_outer`");
                            }
                            return None;
                        }
                    },
                };
                Step::Join { table, on, how }
            }
            "group_by" => {
                let keys = self.expr_list(value, true)?;
                let aggs = match entries.iter().find(|(k, _)| k.value == "agg") {
                    Some((_, a)) => self.expr_list(a, true)?,
                    None => vec![(
                        crate::table::expr::Expr::Call("count".into(), vec![crate::table::expr::Expr::Star]),
                        None,
                    )],
                };
                Step::GroupBy { keys, aggs }
            }
            other => {
                let d = self.diags.error(kspan, format!("unknown step `{other}`"));
                match other {
                    "order_by" | "sort" => d.help("Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode (not supported by streamc yet)"),
                    "limit" => d.help("Limits are not supported on streaming DataFrames/Datasets"),
                    "distinct" => d.help("use `drop_duplicates: [columns]` (with a watermark on an event-time column among them, so that its state stays bounded)"),
                    _ => match suggest(other, &["select", "where", "with_column", "with_watermark", "group_by", "drop_duplicates", "union", "join"]) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help("the steps are select, where, with_column, with_watermark, group_by, drop_duplicates, union and join"),
                    },
                };
                return None;
            }
        };
        if entries.len() > 1
            && !(matches!(step, Step::GroupBy { .. }) && entries.len() == 2 && entries[1].0.value == "agg")
        {
            let s = self.span_of(&entries[1].0);
            self.diags.error(s, "a step has one operation").help("write each step as its own list item");
        }
        let _ = span;
        // Problems found when typing the step point at its argument (the expression text).
        Some((step, self.span_of(value)))
    }

    fn expr_list(
        &mut self,
        v: &Spanned<Node>,
        aliases: bool,
    ) -> Option<Vec<(crate::table::expr::Expr, Option<String>)>> {
        let items: Vec<&Spanned<Node>> = match &v.value {
            Node::Seq(l) => l.iter().collect(),
            _ => vec![v],
        };
        let mut out = Vec::new();
        for it in items {
            let s = self.span_of(it);
            let text = self.string(it, "an expression")?;
            match crate::table::expr::parse_aliased(&text) {
                Ok((e, alias)) if aliases || alias.is_none() => out.push((e, alias)),
                Ok(_) => {
                    self.diags.error(s, "an alias (`AS`) is not allowed here");
                    return None;
                }
                Err(e) => {
                    let s = self.shift(s, e.offset);
                    self.diags.error(s, format!("cannot parse the expression: {}", e.message));
                    return None;
                }
            }
        }
        Some(out)
    }

    fn expr(&mut self, text: &str, span: SpanId) -> Option<crate::table::expr::Expr> {
        match crate::table::expr::parse(text) {
            Ok(e) => Some(e),
            Err(e) => {
                let s = self.shift(span, e.offset);
                self.diags.error(s, format!("cannot parse the expression: {}", e.message));
                None
            }
        }
    }

    /// A span `offset` bytes into a (quoted) string node.
    fn shift(&mut self, span: SpanId, offset: usize) -> SpanId {
        match self.spans.get(span).clone() {
            SpanInfo::Text { line, column, start, .. } => {
                let quoted = matches!(self.src.as_bytes().get(start), Some(b'"' | b'\''));
                let extra = offset + usize::from(quoted);
                self.spans.add(SpanInfo::Text { line, column: column + extra as u32, start: start + extra, len: 1 })
            }
            _ => span,
        }
    }
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    quoted.join(", ")
}
