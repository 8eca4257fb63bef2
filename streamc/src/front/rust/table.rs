//! The Structured Streaming half of the `stream!` front end: `read_stream.json(..)`,
//! `.select([..])`, `.group_by([..]).count()`, `.write_stream().output_mode(..).console()`,
//! lowered to the same [`TablePlan`] the YAML front end builds, so the checker's rules and the
//! code generator apply unchanged. Expressions are SQL strings (Spark's `selectExpr`/`expr`),
//! schemas Spark DDL strings (`"timestamp TIMESTAMP, word STRING"`).

use crate::diag::{Diagnostics, suggest};
use crate::dstream::plan::SOURCE_NAMES;
use crate::duration;
use crate::front::syntax::{duration_of, int_literal, pat_name};
use crate::program::AppSettings;
use crate::span::{SpanId, SpanInfo, SpanTable};
use crate::table::expr::Expr;
use crate::table::{
    ColTy, Column, Format, JoinHow, Malformed, OutputMode, Query, Sink, SourceKind, Step, TablePlan, TableSource,
    Trigger,
};
use proc_macro2::Span;
use quote::ToTokens;
use std::collections::HashMap;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

/// Methods of `read_stream` (Spark's `DataStreamReader`).
const SOURCE_METHODS: &[&str] =
    &["socket", "json", "csv", "text", "rate", "format", "load", "schema", "option", "max_files_per_trigger", "mode"];

/// Methods of a streaming table (Spark's `Dataset`), and `write_stream` which ends one.
const TABLE_METHODS: &[&str] = &[
    "select",
    "select_expr",
    "where_",
    "filter",
    "with_column",
    "with_watermark",
    "group_by",
    "agg",
    "count",
    "drop_duplicates",
    "union",
    "join",
    "write_stream",
];

/// Methods of `write_stream()` (Spark's `DataStreamWriter`).
const WRITER_METHODS: &[&str] = &[
    "output_mode",
    "query_name",
    "trigger",
    "console",
    "console_with",
    "json",
    "parquet",
    "memory",
    "foreach_batch",
    "format",
    "option",
    "start",
];

/// Context statements of a Structured Streaming `stream!` block.
const CONTEXT_CALLS: &[&str] = &["app_name", "batch_interval", "checkpoint", "trigger"];

/// DStream operators and outputs: on a table they mean the two APIs were mixed.
const DSTREAM_METHODS: &[&str] = &[
    "map",
    "flat_map",
    "map_values",
    "flat_map_values",
    "reduce",
    "reduce_by_key",
    "transform",
    "update_state_by_key",
    "map_with_state",
    "count_by_value",
    "group_by_key",
    "state_snapshots",
    "repartition",
    "left_outer_join",
    "right_outer_join",
    "full_outer_join",
    "cogroup",
    "window",
    "count_by_window",
    "count_by_value_and_window",
    "reduce_by_window",
    "reduce_by_key_and_window",
    "print",
    "save_as_text_files",
];

/// Whether a `stream!` body is a Structured Streaming program: it reads with `read_stream`,
/// writes with `write_stream`, or sets a `trigger`.
pub(crate) fn is_table(stmts: &[syn::Stmt]) -> bool {
    stmts.iter().any(|s| {
        let e = match s {
            syn::Stmt::Local(l) => match &l.init {
                Some(init) => &*init.expr,
                None => return false,
            },
            syn::Stmt::Expr(e, _) => e,
            _ => return false,
        };
        if let syn::Expr::Call(c) = e
            && path_name(&c.func).as_deref() == Some("trigger")
        {
            return true;
        }
        let (root, links) = flatten(e);
        matches!(&root, Root::Name(n, _) if n == "read_stream")
            || matches!(&root, Root::Call(n, ..) if n == "read_stream")
            || links.iter().any(|l| l.name == "read_stream" || l.name == "write_stream")
    })
}

/// Lowers the statements of a Structured Streaming `stream!` block into a [`TablePlan`].
/// Never fails: problems go to `diags`.
pub(crate) fn parse(
    stmts: &[syn::Stmt],
    spans: &mut SpanTable,
    diags: &mut Diagnostics,
    app: AppSettings,
) -> TablePlan {
    let later: Vec<String> = stmts
        .iter()
        .filter_map(|s| match s {
            syn::Stmt::Local(l) => pat_name(&l.pat),
            _ => None,
        })
        .collect();
    let mut cx = Cx {
        spans,
        diags,
        table: TablePlan { app, ..TablePlan::default() },
        tables: HashMap::new(),
        queries: Vec::new(),
        later,
        poisoned: Vec::new(),
        trigger_set: None,
    };
    for stmt in stmts {
        match stmt {
            syn::Stmt::Local(local) => {
                let name_span = cx.span(local.pat.span());
                let Some(name) = pat_name(&local.pat) else {
                    cx.diags
                        .error(name_span, "expected a table name after `let`")
                        .help("write `let words = lines.select([\"explode(split(value, ' ')) AS word\"]);`");
                    continue;
                };
                cx.later.retain(|n| n != &name);
                let Some(init) = &local.init else {
                    cx.diags
                        .error(name_span, format!("table `{name}` has no definition"))
                        .help(format!("write `let {name} = <table expression>;`"));
                    continue;
                };
                if cx.tables.contains_key(&name) || cx.queries.iter().any(|q| q == &name) {
                    cx.diags
                        .error(name_span, format!("`{name}` is already defined"))
                        .help("give each table and query its own name");
                    cx.poisoned.push(name);
                    continue;
                }
                match cx.chain(&init.expr, Some((&name, name_span))) {
                    Some(Done::Table(t)) => {
                        cx.tables.insert(name, t);
                    }
                    Some(Done::Query) => cx.queries.push(name),
                    None => cx.poisoned.push(name),
                }
            }
            syn::Stmt::Expr(expr, _) => {
                if let syn::Expr::Call(call) = expr
                    && let Some(f) = path_name(&call.func)
                    && CONTEXT_CALLS.contains(&f.as_str())
                {
                    cx.context_call(&f, call);
                    continue;
                }
                if let Some(Done::Table(_)) = cx.chain(expr, None) {
                    let span = cx.span(expr.span());
                    cx.diags
                        .error(span, "this table is never written")
                        .help("end the chain with `.write_stream().output_mode(\"append\").console();`, or bind it with `let`");
                }
            }
            other => {
                let span = cx.span(other.span());
                cx.diags.error(
                    span,
                    "expected `let <name> = <table>;`, a context call such as `trigger(AvailableNow);`, or a query such as `counts.write_stream().console();`",
                );
            }
        }
    }
    if cx.table.queries.is_empty() && cx.diags.is_empty() {
        let span = cx.span(Span::call_site());
        cx.diags
            .error(span, "the Structured Streaming program has no query")
            .help("write a table with `counts.write_stream().output_mode(\"complete\").console();`");
    }
    if cx.table.app.batch_interval_ms.is_none() {
        cx.table.app.batch_interval_ms = Some((1000, SpanTable::unknown()));
    }
    cx.table
}

/// A table under construction: its source, the steps so far, and a pending `group_by`.
#[derive(Clone)]
struct Tab {
    source: usize,
    steps: Vec<(Step, SpanId)>,
    /// `group_by(keys)` waiting for `.count()` or `.agg(..)` (Spark's `RelationalGroupedDataset`).
    group: Option<Group>,
    /// The last `let` name the chain went through (a query's default name).
    binding: Option<String>,
}

#[derive(Clone)]
struct Group {
    keys: Exprs,
    method_span: SpanId,
}

/// Parsed expressions, with the spans of the string literals they came from.
#[derive(Clone)]
struct Exprs {
    items: Vec<(Expr, Option<String>)>,
    lits: Vec<SpanId>,
}

/// What a chain produced.
enum Done {
    Table(Tab),
    Query,
}

enum Root<'e> {
    Name(String, Span),
    Call(String, Span, Vec<&'e syn::Expr>),
    Other(Span),
}

/// One `.method(args)` (or `.field`) of a chain.
struct Link<'e> {
    name: String,
    span: Span,
    args: Vec<&'e syn::Expr>,
    call: bool,
}

