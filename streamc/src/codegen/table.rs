//! Code generation for Structured Streaming queries: per query, one loop over its source's
//! batch that parses each record into typed column variables (`Option<T>`: SQL nulls), runs
//! the steps inline (projections, filters, `explode` as a nested loop, watermark observation)
//! and ends in the aggregation's state or the output rows; then the output mode decides what
//! the sinks get. Every call goes to `streamc_runtime`'s public API.

use super::emit::{rt, source_limits};
use crate::table::expr::{BinOp, Expr, UnOp};
use crate::table::functions::{self, Form, rust_ty};
use crate::table::{
    Checked, ColTy, Column, Format, JoinHow, Malformed, OutputMode, Sink, SourceKind, TAgg, TStep, TablePlan,
    TableSource, Trigger,
};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;
use std::collections::HashMap;

fn ident(prefix: &str, name: &str) -> Ident {
    let base: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '_' })
        .collect();
    Ident::new(&format!("{prefix}_{base}"), Span::mixed_site())
}

/// Column variables in scope: name → (variable, type).
type Scope = HashMap<String, (Ident, ColTy)>;

/// The expression that builds a Structured Streaming app.
pub fn app_expr(table: &TablePlan, queries: &[Checked]) -> TokenStream {
    let rt = rt();
    let b = Ident::new("builder", Span::mixed_site());
    let input = Ident::new("input", Span::mixed_site());
    let output = Ident::new("output", Span::mixed_site());
    let app_name = &table.app.name;
    let interval = table.app.batch_interval_ms.map_or(1000, |(ms, _)| ms);
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
            SourceKind::Socket { host, port } => quote!(let #src = #b.socket_text_stream(#name, #host, #port);),
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
        });
    }
    let mut persistent = Vec::new();
    let mut body = TokenStream::new();
    for q in queries {
        let cols: Vec<&str> = q.output.iter().map(|c| c.name.as_str()).collect();
        let mut outs = Vec::new();
        for (k, sink) in q.sinks.iter().enumerate() {
            let out = ident(&format!("out{k}"), &q.name);
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
                Sink::ForeachBatch { .. } => continue,
            });
            outs.push(out);
        }
        let agg = ident("agg", &q.name);
        let wm = ident("watermark", &q.name);
        if let Some(a) = &q.agg {
            let ty = if a.session.is_some() { quote!(session::SessionAgg) } else { quote!(agg::StreamingAgg) };
            setup.extend(quote!(let mut #agg = #rt::structured::#ty::new();));
            persistent.push((format!("{}/state", q.name), agg.clone()));
        }
        for (i, st) in q.steps.iter().enumerate() {
            if let TStep::Dedup { .. } = st {
                let dd = ident(&format!("dedup{i}"), &q.name);
                setup.extend(quote!(let mut #dd = #rt::structured::agg::StreamingAgg::<_, ()>::new();));
                persistent.push((format!("{}/dedup{i}", q.name), dd));
            }
        }
        setup.extend(static_tables(table, q));
        if let Some((_, delay_ms)) = &q.watermark {
            if input_watermarks(q) {
                let delays = q.inputs.iter().filter_map(|i| i.watermark).map(|(_, d)| (d as i64) * 1000);
                setup
                    .extend(quote!(let mut #wm = #rt::structured::watermark::Watermark::with_inputs(&[#(#delays),*]);));
            } else {
                let delay_us = (*delay_ms as i64) * 1000;
                setup.extend(quote!(let mut #wm = #rt::structured::watermark::Watermark::new(#delay_us);));
            }
            persistent.push((format!("{}/watermark", q.name), wm.clone()));
        }
        body.extend(query_body(table, q, &input, &output, &outs));
    }
    for (name, description) in table_state_descriptions(table, queries) {
        setup.extend(quote!(#b.describe_state(#name, #description);));
    }
    let restores = persistent.iter().map(|(n, p)| quote!(#input.restore(#n, &mut #p)?;));
    let saves = persistent.iter().map(|(n, p)| quote!(#output.save_state(#n, &#p);));
    quote! {
        {
            let mut #b = #rt::AppBuilder::new(#app_name, ::core::time::Duration::from_millis(#interval));
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

/// The code that parses one record of `source` into column variables named after `names` (the
/// query's first input's columns, by position), and what a malformed record does.
fn parse_record(
    source: &TableSource,
    names: &[Column],
    malformed_mode: Malformed,
    text: &Ident,
    line: &Ident,
    malformed: &Ident,
) -> (TokenStream, Scope) {
    let rt = rt();
    let on_bad = match malformed_mode {
        Malformed::Permissive => None,
        Malformed::DropMalformed => Some(quote!({ #malformed += 1; continue; })),
        Malformed::FailFast => Some(quote!({
            let (path, n) = #text.origin(#line).map(|(p, n)| (p.to_path_buf(), n)).unwrap_or_default();
            return ::core::result::Result::Err(#rt::Error::Malformed { path, line: n, message: "a record does not match the schema".into() });
        })),
    };
    let mut scope: Scope = HashMap::new();
    let mut parse = TokenStream::new();
    let format = match &source.kind {
        SourceKind::Socket { .. } => Format::Text,
        SourceKind::Files { format, .. } | SourceKind::Static { format, .. } => *format,
        SourceKind::Rate { .. } => {
            // The rate source's lines are `<timestamp µs> <value>`.
            let (ts, value) = (ident("col", &names[0].name), ident("col", &names[1].name));
            parse.extend(quote! {
                let (#ts, #value) = match #line.split_once(' ') {
                    ::core::option::Option::Some((a, b)) => (a.parse::<i64>().ok().map(#rt::structured::time::Timestamp), b.parse::<i64>().ok()),
                    ::core::option::Option::None => (::core::option::Option::None, ::core::option::Option::None),
                };
            });
            scope.insert(names[0].name.clone(), (ts, ColTy::Timestamp));
            scope.insert(names[1].name.clone(), (value, ColTy::Long));
            return (parse, scope);
        }
    };
    match format {
        Format::Text => {
            let v = ident("col", &names[0].name);
            parse.extend(quote!(let #v = ::core::option::Option::Some(::std::borrow::Cow::Borrowed(#line));));
            scope.insert(names[0].name.clone(), (v, ColTy::String));
        }
        Format::Json | Format::Csv => {
            let fields_in: Vec<&str> = source.schema.iter().map(|c| c.name.as_str()).collect();
            let n = fields_in.len();
            let fields = Ident::new("fields", Span::mixed_site());
            let parse_call = if format == Format::Json {
                quote!(#rt::structured::json::parse_fields(#line, &[#(#fields_in),*], &mut #fields))
            } else {
                quote!(#rt::structured::conv::parse_csv(#line, &mut #fields))
            };
            let failed = match &on_bad {
                Some(act) => quote!(#act),
                None => quote!({ for f in #fields.iter_mut() { *f = #rt::structured::json::Json::Null; } }),
            };
            parse.extend(quote! {
                let mut #fields: [#rt::structured::json::Json<'_>; #n] = ::core::array::from_fn(|_| #rt::structured::json::Json::Missing);
                if #parse_call.is_err() #failed
            });
            for (i, (c, named)) in source.schema.iter().zip(names).enumerate() {
                let v = ident("col", &named.name);
                let conv = Ident::new(
                    match c.ty {
                        ColTy::String | ColTy::StringArray => "string",
                        ColTy::Bool => "boolean",
                        ColTy::Long => "long",
                        ColTy::Double => "double",
                        ColTy::Timestamp => "timestamp",
                        ColTy::Date => "date",
                    },
                    Span::call_site(),
                );
                let bad = match &on_bad {
                    Some(act) => quote!(#act),
                    None => quote!(::core::option::Option::None),
                };
                parse.extend(quote! {
                    let #v = match #rt::structured::conv::#conv(::core::mem::replace(&mut #fields[#i], #rt::structured::json::Json::Missing)) {
                        ::core::result::Result::Ok(v) => v,
                        ::core::result::Result::Err(()) => #bad,
                    };
                });
                scope.insert(named.name.clone(), (v, c.ty));
            }
        }
    }
    (parse, scope)
}

/// Whether the query's inputs carry their own watermarks (a `union` with `with_watermark`s).
fn input_watermarks(q: &Checked) -> bool {
    q.inputs.iter().any(|i| i.watermark.is_some())
}

fn query_body(table: &TablePlan, q: &Checked, input: &Ident, output: &Ident, outs: &[Ident]) -> TokenStream {
    let rt = rt();
    let text = ident("text", &q.name);
    let line = Ident::new("line", Span::mixed_site());
    let agg = ident("agg", &q.name);
    let wm = ident("watermark", &q.name);
    let rows = ident("rows", &q.name);
    let dropped = ident("dropped", &q.name);
    let malformed = ident("malformed", &q.name);
    let terminal = terminal(q, &scope_after(q), &agg, &wm, &rows);
    let mut loops = TokenStream::new();
    let mut slot = 0usize;
    for inp in &q.inputs {
        let source = &table.sources[inp.source];
        let src = ident("src", &source.name);
        let (parse, scope) = parse_record(source, &q.input, source.malformed, &text, &line, &malformed);
        let observe = match inp.watermark {
            Some((c, _)) => {
                let (v, _) = &scope[&q.input[c].name];
                let n = slot;
                slot += 1;
                quote!(if let ::core::option::Option::Some(ts) = #v { #wm.observe_input(#n, ts); })
            }
            None => quote!(),
        };
        let pipeline = steps(q, 0, scope, terminal.clone(), &wm);
        loops.extend(quote! {
            {
                let #text = #input.text(#src);
                for #line in #text.lines() {
                    #parse
                    #observe
                    #pipeline
                }
            }
        });
    }
    let mut after = TokenStream::new();
    let mode = match q.mode {
        OutputMode::Append => quote!(Append),
        OutputMode::Complete => quote!(Complete),
        OutputMode::Update => quote!(Update),
    };
    // Stateful steps before the aggregation (deduplication) report first.
    for (i, st) in q.steps.iter().enumerate() {
        if let TStep::Dedup { event_time, .. } = st {
            let dd = ident(&format!("dedup{i}"), &q.name);
            let dd_dropped = ident(&format!("dedup_dropped{i}"), &q.name);
            let gone = match (event_time, &q.watermark) {
                (Some(e), Some(_)) => {
                    let e = syn::Index::from(*e);
                    quote!(|k, _| k.#e.is_some_and(|t| t <= #wm.current()))
                }
                _ => quote!(|_, _| false),
            };
            after.extend(quote! {
                let updated = #dd.updated_count();
                #dd.end_batch_evicting(#gone);
                #output.report_state(#dd.len() as u64, updated as u64, #dd_dropped);
            });
        }
    }
    let row_count = Ident::new("updated", Span::mixed_site());
    let late_set = Ident::new("late_groups", Span::mixed_site());
    let watermarked = q.watermark.is_some() && q.mode != OutputMode::Complete;
    let late_count = if watermarked { quote!(let #dropped = #dropped + #late_set.len() as u64;) } else { quote!() };
    if let Some(a) = &q.agg {
        let wm_arg = if watermarked {
            quote!(::core::option::Option::Some(#wm.current()))
        } else {
            quote!(::core::option::Option::None)
        };
        // Output row: window bounds, keys, then each aggregate's result.
        let mut parts = Vec::new();
        let mut k = 0usize;
        if a.window.is_some() || a.session.is_some() {
            parts.push(quote!(key.0));
            parts.push(quote!(key.1));
            k = 2;
        }
        let key_parts: Vec<TokenStream> = (0..a.keys.len())
            .map(|i| {
                let idx = syn::Index::from(i);
                quote!(key.2.#idx)
            })
            .collect();
        for i in 0..a.keys.len() {
            let idx = syn::Index::from(k + i);
            parts.push(quote!(key.#idx));
        }
        let mut acc_parts = Vec::new();
        for (i, (_, f, _, _)) in a.aggs.iter().enumerate() {
            let idx = syn::Index::from(i);
            acc_parts.push((f.def().finish)(&idx));
        }
        if a.session.is_some() {
            // Spark drops late session input in every output mode (complete too).
            let late = if q.watermark.is_some() {
                quote!(::core::option::Option::Some(#wm.for_late_events()))
            } else {
                quote!(::core::option::Option::None)
            };
            let merge = merge_fn(a);
            after.extend(quote! {
                let (session_rows, session_dropped) = #agg.finish_batch(#rt::structured::OutputMode::#mode, #late, #wm_arg, #merge);
                let #rows: ::std::vec::Vec<_> = session_rows
                    .into_iter()
                    .map(|(key, acc)| (key.0, key.1, #(#key_parts,)* #(#acc_parts,)*))
                    .collect();
                #output.report_state(#agg.len() as u64, #agg.updated_count() as u64, session_dropped);
            });
        } else {
            let event_end = match &a.window {
                Some(_) => quote!(|k| k.1),
                None => match q.watermark.as_ref().and_then(|(c, _)| a.keys.iter().position(|(n, _, _)| n == c)) {
                    Some(i) => {
                        let i = syn::Index::from(i);
                        quote!(|k| k.#i.unwrap_or(#rt::structured::time::Timestamp(i64::MIN)))
                    }
                    None => quote!(|_k| #rt::structured::time::Timestamp(i64::MIN)),
                },
            };
            after.extend(quote! {
                let #row_count = #agg.updated_count();
                #late_count
                let #rows: ::std::vec::Vec<_> = #agg
                    .finish_batch(#rt::structured::OutputMode::#mode, #wm_arg, #event_end)
                    .into_iter()
                    .map(|(key, acc)| (#(#parts,)* #(#acc_parts,)*))
                    .collect();
                #output.report_state(#agg.len() as u64, #row_count as u64, #dropped);
            });
        }
    }
    for out in outs {
        after.extend(quote!(#output.emit_rows(#out, &#rows)?;));
    }
    for (sink, _) in q.sinks.iter().zip(0..) {
        if let Sink::ForeachBatch { closure, .. } = sink {
            let f: TokenStream =
                closure.parse().unwrap_or_else(|_| quote!(compile_error!("foreach_batch: the closure does not parse")));
            after.extend(quote!(#rt::structured::foreach_batch(#output.batch_id(), &#rows, #f);));
        }
    }
    if q.watermark.is_some() {
        let request = if q.mode == OutputMode::Complete { quote!() } else { quote!(#output.request_no_data_batch();) };
        after.extend(quote! {
            #output.report_watermark(#wm.current().0);
            if #wm.end_batch() { #request }
        });
    }
    if q.inputs.iter().any(|i| !matches!(table.sources[i.source].malformed, Malformed::Permissive)) {
        after.extend(quote!(#output.report_malformed(#malformed);));
    }
    let rows_decl = if q.agg.is_none() { quote!(let mut #rows = ::std::vec::Vec::new();) } else { quote!() };
    let counts_late = q.agg.as_ref().is_some_and(|a| a.session.is_none()) && watermarked;
    let late_decl =
        if counts_late { quote!(let mut #late_set = ::std::collections::HashSet::new();) } else { quote!() };
    let mut decls = TokenStream::new();
    for (i, st) in q.steps.iter().enumerate() {
        match st {
            TStep::Dedup { .. } => {
                let dd_dropped = ident(&format!("dedup_dropped{i}"), &q.name);
                decls.extend(quote!(let mut #dd_dropped: u64 = 0;));
            }
            TStep::Join { .. } => {
                let map = ident(&format!("static{i}"), &q.name);
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
    quote! {
        let mut #dropped: u64 = 0;
        let mut #malformed: u64 = 0;
        #rows_decl
        #late_decl
        #decls
        #loops
        #after
    }
}

/// A column variable as a key that probes keyed state without copying: strings borrowed
/// (`Option<&str>`), other values as they are; the state copies a key only when it is new.
fn borrowed(v: &Ident, ty: ColTy) -> TokenStream {
    match ty {
        ColTy::String => quote!(#v.as_deref()),
        _ => quote!(#v),
    }
}

/// `|a, b| a += b` for the accumulators of an aggregation (merging session windows).
fn merge_fn(a: &TAgg) -> TokenStream {
    let mut parts = Vec::new();
    for (i, (_, f, _, _)) in a.aggs.iter().enumerate() {
        let idx = syn::Index::from(i);
        parts.push((f.def().merge)(&idx));
    }
    quote!(|x: &mut _, y| { #[allow(clippy::all)] { let _ = &y; #(#parts)* } })
}

/// Setup code of the static tables joined by `q`: each read and hashed once, by its join keys.
fn static_tables(table: &TablePlan, q: &Checked) -> TokenStream {
    let rt = rt();
    let mut out = TokenStream::new();
    for (i, st) in q.steps.iter().enumerate() {
        let TStep::Join { table: t, on, right, .. } = st else { continue };
        let source = &table.sources[*t];
        let SourceKind::Static { path, .. } = &source.kind else { continue };
        let map = ident(&format!("static{i}"), &q.name);
        let text = Ident::new("static_text", Span::mixed_site());
        let line = Ident::new("line", Span::mixed_site());
        let bad = Ident::new("static_malformed", Span::mixed_site());
        let (parse, scope) = parse_record(source, &source.schema, Malformed::Permissive, &text, &line, &bad);
        let owned = |name: &str| -> TokenStream {
            let (v, ty) = &scope[name];
            match ty {
                ColTy::String => quote!(#v.as_ref().map(|s| ::std::string::String::from(&**s))),
                _ => quote!(#v),
            }
        };
        let keys: Vec<TokenStream> = on.iter().map(|(n, _)| owned(n)).collect();
        let key_tys: Vec<TokenStream> = on.iter().map(|(_, t)| rust_ty(*t)).collect();
        let vals: Vec<TokenStream> = right.iter().map(|c| owned(&c.name)).collect();
        let val_tys: Vec<TokenStream> = right.iter().map(|c| rust_ty(c.ty)).collect();
        out.extend(quote! {
            #[allow(unused_mut, unused_variables, clippy::all)]
            let #map: ::core::result::Result<
                #rt::structured::agg::StreamingAgg<(#(::core::option::Option<#key_tys>,)*), ::std::vec::Vec<(#(::core::option::Option<#val_tys>,)*)>>,
                ::std::string::String,
            > = (|| {
                let lines = #rt::structured::static_table::read_lines(#path).map_err(|e| e.to_string())?;
                // Keyed like aggregation state, so that a stream row probes it with borrowed
                // strings: no allocation per row.
                let mut map = #rt::structured::agg::StreamingAgg::new();
                let mut #bad = 0u64;
                for #line in lines.iter().map(::std::string::String::as_str) {
                    #parse
                    let key = (#(#keys,)*);
                    let row = (#(#vals,)*);
                    map.update_owned(key, |rows: &mut ::std::vec::Vec<_>| rows.push(row), ::std::vec::Vec::new);
                }
                ::core::result::Result::Ok(map)
            })();
        });
    }
    out
}

/// The columns in scope after all steps (for the terminal).
fn scope_after(q: &Checked) -> Scope {
    let mut s: Scope = q.input.iter().map(|c| (c.name.clone(), (ident("col", &c.name), c.ty))).collect();
    for st in &q.steps {
        match st {
            TStep::Project(cols) => {
                s = cols.iter().map(|(n, _, t)| (n.clone(), (ident("col", n), *t))).collect();
            }
            TStep::Explode { name, others, .. } => {
                s = others.iter().map(|(n, _, t)| (n.clone(), (ident("col", n), *t))).collect();
                s.insert(name.clone(), (ident("col", name), ColTy::String));
            }
            TStep::Join { right, .. } => {
                s.extend(right.iter().map(|c| (c.name.clone(), (ident("col", &c.name), c.ty))));
            }
            _ => {}
        }
    }
    s
}

/// Steps from `i` on, around the terminal code.
fn steps(q: &Checked, i: usize, scope: Scope, terminal: TokenStream, wm: &Ident) -> TokenStream {
    let Some(step) = q.steps.get(i) else { return terminal };
    match step {
        TStep::Filter(e) => {
            let cond = expr(e, &scope);
            let rest = steps(q, i + 1, scope, terminal, wm);
            quote!(if #cond != ::core::option::Option::Some(true) { continue; } #rest)
        }
        TStep::Watermark { column } => {
            let (v, _) = &scope[column];
            let rest = steps(q, i + 1, scope.clone(), terminal, wm);
            quote!(if let ::core::option::Option::Some(ts) = #v { #wm.observe(ts); } #rest)
        }
        TStep::Project(cols) => {
            let (binds, new_scope) = project(cols, &scope);
            let rest = steps(q, i + 1, new_scope, terminal, wm);
            quote!(#binds #rest)
        }
        TStep::Dedup { cols, late_column, .. } => {
            let dd = ident(&format!("dedup{i}"), &q.name);
            let dd_dropped = ident(&format!("dedup_dropped{i}"), &q.name);
            let late = match late_column {
                Some(c) => {
                    let (v, _) = &scope[c];
                    quote!(if let ::core::option::Option::Some(ts) = #v { if #wm.is_late(ts) { #dd_dropped += 1; continue; } })
                }
                None => quote!(),
            };
            let parts: Vec<TokenStream> = cols.iter().map(|(n, t)| borrowed(&scope[n].0, *t)).collect();
            let rest = steps(q, i + 1, scope, terminal, wm);
            quote! {
                #late
                if !#dd.insert_new((#(#parts,)*), || ()) { continue; }
                #rest
            }
        }
        TStep::Join { on, right, how, .. } => {
            let map = ident(&format!("static{i}"), &q.name);
            let keys: Vec<TokenStream> = on.iter().map(|(n, t)| borrowed(&scope[n].0, *t)).collect();
            let nulls: Vec<TokenStream> = on
                .iter()
                .map(|(n, _)| {
                    let (v, _) = &scope[n];
                    quote!(#v.is_none())
                })
                .collect();
            let mut new_scope = scope.clone();
            let mut binds = TokenStream::new();
            for (k, c) in right.iter().enumerate() {
                let v = ident("col", &c.name);
                let idx = syn::Index::from(k);
                binds.extend(match c.ty {
                    ColTy::String => {
                        quote!(let #v = matched.and_then(|r| r.#idx.as_deref()).map(::std::borrow::Cow::Borrowed);)
                    }
                    _ => quote!(let #v = matched.and_then(|r| r.#idx.clone());),
                });
                new_scope.insert(c.name.clone(), (v, c.ty));
            }
            let outer = *how == JoinHow::LeftOuter;
            let rest = steps(q, i + 1, new_scope, terminal, wm);
            quote! {
                // SQL equality: a NULL key matches nothing.
                let found = if #(#nulls)||* { ::core::option::Option::None } else { #map.get((#(#keys,)*)) };
                let found: &[_] = found.map_or(&[], |v| v.as_slice());
                let unmatched = if #outer && found.is_empty() { ::core::option::Option::Some(::core::option::Option::None) } else { ::core::option::Option::None };
                for matched in found.iter().map(::core::option::Option::Some).chain(unmatched) {
                    #binds
                    #rest
                }
            }
        }
        TStep::Explode { name, array, others } => {
            let (binds, mut new_scope) = project(others, &scope);
            let v = ident("col", name);
            new_scope.insert(name.clone(), (v.clone(), ColTy::String));
            let rest = steps(q, i + 1, new_scope, terminal, wm);
            let Expr::Call(_, args) = array else { return quote!() };
            let (src, pat) = (
                expr(&args[0], &scope),
                match &args[1] {
                    Expr::Str(p) => p.clone(),
                    _ => " ".into(),
                },
            );
            let arr = Ident::new("exploded", Span::mixed_site());
            quote! {
                #binds
                if let ::core::option::Option::Some(#arr) = #src {
                    for piece in #arr.split(#pat) {
                        let #v = ::core::option::Option::Some(::std::borrow::Cow::Borrowed(piece));
                        #rest
                    }
                }
            }
        }
    }
}

fn project(cols: &[(String, Expr, ColTy)], scope: &Scope) -> (TokenStream, Scope) {
    let mut binds = TokenStream::new();
    let mut tmps = Vec::new();
    for (k, (_, e, _)) in cols.iter().enumerate() {
        let t = Ident::new(&format!("projected_{k}"), Span::mixed_site());
        let code = expr(e, scope);
        binds.extend(quote!(let #t = #code;));
        tmps.push(t);
    }
    let mut new_scope = HashMap::new();
    for ((n, _, ty), t) in cols.iter().zip(tmps) {
        let v = ident("col", n);
        binds.extend(quote!(let #v = #t;));
        new_scope.insert(n.clone(), (v, *ty));
    }
    (binds, new_scope)
}

/// The aggregation update or the output row push, for each row that reaches the end.
fn terminal(q: &Checked, scope: &Scope, agg: &Ident, wm: &Ident, rows: &Ident) -> TokenStream {
    let rt = rt();
    let owned = |name: &str| -> TokenStream {
        let (v, ty) = &scope[name];
        match ty {
            ColTy::String => quote!(#v.as_ref().map(|s| ::std::string::String::from(&**s))),
            _ => quote!(#v),
        }
    };
    let Some(a) = &q.agg else {
        let parts: Vec<TokenStream> = q.output.iter().map(|c| owned(&c.name)).collect();
        return quote!(#rows.push((#(#parts,)*)););
    };
    // Keys are evaluated from the scope at the aggregation.
    let mut key_binds = TokenStream::new();
    let mut key_parts = Vec::new();
    for (k, (_, e, ty)) in a.keys.iter().enumerate() {
        let t = Ident::new(&format!("key_{k}"), Span::mixed_site());
        let code = expr(e, scope);
        key_binds.extend(quote!(let #t = #code;));
        key_parts.push(borrowed(&t, *ty));
    }
    let mut inits = Vec::new();
    let mut acc_tys = Vec::new();
    let mut updates = Vec::new();
    for (i, (_, f, arg, ty)) in a.aggs.iter().enumerate() {
        let idx = syn::Index::from(i);
        let val = arg.as_ref().map(|e| expr(e, scope));
        let def = f.def();
        acc_tys.push((def.acc_ty)(*ty));
        inits.push((def.init)(*ty));
        updates.push((def.update)(&idx, val.as_ref(), *ty));
    }
    let update = quote!(#agg.update(key, |acc: &mut (#(#acc_tys,)*)| { #(#updates)* }, || (#(#inits,)*)););
    // Complete mode keeps every row: Spark ignores the watermark there.
    let watermarked = q.watermark.is_some() && q.mode != OutputMode::Complete;
    // Spark counts late rows after partial aggregation: one per (window, key) group in a batch.
    let late_set = Ident::new("late_groups", Span::mixed_site());
    let late = if watermarked {
        quote!(if #wm.is_late(we) { #late_set.insert(#rt::ops::into_owned((ws, we, #(#key_parts.clone(),)*))); continue; })
    } else {
        quote!()
    };
    if let Some((column, gap_ms)) = &a.session {
        let (tv, _) = &scope[column];
        let gap = Literal::i64_suffixed((*gap_ms as i64) * 1000);
        return quote! {
            #key_binds
            if let ::core::option::Option::Some(ts) = #tv {
                let key = (#(#key_parts,)*);
                #agg.add(key, ts, #gap, |acc: &mut (#(#acc_tys,)*)| { #(#updates)* }, || (#(#inits,)*));
            }
        };
    }
    match &a.window {
        Some(w) => {
            let (tv, _) = &scope[&w.column];
            let (len, slide, start) =
                ((w.len_ms as i64) * 1000, (w.slide_ms as i64) * 1000, (w.start_ms as i64) * 1000);
            let (len, slide, start) =
                (Literal::i64_suffixed(len), Literal::i64_suffixed(slide), Literal::i64_suffixed(start));
            quote! {
                #key_binds
                if let ::core::option::Option::Some(ts) = #tv {
                    for (ws, we) in #rt::structured::window::sliding_windows(ts, #len, #slide, #start) {
                        #late
                        let key = (ws, we, #(#key_parts,)*);
                        #update
                    }
                }
            }
        }
        None => {
            let late = match q
                .watermark
                .as_ref()
                .filter(|_| watermarked)
                .and_then(|(c, _)| a.keys.iter().position(|(n, _, _)| n == c))
            {
                Some(i) => {
                    let t = Ident::new(&format!("key_{i}"), Span::mixed_site());
                    quote!(if let ::core::option::Option::Some(we) = #t { if #wm.is_late(we) { #late_set.insert(#rt::ops::into_owned((#(#key_parts.clone(),)*))); continue; } })
                }
                None => quote!(),
            };
            quote! {
                #key_binds
                #late
                let key = (#(#key_parts,)*);
                #update
            }
        }
    }
}

/// An expression as Rust code of type `Option<T>` (None = SQL NULL).
fn expr(e: &Expr, scope: &Scope) -> TokenStream {
    let some = quote!(::core::option::Option::Some);
    match e {
        Expr::Column(c) => match scope.get(c) {
            Some((v, _)) => quote!(#v.clone()),
            None => quote!(::core::option::Option::None),
        },
        Expr::Str(s) => quote!(#some(::std::borrow::Cow::Borrowed(#s))),
        Expr::Int(i) => {
            let l = Literal::i64_suffixed(*i);
            quote!(#some(#l))
        }
        Expr::Float(x) => {
            let l = Literal::f64_suffixed(*x);
            quote!(#some(#l))
        }
        Expr::Bool(b) => quote!(#some(#b)),
        Expr::Null | Expr::Star => quote!(::core::option::Option::None),
        Expr::Unary(UnOp::Not, x) => {
            let x = expr(x, scope);
            quote!((#x).map(|v: bool| !v))
        }
        Expr::Unary(UnOp::Neg, x) => {
            let x = expr(x, scope);
            quote!((#x).map(|v| -v))
        }
        Expr::Binary(op, a, b) => {
            let ta = static_ty(a, scope);
            let tb = static_ty(b, scope);
            let (ca, cb) = (expr(a, scope), expr(b, scope));
            let float = ta == Some(ColTy::Double) || tb == Some(ColTy::Double) || *op == BinOp::Div;
            let (xa, xb) = if float && (ta.is_some_and(ColTy::numeric) || tb.is_some_and(ColTy::numeric)) {
                (quote!((a as f64)), quote!((b as f64)))
            } else {
                (quote!(a), quote!(b))
            };
            match op {
                BinOp::And => quote!(match (#ca, #cb) {
                    (::core::option::Option::Some(false), _) | (_, ::core::option::Option::Some(false)) => #some(false),
                    (::core::option::Option::Some(true), ::core::option::Option::Some(true)) => #some(true),
                    _ => ::core::option::Option::None,
                }),
                BinOp::Or => quote!(match (#ca, #cb) {
                    (::core::option::Option::Some(true), _) | (_, ::core::option::Option::Some(true)) => #some(true),
                    (::core::option::Option::Some(false), ::core::option::Option::Some(false)) => #some(false),
                    _ => ::core::option::Option::None,
                }),
                _ => {
                    let sym: TokenStream = match op {
                        BinOp::Eq => quote!(==),
                        BinOp::Ne => quote!(!=),
                        BinOp::Lt => quote!(<),
                        BinOp::Le => quote!(<=),
                        BinOp::Gt => quote!(>),
                        BinOp::Ge => quote!(>=),
                        BinOp::Add => quote!(+),
                        BinOp::Sub => quote!(-),
                        BinOp::Mul => quote!(*),
                        BinOp::Div => quote!(/),
                        _ => quote!(%),
                    };
                    quote!(match (#ca, #cb) {
                        (::core::option::Option::Some(a), ::core::option::Option::Some(b)) => #some(#xa #sym #xb),
                        _ => ::core::option::Option::None,
                    })
                }
            }
        }
        Expr::Call(f, args) => match functions::scalar(f).map(|d| &d.form) {
            Some(Form::Ordinary { codegen, .. }) => {
                let code: Vec<TokenStream> = args.iter().map(|x| expr(x, scope)).collect();
                let tys: Vec<Option<ColTy>> = args.iter().map(|x| static_ty(x, scope)).collect();
                codegen(&code, &tys)
            }
            _ => quote!(::core::option::Option::None),
        },
    }
}

fn static_ty(e: &Expr, scope: &Scope) -> Option<ColTy> {
    match e {
        Expr::Column(c) => scope.get(c).map(|(_, t)| *t),
        Expr::Int(_) => Some(ColTy::Long),
        Expr::Float(_) => Some(ColTy::Double),
        Expr::Str(_) => Some(ColTy::String),
        Expr::Bool(_) => Some(ColTy::Bool),
        Expr::Binary(op, a, b) => {
            if op.is_comparison() || matches!(op, BinOp::And | BinOp::Or) {
                Some(ColTy::Bool)
            } else if *op == BinOp::Div
                || static_ty(a, scope) == Some(ColTy::Double)
                || static_ty(b, scope) == Some(ColTy::Double)
            {
                Some(ColTy::Double)
            } else {
                Some(ColTy::Long)
            }
        }
        // The registry's type for the arguments' types (the checker has typed the call).
        Expr::Call(f, args) => Some(call_ty(f, args, scope).unwrap_or(ColTy::String)),
        Expr::Unary(UnOp::Not, _) => Some(ColTy::Bool),
        Expr::Unary(UnOp::Neg, x) => static_ty(x, scope),
        _ => None,
    }
}

fn call_ty(f: &str, args: &[Expr], scope: &Scope) -> Option<ColTy> {
    let Form::Ordinary { signature, .. } = &functions::scalar(f)?.form else { return None };
    let tys: Option<Vec<ColTy>> = args.iter().map(|x| static_ty(x, scope)).collect();
    let typed: Vec<(&Expr, ColTy)> = args.iter().zip(tys?).collect();
    signature(&typed).ok()
}

/// What each state of `queries` is, under the names the generated code saves it with: the keys
/// (with types), window and aggregates of an aggregation, the columns of a deduplication, the
/// inputs of a watermark. A restart whose descriptions differ is refused (Spark forbids
/// changing a stateful operator's keys, aggregates or state schema).
pub fn table_state_descriptions(table: &TablePlan, queries: &[Checked]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for q in queries {
        if let Some(a) = &q.agg {
            let mut keys = Vec::new();
            if let Some(w) = &a.window {
                keys.push(format!("window({}, {} ms, {} ms, {} ms)", w.column, w.len_ms, w.slide_ms, w.start_ms));
            }
            if let Some((c, gap)) = &a.session {
                keys.push(format!("session_window({c}, {gap} ms)"));
            }
            keys.extend(a.keys.iter().map(|(n, e, t)| format!("{e} AS {n} {}", t.sql())));
            let aggs: Vec<String> = a
                .aggs
                .iter()
                .map(|(n, f, e, t)| {
                    let arg = e.as_ref().map_or_else(|| "*".to_owned(), ToString::to_string);
                    format!("{}({arg}) AS {n} {}", f.name(), t.sql())
                })
                .collect();
            out.push((
                format!("{}/state", q.name),
                format!("group by [{}] aggregate [{}]", keys.join(", "), aggs.join(", ")),
            ));
        }
        for (i, st) in q.steps.iter().enumerate() {
            if let TStep::Dedup { cols, .. } = st {
                let cols: Vec<String> = cols.iter().map(|(n, t)| format!("{n} {}", t.sql())).collect();
                out.push((format!("{}/dedup{i}", q.name), format!("drop_duplicates [{}]", cols.join(", "))));
            }
        }
        if let Some((column, _)) = &q.watermark {
            let inputs: Vec<&str> = q.inputs.iter().map(|i| table.sources[i.source].name.as_str()).collect();
            out.push((format!("{}/watermark", q.name), format!("watermark on {column} of [{}]", inputs.join(", "))));
        }
    }
    out
}
