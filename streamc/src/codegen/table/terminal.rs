//! The end of a query's per-row code: the aggregation update (each aggregate's code from the
//! function registry) or the output row.

use super::expr::expr;
use super::row::build_row;
use super::scope::{Scope, agg_key};
use super::tuple::{nest, path};
use crate::codegen::emit::rt;
use crate::table::{Checked, ColTy, OutputMode, TAgg, TStep};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

/// The aggregation update or the output row push, for each row that reaches the end.
pub(super) fn terminal(q: &Checked, scope: &Scope, agg: &Ident, wm: &Ident, rows: &Ident, row: &Ident) -> TokenStream {
    let rt = rt();
    let Some(a) = &q.agg else {
        // The row borrows the batch's strings (see `row::field_types`). Behind a join a row is
        // built once per match from the same stream values, so its strings are cloned (a
        // borrowed one's clone copies a reference); otherwise the values move into the row.
        let joined = q.steps.iter().any(|s| matches!(s, TStep::Join { .. } | TStep::StreamJoin(_)));
        let parts: Vec<TokenStream> = q
            .output
            .iter()
            .map(|c| {
                let (v, ty) = &scope[&c.name];
                match ty {
                    ColTy::String if joined => quote!(::core::clone::Clone::clone(&#v)),
                    _ => quote!(#v),
                }
            })
            .collect();
        let value = build_row(q, row, &parts);
        return quote!(#rows.push(#value););
    };
    // Keys are evaluated from the scope at the aggregation.
    let mut key_binds = TokenStream::new();
    let mut key_parts = Vec::new();
    for (k, (_, e, ty)) in a.keys.iter().enumerate() {
        let t = Ident::new(&format!("key_{k}"), Span::mixed_site());
        let code = expr(e, scope);
        key_binds.extend(quote!(let #t = #code;));
        key_parts.push(agg_key(&t, *ty));
    }
    let mut inits = Vec::new();
    let mut acc_tys = Vec::new();
    let mut updates = Vec::new();
    for (i, (_, f, arg, ty)) in a.aggs.iter().enumerate() {
        let idx = path(i, a.aggs.len());
        let val = arg.as_ref().map(|e| expr(e, scope));
        let def = f.def();
        acc_tys.push((def.acc_ty)(*ty));
        inits.push((def.init)(*ty));
        updates.push((def.update)(&idx, val.as_ref(), *ty));
    }
    let (acc_ty, init) = (nest(acc_tys), nest(inits));
    let update = quote!(#agg.update(key, |acc: &mut #acc_ty| { #(#updates)* }, || #init););
    // Complete mode keeps every row: Spark ignores the watermark there.
    let watermarked = q.watermark.is_some() && q.mode != OutputMode::Complete;
    // Spark counts late rows after partial aggregation: one per (window, key) group in a batch.
    let late_set = Ident::new("late_groups", Span::mixed_site());
    let late = if watermarked {
        let late_key =
            nest([quote!(ws), quote!(we)].into_iter().chain(key_parts.iter().map(|k| quote!(#k.clone()))).collect());
        quote!(if #wm.is_late(we) { #late_set.insert_new(#late_key, || ()); continue; })
    } else {
        quote!()
    };
    if let Some((column, gap_ms)) = &a.session {
        let (tv, _) = &scope[column];
        let gap = Literal::i64_suffixed((*gap_ms as i64) * 1000);
        let key = nest(key_parts);
        return quote! {
            #key_binds
            if let ::core::option::Option::Some(ts) = #tv {
                let key = #key;
                #agg.add(key, ts, #gap, |acc: &mut #acc_ty| { #(#updates)* }, || #init);
            }
        };
    }
    match &a.window {
        Some(w) => {
            let (tv, _) = &scope[&w.column];
            let (len, slide, start) = ((w.len_ms as i64) * 1000, (w.slide_ms as i64) * 1000, w.start_ms * 1000);
            let (len, slide, start) =
                (Literal::i64_suffixed(len), Literal::i64_suffixed(slide), Literal::i64_suffixed(start));
            let key = nest([quote!(ws), quote!(we)].into_iter().chain(key_parts.iter().cloned()).collect());
            quote! {
                #key_binds
                if let ::core::option::Option::Some(ts) = #tv {
                    for (ws, we) in #rt::structured::window::sliding_windows(ts, #len, #slide, #start) {
                        #late
                        let key = #key;
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
                    let late_key = nest(key_parts.iter().map(|k| quote!(#k.clone())).collect());
                    quote!(if let ::core::option::Option::Some(we) = #t { if #wm.is_late(we) { #late_set.insert_new(#late_key, || ()); continue; } })
                }
                None => quote!(),
            };
            let key = nest(key_parts);
            quote! {
                #key_binds
                #late
                let key = #key;
                #update
            }
        }
    }
}

/// Whether the aggregation drops late rows by group (a window, or a key that is the watermark
/// column, with a watermark outside complete mode), counting them in the `late_groups` set.
pub(super) fn counts_late_groups(q: &Checked) -> bool {
    let Some(a) = &q.agg else { return false };
    let watermarked = q.watermark.is_some() && q.mode != OutputMode::Complete;
    let on_key = q.watermark.as_ref().is_some_and(|(c, _)| a.keys.iter().any(|(n, _, _)| n == c));
    watermarked && a.session.is_none() && (a.window.is_some() || on_key)
}

/// `|a, b| a += b` for the accumulators of an aggregation (merging session windows).
pub(super) fn merge_fn(a: &TAgg) -> TokenStream {
    let mut parts = Vec::new();
    for (i, (_, f, _, _)) in a.aggs.iter().enumerate() {
        parts.push((f.def().merge)(&path(i, a.aggs.len())));
    }
    quote!(|x: &mut _, y| { #[allow(clippy::all)] { let _ = &y; #(#parts)* } })
}
