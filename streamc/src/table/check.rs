//! The Structured Streaming checker: types every column of every query and applies Spark's
//! analysis rules (unresolved columns, output modes, watermarks, file sinks), producing the typed
//! [`Checked`] queries that codegen turns into one loop per source batch.

use super::expr::Expr;
use super::plan::*;
use super::rows::{column_name, row_step};
use super::spark::{LIMIT, SORT};
use super::stages::Events;
use super::typing::{check_aggregate, typed, unresolved};
use crate::diag::{Diagnostics, suggest};
use crate::span::SpanId;

/// Types every query and applies Spark's rules; returns the checked queries (those without
/// errors).
pub fn check(plan: &TablePlan, diags: &mut Diagnostics) -> Vec<Checked> {
    super::sources::check_sources(plan, diags);
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
    if matches!(plan.sources[source].kind, SourceKind::Static { .. }) {
        diags
            .error(q.from.1, format!("`{}` is a static table; a query reads a streaming source", q.from.0))
            .help("join the static table to a stream with a `join` step");
    }
    let mut watermark: Option<(String, u64)> = None;
    let (inputs, rest) = check_inputs(plan, q, source, diags);
    if let Some((inp, (i, delay))) = inputs.iter().find_map(|i| Some((i, i.watermark?))) {
        watermark = Some((plan.sources[inp.source].schema[i].name.clone(), delay));
    }
    let stage = StageIn { stage: 0, source, inputs, input, watermark, feed: None, events: None };
    check_stage(plan, q, stage, rest, diags)
}

/// What a stage starts from: the query's inputs (stage 0), or the rows of the stage before it
/// with the columns that carry event time (`events`) and how its watermark follows.
struct StageIn {
    stage: usize,
    source: usize,
    inputs: Vec<Input>,
    input: Vec<Column>,
    watermark: Option<(String, u64)>,
    feed: Option<Feed>,
    events: Option<Events>,
}

