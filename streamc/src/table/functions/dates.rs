//! Spark SQL's calendar functions beyond the core: `date_trunc`, `trunc`, `quarter`,
//! `last_day`, `add_months`, `unix_seconds`, `unix_millis`, `timestamp_seconds`,
//! `timestamp_millis`, `window_time`, `current_timestamp`, `current_date`: one [`ScalarFn`] each.

use super::library::{entry, rt};
use super::scalar::ScalarFn;
use super::types::{Args, Nulls, SigError};
use crate::table::ty::ColTy;
use proc_macro2::TokenStream;
use quote::quote;

/// The date of a date or timestamp argument, as code of type `Option<Date>`.
fn date_of(a: &TokenStream, t: Option<ColTy>) -> TokenStream {
    let rt = rt();
    match t {
        Some(ColTy::Timestamp) => quote!((#a).map(#rt::scalar::date_of)),
        _ => quote!(#a),
    }
}

/// `(date | timestamp)` → `ty`.
fn of_date_to(args: Args<'_>, ty: ColTy) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::Date | ColTy::Timestamp)] => Ok(ty),
        _ => Err(None),
    }
}

/// `(timestamp)` → bigint, for `unix_seconds` and `unix_millis`.
fn of_timestamp(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::Timestamp)] => Ok(ColTy::Long),
        _ => Err(None),
    }
}

/// `(bigint)` → timestamp, for `timestamp_seconds` and `timestamp_millis`.
fn of_long(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::Long)] => Ok(ColTy::Timestamp),
        _ => Err(None),
    }
}

