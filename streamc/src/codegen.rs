//! Code generation: a checked [`Plan`] and its [`Physical`] plan become Rust tokens that call
//! only the runtime's public API. Each stage is one loop nest; user closures are bound once per
//! batch through the runtime's type witnesses (`ops::map(ty, closure)`), which give rustc the
//! closure's expected signature, then called inline in the loop.

use crate::ir::{Builtin, Func, Literal, Op, OutputKind, Plan, StreamId};
use crate::physical::Physical;
use crate::span::SpanTable;
use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::quote;

struct Names {
    base: Vec<String>,
}

impl Names {
    fn new(plan: &Plan) -> Names {
        let mut base: Vec<String> = Vec::new();
        for (i, s) in plan.streams.iter().enumerate() {
            let mut b: String = s
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '_' })
                .collect();
            if b.is_empty() || base.contains(&b) {
                b = format!("{b}_{i}");
            }
            base.push(b);
        }
        Names { base }
    }

    fn ident(&self, prefix: &str, id: StreamId) -> Ident {
        // Mixed-site hygiene: user closures cannot see (or be shadowed by) these locals.
        Ident::new(&format!("{prefix}_{}", self.base[id.0]), Span::mixed_site())
    }
}

fn rt() -> TokenStream {
    quote!(::streamc_runtime)
}

