//! Structured Streaming: the table plan every front end lowers to ([`plan`]), column
//! expressions ([`expr`]), and the checker that types queries and applies Spark's analysis
//! rules ([`check`](mod@check)), with the registry of functions and aggregates ([`functions`]).

pub mod check;
pub mod coerce;
pub mod expr;
mod fields;
pub mod functions;
mod groups;
pub mod join;
pub mod kafka;
mod nullable;
pub mod plan;
mod pushdown;
mod rows;
mod sinks;
mod sources;
pub use sources::socket_columns;
pub mod spark;
mod stages;
pub mod ty;
pub mod typing;

pub use check::{check, runtime_features};
pub use fields::field_names;
pub use plan::*;
pub use rows::column_name;
pub use typing::{type_of, typed};