fn check_stage(plan: &TablePlan, q: &Query, sin: StageIn, rest: &[(Step, SpanId)], diags: &mut Diagnostics) -> Checked {
    let StageIn { stage, source, inputs, input, mut watermark, feed, mut events } = sin;
    let mut cols = input.clone();
    let mut steps = Vec::new();
    let mut agg: Option<TAgg> = None;
    let mut window_name = String::from("window");
    let mut then: Option<(usize, Feed)> = None;
    let mut order: Option<(&[SortKey], SpanId)> = None;
    let mut limit: Option<(u64, SpanId)> = None;
    let mut having: Option<(&Expr, SpanId)> = None;
    let mut expanded: Vec<(Step, SpanId)> = Vec::new();
    for (step, span) in rest {
        // `window(<expression>, ..)`: the expression becomes a column first.
        match super::stages::window_over_expression(step) {
            Some((with, key_span, group)) => expanded.extend([(with, key_span.unwrap_or(*span)), (group, *span)]),
            None => expanded.push((step.clone(), *span)),
        }
    }
    let rest = &expanded[..];
    for (at, (step, span)) in rest.iter().enumerate() {
        let joined = steps.iter().any(|s| matches!(s, TStep::StreamJoin(_)));
        if super::stages::starts_stage(step, agg.is_some(), having.is_some(), joined) {
            let feed = if agg.is_some() { Feed::Same } else { super::stages::join_feed(&steps) };
            then = Some((at, feed));
            break;
        }
        if stage > 0 && !super::stages::later_stage_step(step, *span, diags) {
            continue;
        }
        match step {
            Step::OrderBy(keys) => {
                order = Some((keys, *span));
                continue;
            }
            Step::Limit(n) => {
                limit = Some((*n, *span));
                continue;
            }
            _ => {}
        }
        if let (Some(_), Step::Where(e), None) = (&agg, step, having) {
            // SQL's `HAVING`: a filter of the aggregation's output rows.
            having = Some((e, *span));
            continue;
        }
        if agg.is_some() {
            diags
                .error(*span, "a step after the aggregation is not supported in a streaming query")
                .help("put `with_watermark`, `where` and `select` before `group_by`");
            continue;
        }
        // After a join and in later stages, Spark's window structs resolve to streamc's columns
        // and event time is followed through the row steps.
        let resolved;
        let step = match &events {
            Some(ev) => {
                resolved = ev.resolve(step);
                &resolved
            }
            None => step,
        };
        if let Some(t) = row_step(step, *span, &mut cols, diags) {
            if let Some(ev) = &mut events {
                ev.follow(step);
            }
            steps.extend(t);
            continue;
        }
        if let (Some(ev), Some(w)) = (&events, super::stages::stateful_event_time(step, &events, &cols)) {
            // Spark: the stateful operator's watermark is on its one event-time column.
            match &w[..] {
                [] => watermark = None,
                [c] => watermark = Some((c.clone(), ev.delay_ms)),
                many => {
                    diags.error(*span, format!("More than one event time columns are available. Please ensure there is at most one event time column per stream. event time columns: ({})", many.join(",")))
                        .help("select one event-time column (or `window_time(window)`) before this step");
                }
            }
        }
        match step {
            Step::Where(_) | Step::WithColumn(..) | Step::Select(_) => {}
            Step::GroupsWithState(g) => {
                let wm = watermark.as_ref().map(|(c, _)| c.as_str());
                if let Some(t) = super::groups::check(g, *span, &cols, wm, diags) {
                    cols = t.output.clone();
                    steps.push(TStep::GroupsWithState(Box::new(t)));
                }
            }
            Step::StreamJoin(j) => {
                let left_wm = inputs[0].watermark.map(|(i, _)| input[i].name.as_str());
                let left_time = super::join::carried(left_wm, &steps);
                if let Some((t, new_cols)) = super::join::check(plan, j, *span, &cols, left_time, diags) {
                    // The joined rows carry each side's event time (Spark's watermark metadata).
                    let delay_ms = watermark.as_ref().map_or(0, |(_, d)| *d);
                    let times = [&t.left_time, &t.right_time].into_iter().flatten().cloned().collect();
                    events = Some(Events { cols: times, structs: Vec::new(), delay_ms });
                    cols = new_cols;
                    steps.push(TStep::StreamJoin(Box::new(t)));
                }
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
                    diags
                        .error(*span, "a query has at most one watermark per input")
                        .help("give each input of a `union` its own watermark: `with_watermark` before the `union` steps, and `union: { source, watermark }`");
                }
                watermark = Some((column.clone(), *delay_ms));
                steps.push(TStep::Watermark { column: column.clone() });
            }
            Step::DropDuplicates(names) | Step::DropDuplicatesWithinWatermark(names) => {
                let within = matches!(step, Step::DropDuplicatesWithinWatermark(_));
                let mut dcols = Vec::new();
                if names.is_empty() {
                    for c in cols.iter() {
                        if c.ty.has_map() {
                            diags.error(*span, super::spark::map_in_set_operation(&c.name, c.ty));
                        }
                        dcols.push((c.name.clone(), c.ty));
                    }
                }
                for key in names {
                    let (n, at) = (&key.name, key.span_or(*span));
                    match cols.iter().find(|c| &c.name == n) {
                        // Spark refuses a map (at any depth) as a deduplication key, as in a
                        // set operation.
                        Some(c) if c.ty.has_map() => {
                            diags.error(at, super::spark::map_in_set_operation(n, c.ty));
                        }
                        Some(c) => dcols.push((c.name.clone(), c.ty)),
                        None => unresolved(n, &cols, at, diags),
                    }
                }
                // Spark drops input older than the watermark whenever the watermark column is
                // still there, and evicts state only when it is one of the keys.
                let late_column =
                    watermark.as_ref().map(|(c, _)| c.clone()).filter(|c| cols.iter().any(|x| &x.name == c));
                let event_time = late_column.as_ref().and_then(|c| dcols.iter().position(|(n, _)| n == c));
                let within_ms = match (within, &watermark, &late_column) {
                    (false, _, _) => None,
                    (true, Some((_, d)), Some(_)) => Some(*d),
                    (true, _, _) => {
                        diags
                            .error(*span, "dropDuplicatesWithinWatermark is not supported on streaming DataFrames/DataSets without watermark")
                            .help("put `with_watermark: { column, delay }` on an event-time column that is still there at this step");
                        continue;
                    }
                };
                steps.push(TStep::Dedup { cols: dcols, late_column, event_time, within_ms });
            }
            Step::Union { .. } => {
                diags.error(*span, "`union` comes first in a query's steps").help(
                    "write the `union` steps right after `from` (after the first input's `with_watermark`, if any)",
                );
            }
            Step::OrderBy(_) | Step::Limit(_) => unreachable!("handled above"),
            Step::Join { table, on, how } => {
                let Some(t) = plan.sources.iter().position(|s| &s.name == table) else {
                    let names: Vec<&str> = plan.sources.iter().map(|s| s.name.as_str()).collect();
                    let d = diags.error(*span, format!("`join` with `{table}`, which is not defined"));
                    if let Some(s) = suggest(table, &names) {
                        d.help(format!("did you mean `{s}`?"));
                    }
                    continue;
                };
                if !matches!(plan.sources[t].kind, SourceKind::Static { .. }) {
                    diags
                        .error(*span, format!("`{table}` is a stream; streamc joins a stream with a static table"))
                        .help("declare the table with `static: { json: FILE }` (or csv) in `sources:`; stream-stream joins are not supported yet");
                    continue;
                }
                let right_schema = &plan.sources[t].schema;
                let mut keys = Vec::new();
                for key in on {
                    let (k, at) = (&key.name, key.span_or(*span));
                    let (l, r) = (cols.iter().find(|c| &c.name == k), right_schema.iter().find(|c| &c.name == k));
                    match (l, r) {
                        (Some(l), Some(r)) if l.ty == r.ty => keys.push((k.clone(), l.ty)),
                        (Some(l), Some(r)) => {
                            diags.error(
                                at,
                                format!(
                                    "the join column `{k}` is {} in the stream and {} in `{table}`",
                                    l.ty.sql(),
                                    r.ty.sql()
                                ),
                            );
                        }
                        (None, _) => unresolved(k, &cols, at, diags),
                        (_, None) => unresolved(k, right_schema, at, diags),
                    }
                }
                if on.is_empty() {
                    diags
                        .error(*span, "`join` needs the columns to join `on`")
                        .help("write `join: { table: NAME, on: [col] }`");
                }
                let keyed = |c: &Column| on.iter().any(|k| k.name == c.name);
                let right: Vec<Column> = right_schema.iter().filter(|c| !keyed(c)).cloned().collect();
                for r in &right {
                    if cols.iter().any(|c| c.name == r.name) {
                        diags
                            .error(*span, format!("the column `{}` is in both the stream and `{table}`, so a reference to it would be ambiguous", r.name))
                            .help("rename one of them (`select` ... AS ...) before the join");
                    }
                }
                // Spark's column order for a join on named columns: the keys, then the stream's
                // other columns, then the table's.
                let mut new_cols: Vec<Column> = keys.iter().map(|(n, t)| Column { name: n.clone(), ty: *t }).collect();
                new_cols.extend(cols.iter().filter(|c| !keyed(c)).cloned());
                new_cols.extend(right.iter().cloned());
                steps.push(TStep::Join { table: t, on: keys, right, how: *how });
                cols = new_cols;
            }
            Step::GroupBy { keys, aggs, distinct } => {
                let mut a = TAgg { window: None, session: None, keys: Vec::new(), aggs: Vec::new() };
                // A problem with one key or aggregate points at it (at the step when it has no
                // position of its own).
                for item in keys {
                    let (k, alias, at) = (&item.expr, &item.alias, item.span_or(*span));
                    if let Expr::Call(f, args) = k
                        && f == "window"
                    {
                        if let Some(w) = window_key(args, &cols, at, diags) {
                            a.window = Some(w);
                        }
                        window_name = alias.clone().unwrap_or_else(|| "window".into());
                        continue;
                    }
                    if let Expr::Call(f, args) = k
                        && f == "session_window"
                    {
                        if let Some(s) = session_key(args, &cols, at, diags) {
                            a.session = Some(s);
                        }
                        window_name = alias.clone().unwrap_or_else(|| "session_window".into());
                        continue;
                    }
                    if let Some((x, t)) = typed(k, &cols, at, diags) {
                        let name = alias.clone().unwrap_or_else(|| column_name(k));
                        if *distinct && t.has_map() {
                            diags.error(at, super::spark::map_in_set_operation(&name, t));
                        }
                        a.keys.push((name, x, t));
                    }
                }
                for item in aggs {
                    if let Some(x) = check_aggregate(&item.expr, &item.alias, &cols, item.span_or(*span), diags) {
                        a.aggs.push(x);
                    }
                }
                agg = Some(a);
            }
        }
    }
    let output: Vec<Column> = match &agg {
        Some(a) => {
            let mut o = Vec::new();
            if a.window.is_some() || a.session.is_some() {
                o.push(Column { name: format!("{window_name}_start"), ty: ColTy::Timestamp });
                o.push(Column { name: format!("{window_name}_end"), ty: ColTy::Timestamp });
            }
            if a.window.is_some() && a.session.is_some() {
                diags.error(q.span, "a query groups by `window` or by `session_window`, not both");
            }
            o.extend(a.keys.iter().map(|(n, _, t)| Column { name: n.clone(), ty: *t }));
            o.extend(a.aggs.iter().map(|(n, _, _, t)| Column { name: n.clone(), ty: *t }));
            o
        }
        None => cols.clone(),
    };
    super::pushdown::push_filters(&mut steps);
    // Whether a stateful operator comes after this stage (else the later stages only filter and
    // project its rows, in the query's output mode).
    let stateful_later = then.as_ref().is_some_and(|(at, _)| super::stages::stateful(&rest[*at..]));
    if !stateful_later || q.mode.0 == OutputMode::Append {
        check_output_mode(q, &agg, &watermark, stage > 0, diags);
    } else if agg.is_some() {
        diags.error(q.mode.1, super::stages::LATE_ROWS).help(
            "chain stateful operators in `output_mode: append` (the aggregation before another emits each window once, when the watermark passes it)",
        );
    }
    if let Some((i, (Step::GroupsWithState(g), span))) =
        q.steps.iter().enumerate().find(|(_, (s, _))| matches!(s, Step::GroupsWithState(_)))
    {
        let last = q.steps[i + 1..].iter().all(|(s, _)| matches!(s, Step::OrderBy(_) | Step::Limit(_)));
        super::groups::check_modes(q, g, *span, last, agg.is_some(), diags);
    }
    let having = having.and_then(|(e, span)| match typed(e, &output, span, diags)? {
        (x, ColTy::Bool) => Some(x),
        (x, ColTy::String) => Some(Expr::Cast(Box::new(x), ColTy::String, ColTy::Bool)),
        (_, t) => {
            diags.error(span, format!("`HAVING` needs a boolean condition, found `{e}` of type {}", t.sql()));
            None
        }
    });
    let order = output_order(q, &agg, stage > 0, &output, order, limit, diags);
    let then = then.map(|(at, feed)| {
        // The next stage's rows are this stage's output; their event time is the window or
        // key of this stage's aggregation, or what the join's sides carried.
        let base = events.clone().unwrap_or_else(|| Events {
            cols: watermark.iter().map(|(c, _)| c.clone()).collect(),
            structs: Vec::new(),
            delay_ms: watermark.as_ref().map_or(0, |(_, d)| *d),
        });
        let next = match &agg {
            Some(a) => base.of_aggregation(a, &window_name),
            None => base,
        };
        let sin = StageIn {
            stage: stage + 1,
            source,
            inputs: Vec::new(),
            input: output.clone(),
            watermark: None,
            feed: Some(feed),
            events: Some(next),
        };
        Box::new(check_stage(plan, q, sin, &rest[at..], diags))
    });
    if then.is_none() {
        super::sinks::check_kafka(q, &output, diags);
    }
    let (mode, sinks) = match then {
        Some(_) if stateful_later => (OutputMode::Append, Vec::new()),
        Some(_) => (q.mode.0, Vec::new()),
        None => (q.mode.0, q.sinks.iter().map(|(s, _)| s.clone()).collect()),
    };
    Checked {
        stage,
        feed,
        then,
        name: q.name.clone(),
        source,
        inputs,
        input,
        steps,
        agg,
        watermark,
        output,
        having,
        order,
        mode,
        sinks,
    }
}

