//! The aggregate functions of `group_by … agg` (and SQL's `GROUP BY`): one [`AggregateFn`]
//! each, with the accumulator the generated code keeps per group and how it is updated,
//! merged (session windows) and finished into the output value.

use super::types::{Nulls, SigError, rust_ty};
use crate::table::expr::Expr;
use crate::table::ty::ColTy;
use proc_macro2::TokenStream;
use quote::quote;
use std::fmt;

/// An aggregate's type rule: from the name as written and the typed argument (None: `*`), the
/// result type or why not.
pub type AggSignature = fn(&str, Option<(&Expr, ColTy)>) -> Result<ColTy, SigError>;

/// One aggregate function.
pub struct AggregateFn {
    /// Lowercase names, the first being Spark's (the one listed and the state's); the others are
    /// aliases (`mean` for `avg`).
    pub names: &'static [&'static str],
    /// Whether it takes `*` or no argument (`count(*)`); otherwise exactly one argument.
    pub star: bool,
    /// The result type for the argument (None: `*`), or why not; gets the name as written.
    pub signature: AggSignature,
    /// Spark's default name of the output column, from the name as written and the argument.
    pub column: fn(&str, Option<&Expr>) -> String,
    /// The accumulator's Rust type, for the result type.
    pub acc_ty: fn(ColTy) -> TokenStream,
    /// The accumulator of a new group.
    pub init: fn(ColTy) -> TokenStream,
    /// The statement adding one row's value (`Option<T>`; None for `*`) to `acc.<idx>` (`idx`
    /// is a field path: accumulators are a tuple, nested when wide).
    pub update: fn(&TokenStream, Option<&TokenStream>, ColTy) -> TokenStream,
    /// The statement merging accumulator `y.<idx>` into `x.<idx>` (merging session windows).
    pub merge: fn(&TokenStream) -> TokenStream,
    /// The output value of accumulator `acc.<idx>`: `Option<R>`, or `R` when not
    /// [`nullable`](Self::nullable).
    pub finish: fn(&TokenStream) -> TokenStream,
    /// Whether the result can be SQL NULL (`count` cannot: it is `bigint NOT NULL` in Spark).
    pub nullable: bool,
    /// How the argument is written, for the list in help lines: `sum(col)`.
    pub usage: &'static str,
    /// The result type, for the reference list.
    pub returns: &'static str,
    pub nulls: Nulls,
    /// One line for the reference list.
    pub doc: &'static str,
    pub example: &'static str,
}

/// An aggregate of a checked query: a handle to its registry entry (plain data: compared and
/// printed by its name).
#[derive(Clone, Copy)]
pub struct AggFn(&'static AggregateFn);

impl AggFn {
    pub fn new(def: &'static AggregateFn) -> AggFn {
        AggFn(def)
    }

    pub fn def(self) -> &'static AggregateFn {
        self.0
    }

    /// Spark's name (`avg` for `mean` too), as state descriptions record it.
    pub fn name(self) -> &'static str {
        self.0.names[0]
    }
}

