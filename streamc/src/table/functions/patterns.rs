//! Datetime patterns of the date functions (`date_format`, `to_timestamp(s, pattern)`): which
//! letters the runtime handles, and the code that parses with one; and the regular expressions
//! of the regexp functions and `split`.

use super::types::SigError;
use crate::table::expr::Expr;
use proc_macro2::TokenStream;
use quote::quote;

/// A `date_format` pattern the runtime formats: the letters `yuMLdDQqHhkKmsSaE` outside quotes.
pub(super) fn pattern_ok(p: &Expr) -> Result<(), Option<SigError>> {
    let Expr::Str(p) = p else {
        return Err(Some(SigError::new("the pattern of a date function is a string literal here")));
    };
    datetime_pattern(p).map_err(|e| {
        Some(
            SigError::new(e).help("the letters are y, M, d, D, Q, H, h, k, K, m, s, S, a and E; quote other text: 'T'"),
        )
    })
}

/// Whether the runtime handles the datetime pattern `p` (of a date function, or a source's
/// `timestampFormat`): the letters `yuMLdDQqHhkKmsSaE` outside quotes; Err says which is not.
pub fn datetime_pattern(p: &str) -> Result<(), String> {
    let mut quoted = false;
    for c in p.chars() {
        if c == '\'' {
            quoted = !quoted;
        } else if !quoted && c.is_ascii_alphabetic() && !"yuMLdDQqHhkKmsSaE".contains(c) {
            return Err(format!("the pattern letter `{c}` in '{p}' is not supported by streamc yet"));
        }
    }
    Ok(())
}

/// The text `s` parsed with the datetime `pattern` (code of `Option<Cow<str>>` each), as code of
/// `Option<Timestamp>`; text that does not match records Spark's failure in the query's
/// `cast_failure` (declared for queries that parse with patterns).
pub(super) fn parse_with(s: &TokenStream, pattern: &TokenStream) -> TokenStream {
    let rt = quote!(::streamc_runtime::structured);
    let failure = proc_macro2::Ident::new("cast_failure", proc_macro2::Span::mixed_site());
    quote!(#rt::cast::to_timestamp_with(#s, &(#pattern).unwrap_or_default(), &#failure))
}

/// A literal pattern of a regexp function, checked with the regex crate's own parser; Err with
/// why not (not a literal, or syntax the runtime's engine lacks: backreferences, lookaround).
/// Ok with the number of capture groups.
pub(super) fn regex_ok(p: &Expr) -> Result<usize, Option<SigError>> {
    let Expr::Str(p) = p else {
        return Err(Some(SigError::new("streamc takes the pattern of a regexp function as a string literal")));
    };
    match regex_syntax::Parser::new().parse(p) {
        Ok(hir) => Ok(hir.properties().explicit_captures_len()),
        Err(e) => Err(Some(
            SigError::new(format!(
                "streamc cannot run the pattern '{p}': {}",
                e.to_string().lines().last().unwrap_or("")
            ))
            .help("patterns are Java's without backreferences, lookaround and possessive quantifiers"),
        )),
    }
}

/// A compiled pattern of the generated code: a `static` per call site.
pub fn regex_code(pattern: &TokenStream) -> TokenStream {
    let rt = quote!(::streamc_runtime::structured);
    quote!({
        static RE: ::std::sync::OnceLock<#rt::regexp::Regex> = ::std::sync::OnceLock::new();
        #rt::regexp::compiled(&RE, &(#pattern).unwrap_or_default())
    })
}
