//! The checker: infers the element type of every stream and applies each operator's rule.
//! Every rule is its own `check_*` function pushing into one diagnostics list, so the user sees
//! all problems at once. What only rustc can decide (types of unannotated closures) is left to
//! the generated bounds, which carry messages that name the operator.

use crate::diag::Diagnostics;
use crate::dstream::plan::{Builtin, Func, JoinKind, Literal, Op, OutputKind, Plan, StreamId};
use crate::dstream::ty::Ty;

/// Runs every check and fills in [`crate::dstream::plan::Stream::ty`] and [`crate::dstream::plan::Stream::slide_ms`].
pub fn check(plan: &mut Plan, diags: &mut Diagnostics) {
    let interval = plan.app.batch_interval_ms.map_or(1000, |(ms, _)| ms);
    for i in 0..plan.streams.len() {
        let ty = infer(plan, StreamId(i), diags);
        plan.streams[i].ty = ty;
        plan.streams[i].slide_ms = check_slide(plan, StreamId(i), interval, diags);
    }
    check_inputs(plan, diags);
    check_checkpoint(plan, diags);
    check_checkpoint_intervals(plan, diags);
    check_outputs(plan, diags);
}

/// Spark's slide rules: a window's length and slide are multiples of its parent's slide (and the
/// slide is at most the length); streams combined by `union`/`join`/`cogroup` slide together.
fn check_slide(plan: &Plan, id: StreamId, interval: u64, diags: &mut Diagnostics) -> u64 {
    let s = &plan.streams[id.0];
    let parents: Vec<u64> = s.inputs.iter().map(|i| plan.streams[i.0].slide_ms).collect();
    let Some(&parent) = parents.first() else { return interval };
    if parents.iter().any(|p| *p != parent) {
        let described: Vec<String> = s
            .inputs
            .iter()
            .map(|i| format!("`{}` ({} ms)", plan.streams[i.0].name, plan.streams[i.0].slide_ms))
            .collect();
        diags
            .error(s.op_span, format!("`{}` combines streams with different slide durations: {}", s.op.name(), described.join(", ")))
            .help("window the streams with the same slide first (Spark: \"Some of the DStreams have different slide durations\")");
    }
    let (len_ms, slide_ms) = match &s.op {
        Op::Window { len_ms, slide_ms } | Op::ReduceByKeyAndWindow { len_ms, slide_ms, .. } => (*len_ms, *slide_ms),
        _ => return parent,
    };
    let slide = slide_ms.unwrap_or(parent);
    let name = &s.name;
    if len_ms % parent != 0 {
        diags
            .error(s.op_span, format!("the window duration of `{name}` ({len_ms} ms) must be multiple of the slide duration of parent DStream ({parent} ms)"))
            .help(format!("use a window length that is a multiple of {parent} ms"));
    }
    if slide % parent != 0 {
        diags
            .error(s.op_span, format!("the slide duration of `{name}` ({slide} ms) must be multiple of the slide duration of parent DStream ({parent} ms)"))
            .help(format!("use a slide that is a multiple of {parent} ms"));
    }
    if slide > len_ms {
        diags
            .error(s.op_span, format!("the slide of `{name}` ({slide} ms) is longer than its window ({len_ms} ms)"))
            .help("a window must be at least as long as its slide, or batches would be skipped");
    }
    slide
}

/// The input's type and user-facing name: an operator that a composite one was lowered to
/// (`name#0`) is shown as the composite's stream.
fn input_ty(plan: &Plan, id: StreamId) -> (Ty, String) {
    match plan.streams[id.0].inputs.first() {
        Some(i) => {
            let name = &plan.streams[i.0].name;
            let shown = name.split_once('#').map_or(name.as_str(), |(base, _)| base);
            (plan.streams[i.0].ty.clone(), shown.to_string())
        }
        None => (Ty::Unknown, String::new()),
    }
}

/// The (key, value) types of a pair stream, or a diagnostic naming the operator.
fn pair_parts(plan: &Plan, id: StreamId, input: &Ty, input_name: &str, diags: &mut Diagnostics) -> (Ty, Ty) {
    let s = &plan.streams[id.0];
    match input {
        Ty::Tuple(parts) if parts.len() == 2 => (parts[0].clone(), parts[1].clone()),
        Ty::Unknown => (Ty::Unknown, Ty::Unknown),
        other => {
            diags
                .error(s.op_span, format!("`{}` needs a stream of `(key, value)` pairs, found `{other}`", s.op.name()))
                .label(format!("stream `{input_name}` has elements of type `{other}`"))
                .help(match plan.app.frontend {
                    crate::dstream::plan::Frontend::Yaml => {
                        "map each element to a pair first, e.g. `map: { pair_with: 1 }`"
                    }
                    crate::dstream::plan::Frontend::Macro => {
                        "map each element to a pair first, e.g. `.map(|w| (w, 1))`"
                    }
                });
            (Ty::Unknown, Ty::Unknown)
        }
    }
}

