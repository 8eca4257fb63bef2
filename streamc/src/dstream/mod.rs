//! DStreams: the plan every front end lowers a DStream pipeline to ([`plan`]), element types
//! ([`ty`]), the operator registry ([`ops`]), and the checker that infers types and applies Spark's rules ([`check`](mod@check)).

pub mod check;
pub mod ops;
pub mod plan;
pub mod ty;

pub use check::check;
