//! The checker: infers the element type of every stream and applies each operator's rule.
//! Every rule is its own `check_*` function pushing into one diagnostics list, so the user sees
//! all problems at once. What only rustc can decide (types of unannotated closures) is left to
//! the generated bounds, which carry messages that name the operator.

use crate::diag::Diagnostics;
use crate::ir::{Builtin, Func, Literal, Op, OutputKind, Plan, StreamId};
use crate::ty::Ty;

/// Runs every check and fills in [`crate::ir::Stream::ty`].
pub fn check(plan: &mut Plan, diags: &mut Diagnostics) {
    for i in 0..plan.streams.len() {
        let ty = infer(plan, StreamId(i), diags);
        plan.streams[i].ty = ty;
    }
    check_outputs(plan, diags);
}

fn input_ty(plan: &Plan, id: StreamId) -> (Ty, String) {
    match plan.streams[id.0].inputs.first() {
        Some(i) => (plan.streams[i.0].ty.clone(), plan.streams[i.0].name.clone()),
        None => (Ty::Unknown, String::new()),
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
                    Some(crate::ir::BodyShape::SplitOf(0)) => {
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
        Op::Reduce(f) => {
            check_reduce_fn(plan, f, op_name, &input, &input_name, diags);
            input
        }
        Op::Count => Ty::Int("i64"),
        Op::ReduceByKey(f) => {
            let (key, value) = match &input {
                Ty::Tuple(parts) if parts.len() == 2 => (parts[0].clone(), parts[1].clone()),
                Ty::Unknown => (Ty::Unknown, Ty::Unknown),
                other => {
                    diags
                        .error(
                            s.op_span,
                            format!("`reduce_by_key` needs a stream of `(key, value)` pairs, found `{other}`"),
                        )
                        .label(format!("stream `{input_name}` has elements of type `{other}`"))
                        .help(match plan.frontend {
                            crate::ir::Frontend::Yaml => {
                                "map each element to a pair first, e.g. `map: { pair_with: 1 }`"
                            }
                            crate::ir::Frontend::Macro => "map each element to a pair first, e.g. `.map(|w| (w, 1))`",
                        });
                    (Ty::Unknown, Ty::Unknown)
                }
            };
            if key.is_known() && !key.hashable() {
                diags
                    .error(s.op_span, format!("the key type `{key}` of `reduce_by_key` cannot be hashed"))
                    .help("floating-point numbers are not `Hash + Eq`; use an integer or a string key");
            }
            check_reduce_fn(plan, f, op_name, &value, &input_name, diags);
            Ty::Tuple(vec![key, value])
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
        Func::Builtin(b @ (Builtin::Sum | Builtin::Min | Builtin::Max)) => {
            let ok = match b {
                Builtin::Sum => value.is_numeric() || !value.is_known(),
                _ => value.hashable() || value.is_numeric() || !value.is_known(),
            };
            if !ok || matches!(value, Ty::Tuple(_)) && matches!(b, Builtin::Sum) {
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

fn check_arity(plan: &Plan, c: crate::ir::ClosureId, op: &str, wanted: usize, diags: &mut Diagnostics) -> bool {
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
    c: crate::ir::ClosureId,
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
fn closure_result(plan: &Plan, c: crate::ir::ClosureId, input: &Ty) -> Ty {
    let closure = &plan.closures[c.0];
    if let Some(t) = &closure.ret_type {
        return t.clone();
    }
    let arg_ty = |i: usize| -> Ty {
        closure.arg_types.get(i).cloned().flatten().unwrap_or_else(|| if i == 0 { input.clone() } else { Ty::Unknown })
    };
    fn shape(s: &crate::ir::BodyShape, arg_ty: &dyn Fn(usize) -> Ty) -> Ty {
        match s {
            crate::ir::BodyShape::Tuple(parts) => Ty::Tuple(parts.iter().map(|p| shape(p, arg_ty)).collect()),
            crate::ir::BodyShape::Arg(i) => arg_ty(*i),
            crate::ir::BodyShape::Lit(t) => t.clone(),
            crate::ir::BodyShape::SplitOf(_) => Ty::Unknown,
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
        if let OutputKind::SaveAsTextFiles { prefix, .. } = &o.kind
            && prefix.is_empty()
        {
            diags.error(o.span, "`save_as_text_files` needs a non-empty prefix");
        }
    }
}