/// The features of `streamc-runtime` that the generated code of `queries` needs.
pub fn runtime_features(plan: &TablePlan, queries: &[Checked]) -> Vec<&'static str> {
    let stages = || queries.iter().flat_map(Checked::stages);
    let sinks = || stages().flat_map(|q| &q.sinks);
    let parquet = sinks().any(|s| matches!(s, Sink::Parquet { .. }));
    fn regex_split(e: &Expr) -> bool {
        match e {
            Expr::Call(f, args) => {
                (f == "split" && !super::functions::literal_split(args.iter())) || args.iter().any(regex_split)
            }
            Expr::Unary(_, x) | Expr::Cast(x, _, _) | Expr::TryCast(x, _, _) => regex_split(x),
            Expr::Binary(_, a, b) => regex_split(a) || regex_split(b),
            _ => false,
        }
    }
    let regex = stages().any(|q| {
        q.expressions().any(|e| {
            e.calls(&|f| matches!(f, "rlike" | "regexp" | "regexp_like" | "regexp_extract" | "regexp_replace"))
                || regex_split(e)
        })
    });
    let kafka = sinks().any(|s| matches!(s, Sink::Kafka { .. }))
        || queries
            .iter()
            .flat_map(|q| &q.inputs)
            .any(|i| matches!(plan.sources[i.source].kind, SourceKind::Kafka { .. }));
    let mut out = Vec::new();
    if parquet {
        out.push("parquet");
    }
    if regex {
        out.push("regex");
    }
    if kafka {
        out.push("kafka");
    }
    out
}

