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
    if ty == ColTy::String {
        // Compared borrowed; a string is copied only when it becomes the accumulator.
        return quote! {
            if let ::core::option::Option::Some(x) = #v {
                if acc.#idx.as_deref().is_none_or(|cur| &*x #better cur) {
                    acc.#idx = ::core::option::Option::Some(::std::string::String::from(&*x));
                }
            }
        };
    }
    quote! {
        if let ::core::option::Option::Some(x) = #v {
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

/// `(seen, value)`: the accumulator of `first` and `last`.
fn seen_ty(ty: ColTy) -> TokenStream {
    let t = rust_ty(ty);
    quote!((bool, ::core::option::Option<#t>))
}

/// A row's value (`Option<T>`, strings borrowed) as the accumulator keeps it (owned).
fn owned_value(v: Option<&TokenStream>, ty: ColTy) -> TokenStream {
    match (v, ty) {
        (Some(v), ColTy::String) => quote!((#v).map(|s| ::std::string::String::from(&*s))),
        (Some(v), _) => quote!(#v),
        (None, _) => quote!(::core::option::Option::None),
    }
}

/// `collect_list` (every value) or `collect_set` (`distinct`): the non-NULL values of a group as
/// an array; the accumulator is that array.
const fn collect(
    names: &'static [&'static str],
    distinct: bool,
    usage: &'static str,
    doc: &'static str,
    example: &'static str,
) -> AggregateFn {
    AggregateFn {
        names,
        star: false,
        signature: |name, arg| match arg {
            // Spark's analysis refuses a set of maps (maps have no equality).
            Some((x, t)) if name == "collect_set" && contains_map(t) => Err(SigError::new(format!(
                "[DATATYPE_MISMATCH.UNSUPPORTED_INPUT_TYPE] Cannot resolve \"collect_set({x})\" due to data type mismatch: The input of `collect_set` can't be \"MAP\" or \"COLLATED STRING\" type data."
            ))),
            Some((_, t)) => Ok(ColTy::array(t)),
            None => Err(SigError::new(format!("`{name}` takes one argument"))),
        },
        column: written,
        acc_ty: rust_ty,
        init: |_| quote!(::std::vec::Vec::new()),
        update: if distinct {
            |idx, v, ty| {
                let ColTy::Array(e) = ty else { return quote!() };
                let v = owned_value(v, *e);
                quote!(if let ::core::option::Option::Some(x) = #v {
                    let x = ::core::option::Option::Some(x);
                    if !acc.#idx.contains(&x) { acc.#idx.push(x); }
                })
            }
        } else {
            |idx, v, ty| {
                let ColTy::Array(e) = ty else { return quote!() };
                let v = owned_value(v, *e);
                quote!(if let ::core::option::Option::Some(x) = #v { acc.#idx.push(::core::option::Option::Some(x)); })
            }
        },
        merge: if distinct {
            |idx| quote!(for v in y.#idx { if !x.#idx.contains(&v) { x.#idx.push(v); } })
        } else {
            |idx| quote!(x.#idx.extend(y.#idx);)
        },
        finish: |idx| quote!(::core::option::Option::Some(acc.#idx)),
        nullable: true,
        usage,
        returns: "array of the column's type",
        nulls: Nulls::Skipped,
        doc,
        example,
    }
}

/// A variance or standard deviation: the accumulator is `(n, mean, m2)`, updated and merged as
/// Spark's `CentralMomentAgg` does (so the floating-point results are Spark's), and finished by
/// `finish` (from the accumulator's path, like every aggregate's `finish`).
const fn moments(
    names: &'static [&'static str],
    usage: &'static str,
    doc: &'static str,
    example: &'static str,
    finish: fn(&TokenStream) -> TokenStream,
) -> AggregateFn {
    AggregateFn {
        names,
        star: false,
        signature: |name, arg| numeric(name, arg).map(|_| ColTy::Double),
        column: written,
        acc_ty: |_| quote!((i64, f64, f64)),
        init: |_| quote!((0i64, 0f64, 0f64)),
        update: |idx, v, _| {
            quote!(if let ::core::option::Option::Some(x) = #v {
                let x = x as f64;
                let m = &mut acc.#idx;
                m.0 += 1;
                let delta = x - m.1;
                let delta_n = delta / m.0 as f64;
                m.1 += delta_n;
                m.2 += delta * (delta - delta_n);
            })
        },
        merge: |idx| {
            quote!({
                let (a, b) = (x.#idx, y.#idx);
                if b.0 > 0 {
                    let n = a.0 + b.0;
                    let delta = b.1 - a.1;
                    let delta_n = if n == 0 { 0.0 } else { delta / n as f64 };
                    x.#idx = (n, a.1 + delta_n * b.0 as f64, a.2 + b.2 + delta * delta_n * a.0 as f64 * b.0 as f64);
                }
            })
        },
        finish,
        nullable: true,
        usage,
        returns: "double",
        nulls: Nulls::Skipped,
        doc,
        example,
    }
}

/// `bool_and` (`and`: true) or `bool_or`: NULL without a non-NULL input.
const fn logical(
    names: &'static [&'static str],
    usage: &'static str,
    doc: &'static str,
    example: &'static str,
    and: bool,
) -> AggregateFn {
    AggregateFn {
        names,
        star: false,
        signature: |name, arg| match arg {
            Some((_, ColTy::Bool)) => Ok(ColTy::Bool),
            Some((x, t)) => Err(SigError::new(format!("`{name}` needs a boolean, found `{x}` of type {}", t.sql()))),
            None => Err(SigError::new(format!("`{name}` takes one argument"))),
        },
        column: written,
        acc_ty: |_| quote!(::core::option::Option<bool>),
        init: none,
        update: if and {
            |idx, v, _| quote!(if let ::core::option::Option::Some(x) = #v { acc.#idx = ::core::option::Option::Some(acc.#idx.unwrap_or(true) && x); })
        } else {
            |idx, v, _| quote!(if let ::core::option::Option::Some(x) = #v { acc.#idx = ::core::option::Option::Some(acc.#idx.unwrap_or(false) || x); })
        },
        merge: if and {
            |idx| quote!(if let ::core::option::Option::Some(v) = y.#idx { x.#idx = ::core::option::Option::Some(x.#idx.unwrap_or(true) && v); })
        } else {
            |idx| quote!(if let ::core::option::Option::Some(v) = y.#idx { x.#idx = ::core::option::Option::Some(x.#idx.unwrap_or(false) || v); })
        },
        finish: same,
        nullable: true,
        usage,
        returns: "boolean",
        nulls: Nulls::Skipped,
        doc,
        example,
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
        // A decimal's sum has 10 more digits (Spark's `Sum`).
        signature: |name, arg| match arg {
            Some((_, ColTy::Decimal(p, s))) => Ok(ColTy::Decimal((p + 10).min(38), s)),
            arg => numeric(name, arg),
        },
        column: written,
        acc_ty: optional,
        init: none,
        update: |idx, v, ty| {
            if let ColTy::Decimal(..) = ty {
                return quote!(if let ::core::option::Option::Some(x) = #v {
                    acc.#idx = ::streamc_runtime::structured::decimal::sum_add(acc.#idx, x);
                });
            }
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
        // A decimal's mean has 4 more digits of scale (Spark's `Average`).
        signature: |name, arg| match arg {
            Some((_, ColTy::Decimal(p, s))) if p <= 34 => Ok(ColTy::Decimal(p + 4, s + 4)),
            Some((x, t @ ColTy::Decimal(..))) => Err(SigError::new(format!(
                "`{name}` of `{x}` of type {} is not supported by streamc yet: its precision is above 34",
                t.sql()
            ))),
            arg => numeric(name, arg).map(|_| ColTy::Double),
        },
        column: |_, arg| written("avg", arg),
        // Doubles sum as doubles; a decimal's unscaled values sum exactly.
        acc_ty: |ty| match ty {
            ColTy::Decimal(..) => quote!((i128, i64)),
            _ => quote!((f64, i64)),
        },
        init: |ty| match ty {
            ColTy::Decimal(..) => quote!((0i128, 0i64)),
            _ => quote!((0f64, 0i64)),
        },
        update: |idx, v, ty| match ty {
            ColTy::Decimal(..) => {
                quote!(if let ::core::option::Option::Some(x) = #v { acc.#idx.0 += x.0; acc.#idx.1 += 1; })
            }
            _ => quote!(if let ::core::option::Option::Some(x) = #v { acc.#idx.0 += x as f64; acc.#idx.1 += 1; }),
        },
        merge: |idx| quote!(x.#idx.0 += y.#idx.0; x.#idx.1 += y.#idx.1;),
        finish: |idx| quote!(::streamc_runtime::structured::decimal::AvgFinish::finish(acc.#idx)),
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
    collect(
        &["collect_list", "array_agg"],
        false,
        "collect_list(col)",
        "the group's non-NULL values as an array, in input order",
        "collect_list(word)",
    ),
    collect(
        &["collect_set"],
        true,
        "collect_set(col)",
        "the group's distinct non-NULL values as an array (in first-seen order; Spark's order is its hash set's)",
        "collect_set(word)",
    ),
    AggregateFn {
        names: &["approx_count_distinct"],
        star: false,
        signature: |name, arg| match arg {
            Some((x, t)) if t.nested() => {
                Err(SigError::new(format!("`{name}` of `{x}` of type {} is not supported by streamc yet", t.sql())))
            }
            Some(_) => Ok(ColTy::Long),
            None => Err(SigError::new(format!("`{name}` takes one argument"))),
        },
        column: written,
        acc_ty: |_| quote!(::std::vec::Vec<u8>),
        init: |_| quote!(::std::vec::Vec::new()),
        update: |idx, v, _| {
            let hll = quote!(::streamc_runtime::structured::hll);
            match v {
                Some(v) => quote!(if let ::core::option::Option::Some(x) = #v {
                    #hll::add(&mut acc.#idx, #hll::SparkHash::spark_hash(&x));
                }),
                None => quote!(),
            }
        },
        merge: |idx| quote!(::streamc_runtime::structured::hll::merge(&mut x.#idx, &y.#idx);),
        finish: |idx| quote!(::streamc_runtime::structured::hll::estimate(&acc.#idx)),
        nullable: false,
        usage: "approx_count_distinct(col)",
        returns: "bigint",
        nulls: Nulls::Skipped,
        doc: "the number of distinct non-NULL values, estimated by Spark's HyperLogLog++ (relative error 0.05; Spark's estimate exactly, see `structured::hll`)",
        example: "approx_count_distinct(word)",
    },
    AggregateFn {
        names: &["first", "first_value"],
        star: false,
        signature: any,
        column: written,
        acc_ty: seen_ty,
        init: |_| quote!((false, ::core::option::Option::None)),
        update: |idx, v, ty| {
            let v = owned_value(v, ty);
            quote!(if !acc.#idx.0 { acc.#idx.0 = true; acc.#idx.1 = #v; })
        },
        merge: |idx| quote!(if !x.#idx.0 { x.#idx = y.#idx; }),
        finish: |idx| quote!(acc.#idx.1),
        nullable: true,
        usage: "first(col)",
        returns: "the column's type",
        nulls: Nulls::Handled,
        doc: "the value of the group's first row (NULL included), in input order",
        example: "first(word)",
    },
    AggregateFn {
        names: &["last", "last_value"],
        star: false,
        signature: any,
        column: written,
        acc_ty: seen_ty,
        init: |_| quote!((false, ::core::option::Option::None)),
        update: |idx, v, ty| {
            let v = owned_value(v, ty);
            quote!(acc.#idx.0 = true; acc.#idx.1 = #v;)
        },
        merge: |idx| quote!(if y.#idx.0 { x.#idx = y.#idx; }),
        finish: |idx| quote!(acc.#idx.1),
        nullable: true,
        usage: "last(col)",
        returns: "the column's type",
        nulls: Nulls::Handled,
        doc: "the value of the group's last row (NULL included), in input order",
        example: "last(word)",
    },
    moments(
        &["stddev", "stddev_samp", "std"],
        "stddev(col)",
        "the sample standard deviation of a numeric column (NULL below 2 values)",
        "stddev(d)",
        |idx| quote!(if acc.#idx.0 < 2 { ::core::option::Option::None } else { ::core::option::Option::Some((acc.#idx.2 / (acc.#idx.0 - 1) as f64).sqrt()) }),
    ),
    moments(
        &["stddev_pop"],
        "stddev_pop(col)",
        "the population standard deviation of a numeric column",
        "stddev_pop(d)",
        |idx| quote!(if acc.#idx.0 == 0 { ::core::option::Option::None } else { ::core::option::Option::Some((acc.#idx.2 / acc.#idx.0 as f64).sqrt()) }),
    ),
    moments(
        &["variance", "var_samp"],
        "variance(col)",
        "the sample variance of a numeric column (NULL below 2 values)",
        "variance(d)",
        |idx| quote!(if acc.#idx.0 < 2 { ::core::option::Option::None } else { ::core::option::Option::Some(acc.#idx.2 / (acc.#idx.0 - 1) as f64) }),
    ),
    moments(
        &["var_pop"],
        "var_pop(col)",
        "the population variance of a numeric column",
        "var_pop(d)",
        |idx| quote!(if acc.#idx.0 == 0 { ::core::option::Option::None } else { ::core::option::Option::Some(acc.#idx.2 / acc.#idx.0 as f64) }),
    ),
    AggregateFn {
        names: &["count_if"],
        star: false,
        signature: |name, arg| match arg {
            Some((_, ColTy::Bool)) => Ok(ColTy::Long),
            Some((x, t)) => Err(SigError::new(format!("`{name}` needs a boolean, found `{x}` of type {}", t.sql()))),
            None => Err(SigError::new(format!("`{name}` takes one argument"))),
        },
        column: written,
        acc_ty: |_| quote!(i64),
        init: |_| quote!(0i64),
        update: |idx, v, _| {
            let v = v.cloned().unwrap_or_else(|| quote!(::core::option::Option::None));
            quote!(if #v == ::core::option::Option::Some(true) { acc.#idx += 1; })
        },
        merge: |idx| quote!(x.#idx += y.#idx;),
        finish: same,
        nullable: false,
        usage: "count_if(cond)",
        returns: "bigint",
        nulls: Nulls::Counted,
        doc: "the number of rows where the condition is true",
        example: "count_if(n > 2)",
    },
    logical(
        &["bool_and", "every"],
        "bool_and(cond)",
        "whether the condition is true on every row (NULLs skipped)",
        "bool_and(n > 0)",
        true,
    ),
    logical(
        &["bool_or", "some", "any"],
        "bool_or(cond)",
        "whether the condition is true on some row (NULLs skipped)",
        "bool_or(n > 2)",
        false,
    ),
];

/// Whether a map is anywhere inside values of type `t`.
fn contains_map(t: ColTy) -> bool {
    match t {
        ColTy::Map(_) => true,
        ColTy::Array(e) => contains_map(*e),
        ColTy::Struct(fields) => fields.iter().any(|f| contains_map(f.ty)),
        _ => false,
    }
}
