//! The explanation of a Structured Streaming program: for each query, the logical tree from the
//! sink down to its sources (Spark's operator names: `WriteToStream`, `Aggregate`, `Project`,
//! `Generate`, `Filter`, `EventTimeWatermark`, `Deduplicate`, `Join`, `StreamingRelation`), then
//! its physical plan: one fused loop per input batch, and the state it keeps.

use super::tree::Node;
use crate::table::{Checked, ColTy, Column, Format, OutputMode, Sink, SourceKind, TStep, TablePlan, TableSource};
use std::fmt::Write as _;

pub(super) fn explain(plan: &TablePlan, queries: &[Checked]) -> String {
    let mut out = String::new();
    for (k, q) in queries.iter().enumerate() {
        if k > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "== Query `{}` ({} mode) ==", q.name, mode(q.mode));
        out.push_str("== Logical Plan ==\n");
        logical(plan, q).render(&mut out);
        out.push_str("== Physical Plan ==\n");
        physical(plan, q, &mut out);
    }
    out
}

fn mode(m: OutputMode) -> &'static str {
    match m {
        OutputMode::Append => "append",
        OutputMode::Complete => "complete",
        OutputMode::Update => "update",
    }
}

fn columns(cols: &[Column]) -> String {
    cols.iter().map(|c| format!("{}: {}", c.name, c.ty.sql())).collect::<Vec<_>>().join(", ")
}

