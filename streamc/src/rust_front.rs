//! The `stream!` front end: the macro's tokens become a [`Plan`]. The body is a list of Rust
//! statements (`let words = lines.flat_map(|l| l.split(' '));`), parsed with syn; closures stay
//! as the user's tokens, spans and all, so rustc reports problems inside them at the user's text.

use crate::closure;
use crate::diag::{Diagnostics, suggest};
use crate::duration;
use crate::ir::{Func, OPERATOR_NAMES, Op, Output, OutputKind, Plan, SOURCE_NAMES, Stream, StreamId};
use crate::span::{SpanId, SpanInfo, SpanTable};
use crate::ty::Ty;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use std::collections::HashMap;
use syn::parse::Parser;
use syn::spanned::Spanned;

/// Context statements of `stream!`.
const CONTEXT_CALLS: &[&str] = &["batch_interval", "app_name"];

/// Parses the body of a `stream!` invocation. Never fails: problems go to `diags`.
pub fn parse(tokens: TokenStream, spans: &mut SpanTable, diags: &mut Diagnostics) -> Plan {
    let mut plan = Plan { name: "stream".to_string(), frontend: crate::ir::Frontend::Macro, ..Plan::default() };
    let stmts = match syn::Block::parse_within.parse2(tokens) {
        Ok(stmts) => stmts,
        Err(e) => {
            let span = spans.add(SpanInfo::Tokens(e.span()));
            diags.error(span, format!("`stream!` expects Rust statements: {e}"));
            return plan;
        }
    };
    let later: Vec<String> = stmts
        .iter()
        .filter_map(|s| match s {
            syn::Stmt::Local(l) => pat_name(&l.pat),
            _ => None,
        })
        .collect();
    let mut cx = Cx { spans, diags, plan: &mut plan, names: HashMap::new(), later, poisoned: Vec::new() };
    let mut interval_seen = false;
    for stmt in &stmts {
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

fn pat_name(p: &syn::Pat) -> Option<String> {
    match p {
        syn::Pat::Ident(i) => Some(i.ident.to_string()),
        syn::Pat::Type(t) => pat_name(&t.pat),
        _ => None,
    }
}

fn path_ident(e: &syn::Expr) -> Option<String> {
    match e {
        syn::Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
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
        if call.args.len() != 1 {
            self.diags.error(span, format!("`{f}` takes 1 argument, found {}", call.args.len()));
            return;
        }
        let arg = &call.args[0];
        match f {
            "batch_interval" => {
                let arg_span = self.span(arg.span());
                match duration_of(arg) {
                    Ok(ms) => self.plan.batch_interval_ms = Some((ms, arg_span)),
                    Err(msg) => {
                        self.diags
                            .error(arg_span, msg)
                            .help("write `Seconds(1)`, `Milliseconds(500)`, `Minutes(1)`, `1s` or `500ms`");
                    }
                }
            }
            _ => match arg {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => self.plan.name = s.value(),
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
                if matches!(method.as_str(), "print" | "save_as_text_files") {
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
                let op = self.operator(&method, op_span, &args)?;
                let name = match binding {
                    Some((n, _)) => n.to_string(),
                    None => format!("{}.{}", self.plan.streams[input.0].name, method),
                };
                let name_span = binding.map(|(_, s)| s).unwrap_or(op_span);
                Some(self.push(Stream { name, name_span, op, op_span, inputs: vec![input], ty: Ty::Unknown }))
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
                Some(self.push(Stream { name, name_span, op, op_span, inputs: vec![], ty: Ty::Unknown }))
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
                    } else if SOURCE_NAMES.contains(&name.as_str()) {
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
        match f {
            "socket_text_stream" => {
                if args.len() != 2 {
                    self.diags
                        .error(
                            span,
                            format!("`socket_text_stream` takes 2 arguments (host, port), found {}", args.len()),
                        )
                        .help("write `socket_text_stream(\"localhost\", 9999)`");
                    return None;
                }
                let host = self.str_lit(args[0], "host")?;
                let port = self.int_lit(args[1], "port")?;
                let Ok(port) = u16::try_from(port) else {
                    let s = self.span(args[1].span());
                    self.diags
                        .error(s, format!("port `{port}` is out of range"))
                        .help("a TCP port is between 0 and 65535");
                    return None;
                };
                Some(Op::SocketTextStream { host, port })
            }
            "text_file_stream" => {
                if args.len() != 1 {
                    self.diags.error(
                        span,
                        format!("`text_file_stream` takes 1 argument (a directory), found {}", args.len()),
                    );
                    return None;
                }
                Some(Op::TextFileStream { dir: self.str_lit(args[0], "directory")? })
            }
            other => {
                let d = self.diags.error(span, format!("unknown source `{other}`"));
                d.label("not a streamc source");
                if let Some(s) = suggest(other, SOURCE_NAMES) {
                    d.help(format!("did you mean `{s}`?"));
                } else {
                    d.help("the sources are `socket_text_stream(host, port)` and `text_file_stream(dir)`");
                }
                None
            }
        }
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

    fn operator(&mut self, method: &str, span: SpanId, args: &[&syn::Expr]) -> Option<Op> {
        let wanted = match method {
            "map" | "flat_map" | "filter" | "reduce" | "reduce_by_key" => 1,
            "count" => 0,
            other => {
                let d = self.diags.error(span, format!("unknown operator `{other}`"));
                d.label("not a streamc operator");
                if let Some(s) = suggest(other, OPERATOR_NAMES) {
                    d.help(format!("did you mean `{s}`?"));
                }
                return None;
            }
        };
        if args.len() != wanted {
            let what = if wanted == 0 { "no arguments".to_string() } else { "1 argument (a function)".to_string() };
            self.diags.error(span, format!("`{method}` takes {what}, found {}", args.len()));
            return None;
        }
        if method == "count" {
            return Some(Op::Count);
        }
        let fspan = self.span(args[0].span());
        let c = closure::describe(args[0], fspan);
        self.plan.closures.push(c);
        let f = Func::Closure(crate::ir::ClosureId(self.plan.closures.len() - 1));
        Some(match method {
            "map" => Op::Map(f),
            "flat_map" => Op::FlatMap(f),
            "filter" => Op::Filter(f),
            "reduce" => Op::Reduce(f),
            _ => Op::ReduceByKey(f),
        })
    }

    fn str_lit(&mut self, e: &syn::Expr, what: &str) -> Option<String> {
        if let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = e {
            return Some(s.value());
        }
        let span = self.span(e.span());
        self.diags.error(span, format!("expected a string literal for the {what}, found `{}`", e.to_token_stream()));
        None
    }

    fn int_lit(&mut self, e: &syn::Expr, what: &str) -> Option<i64> {
        if let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) = e
            && let Ok(v) = i.base10_parse::<i64>()
        {
            return Some(v);
        }
        if let syn::Expr::Unary(u) = e
            && matches!(u.op, syn::UnOp::Neg(_))
            && let Some(v) = self.int_lit_quiet(&u.expr)
        {
            return Some(-v);
        }
        let span = self.span(e.span());
        self.diags.error(span, format!("expected an integer literal for the {what}, found `{}`", e.to_token_stream()));
        None
    }

    fn int_lit_quiet(&self, e: &syn::Expr) -> Option<i64> {
        match e {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.base10_parse().ok(),
            _ => None,
        }
    }
}

/// Reads `Seconds(1)`, `Milliseconds(500)`, `Minutes(2)`, `1s` or `500ms`.
fn duration_of(e: &syn::Expr) -> Result<u64, String> {
    let shown = e.to_token_stream().to_string();
    match e {
        syn::Expr::Call(c) => {
            let f = path_ident(&c.func).unwrap_or_default();
            let unit = match f.as_str() {
                "Seconds" => 1000,
                "Milliseconds" => 1,
                "Minutes" => 60_000,
                _ => {
                    return Err(format!("expected `Seconds(n)`, `Milliseconds(n)` or `Minutes(n)`, found `{shown}`"));
                }
            };
            let [arg] = c.args.iter().collect::<Vec<_>>()[..] else {
                return Err(format!("`{f}` takes 1 argument, found {}", c.args.len()));
            };
            match arg {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) if i.suffix().is_empty() => {
                    let v: u64 = i.base10_parse().map_err(|e| e.to_string())?;
                    duration::from_value(v as f64 * unit as f64, &shown)
                }
                syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
                    Err(format!("a duration must be positive, found `{shown}`"))
                }
                _ => Err(format!("expected an integer literal in `{shown}`")),
            }
        }
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => {
            let unit = duration::unit_ms(i.suffix())
                .ok_or_else(|| format!("expected a duration such as `1s` or `500ms`, found `{shown}`"))?;
            let v: u64 = i.base10_digits().parse().map_err(|_| format!("`{shown}` is not a duration"))?;
            duration::from_value(v as f64 * unit as f64, &shown)
        }
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            Err(format!("a duration must be positive, found `{shown}`"))
        }
        _ => Err(format!("expected a duration such as `Seconds(1)` or `500ms`, found `{shown}`")),
    }
}
