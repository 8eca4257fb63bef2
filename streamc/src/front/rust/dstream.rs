//! The `stream!` DStream front end: the macro's statements become a [`Plan`]. The body is a list of Rust
//! statements (`let words = lines.flat_map(|l| l.split(' '));`), parsed with syn; closures stay
//! as the user's tokens, spans and all, so rustc reports problems inside them at the user's text.

use crate::diag::{Diagnostics, suggest};
use crate::dstream::ops::{self, Args, Kind, Params, STREAM_KINDS};
use crate::dstream::plan::{Func, Initial, Op, Output, OutputKind, Plan, Stream, StreamId};
use crate::dstream::ty::Ty;
use crate::front::closure;
use crate::front::syntax::{duration_of, expect_int, expect_str, pat_name, path_ident};
use crate::program::AppSettings;
use crate::span::{SpanId, SpanInfo, SpanTable};
use proc_macro2::Span;
use std::collections::HashMap;
use syn::spanned::Spanned;

/// Context statements of `stream!`.
const CONTEXT_CALLS: &[&str] = &["batch_interval", "app_name", "checkpoint", "parallel"];

/// Lowers the statements of a DStream `stream!` body into a [`Plan`]. Never fails: problems go
/// to `diags`.
pub(crate) fn parse(stmts: &[syn::Stmt], spans: &mut SpanTable, diags: &mut Diagnostics, app: AppSettings) -> Plan {
    let mut plan = Plan { app, ..Plan::default() };
    let later: Vec<String> = stmts
        .iter()
        .filter_map(|s| match s {
            syn::Stmt::Local(l) => pat_name(&l.pat),
            _ => None,
        })
        .collect();
    let mut cx = Cx { spans, diags, plan: &mut plan, names: HashMap::new(), later, poisoned: Vec::new() };
    let mut interval_seen = false;
    for stmt in stmts {
        match stmt {
            syn::Stmt::Local(local) => {
                let Some(name) = pat_name(&local.pat) else {
                    let span = cx.span(local.pat.span());
                    cx.diags
                        .error(span, "expected a stream name after `let`")
                        .help("write `let words = lines.flat_map(...);`");
                    continue;
                };
                let Some(init) = &local.init else {
                    let span = cx.span(local.pat.span());
                    cx.diags
                        .error(span, format!("stream `{name}` has no definition"))
                        .help(format!("write `let {name} = <stream expression>;`"));
                    continue;
                };
                let name_span = cx.span(local.pat.span());
                match cx.chain(&init.expr, Some((&name, name_span))) {
                    Some(id) => {
                        cx.names.insert(name.clone(), id);
                    }
                    None => cx.poisoned.push(name.clone()),
                }
                cx.later.retain(|n| n != &name);
            }
            syn::Stmt::Expr(expr, _) => {
                if let syn::Expr::Call(call) = expr
                    && let Some(f) = path_ident(&call.func)
                    && CONTEXT_CALLS.contains(&f.as_str())
                {
                    if f == "batch_interval" {
                        interval_seen = true;
                    }
                    cx.context_call(&f, call);
                    continue;
                }
                cx.chain(expr, None);
            }
            other => {
                let span = cx.span(other.span());
                cx.diags.error(span, "expected `let <name> = <stream>;`, a context call such as `batch_interval(Seconds(1));`, or an output such as `counts.print();`");
            }
        }
    }
    if !interval_seen {
        let span = cx.span(Span::call_site());
        cx.diags
            .error(span, "the pipeline has no batch interval")
            .help("add `batch_interval(Seconds(1));` (Spark's `new StreamingContext(conf, Seconds(1))`)");
    }
    plan
}

struct Cx<'a> {
    spans: &'a mut SpanTable,
    diags: &'a mut Diagnostics,
    plan: &'a mut Plan,
    names: HashMap<String, StreamId>,
    /// Names bound by a `let` further down, for "used before it is defined".
    later: Vec<String>,
    /// Names whose definition had an error already reported; uses are not reported again.
    poisoned: Vec<String>,
}

