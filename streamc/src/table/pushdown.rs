//! Spark's predicate pushdown where it changes results: a filter that does not read the event-time
//! column is evaluated below `withWatermark` (`PushPredicateThroughNonJoin` moves it through
//! projections, substituting their aliases, and below `EventTimeWatermark`), so a row it drops
//! never moves the watermark. The typed steps are rewritten the same way; a filter after a
//! stream-stream join goes into the side its conjuncts read (when the join keeps that side's
//! rows as they are). Queries whose inputs observe their own watermarks (unions, joins) run their
//! leading filters before the observation (`codegen::table`).

use super::expr::{BinOp, Expr};
use super::plan::{JoinHow, TStep};

/// Moves each filter's conjuncts down through projections and below the watermark step, as far
/// as Spark would.
pub(super) fn push_filters(steps: &mut Vec<TStep>) {
    let mut i = 1;
    while i < steps.len() {
        let moved = match (&steps[i - 1], &steps[i]) {
            (TStep::Project(cols), TStep::Filter(cond)) => {
                let pushed = substitute(cond, cols);
                Some(vec![TStep::Filter(pushed), steps[i - 1].clone()])
            }
            (TStep::Watermark { column }, TStep::Filter(cond)) => {
                let mut terms = Vec::new();
                and_terms(cond, &mut terms);
                let (down, up): (Vec<Expr>, Vec<Expr>) = terms.into_iter().partition(|t| !t.reads(column));
                if down.is_empty() {
                    None
                } else {
                    let mut v = vec![TStep::Filter(and(down)), steps[i - 1].clone()];
                    if !up.is_empty() {
                        v.push(TStep::Filter(and(up)));
                    }
                    Some(v)
                }
            }
            (TStep::StreamJoin(j), TStep::Filter(cond)) => {
                // A `where` after a join: conjuncts over one side only go into that side when the
                // join keeps that side's rows as they are (Spark's pushdown through joins).
                let mut terms = Vec::new();
                and_terms(cond, &mut terms);
                let only = |cols: &[super::plan::Column], t: &Expr| {
                    let mut names = Vec::new();
                    columns(t, &mut names);
                    !names.is_empty() && names.iter().all(|n| cols.iter().any(|c| &c.name == n))
                };
                let to_left = matches!(j.how, JoinHow::Inner | JoinHow::LeftOuter | JoinHow::LeftSemi);
                let to_right = matches!(j.how, JoinHow::Inner | JoinHow::RightOuter);
                let (mut left, mut right, mut stay) = (Vec::new(), Vec::new(), Vec::new());
                for t in terms {
                    if to_left && only(&j.left, &t) {
                        left.push(t);
                    } else if to_right && only(&j.right, &t) {
                        right.push(t);
                    } else {
                        stay.push(t);
                    }
                }
                if left.is_empty() && right.is_empty() {
                    None
                } else {
                    let mut j = j.clone();
                    if !right.is_empty() {
                        j.right_steps.push(TStep::Filter(and(right)));
                        push_filters(&mut j.right_steps);
                    }
                    let mut v = Vec::new();
                    if !left.is_empty() {
                        v.push(TStep::Filter(and(left)));
                    }
                    v.push(TStep::StreamJoin(j));
                    if !stay.is_empty() {
                        v.push(TStep::Filter(and(stay)));
                    }
                    Some(v)
                }
            }
            _ => None,
        };
        match moved {
            Some(v) => {
                steps.splice(i - 1..=i, v);
                // The pushed filter may go further down.
                i = (i - 1).max(1);
            }
            None => i += 1,
        }
    }
}

fn columns(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Column(c) => out.push(c.clone()),
        Expr::Call(_, args) => args.iter().for_each(|a| columns(a, out)),
        Expr::Unary(_, x) | Expr::Cast(x, _, _) | Expr::TryCast(x, _, _) => columns(x, out),
        Expr::Binary(_, a, b) => {
            columns(a, out);
            columns(b, out);
        }
        _ => {}
    }
}

fn and_terms(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary(BinOp::And, a, b) => {
            and_terms(a, out);
            and_terms(b, out);
        }
        other => out.push(other.clone()),
    }
}

/// The conjunction of `terms`; every caller passes at least one (it checks `is_empty` first), so
/// the `expect` cannot fire.
fn and(terms: Vec<Expr>) -> Expr {
    terms.into_iter().reduce(|a, b| Expr::Binary(BinOp::And, Box::new(a), Box::new(b))).expect("a term")
}

/// `e` over a projection's output, rewritten over its input (each alias by its expression).
fn substitute(e: &Expr, cols: &[(String, Expr, super::plan::ColTy)]) -> Expr {
    match e {
        Expr::Column(x) => cols.iter().find(|(n, _, _)| n == x).map_or_else(|| e.clone(), |(_, ex, _)| ex.clone()),
        Expr::Call(f, args) => Expr::Call(f.clone(), args.iter().map(|a| substitute(a, cols)).collect()),
        Expr::Unary(op, x) => Expr::Unary(*op, Box::new(substitute(x, cols))),
        Expr::Cast(x, a, b) => Expr::Cast(Box::new(substitute(x, cols)), *a, *b),
        Expr::TryCast(x, a, b) => Expr::TryCast(Box::new(substitute(x, cols)), *a, *b),
        Expr::Binary(op, a, b) => Expr::Binary(*op, Box::new(substitute(a, cols)), Box::new(substitute(b, cols))),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ColTy;

    fn col(c: &str) -> Expr {
        Expr::Column(c.into())
    }

    #[test]
    fn a_filter_off_the_event_time_goes_below_the_watermark_through_a_projection() {
        let mut steps = vec![
            TStep::Watermark { column: "timestamp".into() },
            TStep::Project(vec![
                ("w".into(), col("word"), ColTy::String),
                ("timestamp".into(), col("timestamp"), ColTy::Timestamp),
            ]),
            TStep::Filter(Expr::Binary(
                BinOp::And,
                Box::new(Expr::Binary(BinOp::Ne, Box::new(col("w")), Box::new(Expr::Str("x".into())))),
                Box::new(Expr::Binary(BinOp::Lt, Box::new(col("timestamp")), Box::new(Expr::Int(5)))),
            )),
        ];
        push_filters(&mut steps);
        let kinds: Vec<String> = steps
            .iter()
            .map(|s| match s {
                TStep::Filter(e) => format!("filter {e}"),
                TStep::Watermark { .. } => "watermark".into(),
                TStep::Project(_) => "project".into(),
                _ => "other".into(),
            })
            .collect();
        assert_eq!(kinds, ["filter (word != 'x')", "watermark", "filter (timestamp < 5)", "project"]);
    }
}