fn vec_of(t: &Ty) -> Ty {
    Ty::Rust(format!("Vec<{t}>"))
}

fn option_of(t: &Ty) -> Ty {
    Ty::Rust(format!("Option<{t}>"))
}

fn closure_ret(plan: &Plan, f: &Func) -> Ty {
    match f {
        Func::Closure(c) => plan.closures[c.0].ret_type.clone().unwrap_or(Ty::Unknown),
        Func::Builtin(_) => Ty::Unknown,
    }
}

fn infer(plan: &Plan, id: StreamId, diags: &mut Diagnostics) -> Ty {
    let s = &plan.streams[id.0];
    let (input, input_name) = input_ty(plan, id);
    let op_name = s.op.name();
    match &s.op {
        Op::SocketTextStream { host, .. } => {
            if host.is_empty() {
                diags.error(s.op_span, "`socket_text_stream` needs a host name, found an empty string");
            }
            Ty::Str
        }
        Op::TextFileStream { dir } => {
            if dir.is_empty() {
                diags.error(s.op_span, "`text_file_stream` needs a directory, found an empty string");
            }
            Ty::Str
        }
        Op::Map(f) => match f {
            Func::Builtin(Builtin::PairWith(lit)) => Ty::Tuple(vec![input, literal_ty(lit)]),
            Func::Builtin(Builtin::UnitOne) => Ty::Tuple(vec![Ty::Tuple(vec![]), Ty::Int("i64")]),
            Func::Builtin(Builtin::UnitKey) => Ty::Tuple(vec![Ty::Tuple(vec![]), input]),
            Func::Builtin(Builtin::PairOne) => Ty::Tuple(vec![input, Ty::Int("i64")]),
            Func::Builtin(Builtin::Second) => pair_parts(plan, id, &input, &input_name, diags).1,
            Func::Builtin(b) => internal(diags, s.op_span, op_name, b),
            Func::Closure(c) => {
                check_closure(plan, *c, op_name, 1, std::slice::from_ref(&input), &input_name, diags);
                closure_result(plan, *c, &input)
            }
        },
        Op::FlatMap(f) => match f {
            Func::Builtin(Builtin::Split(_)) => match input {
                Ty::Str | Ty::Unknown => Ty::Str,
                Ty::String => Ty::String,
                other => {
                    diags
                        .error(s.op_span, format!("`split` needs a stream of strings, found `{other}`"))
                        .help(format!("stream `{input_name}` has elements of type `{other}`"));
                    Ty::Unknown
                }
            },
            Func::Builtin(b) => internal(diags, s.op_span, op_name, b),
            Func::Closure(c) => {
                check_closure(plan, *c, op_name, 1, std::slice::from_ref(&input), &input_name, diags);
                let closure = &plan.closures[c.0];
                match &closure.body_type {
                    Some(crate::dstream::plan::BodyShape::SplitOf(0)) => {
                        match closure.arg_types.first().cloned().flatten().unwrap_or(input) {
                            Ty::Str => Ty::Str,
                            _ => Ty::Unknown,
                        }
                    }
                    _ => Ty::Unknown,
                }
            }
        },
        Op::Filter(f) => {
            if let Func::Closure(c) = f {
                // The predicate borrows its element, as `Iterator::filter` does.
                check_arity(plan, *c, op_name, 1, diags);
            }
            input
        }
        Op::Repartition(_) => input,
        Op::MapValues(f) | Op::FlatMapValues(f) => {
            let (k, v) = pair_parts(plan, id, &input, &input_name, diags);
            if let Func::Closure(c) = f {
                check_closure(plan, *c, op_name, 1, std::slice::from_ref(&v), &input_name, diags);
            }
            let out = match (&s.op, f) {
                (Op::MapValues(_), Func::Closure(c)) => closure_result(plan, *c, &v),
                _ => Ty::Unknown,
            };
            Ty::Tuple(vec![k, out])
        }
        Op::Reduce(f) => {
            check_reduce_fn(plan, f, op_name, &input, &input_name, diags);
            input
        }
        Op::Count => Ty::Int("i64"),
        Op::CountByValue => {
            if input.is_known() && !input.hashable() {
                diags.error(s.op_span, format!("`count_by_value` needs elements that can be hashed, found `{input}`"));
            }
            Ty::Tuple(vec![input, Ty::Int("i64")])
        }
        Op::ReduceByKey(f) => {
            let (key, value) = pair_parts(plan, id, &input, &input_name, diags);
            check_key(plan, id, &key, diags);
            check_reduce_fn(plan, f, op_name, &value, &input_name, diags);
            Ty::Tuple(vec![key, value])
        }
        Op::GroupByKey => {
            let (key, value) = pair_parts(plan, id, &input, &input_name, diags);
            check_key(plan, id, &key, diags);
            Ty::Tuple(vec![key, vec_of(&value)])
        }
        Op::Union => {
            for other in &s.inputs[1..] {
                let o = &plan.streams[other.0];
                if !o.ty.compatible(&input) {
                    diags
                        .error(s.op_span, format!("`union` of streams with different element types: `{input_name}` has `{input}`, `{}` has `{}`", o.name, o.ty))
                        .help("map the streams to the same element type first");
                }
            }
            input
        }
        Op::Join(_) | Op::Cogroup => {
            let (k, v) = pair_parts(plan, id, &input, &input_name, diags);
            let (other_ty, other_name) = match s.inputs.get(1) {
                Some(o) => (plan.streams[o.0].ty.clone(), plan.streams[o.0].name.clone()),
                None => (Ty::Unknown, String::new()),
            };
            let (k2, w) = pair_parts(plan, id, &other_ty, &other_name, diags);
            if !k.compatible(&k2) {
                diags
                    .error(s.op_span, format!("`{op_name}` of streams whose key types differ: `{input_name}` has keys of type `{k}`, `{other_name}` has `{k2}`"))
                    .help("map both streams to the same key type first");
            }
            check_key(plan, id, &k, diags);
            Ty::Tuple(vec![
                k,
                match &s.op {
                    Op::Join(JoinKind::Inner) => Ty::Tuple(vec![v, w]),
                    Op::Join(JoinKind::LeftOuter) => Ty::Tuple(vec![v, option_of(&w)]),
                    Op::Join(JoinKind::RightOuter) => Ty::Tuple(vec![option_of(&v), w]),
                    Op::Join(JoinKind::FullOuter) => Ty::Tuple(vec![option_of(&v), option_of(&w)]),
                    _ => Ty::Tuple(vec![vec_of(&v), vec_of(&w)]),
                },
            ])
        }
        Op::Transform(f) => {
            if let Func::Closure(c) = f {
                check_arity(plan, *c, op_name, 1, diags);
            }
            Ty::Unknown
        }
        Op::Window { .. } => input.owned(),
        Op::ReduceByKeyAndWindow { func, inverse, filter, .. } => {
            let (key, value) = pair_parts(plan, id, &input, &input_name, diags);
            check_key(plan, id, &key, diags);
            check_reduce_fn(plan, func, op_name, &value, &input_name, diags);
            if let Some(inv) = inverse {
                check_reduce_fn(plan, inv, "the inverse function", &value, &input_name, diags);
            }
            if let Some(Func::Closure(c)) = filter {
                check_arity(plan, *c, "the filter function", 1, diags);
            }
            Ty::Tuple(vec![key, value]).owned()
        }
        Op::UpdateStateByKey(f) => {
            let (key, value) = pair_parts(plan, id, &input, &input_name, diags);
            check_key(plan, id, &key, diags);
            let state = match f {
                Func::Builtin(Builtin::RunningSum) => value,
                Func::Closure(c) => {
                    check_arity(plan, *c, op_name, 2, diags);
                    match closure_ret(plan, f) {
                        Ty::Rust(r) if r.starts_with("Option <") || r.starts_with("Option<") => Ty::Unknown,
                        other => other,
                    }
                }
                Func::Builtin(b) => internal(diags, s.op_span, op_name, b),
            };
            Ty::Tuple(vec![key.owned(), state])
        }
        Op::MapWithState { func, .. } => {
            let (key, value) = pair_parts(plan, id, &input, &input_name, diags);
            check_key(plan, id, &key, diags);
            match func {
                Func::Builtin(Builtin::RunningSumMapped) => Ty::Tuple(vec![key.owned(), value]),
                Func::Closure(c) => {
                    let closure = &plan.closures[c.0];
                    if let Some(n) = closure.arity
                        && n != 3
                    {
                        diags
                            .error(closure.span, format!("the function of `map_with_state` takes 3 arguments (key, value, state), found {n}"))
                            .help("write `|key, value: Option<V>, state: &mut State<S>| ...` (Spark's `(K, Option[V], State[S]) => T`)");
                    }
                    closure_ret(plan, func)
                }
                Func::Builtin(b) => internal(diags, s.op_span, op_name, b),
            }
        }
        Op::StateSnapshots => match s.inputs.first().map(|i| &plan.streams[i.0].op) {
            Some(Op::MapWithState { func, .. }) => match (func, &input) {
                (Func::Builtin(Builtin::RunningSumMapped), Ty::Tuple(parts)) => Ty::Tuple(parts.clone()),
                _ => Ty::Unknown,
            },
            _ => {
                diags
                    .error(s.op_span, format!("`state_snapshots` reads the state of a `map_with_state` stream, but `{input_name}` is not one"))
                    .help("call `state_snapshots` on the stream that `map_with_state` returns");
                Ty::Unknown
            }
        },
    }
}