/// `a.b(x).c` → the root `a` and the links `b(x)`, `c`, in source order.
fn flatten(e: &syn::Expr) -> (Root<'_>, Vec<Link<'_>>) {
    let mut links = Vec::new();
    let mut cur = e;
    loop {
        match cur {
            syn::Expr::MethodCall(m) => {
                links.push(Link {
                    name: m.method.unraw().to_string(),
                    span: m.method.span(),
                    args: m.args.iter().collect(),
                    call: true,
                });
                cur = &m.receiver;
            }
            syn::Expr::Field(f) => {
                let (name, span) = match &f.member {
                    syn::Member::Named(i) => (i.unraw().to_string(), i.span()),
                    syn::Member::Unnamed(i) => (i.index.to_string(), i.span),
                };
                links.push(Link { name, span, args: Vec::new(), call: false });
                cur = &f.base;
            }
            _ => break,
        }
    }
    links.reverse();
    let root = match cur {
        syn::Expr::Path(_) => match path_name(cur) {
            Some(n) => Root::Name(n, cur.span()),
            None => Root::Other(cur.span()),
        },
        syn::Expr::Call(c) => match path_name(&c.func) {
            Some(n) => Root::Call(n, c.func.span(), c.args.iter().collect()),
            None => Root::Other(cur.span()),
        },
        other => Root::Other(other.span()),
    };
    (root, links)
}

/// The last segment of a path expression (`read_stream`, `Trigger::AvailableNow`).
fn path_name(e: &syn::Expr) -> Option<String> {
    match e {
        syn::Expr::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.unraw().to_string()),
        _ => None,
    }
}

fn lit_str(e: &syn::Expr) -> Option<&syn::LitStr> {
    match e {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s),
        syn::Expr::Group(g) => lit_str(&g.expr),
        _ => None,
    }
}

/// Settings given to `read_stream` before the source exists.
#[derive(Default)]
struct SourceB {
    format: Option<(String, SpanId)>,
    path: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    schema: Option<Vec<Column>>,
    max_files: Option<(u64, SpanId)>,
    malformed: Option<(Malformed, SpanId)>,
    rows_per_second: Option<u64>,
}

/// Settings given to `write_stream()`.
struct WriterB {
    mode: Option<(OutputMode, SpanId)>,
    name: Option<(String, SpanId)>,
    sinks: Vec<(Sink, SpanId)>,
    /// `format("console"|"json")` with its options, until `start()` or the end of the chain.
    pending: Option<PendingSink>,
}

struct PendingSink {
    format: String,
    span: SpanId,
    path: Option<String>,
    num_rows: usize,
    truncate: bool,
}

struct Cx<'a> {
    spans: &'a mut SpanTable,
    diags: &'a mut Diagnostics,
    table: TablePlan,
    tables: HashMap<String, Tab>,
    /// Names bound to queries (`let q = t.write_stream()...;`).
    queries: Vec<String>,
    /// Names bound by a `let` further down, for "used before it is defined".
    later: Vec<String>,
    /// Names whose definition had an error already reported.
    poisoned: Vec<String>,
    /// The trigger set so far and where, for conflicting triggers.
    trigger_set: Option<(Trigger, Option<u64>, SpanId)>,
}

