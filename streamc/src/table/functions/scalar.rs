//! The scalar functions of Structured Streaming expressions, and the special forms (`explode`,
//! `window`, `session_window`) that only certain steps accept: one [`ScalarFn`] each.

use super::types::{Args, Nulls, SigError};
use crate::table::expr::Expr;
use crate::table::ty::ColTy;
use proc_macro2::TokenStream;
use quote::quote;

/// A function's type rule: the result type for the argument types, or why not (`None`: no
/// variant takes these types; the checker says so and lists the functions).
pub type Signature = fn(Args<'_>) -> Result<ColTy, Option<SigError>>;

/// A function's generated code: from the arguments' code (each an `Option<T>`, None = NULL)
/// and static types, an expression of type `Option<R>`.
pub type Codegen = fn(&[TokenStream], &[Option<ColTy>]) -> TokenStream;

/// What kind of call a name is.
pub enum Form {
    /// An ordinary function, allowed wherever an expression is.
    Ordinary { signature: Signature, codegen: Codegen },
    /// A form that one step handles itself (`explode` in `select`, `window` in `group_by`);
    /// anywhere else it is an error: "`name` is only allowed as `place`".
    Special { place: &'static str },
}

/// One scalar function or special form.
pub struct ScalarFn {
    /// Lowercase names, the first being Spark's (and the one listed); the others are aliases.
    pub names: &'static [&'static str],
    pub form: Form,
    /// The result type, for the reference list.
    pub returns: &'static str,
    pub nulls: Nulls,
    /// One line for the reference list.
    pub doc: &'static str,
    pub example: &'static str,
}

/// `trim`, `ltrim`, `rtrim`: `(string)` or Spark's `(trim_chars, string)` → string. SQL's
/// `TRIM([BOTH|LEADING|TRAILING] [chars] FROM s)` lowers to them.
const fn trim_fn(
    names: &'static [&'static str],
    doc: &'static str,
    example: &'static str,
    codegen: Codegen,
) -> ScalarFn {
    ScalarFn {
        names,
        form: Form::Ordinary {
            signature: |args| match args {
                [(_, ColTy::String)] | [(_, ColTy::String), (_, ColTy::String)] => Ok(ColTy::String),
                _ => Err(None),
            },
            codegen,
        },
        returns: "string",
        nulls: Nulls::Strict,
        doc,
        example,
    }
}

