//! The vocabulary of registry entries: argument lists, type errors, NULL behaviour, and the
//! Rust types of column values.

use crate::table::expr::Expr;
use crate::table::ty::ColTy;
use proc_macro2::TokenStream;
use quote::quote;

/// How a function treats SQL NULL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nulls {
    /// A NULL argument gives NULL (Spark's default for scalar functions).
    Strict,
    /// NULL inputs are skipped; no non-NULL input gives NULL (`sum`, `avg`, `min`, `max`).
    Skipped,
    /// NULL inputs are not counted; the result is never NULL (`count`).
    Counted,
    /// NULLs are what the function is about (`coalesce`, `isnull`, `CASE`): see its doc line.
    Handled,
}

/// Why a call does not type: the message and an optional `help:` line.
#[derive(Clone, Debug, PartialEq)]
pub struct SigError {
    pub message: String,
    pub help: Option<String>,
}

impl SigError {
    pub fn new(message: impl Into<String>) -> SigError {
        SigError { message: message.into(), help: None }
    }

    pub fn help(mut self, help: impl Into<String>) -> SigError {
        self.help = Some(help.into());
        self
    }
}

/// Arguments as the checker typed them: each expression with its type.
pub type Args<'a> = &'a [(&'a Expr, ColTy)];

/// The owned Rust type of a column's values (as kept in aggregation state).
pub fn rust_ty(t: ColTy) -> TokenStream {
    match t {
        ColTy::String | ColTy::StringArray => quote!(::std::string::String),
        ColTy::Bool => quote!(bool),
        ColTy::Long => quote!(i64),
        ColTy::Double => quote!(f64),
        ColTy::Timestamp => quote!(::streamc_runtime::structured::time::Timestamp),
        ColTy::Date => quote!(::streamc_runtime::structured::time::Date),
    }
}
