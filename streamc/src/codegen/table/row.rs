//! The output row of a query: a struct generated per query with one typed field per output
//! column (SQL nulls as `Option<T>`), implementing the runtime's `Row` for every sink and
//! handed to `foreach_batch` closures, which read `row.word` rather than `row.2`.
//!
//! Field names come from column names by [`field_names`]' documented mapping.

use super::scope::{Scope, ident};
use crate::codegen::emit::rt;
use crate::table::functions::rust_ty;
use crate::table::{Checked, ColTy};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// The Rust field name of each column, in order: every character that is not an ASCII letter,
/// digit or `_` becomes `_`, runs of `_` become one and `_` at either end is dropped
/// (`window.start` → `window_start`, `sum(n)` → `sum_n`, `count(*)` → `count`); a name that is
/// then empty or starts with a digit gets a `c_` prefix (`1st` → `c_1st`); a Rust keyword gets
/// a trailing `_` (`type` → `type_`); and a name already taken gets `_2`, `_3`, … (`a b` and
/// `a_b` → `a_b`, `a_b_2`). Letter case is kept.
pub fn field_names<'a>(columns: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in columns {
        let mut f = String::with_capacity(name.len());
        for c in name.chars() {
            let c = if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' };
            if !(c == '_' && (f.is_empty() || f.ends_with('_'))) {
                f.push(c);
            }
        }
        while f.ends_with('_') {
            f.pop();
        }
        if f.is_empty() || f.starts_with(|c: char| c.is_ascii_digit()) {
            f.insert_str(0, "c_");
        }
        if is_keyword(&f) {
            f.push('_');
        }
        let base = f.clone();
        let mut k = 2;
        while out.contains(&f) {
            f = format!("{base}_{k}");
            k += 1;
        }
        out.push(f);
    }
    out
}

/// Rust's strict and reserved keywords (2024 edition), which cannot name a field.
fn is_keyword(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
        "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
        "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract",
        "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
    ];
    KEYWORDS.contains(&s)
}

/// Whether each output column of `q` is nullable: all but what Spark makes NOT NULL (window
/// bounds, `count`).
fn nullable(q: &Checked) -> Vec<bool> {
    let Some(a) = &q.agg else { return vec![true; q.output.len()] };
    let bounds = if a.window.is_some() || a.session.is_some() { 2 } else { 0 };
    let mut out = vec![false; bounds];
    out.extend(a.keys.iter().map(|_| true));
    out.extend(a.aggs.iter().map(|(_, f, _, _)| f.def().nullable));
    out
}

/// Column variables bound from the fields of `row` (a `&Row`), as the expression code reads
/// them (`Option<T>`, strings borrowed): for conditions over output rows (`HAVING`).
pub(super) fn row_scope(q: &Checked, row: &Ident) -> (TokenStream, Scope) {
    let names = field_names(q.output.iter().map(|c| c.name.as_str()));
    let mut binds = TokenStream::new();
    let mut scope = Scope::new();
    for ((c, f), null) in q.output.iter().zip(names).zip(nullable(q)) {
        let v = ident("col", &c.name);
        let f = Ident::new(&f, Span::call_site());
        binds.extend(match (c.ty, null) {
            (ColTy::String, _) => quote!(let #v = #row.#f.as_deref().map(::std::borrow::Cow::Borrowed);),
            (t, true) if t.nested() => quote!(let #v = #row.#f.clone();),
            (_, true) => quote!(let #v = #row.#f;),
            (_, false) => quote!(let #v = ::core::option::Option::Some(#row.#f);),
        });
        scope.insert(c.name.clone(), (v, c.ty));
    }
    (binds, scope)
}

/// The Rust type of each output column of `q`: `Option<T>`, except what Spark makes NOT NULL
/// (window bounds, `count`). A row of a query without aggregation lives for its batch and
/// borrows its strings from the batch (`Option<Cow<'a, str>>`): no copy per row.
fn field_types(q: &Checked) -> Vec<TokenStream> {
    let optional = |t: ColTy| {
        let t = rust_ty(t);
        quote!(::core::option::Option<#t>)
    };
    let Some(a) = &q.agg else {
        return q
            .output
            .iter()
            .map(|c| match c.ty {
                ColTy::String => quote!(::core::option::Option<::std::borrow::Cow<'a, str>>),
                t => optional(t),
            })
            .collect();
    };
    let mut out = Vec::new();
    if a.window.is_some() || a.session.is_some() {
        let ts = rust_ty(ColTy::Timestamp);
        out.push(ts.clone());
        out.push(ts);
    }
    out.extend(a.keys.iter().map(|(_, _, t)| optional(*t)));
    out.extend(a.aggs.iter().map(|(_, f, _, t)| if f.def().nullable { optional(*t) } else { rust_ty(*t) }));
    out
}

/// The row struct of `q`: its name, and its definition with the runtime's `Row` for it.
pub(super) fn row_struct(q: &Checked) -> (Ident, TokenStream) {
    let rt = rt();
    let name = ident("Row", &q.key());
    let fields: Vec<Ident> = field_names(q.output.iter().map(|c| c.name.as_str()))
        .iter()
        .map(|f| Ident::new(f, Span::call_site()))
        .collect();
    let types = field_types(q);
    let doc = format!("A row of query `{}`'s output.", q.name);
    let borrows = q.agg.is_none() && q.output.iter().any(|c| c.ty == ColTy::String);
    let generics = if borrows { quote!(<'a>) } else { quote!() };
    let def = quote! {
        #rt::row_struct! {
            #[doc = #doc]
            struct #name #generics { #(#fields: #types),* }
        }
    };
    (name, def)
}

/// The expression building `q`'s row from one expression per output column.
pub(super) fn build_row(q: &Checked, name: &Ident, values: &[TokenStream]) -> TokenStream {
    let fields =
        field_names(q.output.iter().map(|c| c.name.as_str())).into_iter().map(|f| Ident::new(&f, Span::call_site()));
    quote!(#name { #(#fields: #values,)* })
}

#[cfg(test)]
mod tests {
    use super::field_names;

    #[test]
    fn column_names_map_to_field_names_as_documented() {
        let names = field_names([
            "word",
            "window.start",
            "sum(n)",
            "count(*)",
            "1st",
            "type",
            "a b",
            "a_b",
            "(",
            "avgSpeed",
            "café",
            "count",
        ]);
        assert_eq!(
            names,
            [
                "word",
                "window_start",
                "sum_n",
                "count",
                "c_1st",
                "type_",
                "a_b",
                "a_b_2",
                "c_",
                "avgSpeed",
                "caf",
                "count_2"
            ]
        );
    }
}
