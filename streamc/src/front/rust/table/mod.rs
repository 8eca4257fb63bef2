//! The Structured Streaming half of the `stream!` front end: `read_stream.json(..)`,
//! `.select([..])`, `.group_by([..]).count()`, `.write_stream().output_mode(..).console()`,
//! lowered to the same [`TablePlan`] the YAML front end builds, so the checker's rules and the
//! code generator apply unchanged. Expressions are SQL strings (Spark's `selectExpr`/`expr`),
//! schemas Spark DDL strings (`"timestamp TIMESTAMP, word STRING"`).

use crate::diag::{Diagnostics, suggest};
use crate::dstream::plan::SOURCE_NAMES;
use crate::duration;
use crate::front::syntax::{duration_of, expect_int, expect_str, lit_str, pat_name};
use crate::program::AppSettings;
use crate::span::{SpanId, SpanInfo, SpanTable};
use crate::table::expr::Expr;
use crate::table::{
    ColName, ColTy, Column, Format, Item, JoinHow, Malformed, OutputMode, Query, Sink, SourceKind, Step, TablePlan,
    TableSource, Trigger,
};
use proc_macro2::Span;
use quote::ToTokens;
use std::collections::HashMap;

mod chain;
mod context;
mod source;
#[cfg(test)]
mod tests;
mod writer;
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
    "drop_duplicates_within_watermark",
    "union",
    "join",
    "map_groups_with_state",
    "flat_map_groups_with_state",
    "order_by",
    "limit",
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
const CONTEXT_CALLS: &[&str] = &["app_name", "batch_interval", "checkpoint", "trigger", "multiple_watermark_policy"];

/// Names of the DStream registry that are also methods of tables or their writers (Spark has
/// `filter`, `count`, `union`, `join` and `foreachBatch` in both APIs).
const SHARED_WITH_TABLES: &[&str] = &["filter", "count", "union", "join", "foreach_batch"];

/// Whether `name` is a DStream operator or output (from the operator registry) that is no table
/// method: on a table it means the two APIs were mixed.
fn is_dstream_method(name: &str) -> bool {
    crate::dstream::ops::find(name).is_some_and(|d| d.kind != crate::dstream::ops::Kind::Source)
        && !SHARED_WITH_TABLES.contains(&name)
}

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

/// Parsed expressions, each with the span of the string literal it came from (also in `lits`,
/// for the step's span).
#[derive(Clone)]
struct Exprs {
    items: Vec<Item>,
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
    /// The socket source's `includeTimestamp`.
    include_timestamp: bool,
    /// `format("kafka")`'s options, as written.
    kafka: Vec<crate::table::kafka::KafkaOption>,
    /// The CSV and JSON readers' options.
    options: crate::table::ReadOptions,
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
    /// `format("kafka")`'s options, as written.
    kafka: Vec<crate::table::kafka::KafkaOption>,
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
                Ok((x, alias)) if aliases || alias.is_none() => out.items.push(Item::at(x, alias, Some(span))),
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
        self.inside_range(lit, offset..offset + 1)
    }

    /// The span of the bytes `range` of a string literal's text (a name within it), as
    /// [`inside`](Self::inside) finds one: where the compiler can tell, else the literal.
    pub(super) fn inside_range(&mut self, lit: &syn::LitStr, range: std::ops::Range<usize>) -> SpanId {
        let token = lit.token();
        let repr = token.to_string();
        // Offsets are into the value: they match the token's text only without escapes.
        let plain = repr.len() == lit.value().len() + 2 && repr.starts_with('"') && range.end + 2 <= repr.len();
        let at = plain.then(|| token.subspan(1 + range.start..1 + range.end)).flatten();
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
        let r = expect_str(e, what);
        self.reported(e, r)
    }

    /// An option's value as text: a string, integer or boolean literal.
    fn option_text(&mut self, e: &syn::Expr) -> Option<String> {
        if let syn::Expr::Lit(l) = e {
            match &l.lit {
                syn::Lit::Int(i) => return Some(i.base10_digits().to_owned()),
                syn::Lit::Bool(b) => return Some(b.value.to_string()),
                _ => {}
            }
        }
        self.str_arg(e, "option value")
    }

    /// A `format("kafka")` option: its name and value with their spots.
    fn kafka_option(&mut self, k: &syn::Expr, v: &syn::Expr) -> Option<crate::table::kafka::KafkaOption> {
        let key = self.str_arg(k, "option key")?;
        let value = self.option_text(v)?;
        let (key_span, value_span) = (self.span(k.span()), self.span(v.span()));
        Some(crate::table::kafka::KafkaOption { key, value, key_span, value_span })
    }

    fn int_arg(&mut self, e: &syn::Expr, what: &str) -> Option<i64> {
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
