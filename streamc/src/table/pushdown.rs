//! Spark's predicate pushdown where it changes results: a filter that does not read the event-time
//! column is evaluated below `withWatermark` (`PushPredicateThroughNonJoin` moves it through
//! projections, substituting their aliases, and below `EventTimeWatermark`), so a row it drops
//! never moves the watermark. The typed steps are rewritten the same way.

use super::expr::{BinOp, Expr};
use super::plan::TStep;

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
                let (down, up): (Vec<Expr>, Vec<Expr>) = terms.into_iter().partition(|t| !reads(t, column));
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

fn and_terms(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary(BinOp::And, a, b) => {
            and_terms(a, out);
            and_terms(b, out);
        }
        other => out.push(other.clone()),
    }
}

fn and(terms: Vec<Expr>) -> Expr {
    terms.into_iter().reduce(|a, b| Expr::Binary(BinOp::And, Box::new(a), Box::new(b))).expect("a term")
}

/// Whether `e` reads column `c`.
fn reads(e: &Expr, c: &str) -> bool {
    match e {
        Expr::Column(x) => x == c,
        Expr::Call(_, args) => args.iter().any(|a| reads(a, c)),
        Expr::Unary(_, x) | Expr::Cast(x, _, _) | Expr::TryCast(x, _, _) => reads(x, c),
        Expr::Binary(_, a, b) => reads(a, c) || reads(b, c),
        _ => false,
    }
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