impl Cx<'_> {
    fn span(&mut self, span: Span) -> SpanId {
        self.spans.add(SpanInfo::Tokens(span))
    }

    fn context_call(&mut self, f: &str, call: &syn::ExprCall) {
        let span = self.span(call.func.span());
        if call.args.len() != 1 {
            self.diags.error(span, format!("`{f}` takes 1 argument, found {}", call.args.len()));
            return;
        }
        let arg = &call.args[0];
        let arg_span = self.span(arg.span());
        match f {
            "app_name" => match lit_str(arg) {
                Some(s) => self.table.app.name = s.value(),
                None => {
                    self.diags.error(arg_span, "`app_name` takes a string literal");
                }
            },
            "checkpoint" => match lit_str(arg) {
                Some(s) => self.table.app.checkpoint_dir = Some((s.value(), arg_span)),
                None => {
                    self.diags.error(arg_span, "`checkpoint` takes a directory as a string literal");
                }
            },
            "batch_interval" => match duration_of(arg) {
                Ok(ms) => self.table.app.batch_interval_ms = Some((ms, arg_span)),
                Err(msg) => {
                    self.diags
                        .error(arg_span, msg)
                        .help("write `Seconds(1)`, `Milliseconds(500)`, `Minutes(1)`, `1s` or `500ms`");
                }
            },
            _ => self.trigger(arg),
        }
    }

    /// `AvailableNow`, `Once`, `ProcessingTime("10 seconds")` (also `Trigger::…` and
    /// `ProcessingTime(Seconds(10))`): one trigger for the whole program, as in the YAML spec.
    fn trigger(&mut self, e: &syn::Expr) {
        let span = self.span(e.span());
        let help = "the triggers are `AvailableNow`, `Once` and `ProcessingTime(\"10 seconds\")`";
        let (name, args): (Option<String>, Vec<&syn::Expr>) = match e {
            syn::Expr::Path(_) => (path_name(e), Vec::new()),
            syn::Expr::Call(c) => (path_name(&c.func), c.args.iter().collect()),
            _ => (None, Vec::new()),
        };
        let Some(name) = name else {
            self.diags.error(span, format!("expected a trigger, found `{}`", e.to_token_stream())).help(help);
            return;
        };
        let (trigger, interval) = match (name.as_str(), &args[..]) {
            ("AvailableNow" | "available_now", []) => (Trigger::AvailableNow, None),
            ("Once" | "once", []) => (Trigger::Once, None),
            ("ProcessingTime" | "processing_time", [d]) => {
                let ms = match lit_str(d) {
                    Some(s) => duration::parse_ms(&s.value()),
                    None => duration_of(d),
                };
                match ms {
                    Ok(ms) => (Trigger::ProcessingTime, Some(ms)),
                    Err(msg) => {
                        let s = self.span(d.span());
                        self.diags
                            .error(s, msg)
                            .help("write `ProcessingTime(\"10 seconds\")` or `ProcessingTime(Seconds(10))`");
                        return;
                    }
                }
            }
            ("ProcessingTime" | "processing_time", _) => {
                self.diags
                    .error(span, "`ProcessingTime` takes 1 argument (the interval)")
                    .help("write `ProcessingTime(\"10 seconds\")`");
                return;
            }
            (other, _) => {
                let d = self.diags.error(span, format!("unknown trigger `{other}`"));
                match suggest(other, &["AvailableNow", "Once", "ProcessingTime"]) {
                    Some(s) => d.help(format!("did you mean `{s}`? {help}")),
                    None => d.help(help),
                };
                return;
            }
        };
        if let Some((t, i, _)) = self.trigger_set
            && (t, i) != (trigger, interval)
        {
            self.diags
                .error(span, "a second, different trigger")
                .help("streamc runs all queries of a program with one trigger; set it once with `trigger(..);`");
            return;
        }
        self.trigger_set = Some((trigger, interval, span));
        self.table.trigger = trigger;
        if let Some(ms) = interval {
            self.table.app.batch_interval_ms = Some((ms, span));
        }
    }

    /// Lowers one chain: a source, table steps, and possibly `write_stream()` and its sink.
    fn chain(&mut self, expr: &syn::Expr, binding: Option<(&str, SpanId)>) -> Option<Done> {
        let (root, links) = flatten(expr);
        let mut links = &links[..];
        let mut tab = match root {
            Root::Name(n, span) if n == "read_stream" => {
                let (src, rest) = split_source(links);
                links = rest;
                let whole = links.is_empty();
                self.source(span, src, binding.filter(|_| whole).map(|(n, _)| n))?
            }
            Root::Call(n, span, args) if n == "read_stream" => {
                if !args.is_empty() {
                    let s = self.span(span);
                    self.diags.error(s, "`read_stream` takes no arguments").help("write `read_stream.json(\"dir\")`");
                    return None;
                }
                let (src, rest) = split_source(links);
                links = rest;
                let whole = links.is_empty();
                self.source(span, src, binding.filter(|_| whole).map(|(n, _)| n))?
            }
            Root::Name(n, span) if n == "read" || (n == "spark" && links.first().is_some_and(|l| l.name == "read")) => {
                // Spark's `spark.read`: a static table, for joins.
                let skip = usize::from(n == "spark");
                let (src, rest) = split_source(&links[skip..]);
                if !rest.is_empty() {
                    let s = self.span(rest[0].span);
                    self.diags
                        .error(s, "a static table is only joined with a stream")
                        .help("bind it (`let categories = read.json(\"file\").schema(\"..\");`) and write `events.join(categories, [\"word\"], \"inner\")`");
                    return None;
                }
                links = rest;
                let tab = self.source(span, src, binding.map(|(n, _)| n))?;
                let source = &mut self.table.sources[tab.source];
                match source.kind.clone() {
                    SourceKind::Files { format: format @ (Format::Json | Format::Csv), path, .. } => {
                        source.kind = SourceKind::Static { format, path };
                    }
                    _ => {
                        let s = self.span(span);
                        self.diags
                            .error(s, "a static table is read from a JSON or CSV file: `read.json(\"file\")` or `read.csv(\"file\")`");
                        return None;
                    }
                }
                tab
            }
            Root::Name(n, span) if n == "spark" && links.first().is_some_and(|l| l.name == "read_stream") => {
                let (src, rest) = split_source(&links[1..]);
                links = rest;
                let whole = links.is_empty();
                self.source(span, src, binding.filter(|_| whole).map(|(n, _)| n))?
            }
            Root::Name(n, span) => {
                let s = self.span(span);
                self.table_named(&n, s)?
            }
            Root::Call(n, span, _) => {
                let s = self.span(span);
                if SOURCE_NAMES.contains(&n.as_str()) {
                    self.diags
                        .error(s, format!("`{n}` is a DStream source, but this `stream!` block is a Structured Streaming program"))
                        .help("a `stream!` block holds either DStreams or Structured Streaming tables, not both; read a table with `read_stream.socket(\"localhost\", 9999)`");
                } else {
                    self.diags
                        .error(s, format!("expected a table, found a call of `{n}`"))
                        .help("a table starts at `read_stream.<format>(..)` or at a table's name");
                }
                return None;
            }
            Root::Other(span) => {
                let s = self.span(span);
                self.diags.error(
                    s,
                    "expected a table expression: `read_stream.<format>(..)`, a table name, or `table.method(..)`",
                );
                return None;
            }
        };
        if let Some((name, _)) = binding
            && links.is_empty()
        {
            tab.binding = Some(name.to_string());
        }
        while let Some((link, rest)) = links.split_first() {
            links = rest;
            if link.name == "write_stream" {
                self.query(tab, link, rest, binding)?;
                return Some(Done::Query);
            }
            self.step(&mut tab, link)?;
        }
        if let Some((name, _)) = binding {
            tab.binding = Some(name.to_string());
        }
        Some(Done::Table(tab))
    }

    fn table_named(&mut self, name: &str, span: SpanId) -> Option<Tab> {
        if let Some(t) = self.tables.get(name) {
            let mut t = t.clone();
            t.binding = Some(name.to_string());
            return Some(t);
        }
        if self.poisoned.iter().any(|p| p == name) {
            return None;
        }
        if self.queries.iter().any(|q| q == name) {
            self.diags
                .error(span, format!("`{name}` is a query, not a table"))
                .help("bind the table before `write_stream()` and start the second query from it");
        } else if self.later.iter().any(|l| l == name) {
            self.diags
                .error(span, format!("table `{name}` is used before it is defined"))
                .help(format!("move `let {name} = ...;` above this statement"));
        } else {
            let known: Vec<&str> = self.tables.keys().map(String::as_str).collect();
            let d = self.diags.error(span, format!("table `{name}` is not defined"));
            d.label("no table has this name");
            match suggest(name, &known) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("a table starts at `read_stream.<format>(..)`, e.g. `read_stream.json(\"dir\")`"),
            };
        }
        None
    }

    /// Builds a source from `read_stream`'s methods; `name` is the `let` bound to it alone.
    fn source(&mut self, root_span: Span, links: &[Link<'_>], name: Option<&str>) -> Option<Tab> {
        let root = self.span(root_span);
        let mut b = SourceB::default();
        let mut ok = true;
        for l in links {
            ok &= self.source_setting(&mut b, l).is_some();
        }
        if !ok {
            return None;
        }
        let Some((format, fspan)) = b.format.clone() else {
            self.diags
                .error(root, "`read_stream` needs a format")
                .help("write `read_stream.socket(\"localhost\", 9999)`, `.json(\"dir\")`, `.csv(\"dir\")` or `.text(\"dir\")`");
            return None;
        };
        let value = || vec![Column { name: "value".into(), ty: ColTy::String }];
        let kind = match format.as_str() {
            "rate" => {
                let rows_per_second = b.rows_per_second.unwrap_or(1);
                b.schema.get_or_insert_with(|| {
                    vec![
                        Column { name: "timestamp".into(), ty: ColTy::Timestamp },
                        Column { name: "value".into(), ty: ColTy::Long },
                    ]
                });
                SourceKind::Rate { rows_per_second }
            }
            "socket" => {
                let Some(port) = b.port else {
                    self.diags
                        .error(fspan, "the socket source needs a port")
                        .help("write `read_stream.socket(\"localhost\", 9999)`");
                    return None;
                };
                for (what, given) in
                    [("max_files_per_trigger", b.max_files.map(|m| m.1)), ("mode", b.malformed.map(|m| m.1))]
                {
                    if let Some(s) = given {
                        self.diags.error(s, format!("`{what}` is a setting of file sources, not of the socket source"));
                        return None;
                    }
                }
                SourceKind::Socket { host: b.host.clone().unwrap_or_else(|| "localhost".into()), port }
            }
            _ => {
                let Some(path) = b.path.clone() else {
                    self.diags
                        .error(fspan, format!("the `{format}` source needs a path (a directory)"))
                        .help(format!("write `read_stream.{format}(\"dir\")`"));
                    return None;
                };
                let format = match format.as_str() {
                    "json" => Format::Json,
                    "csv" => Format::Csv,
                    _ => Format::Text,
                };
                SourceKind::Files { format, path, max_files: b.max_files.map(|m| m.0) }
            }
        };
        let schema = match (b.schema, &kind) {
            (Some(s), _) => s,
            (None, SourceKind::Files { format: Format::Json | Format::Csv, .. }) => {
                self.diags.error(fspan, format!("the `{format}` source needs a schema")).help(format!(
                    "write `read_stream.{format}(\"dir\").schema(\"timestamp TIMESTAMP, word STRING\")`"
                ));
                return None;
            }
            (None, _) => value(),
        };
        let name = match name {
            Some(n) => n.to_string(),
            None => format!("source{}", self.table.sources.len()),
        };
        self.table.sources.push(TableSource {
            name,
            span: fspan,
            kind,
            schema,
            malformed: b.malformed.map(|m| m.0).unwrap_or_default(),
        });
        Some(Tab { source: self.table.sources.len() - 1, steps: Vec::new(), group: None, binding: None })
    }

    fn source_setting(&mut self, b: &mut SourceB, l: &Link<'_>) -> Option<()> {
        let span = self.span(l.span);
        let args = &l.args[..];
        match l.name.as_str() {
            "socket" => {
                let [host, port] = self.args::<2>(l, span, "2 arguments (host, port)")?;
                b.host = Some(self.str_arg(host, "host")?);
                b.port = Some(self.port(port)?);
                self.set_format(b, "socket", span)
            }
            "rate" => {
                let [n] = self.args::<1>(l, span, "1 argument (rows per second)")?;
                b.rows_per_second = Some(self.positive(n, "rows per second")?);
                self.set_format(b, "rate", span)
            }
            f @ ("json" | "csv" | "text") => {
                let [path] = self.args::<1>(l, span, "1 argument (a directory)")?;
                b.path = Some(self.str_arg(path, "directory")?);
                self.set_format(b, f, span)
            }
            "format" => {
                let [f] = self.args::<1>(l, span, "1 argument (`\"json\"`, `\"csv\"`, `\"text\"` or `\"socket\"`)")?;
                let fs = self.span(f.span());
                let name = self.str_arg(f, "format")?;
                let lower = name.to_ascii_lowercase();
                if !matches!(lower.as_str(), "json" | "csv" | "text" | "socket" | "rate") {
                    let d = self.diags.error(fs, format!("unknown source format `{name}`"));
                    match suggest(&lower, &["json", "csv", "text", "socket", "rate"]) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help("the formats are `json`, `csv`, `text`, `socket` and `rate`"),
                    };
                    return None;
                }
                self.set_format(b, &lower, fs)
            }
            "load" => match args {
                [] => Some(()),
                [p] => {
                    b.path = Some(self.str_arg(p, "directory")?);
                    Some(())
                }
                _ => {
                    self.diags.error(span, format!("`load` takes 0 or 1 argument (a directory), found {}", args.len()));
                    None
                }
            },
            "schema" => {
                let [s] = self.args::<1>(
                    l,
                    span,
                    "1 argument (a DDL string such as `\"timestamp TIMESTAMP, word STRING\"`)",
                )?;
                b.schema = Some(self.schema(s)?);
                Some(())
            }
            "max_files_per_trigger" => {
                let [n] = self.args::<1>(l, span, "1 argument (a number of files)")?;
                b.max_files = Some((self.positive(n, "max_files_per_trigger")?, span));
                Some(())
            }
            "mode" => {
                let [m] =
                    self.args::<1>(l, span, "1 argument (`\"permissive\"`, `\"drop_malformed\"` or `\"fail_fast\"`)")?;
                b.malformed = Some((self.malformed(m)?, span));
                Some(())
            }
            "option" => {
                let [k, v] = self.args::<2>(l, span, "2 arguments (a key and a value)")?;
                let key = self.str_arg(k, "option key")?;
                match key.to_ascii_lowercase().replace('_', "").as_str() {
                    "maxfilespertrigger" => b.max_files = Some((self.positive(v, "maxFilesPerTrigger")?, span)),
                    "mode" => b.malformed = Some((self.malformed(v)?, span)),
                    "host" => b.host = Some(self.str_arg(v, "host")?),
                    "port" => b.port = Some(self.port(v)?),
                    "path" => b.path = Some(self.str_arg(v, "path")?),
                    "rowspersecond" => b.rows_per_second = Some(self.positive(v, "rowsPerSecond")?),
                    _ => {
                        let ks = self.span(k.span());
                        let d = self.diags.error(ks, format!("unknown source option `{key}`"));
                        match suggest(&key, &["maxFilesPerTrigger", "mode", "host", "port", "path"]) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help("the options are `maxFilesPerTrigger`, `mode`, `host`, `port` and `path`"),
                        };
                        return None;
                    }
                }
                Some(())
            }
            other => {
                // Only `split_source` sends other names here: never reached.
                self.diags.error(
                    span,
                    format!("internal error: `{other}` is not a source setting; this is a bug in streamc"),
                );
                None
            }
        }
    }

    fn set_format(&mut self, b: &mut SourceB, f: &str, span: SpanId) -> Option<()> {
        if let Some((prev, _)) = &b.format
            && prev != f
        {
            self.diags
                .error(span, format!("a second source format `{f}` (the source already reads `{prev}`)"))
                .help("a source has one format; read the other data with a second `read_stream`");
            return None;
        }
        b.format = Some((f.to_string(), span));
        Some(())
    }

    /// `"timestamp TIMESTAMP, word STRING"` (Spark DDL; `name: type` is also accepted), or an
    /// array of `"name TYPE"` strings.
    fn schema(&mut self, e: &syn::Expr) -> Option<Vec<Column>> {
        let items: Vec<&syn::Expr> = match e {
            syn::Expr::Array(a) => a.elems.iter().collect(),
            _ => vec![e],
        };
        let mut cols: Vec<Column> = Vec::new();
        let types = ["string", "boolean", "int", "long", "bigint", "double", "timestamp"];
        for item in items {
            let span = self.span(item.span());
            let Some(lit) = lit_str(item) else {
                self.diags
                    .error(span, format!("expected the schema as a string, found `{}`", item.to_token_stream()))
                    .help("write `.schema(\"timestamp TIMESTAMP, word STRING\")`");
                return None;
            };
            let text = lit.value();
            for field in text.split(',') {
                let field = field.trim();
                let (name, ty) = match field.split_once(|c: char| c.is_whitespace() || c == ':') {
                    Some((n, t)) => (n.trim().trim_matches('`'), t.trim().trim_start_matches(':').trim()),
                    None => (field, ""),
                };
                if name.is_empty() || ty.is_empty() {
                    self.diags
                        .error(span, format!("expected `name TYPE` in the schema, found `{field}`"))
                        .help("write `.schema(\"timestamp TIMESTAMP, word STRING\")`");
                    return None;
                }
                let Some(t) = ColTy::parse(ty) else {
                    let d = self.diags.error(span, format!("unknown column type `{ty}` of column `{name}`"));
                    match suggest(&ty.to_ascii_lowercase(), &types) {
                        Some(s) => d.help(format!("did you mean `{}`?", s.to_ascii_uppercase())),
                        None => d.help("the types are STRING, BOOLEAN, INT, BIGINT (LONG), DOUBLE and TIMESTAMP"),
                    };
                    return None;
                };
                if cols.iter().any(|c| c.name == name) {
                    self.diags.error(span, format!("column `{name}` appears twice in the schema"));
                    return None;
                }
                cols.push(Column { name: name.to_string(), ty: t });
            }
        }
        Some(cols)
    }

    fn malformed(&mut self, e: &syn::Expr) -> Option<Malformed> {
        let span = self.span(e.span());
        let m = self.str_arg(e, "mode")?;
        match m.to_ascii_lowercase().replace('_', "").as_str() {
            "permissive" => Some(Malformed::Permissive),
            "dropmalformed" => Some(Malformed::DropMalformed),
            "failfast" => Some(Malformed::FailFast),
            _ => {
                self.diags
                    .error(span, format!("unknown mode `{m}`"))
                    .help("the modes are `permissive`, `drop_malformed` and `fail_fast`");
                None
            }
        }
    }

    /// One table method.
    fn step(&mut self, tab: &mut Tab, l: &Link<'_>) -> Option<()> {
        let span = self.span(l.span);
        let name = l.name.as_str();
        if tab.group.is_some() && !matches!(name, "count" | "agg") {
            self.diags
                .error(span, format!("`{name}` after `group_by`: the grouped table needs `.count()` or `.agg([..])` first"))
                .help("write `.group_by([\"word\"]).count()` or `.group_by([\"word\"]).agg([\"count(*)\", \"max(x) AS m\"])`");
            return None;
        }
        if !l.call {
            self.diags
                .error(span, format!("expected a method call, found the field `{name}`"))
                .help(format!("write `.{name}(..)`"));
            return None;
        }
        match name {
            "select" | "select_expr" => {
                let e = self.exprs(l, true)?;
                let s = self.step_span(&e.lits, span);
                tab.steps.push((Step::Select(e.items), s));
            }
            "where_" | "where" | "filter" => {
                let [x] = self.args::<1>(l, span, "1 argument (a condition such as `\"length(word) > 3\"`)")?;
                let (e, s) = self.expr(x)?;
                tab.steps.push((Step::Where(e), s));
            }
            "with_column" => {
                let [n, x] = self.args::<2>(l, span, "2 arguments (a column name and an expression)")?;
                let n = self.str_arg(n, "column name")?;
                let (e, s) = self.expr(x)?;
                tab.steps.push((Step::WithColumn(n, e), s));
            }
            "with_watermark" => {
                let [c, d] =
                    self.args::<2>(l, span, "2 arguments (an event-time column and a delay such as `\"10 minutes\"`)")?;
                let cs = self.span(c.span());
                let column = self.str_arg(c, "event-time column")?;
                let ds = self.span(d.span());
                let delay = match lit_str(d) {
                    Some(s) => duration::parse_ms(&s.value()),
                    None => duration_of(d),
                };
                let delay_ms = match delay {
                    Ok(ms) => ms,
                    Err(msg) => {
                        self.diags.error(ds, msg).help("write a delay such as `\"10 minutes\"` or `Minutes(10)`");
                        return None;
                    }
                };
                tab.steps.push((Step::WithWatermark { column, delay_ms }, cs));
            }
            "group_by" => {
                let keys = self.exprs(l, true)?;
                tab.group = Some(Group { keys, method_span: span });
            }
            "drop_duplicates" => {
                let mut cols = Vec::new();
                for a in &l.args {
                    match a {
                        syn::Expr::Array(arr) => {
                            for e in &arr.elems {
                                cols.push(self.str_arg(e, "column name")?);
                            }
                        }
                        other => cols.push(self.str_arg(other, "column name")?),
                    }
                }
                tab.steps.push((Step::DropDuplicates(cols), span));
            }
            "union" => {
                let [other] = self.args::<1>(l, span, "1 argument (a table bound with `let`)")?;
                let os = self.span(other.span());
                let Some(name) = path_name(other) else {
                    self.diags
                        .error(os, "`union` takes the name of a table")
                        .help("bind the other input first: `let b = read_stream.json(\"dir\").schema(\"..\").with_watermark(\"timestamp\", \"5 minutes\");`");
                    return None;
                };
                let t = self.table_named(&name, os)?;
                let watermark = match &t.steps[..] {
                    [] => None,
                    [(Step::WithWatermark { column, delay_ms }, _)] => Some((column.clone(), *delay_ms)),
                    _ => {
                        self.diags
                            .error(
                                os,
                                format!("`{name}` must be a source, or a source with `with_watermark`, to be unioned"),
                            )
                            .help("put the other steps after the `union`");
                        return None;
                    }
                };
                let source = self.table.sources[t.source].name.clone();
                tab.steps.push((Step::Union { source, watermark }, span));
            }
            "join" => {
                let (table, on, how) = match &l.args[..] {
                    [t, on] => (t, on, None),
                    [t, on, how] => (t, on, Some(how)),
                    _ => {
                        self.diags
                            .error(span, format!("`join` takes 2 or 3 arguments (a static table, the key columns, and `\"inner\"` or `\"left_outer\"`), found {}", l.args.len()))
                            .help("write `events.join(categories, [\"word\"], \"left_outer\")`");
                        return None;
                    }
                };
                let ts = self.span(table.span());
                let Some(table) = path_name(table) else {
                    self.diags.error(ts, "`join` takes the name of a static table (`let t = read.json(\"file\")...;`)");
                    return None;
                };
                let t = self.table_named(&table, ts)?;
                let table = self.table.sources[t.source].name.clone();
                let mut cols = Vec::new();
                match on {
                    syn::Expr::Array(arr) => {
                        for e in &arr.elems {
                            cols.push(self.str_arg(e, "join column")?);
                        }
                    }
                    other => cols.push(self.str_arg(other, "join column")?),
                }
                let how = match how {
                    None => JoinHow::Inner,
                    Some(h) => {
                        let hs = self.span(h.span());
                        match self.str_arg(h, "join type")?.to_ascii_lowercase().as_str() {
                            "inner" => JoinHow::Inner,
                            "left" | "left_outer" | "leftouter" => JoinHow::LeftOuter,
                            other => {
                                self.diags
                                    .error(hs, format!("unsupported join type `{other}`"))
                                    .help("a stream-static join is `inner` or `left_outer`");
                                return None;
                            }
                        }
                    }
                };
                tab.steps.push((Step::Join { table, on: cols, how }, span));
            }
            "count" | "agg" => {
                let aggs = if name == "count" {
                    self.args::<0>(l, span, "no arguments")?;
                    Exprs { items: vec![(Expr::Call("count".into(), vec![Expr::Star]), None)], lits: Vec::new() }
                } else {
                    self.exprs(l, true)?
                };
                let Some(group) = tab.group.take() else {
                    if name == "count" {
                        self.diags.error(span, "`count` on a streaming table needs `group_by` first").help(
                            "write `.group_by([\"word\"]).count()`, or `.agg([\"count(*)\"])` for one running total",
                        );
                        return None;
                    }
                    // Spark's `df.agg(..)`: one group for the whole table.
                    let s = self.step_span(&aggs.lits, span);
                    tab.steps.push((Step::GroupBy { keys: Vec::new(), aggs: aggs.items }, s));
                    return Some(());
                };
                let lits: Vec<SpanId> = group.keys.lits.iter().chain(&aggs.lits).copied().collect();
                let s = self.step_span(&lits, group.method_span);
                tab.steps.push((Step::GroupBy { keys: group.keys.items, aggs: aggs.items }, s));
            }
            other => {
                self.unknown_method(other, span);
                return None;
            }
        }
        Some(())
    }

    fn unknown_method(&mut self, name: &str, span: SpanId) {
        if DSTREAM_METHODS.contains(&name) {
            self.diags
                .error(span, format!("`{name}` is a DStream operator, not a method of Structured Streaming tables"))
                .help("a `stream!` block holds either DStreams or Structured Streaming tables, not both; the table methods are select, where_, filter, with_column, with_watermark, group_by + count/agg, and write_stream");
            return;
        }
        let d = self.diags.error(span, format!("unknown table method `{name}`"));
        d.label("not a Structured Streaming method");
        match name {
            _ if let Some(h) = crate::table::spark::refused_method(name) => d.help(h),
            "distinct" => d.help("deduplication needs a watermark-bounded state; not supported by streamc yet"),
            _ => match suggest(name, TABLE_METHODS) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("the table methods are select, where_, filter, with_column, with_watermark, group_by + count/agg, and write_stream"),
            },
        };
    }

    /// `write_stream()` and the writer's settings: one query.
    fn query(&mut self, tab: Tab, ws: &Link<'_>, links: &[Link<'_>], binding: Option<(&str, SpanId)>) -> Option<()> {
        let span = self.span(ws.span);
        if tab.group.is_some() {
            self.diags
                .error(span, "`group_by` needs `.count()` or `.agg([..])` before `write_stream`")
                .help("write `.group_by([\"word\"]).count().write_stream()`");
            return None;
        }
        if !ws.args.is_empty() {
            self.diags.error(span, "`write_stream` takes no arguments");
            return None;
        }
        let mut w = WriterB { mode: None, name: None, sinks: Vec::new(), pending: None };
        let mut ok = true;
        for l in links {
            ok &= self.writer_setting(&mut w, l).is_some();
        }
        if !ok {
            return None;
        }
        if let Some(p) = w.pending.take() {
            self.finish_sink(&mut w, p)?;
        }
        let k = self.table.queries.len();
        let taken = |n: &str, qs: &[Query]| qs.iter().any(|q| q.name == n);
        let explicit = w.name.as_ref().map(|(n, s)| (n.as_str(), *s)).or(binding);
        let name = match explicit {
            Some((n, s)) => {
                if taken(n, &self.table.queries) {
                    self.diags
                        .error(s, format!("a second query named `{n}`"))
                        .help("give each query its own name with `.query_name(\"..\")`");
                    return None;
                }
                n.to_string()
            }
            None => match tab.binding.as_deref() {
                Some(n) if !taken(n, &self.table.queries) => n.to_string(),
                _ => format!("query{k}"),
            },
        };
        if w.sinks.is_empty() {
            self.diags
                .error(span, format!("query `{name}` has no sink"))
                .help("add `.console()` or `.json(\"dir\")` after `write_stream()`");
            return None;
        }
        let from = (self.table.sources[tab.source].name.clone(), self.table.sources[tab.source].span);
        let mode = w.mode.unwrap_or((OutputMode::Append, span));
        self.table.queries.push(Query { name, span, from, steps: tab.steps, mode, sinks: w.sinks });
        Some(())
    }

    fn writer_setting(&mut self, w: &mut WriterB, l: &Link<'_>) -> Option<()> {
        let span = self.span(l.span);
        if !l.call {
            self.diags.error(span, format!("expected a method call, found the field `{}`", l.name));
            return None;
        }
        match l.name.as_str() {
            "output_mode" => {
                let [m] = self.args::<1>(l, span, "1 argument (`\"append\"`, `\"complete\"` or `\"update\"`)")?;
                let ms = self.span(m.span());
                let text = match (lit_str(m), path_name(m)) {
                    (Some(s), _) => s.value(),
                    (None, Some(p)) => p,
                    (None, None) => String::new(),
                };
                let mode = match text.to_ascii_lowercase().as_str() {
                    "append" => OutputMode::Append,
                    "complete" => OutputMode::Complete,
                    "update" => OutputMode::Update,
                    _ => {
                        self.diags
                            .error(ms, format!("unknown output mode `{}`", m.to_token_stream()))
                            .help("the output modes are `\"append\"`, `\"complete\"` and `\"update\"`");
                        return None;
                    }
                };
                w.mode = Some((mode, ms));
            }
            "query_name" => {
                let [n] = self.args::<1>(l, span, "1 argument (a name)")?;
                let ns = self.span(n.span());
                w.name = Some((self.str_arg(n, "query name")?, ns));
            }
            "trigger" => {
                let [t] =
                    self.args::<1>(l, span, "1 argument (`AvailableNow`, `Once` or `ProcessingTime(\"10 seconds\")`)")?;
                self.trigger(t);
            }
            "console" => {
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                self.args::<0>(l, span, "no arguments (`console_with(num_rows, truncate)` sets the table's size)")?;
                w.sinks.push((Sink::Console { num_rows: 20, truncate: true }, span));
            }
            "console_with" => {
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                let [n, t] =
                    self.args::<2>(l, span, "2 arguments (the number of rows shown, and whether to truncate)")?;
                let num_rows = self.positive(n, "number of rows")? as usize;
                let truncate = self.bool_arg(t, "truncate")?;
                w.sinks.push((Sink::Console { num_rows, truncate }, span));
            }
            "json" | "parquet" => {
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                let [p] = self.args::<1>(l, span, "1 argument (an output directory)")?;
                let path = self.str_arg(p, "output directory")?;
                w.sinks.push((if l.name == "json" { Sink::Json { path } } else { Sink::Parquet { path } }, span));
            }
            "memory" => {
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                self.args::<0>(l, span, "no arguments (the table is named after the query)")?;
                w.sinks.push((Sink::Memory, span));
            }
            "foreach_batch" => {
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                let [f] = self.args::<1>(l, span, "1 argument (a closure `|batch_id, rows| { .. }`)")?;
                let fs = self.span(f.span());
                w.sinks.push((Sink::ForeachBatch { closure: f.to_token_stream().to_string(), span: fs }, span));
            }
            "format" => {
                let [f] = self.args::<1>(l, span, "1 argument (`\"console\"` or `\"json\"`)")?;
                let fs = self.span(f.span());
                let format = self.str_arg(f, "sink format")?.to_ascii_lowercase();
                if !matches!(format.as_str(), "console" | "json") {
                    self.diags
                        .error(fs, format!("unknown sink format `{format}`"))
                        .help("the sinks are `console` and `json`");
                    return None;
                }
                if let Some(p) = w.pending.take() {
                    self.finish_sink(w, p)?;
                }
                w.pending = Some(PendingSink { format, span: fs, path: None, num_rows: 20, truncate: true });
            }
            "option" => {
                let [k, v] = self.args::<2>(l, span, "2 arguments (a key and a value)")?;
                let ks = self.span(k.span());
                let key = self.str_arg(k, "option key")?;
                let norm = key.to_ascii_lowercase().replace('_', "");
                if norm == "checkpointlocation" {
                    let dir = self.str_arg(v, "checkpoint directory")?;
                    if let Some((prev, _)) = &self.table.app.checkpoint_dir
                        && prev != &dir
                    {
                        self.diags
                            .error(ks, format!("a second checkpoint directory `{dir}` (the program's is `{prev}`)"))
                            .help("streamc keeps all queries of a program in one checkpoint directory");
                        return None;
                    }
                    self.table.app.checkpoint_dir = Some((dir, ks));
                    return Some(());
                }
                let Some(p) = w.pending.as_mut() else {
                    self.diags.error(span, format!("`option(\"{key}\", ..)` before a sink format")).help(
                        "write `.format(\"console\").option(\"numRows\", 50)`, or use `.console_with(50, false)`",
                    );
                    return None;
                };
                let format = p.format.clone();
                match (format.as_str(), norm.as_str()) {
                    ("console", "numrows") => {
                        let n = self.positive(v, "numRows")? as usize;
                        w.pending.as_mut()?.num_rows = n;
                    }
                    ("console", "truncate") => {
                        let t = self.bool_arg(v, "truncate")?;
                        w.pending.as_mut()?.truncate = t;
                    }
                    ("json", "path") => {
                        let path = self.str_arg(v, "path")?;
                        w.pending.as_mut()?.path = Some(path);
                    }
                    _ => {
                        let known: &[&str] = if format == "console" { &["numRows", "truncate"] } else { &["path"] };
                        let d = self.diags.error(ks, format!("unknown option `{key}` of the `{format}` sink"));
                        match suggest(&key, known) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help(format!("the options are {}", known.join(", "))),
                        };
                        return None;
                    }
                }
            }
            "start" => {
                let args = &l.args[..];
                if args.len() > 1 {
                    self.diags.error(
                        span,
                        format!("`start` takes 0 or 1 argument (an output directory), found {}", args.len()),
                    );
                    return None;
                }
                match w.pending.take() {
                    Some(mut p) => {
                        if let [dir] = args {
                            p.path = Some(self.str_arg(dir, "output directory")?);
                        }
                        self.finish_sink(w, p)?;
                    }
                    None if !args.is_empty() => {
                        self.diags
                            .error(span, "`start(path)` needs a sink format")
                            .help("write `.format(\"json\").start(\"dir\")` or `.json(\"dir\")`");
                        return None;
                    }
                    None => {}
                }
            }
            other if DSTREAM_METHODS.contains(&other) => {
                self.diags
                    .error(span, format!("`{other}` is a DStream output, but it is called on a Structured Streaming writer"))
                    .help("a `stream!` block holds either DStreams or Structured Streaming tables, not both; write a table with `.console()` or `.json(\"dir\")`");
                return None;
            }
            other => {
                let d = self.diags.error(span, format!("unknown `write_stream` setting `{other}`"));
                d.label("not a DataStreamWriter method");
                match suggest(other, WRITER_METHODS) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help("the settings are output_mode, query_name, trigger, console, console_with, json, format, option and start"),
                };
                return None;
            }
        }
        Some(())
    }

    fn finish_sink(&mut self, w: &mut WriterB, p: PendingSink) -> Option<()> {
        let sink = match p.format.as_str() {
            "console" => Sink::Console { num_rows: p.num_rows, truncate: p.truncate },
            _ => match p.path {
                Some(path) => Sink::Json { path },
                None => {
                    self.diags
                        .error(p.span, "the `json` sink needs a path")
                        .help("write `.format(\"json\").start(\"dir\")` or `.json(\"dir\")`");
                    return None;
                }
            },
        };
        w.sinks.push((sink, p.span));
        Some(())
    }

    /// The string literals of a method's arguments (each a literal or an array of them),
    /// parsed as expressions with an optional `AS alias`.
    fn exprs(&mut self, l: &Link<'_>, aliases: bool) -> Option<Exprs> {
        let mut out = Exprs { items: Vec::new(), lits: Vec::new() };
        let mut lits = Vec::new();
        for a in &l.args {
            match a {
                syn::Expr::Array(arr) => lits.extend(arr.elems.iter()),
                other => lits.push(other),
            }
        }
        if lits.is_empty() {
            let span = self.span(l.span);
            self.diags
                .error(span, format!("`{}` needs at least one expression", l.name))
                .help(format!("write `.{}([\"word\"])`", l.name));
            return None;
        }
        for e in lits {
            let span = self.span(e.span());
            let Some(lit) = lit_str(e) else {
                self.diags
                    .error(
                        span,
                        format!("expected a SQL expression as a string literal, found `{}`", e.to_token_stream()),
                    )
                    .help(format!("write `.{}([\"word\", \"length(word) AS len\"])`", l.name));
                return None;
            };
            match crate::table::expr::parse_aliased(&lit.value()) {
                Ok((x, alias)) if aliases || alias.is_none() => out.items.push((x, alias)),
                Ok(_) => {
                    self.diags.error(span, "an alias (`AS`) is not allowed here");
                    return None;
                }
                Err(err) => {
                    let at = self.inside(lit, err.offset);
                    self.diags.error(at, format!("cannot parse the expression: {}", err.message));
                    return None;
                }
            }
            out.lits.push(span);
        }
        Some(out)
    }

    /// One expression argument (no alias) and the span of its literal.
    fn expr(&mut self, e: &syn::Expr) -> Option<(Expr, SpanId)> {
        let span = self.span(e.span());
        let Some(lit) = lit_str(e) else {
            self.diags
                .error(span, format!("expected a SQL expression as a string literal, found `{}`", e.to_token_stream()))
                .help("write the expression as a string, e.g. `\"length(word) > 3\"`");
            return None;
        };
        match crate::table::expr::parse(&lit.value()) {
            Ok(x) => Some((x, span)),
            Err(err) => {
                let at = self.inside(lit, err.offset);
                self.diags.error(at, format!("cannot parse the expression: {}", err.message));
                None
            }
        }
    }

    /// The span `offset` bytes into a string literal's text, where the compiler can tell (a
    /// plain literal without escapes, on a compiler that gives sub-spans); else the literal.
    fn inside(&mut self, lit: &syn::LitStr, offset: usize) -> SpanId {
        let token = lit.token();
        let repr = token.to_string();
        // Offsets are into the value: they match the token's text only without escapes.
        let plain = repr.len() == lit.value().len() + 2 && repr.starts_with('"') && 1 + offset < repr.len();
        let at = plain.then(|| token.subspan(1 + offset..2 + offset)).flatten();
        self.span(at.unwrap_or_else(|| lit.span()))
    }

    /// Where a step's errors point: its one string literal, else the method name.
    fn step_span(&mut self, lits: &[SpanId], method: SpanId) -> SpanId {
        match lits {
            [one] => *one,
            _ => method,
        }
    }

    fn args<'e, const N: usize>(&mut self, l: &Link<'e>, span: SpanId, what: &str) -> Option<[&'e syn::Expr; N]> {
        match <[&syn::Expr; N]>::try_from(&l.args[..]) {
            Ok(a) => Some(a),
            Err(_) => {
                self.diags.error(span, format!("`{}` takes {what}, found {}", l.name, l.args.len()));
                None
            }
        }
    }

    fn str_arg(&mut self, e: &syn::Expr, what: &str) -> Option<String> {
        if let Some(s) = lit_str(e) {
            return Some(s.value());
        }
        let span = self.span(e.span());
        self.diags.error(span, format!("expected a string literal for the {what}, found `{}`", e.to_token_stream()));
        None
    }

    fn int_arg(&mut self, e: &syn::Expr, what: &str) -> Option<i64> {
        if let Some(v) = int_literal(e) {
            return Some(v);
        }
        let span = self.span(e.span());
        self.diags.error(span, format!("expected an integer literal for the {what}, found `{}`", e.to_token_stream()));
        None
    }

    fn positive(&mut self, e: &syn::Expr, what: &str) -> Option<u64> {
        let v = self.int_arg(e, what)?;
        if v <= 0 {
            let span = self.span(e.span());
            self.diags.error(span, format!("`{what}` must be positive, found `{v}`"));
            return None;
        }
        Some(v as u64)
    }

    fn port(&mut self, e: &syn::Expr) -> Option<u16> {
        let v = self.int_arg(e, "port")?;
        match u16::try_from(v) {
            Ok(p) => Some(p),
            Err(_) => {
                let span = self.span(e.span());
                self.diags.error(span, format!("port `{v}` is out of range")).help("a TCP port is between 0 and 65535");
                None
            }
        }
    }

    fn bool_arg(&mut self, e: &syn::Expr, what: &str) -> Option<bool> {
        if let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) = e {
            return Some(b.value);
        }
        let span = self.span(e.span());
        self.diags.error(span, format!("expected `true` or `false` for {what}, found `{}`", e.to_token_stream()));
        None
    }
}

