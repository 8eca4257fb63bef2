//! The steps of a query as nested code around its terminal: filters, projections, `explode`,
//! watermark observation, deduplication and joins.

use super::expr::{expr, project};
use super::scope::{Scope, borrowed, ident};
use super::tuple::{nest, path};
use crate::codegen::emit::rt;
use crate::table::expr::Expr;
use crate::table::{Checked, ColTy, JoinHow, TStep};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// The columns in scope after all steps (for the terminal).
pub(super) fn scope_after(q: &Checked) -> Scope {
    scope_before(q, q.steps.len())
}

/// The columns in scope where step `at` begins.
pub(super) fn scope_before(q: &Checked, at: usize) -> Scope {
    let mut s: Scope = q.input.iter().map(|c| (c.name.clone(), (ident("col", &c.name), c.ty))).collect();
    for st in &q.steps[..at] {
        match st {
            TStep::Project(cols) => {
                s = cols.iter().map(|(n, _, t)| (n.clone(), (ident("col", n), *t))).collect();
            }
            TStep::Explode { name, others, elem, value, pos, .. } => {
                s = others.iter().map(|(n, _, t)| (n.clone(), (ident("col", n), *t))).collect();
                s.insert(name.clone(), (ident("col", name), *elem));
                if let Some((v, t)) = value {
                    s.insert(v.clone(), (ident("col", v), *t));
                }
                if let Some(p) = pos {
                    s.insert(p.clone(), (ident("col", p), ColTy::Long));
                }
            }
            TStep::Join { right, .. } => {
                s.extend(right.iter().map(|c| (c.name.clone(), (ident("col", &c.name), c.ty))));
            }
            TStep::StreamJoin(j) if j.how != crate::table::JoinHow::LeftSemi => {
                s.extend(j.right.iter().map(|c| (c.name.clone(), (ident("col", &c.name), c.ty))));
            }
            _ => {}
        }
    }
    s
}

/// The counter of the rows graph node `node` puts out in a batch (declared per batch, counted
/// only with the UI: `ROW_COUNTS`).
pub(super) fn node_rows(node: usize) -> Ident {
    Ident::new(&format!("node_rows_{node}"), Span::mixed_site())
}

