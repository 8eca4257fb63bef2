//! The registry of Structured Streaming functions and aggregates: one entry per function
//! ([`ScalarFn`], in `scalar.rs`) or aggregate ([`AggregateFn`], in `aggregate.rs`) with its
//! names, type rule, null behaviour, generated code, doc line and example. The checker types
//! calls with it, codegen emits them with it, the SQL front end tells aggregates from functions
//! with it, and every "did you mean" for a misspelt function comes from it.
//!
//! Adding a function is adding one entry to [`SCALARS`], [`LIBRARY`], [`STRINGS_MATH`], [`DATES`],
//! [`NESTED`] or [`BINARY`] (or [`AGGREGATES`])
//! and its tests; README's list is checked against these tables.

/// Every scalar function and special form: [`SCALARS`], [`LIBRARY`], [`STRINGS_MATH`],
/// [`DATES`], [`NESTED`], then [`BINARY`].
pub fn scalars() -> impl Iterator<Item = &'static ScalarFn> {
    SCALARS.iter().chain(LIBRARY).chain(STRINGS_MATH).chain(DATES).chain(NESTED).chain(BINARY)
}

mod aggregate;
mod binary;
mod dates;
mod library;
mod nested;
mod patterns;
mod scalar;
mod strings;
mod types;

pub use aggregate::{AGGREGATES, AggFn, AggregateFn};
pub use binary::BINARY;
pub use dates::DATES;
pub use library::LIBRARY;
pub use nested::{NESTED, lift, lower};
pub use patterns::{datetime_pattern, regex_code};
pub use scalar::{Form, SCALARS, ScalarFn, Signature, literal_split};
pub use strings::STRINGS_MATH;
pub use types::{Args, Nulls, SigError, reset_structs, rust_ty, struct_defs, struct_fields, struct_ident};

use crate::diag::suggest;

/// The scalar function (or special form) called `name` (lowercase), aliases included.
pub fn scalar(name: &str) -> Option<&'static ScalarFn> {
    scalars().find(|f| f.names.contains(&name))
}

/// The aggregate called `name` (lowercase), aliases included (`mean` is `avg`).
pub fn aggregate(name: &str) -> Option<&'static AggregateFn> {
    AGGREGATES.iter().find(|f| f.names.contains(&name))
}

/// Every name of a scalar function, special form or aggregate, aliases included.
pub fn all_names() -> Vec<&'static str> {
    let scalars = scalars().flat_map(|f| f.names.iter().copied());
    scalars.chain(AGGREGATES.iter().flat_map(|f| f.names.iter().copied())).collect()
}

/// The diagnostic of a call of an unknown function: "did you mean" the closest name of the
/// registry (an aggregate's misspelling is reported as an unknown aggregate), else a pointer to
/// the reference (rustc's way: no list of every name).
pub fn unknown_function(name: &str) -> SigError {
    let names = all_names();
    match suggest(name, &names) {
        Some(s) if aggregate(s).is_some() => {
            SigError::new(format!("unknown aggregate function `{name}`")).help(format!("did you mean `{s}`?"))
        }
        Some(s) => SigError::new(format!("unknown function `{name}`")).help(format!("did you mean `{s}`?")),
        None => SigError::new(format!("unknown function `{name}`")).help(REFERENCE_POINTER),
    }
}

/// Where the user finds every function: the end of a `help:` line without a closer name.
const REFERENCE_POINTER: &str = "see the table of functions in README.md for those streamc has";

/// The `help:` line of a call of `name` that no signature of `name` takes: its line of the
/// reference and its example, which say what it takes (`` the absolute value, as in `abs(n)` ``).
/// The name is right, so a "did you mean" another function would mislead.
pub fn no_signature_help(name: &str) -> String {
    match scalar(name) {
        Some(f) => format!("{}, as in `{}`", f.doc, f.example),
        None => REFERENCE_POINTER.to_string(),
    }
}

/// The `help:` line of an `agg` entry that is no aggregate call (`` `cnt` ``, `n + 1`): "did
/// you mean" the closest aggregate's usage when `written` (the entry's text) is close to an
/// aggregate's name, else what an aggregate looks like and where the user finds them all (as
/// [`unknown_function`]: no list of every name).
pub fn aggregates_help(written: &str) -> String {
    let names: Vec<&str> = AGGREGATES.iter().flat_map(|f| f.names.iter().copied()).collect();
    let usage = |name: &str| aggregate(name).map_or(name.to_string(), |a| a.usage.replacen(a.names[0], name, 1));
    match suggest(written.trim(), &names) {
        Some(s) => format!("did you mean `{}`?", usage(s)),
        None => AGGREGATE_POINTER.to_string(),
    }
}

