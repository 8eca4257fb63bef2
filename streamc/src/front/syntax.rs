//! Syntax helpers both Rust-syntax readers share (the `stream!` DStream and table front ends):
//! binding names, integer literals and Spark's duration forms.

use crate::duration;
use quote::ToTokens;

/// The name a `let` binds (`let words` or `let words: T`).
pub(crate) fn pat_name(p: &syn::Pat) -> Option<String> {
    match p {
        syn::Pat::Ident(i) => Some(i.ident.to_string()),
        syn::Pat::Type(t) => pat_name(&t.pat),
        _ => None,
    }
}

/// The single identifier an expression names (`Seconds` in `Seconds(1)`).
pub(crate) fn path_ident(e: &syn::Expr) -> Option<String> {
    match e {
        syn::Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

/// An integer literal, possibly negated (`3`, `-3`), as an `i64`.
pub(crate) fn int_literal(e: &syn::Expr) -> Option<i64> {
    match e {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.base10_parse().ok(),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => int_literal(&u.expr).map(|v: i64| -v),
        _ => None,
    }
}

/// Reads `Seconds(1)`, `Milliseconds(500)`, `Minutes(2)`, `1s` or `500ms`.
pub(crate) fn duration_of(e: &syn::Expr) -> Result<u64, String> {
    let shown = e.to_token_stream().to_string();
    match e {
        syn::Expr::Call(c) => {
            let f = path_ident(&c.func).unwrap_or_default();
            let unit = match f.as_str() {
                "Seconds" => 1000,
                "Milliseconds" => 1,
                "Minutes" => 60_000,
                _ => {
                    return Err(format!("expected `Seconds(n)`, `Milliseconds(n)` or `Minutes(n)`, found `{shown}`"));
                }
            };
            let [arg] = c.args.iter().collect::<Vec<_>>()[..] else {
                return Err(format!("`{f}` takes 1 argument, found {}", c.args.len()));
            };
            match arg {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) if i.suffix().is_empty() => {
                    let v: u64 = i.base10_parse().map_err(|e| e.to_string())?;
                    duration::from_value(v as f64 * unit as f64, &shown)
                }
                syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
                    Err(format!("a duration must be positive, found `{shown}`"))
                }
                _ => Err(format!("expected an integer literal in `{shown}`")),
            }
        }
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => {
            let unit = duration::unit_ms(i.suffix())
                .ok_or_else(|| format!("expected a duration such as `1s` or `500ms`, found `{shown}`"))?;
            let v: u64 = i.base10_digits().parse().map_err(|_| format!("`{shown}` is not a duration"))?;
            duration::from_value(v as f64 * unit as f64, &shown)
        }
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            Err(format!("a duration must be positive, found `{shown}`"))
        }
        _ => Err(format!("expected a duration such as `Seconds(1)` or `500ms`, found `{shown}`")),
    }
}

/// A string literal, looking through the invisible groups macro expansion leaves around tokens.
pub(crate) fn lit_str(e: &syn::Expr) -> Option<&syn::LitStr> {
    match e {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s),
        syn::Expr::Group(g) => lit_str(&g.expr),
        _ => None,
    }
}

/// A string literal's value, or the message saying one was expected for the `what`.
pub(crate) fn expect_str(e: &syn::Expr, what: &str) -> Result<String, String> {
    lit_str(e)
        .map(syn::LitStr::value)
        .ok_or_else(|| format!("expected a string literal for the {what}, found `{}`", e.to_token_stream()))
}

/// An integer literal's value, or the message saying one was expected for the `what`.
pub(crate) fn expect_int(e: &syn::Expr, what: &str) -> Result<i64, String> {
    int_literal(e).ok_or_else(|| format!("expected an integer literal for the {what}, found `{}`", e.to_token_stream()))
}
