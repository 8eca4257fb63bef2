//! The DStream part of a YAML spec: `streams:` (each a source or one operator over earlier
//! streams, composite Spark operators lowered as Spark defines them) and `outputs:`.

use super::node::Node;
use super::reader::{Reader, list};
use crate::diag::suggest;
use crate::dstream::ops::{self, Args, Kind, Params, STREAM_KINDS};
use crate::dstream::plan::{Builtin, Func, Initial, Op, Output, OutputKind, Plan, Stream, StreamId};
use crate::dstream::ty::Ty;
use crate::front::closure;
use crate::span::{SpanId, SpanInfo};
use serde_saphyr::Spanned;
use std::collections::HashMap;

/// A stream entry before names are resolved.
pub(super) struct RawStream {
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

/// Reads the DStream part of a spec.
pub(super) struct Streams<'r, 'a> {
    pub(super) r: &'r mut Reader<'a>,
    /// Streams whose definition had an error already reported: references to them are not
    /// reported again.
    pub(super) poisoned: Vec<String>,
}

impl Streams<'_, '_> {
    pub(super) fn streams(&mut self, node: &Spanned<Node>, plan: &mut Plan) -> Vec<RawStream> {
        let mut out = Vec::new();
        let Node::Seq(items) = &node.value else {
            let span = self.r.span_of(node);
            self.r.diags.error(span, format!("expected a list of streams, found {}", node.value.kind()));
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
        let item_span = self.r.span_of(item);
        let Node::Map(entries) = &item.value else {
            self.r.diags.error(
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
            let key_span = self.r.span_of(key);
            match key.value.as_str() {
                "name" => name = self.r.string(value, "name").map(|n| (n, self.r.span_of(value))),
                "checkpoint_interval" => {
                    let span = self.r.span_of(value);
                    checkpoint_ms = self.r.duration(value, "checkpoint_interval").map(|ms| (ms, span));
                }
                "from" => from = self.r.string(value, "from").map(|n| (n, self.r.span_of(value))),
                k => {
                    let Some(parsed) = self.operator(k, key_span, value, plan) else {
                        op_failed = true;
                        continue;
                    };
                    if let Some((first, _)) = &op {
                        self.r
                            .diags
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
            self.r.diags.error(item_span, "this stream has no `name`").help("add `name: <stream name>`");
            return None;
        };
        let Some((op, op_span)) = op else {
            if op_failed {
                self.poisoned.push(name);
                return None;
            }
            self.r
                .diags
                .error(name_span, format!("stream `{name}` has no operator"))
                .help("add a source such as `socket_text_stream:` or an operator such as `map:`");
            return None;
        };
        let Parsed { chain, others } = op;
        let first = chain.first()?.clone();
        if first.is_source() {
            if let Some((_, span)) = from {
                self.r.diags.error(span, format!("source `{name}` reads no stream, so it takes no `from`"));
            }
            return Some(RawStream { name, name_span, from: None, others, chain, op_span, checkpoint_ms });
        }
        let from = match (from, previous) {
            (Some(f), _) => Some(f),
            (None, Some(p)) => Some((p.to_string(), name_span)),
            (None, None) => {
                self.r
                    .diags
                    .error(op_span, format!("`{}` in stream `{name}` has no input stream", first.name()))
                    .help("add `from: <stream name>`, or define a source first");
                return None;
            }
        };
        Some(RawStream { name, name_span, from, others, chain, op_span, checkpoint_ms })
    }

    /// Parses one operator entry `key: value` of a stream: reads the arguments of the
    /// operator's shape ([`Params`]) into one call ([`Args`]), which its registry entry lowers.
    fn operator(&mut self, key: &str, key_span: SpanId, value: &Spanned<Node>, plan: &mut Plan) -> Option<Parsed> {
        let Some(def) = ops::find(key).filter(|d| d.kind != Kind::Output) else {
            let d = self.r.diags.error(key_span, format!("unknown operator or source `{key}`"));
            d.label("not a streamc operator");
            let mut kinds = STREAM_KINDS.to_vec();
            kinds.push(Kind::Source);
            if let Some(s) = ops::suggest(key, &kinds) {
                d.help(format!("did you mean `{s}`?"));
            } else if ops::find(key).is_some() {
                d.help(format!("`{key}` is an output operator: list it under `outputs:`"));
            }
            return None;
        };
        let mut args = Args::default();
        let mut others = Vec::new();
        match def.params {
            Params::HostPort => {
                let fields = self.r.fields(value, key, &["host", "port"])?;
                args.host = match fields.get("host") {
                    Some(v) => self.r.string(v, "host")?,
                    None => "localhost".to_string(),
                };
                let Some(port_node) = fields.get("port") else {
                    self.r
                        .diags
                        .error(key_span, "`socket_text_stream` needs a `port`")
                        .help("write `socket_text_stream: { host: localhost, port: 9999 }`");
                    return None;
                };
                let port = self.r.int(port_node, "port")?;
                let Ok(port) = u16::try_from(port) else {
                    let span = self.r.span_of(port_node);
                    self.r
                        .diags
                        .error(span, format!("port `{port}` is out of range"))
                        .help("a TCP port is between 0 and 65535");
                    return None;
                };
                args.port = port;
            }
            Params::Kafka => {
                let whole = self.r.span_of(value);
                args.kafka =
                    crate::table::kafka::direct(super::kafka::options(self.r, value, false)?, whole, self.r.diags)?;
            }
            Params::Dir => {
                args.dir = match &value.value {
                    Node::Str(s) => s.clone(),
                    _ => {
                        let fields = self.r.fields(value, key, &["dir"])?;
                        let Some(d) = fields.get("dir") else {
                            self.r.diags.error(key_span, format!("`{key}` needs a `dir`"));
                            return None;
                        };
                        self.r.string(d, "dir")?
                    }
                };
            }
            Params::Func { builtins } => args.func = Some(self.func(value, key, plan, builtins)?),
            Params::Nothing => {
                if !matches!(value.value, Node::Null | Node::Bool(true) | Node::Map(_)) {
                    let span = self.r.span_of(value);
                    self.r
                        .diags
                        .error(span, format!("`{key}` takes no argument, found {}", value.value.kind()))
                        .help(format!("write `{key}: {{}}`"));
                }
            }
            Params::Partitions => {
                let n = self.r.int(value, key)?;
                if n <= 0 || n > i64::from(u32::MAX) {
                    let span = self.r.span_of(value);
                    self.r.diags.error(span, format!("`{key}` needs a positive number of partitions, found `{n}`"));
                    return None;
                }
                args.partitions = n as u32;
            }
            Params::Others { many } => {
                others = match &value.value {
                    Node::Str(s) => vec![(s.clone(), self.r.span_of(value))],
                    Node::Seq(items) if many => {
                        let mut v = Vec::new();
                        for i in items {
                            let span = self.r.span_of(i);
                            v.push((self.r.string(i, key)?, span));
                        }
                        v
                    }
                    other => {
                        let span = self.r.span_of(value);
                        self.r
                            .diags
                            .error(
                                span,
                                format!("expected the name of the other stream for `{key}`, found {}", other.kind()),
                            )
                            .help(format!("write `{key}: <stream name>` (the first input is `from:`)"));
                        return None;
                    }
                };
            }
            Params::Windowed { fields, .. } => {
                let f = self.r.fields(value, key, fields)?;
                args.window = Some(self.window_durations(&f, key_span, key)?);
                if fields.contains(&"func") {
                    let Some(func_node) = f.get("func") else {
                        self.r
                            .diags
                            .error(key_span, format!("`{key}` needs `func:` (a closure, or `sum`/`min`/`max`)"));
                        return None;
                    };
                    args.func = Some(self.func(func_node, key, plan, &["sum", "min", "max"])?);
                }
                if let Some(n) = f.get("inverse") {
                    args.inverse = Some(self.func(n, "inverse", plan, &["subtract"])?);
                }
                if let Some(n) = f.get("filter") {
                    args.filter = Some(self.func(n, "filter", plan, &["non_zero"])?);
                }
            }
            Params::StateSpec { fields } => {
                if let Node::Str(_) = &value.value {
                    args.func = Some(self.func(value, key, plan, &["running_sum"])?);
                } else {
                    let f = self.r.fields(value, key, fields)?;
                    let Some(fnode) = f.get("function") else {
                        self.r
                            .diags
                            .error(key_span, format!("`{key}` needs `function:` (a closure, or `running_sum`)"));
                        return None;
                    };
                    args.func = Some(self.func(fnode, key, plan, &["running_sum"])?);
                    if let Some(t) = f.get("timeout") {
                        args.timeout_ms = Some(self.r.duration(t, "timeout")?);
                    }
                    if let Some(n) = f.get("initial_state") {
                        args.initial = Some(Initial::Pairs(self.r.pairs(n)?));
                    }
                    if let Some(n) = f.get("num_partitions") {
                        self.r.int(n, "num_partitions")?;
                    }
                }
            }
            Params::Output { .. } => unreachable!("outputs are filtered out above"),
        }
        let chain = (def.lower?)(args)?;
        Some(Parsed { chain, others })
    }

    /// A function argument: a Rust closure in a string, or a built-in.
    fn func(&mut self, value: &Spanned<Node>, op: &str, plan: &mut Plan, builtins: &[&str]) -> Option<Func> {
        let span = self.r.span_of(value);
        match &value.value {
            Node::Str(s) if builtins.contains(&s.as_str()) && !s.starts_with('|') => {
                Some(Func::Builtin(match (op, s.as_str()) {
                    ("update_state_by_key", "sum") => Builtin::RunningSum,
                    (_, "sum") => Builtin::Sum,
                    (_, "min") => Builtin::Min,
                    (_, "max") => Builtin::Max,
                    (_, "subtract") => Builtin::Subtract,
                    (_, "non_zero") => Builtin::NonZero,
                    (_, "running_sum") => Builtin::RunningSumMapped,
                    // A built-in that takes an argument, written bare (`flat_map: split`).
                    (_, b) => {
                        let example = if b == "split" { "{ split: \" \" }" } else { "{ pair_with: 1 }" };
                        self.r
                            .diags
                            .error(span, format!("`{b}` takes an argument here"))
                            .help(format!("write `{op}: {example}`"));
                        return None;
                    }
                }))
            }
            Node::Str(s) => match syn::parse_str::<syn::Expr>(s) {
                Ok(expr) => {
                    let mut c = closure::describe(&expr, span);
                    if c.arity.is_none() && !s.contains("::") {
                        let d = self.r.diags.error(span, format!("expected a Rust closure for `{op}`, found `{s}`"));
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
                    self.r
                        .diags
                        .error(span, format!("the Rust closure of `{op}` does not parse: {e}"))
                        .help("write a Rust closure such as `|line: &str| line.len()`");
                    None
                }
            },
            Node::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                let kspan = self.r.span_of(k);
                match (k.value.as_str(), op) {
                    ("split", "flat_map") => {
                        let d = self.r.string(v, "split")?;
                        if d.is_empty() {
                            let vspan = self.r.span_of(v);
                            self.r.diags.error(vspan, "`split` needs a non-empty delimiter");
                            return None;
                        }
                        Some(Func::Builtin(Builtin::Split(d)))
                    }
                    ("pair_with", "map") => Some(Func::Builtin(Builtin::PairWith(self.r.literal(v)?))),
                    (other, _) => {
                        let d = self.r.diags.error(kspan, format!("`{other}` is not a built-in of `{op}`"));
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
                    .r
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
            self.r
                .diags
                .error(key_span, format!("`{key}` needs a window `length`"))
                .help(format!("write `{key}: {{ length: 30s, slide: 10s }}`"));
            return None;
        };
        let len_ms = self.r.duration(len, "length")?;
        let slide_ms = match f.get("slide") {
            Some(s) => Some(self.r.duration(s, "slide")?),
            None => None,
        };
        Some((len_ms, slide_ms))
    }

    /// Names each stream, resolves `from:` (and join/union) references, rejects cycles, and
    /// adds the streams to the plan in dependency order, stable in definition order. Returns the
    /// name → id map for outputs.
    pub(super) fn resolve(&mut self, raw: Vec<RawStream>, plan: &mut Plan) -> HashMap<String, StreamId> {
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, r) in raw.iter().enumerate() {
            if let Some(&first) = index.get(&r.name) {
                let first_line = match self.r.spans.get(raw[first].name_span) {
                    SpanInfo::Text { line, .. } => format!(" on line {line}"),
                    _ => String::new(),
                };
                self.r
                    .diags
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
                        let d = self.r.diags.error(*span, format!("stream `{from}` is not defined"));
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
                self.r
                    .diags
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

    pub(super) fn outputs(&mut self, node: &Spanned<Node>, plan: &mut Plan, names: &HashMap<String, StreamId>) {
        let Node::Seq(items) = &node.value else {
            let span = self.r.span_of(node);
            self.r.diags.error(span, format!("expected a list of outputs, found {}", node.value.kind()));
            return;
        };
        let known: Vec<&str> = plan.streams.iter().map(|s| s.name.as_str()).collect::<Vec<_>>();
        let known: Vec<String> = known.iter().map(|s| s.to_string()).collect();
        for item in items {
            let item_span = self.r.span_of(item);
            let Node::Map(entries) = &item.value else {
                self.r.diags.error(
                    item_span,
                    format!("expected an output such as `print: word_counts`, found {}", item.value.kind()),
                );
                continue;
            };
            for (key, value) in entries {
                plan.outputs_written += 1;
                let key_span = self.r.span_of(key);
                let (from, kind) = match key.value.as_str() {
                    "print" => {
                        if let Node::Str(s) = &value.value {
                            (Some((s.clone(), self.r.span_of(value))), Some(OutputKind::Print { num: 10 }))
                        } else {
                            let Some(f) = self.r.fields(value, "print", &["from", "num"]) else {
                                continue;
                            };
                            let from = self.output_from(&f, key_span, "print");
                            let num = match f.get("num") {
                                Some(n) => match self.r.int(n, "num") {
                                    Some(v) if v > 0 => v as usize,
                                    Some(v) => {
                                        let s = self.r.span_of(n);
                                        self.r.diags.error(s, format!("`num` must be positive, found `{v}`"));
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
                        let Some(f) = self.r.fields(value, "save_as_text_files", &["from", "prefix", "suffix"]) else {
                            continue;
                        };
                        let from = self.output_from(&f, key_span, "save_as_text_files");
                        let prefix = match f.get("prefix") {
                            Some(p) => self.r.string(p, "prefix"),
                            None => {
                                self.r.diags.error(key_span, "`save_as_text_files` needs a `prefix`").help(
                                    "write `save_as_text_files: { from: counts, prefix: out/counts, suffix: txt }`",
                                );
                                None
                            }
                        };
                        let suffix = match f.get("suffix") {
                            Some(s) => self.r.string(s, "suffix"),
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
                        let Some(f) = self.r.fields(value, "foreach_batch", &["from", "func"]) else { continue };
                        let from = self.output_from(&f, key_span, "foreach_batch");
                        let Some(fnode) = f.get("func") else {
                            self.r.diags.error(
                                key_span,
                                "`foreach_batch` needs `func:` (a closure `|time_ms: i64, records| ...`)",
                            );
                            continue;
                        };
                        let Some(Func::Closure(c)) = self.func(fnode, "foreach_batch", plan, &[]) else { continue };
                        (from, Some(OutputKind::ForeachBatch(c)))
                    }
                    other => {
                        let d = self.r.diags.error(key_span, format!("unknown output operator `{other}`"));
                        if let Some(s) = ops::suggest(other, &[Kind::Output]) {
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
                        let d = self.r.diags.error(
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
                let span = self.r.span_of(v);
                self.r.string(v, "from").map(|s| (s, span))
            }
            None => {
                self.r.diags.error(key_span, format!("`{op}` needs `from: <stream name>`"));
                None
            }
        }
    }
}