fn check_key(plan: &Plan, id: StreamId, key: &Ty, diags: &mut Diagnostics) {
    let s = &plan.streams[id.0];
    if key.is_known() && !key.hashable() {
        diags
            .error(s.op_span, format!("the key type `{key}` of `{}` cannot be hashed", s.op.name()))
            .help("floating-point numbers are not `Hash + Eq`; use an integer or a string key");
    }
}

/// Operators reading two streams need both; a front end always gives them, but a wrong plan is
/// reported as a bug rather than generating broken code.
fn check_inputs(plan: &Plan, diags: &mut Diagnostics) {
    for s in &plan.streams {
        if !s.op.def().inputs.accepts(s.inputs.len()) {
            diags.error(
                s.op_span,
                format!(
                    "internal error in streamc: `{}` has {} inputs; this is a bug in streamc",
                    s.op.name(),
                    s.inputs.len()
                ),
            );
        }
    }
}

/// A stream's checkpoint interval must be a multiple of its slide (Spark checks this at start).
fn check_checkpoint_intervals(plan: &Plan, diags: &mut Diagnostics) {
    for s in &plan.streams {
        if let Some((ms, span)) = s.checkpoint_ms
            && s.slide_ms != 0
            && ms % s.slide_ms != 0
        {
            diags
                .error(
                    span,
                    format!(
                        "the checkpoint interval of `{}` ({ms} ms) must be a multiple of its slide duration ({} ms)",
                        s.name, s.slide_ms
                    ),
                )
                .help(format!("use a multiple of {} ms", s.slide_ms));
        }
    }
}

