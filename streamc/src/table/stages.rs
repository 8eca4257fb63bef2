//! More than one stateful operator in a query (Spark 3.4+): a query's steps split into stages at
//! each stateful operator that follows another (an aggregation after a windowed aggregation, an
//! aggregation or deduplication after a stream-stream join). Each later stage takes the rows
//! the stage before it emits in the same batch, with Spark's per-operator watermark: the output
//! watermark of the operator before it (`Feed`).
//!
//! Which columns of a later stage carry event time follows Spark's watermark metadata: the
//! window of a windowed aggregation over the watermarked column (a struct, which streamc holds
//! as `name_start` and `name_end`) and `window_time(window)` of it; a grouping key that is the
//! watermark column; the watermark columns of a join's sides; and any plain reference to one of
//! these. Selecting `window.start` or `window.end` as columns drops it, as in Spark.

use super::expr::Expr;
use super::plan::*;
use super::rows::column_name;
use crate::diag::Diagnostics;
use crate::span::SpanId;

/// The event-time columns of a stage's rows, and the window structs among them.
#[derive(Debug, Clone, Default)]
pub(super) struct Events {
    pub cols: Vec<String>,
    pub structs: Vec<String>,
    /// The watermark delay of the query's input (ms), for `drop_duplicates_within_watermark`.
    pub delay_ms: u64,
}

impl Events {
    /// Whether `e` carries event time: a plain reference to an event-time column, or
    /// `window_time` of a window.
    fn carries(&self, e: &Expr) -> bool {
        match e {
            Expr::Column(c) => self.cols.contains(c),
            Expr::Call(f, args) if f == "window_time" => match &args[..] {
                [Expr::Column(c)] => self.structs.iter().any(|s| *c == format!("{s}_end") || c == s),
                _ => false,
            },
            _ => false,
        }
    }

    /// Follows a row step: which of its output columns carry event time.
    pub fn follow(&mut self, step: &Step) {
        match step {
            Step::WithColumn(name, e) => {
                let carries = self.carries(e);
                self.cols.retain(|c| c != name);
                self.structs.retain(|s| *name != format!("{s}_start") && *name != format!("{s}_end"));
                if carries {
                    self.cols.push(name.clone());
                }
            }
            Step::Select(items) => {
                let named: Vec<(String, &Expr)> = items
                    .iter()
                    .map(|it| (it.alias.clone().unwrap_or_else(|| column_name(&it.expr)), &it.expr))
                    .collect();
                let cols = named.iter().filter(|(_, e)| self.carries(e)).map(|(n, _)| n.clone()).collect();
                let kept = |field: &str| named.iter().any(|(n, e)| n == field && **e == Expr::Column(field.into()));
                self.structs.retain(|s| kept(&format!("{s}_start")) && kept(&format!("{s}_end")));
                self.cols = cols;
            }
            _ => {}
        }
    }

    /// The step with Spark's window structs resolved to streamc's columns: `window_time(w)` reads
    /// `w_end`, and a selected `w` is `w_start` and `w_end`.
    pub fn resolve(&self, step: &Step) -> Step {
        let r = |e: &Expr| self.resolve_expr(e);
        match step {
            Step::Select(items) => {
                let mut out = Vec::new();
                for it in items {
                    match &it.expr {
                        Expr::Column(s) if self.structs.contains(s) => {
                            let name = it.alias.as_deref().unwrap_or(s);
                            for b in ["start", "end"] {
                                let bound = Expr::Column(format!("{s}_{b}"));
                                out.push(Item::at(bound, Some(format!("{name}_{b}")), it.span));
                            }
                        }
                        _ => out.push(it.map(r)),
                    }
                }
                Step::Select(out)
            }
            Step::Where(e) => Step::Where(r(e)),
            Step::WithColumn(n, e) => Step::WithColumn(n.clone(), r(e)),
            Step::GroupBy { keys, aggs, distinct } => Step::GroupBy {
                keys: keys.iter().map(|k| k.map(r)).collect(),
                aggs: aggs.iter().map(|a| a.map(r)).collect(),
                distinct: *distinct,
            },
            other => other.clone(),
        }
    }

    fn resolve_expr(&self, e: &Expr) -> Expr {
        match e {
            Expr::Call(f, args) if f == "window_time" => match &args[..] {
                [Expr::Column(s)] if self.structs.contains(s) => {
                    Expr::Call(f.clone(), vec![Expr::Column(format!("{s}_end"))])
                }
                _ => e.clone(),
            },
            Expr::Call(f, args) => Expr::Call(f.clone(), args.iter().map(|a| self.resolve_expr(a)).collect()),
            Expr::Unary(op, x) => Expr::Unary(*op, Box::new(self.resolve_expr(x))),
            Expr::Binary(op, a, b) => Expr::Binary(*op, Box::new(self.resolve_expr(a)), Box::new(self.resolve_expr(b))),
            Expr::Cast(x, f, t) => Expr::Cast(Box::new(self.resolve_expr(x)), *f, *t),
            Expr::TryCast(x, f, t) => Expr::TryCast(Box::new(self.resolve_expr(x)), *f, *t),
            other => other.clone(),
        }
    }

