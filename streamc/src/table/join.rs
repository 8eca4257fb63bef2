//! Stream-stream joins (Spark's `StreamingSymmetricHashJoinExec`), checked: the right input and
//! its steps, the condition split into equi-join keys and the rest (left-only, right-only and
//! both-sides conjuncts), the column of each side that carries its watermark, and when each
//! side's buffered rows leave state — Spark's state watermarks, solved from the watermark in the
//! join keys or from a time-range condition (`StreamingJoinHelper.getStateValueWatermark`).
//! Spark's analysis rules for such joins become compile errors here.

use super::coerce;
use super::expr::{BinOp, Expr, UnOp};
use super::plan::*;
use super::rows::row_step;
use super::typing::typed;
use crate::diag::{Diagnostics, suggest};
use crate::span::SpanId;

/// The right input's source, when it is a defined streaming source.
pub(super) fn right_source(plan: &TablePlan, j: &StreamJoin, span: SpanId, diags: &mut Diagnostics) -> Option<usize> {
    let Some(s) = plan.sources.iter().position(|s| s.name == j.source) else {
        let names: Vec<&str> = plan.sources.iter().map(|s| s.name.as_str()).collect();
        let d = diags.error(j.source_span, format!("`join` with `{}`, which is not defined", j.source));
        if let Some(s) = suggest(&j.source, &names) {
            d.help(format!("did you mean `{s}`?"));
        }
        return None;
    };
    if matches!(plan.sources[s].kind, SourceKind::Static { .. }) {
        diags
            .error(span, format!("`{}` is a static table; a stream-stream join takes a streaming source", j.source))
            .help("join a static table with `join: { table: NAME, on: [col] }`");
        return None;
    }
    Some(s)
}

/// The column that still carries the watermark of `column` after `steps`: the column itself, or
/// what a projection renamed it to (`t AS time`); None once a projection drops it or computes
/// from it (Spark keeps the watermark's metadata only on the attribute and its aliases).
pub(super) fn carried(column: Option<&str>, steps: &[TStep]) -> Option<String> {
    let mut c = column?.to_string();
    for st in steps {
        match st {
            TStep::Project(cols) | TStep::Explode { others: cols, .. } => {
                c = cols.iter().find(|(_, e, _)| matches!(e, Expr::Column(x) if *x == c))?.0.clone();
            }
            _ => {}
        }
    }
    Some(c)
}

