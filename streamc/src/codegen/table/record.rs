//! Parsing a source's records into typed column variables (`Option<T>`: SQL NULLs), and the
//! static tables of joins, read and hashed once at setup.

use super::scope::{Scope, borrowed, ident};
use super::tuple::nest;
use crate::codegen::emit::rt;
use crate::table::functions::rust_ty;
use crate::table::{Checked, ColTy, Column, Format, Malformed, SourceKind, TStep, TablePlan, TableSource};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use std::collections::{HashMap, HashSet};

/// The JSON reader's layout of the lines it read last (`JsonShape`), which a JSON record's
/// parse ([`parse_record`]) uses: declared by [`line_state`] before every loop over lines.
fn shape_ident() -> Ident {
    Ident::new("json_shape", Span::mixed_site())
}

/// What a loop over lines keeps from one line to the next, declared before the loop: the JSON
/// reader's learned layout (unused by other formats).
pub(super) fn line_state() -> TokenStream {
    let (rt, shape) = (rt(), shape_ident());
    quote!(let mut #shape = #rt::structured::json::JsonShape::default();)
}

/// The code that parses one record of `source` into column variables named after `names` (the
/// query's first input's columns, by position), and what a malformed record does. Of a JSON or
/// CSV record only the columns in `used` (by their names in `names`; all when `None`) are read.
pub(super) fn parse_record(
    source: &TableSource,
    names: &[Column],
    used: Option<&HashSet<String>>,
    malformed_mode: Malformed,
    text: &Ident,
    line: &Ident,
    malformed: &Ident,
) -> (TokenStream, Scope) {
    let rt = rt();
    let on_bad = match malformed_mode {
        Malformed::Permissive => None,
        Malformed::DropMalformed => Some(quote!({ #malformed += 1; continue; })),
        Malformed::FailFast => Some(quote!({
            let (path, n) = #text.origin(#line).map(|(p, n)| (p.to_path_buf(), n)).unwrap_or_default();
            return ::core::result::Result::Err(#rt::Error::Malformed { path, line: n, message: "a record does not match the schema".into() });
        })),
    };
    let mut scope: Scope = HashMap::new();
    let mut parse = TokenStream::new();
    let format = match &source.kind {
        // Lines with their times come as JSON lines (`{"value":..,"timestamp":..}`).
        SourceKind::Socket { include_timestamp: true, .. } => Format::Json,
        SourceKind::Socket { .. } => Format::Text,
        SourceKind::Files { format, .. } | SourceKind::Static { format, .. } => *format,
        // The runtime gives each record as a JSON line (Spark's columns, or the value itself).
        SourceKind::Kafka { .. } => Format::Json,
        SourceKind::Rate { .. } => {
            // The rate source's lines are `<timestamp µs> <value>`.
            let (ts, value) = (ident("col", &names[0].name), ident("col", &names[1].name));
            parse.extend(quote! {
                let (#ts, #value) = match #line.split_once(' ') {
                    ::core::option::Option::Some((a, b)) => (a.parse::<i64>().ok().map(#rt::structured::time::Timestamp), b.parse::<i64>().ok()),
                    ::core::option::Option::None => (::core::option::Option::None, ::core::option::Option::None),
                };
            });
            scope.insert(names[0].name.clone(), (ts, ColTy::Timestamp));
            scope.insert(names[1].name.clone(), (value, ColTy::Long));
            return (parse, scope);
        }
    };
    match format {
        Format::Text => {
            let v = ident("col", &names[0].name);
            parse.extend(quote!(let #v = ::core::option::Option::Some(::std::borrow::Cow::Borrowed(#line));));
            scope.insert(names[0].name.clone(), (v, ColTy::String));
        }
        Format::Json | Format::Csv => {
            let bad = match &on_bad {
                Some(act) => quote!(#act),
                None => quote!(::core::option::Option::None),
            };
            // The fields the query reads: the others are not converted (Spark's column
            // pruning: their malformed values do not make the record malformed).
            let read: Vec<(usize, &Column, &Column)> = source
                .schema
                .iter()
                .zip(names)
                .enumerate()
                .filter(|(_, (_, named))| used.is_none_or(|u| u.contains(&named.name)))
                .map(|(i, (c, named))| (i, c, named))
                .collect();
            let slot = |i: usize| Ident::new(&format!("field_{i}"), Span::mixed_site());
            if format == Format::Json {
                // A parser for exactly these fields (`scan_fields` over their keys, a `match` on
                // the key's index), each value converted where it is read; any other field is
                // validated and skipped undecoded.
                let slots: Vec<Ident> = read.iter().map(|(i, _, _)| slot(*i)).collect();
                let keys: Vec<&str> = read.iter().map(|(_, c, _)| c.name.as_str()).collect();
                let convs: Vec<TokenStream> = read.iter().map(|(i, c, _)| json_read(source, c.ty, &slot(*i))).collect();
                let failed = match &on_bad {
                    Some(act) => quote!(#act),
                    None => quote!({ #( #slots = ::core::result::Result::Ok(::core::option::Option::None); )* }),
                };
                let idx: Vec<usize> = (0..read.len()).collect();
                let shape = shape_ident();
                parse.extend(quote! {
                    #( let mut #slots = ::core::result::Result::Ok(::core::option::Option::None); )*
                    let scanned = #shape.scan_fields(#line, &[#(#keys),*], |k, value| {
                        match k {
                            #( #idx => #convs, )*
                            _ => {}
                        }
                        ::core::result::Result::Ok(())
                    });
                    if scanned.is_err() #failed
                });
            } else {
                let n = source.schema.len();
                let fields = Ident::new("fields", Span::mixed_site());
                let failed = match &on_bad {
                    Some(act) => quote!(#act),
                    None => quote!({ for f in #fields.iter_mut() { *f = #rt::structured::json::Json::Null; } }),
                };
                let o = &source.options;
                let (sep, quote_char, escape, null) = (o.sep, o.quote, o.escape, o.null_value.as_str());
                // Spark's `header`: the first line of each file names the columns.
                if o.header && matches!(source.kind, SourceKind::Files { .. }) {
                    parse.extend(quote!(if #text.starts_file(#line) { continue; }));
                }
                parse.extend(quote! {
                    let mut #fields: [#rt::structured::json::Json<'_>; #n] = ::core::array::from_fn(|_| #rt::structured::json::Json::Missing);
                    const CSV_FORMAT: #rt::structured::conv::CsvFormat<'static> = #rt::structured::conv::CsvFormat { sep: #sep, quote: #quote_char, escape: #escape, null_value: #null };
                    if #rt::structured::conv::parse_csv_with(#line, &mut #fields, &CSV_FORMAT).is_err() #failed
                });
                for (i, c, _) in &read {
                    let v = slot(*i);
                    let conv = column_conv(
                        source,
                        c.ty,
                        quote!(::core::mem::replace(&mut #fields[#i], #rt::structured::json::Json::Missing)),
                    );
                    parse.extend(quote!(let #v = #conv;));
                }
            }
            for (i, c, named) in &read {
                let (v, field) = (ident("col", &named.name), slot(*i));
                parse.extend(quote! {
                    let #v = match #field {
                        ::core::result::Result::Ok(v) => v,
                        ::core::result::Result::Err(()) => #bad,
                    };
                });
                scope.insert(named.name.clone(), (v, c.ty));
            }
        }
    }
    (parse, scope)
}

/// Reads a JSON field's `value` as a column of type `ty` into the variable `slot`: the common
/// types in place (no `Json` in between; a string written straight into `slot`), the others by
/// [`column_conv`].
fn json_read(source: &TableSource, ty: ColTy, slot: &Ident) -> TokenStream {
    let read = match (ty, &source.options.timestamp_format) {
        (ColTy::String, _) => return quote!(value.string_into(&mut #slot)?),
        (ColTy::Timestamp, None) => quote!(value.timestamp()?),
        (ColTy::Long, _) => quote!(value.long()?),
        _ => column_conv(source, ty, quote!(value.json()?)),
    };
    quote!(#slot = #read)
}

/// Code reading a top-level column of `ty` from the JSON or CSV value `json` of `source`, with
/// its `timestampFormat` or `dateFormat` when it has one.
fn column_conv(source: &TableSource, ty: ColTy, json: TokenStream) -> TokenStream {
    let rt = rt();
    // A CSV field is text: a number column reads it as the number it spells.
    let csv = matches!(
        &source.kind,
        SourceKind::Files { format: Format::Csv, .. } | SourceKind::Static { format: Format::Csv, .. }
    );
    let json = if csv && ty.number() && !matches!(ty, ColTy::Decimal(..)) {
        quote!(#rt::structured::conv::csv_number(#json))
    } else {
        json
    };
    match (ty, &source.options.timestamp_format, &source.options.date_format) {
        (ColTy::Timestamp, Some(p), _) => quote!(#rt::structured::conv::timestamp_with(#json, #p)),
        (ColTy::Date, _, Some(p)) => quote!(#rt::structured::conv::date_with(#json, #p)),
        _ => super::nested::conv(ty, json, false),
    }
}

/// Setup code of the static tables joined by `q`: each read and hashed once, by its join keys.
pub(super) fn static_tables(table: &TablePlan, q: &Checked) -> TokenStream {
    let rt = rt();
    let mut out = TokenStream::new();
    for (i, st) in q.steps.iter().enumerate() {
        let TStep::Join { table: t, on, right, .. } = st else { continue };
        let source = &table.sources[*t];
        let SourceKind::Static { path, .. } = &source.kind else { continue };
        let map = ident(&format!("static{i}"), &q.key());
        let text = Ident::new("static_text", Span::mixed_site());
        let line = Ident::new("line", Span::mixed_site());
        let bad = Ident::new("static_malformed", Span::mixed_site());
        let (parse, scope) = parse_record(source, &source.schema, None, Malformed::Permissive, &text, &line, &bad);
        let state = line_state();
        let owned = |name: &str| -> TokenStream {
            let (v, ty) = &scope[name];
            match ty {
                ColTy::String => quote!(#v.as_ref().map(|s| ::std::string::String::from(&**s))),
                _ => quote!(#v),
            }
        };
        // Keys as the stream side probes them (`borrowed`): doubles as `DoubleKey`s.
        let keys = nest(
            on.iter()
                .map(|(n, t)| match t {
                    ColTy::Double | ColTy::Float => borrowed(&scope[n].0, *t),
                    _ => owned(n),
                })
                .collect(),
        );
        let key_ty = nest(
            on.iter()
                .map(|(_, t)| {
                    let t = super::scope::key_rust_ty(*t);
                    quote!(::core::option::Option<#t>)
                })
                .collect(),
        );
        let vals = nest(right.iter().map(|c| owned(&c.name)).collect());
        let val_ty = nest(
            right
                .iter()
                .map(|c| {
                    let t = rust_ty(c.ty);
                    quote!(::core::option::Option<#t>)
                })
                .collect(),
        );
        out.extend(quote! {
            #[allow(unused_mut, unused_variables, clippy::all)]
            let #map: ::core::result::Result<
                #rt::structured::agg::StreamingAgg<#key_ty, ::std::vec::Vec<#val_ty>>,
                ::std::string::String,
            > = (|| {
                let lines = #rt::structured::static_table::read_lines(#path).map_err(|e| e.to_string())?;
                // Keyed like aggregation state, so that a stream row probes it with borrowed
                // strings: no allocation per row.
                let mut map = #rt::structured::agg::StreamingAgg::new();
                let mut #bad = 0u64;
                #state
                for #line in lines.iter().map(::std::string::String::as_str) {
                    #parse
                    let key = #keys;
                    let row = #vals;
                    map.update_owned(key, |rows: &mut ::std::vec::Vec<_>| rows.push(row), ::std::vec::Vec::new);
                }
                ::core::result::Result::Ok(map)
            })();
        });
    }
    out
}
