//! Structured Streaming plans: typed tables read from sources with a schema, queries of steps
//! (`select`, `where`, `with_column`, `with_watermark`, `group_by … agg`), an output mode and
//! sinks. The YAML front end builds a [`TablePlan`]; [`check`] types every column and applies
//! Spark's analysis rules (unresolved columns, output modes, watermarks, file sinks); codegen
//! turns the typed [`Checked`] queries into one loop per source batch.

use crate::diag::{Diagnostics, suggest};
use crate::expr::{BinOp, Expr, UnOp};
use crate::span::SpanId;

/// When batches run (Spark's triggers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Trigger {
    /// Every batch interval (Spark's `processingTime`; its default runs back to back).
    #[default]
    ProcessingTime,
    Once,
    AvailableNow,
}

#[derive(Debug, Default)]
pub struct TablePlan {
    pub trigger: Trigger,
    pub sources: Vec<TableSource>,
    pub queries: Vec<Query>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Text,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Malformed {
    #[default]
    Permissive,
    DropMalformed,
    FailFast,
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    Socket { host: String, port: u16 },
    Files { format: Format, path: String, max_files: Option<u64> },
}

#[derive(Debug, Clone)]
pub struct TableSource {
    pub name: String,
    pub span: SpanId,
    pub kind: SourceKind,
    pub schema: Vec<Column>,
    pub malformed: Malformed,
}

/// Column types of a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColTy {
    String,
    Bool,
    Long,
    Double,
    Timestamp,
    /// `split(..)`'s result; only `explode` takes it.
    StringArray,
}

impl ColTy {
    pub fn parse(s: &str) -> Option<ColTy> {
        Some(match s.to_ascii_lowercase().as_str() {
            "string" | "str" => ColTy::String,
            "bool" | "boolean" => ColTy::Bool,
            "int" | "integer" | "i32" | "long" | "bigint" | "i64" => ColTy::Long,
            "float" | "double" | "f32" | "f64" => ColTy::Double,
            "timestamp" => ColTy::Timestamp,
            _ => return None,
        })
    }

    pub fn sql(self) -> &'static str {
        match self {
            ColTy::String => "string",
            ColTy::Bool => "boolean",
            ColTy::Long => "bigint",
            ColTy::Double => "double",
            ColTy::Timestamp => "timestamp",
            ColTy::StringArray => "array<string>",
        }
    }

    pub fn numeric(self) -> bool {
        matches!(self, ColTy::Long | ColTy::Double)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: ColTy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    Append,
    Complete,
    Update,
}

#[derive(Debug, Clone)]
pub enum Sink {
    Console { num_rows: usize, truncate: bool },
    Json { path: String },
}

#[derive(Debug, Clone)]
pub enum Step {
    Select(Vec<(Expr, Option<String>)>),
    Where(Expr),
    WithColumn(String, Expr),
    WithWatermark { column: String, delay_ms: u64 },
    GroupBy { keys: Vec<(Expr, Option<String>)>, aggs: Vec<(Expr, Option<String>)> },
}

#[derive(Debug, Clone)]
pub struct Query {
    pub name: String,
    pub span: SpanId,
    pub from: (String, SpanId),
    pub steps: Vec<(Step, SpanId)>,
    pub mode: (OutputMode, SpanId),
    pub sinks: Vec<(Sink, SpanId)>,
}

/// A typed step, ready for codegen: each produces columns from the columns before it.
#[derive(Debug, Clone)]
pub enum TStep {
    /// `let <name> = <expr>` for each output column, then only those columns exist.
    Project(Vec<(String, Expr, ColTy)>),
    /// `explode(<array expr>) AS name` (with the other projected columns).
    Explode {
        name: String,
        array: Expr,
        others: Vec<(String, Expr, ColTy)>,
    },
    Filter(Expr),
    Watermark {
        column: String,
    },
}

/// A typed aggregation: grouping keys (a window over a timestamp column, or columns) and
/// aggregate functions.
#[derive(Debug, Clone)]
pub struct TAgg {
    pub window: Option<WindowKey>,
    pub keys: Vec<(String, Expr, ColTy)>,
    pub aggs: Vec<(String, AggFn, Option<Expr>, ColTy)>,
}