/// Splits `read_stream`'s own methods (leading) from the table methods after them.
fn split_source<'l, 'e>(links: &'l [Link<'e>]) -> (&'l [Link<'e>], &'l [Link<'e>]) {
    let n = links.iter().take_while(|l| SOURCE_METHODS.contains(&l.name.as_str())).count();
    links.split_at(n)
}

#[cfg(test)]
mod tests {
    use crate::table::TablePlan;
    use crate::{compile_tokens, compile_yaml};

    /// A plan without spans, for comparing the two front ends.
    fn shape(program: &crate::program::Program) -> String {
        let crate::program::Program::Table(t) = program else { panic!("a Structured Streaming plan") };
        let plan: &TablePlan = t;
        let mut out = format!(
            "app {} interval {:?} checkpoint {:?} trigger {:?}\n",
            plan.app.name,
            plan.app.batch_interval_ms.map(|b| b.0),
            plan.app.checkpoint_dir.as_ref().map(|c| &c.0),
            t.trigger
        );
        for s in &t.sources {
            out += &format!("source {} {:?} {:?} {:?}\n", s.name, s.kind, s.schema, s.malformed);
        }
        for q in &t.queries {
            let steps: Vec<_> = q.steps.iter().map(|s| &s.0).collect();
            let sinks: Vec<_> = q.sinks.iter().map(|s| &s.0).collect();
            out += &format!("query {} from {} {steps:?} {:?} {sinks:?}\n", q.name, q.from.0, q.mode.0);
        }
        out
    }

