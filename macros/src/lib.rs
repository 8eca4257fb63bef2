//! The `stream!` procedural macro: an entry point only. It hands the tokens to
//! [`streamc::compile_macro`], which runs the same pipeline as the CLI, and returns its output
//! (generated code, or `compile_error!`s carrying the user's spans).

/// Compiles a streamc pipeline written in Rust syntax; see the README's macro reference.
#[proc_macro]
pub fn stream(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    streamc::compile_macro(input.into()).into()
}