#[derive(Debug, Clone)]
pub struct WindowKey {
    pub column: String,
    pub len_ms: u64,
    pub slide_ms: u64,
    pub start_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFn {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

/// A checked query: its source, typed steps, optional aggregation, watermark and output columns.
#[derive(Debug, Clone)]
pub struct Checked {
    pub name: String,
    pub source: usize,
    pub input: Vec<Column>,
    pub steps: Vec<TStep>,
    pub agg: Option<TAgg>,
    pub watermark: Option<(String, u64)>,
    pub output: Vec<Column>,
    pub mode: OutputMode,
    pub sinks: Vec<Sink>,
}

/// Types every query and applies Spark's rules; returns the checked queries (those without
/// errors).
pub fn check(plan: &TablePlan, diags: &mut Diagnostics) -> Vec<Checked> {
    let mut out = Vec::new();
    for q in &plan.queries {
        let Some(source) = plan.sources.iter().position(|s| s.name == q.from.0) else {
            let names: Vec<&str> = plan.sources.iter().map(|s| s.name.as_str()).collect();
            let d =
                diags.error(q.from.1, format!("query `{}` reads source `{}`, which is not defined", q.name, q.from.0));
            if let Some(s) = suggest(&q.from.0, &names) {
                d.help(format!("did you mean `{s}`?"));
            }
            continue;
        };
        let before = diags.len();
        let c = check_query(plan, q, source, diags);
        if diags.len() == before {
            out.push(c);
        }
    }
    out
}

fn check_query(plan: &TablePlan, q: &Query, source: usize, diags: &mut Diagnostics) -> Checked {
    let input = plan.sources[source].schema.clone();
    let mut cols = input.clone();
    let mut steps = Vec::new();
    let mut agg: Option<TAgg> = None;
    let mut watermark: Option<(String, u64)> = None;
    for (step, span) in &q.steps {
        if agg.is_some() {
            diags
                .error(*span, "a step after the aggregation is not supported in a streaming query")
                .help("put `with_watermark`, `where` and `select` before `group_by`");
            continue;
        }
        match step {
            Step::Where(e) => {
                if let Some(t) = type_of(e, &cols, *span, diags)
                    && t != ColTy::Bool
                {
                    diags.error(*span, format!("`where` needs a boolean condition, found `{e}` of type {}", t.sql()));
                }
                steps.push(TStep::Filter(e.clone()));
            }
            Step::WithColumn(name, e) => {
                let Some(t) = type_of(e, &cols, *span, diags) else { continue };
                let mut projected: Vec<(String, Expr, ColTy)> = cols
                    .iter()
                    .filter(|c| &c.name != name)
                    .map(|c| (c.name.clone(), Expr::Column(c.name.clone()), c.ty))
                    .collect();
                projected.push((name.clone(), e.clone(), t));
                cols = projected.iter().map(|(n, _, t)| Column { name: n.clone(), ty: *t }).collect();
                steps.push(TStep::Project(projected));
            }
            Step::Select(items) => {
                let mut projected = Vec::new();
                let mut explode = None;
                for (e, alias) in items {
                    if let Expr::Call(f, args) = e
                        && f == "explode"
                    {
                        if explode.is_some() {
                            diags.error(
                                *span,
                                "only one `explode` is allowed per `select` (Spark: one generator per select clause)",
                            );
                            continue;
                        }
                        let [array] = &args[..] else {
                            diags.error(*span, "`explode` takes one argument");
                            continue;
                        };
                        match type_of(array, &cols, *span, diags) {
                            Some(ColTy::StringArray) => {}
                            Some(t) => {
                                diags.error(
                                    *span,
                                    format!("`explode` needs an array, found `{array}` of type {}", t.sql()),
                                );
                                continue;
                            }
                            None => continue,
                        }
                        explode = Some((alias.clone().unwrap_or_else(|| "col".into()), array.clone()));
                        continue;
                    }
                    let Some(t) = type_of(e, &cols, *span, diags) else { continue };
                    if t == ColTy::StringArray {
                        diags.error(*span, format!("`{e}` is an array; streamc's outputs hold scalars: `explode` it"));
                        continue;
                    }
                    projected.push((alias.clone().unwrap_or_else(|| column_name(e)), e.clone(), t));
                }
                let mut new_cols: Vec<Column> =
                    projected.iter().map(|(n, _, t)| Column { name: n.clone(), ty: *t }).collect();
                match explode {
                    Some((name, array)) => {
                        new_cols.push(Column { name: name.clone(), ty: ColTy::String });
                        steps.push(TStep::Explode { name, array, others: projected });
                    }
                    None => steps.push(TStep::Project(projected)),
                }
                cols = new_cols;
            }
            Step::WithWatermark { column, delay_ms } => {
                match cols.iter().find(|c| &c.name == column) {
                    Some(c) if c.ty == ColTy::Timestamp => {}
                    Some(c) => {
                        diags.error(
                            *span,
                            format!("the watermark column `{column}` must be a timestamp, found {}", c.ty.sql()),
                        );
                    }
                    None => unresolved(column, &cols, *span, diags),
                }
                if watermark.is_some() {
                    diags.error(
                        *span,
                        "a query has at most one watermark here (several inputs take the minimum; not supported yet)",
                    );
                }
                watermark = Some((column.clone(), *delay_ms));
                steps.push(TStep::Watermark { column: column.clone() });
            }
            Step::GroupBy { keys, aggs } => {
                let mut a = TAgg { window: None, keys: Vec::new(), aggs: Vec::new() };
                for (k, alias) in keys {
                    if let Expr::Call(f, args) = k
                        && f == "window"
                    {
                        if let Some(w) = window_key(args, &cols, *span, diags) {
                            a.window = Some(w);
                        }
                        continue;
                    }
                    if let Some(t) = type_of(k, &cols, *span, diags) {
                        a.keys.push((alias.clone().unwrap_or_else(|| column_name(k)), k.clone(), t));
                    }
                }
                for (e, alias) in aggs {
                    let Expr::Call(f, args) = e else {
                        diags
                            .error(*span, format!("`{e}` is not an aggregate function"))
                            .help("use count(*), sum(col), avg(col), min(col) or max(col)");
                        continue;
                    };
                    let func = match f.as_str() {
                        "count" => AggFn::Count,
                        "sum" => AggFn::Sum,
                        "avg" | "mean" => AggFn::Avg,
                        "min" => AggFn::Min,
                        "max" => AggFn::Max,
                        other => {
                            diags
                                .error(*span, format!("unknown aggregate function `{other}`"))
                                .help("use count(*), sum(col), avg(col), min(col) or max(col)");
                            continue;
                        }
                    };
                    let arg = match (&args[..], func) {
                        ([Expr::Star] | [], AggFn::Count) => None,
                        ([x], _) => {
                            let Some(t) = type_of(x, &cols, *span, diags) else { continue };
                            if matches!(func, AggFn::Sum | AggFn::Avg) && !t.numeric() {
                                diags.error(
                                    *span,
                                    format!("`{f}` needs a numeric column, found `{x}` of type {}", t.sql()),
                                );
                                continue;
                            }
                            Some((x.clone(), t))
                        }
                        _ => {
                            diags.error(*span, format!("`{f}` takes one argument"));
                            continue;
                        }
                    };
                    let (name, ty) = match (func, &arg) {
                        (AggFn::Count, _) => ("count".to_string(), ColTy::Long),
                        (AggFn::Avg, Some((x, _))) => (format!("avg({x})"), ColTy::Double),
                        (_, Some((x, t))) => (format!("{f}({x})"), *t),
                        (_, None) => continue,
                    };
                    a.aggs.push((alias.clone().unwrap_or(name), func, arg.map(|(x, _)| x), ty));
                }
                agg = Some(a);
            }
        }
    }
    let output: Vec<Column> = match &agg {
        Some(a) => {
            let mut o = Vec::new();
            if a.window.is_some() {
                o.push(Column { name: "window_start".into(), ty: ColTy::Timestamp });
                o.push(Column { name: "window_end".into(), ty: ColTy::Timestamp });
            }
            o.extend(a.keys.iter().map(|(n, _, t)| Column { name: n.clone(), ty: *t }));
            o.extend(a.aggs.iter().map(|(n, _, _, t)| Column { name: n.clone(), ty: *t }));
            o
        }
        None => cols.clone(),
    };
    check_output_mode(q, &agg, &watermark, diags);
    if output.len() > 6 {
        diags.error(
            q.span,
            format!("query `{}` has {} output columns; streamc supports at most 6 for now", q.name, output.len()),
        );
    }
    Checked {
        name: q.name.clone(),
        source,
        input,
        steps,
        agg,
        watermark,
        output,
        mode: q.mode.0,
        sinks: q.sinks.iter().map(|(s, _)| s.clone()).collect(),
    }
}

/// Spark's UnsupportedOperationChecker rules for output modes and sinks.
fn check_output_mode(q: &Query, agg: &Option<TAgg>, watermark: &Option<(String, u64)>, diags: &mut Diagnostics) {
    let (mode, span) = q.mode;
    match (mode, agg) {
        (OutputMode::Complete, None) => {
            diags
                .error(span, "Complete output mode not supported when there are no streaming aggregations on streaming DataFrames/Datasets")
                .help("use `output_mode: append`, or aggregate with `group_by`");
        }
        (OutputMode::Append, Some(a)) => {
            let on_time_key = match (watermark, &a.window) {
                (Some((wcol, _)), Some(w)) => &w.column == wcol,
                (Some((wcol, _)), None) => a.keys.iter().any(|(n, _, t)| n == wcol && *t == ColTy::Timestamp),
                (None, _) => false,
            };
            if !on_time_key {
                diags
                    .error(span, "Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark")
                    .help("add `with_watermark: { column: <event time>, delay: 10 minutes }` before `group_by`, and group by `window(<event time>, ...)`, or use `output_mode: update` or `complete`");
            }
        }
        _ => {}
    }
    for (sink, sspan) in &q.sinks {
        if let Sink::Json { .. } = sink
            && mode != OutputMode::Append
        {
            let m = if mode == OutputMode::Complete { "Complete" } else { "Update" };
            diags
                .error(*sspan, format!("Data source json does not support {m} output mode"))
                .help("file sinks accept `output_mode: append` only (use a watermark and append, or the console sink)");
        }
    }
}

fn window_key(args: &[Expr], cols: &[Column], span: SpanId, diags: &mut Diagnostics) -> Option<WindowKey> {
    let (col, rest) = match args {
        [Expr::Column(c), rest @ ..] if (1..=3).contains(&rest.len()) => (c, rest),
        _ => {
            diags
                .error(span, "`window` takes a timestamp column, a duration, and an optional slide and start")
                .help("write `window(timestamp, '10 minutes', '5 minutes')`");
            return None;
        }
    };
    match cols.iter().find(|c| &c.name == col) {
        Some(c) if c.ty == ColTy::Timestamp => {}
        Some(c) => {
            diags.error(span, format!("`window` needs a timestamp column, found `{col}` of type {}", c.ty.sql()));
            return None;
        }
        None => {
            unresolved(col, cols, span, diags);
            return None;
        }
    }
    let mut ms = Vec::new();
    for a in rest {
        let Expr::Str(s) = a else {
            diags.error(span, format!("`window` durations are strings such as '10 minutes', found `{a}`"));
            return None;
        };
        match crate::duration::parse_ms(s) {
            Ok(v) => ms.push(v),
            Err(e) if ms.len() == 2 && s.trim().starts_with('0') => {
                let _ = e;
                ms.push(0);
            }
            Err(e) => {
                diags.error(span, e);
                return None;
            }
        }
    }
    let len_ms = ms[0];
    let slide_ms = ms.get(1).copied().unwrap_or(len_ms);
    let start_ms = ms.get(2).copied().unwrap_or(0);
    if slide_ms > len_ms {
        diags.error(span, format!("the slide ({slide_ms} ms) of `window` is longer than its duration ({len_ms} ms)"));
    }
    Some(WindowKey { column: col.clone(), len_ms, slide_ms, start_ms })
}

/// Spark's default name of a selected expression.
pub fn column_name(e: &Expr) -> String {
    match e {
        Expr::Column(c) => c.clone(),
        other => other.to_string(),
    }
}

fn unresolved(name: &str, cols: &[Column], span: SpanId, diags: &mut Diagnostics) {
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let d = diags.error(span, format!("a column with name `{name}` cannot be resolved"));
    match suggest(name, &names) {
        Some(s) => d.help(format!("did you mean `{s}`? the input columns are [{}]", listed.join(", "))),
        None => d.help(format!("the input columns are [{}]", listed.join(", "))),
    };
}

/// The type of an expression over `cols`, or None after reporting why not.
pub fn type_of(e: &Expr, cols: &[Column], span: SpanId, diags: &mut Diagnostics) -> Option<ColTy> {
    Some(match e {
        Expr::Column(c) => match cols.iter().find(|x| &x.name == c) {
            Some(x) => x.ty,
            None => {
                unresolved(c, cols, span, diags);
                return None;
            }
        },
        Expr::Str(_) => ColTy::String,
        Expr::Int(_) => ColTy::Long,
        Expr::Float(_) => ColTy::Double,
        Expr::Bool(_) => ColTy::Bool,
        Expr::Null => {
            diags.error(span, "a bare NULL has no type here; compare with `IS NULL` is not supported yet");
            return None;
        }
        Expr::Star => {
            diags.error(span, "`*` is only allowed in `count(*)`");
            return None;
        }
        Expr::Unary(UnOp::Not, x) => {
            let t = type_of(x, cols, span, diags)?;
            if t != ColTy::Bool {
                diags.error(span, format!("NOT needs a boolean, found `{x}` of type {}", t.sql()));
                return None;
            }
            ColTy::Bool
        }
        Expr::Unary(UnOp::Neg, x) => {
            let t = type_of(x, cols, span, diags)?;
            if !t.numeric() {
                diags.error(span, format!("`-` needs a number, found `{x}` of type {}", t.sql()));
                return None;
            }
            t
        }
        Expr::Binary(op, a, b) => {
            let (ta, tb) = (type_of(a, cols, span, diags)?, type_of(b, cols, span, diags)?);
            match op {
                BinOp::And | BinOp::Or => {
                    if ta != ColTy::Bool || tb != ColTy::Bool {
                        diags.error(
                            span,
                            format!("`{}` needs booleans, found {} and {}", op.symbol(), ta.sql(), tb.sql()),
                        );
                        return None;
                    }
                    ColTy::Bool
                }
                op if op.is_comparison() => {
                    let same = ta == tb || (ta.numeric() && tb.numeric());
                    if !same || ta == ColTy::StringArray {
                        diags.error(span, format!("cannot compare {} with {} in `{e}`", ta.sql(), tb.sql()));
                        return None;
                    }
                    ColTy::Bool
                }
                _ => {
                    if !ta.numeric() || !tb.numeric() {
                        diags.error(
                            span,
                            format!("`{}` needs numbers, found {} and {} in `{e}`", op.symbol(), ta.sql(), tb.sql()),
                        );
                        return None;
                    }
                    if ta == ColTy::Double || tb == ColTy::Double || *op == BinOp::Div {
                        ColTy::Double
                    } else {
                        ColTy::Long
                    }
                }
            }
        }
        Expr::Call(f, args) => {
            let tys: Option<Vec<ColTy>> = args.iter().map(|a| type_of(a, cols, span, diags)).collect();
            let tys = tys?;
            match (f.as_str(), &tys[..]) {
                ("split", [ColTy::String, ColTy::String]) => {
                    match &args[1] {
                        Expr::Str(p) if !p.is_empty() && !p.chars().any(|c| "\\^$.|?*+()[]{}".contains(c)) => {}
                        other => {
                            diags.error(span, format!("`split` takes a literal pattern here, found `{other}`")).help(
                                "streamc supports patterns without regular-expression metacharacters, e.g. split(value, ' ')",
                            );
                            return None;
                        }
                    }
                    ColTy::StringArray
                }
                ("lower" | "upper" | "trim", [ColTy::String]) => ColTy::String,
                ("length", [ColTy::String]) => ColTy::Long,
                ("explode", _) => {
                    diags.error(span, "`explode` is only allowed as a `select` item");
                    return None;
                }
                ("window", _) => {
                    diags.error(span, "`window` is only allowed as a `group_by` key");
                    return None;
                }
                ("count" | "sum" | "avg" | "min" | "max", _) => {
                    diags.error(span, format!("the aggregate `{f}` is only allowed in `agg`"));
                    return None;
                }
                (name, _) => {
                    let listed: Vec<&str> = tys.iter().map(|t| t.sql()).collect();
                    let d = diags.error(span, format!("no function `{name}` taking ({})", listed.join(", ")));
                    match suggest(name, &["split", "lower", "upper", "trim", "length", "explode", "window"]) {
                        Some(s) if s != name => d.help(format!("did you mean `{s}`?")),
                        _ => d.help("the functions are split, explode, lower, upper, trim, length and window"),
                    };
                    return None;
                }
            }
        }
    })
}
