//! The `stream!` front end: a block of Rust statements becomes a DStream plan ([`dstream`]) or,
//! when it reads with `read_stream` or writes with `write_stream`, a Structured Streaming plan
//! (`table`).

pub mod dstream;
pub(crate) mod table;

use crate::diag::Diagnostics;
use crate::dstream::plan::Plan;
use crate::program::{AppSettings, Frontend, Program};
use crate::span::{SpanInfo, SpanTable};
use proc_macro2::TokenStream;
use syn::parse::Parser;

/// Parses the body of a `stream!` invocation. Never fails: problems go to `diags`.
pub fn parse(tokens: TokenStream, spans: &mut SpanTable, diags: &mut Diagnostics) -> Program {
    let app = AppSettings { name: "stream".to_string(), frontend: Frontend::Macro, ..AppSettings::default() };
    let stmts = match syn::Block::parse_within.parse2(tokens) {
        Ok(stmts) => stmts,
        Err(e) => {
            let span = spans.add(SpanInfo::Tokens(e.span()));
            diags.error(span, format!("`stream!` expects Rust statements: {e}"));
            return Program::DStream(Plan { app, ..Plan::default() });
        }
    };
    if table::is_table(&stmts) {
        Program::Table(table::parse(&stmts, spans, diags, app))
    } else {
        Program::DStream(dstream::parse(&stmts, spans, diags, app))
    }
}
