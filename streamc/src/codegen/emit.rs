//! Emit helpers both code generators share: the runtime's path and the builder calls that every
//! kind of app makes.

use crate::program::AppSettings;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The absolute path of the runtime crate, as generated code names it.
pub(crate) fn rt() -> TokenStream {
    quote!(::streamc_runtime)
}

/// The builder calls for `max_line_bytes:` and `max_rate:` (none when the spec leaves them out).
pub(crate) fn source_limits(app: &AppSettings, b: &Ident) -> TokenStream {
    let mut calls = TokenStream::new();
    if let Some((n, _)) = app.max_line_bytes {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        calls.extend(quote!(#b.max_line_bytes(#n);));
    }
    if let Some((n, _)) = app.max_rate {
        calls.extend(quote!(#b.max_rate(#n);));
    }
    calls
}
