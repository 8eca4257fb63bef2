//! The windowed operators with a plan operator of their own: `window` and
//! `reduce_by_key_and_window` (the composites built on them are in `window_composite.rs`).

use super::def::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use super::emit::{Bind, Codegen, Gen, rt};
use super::reduce_by_key;
use super::rules::{Infer, check_arity, check_key, check_reduce_fn, pair_parts};
use crate::diag::Diagnostics;
use crate::dstream::plan::{Func, Op};
use crate::dstream::ty::Ty;
use proc_macro2::TokenStream;
use quote::quote;

pub static WINDOW: OperatorDef = OperatorDef {
    name: "window",
    spark: "window",
    kind: Kind::Windowed,
    inputs: Inputs::One,
    feed: Feed::Collection,
    pairs: false,
    stateful: never,
    params: Params::Windowed { min: 0, max: 0, fields: &["length", "slide"] },
    yaml: "`{ length, slide }`",
    types: "`T → T`",
    doc: "the elements of the batches in the last `length`, every `slide`",
    example: "let recent = lines.window(Seconds(30), Seconds(10));",
    lower: Some(|a: Args| {
        let (len_ms, slide_ms) = a.window?;
        one(Some(Op::Window { len_ms, slide_ms }))
    }),
    ty: ty_window,
    codegen: Codegen {
        keep: Some(|g| {
            let (rt, p) = (rt(), g.ident("keep"));
            let Op::Window { len_ms, .. } = &g.stream.op else { return TokenStream::new() };
            let len = *len_ms as i64;
            quote!(let mut #p = #rt::window::Window::new(#len);)
        }),
        bind: |g| {
            let (rt, ty, in_ty) = (rt(), g.ident("ty"), g.input_ident("ty", 0));
            match g.input_ty() {
                Some(Ty::Str) => Bind::unbuffered(quote!(let #ty = #in_ty;)),
                _ => Bind::unbuffered(g.at(quote!(let #ty = #rt::ops::owned(#in_ty);))),
            }
        },
        describe: |s, input| match &s.op {
            Op::Window { len_ms, .. } => format!("window of {len_ms} ms over {input}"),
            _ => format!("window over {input}"),
        },
        finish: |g| {
            let (rt, v, keep, input) = (rt(), g.ident("v"), g.ident("keep"), g.input);
            let a = g.taken.first().cloned().unwrap_or_default();
            let push = g.if_input_active(
                quote!(#keep.push(#input.time_ms(), ::std::iter::IntoIterator::into_iter(#a).map(#rt::ops::into_owned).collect());),
            );
            // Lines stay `&str`, borrowed from the window: no copy per line and slide.
            let collect = match g.input_ty() {
                Some(Ty::Str) => g.when(quote!(#keep.collect_str(#input.time_ms()))),
                _ => g.when(quote!(#keep.collect(#input.time_ms()))),
            };
            quote!(#push let mut #v = #collect;)
        },
        ..Codegen::NONE
    },
};

pub static REDUCE_BY_KEY_AND_WINDOW: OperatorDef = OperatorDef {
    name: "reduce_by_key_and_window",
    spark: "reduceByKeyAndWindow",
    kind: Kind::Windowed,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: true,
    // With an inverse, the window's running totals are state that outlives a batch.
    stateful: |op| matches!(op, Op::ReduceByKeyAndWindow { inverse: Some(_), .. }),
    params: Params::Windowed { min: 1, max: 3, fields: &["func", "inverse", "filter", "length", "slide"] },
    yaml: "`{ func, inverse?, filter?, length, slide }` (`inverse: subtract`, `filter: non_zero` built in)",
    types: "`(K, V) → (K, V)`",
    doc: "folds the values of each key over a window, incrementally when given an inverse",
    example: "let counts = pairs.reduce_by_key_and_window(|a, b| a + b, |a, b| a - b, Seconds(30), Seconds(10));",
    lower: Some(|a: Args| {
        let (len_ms, slide_ms) = a.window?;
        let Args { func, inverse, filter, .. } = a;
        one(Some(Op::ReduceByKeyAndWindow { func: func?, inverse, filter, len_ms, slide_ms }))
    }),
    ty: ty_reduce_by_key_and_window,
    codegen: Codegen {
        partitions: true,
        keep: Some(|g| {
            let (rt, p) = (rt(), g.ident("keep"));
            match &g.stream.op {
                Op::ReduceByKeyAndWindow { inverse: None, len_ms, .. } => {
                    let len = *len_ms as i64;
                    quote!(let mut #p = #rt::window::KeyedWindow::new(#len);)
                }
                Op::ReduceByKeyAndWindow { inverse: Some(_), len_ms, .. } => {
                    let (len, slide) = (*len_ms as i64, g.stream.slide_ms as i64);
                    quote!(let mut #p = #rt::window::InvKeyedWindow::new(#len, #slide);)
                }
                _ => TokenStream::new(),
            }
        }),
        bind: bind_keyed_window,
        describe: |s, input| match &s.op {
            Op::ReduceByKeyAndWindow { inverse, len_ms, .. } => format!(
                "reduce_by_key_and_window of {len_ms} ms sliding {} ms{} over {input}",
                s.slide_ms,
                if inverse.is_some() { " with an inverse function" } else { "" }
            ),
            _ => format!("reduce_by_key_and_window over {input}"),
        },
        // The window's result is kept in the state from slide to slide (with an inverse, as the
        // running totals; without, to reuse its keys), so outputs read it in place and only
        // consumers that take elements by value clone them.
        borrows: |_| true,
        apply: reduce_by_key::apply_pair,
        finish: finish_keyed_window,
        merge: Some(|g| {
            let f = g.ident("f");
            quote!(&mut #f)
        }),
        ..Codegen::NONE
    },
};

/// Each batch is reduced by key into a pane (`state_<id>`, as `reduce_by_key`), with the
/// inverse and the filter bound beside the function.
fn bind_keyed_window(g: &Gen) -> Bind {
    let Op::ReduceByKeyAndWindow { func, inverse, filter, .. } = &g.stream.op else {
        return Bind::unbuffered(TokenStream::new());
    };
    let (rt, f, ty, in_ty, pane) = (rt(), g.ident("f"), g.ident("ty"), g.input_ident("ty", 0), g.ident("pane_ty"));
    let mut t = g.bind_fn("reduce_by_key", &f, &pane, &in_ty, func);
    t.extend(g.at(quote!(let #ty = #rt::ops::owned(#pane);)));
    t.extend(reduce_by_key::bind_table(g));
    if let Some(inv) = inverse {
        let (fi, unused) = (g.ident("inverse"), g.ident("unused"));
        t.extend(g.bind_fn("reduce_by_key", &fi, &unused, &in_ty, inv));
    }
    let (ff, unused) = (g.ident("keep_if"), g.ident("unused_filter"));
    let c = match filter {
        Some(flt) => super::emit::func_tokens(g.plan, flt),
        None => quote!(|_| true),
    };
    t.extend(super::emit::bind_fn("filter", &ff, &unused, &ty, c, g.span));
    Bind::unbuffered(t)
}

/// The pane joins the window; the window is reduced (or, with an inverse, slid); its pairs are
/// borrowed from the state (see `is_borrowed` in the code generator).
fn finish_keyed_window(g: &Gen) -> TokenStream {
    let Op::ReduceByKeyAndWindow { inverse, .. } = &g.stream.op else { return TokenStream::new() };
    let (rt, v, st, cap, keep, f, input) =
        (rt(), g.ident("v"), g.ident("state"), g.ident("cap"), g.ident("keep"), g.ident("f"), g.input);
    let pane = quote!(#st.into_vec().into_iter().map(#rt::ops::into_owned).collect());
    let push = g.if_input_active(quote!(#cap = #st.room(); #keep.push_pane(#input.time_ms(), #pane);));
    let (fi, ff) = (g.ident("inverse"), g.ident("keep_if"));
    let slide = match inverse {
        Some(_) => quote!(#keep.slide(#input.time_ms(), &mut #f, &mut #fi, &mut #ff)),
        None => quote!(#keep.reduce(#input.time_ms(), &mut #f, &mut #ff)),
    };
    let result = match &g.active {
        Some(c) => quote!(if #c { #slide } else { &[] }),
        None => slide,
    };
    quote!(#push let #v: &[_] = #result;)
}

pub(super) fn ty_window(i: Infer, _: &mut Diagnostics) -> Ty {
    let Infer { input, .. } = i;
    match input {
        // Kept as `String`s, read back as `&str`s.
        Ty::Str => Ty::Str,
        other => other.owned(),
    }
}

pub(super) fn ty_reduce_by_key_and_window(i: Infer, diags: &mut Diagnostics) -> Ty {
    let Infer { s, plan, id, input, input_name, op_name } = i;
    let Op::ReduceByKeyAndWindow { func, inverse, filter, .. } = &s.op else { return Ty::Unknown };
    let (key, value) = pair_parts(plan, id, &input, &input_name, diags);
    check_key(plan, id, &key, diags);
    check_reduce_fn(plan, func, op_name, &value, &input_name, diags);
    if let Some(inv) = inverse {
        check_reduce_fn(plan, inv, "the inverse function", &value, &input_name, diags);
    }
    if let Some(Func::Closure(c)) = filter {
        check_arity(plan, *c, "the filter function", 1, diags);
    }
    Ty::Tuple(vec![key, value]).owned()
}