/// Checks a stream-stream join of the rows so far (`left` columns, `left_time` carrying the left
/// input's watermark) with `j`'s input; returns it and the joined columns.
pub(super) fn check(
    plan: &TablePlan,
    j: &StreamJoin,
    span: SpanId,
    left: &[Column],
    left_time: Option<String>,
    diags: &mut Diagnostics,
) -> Option<(TStreamJoin, Vec<Column>)> {
    let s = plan.sources.iter().position(|s| s.name == j.source)?;
    let right_input = plan.sources[s].schema.clone();
    let mut right = right_input.clone();
    let mut right_steps = Vec::new();
    for (step, sspan) in &j.steps {
        match (step, row_step(step, *sspan, &mut right, diags)) {
            (_, Some(Some(TStep::Explode { .. }))) | (_, None) => {
                diags
                    .error(
                        *sspan,
                        "the right input of a stream-stream join takes `select`, `where` and `with_column` steps",
                    )
                    .help("explode, aggregate or deduplicate after the join (or in the left input)");
                return None;
            }
            (_, Some(Some(t))) => right_steps.push(t),
            (_, Some(None)) => return None,
        }
    }
    super::pushdown::push_filters(&mut right_steps);
    let right_time = carried(j.watermark.as_ref().map(|(c, _)| c.as_str()), &right_steps);
    for r in &right {
        if left.iter().any(|c| c.name == r.name) {
            diags
                .error(
                    span,
                    format!(
                        "the column `{}` is on both sides of the join, so a reference to it would be ambiguous",
                        r.name
                    ),
                )
                .help(format!(
                    "rename it on one side: `JOIN (SELECT {0} AS {1}_{0}, ... FROM {1})` in SQL, a `select` in the `join`'s `steps`",
                    r.name, j.source
                ));
            return None;
        }
    }
    let both: Vec<Column> = left.iter().chain(&right).cloned().collect();
    if typed(&j.on, &both, span, diags)?.1 != ColTy::Bool {
        diags.error(span, format!("the join condition `{}` is not a boolean", j.on));
        return None;
    }
    let side = |e: &Expr| -> Side {
        let mut names = Vec::new();
        refs(e, &mut names);
        let l = names.iter().any(|n| left.iter().any(|c| &c.name == n));
        let r = names.iter().any(|n| right.iter().any(|c| &c.name == n));
        match (l, r) {
            (true, true) => Side::Both,
            (false, true) => Side::Right,
            _ => Side::Left,
        }
    };
    let mut conjuncts = Vec::new();
    and_terms(&j.on, &mut conjuncts);
    let (mut keys, mut left_only, mut right_only, mut rest) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut range: Vec<&Expr> = Vec::new();
    for c in conjuncts {
        if let Expr::Binary(BinOp::Eq, a, b) = c
            && let Some((l, r)) = match (side(a), side(b)) {
                (Side::Left, Side::Right) if has_refs(a) && has_refs(b) => Some((&**a, &**b)),
                (Side::Right, Side::Left) if has_refs(a) && has_refs(b) => Some((&**b, &**a)),
                _ => None,
            }
        {
            let ((mut lx, lt), (mut rx, rt)) = (typed(l, left, span, diags)?, typed(r, &right, span, diags)?);
            let Some(ty) = coerce::comparison(lt, rt) else {
                diags.error(span, coerce::diff_types(BinOp::Eq, l, r, lt, rt));
                return None;
            };
            if lt != ty {
                lx = coerce::cast(lx, lt, ty).ok()?;
            }
            if rt != ty {
                rx = coerce::cast(rx, rt, ty).ok()?;
            }
            keys.push((lx, rx, ty, l.clone(), r.clone()));
            continue;
        }
        range.push(c);
        let (x, t) = typed(c, &both, span, diags)?;
        let x = if t == ColTy::Bool { x } else { coerce::cast(x, t, ColTy::Bool).ok()? };
        match side(c) {
            Side::Left => left_only.push(x),
            Side::Right => right_only.push(x),
            Side::Both => rest.push(x),
        }
    }
    if keys.is_empty() {
        diags
            .error(span, "Stream-stream join without equality predicate is not supported")
            .help("join on equal columns of both sides: `on: \"clickAdId = impressionAdId AND ...\"`");
        return None;
    }
    // Spark's state watermarks: a watermark in the join keys evicts both sides by key; otherwise a
    // side with its own watermark evicts rows by the bound a range conjunct puts on them.
    let key_time = keys.iter().position(|(_, _, _, l, r)| {
        matches!(l, Expr::Column(c) if Some(c) == left_time.as_ref())
            || matches!(r, Expr::Column(c) if Some(c) == right_time.as_ref())
    });
    let left_bounds = bounds(&range, left, &right, right_time.as_deref());
    let right_bounds = bounds(&range, &right, left, left_time.as_deref());
    let evict = |own: &Option<String>, b: &[(i64, i64, i64)]| match (key_time, own) {
        (Some(k), _) => Some(Evict::Key(k)),
        (None, Some(c)) if !b.is_empty() => Some(Evict::Value { column: c.clone(), bounds: b.to_vec() }),
        _ => None,
    };
    let (left_evict, right_evict) = (evict(&left_time, &left_bounds), evict(&right_time, &right_bounds));
    // Spark's UnsupportedOperationChecker: the side whose unmatched rows are emitted needs a bound.
    let bounded_left = key_time.is_some() || !left_bounds.is_empty();
    let bounded_right = key_time.is_some() || !right_bounds.is_empty();
    let refused = match j.how {
        JoinHow::LeftOuter | JoinHow::LeftSemi => !bounded_left,
        JoinHow::RightOuter => !bounded_right,
        // Either side bounded will do (Spark 4).
        JoinHow::FullOuter => !(bounded_left || bounded_right),
        JoinHow::Inner => false,
    };
    if refused {
        diags
            .error(span, format!("Stream-stream {} join between two streaming DataFrame/Datasets is not supported without a watermark in the join keys, or a watermark on the nullable side and an appropriate range condition", j.how.spark()))
            .help("give the inputs watermarks (`with_watermark` first, and the join's `watermark`) and bound the other side's event time, e.g. `clickTime >= impressionTime AND clickTime <= impressionTime + INTERVAL 1 HOUR`");
        return None;
    }
    let and = |v: Vec<Expr>| v.into_iter().reduce(|a, b| Expr::Binary(BinOp::And, Box::new(a), Box::new(b)));
    let mut out: Vec<Column> = left.to_vec();
    if j.how != JoinHow::LeftSemi {
        out.extend(right.iter().cloned());
    }
    let t = TStreamJoin {
        right_input,
        right_steps,
        left: left.to_vec(),
        right,
        keys: keys.into_iter().map(|(l, r, t, _, _)| (l, r, t)).collect(),
        left_only: and(left_only),
        right_only: and(right_only),
        both: and(rest),
        how: j.how,
        left_time,
        right_time,
        left_evict,
        right_evict,
    };
    Some((t, out))
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Left,
    Right,
    Both,
}

