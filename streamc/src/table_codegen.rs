//! Code generation for Structured Streaming queries: per query, one loop over its source's
//! batch that parses each record into typed column variables (`Option<T>`: SQL nulls), runs
//! the steps inline (projections, filters, `explode` as a nested loop, watermark observation)
//! and ends in the aggregation's state or the output rows; then the output mode decides what
//! the sinks get. Every call goes to `streamc_runtime`'s public API.

use crate::expr::{BinOp, Expr, UnOp};
use crate::ir::Plan;
use crate::table::{AggFn, Checked, ColTy, Format, Malformed, OutputMode, Sink, SourceKind, TStep, TablePlan, Trigger};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;
use std::collections::HashMap;

fn rt() -> TokenStream {
    quote!(::streamc_runtime)
}

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
pub fn app_expr(plan: &Plan, table: &TablePlan, queries: &[Checked]) -> TokenStream {
    let rt = rt();
    let b = Ident::new("builder", Span::mixed_site());
    let input = Ident::new("input", Span::mixed_site());
    let output = Ident::new("output", Span::mixed_site());
    let app_name = &plan.name;
    let interval = plan.batch_interval_ms.map_or(1000, |(ms, _)| ms);
    let mut setup = TokenStream::new();
    let trigger = match table.trigger {
        Trigger::ProcessingTime => quote!(ProcessingTime),
        Trigger::Once => quote!(Once),
        Trigger::AvailableNow => quote!(AvailableNow),
    };
    setup.extend(quote!(#b.trigger(#rt::Trigger::#trigger);));
    if let Some((dir, _)) = &plan.checkpoint_dir {
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
            });
            outs.push(out);
        }
        let agg = ident("agg", &q.name);
        let wm = ident("watermark", &q.name);
        if q.agg.is_some() {
            setup.extend(quote!(let mut #agg = #rt::structured::agg::StreamingAgg::new();));
            persistent.push((format!("{}/state", q.name), agg.clone()));
        }
        if let Some((_, delay_ms)) = &q.watermark {
            let delay_us = (*delay_ms as i64) * 1000;
            setup.extend(quote!(let mut #wm = #rt::structured::watermark::Watermark::new(#delay_us);));
            persistent.push((format!("{}/watermark", q.name), wm.clone()));
        }
        body.extend(query_body(table, q, &input, &output, &outs));
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

fn query_body(table: &TablePlan, q: &Checked, input: &Ident, output: &Ident, outs: &[Ident]) -> TokenStream {
    let rt = rt();
    let source = &table.sources[q.source];
    let src = ident("src", &source.name);
    let text = ident("text", &q.name);
    let line = Ident::new("line", Span::mixed_site());
    let agg = ident("agg", &q.name);
    let wm = ident("watermark", &q.name);
    let rows = ident("rows", &q.name);
    let dropped = ident("dropped", &q.name);
    let malformed = ident("malformed", &q.name);
    let on_bad = match source.malformed {
        Malformed::Permissive => None,
        Malformed::DropMalformed => Some(quote!({ #malformed += 1; continue; })),
        Malformed::FailFast => Some(quote!({
            let (path, n) = #text.origin(#line).map(|(p, n)| (p.to_path_buf(), n)).unwrap_or_default();
            return ::core::result::Result::Err(#rt::Error::Malformed { path, line: n, message: "a record does not match the schema".into() });
        })),
    };
    // Parse the record into column variables.
    let mut scope: Scope = HashMap::new();
    let mut parse = TokenStream::new();
    let format = match &source.kind {
        SourceKind::Socket { .. } => Format::Text,
        SourceKind::Files { format, .. } => *format,
    };
    match format {
        Format::Text => {
            let v = ident("col", &source.schema[0].name);
            parse.extend(quote!(let #v = ::core::option::Option::Some(::std::borrow::Cow::Borrowed(#line));));
            scope.insert(source.schema[0].name.clone(), (v, ColTy::String));
        }
        Format::Json | Format::Csv => {
            let names: Vec<&str> = source.schema.iter().map(|c| c.name.as_str()).collect();
            let n = names.len();
            let fields = Ident::new("fields", Span::mixed_site());
            let parse_call = if format == Format::Json {
                quote!(#rt::structured::json::parse_fields(#line, &[#(#names),*], &mut #fields))
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
            for (i, c) in source.schema.iter().enumerate() {
                let v = ident("col", &c.name);
                let conv = Ident::new(
                    match c.ty {
                        ColTy::String | ColTy::StringArray => "string",
                        ColTy::Bool => "boolean",
                        ColTy::Long => "long",
                        ColTy::Double => "double",
                        ColTy::Timestamp => "timestamp",
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
                scope.insert(c.name.clone(), (v, c.ty));
            }
        }
    }
    let terminal = terminal(q, &scope_after(q, &scope), &agg, &wm, &rows);
    let pipeline = steps(q, 0, scope, terminal, &wm);
    let mut after = TokenStream::new();
    let mode = match q.mode {
        OutputMode::Append => quote!(Append),
        OutputMode::Complete => quote!(Complete),
        OutputMode::Update => quote!(Update),
    };
    let row_count = Ident::new("updated", Span::mixed_site());
    let late_set = Ident::new("late_groups", Span::mixed_site());
    let late_count = if q.watermark.is_some() && q.mode != OutputMode::Complete {
        quote!(let #dropped = #dropped + #late_set.len() as u64;)
    } else {
        quote!()
    };
    if let Some(a) = &q.agg {
        let wm_arg = if q.watermark.is_some() && q.mode != OutputMode::Complete {
            quote!(::core::option::Option::Some(#wm.current()))
        } else {
            quote!(::core::option::Option::None)
        };
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
        // Output row: window bounds, keys, then each aggregate's result.
        let mut parts = Vec::new();
        let mut k = 0usize;
        if a.window.is_some() {
            parts.push(quote!(key.0));
            parts.push(quote!(key.1));
            k = 2;
        }
        for i in 0..a.keys.len() {
            let idx = syn::Index::from(k + i);
            parts.push(quote!(key.#idx));
        }
        for (i, (_, f, _, _)) in a.aggs.iter().enumerate() {
            let idx = syn::Index::from(i);
            parts.push(match f {
                AggFn::Avg => quote!(if acc.#idx.1 == 0 { ::core::option::Option::None } else { ::core::option::Option::Some(acc.#idx.0 / acc.#idx.1 as f64) }),
                _ => quote!(acc.#idx),
            });
        }
        after.extend(quote! {
            let #row_count = #agg.updated_count();
            #late_count
            let #rows: ::std::vec::Vec<_> = #agg
                .finish_batch(#rt::structured::OutputMode::#mode, #wm_arg, #event_end)
                .into_iter()
                .map(|(key, acc)| (#(#parts,)*))
                .collect();
            #output.report_state(#agg.len() as u64, #row_count as u64, #dropped);
        });
    }
    for out in outs {
        after.extend(quote!(#output.emit_rows(#out, &#rows)?;));
    }
    if q.watermark.is_some() {
        let request = if q.mode == OutputMode::Complete { quote!() } else { quote!(#output.request_no_data_batch();) };
        after.extend(quote! {
            #output.report_watermark(#wm.current().0);
            if #wm.end_batch() { #request }
        });
    }
    if !matches!(source.malformed, Malformed::Permissive) {
        after.extend(quote!(#output.report_malformed(#malformed);));
    }
    let rows_decl = if q.agg.is_none() { quote!(let mut #rows = ::std::vec::Vec::new();) } else { quote!() };
    let late_set = Ident::new("late_groups", Span::mixed_site());
    let counts_late = q.agg.is_some() && q.watermark.is_some() && q.mode != OutputMode::Complete;
    let late_decl =
        if counts_late { quote!(let mut #late_set = ::std::collections::HashSet::new();) } else { quote!() };
    quote! {
        let #text = #input.text(#src);
        let mut #dropped: u64 = 0;
        let mut #malformed: u64 = 0;
        #rows_decl
        #late_decl
        for #line in #text.lines() {
            #parse
            #pipeline
        }
        #after
    }
}

/// The columns in scope after all steps (for the terminal).
fn scope_after(q: &Checked, scope: &Scope) -> Scope {
    let mut s = scope.clone();
    for st in &q.steps {
        match st {
            TStep::Project(cols) => {
                s = cols.iter().map(|(n, _, t)| (n.clone(), (ident("col", n), *t))).collect();
            }
            TStep::Explode { name, others, .. } => {
                s = others.iter().map(|(n, _, t)| (n.clone(), (ident("col", n), *t))).collect();
                s.insert(name.clone(), (ident("col", name), ColTy::String));
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
        // String keys are probed borrowed (`Option<&str>`); the state copies one only when the
        // key is new.
        key_parts.push(match ty {
            ColTy::String => quote!(#t.as_deref()),
            _ => quote!(#t),
        });
    }
    let mut inits = Vec::new();
    let mut acc_tys = Vec::new();
    let mut updates = Vec::new();
    for (i, (_, f, arg, ty)) in a.aggs.iter().enumerate() {
        let idx = syn::Index::from(i);
        let val = arg.as_ref().map(|e| expr(e, scope));
        match (f, val) {
            (AggFn::Count, None) => {
                acc_tys.push(quote!(i64));
                inits.push(quote!(0i64));
                updates.push(quote!(acc.#idx += 1;));
            }
            (AggFn::Count, Some(v)) => {
                acc_tys.push(quote!(i64));
                inits.push(quote!(0i64));
                updates.push(quote!(if (#v).is_some() { acc.#idx += 1; }));
            }
            (AggFn::Sum, Some(v)) => {
                let zero = if *ty == ColTy::Double { quote!(0f64) } else { quote!(0i64) };
                let t = if *ty == ColTy::Double { quote!(f64) } else { quote!(i64) };
                acc_tys.push(quote!(::core::option::Option<#t>));
                inits.push(quote!(::core::option::Option::None));
                updates.push(quote!(if let ::core::option::Option::Some(x) = #v { acc.#idx = ::core::option::Option::Some(acc.#idx.unwrap_or(#zero) + x); }));
            }
            (AggFn::Avg, Some(v)) => {
                acc_tys.push(quote!((f64, i64)));
                inits.push(quote!((0f64, 0i64)));
                updates.push(
                    quote!(if let ::core::option::Option::Some(x) = #v { acc.#idx.0 += x as f64; acc.#idx.1 += 1; }),
                );
            }
            (AggFn::Min | AggFn::Max, Some(v)) => {
                let better = if *f == AggFn::Min { quote!(<) } else { quote!(>) };
                let conv = if *ty == ColTy::String { quote!(::std::string::String::from(&*x)) } else { quote!(x) };
                let t = rust_ty(*ty);
                acc_tys.push(quote!(::core::option::Option<#t>));
                inits.push(quote!(::core::option::Option::None));
                updates.push(quote! {
                    if let ::core::option::Option::Some(x) = #v {
                        let x = #conv;
                        if acc.#idx.as_ref().is_none_or(|cur| x #better *cur) { acc.#idx = ::core::option::Option::Some(x); }
                    }
                });
            }
            _ => {}
        }
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
        Expr::Call(f, args) => {
            let a = args.first().map(|x| expr(x, scope)).unwrap_or_default();
            match f.as_str() {
                "lower" => quote!((#a).map(|s| ::std::borrow::Cow::<str>::Owned(s.to_lowercase()))),
                "upper" => quote!((#a).map(|s| ::std::borrow::Cow::<str>::Owned(s.to_uppercase()))),
                "trim" => quote!((#a).map(|s| ::std::borrow::Cow::<str>::Owned(s.trim().to_string()))),
                "length" => quote!((#a).map(|s| s.chars().count() as i64)),
                _ => quote!(::core::option::Option::None),
            }
        }
    }
}

/// The owned Rust type of a column's values (as kept in aggregation state).
fn rust_ty(t: ColTy) -> TokenStream {
    match t {
        ColTy::String | ColTy::StringArray => quote!(::std::string::String),
        ColTy::Bool => quote!(bool),
        ColTy::Long => quote!(i64),
        ColTy::Double => quote!(f64),
        ColTy::Timestamp => quote!(::streamc_runtime::structured::time::Timestamp),
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
        Expr::Call(f, _) if f == "length" => Some(ColTy::Long),
        Expr::Call(..) => Some(ColTy::String),
        Expr::Unary(UnOp::Not, _) => Some(ColTy::Bool),
        Expr::Unary(UnOp::Neg, x) => static_ty(x, scope),
        _ => None,
    }
}