    fn messages(tokens: proc_macro2::TokenStream) -> Vec<String> {
        let c = compile_tokens(tokens);
        let mut out: Vec<String> = c.diags.list.iter().map(|d| d.message.clone()).collect();
        out.extend(c.diags.list.iter().filter_map(|d| d.help.clone()));
        out
    }

    #[test]
    fn the_examples_lower_as_their_yaml_twins() {
        let yaml =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/windowed_event_counts.yaml"))
                .unwrap()
                .replace("windowed_event_counts-", "windowed_event_counts-macro-");
        let y = compile_yaml(&yaml);
        assert!(y.diags.is_empty(), "{:?}", y.diags);
        let m = compile_tokens(quote::quote! {
            app_name("windowed_event_counts");
            trigger(AvailableNow);
            checkpoint("target/windowed_event_counts-macro-checkpoint");
            let events = read_stream.json("examples/data/events").schema("timestamp TIMESTAMP, word STRING").max_files_per_trigger(1);
            let windowed_counts = events
                .with_watermark("timestamp", "10 minutes")
                .group_by(["window(timestamp, '10 minutes', '5 minutes')", "word"])
                .agg(["count(*)"]);
            windowed_counts.write_stream().output_mode("append").console().json("target/windowed_event_counts-macro-out");
        });
        assert!(m.diags.is_empty(), "{:?}", m.diags);
        assert_eq!(shape(&m.program), shape(&y.program));
        assert_eq!(m.physical.as_ref().map(|p| p.stages().len()), Some(1));

        let yaml =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/structured_word_count.yaml"))
                .unwrap();
        let y = compile_yaml(&yaml);
        let m = compile_tokens(quote::quote! {
            app_name("structured_word_count");
            let lines = read_stream.socket("localhost", 9999);
            let words = lines.select(["explode(split(value, ' ')) AS word"]);
            let word_counts = words.group_by(["word"]).count();
            word_counts.write_stream().output_mode("complete").console();
        });
        assert!(m.diags.is_empty(), "{:?}", m.diags);
        assert_eq!(shape(&m.program), shape(&y.program));
    }

