//! Code for a stream-stream join (`TStep::StreamJoin`, checked in `table::join`): each side's
//! state (`runtime::structured::join::JoinState`, keyed by the join keys, rows as owned tuples),
//! the left input's half in the left loop (probe the right state, buffer the row), the right
//! input's loop (its steps, probe the left state, buffer the row), and after both loops the
//! eviction that emits outer joins' unmatched rows padded with NULLs, as Spark's
//! `StreamingSymmetricHashJoinExec` orders them.

use super::expr::{expr, project};
use super::scope::{Scope, borrowed, ident};
use super::tuple::{nest, path};
use crate::codegen::emit::rt;
use crate::table::functions::rust_ty;
use crate::table::{Checked, ColTy, Column, Evict, JoinHow, TStep, TStreamJoin};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// The code of the query's steps after the join for a joined row with the columns of a scope.
pub(super) type Rest<'a> = &'a dyn Fn(Scope) -> TokenStream;

/// The states of the join of query `query`: (left, right).
pub(super) fn states(query: &str) -> (Ident, Ident) {
    (ident("join_left", query), ident("join_right", query))
}

/// A side's state watermark (ms) for the batch, bound before the loops.
fn bound_ident(left: bool) -> Ident {
    Ident::new(if left { "join_left_bound" } else { "join_right_bound" }, Span::mixed_site())
}

/// Whether an outer join keeps this side's rows that never matched (emitted NULL-padded).
fn keeps(j: &TStreamJoin, left: bool) -> bool {
    match j.how {
        JoinHow::LeftOuter => left,
        JoinHow::RightOuter => !left,
        JoinHow::FullOuter => true,
        JoinHow::Inner | JoinHow::LeftSemi => false,
    }
}