/// Stateful operators keep state across batches, which Spark saves in checkpoints: without a
/// checkpoint directory Spark refuses to start, streamc refuses to compile.
fn check_checkpoint(plan: &Plan, diags: &mut Diagnostics) {
    if plan.app.checkpoint_dir.is_some() {
        return;
    }
    let mut seen = Vec::new();
    for s in &plan.streams {
        if s.op.is_stateful() && !seen.contains(&s.op_span) {
            seen.push(s.op_span);
            diags
                .error(
                    s.op_span,
                    format!(
                        "`{}` keeps state across batches, but the checkpoint directory has not been set",
                        s.op.name()
                    ),
                )
                .help(match plan.app.frontend {
                    crate::dstream::plan::Frontend::Yaml => {
                        "add `checkpoint: <dir>` to the spec (Spark: `ssc.checkpoint(dir)`)"
                    }
                    crate::dstream::plan::Frontend::Macro => {
                        "add `checkpoint(\"<dir>\");` to the pipeline (Spark: `ssc.checkpoint(dir)`)"
                    }
                });
        }
    }
}

fn internal(diags: &mut Diagnostics, span: crate::span::SpanId, op: &str, b: &Builtin) -> Ty {
    diags.error(span, format!("internal error in streamc: built-in {b:?} reached `{op}`; this is a bug in streamc"));
    Ty::Unknown
}

fn literal_ty(lit: &Literal) -> Ty {
    match lit {
        Literal::Int(_) => Ty::Int("i64"),
        Literal::Float(_) => Ty::Float("f64"),
        Literal::Bool(_) => Ty::Bool,
        Literal::Str(_) => Ty::Rust("&'static str".into()),
    }
}

