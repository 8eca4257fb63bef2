//! `streamc explain` and `streamc graph`: the checked plan as text, the way Spark's `explain()`
//! shows a query (a logical tree, then the physical plan: stages, what was fused, where state
//! lives and where data is materialized), and as a graph for Graphviz (`dot`) or Mermaid.
//!
//! Pure functions of a [`Compilation`](crate::Compilation) without errors; the CLI prints them.

mod dstream;
mod graph;
mod table;
mod tree;

pub use graph::{GraphFormat, QueryNodes, dot_dstream, dot_table, graph, node_id, table_nodes};

use crate::physical::Physical;
use crate::program::Program;

/// The explanation of a DStream plan (see the module doc).
pub fn explain_dstream(plan: &crate::dstream::plan::Plan, fused: &crate::physical::Fused) -> String {
    dstream::explain(plan, fused)
}

/// The explanation of a Structured Streaming plan (see the module doc).
pub fn explain_table(plan: &crate::table::TablePlan, queries: &[crate::table::Checked]) -> String {
    table::explain(plan, queries)
}

/// The explanation of a checked program (see the module doc).
pub fn explain(program: &Program, physical: &Physical) -> String {
    match (program, physical) {
        (Program::DStream(plan), Physical::DStream(fused)) => dstream::explain(plan, fused),
        (Program::Table(plan), Physical::Table(queries)) => table::explain(plan, queries),
        _ => unreachable!("a program's physical plan is of its own kind (see `crate::finish`)"),
    }
}