fn and_terms<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary(BinOp::And, a, b) => {
            and_terms(a, out);
            and_terms(b, out);
        }
        other => out.push(other),
    }
}

fn refs(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Column(c) => out.push(c.clone()),
        Expr::Call(_, args) => args.iter().for_each(|a| refs(a, out)),
        Expr::Unary(_, x) | Expr::Cast(x, _, _) | Expr::TryCast(x, _, _) => refs(x, out),
        Expr::Binary(_, a, b) => {
            refs(a, out);
            refs(b, out);
        }
        _ => {}
    }
}

fn has_refs(e: &Expr) -> bool {
    let mut v = Vec::new();
    refs(e, &mut v);
    !v.is_empty()
}

/// The bounds the range conjuncts put on `this` side's event time given the watermark on the
/// `other` side's column `other_time`: each `(watermark sign, offset µs, minus ms)` makes a state
/// watermark `trunc((sign × watermark_us + offset_us) / 1000) - minus` ms (Spark's
/// `getStateValueWatermark`; `minus` is 1 for `<=`/`>=`, whose bound is inclusive).
fn bounds(range: &[&Expr], this: &[Column], other: &[Column], other_time: Option<&str>) -> Vec<(i64, i64, i64)> {
    let Some(other_time) = other_time else { return Vec::new() };
    let mut out = Vec::new();
    for c in range {
        let Expr::Binary(op, a, b) = c else { continue };
        let (l, r, minus) = match op {
            BinOp::Lt => (a, b, 0),
            BinOp::Le => (a, b, 1),
            BinOp::Gt => (b, a, 0),
            BinOp::Ge => (b, a, 1),
            _ => continue,
        };
        if let Some((sign, offset)) = solve(l, r, this, other, other_time) {
            out.push((sign, offset, minus));
        }
    }
    out
}

/// Solves `l < r` for a lower bound on this side's time: canonically `l - r < 0` as a sum of
/// signed terms, with exactly one term of this side, negated (`… - thisTime < 0`, so
/// `thisTime > …`); the other side's term must be its watermarked column, replaced by the
/// watermark. Returns (the watermark's sign, the constant in µs).
fn solve(l: &Expr, r: &Expr, this: &[Column], other: &[Column], other_time: &str) -> Option<(i64, i64)> {
    let mut terms = Vec::new();
    collect(l, false, &mut terms)?;
    collect(r, true, &mut terms)?;
    let is = |cols: &[Column], n: &str| cols.iter().any(|c| c.name == n);
    let mine: Vec<&(bool, Term)> = terms.iter().filter(|(_, t)| matches!(t, Term::Col(n) if is(this, n))).collect();
    let theirs: Vec<&(bool, Term)> = terms.iter().filter(|(_, t)| matches!(t, Term::Col(n) if is(other, n))).collect();
    let distinct = |v: &[&(bool, Term)]| {
        let mut names: Vec<&str> =
            v.iter().filter_map(|(_, t)| if let Term::Col(n) = t { Some(n.as_str()) } else { None }).collect();
        names.sort();
        names.dedup();
        names.len()
    };
    if mine.len() != 1 || distinct(&theirs) > 1 || !mine[0].0 {
        return None;
    }
    let (mut sign, mut offset) = (0i64, 0i64);
    for (neg, t) in &terms {
        let s = if *neg { -1 } else { 1 };
        match t {
            Term::Col(n) if is(this, n) => {}
            Term::Col(n) if n == other_time => sign += s,
            Term::Col(_) => return None,
            Term::Micros(us) => offset += s * us,
        }
    }
    Some((sign, offset))
}

enum Term {
    Col(String),
    Micros(i64),
}

/// The terms of a sum of timestamps and intervals (`t`, `t + INTERVAL ..`, `-x`, `a - b`), each
/// with whether it is negated; None for anything else.
fn collect(e: &Expr, neg: bool, out: &mut Vec<(bool, Term)>) -> Option<()> {
    match e {
        Expr::Column(c) => out.push((neg, Term::Col(c.clone()))),
        Expr::Call(f, args) if f == "+interval" => {
            let [x, Expr::Int(us)] = &args[..] else { return None };
            collect(x, neg, out)?;
            out.push((neg, Term::Micros(*us)));
        }
        Expr::Binary(BinOp::Add, a, b) => {
            collect(a, neg, out)?;
            collect(b, neg, out)?;
        }
        Expr::Binary(BinOp::Sub, a, b) => {
            collect(a, neg, out)?;
            collect(b, !neg, out)?;
        }
        Expr::Unary(UnOp::Neg, x) => collect(x, !neg, out)?,
        // A number is seconds.
        Expr::Int(n) => out.push((neg, Term::Micros(n.checked_mul(1_000_000)?))),
        _ => return None,
    }
    Some(())
}