fn items(items: &[(String, crate::table::expr::Expr, ColTy)]) -> String {
    items
        .iter()
        .map(|(n, e, _)| {
            let e = e.to_string();
            if e == *n { e } else { format!("{e} AS {n}") }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The query's tree, sink first.
fn logical(plan: &TablePlan, q: &Checked) -> Node {
    // Built bottom-up: the sources, each step, the aggregation, then what is above it.
    let inputs: Vec<Node> = q
        .inputs
        .iter()
        .map(|i| {
            let src = &plan.sources[i.source];
            let node = Node::leaf(relation(src));
            match i.watermark {
                Some((c, delay)) => {
                    Node::new(format!("EventTimeWatermark {}, {delay} ms", src.schema[c].name), vec![node])
                }
                None => node,
            }
        })
        .collect();
    let mut inputs = inputs;
    let mut join_right = if q.steps.iter().any(|s| matches!(s, TStep::StreamJoin(_))) { inputs.pop() } else { None };
    let mut node = match <[Node; 1]>::try_from(inputs) {
        Ok([one]) => one,
        Err(inputs) => Node::new("Union", inputs),
    };
    let mut last = q;
    for st in q.stages() {
        node = stage_tree(plan, st, node, &mut join_right);
        last = st;
    }
    let q = last;
    if !q.order.keys.is_empty() {
        let keys: Vec<String> = q
            .order
            .keys
            .iter()
            .map(|&(i, desc, nulls_first)| {
                format!(
                    "{} {} NULLS {}",
                    q.output[i].name,
                    if desc { "DESC" } else { "ASC" },
                    if nulls_first { "FIRST" } else { "LAST" }
                )
            })
            .collect();
        node = Node::new(format!("Sort [{}]", keys.join(", ")), vec![node]);
    }
    if let Some(n) = q.order.limit {
        node = Node::new(format!("Limit {n}"), vec![node]);
    }
    let sinks: Vec<String> = q.sinks.iter().map(sink).collect();
    Node::new(
        format!("WriteToStream [{}], {} mode, output [{}]", sinks.join(", "), mode(q.mode), columns(&q.output)),
        vec![node],
    )
}

/// One stage's steps and aggregation over `node` (the stage before it, or the inputs).
fn stage_tree(plan: &TablePlan, q: &Checked, mut node: Node, join_right: &mut Option<Node>) -> Node {
    for st in &q.steps {
        let label = match st {
            TStep::Project(cols) => format!("Project [{}]", items(cols)),
            TStep::Explode { name, array, others, .. } => {
                let rest = if others.is_empty() { String::new() } else { format!(", [{}]", items(others)) };
                format!("Generate explode({array}) AS {name}{rest}")
            }
            TStep::Filter(e) => format!("Filter {e}"),
            TStep::GroupsWithState(g) => {
                let keys: Vec<&str> = g.keys.iter().map(|(n, _)| n.as_str()).collect();
                let what = if g.flat { "FlatMapGroupsWithState" } else { "MapGroupsWithState" };
                format!(
                    "{what} by [{}], state {}, timeout {:?}, output [{}]",
                    keys.join(", "),
                    g.state,
                    g.timeout,
                    columns(&g.output)
                )
            }
            TStep::Watermark { column } => {
                let delay = q.watermark.as_ref().map_or(0, |(_, d)| *d);
                format!("EventTimeWatermark {column}, {delay} ms")
            }
            TStep::Dedup { cols, late_column, within_ms, .. } => {
                let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
                match late_column {
                    Some(c) if within_ms.is_some() => format!(
                        "DeduplicateWithinWatermark [{}] (a key's state goes when the watermark on {c} reaches its first row's event time + {} ms)",
                        names.join(", "),
                        within_ms.unwrap_or(0)
                    ),
                    Some(c) => format!("Deduplicate [{}] (state evicted by the watermark on {c})", names.join(", ")),
                    None => format!("Deduplicate [{}] (state kept for every distinct row)", names.join(", ")),
                }
            }
            TStep::StreamJoin(j) => {
                let mut right = join_right.take().unwrap_or_else(|| Node::leaf("?".to_owned()));
                for st in &j.right_steps {
                    let label = match st {
                        TStep::Project(cols) => format!("Project [{}]", items(cols)),
                        TStep::Filter(e) => format!("Filter {e}"),
                        _ => continue,
                    };
                    right = Node::new(label, vec![right]);
                }
                node = Node::new(stream_join_label(j), vec![node, right]);
                continue;
            }
            TStep::Join { table, on, right, how } => {
                let how = how.spark();
                let keys: Vec<&str> = on.iter().map(|(n, _)| n.as_str()).collect();
                let t = &plan.sources[*table];
                let right = Node::leaf(format!("{} (static, read once) [+ {}]", relation(t), columns(right)));
                node = Node::new(format!("Join {how}, using [{}]", keys.join(", ")), vec![node, right]);
                continue;
            }
        };
        node = Node::new(label, vec![node]);
    }
    if let Some(a) = &q.agg {
        let mut keys = Vec::new();
        if let Some(w) = &a.window {
            let mut s = format!("window({}, {} ms", w.column, w.len_ms);
            if w.slide_ms != w.len_ms || w.start_ms != 0 {
                let _ = write!(s, ", {} ms", w.slide_ms);
            }
            if w.start_ms != 0 {
                let _ = write!(s, ", {} ms", w.start_ms);
            }
            s.push_str(") AS window");
            keys.push(s);
        }
        if let Some((c, gap)) = &a.session {
            keys.push(format!("session_window({c}, {gap} ms) AS session_window"));
        }
        keys.extend(a.keys.iter().map(|(n, e, _)| {
            let e = e.to_string();
            if e == *n { e } else { format!("{e} AS {n}") }
        }));
        let aggs: Vec<String> = a
            .aggs
            .iter()
            .map(|(n, f, arg, _)| match arg {
                Some(e) => format!("{}({e}) AS {n}", f.name()),
                None => format!("{}(*) AS {n}", f.name()),
            })
            .collect();
        node = Node::new(format!("Aggregate [{}], [{}]", keys.join(", "), aggs.join(", ")), vec![node]);
        if let Some(h) = &q.having {
            node = Node::new(format!("Filter {h}"), vec![node]);
        }
    }
    node
}

fn relation(src: &TableSource) -> String {
    let kind = match &src.kind {
        SourceKind::Socket { host, port, include_timestamp: false } => format!("socket {host}:{port}"),
        SourceKind::Socket { host, port, include_timestamp: true } => {
            format!("socket {host}:{port} [includeTimestamp]")
        }
        SourceKind::Files { format, path, max_files } => {
            let mut s = format!("{} files {path}", format_name(*format));
            if let Some(n) = max_files {
                let _ = write!(s, " (max {n} files per trigger)");
            }
            s
        }
        SourceKind::Static { format, path } => format!("{} {path}", format_name(*format)),
        SourceKind::Rate { rows_per_second } => format!("rate {rows_per_second} rows/s"),
        SourceKind::Kafka { options, json_value } => {
            let opts: Vec<String> = options.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let value = if *json_value { ", value as JSON" } else { "" };
            format!("kafka [{}]{value}", opts.join(", "))
        }
    };
    format!("StreamingRelation `{}` {kind} [{}]", src.name, columns(&src.schema))
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Json => "json",
        Format::Csv => "csv",
        Format::Text => "text",
    }
}

fn sink(s: &Sink) -> String {
    match s {
        Sink::Console { num_rows, truncate } => format!("console (numRows {num_rows}, truncate {truncate})"),
        Sink::Json { path } => format!("json {path}"),
        Sink::Parquet { path } => format!("parquet {path}"),
        Sink::Memory => "memory".to_owned(),
        Sink::Kafka { options, exactly_once } => {
            let topic = options.iter().find(|(k, _)| k == "topic").map_or("per row", |(_, v)| v.as_str());
            format!("kafka topic {topic}{}", if *exactly_once { ", exactly once" } else { ", at least once" })
        }
        Sink::ForeachBatch { .. } => "foreach_batch <closure>".to_owned(),
    }
}

/// The fused loop of each input, and the state the query keeps.
fn physical(plan: &TablePlan, q: &Checked, out: &mut String) {
    for (k, i) in q.inputs.iter().enumerate() {
        let src = &plan.sources[i.source];
        let mut chain = vec![format!("parse {} of `{}`", format_name_of(src), src.name)];
        for st in &q.steps {
            if let (1, TStep::StreamJoin(j)) = (k, st) {
                // The right input: its own steps, then the join; the steps before the join are
                // the left input's.
                chain.truncate(1);
                chain.extend(
                    j.right_steps
                        .iter()
                        .map(|s| if matches!(s, TStep::Filter(_)) { "filter" } else { "project" }.to_owned()),
                );
            }
            chain.push(
                match st {
                    TStep::Project(_) => "project",
                    TStep::Explode { .. } => "explode",
                    TStep::Filter(_) => "filter",
                    TStep::Watermark { .. } => "observe watermark",
                    TStep::Dedup { .. } => "deduplicate",
                    TStep::Join { .. } => "probe static table",
                    TStep::GroupsWithState(_) => continue,
                    TStep::StreamJoin(_) if k == 0 => "probe right join state, buffer the row",
                    TStep::StreamJoin(_) => "probe left join state, buffer the row",
                }
                .to_owned(),
            );
        }
        chain.push(
            if q.agg.is_some() {
                "update aggregation state"
            } else if q.steps.iter().any(|s| matches!(s, TStep::GroupsWithState(_))) {
                "add to the key's rows (then the function per key)"
            } else {
                "append row"
            }
            .to_owned(),
        );
        let _ = writeln!(out, "*({}) {}", k + 1, chain.join(" -> "));
    }
    let mut state = Vec::new();
    let mut last = q;
    for st in q.stages() {
        if let Some(feed) = &st.feed {
            let mut chain = vec![format!("the rows stage {} emitted", st.stage)];
            chain.extend(st.steps.iter().map(|s| step_name(s).to_owned()));
            chain.push(if st.agg.is_some() { "update aggregation state" } else { "append row" }.to_owned());
            let wm = match (feed, q.watermark.is_some()) {
                (_, false) => String::new(),
                (crate::table::Feed::Same, true) => ", under the watermark".to_owned(),
                (crate::table::Feed::Join { .. }, true) => {
                    ", under the join's output watermark (the least of the watermark and its state watermarks)"
                        .to_owned()
                }
            };
            let _ =
                writeln!(out, "*({}) stage {}{wm}: {}", q.inputs.len() + st.stage, st.stage + 1, chain.join(" -> "));
        }
        state.extend(stage_state(st));
        last = st;
    }
    if q.watermark.is_some() {
        state.push("the watermark".to_owned());
    }
    if state.is_empty() {
        out.push_str("State across batches: none\n");
    } else {
        let _ = writeln!(out, "State across batches (checkpointed): {}", state.join("; "));
    }
    let q = last;
    let groups = q.steps.iter().any(|s| matches!(s, TStep::GroupsWithState(_)));
    // A last stage that only projects emits what the aggregation before it emits.
    let aggregated = q.agg.is_some() || q.stage > 0 && q.mode != OutputMode::Append;
    let emitted = match (aggregated, q.mode) {
        (false, _) if groups => "what the function returns for each key with rows or timed out",
        (false, _) => "each input row that passes, once",
        (true, OutputMode::Complete) => "the whole result table, every batch",
        (true, OutputMode::Update) => "the rows the batch changed",
        (true, OutputMode::Append) => "each group once, when the watermark closes it",
    };
    let _ = writeln!(out, "Output per batch: {emitted}");
}

/// A later stage's step in the physical plan.
fn step_name(s: &TStep) -> &'static str {
    match s {
        TStep::Filter(_) => "filter",
        TStep::Dedup { .. } => "deduplicate",
        TStep::Explode { .. } => "explode",
        _ => "project",
    }
}

/// The state one stage keeps across batches.
fn stage_state(q: &Checked) -> Vec<String> {
    let stateful_dedup = q.steps.iter().any(|s| matches!(s, TStep::Dedup { .. }));
    let mut state = Vec::new();
    if stateful_dedup {
        state.push("deduplication keys".to_owned());
    }
    if let Some(a) = &q.agg {
        let what = if a.window.is_some() {
            "aggregation buffers per (window, key)"
        } else if a.session.is_some() {
            "sessions per key"
        } else {
            "aggregation buffers per key"
        };
        let evict = match (&q.watermark, q.mode) {
            (Some((c, d)), OutputMode::Append | OutputMode::Update) if a.window.is_some() || a.session.is_some() => {
                format!(", evicted when the watermark on {c} (delay {d} ms) passes their end")
            }
            _ => ", kept for the query's life".to_owned(),
        };
        state.push(format!("{what}{evict}"));
    }
    if let Some(j) = q.steps.iter().find_map(|s| if let TStep::StreamJoin(j) = s { Some(j) } else { None }) {
        let side = |e: &Option<crate::table::Evict>| match e {
            Some(crate::table::Evict::Key(k)) => {
                format!("evicted when join key {} is at or below the watermark", k + 1)
            }
            Some(crate::table::Evict::Value { column, .. }) => format!("evicted by the state watermark on {column}"),
            None => "kept for the query's life".to_owned(),
        };
        state.push(format!(
            "join buffers of the left rows ({}) and the right rows ({})",
            side(&j.left_evict),
            side(&j.right_evict)
        ));
    }
    if let Some(g) = q.steps.iter().find_map(|s| if let TStep::GroupsWithState(g) = s { Some(g) } else { None }) {
        let timeout = match g.timeout {
            crate::table::GroupTimeout::None => "kept until the function removes it",
            crate::table::GroupTimeout::ProcessingTime => "timed out by processing time",
            crate::table::GroupTimeout::EventTime => "timed out by the watermark",
        };
        state.push(format!("a {} per key ({timeout})", g.state));
    }
    state
}

/// Spark's `StreamingSymmetricHashJoin` line: type, keys, the rest of the condition and how each
/// side's state is cleaned up.
fn stream_join_label(j: &crate::table::TStreamJoin) -> String {
    let keys: Vec<String> = j.keys.iter().map(|(l, r, _)| format!("{l} = {r}")).collect();
    let rest: Vec<String> =
        [&j.left_only, &j.right_only, &j.both].iter().filter_map(|c| c.as_ref().map(ToString::to_string)).collect();
    let cleanup = |e: &Option<crate::table::Evict>| match e {
        Some(crate::table::Evict::Key(k)) => format!("key {}", k + 1),
        Some(crate::table::Evict::Value { column, bounds }) => {
            let b: Vec<String> = bounds
                .iter()
                .map(|(sign, off, minus)| {
                    let wm = match sign {
                        1 => "watermark",
                        -1 => "-watermark",
                        _ => "0",
                    };
                    format!("{column} <= ({wm} + {off} us) / 1000 - {minus} ms")
                })
                .collect();
            b.join(" or ")
        }
        None => "none".to_owned(),
    };
    let cond = if rest.is_empty() { String::new() } else { format!(", condition [{}]", rest.join(" AND ")) };
    format!(
        "StreamingSymmetricHashJoin {}, keys [{}]{cond}, state cleanup [left: {}, right: {}]",
        j.how.spark(),
        keys.join(", "),
        cleanup(&j.left_evict),
        cleanup(&j.right_evict)
    )
}

fn format_name_of(src: &TableSource) -> &'static str {
    match &src.kind {
        SourceKind::Socket { include_timestamp: true, .. } => "lines with their times",
        SourceKind::Socket { .. } => "lines",
        SourceKind::Files { format, .. } | SourceKind::Static { format, .. } => format_name(*format),
        SourceKind::Rate { .. } => "rate rows",
        SourceKind::Kafka { json_value: true, .. } => "kafka record values (json)",
        SourceKind::Kafka { .. } => "kafka records",
    }
}
