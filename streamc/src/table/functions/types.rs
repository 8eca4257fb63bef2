//! The vocabulary of registry entries: argument lists, type errors, NULL behaviour, and the
//! Rust types of column values.

use crate::table::expr::Expr;
use crate::table::ty::{ColTy, Field};
use proc_macro2::{Ident, Span, TokenStream};
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

/// The owned Rust type of a column's values (as kept in aggregation state): nested values as
/// `runtime::structured::nested` holds them (a struct type by the name [`struct_ident`] gives
/// it, defined by [`struct_defs`]).
pub fn rust_ty(t: ColTy) -> TokenStream {
    match t {
        ColTy::Array(e) => {
            let e = rust_ty(*e);
            quote!(::std::vec::Vec<::core::option::Option<#e>>)
        }
        ColTy::Map((k, v)) => {
            let (k, v) = (rust_ty(*k), rust_ty(*v));
            quote!(::streamc_runtime::structured::nested::SqlMap<#k, #v>)
        }
        ColTy::Struct(fields) => {
            let name = struct_ident(fields);
            quote!(#name)
        }
        ColTy::String => quote!(::std::string::String),
        ColTy::Bool => quote!(bool),
        ColTy::Byte => quote!(i8),
        ColTy::Short => quote!(i16),
        ColTy::Int => quote!(i32),
        ColTy::Long => quote!(i64),
        ColTy::Float => quote!(f32),
        ColTy::Double => quote!(f64),
        ColTy::Timestamp => quote!(::streamc_runtime::structured::time::Timestamp),
        ColTy::Date => quote!(::streamc_runtime::structured::time::Date),
        ColTy::Binary => quote!(::streamc_runtime::structured::binary::Binary),
        ColTy::Void => quote!(::streamc_runtime::structured::void::Void),
        ColTy::Decimal(p, s) => {
            let (p, s) = (proc_macro2::Literal::u8_unsuffixed(p), proc_macro2::Literal::u8_unsuffixed(s));
            quote!(::streamc_runtime::structured::decimal::Dec<#p, #s>)
        }
    }
}

thread_local! {
    /// The struct types named while generating one app, for [`struct_defs`].
    static STRUCTS: std::cell::RefCell<Vec<&'static [Field]>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The name of the generated Rust struct of a struct type: `SqlStruct_<hash of its SQL type>`
/// (the same in every run); the type is remembered for [`struct_defs`].
pub fn struct_ident(fields: &'static [Field]) -> Ident {
    STRUCTS.with(|s| {
        let mut s = s.borrow_mut();
        if !s.contains(&fields) {
            s.push(fields);
        }
    });
    let text = ColTy::Struct(fields).sql();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    Ident::new(&format!("SqlStruct_{h:016x}"), Span::call_site())
}

/// The Rust fields of a struct type's generated struct: its SQL names as [`field_names`]
/// maps them (`user name` → `user_name`), so a `foreach_batch` closure reads `row.user.name`.
///
/// [`field_names`]: crate::table::field_names
pub fn struct_fields(fields: &[Field]) -> Vec<Ident> {
    crate::table::field_names(fields.iter().map(|f| f.name)).iter().map(|n| Ident::new(n, Span::call_site())).collect()
}

/// Forgets the struct types named so far (at the start of an app's generation).
pub fn reset_structs() {
    STRUCTS.with(|s| s.borrow_mut().clear());
}

/// The definitions of every struct type named since [`reset_structs`] (and of the struct types
/// inside them), through the runtime's `sql_struct!`.
pub fn struct_defs() -> TokenStream {
    let mut out = TokenStream::new();
    let mut done = 0;
    while let Some(fields) = STRUCTS.with(|s| s.borrow().get(done).copied()) {
        done += 1;
        let name = struct_ident(fields);
        let idents = struct_fields(fields);
        let tys: Vec<TokenStream> = fields.iter().map(|f| rust_ty(f.ty)).collect();
        let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
        // A struct without floats or maps inside is hashable: it can be a grouping key.
        let hash = ColTy::Struct(fields).hashable().then(|| quote!(hash));
        out.extend(quote!(::streamc_runtime::sql_struct! { #hash #name { #(#idents: #tys = #names),* } }));
    }
    out
}
