//! streamc compiles streaming pipelines — a YAML spec or a `stream!` block — into fused,
//! monomorphized Rust that links against `streamc-runtime`. The stages are named and run in
//! order behind [`compile`]: parse (front end) → check → physical plan (fusion) → codegen.
//! This crate does no I/O outside its CLI module (`main.rs` and `cli.rs`).

pub mod check;
pub mod closure;
pub mod codegen;
pub mod diag;
pub mod duration;
pub mod expr;
pub mod ir;
pub mod physical;
pub mod rust_front;
mod rust_table;
pub mod span;
pub mod sql;
pub mod table;
pub mod table_codegen;
pub mod ty;
pub mod yaml;

use diag::Diagnostics;
use ir::Plan;
use physical::Physical;
use proc_macro2::TokenStream;
use span::SpanTable;

/// The result of compiling one spec: the checked plan, its physical plan, and all diagnostics.
#[derive(Debug)]
pub struct Compilation {
    pub plan: Plan,
    pub physical: Option<Physical>,
    /// The checked queries of a Structured Streaming spec.
    pub tables: Vec<table::Checked>,
    pub spans: SpanTable,
    pub diags: Diagnostics,
}

/// Parses and checks a YAML spec.
pub fn compile_yaml(src: &str) -> Compilation {
    let mut spans = SpanTable::default();
    let mut diags = Diagnostics::default();
    let plan = yaml::parse(src, &mut spans, &mut diags);
    finish(plan, spans, diags)
}

/// Parses and checks the body of a `stream!` block.
pub fn compile_tokens(tokens: TokenStream) -> Compilation {
    let mut spans = SpanTable::default();
    let mut diags = Diagnostics::default();
    let plan = rust_front::parse(tokens, &mut spans, &mut diags);
    finish(plan, spans, diags)
}

fn finish(mut plan: Plan, spans: SpanTable, mut diags: Diagnostics) -> Compilation {
    if let Some(t) = &plan.table {
        let tables = table::check(t, &mut diags);
        let physical = diags.is_empty().then(|| physical::plan(&plan));
        return Compilation { plan, physical, tables, spans, diags };
    }
    check::check(&mut plan, &mut diags);
    let physical = diags.is_empty().then(|| physical::plan(&plan));
    Compilation { plan, physical, tables: Vec::new(), spans, diags }
}

/// The app expression of a compiled spec (DStreams or Structured Streaming).
pub fn app_expr(c: &Compilation, phys: &Physical) -> TokenStream {
    match &c.plan.table {
        Some(t) => table_codegen::app_expr(&c.plan, t, &c.tables),
        None => codegen::app_expr(&c.plan, phys, &c.spans),
    }
}

/// The `stream!` macro's whole job: generated code, or `compile_error!`s at the user's spans
/// followed by a placeholder of the right kind so rustc does not pile up follow-on errors.
pub fn compile_macro(tokens: TokenStream) -> TokenStream {
    let c = compile_tokens(tokens);
    match &c.physical {
        Some(phys) => app_expr(&c, phys),
        None => {
            let errors = diag::to_compile_errors(&c.diags, &c.spans);
            quote::quote!({ #errors ::streamc_runtime::App::placeholder() })
        }
    }
}

/// Compiles a YAML spec to the text of a standalone `main.rs`, or the rendered diagnostics.
pub fn expand_yaml(path: &str, src: &str) -> Result<String, String> {
    let c = compile_yaml(src);
    match &c.physical {
        Some(phys) => Ok(codegen::main_file(&c, phys, path)),
        None => Err(diag::render_text(&c.diags, &c.spans, path, src)),
    }
}