/// Spark's UnsupportedOperationChecker rules for output modes and sinks.
/// `later`: the stage comes after another (whose aggregation the complete mode can be of).
fn check_output_mode(
    q: &Query,
    agg: &Option<TAgg>,
    watermark: &Option<(String, u64)>,
    later: bool,
    diags: &mut Diagnostics,
) {
    let (mode, span) = q.mode;
    match (mode, agg) {
        (OutputMode::Complete, None) if !later => {
            diags
                .error(span, "Complete output mode not supported when there are no streaming aggregations on streaming DataFrames/Datasets")
                .help("use `output_mode: append`, or aggregate with `group_by`");
        }
        (OutputMode::Update, Some(a)) if a.session.is_some() => {
            diags
                .error(span, "Invalid streaming output mode: update. This output mode is not supported for session window streaming aggregations on streaming DataFrames/DataSets.")
                .help("use `output_mode: append` (with a watermark) or `complete`");
        }
        (OutputMode::Append, Some(a)) => {
            let on_time_key = match (watermark, &a.window, &a.session) {
                (Some((wcol, _)), Some(w), _) => &w.column == wcol,
                (Some((wcol, _)), None, Some((s, _))) => s == wcol,
                (Some((wcol, _)), None, None) => a.keys.iter().any(|(n, _, t)| n == wcol && *t == ColTy::Timestamp),
                (None, _, _) => false,
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
        let format = match sink {
            Sink::Json { .. } => "json",
            Sink::Parquet { .. } => "parquet",
            _ => continue,
        };
        if mode != OutputMode::Append {
            let m = if mode == OutputMode::Complete { "Complete" } else { "Update" };
            diags
                .error(*sspan, format!("Data source {format} does not support {m} output mode"))
                .help("file sinks accept `output_mode: append` only (use a watermark and append, or the console sink)");
        }
    }
}

/// `ORDER BY` and `LIMIT`: Spark sorts and limits a streaming query's output only when it is an
/// aggregation in complete mode (and limits in append mode, which streamc does not yet).
fn output_order(
    q: &Query,
    agg: &Option<TAgg>,
    later: bool,
    output: &[Column],
    order: Option<(&[SortKey], SpanId)>,
    limit: Option<(u64, SpanId)>,
    diags: &mut Diagnostics,
) -> OutputOrder {
    let complete_agg = (agg.is_some() || later) && q.mode.0 == OutputMode::Complete;
    let mut out = OutputOrder::default();
    if let Some((keys, span)) = order {
        if !complete_agg {
            diags.error(span, SORT).help("sort an aggregation in `output_mode: complete`");
        }
        for k in keys {
            match output.iter().position(|c| c.name == k.column) {
                Some(i) => out.keys.push((i, k.descending, k.nulls_first)),
                None => unresolved(&k.column, output, k.span.unwrap_or(span), diags),
            }
        }
    }
    if let Some((n, span)) = limit {
        match q.mode.0 {
            OutputMode::Update => {
                diags.error(span, format!("{LIMIT} in Update output mode"));
            }
            OutputMode::Append => {
                diags
                    .error(span, "`LIMIT` in append mode is not supported by streamc yet")
                    .help("limit an aggregation in `output_mode: complete`");
            }
            OutputMode::Complete => out.limit = Some(n),
        }
    }
    out
}

/// The inputs of a query: its `from` source, with the watermark of a leading `with_watermark`
/// when `union` steps follow, and one input per `union`. Returns them and the remaining steps.
fn check_inputs<'q>(
    plan: &TablePlan,
    q: &'q Query,
    source: usize,
    diags: &mut Diagnostics,
) -> (Vec<Input>, &'q [(Step, SpanId)]) {
    let mut inputs = vec![Input { source, watermark: None }];
    let unions = q.steps.iter().any(|(s, _)| matches!(s, Step::Union { .. }));
    let joins: Vec<(&StreamJoin, SpanId)> = q
        .steps
        .iter()
        .filter_map(|(s, span)| match s {
            Step::StreamJoin(j) => Some((&**j, *span)),
            _ => None,
        })
        .collect();
    if !unions && joins.is_empty() {
        return (inputs, &q.steps);
    }
    let first = &plan.sources[source].schema;
    let watermark_index = |schema: &[Column], column: &str, span: SpanId, diags: &mut Diagnostics| -> Option<usize> {
        match schema.iter().position(|c| c.name == column) {
            Some(i) if schema[i].ty == ColTy::Timestamp => Some(i),
            Some(i) => {
                diags.error(
                    span,
                    format!("the watermark column `{column}` must be a timestamp, found {}", schema[i].ty.sql()),
                );
                None
            }
            None => {
                unresolved(column, schema, span, diags);
                None
            }
        }
    };
    let mut i = 0;
    if let Some((Step::WithWatermark { column, delay_ms }, span)) = q.steps.first() {
        inputs[0].watermark = watermark_index(first, column, *span, diags).map(|c| (c, *delay_ms));
        i = 1;
    }
    if !joins.is_empty() {
        if unions || joins.len() > 1 {
            diags
                .error(
                    joins[joins.len() - 1].1,
                    "a query with more than one stream-stream join or union is not supported by streamc yet",
                )
                .help("join two streams per query");
            return (inputs, &q.steps[i..]);
        }
        let (j, span) = joins[0];
        if let Some(s) = super::join::right_source(plan, j, span, diags) {
            let wm = j
                .watermark
                .as_ref()
                .and_then(|(c, d)| watermark_index(&plan.sources[s].schema, c, j.source_span, diags).map(|i| (i, *d)));
            inputs.push(Input { source: s, watermark: wm });
        }
        if let Some((_, span)) = q.steps[i..].iter().find(|(s, _)| matches!(s, Step::WithWatermark { .. })) {
            diags
                .error(*span, "in a query with a stream-stream join, `with_watermark` is the first step (on a column of the source)")
                .help("write the left input's `with_watermark` first and the right input's as the join's `watermark`");
        }
        return (inputs, &q.steps[i..]);
    }
    while let Some((Step::Union { source: name, watermark }, span)) = q.steps.get(i) {
        i += 1;
        let Some(s) = plan.sources.iter().position(|s| &s.name == name) else {
            let names: Vec<&str> = plan.sources.iter().map(|s| s.name.as_str()).collect();
            let d = diags.error(*span, format!("`union` with `{name}`, which is not defined"));
            if let Some(s) = suggest(name, &names) {
                d.help(format!("did you mean `{s}`?"));
            }
            continue;
        };
        let schema = &plan.sources[s].schema;
        if matches!(plan.sources[s].kind, SourceKind::Static { .. }) {
            diags.error(*span, format!("`{name}` is a static table; `union` takes a streaming source"));
            continue;
        }
        if schema.len() != first.len() {
            diags.error(
                *span,
                format!(
                    "Union can only be performed on tables with the same number of columns, but the first table has {} columns and `{name}` has {} columns",
                    first.len(),
                    schema.len()
                ),
            );
            continue;
        }
        if let Some((k, (a, b))) = first.iter().zip(schema).enumerate().find(|(_, (a, b))| a.ty != b.ty) {
            diags.error(
                *span,
                format!(
                    "Union can only be performed on tables with compatible column types: column {} of `{name}` (`{}`) is {}, which is not compatible with {} (`{}`) in the first table",
                    k + 1,
                    b.name,
                    b.ty.sql(),
                    a.ty.sql(),
                    a.name
                ),
            );
            continue;
        }
        let wm = watermark.as_ref().and_then(|(c, d)| watermark_index(schema, c, *span, diags).map(|i| (i, *d)));
        inputs.push(Input { source: s, watermark: wm });
    }
    let positions: Vec<usize> = inputs.iter().filter_map(|i| i.watermark.map(|(c, _)| c)).collect();
    if positions.windows(2).any(|w| w[0] != w[1]) {
        diags
            .error(q.span, "the inputs of a `union` have watermarks on different columns")
            .help("put every input's watermark on the same event-time column (by position)");
    }
    (inputs, &q.steps[i..])
}

/// `session_window(time, gap)`: the column and the gap in ms.
fn session_key(args: &[Expr], cols: &[Column], span: SpanId, diags: &mut Diagnostics) -> Option<(String, u64)> {
    let [Expr::Column(col), Expr::Str(gap)] = args else {
        diags
            .error(span, "`session_window` takes a timestamp column and a gap duration")
            .help("write `session_window(timestamp, '5 minutes')`");
        return None;
    };
    match cols.iter().find(|c| &c.name == col) {
        Some(c) if c.ty == ColTy::Timestamp => {}
        Some(c) => {
            diags.error(
                span,
                format!("`session_window` needs a timestamp column, found `{col}` of type {}", c.ty.sql()),
            );
            return None;
        }
        None => {
            unresolved(col, cols, span, diags);
            return None;
        }
    }
    match crate::duration::parse_ms(gap) {
        Ok(ms) => Some((col.clone(), ms)),
        Err(e) => {
            diags.error(span, e);
            None
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
    let mut start_ms = 0;
    for (i, a) in rest.iter().enumerate() {
        let Expr::Str(s) = a else {
            diags.error(span, format!("`window` durations are strings such as '10 minutes', found `{a}`"));
            return None;
        };
        // The start time is an offset: zero or negative too; the durations are positive.
        let parsed = if i == 2 {
            crate::duration::parse_offset_ms(s).map(|v| start_ms = v)
        } else {
            crate::duration::parse_ms(s).map(|v| ms.push(v))
        };
        if let Err(e) = parsed {
            diags.error(span, e);
            return None;
        }
    }
    let len_ms = ms[0];
    let slide_ms = ms.get(1).copied().unwrap_or(len_ms);
    if slide_ms > len_ms {
        diags.error(span, format!("the slide ({slide_ms} ms) of `window` is longer than its duration ({len_ms} ms)"));
    }
    if start_ms.unsigned_abs() >= slide_ms {
        diags.error(
            span,
            format!("the start time ({start_ms} ms) of `window` must be less than its slide ({slide_ms} ms) in absolute value"),
        );
    }
    Some(WindowKey { column: col.clone(), len_ms, slide_ms, start_ms })
}
