//! Code generation for Structured Streaming queries: per query, one loop over its source's
//! batch that parses each record into typed column variables (`Option<T>`: SQL nulls), runs
//! the steps inline (projections, filters, `explode` as a nested loop, watermark observation)
//! and ends in the aggregation's state or the output rows; then the output mode decides what
//! the sinks get. Every call goes to `streamc_runtime`'s public API.

use super::emit::{rt, source_limits};
use crate::table::{Checked, ColTy, Malformed, OutputMode, Sink, SourceKind, TStep, TablePlan, Trigger};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use std::collections::HashSet;

mod cast;
mod dedup;
mod describe;
mod expr;
mod groups;
mod join;
mod nested;
mod nested_key;
mod placement;
mod record;
mod row;
mod scope;
mod stages;
mod steps;
mod terminal;
mod tuple;
mod workers;

pub use row::field_names;

use cast::fallible_casts;
use describe::table_state_descriptions;
use placement::{emits_in_parts, hands_off, join_in_parts, parallel_query, partitioned, split_sessions};
use record::{line_state, parse_record, static_tables};
use row::{build_row, row_scope, row_struct};
use scope::{ident, idents, unkeyed};
use steps::{node_rows, scope_after, steps};
use terminal::{merge_fn, terminal};
use tuple::{nest, path};

