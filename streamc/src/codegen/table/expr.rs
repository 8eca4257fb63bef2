//! Column expressions as Rust code of type `Option<T>` (None = SQL NULL); function calls from
//! the registry.

use super::cast::{cast_failure, dec_params};
use super::scope::Scope;
use crate::table::ColTy;
use crate::table::expr::{BinOp, Expr, UnOp};
use crate::table::functions::{self, Form};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

/// An expression as Rust code of type `Option<T>` (None = SQL NULL).
pub(super) fn expr(e: &Expr, scope: &Scope) -> TokenStream {
    let some = quote!(::core::option::Option::Some);
    match e {
        Expr::Column(c) => match scope.get(c) {
            Some((v, _)) => quote!(#v.clone()),
            None => quote!(::core::option::Option::None),
        },
        Expr::Str(s) => quote!(#some(::std::borrow::Cow::Borrowed(#s))),
        // An `int` literal is left untyped: the checker has made it the integral type of its
        // context (`n + 1` of a bigint `n`), which Rust infers; alone it is an `i32`.
        Expr::Int(i) => match i32::try_from(*i) {
            Ok(i) => {
                let l = Literal::i32_unsuffixed(i);
                quote!(#some(#l))
            }
            Err(_) => {
                let l = Literal::i64_suffixed(*i);
                quote!(#some(#l))
            }
        },
        Expr::Float(x) => {
            let l = Literal::f64_suffixed(*x);
            quote!(#some(#l))
        }
        Expr::Bool(b) => quote!(#some(#b)),
        // A bare NULL is a `void` value; one that met a type is a `Cast` of it (see `cast`).
        Expr::Null => quote!(::core::option::Option::None::<::streamc_runtime::structured::void::Void>),
        Expr::Star => quote!(::core::option::Option::None),
        Expr::Unary(UnOp::Not, x) => {
            let x = expr(x, scope);
            quote!((#x).map(|v: bool| !v))
        }
        Expr::Unary(UnOp::Neg, x) => {
            let ty = static_ty(x, scope);
            let code = expr(x, scope);
            if let Some(ColTy::Decimal(..)) = ty {
                quote!((#code).map(::streamc_runtime::structured::decimal::neg))
            } else if ty.is_some_and(ColTy::integral) {
                // ANSI: `-` of the smallest integer overflows.
                let failure = cast_failure();
                quote!((#code).and_then(|v| ::streamc_runtime::structured::arith::neg(v, &#failure)))
            } else {
                quote!((#code).map(|v| -v))
            }
        }
        Expr::Binary(op, a, b) => {
            let ta = static_ty(a, scope);
            let tb = static_ty(b, scope);
            let (ca, cb) = (expr(a, scope), expr(b, scope));
            if let (Some(da @ ColTy::Decimal(..)), Some(db @ ColTy::Decimal(..))) = (ta, tb)
                && !op.is_comparison()
                && let Some(result) = crate::table::coerce::decimal_result(*op, da, db)
            {
                return decimal_arith(*op, (ca, da), (cb, db), result);
            }
            // The checker has cast both sides to one type (doubles for `/`); floats compute as
            // floats, doubles as doubles, integers with ANSI's overflow checks.
            let double = ta == Some(ColTy::Double) || tb == Some(ColTy::Double) || *op == BinOp::Div;
            let float = !double && (ta == Some(ColTy::Float) || tb == Some(ColTy::Float));
            let number = ta.is_some_and(ColTy::number) || tb.is_some_and(ColTy::number);
            let (xa, xb) = if double && number {
                (quote!((a as f64)), quote!((b as f64)))
            } else if float && number {
                (quote!((a as f32)), quote!((b as f32)))
            } else {
                (quote!(a), quote!(b))
            };
            let float = float || double;
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
                // ANSI arithmetic: long overflow and division or remainder by zero fail the
                // batch (`structured::arith`, recording in the query's `cast_failure`).
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod
                    if ta.is_some_and(ColTy::number) && tb.is_some_and(ColTy::number) =>
                {
                    let rt = quote!(::streamc_runtime::structured);
                    let failure = cast_failure();
                    let call = match (op, float) {
                        (BinOp::Add, false) => quote!(#rt::arith::add(a, b, &#failure)),
                        (BinOp::Sub, false) => quote!(#rt::arith::sub(a, b, &#failure)),
                        (BinOp::Mul, false) => quote!(#rt::arith::mul(a, b, &#failure)),
                        (BinOp::Mod, false) => quote!(#rt::arith::rem(a, b, &#failure)),
                        (BinOp::Mod, true) if double => quote!(#rt::arith::rem_f64(#xa, #xb, &#failure)),
                        (BinOp::Mod, true) => quote!(#rt::arith::rem_f32(#xa, #xb, &#failure)),
                        (BinOp::Div, _) => quote!(#rt::arith::div(#xa, #xb, &#failure)),
                        (BinOp::Add, true) => quote!(#some(#xa + #xb)),
                        (BinOp::Sub, true) => quote!(#some(#xa - #xb)),
                        _ => quote!(#some(#xa * #xb)),
                    };
                    quote!(match (#ca, #cb) {
                        (::core::option::Option::Some(a), ::core::option::Option::Some(b)) => #call,
                        _ => ::core::option::Option::None,
                    })
                }
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
                    // Spark orders floating-point numbers totally: NaN equals NaN and is above
                    // every other value, and -0.0 equals 0.0.
                    let compared = if float && number && op.is_comparison() {
                        quote!(::streamc_runtime::structured::arith::float_cmp(#xa as f64, #xb as f64) #sym ::core::cmp::Ordering::Equal)
                    } else {
                        quote!(#xa #sym #xb)
                    };
                    quote!(match (#ca, #cb) {
                        (::core::option::Option::Some(a), ::core::option::Option::Some(b)) => #some(#compared),
                        _ => ::core::option::Option::None,
                    })
                }
            }
        }
        Expr::Cast(x, from, to) => cast(x, *from, *to, false, scope),
        Expr::TryCast(x, from, to) => cast(x, *from, *to, true, scope),
        Expr::Call(f, args) if f == "+months" && args.len() == 2 => {
            let x = expr(&args[0], scope);
            let n = match &args[1] {
                Expr::Int(n) => Literal::i64_suffixed(*n),
                _ => Literal::i64_suffixed(0),
            };
            let cal = quote!(::streamc_runtime::structured::calendar);
            match static_ty(&args[0], scope) {
                Some(ColTy::Date) => quote!((#x).and_then(|d| #cal::add_months(d, #n))),
                _ => quote!((#x).and_then(|t| #cal::add_months_to_timestamp(t, #n))),
            }
        }
        // `json_tuple`'s column `i` (see `table::rows`): the row's JSON is parsed once for all keys.
        Expr::Call(f, args) if f == ".json_tuple" && args.len() >= 3 => {
            let json = expr(&args[0], scope);
            let i = match &args[1] {
                Expr::Int(i) => *i as usize,
                _ => 0,
            };
            let keys = args[2..].iter().map(|k| match k {
                Expr::Str(k) => k.as_str(),
                _ => "",
            });
            quote!(::streamc_runtime::structured::nested::json_tuple((#json).as_deref(), &[#(#keys),*], #i)
                .map(::std::borrow::Cow::<'_, str>::Owned))
        }
        Expr::Call(f, args) if f == "+interval" && args.len() == 2 => {
            let x = expr(&args[0], scope);
            let us = match &args[1] {
                Expr::Int(us) => Literal::i64_suffixed(*us),
                _ => Literal::i64_suffixed(0),
            };
            quote!((#x).and_then(|t| t.0.checked_add(#us).map(::streamc_runtime::structured::time::Timestamp)))
        }
        // `s.field` of a struct, `a[i]` of an array, `m[k]` of a map (the front ends'
        // `.field` and `[]`).
        Expr::Call(f, args) if f == ".field" && args.len() == 2 => {
            let Some(fields @ ColTy::Struct(_)) = static_ty(&args[0], scope) else {
                return quote!(::core::option::Option::None);
            };
            let Some((k, field)) = field_name(&args[1]).and_then(|n| fields.field(n)) else {
                return quote!(::core::option::Option::None);
            };
            let ColTy::Struct(list) = fields else { return quote!(::core::option::Option::None) };
            let slot = &functions::struct_fields(list)[k];
            // A column is read in place (only the field is copied); a computed struct is moved.
            let value = match column_var(&args[0], scope) {
                Some(v) => quote!(#v.as_ref().and_then(|s| s.#slot.clone())),
                None => {
                    let x = expr(&args[0], scope);
                    quote!((#x).and_then(|s| s.#slot))
                }
            };
            super::nested::lift(field.ty, value)
        }
        Expr::Call(f, args) if f == "[]" && args.len() == 2 => {
            // A column's array or map is read in place, not copied for each element taken.
            let x = match column_var(&args[0], scope) {
                Some(v) => quote!(#v),
                None => {
                    let x = expr(&args[0], scope);
                    quote!((#x))
                }
            };
            let i = expr(&args[1], scope);
            let failure = cast_failure();
            match static_ty(&args[0], scope) {
                Some(ColTy::Array(e)) => super::nested::lift(
                    *e,
                    quote!(::streamc_runtime::structured::nested::index(#x.as_deref(), #i, &#failure)),
                ),
                Some(ColTy::Map((k, v))) => {
                    let key = if *k == ColTy::String { quote!(&*key) } else { quote!(&key) };
                    super::nested::lift(
                        *v,
                        quote!(match (#x.as_ref(), #i) {
                            (::core::option::Option::Some(m), ::core::option::Option::Some(key)) => m.get(#key),
                            _ => ::core::option::Option::None,
                        }),
                    )
                }
                _ => quote!(::core::option::Option::None),
            }
        }
        Expr::Call(f, args) if f == "struct" || f == "named_struct" => {
            let Some(ColTy::Struct(fields)) = call_ty(f, args, scope) else {
                return quote!(::core::option::Option::None);
            };
            let name = functions::struct_ident(fields);
            let values: Vec<&Expr> =
                if f == "struct" { args.iter().collect() } else { args.iter().skip(1).step_by(2).collect() };
            let slots = functions::struct_fields(fields);
            let vals = values.iter().zip(fields.iter()).map(|(x, field)| functions::lower(field.ty, &expr(x, scope)));
            quote!(::core::option::Option::Some(#name { #(#slots: #vals),* }))
        }
        // `split` on a regular expression, or with a limit: Java's `String.split(regex, limit)`.
        Expr::Call(f, args) if f == "split" && !functions::literal_split(args.iter()) => {
            let (s, p) = (expr(&args[0], scope), expr(&args[1], scope));
            let limit = args.get(2).map_or(quote!(::core::option::Option::Some(-1i64)), |l| expr(l, scope));
            let re = functions::regex_code(&p);
            quote!(match (#s, #limit) {
                (::core::option::Option::Some(s), ::core::option::Option::Some(limit)) => {
                    ::core::option::Option::Some(::streamc_runtime::structured::regexp::split(&s, #re, limit))
                }
                _ => ::core::option::Option::None,
            })
        }
        Expr::Call(f, args) if f == "from_json" && args.len() == 2 => {
            let Some(ty) = call_ty(f, args, scope) else { return quote!(::core::option::Option::None) };
            let x = expr(&args[0], scope);
            let read = super::nested::conv_fields(ty, quote!(j), true, true);
            let whole_struct = matches!(ty, ColTy::Struct(_));
            quote!((#x).and_then(|s| ::streamc_runtime::structured::nested::from_json(&s, #whole_struct, |j| #read)))
        }
        // `round` (HALF_UP) and `bround` (HALF_EVEN) of a decimal: into the decimal type the
        // registry gave it.
        Expr::Call(f, args)
            if (f == "round" || f == "bround")
                && matches!(args.first().and_then(|x| static_ty(x, scope)), Some(ColTy::Decimal(..))) =>
        {
            let (Some(from), Some(to)) = (static_ty(&args[0], scope), call_ty(f, args, scope)) else {
                return quote!(::core::option::Option::None);
            };
            let params = [to, from].into_iter().flat_map(dec_params);
            let x = expr(&args[0], scope);
            let d = args.get(1).map_or(quote!(::core::option::Option::Some(0i64)), |d| expr(d, scope));
            let half_even = f == "bround";
            quote!(match (#x, #d) {
                (::core::option::Option::Some(v), ::core::option::Option::Some(d)) => ::streamc_runtime::structured::decimal::round::<#(#params),*>(v, d as i64, #half_even),
                _ => ::core::option::Option::None,
            })
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

/// The cast of `x` (of type `from`) to `to` (see [`super::cast::cast`]); a NULL of a type is a `None`
/// of the type's values (a string is a `Cow`).
fn cast(x: &Expr, from: ColTy, to: ColTy, try_cast: bool, scope: &Scope) -> TokenStream {
    if *x == Expr::Null || from == ColTy::Void {
        let ty = match to {
            ColTy::String => quote!(::std::borrow::Cow<'_, str>),
            to => functions::rust_ty(to),
        };
        if *x == Expr::Null {
            return quote!(::core::option::Option::None::<#ty>);
        }
        let code = expr(x, scope);
        return quote!({
            let _ = #code;
            ::core::option::Option::None::<#ty>
        });
    }
    let literal = match x {
        Expr::Str(s) => Some(s.as_str()),
        _ => None,
    };
    super::cast::cast(expr(x, scope), literal, from, to, try_cast)
}

/// `a op b` of two decimals into the `result` decimal type (see `runtime::structured::decimal`).
fn decimal_arith(
    op: BinOp,
    (ca, ta): (TokenStream, ColTy),
    (cb, tb): (TokenStream, ColTy),
    result: ColTy,
) -> TokenStream {
    let f = match op {
        BinOp::Add => quote!(add),
        BinOp::Sub => quote!(sub),
        BinOp::Mul => quote!(mul),
        BinOp::Div => quote!(div),
        _ => quote!(rem),
    };
    let params = [result, ta, tb].into_iter().flat_map(dec_params);
    let failure = cast_failure();
    quote!(match (#ca, #cb) {
        (::core::option::Option::Some(a), ::core::option::Option::Some(b)) => {
            ::streamc_runtime::structured::decimal::#f::<#(#params),*>(a, b, &#failure)
        }
        _ => ::core::option::Option::None,
    })
}

pub(super) fn static_ty(e: &Expr, scope: &Scope) -> Option<ColTy> {
    match e {
        Expr::Cast(_, _, to) | Expr::TryCast(_, _, to) => Some(*to),
        Expr::Null => Some(ColTy::Void),
        Expr::Column(c) => scope.get(c).map(|(_, t)| *t),
        Expr::Int(i) => Some(if i32::try_from(*i).is_ok() { ColTy::Int } else { ColTy::Long }),
        Expr::Float(_) => Some(ColTy::Double),
        Expr::Str(_) => Some(ColTy::String),
        Expr::Bool(_) => Some(ColTy::Bool),
        Expr::Binary(op, a, b) => {
            if op.is_comparison() || matches!(op, BinOp::And | BinOp::Or) {
                Some(ColTy::Bool)
            } else if let Some(t) =
                crate::table::coerce::decimal_result(*op, static_ty(a, scope)?, static_ty(b, scope)?)
            {
                Some(t)
            } else if *op == BinOp::Div {
                Some(ColTy::Double)
            } else {
                // The checker cast both sides to one type (but for integer literals, which take
                // their context's type): the wider.
                let (ta, tb) = (static_ty(a, scope)?, static_ty(b, scope)?);
                Some(crate::table::coerce::wider(ta, tb))
            }
        }
        Expr::Call(f, _) if f == "+interval" => Some(ColTy::Timestamp),
        Expr::Call(f, _) if f == ".json_tuple" => Some(ColTy::String),
        Expr::Call(f, args) if f == "+months" => static_ty(args.first()?, scope),
        Expr::Call(f, args) if f == ".field" && args.len() == 2 => {
            static_ty(&args[0], scope)?.field(field_name(&args[1])?).map(|(_, f)| f.ty)
        }
        Expr::Call(f, args) if f == "[]" && args.len() == 2 => match static_ty(&args[0], scope)? {
            ColTy::Array(e) => Some(*e),
            ColTy::Map((_, v)) => Some(*v),
            _ => None,
        },
        // The registry's type for the arguments' types (the checker has typed the call).
        Expr::Call(f, args) => Some(call_ty(f, args, scope).unwrap_or(ColTy::String)),
        Expr::Unary(UnOp::Not, _) => Some(ColTy::Bool),
        Expr::Unary(UnOp::Neg, x) => static_ty(x, scope),
        _ => None,
    }
}

/// The variable of a column reference (to read a nested value in place rather than copy it).
fn column_var<'s>(e: &Expr, scope: &'s Scope) -> Option<&'s Ident> {
    match e {
        Expr::Column(c) => scope.get(c).map(|(v, _)| v),
        _ => None,
    }
}

fn field_name(e: &Expr) -> Option<&str> {
    match e {
        Expr::Str(n) => Some(n),
        _ => None,
    }
}

pub(super) fn call_ty(f: &str, args: &[Expr], scope: &Scope) -> Option<ColTy> {
    let Form::Ordinary { signature, .. } = &functions::scalar(f)?.form else { return None };
    let tys: Option<Vec<ColTy>> = args.iter().map(|x| static_ty(x, scope)).collect();
    let typed: Vec<(&Expr, ColTy)> = args.iter().zip(tys?).collect();
    signature(&typed).ok()
}

/// Binds each projected column (all computed first, then named, so a projection may read the
/// columns it replaces); returns the bindings and the scope after them.
pub(super) fn project(cols: &[(String, Expr, ColTy)], scope: &Scope) -> (TokenStream, Scope) {
    let mut binds = TokenStream::new();
    let mut tmps = Vec::new();
    for (k, (_, e, _)) in cols.iter().enumerate() {
        let t = Ident::new(&format!("projected_{k}"), Span::mixed_site());
        let code = expr(e, scope);
        binds.extend(quote!(let #t = #code;));
        tmps.push(t);
    }
    let mut new_scope = std::collections::HashMap::new();
    for ((n, _, ty), t) in cols.iter().zip(tmps) {
        let v = super::scope::ident("col", n);
        binds.extend(quote!(let #v = #t;));
        new_scope.insert(n.clone(), (v, *ty));
    }
    (binds, new_scope)
}
