//! streamc compiles streaming pipelines — a YAML spec or a `stream!` block — into fused,
//! monomorphized Rust that links against `streamc-runtime`. The stages are named and run in
//! order behind [`compile_yaml`] and [`compile_tokens`]: parse (front end) → check → physical plan (fusion) → codegen.
//! This crate does no I/O outside its CLI module (`main.rs` and `cli.rs`).

pub mod codegen;
pub mod diag;
pub mod dstream;
pub mod duration;
pub mod explain;
pub mod front;
pub mod physical;
pub mod program;
pub mod settings;
pub mod span;
pub mod table;

use diag::Diagnostics;
use physical::Physical;
use proc_macro2::TokenStream;
use program::Program;
use span::SpanTable;

/// The result of compiling one spec: the checked program, its physical plan (when there were no
/// errors), and all diagnostics.
#[derive(Debug)]
pub struct Compilation {
    pub program: Program,
    pub physical: Option<Physical>,
    pub spans: SpanTable,
    pub diags: Diagnostics,
}

/// Parses and checks a YAML spec.
pub fn compile_yaml(src: &str) -> Compilation {
    let mut spans = SpanTable::default();
    let mut diags = Diagnostics::default();
    let program = front::yaml::parse(src, &mut spans, &mut diags);
    finish(program, spans, diags)
}

/// Parses and checks the body of a `stream!` block.
pub fn compile_tokens(tokens: TokenStream) -> Compilation {
    let mut spans = SpanTable::default();
    let mut diags = Diagnostics::default();
    let program = front::rust::parse(tokens, &mut spans, &mut diags);
    finish(program, spans, diags)
}

/// Check, then plan: the stages after parsing, the same for every front end.
fn finish(mut program: Program, spans: SpanTable, mut diags: Diagnostics) -> Compilation {
    let physical = match &mut program {
        Program::Table(t) => {
            let queries = table::check(t, &mut diags);
            diags.is_empty().then_some(Physical::Table(queries))
        }
        Program::DStream(plan) => {
            dstream::check(plan, &mut diags);
            diags.is_empty().then(|| Physical::DStream(physical::plan(plan)))
        }
    };
    Compilation { program, physical, spans, diags }
}

/// The app expression of a compiled spec (DStreams or Structured Streaming).
pub fn app_expr(c: &Compilation, phys: &Physical) -> TokenStream {
    codegen::app_expr(&c.program, phys, &c.spans)
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
        Some(phys) => Ok(codegen::main_file(&c.program, phys, &c.spans, path)),
        None => Err(diag::render_text(&c.diags, &c.spans, path, src)),
    }
}