    /// The event-time columns among `names` (distinct), for the stateful operator that reads
    /// them.
    pub fn among<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in names {
            if self.cols.iter().any(|c| c == n) && !out.iter().any(|o| o == n) {
                out.push(n.to_owned());
            }
        }
        out
    }

    /// The event-time columns of an aggregation's output rows: its window (a struct named by
    /// its alias, `window` by default) when it is over event time, and keys that are event-time
    /// columns.
    pub fn of_aggregation(&self, a: &TAgg, window_name: &str) -> Events {
        let mut out = Events { delay_ms: self.delay_ms, ..Events::default() };
        let over = a.window.as_ref().map(|w| &w.column).or(a.session.as_ref().map(|(c, _)| c));
        if over.is_some_and(|c| self.cols.contains(c)) {
            out.structs.push(window_name.to_owned());
        }
        out.cols.extend(
            a.keys
                .iter()
                .filter(|(n, e, _)| *e == Expr::Column(n.clone()) && self.cols.contains(n))
                .map(|(n, _, _)| n.clone()),
        );
        out
    }
}

/// A `group_by` whose `window(..)` is over an expression rather than a column (Spark's
/// `window(window_time(window), '1 hour')`): the expression as a column first, then the window
/// over that column. The new column's step is the window key's position, when it has one.
pub(super) fn window_over_expression(step: &Step) -> Option<(Step, Option<SpanId>, Step)> {
    let Step::GroupBy { keys, aggs, distinct } = step else { return None };
    let at = keys.iter().position(|k| {
        matches!(&k.expr, Expr::Call(f, args) if (f == "window" || f == "session_window") && !matches!(args.first(), Some(Expr::Column(_)) | None))
    })?;
    let Expr::Call(f, args) = &keys[at].expr else { return None };
    let name = column_name(&args[0]);
    let with = Step::WithColumn(name.clone(), args[0].clone());
    let mut keys = keys.clone();
    let mut new_args = args.clone();
    new_args[0] = Expr::Column(name);
    keys[at].expr = Expr::Call(f.clone(), new_args);
    Some((with, keys[at].span, Step::GroupBy { keys, aggs: aggs.clone(), distinct: *distinct }))
}

/// Whether `step` starts a new stage after the steps of this one: any step but `HAVING` after an
/// aggregation, or a stateful step after a stream-stream join.
pub(super) fn starts_stage(step: &Step, aggregated: bool, having_taken: bool, joined: bool) -> bool {
    match step {
        Step::OrderBy(_) | Step::Limit(_) => false,
        Step::Where(_) if aggregated && !having_taken => false,
        _ if aggregated => true,
        Step::GroupBy { .. } | Step::DropDuplicates(_) | Step::DropDuplicatesWithinWatermark(_) => joined,
        _ => false,
    }
}

/// Whether `steps` hold a stateful operator (an aggregation, a deduplication, a join).
pub(super) fn stateful(steps: &[(Step, SpanId)]) -> bool {
    steps.iter().any(|(s, _)| {
        matches!(
            s,
            Step::GroupBy { .. }
                | Step::DropDuplicates(_)
                | Step::DropDuplicatesWithinWatermark(_)
                | Step::StreamJoin(_)
                | Step::GroupsWithState(_)
        )
    })
}

/// Spark's message for an aggregation in update or complete mode with a stateful operator after
/// it (`UnsupportedOperationChecker`, the global watermark check).
pub(super) const LATE_ROWS: &str = "Detected pattern of possible 'correctness' issue due to global watermark. The query contains stateful operation which can emit rows older than the current watermark plus allowed late record delay, which are \"late rows\" in downstream stateful operations and these rows can be discarded. Please refer the programming guide doc for more details. If you understand the possible risk of correctness issue and still need to run the query, you can disable this check by setting the config `spark.sql.streaming.statefulOperator.checkCorrectness.enabled` to false.";

/// The event-time columns a stateful step reads (an aggregation: its window's column and keys;
/// a deduplication: every column), when `events` are followed; None for other steps.
pub(super) fn stateful_event_time(step: &Step, events: &Option<Events>, cols: &[Column]) -> Option<Vec<String>> {
    let ev = events.as_ref()?;
    match step {
        Step::GroupBy { keys, .. } => Some(ev.among(keys.iter().filter_map(|k| match &k.expr {
            Expr::Column(c) => Some(c.as_str()),
            Expr::Call(f, args) if f == "window" || f == "session_window" => match args.first() {
                Some(Expr::Column(c)) => Some(c.as_str()),
                _ => None,
            },
            _ => None,
        }))),
        Step::DropDuplicates(_) | Step::DropDuplicatesWithinWatermark(_) => {
            Some(ev.among(cols.iter().map(|c| c.name.as_str())))
        }
        _ => None,
    }
}

/// Whether `step` may follow another stateful operator (row steps, an aggregation, a
/// deduplication); reports the others.
pub(super) fn later_stage_step(step: &Step, span: SpanId, diags: &mut Diagnostics) -> bool {
    let what = match step {
        Step::StreamJoin(_) => "a stream-stream join",
        Step::Join { .. } => "a join with a static table",
        Step::GroupsWithState(g) => g.name(),
        Step::Union { .. } => "`union`",
        Step::WithWatermark { .. } => {
            diags.error(span, "Redefining watermark is disallowed: a query's watermark is defined on its inputs, before its first stateful operator")
                .help("put `with_watermark` before the first aggregation or join; later operators follow it");
            return false;
        }
        _ => return true,
    };
    diags
        .error(span, format!("{what} after an aggregation or a stream-stream join is not supported by streamc yet"))
        .help("run it before the first stateful operator, or in another query");
    false
}

/// How the watermark passes through a stage that ends in a stream-stream join.
pub(super) fn join_feed(steps: &[TStep]) -> Feed {
    match steps.iter().find_map(|s| match s {
        TStep::StreamJoin(j) => Some(j),
        _ => None,
    }) {
        Some(j) => Feed::Join { left: j.left_evict.clone(), right: j.right_evict.clone() },
        None => Feed::Same,
    }
}