    #[test]
    fn every_setting_has_a_spark_like_spelling() {
        let y = compile_yaml(
            r#"
app: all
trigger: processing_time 2s
sources:
  - name: logs
    csv: { path: in/logs, max_files_per_trigger: 2, mode: drop_malformed }
    schema: { ts: timestamp, level: string, ms: long, ok: boolean, x: double }
  - name: notes
    text: { path: in/notes }
    schema: { value: string }
queries:
  - name: slow
    from: logs
    steps:
      - where: "ms > 100"
      - with_column: { name: secs, expr: "ms / 1000" }
      - select: ["ts", "level", "secs AS s"]
    output_mode: append
    sink: [{ console: { num_rows: 5, truncate: false } }, { json: out/slow }]
  - name: per_level
    from: logs
    steps:
      - with_watermark: { column: ts, delay: 1 minute }
      - filter: "ok"
      - group_by: ["window(ts, '1 minute')", level]
        agg: ["max(ms) AS m", "count(*)"]
    output_mode: update
    sink: console
  - name: notes
    from: notes
    steps:
      - select: ["upper(value) AS v"]
    sink: console
"#,
        );
        assert!(y.diags.is_empty(), "{:?}", y.diags);
        let m = compile_tokens(quote::quote! {
            app_name("all");
            trigger(Trigger::ProcessingTime("2 seconds"));
            let logs = read_stream
                .format("csv")
                .schema("ts TIMESTAMP, level STRING, ms BIGINT, ok BOOLEAN, x DOUBLE")
                .option("maxFilesPerTrigger", 2)
                .option("mode", "DROPMALFORMED")
                .load("in/logs");
            let slow = logs
                .where_("ms > 100")
                .with_column("secs", "ms / 1000")
                .select("ts", "level", "secs AS s")
                .write_stream()
                .format("console")
                .option("numRows", 5)
                .option("truncate", false)
                .json("out/slow");
            logs.with_watermark("ts", Minutes(1))
                .filter("ok")
                .group_by(["window(ts, '1 minute')", "level"])
                .agg(["max(ms) AS m", "count(*)"])
                .write_stream()
                .query_name("per_level")
                .output_mode("update")
                .console();
            let notes = read_stream.text("in/notes");
            notes.select(["upper(value) AS v"]).write_stream().console();
        });
        assert!(m.diags.is_empty(), "{:?}", m.diags);
        // The console sink given with `format` comes first, as in the YAML.
        assert_eq!(shape(&m.program), shape(&y.program));
    }