fn trim_side(a: &[TokenStream], side: TokenStream) -> TokenStream {
    let rt = quote!(::streamc_runtime::structured::text);
    match a {
        [s] => quote!((#s).map(|s| #rt::trim(s, ::core::option::Option::None, #rt::Side::#side))),
        [chars, s, ..] => quote!(match (#chars, #s) {
            (::core::option::Option::Some(c), ::core::option::Option::Some(s)) => ::core::option::Option::Some(#rt::trim(s, ::core::option::Option::Some(&c), #rt::Side::#side)),
            _ => ::core::option::Option::None,
        }),
        [] => quote!(::core::option::Option::None),
    }
}

/// `(string) → string`.
fn one_string(args: Args<'_>) -> Result<ColTy, Option<SigError>> {
    match args {
        [(_, ColTy::String)] => Ok(ColTy::String),
        _ => Err(None),
    }
}

fn first(a: &[TokenStream]) -> TokenStream {
    a.first().cloned().unwrap_or_default()
}

/// Whether a `split(s, pattern[, limit])` call splits on a literal (no regular-expression
/// metacharacters, no limit): then no regex is needed.
pub fn literal_split<'a>(mut args: impl Iterator<Item = &'a Expr>) -> bool {
    let (_, p, limit) = (args.next(), args.next(), args.next());
    matches!(p, Some(Expr::Str(p)) if !p.is_empty() && !p.chars().any(|c| "\\^$.|?*+()[]{}".contains(c)))
        && limit.is_none()
}

/// Every scalar function and special form, in the order the reference lists them.
pub static SCALARS: &[ScalarFn] = &[
    ScalarFn {
        names: &["split"],
        form: Form::Ordinary {
            signature: |args| match args {
                [(_, ColTy::String), (pattern, ColTy::String)]
                | [(_, ColTy::String), (pattern, ColTy::String), (_, ColTy::Long)] => {
                    match pattern {
                        Expr::Str(p) if p.is_empty() => Err(Some(SigError::new("`split` needs a non-empty pattern"))),
                        Expr::Str(_) if literal_split(args.iter().map(|(e, _)| *e)) => {
                            Ok(crate::table::ty::STRING_ARRAY)
                        }
                        // A regular expression (Java's, as `regexp_extract` takes it), or a limit.
                        p => super::patterns::regex_ok(p).map(|_| crate::table::ty::STRING_ARRAY),
                    }
                }
                _ => Err(None),
            },
            // The literal case: `explode(split(s, 'literal'))` reads the pieces in place
            // (`codegen::table::steps`), anywhere else the array is built here. A pattern with
            // metacharacters, or a limit, is `codegen::table::expr`'s: Java's
            // `String.split(regex, limit)` (the runtime's `regex` feature).
            codegen: |a, _| {
                let (s, p) = (&a[0], &a[1]);
                quote!(match (#s, #p) {
                    (::core::option::Option::Some(s), ::core::option::Option::Some(p)) => ::core::option::Option::Some(
                        s.split(&*p).map(|x| ::core::option::Option::Some(::std::string::String::from(x))).collect::<::std::vec::Vec<_>>(),
                    ),
                    _ => ::core::option::Option::None,
                })
            },
        },
        returns: "array<string>",
        nulls: Nulls::Strict,
        doc: "the pieces of a string around the matches of a pattern (Java's regular expression; a literal without metacharacters is split on directly), at most `limit` pieces when the third argument is positive; trailing empty pieces kept (Spark's limit -1)",
        example: "explode(split(value, ' ')) AS word",
    },
    ScalarFn {
        names: &["explode"],
        form: Form::Special { place: "a `select` item" },
        returns: "string",
        nulls: Nulls::Strict,
        doc: "one row per element of an array (a select item; SQL: also `LATERAL VIEW`); of a map, one row per entry, columns `key` and `value`",
        example: "explode(split(value, ' ')) AS word",
    },
    ScalarFn {
        names: &["json_tuple"],
        form: Form::Special { place: "a `select` item" },
        returns: "string, one per key",
        nulls: Nulls::Strict,
        doc: "columns `c0`, `c1`, … of the top-level values of the keys in JSON text (as `get_json_object(json, '$.key')` reads them)",
        example: "json_tuple(value, 'user', 'action')",
    },
    ScalarFn {
        names: &["posexplode"],
        form: Form::Special { place: "a `select` item" },
        returns: "bigint, then the element type",
        nulls: Nulls::Strict,
        doc: "`explode` with the element's position first: columns `pos` (from 0) and `col` (of a map: `pos`, `key`, `value`)",
        example: "posexplode(split(value, ' '))",
    },
    ScalarFn {
        names: &["lower"],
        form: Form::Ordinary {
            signature: one_string,
            codegen: |a, _| {
                let a = first(a);
                quote!((#a).map(|s| ::std::borrow::Cow::<str>::Owned(s.to_lowercase())))
            },
        },
        returns: "string",
        nulls: Nulls::Strict,
        doc: "the string in lower case",
        example: "lower(word)",
    },
    ScalarFn {
        names: &["upper"],
        form: Form::Ordinary {
            signature: one_string,
            codegen: |a, _| {
                let a = first(a);
                quote!((#a).map(|s| ::std::borrow::Cow::<str>::Owned(s.to_uppercase())))
            },
        },
        returns: "string",
        nulls: Nulls::Strict,
        doc: "the string in upper case",
        example: "upper(word)",
    },
    trim_fn(
        &["trim"],
        "the string without spaces (U+0020 only, as Spark) at both ends; `trim(chars, s)` strips the characters of `chars`",
        "trim(word)",
        |a, _| trim_side(a, quote!(Both)),
    ),
    trim_fn(
        &["ltrim"],
        "the string without spaces (U+0020) at the start; `ltrim(chars, s)` strips the characters of `chars`",
        "ltrim(word)",
        |a, _| trim_side(a, quote!(Leading)),
    ),
    trim_fn(
        &["rtrim"],
        "the string without spaces (U+0020) at the end; `rtrim(chars, s)` strips the characters of `chars`",
        "rtrim(word)",
        |a, _| trim_side(a, quote!(Trailing)),
    ),
    ScalarFn {
        names: &["length"],
        form: Form::Ordinary {
            signature: |args| match args {
                [(_, ColTy::String | ColTy::Binary)] => Ok(ColTy::Int),
                _ => Err(None),
            },
            codegen: |a, t| {
                let a = first(a);
                if t.first() == Some(&Some(ColTy::Binary)) {
                    quote!((#a).map(|b| b.0.len() as i32))
                } else {
                    quote!((#a).map(|s| ::streamc_runtime::structured::scalar::char_length(&s)))
                }
            },
        },
        returns: "int",
        nulls: Nulls::Strict,
        doc: "the number of characters of a string (of bytes of a binary)",
        example: "length(word) > 3",
    },
    ScalarFn {
        names: &["to_date"],
        form: Form::Ordinary {
            signature: |args| match args {
                [(_, ColTy::Timestamp | ColTy::String | ColTy::Date)] => Ok(ColTy::Date),
                [(_, ColTy::String), (p, ColTy::String)] => super::patterns::pattern_ok(p).map(|()| ColTy::Date),
                _ => Err(None),
            },
            codegen: |a, tys| {
                if a.len() == 2 {
                    let parsed = super::patterns::parse_with(&a[0], &a[1]);
                    return quote!((#parsed).map(::streamc_runtime::structured::scalar::date_of));
                }
                let a = first(a);
                match tys.first().copied().flatten() {
                    Some(ColTy::Timestamp) => {
                        quote!((#a).map(|t| ::streamc_runtime::structured::time::Date((t.0.div_euclid(86_400_000_000)) as i32)))
                    }
                    Some(ColTy::Date) => quote!(#a),
                    _ => quote!((#a).and_then(|s| ::streamc_runtime::structured::time::parse_date(&s))),
                }
            },
        },
        returns: "date",
        nulls: Nulls::Strict,
        doc: "the date of a timestamp (UTC), or of a string: `yyyy-mm-dd` (as a cast) or `to_date(s, pattern)`; text that does not parse fails the batch (ANSI)",
        example: "to_date(timestamp)",
    },
    ScalarFn {
        names: &["window"],
        form: Form::Special { place: "a `group_by` key" },
        returns: "window_start, window_end",
        nulls: Nulls::Strict,
        doc: "the tumbling or sliding time windows of a timestamp (a grouping key); an optional fourth argument offsets them (`'-2 minutes'`, less than the slide)",
        example: "window(timestamp, '10 minutes', '5 minutes')",
    },
    ScalarFn {
        names: &["session_window"],
        form: Form::Special { place: "a `group_by` key" },
        returns: "session_window_start, session_window_end",
        nulls: Nulls::Strict,
        doc: "the session of a timestamp, closed after a gap without input (a grouping key)",
        example: "session_window(timestamp, '5 minutes')",
    },
];
