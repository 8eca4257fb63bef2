//! streamc: compiles streaming pipelines (YAML specs or `stream!` blocks) into fused Rust.

/// Entry point of the `stream!` macro.
pub fn compile_macro(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let _ = input;
    quote::quote!(compile_error!("not yet"))
}
