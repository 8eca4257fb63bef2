//! Where a Structured query's work runs on a cluster (and on workers): which queries split a
//! batch over workers and processes, which keep their aggregation state partitioned by key and
//! put their rows out where they are, and which partition a stream-stream join by join key.
//! Decisions only, from the checked query; `mod.rs`, `steps.rs` and `join.rs` emit the code.

use crate::table::expr::{BinOp, Expr, UnOp};
use crate::table::{Checked, ColTy, Malformed, Sink, TStep, TablePlan};

/// Whether the query's loop can run on workers (`workers.rs`): one input, an aggregation whose
/// accumulators merge exactly as one pass would fold them (no session window, no aggregate whose
/// result is a double — `avg` and sums of doubles add floating-point numbers, which is not
/// associative), and no step that keeps state across
/// rows of a batch (deduplication) or can end the batch from a row (fail-fast parsing, a cast
/// that fails). A join with a static table is read-only, so it qualifies.
pub(super) fn parallel_query(table: &TablePlan, q: &Checked) -> bool {
    let Some(a) = &q.agg else { return false };
    q.inputs.len() == 1
        && a.session.is_none()
        && a.aggs.iter().all(|(_, _, _, ty)| !matches!(ty, ColTy::Double | ColTy::Float))
        && !q.steps.iter().any(|s| matches!(s, TStep::Dedup { .. }))
        && q.inputs.iter().all(|i| !matches!(table.sources[i.source].malformed, Malformed::FailFast))
        && !fallible_casts(q)
}

/// Whether a cluster keeps the query's aggregation state partitioned by key over its processes
/// (`workers.rs`, the runtime's `partition`): a query whose loop runs on workers, grouped by
/// something (a window or keys; the one group of a global aggregation stays on every process).
/// Its rows are gathered after each process emits its keys', so their order may differ from one
/// process's (the cluster's output is the same multiset of rows per batch).
pub(super) fn partitioned(table: &TablePlan, q: &Checked) -> bool {
    parallel_query(table, q) && q.agg.as_ref().is_some_and(|a| a.window.is_some() || !a.keys.is_empty())
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

/// Whether any expression of `q` can fail the batch: a cast of a string (a malformed value),
/// parsing with a pattern, or ANSI arithmetic (division by zero, long overflow).
pub(super) fn fallible_casts(q: &Checked) -> bool {
    fn any(e: &Expr) -> bool {
        match e {
            Expr::Cast(x, from, to) => crate::table::coerce::can_fail(*from, *to) || any(x),
            Expr::TryCast(x, _, _) => any(x),
            // Parsing with a pattern fails the batch on text that does not match (ANSI).
            Expr::Call(f, args) if (f == "to_timestamp" || f == "to_date") && args.len() == 2 => true,
            // ANSI arithmetic can fail: division or remainder by zero, long overflow.
            Expr::Call(f, _) if matches!(f.as_str(), "pmod" | "abs" | "floor" | "ceil" | "ceiling" | "unbase64") => {
                true
            }
            // ANSI: an array index out of bounds fails the batch.
            Expr::Call(f, _) if f == "[]" || f == "element_at" || f == "map" => true,
            Expr::Call(_, args) => args.iter().any(any),
            Expr::Unary(UnOp::Neg, _) => true,
            Expr::Unary(_, x) => any(x),
            Expr::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod, _, _) => true,
            Expr::Binary(_, a, b) => any(a) || any(b),
            _ => false,
        }
    }
    let in_steps = q.steps.iter().any(|s| match s {
        TStep::Project(items) => items.iter().any(|(_, e, _)| any(e)),
        TStep::Explode { array, others, .. } => any(array) || others.iter().any(|(_, e, _)| any(e)),
        TStep::Filter(e) => any(e),
        _ => false,
    });
    let in_agg = q.agg.as_ref().is_some_and(|a| {
        a.keys.iter().any(|(_, e, _)| any(e)) || a.aggs.iter().any(|(_, _, e, _)| e.as_ref().is_some_and(any))
    });
    in_steps || in_agg || q.having.as_ref().is_some_and(any)
}
