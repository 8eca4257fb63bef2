//! Reads what can be known of a user function without rustc: a closure literal's arity, the
//! argument and return types it spells out, and the evident shape of its body.

use crate::dstream::plan::{BodyShape, Closure};
use crate::dstream::ty::Ty;
use crate::span::SpanId;
use quote::ToTokens;

/// Describes a user function given as an expression (a closure literal, or a path such as
/// `str::len`, whose arity only rustc knows).
pub fn describe(expr: &syn::Expr, span: SpanId) -> Closure {
    let tokens = expr.to_token_stream();
    let syn::Expr::Closure(c) = expr else {
        return Closure { tokens, arity: None, arg_types: vec![], ret_type: None, body_type: None, span };
    };
    let mut names = Vec::new();
    let mut arg_types = Vec::new();
    for input in &c.inputs {
        match input {
            syn::Pat::Type(pt) => {
                names.push(pat_ident(&pt.pat));
                arg_types.push(Some(Ty::from_syn(&pt.ty)));
            }
            other => {
                names.push(pat_ident(other));
                arg_types.push(None);
            }
        }
    }
    let ret_type = match &c.output {
        syn::ReturnType::Type(_, ty) => Some(Ty::from_syn(ty)),
        syn::ReturnType::Default => None,
    };
    let body_type = body_shape(&c.body, &names);
    Closure { tokens, arity: Some(c.inputs.len()), arg_types, ret_type, body_type, span }
}

fn pat_ident(p: &syn::Pat) -> Option<String> {
    match p {
        syn::Pat::Ident(i) => Some(i.ident.to_string()),
        _ => None,
    }
}

fn body_shape(e: &syn::Expr, names: &[Option<String>]) -> Option<BodyShape> {
    match e {
        syn::Expr::Paren(p) => body_shape(&p.expr, names),
        syn::Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
            syn::Stmt::Expr(inner, None) => body_shape(inner, names),
            _ => None,
        },
        syn::Expr::Tuple(t) => {
            let parts: Option<Vec<_>> = t.elems.iter().map(|x| body_shape(x, names)).collect();
            parts.map(BodyShape::Tuple)
        }
        syn::Expr::Path(p) => {
            let ident = p.path.get_ident()?.to_string();
            names.iter().position(|n| n.as_deref() == Some(ident.as_str())).map(BodyShape::Arg)
        }
        syn::Expr::Lit(l) => lit_type(&l.lit).map(BodyShape::Lit),
        syn::Expr::Cast(c) => Some(BodyShape::Lit(Ty::from_syn(&c.ty))),
        syn::Expr::MethodCall(m) if m.method == "split" || m.method == "split_whitespace" => {
            match body_shape(&m.receiver, names)? {
                BodyShape::Arg(i) => Some(BodyShape::SplitOf(i)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn lit_type(l: &syn::Lit) -> Option<Ty> {
    Some(match l {
        syn::Lit::Str(_) => Ty::Rust("&'static str".into()),
        syn::Lit::Bool(_) => Ty::Bool,
        syn::Lit::Char(_) => Ty::Char,
        syn::Lit::Int(i) => match i.suffix() {
            "" => Ty::Int("i32"),
            s => Ty::from_syn(&syn::parse_str(s).ok()?),
        },
        syn::Lit::Float(f) => match f.suffix() {
            "f32" => Ty::Float("f32"),
            _ => Ty::Float("f64"),
        },
        _ => return None,
    })
}