    #[test]
    fn mistakes_are_diagnostics_with_help() {
        let cases: Vec<(proc_macro2::TokenStream, &str)> = vec![
            (
                quote::quote! { let t = read_stream.socket("h", 1); t.groupBy(["value"]).count().write_stream().console(); },
                "did you mean `group_by`?",
            ),
            (
                quote::quote! { let t = read_stream.socket("h", 1); t.flat_map(|l| l.split(' ')).write_stream().console(); },
                "is a DStream operator",
            ),
            (
                quote::quote! { let l = socket_text_stream("h", 1); let t = read_stream.socket("h", 1); t.write_stream().console(); },
                "is a DStream source",
            ),
            (
                quote::quote! { let t = read_stream.json("d").schema("a TIMESTMP"); t.write_stream().console(); },
                "unknown column type `TIMESTMP` of column `a`",
            ),
            (quote::quote! { let t = read_stream.json("d"); t.write_stream().console(); }, "needs a schema"),
            (
                quote::quote! { let t = read_stream.socket("h", 1).with_watermark("value", "ten minutes"); t.write_stream().console(); },
                "expected a duration",
            ),
            (quote::quote! { read_stream.socket("h", 1).where_("value = ").write_stream().console(); }, "cannot parse"),
            (
                quote::quote! { read_stream.socket("h", 1).write_stream().output_mode("x").console(); },
                "unknown output mode",
            ),
            (
                quote::quote! { read_stream.socket("h", 1).group_by(["value"]).write_stream().console(); },
                "needs `.count()`",
            ),
            (quote::quote! { read_stream.socket("h", 1).write_stream(); }, "has no sink"),
            (quote::quote! { read_stream.socket("h", 1).select(["value"]); }, "never written"),
            (
                quote::quote! { trigger(Sometimes); read_stream.socket("h", 1).write_stream().console(); },
                "unknown trigger",
            ),
            (quote::quote! { words.write_stream().console(); let words = read_stream.socket("h", 1); }, "used before"),
            (
                quote::quote! { let t = read_stream.socket("h", 1); t.wirte_stream().console(); },
                "did you mean `write_stream`?",
            ),
            (
                quote::quote! { read_stream.socket("h", 1).write_stream().output_mode("complete").console(); },
                "Complete output mode not supported",
            ),
            (
                quote::quote! { read_stream.socket("h", 1).select(["lowr(value)"]).write_stream().console(); },
                "did you mean `lower`?",
            ),
            (
                quote::quote! { read_stream.socket("h", 1).group_by(["value"]).agg(["cout(*)"]).write_stream().output_mode("update").console(); },
                "did you mean `count`?",
            ),
            (
                quote::quote! { read_stream.socket("h", 1).group_by(["value"]).agg(["avgg(value)"]).write_stream().output_mode("update").console(); },
                "unknown aggregate function `avgg`",
            ),
            (
                quote::quote! { read_stream.socket("h", 1).order_by(["value"]).write_stream().console(); },
                "Sorting is not supported on streaming DataFrames/Datasets",
            ),
        ];
        for (tokens, expected) in cases {
            let shown = tokens.to_string();
            let msgs = messages(tokens);
            assert!(msgs.iter().any(|m| m.contains(expected)), "{shown}: expected `{expected}` in {msgs:?}");
        }
    }