/// The expression that builds the app: `AppBuilder` setup plus the per-batch closure.
pub fn app_expr(plan: &Plan, phys: &Physical, spans: &SpanTable) -> TokenStream {
    let rt = rt();
    let names = Names::new(plan);
    let b = Ident::new("builder", Span::mixed_site());
    let input = Ident::new("input", Span::mixed_site());
    let output = Ident::new("output", Span::mixed_site());
    let app_name = &plan.name;
    let interval = plan.batch_interval_ms.map(|(ms, _)| ms).unwrap_or(1000);
    let mut setup = TokenStream::new();
    for (i, s) in plan.streams.iter().enumerate() {
        let src = names.ident("src", StreamId(i));
        let name = &s.name;
        match &s.op {
            Op::SocketTextStream { host, port } => {
                setup.extend(quote!(let #src = #b.socket_text_stream(#name, #host, #port);));
            }
            Op::TextFileStream { dir } => {
                setup.extend(quote!(let #src = #b.text_file_stream(#name, #dir);));
            }
            _ => {}
        }
    }
    let out_ident = |k: usize| Ident::new(&format!("out_{k}"), Span::mixed_site());
    for (k, o) in plan.outputs.iter().enumerate() {
        let out = out_ident(k);
        let stream_name = &plan.streams[o.input.0].name;
        match &o.kind {
            OutputKind::Print { num } => setup.extend(quote!(let #out = #b.print(#stream_name, #num);)),
            OutputKind::SaveAsTextFiles { prefix, suffix } => {
                setup.extend(quote!(let #out = #b.save_as_text_files(#stream_name, #prefix, #suffix);))
            }
        }
    }

    // Per batch: bind witnesses and closures, declare state and buffers.
    let mut binds = TokenStream::new();
    for (i, s) in plan.streams.iter().enumerate() {
        let id = StreamId(i);
        let span = spans.token_span(s.op_span);
        let ty = names.ident("ty", id);
        let f = names.ident("f", id);
        let st = names.ident("state", id);
        let v = names.ident("v", id);
        // Sources have no input; their arm below does not use `in_ty`.
        let in_ty = names.ident("ty", s.inputs.first().copied().unwrap_or(id));
        match &s.op {
            Op::SocketTextStream { .. } | Op::TextFileStream { .. } => {
                let src = names.ident("src", id);
                let t = names.ident("text", id);
                binds.extend(quote!(let #t = #input.text(#src); let #ty = #t.ty();));
            }
            Op::Map(func) => {
                let c = func_tokens(plan, func, s.inputs.first().map(|x| &plan.streams[x.0].ty));
                binds.extend(bind_fn("map", &f, &ty, &in_ty, c, span));
            }
            Op::FlatMap(func) => {
                let c = func_tokens(plan, func, s.inputs.first().map(|x| &plan.streams[x.0].ty));
                binds.extend(bind_fn("flat_map", &f, &ty, &in_ty, c, span));
            }
            Op::Filter(func) => {
                let c = func_tokens(plan, func, None);
                binds.extend(bind_fn("filter", &f, &ty, &in_ty, c, span));
            }
            Op::Reduce(func) => {
                let c = func_tokens(plan, func, None);
                binds.extend(bind_fn("reduce", &f, &ty, &in_ty, c, span));
                binds.extend(quote!(let mut #st = ::core::option::Option::None;));
            }
            Op::Count => {
                binds.extend(at(quote!(let #ty = #rt::ops::count(#in_ty);), span));
                binds.extend(quote!(let mut #st: i64 = 0;));
            }
            Op::ReduceByKey(func) => {
                let c = func_tokens(plan, func, None);
                binds.extend(bind_fn("reduce_by_key", &f, &ty, &in_ty, c, span));
                binds.extend(at(quote!(let mut #st = #rt::ops::keyed_reduce(#in_ty);), span));
            }
        }
        let op = &s.op;
        if phys.materialized[i] && !op.is_source() && !op.is_breaker() {
            binds.extend(quote!(let mut #v = #rt::ops::vec(#ty);));
        }
        // Elements read more than once (several operators, or operators and outputs) are cloned.
        let readers = phys.consumers[i].len() + usize::from(!phys.outputs_of[i].is_empty());
        if readers > 1 && !op.is_source() && !phys.consumers[i].is_empty() {
            binds.extend(at(quote!(let _ = #rt::ops::cloneable(#ty);), spans.token_span(s.name_span)));
        }
    }

    // Drive: each materialized collection, in dependency order, feeds its consumers.
    let mut drive = TokenStream::new();
    for (i, s) in plan.streams.iter().enumerate() {
        if !phys.materialized[i] {
            continue;
        }
        let id = StreamId(i);
        let v = names.ident("v", id);
        let st = names.ident("state", id);
        let t = names.ident("text", id);
        let ty = names.ident("ty", id);
        match &s.op {
            Op::ReduceByKey(_) => drive.extend(quote!(let mut #v = #st.into_vec();)),
            Op::Reduce(_) => drive.extend(quote!(let mut #v: ::std::vec::Vec<_> = #st.into_iter().collect();)),
            Op::Count => drive.extend(quote!(let mut #v = ::std::vec![#st];)),
            Op::SocketTextStream { .. } | Op::TextFileStream { .. } if !phys.outputs_of[i].is_empty() => {
                drive.extend(quote!(let mut #v = #rt::ops::vec(#ty); #v.extend(#t.lines());));
            }
            _ => {}
        }
        let n = phys.consumers[i].len();
        for (k, &c) in phys.consumers[i].iter().enumerate() {
            let x = names.ident("x", id);
            let iter = if s.op.is_source() {
                quote!(#t.lines())
            } else if k + 1 == n && phys.outputs_of[i].is_empty() {
                quote!(#v)
            } else {
                quote!(#v.iter().cloned())
            };
            let body = apply(plan, phys, &names, c, quote!(#x));
            drive.extend(quote!(for #x in #iter { #body }));
        }
    }
    let mut emits = TokenStream::new();
    for (k, o) in plan.outputs.iter().enumerate() {
        let out = out_ident(k);
        let span = spans.token_span(o.span);
        let v = names.ident("v", o.input);
        emits.extend(at(quote!(#output.emit(#out, &#v)?;), span));
    }
    let _ = &output;
    quote! {
        {
            let mut #b = #rt::AppBuilder::new(#app_name, ::core::time::Duration::from_millis(#interval));
            #setup
            #b.build(move |#input: &#rt::BatchInput, #output: &mut #rt::BatchOutput| -> ::core::result::Result<(), #rt::Error> {
                #[allow(unused_mut, unused_variables, clippy::all)]
                let result = {
                    #binds
                    #drive
                    #emits
                    ::core::result::Result::Ok(())
                };
                result
            })
        }
    }
}

/// Moves every token of `tokens` to the user's `span` for error reporting, keeping each token's
/// hygiene (`located_at`): rustc then reports a failed operator bound at the user's operator.
fn at(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut n = Group::new(g.delimiter(), at(g.stream(), span));
                n.set_span(g.span().located_at(span));
                TokenTree::Group(n)
            }
            TokenTree::Ident(mut i) => {
                i.set_span(i.span().located_at(span));
                TokenTree::Ident(i)
            }
            TokenTree::Punct(mut p) => {
                p.set_span(p.span().located_at(span));
                TokenTree::Punct(p)
            }
            TokenTree::Literal(mut l) => {
                l.set_span(l.span().located_at(span));
                TokenTree::Literal(l)
            }
        })
        .collect()
}

/// `let (mut f, ty) = runtime::ops::OP(in_ty, closure);` located at the operator's span, with
/// the closure's own tokens (and spans) untouched.
fn bind_fn(op: &str, f: &Ident, ty: &Ident, in_ty: &Ident, closure: TokenStream, span: Span) -> TokenStream {
    let rt = rt();
    let op = Ident::new(op, span);
    let head = at(quote!(let (mut #f, #ty) = #rt::ops::#op), span);
    let arg = at(quote!(#in_ty,), span);
    quote!(#head(#arg #closure);)
}

/// Code that hands `value`, an element of `c`'s input, to operator `c`.
fn apply(plan: &Plan, phys: &Physical, names: &Names, c: StreamId, value: TokenStream) -> TokenStream {
    let rt = rt();
    let f = names.ident("f", c);
    let st = names.ident("state", c);
    let x = names.ident("x", c);
    match &plan.streams[c.0].op {
        Op::Map(_) => {
            let next = sink(plan, phys, names, c, quote!(#x));
            quote!(let #x = #f(#value); #next)
        }
        Op::FlatMap(_) => {
            let next = sink(plan, phys, names, c, quote!(#x));
            quote!(for #x in #f(#value) { #next })
        }
        Op::Filter(_) => {
            let next = sink(plan, phys, names, c, quote!(#x));
            quote!(let #x = #value; if #f(&#x) { #next })
        }
        Op::ReduceByKey(_) => quote! {
            let #x = #rt::ops::into_pair_reduce_by_key(#value);
            #st.merge(#x.0, #x.1, &mut #f);
        },
        Op::Reduce(_) => quote! {
            #st = ::core::option::Option::Some(match #st.take() {
                ::core::option::Option::Some(acc) => #f(acc, #value),
                ::core::option::Option::None => #value,
            });
        },
        Op::Count => quote!(let _ = #value; #st += 1;),
        Op::SocketTextStream { .. } | Op::TextFileStream { .. } => quote!(),
    }
}

/// Code run for each element `value` of stream `s`: buffer it, or hand it to the fused consumer.
fn sink(plan: &Plan, phys: &Physical, names: &Names, s: StreamId, value: TokenStream) -> TokenStream {
    if phys.materialized[s.0] {
        let v = names.ident("v", s);
        return quote!(#v.push(#value););
    }
    match phys.fused_consumer(s) {
        Some(c) => apply(plan, phys, names, c, value),
        None => quote!(let _ = #value;),
    }
}

/// The tokens of an operator's function: the user's closure, or a built-in's closure.
fn func_tokens(plan: &Plan, func: &Func, input: Option<&crate::ty::Ty>) -> TokenStream {
    let rt = rt();
    match func {
        Func::Closure(c) => plan.closures[c.0].tokens.clone(),
        Func::Builtin(b) => match b {
            Builtin::Split(d) => match input {
                Some(crate::ty::Ty::String) => {
                    quote!(|s: ::std::string::String| #rt::split::java_split(&s, #d).map(::std::string::String::from).collect::<::std::vec::Vec<_>>())
                }
                _ => quote!(|s| #rt::split::java_split(s, #d)),
            },
            Builtin::PairWith(lit) => {
                let l = literal(lit);
                quote!(|x| (x, #l))
            }
            Builtin::Sum => quote!(|a, b| a + b),
            Builtin::Min => quote!(|a, b| if b < a { b } else { a }),
            Builtin::Max => quote!(|a, b| if b > a { b } else { a }),
        },
    }
}

fn literal(lit: &Literal) -> TokenStream {
    match lit {
        Literal::Int(i) => {
            let l = proc_macro2::Literal::i64_suffixed(*i);
            quote!(#l)
        }
        Literal::Float(f) => {
            let l = proc_macro2::Literal::f64_suffixed(*f);
            quote!(#l)
        }
        Literal::Bool(b) => quote!(#b),
        Literal::Str(s) => quote!(#s),
    }
}

/// A whole `main.rs` for `streamc build`: the app expression and a `main` that runs it with the
/// runtime's command line (`--replay`, `--jsonl`).
pub fn main_file(plan: &Plan, phys: &Physical, spans: &SpanTable, spec_name: &str) -> String {
    let app = app_expr(plan, phys, spans);
    let file: TokenStream = quote! {
        #![allow(clippy::all, unused_mut, unused_variables)]
        fn main() -> ::std::process::ExitCode {
            let app = #app;
            app.run_main()
        }
    };
    let mut header =
        format!("//! Generated by streamc from `{spec_name}`; do not edit.\n//!\n//! Stages (each one loop nest):\n");
    for s in &phys.stages {
        header.push_str(&format!("//! - {s}\n"));
    }
    match syn::parse2::<syn::File>(file.clone()) {
        Ok(f) => format!("{header}\n{}", prettyplease::unparse(&f)),
        Err(_) => format!("{header}\n{file}\n"),
    }
}

/// Where each user closure sits in a generated `main.rs`: the 1-based line range of the
/// statement that binds it, and the closure's span in the spec. Lets the CLI report rustc's
/// errors inside YAML closures at the YAML line.
pub fn closure_sites(plan: &Plan, main_rs: &str) -> Vec<(std::ops::RangeInclusive<usize>, crate::span::SpanId)> {
    let names = Names::new(plan);
    let lines: Vec<&str> = main_rs.lines().collect();
    let mut sites = Vec::new();
    for (i, s) in plan.streams.iter().enumerate() {
        let closure = match &s.op {
            Op::Map(Func::Closure(c))
            | Op::FlatMap(Func::Closure(c))
            | Op::Filter(Func::Closure(c))
            | Op::Reduce(Func::Closure(c))
            | Op::ReduceByKey(Func::Closure(c)) => *c,
            _ => continue,
        };
        let needle = format!("let (mut {}, ", names.ident("f", StreamId(i)));
        let Some(start) = lines.iter().position(|l| l.trim_start().starts_with(&needle)) else { continue };
        let indent = lines[start].len() - lines[start].trim_start().len();
        // The statement ends at the first later line, at the same indentation, that ends with `;`.
        let end = (start..lines.len())
            .find(|&j| lines[j].ends_with(';') && lines[j].len() - lines[j].trim_start().len() == indent)
            .unwrap_or(start);
        sites.push((start + 1..=end + 1, plan.closures[closure.0].span));
    }
    sites
}