impl PartialEq for AggFn {
    fn eq(&self, other: &AggFn) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for AggFn {}

impl fmt::Debug for AggFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn numeric(name: &str, arg: Option<(&Expr, ColTy)>) -> Result<ColTy, SigError> {
    match arg {
        Some((_, t)) if t.numeric() => Ok(t),
        Some((x, t)) => Err(SigError::new(format!("`{name}` needs a numeric column, found `{x}` of type {}", t.sql()))),
        None => Err(SigError::new(format!("`{name}` takes one argument"))),
    }
}

fn any(name: &str, arg: Option<(&Expr, ColTy)>) -> Result<ColTy, SigError> {
    arg.map(|(_, t)| t).ok_or_else(|| SigError::new(format!("`{name}` takes one argument")))
}

fn written(name: &str, arg: Option<&Expr>) -> String {
    let arg = arg.map_or_else(|| "*".to_owned(), ToString::to_string);
    format!("{name}({arg})")
}

fn optional(ty: ColTy) -> TokenStream {
    let t = rust_ty(ty);
    quote!(::core::option::Option<#t>)
}

fn none(_: ColTy) -> TokenStream {
    quote!(::core::option::Option::None)
}

fn same(idx: &TokenStream) -> TokenStream {
    quote!(acc.#idx)
}

/// `min` or `max`: keeps the value that compares `better` than the current one.
fn extreme_update(idx: &TokenStream, v: Option<&TokenStream>, ty: ColTy, better: TokenStream) -> TokenStream {
    let conv = if ty == ColTy::String { quote!(::std::string::String::from(&*x)) } else { quote!(x) };
    quote! {
        if let ::core::option::Option::Some(x) = #v {
            let x = #conv;
            if acc.#idx.as_ref().is_none_or(|cur| x #better *cur) { acc.#idx = ::core::option::Option::Some(x); }
        }
    }
}

fn extreme_merge(idx: &TokenStream, better: TokenStream) -> TokenStream {
    quote! {
        if let ::core::option::Option::Some(v) = y.#idx {
            if x.#idx.as_ref().is_none_or(|cur| v #better *cur) { x.#idx = ::core::option::Option::Some(v); }
        }
    }
}

/// Every aggregate, in the order the reference (and help lines) list them.
pub static AGGREGATES: &[AggregateFn] = &[
    AggregateFn {
        names: &["count"],
        star: true,
        signature: |_, _| Ok(ColTy::Long),
        column: |_, _| "count".to_string(),
        acc_ty: |_| quote!(i64),
        init: |_| quote!(0i64),
        update: |idx, v, _| match v {
            None => quote!(acc.#idx += 1;),
            Some(v) => quote!(if (#v).is_some() { acc.#idx += 1; }),
        },
        merge: |idx| quote!(x.#idx += y.#idx;),
        finish: same,
        nullable: false,
        usage: "count(*)",
        returns: "bigint",
        nulls: Nulls::Counted,
        doc: "the number of rows (`*`), or of non-NULL values",
        example: "count(*)",
    },
    AggregateFn {
        names: &["sum"],
        star: false,
        signature: numeric,
        column: written,
        acc_ty: optional,
        init: none,
        update: |idx, v, ty| {
            let zero = if ty == ColTy::Double { quote!(0f64) } else { quote!(0i64) };
            quote!(if let ::core::option::Option::Some(x) = #v { acc.#idx = ::core::option::Option::Some(acc.#idx.unwrap_or(#zero) + x); })
        },
        merge: |idx| {
            quote! {
                if let ::core::option::Option::Some(v) = y.#idx {
                    x.#idx = ::core::option::Option::Some(match x.#idx { ::core::option::Option::Some(u) => u + v, ::core::option::Option::None => v });
                }
            }
        },
        finish: same,
        nullable: true,
        usage: "sum(col)",
        returns: "the column's type",
        nulls: Nulls::Skipped,
        doc: "the sum of a numeric column",
        example: "sum(n)",
    },
    AggregateFn {
        names: &["avg", "mean"],
        star: false,
        signature: |name, arg| numeric(name, arg).map(|_| ColTy::Double),
        column: |_, arg| written("avg", arg),
        acc_ty: |_| quote!((f64, i64)),
        init: |_| quote!((0f64, 0i64)),
        update: |idx, v, _| quote!(if let ::core::option::Option::Some(x) = #v { acc.#idx.0 += x as f64; acc.#idx.1 += 1; }),
        merge: |idx| quote!(x.#idx.0 += y.#idx.0; x.#idx.1 += y.#idx.1;),
        finish: |idx| quote!(if acc.#idx.1 == 0 { ::core::option::Option::None } else { ::core::option::Option::Some(acc.#idx.0 / acc.#idx.1 as f64) }),
        nullable: true,
        usage: "avg(col)",
        returns: "double",
        nulls: Nulls::Skipped,
        doc: "the mean of a numeric column",
        example: "avg(n)",
    },
    AggregateFn {
        names: &["min"],
        star: false,
        signature: any,
        column: written,
        acc_ty: optional,
        init: none,
        update: |idx, v, ty| extreme_update(idx, v, ty, quote!(<)),
        merge: |idx| extreme_merge(idx, quote!(<)),
        finish: same,
        nullable: true,
        usage: "min(col)",
        returns: "the column's type",
        nulls: Nulls::Skipped,
        doc: "the smallest value of a column",
        example: "min(timestamp)",
    },
    AggregateFn {
        names: &["max"],
        star: false,
        signature: any,
        column: written,
        acc_ty: optional,
        init: none,
        update: |idx, v, ty| extreme_update(idx, v, ty, quote!(>)),
        merge: |idx| extreme_merge(idx, quote!(>)),
        finish: same,
        nullable: true,
        usage: "max(col)",
        returns: "the column's type",
        nulls: Nulls::Skipped,
        doc: "the largest value of a column",
        example: "max(n)",
    },
];