/// The expression that builds a Structured Streaming app.
pub fn app_expr(table: &TablePlan, queries: &[Checked]) -> TokenStream {
    crate::table::functions::reset_structs();
    let rt = rt();
    let b = Ident::new("builder", Span::mixed_site());
    let input = Ident::new("input", Span::mixed_site());
    let output = Ident::new("output", Span::mixed_site());
    let app_name = &table.app.name;
    let interval = table.app.interval_ms();
    let mut setup = TokenStream::new();
    let trigger = match table.trigger {
        Trigger::ProcessingTime => quote!(ProcessingTime),
        Trigger::Once => quote!(Once),
        Trigger::AvailableNow => quote!(AvailableNow),
    };
    setup.extend(quote!(#b.trigger(#rt::Trigger::#trigger);));
    setup.extend(source_limits(&table.app, &b));
    if let Some((dir, _)) = &table.app.checkpoint_dir {
        setup.extend(quote!(#b.checkpoint(#dir, #interval);));
    }
    for s in &table.sources {
        let src = ident("src", &s.name);
        let name = &s.name;
        setup.extend(match &s.kind {
            SourceKind::Socket { host, port, include_timestamp: false } => {
                quote!(let #src = #b.socket_text_stream(#name, #host, #port);)
            }
            SourceKind::Socket { host, port, include_timestamp: true } => {
                quote!(let #src = #b.socket_stream_with_timestamps(#name, #host, #port);)
            }
            SourceKind::Files { path, max_files, .. } => {
                let max = match max_files {
                    Some(n) => {
                        let n = *n as usize;
                        quote!(::core::option::Option::Some(#n))
                    }
                    None => quote!(::core::option::Option::None),
                };
                quote!(let #src = #b.file_stream(#name, #path, #max);)
            }
            SourceKind::Static { .. } => quote!(),
            SourceKind::Rate { rows_per_second } => quote!(let #src = #b.rate_stream(#name, #rows_per_second);),
            SourceKind::Kafka { options, json_value } => {
                let (k, v): (Vec<&str>, Vec<&str>) = options.iter().map(|(k, v)| (k.as_str(), v.as_str())).unzip();
                quote!(let #src = #b.kafka_stream(#name, &[#((#k, #v)),*], #json_value);)
            }
        });
    }
    // A file or Kafka source whose every query runs over a cluster process's share of the batch
    // (a split aggregation, session windows, a partitioned deduplication) is read in shares: each process reads only its byte ranges of the batch's files, or its
    // block of the batch's partitions.
    for (k, s) in table.sources.iter().enumerate() {
        let mut readers = queries.iter().filter(|q| q.inputs.iter().any(|i| i.source == k)).peekable();
        if matches!(s.kind, SourceKind::Files { .. } | SourceKind::Kafka { .. })
            && readers.peek().is_some()
            && readers
                .all(|q| parallel_query(table, q) || split_sessions(table, q) || dedup::partitioned(table, q).is_some())
        {
            let src = ident("src", &s.name);
            setup.extend(quote!(#b.read_in_shares(#src);));
        }
    }
    let mut persistent = Vec::new();
    let mut body = TokenStream::new();
    let nodes = crate::explain::table_nodes(table, queries);
    for (q, nodes) in queries.iter().zip(&nodes) {
        for st in q.stages() {
            stage_setup(table, st, &b, &mut setup, &mut persistent);
        }
        body.extend(query_body(table, q, nodes, &input, &output, None));
    }
    for (name, description) in table_state_descriptions(table, queries) {
        setup.extend(quote!(#b.describe_state(#name, #description);));
    }
    // A state partitioned over a cluster's processes is restored and saved in shards.
    let mut split: HashSet<String> = queries
        .iter()
        .flat_map(|q| q.stages())
        .flat_map(|st| {
            let agg = partitioned(table, st).then(|| format!("{}/state", st.key()));
            agg.into_iter().chain(dedup::partitioned(table, st).map(|i| format!("{}/dedup{i}", st.key())))
        })
        .collect();
    for q in queries.iter().filter(|q| join_in_parts(q)) {
        split.insert(format!("{}/join_left", q.key()));
        split.insert(format!("{}/join_right", q.key()));
    }
    let restores = persistent.iter().map(|(n, p)| match split.contains(n) {
        true => quote!(#input.restore_partitioned(#n, &mut #p)?;),
        false => quote!(#input.restore(#n, &mut #p)?;),
    });
    let saves = persistent.iter().map(|(n, p)| match split.contains(n) {
        true => quote!(#input.save_partitioned(#output, #n, &#p);),
        false => quote!(#output.save_state(#n, &#p);),
    });
    let plan_dot = crate::explain::dot_table(table, queries);
    let plan_text = crate::explain::explain_table(table, queries);
    let structs = crate::table::functions::struct_defs();
    quote! {
        {
            #structs
            let mut #b = #rt::AppBuilder::new(#app_name, ::core::time::Duration::from_millis(#interval));
            #b.plan(#plan_text, #plan_dot);
            #setup
            #b.build(move |#input: &#rt::BatchInput, #output: &mut #rt::BatchOutput| -> ::core::result::Result<(), #rt::Error> {
                #[allow(unused_mut, unused_variables, unused_assignments, clippy::all)]
                let result = {
                    #(#restores)*
                    #body
                    if #input.is_checkpoint_batch() {
                        #(#saves)*
                    }
                    ::core::result::Result::Ok(())
                };
                result
            })
        }
    }
}

/// The declarations of one stage of a query before its batches run: sinks, states, static
/// tables, the watermark (stage 0: later stages follow it); the states are `persistent`.
fn stage_setup(
    table: &TablePlan,
    q: &Checked,
    b: &Ident,
    setup: &mut TokenStream,
    persistent: &mut Vec<(String, Ident)>,
) {
    let rt = rt();
    let cols: Vec<&str> = q.output.iter().map(|c| c.name.as_str()).collect();
    for (k, sink) in q.sinks.iter().enumerate() {
        let out = ident(&format!("out{k}"), &q.key());
        let name = &q.name;
        setup.extend(match sink {
            Sink::Console { num_rows, truncate } => {
                quote!(let #out = #b.console(#name, &[#(#cols),*], #num_rows, #truncate);)
            }
            Sink::Json { path } => quote!(let #out = #b.json_files(#name, &[#(#cols),*], #path);),
            Sink::Parquet { path } => {
                let types: Vec<&str> = q.output.iter().map(|c| c.ty.sql()).collect();
                quote!(let #out = #b.parquet_files(#name, &[#(#cols),*], &[#(#types),*], #path);)
            }
            Sink::Memory => {
                let complete = q.mode == OutputMode::Complete;
                quote!(let #out = #b.memory(#name, &[#(#cols),*], #complete);)
            }
            Sink::Kafka { options, exactly_once } => {
                let (k, v): (Vec<&str>, Vec<&str>) = options.iter().map(|(k, v)| (k.as_str(), v.as_str())).unzip();
                quote!(let #out = #b.kafka_sink(#name, &[#(#cols),*], &[#((#k, #v)),*], #exactly_once);)
            }
            Sink::ForeachBatch { .. } => continue,
        });
    }
    let agg = ident("agg", &q.key());
    let wm = ident("watermark", &q.key());
    if let Some(a) = &q.agg {
        let ty = if a.session.is_some() { quote!(session::SessionAgg) } else { quote!(agg::StreamingAgg) };
        setup.extend(quote!(let mut #agg = #rt::structured::#ty::new();));
        persistent.push((format!("{}/state", q.key()), agg.clone()));
    }
    for (i, st) in q.steps.iter().enumerate() {
        if let TStep::Dedup { within_ms, .. } = st {
            let dd = ident(&format!("dedup{i}"), &q.key());
            let value = if within_ms.is_some() { quote!(#rt::structured::time::Timestamp) } else { quote!(()) };
            setup.extend(quote!(let mut #dd = #rt::structured::agg::StreamingAgg::<_, #value>::new();));
            persistent.push((format!("{}/dedup{i}", q.key()), dd));
        }
    }
    setup.extend(static_tables(table, q));
    if let Some(g) = groups::find(q) {
        let (decl, st) = groups::setup(q, g);
        setup.extend(decl);
        persistent.push((format!("{}/group_state", q.key()), st));
    }
    if let Some((_, j)) = join::find(q) {
        let (l, r) = join::states(&q.key());
        let (lt, rt_) = join::state_types(j);
        setup.extend(quote! {
            let mut #l: #lt = #rt::structured::join::JoinState::new();
            let mut #r: #rt_ = #rt::structured::join::JoinState::new();
        });
        persistent.push((format!("{}/join_left", q.key()), l));
        persistent.push((format!("{}/join_right", q.key()), r));
    }
    if let Some((_, delay_ms)) = &q.watermark {
        if input_watermarks(q) {
            let delays = q.inputs.iter().filter_map(|i| i.watermark).map(|(_, d)| (d as i64) * 1000);
            let max = table.app.max_watermark_policy;
            setup.extend(quote!(let mut #wm = #rt::structured::watermark::Watermark::with_inputs(&[#(#delays),*]).with_max_policy(#max);));
        } else {
            let delay_us = (*delay_ms as i64) * 1000;
            setup.extend(quote!(let mut #wm = #rt::structured::watermark::Watermark::new(#delay_us);));
        }
        persistent.push((format!("{}/watermark", q.key()), wm.clone()));
    }
}

/// Whether the query's inputs carry their own watermarks (a `union` with `with_watermark`s).
fn input_watermarks(q: &Checked) -> bool {
    q.inputs.iter().any(|i| i.watermark.is_some())
}

fn query_body(
    table: &TablePlan,
    q: &Checked,
    nodes: &crate::explain::QueryNodes,
    input: &Ident,
    output: &Ident,
    upstream: Option<&stages::Upstream<'_>>,
) -> TokenStream {
    let rt = rt();
    let name = &q.name;
    let outs: Vec<Ident> = q
        .sinks
        .iter()
        .enumerate()
        .filter(|(_, s)| !matches!(s, Sink::ForeachBatch { .. }))
        .map(|(k, _)| ident(&format!("out{k}"), &q.key()))
        .collect();
    let has_wm = upstream.map_or(q.watermark.is_some(), |u| u.watermarked);
    let text = ident("text", &q.key());
    let line = Ident::new("line", Span::mixed_site());
    let agg = ident("agg", &q.key());
    let wm = ident("watermark", &q.key());
    let rows = ident("rows", &q.key());
    let dropped = ident("dropped", &q.key());
    let malformed = ident("malformed", &q.key());
    let (row, row_def) = row_struct(q);
    let terminal = match groups::find(q) {
        Some(g) => groups::terminal(q, g, &scope_after(q), &wm, &dropped),
        None => terminal(q, &scope_after(q), &agg, &wm, &rows, &row),
    };
    let mut loops = TokenStream::new();
    let mut slot = 0usize;
    let join = join::find(q);
    if let Some((_, j)) = join {
        loops.extend(join::prelude(j, q.watermark.as_ref().map(|_| &wm)));
    }
    if let Some(up) = upstream {
        loops.extend(stages::view(q, up));
        loops.extend(stages::rows_loop(up, |scope| steps(q, 0, scope, terminal.clone(), &wm, &nodes.steps)));
    }
    for (k, (inp, &read_node)) in q.inputs.iter().zip(&nodes.inputs).enumerate() {
        let source = &table.sources[inp.source];
        let src = ident("src", &source.name);
        let right = join.filter(|_| k == 1);
        let schema = right.map_or(&q.input, |(_, j)| &j.right_input);
        let (_, scope) = parse_record(source, schema, None, source.malformed, &text, &line, &malformed);
        let observe = match inp.watermark {
            Some((c, _)) => {
                let (v, _) = &scope[&schema[c].name];
                let n = slot;
                slot += 1;
                quote!(if let ::core::option::Option::Some(ts) = #v { #wm.observe_input(#n, ts); })
            }
            None => quote!(),
        };
        // An input that observes its own watermark (a union's, a join's) runs the leading
        // filters that do not read its event time first: Spark pushes them below the watermark.
        let wm_col = inp.watermark.map(|(c, _)| schema[c].name.as_str());
        let lead_steps: &[TStep] = right.map_or(&q.steps, |(_, j)| &j.right_steps);
        let lead = match wm_col {
            Some(c) => lead_steps.iter().take_while(|s| matches!(s, TStep::Filter(e) if !e.reads(c))).count(),
            None => 0,
        };
        let mut pre_filters = TokenStream::new();
        for (n, st) in lead_steps[..lead].iter().enumerate() {
            if let (None, Some(&prev)) = (right, n.checked_sub(1).and_then(|p| nodes.steps.get(p))) {
                let counter = node_rows(prev);
                pre_filters.extend(quote!(if #rt::ROW_COUNTS { #counter += 1; }));
            }
            if let TStep::Filter(e) = st {
                let cond = expr::expr(e, &scope);
                pre_filters.extend(quote!(if #cond != ::core::option::Option::Some(true) { continue; }));
            }
        }
        let pipeline = match right {
            Some((i, j)) => {
                let rest = |s| steps(q, i + 1, s, terminal.clone(), &wm, &nodes.steps);
                join::right_side(q, j, lead, scope.clone(), &rest, &wm)
            }
            None => steps(q, lead, scope.clone(), terminal.clone(), &wm, &nodes.steps),
        };
        // Parse only the columns the rest of the loop names.
        let mut named = HashSet::new();
        idents(&quote!(#pre_filters #observe #pipeline), &mut named);
        let used: HashSet<String> =
            scope.iter().filter(|(_, (v, _))| named.contains(&v.to_string())).map(|(n, _)| n.clone()).collect();
        let (parse, _) = parse_record(source, schema, Some(&used), source.malformed, &text, &line, &malformed);
        let read = node_rows(read_node);
        let null_keys = match join {
            Some((_, j)) => join::pre_watermark_filter(q, j, k == 0, &scope),
            None => quote!(),
        };
        // The loop's body for a line, ending in `pipeline` (the steps and their terminal).
        let line_body = |pipeline: &TokenStream| {
            quote! {
                #parse
                if #rt::ROW_COUNTS { #read += 1; }
                #null_keys
                #pre_filters
                #observe
                #pipeline
            }
        };
        let body = line_body(&pipeline);
        let state = line_state();
        let sequential = quote!(#state for #line in #text.lines() { #body });
        // The columns the aggregation reads, which workers hand off to the batch thread as
        // rows (`placement.rs`'s `hands_off`), when the query qualifies and its partial states
        // cannot be merged exactly (measured on the structured bench, partials are as fast or
        // faster where both apply: BENCHMARKS.md).
        let hand_off =
            q.agg.as_ref().filter(|_| groups::find(q).is_none() && !parallel_query(table, q)).and_then(|_| {
                let mut named = HashSet::new();
                idents(&terminal, &mut named);
                let mut handed: Vec<(Ident, ColTy)> =
                    scope_after(q).into_values().filter(|(v, _)| named.contains(&v.to_string())).collect();
                handed.sort_by_key(|(v, _)| v.to_string());
                let tys: Vec<ColTy> = handed.iter().map(|(_, t)| *t).collect();
                hands_off(table, q, &tys).then(|| handed.into_iter().map(|(v, _)| v).collect::<Vec<Ident>>())
            });
        let run = match (&q.agg, parallel_query(table, q) || split_sessions(table, q)) {
            (None, _) if dedup::partitioned(table, q).is_some() => {
                let at = dedup::partitioned(table, q).unwrap_or_default();
                let phases = dedup::phases(q, at, lead, scope.clone(), &wm, &nodes.steps);
                let route = &phases.route;
                let mut named = HashSet::new();
                idents(&quote!(#pre_filters #observe #route), &mut named);
                let used: HashSet<String> =
                    scope.iter().filter(|(_, (v, _))| named.contains(&v.to_string())).map(|(n, _)| n.clone()).collect();
                let (parse, _) = parse_record(source, schema, Some(&used), source.malformed, &text, &line, &malformed);
                let (values, row_values) = dedup::row_values(q);
                dedup::on_processes(dedup::Loop {
                    input,
                    text: &text,
                    line: &line,
                    route_body: quote!(#parse if #rt::ROW_COUNTS { #read += 1; } #pre_filters #observe #route),
                    phases,
                    sequential,
                    wm: q.watermark.as_ref().map(|_| &wm),
                    malformed: &malformed,
                    rows: &rows,
                    build: build_row(q, &row, &values),
                    row_values,
                    counters: nodes.inputs.iter().chain(&nodes.steps).map(|&n| node_rows(n)).collect(),
                    after: dedup::counted_after(at, &nodes.steps),
                })
            }
            (Some(a), parallel) if parallel || hand_off.is_some() => {
                let late_set = Ident::new("late_groups", Span::mixed_site());
                let counters: Vec<Ident> = nodes.inputs.iter().chain(&nodes.steps).map(|&n| node_rows(n)).collect();
                let part = workers::PartState {
                    agg: &agg,
                    merge: merge_fn(a),
                    wm: q.watermark.as_ref().map(|_| &wm),
                    late: terminal::counts_late_groups(q).then_some(&late_set),
                    dropped: &dropped,
                    malformed: &malformed,
                    counters: &counters,
                    partitioned: partitioned(table, q),
                    sessions: a.session.is_some(),
                };
                // A cluster builds partials of the queries that can merge them; the others run
                // in one piece there.
                let clustered = if parallel {
                    workers::on_workers(input, &text, &line, &body, sequential, &part)
                } else {
                    sequential
                };
                match &hand_off {
                    Some(handed) => {
                        let rows = workers::handed_rows();
                        let push = quote!(#rows.push((#(#handed,)*)););
                        let produce = line_body(&steps(q, lead, scope.clone(), push, &wm, &nodes.steps));
                        let h = workers::HandOff { produce, apply: terminal.clone(), handed, clustered };
                        workers::hand_off(input, &text, &line, &body, &h, &part)
                    }
                    None => clustered,
                }
            }
            _ => sequential,
        };
        loops.extend(quote! {
            {
                let #text = #input.text(#src);
                #run
            }
        });
    }
    let mut after = TokenStream::new();
    if let Some(g) = groups::find(q) {
        let at = q.steps.iter().position(|s| matches!(s, TStep::GroupsWithState(_))).unwrap_or(0);
        let node = crate::explain::node_id(nodes.steps[at]);
        after.extend(groups::finish(q, g, input, &wm, output, &node));
    }
    if let Some((i, j)) = join {
        let rest = |s| steps(q, i + 1, s, terminal.clone(), &wm, &nodes.steps);
        after.extend(join::finish(q, j, &rest, &crate::explain::node_id(nodes.steps[i]), output));
    }
    let mode = match q.mode {
        OutputMode::Append => quote!(Append),
        OutputMode::Complete => quote!(Complete),
        OutputMode::Update => quote!(Update),
    };
    // Stateful steps before the aggregation (deduplication) report first.
    for (i, st) in q.steps.iter().enumerate() {
        if let TStep::Dedup { event_time, cols, within_ms, .. } = st {
            let dd = ident(&format!("dedup{i}"), &q.key());
            let dd_dropped = ident(&format!("dedup_dropped{i}"), &q.key());
            let node = crate::explain::node_id(nodes.steps[i]);
            let gone = match (event_time, &q.watermark) {
                // Within the watermark: a key goes when the watermark passes its expiry.
                (_, Some(_)) if within_ms.is_some() => quote!(|_, expiry| *expiry <= #wm.current()),
                (Some(e), Some(_)) => {
                    let e = path(*e, cols.len());
                    quote!(|k, _| k.#e.is_some_and(|t| t <= #wm.current()))
                }
                _ => quote!(|_, _| false),
            };
            // A deduplication partitioned by key reports the state figures of every process.
            let report = match dedup::partitioned(table, q) {
                Some(_) => quote! {
                    let figures = #rt::app::state_report(#node, "dedupe", &#dd, updated as u64, #dd_dropped);
                    #output.report_state_figures(#input.add_up_report(figures)?);
                },
                None => quote!(#output.report_operator_state(#node, "dedupe", &#dd, updated as u64, #dd_dropped);),
            };
            after.extend(quote! {
                let updated = #dd.updated_count();
                #dd.end_batch_evicting(#gone);
                #report
            });
        }
    }
    let row_count = Ident::new("updated", Span::mixed_site());
    let late_set = Ident::new("late_groups", Span::mixed_site());
    let watermarked = q.watermark.is_some() && q.mode != OutputMode::Complete;
    let counts_late = terminal::counts_late_groups(q);
    let late_count = if counts_late { quote!(let #dropped = #dropped + #late_set.len() as u64;) } else { quote!() };
    if let Some(a) = &q.agg {
        let agg_node = crate::explain::node_id(nodes.agg.unwrap_or(nodes.sink));
        // State is evicted by the watermark only when an event time is part of the key (a
        // window, or the watermark column itself); otherwise it stays (Spark).
        let evicts = a.window.is_some()
            || a.session.is_some()
            || q.watermark.as_ref().is_some_and(|(c, _)| a.keys.iter().any(|(n, _, _)| n == c));
        let wm_arg = if watermarked && evicts {
            quote!(::core::option::Option::Some(#wm.current()))
        } else {
            quote!(::core::option::Option::None)
        };
        // Output row: window bounds, keys, then each aggregate's result.
        let mut parts = Vec::new();
        let windowed = a.window.is_some() || a.session.is_some();
        let k = if windowed { 2 } else { 0 };
        let width = k + a.keys.len();
        for i in 0..width {
            let at = path(i, width);
            let part = quote!(key.#at);
            parts.push(if i < k { part } else { unkeyed(part, a.keys[i - k].2) });
        }
        // Session rows are ((start, end, keys), accumulators).
        let mut session_parts = vec![quote!(key.0), quote!(key.1)];
        for i in 0..a.keys.len() {
            let at = path(i, a.keys.len());
            session_parts.push(unkeyed(quote!(key.2.#at), a.keys[i].2));
        }
        let mut acc_parts = Vec::new();
        for (i, (_, f, _, _)) in a.aggs.iter().enumerate() {
            acc_parts.push((f.def().finish)(&path(i, a.aggs.len())));
        }
        if a.session.is_some() {
            // Spark drops late session input in every output mode (complete too).
            let late = if q.watermark.is_some() {
                quote!(::core::option::Option::Some(#wm.for_late_events()))
            } else {
                quote!(::core::option::Option::None)
            };
            let merge = merge_fn(a);
            let session_row = build_row(q, &row, &[session_parts, acc_parts].concat());
            let op = "sessionWindowStateStoreSaveExec";
            // Each process of a cluster emits the sessions of the keys it owns; every process
            // gets all of them.
            let (gather, report) = match partitioned(table, q) {
                // Or each puts its rows out itself (`emit_partitioned`, below).
                true if emits_in_parts(table, q) => (
                    quote! {
                        let figures = #rt::app::state_report(#agg_node, #op, &#agg, #agg.updated_count() as u64, session_dropped);
                    },
                    quote!(let agg_rows = #rows.len();),
                ),
                true => (
                    quote! {
                        let figures = #rt::app::state_report(#agg_node, #op, &#agg, #agg.updated_count() as u64, session_dropped);
                        let (session_rows, figures) = #input.gather_partitioned(session_rows, figures)?;
                    },
                    quote!(#output.report_state_figures(figures);),
                ),
                false => (
                    quote!(),
                    quote!(#output.report_operator_state(#agg_node, #op, &#agg, #agg.updated_count() as u64, session_dropped);),
                ),
            };
            after.extend(quote! {
                let (session_rows, session_dropped) = #agg.finish_batch(#rt::structured::OutputMode::#mode, #late, #wm_arg, #merge);
                #gather
                let #rows: ::std::vec::Vec<_> = session_rows
                    .into_iter()
                    .map(|(key, acc)| #session_row)
                    .collect();
                #report
            });
            if !emits_in_parts(table, q) {
                after.extend(quote!(#output.report_rows(#agg_node, #rows.len());));
            }
        } else {
            let event_end = match &a.window {
                Some(_) => {
                    let end = path(1, width);
                    quote!(|k| k.#end)
                }
                None => match q.watermark.as_ref().and_then(|(c, _)| a.keys.iter().position(|(n, _, _)| n == c)) {
                    Some(i) => {
                        // A NULL event time is never at or below the watermark (SQL: the
                        // comparison is NULL), so its group is never emitted in append mode
                        // nor evicted (Spark).
                        let i = path(i, width);
                        quote!(|k| k.#i.unwrap_or(#rt::structured::time::Timestamp(i64::MAX)))
                    }
                    None => quote!(|_k| #rt::structured::time::Timestamp(i64::MIN)),
                },
            };
            let agg_row = build_row(q, &row, &[parts, acc_parts].concat());
            // An aggregation without grouping keys has exactly one row, from the first batch
            // on, emitted in every batch that runs in update mode too (Spark).
            if a.keys.is_empty() && a.window.is_none() {
                let acc_ty = nest(a.aggs.iter().map(|(_, f, _, ty)| (f.def().acc_ty)(*ty)).collect());
                let init = nest(a.aggs.iter().map(|(_, f, _, ty)| (f.def().init)(*ty)).collect());
                after.extend(quote!(#agg.update((), |_: &mut #acc_ty| {}, || #init);));
            }
            if emits_in_parts(table, q) {
                // Each process emits the keys it owns and puts its rows out itself
                // (`emit_partitioned`, after the `having` filter below).
                after.extend(quote! {
                    let #row_count = #agg.updated_count();
                    #late_count
                    let emitted = #agg.finish_batch(#rt::structured::OutputMode::#mode, #wm_arg, #event_end);
                    let figures = #rt::app::state_report(#agg_node, "stateStoreSave", &#agg, #row_count as u64, #dropped);
                    let #rows: ::std::vec::Vec<_> = emitted.into_iter().map(|(key, acc)| #agg_row).collect();
                    let agg_rows = #rows.len();
                });
            } else if partitioned(table, q) {
                // Each process emits the keys it owns; every process gets all of the rows.
                after.extend(quote! {
                    let #row_count = #agg.updated_count();
                    #late_count
                    let emitted = #agg.finish_batch(#rt::structured::OutputMode::#mode, #wm_arg, #event_end);
                    let figures = #rt::app::state_report(#agg_node, "stateStoreSave", &#agg, #row_count as u64, #dropped);
                    let (emitted, figures) = #input.gather_partitioned(emitted, figures)?;
                    let #rows: ::std::vec::Vec<_> = emitted.into_iter().map(|(key, acc)| #agg_row).collect();
                    #output.report_state_figures(figures);
                    #output.report_rows(#agg_node, #rows.len());
                });
            } else {
                after.extend(quote! {
                    let #row_count = #agg.updated_count();
                    #late_count
                    let #rows: ::std::vec::Vec<_> = #agg
                        .finish_batch(#rt::structured::OutputMode::#mode, #wm_arg, #event_end)
                        .into_iter()
                        .map(|(key, acc)| #agg_row)
                        .collect();
                    #output.report_operator_state(#agg_node, "stateStoreSave", &#agg, #row_count as u64, #dropped);
                    #output.report_rows(#agg_node, #rows.len());
                });
            }
        }
    }
    if let Some(cond) = &q.having {
        let r = Ident::new("row", Span::mixed_site());
        let (binds, scope) = row_scope(q, &r);
        let cond = expr::expr(cond, &scope);
        after.extend(quote! {
            let mut #rows = #rows;
            #rows.retain(|#r| { #binds (#cond) == ::core::option::Option::Some(true) });
        });
    }
    if !q.order.keys.is_empty() || q.order.limit.is_some() {
        let keys = q.order.keys.iter().map(|(i, d, n)| quote!((#i, #d, #n)));
        let limit = match q.order.limit {
            Some(n) => quote!(::core::option::Option::Some(#n)),
            None => quote!(::core::option::Option::None),
        };
        after.extend(quote! {
            let mut #rows = #rows;
            #rt::structured::sort::order_rows(&mut #rows, &[#(#keys),*], #limit);
        });
    }
    let sink_node = crate::explain::node_id(nodes.sink);
    if emits_in_parts(table, q) {
        let agg_node = crate::explain::node_id(nodes.agg.unwrap_or(nodes.sink));
        after.extend(quote! {
            #input.emit_partitioned(#output, &[#(#outs),*], &#rows, figures, &[(#agg_node, agg_rows), (#sink_node, #rows.len())])?;
        });
    } else if join_in_parts(q) {
        after.extend(quote! {
            #input.emit_partitioned(#output, &[#(#outs),*], &#rows, join_figures, &[(#sink_node, #rows.len())])?;
        });
    } else {
        after.extend(quote!(#output.report_rows(#sink_node, #rows.len());));
        for out in &outs {
            after.extend(quote!(#output.emit_rows(#out, &#rows)?;));
        }
    }
    for (sink, _) in q.sinks.iter().zip(0..) {
        if let Sink::ForeachBatch { closure, .. } = sink {
            let f: TokenStream =
                closure.parse().unwrap_or_else(|_| quote!(compile_error!("foreach_batch: the closure does not parse")));
            after.extend(quote!(#rt::structured::foreach_batch(#output.batch_id(), &#rows, #f);));
        }
    }
    if let (Some(next), Some(next_nodes)) = (&q.then, &nodes.then) {
        let up = stages::Upstream { q, watermarked: has_wm };
        after.extend(query_body(table, next, next_nodes, input, output, Some(&up)));
    }
    if q.watermark.is_some() && q.stage == 0 {
        // A join runs a batch without data only when the watermark cleans its state up (Spark's
        // `shouldRunAnotherBatch`); so does an operator after it.
        let join_cleans = join.is_none_or(|(_, j)| j.left_evict.is_some() || j.right_evict.is_some())
            && groups::find(q).is_none_or(|g| g.timeout == crate::table::GroupTimeout::EventTime);
        let cleans = join_cleans || stages::later_state(q);
        let request =
            if q.mode == OutputMode::Complete || !cleans { quote!() } else { quote!(#output.request_no_data_batch();) };
        after.extend(quote! {
            #output.report_watermark(#wm.current().0);
            if #wm.end_batch() { #request }
        });
    }
    if q.inputs.iter().any(|i| !matches!(table.sources[i.source].malformed, Malformed::Permissive)) {
        after.extend(quote!(#output.report_malformed(#malformed);));
    }
    let rows_decl = if q.agg.is_none() { quote!(let mut #rows = ::std::vec::Vec::new();) } else { quote!() };
    let late_decl =
        // Keyed like aggregation state (hashbrown, borrowed probes): a late row of a group
        // already counted allocates nothing.
        if counts_late { quote!(let mut #late_set = #rt::structured::agg::StreamingAgg::<_, ()>::new();) } else { quote!() };
    // The rows each input and step put out, counted in the loops (with the UI only).
    let counted: Vec<usize> = nodes.inputs.iter().chain(&nodes.steps).copied().collect();
    let counters: Vec<Ident> = counted.iter().map(|&n| node_rows(n)).collect();
    let counted_ids: Vec<String> = counted.iter().map(|&n| crate::explain::node_id(n)).collect();
    let count_decl = quote!(#(let mut #counters: u64 = 0;)*);
    let count_report = quote!(if #rt::ROW_COUNTS { #(#output.report_rows(#counted_ids, #counters);)* });
    let failure = cast::cast_failure();
    let casts = fallible_casts(q);
    let mut decls = if casts { quote!(let #failure = #rt::structured::cast::CastFailure::new();) } else { quote!() };
    for (i, st) in q.steps.iter().enumerate() {
        match st {
            TStep::Dedup { .. } => {
                let dd_dropped = ident(&format!("dedup_dropped{i}"), &q.key());
                decls.extend(quote!(let mut #dd_dropped: u64 = 0;));
            }
            TStep::Join { .. } => {
                let map = ident(&format!("static{i}"), &q.key());
                decls.extend(quote! {
                    let #map = match &#map {
                        ::core::result::Result::Ok(m) => m,
                        ::core::result::Result::Err(e) => return ::core::result::Result::Err(#rt::Error::Config(e.clone())),
                    };
                });
            }
            _ => {}
        }
    }
    let check_casts = if casts {
        quote! {
            if let ::core::option::Option::Some(message) = #failure.take() {
                return ::core::result::Result::Err(#rt::Error::Query { query: #name.into(), message });
            }
        }
    } else {
        quote!()
    };
    let (in_def, groups_decl) = match groups::find(q) {
        Some(g) => (groups::input_struct(q, g).1, groups::batch_decl(q, g)),
        None => (quote!(), quote!()),
    };
    quote! {
        #row_def
        #in_def
        #groups_decl
        let mut #dropped: u64 = 0;
        let mut #malformed: u64 = 0;
        #rows_decl
        #late_decl
        #decls
        #count_decl
        #loops
        #check_casts
        #count_report
        #after
    }
}