fn check_reduce_fn(plan: &Plan, f: &Func, op: &str, value: &Ty, input_name: &str, diags: &mut Diagnostics) {
    match f {
        Func::Builtin(b @ (Builtin::Sum | Builtin::Min | Builtin::Max | Builtin::Subtract)) => {
            let ok = match b {
                Builtin::Sum | Builtin::Subtract => value.is_numeric() || !value.is_known(),
                _ => value.hashable() || value.is_numeric() || !value.is_known(),
            };
            if !ok || matches!(value, Ty::Tuple(_)) && matches!(b, Builtin::Sum | Builtin::Subtract) {
                let span = plan.streams.iter().find(|s| s.name == input_name).map(|s| s.name_span).unwrap_or_default();
                diags
                    .error(span, format!("`{op}: {}` needs numbers, found `{value}`", format!("{b:?}").to_lowercase()))
                    .help("use a Rust closure to combine values of other types");
            }
        }
        Func::Builtin(b) => {
            internal(diags, crate::span::SpanTable::unknown(), op, b);
        }
        Func::Closure(c) => check_closure(plan, *c, op, 2, &[value.clone(), value.clone()], input_name, diags),
    }
}

fn check_arity(
    plan: &Plan,
    c: crate::dstream::plan::ClosureId,
    op: &str,
    wanted: usize,
    diags: &mut Diagnostics,
) -> bool {
    let closure = &plan.closures[c.0];
    match closure.arity {
        Some(n) if n != wanted => {
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            diags
                .error(
                    closure.span,
                    format!(
                        "`{op}` takes a closure of {wanted} argument{}, found a closure of {n} argument{}",
                        plural(wanted),
                        plural(n)
                    ),
                )
                .help(match (op, wanted) {
                    ("reduce" | "reduce_by_key", _) => format!("`{op}` combines two values: `|a, b| a + b`"),
                    _ => format!("`{op}` passes each element to the closure: `|x| ...`"),
                });
            false
        }
        _ => true,
    }
}

fn check_closure(
    plan: &Plan,
    c: crate::dstream::plan::ClosureId,
    op: &str,
    wanted: usize,
    expected: &[Ty],
    input_name: &str,
    diags: &mut Diagnostics,
) {
    if !check_arity(plan, c, op, wanted, diags) {
        return;
    }
    let closure = &plan.closures[c.0];
    for (i, (written, exp)) in closure.arg_types.iter().zip(expected).enumerate() {
        if let Some(written) = written
            && !written.compatible(exp)
        {
            let which = if wanted == 1 { "its argument".to_string() } else { format!("argument {}", i + 1) };
            diags
                .error(closure.span, format!("the closure of `{op}` declares {which} as `{written}`, but stream `{input_name}` has elements of type `{exp}`"))
                .help(format!("write `{exp}` as the argument type, or leave the type out"));
        }
    }
}

/// The element type a map closure evidently returns.
fn closure_result(plan: &Plan, c: crate::dstream::plan::ClosureId, input: &Ty) -> Ty {
    let closure = &plan.closures[c.0];
    if let Some(t) = &closure.ret_type {
        return t.clone();
    }
    let arg_ty = |i: usize| -> Ty {
        closure.arg_types.get(i).cloned().flatten().unwrap_or_else(|| if i == 0 { input.clone() } else { Ty::Unknown })
    };
    fn shape(s: &crate::dstream::plan::BodyShape, arg_ty: &dyn Fn(usize) -> Ty) -> Ty {
        match s {
            crate::dstream::plan::BodyShape::Tuple(parts) => {
                Ty::Tuple(parts.iter().map(|p| shape(p, arg_ty)).collect())
            }
            crate::dstream::plan::BodyShape::Arg(i) => arg_ty(*i),
            crate::dstream::plan::BodyShape::Lit(t) => t.clone(),
            crate::dstream::plan::BodyShape::SplitOf(_) => Ty::Unknown,
        }
    }
    match &closure.body_type {
        Some(s) => shape(s, &arg_ty),
        None => Ty::Unknown,
    }
}

fn check_outputs(plan: &Plan, diags: &mut Diagnostics) {
    if plan.outputs_written == 0 && !plan.streams.is_empty() {
        let span = plan.streams.last().map(|s| s.name_span).unwrap_or_default();
        diags
            .error(span, "the pipeline has no output operation, so nothing would run")
            .help("add an output such as `print` (Spark: \"No output operations registered, so nothing to execute\")");
    }
    for o in &plan.outputs {
        match &o.kind {
            OutputKind::SaveAsTextFiles { prefix, .. } if prefix.is_empty() => {
                diags.error(o.span, "`save_as_text_files` needs a non-empty prefix");
            }
            OutputKind::ForeachBatch(c) => {
                let closure = &plan.closures[c.0];
                if let Some(n) = closure.arity
                    && n != 2
                {
                    diags
                        .error(
                            closure.span,
                            format!(
                                "`foreach_batch` takes a closure of 2 arguments (batch time in ms, records), found {n}"
                            ),
                        )
                        .help("write `|time_ms, records| ...`; `records` is a slice of the batch's elements");
                }
            }
            _ => {}
        }
    }
}