/// A timestamp as whole `micros`-microsecond units since the epoch (rounded down).
fn to_epoch(a: &[TokenStream], micros: i64) -> TokenStream {
    let x = &a[0];
    quote!((#x).map(|t| t.0.div_euclid(#micros)))
}

/// The timestamp `n` units of `micros` microseconds after the epoch (NULL beyond its range).
fn from_epoch(a: &[TokenStream], micros: i64) -> TokenStream {
    let (rt, x) = (rt(), &a[0]);
    quote!((#x).and_then(|n: i64| n.checked_mul(#micros)).map(#rt::time::Timestamp))
}

/// The functions of this file.
/// The batch's input (`BatchInput`) in generated code: its time is the batch's.
fn batch_input() -> proc_macro2::Ident {
    proc_macro2::Ident::new("input", proc_macro2::Span::mixed_site())
}

pub static DATES: &[ScalarFn] = &[
    entry(
        &["current_timestamp", "now"],
        |args| match args {
            [] => Ok(ColTy::Timestamp),
            _ => Err(None),
        },
        |_, _| {
            let (rt, input) = (rt(), batch_input());
            quote!(::core::option::Option::Some(#rt::time::Timestamp::from_millis(#input.time_ms())))
        },
        "timestamp",
        Nulls::Handled,
        "the time of the micro-batch (the same for every row of a batch, as in Spark's streaming queries)",
        "current_timestamp()",
    ),
    entry(
        &["current_date", "curdate"],
        |args| match args {
            [] => Ok(ColTy::Date),
            _ => Err(None),
        },
        |_, _| {
            let (rt, input) = (rt(), batch_input());
            quote!(::core::option::Option::Some(#rt::scalar::date_of(#rt::time::Timestamp::from_millis(#input.time_ms()))))
        },
        "date",
        Nulls::Handled,
        "the date (UTC) of the micro-batch's time",
        "current_date()",
    ),
    entry(
        &["window_time"],
        |args| match args {
            [(_, ColTy::Timestamp)] => Ok(ColTy::Timestamp),
            _ => Err(None),
        },
        |a, _| {
            let (rt, x) = (rt(), &a[0]);
            quote!((#x).map(|t| #rt::time::Timestamp(t.0 - 1)))
        },
        "timestamp",
        Nulls::Strict,
        "`window_time(window)`: the event time of an aggregated time window, its end minus one microsecond; it carries the watermark to an aggregation after the windowed one (`window(window_time(window), '1 hour')`)",
        "window_time(timestamp)",
    ),
    entry(
        &["date_trunc"],
        |args| match args {
            [(_, ColTy::String), (_, ColTy::Timestamp | ColTy::Date)] => Ok(ColTy::Timestamp),
            _ => Err(None),
        },
        |a, t| {
            let rt = rt();
            let (unit, ts) = (&a[0], &a[1]);
            let ts = match t[1] {
                Some(ColTy::Date) => quote!(#rt::cast::date_to_timestamp(#ts)),
                _ => quote!(#ts),
            };
            quote!(match (#unit, #ts) {
                (::core::option::Option::Some(u), ::core::option::Option::Some(t)) => #rt::calendar::date_trunc(&u, t),
                _ => ::core::option::Option::None,
            })
        },
        "timestamp",
        Nulls::Strict,
        "`date_trunc(unit, ts)`: truncated to the start of its `YEAR`, `QUARTER`, `MONTH`, `WEEK` (Monday), `DAY`, `HOUR`, `MINUTE`, `SECOND`, `MILLISECOND` or `MICROSECOND` (NULL for another unit)",
        "date_trunc('HOUR', timestamp)",
    ),
    entry(
        &["trunc"],
        |args| match args {
            [(_, ColTy::Date | ColTy::Timestamp), (_, ColTy::String)] => Ok(ColTy::Date),
            _ => Err(None),
        },
        |a, t| {
            let rt = rt();
            let (d, unit) = (date_of(&a[0], t[0]), &a[1]);
            quote!(match (#d, #unit) {
                (::core::option::Option::Some(d), ::core::option::Option::Some(u)) => #rt::calendar::trunc(d, &u),
                _ => ::core::option::Option::None,
            })
        },
        "date",
        Nulls::Strict,
        "`trunc(date, unit)`: the first day of its `YEAR`, `QUARTER`, `MONTH` or `WEEK` (NULL for another unit)",
        "trunc(day, 'MM')",
    ),
    entry(
        &["quarter"],
        |args| of_date_to(args, ColTy::Int),
        |a, t| {
            let (rt, d) = (rt(), date_of(&a[0], t[0]));
            quote!((#d).map(|d| #rt::calendar::quarter(d) as i32))
        },
        "int",
        Nulls::Strict,
        "the quarter of the year, 1 to 4",
        "quarter(day)",
    ),
    entry(
        &["last_day"],
        |args| of_date_to(args, ColTy::Date),
        |a, t| {
            let (rt, d) = (rt(), date_of(&a[0], t[0]));
            quote!((#d).map(#rt::calendar::last_day))
        },
        "date",
        Nulls::Strict,
        "the last day of the month",
        "last_day(day)",
    ),
    entry(
        &["add_months"],
        |args| {
            match args {
            [(_, ColTy::Date | ColTy::Timestamp), (_, ColTy::Int | ColTy::Short | ColTy::Byte)] => Ok(ColTy::Date),
            [(_, ColTy::Date | ColTy::Timestamp), (n, ColTy::Long)] if super::library::literal_int(n).is_some() => {
                Ok(ColTy::Date)
            }
            [(_, ColTy::Date | ColTy::Timestamp), (n, ColTy::Long)] => Err(Some(
                SigError::new(format!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] the months of `add_months` are an INT, and `{n}` is a BIGINT"
                ))
                .help("write the number of months as a literal"),
            )),
            _ => Err(None),
        }
        },
        |a, t| {
            let (rt, d, n) = (rt(), date_of(&a[0], t[0]), &a[1]);
            quote!(match (#d, (#n).map(|v| v as i64)) {
                (::core::option::Option::Some(d), ::core::option::Option::Some(n)) => #rt::calendar::add_months(d, n),
                _ => ::core::option::Option::None,
            })
        },
        "date",
        Nulls::Strict,
        "`add_months(date, n)`: `n` months later, the day clamped to the month's last",
        "add_months(day, 1)",
    ),
    entry(
        &["unix_seconds"],
        of_timestamp,
        |a, _| to_epoch(a, 1_000_000),
        "bigint",
        Nulls::Strict,
        "seconds since the epoch (rounded down)",
        "unix_seconds(timestamp)",
    ),
    entry(
        &["unix_millis"],
        of_timestamp,
        |a, _| to_epoch(a, 1_000),
        "bigint",
        Nulls::Strict,
        "milliseconds since the epoch (rounded down)",
        "unix_millis(timestamp)",
    ),
    entry(
        &["timestamp_seconds"],
        of_long,
        |a, _| from_epoch(a, 1_000_000),
        "timestamp",
        Nulls::Strict,
        "the timestamp `n` seconds after the epoch",
        "timestamp_seconds(n)",
    ),
    entry(
        &["timestamp_millis"],
        of_long,
        |a, _| from_epoch(a, 1_000),
        "timestamp",
        Nulls::Strict,
        "the timestamp `n` milliseconds after the epoch",
        "timestamp_millis(n)",
    ),
];
