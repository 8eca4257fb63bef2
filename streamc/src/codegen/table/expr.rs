//! Column expressions as Rust code of type `Option<T>` (None = SQL NULL); function calls from
//! the registry.

use super::scope::Scope;
use crate::table::ColTy;
use crate::table::expr::{BinOp, Expr, UnOp};
use crate::table::functions::{self, Form};
use proc_macro2::{Literal, TokenStream};
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

pub(super) fn static_ty(e: &Expr, scope: &Scope) -> Option<ColTy> {
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

pub(super) fn call_ty(f: &str, args: &[Expr], scope: &Scope) -> Option<ColTy> {
    let Form::Ordinary { signature, .. } = &functions::scalar(f)?.form else { return None };
    let tys: Option<Vec<ColTy>> = args.iter().map(|x| static_ty(x, scope)).collect();
    let typed: Vec<(&Expr, ColTy)> = args.iter().zip(tys?).collect();
    signature(&typed).ok()
}
