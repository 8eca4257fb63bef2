//! The `stream!` front end: a block of Rust statements becomes a DStream plan ([`dstream`]) or,
//! when it reads a table source, a Structured Streaming plan ([`table`]).

pub mod dstream;
pub(crate) mod table;