/// Steps from `i` on, around the terminal code. `nodes` are the steps' graph nodes: a row that
/// reaches step `i` is counted as put out by step `i - 1`.
pub(super) fn steps(
    q: &Checked,
    i: usize,
    scope: Scope,
    terminal: TokenStream,
    wm: &Ident,
    nodes: &[usize],
) -> TokenStream {
    let count = match i.checked_sub(1).and_then(|prev| nodes.get(prev)) {
        Some(&n) => {
            let (rt, n) = (rt(), node_rows(n));
            quote!(if #rt::ROW_COUNTS { #n += 1; })
        }
        None => quote!(),
    };
    let code = step(q, i, scope, terminal, wm, nodes);
    quote!(#count #code)
}

/// Step `i` on, around the terminal code, without counting the rows that reach step `i`.
pub(super) fn step(
    q: &Checked,
    i: usize,
    scope: Scope,
    terminal: TokenStream,
    wm: &Ident,
    nodes: &[usize],
) -> TokenStream {
    let Some(step) = q.steps.get(i) else { return terminal };
    match step {
        TStep::Filter(e) => {
            let cond = expr(e, &scope);
            let rest = steps(q, i + 1, scope, terminal, wm, nodes);
            quote!(if #cond != ::core::option::Option::Some(true) { continue; } #rest)
        }
        TStep::Watermark { column } => {
            let (v, _) = &scope[column];
            let rest = steps(q, i + 1, scope.clone(), terminal, wm, nodes);
            quote!(if let ::core::option::Option::Some(ts) = #v { #wm.observe(ts); } #rest)
        }
        TStep::Project(cols) => {
            let (binds, new_scope) = project(cols, &scope);
            let rest = steps(q, i + 1, new_scope, terminal, wm, nodes);
            quote!(#binds #rest)
        }
        TStep::Dedup { cols, late_column, within_ms, .. } => {
            let dd = ident(&format!("dedup{i}"), &q.key());
            let dd_dropped = ident(&format!("dedup_dropped{i}"), &q.key());
            let late = match late_column {
                Some(c) => {
                    let (v, _) = &scope[c];
                    quote!(if let ::core::option::Option::Some(ts) = #v { if #wm.is_late(ts) { #dd_dropped += 1; continue; } })
                }
                None => quote!(),
            };
            let parts = nest(cols.iter().map(|(n, t)| borrowed(&scope[n].0, *t)).collect());
            let scope_time = |s: &Scope, c: &str| s[c].clone();
            let value = match (within_ms, late_column) {
                // The key's expiry: the event time of its first row plus the delay (a row
                // without one never expires).
                (Some(d), Some(c)) => {
                    let (v, _) = &scope_time(&scope, c);
                    let d_us = (*d as i64) * 1000;
                    let rt = rt();
                    quote!(#v.map_or(#rt::structured::time::Timestamp(i64::MAX), |t| #rt::structured::time::Timestamp(t.0.saturating_add(#d_us))))
                }
                _ => quote!(()),
            };
            let rest = steps(q, i + 1, scope, terminal, wm, nodes);
            quote! {
                #late
                if !#dd.insert_new(#parts, || #value) { continue; }
                #rest
            }
        }
        TStep::Join { on, right, how, .. } => {
            let map = ident(&format!("static{i}"), &q.key());
            let keys = nest(on.iter().map(|(n, t)| borrowed(&scope[n].0, *t)).collect());
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
                let idx = path(k, right.len());
                binds.extend(match c.ty {
                    ColTy::String => {
                        quote!(let #v = matched.and_then(|r| r.#idx.as_deref()).map(::std::borrow::Cow::Borrowed);)
                    }
                    _ => quote!(let #v = matched.and_then(|r| r.#idx.clone());),
                });
                new_scope.insert(c.name.clone(), (v, c.ty));
            }
            let outer = *how == JoinHow::LeftOuter;
            let rest = steps(q, i + 1, new_scope, terminal, wm, nodes);
            quote! {
                // SQL equality: a NULL key matches nothing.
                let found = if #(#nulls)||* { ::core::option::Option::None } else { #map.get(#keys) };
                let found: &[_] = found.map_or(&[], |v| v.as_slice());
                let unmatched = if #outer && found.is_empty() { ::core::option::Option::Some(::core::option::Option::None) } else { ::core::option::Option::None };
                for matched in found.iter().map(::core::option::Option::Some).chain(unmatched) {
                    #binds
                    #rest
                }
            }
        }
        // The rows go into the batch's groups (the terminal, `groups.rs`).
        TStep::GroupsWithState(_) => steps(q, i + 1, scope, terminal, wm, nodes),
        TStep::StreamJoin(j) => {
            let rest = |s: Scope| steps(q, i + 1, s, terminal.clone(), wm, nodes);
            super::join::half(j, true, scope, &rest, &q.key(), wm, super::placement::join_in_parts(q))
        }
        TStep::Explode { name, array, elem, value, pos, others } => {
            let (binds, mut new_scope) = project(others, &scope);
            let v = ident("col", name);
            new_scope.insert(name.clone(), (v.clone(), *elem));
            if let Some((vn, t)) = value {
                new_scope.insert(vn.clone(), (ident("col", vn), *t));
            }
            if let Some(p) = pos {
                new_scope.insert(p.clone(), (ident("col", p), ColTy::Long));
            }
            let rest = steps(q, i + 1, new_scope, terminal, wm, nodes);
            let arr = Ident::new("exploded", Span::mixed_site());
            // `pos` of `posexplode`: the element's index.
            let index = Ident::new("index", Span::mixed_site());
            let pos_bind = match pos {
                Some(p) => {
                    let pv = ident("col", p);
                    quote!(let #pv = ::core::option::Option::Some(#index as i64);)
                }
                None => quote!(),
            };
            // The loop's pattern and iterator: with the element's index only for `posexplode`.
            let each = |item: TokenStream, iter: TokenStream| match pos {
                Some(_) => quote!((#index, #item) in (#iter).enumerate()),
                None => quote!(#item in #iter),
            };
            if let Some((vn, vt)) = value {
                // A map: one row per entry, `key` and `value`.
                let src = expr(array, &scope);
                let (key, val) = (
                    super::nested::lift(*elem, quote!(::core::option::Option::Some(k))),
                    super::nested::lift(*vt, quote!(v)),
                );
                let vv = ident("col", vn);
                let entries = each(quote!((k, v)), quote!(#arr.0.into_iter()));
                return quote! {
                    #binds
                    if let ::core::option::Option::Some(#arr) = #src {
                        for #entries {
                            #pos_bind
                            let #v = #key;
                            let #vv = #val;
                            #rest
                        }
                    }
                };
            }
            // `explode(split(s, 'literal'))`: the pieces borrowed from the text, no array built.
            let split = match array {
                Expr::Call(f, args) if f == "split" && crate::table::functions::literal_split(args.iter()) => {
                    match &args[1] {
                        Expr::Str(p) => Some((&args[0], p.clone())),
                        _ => None,
                    }
                }
                _ => None,
            };
            let Some((text, pat)) = split else {
                let src = expr(array, &scope);
                let element = super::nested::lift(*elem, quote!(element));
                let elements = each(quote!(element), quote!(#arr.into_iter()));
                return quote! {
                    #binds
                    if let ::core::option::Option::Some(#arr) = #src {
                        for #elements {
                            #pos_bind
                            let #v = #element;
                            #rest
                        }
                    }
                };
            };
            let src = expr(text, &scope);
            // An aggregation reads each piece before the next (borrowed from `exploded`); the
            // rows of a query without one outlive the element (see `runtime::structured::text::pieces`).
            let each = match &q.agg {
                Some(_) => {
                    let pieces = each(quote!(piece), quote!(#arr.split(#pat)));
                    quote!(for #pieces {
                        #pos_bind
                        let #v = ::core::option::Option::Some(::std::borrow::Cow::Borrowed(piece));
                        #rest
                    })
                }
                None => {
                    let rt = rt();
                    let pieces = each(quote!(piece), quote!(#rt::structured::text::pieces(#arr, #pat)));
                    quote!(for #pieces {
                        #pos_bind
                        let #v = ::core::option::Option::Some(piece);
                        #rest
                    })
                }
            };
            quote! {
                #binds
                if let ::core::option::Option::Some(#arr) = #src {
                    #each
                }
            }
        }
    }
}