/// What an aggregate looks like, and where the user finds them all.
const AGGREGATE_POINTER: &str = "an aggregate is a call such as `count(*)` or `sum(col)`; see the table of functions in README.md for those streamc has";

/// The diagnostic of an aggregate that is not one: "did you mean" the closest aggregate.
pub fn unknown_aggregate(name: &str) -> SigError {
    let names: Vec<&str> = AGGREGATES.iter().flat_map(|f| f.names.iter().copied()).collect();
    let e = SigError::new(format!("unknown aggregate function `{name}`"));
    match suggest(name, &names) {
        Some(s) => e.help(format!("did you mean `{s}`?")),
        None => e.help(AGGREGATE_POINTER),
    }
}

/// The reference list of functions and aggregates (Markdown), as README.md shows it.
pub fn reference() -> String {
    let mut out = String::from("| function | returns | NULLs | what | example |\n|---|---|---|---|---|\n");
    let nulls = |n: Nulls| match n {
        Nulls::Strict => "NULL in, NULL out",
        Nulls::Skipped => "NULLs skipped",
        Nulls::Counted => "NULLs not counted",
        Nulls::Handled => "see what it does",
    };
    for f in scalars() {
        let names: Vec<String> = f.names.iter().map(|n| format!("`{n}`")).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | `{}` |\n",
            names.join(", "),
            f.returns,
            nulls(f.nulls),
            f.doc,
            f.example
        ));
    }
    for a in AGGREGATES {
        let names: Vec<String> = a.names.iter().map(|n| format!("`{n}`")).collect();
        out.push_str(&format!(
            "| {} (aggregate) | {} | {} | {} | `{}` |\n",
            names.join(", "),
            a.returns,
            nulls(a.nulls),
            a.doc,
            a.example
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_lowercase_and_unique() {
        let names = all_names();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(*n, n.to_ascii_lowercase());
            assert!(!names[i + 1..].contains(n), "`{n}` is registered twice");
        }
    }

    #[test]
    fn misspellings_get_the_registry_name() {
        let help = |e: SigError| e.help.unwrap_or_default();
        assert_eq!(help(unknown_function("lowr")), "did you mean `lower`?");
        assert_eq!(help(unknown_function("upperr")), "did you mean `upper`?");
        assert_eq!(unknown_function("cout").message, "unknown aggregate function `cout`");
        assert_eq!(help(unknown_aggregate("avgg")), "did you mean `avg`?");
        assert_eq!(help(unknown_aggregate("summ")), "did you mean `sum`?");
        assert_eq!(help(unknown_aggregate("cout")), "did you mean `count`?");
        assert_eq!(aggregates_help("count"), "did you mean `count(*)`?");
        assert_eq!(aggregates_help("cont"), "did you mean `count(*)`?");
        assert_eq!(aggregates_help("mean"), "did you mean `mean(col)`?");
        assert_eq!(aggregates_help("stdev"), "did you mean `stddev(col)`?");
        assert!(aggregates_help("n + 1").starts_with("an aggregate is a call such as `count(*)`"));
        assert!(
            help(unknown_aggregate("frobnicate"))
                .ends_with("see the table of functions in README.md for those streamc has")
        );
        assert_eq!(aggregate("mean").map(|a| a.names[0]), Some("avg"));
    }

    /// README's list of functions is this registry's reference; `STREAMC_BLESS=1` rewrites it.
    #[test]
    fn readme_lists_every_function_of_the_registry() {
        let readme = include_str!("../../../../README.md");
        let begin = "<!-- functions: generated from streamc/src/table/functions; see its tests -->\n";
        let Some(start) = readme.find(begin).map(|i| i + begin.len()) else {
            panic!("README.md lacks the marker {begin:?}")
        };
        let end = readme[start..].find("<!-- /functions -->").map(|i| start + i).expect("end marker");
        if std::env::var_os("STREAMC_BLESS").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
            let text = std::fs::read_to_string(path).expect("read README.md");
            let (a, b) =
                (text.find(begin).expect("marker") + begin.len(), text.find("<!-- /functions -->").expect("end"));
            std::fs::write(path, format!("{}{}{}", &text[..a], reference(), &text[b..])).expect("write README.md");
            return;
        }
        assert!(
            readme[start..end] == reference(),
            "README.md's function list differs from the registry; replace it with:\n{}",
            reference()
        );
    }
}
