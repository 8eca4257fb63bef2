//! Where a Structured query's work runs on a cluster (and on workers): which queries split a
//! batch over workers and processes, which keep their aggregation state partitioned by key and
//! put their rows out where they are, and which partition a stream-stream join by join key.
//! Decisions only, from the checked query; `mod.rs`, `steps.rs` and `join.rs` emit the code.

use super::cast::fallible_casts;
use crate::table::{Checked, ColTy, Malformed, Sink, TStep, TablePlan};

/// Whether the query's loop can run on workers (`workers.rs`): one input, an aggregation whose
/// accumulators merge exactly as one pass would fold them (no session window, no aggregate whose
/// result is a double — `avg` and sums of doubles add floating-point numbers, which is not
/// associative), and no step that keeps state across
/// rows of a batch (deduplication) or can end the batch from a row (fail-fast parsing, a cast
/// that fails). A join with a static table is read-only, so it qualifies.
pub(super) fn parallel_query(table: &TablePlan, q: &Checked) -> bool {
    q.agg.as_ref().is_some_and(|a| a.session.is_none()) && splits(table, q)
}

/// Whether the query's loop runs on workers outside a cluster by handing rows off
/// (`workers.rs`'s `hand_off`, the runtime's `handoff`): workers parse chunks of the batch into
/// rows of the columns the aggregation reads, and the batch thread applies them to the state in
/// line order, as one pass would; so, unlike partial states, aggregates of doubles (`avg`, sums
/// of doubles: not associative) qualify. For one input, an aggregation without session window
/// or group state, steps that are projections, filters and the watermark (one row per line at
/// most, so each column moves into the rows once), no fail-fast parsing and no cast that fails
/// (a row that ends the batch would have to end it in line order), and `handed` columns that are
/// scalars (strings, numbers, times, binary: values that own or borrow only the batch's text).
/// The generated code uses it for queries that are not [`parallel_query`] (partial states are as
/// fast where both apply), and a cluster never does.
pub(super) fn hands_off(table: &TablePlan, q: &Checked, handed: &[ColTy]) -> bool {
    q.agg.as_ref().is_some_and(|a| a.session.is_none())
        && q.inputs.len() == 1
        && q.steps.iter().all(|s| matches!(s, TStep::Project(_) | TStep::Filter(_) | TStep::Watermark { .. }))
        && q.inputs.iter().all(|i| !matches!(table.sources[i.source].malformed, Malformed::FailFast))
        && !fallible_casts(q)
        && handed.iter().all(|t| !matches!(t, ColTy::Array(_) | ColTy::Map(_) | ColTy::Struct(_)))
}

/// Whether a cluster splits the query's session windows over its processes, each process's
/// share of the batch into a partial of its own (its events per key, `SessionAgg::absorb`),
/// cut by key (`workers.rs`): the same queries as [`parallel_query`]'s, with a session window.
/// Not on workers outside a cluster: they would gain nothing over one pass.
pub(super) fn split_sessions(table: &TablePlan, q: &Checked) -> bool {
    q.agg.as_ref().is_some_and(|a| a.session.is_some()) && splits(table, q)
}

/// The rest of [`parallel_query`]'s conditions.
fn splits(table: &TablePlan, q: &Checked) -> bool {
    let Some(a) = &q.agg else { return false };
    q.inputs.len() == 1
        && a.aggs.iter().all(|(_, _, _, ty)| !matches!(ty, ColTy::Double | ColTy::Float))
        && !q.steps.iter().any(|s| matches!(s, TStep::Dedup { .. }))
        && q.inputs.iter().all(|i| !matches!(table.sources[i.source].malformed, Malformed::FailFast))
        && !fallible_casts(q)
}

/// Whether a cluster keeps the query's aggregation state partitioned by key over its processes
/// (`workers.rs`, the runtime's `partition`): a query whose loop runs on workers, grouped by
/// something (a window or keys; the one group of a global aggregation stays on every process),
/// and session windows ([`split_sessions`]).
/// Its rows are gathered after each process emits its keys', so their order may differ from one
/// process's (the cluster's output is the same multiset of rows per batch).
pub(super) fn partitioned(table: &TablePlan, q: &Checked) -> bool {
    parallel_query(table, q) && q.agg.as_ref().is_some_and(|a| a.window.is_some() || !a.keys.is_empty())
        || split_sessions(table, q)
}

/// Whether each process of a cluster puts out the rows of a [`partitioned`] query's keys itself
/// (`emit_partitioned`: its own data file of each file sink; process 0 gets only what the
/// console, a memory sink or `--jsonl` read) instead of every process getting every row: when
/// nothing after the aggregation needs all of the batch's rows at once (no `order by`/`limit`,
/// no later stage, no `foreach_batch`) and every sink is a console, file or memory sink.
pub(super) fn emits_in_parts(table: &TablePlan, q: &Checked) -> bool {
    partitioned(table, q)
        && q.order.keys.is_empty()
        && q.order.limit.is_none()
        && q.then.is_none()
        && q.sinks
            .iter()
            .all(|s| matches!(s, Sink::Console { .. } | Sink::Json { .. } | Sink::Parquet { .. } | Sink::Memory))
}

/// Whether a cluster partitions the query's stream-stream join by join key: each process
/// reads both inputs whole (so the watermark is every process's), joins and buffers only the
/// rows of the keys it owns (`BatchInput::owns`; its states in shards), and puts its joined
/// rows out itself (`emit_partitioned`). For a join whose rows go straight, row by row, to
/// console, file or memory sinks: no aggregation, deduplication or group state after it, no
/// `order by`/`limit`, no later stage, and no cast that can fail (a key is computed before the
/// join's own filters).
pub(super) fn join_in_parts(q: &Checked) -> bool {
    let Some(j) = q.steps.iter().find_map(|s| if let TStep::StreamJoin(j) = s { Some(j) } else { None }) else {
        return false;
    };
    let stateful = |s: &TStep| matches!(s, TStep::Dedup { .. } | TStep::GroupsWithState(_));
    q.agg.is_none()
        && q.then.is_none()
        && !q.steps.iter().chain(&j.right_steps).any(stateful)
        && q.order.keys.is_empty()
        && q.order.limit.is_none()
        && !fallible_casts(q)
        && q.sinks
            .iter()
            .all(|s| matches!(s, Sink::Console { .. } | Sink::Json { .. } | Sink::Parquet { .. } | Sink::Memory))
}