impl Cx<'_> {
    fn span(&mut self, span: Span) -> SpanId {
        self.spans.add(SpanInfo::Tokens(span))
    }

    fn context_call(&mut self, f: &str, call: &syn::ExprCall) {
        let span = self.span(call.span());
        if f == "parallel" {
            // Large batches of `reduce_by_key` stages go to worker threads: the closures must
            // be shareable between threads (rustc says so if one is not).
            if !call.args.is_empty() {
                self.diags.error(span, format!("`parallel` takes no arguments, found {}", call.args.len()));
            }
            self.plan.parallel = true;
            return;
        }
        if call.args.len() != 1 {
            self.diags.error(span, format!("`{f}` takes 1 argument, found {}", call.args.len()));
            return;
        }
        let arg = &call.args[0];
        match f {
            "batch_interval" => {
                let arg_span = self.span(arg.span());
                match duration_of(arg) {
                    Ok(ms) => self.plan.app.batch_interval_ms = Some((ms, arg_span)),
                    Err(msg) => {
                        self.diags
                            .error(arg_span, msg)
                            .help("write `Seconds(1)`, `Milliseconds(500)`, `Minutes(1)`, `1s` or `500ms`");
                    }
                }
            }
            "checkpoint" => match arg {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => {
                    self.plan.app.checkpoint_dir = Some((s.value(), span));
                }
                _ => {
                    self.diags.error(span, "`checkpoint` takes a directory as a string literal");
                }
            },
            _ => match arg {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => self.plan.app.name = s.value(),
                _ => {
                    self.diags.error(span, "`app_name` takes a string literal");
                }
            },
        }
    }

    /// Lowers a stream expression; returns the stream it defines (None for outputs or errors).
    fn chain(&mut self, expr: &syn::Expr, binding: Option<(&str, SpanId)>) -> Option<StreamId> {
        match expr {
            syn::Expr::MethodCall(m) => {
                let method = m.method.to_string();
                let op_span = self.span(m.method.span());
                if ops::find(&method).is_some_and(|d| d.kind == Kind::Output) {
                    self.plan.outputs_written += 1;
                }
                let input = self.chain(&m.receiver, None)?;
                let args: Vec<&syn::Expr> = m.args.iter().collect();
                if let Some(kind) = self.output(&method, op_span, &args) {
                    if let Some((name, name_span)) = binding {
                        self.diags
                            .error(
                                name_span,
                                format!("`{method}` is an output operator; it returns no stream to bind to `{name}`"),
                            )
                            .help(format!(
                                "write `{}.{method}(..);` as a statement of its own",
                                self.plan.streams[input.0].name
                            ));
                    }
                    self.plan.outputs.push(Output { kind, input, span: op_span });
                    return None;
                }
                if method == "checkpoint" {
                    // Spark's `dstream.checkpoint(interval)`: a setting of the stream, not a new one.
                    let [d] = self.args::<1>("checkpoint", op_span, &args, "1 argument (the checkpoint interval)")?;
                    match duration_of(d) {
                        Ok(ms) => self.plan.streams[input.0].checkpoint_ms = Some((ms, op_span)),
                        Err(msg) => {
                            self.diags.error(op_span, msg);
                        }
                    }
                    if let Some((name, _)) = binding {
                        self.later.retain(|n| n != name);
                    }
                    return Some(input);
                }
                let chain = self.operator(&method, op_span, &args)?;
                let name = match binding {
                    Some((n, _)) => n.to_string(),
                    None => format!("{}.{}", self.plan.streams[input.0].name, method),
                };
                let name_span = binding.map(|(_, s)| s).unwrap_or(op_span);
                let last = chain.len() - 1;
                let mut prev = input;
                for (k, (op, extra)) in chain.into_iter().enumerate() {
                    let name = if k == last { name.clone() } else { format!("{name}#{k}") };
                    let mut inputs = vec![prev];
                    inputs.extend(extra);
                    prev = self.push(Stream {
                        name,
                        name_span,
                        op,
                        op_span,
                        inputs,
                        ty: Ty::Unknown,
                        slide_ms: 0,
                        checkpoint_ms: None,
                    });
                }
                Some(prev)
            }
            syn::Expr::Call(call) => {
                let Some(f) = path_ident(&call.func) else {
                    let span = self.span(call.func.span());
                    self.diags.error(span, "expected a source such as `socket_text_stream(\"localhost\", 9999)`");
                    return None;
                };
                let op_span = self.span(call.func.span());
                let args: Vec<&syn::Expr> = call.args.iter().collect();
                let op = self.source(&f, op_span, &args)?;
                let (name, name_span) = match binding {
                    Some((n, s)) => (n.to_string(), s),
                    None => (f.clone(), op_span),
                };
                Some(self.push(Stream {
                    name,
                    name_span,
                    op,
                    op_span,
                    inputs: vec![],
                    ty: Ty::Unknown,
                    slide_ms: 0,
                    checkpoint_ms: None,
                }))
            }
            syn::Expr::Path(_) => {
                let span = self.span(expr.span());
                let Some(name) = path_ident(expr) else {
                    self.diags.error(span, "expected a stream name");
                    return None;
                };
                if let Some(id) = self.names.get(&name) {
                    let id = *id;
                    if let Some((bound, bspan)) = binding {
                        self.diags
                            .error(bspan, format!("`{bound}` would be a second name of stream `{name}`"))
                            .help(format!("use `{name}` itself"));
                    }
                    return Some(id);
                }
                if self.poisoned.contains(&name) {
                    return None;
                }
                if self.later.contains(&name) {
                    self.diags
                        .error(span, format!("stream `{name}` is used before it is defined"))
                        .help(format!("move `let {name} = ...;` above this statement"));
                } else {
                    let known: Vec<&str> = self.names.keys().map(String::as_str).collect();
                    let d = self.diags.error(span, format!("stream `{name}` is not defined"));
                    d.label("no stream has this name");
                    if let Some(s) = suggest(&name, &known) {
                        d.help(format!("did you mean `{s}`?"));
                    } else if ops::find(&name).is_some_and(|d| d.kind == Kind::Source) {
                        d.help(format!("a source is called: `{name}(...)`"));
                    }
                }
                None
            }
            other => {
                let span = self.span(other.span());
                self.diags.error(
                    span,
                    "expected a stream expression: a source call, a stream name, or `stream.operator(...)`",
                );
                None
            }
        }
    }

    fn push(&mut self, s: Stream) -> StreamId {
        self.plan.streams.push(s);
        StreamId(self.plan.streams.len() - 1)
    }

    fn source(&mut self, f: &str, span: SpanId, args: &[&syn::Expr]) -> Option<Op> {
        let Some(def) = ops::find(f).filter(|d| d.kind == Kind::Source) else {
            let d = self.diags.error(span, format!("unknown source `{f}`"));
            d.label("not a streamc source");
            if let Some(s) = ops::suggest(f, &[Kind::Source]) {
                d.help(format!("did you mean `{s}`?"));
            } else {
                d.help("the sources are `socket_text_stream(host, port)` and `text_file_stream(dir)`");
            }
            return None;
        };
        let mut call = Args::default();
        match def.params {
            Params::Kafka => call.kafka = self.kafka_options(span, args)?,
            Params::HostPort => {
                if args.len() != 2 {
                    self.diags
                        .error(span, format!("`{f}` takes 2 arguments (host, port), found {}", args.len()))
                        .help("write `socket_text_stream(\"localhost\", 9999)`");
                    return None;
                }
                call.host = self.str_lit(args[0], "host")?;
                let port = self.int_lit(args[1], "port")?;
                let Ok(port) = u16::try_from(port) else {
                    let s = self.span(args[1].span());
                    self.diags
                        .error(s, format!("port `{port}` is out of range"))
                        .help("a TCP port is between 0 and 65535");
                    return None;
                };
                call.port = port;
            }
            _ => {
                if args.len() != 1 {
                    self.diags.error(span, format!("`{f}` takes 1 argument (a directory), found {}", args.len()));
                    return None;
                }
                call.dir = self.str_lit(args[0], "directory")?;
            }
        }
        (def.lower?)(call)?.pop()
    }

    fn output(&mut self, method: &str, span: SpanId, args: &[&syn::Expr]) -> Option<OutputKind> {
        match method {
            "print" => {
                let num = match args {
                    [] => 10,
                    [n] => {
                        let v = self.int_lit(n, "number of elements")?;
                        if v <= 0 {
                            let s = self.span(n.span());
                            self.diags.error(s, format!("`print` needs a positive number of elements, found `{v}`"));
                            return None;
                        }
                        v as usize
                    }
                    _ => {
                        self.diags.error(span, format!("`print` takes at most 1 argument, found {}", args.len()));
                        return None;
                    }
                };
                Some(OutputKind::Print { num })
            }
            "foreach_batch" => {
                let [f] = self.args::<1>(method, span, args, "1 argument (a closure `|time_ms, records| ...`)")?;
                let fspan = self.span(f.span());
                self.plan.closures.push(closure::describe(f, fspan));
                Some(OutputKind::ForeachBatch(crate::dstream::plan::ClosureId(self.plan.closures.len() - 1)))
            }
            "save_as_text_files" => {
                if args.is_empty() || args.len() > 2 {
                    self.diags.error(
                        span,
                        format!("`save_as_text_files` takes 1 or 2 arguments (prefix, suffix), found {}", args.len()),
                    );
                    return None;
                }
                let prefix = self.str_lit(args[0], "prefix")?;
                let suffix = match args.get(1) {
                    Some(a) => self.str_lit(a, "suffix")?,
                    None => String::new(),
                };
                Some(OutputKind::SaveAsTextFiles { prefix, suffix })
            }
            _ => None,
        }
    }

    /// Lowers one operator call to a chain of IR operators: reads the arguments of the
    /// operator's shape ([`Params`]) into one call ([`Args`]), which its registry entry lowers
    /// (composite Spark operators become several). The first operator of the chain also reads
    /// `extra`.
    fn operator(&mut self, method: &str, span: SpanId, args: &[&syn::Expr]) -> Option<Vec<(Op, Vec<StreamId>)>> {
        let Some(def) = ops::find(method).filter(|d| !matches!(d.kind, Kind::Source | Kind::Output)) else {
            let d = self.diags.error(span, format!("unknown operator `{method}`"));
            d.label("not a streamc operator");
            let mut kinds = STREAM_KINDS.to_vec();
            kinds.push(Kind::Output);
            if let Some(s) = ops::suggest(method, &kinds) {
                d.help(format!("did you mean `{s}`?"));
            } else if ops::find(method).is_some() {
                d.help(format!("a source is called: `{method}(...)`"));
            }
            return None;
        };
        let mut call = Args::default();
        let mut extra = Vec::new();
        match def.params {
            Params::Func { .. } => {
                let [f] = self.args::<1>(method, span, args, "1 argument (a function)")?;
                call.func = Some(self.func(f));
            }
            Params::Nothing => {
                self.args::<0>(method, span, args, "no arguments")?;
            }
            Params::Partitions => {
                let [n] = self.args::<1>(method, span, args, "1 argument (the number of partitions)")?;
                let v = self.int_lit(n, "number of partitions")?;
                if v <= 0 || v > i64::from(u32::MAX) {
                    let s = self.span(n.span());
                    self.diags.error(s, format!("`{method}` needs a positive number of partitions, found `{v}`"));
                    return None;
                }
                call.partitions = v as u32;
            }
            Params::Others { .. } => {
                let [other] = self.args::<1>(method, span, args, "1 argument (the other stream)")?;
                extra.push(self.chain(other, None)?);
            }
            Params::Windowed { min, max, .. } => {
                let (funcs, len_ms, slide_ms) = self.windowed(method, span, args, min, max)?;
                let mut funcs = funcs.into_iter();
                (call.func, call.inverse, call.filter) = (funcs.next(), funcs.next(), funcs.next());
                call.window = Some((len_ms, slide_ms));
            }
            Params::StateSpec { .. } => {
                let [spec] = self.args::<1>(method, span, args, "1 argument (`StateSpec::function(f)...`)")?;
                call = self.state_spec(spec)?;
            }
            Params::HostPort | Params::Dir | Params::Kafka | Params::Output { .. } => {
                unreachable!("sources and outputs are filtered out above")
            }
        }
        let mut chain: Vec<(Op, Vec<StreamId>)> = (def.lower?)(call)?.into_iter().map(|op| (op, vec![])).collect();
        chain.first_mut()?.1 = extra;
        Some(chain)
    }

    /// Checks the number of arguments.
    fn args<'e, const N: usize>(
        &mut self,
        method: &str,
        span: SpanId,
        args: &[&'e syn::Expr],
        what: &str,
    ) -> Option<[&'e syn::Expr; N]> {
        match <[&syn::Expr; N]>::try_from(args) {
            Ok(a) => Some(a),
            Err(_) => {
                self.diags.error(span, format!("`{method}` takes {what}, found {}", args.len()));
                None
            }
        }
    }

    fn func(&mut self, e: &syn::Expr) -> Func {
        let fspan = self.span(e.span());
        let c = closure::describe(e, fspan);
        self.plan.closures.push(c);
        Func::Closure(crate::dstream::plan::ClosureId(self.plan.closures.len() - 1))
    }

    /// Splits a windowed operator's arguments into functions (between `min_f` and `max_f` of them)
    /// followed by the window length and an optional slide.
    fn windowed(
        &mut self,
        method: &str,
        span: SpanId,
        args: &[&syn::Expr],
        min_f: usize,
        max_f: usize,
    ) -> Option<(Vec<Func>, u64, Option<u64>)> {
        let first_duration = args.iter().position(|a| looks_like_duration(a)).unwrap_or(args.len());
        let (fs, rest) = args.split_at(first_duration);
        // Spark's order: functions, window length, slide, then (reduce_by_key_and_window) the
        // number of partitions and the filter function.
        let n_durations = rest.iter().take(2).take_while(|a| looks_like_duration(a)).count();
        let (ds, tail) = rest.split_at(n_durations);
        let (partitions, tail): (Vec<&&syn::Expr>, Vec<&&syn::Expr>) =
            tail.iter().partition(|a| matches!(a, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(_), .. })));
        let fs: Vec<&syn::Expr> = fs.iter().copied().chain(tail.iter().map(|a| **a)).collect();
        if fs.len() < min_f || fs.len() > max_f || ds.is_empty() || partitions.len() > 1 {
            let funcs = match (min_f, max_f) {
                (0, 0) => String::new(),
                (1, 1) => "a function, then ".to_string(),
                (a, b) => format!("{a} to {b} functions, then "),
            };
            self.diags
                .error(span, format!("`{method}` takes {funcs}a window length and an optional slide"))
                .help(format!("for example `{method}({}Seconds(30), Seconds(10))`", "|a, b| a + b, ".repeat(min_f)));
            return None;
        }
        let funcs = fs.iter().map(|f| self.func(f)).collect();
        let mut durations = Vec::new();
        for d in ds {
            match duration_of(d) {
                Ok(ms) => durations.push(ms),
                Err(msg) => {
                    let s = self.span(d.span());
                    self.diags
                        .error(s, msg)
                        .help("write `Seconds(30)`, `Milliseconds(500)`, `Minutes(1)`, `30s` or `500ms`");
                    return None;
                }
            }
        }
        Some((funcs, durations[0], durations.get(1).copied()))
    }

    /// `StateSpec::function(f).timeout(d).initial_state(expr).num_partitions(n)`.
    fn state_spec(&mut self, e: &syn::Expr) -> Option<Args> {
        let mut calls = Vec::new();
        let mut cur = e;
        while let syn::Expr::MethodCall(m) = cur {
            calls.push(m);
            cur = &m.receiver;
        }
        let span = self.span(e.span());
        let syn::Expr::Call(base) = cur else {
            self.diags.error(span, "expected `StateSpec::function(|key, value, state| ...)`");
            return None;
        };
        let is_function = matches!(&*base.func, syn::Expr::Path(p) if p.path.segments.len() == 2
            && p.path.segments[0].ident == "StateSpec" && p.path.segments[1].ident == "function");
        if !is_function || base.args.len() != 1 {
            self.diags.error(span, "expected `StateSpec::function(|key, value, state| ...)`");
            return None;
        }
        let func = self.func(&base.args[0]);
        let (mut timeout_ms, mut initial) = (None, None);
        for m in calls.iter().rev() {
            let mspan = self.span(m.method.span());
            let method = m.method.to_string();
            let args: Vec<&syn::Expr> = m.args.iter().collect();
            match method.as_str() {
                "timeout" => {
                    let [d] = self.args::<1>("timeout", mspan, &args, "1 argument (a duration)")?;
                    match duration_of(d) {
                        Ok(ms) => timeout_ms = Some(ms),
                        Err(msg) => {
                            self.diags.error(mspan, msg);
                            return None;
                        }
                    }
                }
                "initial_state" => {
                    let [x] = self.args::<1>("initial_state", mspan, &args, "1 argument (a `Vec<(key, state)>`)")?;
                    let fspan = self.span(x.span());
                    self.plan.closures.push(closure::describe(x, fspan));
                    initial = Some(Initial::Expr(crate::dstream::plan::ClosureId(self.plan.closures.len() - 1)));
                }
                "num_partitions" => {
                    self.args::<1>("num_partitions", mspan, &args, "1 argument")?;
                }
                other => {
                    let d = self.diags.error(mspan, format!("unknown `StateSpec` setting `{other}`"));
                    if let Some(s) = suggest(other, &["timeout", "initial_state", "num_partitions"]) {
                        d.help(format!("did you mean `{s}`?"));
                    }
                    return None;
                }
            }
        }
        Some(Args { func: Some(func), timeout_ms, initial, ..Args::default() })
    }

    /// `kafka_direct_stream([("kafka.bootstrap.servers", "host:9092"), ("subscribe", "lines")])`:
    /// Spark's options as (name, value) pairs of literals, checked as the YAML mapping is.
    fn kafka_options(&mut self, span: SpanId, args: &[&syn::Expr]) -> Option<Vec<(String, String)>> {
        const FORM: &str =
            r#"write `kafka_direct_stream([("kafka.bootstrap.servers", "host:9092"), ("subscribe", "lines")])`"#;
        let list = match args {
            [syn::Expr::Array(a)] => a,
            [syn::Expr::Reference(r)] if matches!(&*r.expr, syn::Expr::Array(_)) => {
                let syn::Expr::Array(a) = &*r.expr else { return None };
                a
            }
            _ => {
                self.diags
                    .error(span, format!("`kafka_direct_stream` takes 1 argument (its options), found {}", args.len()))
                    .help(FORM);
                return None;
            }
        };
        let mut options = Vec::new();
        let mut ok = true;
        for e in &list.elems {
            let syn::Expr::Tuple(t) = e else {
                let s = self.span(e.span());
                self.diags.error(s, "expected an option: `(\"name\", value)`").help(FORM);
                ok = false;
                continue;
            };
            let [k, v] = [t.elems.get(0), t.elems.get(1)];
            let (Some(k), Some(v), 2) = (k, v, t.elems.len()) else {
                let s = self.span(e.span());
                self.diags.error(s, "an option is a pair: `(\"name\", value)`").help(FORM);
                ok = false;
                continue;
            };
            let key = self.str_lit(k, "option name");
            let value = match v {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => Some(i.base10_digits().to_owned()),
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) => Some(b.value.to_string()),
                _ => self.str_lit(v, "option value"),
            };
            let (Some(key), Some(value)) = (key, value) else {
                ok = false;
                continue;
            };
            let (key_span, value_span) = (self.span(k.span()), self.span(v.span()));
            options.push(crate::table::kafka::KafkaOption { key, value, key_span, value_span });
        }
        let checked = crate::table::kafka::check(&options, false, span, self.diags)?;
        let options = crate::table::kafka::direct(checked, span, self.diags)?;
        ok.then_some(options)
    }

    fn str_lit(&mut self, e: &syn::Expr, what: &str) -> Option<String> {
        let r = expect_str(e, what);
        self.reported(e, r)
    }

    fn int_lit(&mut self, e: &syn::Expr, what: &str) -> Option<i64> {
        let r = expect_int(e, what);
        self.reported(e, r)
    }

    /// The value, or None after reporting the message at `e`.
    fn reported<T>(&mut self, e: &syn::Expr, r: Result<T, String>) -> Option<T> {
        r.map_err(|msg| {
            let span = self.span(e.span());
            self.diags.error(span, msg);
        })
        .ok()
    }
}

/// Whether an argument is written as a duration (`Seconds(30)`, `30s`, ...) rather than a function.
fn looks_like_duration(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Call(c) => {
            matches!(path_ident(&c.func).as_deref(), Some("Seconds" | "Milliseconds" | "Minutes"))
        }
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => !i.suffix().is_empty(),
        _ => false,
    }
}