/// The types of the two states: `JoinState<keys, left row>` and `JoinState<keys, right row>`.
pub(super) fn state_types(j: &TStreamJoin) -> (TokenStream, TokenStream) {
    let rt = rt();
    let opt = |t: TokenStream| quote!(::core::option::Option<#t>);
    let key = nest(j.keys.iter().map(|(_, _, t)| opt(super::scope::key_rust_ty(*t))).collect());
    let row = |cols: &[Column]| nest(cols.iter().map(|c| opt(rust_ty(c.ty))).collect());
    let (l, r) = (row(&j.left), row(&j.right));
    (quote!(#rt::structured::join::JoinState<#key, #l>), quote!(#rt::structured::join::JoinState<#key, #r>))
}

/// The join step of `q`, with its index.
pub(super) fn find(q: &Checked) -> Option<(usize, &TStreamJoin)> {
    q.steps.iter().enumerate().find_map(|(i, s)| match s {
        TStep::StreamJoin(j) => Some((i, &**j)),
        _ => None,
    })
}

/// The state watermark of one side in ms, from the batch's watermark (`wm_now`, µs), or a
/// constant that evicts nothing.
pub(super) fn state_watermark(evict: &Option<Evict>, wm_now: &Ident) -> TokenStream {
    match evict {
        Some(Evict::Value { bounds, .. }) => {
            let each = bounds.iter().map(|(sign, off, minus)| quote!((#sign * #wm_now + #off) / 1000 - #minus));
            quote!([#(#each),*].into_iter().min().unwrap_or(i64::MIN))
        }
        _ => quote!(i64::MIN),
    }
}

/// Whether a row of one side is evictable (so neither buffered nor kept): by its key's event
/// time (`key`: the key variables) or its own (`cols`: the row's column variables).
fn evictable(
    evict: &Option<Evict>,
    keys: &[Ident],
    value_col: Option<&Ident>,
    wm_now: &Ident,
    bound: &Ident,
) -> TokenStream {
    match evict {
        Some(Evict::Key(k)) => {
            let v = &keys[*k];
            quote!(#v.is_some_and(|t| t.0 <= #wm_now))
        }
        Some(Evict::Value { .. }) => match value_col {
            Some(v) => quote!(#v.is_some_and(|t| t.0 <= #bound.saturating_mul(1000))),
            None => quote!(false),
        },
        None => quote!(false),
    }
}

/// A column variable as the owned value buffered in state.
fn owned(v: &Ident, ty: ColTy) -> TokenStream {
    match ty {
        ColTy::String => quote!(#v.as_deref().map(::std::borrow::ToOwned::to_owned)),
        _ => quote!(#v),
    }
}

/// Binds `cols` from the buffered tuple `row` (a reference), strings borrowed from it: enough
/// to test the join condition without copying anything.
fn bind_from(row: TokenStream, cols: &[Column], scope: &mut Scope) -> TokenStream {
    let mut binds = TokenStream::new();
    for (k, c) in cols.iter().enumerate() {
        let v = ident("col", &c.name);
        let at = path(k, cols.len());
        binds.extend(match c.ty {
            ColTy::String => quote!(let #v = #row.#at.as_deref().map(::std::borrow::Cow::<str>::Borrowed);),
            _ => quote!(let #v = #row.#at;),
        });
        scope.insert(c.name.clone(), (v, c.ty));
    }
    binds
}

/// Rebinds the string columns of `cols` (bound by [`bind_from`]) as copies, for a joined row
/// that goes on to the output: it outlives the state it was borrowed from.
fn own_strings(cols: &[Column]) -> TokenStream {
    let mut binds = TokenStream::new();
    for c in cols.iter().filter(|c| c.ty == ColTy::String) {
        let v = ident("col", &c.name);
        binds.extend(quote!(let #v = #v.map(|s| ::std::borrow::Cow::<str>::Owned(s.into_owned()));));
    }
    binds
}

/// Binds `cols` by moving them out of an evicted row `row` (owned): strings become owned cells.
fn bind_moved(row: &Ident, cols: &[Column], scope: &mut Scope) -> TokenStream {
    let mut binds = TokenStream::new();
    for (k, c) in cols.iter().enumerate() {
        let v = ident("col", &c.name);
        let at = path(k, cols.len());
        binds.extend(match c.ty {
            ColTy::String => quote!(let #v = #row.#at.map(::std::borrow::Cow::<str>::Owned);),
            _ => quote!(let #v = #row.#at;),
        });
        scope.insert(c.name.clone(), (v, c.ty));
    }
    binds
}

/// Binds `cols` to NULL (the missing side of an outer join's row).
fn bind_nulls(cols: &[Column], scope: &mut Scope) -> TokenStream {
    let mut binds = TokenStream::new();
    for c in cols {
        let v = ident("col", &c.name);
        let ty = match c.ty {
            ColTy::String => quote!(::std::borrow::Cow<'_, str>),
            t => rust_ty(t),
        };
        binds.extend(quote!(let #v: ::core::option::Option<#ty> = ::core::option::Option::None;));
        scope.insert(c.name.clone(), (v, c.ty));
    }
    binds
}

/// The key variables of one side's row, their NULL test and the borrowed probe.
fn keys(j: &TStreamJoin, left: bool, scope: &Scope) -> (TokenStream, Vec<Ident>, TokenStream, TokenStream) {
    let mut binds = TokenStream::new();
    let mut vars = Vec::new();
    for (k, (l, r, _)) in j.keys.iter().enumerate() {
        let v = Ident::new(&format!("join_key_{k}"), Span::mixed_site());
        let code = expr(if left { l } else { r }, scope);
        binds.extend(quote!(let #v = #code;));
        vars.push(v);
    }
    let nulls = vars.iter().map(|v| quote!(#v.is_none()));
    let nulls = quote!(#(#nulls)||*);
    let probe = nest(vars.iter().zip(&j.keys).map(|(v, (_, _, t))| borrowed(v, *t)).collect());
    (binds, vars, nulls, probe)
}

/// A condition that holds unless `cond` is false or NULL.
fn passes(cond: &Option<crate::table::expr::Expr>, scope: &Scope) -> TokenStream {
    match cond {
        Some(c) => {
            let x = expr(c, scope);
            quote!((#x == ::core::option::Option::Some(true)))
        }
        None => quote!(true),
    }
}

/// One side's half of the join, for a row of that side in scope: late rows dropped, the
/// side-only condition, the probe of the other side's state (with the rest of the query for each
/// joined row), then the row buffered.
/// With `in_parts` (a cluster partitions the join, `join_in_parts`) only the rows of keys this
/// process owns are joined.
pub(super) fn half(
    j: &TStreamJoin,
    left: bool,
    scope: Scope,
    rest: Rest<'_>,
    query: &str,
    wm: &Ident,
    in_parts: bool,
) -> TokenStream {
    let (ls, rs) = states(query);
    let (this_state, other_state) = if left { (&ls, &rs) } else { (&rs, &ls) };
    let (this_cols, other_cols) = if left { (&j.left, &j.right) } else { (&j.right, &j.left) };
    let (time, evict) = if left { (&j.left_time, &j.left_evict) } else { (&j.right_time, &j.right_evict) };
    let only = if left { &j.left_only } else { &j.right_only };
    let wm_now = Ident::new("join_wm_now", Span::mixed_site());
    let bound = bound_ident(left);
    let late = match time {
        Some(c) => {
            let (v, _) = &scope[c];
            quote!(if #v.is_some_and(|t| t <= #wm.for_late_events()) { continue; })
        }
        None => quote!(),
    };
    let keeps = keeps(j, left);
    let semi = j.how == JoinHow::LeftSemi;
    // The rest of the query for a row of this side alone: padded (outer), or as is (semi).
    let alone = |scope: &Scope| -> TokenStream {
        let mut s = scope.clone();
        let nulls = if semi { quote!() } else { bind_nulls(other_cols, &mut s) };
        let rest = rest(s);
        quote!(for () in ::core::iter::once(()) { #nulls #rest })
    };
    let unmatched_now = if keeps { alone(&scope) } else { quote!() };
    let passes_only = passes(only, &scope);
    let (key_binds, key_vars, nulls, probe) = keys(j, left, &scope);
    let value = nest(this_cols.iter().map(|c| owned(&scope[&c.name].0, c.ty)).collect());
    let value_col = time.as_ref().map(|c| &scope[c].0);
    let gone = evictable(evict, &key_vars, value_col, &wm_now, &bound);
    let other = Ident::new("other", Span::mixed_site());
    let mut joined_scope = scope.clone();
    let other_binds = bind_from(quote!(#other.value), other_cols, &mut joined_scope);
    let cond = passes(&j.both, &joined_scope);
    // Only a pair that joins copies the other side's strings.
    let own = own_strings(other_cols);
    let body = if semi && left {
        // A left row is emitted once, when the first right row joins it.
        let rest = alone(&scope);
        quote! {
            let mut any = false;
            {
                for #other in #other_state.probe(#probe).iter_mut() {
                    #other_binds
                    if !#cond { continue; }
                    #other.matched = true;
                    any = true;
                    break;
                }
            }
            // A matched left row of a semi join is final: it is not buffered (Spark).
            if !any && !(#gone) { #this_state.append(#probe, #value, any); }
            if any { #rest }
        }
    } else if semi {
        // A right row emits each left row it is the first to join (the left row alone).
        let mut left_scope = joined_scope.clone();
        left_scope.retain(|n, _| !j.right.iter().any(|c| &c.name == n));
        let rest = rest(left_scope);
        quote! {
            let mut any = false;
            {
                for #other in #other_state.probe(#probe).iter_mut() {
                    #other_binds
                    if !#cond { continue; }
                    any = true;
                    if #other.matched { continue; }
                    #other.matched = true;
                    #own
                    #rest
                }
            }
            if !(#gone) { #this_state.append(#probe, #value, any); }
        }
    } else {
        let rest = rest(joined_scope);
        // A row the state watermark has passed already is not buffered; an outer join emits it
        // now if nothing joined it (Spark).
        let unmatched_evictable = if keeps { alone(&scope) } else { quote!() };
        quote! {
            let mut any = false;
            {
                for #other in #other_state.probe(#probe).iter_mut() {
                    #other_binds
                    if !#cond { continue; }
                    #other.matched = true;
                    any = true;
                    #own
                    #rest
                }
            }
            if !(#gone) {
                #this_state.append(#probe, #value, any);
            } else if !any {
                #unmatched_evictable
            }
        }
    };
    // Spark infers `key IS NOT NULL` for the sides whose rows a NULL key cannot keep (both of
    // an inner or semi join, the other side of an outer join) and filters them before the join;
    // otherwise a NULL key is a key like any other (its state store compares key bytes).
    let drop_nulls = if filtered(j, left) { quote!(if #nulls { continue; }) } else { quote!() };
    if in_parts {
        // On a cluster, the process that owns the row's key joins (or drops) it; the others
        // skip it. Outside one, every row is this process's.
        let input = Ident::new("input", Span::mixed_site());
        return quote! {
            #key_binds
            if !#input.owns(&(#probe)) { continue; }
            #late
            if !#passes_only {
                #unmatched_now
                continue;
            }
            #drop_nulls
            #body
        };
    }
    quote! {
        #late
        if !#passes_only {
            #unmatched_now
            continue;
        }
        #key_binds
        #drop_nulls
        #body
    }
}

/// Whether the rows of one side with a NULL join key are dropped before the join (Spark's
/// `InferFiltersFromConstraints`: on both sides of inner and left semi joins, on the side an
/// outer join does not keep).
fn filtered(j: &TStreamJoin, left: bool) -> bool {
    match j.how {
        JoinHow::Inner | JoinHow::LeftSemi => true,
        JoinHow::LeftOuter => !left,
        JoinHow::RightOuter => left,
        JoinHow::FullOuter => false,
    }
}

/// The NULL-key filter of one side on its source columns, to run before the input's watermark
/// sees the row: Spark pushes the inferred `IS NOT NULL` below the watermark, so a row it drops
/// does not move the watermark. Keys that are not (renamed) source columns are filtered at the
/// join only.
pub(super) fn pre_watermark_filter(q: &Checked, j: &TStreamJoin, left: bool, scope: &Scope) -> TokenStream {
    if !filtered(j, left) {
        return quote!();
    }
    let before: Vec<&TStep> = if left {
        q.steps.iter().take_while(|s| !matches!(s, TStep::StreamJoin(_))).collect()
    } else {
        j.right_steps.iter().collect()
    };
    let mut tests = Vec::new();
    for (l, r, _) in &j.keys {
        let crate::table::expr::Expr::Column(name) = (if left { l } else { r }) else { continue };
        let mut name = name.clone();
        let mut found = true;
        for st in before.iter().rev() {
            if let TStep::Project(cols) = st {
                match cols.iter().find(|(n, _, _)| *n == name) {
                    Some((_, crate::table::expr::Expr::Column(src), _)) => name = src.clone(),
                    _ => {
                        found = false;
                        break;
                    }
                }
            }
        }
        if let (true, Some((v, _))) = (found, scope.get(&name)) {
            tests.push(quote!(#v.is_none()));
        }
    }
    if tests.is_empty() { quote!() } else { quote!(if #(#tests)||* { continue; }) }
}

/// The right input's code after parsing: its steps (projections and filters) from `skip` on,
/// then its half of the join.
pub(super) fn right_side(
    q: &Checked,
    j: &TStreamJoin,
    skip: usize,
    scope: Scope,
    rest: Rest<'_>,
    wm: &Ident,
) -> TokenStream {
    let mut code = TokenStream::new();
    let mut scope = scope;
    // The first `skip` steps (filters) ran before the watermark saw the row.
    for st in &j.right_steps[skip..] {
        match st {
            TStep::Filter(e) => {
                let c = expr(e, &scope);
                code.extend(quote!(if #c != ::core::option::Option::Some(true) { continue; }));
            }
            TStep::Project(cols) => {
                let (binds, s) = project(cols, &scope);
                code.extend(binds);
                scope = s;
            }
            _ => {}
        }
    }
    let half = half(j, false, scope, rest, &q.key(), wm, super::placement::join_in_parts(q));
    quote!(#code #half)
}

/// Before the loops: the batch's watermark and each side's state watermark.
pub(super) fn prelude(j: &TStreamJoin, wm: Option<&Ident>) -> TokenStream {
    let wm_now = Ident::new("join_wm_now", Span::mixed_site());
    let (lb, rb) = (bound_ident(true), bound_ident(false));
    let now = match wm {
        Some(w) => quote!(#w.current().0),
        None => quote!(i64::MIN),
    };
    let (l, r) = (state_watermark(&j.left_evict, &wm_now), state_watermark(&j.right_evict, &wm_now));
    quote! {
        let #wm_now: i64 = #now;
        let #lb: i64 = #l;
        let #rb: i64 = #r;
    }
}

/// After both loops: each side's evictable rows leave state; an outer join emits the ones that
/// never matched, padded with NULLs (the left side's first), and reports both states.
pub(super) fn finish(q: &Checked, j: &TStreamJoin, rest: Rest<'_>, node: &str, output: &Ident) -> TokenStream {
    let rt = rt();
    let (ls, rs) = states(&q.key());
    let wm_now = Ident::new("join_wm_now", Span::mixed_site());
    let mut code = TokenStream::new();
    let updated = Ident::new("join_updated", Span::mixed_site());
    code.extend(quote!(let #updated = (#ls.updated_count() + #rs.updated_count()) as u64;));
    for left in [true, false] {
        let (state, cols, evict, other_cols) =
            if left { (&ls, &j.left, &j.left_evict, &j.right) } else { (&rs, &j.right, &j.right_evict, &j.left) };
        let bound = bound_ident(left);
        let gone = match evict {
            Some(Evict::Key(k)) => {
                let at = path(*k, j.keys.len());
                quote!(|k, _| k.#at.is_some_and(|t| t.0 <= #wm_now))
            }
            Some(Evict::Value { column, .. }) => {
                let at = path(cols.iter().position(|c| &c.name == column).unwrap_or(0), cols.len());
                quote!(|_, v| v.#at.is_some_and(|t| t.0 <= #bound.saturating_mul(1000)))
            }
            None => {
                code.extend(quote!(#state.end_batch();));
                continue;
            }
        };
        if keeps(j, left) {
            let mut scope = Scope::new();
            let row = Ident::new("evicted_row", Span::mixed_site());
            let binds = bind_moved(&row, cols, &mut scope);
            let nulls = bind_nulls(other_cols, &mut scope);
            let rest = rest(scope);
            code.extend(quote! {
                let mut unmatched = ::std::vec::Vec::new();
                #state.evict(#gone, |v, matched| if !matched { unmatched.push(v) });
                for #row in unmatched {
                    #binds
                    #nulls
                    #rest
                }
            });
        } else {
            code.extend(quote!(#state.evict(#gone, |_, _| {});));
        }
    }
    code.extend(if super::placement::join_in_parts(q) {
        // Added up over the processes where the rows are put out (`emit_partitioned`).
        quote! {
            let join_figures = #rt::app::state_report(#node, "symmetricHashJoin", &#rt::structured::join::Both(&#ls, &#rs), #updated, 0);
        }
    } else {
        quote! {
            #output.report_operator_state(#node, "symmetricHashJoin", &#rt::structured::join::Both(&#ls, &#rs), #updated, 0);
        }
    });
    code
}