    #[test]
    fn query_names_come_from_bindings_then_numbers() {
        let m = compile_tokens(quote::quote! {
            let words = read_stream.socket("h", 1).select(["explode(split(value, ' ')) AS word"]);
            words.write_stream().console();
            words.where_("length(word) > 3").write_stream().console();
            let counted = words.group_by(["word"]).count().write_stream().output_mode("update").console();
        });
        assert!(m.diags.is_empty(), "{:?}", m.diags);
        let crate::program::Program::Table(t) = &m.program else { panic!("a table plan") };
        let names: Vec<&str> = t.queries.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["words", "query1", "counted"]);
        assert_eq!(t.sources[0].name, "source0");
        assert_eq!(t.queries[1].steps.len(), 2);
    }

    #[test]
    fn odd_programs_give_diagnostics_not_panics() {
        let cases = [
            quote::quote! { read_stream; },
            quote::quote! { let x = read_stream; x.write_stream().console(); },
            quote::quote! { let x = read_stream.socket("h", 99999); },
            quote::quote! { let x = read_stream.socket("h", 1).0; },
            quote::quote! { read_stream.json("d").csv("e").schema("").write_stream().console(); },
            quote::quote! { read_stream.json("d").schema("a").write_stream().console(); },
            quote::quote! { read_stream.json("d").schema(", ,").write_stream().console(); },
            quote::quote! { read_stream.text("d").select([]).write_stream().console(); },
            quote::quote! { read_stream.text("d").select([1, 2]).write_stream().console(); },
            quote::quote! { read_stream.text("d").where_("\u{e9}\"' +").write_stream().console(); },
            quote::quote! { read_stream.text("d").where_(r"value = '").write_stream().console(); },
            quote::quote! { read_stream.text("d").count().write_stream().console(); },
            quote::quote! { read_stream.text("d").write_stream().format("json").console(); },
            quote::quote! { read_stream.text("d").write_stream().option("numRows", 1).start("x"); },
            quote::quote! { trigger(ProcessingTime()); trigger(Once); trigger(AvailableNow); },
            quote::quote! { let a = read_stream.text("d"); let a = read_stream.text("e"); a.write_stream().console(); },
            quote::quote! { let q = read_stream.text("d").write_stream().console(); q.write_stream().console(); },
            quote::quote! { batch_interval(Seconds(0)); read_stream.text("d").write_stream().console(); },
            quote::quote! { fn f() {} read_stream.text("d").write_stream().console(); },
            quote::quote! { (read_stream).text("d").write_stream().console(); },
        ];
        for tokens in cases {
            let shown = tokens.to_string();
            let c = compile_tokens(tokens);
            assert!(!c.diags.is_empty(), "{shown}: accepted");
        }
        // Scala's spellings without parentheses, and `spark.read_stream`, are accepted.
        for tokens in [
            quote::quote! { read_stream.socket("h", 1).write_stream.console(); },
            quote::quote! { spark.read_stream.text("d").write_stream().console().start(); },
        ] {
            let shown = tokens.to_string();
            let c = compile_tokens(tokens);
            assert!(c.diags.is_empty(), "{shown}: {:?}", c.diags);
        }
    }
}
